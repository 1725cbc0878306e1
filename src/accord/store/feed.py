"""The live feed's table: each user's events, written in the transaction of the act that
causes them, numbered from 1 per user (the resume cursor is that number)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
)

from accord.store.schema import Instant, StoredJSON, metadata

if TYPE_CHECKING:  # accord.store.sql imports accord.store.credentials, which imports us
    from accord.store.sql import StoreTx

FEED_EVENTS = "feed_events"
feed_events = Table(
    FEED_EVENTS,
    metadata,
    Column("user", String(200), nullable=False),
    Column("n", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("item", String(200), nullable=False),
    Column("at", Instant, nullable=False),
    Column("body", StoredJSON("feed_events.body"), nullable=False),
    PrimaryKeyConstraint("user", "n"),
    Index("feed_events_user_item", "user", "item"),
)


# one user's events on one item (a statement built once: compiled once). Unordered, so that
# SQLite searches the (user, item) index, not every event of the user in the primary key's order
_KINDS_OF = select(feed_events.c.n, feed_events.c.kind).where(
    feed_events.c.user == bindparam("user"), feed_events.c.item == bindparam("item")
)


@dataclass(frozen=True, slots=True)
class EventRow:
    user: str
    n: int
    kind: str
    item: str
    at: datetime
    body: dict[str, Any]


def append_numbered(tx: StoreTx, rows: Iterable[EventRow]) -> None:
    """Add events (their ``n`` is ignored) just before the transaction's next read or its end,
    all in one statement: each numbered then after its user's last, in the order given."""
    tx.defer(FEED_EVENTS, _write_numbered, rows)


def _write_numbered(conn: Connection, rows: list[EventRow]) -> None:
    numbers = _last_numbers(conn, sorted({r.user for r in rows}))
    values = []
    for r in rows:
        numbers[r.user] += 1
        row = {"user": r.user, "n": numbers[r.user], "kind": r.kind, "item": r.item}
        values.append({**row, "at": r.at, "body": r.body})
    if values:
        conn.execute(insert(feed_events), values)


def last_numbers(tx: StoreTx, users: Sequence[str]) -> dict[str, int]:
    """Each user's last event number (0: none yet)."""
    return _last_numbers(tx.conn, users) if users else {}


def _last_numbers(conn: Connection, users: Sequence[str]) -> dict[str, int]:
    c = feed_events.c
    found = {user: 0 for user in users}
    query = select(c.user, func.max(c.n)).where(c.user.in_(list(users))).group_by(c.user)
    for user, n in conn.execute(query):
        found[user] = int(n)
    return found


def last_kinds(tx: StoreTx, user: str, item: str, kinds: Sequence[str]) -> str | None:
    """The kind of the user's last event on ``item`` among ``kinds`` (None: there is none):
    among the events not yet written first (they come after every written one), else read
    without writing anything first (only ``append_numbered`` defers events)."""
    conn, pending = tx.deferred_read(FEED_EVENTS)
    for row in reversed(pending):
        if row.user == user and row.item == item and row.kind in kinds:
            return str(row.kind)
    wanted = set(kinds)
    rows = conn.execute(_KINDS_OF, {"user": user, "item": item})
    found = [(int(n), str(kind)) for n, kind in rows if kind in wanted]
    return max(found)[1] if found else None


def after(tx: StoreTx, user: str, n: int, limit: int) -> list[EventRow]:
    """The user's events numbered above ``n``, in order, at most ``limit``."""
    c = feed_events.c
    query = select(feed_events).where(c.user == user, c.n > n).order_by(c.n).limit(limit)
    return [
        EventRow(r.user, int(r.n), r.kind, r.item, r.at, dict(r.body))
        for r in tx.conn.execute(query)
    ]
