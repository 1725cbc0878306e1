"""The routing events of standing rules in the originator's own users' feed: the rule, the route
taken, the instant evaluated and the trigger, exactly as ``accord rule log`` shows them; a hand
release's routing event carries none of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accord.model.feed import FeedKind
from accord.model.requests import ReleaseRequest
from accord.service import standing
from accord.service.feed import FeedEvent, FeedService
from tests import feeds
from tests.test_standing_reevaluation import GSOMIA, IN_FORCE, before_gsomia, iso
from tests.test_standing_rules import DIRECT, VIA_USA, rule, warning

RULE_KEYS = ("rule", "route", "evaluated", "trigger")


def routing_events(feed: FeedService, user: str) -> list[FeedEvent]:
    events = feed.fetch(user, 0, 10_000, feeds.LATE).events
    return [e for e in events if e.kind is FeedKind.ROUTING]


def test_an_outcome_at_creation_carries_its_instant_and_the_created_trigger() -> None:
    exchange = feeds.bare_exchange()
    feed = feeds.service(exchange)
    standing.add_rule(exchange, rule(routes=(DIRECT,), to=("JPN",)))
    at = datetime(2019, 6, 1, 12, tzinfo=UTC)
    exchange.add_item(feeds.item(1, at=at))
    [event] = routing_events(feed, "kor-analyst")
    [logged] = standing.routing_log(exchange, item="feed-item-1")
    assert {k: event.body[k] for k in RULE_KEYS} == {
        "rule": "kor-warnings",
        "route": "direct",
        "evaluated": iso(at),
        "trigger": "created",
    }
    assert (event.body["evaluated"], event.body["trigger"]) == (logged.at, logged.trigger)
    assert event.body["allowed"] is True and event.body["to"] == "JPN"


def test_a_refused_outcome_carries_route_none() -> None:
    exchange = feeds.bare_exchange()
    feed = feeds.service(exchange)
    standing.add_rule(exchange, rule(routes=(VIA_USA,), to=("JPN",)))  # no consent for the hub
    at = datetime(2019, 6, 1, 12, tzinfo=UTC)
    exchange.add_item(feeds.item(1, at=at))
    [event] = routing_events(feed, "kor-analyst")
    assert event.body["allowed"] is False
    assert (event.body["route"], event.body["trigger"]) == ("none", "created")
    assert feeds.kinds(feed, "jpn-analyst") == []


def test_a_re_evaluation_carries_the_agreement_trigger_and_the_change_instant() -> None:
    exchange = before_gsomia()
    feed = feeds.service(exchange)
    exchange.add_item(warning(1, IN_FORCE - timedelta(hours=1)))
    exchange.add_item(warning(2, IN_FORCE + timedelta(seconds=10)))
    found = [
        (e.body["to"], e.body["route"], e.body["evaluated"], e.body["trigger"])
        for e in routing_events(feed, "kor-analyst")
        if e.item == "warning-1"
    ]
    assert ("JPN", "none", iso(IN_FORCE - timedelta(hours=1)), "created") in found
    assert found[-1] == ("JPN", "direct", iso(IN_FORCE), GSOMIA)  # at the change, not the act
    logged = [
        (e.to, e.route, e.at, e.trigger) for e in standing.routing_log(exchange, item="warning-1")
    ]
    assert found == logged


def test_a_hand_release_carries_no_rule_outcome() -> None:
    exchange = feeds.bare_exchange()
    feed = feeds.service(exchange)
    exchange.add_item(feeds.item(1))
    exchange.release(ReleaseRequest("feed-item-1", "KOR", "JPN"), feeds.START + timedelta(hours=1))
    [event] = routing_events(feed, "kor-analyst")
    assert not set(RULE_KEYS) & set(event.body)
