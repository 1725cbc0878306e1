"""What a lapse would do: for the flows an agreement has carried, what stops and what still has
a lawful route at an instant, and which holdings stay protected (R7, R8)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from accord.model.item import Holding
from accord.model.requests import ReleaseRequest
from accord.model.time import iso, require_aware
from accord.policy.facts import Facts, LapsedFacts
from accord.policy.lifecycle import AgreementState
from accord.policy.reasons import Code, Decision
from accord.policy.release import covering_agreement, decide_release

# a copy the recipient already has does not make the flow itself unlawful
_IGNORED = {Code.ALREADY_HELD}


@dataclass(frozen=True, slots=True)
class Outcome:
    """After the lapse: ``still-flows``, ``needs-consent`` or ``blocked``, and by which route."""

    verdict: str
    agreement: str | None
    via: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class FlowImpact:
    originator: str
    sender: str
    recipient: str
    level: str
    topics: frozenset[str]
    items: tuple[str, ...]
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class ImpactReport:
    agreement: str
    at: datetime
    state: AgreementState
    flows: tuple[FlowImpact, ...]
    protected: tuple[Holding, ...]

    def as_dict(self) -> dict[str, object]:
        """The report as JSON-ready data (CLI --json and the admin API)."""
        return {
            "agreement": self.agreement,
            "at": iso(self.at),
            "actual_state": self.state.as_dict(),
            "flows": [
                {
                    "originator": f.originator,
                    "from": f.sender,
                    "to": f.recipient,
                    "level": f.level,
                    "topics": sorted(f.topics),
                    "items": list(f.items),
                    "after": f.outcome.verdict,
                    "agreement": f.outcome.agreement,
                    "via": f.outcome.via,
                    "detail": f.outcome.detail,
                }
                for f in self.flows
            ],
            "protected_holdings": [
                {
                    "item": h.item,
                    "party": h.party,
                    "level": h.level,
                    "originator": h.originator,
                    "originator_level": h.originator_level,
                    "received_at": iso(h.received_at),
                    "via": h.via,
                }
                for h in self.protected
            ],
        }


def _effective(decision: Decision) -> tuple[bool, set[Code]]:
    codes = {r.code for r in decision.reasons} - _IGNORED
    return decision.allowed or (not decision.allowed and not codes), codes


def _outcome(facts: Facts, item: str, sender: str, recipient: str, at: datetime) -> Outcome:
    """The route a flow like this one would still have at ``at``; details never name the item,
    so that flows of the same kind group together."""
    world = facts.world
    direct = ReleaseRequest(item, sender, recipient)
    ok, codes = _effective(decide_release(facts, direct, at))
    if ok:
        agreement = covering_agreement(facts, direct, at)
        return Outcome("still-flows", agreement, None, f"directly under {agreement}")
    consent_route: Outcome | None = None
    for agreement_id in world.agreements_between(sender, recipient):
        hub = world.agreements[agreement_id].hub
        if hub is None or hub in (sender, recipient):
            continue
        routed = ReleaseRequest(item, sender, recipient, hub)
        ok, route_codes = _effective(decide_release(facts, routed, at))
        if ok:
            return Outcome("still-flows", agreement_id, hub, f"through {hub} under {agreement_id}")
        if route_codes == {Code.NO_ORIGINATOR_CONSENT} and consent_route is None:
            originator = world.items[item].originator
            hops = [(sender, hub)] if sender != originator else []
            hops.append((hub, recipient))
            needed = " and ".join(f"{holder} to pass it to {to}" for holder, to in hops)
            detail = f"through {hub} under {agreement_id}, with {originator}'s consent for {needed}"
            consent_route = Outcome("needs-consent", agreement_id, hub, detail)
    if consent_route is not None:
        return consent_route
    return Outcome("blocked", None, None, ", ".join(sorted(c.value for c in codes)))


def impact(facts: Facts, agreement_id: str, at: datetime) -> ImpactReport:
    """Suppose ``agreement_id`` is not in force from ``at`` on; re-decide every flow it carried."""
    at = require_aware(at, "at")
    world = facts.world
    world.agreement(agreement_id)
    lapsed = LapsedFacts(facts, agreement_id, at)
    groups: dict[tuple[str, str, str, str, frozenset[str], Outcome], list[str]] = defaultdict(list)
    seen: set[tuple[str, str, str]] = set()
    for release in world.releases:
        if release.agreement != agreement_id or release.at >= at:
            continue
        key = (release.item, release.from_party, release.to_party)
        if key in seen:
            continue
        seen.add(key)
        item = world.items[release.item]
        outcome = _outcome(lapsed, release.item, release.from_party, release.to_party, at)
        group = (
            item.originator,
            release.from_party,
            release.to_party,
            item.level,
            item.topics,
            outcome,
        )
        groups[group].append(release.item)
    flows = tuple(
        FlowImpact(o, s, r, level, topics, tuple(items), outcome)
        for (o, s, r, level, topics, outcome), items in sorted(
            groups.items(), key=lambda g: (g[0][:4], sorted(g[0][4]))
        )
    )
    protected = tuple(
        holding
        for copies in world.holdings.values()
        for holding in copies
        if holding.agreement == agreement_id and holding.held_at(at)
    )
    return ImpactReport(agreement_id, at, facts.state(agreement_id, at), flows, protected)
