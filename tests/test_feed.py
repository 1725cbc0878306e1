"""The live feed's record and reads (service level): which user gets which event for each act,
cursors and their errors, retention, audited deliveries, and a property test of whole feeds
against an oracle written here."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accord.errors import FeedCursorInvalid, FeedNotFound
from accord.model.acts import Consent, Destruction
from accord.model.classification import Reclassification
from accord.model.feed import FeedCursor, FeedKind, parse_cursor, user_tag
from accord.model.requests import ReleaseRequest
from accord.service import journal
from tests.feeds import LATE, START, bare_exchange, item, kinds, service


def test_a_created_item_opens_for_its_partys_readers_only() -> None:
    exchange = bare_exchange()
    feed = service(exchange)
    exchange.add_item(item(1, "JPN", "極秘", frozenset({"nk-missile"})))
    assert kinds(feed, "jpn-analyst") == [("available", "feed-item-1")]
    assert kinds(feed, "jpn-junior") == []  # 秘 is below 極秘
    assert kinds(feed, "jpn-cyber-analyst") == []  # no need-to-know for nk-missile
    assert kinds(feed, "kor-analyst") == [] and kinds(feed, "usa-analyst") == []


def test_a_release_opens_for_the_recipients_readers_and_tells_the_originator() -> None:
    exchange = bare_exchange()
    feed = service(exchange)
    exchange.add_item(item(1))
    at = START + timedelta(hours=1)
    assert exchange.release(ReleaseRequest("feed-item-1", "KOR", "JPN"), at).allowed
    assert kinds(feed, "jpn-analyst") == [("available", "feed-item-1")]
    assert kinds(feed, "jpn-junior") == []
    assert kinds(feed, "kor-analyst") == [
        ("available", "feed-item-1"),
        ("routing", "feed-item-1"),
    ]
    routing = feed.fetch("kor-analyst", 1, 10, LATE).events[0]
    assert routing.body == {
        "from": "KOR",
        "to": "JPN",
        "via": None,
        "allowed": True,
        "reasons": ["release-allowed"],
    }


def test_a_refused_release_is_routing_for_the_originator_and_nothing_for_the_recipient() -> None:
    exchange = bare_exchange()
    feed = service(exchange)
    exchange.add_item(item(1, rel=frozenset({"USA"})))  # not releasable to JPN (R5)
    at = START + timedelta(hours=1)
    decision = exchange.release(ReleaseRequest("feed-item-1", "KOR", "JPN"), at)
    assert not decision.allowed
    assert kinds(feed, "jpn-analyst") == []
    event = feed.fetch("kor-analyst", 1, 10, LATE).events[0]
    assert event.kind is FeedKind.ROUTING
    assert event.body["allowed"] is False
    assert event.body["reasons"] == list(decision.codes)


def test_a_release_through_the_hub_opens_for_the_hub_and_the_recipient() -> None:
    exchange = bare_exchange()
    feed = service(exchange)
    exchange.add_item(item(1))
    at = START + timedelta(hours=1)
    exchange.consent(Consent(at, "feed-item-1", "KOR", "USA", frozenset({"JPN"})))
    decision = exchange.release(ReleaseRequest("feed-item-1", "KOR", "JPN", "USA"), at)
    assert decision.allowed, decision.codes
    assert kinds(feed, "usa-analyst") == [("available", "feed-item-1")]
    assert kinds(feed, "jpn-analyst") == [("available", "feed-item-1")]
    event = feed.fetch("jpn-analyst", 0, 10, LATE).events[0]
    assert event.body["via"] == "USA" and event.body["party"] == "JPN"


def test_a_destruction_closes_only_for_users_the_feed_had_opened_it_for() -> None:
    exchange = bare_exchange()
    feed = service(exchange)
    exchange.add_item(item(1))
    at = START + timedelta(hours=1)
    exchange.release(ReleaseRequest("feed-item-1", "KOR", "JPN"), at)
    assert exchange.destroy(Destruction(at + timedelta(hours=1), "feed-item-1", "JPN")).allowed
    assert kinds(feed, "jpn-analyst") == [
        ("available", "feed-item-1"),
        ("destroyed", "feed-item-1"),
    ]
    assert kinds(feed, "jpn-junior") == []  # never could read it: hears nothing
    assert [k for k, _ in kinds(feed, "kor-analyst")] == ["available", "routing"]


def test_a_reclassification_withdraws_and_reopens() -> None:
    exchange = bare_exchange()
    feed = service(exchange)
    exchange.add_item(item(1, level="군사III급비밀"))
    at = START + timedelta(hours=1)
    exchange.release(ReleaseRequest("feed-item-1", "KOR", "JPN"), at)
    assert kinds(feed, "jpn-junior") == [("available", "feed-item-1")]  # 秘 = 군사III급비밀
    up = Reclassification(at + timedelta(hours=1), "feed-item-1", "KOR", level="군사II급비밀")
    assert exchange.reclassify(up).allowed
    down = Reclassification(at + timedelta(hours=2), "feed-item-1", "KOR", level="군사III급비밀")
    assert exchange.reclassify(down).allowed
    assert kinds(feed, "jpn-junior") == [
        ("available", "feed-item-1"),
        ("withdrawn", "feed-item-1"),
        ("available", "feed-item-1"),
    ]
    assert kinds(feed, "jpn-analyst") == [("available", "feed-item-1")]  # never closed for them


def test_a_delivery_carries_the_object_and_is_one_audited_read() -> None:
    exchange = bare_exchange()
    feed = service(exchange)
    for n in (1, 2):
        exchange.add_item(item(n))
    before = _entries(exchange)
    batch = feed.fetch("kor-analyst", 0, 10, LATE)
    assert [e.hit is not None and e.hit.item is not None for e in batch.events] == [True, True]
    assert batch.events[0].hit is not None and batch.events[0].hit.item is not None
    assert batch.events[0].hit.item.content == "content of item 1"
    entries = _entries(exchange)[len(before) :]
    assert [e["kind"] for e in entries] == ["read"]
    assert entries[0]["subject"]["user"] == "kor-analyst"
    assert [i["item"] for i in entries[0]["subject"]["items"]] == ["feed-item-1", "feed-item-2"]


def test_an_event_of_a_copy_since_destroyed_is_delivered_without_its_object() -> None:
    exchange = bare_exchange()
    feed = service(exchange)
    exchange.add_item(item(1))
    exchange.release(ReleaseRequest("feed-item-1", "KOR", "JPN"), START + timedelta(hours=1))
    exchange.destroy(Destruction(START + timedelta(hours=2), "feed-item-1", "JPN"))
    first = feed.fetch("jpn-analyst", 0, 10, LATE).events[0]
    assert first.kind is FeedKind.AVAILABLE and first.hit is None
    assert first.withheld == ("destroyed",)
    assert first.data()["object"] is None


def test_cursors_name_their_user_and_position() -> None:
    exchange = bare_exchange()
    feed = service(exchange)
    for n in (1, 2, 3):
        exchange.add_item(item(n))
    events = feed.fetch("kor-analyst", 0, 10, LATE).events
    assert [e.cursor for e in events] == [f"{user_tag('kor-analyst')}-{n}" for n in (1, 2, 3)]
    assert feed.start("kor-analyst", events[0].cursor) == 1
    assert [e.n for e in feed.fetch("kor-analyst", 1, 10, LATE).events] == [2, 3]
    assert feed.start("kor-analyst", None) == 3  # no cursor: from the end
    assert feed.start("kor-analyst", "0") == 0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x",
        "abc-1",
        f"{user_tag('kor-analyst')}-",
        f"{user_tag('kor-analyst')}--1",
        f"{user_tag('kor-analyst')}-01",
        f"{user_tag('kor-analyst')}-1.5",
        "1" * 500,
        "-1",
    ],
)
def test_a_malformed_cursor_is_refused_naming_it(text: str) -> None:
    with pytest.raises(FeedCursorInvalid, match="not a feed cursor"):
        parse_cursor(text, "kor-analyst")


def test_another_users_cursor_and_one_never_issued_are_the_same_not_found() -> None:
    exchange = bare_exchange()
    feed = service(exchange)
    exchange.add_item(item(1))
    theirs = FeedCursor("jpn-analyst", 1).text()
    with pytest.raises(FeedNotFound, match="no such feed"):
        feed.start("kor-analyst", theirs)
    with pytest.raises(FeedNotFound, match="no such feed"):
        feed.start("kor-analyst", FeedCursor("kor-analyst", 2).text())  # only 1 was issued


def test_a_cursor_before_the_retained_history_gets_a_gap_then_the_kept_events() -> None:
    exchange = bare_exchange()
    feed = service(exchange, history=2)
    for n in (1, 2, 3, 4, 5):
        exchange.add_item(item(n))
    batch = feed.fetch("kor-analyst", 1, 10, LATE)
    assert batch.gap is not None and (batch.gap.requested, batch.gap.resumed) == (1, 3)
    assert [e.n for e in batch.events] == [4, 5]
    kept = feed.fetch("kor-analyst", 3, 10, LATE)
    assert kept.gap is None and [e.n for e in kept.events] == [4, 5]


def test_a_rolled_back_act_leaves_no_event() -> None:
    exchange = bare_exchange()
    feed = service(exchange)
    with pytest.raises(RuntimeError), exchange.batch():
        exchange.add_item(item(1))
        raise RuntimeError("undo")
    assert kinds(feed, "kor-analyst") == []
    assert feed.last("kor-analyst") == 0


def _entries(exchange: object) -> list[dict[str, object]]:
    from accord.service import Exchange

    assert isinstance(exchange, Exchange)
    with exchange.store.transaction() as tx:
        return [journal.decode_entry(leaf, seq) for seq, leaf, _ in tx.entries()]
