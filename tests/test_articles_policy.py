"""Art. 6(g), 6(h) and 17 in policy: re-marking at an instant (R2, R3, R5, R7), investigations
and release holds (R9), and duties (R2, R6, R9, R10). Every boundary is checked at its instant
and one microsecond before."""

from __future__ import annotations

from dataclasses import replace

import pytest

from accord.errors import InvalidInput, UnknownReference
from accord.model.acts import Compromise
from accord.model.classification import MarkingFlag, Reclassification
from accord.model.duties import DutyKind, DutyState
from accord.model.investigation import (
    InvestigationConcluded,
    InvestigationResult,
    InvestigationStarted,
    InvestigationState,
    ReleaseHold,
    ReleaseHoldLifted,
)
from accord.model.item import Item
from accord.policy.classification import decide_reclassification
from accord.policy.duties import duties
from accord.policy.investigations import decide_hold, decide_investigation, investigation
from accord.policy.marking import classified, current_marking, marking
from accord.policy.reasons import Code
from tests.worlds import JPN1, JPN2, JPN3, KOR1, KOR2, KOR3, US, Exchange, T, korea_2019

RELEASED = "2019-10-31T18:00:00+09:00"
CHANGE = T("2019-11-15T10:00:00+09:00")


def held_by_japan() -> Exchange:
    x = korea_2019()
    assert x.release("report-1", "KOR", "JPN", RELEASED).allowed
    return x


def reclassify(x: Exchange, at: object = CHANGE, **fields: object) -> None:
    change = Reclassification(T(at), "report-1", "KOR", **fields)  # type: ignore[arg-type]
    decision = decide_reclassification(x.facts, change)
    assert decision.allowed, decision.as_dict()
    x.world.add_reclassification(change)


def japan_marking(x: Exchange, at: object) -> tuple[str, str, MarkingFlag | None]:
    holding = x.world.holding("report-1", "JPN", T(at))
    assert holding is not None
    found = marking(x.facts, holding, T(at))
    return found.level, found.holding.originator_level, found.flag


# --- Art. 6(g): re-marking at the instant -------------------------------------------------------


def test_a_downgrade_re_marks_the_copy_from_its_instant_on() -> None:
    x = held_by_japan()
    reclassify(x, level=KOR3)
    assert japan_marking(x, CHANGE - US) == (JPN2, KOR2, None)
    assert japan_marking(x, CHANGE) == (JPN3, KOR3, None)
    assert not x.read("jpn-junior", "report-1", CHANGE - US).allowed
    assert x.read("jpn-junior", "report-1", CHANGE).allowed


def test_an_upgrade_past_the_table_protects_at_the_highest_level_and_flags_it() -> None:
    x = held_by_japan()
    reclassify(x, level=KOR1)
    assert japan_marking(x, CHANGE) == (JPN1, KOR1, MarkingFlag.NOT_COVERED)
    assert x.read("jpn-analyst", "report-1", CHANGE - US).allowed
    denied = x.read("jpn-analyst", "report-1", CHANGE)
    assert denied.codes == ("clearance-too-low",)


def test_the_originators_own_copy_follows_the_new_level() -> None:
    x = held_by_japan()
    reclassify(x, level=KOR1)
    own = x.world.holding("report-1", "KOR", CHANGE)
    assert own is not None and marking(x.facts, own, CHANGE).level == KOR1
    assert x.read("kor-analyst", "report-1", CHANGE - US).allowed
    assert x.read("kor-analyst", "report-1", CHANGE).codes == ("clearance-too-low",)


def test_a_new_release_goes_at_the_new_level() -> None:
    x = korea_2019()
    reclassify(x, level=KOR3)
    decision = x.check_release("report-1", "KOR", "JPN", CHANGE)
    assert decision.allowed and decision.holdings[0].level == JPN3
    assert decision.holdings[0].originator_level == KOR3
    x = korea_2019()
    reclassify(x, level=KOR1)
    assert "level-not-covered" in x.check_release("report-1", "KOR", "JPN", CHANGE).codes
    assert x.check_release("report-1", "KOR", "JPN", CHANGE - US).allowed


