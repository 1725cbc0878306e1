"""Reads of the live feed: a user's events after any position in the retained history, with
the objects as TAXII serves them (``accord.service.feed_record`` writes the events).

The content of each ``available`` event is read (decrypted, its signature checked) through
``Exchange.read_many`` at the delivery instant: every delivery is the read decision TAXII makes,
and one audited read per batch. An item the user may no longer read is delivered without its
object, with the read's reason codes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accord.errors import FeedNotFound
from accord.model.feed import FeedCursor, FeedKind, parse_cursor
from accord.model.time import stix_time
from accord.service.exchange import Exchange
from accord.service.taxii import Hit, TaxiiService
from accord.store import feed as store

DEFAULT_HISTORY = 100_000  # events of each user a resume may replay


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One event as delivered: ``hit`` is the object as TAXII serves it (an ``available``
    event whose read is allowed at the delivery instant); ``withheld`` the read's reason codes
    when it is not."""

    cursor: str
    n: int
    kind: FeedKind
    item: str
    stix_id: str
    at: datetime
    body: dict[str, Any]
    hit: Hit | None = None
    withheld: tuple[str, ...] = ()

    def data(self) -> dict[str, Any]:
        """The event's fields without the object (the API adds it as TAXII serves it)."""
        found: dict[str, Any] = {
            "kind": self.kind.value,
            "cursor": self.cursor,
            "item": self.item,
            "id": self.stix_id,
            "at": stix_time(self.at),
            **self.body,
        }
        if self.kind is FeedKind.AVAILABLE and self.hit is None:
            found["object"] = None
            found["withheld"] = list(self.withheld)
        return found


@dataclass(frozen=True, slots=True)
class Gap:
    """The position asked for is before the retained history: the events from ``requested``
    up to ``resumed`` are not replayed (read the party's collection over TAXII instead)."""

    requested: int
    resumed: int


@dataclass(frozen=True, slots=True)
class FeedBatch:
    events: list[FeedEvent]
    gap: Gap | None
    more: bool  # more events follow at once

    @property
    def position(self) -> int | None:
        return self.events[-1].n if self.events else None


class FeedService:
    """Reads of users' feeds. ``history``: how many of a user's latest events a resume may
    replay; a position before them gets a ``Gap`` first."""

    def __init__(
        self, exchange: Exchange, taxii: TaxiiService, history: int = DEFAULT_HISTORY
    ) -> None:
        if history < 1:
            raise ValueError("history must be at least 1")
        self.exchange = exchange
        self.taxii = taxii
        self.history = history

    def channel(self) -> str:
        """A name of this exchange for wake-ups on a shared message bus: a digest of its
        audit log's origin, the same in every process on the store."""
        from accord.service.journal import ORIGIN  # noqa: PLC0415

        with self.exchange.store.transaction() as tx:
            origin = tx.meta(ORIGIN) or self.exchange.store.url
        return hashlib.sha256(origin.encode("utf-8")).hexdigest()[:16]

    def last(self, user: str) -> int:
        with self.exchange.session(write=False) as s:
            s.world.user(user)
            return store.last_numbers(s.tx, [user])[user]

    def start(self, user: str, cursor: str | None) -> int:
        """The position to follow from: after ``cursor`` (``FeedCursorInvalid``, or
        ``FeedNotFound`` for another user's or one never issued), or the current end."""
        last = self.last(user)
        if cursor is None:
            return last
        n = parse_cursor(cursor, user)
        if n > last:
            raise FeedNotFound("no such feed")
        return n

    def fetch(self, user: str, after: int, limit: int, at: datetime) -> FeedBatch:
        """Up to ``limit`` of the user's events after position ``after``, their objects read
        at ``at`` (or at the latest event's instant, if later)."""
        with self.exchange.session(write=False) as s:
            last = store.last_numbers(s.tx, [user])[user]
            oldest = max(0, last - self.history)
            gap = Gap(after, oldest) if after < oldest else None
            rows = store.after(s.tx, user, max(after, oldest), limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        if not rows:
            return FeedBatch([], gap, False)
        read_at = max(at, *(r.at for r in rows))
        wanted = list(dict.fromkeys(r.item for r in rows if r.kind == FeedKind.AVAILABLE.value))
        delivery = self.taxii.delivery(user, [r.item for r in rows], wanted, read_at)
        events = [
            FeedEvent(
                FeedCursor(user, r.n).text(),
                r.n,
                FeedKind(r.kind),
                r.item,
                delivery.stix_ids[r.item],
                r.at,
                r.body,
                delivery.hits.get(r.item) if r.kind == FeedKind.AVAILABLE.value else None,
                delivery.withheld.get(r.item, ()) if r.kind == FeedKind.AVAILABLE.value else (),
            )
            for r in rows
        ]
        return FeedBatch(events, gap, more)
