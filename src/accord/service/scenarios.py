"""Scenarios as acceptance tests: load a world, apply its events in time order, check expectations.

An expectation is decided on the state as of its instant: every act is time-stamped, so events
after that instant do not count, whatever their order in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from accord.errors import AccordError, InvalidInput, Refused, ScenarioInvalid
from accord.model.acts import Compromise, Consent, Destruction, Release
from accord.model.item import Item
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.model.time import iso
from accord.policy.reasons import Decision
from accord.scenario import Expectation, Scenario, ScenarioEvent
from accord.scenario.spec import ArticleCheck
from accord.service.article_checks import check_article
from accord.service.exchange import Act, Exchange
from accord.store.sql import SqlStore


@dataclass(frozen=True, slots=True)
class Failure:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"FAIL {where}: {self.message}"


@dataclass
class ScenarioResult:
    file: str
    passed: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)


def _describe(decision: Decision) -> str:
    verdict = "allow" if decision.allowed else "deny"
    return f"{verdict} [{'; '.join(f'{r.code.value}: {r.message}' for r in decision.reasons)}]"


def _timeline(scenario: Scenario) -> list[Item | ScenarioEvent]:
    """Item creations and events, in time order; creations first at equal instants."""
    entries: list[tuple[datetime, int, int, Item | ScenarioEvent]] = []
    entries += [(item.created, 0, n, item) for n, item in enumerate(scenario.items)]
    entries += [(event.act.at, 1, n, event) for n, event in enumerate(scenario.events)]
    return [entry for *_, entry in sorted(entries, key=lambda e: e[:3])]


def _event_outcome(event: ScenarioEvent, decision: Decision, file: str) -> Failure | None:
    expected_allow = event.expect != "deny"
    if decision.allowed == expected_allow and (
        event.reason is None or event.reason in decision.codes
    ):
        return None
    wanted = event.expect + (f" ({event.reason})" if event.reason else "")
    return Failure(
        file,
        event.line,
        f"{act_name(event.act)} at {iso(event.act.at)}: expected {wanted}, decided {_describe(decision)}",
    )


def act_name(act: Act) -> str:
    """The scenario-file name of an act's type."""
    if isinstance(act, Release):
        return "release"
    if isinstance(act, Consent):
        return "consent" if act.granted else "consent_refused"
    if isinstance(act, Destruction):
        return "destroy"
    if isinstance(act, Compromise):
        return "compromise"
    return act.kind


def apply_scenario(
    exchange: Exchange, scenario: Scenario, *, strict: bool
) -> list[tuple[ScenarioEvent, Failure | None]]:
    """Define the world and apply its events in one transaction.

    With ``strict`` (``accord load``) an event whose outcome differs from its ``expect`` refuses
    the whole load; otherwise (``accord test``) it is reported as a failure.
    """
    outcomes: list[tuple[ScenarioEvent, Failure | None]] = []
    with exchange.batch():
        for topic in scenario.topics:
            exchange.add_topic(topic)
        for party in scenario.parties:
            exchange.add_party(party)
        for agreement in scenario.agreements:
            exchange.add_agreement(agreement)
        for user in scenario.users:
            exchange.add_user(user)
        for entry in _timeline(scenario):
            if isinstance(entry, Item):
                exchange.add_item(entry)
                continue
            try:
                decision = exchange.apply(entry.act)
            except InvalidInput as error:
                raise ScenarioInvalid(error.message, file=scenario.file, line=entry.line) from None
            failure = _event_outcome(entry, decision, scenario.file)
            if failure is not None and strict:
                raise Refused(str(failure).removeprefix("FAIL "), ())
            outcomes.append((entry, failure))
    return outcomes


def _check(
    exchange: Exchange, expectation: Expectation | ArticleCheck, file: str
) -> Failure | None:
    if not isinstance(expectation, Expectation):
        problem = check_article(exchange, expectation)
        return None if problem is None else Failure(file, expectation.line, problem)
    at, request = expectation.at, expectation.request
    if isinstance(request, str):
        state = exchange.agreement_state(request, at)
        problems = []
        if expectation.status is not None and state.status.value != expectation.status:
            problems.append(f"status {expectation.status}, got {state.status.value}")
        if expectation.expires_at is not None and state.expires_at != expectation.expires_at:
            got = iso(state.expires_at) if state.expires_at else "none"
            problems.append(f"expires_at {iso(expectation.expires_at)}, got {got}")
        if expectation.term_end is not None and state.term_end != expectation.term_end:
            got = iso(state.term_end) if state.term_end else "none"
            problems.append(f"term_end {iso(expectation.term_end)}, got {got}")
        if not problems:
            return None
        return Failure(
            file,
            expectation.line,
            f"agreement {request} at {iso(at)}: expected " + "; expected ".join(problems),
        )
    if isinstance(request, ReleaseRequest):
        decision = exchange.check_release(request, at)
        route = (
            f"{request.from_party}→{request.via}→{request.to_party}"
            if request.via
            else f"{request.from_party}→{request.to_party}"
        )
        what = f"release {request.item} {route}"
    else:
        assert isinstance(request, ReadRequest)
        decision = exchange.check_read(request, at)
        what = f"read {request.item} by {request.user}"
    verdict = "allow" if decision.allowed else "deny"
    if verdict == expectation.decision and (
        expectation.reason is None or expectation.reason in decision.codes
    ):
        return None
    wanted = f"{expectation.decision}" + (f" ({expectation.reason})" if expectation.reason else "")
    return Failure(
        file,
        expectation.line,
        f"{what} at {iso(at)}: expected {wanted}, decided {_describe(decision)}",
    )


def run_scenario(scenario: Scenario) -> ScenarioResult:
    """Run one scenario in a fresh in-memory exchange."""
    exchange = Exchange(SqlStore("sqlite://"))
    result = ScenarioResult(scenario.file)
    try:
        for event, failure in apply_scenario(exchange, scenario, strict=False):
            if failure is not None:
                result.failures.append(failure)
            elif event.expect == "deny" or event.reason is not None:
                result.passed += 1
        for expectation in scenario.expectations:
            failure = _check(exchange, expectation, scenario.file)
            if failure is None:
                result.passed += 1
            else:
                result.failures.append(failure)
    except ScenarioInvalid:
        raise
    except AccordError as error:
        raise ScenarioInvalid(error.message, file=scenario.file) from None
    finally:
        exchange.store.close()
    return result