def test_a_copy_received_after_the_change_keeps_its_marking_and_later_changes_reach_it() -> None:
    x = korea_2019()
    reclassify(x, level=KOR3)
    assert x.release("report-1", "KOR", "JPN", CHANGE).allowed
    later = T("2019-11-20T10:00:00+09:00")
    assert japan_marking(x, later) == (JPN3, KOR3, None)
    reclassify(x, later, level=KOR2)
    assert japan_marking(x, later - US) == (JPN3, KOR3, None)
    assert japan_marking(x, later) == (JPN2, KOR2, None)


def test_re_marking_uses_the_table_of_the_agreement_the_copy_came_under() -> None:
    x = korea_2019()
    assert x.consent("report-1", "USA", ["JPN"], "2019-10-31T17:30:00+09:00").allowed
    assert x.release("report-1", "KOR", "JPN", RELEASED, via="USA").allowed  # under TISA
    holding = x.world.holding("report-1", "JPN", CHANGE)
    assert holding is not None and holding.agreement == "tisa"
    reclassify(x, level=KOR3)  # TISA's table here has no 군사III급비밀 row
    found = marking(x.facts, holding, CHANGE)
    assert (found.level, found.flag) == (JPN1, MarkingFlag.NOT_COVERED)
    usa = x.world.holding("report-1", "USA", CHANGE)
    assert usa is not None and marking(x.facts, usa, CHANGE).flag is MarkingFlag.NOT_COVERED


def test_current_marking_is_the_marking_after_the_last_change() -> None:
    x = held_by_japan()
    reclassify(x, level=KOR3)
    reclassify(x, T("2019-11-16T10:00:00+09:00"), level=KOR1)
    holding = x.world.holding("report-1", "JPN", CHANGE)
    assert holding is not None
    assert current_marking(x.facts, holding).flag is MarkingFlag.NOT_COVERED
    assert marking(x.facts, holding, CHANGE).level == JPN3


def test_a_narrowed_rel_to_stops_releases_but_not_held_copies() -> None:
    x = held_by_japan()
    reclassify(x, releasable_to=frozenset({"JPN"}))
    assert x.check_release("report-1", "KOR", "USA", CHANGE - US).allowed
    assert x.check_release("report-1", "KOR", "USA", CHANGE).codes == ("not-releasable-to",)
    assert x.read("jpn-analyst", "report-1", CHANGE).allowed  # R7
    assert japan_marking(x, CHANGE) == (JPN2, KOR2, None)  # REL TO alone does not re-mark
    item = classified(x.facts, x.world.item("report-1"), CHANGE)
    assert item.releasable_to == {"JPN"} and item.level == KOR2
    reclassify(x, T("2019-11-20T00:00:00+09:00"), releasable_to=frozenset({"JPN", "USA"}))
    assert x.check_release("report-1", "KOR", "USA", T("2019-11-20T00:00:00+09:00")).allowed


def test_only_the_originator_reclassifies() -> None:
    x = held_by_japan()
    change = Reclassification(CHANGE, "report-1", "JPN", JPN3)
    decision = decide_reclassification(x.facts, change)
    assert not decision.allowed and decision.codes == ("not-originator",)
    assert "Art. 6(g)" in decision.reasons[0].message


def test_a_level_outside_the_originators_scheme_is_bad_input() -> None:
    x = held_by_japan()
    with pytest.raises(UnknownReference, match="KOR has no level '極秘'"):
        decide_reclassification(x.facts, Reclassification(CHANGE, "report-1", "KOR", JPN2))
    with pytest.raises(InvalidInput, match="give a level, releasable_to or both"):
        decide_reclassification(x.facts, Reclassification(CHANGE, "report-1", "KOR"))
    with pytest.raises(InvalidInput, match="does not exist before"):
        decide_reclassification(
            x.facts, Reclassification(T("2019-01-01T00:00:00Z"), "report-1", "KOR", KOR3)
        )


