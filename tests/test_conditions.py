"""R15: a suspension conditional on a matter outside the agreement, and what follows when the
condition fails — at the failure instant and one microsecond before.

The case: Seoul's notice of 2019-08-23, suspended on 2019-11-22 18:00 KST while the
export-control dialogue goes on (``japan-export-controls``). The failure in December 2019 is
hypothetical; so are the other consequences tried here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from accord.errors import Refused, UnknownReference
from accord.model.agreement import (
    NoticeSuspended,
    NoticeWithdrawn,
    SuspensionLifted,
    TerminationNotice,
)
from accord.model.matters import Condition, Consequence, ConsequenceKind, Matter, MatterState
from accord.policy.facts import Facts
from accord.policy.impact import impact_if
from accord.policy.lifecycle import Status
from accord.policy.matters import changed_conditions, decide_matter_state
from tests.worlds import NOTICE_2019, SUSPENSION_2019, US, Exchange, T, korea_2019

MATTER = "japan-export-controls"
STATES = ("measures-in-force", "dialogue-ongoing", "measures-withdrawn", "dialogue-failed")
HOLDING = frozenset({"dialogue-ongoing", "measures-withdrawn"})
FAILURE = T("2019-12-16T00:00:00+09:00")
LAPSE = T("2019-11-23T00:00:00+09:00")


def consequence(text: str) -> Consequence:
    if text.startswith("end_after "):
        return Consequence.end_after(text.removeprefix("end_after "), "test")
    return Consequence(ConsequenceKind(text))


def record_state(ex: Exchange, at: object, state: str, by: str = "KOR") -> None:
    fact = MatterState(T(at), MATTER, state, by)  # type: ignore[arg-type]
    ex.world.check_matter_state(fact)
    decision = decide_matter_state(ex.facts, fact)
    assert decision.allowed, decision.as_dict()
    ex.world.add_matter_state(fact)


def conditional(on_failure: str = "end_after P0D") -> Exchange:
    """The 2019 case with Seoul's suspension conditional on the dialogue."""
    ex = korea_2019()
    ex.world.add_matter(Matter(MATTER, STATES, "measures-in-force"))
    ex.must(_notice())
    assert ex.release("report-1", "KOR", "JPN", "2019-11-01T09:00:00+09:00").allowed
    record_state(ex, SUSPENSION_2019, "dialogue-ongoing")
    ex.must(suspension(on_failure))
    return ex


def _notice() -> TerminationNotice:
    return TerminationNotice(T(NOTICE_2019), "gsomia", "KOR")


def suspension(on_failure: str = "end_after P0D", at: str = SUSPENSION_2019) -> NoticeSuspended:
    condition = Condition(MATTER, HOLDING, consequence(on_failure))
    return NoticeSuspended(T(at), "gsomia", "KOR", conditions=(condition,))


def holds(ex: Exchange, at: object) -> bool:
    state = ex.facts.state("gsomia", T(at))  # type: ignore[arg-type]
    assert state.conditions, "no condition at that instant"
    return all(hc.holds for hc in state.conditions)


class TestConditionHolds:
    def test_suspension_holds_while_the_dialogue_goes_on(self) -> None:
        ex = conditional()
        assert ex.status("gsomia", LAPSE) == "in_force"
        assert holds(ex, LAPSE)
        state = ex.facts.state("gsomia", LAPSE)
        (held,) = state.conditions
        assert held.state == "dialogue-ongoing" and held.failed_at is None
        shown = state.as_dict()["notice"]["conditions"][0]  # type: ignore[index]
        assert shown["holds"] is True and shown["on_failure"] == "end_after P0D"
        assert "ends at the failure instant" in shown["if_it_fails"]

    def test_another_named_state_keeps_it(self) -> None:
        ex = conditional()
        record_state(ex, FAILURE, "measures-withdrawn", by="JPN")
        assert ex.status("gsomia", FAILURE) == "in_force"
        assert holds(ex, FAILURE)
        assert ex.status("gsomia", "2020-11-23T00:00:00+09:00") == "in_force"  # it renews

    def test_a_suspension_whose_condition_already_fails_is_refused(self) -> None:
        ex = korea_2019()
        ex.world.add_matter(Matter(MATTER, STATES, "measures-in-force"))
        ex.must(_notice())
        decision = ex.event(suspension())
        assert not decision.allowed
        assert decision.codes == ("condition-fails",)
        assert decision.reasons[0].rule == "R15"

    def test_a_condition_on_an_unknown_matter_is_refused(self) -> None:
        ex = korea_2019()
        ex.must(_notice())
        decision = ex.check_event(suspension())
        assert decision.codes == ("invalid-condition",)
        with pytest.raises(UnknownReference, match="unknown matter 'japan-export-controls'"):
            ex.world.add_agreement_event(suspension())
        assert len(ex.world.agreement_events["gsomia"]) == 1


