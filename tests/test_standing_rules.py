"""Standing release rules and consents: the route each new item takes at its instant, the log of
what the rules did, the CLI and the bad inputs that change nothing."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import AccordError, DuplicateId, InvalidInput, UnknownReference
from accord.model.item import Item
from accord.model.rules import Route, RuleRevoked, StandingConsent, StandingRule, Window
from accord.policy.facts import Facts
from accord.policy.routing import choose_route
from accord.scenario import load_scenario
from accord.service import Exchange, standing
from accord.service.scenarios import apply_scenario
from accord.store.sql import SqlStore
from tests import feeds

SCENARIOS = Path(__file__).parent / "scenarios"
NO_SUSPENSION = SCENARIOS / "standing-rules-no-suspension.yaml"
KST = datetime(2019, 11, 23, tzinfo=UTC) - timedelta(hours=9)  # 2019-11-23T00:00:00+09:00
LAPSE = KST
LEVEL = "군사II급비밀"
START = datetime(2019, 1, 1, tzinfo=UTC)
DIRECT, VIA_USA = Route(None), Route("USA")


def world_exchange(*, notice: bool = True) -> Exchange:
    """The no-suspension world's definitions (no rule, consent or item), with KOR's notice of
    termination of the GSOMIA when ``notice`` (it lapses at ``LAPSE``)."""
    scenario = load_scenario(NO_SUSPENSION)
    events = tuple(e for e in scenario.events if notice and e.act.kind == "termination_notice")
    bare = dataclasses.replace(
        scenario,
        items=(),
        events=events,
        expectations=(),
        standing_rules=(),
        standing_consents=(),
        line_of={},
    )
    exchange = Exchange(SqlStore("sqlite://"))
    apply_scenario(exchange, bare, strict=True)
    return exchange


def rule(
    routes: tuple[Route, ...] = (DIRECT, VIA_USA),
    to: tuple[str, ...] = ("JPN", "USA"),
    rule_id: str = "kor-warnings",
    until: datetime | None = None,
) -> StandingRule:
    return StandingRule(
        rule_id, "KOR", frozenset({"nk-missile"}), LEVEL, to, routes, Window(START, until)
    )


def consent(consent_id: str = "usa-may-pass", until: datetime | None = None) -> StandingConsent:
    return StandingConsent(
        consent_id,
        "KOR",
        "USA",
        frozenset({"JPN"}),
        frozenset({"nk-missile"}),
        LEVEL,
        Window(START, until),
    )


def warning(n: int, at: datetime, level: str = LEVEL, topic: str = "nk-missile") -> Item:
    return Item(
        f"warning-{n}",
        "KOR",
        level,
        frozenset({topic}),
        frozenset({"JPN", "USA"}),
        at,
        f"warning {n}",
        "illustrative",
    )


def routes_of(exchange: Exchange, item: str) -> dict[str, str]:
    return {e.to: e.route for e in standing.routing_log(exchange, item=item)}


def fact_count(exchange: Exchange) -> int:
    with exchange.store.transaction() as tx:
        return tx.next_fact_seq()


# --- the route at the boundary instants ---------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "route"),
    [
        (LAPSE - timedelta(seconds=10), "direct"),
        (LAPSE - timedelta(microseconds=1), "direct"),
        (LAPSE, "via USA"),
        (LAPSE + timedelta(microseconds=1), "via USA"),
    ],
)
def test_the_route_to_japan_changes_at_the_lapse(at: datetime, route: str) -> None:
    exchange = world_exchange()
    standing.add_rule(exchange, rule())
    standing.add_consent(exchange, consent())
    exchange.add_item(warning(1, at))
    assert routes_of(exchange, "warning-1") == {"JPN": route, "USA": "direct"}
    released = [(r.to_party, r.via, r.agreement) for r in exchange.snapshot().releases]
    if route == "direct":
        assert ("JPN", None, "rok-japan-gsomia") in released
    else:
        assert released == [("JPN", "USA", "tisa")]  # USA's copy is the hub's copy


def test_in_the_world_where_the_gsomia_stays_every_warning_goes_directly() -> None:
    exchange = world_exchange(notice=False)
    standing.add_rule(exchange, rule())
    standing.add_consent(exchange, consent())
    for n, at in enumerate((LAPSE - timedelta(seconds=1), LAPSE, LAPSE + timedelta(days=5))):
        exchange.add_item(warning(n, at))
        assert routes_of(exchange, f"warning-{n}") == {"JPN": "direct", "USA": "direct"}


def test_without_the_standing_consent_no_route_is_lawful_and_each_reason_is_kept() -> None:
    exchange = world_exchange()
    standing.add_rule(exchange, rule())
    exchange.add_item(warning(1, LAPSE))
    (jpn,) = [e for e in standing.routing_log(exchange, item="warning-1") if e.to == "JPN"]
    assert jpn.route == "none"
    assert any(r.startswith("agreement-not-in-force: direct:") for r in jpn.reasons)
    assert any(r.startswith("no-originator-consent: via USA:") for r in jpn.reasons)
    world = exchange.snapshot()
    assert world.holding("warning-1", "JPN", LAPSE) is None  # nothing released to JPN
    assert routes_of(exchange, "warning-1")["USA"] == "direct"


def test_the_rules_order_of_routes_is_kept() -> None:
    exchange = world_exchange(notice=False)
    standing.add_rule(exchange, rule(routes=(VIA_USA, DIRECT)))
    standing.add_consent(exchange, consent())
    exchange.add_item(warning(1, LAPSE))
    assert routes_of(exchange, "warning-1") == {"JPN": "via USA", "USA": "direct"}


def test_when_the_hub_holds_its_own_copy_the_route_through_it_passes_that_copy_on() -> None:
    exchange = world_exchange()
    standing.add_rule(exchange, rule(to=("USA", "JPN")))  # USA first: it holds its own copy
    standing.add_consent(exchange, consent())
    exchange.add_item(warning(1, LAPSE))
    assert routes_of(exchange, "warning-1") == {"USA": "direct", "JPN": "via USA"}
    (onward,) = [r for r in exchange.snapshot().releases if r.to_party == "JPN"]
    assert (onward.from_party, onward.via) == ("USA", None)  # the hub passed its copy on
    assert not any("already-held" in r for e in standing.routing_log(exchange) for r in e.reasons)


def test_a_rule_applies_only_in_its_window_and_until_revoked() -> None:
    exchange = world_exchange(notice=False)
    standing.add_rule(exchange, rule(until=LAPSE))
    exchange.add_item(warning(1, LAPSE - timedelta(microseconds=1)))
    exchange.add_item(warning(2, LAPSE))  # ``until`` is excluded
    assert routes_of(exchange, "warning-1") == {"JPN": "direct", "USA": "direct"}
    assert routes_of(exchange, "warning-2") == {}
    standing.add_rule(exchange, rule(rule_id="again"))
    exchange.add_item(warning(3, LAPSE + timedelta(minutes=59)))
    standing.revoke(exchange, RuleRevoked(LAPSE + timedelta(hours=1), "again", "KOR"))
    exchange.add_item(warning(4, LAPSE + timedelta(hours=1)))
    assert routes_of(exchange, "warning-3") == {"JPN": "direct", "USA": "direct"}
    assert routes_of(exchange, "warning-4") == {}


def test_a_rule_covers_only_its_topics_and_levels() -> None:
    exchange = world_exchange(notice=False)
    standing.add_rule(exchange, rule())
    exchange.add_item(warning(1, LAPSE, level="군사I급비밀"))
    exchange.add_item(warning(2, LAPSE, topic="nk-nuclear"))
    assert standing.routing_log(exchange) == []
    assert exchange.snapshot().releases == []


def test_a_revoked_standing_consent_no_longer_lets_the_hub_pass_items_on() -> None:
    exchange = world_exchange()
    standing.add_rule(exchange, rule())
    standing.add_consent(exchange, consent())
    standing.revoke(exchange, RuleRevoked(LAPSE, "usa-may-pass", "KOR"))
    exchange.add_item(warning(1, LAPSE))
    assert routes_of(exchange, "warning-1")["JPN"] == "none"


def test_choose_route_is_a_pure_decision_over_the_facts() -> None:
    exchange = world_exchange()
    exchange.add_item(warning(1, LAPSE - timedelta(hours=1)))  # no rule yet: nothing released
    standing.add_consent(exchange, consent())
    facts = Facts(exchange.snapshot())
    item = facts.world.items["warning-1"]
    before = choose_route(facts, rule(), item, "JPN", LAPSE - timedelta(microseconds=1))
    after = choose_route(facts, rule(), item, "JPN", LAPSE)
    assert before.chosen is not None and before.chosen.route == DIRECT
    assert after.chosen is not None and after.chosen.route == VIA_USA
    assert [t.route for t in after.tried] == [DIRECT, VIA_USA]
    assert exchange.snapshot().releases == []  # deciding released nothing


def test_rules_and_consents_are_signed_facts_that_reload() -> None:
    exchange = world_exchange()
    standing.add_rule(exchange, rule())
    standing.add_consent(exchange, consent())
    standing.revoke(exchange, RuleRevoked(LAPSE, "kor-warnings", "KOR"))
    before = exchange.snapshot()
    from accord.service.ledger import Ledger

    with exchange.store.transaction() as tx:
        again = Ledger().load(tx)
    assert again.taints == {}
    assert again.standing_rules == before.standing_rules
    assert again.standing_consents == before.standing_consents
    assert again.revoked == before.revoked == {"kor-warnings": LAPSE}


# --- the feed -------------------------------------------------------------------------------------


def test_an_automatic_release_appears_in_the_recipients_feed() -> None:
    exchange = feeds.bare_exchange()
    feed = feeds.service(exchange)
    standing.add_rule(exchange, rule(routes=(DIRECT,), to=("JPN",)))
    exchange.add_item(feeds.item(1, at=datetime(2019, 6, 1, tzinfo=UTC)))
    assert ("available", "feed-item-1") in feeds.kinds(feed, "jpn-analyst")
    assert ("routing", "feed-item-1") in feeds.kinds(feed, "kor-analyst")


# --- a property against an independent oracle ---------------------------------------------------

OFFSETS = st.integers(min_value=-120, max_value=120)  # seconds around the lapse


@settings(max_examples=12, deadline=None)
@given(
    routes=st.permutations([DIRECT, VIA_USA]).map(tuple) | st.sampled_from([(DIRECT,), (VIA_USA,)]),
    notice=st.booleans(),
    consent_until=st.none() | OFFSETS,
    offsets=st.lists(OFFSETS, min_size=1, max_size=4),
)
def test_each_warning_takes_the_route_an_independent_oracle_predicts(
    routes: tuple[Route, ...], notice: bool, consent_until: int | None, offsets: list[int]
) -> None:
    exchange = world_exchange(notice=notice)
    until = None if consent_until is None else LAPSE + timedelta(seconds=consent_until)
    standing.add_rule(exchange, rule(routes=routes, to=("JPN",)))
    standing.add_consent(exchange, consent(until=until))
    for n, offset in enumerate(sorted(offsets)):
        at = LAPSE + timedelta(seconds=offset)
        exchange.add_item(warning(n, at))
        assert routes_of(exchange, f"warning-{n}") == {"JPN": _oracle(routes, notice, until, at)}


def _oracle(routes: tuple[Route, ...], notice: bool, until: datetime | None, at: datetime) -> str:
    """Direct needs the GSOMIA in force (it lapses at midnight KST after the notice); through
    the US needs KOR's standing consent for the US to pass it on, at that instant."""
    lawful = {
        DIRECT: not notice or at < LAPSE,
        VIA_USA: until is None or at < until,
    }
    for route in routes:
        if lawful[route]:
            return route.label
    return "none"


