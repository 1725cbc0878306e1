"""Scenarios as acceptance tests: load a world, apply its events in time order, check expectations.

An expectation is decided on the state as of its instant: every act is time-stamped, so events
after that instant do not count, whatever their order in the file. ``accord load`` applies a
file to a live exchange instead (``load_file``). Failures show instants in the offset the file
wrote them in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from accord.errors import (
    AccordError,
    DefinitionConflict,
    InvalidInput,
    OutOfOrder,
    Refused,
    ScenarioInvalid,
)
from accord.model.acts import Compromise, Consent, Destruction, Release
from accord.model.item import Item
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.policy.lifecycle import AgreementState
from accord.policy.reasons import Decision, Reason
from accord.scenario import Expectation, Scenario, ScenarioEvent, load_scenario
from accord.scenario.spec import ArticleCheck
from accord.service import standing
from accord.service.article_checks import check_article
from accord.service.exchange import Act, Exchange
from accord.service.progress import Progress, tick
from accord.store.sql import SqlStore


@dataclass(frozen=True, slots=True)
class Failure:
    """An event or expectation whose outcome was not the one the file expected.

    ``expected`` and ``decided`` are short (``deny (level-not-covered)``, ``status in_force``);
    ``reasons`` are the decision's, when a decision was made; instants are shown in the offset
    the file wrote."""

    file: str
    line: int | None
    what: str
    expected: str
    decided: str
    reasons: tuple[Reason, ...] = ()

    @property
    def message(self) -> str:
        if not self.decided:  # a check that states what it found in ``expected``
            return f"{self.what}: expected {self.expected}"
        because = f" [{'; '.join(f'{r.code.value}: {r.message}' for r in self.reasons)}]"
        return f"{self.what}: expected {self.expected}, decided {self.decided}" + (
            because if self.reasons else ""
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "what": self.what,
            "expected": self.expected,
            "decided": self.decided,
            "reasons": [
                {"code": r.code.value, "rule": r.rule, "message": r.message} for r in self.reasons
            ],
        }

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


def shown(instant: datetime, written: tzinfo) -> str:
    """An instant in the offset the file wrote (``Z`` for UTC)."""
    return instant.astimezone(written).isoformat().replace("+00:00", "Z")


# the UTC instants policy writes in its sentences (``accord.model.time.iso``)
UTC_INSTANT = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\b")


def _reasons_in(decision: Decision, written: tzinfo) -> tuple[Reason, ...]:
    """The decision's reasons, their sentences' instants shown in the file's offset."""

    def rewrite(match: re.Match[str]) -> str:
        return shown(datetime.fromisoformat(match.group(0)), written)

    return tuple(r._replace(message=UTC_INSTANT.sub(rewrite, r.message)) for r in decision.reasons)


def _verdict(decision: Decision) -> str:
    return "allow" if decision.allowed else "deny"


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
        f"{act_name(event.act)} at {shown(event.act.at, event.written_zone)}",
        wanted,
        _verdict(decision),
        _reasons_in(decision, event.written_zone),
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
    exchange: Exchange, scenario: Scenario, *, strict: bool, progress: Progress | None = None
) -> list[tuple[ScenarioEvent, Failure | None]]:
    """Define the world and apply its events in one transaction.

    With ``strict`` (``accord load``) an event whose outcome differs from its ``expect`` refuses
    the whole load; otherwise (``accord test``) it is reported as a failure.
    """
    with exchange.batch():
        return _apply(exchange, scenario, strict=strict, progress=progress)


@dataclass(frozen=True, slots=True)
class Loaded:
    """What ``accord load`` added, and what the file repeated of the store (``scenario.known``)."""

    scenario: Scenario
    events: int  # applied
    answered: int  # ``expect: deny`` events whose refusal the log already held

    @property
    def known_events(self) -> int:
        return self.scenario.known.events + self.answered


def load_file(exchange: Exchange, path: Path, progress: Progress | None = None) -> Loaded:
    """Load a scenario file into a live exchange, all or nothing, in one transaction.

    The file is read against the store's world: it may name what the store holds, repeat
    definitions and recorded events identically (they are not added again), and add new ones.
    A definition that differs from the stored one is refused (``DefinitionConflict``); so is an
    item whose sealed title, content or STIX object differs from the file's. New events and
    items are applied in time order and, as every act, must not be dated before the latest act
    the store has recorded (``OutOfOrder``, at the event's line)."""
    with exchange.batch():
        scenario = load_scenario(path, exchange.snapshot())
        for item in scenario.known.items:
            if not exchange.same_payload(item):
                raise DefinitionConflict(
                    f"item {item.id!r} is already in the store with the same markings but another"
                    " title, content or stix (the store's copy is sealed: it was compared through"
                    " its originator's signature over the file's content, and is not shown)",
                    file=scenario.file,
                    line=scenario.line_of.get(f"item:{item.id}"),
                    field="content",
                )
        outcomes = _apply(exchange, scenario, strict=True, progress=progress)
    applied = len(outcomes)
    return Loaded(scenario, applied, len(scenario.events) - applied)


