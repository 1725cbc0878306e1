"""What a lapse would do: for the flows an agreement has carried, what stops and what still has
a lawful route at an instant, and which holdings stay protected (R7, R8)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from accord.model.item import Holding
from accord.model.matters import MatterState
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


# --- what a matter's state would do (R15) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConditionalImpact:
    """What follows for ``agreement`` if ``matter`` took ``state`` at ``at`` (nothing is stored):
    the agreement's state at ``at`` as recorded and as supposed, the instant it would end
    (None when it would not), why, and the impact of that end on the flows it carried."""

    agreement: str
    matter: str
    state: str
    at: datetime
    actual: AgreementState
    supposed: AgreementState
    ends_at: datetime | None
    explanation: str
    report: ImpactReport | None

    def as_dict(self) -> dict[str, object]:
        return {
            "agreement": self.agreement,
            "if": {"matter": self.matter, "state": self.state, "at": iso(self.at)},
            "actual_state": self.actual.as_dict(),
            "supposed_state": self.supposed.as_dict(),
            "ends_at": iso(self.ends_at) if self.ends_at else None,
            "explanation": self.explanation,
            "impact": self.report.as_dict() if self.report is not None else None,
        }


def impact_if(
    facts: Facts, agreement_id: str, matter_id: str, state: str, at: datetime
) -> ConditionalImpact:
    """Suppose ``matter_id`` takes ``state`` at ``at``: the agreement's state then, the instant it
    would end because a condition of its notice failed, and what would stop flowing at that end
    (``impact`` at the end instant, in the supposed world). Pure: the world is not changed."""
    at = require_aware(at, "at")
    world = facts.world
    world.agreement(agreement_id)
    world.matter(matter_id).check_state(state, f"--if {matter_id}={state}")
    supposed_facts = Facts(world, MatterState(at, matter_id, state, "(supposed)"))
    actual = facts.state(agreement_id, at)
    supposed = supposed_facts.state(agreement_id, at)
    notice = supposed.notice
    if notice is not None and notice.failed_condition == matter_id and supposed.expires_at:
        ends_at = supposed.expires_at
        tz = facts.timeline(agreement_id).tz  # as the agreement's status shows its instants
        explanation = (
            f"a condition of {notice.by}'s suspension on {matter_id} fails at {iso(at, tz)}:"
            f" {agreement_id} ends at {iso(ends_at, tz)} (R15, R6)"
        )
        report = impact(supposed_facts, agreement_id, ends_at)
        return ConditionalImpact(
            agreement_id, matter_id, state, at, actual, supposed, ends_at, explanation, report
        )
    return ConditionalImpact(
        agreement_id,
        matter_id,
        state,
        at,
        actual,
        supposed,
        None,
        _why_nothing_stops(supposed, agreement_id, matter_id, state),
        None,
    )


def _why_nothing_stops(supposed: AgreementState, agreement_id: str, matter: str, state: str) -> str:
    held = [hc for hc in supposed.conditions if hc.condition.matter == matter]
    if not held:
        return (
            f"no outstanding note on {agreement_id} is conditional on {matter} at"
            f" {iso(supposed.at)}: its state does not change {agreement_id}'s"
        )
    if all(hc.condition.holds_in(state) for hc in held):
        return f"the condition on {matter} holds while it is {state}: nothing stops (R15)"
    return (
        f"the condition on {matter} fails, and its consequence is none: the suspension stays"
        " in force, and the notifying party may lift it at any time (R15)"
    )