# --- Art. 17: investigations and release holds --------------------------------------------------

REPORTED = T("2019-11-07T09:00:00+09:00")
DISCOVERED = T("2019-11-04T20:00:00+09:00")


def reported() -> Exchange:
    x = held_by_japan()
    x.world.add_compromise(Compromise(REPORTED, "report-1", "JPN", "laptop lost", DISCOVERED))
    return x


def step(x: Exchange, event: InvestigationStarted | InvestigationConcluded) -> None:
    decision = decide_investigation(x.facts, event)
    assert decision.allowed, decision.as_dict()
    x.world.add_investigation_event(event)


def test_an_investigation_moves_through_its_states() -> None:
    x = reported()
    assert investigation(x.facts, "report-1", "JPN", REPORTED - US) is None
    opened = investigation(x.facts, "report-1", "JPN", REPORTED)
    assert opened is not None and opened.state is InvestigationState.REPORTED
    assert opened.discovered_at == DISCOVERED and opened.reported_at == REPORTED
    assert opened.report_due == T("2019-11-05T20:00:00+09:00") and opened.reported_late
    assert opened.conclusion_due == T("2019-12-07T09:00:00+09:00")
    started = T("2019-11-08T09:00:00+09:00")
    step(x, InvestigationStarted(started, "report-1", "JPN"))
    now = investigation(x.facts, "report-1", "JPN", started)
    assert now is not None and now.state is InvestigationState.UNDER_INVESTIGATION
    done = T("2019-11-20T09:00:00+09:00")
    result = InvestigationResult.NOT_COMPROMISED
    step(x, InvestigationConcluded(done, "report-1", "JPN", result, "recovered"))
    end = investigation(x.facts, "report-1", "JPN", done)
    assert end is not None and end.state is InvestigationState.CONCLUDED
    assert end.result is result and not end.concluded_late(done)
    assert end.as_dict(done)["sent_to"] == "KOR"
    again = InvestigationConcluded(done, "report-1", "JPN", result, "again")
    assert decide_investigation(x.facts, again).codes == ("investigation-concluded",)


def test_a_report_on_the_day_of_discovery_is_on_time_at_its_due_instant() -> None:
    x = held_by_japan()
    due = T("2019-11-05T20:00:00+09:00")
    x.world.add_compromise(Compromise(due, "report-1", "JPN", "lost", DISCOVERED))
    found = investigation(x.facts, "report-1", "JPN", due)
    assert found is not None and not found.reported_late


def test_the_agreement_sets_its_own_deadlines() -> None:
    from accord.model.investigation import Deadlines
    from accord.model.time import Duration

    x = held_by_japan()
    gsomia = x.world.agreements["gsomia"]
    deadlines = Deadlines(Duration.parse("PT6H", "t"), Duration.parse("P7D", "t"))
    x.world.replace_agreement(replace(gsomia, deadlines=deadlines))
    x.world.add_compromise(Compromise(REPORTED, "report-1", "JPN", "lost", DISCOVERED))
    found = investigation(x.facts, "report-1", "JPN", REPORTED)
    assert found is not None
    assert found.report_due == T("2019-11-05T02:00:00+09:00")
    assert found.conclusion_due == T("2019-11-14T09:00:00+09:00")


def test_concluding_an_investigation_never_opened_is_bad_input() -> None:
    x = held_by_japan()
    event = InvestigationConcluded(
        REPORTED, "report-1", "JPN", InvestigationResult.UNDETERMINED, "-"
    )
    with pytest.raises(UnknownReference, match="no investigation was opened"):
        decide_investigation(x.facts, event)
    with pytest.raises(UnknownReference, match="no investigation was opened"):
        x.world.add_investigation_event(event)