def _refused_already(exchange: Exchange, scenario: Scenario) -> set[int]:
    """The file's ``expect: deny`` events whose refusal the log already records (with the
    reason the file names, if any): given again, they are not decided again. A refusal leaves
    no fact in the store, only its log entry."""
    denials = [e for e in scenario.events if e.expect == "deny"]
    if not denials:
        return set()
    refusals = exchange.logged_refusals([e.act for e in denials])
    return {
        id(event)
        for event, logged in zip(denials, refusals, strict=True)
        if any(event.reason is None or event.reason in reasons for reasons in logged)
    }


def _apply(
    exchange: Exchange, scenario: Scenario, *, strict: bool, progress: Progress | None = None
) -> list[tuple[ScenarioEvent, Failure | None]]:
    """Apply a scenario's new definitions, items and events (``scenario.known`` are skipped, and
    so are refusals the log already records)."""
    answered = _refused_already(exchange, scenario)
    outcomes: list[tuple[ScenarioEvent, Failure | None]] = []
    _define(exchange, scenario)
    timeline = _timeline(scenario)
    for done, entry in enumerate(timeline):
        tick(progress, "items and events", done, len(timeline))
        if id(entry) in answered:
            continue
        line = scenario.line_of.get(f"item:{entry.id}") if isinstance(entry, Item) else entry.line
        try:
            if isinstance(entry, Item):
                exchange.add_item(entry)
                continue
            decision = exchange.apply(entry.act)
        except OutOfOrder:
            raise _too_early(exchange, scenario, entry, line) from None
        except InvalidInput as error:
            raise ScenarioInvalid(error.message, file=scenario.file, line=line) from None
        failure = _event_outcome(entry, decision, scenario.file)
        if failure is not None and strict:
            raise Refused(str(failure).removeprefix("FAIL "), ())
        outcomes.append((entry, failure))
    tick(progress, "items and events", len(timeline), len(timeline))
    return outcomes


def _define(exchange: Exchange, scenario: Scenario) -> None:
    """Add the scenario's new definitions, in dependency order."""
    for topic in scenario.topics:
        exchange.add_topic(topic)
    for party in scenario.parties:
        exchange.add_party(party)
    for agreement in scenario.agreements:
        exchange.add_agreement(agreement)
    for matter in scenario.matters:
        exchange.add_matter(matter)
    for user in scenario.users:
        exchange.add_user(user)
    for rule in scenario.standing_rules:
        standing.add_rule(exchange, rule)
    for consent in scenario.standing_consents:
        standing.add_consent(exchange, consent)


def _check_condition(exchange: Exchange, expectation: Expectation, file: str) -> Failure | None:
    """Whether the outstanding suspension's conditions (or the one on ``matter``) hold (R15)."""
    agreement, at, zone = str(expectation.request), expectation.at, expectation.written_zone
    state = exchange.agreement_state(agreement, at)
    held = [
        hc
        for hc in state.conditions
        if expectation.matter is None or hc.condition.matter == expectation.matter
    ]
    what = f"condition of {agreement}" + (f" on {expectation.matter}" if expectation.matter else "")
    if not held:
        return Failure(file, expectation.line, f"{what} at {shown(at, zone)}", "one", "none")
    holds = all(hc.holds for hc in held)
    if holds == expectation.holds:
        return None
    detail = ", ".join(f"{hc.condition.matter} is {hc.state}" for hc in held)
    return Failure(
        file,
        expectation.line,
        f"{what} at {shown(at, zone)}",
        f"holds {str(expectation.holds).lower()}",
        f"holds {str(holds).lower()} ({detail})",
    )


def _check_route(exchange: Exchange, expectation: Expectation, file: str) -> Failure | None:
    """The route the standing rules took for the item and recipient by ``at`` (``none`` if
    none did, or if the item was created after ``at``); with ``evaluated`` or ``agreement``,
    also the instant of that decision and the agreement change that triggered it."""
    item, recipient = str(expectation.request), str(expectation.recipient)
    entry = standing.route_taken(exchange, item, recipient, expectation.at)
    zone = expectation.written_zone
    taken = entry.route if entry is not None else standing.NONE
    wanted, got = [str(expectation.route)], [taken]
    if expectation.evaluated is not None:
        wanted.append(f"evaluated {shown(expectation.evaluated, zone)}")
        when = datetime.fromisoformat(entry.at) if entry is not None else None
        got.append(f"evaluated {shown(when, zone) if when is not None else 'never'}")
    if expectation.agreement is not None:
        wanted.append(f"agreement {expectation.agreement}")
        trigger = entry.trigger if entry is not None else "never decided"
        if trigger.startswith(standing.AGREEMENT):
            trigger = trigger.removeprefix(standing.AGREEMENT)
        got.append(f"agreement {trigger}")
    if wanted == got:
        return None
    what = f"route of {item} to {recipient} at {shown(expectation.at, zone)}"
    return Failure(file, expectation.line, what, ", ".join(wanted), ", ".join(got))


