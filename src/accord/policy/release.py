"""R1, R2, R4, R5, R8: may a party release an item to another, at an instant, and how is it marked.

This is the decision hot path (see bench/): lookups go straight to the world's dictionaries and
fall back to the raising accessors only to produce their errors, and a reason's message is
formatted only when the reason applies.
"""

from __future__ import annotations

from datetime import UTC, datetime

from accord.errors import InvalidInput
from accord.model.agreement import Terms
from accord.model.item import Holding, Item
from accord.model.requests import ReleaseRequest
from accord.model.time import iso, require_aware
from accord.model.world import World
from accord.policy.facts import Facts
from accord.policy.investigations import held_reason
from accord.policy.lifecycle import Status
from accord.policy.marking import classified, marking
from accord.policy.reasons import Code, Decision, Reason

IN_FORCE = (Status.IN_FORCE, Status.NOTICE_PENDING)

# Codes bound once: in Python 3.11 reading an Enum member through its class (``Code.X``)
# costs about four globals, because ``EnumType`` defines ``__getattr__``.
AGREEMENT_NOT_IN_FORCE = Code.AGREEMENT_NOT_IN_FORCE
ALREADY_HELD = Code.ALREADY_HELD
DESTROYED = Code.DESTROYED
LEVEL_NOT_COVERED = Code.LEVEL_NOT_COVERED
NOT_HELD = Code.NOT_HELD
NOT_RELEASABLE_TO = Code.NOT_RELEASABLE_TO
NO_AGREEMENT = Code.NO_AGREEMENT
NO_HUB_ROUTE = Code.NO_HUB_ROUTE
NO_ORIGINATOR_CONSENT = Code.NO_ORIGINATOR_CONSENT
RELEASE_ALLOWED = Code.RELEASE_ALLOWED
TOPIC_OUT_OF_SCOPE = Code.TOPIC_OUT_OF_SCOPE


def decide_release(facts: Facts, request: ReleaseRequest, at: datetime) -> Decision:
    """Allow only if every rule allows; otherwise deny with every reason that applies."""
    if at.tzinfo is not UTC:
        at = require_aware(at, "at")
    world = facts.world
    item = world.items.get(request.item)
    if item is None:
        item = world.item(request.item)  # raises UnknownReference
    sender, recipient, hub = request.from_party, request.to_party, request.via
    parties = world.parties
    if (
        sender not in parties
        or recipient not in parties
        or (hub is not None and hub not in parties)
    ):
        _unknown_party(world, (sender, recipient, hub))
    if sender == recipient or hub in (sender, recipient):
        raise InvalidInput(
            f"release of {item.id}: sender, hub and recipient must be different parties"
        )
    item_id, originator = item.id, item.originator
    reasons: list[Reason] = []
    holding = _latest_copy(world, item_id, sender, at)
    if world.article_facts:  # Art. 6(g) and Art. 17 facts exist: see what they change
        item, holding = _articles(facts, item, holding, request, at, reasons)
    if holding is None:
        reasons.append(Reason(NOT_HELD, f"{sender} holds no copy of {item_id} at {iso(at)}"))
        level = item.level if sender == originator else None
    else:
        if holding.destroyed_at is not None and holding.destroyed_at <= at:
            reasons.append(
                Reason(DESTROYED, f"{sender} destroyed its copy at {iso(holding.destroyed_at)}")
            )
        level = holding.level
    releasable = item.releasable_to
    if hub is None:
        if sender != originator or (recipient not in releasable and recipient != originator):
            _caveat_and_consent(world, item, sender, recipient, at, reasons)
    else:
        _caveat_and_consent(world, item, sender, hub, at, reasons)
        _caveat_and_consent(world, item, hub, recipient, at, reasons)
    current = _latest_copy(world, item_id, recipient, at)
    if current is not None and (current.destroyed_at is None or at < current.destroyed_at):
        reasons.append(Reason(ALREADY_HELD, f"{recipient} already holds {item_id}"))
    if hub is None:
        return _direct(facts, item, sender, recipient, level, at, reasons)
    return _through_hub(facts, item, sender, hub, recipient, level, at, reasons)


def _latest_copy(world: World, item_id: str, party: str, at: datetime) -> Holding | None:
    """World.holding, with its common case first: the last copy was received before ``at``."""
    copies = world.holdings.get((item_id, party))
    if not copies:
        return None
    last = copies[-1]
    return last if last.received_at <= at else world.holding(item_id, party, at)


