"""R15: conditions of a suspended notice on matters outside the agreement, and what follows when
one fails.

A suspension may carry conditions (``holds_while`` states of a matter). The lifecycle
(``accord.policy.lifecycle``) feeds every recorded matter state to each agreement's timeline in
time order; this module says what such a state does to an outstanding notice:

- a condition *holds* at an instant when its matter's state at that instant is one it names;
- it *fails* at the first instant, while the notice is suspended, that its matter takes a state
  it does not name; a condition fails once (a later return to a named state is shown, but does
  not suspend the notice again: that takes a new note);
- on failure, ``end_after D`` resumes the notice and the agreement ends D after the failure
  (measured on the reference zone's wall clock; ``P0D`` ends it at the failure instant);
  ``end_at_term_end`` resumes it and the agreement ends at the first term end after the failure
  (for an agreement without terms: the notice period after the failure, at the failure when
  there is none); ``none`` records the failure and leaves the notice suspended (the notifying
  party may still lift it at any time).

Everything here is pure: the state at ``t`` depends only on the notes and matter states recorded
at or before ``t``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from accord.model.matters import Condition, ConsequenceKind, MatterState
from accord.model.time import Duration, add_on_wall_clock, iso

if TYPE_CHECKING:
    from accord.policy.lifecycle import Notice

CONDITION_FAILED = "condition-failed"


@dataclass(frozen=True, slots=True)
class HeldCondition:
    """A condition of the suspension in force, with its matter's state as the timeline knows it.

    ``noted_state`` is the matter's state when the note was given; ``state`` the current one,
    since ``changed_at`` (None while it has not changed); ``failed_at`` the instant it failed.
    """

    condition: Condition
    noted_state: str
    state: str
    changed_at: datetime | None = None
    failed_at: datetime | None = None

    @property
    def holds(self) -> bool:
        """Whether the matter's state now is one the condition names (a condition that failed
        and whose matter returned to such a state holds again, but its failure stands)."""
        return self.condition.holds_in(self.state)

    def as_dict(self, ends_at: datetime | None = None) -> dict[str, object]:
        consequence = self.condition.on_failure
        return {
            "matter": self.condition.matter,
            "holds_while": sorted(self.condition.holds_while),
            "on_failure": consequence.text,
            "state": self.state,
            "noted_state": self.noted_state,
            "changed_at": iso(self.changed_at) if self.changed_at else None,
            "holds": self.holds,
            "failed_at": iso(self.failed_at) if self.failed_at else None,
            "if_it_fails": consequence.describe(),
            "ends_at": iso(ends_at) if ends_at else None,
        }


def noted(conditions: tuple[Condition, ...], states: dict[str, str]) -> tuple[HeldCondition, ...]:
    """The conditions of a new suspension, each with its matter's state at the note's instant."""
    return tuple(HeldCondition(c, states[c.matter], states[c.matter]) for c in conditions)


def failing(conditions: tuple[Condition, ...], states: dict[str, str]) -> list[Condition]:
    """The conditions that do not hold in the given matter states."""
    return [c for c in conditions if not c.holds_in(states[c.matter])]


def end_on_failure(
    condition: Condition,
    failed_at: datetime,
    tz: ZoneInfo,
    next_term_end: Callable[[datetime], datetime | None],
    notice_period: Duration | None,
) -> datetime | None:
    """The instant the agreement ends because ``condition`` failed at ``failed_at``; None for a
    consequence of ``none`` (the notice stays suspended)."""
    consequence = condition.on_failure
    if consequence.kind is ConsequenceKind.NONE:
        return None
    if consequence.kind is ConsequenceKind.END_AFTER:
        if consequence.period is None:
            return failed_at
        return add_on_wall_clock(failed_at, consequence.period, tz)
    end = next_term_end(failed_at)
    if end is not None:
        return end
    return failed_at if notice_period is None else add_on_wall_clock(failed_at, notice_period, tz)


def observe(
    notice: Notice,
    fact: MatterState,
    tz: ZoneInfo,
    next_term_end: Callable[[datetime], datetime | None],
) -> Notice:
    """The notice after ``fact``: each condition on its matter takes the new state; the first
    one that fails while the notice is suspended applies its consequence."""
    held: list[HeldCondition] = []
    resumed: tuple[datetime, str] | None = None
    for before in notice.conditions:
        if before.condition.matter != fact.matter or before.state == fact.state:
            held.append(before)
            continue
        after = replace(before, state=fact.state, changed_at=fact.at)
        fails_now = (
            after.failed_at is None
            and notice.suspended
            and not after.condition.holds_in(fact.state)
        )
        if fails_now:
            after = replace(after, failed_at=fact.at)
            if resumed is None:
                end = end_on_failure(after.condition, fact.at, tz, next_term_end, notice.period)
                if end is not None:
                    resumed = (end, after.condition.matter)
        held.append(after)
    notice = replace(notice, conditions=tuple(held))
    if resumed is None:
        return notice
    return replace(notice, suspended=False, effective_at=resumed[0], failed_condition=resumed[1])
