"""R15 in ``accord duties``: each condition of an outstanding note whose matter changed is a duty
of every party to the agreement, from the change's instant on (and not one microsecond before);
its due instant is the end a failure sets, else the change (informational)."""

from __future__ import annotations

from accord.model.duties import Duty, DutyKind, DutyState
from accord.policy.duties import duties
from tests.test_conditions import FAILURE, conditional, record_state
from tests.worlds import US, Exchange, T

CHANGE = T("2019-12-02T00:00:00+09:00")


def condition_duties(ex: Exchange, party: str, at: object) -> list[Duty]:
    owed = duties(ex.facts, party, at)  # type: ignore[arg-type]
    return [d for d in owed if d.kind is DutyKind.CHANGED_CONDITION]


def test_no_duty_while_the_matter_is_as_noted() -> None:
    ex = conditional()
    assert condition_duties(ex, "KOR", T("2019-12-01T00:00:00+09:00")) == []
    assert condition_duties(ex, "JPN", T("2019-12-01T00:00:00+09:00")) == []


def test_a_change_that_still_holds_is_informational_from_its_instant() -> None:
    ex = conditional("end_after P30D")
    record_state(ex, CHANGE, "measures-withdrawn", by="JPN")
    for party in ("KOR", "JPN"):
        assert condition_duties(ex, party, CHANGE - US) == []
        (duty,) = condition_duties(ex, party, CHANGE)
        assert (duty.rule, duty.article, duty.agreement) == ("R15", "Art. 21(3)", "gsomia")
        assert (duty.due, duty.state, duty.informational) == (CHANGE, DutyState.PENDING, True)
        assert "measures-withdrawn" in duty.message and "still holds" in duty.message
    assert condition_duties(ex, "USA", CHANGE) == []


def test_a_failure_that_ends_the_agreement_is_due_at_that_end() -> None:
    ex = conditional("end_after P30D")
    record_state(ex, FAILURE, "dialogue-failed")
    end = T("2020-01-15T00:00:00+09:00")
    assert condition_duties(ex, "JPN", FAILURE - US) == []
    (duty,) = condition_duties(ex, "JPN", FAILURE)
    assert (duty.due, duty.state, duty.informational, duty.late) == (
        end,
        DutyState.PENDING,
        False,
        False,
    )
    assert "ends at 2020-01-15T00:00:00+09:00" in duty.message
    (last,) = condition_duties(ex, "KOR", end - US)
    assert last.state is DutyState.PENDING
    assert condition_duties(ex, "KOR", end) == []  # the agreement has ended: nothing to act on


def test_a_failure_without_consequence_leaves_the_lift_to_the_notifying_party() -> None:
    ex = conditional("none")
    record_state(ex, FAILURE, "dialogue-failed")
    (duty,) = condition_duties(ex, "KOR", FAILURE)
    assert (duty.due, duty.informational) == (FAILURE, True)
    assert "KOR may lift it at any time" in duty.message


def test_a_failure_at_once_ends_the_agreement_at_the_failure_instant() -> None:
    """``end_after P0D``: one microsecond before the failure nothing changed; at it the agreement
    has ended, so no condition is left to act on."""
    ex = conditional()
    record_state(ex, FAILURE, "dialogue-failed")
    assert condition_duties(ex, "KOR", FAILURE - US) == []
    assert condition_duties(ex, "KOR", FAILURE) == []
    assert ex.status("gsomia", FAILURE - US) == "in_force"
    assert ex.status("gsomia", FAILURE) == "terminated"


def test_the_duty_is_listed_among_the_others_by_due_instant() -> None:
    ex = conditional("end_after P30D")
    record_state(ex, CHANGE, "measures-withdrawn", by="JPN")
    owed = duties(ex.facts, "KOR", CHANGE)
    assert [d.due for d in owed] == sorted(d.due for d in owed)
    assert {d.kind for d in owed} == {DutyKind.CHANGED_CONDITION, DutyKind.TERMINATION_NOTICE}
    assert owed[0].as_dict()["kind"] == "changed-condition"