def _articles(
    facts: Facts,
    item: Item,
    holding: Holding | None,
    request: ReleaseRequest,
    at: datetime,
    reasons: list[Reason],
) -> tuple[Item, Holding | None]:
    """Art. 6(g): the item's classification and the sender's marking at ``at``; Art. 17 (R9): a
    release hold of the sender on the recipient (or the hub) is a reason to deny."""
    if item.id in facts.world.reclassifications:
        item = classified(facts, item, at)
        if holding is not None:
            holding = marking(facts, holding, at).holding
    hub, recipient = request.via, request.to_party
    held = held_reason(
        facts, request.from_party, (recipient,) if hub is None else (hub, recipient), at
    )
    if held is not None:
        reasons.append(held)
    return item, holding


def covering_agreement(facts: Facts, request: ReleaseRequest, at: datetime) -> str | None:
    """The agreement that carries this route at ``at`` under R1 and R8 (in force, level and
    topics covered), whatever the item-level reasons (copies, caveat, consent); None if none."""
    world = facts.world
    item = world.item(request.item)
    sender, recipient, hub = request.from_party, request.to_party, request.via
    item = classified(facts, item, at)
    holding = world.holding(item.id, sender, at)
    if holding is not None:
        holding = marking(facts, holding, at).holding
    level = (
        holding.level
        if holding is not None
        else (item.level if sender == item.originator else None)
    )
    members = {sender, recipient} if hub is None else {sender, hub, recipient}
    targets = (recipient,) if hub is None else (hub, recipient)
    for agreement_id in world.agreements_between(sender, recipient):
        arrangement_hub = world.agreements[agreement_id].hub
        if (
            hub is None
            and arrangement_hub is not None
            and arrangement_hub not in (sender, recipient)
        ):
            continue
        if hub is not None and arrangement_hub != hub:
            continue
        status, terms = facts.status_terms(agreement_id, at)
        if (
            members <= terms.parties
            and _levels(item, status, terms, sender, targets, level) is not None
        ):
            return agreement_id
    return None


def _unknown_party(world: World, codes: tuple[str | None, ...]) -> None:
    """Raise UnknownReference for the first code that names no party."""
    for code in codes:
        if code is not None:
            world.party(code)


def _caveat_and_consent(
    world: World, item: Item, holder: str, to: str, at: datetime, reasons: list[Reason]
) -> None:
    """One hop: R5 for the party that would hold a copy, R4 when a non-originator passes it on."""
    originator = item.originator
    if to not in item.releasable_to and to != originator:
        reasons.append(
            Reason(NOT_RELEASABLE_TO, f"{originator} has not made {item.id} releasable to {to}")
        )
    if (
        originator not in (holder, to)
        and world.item_consent_at(item.id, holder, to, at) is not True
    ):
        reasons.append(
            Reason(
                NO_ORIGINATOR_CONSENT,
                f"{holder} has no consent from {originator} to pass {item.id} to {to}",
            )
        )


def _direct(
    facts: Facts,
    item: Item,
    sender: str,
    recipient: str,
    level: str | None,
    at: datetime,
    reasons: list[Reason],
) -> Decision:
    world = facts.world
    uncovered: list[tuple[str, Status, Terms]] = []  # their reasons are written only if needed
    hub_only: list[tuple[str, str]] = []
    for agreement_id in world.agreements_between(sender, recipient):
        status, terms = facts.status_terms(agreement_id, at)
        members = terms.parties
        if sender not in members or recipient not in members:
            continue
        hub = world.agreements[agreement_id].hub
        if hub is not None and hub not in (sender, recipient):
            hub_only.append((agreement_id, hub))
            continue
        found = _levels(item, status, terms, sender, (recipient,), level)
        if found is None:
            uncovered.append((agreement_id, status, terms))
            continue
        if reasons:
            return Decision(False, tuple(reasons))
        copy = Holding(
            item.id, recipient, found[0], item.originator, item.level, at, agreement_id, None
        )
        message = f"{agreement_id} is in force and covers {sender} {level} = {recipient} {found[0]}"
        return Decision(True, (Reason(RELEASE_ALLOWED, message, agreement_id),), (copy,))
    blocking = _uncovered(item, uncovered, sender, (recipient,), level, at)
    if not blocking:
        routes = "; ".join(f"{agreement_id} (through {hub} only)" for agreement_id, hub in hub_only)
        detail = f" (arrangements: {routes})" if routes else ""
        blocking.append(
            Reason(
                NO_AGREEMENT,
                f"no agreement covers a direct release {sender}→{recipient}{detail}",
            )
        )
    return Decision(False, (*reasons, *blocking))


