"""The scenario codec: YAML to typed model objects, the shipped schema, and every bad input."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from accord.errors import ScenarioInvalid, UnknownReference
from accord.model.acts import Compromise, Consent, Destruction, Release
from accord.model.agreement import (
    Amendment,
    EquivalenceTable,
    NoticeSuspended,
    NoticeWithdrawn,
    Renewal,
    SuspensionLifted,
    TerminationNotice,
    TopicScope,
)
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.model.time import Duration
from accord.policy.reasons import Code
from accord.scenario import (
    Scenario,
    builtin_scenario_path,
    load_scenario,
    parse_scenario,
    scenario_schema,
)
from accord.scenario.source import read_yaml

SCENARIOS = Path(__file__).parent / "scenarios"
INVALID = SCENARIOS / "invalid"
SCENARIO_PACKAGE = Path(__file__).parent.parent / "src" / "accord" / "scenario"

KOR = "{code: KOR, name: Republic of Korea, timezone: Asia/Seoul, levels: [군사III급비밀, 군사II급비밀, 군사I급비밀]}"
JPN = "{code: JPN, name: Japan, timezone: Asia/Tokyo, levels: [秘, 極秘, 機密]}"
USA = "{code: USA, name: United States, timezone: America/New_York, levels: [CONFIDENTIAL, SECRET, TOP SECRET]}"

BASE = f"""\
topics: [nk-missile, nk-nuclear]
parties:
  - {KOR}
  - {JPN}
  - {USA}
agreements:
  - id: rok-japan-gsomia
    parties: [KOR, JPN]
    in_force_from: 2016-11-23T00:00:00+09:00
    term: P1Y
    notice_period: P90D
    timezone: Asia/Seoul
    topics: all
    equivalence:
      - {{KOR: 군사II급비밀, JPN: 極秘}}
      - {{KOR: 군사III급비밀, JPN: 秘}}
  - id: tisa
    parties: [USA, KOR, JPN]
    hub: USA
    in_force_from: 2014-12-29T00:00:00+09:00
    renewal: none
    timezone: Asia/Seoul
    topics: [nk-missile, nk-nuclear]
    equivalence:
      - {{USA: SECRET, KOR: 군사II급비밀, JPN: 極秘}}
users:
  - {{id: jpn-analyst, party: JPN, clearance: 極秘, need_to_know: [nk-missile]}}
items:
  - {{id: report-1, originator: KOR, level: 군사II급비밀, topics: [nk-missile], releasable_to: [JPN, USA], created: 2019-10-31T17:00:00+09:00}}
