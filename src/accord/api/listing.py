"""Paged listings shared by objects, manifest and versions: the cursor round trip, the
definitions collection, and the date-added headers."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accord.api.context import DEFINITIONS, Collection, Server
from accord.api.markings import CREATED, definitions
from accord.api.query import ListQuery
from accord.api.stix_codec import stix_object, version_of
from accord.model.time import parse_stix_time, stix_time
from accord.service.credentials import Principal
from accord.service.taxii import micros

_DEFINED = parse_stix_time(CREATED)
assert _DEFINED is not None
DEFINED_AT: datetime = _DEFINED


@dataclass(frozen=True, slots=True)
class Listed:
    """One listed object: its id, date added, version and (for objects) the STIX body."""

    id: str
    date_added: datetime
    version: str
    body: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Listing:
    entries: list[Listed]
    more: bool
    next: str | None

    def headers(self) -> dict[str, str]:
        if not self.entries:
            return {}
        return {
            "X-TAXII-Date-Added-First": stix_time(self.entries[0].date_added),
            "X-TAXII-Date-Added-Last": stix_time(self.entries[-1].date_added),
        }

    def envelope(self, key: str, items: list[Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"more": self.more}
        if self.next is not None:
            body["next"] = self.next
        if items:
            body[key] = items
        return body


def scope_of(principal: Principal, found: Collection, kind: str, object_id: str = "") -> str:
    return f"{found.party.code}/{found.id}/{kind}/{object_id}"


def fetch(
    server: Server,
    principal: Principal,
    found: Collection,
    query: ListQuery,
    scope: str,
    *,
    content: bool,
) -> Listing:
    after = (
        server.signer.verify(query.next, principal.user, scope, query.digest)
        if query.next is not None
        else None
    )
    if found.kind == DEFINITIONS:
        return _definitions(server, principal, query, scope, after)
    page = server.taxii.page(
        principal.user,
        found.party.code,
        query.flt,
        server.now(),
        after,
        query.limit,
        content=content,
    )
    entries = [
        Listed(h.meta.stix_id, h.date_added, version_of(h), stix_object(h) if content else None)
        for h in page.hits
    ]
    return Listing(entries, page.more, _next(server, principal, scope, query, page.more, page.last))


def _next(
    server: Server,
    principal: Principal,
    scope: str,
    query: ListQuery,
    more: bool,
    last: tuple[int, str] | None,
) -> str | None:
    if not more or last is None:
        return None
    return server.signer.sign(principal.user, scope, query.digest, last)


def _definitions(
    server: Server,
    principal: Principal,
    query: ListQuery,
    scope: str,
    after: tuple[int, str] | None,
) -> Listing:
    flt = query.flt
    objects = [
        o
        for o in definitions(server.parties())
        if (flt.ids is None or o["id"] in flt.ids)
        and (flt.types is None or o["type"] in flt.types)
        and (flt.spec_versions is None or "2.1" in flt.spec_versions)
        and (flt.added_after_us is None or flt.added_after_us < micros(DEFINED_AT))
    ]
    keys = [(0, str(o["id"])) for o in objects]
    start = bisect_right(keys, after) if after is not None else 0
    chosen = objects[start : start + query.limit]
    more = start + query.limit < len(objects)
    entries = [
        Listed(str(o["id"]), DEFINED_AT, str(o.get("modified", o["created"])), o) for o in chosen
    ]
    last = keys[start + len(chosen) - 1] if chosen else None
    return Listing(entries, more, _next(server, principal, scope, query, more, last))