def _through_hub(
    facts: Facts,
    item: Item,
    sender: str,
    hub: str,
    recipient: str,
    level: str | None,
    at: datetime,
    reasons: list[Reason],
) -> Decision:
    world = facts.world
    uncovered: list[tuple[str, Status, Terms]] = []  # their reasons are written only if needed
    for agreement_id in world.agreements_between(sender, recipient):
        if world.agreements[agreement_id].hub != hub:
            continue
        status, terms = facts.status_terms(agreement_id, at)
        members = terms.parties
        if sender not in members or hub not in members or recipient not in members:
            continue
        found = _levels(item, status, terms, sender, (hub, recipient), level)
        if found is None:
            uncovered.append((agreement_id, status, terms))
            continue
        if reasons:
            return Decision(False, tuple(reasons))
        copies = []
        current = world.holding(item.id, hub, at)
        if current is None or not current.held_at(at):
            copies.append(
                Holding(item.id, hub, found[0], item.originator, item.level, at, agreement_id, None)
            )
        copies.append(
            Holding(
                item.id, recipient, found[1], item.originator, item.level, at, agreement_id, hub
            )
        )
        message = (
            f"{agreement_id} routes {sender}→{hub}→{recipient}: {sender} {level} = {hub} {found[0]}"
            f" = {recipient} {found[1]}"
        )
        return Decision(True, (Reason(RELEASE_ALLOWED, message, agreement_id),), tuple(copies))
    blocking = _uncovered(item, uncovered, sender, (hub, recipient), level, at)
    if not blocking:
        blocking.append(
            Reason(NO_HUB_ROUTE, f"no arrangement routes {sender}→{recipient} through {hub}")
        )
    return Decision(False, (*reasons, *blocking))


def _levels(
    item: Item,
    status: Status,
    terms: Terms,
    sender: str,
    targets: tuple[str, ...],
    level: str | None,
) -> tuple[str, ...] | None:
    """R1 for one agreement: the targets' equivalent levels, or None if it does not cover.

    With no level (the sender holds no copy; a reason already says so) only the agreement's
    state and topics count, and the answer is ``()``. ``_reasons`` says why it does not cover.
    """
    if status not in IN_FORCE:
        return None
    scope = terms.topics.topics  # None: all topics (TopicScope.covers)
    if scope is not None and not item.topics <= scope:
        return None
    if level is None:
        return ()
    equivalent = terms.equivalence.equivalent
    levels = []
    for target in targets:
        other = equivalent(sender, level, target)
        if other is None:
            return None
        levels.append(other)
    return tuple(levels)


def _uncovered(
    item: Item,
    uncovered: list[tuple[str, Status, Terms]],
    sender: str,
    targets: tuple[str, ...],
    level: str | None,
    at: datetime,
) -> list[Reason]:
    """Why each of these agreements does not cover the release, in their order."""
    return [
        reason
        for agreement_id, status, terms in uncovered
        for reason in _reasons(item, status, terms, sender, targets, level, agreement_id, at)
    ]


def _reasons(
    item: Item,
    status: Status,
    terms: Terms,
    sender: str,
    targets: tuple[str, ...],
    level: str | None,
    agreement_id: str,
    at: datetime,
) -> list[Reason]:
    """Every reason one agreement does not cover the release (R1); empty when it does."""
    found: list[Reason] = []
    if status not in IN_FORCE:
        found.append(
            Reason(
                AGREEMENT_NOT_IN_FORCE,
                f"{agreement_id} is {status.value} at {iso(at)}",
                agreement_id,
            )
        )
    if level is not None:
        equivalent = terms.equivalence.equivalent
        for target in targets:
            if equivalent(sender, level, target) is None:
                found.append(
                    Reason(
                        LEVEL_NOT_COVERED,
                        f"{agreement_id} has no {target} equivalent for {sender} {level}",
                        agreement_id,
                    )
                )
    scope = terms.topics.topics
    if scope is not None and not item.topics <= scope:
        found.append(
            Reason(
                TOPIC_OUT_OF_SCOPE,
                f"{agreement_id} does not cover topics of {item.id}",
                agreement_id,
            )
        )
    return found