class TestConsequences:
    def test_end_after_zero_ends_at_the_failure_instant(self) -> None:
        ex = conditional("end_after P0D")
        record_state(ex, FAILURE, "dialogue-failed")
        assert ex.status("gsomia", FAILURE - US) == "in_force"
        assert holds(ex, FAILURE - US)
        assert ex.status("gsomia", FAILURE) == "terminated"
        assert not holds(ex, FAILURE)
        state = ex.facts.state("gsomia", FAILURE)
        assert state.expires_at == FAILURE and state.ended_by == "condition-failed"
        assert state.conditions[0].failed_at == FAILURE
        assert ex.check_release("report-1", "KOR", "JPN", FAILURE - US).codes == ("already-held",)
        assert ex.check_release("low-1", "KOR", "JPN", FAILURE - US).allowed
        assert ex.check_release("low-1", "KOR", "JPN", FAILURE).codes == ("agreement-not-in-force",)
        assert ex.read("jpn-analyst", "report-1", FAILURE).allowed  # R7

    def test_end_after_a_period_counts_on_the_wall_clock(self) -> None:
        ex = conditional("end_after P30D")
        record_state(ex, FAILURE, "dialogue-failed")
        end = T("2020-01-15T00:00:00+09:00")
        assert ex.status("gsomia", FAILURE - US) == "in_force"
        assert ex.status("gsomia", FAILURE) == "notice_pending"
        assert ex.facts.state("gsomia", FAILURE).expires_at == end
        assert ex.status("gsomia", end - US) == "notice_pending"
        assert ex.status("gsomia", end) == "terminated"

    def test_end_at_term_end(self) -> None:
        ex = conditional("end_at_term_end")
        record_state(ex, FAILURE, "dialogue-failed")
        end = T("2020-11-23T00:00:00+09:00")
        assert ex.status("gsomia", FAILURE) == "notice_pending"
        assert ex.status("gsomia", end - US) == "notice_pending"
        assert ex.status("gsomia", end) == "terminated"

    def test_none_records_the_failure_and_keeps_the_suspension(self) -> None:
        ex = conditional("none")
        record_state(ex, FAILURE, "dialogue-failed")
        assert ex.status("gsomia", FAILURE) == "in_force"
        state = ex.facts.state("gsomia", FAILURE)
        assert state.conditions[0].failed_at == FAILURE and not state.conditions[0].holds
        assert ex.status("gsomia", "2020-11-23T00:00:00+09:00") == "in_force"
        # Seoul may still lift at any time
        lifted = T("2020-02-01T00:00:00+09:00")
        ex.must(SuspensionLifted(lifted, "gsomia", "KOR", lifted))
        assert ex.status("gsomia", lifted) == "terminated"

    def test_a_return_to_a_named_state_does_not_undo_the_failure(self) -> None:
        ex = conditional("end_after P30D")
        record_state(ex, FAILURE, "dialogue-failed")
        record_state(ex, "2019-12-20T00:00:00+09:00", "dialogue-ongoing")
        state = ex.facts.state("gsomia", T("2019-12-21T00:00:00+09:00"))
        assert state.status is Status.NOTICE_PENDING
        assert state.conditions[0].holds and state.conditions[0].failed_at == FAILURE
        assert ex.status("gsomia", "2020-01-15T00:00:00+09:00") == "terminated"

    def test_after_the_notice_is_withdrawn_the_matter_no_longer_matters(self) -> None:
        ex = conditional()
        ex.must(NoticeWithdrawn(T("2023-03-21T10:00:00+09:00"), "gsomia", "KOR"))
        record_state(ex, "2024-01-10T00:00:00+09:00", "dialogue-failed")
        assert ex.status("gsomia", "2024-01-10T00:00:00+09:00") == "in_force"
        assert not ex.facts.state("gsomia", T("2024-01-10T00:00:00+09:00")).conditions

    def test_state_is_a_pure_function_of_the_facts_at_the_instant(self) -> None:
        """Compiled at once from the record or followed fact by fact, the answers agree; and a
        later matter state changes nothing before its instant."""
        ex = conditional("end_after P0D")
        before = [ex.facts.state("gsomia", FAILURE - US * k).as_dict() for k in (1, 10**6)]
        record_state(ex, FAILURE, "dialogue-failed")
        after = [ex.facts.state("gsomia", FAILURE - US * k).as_dict() for k in (1, 10**6)]
        assert before == after
        fresh = Facts(ex.world)
        for at in (FAILURE - US, FAILURE, FAILURE + timedelta(days=400)):
            assert fresh.state("gsomia", at).as_dict() == ex.facts.state("gsomia", at).as_dict()


