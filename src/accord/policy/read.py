"""R3, R7, R10: may a user read their party's copy of an item at an instant."""

from __future__ import annotations

from datetime import datetime

from accord.model.time import iso
from accord.policy.facts import Facts
from accord.policy.reasons import Code, Decision, Reason, allow, deny
from accord.policy.requests import ReadRequest


def decide_read(facts: Facts, request: ReadRequest, at: datetime) -> Decision:
    """Clearance at or above the holding's level in the user's own scheme and need-to-know for
    every topic; rank alone is never enough. Holdings outlive the agreement they came under (R7)."""
    world = facts.world
    user = world.user(request.user)
    item = world.item(request.item)
    party = world.parties[user.party]
    reasons: list[Reason] = []
    holding = world.holding(item.id, user.party, at)
    if holding is None:
        reasons.append(
            Reason(Code.NOT_HELD, f"{user.party} holds no copy of {item.id} at {iso(at)}")
        )
    elif holding.destroyed_at is not None and holding.destroyed_at <= at:
        reasons.append(
            Reason(
                Code.DESTROYED, f"{user.party} destroyed its copy at {iso(holding.destroyed_at)}"
            )
        )
    elif party.rank(user.clearance) < party.rank(holding.level):
        reasons.append(
            Reason(
                Code.CLEARANCE_TOO_LOW,
                f"{user.id}'s clearance {user.clearance} is below the holding's {holding.level}",
            )
        )
    missing = item.topics - user.need_to_know
    if missing:
        reasons.append(
            Reason(
                Code.NO_NEED_TO_KNOW,
                f"{user.id} has no need-to-know for {', '.join(sorted(missing))}",
            )
        )
    if reasons:
        return deny(reasons)
    assert holding is not None
    return allow(
        Code.READ_ALLOWED,
        f"{user.id} is cleared for {holding.level} and has need-to-know",
        holding.agreement,
    )
