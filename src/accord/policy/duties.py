"""What a party owes and by when, at an instant: a pure function of the facts.

Each kind of duty has its own source below; ``duties`` lists them all, by due instant. A duty
that the exchange performs itself at its instant (re-marking a copy) is ``done`` from then on.

- termination notice (R6, Art. 21(3); informational): for each agreement the party is party
  to and that renews itself, the last instant a notice may be delivered to end it at its next
  term end (the first term end still reachable by a notice delivered at the instant asked);
- re-marking after a reclassification (R2, Art. 6(g)): due and done at the change's instant;
- compromise report (R9, Art. 17): due the agreement's ``report_within`` after discovery;
- investigation conclusion (R9, Art. 17): due ``conclude_within`` after the report;
- return or destruction (R10, Art. 6(h)): of a copy flagged ``not-covered``, due
  ``return_within`` after the reclassification; of a copy whose item's ``retain_until`` has
  come, due at ``retain_until``. Done when the copy is destroyed;
- changed condition (R15, Art. 21(3)): for every party to an agreement in force, each condition
  of the outstanding (suspended or resumed) notice whose matter is no longer in the state it was
  in when the note was given. A failed condition that ends the agreement is due at that end
  (pending until then); a failed condition whose consequence is ``none`` is due at the failure
  and informational (the notifying party may lift the suspension); a changed condition that
  still holds is due at the change and informational.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from accord.model.classification import MarkingFlag
from accord.model.duties import Duty, DutyKind, DutyState
from accord.model.item import Holding
from accord.model.time import (
    add_on_wall_clock,
    iso,
    require_aware,
    subtract_on_wall_clock,
)
from accord.policy.facts import Facts
from accord.policy.investigations import deadlines_of, investigations_of
from accord.policy.lifecycle import Status
from accord.policy.marking import marking
from accord.policy.matters import ChangedCondition, changed_conditions

MAX_TERMS = 1000  # term ends looked ahead for a notice period longer than the term
DutySource = Callable[[Facts, str, datetime], Iterable[Duty]]


def _state(due: datetime, done_at: datetime | None, at: datetime) -> DutyState:
    if done_at is not None and done_at <= at:
        return DutyState.DONE
    return DutyState.LATE if at > due else DutyState.PENDING


def notice_deadlines(facts: Facts, party: str, at: datetime) -> Iterator[Duty]:
    """R6: the last instant to give notice for the next reachable term end (informational)."""
    world = facts.world
    for agreement_id in sorted(world.agreements_of.get(party, ())):
        timeline = facts.timeline(agreement_id)
        state = timeline.state(at)
        terms = state.terms
        if state.status is not Status.IN_FORCE or party not in terms.parties:
            continue
        if state.term_end is None or state.expires_at is not None:
            continue  # no term, no renewal, or an end already set (a suspended notice sets none)
        end, period = state.term_end, terms.notice_period
        for _ in range(MAX_TERMS):  # the first term end a notice delivered now still reaches
            if period is None or at <= subtract_on_wall_clock(end, period, timeline.tz):
                break
            later = timeline.state(end).term_end
            if later is None:
                break
            end = later
        last = end if period is None else subtract_on_wall_clock(end, period, timeline.tz)
        message = (
            f"to end {agreement_id} at its term end {iso(end, timeline.tz)}, a notice must be"
            f" delivered by {iso(last, timeline.tz)}; otherwise it renews"
        )
        notice = state.notice
        if notice is not None and notice.suspended:
            message += (
                f"; {notice.by}'s notice of {iso(notice.delivered_at, timeline.tz)} is suspended:"
                f" {notice.by} may lift the suspension, naming the instant it then ends"
            )
            message += "".join(
                f"; it holds while {held.condition.matter} is"
                f" {' or '.join(sorted(held.condition.holds_while))} (now {held.state}, R15)"
                for held in notice.conditions
            )
        yield Duty(
            DutyKind.TERMINATION_NOTICE,
            party,
            "R6",
            "Art. 21(3)",
            last,
            DutyState.PENDING,
            message,
            agreement=agreement_id,
            informational=True,
        )


def _copies(facts: Facts, party: str, at: datetime) -> Iterator[Holding]:
    """``party``'s copies received from others, as they stand at ``at`` (one per item)."""
    world = facts.world
    for item_id in world.items_held_by.get(party, ()):
        holding = world.holding(item_id, party, at)
        if holding is not None and holding.originator != party:
            yield holding


def remarkings(facts: Facts, party: str, at: datetime) -> Iterator[Duty]:
    """R2: each reclassification that reached one of ``party``'s copies (applied at once)."""
    for holding in _copies(facts, party, at):
        for change in facts.world.reclassifications.get(holding.item, ()):
            if change.at > at or change.level is None or change.at < holding.received_at:
                continue
            if holding.destroyed_at is not None and holding.destroyed_at <= change.at:
                continue
            marked = marking(facts, holding, change.at)
            flag = f", flagged {marked.flag.value}" if marked.flag else ""
            yield Duty(
                DutyKind.APPLY_RECLASSIFICATION,
                party,
                "R2",
                "Art. 6(g)",
                change.at,
                DutyState.DONE,
                f"{change.by} reclassified {holding.item} to {change.level}; {party}'s copy is"
                f" re-marked {marked.level}{flag}",
                item=holding.item,
                agreement=holding.agreement,
                done_at=change.at,
            )