class TestRecordingMatterStates:
    def test_a_state_the_matter_does_not_define_is_bad_input(self) -> None:
        ex = conditional()
        with pytest.raises(UnknownReference, match="has no state 'talks-stalled'"):
            ex.world.add_matter_state(MatterState(FAILURE, MATTER, "talks-stalled", "KOR"))
        assert len(ex.world.matter_states) == 1

    def test_a_condition_naming_a_state_the_matter_does_not_define(self) -> None:
        bad = Condition(MATTER, frozenset({"talks-stalled"}), consequence("none"))
        with pytest.raises(UnknownReference, match="has no state 'talks-stalled'"):
            bad.check({MATTER: Matter(MATTER, STATES, "measures-in-force")}, "conditions[0]")

    def test_an_initial_state_the_matter_does_not_define(self) -> None:
        with pytest.raises(UnknownReference, match="initial state 'x'"):
            Matter(MATTER, STATES, "x")

    def test_a_state_that_would_undo_a_recorded_event_is_refused(self) -> None:
        """A suspension recorded at 18:00 on the premise of the dialogue; a failure recorded
        afterwards for that same instant would make the suspension impossible."""
        ex = conditional()
        fact = MatterState(T(SUSPENSION_2019), MATTER, "dialogue-failed", "KOR")
        decision = decide_matter_state(ex.facts, fact)
        assert not decision.allowed and decision.codes == ("effective-before-event",)

    def test_refused_compile_raises(self) -> None:
        ex = conditional()
        ex.world.matter_states.append(
            MatterState(T(SUSPENSION_2019), MATTER, "dialogue-failed", "KOR")
        )
        with pytest.raises(Refused):
            Facts(ex.world).state("gsomia", LAPSE)


class TestChangedConditions:
    def test_lists_conditions_whose_matter_changed_for_each_party(self) -> None:
        ex = conditional("none")
        at = T("2019-12-01T00:00:00+09:00")
        assert changed_conditions(ex.facts, "KOR", at) == []
        record_state(ex, "2019-11-30T00:00:00+09:00", "measures-withdrawn", by="JPN")
        for party in ("KOR", "JPN"):
            (found,) = changed_conditions(ex.facts, party, at)
            assert found.agreement == "gsomia" and found.notifying_party == "KOR"
            assert found.held.noted_state == "dialogue-ongoing"
            assert found.held.state == "measures-withdrawn"
            assert found.changed_at == T("2019-11-30T00:00:00+09:00")
            assert found.held.holds
        assert changed_conditions(ex.facts, "USA", at) == []
        assert changed_conditions(ex.facts, "KOR", T("2019-11-29T23:59:59+09:00")) == []

    def test_a_failure_comes_with_the_end_it_causes(self) -> None:
        ex = conditional("end_after P30D")
        record_state(ex, FAILURE, "dialogue-failed")
        (found,) = changed_conditions(ex.facts, "JPN", FAILURE)
        assert found.held.failed_at == FAILURE
        assert found.ends_at == T("2020-01-15T00:00:00+09:00")


class TestImpactIf:
    def test_what_stops_if_the_dialogue_fails(self) -> None:
        ex = conditional()
        before = (len(ex.world.matter_states), ex.world.revision)
        result = impact_if(ex.facts, "gsomia", MATTER, "dialogue-failed", FAILURE)
        assert (len(ex.world.matter_states), ex.world.revision) == before  # nothing stored
        assert result.ends_at == FAILURE
        assert result.supposed.status is Status.TERMINATED
        assert result.actual.status is Status.IN_FORCE
        assert result.report is not None
        (flow,) = result.report.flows
        assert (flow.sender, flow.recipient, flow.outcome.verdict) == (
            "KOR",
            "JPN",
            "needs-consent",
        )
        assert flow.outcome.via == "USA"
        assert [h.item for h in result.report.protected] == ["report-1"]
        data = result.as_dict()
        assert data["ends_at"] == "2019-12-15T15:00:00Z"
        assert ex.status("gsomia", FAILURE) == "in_force"

    def test_nothing_stops_while_the_condition_holds(self) -> None:
        ex = conditional()
        result = impact_if(ex.facts, "gsomia", MATTER, "measures-withdrawn", FAILURE)
        assert result.ends_at is None and result.report is None
        assert "holds" in result.explanation

    def test_a_failure_with_consequence_none_stops_nothing(self) -> None:
        ex = conditional("none")
        result = impact_if(ex.facts, "gsomia", MATTER, "dialogue-failed", FAILURE)
        assert result.ends_at is None
        assert "may lift it at any time" in result.explanation

    def test_an_undefined_state_is_bad_input(self) -> None:
        ex = conditional()
        with pytest.raises(UnknownReference, match="has no state 'over'"):
            impact_if(ex.facts, "gsomia", MATTER, "over", FAILURE)
        with pytest.raises(UnknownReference, match="unknown matter 'wto-ds590'"):
            impact_if(ex.facts, "gsomia", "wto-ds590", "over", FAILURE)