# --- bad input changes nothing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("made", "error", "words"),
    [
        (
            lambda: dataclasses.replace(rule(), topics=frozenset({"weather"})),
            UnknownReference,
            "weather",
        ),
        (lambda: dataclasses.replace(rule(), recipients=("CHN",)), UnknownReference, "CHN"),
        (lambda: dataclasses.replace(rule(), routes=(Route("CHN"),)), UnknownReference, "CHN"),
        (lambda: dataclasses.replace(rule(), originator="CHN"), UnknownReference, "CHN"),
        (lambda: dataclasses.replace(rule(), max_level="SECRET"), UnknownReference, "SECRET"),
    ],
)
def test_a_rule_with_a_bad_reference_is_refused_and_changes_nothing(
    made: object, error: type[AccordError], words: str
) -> None:
    exchange = world_exchange()
    facts = fact_count(exchange)
    with pytest.raises(error, match=words):
        standing.add_rule(exchange, made())  # type: ignore[operator]
    assert fact_count(exchange) == facts
    assert exchange.snapshot().standing_rules == {}


def test_an_unknown_route_is_refused_with_its_text() -> None:
    with pytest.raises(InvalidInput, match="'via'"):
        Route.parse("via", "routes[1]")
    with pytest.raises(InvalidInput, match="'through USA'"):
        Route.parse("through USA", "routes[0]")