def investigation_duties(facts: Facts, party: str, at: datetime) -> Iterator[Duty]:
    """R9: report each compromise in time, and conclude each investigation in time."""
    for found in investigations_of(facts, party, at):
        late = " (late)" if found.reported_late else ""
        yield Duty(
            DutyKind.REPORT_COMPROMISE,
            party,
            "R9",
            "Art. 17",
            found.report_due,
            DutyState.DONE,
            f"compromise of {found.item} discovered {iso(found.discovered_at)}, reported to"
            f" {found.originator} {iso(found.reported_at)}{late}",
            item=found.item,
            agreement=found.agreement,
            done_at=found.reported_at,
        )
        yield Duty(
            DutyKind.CONCLUDE_INVESTIGATION,
            party,
            "R9",
            "Art. 17",
            found.conclusion_due,
            _state(found.conclusion_due, found.concluded_at, at),
            f"conclude the investigation of {found.item} and send the result and measures to"
            f" {found.originator} (now {found.state.value})",
            item=found.item,
            agreement=found.agreement,
            done_at=found.concluded_at,
        )


def returns(facts: Facts, party: str, at: datetime) -> Iterator[Duty]:
    """R10, Art. 6(h): copies to return or destroy (not covered any more, or purpose ended)."""
    world = facts.world
    for holding in _copies(facts, party, at):
        done = holding.destroyed_at
        marked = marking(facts, holding, at)
        if marked.flag is MarkingFlag.NOT_COVERED and marked.changed_at is not None:
            deadlines, tz = deadlines_of(facts, holding.agreement)
            due = add_on_wall_clock(marked.changed_at, deadlines.return_within, tz)
            yield Duty(
                DutyKind.DESTROY,
                party,
                "R10",
                "Art. 6(g), 6(h)",
                due,
                _state(due, done, at),
                f"{holding.item} is now {marked.holding.originator_level}, which"
                f" {holding.agreement} does not cover: return or destroy the copy",
                item=holding.item,
                agreement=holding.agreement,
                done_at=done,
            )
        retain = world.items[holding.item].retain_until
        if retain is not None and holding.received_at <= retain:
            purpose = world.items[holding.item].purpose
            why = f" (purpose: {purpose})" if purpose else ""
            yield Duty(
                DutyKind.DESTROY,
                party,
                "R10",
                "Art. 6(h)",
                retain,
                _state(retain, done, at),
                f"{holding.item} may be kept until {iso(retain)}{why}: return or destroy it then",
                item=holding.item,
                agreement=holding.agreement,
                done_at=done,
            )


def condition_duties(facts: Facts, party: str, at: datetime) -> Iterator[Duty]:
    """R15: each condition of an outstanding note whose matter changed since the note."""
    for changed in changed_conditions(facts, party, at):
        tz = facts.timeline(changed.agreement).tz
        held = changed.held
        matter = held.condition.matter
        what = (
            f"{matter} became {held.state} at {iso(changed.changed_at, tz)} (it was"
            f" {held.noted_state} when {changed.notifying_party} suspended its notice on"
            f" {changed.agreement})"
        )
        due, informational = _condition_due(changed)
        yield Duty(
            DutyKind.CHANGED_CONDITION,
            party,
            "R15",
            "Art. 21(3)",
            due,
            DutyState.PENDING,
            f"{what}: {_condition_outcome(changed, tz)}",
            agreement=changed.agreement,
            informational=informational,
        )


def _condition_due(changed: ChangedCondition) -> tuple[datetime, bool]:
    """The due instant and whether the duty is informational (nothing ends because of it)."""
    held = changed.held
    if held.failed_at is not None and changed.ends_at is not None:
        return changed.ends_at, False
    return (held.failed_at or changed.changed_at), True


def _condition_outcome(changed: ChangedCondition, tz: ZoneInfo) -> str:
    held = changed.held
    if held.failed_at is None:
        return "the condition still holds; the suspension stands"
    if changed.ends_at is not None:
        return (
            f"the condition failed at {iso(held.failed_at, tz)}; the notice resumed and"
            f" {changed.agreement} ends at {iso(changed.ends_at, tz)}"
        )
    return (
        f"the condition failed at {iso(held.failed_at, tz)}; the suspension stands and"
        f" {changed.notifying_party} may lift it at any time"
    )


SOURCES: tuple[DutySource, ...] = (
    notice_deadlines,
    remarkings,
    investigation_duties,
    returns,
    condition_duties,
)
"""Every kind of duty."""


def duties(
    facts: Facts, party: str, at: datetime, sources: Iterable[DutySource] = SOURCES
) -> tuple[Duty, ...]:
    """Everything ``party`` owes as of ``at`` (done, pending and late), by due instant."""
    at = require_aware(at, "at")
    facts.world.party(party)
    found = [duty for source in sources for duty in source(facts, party, at)]
    return tuple(
        sorted(found, key=lambda d: (d.due, d.kind.value, d.item or "", d.agreement or ""))
    )
