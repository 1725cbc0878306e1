"""The November 2019 case, played from the built-in scenario as it happened and without the
suspension of 2019-11-22 18:00 KST, so that what would have stopped at midnight is visible."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from accord.model.agreement import NoticeSuspended, NoticeWithdrawn, SuspensionLifted
from accord.model.requests import ReleaseRequest
from accord.model.time import parse_instant
from accord.policy.impact import ImpactReport
from accord.policy.lifecycle import AgreementState
from accord.policy.reasons import Decision
from accord.scenario import Scenario
from accord.service.exchange import Exchange
from accord.service.scenarios import apply_scenario
from accord.store.sql import SqlStore

AGREEMENT = "rok-japan-gsomia"
LAPSE = parse_instant("2019-11-23T00:00:00+09:00", "lapse")
SECOND = timedelta(seconds=1)

TIMELINE: tuple[tuple[str, str], ...] = (
    ("entry into force", "2016-11-23T00:00:00+09:00"),
    ("Seoul announces it will end GSOMIA", "2019-08-22T18:20:00+09:00"),
    ("written notice delivered", "2019-08-23T15:25:00+09:00"),
    ("ADMM-Plus, Bangkok: no agreement", "2019-11-17T12:00:00+07:00"),
    ("six hours before the lapse", "2019-11-22T17:59:59+09:00"),
    ("Seoul suspends its notice", "2019-11-22T18:00:00+09:00"),
    ("one second before midnight", "2019-11-22T23:59:59+09:00"),
    ("midnight, 23 November (KST)", "2019-11-23T00:00:00+09:00"),
    ("one second after midnight", "2019-11-23T00:00:01+09:00"),
    ("Seoul withdraws its notice", "2023-03-21T12:00:00+09:00"),
)

QUESTIONS: tuple[tuple[str, ReleaseRequest], ...] = (
    (
        "SECRET nk-missile report, KOR → JPN directly",
        ReleaseRequest("kor-missile-eve", "KOR", "JPN"),
    ),
    (
        "the same report through the US hub, no consent",
        ReleaseRequest("kor-missile-eve", "KOR", "JPN", "USA"),
    ),
    (
        "a report KOR consented to pass on, through the US hub",
        ReleaseRequest("kor-missile-eve-consented", "KOR", "JPN", "USA"),
    ),
    (
        "SECRET cyber report through the US hub",
        ReleaseRequest("kor-cyber-eve", "KOR", "JPN", "USA"),
    ),
    ("KOR 군사I급비밀 report, KOR → JPN directly", ReleaseRequest("kor-top-eve", "KOR", "JPN")),
)


@dataclass(frozen=True, slots=True)
class StateRow:
    label: str
    at: datetime
    actual: AgreementState
    without_suspension: AgreementState


@dataclass(frozen=True, slots=True)
class DecisionRow:
    label: str
    at: datetime
    actual: Decision
    without_suspension: Decision


@dataclass(frozen=True, slots=True)
class DemoReport:
    agreement: str
    lapse: datetime
    states: tuple[StateRow, ...]
    decisions: tuple[DecisionRow, ...]
    impact: ImpactReport


def without_suspension(scenario: Scenario) -> Scenario:
    """The counterfactual: Seoul never suspends its notice (nor, then, withdraws it)."""
    kinds = (NoticeSuspended, SuspensionLifted, NoticeWithdrawn)
    events = tuple(
        e
        for e in scenario.events
        if not (isinstance(e.act, kinds) and e.act.agreement == AGREEMENT)
    )
    return replace(scenario, events=events)


def _exchange(scenario: Scenario, *, strict: bool) -> Exchange:
    exchange = Exchange(SqlStore("sqlite://"))
    apply_scenario(exchange, scenario, strict=strict)
    return exchange


def play(scenario: Scenario) -> DemoReport:
    """Both histories side by side: agreement states, decisions around midnight, the impact."""
    actual = _exchange(scenario, strict=True)
    # in the counterfactual some later acts are refused (the agreement has lapsed): they just do not happen
    counterfactual = _exchange(without_suspension(scenario), strict=False)
    states = tuple(
        StateRow(
            label,
            at,
            actual.agreement_state(AGREEMENT, at),
            counterfactual.agreement_state(AGREEMENT, at),
        )
        for label, text in TIMELINE
        for at in (parse_instant(text, label),)
    )
    decisions = tuple(
        DecisionRow(
            label, at, actual.check_release(request, at), counterfactual.check_release(request, at)
        )
        for at in (LAPSE - SECOND, LAPSE + SECOND)
        for label, request in QUESTIONS
    )
    return DemoReport(AGREEMENT, LAPSE, states, decisions, counterfactual.impact(AGREEMENT, LAPSE))
