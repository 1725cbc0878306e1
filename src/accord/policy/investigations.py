"""Art. 17, R9: investigations of loss or compromise, and the originator's release holds.

A compromise report opens an investigation of the holder's copy (``reported``); the holder
starts it (``under-investigation``) and concludes it with a result and its measures
(``concluded``), the conclusion addressed to the originator. An agreement says how soon the
report is due after discovery and the conclusion after the report (``Deadlines``; by default
P1D and P30D). Each is a pure function of the facts at the instant asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from accord.errors import InvalidInput, UnknownReference
from accord.model.acts import Compromise
from accord.model.investigation import (
    DEFAULT_DEADLINES,
    Deadlines,
    InvestigationConcluded,
    InvestigationEvent,
    InvestigationResult,
    InvestigationStarted,
    InvestigationState,
    ReleaseHold,
    ReleaseHoldLifted,
)
from accord.model.time import add_on_wall_clock, iso
from accord.policy.facts import Facts
from accord.policy.reasons import Code, Decision, Reason, allow, deny


@dataclass(frozen=True, slots=True)
class Investigation:
    """One investigation of ``party``'s copy of ``item`` as it stands at ``at``."""

    item: str
    party: str
    originator: str
    agreement: str | None
    discovered_at: datetime
    reported_at: datetime
    report_due: datetime
    conclusion_due: datetime
    state: InvestigationState
    started_at: datetime | None = None
    concluded_at: datetime | None = None
    result: InvestigationResult | None = None
    measures: str | None = None

    @property
    def reported_late(self) -> bool:
        return self.reported_at > self.report_due

    def concluded_late(self, at: datetime) -> bool:
        """Concluded after its due instant, or still open after it at ``at``."""
        end = self.concluded_at if self.concluded_at is not None else at
        return end > self.conclusion_due

    def as_dict(self, at: datetime) -> dict[str, object]:
        return {
            "item": self.item,
            "party": self.party,
            "originator": self.originator,
            "agreement": self.agreement,
            "state": self.state.value,
            "discovered_at": iso(self.discovered_at),
            "reported_at": iso(self.reported_at),
            "report_due": iso(self.report_due),
            "reported_late": self.reported_late,
            "started_at": iso(self.started_at) if self.started_at else None,
            "conclusion_due": iso(self.conclusion_due),
            "concluded_at": iso(self.concluded_at) if self.concluded_at else None,
            "concluded_late": self.concluded_late(at),
            "result": self.result.value if self.result else None,
            "measures": self.measures,
            "sent_to": self.originator if self.concluded_at else None,
        }


def deadlines_of(facts: Facts, agreement_id: str | None) -> tuple[Deadlines, ZoneInfo]:
    """The deadlines of the agreement a copy came under, counted on its zone's wall clock."""
    if agreement_id is None or agreement_id not in facts.world.agreements:
        return DEFAULT_DEADLINES, ZoneInfo("UTC")
    agreement = facts.world.agreements[agreement_id]
    return agreement.deadlines, ZoneInfo(agreement.timezone)


def investigation(facts: Facts, item_id: str, party: str, at: datetime) -> Investigation | None:
    """The latest investigation of ``party``'s copy of ``item_id`` opened at or before ``at``."""
    world = facts.world
    reports = [r for r in world.reports_of(item_id, party) if r.at <= at]
    if not reports:
        return None
    report = reports[-1]
    steps = [
        e for e in world.investigation_events.get((item_id, party), ()) if report.at <= e.at <= at
    ]
    return _build(facts, report, steps)


def investigations_of(facts: Facts, party: str, at: datetime) -> list[Investigation]:
    """Every investigation of ``party``'s copies opened at or before ``at``, by report time."""
    keys = sorted({(r.item, r.party) for r in facts.world.compromises if r.party == party})
    found = [investigation(facts, item_id, holder, at) for item_id, holder in keys]
    return sorted((i for i in found if i is not None), key=lambda i: (i.reported_at, i.item))


