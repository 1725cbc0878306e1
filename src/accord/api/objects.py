"""``…/collections/<id>/objects/`` (GET, POST) and ``…/objects/<object-id>/`` (GET, DELETE).

POST to one's own party's holdings creates items originated by that party; POST to another
party's holdings releases objects the poster's party holds to that party (``?via=HUB`` for a
route through a hub). Either is all or nothing per envelope: 202 with a status resource when
everything was stored, 422 with the status resource in the error's ``details`` when nothing was.
DELETE destroys the party's copies the user may read (R10).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from accord.api import responses
from accord.api.body import parse_json
from accord.api.context import HOLDINGS, Server
from accord.api.errors import BadRequest, Forbidden, NotFound, Unprocessable
from accord.api.listing import fetch, scope_of
from accord.api.query import parse_query
from accord.api.stix_codec import envelope_objects, new_object, object_ref
from accord.model.time import stix_time
from accord.service.credentials import Principal
from accord.service.taxii import ObjectRef, Outcome


def _query(server: Server, request: Request, *, version: str, object_id: str | None = None):  # type: ignore[no-untyped-def]
    return parse_query(
        list(request.query_params.multi_items()),
        default_limit=server.settings.default_page_size,
        max_limit=server.settings.max_page_size,
        default_version=version,
        object_id=object_id,
    )


def get_objects(server: Server, request: Request, principal: Principal) -> Response:
    p = request.path_params
    found = server.collection(principal, p["root"], p["collection"])
    server.readable(principal, found)
    query = _query(server, request, version="last")
    listing = fetch(
        server, principal, found, query, scope_of(principal, found, "objects"), content=True
    )
    body = listing.envelope("objects", [e.body for e in listing.entries])
    return responses.taxii(body, headers=listing.headers())


def get_object(server: Server, request: Request, principal: Principal) -> Response:
    p = request.path_params
    found = server.collection(principal, p["root"], p["collection"])
    server.readable(principal, found)
    query = _query(server, request, version="last", object_id=p["object"])
    scope = scope_of(principal, found, "object", p["object"])
    listing = fetch(server, principal, found, query, scope, content=True)
    if not listing.entries and query.next is None:
        raise NotFound("no such object")
    body = listing.envelope("objects", [e.body for e in listing.entries])
    return responses.taxii(body, headers=listing.headers())


def delete_object(server: Server, request: Request, principal: Principal) -> Response:
    p = request.path_params
    found = server.collection(principal, p["root"], p["collection"])
    server.readable(principal, found)
    if found.kind != HOLDINGS:
        raise Forbidden("this collection is read-only")
    query = _query(server, request, version="all", object_id=p["object"])
    # None: the act's instant is read inside the store's write lock (never out of order)
    destroyed = server.taxii.destroy_objects(principal.user, found.party.code, query.flt, None)
    if not destroyed:
        raise NotFound("no such object")
    return Response(b"", 200, media_type=None)


def status_resource(at: datetime, outcomes: list[Outcome]) -> dict[str, Any]:
    def detail(o: Outcome) -> dict[str, Any]:
        return {
            "id": o.stix_id,
            "version": o.version or stix_time(at),
            "message": ", ".join(o.codes),
        }

    successes = [detail(o) for o in outcomes if o.ok]
    failures = [detail(o) for o in outcomes if not o.ok]
    return {
        "id": str(uuid.uuid4()),
        "status": "complete",
        "request_timestamp": stix_time(at),
        "total_count": len(outcomes),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    }


def add_objects(server: Server, request: Request, principal: Principal) -> Response:
    p = request.path_params
    found = server.collection(principal, p["root"], p["collection"])
    if found.kind != HOLDINGS:
        raise Forbidden("this collection is read-only")
    data = parse_json(request.state.body, server.settings.max_json_depth)  # read by the endpoint
    objects = envelope_objects(data)
    via = request.query_params.get("via") or None
    at = server.now()
    if principal.party == found.party.code:
        if via is not None:
            raise BadRequest("via applies only to a release (a post to another party's root)")
        markings = server.markings()
        entries = [new_object(o, n, principal.party, markings) for n, o in enumerate(objects)]
        stored, outcomes = server.taxii.add_objects(principal.user, entries, None)
    else:
        if via is not None and via not in server.parties():
            raise BadRequest("via must name a party")
        refs: list[ObjectRef | Outcome] = [object_ref(o, n) for n, o in enumerate(objects)]
        stored, outcomes = server.taxii.release_objects(
            principal.user, found.party.code, via, refs, None
        )
    status = status_resource(at, outcomes)
    server.taxii.save_status(status["id"], principal.user, at, status)
    if stored:
        return responses.taxii(status, 202)
    raise Unprocessable(
        "nothing was stored: see each object's reason codes in details.status",
        {"status": status},
    )