def test_a_release_hold_denies_releases_from_the_originator_to_the_holder() -> None:
    x = korea_2019()
    hold = ReleaseHold(CHANGE, "KOR", "JPN")
    assert decide_hold(x.facts, hold).allowed
    x.world.add_hold_event(hold)
    assert x.check_release("report-1", "KOR", "JPN", CHANGE - US).allowed
    denied = x.check_release("report-1", "KOR", "JPN", CHANGE)
    assert denied.codes == ("release-held",) and "Art. 17" in denied.reasons[0].message
    assert denied.reasons[0].rule == "R9"
    via = x.check_release("report-1", "KOR", "JPN", CHANGE, via="USA")
    assert "release-held" in via.codes  # the holder is the recipient, by any route
    assert x.check_release("report-1", "KOR", "USA", CHANGE).allowed
    assert decide_hold(x.facts, ReleaseHold(CHANGE, "KOR", "JPN")).codes == (
        "release-hold-in-force",
    )
    lifted_at = T("2019-11-20T00:00:00+09:00")
    lift = ReleaseHoldLifted(lifted_at, "KOR", "JPN")
    assert decide_hold(x.facts, lift).allowed
    x.world.add_hold_event(lift)
    assert "release-held" in x.check_release("report-1", "KOR", "JPN", lifted_at - US).codes
    assert x.check_release("report-1", "KOR", "JPN", lifted_at).allowed
    assert decide_hold(x.facts, ReleaseHoldLifted(lifted_at, "KOR", "JPN")).codes == (
        "no-release-hold",
    )


# --- duties -----------------------------------------------------------------------------------


def kinds(x: Exchange, party: str, at: object) -> dict[DutyKind, list[tuple[object, ...]]]:
    found: dict[DutyKind, list[tuple[object, ...]]] = {}
    for duty in duties(x.facts, party, T(at)):
        found.setdefault(duty.kind, []).append((duty.due, duty.state, duty.item))
    return found


def test_the_termination_notice_deadline_for_the_next_term_end() -> None:
    x = korea_2019()
    owed = kinds(x, "JPN", "2019-12-01T00:00:00+09:00")[DutyKind.TERMINATION_NOTICE]
    assert owed == [(T("2020-08-25T00:00:00+09:00"), DutyState.PENDING, None)]
    # at the deadline itself a notice still counts for that term end; a microsecond later not
    deadline = T("2020-08-25T00:00:00+09:00")
    assert kinds(x, "JPN", deadline)[DutyKind.TERMINATION_NOTICE][0][0] == deadline
    assert kinds(x, "JPN", deadline + US)[DutyKind.TERMINATION_NOTICE][0][0] == T(
        "2021-08-25T00:00:00+09:00"
    )
    assert DutyKind.TERMINATION_NOTICE not in kinds(x, "USA", "2019-12-01T00:00:00+09:00")


def test_a_pending_notice_leaves_no_notice_deadline() -> None:
    from accord.model.agreement import TerminationNotice

    x = korea_2019()
    x.must(TerminationNotice(T("2019-08-23T15:25:00+09:00"), "gsomia", "KOR"))
    assert DutyKind.TERMINATION_NOTICE not in kinds(x, "KOR", "2019-09-01T00:00:00+09:00")


def test_reclassification_duties_are_done_at_their_instant() -> None:
    x = held_by_japan()
    reclassify(x, level=KOR3)
    assert DutyKind.APPLY_RECLASSIFICATION not in kinds(x, "JPN", CHANGE - US)
    assert kinds(x, "JPN", CHANGE)[DutyKind.APPLY_RECLASSIFICATION] == [
        (CHANGE, DutyState.DONE, "report-1")
    ]


