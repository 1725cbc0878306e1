"""The questions accord decides."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReleaseRequest:
    """May ``from_party`` give ``item`` to ``to_party`` (through the hub ``via``, if given)?"""

    item: str
    from_party: str
    to_party: str
    via: str | None = None


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """May ``user`` read their party's copy of ``item``?"""

    user: str
    item: str