def _build(facts: Facts, report: Compromise, steps: list[InvestigationEvent]) -> Investigation:
    world = facts.world
    item = world.item(report.item)
    holding = world.holding(report.item, report.party, report.at)
    agreement = holding.agreement if holding is not None else None
    deadlines, tz = deadlines_of(facts, agreement)
    discovered = report.discovered
    state, started, concluded = InvestigationState.REPORTED, None, None
    for step in steps:
        if isinstance(step, InvestigationStarted) and started is None:
            state, started = InvestigationState.UNDER_INVESTIGATION, step.at
        elif isinstance(step, InvestigationConcluded) and concluded is None:
            state, concluded = InvestigationState.CONCLUDED, step
    return Investigation(
        item=item.id,
        party=report.party,
        originator=item.originator,
        agreement=agreement,
        discovered_at=discovered,
        reported_at=report.at,
        report_due=add_on_wall_clock(discovered, deadlines.report_within, tz),
        conclusion_due=add_on_wall_clock(report.at, deadlines.conclude_within, tz),
        state=state,
        started_at=started,
        concluded_at=concluded.at if concluded else None,
        result=concluded.result if concluded else None,
        measures=concluded.measures if concluded else None,
    )


def decide_investigation(facts: Facts, event: InvestigationEvent) -> Decision:
    """A step of an opened investigation; concluding sends the result to the originator.
    An investigation that was never opened is bad input (``UnknownReference``)."""
    world = facts.world
    world.item(event.item)
    world.party(event.party)
    found = investigation(facts, event.item, event.party, event.at)
    if found is None:
        raise UnknownReference(
            f"{event.kind} of {event.item} by {event.party} at {iso(event.at)}: no investigation"
            f" was opened (no compromise of {event.party}'s copy of {event.item} was reported)"
        )
    if found.state is InvestigationState.CONCLUDED:
        assert found.concluded_at is not None
        return deny(
            [
                Reason(
                    Code.INVESTIGATION_CONCLUDED,
                    f"the investigation of {event.party}'s copy of {event.item} was concluded at"
                    f" {iso(found.concluded_at)} (R9)",
                )
            ]
        )
    if isinstance(event, InvestigationConcluded):
        message = (
            f"{event.party} concludes its investigation of {event.item}: {event.result.value};"
            f" sent to the originator {found.originator} (Art. 17, R9)"
        )
    else:
        message = f"{event.party} starts investigating the compromise of {event.item} (R9)"
    return allow(Code.INVESTIGATION_RECORDED, message)


# --- release holds ------------------------------------------------------------------------------


def hold_in_force(facts: Facts, by: str, holder: str, at: datetime) -> datetime | None:
    """The instant ``by``'s hold on its releases to ``holder`` began, if one is in force at ``at``."""
    events = facts.world.release_holds.get((by, holder))
    if not events:
        return None
    since: datetime | None = None
    for event in events:
        if event.at > at:
            break
        since = event.at if isinstance(event, ReleaseHold) else None
    return since


def decide_hold(facts: Facts, event: ReleaseHold | ReleaseHoldLifted) -> Decision:
    world = facts.world
    world.party(event.by)
    world.party(event.holder)
    if event.by == event.holder:
        raise InvalidInput(f"{event.kind} by {event.by}: the holder must be another party")
    since = hold_in_force(facts, event.by, event.holder, event.at)
    if isinstance(event, ReleaseHold):
        if since is not None:
            return deny(
                [
                    Reason(
                        Code.RELEASE_HOLD_IN_FORCE,
                        f"{event.by} has held its releases to {event.holder} since {iso(since)}",
                    )
                ]
            )
        return allow(
            Code.RELEASE_HOLD_RECORDED,
            f"{event.by} holds its releases to {event.holder} pending an investigation (Art. 17)",
        )
    if since is None:
        return deny(
            [
                Reason(
                    Code.NO_RELEASE_HOLD,
                    f"{event.by} has no release hold on {event.holder} at {iso(event.at)}",
                )
            ]
        )
    return allow(
        Code.RELEASE_HOLD_RECORDED, f"{event.by} lifts its hold on releases to {event.holder}"
    )


def held_reason(facts: Facts, sender: str, targets: tuple[str, ...], at: datetime) -> Reason | None:
    """R9: a release from ``sender`` to a party it holds releases to is denied."""
    if not facts.world.release_holds:
        return None
    for target in targets:
        since = hold_in_force(facts, sender, target, at)
        if since is not None:
            return Reason(
                Code.RELEASE_HELD,
                f"{sender} has held its releases to {target} since {iso(since)}, pending an"
                " investigation (Art. 17, R9)",
            )
    return None
