"""The feed's open-or-not check inside one transaction: events not yet written count, and the
check writes nothing first (the buffered rows stay buffered until the next read or the end)."""

from __future__ import annotations

from datetime import timedelta

from accord.model.acts import Destruction
from accord.model.requests import ReleaseRequest
from accord.store import feed as store
from accord.store.sql import SqlStore
from tests.feeds import START, bare_exchange, item, kinds, service

OPEN, CLOSED = ("available",), ("available", "withdrawn", "destroyed")


def _row(user: str, kind: str, item_id: str) -> store.EventRow:
    return store.EventRow(user, 0, kind, item_id, START, {})


def test_events_not_yet_written_decide_and_the_last_one_wins() -> None:
    with SqlStore("sqlite://").transaction() as tx:
        assert store.last_kinds(tx, "u", "i", CLOSED) is None
        store.append_numbered(tx, [_row("u", "available", "i"), _row("v", "withdrawn", "i")])
        assert store.last_kinds(tx, "u", "i", CLOSED) == "available"
        assert store.last_kinds(tx, "v", "i", OPEN) is None  # not among the kinds asked
        assert store.last_kinds(tx, "u", "j", CLOSED) is None  # another item
        store.append_numbered(tx, [_row("u", "destroyed", "i")])
        assert store.last_kinds(tx, "u", "i", CLOSED) == "destroyed"
        assert store.last_numbers(tx, ["u"]) == {"u": 2}  # a read: the events are written now
        assert store.last_kinds(tx, "u", "i", CLOSED) == "destroyed"  # from the table
        store.append_numbered(tx, [_row("u", "available", "i")])
        assert store.last_kinds(tx, "u", "i", CLOSED) == "available"  # pending after written


def test_a_written_history_is_read_last_event_first() -> None:
    with SqlStore("sqlite://").transaction() as tx:
        rows = [_row("u", k, "i") for k in ("available", "withdrawn", "available", "destroyed")]
        store.append_numbered(tx, rows)
        store.last_numbers(tx, ["u"])  # written
        assert store.last_kinds(tx, "u", "i", CLOSED) == "destroyed"
        assert store.last_kinds(tx, "u", "i", OPEN) == "available"


def test_create_release_and_destroy_in_one_unit_of_work_close_what_they_opened() -> None:
    exchange = bare_exchange()
    feed = service(exchange)
    at = START + timedelta(hours=1)
    with exchange.batch():
        exchange.add_item(item(1))
        assert exchange.release(ReleaseRequest("feed-item-1", "KOR", "JPN"), at).allowed
        destroyed = Destruction(at + timedelta(minutes=1), "feed-item-1", "JPN")
        assert exchange.destroy(destroyed).allowed
    assert kinds(feed, "jpn-analyst") == [
        ("available", "feed-item-1"),
        ("destroyed", "feed-item-1"),
    ]
