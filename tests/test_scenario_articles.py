"""Matters, conditional notes and mutual amendments in scenario files and on the command line:
typed parsing, every bad input refused naming the file, line, field and value, and nothing
written to a store by a refused command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.errors import ScenarioInvalid
from accord.model.agreement import AmendmentAccepted, AmendmentProposed, NoticeSuspended
from accord.model.matters import ConsequenceKind, MatterState
from accord.scenario import parse_scenario
from tests.test_cli import accord, new_db, rows

BASE = """\
topics: [nk-missile]
parties:
  - {code: KOR, name: Republic of Korea, timezone: Asia/Seoul, levels: [군사III급비밀, 군사II급비밀, 군사I급비밀]}
  - {code: JPN, name: Japan, timezone: Asia/Tokyo, levels: [秘, 極秘, 機密]}
  - {code: USA, name: United States, timezone: America/New_York, levels: [CONFIDENTIAL, SECRET]}
agreements:
  - id: gsomia
    parties: [KOR, JPN]
    in_force_from: 2016-11-23T00:00:00+09:00
    term: P1Y
    notice_period: P90D
    timezone: Asia/Seoul
    topics: all
    equivalence:
      - {KOR: 군사II급비밀, JPN: 極秘}
matters:
  - {id: japan-export-controls, states: [measures-in-force, dialogue-ongoing, dialogue-failed], initial: measures-in-force}
events:
  - {at: 2019-08-23T15:25:00+09:00, type: termination_notice, agreement: gsomia, by: KOR}
