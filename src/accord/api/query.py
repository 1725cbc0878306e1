"""TAXII query parameters: ``match[id|type|version|spec_version]``, ``added_after``, ``limit``,
``next``, parsed into a service ``ObjectFilter``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accord.api.cursors import query_digest
from accord.api.errors import BadRequest
from accord.model.time import parse_stix_time
from accord.service.taxii import ObjectFilter, micros

KEYWORDS = frozenset({"first", "last", "all"})
LONGEST = 4096  # characters in one query parameter value


def check_text(pairs: Sequence[tuple[str, str]]) -> None:
    """Every parameter is Unicode text (no lone surrogate) of at most ``LONGEST`` characters."""
    for key, value in pairs:
        if len(key) > LONGEST or len(value) > LONGEST:
            raise BadRequest(f"a query parameter is longer than {LONGEST} characters")
        try:
            key.encode("utf-8")
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest("a query parameter is not valid text") from None


@dataclass(frozen=True, slots=True)
class ListQuery:
    flt: ObjectFilter
    limit: int
    next: str | None
    digest: str


def _values(pairs: Sequence[tuple[str, str]], name: str) -> frozenset[str] | None:
    found = [v.strip() for k, value in pairs if k == name for v in value.split(",")]
    found = [v for v in found if v]
    return frozenset(found) if found else None


def _versions(values: frozenset[str] | None, default: str) -> tuple[frozenset[str], frozenset[int]]:
    if values is None:
        return frozenset({default}), frozenset()
    keywords, stamps = set(), set()
    for value in values:
        if value in KEYWORDS:
            keywords.add(value)
            continue
        stamp = parse_stix_time(value)
        if stamp is None:
            raise BadRequest("match[version] takes first, last, all or STIX timestamps")
        stamps.add(micros(stamp))
    return frozenset(keywords), frozenset(stamps)


def _limit(pairs: Sequence[tuple[str, str]], default: int, maximum: int) -> int:
    texts = [v for k, v in pairs if k == "limit"]
    if not texts:
        return default
    text = texts[-1].strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12 or int(text) < 1:
        raise BadRequest("limit must be a positive integer in ASCII digits")
    return min(int(text), maximum)


def parse_query(
    pairs: Sequence[tuple[str, str]],
    *,
    default_limit: int,
    max_limit: int,
    default_version: str = "last",
    object_id: str | None = None,
) -> ListQuery:
    check_text(pairs)
    added = [v for k, v in pairs if k == "added_after"]
    added_after = None
    if added:
        stamp = parse_stix_time(added[-1].strip())
        if stamp is None:
            raise BadRequest("added_after must be a STIX timestamp such as 2019-11-23T00:00:00Z")
        added_after = micros(stamp)
    keywords, stamps = _versions(_values(pairs, "match[version]"), default_version)
    ids = frozenset({object_id}) if object_id is not None else _values(pairs, "match[id]")
    flt = ObjectFilter(
        ids=ids,
        types=_values(pairs, "match[type]"),
        versions=keywords,
        version_us=stamps,
        spec_versions=_values(pairs, "match[spec_version]"),
        added_after_us=added_after,
    )
    nexts = [v for k, v in pairs if k == "next"]
    digest = query_digest((k, v) for k, v in pairs if k != "limit")
    return ListQuery(
        flt, _limit(pairs, default_limit, max_limit), nexts[-1] if nexts else None, digest
    )