def _check_feed(exchange: Exchange, expectation: Expectation, file: str) -> Failure | None:
    """The items the user's feed made available in the window (up to ``at``), in order."""
    from accord.model.feed import FeedKind  # noqa: PLC0415
    from accord.store import feed as feed_store  # noqa: PLC0415

    assert expectation.window is not None
    start, end = expectation.window
    end = min(end, expectation.at)
    user = str(expectation.request)
    with exchange.session(write=False) as s:
        rows = feed_store.after(s.tx, user, 0, 1 << 62)
    delivered = [
        r.item for r in rows if r.kind == FeedKind.AVAILABLE.value and start <= _aware(r.at) <= end
    ]
    if delivered == list(expectation.items):
        return None
    zone = expectation.written_zone
    what = f"feed of {user} from {shown(start, zone)} to {shown(end, zone)}"
    return Failure(file, expectation.line, what, _listed(expectation.items), _listed(delivered))


def _aware(at: datetime) -> datetime:
    """A stored instant (a backend may return it naive, in UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _listed(items: Sequence[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _conditions_text(state: AgreementState) -> str:
    if not state.conditions:
        return ""
    shown = "; ".join(
        f"{hc.condition.matter} is {hc.state} ({'holds' if hc.holds else 'fails'})"
        for hc in state.conditions
    )
    return f" [conditions: {shown}]"


def _too_early(
    exchange: Exchange, scenario: Scenario, entry: Item | ScenarioEvent, line: int | None
) -> ScenarioInvalid:
    """An item or event dated before the latest act recorded, in the file's own offset."""
    if isinstance(entry, Item):
        what, at, zone = f"item {entry.id} created", entry.created, entry.created.tzinfo or UTC
    else:
        what, at, zone = act_name(entry.act), entry.act.at, entry.written_zone
    latest = exchange.snapshot().latest
    assert latest is not None  # an act is out of order only after another one
    return ScenarioInvalid(
        f"{what} at {shown(at, zone)} is before the latest act the store has recorded"
        f" ({shown(latest, zone)}): acts are recorded in time order, so a file may repeat"
        " recorded acts but add only acts from that instant on",
        file=scenario.file,
        line=line,
        field="created" if isinstance(entry, Item) else "at",
    )


def _check(
    exchange: Exchange, expectation: Expectation | ArticleCheck, file: str
) -> Failure | None:
    if not isinstance(expectation, Expectation):
        problem = check_article(exchange, expectation)
        if problem is None:
            return None
        what, _, expected = problem.partition(": expected ")
        return Failure(file, expectation.line, what, expected, "")
    at, request = expectation.at, expectation.request
    zone = expectation.written_zone
    if expectation.check == "condition":
        return _check_condition(exchange, expectation, file)
    if expectation.check == "route":
        return _check_route(exchange, expectation, file)
    if expectation.check == "feed":
        return _check_feed(exchange, expectation, file)
    if isinstance(request, str):
        return _check_agreement(exchange, expectation, request, file)
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
    if _verdict(decision) == expectation.decision and (
        expectation.reason is None or expectation.reason in decision.codes
    ):
        return None
    wanted = f"{expectation.decision}" + (f" ({expectation.reason})" if expectation.reason else "")
    return Failure(
        file,
        expectation.line,
        f"{what} at {shown(at, zone)}",
        wanted,
        _verdict(decision),
        _reasons_in(decision, zone),
    )


def _check_agreement(
    exchange: Exchange, expectation: Expectation, agreement: str, file: str
) -> Failure | None:
    at, zone = expectation.at, expectation.written_zone
    state = exchange.agreement_state(agreement, at)

    def when(instant: datetime | None) -> str:
        return shown(instant, zone) if instant is not None else "none"

    wanted: list[str] = []
    got: list[str] = []
    if expectation.status is not None and state.status.value != expectation.status:
        wanted.append(f"status {expectation.status}")
        got.append(f"status {state.status.value}")
    if expectation.expires_at is not None and state.expires_at != expectation.expires_at:
        wanted.append(f"expires_at {when(expectation.expires_at)}")
        got.append(f"expires_at {when(state.expires_at)}")
    if expectation.term_end is not None and state.term_end != expectation.term_end:
        wanted.append(f"term_end {when(expectation.term_end)}")
        got.append(f"term_end {when(state.term_end)}")
    if not wanted:
        return None
    return Failure(
        file,
        expectation.line,
        f"agreement {agreement} at {shown(at, zone)}",
        "; ".join(wanted),
        "; ".join(got) + _conditions_text(state),
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
        if scenario.expectations:  # time passes up to the last question: changes fall due
            last = max(e.at for e in scenario.expectations)
            standing.evaluate_due(exchange, None, last)
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
