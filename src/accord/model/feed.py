"""The live feed's vocabulary: event kinds and the resume cursor.

A cursor names one user's feed and a position in it: ``<tag>-<n>``, where ``tag`` is a short
digest of the user's id (so a cursor of another user's feed is told apart without naming that
user) and ``n`` counts that user's events from 1. ``0`` alone means the start of the retained
history.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

from accord.errors import FeedCursorInvalid, FeedNotFound

_CURSOR = re.compile(r"([0-9a-f]{12})-(0|[1-9][0-9]{0,17})")
MAX_CURSOR_TEXT = 64


class FeedKind(StrEnum):
    """What a feed event says. The first four are recorded with the act that causes them;
    the last two are the stream's own (never stored, no cursor of their own)."""

    AVAILABLE = "available"  # an item became readable for the user (a copy, a creation, a change)
    WITHDRAWN = "withdrawn"  # a classification change closed an item the user could read
    DESTROYED = "destroyed"  # the user's party destroyed a copy the user could read
    ROUTING = "routing"  # the outcome of a release of the user's party's own item
    GAP = "gap"  # the cursor is before the retained history: events were not kept
    DISCONNECT = "disconnect"  # the server ends the stream (a slow consumer), with a reason


STORED_KINDS = frozenset(
    {FeedKind.AVAILABLE, FeedKind.WITHDRAWN, FeedKind.DESTROYED, FeedKind.ROUTING}
)
# the kinds that change whether the user may read the item (the feed's own open/closed state)
OPENING = FeedKind.AVAILABLE
CLOSING = frozenset({FeedKind.WITHDRAWN, FeedKind.DESTROYED})


def user_tag(user: str) -> str:
    return hashlib.sha256(user.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class FeedCursor:
    user: str
    n: int

    def text(self) -> str:
        return f"{user_tag(self.user)}-{self.n}"


def parse_cursor(text: str, user: str) -> int:
    """The position a cursor names in ``user``'s feed: ``FeedCursorInvalid`` for text that is
    not a cursor, ``FeedNotFound`` for a cursor of another user's feed."""
    value = text.strip()
    if value == "0":
        return 0
    found = _CURSOR.fullmatch(value) if len(value) <= MAX_CURSOR_TEXT else None
    if found is None:
        shown = value if len(value) <= MAX_CURSOR_TEXT else value[:MAX_CURSOR_TEXT] + "…"
        raise FeedCursorInvalid(
            f"cursor {shown!r} is not a feed cursor (expected TAG-N as sent in an event's id,"
            " or 0 for the start)"
        )
    if found.group(1) != user_tag(user):
        raise FeedNotFound("no such feed")
    return int(found.group(2))
