"""R3, R7, R10: may a user read their party's copy of an item at an instant."""

from __future__ import annotations

from datetime import UTC, datetime

from accord.model.requests import ReadRequest
from accord.model.time import iso, require_aware
from accord.policy.facts import Facts
from accord.policy.marking import marking
from accord.policy.reasons import Code, Decision, Reason

# Codes bound once: in Python 3.11 reading an Enum member through its class (``Code.X``)
# costs about four globals, because ``EnumType`` defines ``__getattr__``.
CLEARANCE_TOO_LOW = Code.CLEARANCE_TOO_LOW
DESTROYED = Code.DESTROYED
NOT_HELD = Code.NOT_HELD
NO_NEED_TO_KNOW = Code.NO_NEED_TO_KNOW
READ_ALLOWED = Code.READ_ALLOWED


def decide_read(facts: Facts, request: ReadRequest, at: datetime) -> Decision:
    """Clearance at or above the holding's level in the user's own scheme and need-to-know for
    every topic; rank alone is never enough. Holdings outlive the agreement they came under (R7)."""
    if at.tzinfo is not UTC:
        at = require_aware(at, "at")
    world = facts.world
    user = world.users.get(request.user)
    if user is None:
        user = world.user(request.user)  # raises UnknownReference
    item = world.items.get(request.item)
    if item is None:
        item = world.item(request.item)  # raises UnknownReference
    party_code = user.party
    holding = world.holding(item.id, party_code, at)
    first: Reason | None = None  # the holding's reason, if any
    if holding is None:
        first = Reason(NOT_HELD, f"{party_code} holds no copy of {item.id} at {iso(at)}")
    elif holding.destroyed_at is not None and holding.destroyed_at <= at:
        first = Reason(DESTROYED, f"{party_code} destroyed its copy at {iso(holding.destroyed_at)}")
    else:
        if item.id in world.reclassifications:  # Art. 6(g): reads follow the marking at ``at``
            holding = marking(facts, holding, at).holding
        ranks = facts.ranks(party_code)
        cleared, needed = ranks.get(user.clearance), ranks.get(holding.level)
        if cleared is None or needed is None:  # a level outside the scheme: let Party say so
            party = world.parties[party_code]
            cleared, needed = party.rank(user.clearance), party.rank(holding.level)
        if cleared < needed:
            first = Reason(
                CLEARANCE_TOO_LOW,
                f"{user.id}'s clearance {user.clearance} is below the holding's {holding.level}",
            )
    need_to_know = user.need_to_know
    if item.topics <= need_to_know:
        if first is None:
            assert holding is not None
            message = f"{user.id} is cleared for {holding.level} and has need-to-know"
            return Decision(True, (Reason(READ_ALLOWED, message, holding.agreement),))
        return Decision(False, (first,))
    missing = ", ".join(sorted(item.topics - need_to_know))
    lacking = Reason(NO_NEED_TO_KNOW, f"{user.id} has no need-to-know for {missing}")
    return Decision(False, (lacking,) if first is None else (first, lacking))
