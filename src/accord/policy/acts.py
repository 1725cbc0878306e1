"""Checks for the acts that are not releases: consent (R4), destruction (R10), compromise (R9)."""

from __future__ import annotations

from datetime import datetime

from accord.model.acts import Compromise, Consent, Destruction
from accord.model.time import iso
from accord.policy.facts import Facts
from accord.policy.reasons import Code, Decision, Reason, allow, deny


def decide_consent(facts: Facts, consent: Consent) -> Decision:
    """Only the originator answers; a grant cannot reach past the releasable-to caveat (R5)."""
    item = facts.world.item(consent.item)
    for code in (consent.by, consent.holder, *sorted(consent.recipients)):
        facts.world.party(code)
    reasons: list[Reason] = []
    if consent.by != item.originator:
        reasons.append(
            Reason(
                Code.NOT_ORIGINATOR,
                f"{consent.by} is not the originator of {item.id} ({item.originator} is)",
            )
        )
    outside = sorted(consent.recipients - item.releasable_to)
    if consent.granted and outside:
        reasons.append(
            Reason(Code.NOT_RELEASABLE_TO, f"{item.id} is not releasable to {', '.join(outside)}")
        )
    if reasons:
        return deny(reasons)
    verb = "may" if consent.granted else "may not"
    return allow(
        Code.CONSENT_RECORDED,
        f"{consent.holder} {verb} pass {item.id} to {', '.join(sorted(consent.recipients))}",
    )


def _held(facts: Facts, item_id: str, party: str, what: str, at: datetime) -> list[Reason]:
    holding = facts.world.holding(item_id, party, at)
    if holding is None:
        return [Reason(Code.NOT_HELD, f"{party} holds no copy of {item_id} to {what} at {iso(at)}")]
    if not holding.held_at(at):
        return [Reason(Code.DESTROYED, f"{party}'s copy of {item_id} is already destroyed")]
    return []


def decide_destruction(facts: Facts, act: Destruction) -> Decision:
    facts.world.item(act.item)
    facts.world.party(act.party)
    reasons = _held(facts, act.item, act.party, "destroy", act.at)
    return (
        deny(reasons)
        if reasons
        else allow(Code.DESTRUCTION_RECORDED, f"{act.party} destroys its copy of {act.item}")
    )


def decide_compromise(facts: Facts, report: Compromise) -> Decision:
    facts.world.item(report.item)
    facts.world.party(report.party)
    reasons = _held(facts, report.item, report.party, "report", report.at)
    return (
        deny(reasons)
        if reasons
        else allow(Code.COMPROMISE_RECORDED, f"{report.party} reports compromise of {report.item}")
    )