def test_a_not_covered_copy_is_due_for_destruction_and_done_when_destroyed() -> None:
    x = held_by_japan()
    reclassify(x, level=KOR1)
    due = T("2019-12-15T10:00:00+09:00")  # P30D by default
    assert kinds(x, "JPN", CHANGE)[DutyKind.DESTROY] == [(due, DutyState.PENDING, "report-1")]
    assert kinds(x, "JPN", due)[DutyKind.DESTROY][0][1] is DutyState.PENDING
    assert kinds(x, "JPN", due + US)[DutyKind.DESTROY][0][1] is DutyState.LATE
    assert x.destroy("report-1", "JPN", due + US).allowed
    (duty,) = [d for d in duties(x.facts, "JPN", due + US) if d.kind is DutyKind.DESTROY]
    assert duty.state is DutyState.DONE and duty.late and duty.rule == "R10"


def test_a_copy_past_its_retain_until_is_due_for_return_or_destruction() -> None:
    x = korea_2019()
    item = x.world.item("report-1")
    until = T("2019-12-31T00:00:00+09:00")
    x.world.replace_item(replace(item, purpose="exercise", retain_until=until))
    assert x.release("report-1", "KOR", "JPN", RELEASED).allowed
    owed = kinds(x, "JPN", until - US)[DutyKind.DESTROY]
    assert owed == [(until, DutyState.PENDING, "report-1")]
    assert kinds(x, "JPN", until + US)[DutyKind.DESTROY][0][1] is DutyState.LATE
    assert DutyKind.DESTROY not in kinds(x, "KOR", until + US)  # not the originator's own copy


def test_investigation_duties_show_lateness() -> None:
    x = reported()
    owed = {d.kind: d for d in duties(x.facts, "JPN", T("2019-12-07T09:00:00+09:00"))}
    report = owed[DutyKind.REPORT_COMPROMISE]
    assert report.state is DutyState.DONE and report.late and report.article == "Art. 17"
    conclude = owed[DutyKind.CONCLUDE_INVESTIGATION]
    assert conclude.due == T("2019-12-07T09:00:00+09:00") and conclude.state is DutyState.PENDING
    later = {d.kind: d for d in duties(x.facts, "JPN", T("2019-12-07T09:00:00+09:00") + US)}
    assert later[DutyKind.CONCLUDE_INVESTIGATION].state is DutyState.LATE


def test_duties_are_a_pure_function_of_the_facts_at_the_instant() -> None:
    x = reported()
    at = T("2019-12-01T00:00:00+09:00")
    assert duties(x.facts, "JPN", at) == duties(x.facts, "JPN", at)
    with pytest.raises(InvalidInput):
        duties(x.facts, "JPN", at.replace(tzinfo=None))
    with pytest.raises(UnknownReference):
        duties(x.facts, "XXX", at)


def test_retain_until_before_created_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"retain_until .* is before created"):
        Item(
            "x-1",
            "KOR",
            KOR2,
            frozenset({"nk-missile"}),
            frozenset(),
            T("2019-11-01T00:00:00Z"),
            retain_until=T("2019-10-31T23:59:59.999999Z"),
        )


def test_reason_codes_cite_r9_and_r2() -> None:
    assert Code.RELEASE_HELD.value == "release-held"
    from accord.policy.reasons import RULE

    assert RULE[Code.RELEASE_HELD] == "R9" and RULE[Code.RECLASSIFICATION_RECORDED] == "R2"


def test_a_notice_period_longer_than_the_term_reaches_a_later_term_end() -> None:
    from tests.worlds import gsomia, tisa

    x = korea_2019(agreements=[gsomia(term="P6M", notice_period="P200D"), tisa()])
    (duty,) = [
        d
        for d in duties(x.facts, "KOR", T("2019-12-01T00:00:00+09:00"))
        if d.kind is DutyKind.TERMINATION_NOTICE
    ]
    # 2020-05-23 is out of reach (its deadline was 2019-11-05); 2020-11-23 is the next
    assert duty.due == T("2020-05-07T00:00:00+09:00") and "2020-11-23" in duty.message
