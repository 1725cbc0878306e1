"""The instants at which agreements change state: what re-evaluates the standing rules.

An agreement changes state when it comes into force, at each event that starts a new segment of
its timeline (a notice, a suspension, a lift, a withdrawal, an amendment taking effect, a
condition failing) and when it ends (a termination or expiry taking effect, with no act at that
instant). A segment's end counts only when no later segment starts before it.
"""

from __future__ import annotations

from datetime import datetime

from accord.model.time import require_aware
from accord.policy.facts import Facts
from accord.policy.lifecycle import Timeline


def change_instants(timeline: Timeline) -> list[datetime]:
    """Every instant at which the agreement's state changes, in time order, no repeats."""
    found = {timeline.agreement.in_force_from}
    segments = timeline.segments
    for index, segment in enumerate(segments):
        found.add(segment.start)
        following = segments[index + 1].start if index + 1 < len(segments) else None
        if segment.ends_at is not None and (following is None or segment.ends_at < following):
            found.add(segment.ends_at)
    return sorted(found)


def changes_between(
    facts: Facts, after: datetime | None, until: datetime
) -> list[tuple[datetime, str]]:
    """The agreement state changes in ``(after, until]`` (all up to ``until`` when ``after`` is
    None), as (instant, agreement id), by instant and then id."""
    until = require_aware(until, "until")
    if after is not None:
        after = require_aware(after, "after")
    found = [
        (instant, agreement_id)
        for agreement_id in sorted(facts.world.agreements)
        for instant in change_instants(facts.timeline(agreement_id))
        if (after is None or after < instant) and instant <= until
    ]
    return sorted(found)


def next_change(facts: Facts, after: datetime) -> datetime | None:
    """The first agreement state change after ``after``, or None when none is known."""
    after = require_aware(after, "after")
    later = [
        instant
        for agreement_id in facts.world.agreements
        for instant in change_instants(facts.timeline(agreement_id))
        if instant > after
    ]
    return min(later, default=None)