def test_an_empty_window_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not after"):
        Window(START, START)
    with pytest.raises(InvalidInput, match="no UTC offset"):
        Window(datetime(2019, 1, 1))


def test_revoking_an_unknown_rule_or_anothers_rule_or_twice_changes_nothing() -> None:
    exchange = world_exchange()
    standing.add_rule(exchange, rule())
    facts = fact_count(exchange)
    with pytest.raises(UnknownReference, match="nope"):
        standing.revoke(exchange, RuleRevoked(LAPSE, "nope", "KOR"))
    with pytest.raises(InvalidInput, match="only KOR may revoke"):
        standing.revoke(exchange, RuleRevoked(LAPSE, "kor-warnings", "JPN"))
    assert fact_count(exchange) == facts and exchange.snapshot().revoked == {}
    standing.revoke(exchange, RuleRevoked(LAPSE, "kor-warnings", "KOR"))
    with pytest.raises(InvalidInput, match="already revoked"):
        standing.revoke(exchange, RuleRevoked(LAPSE, "kor-warnings", "KOR"))


def test_a_second_rule_or_consent_under_one_id_is_refused() -> None:
    exchange = world_exchange()
    standing.add_rule(exchange, rule())
    with pytest.raises(DuplicateId, match="kor-warnings"):
        standing.add_consent(exchange, consent("kor-warnings"))
