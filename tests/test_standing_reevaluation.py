"""Standing rules re-evaluated when an agreement changes state: by the passage of time (an
agreement coming into force, a termination taking effect) and by an event; at the next act and
by the timer (``standing.evaluate_due``); at the instant itself and not 1 µs before."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accord.model.agreement import TerminationNotice
from accord.model.requests import ReleaseRequest
from accord.model.rules import RuleRevoked, Window
from accord.policy.changes import change_instants, changes_between, next_change
from accord.policy.release import decide_release
from accord.scenario import load_scenario
from accord.service import Exchange, standing
from accord.service.scenarios import apply_scenario
from accord.store.sql import SqlStore
from tests.test_standing_rules import DIRECT, LAPSE, consent, rule, warning, world_exchange

REEVALUATED = Path(__file__).parent / "scenarios" / "standing-rules-reevaluated.yaml"
IN_FORCE = datetime(2016, 11, 22, 15, tzinfo=UTC)  # 2016-11-23T00:00:00+09:00: the GSOMIA starts
US = timedelta(microseconds=1)
GSOMIA = "agreement:rok-japan-gsomia"


def before_gsomia() -> Exchange:
    """The 2016 world (the GSOMIA comes into force at IN_FORCE) with KOR's rule: direct only,
    to JPN then USA, and no item yet."""
    scenario = load_scenario(REEVALUATED)
    bare = dataclasses.replace(
        scenario, items=(), events=(), expectations=(), standing_rules=(), line_of={}
    )
    exchange = Exchange(SqlStore("sqlite://"))
    apply_scenario(exchange, bare, strict=True)
    standing.add_rule(exchange, dataclasses.replace(rule((DIRECT,)), window=_window()))
    return exchange


def _window() -> Window:
    return Window(IN_FORCE - timedelta(days=30))


def outcomes(exchange: Exchange, item: str, to: str) -> list[tuple[str, str, str]]:
    return [
        (e.at, e.route, e.trigger) for e in standing.routing_log(exchange, item=item) if e.to == to
    ]


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


# --- the instants of change (policy) ----------------------------------------------------------


def test_a_termination_taking_effect_is_a_change_and_a_superseded_end_is_not() -> None:
    noticed = world_exchange()
    with noticed.session(write=False) as s:
        instants = change_instants(s.facts.timeline("rok-japan-gsomia"))
        assert LAPSE in instants
        assert changes_between(s.facts, LAPSE - US, LAPSE) == [(LAPSE, "rok-japan-gsomia")]
        assert changes_between(s.facts, LAPSE, LAPSE + timedelta(days=1)) == []
        assert next_change(s.facts, LAPSE - US) == LAPSE
    suspended = world_exchange(notice=False)
    with suspended.session(write=False) as s:
        assert LAPSE not in change_instants(s.facts.timeline("rok-japan-gsomia"))


def test_changes_between_refuses_naive_instants() -> None:
    with world_exchange().session(write=False) as s, pytest.raises(Exception, match="until"):
        changes_between(s.facts, None, datetime(2019, 11, 23))


# --- by the passage of time, found by the next act ----------------------------------------------


@pytest.mark.parametrize(
    ("next_act", "decided"),
    [(IN_FORCE - US, False), (IN_FORCE, True), (IN_FORCE + timedelta(seconds=10), True)],
)
def test_the_next_act_re_evaluates_at_the_instant_of_the_change(
    next_act: datetime, decided: bool
) -> None:
    exchange = before_gsomia()
    exchange.add_item(warning(1, IN_FORCE - timedelta(hours=1)))
    assert outcomes(exchange, "warning-1", "JPN") == [
        (iso(IN_FORCE - timedelta(hours=1)), "none", "created")
    ]
    exchange.add_item(warning(2, next_act))
    found = outcomes(exchange, "warning-1", "JPN")
    if not decided:
        assert len(found) == 1
        assert exchange.snapshot().holding("warning-1", "JPN", next_act) is None
        return
    assert found[1] == (iso(IN_FORCE), "direct", GSOMIA)  # at the change, not at the act
    copy = exchange.snapshot().holding("warning-1", "JPN", IN_FORCE)
    assert copy is not None and copy.received_at == IN_FORCE
    # the new decision comes before the act that found it, in the record
    order = [(e.item, e.trigger) for e in standing.routing_log(exchange) if e.to == "JPN"]
    assert order.index(("warning-1", GSOMIA)) < order.index(("warning-2", "created"))


def test_a_recipient_already_served_is_not_decided_again() -> None:
    exchange = before_gsomia()
    exchange.add_item(warning(1, IN_FORCE - timedelta(hours=1)))
    exchange.add_item(warning(2, IN_FORCE + timedelta(seconds=1)))
    # USA got its copy at creation (the KOR-US agreement was in force): no new decision
    assert [t for *_, t in outcomes(exchange, "warning-1", "USA")] == ["created"]


def test_a_rule_revoked_before_the_change_never_sends() -> None:
    exchange = before_gsomia()
    exchange.add_item(warning(1, IN_FORCE - timedelta(hours=1)))
    exchange.apply(RuleRevoked(IN_FORCE - timedelta(minutes=1), "kor-warnings", "KOR"))
    exchange.add_item(warning(2, IN_FORCE + timedelta(seconds=1)))
    assert [r for _, r, _ in outcomes(exchange, "warning-1", "JPN")] == ["none"]
    assert exchange.snapshot().holding("warning-1", "JPN", IN_FORCE) is None


# --- by the passage of time, found by the timer ---------------------------------------------------


def test_the_timer_decides_at_the_change_once() -> None:
    exchange = before_gsomia()
    exchange.add_item(warning(1, IN_FORCE - timedelta(hours=1)))
    assert standing.evaluate_due(exchange, None, IN_FORCE - US) == 0
    assert standing.next_due(exchange, IN_FORCE - US) == IN_FORCE
    assert standing.evaluate_due(exchange, None, IN_FORCE) == 1
    assert standing.evaluate_due(exchange, None, IN_FORCE + timedelta(hours=1)) == 0
    exchange.add_item(warning(2, IN_FORCE + timedelta(hours=2)))  # the next act: nothing again
    assert outcomes(exchange, "warning-1", "JPN")[1:] == [(iso(IN_FORCE), "direct", GSOMIA)]


def test_the_timer_leaves_changes_before_the_latest_act_alone() -> None:
    exchange = before_gsomia()
    exchange.add_item(warning(1, IN_FORCE - timedelta(hours=1)))
    # the server started after the change: only changes after ``since`` are the timer's
    assert standing.evaluate_due(exchange, IN_FORCE, IN_FORCE + timedelta(days=1)) == 0
    assert len(outcomes(exchange, "warning-1", "JPN")) == 1


# --- by an event --------------------------------------------------------------------------------


def test_an_event_re_evaluates_at_its_instant_with_its_own_reasons() -> None:
    exchange = world_exchange()  # the GSOMIA lapses at LAPSE
    standing.add_rule(exchange, rule((DIRECT,), to=("JPN",)))
    exchange.add_item(warning(1, LAPSE + timedelta(seconds=1)))
    notice_at = LAPSE + timedelta(seconds=10)
    decision = exchange.record(TerminationNotice(notice_at, "japan-us-gsomia", "JPN"))
    assert decision.allowed
    found = standing.routing_log(exchange, item="warning-1")
    assert [(e.at, e.route, e.trigger) for e in found] == [
        (iso(LAPSE + timedelta(seconds=1)), "none", "created"),
        (iso(notice_at), "none", "agreement:japan-us-gsomia"),
    ]
    assert any("agreement-not-in-force" in r for r in found[1].reasons)


def test_an_agreement_without_the_recipient_does_not_re_evaluate() -> None:
    exchange = world_exchange()
    standing.add_rule(exchange, rule((DIRECT,), to=("JPN",)))
    exchange.add_item(warning(1, LAPSE + timedelta(seconds=1)))
    exchange.record(
        TerminationNotice(LAPSE + timedelta(seconds=10), "rok-us-security-agreement", "KOR")
    )
    assert len(standing.routing_log(exchange, item="warning-1")) == 1


# --- the hub's onward step ------------------------------------------------------------------------


def _hub_first(*, with_consent: bool) -> Exchange:
    exchange = world_exchange()  # the GSOMIA lapses at LAPSE
    standing.add_rule(exchange, rule(to=("USA", "JPN")))
    if with_consent:
        standing.add_consent(exchange, consent())
    exchange.add_item(warning(1, LAPSE + timedelta(seconds=1)))
    return exchange


def test_a_hub_holding_its_copy_passes_it_on_by_a_full_release_decision() -> None:
    exchange = _hub_first(with_consent=True)
    entries = {e.to: e for e in standing.routing_log(exchange, item="warning-1")}
    assert (entries["USA"].route, entries["JPN"].route) == ("direct", "via USA")
    assert not any("already-held" in r for r in entries["JPN"].reasons)
    released = [(r.from_party, r.to_party, r.via) for r in exchange.snapshot().releases]
    assert released == [("KOR", "USA", None), ("USA", "JPN", None)]  # USA's own copy, onward
    # exactly the decision a hand release of USA's own copy gets at that instant
    at = LAPSE + timedelta(seconds=1)
    only_usa = world_exchange()
    standing.add_rule(only_usa, rule(to=("USA",)))
    standing.add_consent(only_usa, consent())
    only_usa.add_item(warning(1, at))
    with only_usa.session(write=False) as s:
        hand = decide_release(s.facts, ReleaseRequest("warning-1", "USA", "JPN", None), at)
    assert hand.allowed
    onward = [f"{r.code.value}: via USA: {r.message}" for r in hand.reasons]
    assert entries["JPN"].reasons[-len(onward) :] == tuple(onward)


def test_without_the_consent_the_hub_may_not_pass_its_copy_on() -> None:
    exchange = _hub_first(with_consent=False)
    entries = {e.to: e for e in standing.routing_log(exchange, item="warning-1")}
    assert entries["JPN"].route == "none"
    assert any(r.startswith("no-originator-consent: via USA") for r in entries["JPN"].reasons)
    assert exchange.snapshot().holding("warning-1", "JPN", LAPSE + timedelta(days=1)) is None