"""
BASE_LINES = BASE.count("\n")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def parse(extra: str = "", base: str = BASE) -> Scenario:
    return parse_scenario(base + extra, "world.yaml")


def invalid(text: str, file: str = "world.yaml") -> ScenarioInvalid:
    with pytest.raises(ScenarioInvalid) as caught:
        parse_scenario(text, file)
    return caught.value


def assert_names(error: ScenarioInvalid, file: str, line: int, *values: str) -> None:
    """The message names the file, the line and the offending value(s)."""
    assert error.file == file
    assert error.line == line
    assert str(error).startswith(f"{file}:{line}: ")
    for value in values:
        assert value in str(error), (value, str(error))


# --- the shipped scenarios ------------------------------------------------------------------------


def test_builtin_scenario_parses() -> None:
    scenario = load_scenario(builtin_scenario_path())
    assert scenario.name == "gsomia-2019"
    assert {a.id for a in scenario.agreements} >= {"rok-japan-gsomia", "tisa"}
    assert [p.code for p in scenario.parties] == ["KOR", "JPN", "USA"]
    assert scenario.events and scenario.expectations
    instants = [event.at for event in scenario.events]
    assert instants == sorted(instants)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_acceptance_scenarios_parse(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.file == str(path)
    assert scenario.expectations


def test_acceptance_scenarios_exist() -> None:
    names = {p.stem for p in SCENARIOS.glob("*.yaml")}
    assert {
        "gsomia-2019",
        "gsomia-2019-no-suspension",
        "late-notice",
        "dst-term",
        "tisa-hub",
    } <= names


def test_builtin_path_refuses_unknown_names() -> None:
    assert builtin_scenario_path("gsomia-2019").is_file()
    for name in ("nope", "../codec", ""):
        with pytest.raises(UnknownReference):
            builtin_scenario_path(name)


# --- typed output ---------------------------------------------------------------------------------


def test_art4_table_maps_levels() -> None:
    scenario = load_scenario(builtin_scenario_path())
    gsomia = next(a for a in scenario.agreements if a.id == "rok-japan-gsomia")
    table = gsomia.terms.equivalence
    assert table.equivalent("KOR", "군사II급비밀", "JPN") == "極秘"
    assert table.equivalent("KOR", "군사III급비밀", "JPN") == "秘"
    assert table.equivalent("JPN", "極秘", "KOR") == "군사II급비밀"
    assert table.equivalent("KOR", "군사I급비밀", "JPN") is None
    assert gsomia.terms.term == Duration.parse("P1Y", "t")
    assert gsomia.terms.notice_period == Duration.parse("P90D", "t")
    assert gsomia.terms.renewal is Renewal.AUTOMATIC
    assert gsomia.terms.topics == TopicScope(None)
    assert gsomia.timezone == "Asia/Seoul"
    tisa = next(a for a in scenario.agreements if a.id == "tisa")
    assert tisa.hub == "USA"
    assert tisa.terms.topics == TopicScope(frozenset({"nk-missile", "nk-nuclear"}))
    assert tisa.terms.renewal is Renewal.NONE
    assert tisa.terms.term is None


def test_instants_are_utc() -> None:
    scenario = parse(
        "expect:\n"
        "  - {at: 2019-11-23T00:00:00+09:00, check: agreement, agreement: rok-japan-gsomia,"
        " status: in_force, expires_at: 2019-11-22T15:00:00Z, term_end: 2020-11-23T00:00:00+09:00}\n"
    )
    gsomia = scenario.agreements[0]
    assert gsomia.in_force_from == utc(2016, 11, 22, 15)
    assert gsomia.in_force_from.utcoffset() == timedelta(0)
    expectation = scenario.expectations[0]
    assert expectation.at == utc(2019, 11, 22, 15)
    assert expectation.at.tzinfo is UTC
    assert expectation.expires_at == utc(2019, 11, 22, 15)
    assert expectation.term_end == utc(2020, 11, 22, 15)
    assert scenario.items[0].created == utc(2019, 10, 31, 8)


def test_unquoted_timestamps_keep_their_offsets() -> None:
    source = read_yaml(
        "a: 2019-11-23T00:00:00+09:00\nb: 2019-11-22 23:59:59.999999-05:00\nc: 2019-11-23\n",
        "f.yaml",
    )
    assert source.data == {
        "a": "2019-11-23T00:00:00+09:00",
        "b": "2019-11-22 23:59:59.999999-05:00",
        "c": "2019-11-23",
    }
    scenario = parse(
        "expect:\n"
        "  - {at: 2019-11-22T23:59:59.999999+09:00, check: agreement, agreement: tisa, status: in_force}\n"
        "  - {at: 2019-11-22T10:00:00-05:00, check: agreement, agreement: tisa, status: in_force}\n"
    )
    assert scenario.expectations[0].at == utc(2019, 11, 22, 14, 59, 59, 999999)
    assert scenario.expectations[1].at == utc(2019, 11, 22, 15)


def test_yaml_1_2_scalars_only() -> None:
    """``NO`` (Norway) is a code, not False; ``1:20`` and ``010`` are text, not numbers."""
    source = read_yaml("a: NO\nb: off\nc: true\nd: 1:20\ne: 010\nf: 10\n", "f.yaml")
    assert source.data == {"a": "NO", "b": "off", "c": True, "d": "1:20", "e": "010", "f": 10}


def test_definitions_are_typed_with_defaults() -> None:
    scenario = parse(
        "  - {id: note, originator: JPN, level: 秘, topics: [nk-nuclear], created: 2019-11-01T00:00:00Z}\n"
    )
    assert scenario.name == "world"
    assert scenario.description == ""
    assert scenario.topics == ("nk-missile", "nk-nuclear")
    assert scenario.parties[0].levels == ("군사III급비밀", "군사II급비밀", "군사I급비밀")
    user = scenario.users[0]
    assert (user.id, user.party, user.clearance) == ("jpn-analyst", "JPN", "極秘")
    assert user.need_to_know == frozenset({"nk-missile"})
    report, note = scenario.items
    assert report.releasable_to == frozenset({"JPN", "USA"})
    assert note.releasable_to == frozenset()
    assert (note.title, note.content, note.stix) == ("", "", None)
    assert scenario.line_of["party:KOR"] == 3
    assert scenario.line_of["agreement:rok-japan-gsomia"] == 7
    assert scenario.line_of["user:jpn-analyst"] == 27
    assert scenario.line_of["item:note"] == BASE_LINES + 1


def test_renewal_defaults_to_automatic_only_with_a_term() -> None:
    scenario = parse()
    assert scenario.agreements[0].terms.renewal is Renewal.AUTOMATIC
    indefinite = parse(base=BASE.replace("    renewal: none\n", ""))
    assert indefinite.agreements[1].terms.renewal is Renewal.NONE


def test_item_stix_is_kept() -> None:
    scenario = parse(
        "  - id: ind-1\n"
        "    originator: USA\n"
        "    level: SECRET\n"
        "    topics: [nk-missile]\n"
        "    created: 2019-11-01T00:00:00Z\n"
        "    stix: {type: indicator, spec_version: '2.1', x_score: 7, labels: [a, b]}\n"
    )
    assert scenario.items[1].stix == {
        "type": "indicator",
        "spec_version": "2.1",
        "x_score": 7,
        "labels": ["a", "b"],
    }


EVENTS = """\
events:
  - {at: 2019-11-22T18:00:00+09:00, type: notice_suspended, agreement: rok-japan-gsomia, by: KOR}
  - {at: 2019-08-23T15:25:00+09:00, type: termination_notice, agreement: rok-japan-gsomia, by: KOR}
  - {at: 2020-06-01T09:00:00+09:00, type: suspension_lifted, agreement: rok-japan-gsomia, by: KOR, effective_at: 2020-06-02T00:00:00+09:00}
  - {at: 2020-06-01T09:00:00+09:00, type: notice_withdrawn, agreement: rok-japan-gsomia, by: KOR, expect: deny, reason: agreement-not-in-force}
  - {at: 2019-11-01T09:00:00+09:00, type: release, item: report-1, from: KOR, to: JPN}
  - {at: 2019-11-01T10:00:00+09:00, type: release, item: report-1, from: KOR, to: JPN, via: USA, expect: deny}
  - {at: 2019-11-01T08:00:00+09:00, type: consent, item: report-1, by: KOR, holder: USA, to: [JPN]}
  - {at: 2019-11-01T08:30:00+09:00, type: consent_refused, item: report-1, by: KOR, holder: JPN, to: [USA]}
  - {at: 2019-12-01T00:00:00+09:00, type: destroy, item: report-1, party: JPN}
  - {at: 2019-11-30T00:00:00+09:00, type: compromise, item: report-1, party: JPN, description: Lost in transit.}
  - type: amendment
    at: 2018-01-01T00:00:00+09:00
    agreement: rok-japan-gsomia
    equivalence:
      - {KOR: 군사I급비밀, JPN: 機密}
      - {KOR: 군사II급비밀, JPN: 極秘}
    topics: [nk-missile]
    term: null
    notice_period: P30D
    parties: [KOR, JPN]
    renewal: none
