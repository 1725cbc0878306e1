"""R1, R2, R4, R5, R8: may a party release an item to another, at an instant, and how is it marked."""

from __future__ import annotations

from datetime import datetime

from accord.errors import InvalidInput
from accord.model.agreement import Terms
from accord.model.item import Holding, Item
from accord.model.time import iso
from accord.policy.facts import Facts
from accord.policy.lifecycle import Status
from accord.policy.reasons import Code, Decision, Reason, allow, deny
from accord.policy.requests import ReleaseRequest

IN_FORCE = (Status.IN_FORCE, Status.NOTICE_PENDING)


def decide_release(facts: Facts, request: ReleaseRequest, at: datetime) -> Decision:
    """Allow only if every rule allows; otherwise deny with every reason that applies."""
    world = facts.world
    item = world.item(request.item)
    sender, recipient, hub = request.from_party, request.to_party, request.via
    for code in (sender, recipient, hub):
        if code is not None:
            world.party(code)
    if sender == recipient or hub in (sender, recipient):
        raise InvalidInput(
            f"release of {item.id}: sender, hub and recipient must be different parties"
        )
    reasons: list[Reason] = []
    holding = world.holding(item.id, sender, at)
    if holding is None:
        reasons.append(Reason(Code.NOT_HELD, f"{sender} holds no copy of {item.id} at {iso(at)}"))
    elif holding.destroyed_at is not None and holding.destroyed_at <= at:
        reasons.append(
            Reason(Code.DESTROYED, f"{sender} destroyed its copy at {iso(holding.destroyed_at)}")
        )
    level = (
        holding.level
        if holding is not None
        else (item.level if sender == item.originator else None)
    )
    _caveat_and_consent(facts, item, sender, recipient, hub, at, reasons)
    current = world.holding(item.id, recipient, at)
    if current is not None and current.held_at(at):
        reasons.append(Reason(Code.ALREADY_HELD, f"{recipient} already holds {item.id}"))
    if hub is None:
        return _direct(facts, item, sender, recipient, level, at, reasons)
    return _through_hub(facts, item, sender, hub, recipient, level, at, reasons)


def _caveat_and_consent(
    facts: Facts,
    item: Item,
    sender: str,
    recipient: str,
    hub: str | None,
    at: datetime,
    reasons: list[Reason],
) -> None:
    """R5 for every party that would hold a copy; R4 for every hop a non-originator makes."""
    hops = [(sender, recipient)] if hub is None else [(sender, hub), (hub, recipient)]
    for holder, to in hops:
        if to not in item.releasable_to and to != item.originator:
            reasons.append(
                Reason(
                    Code.NOT_RELEASABLE_TO,
                    f"{item.originator} has not made {item.id} releasable to {to}",
                )
            )
        if (
            holder != item.originator
            and facts.world.consent_at(item.id, holder, to, at) is not True
        ):
            reasons.append(
                Reason(
                    Code.NO_ORIGINATOR_CONSENT,
                    f"{holder} has no consent from {item.originator} to pass {item.id} to {to}",
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
    blocking: list[Reason] = []
    hub_only: list[str] = []
    for agreement_id in world.agreements_between(sender, recipient):
        status, terms = facts.status_terms(agreement_id, at)
        if sender not in terms.parties or recipient not in terms.parties:
            continue
        hub = world.agreements[agreement_id].hub
        if hub is not None and hub not in (sender, recipient):
            hub_only.append(f"{agreement_id} (through {hub} only)")
            continue
        found = _coverage(item, status, terms, sender, (recipient,), level, agreement_id, at)
        if isinstance(found, list):
            blocking.extend(found)
            continue
        if reasons:
            return deny(reasons)
        copy = Holding(item.id, recipient, found[0], item.originator, item.level, at, agreement_id)
        return allow(
            Code.RELEASE_ALLOWED,
            f"{agreement_id} is in force and covers {sender} {level} = {recipient} {found[0]}",
            agreement_id,
            (copy,),
        )
    if not blocking:
        routes = "; ".join(hub_only)
        detail = f" (arrangements: {routes})" if routes else ""
        blocking.append(
            Reason(
                Code.NO_AGREEMENT,
                f"no agreement covers a direct release {sender}→{recipient}{detail}",
            )
        )
    return deny(reasons + blocking)


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
    blocking: list[Reason] = []
    for agreement_id in world.agreements_between(sender, recipient):
        if world.agreements[agreement_id].hub != hub:
            continue
        status, terms = facts.status_terms(agreement_id, at)
        if not {sender, hub, recipient} <= terms.parties:
            continue
        found = _coverage(item, status, terms, sender, (hub, recipient), level, agreement_id, at)
        if isinstance(found, list):
            blocking.extend(found)
            continue
        if reasons:
            return deny(reasons)
        copies = []
        current = world.holding(item.id, hub, at)
        if current is None or not current.held_at(at):
            copies.append(
                Holding(item.id, hub, found[0], item.originator, item.level, at, agreement_id)
            )
        copies.append(
            Holding(
                item.id, recipient, found[1], item.originator, item.level, at, agreement_id, hub
            )
        )
        return allow(
            Code.RELEASE_ALLOWED,
            f"{agreement_id} routes {sender}→{hub}→{recipient}: {sender} {level} = {hub} {found[0]}"
            f" = {recipient} {found[1]}",
            agreement_id,
            tuple(copies),
        )
    if not blocking:
        blocking.append(
            Reason(Code.NO_HUB_ROUTE, f"no arrangement routes {sender}→{recipient} through {hub}")
        )
    return deny(reasons + blocking)


def _coverage(
    item: Item,
    status: Status,
    terms: Terms,
    sender: str,
    targets: tuple[str, ...],
    level: str | None,
    agreement_id: str,
    at: datetime,
) -> tuple[str, ...] | list[Reason]:
    """R1 for one agreement: the targets' equivalent levels, or the reasons it does not cover."""
    found: list[Reason] = []
    if status not in IN_FORCE:
        found.append(
            Reason(
                Code.AGREEMENT_NOT_IN_FORCE,
                f"{agreement_id} is {status.value} at {iso(at)}",
                agreement_id,
            )
        )
    levels: list[str] = []
    if level is not None:
        for target in targets:
            other = terms.equivalence.equivalent(sender, level, target)
            if other is None:
                found.append(
                    Reason(
                        Code.LEVEL_NOT_COVERED,
                        f"{agreement_id} has no {target} equivalent for {sender} {level}",
                        agreement_id,
                    )
                )
            else:
                levels.append(other)
    if not terms.topics.covers(item.topics):
        found.append(
            Reason(
                Code.TOPIC_OUT_OF_SCOPE,
                f"{agreement_id} does not cover topics of {item.id}",
                agreement_id,
            )
        )
    return found if found else tuple(levels)
