"""Questions about matters (R15) that look across agreements: whether a matter state may be
recorded, and which conditions of outstanding notices have seen their matter change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accord.errors import Refused
from accord.model.matters import MatterState
from accord.model.time import iso
from accord.policy.conditions import HeldCondition
from accord.policy.facts import Facts
from accord.policy.lifecycle import Timeline
from accord.policy.reasons import Code, Decision, Reason, allow, deny


@dataclass(frozen=True, slots=True)
class ChangedCondition:
    """A condition of a note in force on ``agreement`` whose matter is no longer in the state it
    was in when the note was given."""

    agreement: str
    notifying_party: str
    held: HeldCondition
    ends_at: datetime | None  # the agreement's end instant as the facts stand at the instant

    @property
    def changed_at(self) -> datetime:
        assert self.held.changed_at is not None
        return self.held.changed_at


def changed_conditions(facts: Facts, party: str, at: datetime) -> list[ChangedCondition]:
    """For ``party`` at instant ``at``: every condition of a note outstanding at ``at`` on an
    agreement ``party`` is a party to, whose matter's state at ``at`` differs from its state when
    the note was given (R15). Each comes with the notifying party, the condition as it stands
    (current state, when it changed, whether it still holds, when it failed) and the instant the
    agreement then ends (None when it does not end). Sorted by agreement, then matter.

    Pure: it reads only facts recorded at or before ``at``. The duties a party owes (``accord
    duties``) list these as conditions to act on; the due instant of a failed condition is the
    agreement's end, ``ends_at``."""
    found: list[ChangedCondition] = []
    world = facts.world
    for agreement_id in sorted(world.agreements_of.get(party, ())):
        state = facts.state(agreement_id, at)
        if not state.in_force or party not in state.terms.parties or state.notice is None:
            continue
        for hc in state.notice.conditions:
            if hc.state != hc.noted_state:
                found.append(ChangedCondition(agreement_id, state.notice.by, hc, state.expires_at))
    return sorted(found, key=lambda c: (c.agreement, c.held.condition.matter))


def decide_matter_state(facts: Facts, fact: MatterState) -> Decision:
    """Whether a party may record ``fact`` now. Any party may record a matter's state (the
    world has checked that the party, the matter and the state exist); it is refused only when
    an agreement's history, compiled again with it, would refuse an event already recorded at the
    same instant (matter states count before agreement events at one instant)."""
    world = facts.world
    states = [*world.matter_states, fact]
    for agreement_id in sorted(world.agreements):
        events = world.agreement_events[agreement_id]
        if not any(_conditional_on(event, fact.matter) for event in events):
            continue
        try:
            Timeline.compile(
                world.agreements[agreement_id],
                events,
                world.parties,
                frozenset(world.topics),
                world.matters,
                states,
            )
        except Refused as refused:
            return deny(
                [
                    Reason(
                        Code.EFFECTIVE_BEFORE_EVENT,
                        f"{fact.matter} becoming {fact.state} at {iso(fact.at)} would undo an"
                        f" event already recorded on {agreement_id}: {refused.message}",
                        agreement_id,
                    )
                ]
            )
    return allow(
        Code.EVENT_ALLOWED,
        f"{fact.by} records {fact.matter} as {fact.state} from {iso(fact.at)} (R15)",
    )


def _conditional_on(event: object, matter: str) -> bool:
    conditions = getattr(event, "conditions", ())
    return any(c.matter == matter for c in conditions)