"""


def test_events_are_typed_and_sorted_stably() -> None:
    scenario = parse(EVENTS)
    kinds = [type(event.act) for event in scenario.events]
    assert kinds == [
        Amendment,
        TerminationNotice,
        Consent,
        Consent,
        Release,
        Release,
        NoticeSuspended,
        Compromise,
        Destruction,
        SuspensionLifted,
        NoticeWithdrawn,
    ]
    by_kind = {type(event.act): event for event in scenario.events}
    lifted = by_kind[SuspensionLifted].act
    assert isinstance(lifted, SuspensionLifted)
    assert lifted.effective_at == utc(2020, 6, 1, 15)
    # equal instants keep file order: suspension_lifted (line 4 of EVENTS) before notice_withdrawn
    assert [e.line for e in scenario.events[-2:]] == [BASE_LINES + 4, BASE_LINES + 5]
    withdrawn = scenario.events[-1]
    assert (withdrawn.expect, withdrawn.reason) == ("deny", "agreement-not-in-force")
    releases = [e for e in scenario.events if isinstance(e.act, Release)]
    assert releases[0].act == Release(utc(2019, 11, 1), "report-1", "KOR", "JPN", None)
    assert releases[1].act == Release(utc(2019, 11, 1, 1), "report-1", "KOR", "JPN", "USA")
    assert (releases[0].expect, releases[0].reason) == ("allow", None)
    assert (releases[1].expect, releases[1].reason) == ("deny", None)
    grant, refusal = (e.act for e in scenario.events if isinstance(e.act, Consent))
    assert grant == Consent(utc(2019, 10, 31, 23), "report-1", "KOR", "USA", frozenset({"JPN"}))
    assert refusal.granted is False and refusal.holder == "JPN"


def test_amendment_changes_are_model_values() -> None:
    amendment = parse(EVENTS).events[0].act
    assert isinstance(amendment, Amendment)
    changes = amendment.changes
    assert set(changes) == {"equivalence", "topics", "term", "notice_period", "parties", "renewal"}
    table = changes["equivalence"]
    assert isinstance(table, EquivalenceTable)
    assert table.equivalent("KOR", "군사I급비밀", "JPN") == "機密"
    assert changes["topics"] == TopicScope(frozenset({"nk-missile"}))
    assert changes["term"] is None
    assert changes["notice_period"] == Duration.parse("P30D", "t")
    assert changes["parties"] == frozenset({"KOR", "JPN"})
    assert changes["renewal"] is Renewal.NONE


def test_expectations_are_typed_in_file_order() -> None:
    scenario = parse(
        "expect:\n"
        "  - {at: 2019-11-23T00:00:01+09:00, check: release, item: report-1, from: KOR, to: JPN, via: USA, decision: deny, reason: no-originator-consent}\n"
        "  - {at: 2019-11-02T00:00:00+09:00, check: read, item: report-1, user: jpn-analyst, decision: allow}\n"
        "  - {at: 2019-11-23T00:00:00+09:00, check: agreement, agreement: rok-japan-gsomia, status: terminated}\n"
    )
    release, read, agreement = scenario.expectations
    assert release.request == ReleaseRequest("report-1", "KOR", "JPN", "USA")
    assert (release.decision, release.reason, release.status) == (
        "deny",
        "no-originator-consent",
        None,
    )
    assert release.line == BASE_LINES + 2
    assert read.request == ReadRequest("jpn-analyst", "report-1")
    assert (read.check, read.decision, read.reason) == ("read", "allow", None)
    assert agreement.request == "rok-japan-gsomia"
    assert (agreement.status, agreement.decision) == ("terminated", None)
    assert (agreement.expires_at, agreement.term_end) == (None, None)


def test_checks_before_an_item_exists_are_not_errors() -> None:
    scenario = parse(
        "expect:\n"
        "  - {at: 2019-01-01T00:00:00Z, check: release, item: report-1, from: KOR, to: JPN, decision: deny, reason: not-held}\n"
        "  - {at: 2019-01-01T00:00:00Z, check: read, item: report-1, user: jpn-analyst, decision: deny}\n"
    )
    assert len(scenario.expectations) == 2


# --- bad input: each names the file, the line and the offending value -------------------------


INVALID_FIXTURES = {
    "naive-datetime.yaml": (20, ["events[0].at", "'2019-11-01T09:00:00'", "no UTC offset"]),
    "unknown-party.yaml": (8, ["agreements[0].parties[1]", "unknown party", "'JAPAN'"]),
    "unknown-level.yaml": (16, ["JPN has no level", "'部外秘'"]),
    "unknown-topic.yaml": (18, ["items[0].topics[0]", "unknown topic", "'nk-nuclear'"]),
    "equivalence-not-order-preserving.yaml": (
        15,
        ["agreements[0].equivalence", "not order-preserving", "'機密'"],
    ),
    "duplicate-item.yaml": (19, ["duplicate item id", "'report-1'", "line 18"]),
    "release-before-item-exists.yaml": (
        20,
        ["before the item exists", "'2019-10-31T16:59:59+09:00'", "2019-10-31T17:00:00+09:00"],
    ),
    "malformed-yaml.yaml": (20, ["malformed YAML", "expected ',' or ']'"]),
    "unknown-field.yaml": (12, ["agreements[0]", "unknown field", "'notice_periode'"]),
    "bad-renewal.yaml": (12, ["agreements[0].renewal", "'yearly'", "automatic, none"]),
    "missing-effective-at.yaml": (22, ["events[2] (suspension_lifted)", "'effective_at'"]),
}


@pytest.mark.parametrize("name", sorted(INVALID_FIXTURES))
def test_invalid_fixture_is_refused_with_file_line_and_value(name: str) -> None:
    line, values = INVALID_FIXTURES[name]
    path = INVALID / name
    with pytest.raises(ScenarioInvalid) as caught:
        load_scenario(path)
    assert_names(caught.value, str(path), line, *values)


def test_every_invalid_fixture_is_listed() -> None:
    assert {p.name for p in INVALID.glob("*.yaml")} == set(INVALID_FIXTURES)


def test_naive_datetime() -> None:
    error = invalid(BASE.replace("created: 2019-10-31T17:00:00+09:00", "created: 2019-10-31 17:00"))
    assert_names(error, "world.yaml", BASE_LINES, "items[0].created", "'2019-10-31 17:00'")
    date_only = invalid(BASE.replace("2016-11-23T00:00:00+09:00", "2016-11-23"))
    assert_names(date_only, "world.yaml", 9, "agreements[0].in_force_from", "'2016-11-23'")


def test_naive_expectation_and_effective_at() -> None:
    error = invalid(
        BASE + "expect:\n  - {at: 2019-11-23T00:00:00, check: agreement,"
        " agreement: tisa, status: in_force}\n"
    )
    assert_names(error, "world.yaml", BASE_LINES + 2, "expect[0].at", "'2019-11-23T00:00:00'")
    lifted = invalid(
        BASE + "events:\n  - {at: 2020-01-01T00:00:00Z, type: suspension_lifted,"
        " agreement: tisa, by: KOR, effective_at: 2020-02-01T00:00:00}\n"
    )
    assert_names(lifted, "world.yaml", BASE_LINES + 2, "effective_at", "'2020-02-01T00:00:00'")


def test_not_a_datetime() -> None:
    error = invalid(BASE.replace("created: 2019-10-31T17:00:00+09:00", "created: yesterday"))
    assert_names(error, "world.yaml", BASE_LINES, "items[0].created", "'yesterday'")


@pytest.mark.parametrize(
    ("old", "new", "line", "values"),
    [
        ("{id: jpn-analyst, party: JPN", "{id: jpn-analyst, party: JAP", 27, ["'JAP'"]),
        ("originator: KOR", "originator: ROK", BASE_LINES, ["items[0].originator", "'ROK'"]),
        ("releasable_to: [JPN, USA]", "releasable_to: [JPN, US]", BASE_LINES, ["'US'"]),
        ("hub: USA", "hub: US", 19, ["agreements[1].hub", "'US'"]),
        ("{USA: SECRET, KOR", "{UK: SECRET, KOR", 25, ["unknown party", "'UK'"]),
    ],
)
def test_unknown_party(old: str, new: str, line: int, values: list[str]) -> None:
    assert_names(invalid(BASE.replace(old, new)), "world.yaml", line, *values)


def test_unknown_party_in_events_and_expectations() -> None:
    error = invalid(
        BASE + "events:\n  - {at: 2019-11-01T00:00:00Z, type: release, item: report-1,"
        " from: KOR, to: PRK}\n"
    )
    assert_names(error, "world.yaml", BASE_LINES + 2, "events[0].to", "'PRK'")
    error = invalid(
        BASE + "expect:\n  - {at: 2019-11-01T00:00:00Z, check: release, item: report-1,"
        " from: KOR, to: JPN, via: GBR, decision: deny}\n"
    )
    assert_names(error, "world.yaml", BASE_LINES + 2, "expect[0].via", "'GBR'")


@pytest.mark.parametrize(
    ("old", "new", "line", "values"),
    [
        ("clearance: 極秘", "clearance: SECRET", 27, ["users[0].clearance", "'SECRET'"]),
        ("level: 군사II급비밀", "level: 2급", BASE_LINES, ["items[0].level", "'2급'"]),
        (
            "{KOR: 군사II급비밀, JPN: 極秘}",
            "{KOR: II급, JPN: 極秘}",
            15,
            ["KOR has no level", "'II급'"],
        ),
    ],
)
def test_unknown_level(old: str, new: str, line: int, values: list[str]) -> None:
    assert_names(invalid(BASE.replace(old, new)), "world.yaml", line, *values)


@pytest.mark.parametrize(
    ("old", "new", "line", "values"),
    [
        ("need_to_know: [nk-missile]", "need_to_know: [cyber]", 27, ["need_to_know[0]", "'cyber'"]),
        (
            "topics: [nk-missile, nk-nuclear]\n    equivalence",
            "topics: [nk-missile, space]\n    equivalence",
            23,
            ["agreements[1].topics[1]", "'space'"],
        ),
    ],
)
def test_unknown_topic(old: str, new: str, line: int, values: list[str]) -> None:
    assert_names(invalid(BASE.replace(old, new)), "world.yaml", line, "unknown topic", *values)


def test_unknown_topic_in_an_amendment() -> None:
    error = invalid(
        BASE + "events:\n  - {at: 2019-11-01T00:00:00Z, type: amendment,"
        " agreement: tisa, topics: [nk-missile, cyber]}\n"
    )
    assert_names(error, "world.yaml", BASE_LINES + 2, "events[0].topics[1]", "'cyber'")


def test_equivalence_not_order_preserving() -> None:
    crossed = BASE.replace("{KOR: 군사III급비밀, JPN: 秘}", "{KOR: 군사III급비밀, JPN: 機密}")
    assert_names(invalid(crossed), "world.yaml", 15, "not order-preserving", "'機密'")
    twice = BASE.replace("{KOR: 군사III급비밀, JPN: 秘}", "{KOR: 군사III급비밀, JPN: 極秘}")
    assert_names(invalid(twice), "world.yaml", 15, "appears in two rows", "'極秘'")


def test_equivalence_not_order_preserving_in_an_amendment() -> None:
    error = invalid(
        BASE + "events:\n  - {at: 2019-11-01T00:00:00Z, type: amendment, agreement:"
        " rok-japan-gsomia, equivalence: [{KOR: 군사I급비밀, JPN: 秘}, {KOR: 군사II급비밀, JPN: 極秘}]}\n"
    )
    assert_names(error, "world.yaml", BASE_LINES + 2, "not order-preserving", "'군사I급비밀'")


@pytest.mark.parametrize(
    ("old", "new", "line", "values"),
    [
        (
            f"  - {USA}",
            "  - " + JPN.replace("Japan", "Nippon"),
            5,
            ["duplicate party", "'JPN'", "line 4"],
        ),
        (
            "  - id: tisa",
            "  - id: rok-japan-gsomia",
            17,
            ["duplicate agreement", "'rok-japan-gsomia'", "line 7"],
        ),
    ],
)
def test_duplicate_ids(old: str, new: str, line: int, values: list[str]) -> None:
    assert_names(invalid(BASE.replace(old, new)), "world.yaml", line, *values)


def test_duplicate_user_and_item() -> None:
    user = "  - {id: jpn-analyst, party: JPN, clearance: 秘, need_to_know: []}\n"
    error = invalid(BASE.replace("items:\n", user + "items:\n"))
    assert_names(error, "world.yaml", 28, "duplicate user", "'jpn-analyst'", "line 27")
    item = "  - {id: report-1, originator: JPN, level: 秘, topics: [nk-missile], created: 2019-01-01T00:00:00Z}\n"
    error = invalid(BASE + item)
    assert_names(error, "world.yaml", BASE_LINES + 1, "duplicate item", "'report-1'")


def test_duplicate_keys_and_topics() -> None:
    error = invalid(BASE.replace("    term: P1Y\n", "    term: P1Y\n    term: P2Y\n"))
    assert_names(error, "world.yaml", 11, "agreements[0]", "'term'", "twice")
    error = invalid(
        BASE.replace("topics: [nk-missile, nk-nuclear]\n", "topics: [nk-missile, nk-missile]\n", 1)
    )
    assert_names(error, "world.yaml", 1, "topics", "'nk-missile'", "twice")


@pytest.mark.parametrize(
    ("event", "values"),
    [
        (
            "{at: 2019-10-31T16:59:59+09:00, type: release, item: report-1, from: KOR, to: JPN}",
            ["release event"],
        ),
        (
            "{at: 2019-10-31T07:59:59Z, type: consent, item: report-1, by: KOR, holder: USA, to: [JPN]}",
            ["consent event", "2019-10-31T08:00:00+00:00"],
        ),
        (
            "{at: 2019-01-01T00:00:00Z, type: consent_refused, item: report-1, by: KOR, holder: USA, to: [JPN]}",
            ["consent_refused event"],
        ),
        (
            "{at: 2019-01-01T00:00:00Z, type: destroy, item: report-1, party: KOR}",
            ["destroy event"],
        ),
        (
            "{at: 2019-01-01T00:00:00Z, type: compromise, item: report-1, party: KOR, description: x}",
            ["compromise event"],
        ),
    ],
)
def test_act_before_item_exists(event: str, values: list[str]) -> None:
    error = invalid(BASE + f"events:\n  - {event}\n")
    assert_names(
        error, "world.yaml", BASE_LINES + 2, "events[0].at", "before the item exists", *values
    )


def test_act_at_the_instant_the_item_exists_is_valid() -> None:
    scenario = parse(
        "events:\n  - {at: 2019-10-31T08:00:00Z, type: release, item: report-1, from: KOR, to: JPN}\n"
    )
    assert scenario.events[0].at == scenario.items[0].created


def test_unknown_references_in_events_and_expectations() -> None:
    cases = [
        (
            "events",
            "{at: 2019-11-01T00:00:00Z, type: release, item: report-9, from: KOR, to: JPN}",
            ["unknown item", "'report-9'"],
        ),
        (
            "events",
            "{at: 2019-11-01T00:00:00Z, type: termination_notice, agreement: gsomia, by: KOR}",
            ["unknown agreement", "'gsomia'"],
        ),
        (
            "expect",
            "{at: 2019-11-01T00:00:00Z, check: read, item: report-1, user: bob, decision: deny}",
            ["unknown user", "'bob'"],
        ),
        (
            "expect",
            "{at: 2019-11-01T00:00:00Z, check: agreement, agreement: gsomia, status: in_force}",
            ["unknown agreement", "'gsomia'"],
        ),
    ]
    for section, entry, values in cases:
        error = invalid(BASE + f"{section}:\n  - {entry}\n")
        assert_names(error, "world.yaml", BASE_LINES + 2, *values)


def test_malformed_yaml() -> None:
    error = invalid(BASE + "events:\n  - {at: 2019-11-01T00:00:00Z, type: [release\n")
    assert error.line == BASE_LINES + 3
    assert "malformed YAML" in str(error)
    error = invalid("parties:\n  - code: KOR\n   name: Korea\n")
    assert_names(error, "world.yaml", 3, "malformed YAML")
    error = invalid("parties: []\nname: \x07\n")
    assert_names(error, "world.yaml", 2, "U+0007")


@pytest.mark.parametrize(
    ("text", "line", "values"),
    [
        ("parties: [{code: KOR}]\n", 1, ["parties[0]", "missing required field 'name'"]),
        (f"parties: [{KOR}]\ncolour: red\n", 2, ["unknown field 'colour'"]),
        ("- just a list\n", 1, ["document", "must be a mapping"]),
        ("parties: []\nname: !!binary aGVsbG8=\n", 2, ["name", "'aGVsbG8='"]),
        ("parties: []\nname: &a [*a]\n", 2, ["alias"]),
        ("parties: []\n1: one\n", 2, ["keys must be plain text"]),
        (
            "parties: [{code: kor, name: x, timezone: UTC, levels: [A]}]\n",
            1,
            ["parties[0].code", "'kor'"],
        ),
    ],
)
def test_schema_and_shape_violations(text: str, line: int, values: list[str]) -> None:
    assert_names(invalid(text), "world.yaml", line, *values)


def test_bad_enums() -> None:
    error = invalid(BASE.replace("renewal: none", "renewal: yearly"))
    assert_names(error, "world.yaml", 21, "agreements[1].renewal", "'yearly'")
    error = invalid(
        BASE + "events:\n  - {at: 2019-11-01T00:00:00Z, type: relase, item: report-1}\n"
    )
    assert_names(error, "world.yaml", BASE_LINES + 2, "events[0].type", "'relase'")
    error = invalid(
        BASE + "expect:\n  - {at: 2019-11-01T00:00:00Z, check: agreement, agreement: tisa,"
        " status: active}\n"
    )
    assert_names(error, "world.yaml", BASE_LINES + 2, "expect[0].status", "'active'")
    error = invalid(
        BASE + "expect:\n  - {at: 2019-11-01T00:00:00Z, check: read, item: report-1,"
        " user: jpn-analyst, decision: deny, reason: no-clearance}\n"
    )
    assert_names(error, "world.yaml", BASE_LINES + 2, "expect[0].reason", "'no-clearance'")


def test_fields_that_belong_to_another_type_are_refused() -> None:
    error = invalid(
        BASE + "expect:\n  - {at: 2019-11-01T00:00:00Z, check: agreement, agreement: tisa,"
        " status: in_force, decision: allow}\n"
    )
    assert_names(error, "world.yaml", BASE_LINES + 2, "unknown field 'decision'")
    error = invalid(
        BASE + "events:\n  - {at: 2019-11-01T00:00:00Z, type: termination_notice,"
        " agreement: tisa, by: KOR, effective_at: 2019-12-01T00:00:00Z}\n"
    )
    assert_names(error, "world.yaml", BASE_LINES + 2, "unknown field 'effective_at'")


def test_missing_effective_at() -> None:
    error = invalid(
        BASE + "events:\n  - at: 2020-06-01T09:00:00+09:00\n    type: suspension_lifted\n"
        "    agreement: rok-japan-gsomia\n    by: KOR\n"
    )
    assert_names(
        error, "world.yaml", BASE_LINES + 2, "events[0] (suspension_lifted)", "'effective_at'"
    )


def test_model_checks_are_located() -> None:
    error = invalid(BASE.replace("    timezone: Asia/Seoul\n", "    timezone: Asia/Sol\n", 1))
    assert_names(error, "world.yaml", 12, "agreements[0].timezone", "'Asia/Sol'")
    error = invalid(BASE.replace("    term: P1Y\n", "    term: one year\n"))
    assert_names(error, "world.yaml", 10, "agreements[0].term", "'one year'")
    error = invalid(
        BASE.replace("hub: USA", "hub: KOR").replace(
            "parties: [USA, KOR, JPN]", "parties: [USA, JPN]"
        )
    )
    assert_names(error, "world.yaml", 19, "agreements[1].hub", "KOR")
    error = invalid(
        BASE + "events:\n  - {at: 2019-11-01T00:00:00Z, type: amendment, agreement: tisa}\n"
    )
    assert_names(error, "world.yaml", BASE_LINES + 2, "events[0]", "at least one of")


def test_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ScenarioInvalid) as caught:
        load_scenario(missing)
    assert caught.value.file == str(missing)
    assert str(missing) in str(caught.value)
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioInvalid, match="UTF-8"):
        load_scenario(latin1)


def test_directories_are_not_scenarios(tmp_path: Path) -> None:
    with pytest.raises(ScenarioInvalid, match="directory"):
        load_scenario(tmp_path)


def test_instants_out_of_range() -> None:
    error = invalid(BASE.replace("2019-10-31T17:00:00+09:00", "0001-01-01T00:00:00+01:00"))
    assert_names(error, "world.yaml", BASE_LINES, "items[0].created", "'0001-01-01T00:00:00+01:00'")


def test_anchors_and_merge_keys() -> None:
    source = read_yaml("a: &base {x: 1, y: 2}\nb: {<<: *base, y: 3}\nc: *base\n", "f.yaml")
    assert source.data == {"a": {"x": 1, "y": 2}, "b": {"x": 1, "y": 3}, "c": {"x": 1, "y": 2}}
    assert source.lines[("b", "y")] == 2


def test_an_empty_document_is_refused() -> None:
    error = invalid("")
    assert error.line is None
    assert "document: {} must have at least 1 entries" in str(error)


# --- the schema -----------------------------------------------------------------------------------


def test_shipped_schema_is_valid_draft_2020_12() -> None:
    schema = scenario_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_reason_codes_match_policy() -> None:
    codes = scenario_schema()["$defs"]["reason"]["enum"]
    assert codes == [code.value for code in Code]


def _closed(schema: object, path: str = "#") -> list[str]:
    """Paths of object schemas with properties that do not forbid other properties."""
    found: list[str] = []
    if isinstance(schema, dict):
        if "properties" in schema and schema.get("additionalProperties") is not False:
            found.append(path)
        for key, value in schema.items():
            if key != "if":
                found += _closed(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            found += _closed(value, f"{path}/{index}")
    return found


def test_schema_is_strict_everywhere() -> None:
    open_schemas = _closed(scenario_schema())
    # the discriminating wrappers only route to a closed schema per type or check
    assert open_schemas == ["#/$defs/event", "#/$defs/expectation"]


@pytest.mark.parametrize(
    "path",
    [builtin_scenario_path(), *sorted(SCENARIOS.glob("*.yaml"))],
    ids=lambda p: p.name,
)
def test_files_satisfy_the_schema_directly(path: Path) -> None:
    data = read_yaml(path.read_text(encoding="utf-8"), str(path)).data
    jsonschema.Draft202012Validator(scenario_schema()).validate(data)


# --- layering -------------------------------------------------------------------------------------


def test_scenario_layer_imports_only_errors_and_model() -> None:
    allowed = ("accord.errors", "accord.model", "accord.scenario")
    for module in SCENARIO_PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("accord")
            ):
                assert node.module.startswith(allowed), (module.name, node.module)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("accord") or alias.name.startswith(allowed)


def test_aliases_that_expand_without_bound_are_refused() -> None:
    rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefg", "bcdefgh", strict=True):
        rows.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    with pytest.raises(ScenarioInvalid) as caught:
        parse_scenario("\n".join(rows) + "\n", "bomb.yaml")
    assert caught.value.file == "bomb.yaml"
    assert "more than 1,000,000 values" in str(caught.value)


def test_a_zone_name_too_long_for_a_file_name_is_bad_input() -> None:
    from accord.errors import InvalidInput
    from accord.model.time import zone

    with pytest.raises(InvalidInput, match="is not an IANA time zone"):
        zone("a" * 300, "timezone")