"""
LINE = BASE.count("\n") + 1  # the line of the first event appended to BASE

SUSPENSION = (
    "  - {at: 2019-11-22T18:00:00+09:00, type: notice_suspended, agreement: gsomia, by: KOR,"
    " conditions: [{matter: %s, holds_while: [%s], on_failure: %s}]}\n"
)


def parse(extra: str) -> object:
    return parse_scenario(BASE + extra, "world.yaml")


def invalid(extra: str) -> ScenarioInvalid:
    with pytest.raises(ScenarioInvalid) as caught:
        parse(extra)
    return caught.value


def assert_names(error: ScenarioInvalid, line: int, *values: str) -> None:
    assert error.file == "world.yaml"
    assert error.line == line, str(error)
    for value in values:
        assert value in str(error), (value, str(error))


class TestParsing:
    def test_a_conditional_suspension_and_a_matter_state(self) -> None:
        scenario = parse(
            "  - {at: 2019-11-22T18:00:00+09:00, type: matter_state, matter: japan-export-controls,"
            " state: dialogue-ongoing, by: KOR}\n"
            + SUSPENSION
            % ("japan-export-controls", "dialogue-ongoing", "{end_after: P30D}")
        )
        fact, note = (e.act for e in scenario.events[1:])  # type: ignore[attr-defined]
        assert isinstance(fact, MatterState) and fact.state == "dialogue-ongoing"
        assert isinstance(note, NoticeSuspended)
        (condition,) = note.conditions
        assert condition.holds_while == frozenset({"dialogue-ongoing"})
        assert condition.on_failure.kind is ConsequenceKind.END_AFTER
        assert condition.on_failure.period is not None
        assert condition.on_failure.period.text == "P30D"
        assert [m.id for m in scenario.matters] == ["japan-export-controls"]  # type: ignore[attr-defined]

    @pytest.mark.parametrize("text", ["end_at_term_end", "none", "{end_after: P0D}"])
    def test_every_consequence_parses(self, text: str) -> None:
        scenario = parse(SUSPENSION % ("japan-export-controls", "dialogue-ongoing", text))
        note = scenario.events[-1].act  # type: ignore[attr-defined]
        assert note.conditions[0].on_failure.text.startswith(text.strip("{}").split(":")[0])

    def test_mutual_amendment_events(self) -> None:
        scenario = parse(
            "  - {at: 2019-09-01T00:00:00+09:00, type: amendment_proposed, agreement: gsomia,"
            " by: KOR, id: am-1, notice_period: P30D}\n"
            "  - {at: 2019-09-02T00:00:00+09:00, type: amendment_accepted, agreement: gsomia,"
            " by: JPN, amendment: am-1, effective_at: 2019-09-03T00:00:00+09:00}\n"
        )
        proposed, accepted = (e.act for e in scenario.events[1:])  # type: ignore[attr-defined]
        assert isinstance(proposed, AmendmentProposed) and set(proposed.changes) == {
            "notice_period"
        }
        assert isinstance(accepted, AmendmentAccepted) and accepted.amendment == "am-1"

    def test_a_condition_check(self) -> None:
        scenario = parse(
            "expect:\n  - {at: 2019-12-01T00:00:00+09:00, check: condition, agreement: gsomia,"
            " matter: japan-export-controls, holds: false}\n"
        )
        (check,) = scenario.expectations  # type: ignore[attr-defined]
        assert (check.check, check.holds, check.matter) == (
            "condition",
            False,
            "japan-export-controls",
        )


class TestBadInput:
    def test_a_condition_on_an_unknown_matter(self) -> None:
        error = invalid(SUSPENSION % ("wto-ds590", "dialogue-ongoing", "none"))
        assert_names(error, LINE, "conditions[0].matter", "unknown matter", "'wto-ds590'")

    def test_a_condition_state_the_matter_does_not_define(self) -> None:
        error = invalid(SUSPENSION % ("japan-export-controls", "talks-stalled", "none"))
        assert_names(error, LINE, "holds_while[0]", "has no state", "'talks-stalled'")

    def test_a_matter_state_the_matter_does_not_define(self) -> None:
        error = invalid(
            "  - {at: 2019-12-16T00:00:00+09:00, type: matter_state, matter: japan-export-controls,"
            " state: talks-stalled, by: KOR}\n"
        )
        assert_names(error, LINE, "events[1].state", "has no state", "'talks-stalled'")

    def test_an_initial_state_the_matter_does_not_define(self) -> None:
        error = invalid_text(
            BASE.replace("initial: measures-in-force", "initial: in-force"), "matters[0]"
        )
        assert "'in-force'" in str(error)

    def test_an_acceptance_by_a_party_not_party_to_the_agreement(self) -> None:
        error = invalid(
            "  - {at: 2019-09-01T00:00:00+09:00, type: amendment_proposed, agreement: gsomia,"
            " by: KOR, id: am-1, notice_period: P30D}\n"
            "  - {at: 2019-09-02T00:00:00+09:00, type: amendment_accepted, agreement: gsomia,"
            " by: USA, amendment: am-1, effective_at: 2019-09-03T00:00:00+09:00}\n"
        )
        assert_names(error, LINE + 1, "events[2].by", "'USA'", "not a party to gsomia")

    def test_an_acceptance_of_a_withdrawn_amendment(self) -> None:
        error = invalid(
            "  - {at: 2019-09-01T00:00:00+09:00, type: amendment_proposed, agreement: gsomia,"
            " by: KOR, id: am-1, notice_period: P30D}\n"
            "  - {at: 2019-09-02T00:00:00+09:00, type: amendment_withdrawn, agreement: gsomia,"
            " by: KOR, amendment: am-1}\n"
            "  - {at: 2019-09-03T00:00:00+09:00, type: amendment_accepted, agreement: gsomia,"
            " by: JPN, amendment: am-1, effective_at: 2019-09-03T00:00:00+09:00}\n"
        )
        assert_names(error, LINE + 2, "events[3].amendment", "'am-1'", "was withdrawn by KOR")

    def test_an_acceptance_of_an_amendment_never_proposed(self) -> None:
        error = invalid(
            "  - {at: 2019-09-02T00:00:00+09:00, type: amendment_accepted, agreement: gsomia,"
            " by: JPN, amendment: am-7, effective_at: 2019-09-03T00:00:00+09:00}\n"
        )
        assert_names(error, LINE, "events[1].amendment", "'am-7'", "no amendment")

    def test_a_withdrawal_by_anyone_but_the_proposer(self) -> None:
        error = invalid(
            "  - {at: 2019-09-01T00:00:00+09:00, type: amendment_proposed, agreement: gsomia,"
            " by: KOR, id: am-1, notice_period: P30D}\n"
            "  - {at: 2019-09-02T00:00:00+09:00, type: amendment_withdrawn, agreement: gsomia,"
            " by: JPN, amendment: am-1}\n"
        )
        assert_names(error, LINE + 1, "events[2].by", "'JPN'", "only its proposer KOR")

    def test_an_end_after_that_is_not_a_duration(self) -> None:
        error = invalid(
            SUSPENSION % ("japan-export-controls", "dialogue-ongoing", "{end_after: soon}")
        )
        assert_names(error, LINE, "on_failure", "'soon'")


def invalid_text(text: str, where: str) -> ScenarioInvalid:
    with pytest.raises(ScenarioInvalid) as caught:
        parse_scenario(text, "world.yaml")
    assert where in str(caught.value)
    return caught.value


# --- the command line ------------------------------------------------------------------------------


def test_conditional_note_on_the_command_line(tmp_path: Path) -> None:
    db = new_db(tmp_path / "x.db")
    world = tmp_path / "world.yaml"
    world.write_text(BASE, encoding="utf-8")
    assert accord("load", str(world), db=db).returncode == 0
    recorded = accord(
        "matter", "state", "japan-export-controls", "dialogue-ongoing", "--by", "KOR",
        "--at", "2019-11-22T18:00:00+09:00", db=db,
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    suspended = accord(
        "agreement", "suspend", "gsomia", "--by", "KOR",
        "--condition", "japan-export-controls=dialogue-ongoing",
        "--on-failure", "end_after=P0D", "--at", "2019-11-22T18:00:00+09:00", db=db,
    )  # fmt: skip
    assert suspended.returncode == 0, suspended.stdout + suspended.stderr
    status = accord(
        "agreement", "status", "gsomia", "--at", "2019-12-01T00:00:00+09:00", "--json", db=db
    )
    data = json.loads(status.stdout)
    (condition,) = data["notice"]["conditions"]
    assert condition["state"] == "dialogue-ongoing" and condition["holds"] is True
    assert "ends at the failure instant" in condition["if_it_fails"]
    before = rows(db)
    supposed = accord(
        "impact", "gsomia", "--if", "japan-export-controls=dialogue-failed",
        "--at", "2019-12-16T00:00:00+09:00", "--json", db=db,
    )  # fmt: skip
    assert supposed.returncode == 0, supposed.stderr
    answer = json.loads(supposed.stdout)
    assert answer["ends_at"] == "2019-12-15T15:00:00Z"
    assert answer["supposed_state"]["status"] == "terminated"
    assert answer["actual_state"]["status"] == "in_force"
    listed = json.loads(
        accord("matter", "list", "--json", "--at", "2019-12-01T00:00:00Z", db=db).stdout
    )
    assert listed[0]["state"] == "dialogue-ongoing" and listed[0]["recorded_by"] == "KOR"
    after = rows(db)
    assert {k: v for k, v in after.items() if k != "audit_entries"} == {
        k: v for k, v in before.items() if k != "audit_entries"
    }


@pytest.mark.parametrize(
    ("args", "value"),
    [
        (("matter", "state", "japan-export-controls", "talks-stalled", "--by", "KOR"), "'talks-stalled'"),
        (("matter", "state", "wto-ds590", "panel", "--by", "KOR"), "'wto-ds590'"),
        (
            ("agreement", "suspend", "gsomia", "--by", "KOR", "--condition", "wto-ds590=x",
             "--on-failure", "none"),
            "'wto-ds590'",
        ),
        (
            ("agreement", "suspend", "gsomia", "--by", "KOR", "--condition",
             "japan-export-controls=talks-stalled", "--on-failure", "none"),
            "'talks-stalled'",
        ),
        (("impact", "gsomia", "--if", "japan-export-controls=over"), "'over'"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, args: tuple[str, ...], value: str
) -> None:
    db = new_db(tmp_path / "x.db")
    world = tmp_path / "world.yaml"
    world.write_text(BASE, encoding="utf-8")
    assert accord("load", str(world), db=db).returncode == 0
    before = rows(db)
    result = accord(*args, "--at", "2019-11-22T18:00:00+09:00", db=db)
    assert result.returncode == 2, result.stdout + result.stderr
    assert value in result.stderr
    assert rows(db) == before


def test_mutual_amendment_on_the_command_line(tmp_path: Path) -> None:
    db = new_db(tmp_path / "x.db")
    world = tmp_path / "world.yaml"
    world.write_text(BASE, encoding="utf-8")
    assert accord("load", str(world), db=db).returncode == 0
    proposed = accord(
        "agreement", "propose", "gsomia", "--by", "KOR", "--id", "am-1",
        "--notice-period", "P180D", "--at", "2019-09-01T00:00:00+09:00", db=db,
    )  # fmt: skip
    assert proposed.returncode == 0, proposed.stdout + proposed.stderr
    by_usa = accord(
        "agreement", "accept", "gsomia", "am-1", "--by", "USA",
        "--effective-at", "2019-09-02T00:00:00+09:00", "--at", "2019-09-02T00:00:00+09:00",
        db=db,
    )  # fmt: skip
    assert by_usa.returncode == 1 and "not-a-party" in by_usa.stdout
    accepted = accord(
        "agreement", "accept", "gsomia", "am-1", "--by", "JPN",
        "--effective-at", "2019-09-02T00:00:00+09:00", "--at", "2019-09-02T00:00:00+09:00",
        db=db,
    )  # fmt: skip
    assert accepted.returncode == 0, accepted.stdout
    withdrawn = accord(
        "agreement", "withdraw-amendment", "gsomia", "am-1", "--by", "KOR",
        "--at", "2019-09-03T00:00:00+09:00", db=db,
    )  # fmt: skip
    assert withdrawn.returncode == 1 and "amendment-agreed" in withdrawn.stdout
    status = json.loads(
        accord(
            "agreement", "status", "gsomia", "--at", "2019-09-03T00:00:00+09:00", "--json", db=db
        ).stdout
    )
    # the notice delivered on 2019-08-23 keeps its 90 days
    assert status["expires_at"] == "2019-11-22T15:00:00Z"
