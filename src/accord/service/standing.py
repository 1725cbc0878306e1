"""Standing release rules and consents on an exchange: recording them, revoking them, routing
each new item by them in the unit of work that creates it, and reading back what they did.

Every routing outcome is one log entry of kind ``rule-release``: its subject names the rule,
the item, the recipient, the route taken (``direct``, ``via USA``, or ``none``), the release
made (``from``, ``to``, ``via``) and each route's reasons with their sentences.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from accord.model.facts import FactKind
from accord.model.rules import (
    Route,
    RouteOutcome,
    RuleRevoked,
    StandingConsent,
    StandingRule,
    Window,
)
from accord.model.time import iso
from accord.policy.reasons import Code, Decision, Reason
from accord.policy.routing import RouteChoice, choose_route, matching_rules

if TYPE_CHECKING:  # the exchange imports this module lazily; see ``route_new_item``
    from accord.service.exchange import Exchange, Session

RULE_RELEASE = "rule-release"
NONE = RouteOutcome.NONE.value


@dataclass(frozen=True, slots=True)
class RoutingEntry:
    """One logged routing outcome, as ``accord rule log`` shows it."""

    seq: int
    at: str
    rule: str
    item: str
    to: str
    route: str  # direct | via CODE | none
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "at": self.at,
            "rule": self.rule,
            "item": self.item,
            "to": self.to,
            "route": self.route,
            "reasons": list(self.reasons),
        }


def add_rule(exchange: Exchange, rule: StandingRule) -> None:
    """Record a standing rule, signed by its originator (bad references change nothing)."""
    with exchange.session(write=True) as s:
        exchange.record_fact(s, FactKind.STANDING_RULE, rule)
        s.log("standing-rule", rule.window.start, {"rule": rule.id, "by": rule.originator})


def add_consent(exchange: Exchange, consent: StandingConsent) -> None:
    """Record a standing consent, signed by the originator that gives it."""
    with exchange.session(write=True) as s:
        exchange.record_fact(s, FactKind.STANDING_CONSENT, consent)
        s.log("standing-consent", consent.window.start, {"rule": consent.id, "by": consent.by})


def revoke(exchange: Exchange, revocation: RuleRevoked) -> Decision:
    """Revoke a standing rule or consent from ``revocation.at`` on; an unknown id, another
    party's rule or a second revocation is refused (``InvalidInput``) and changes nothing."""
    with exchange.session(write=True) as s:
        s.world.check_order(revocation.at, f"revocation of {revocation.rule}")
        exchange.record_fact(s, FactKind.RULE_REVOCATION, revocation)
        message = f"{revocation.by} revoked {revocation.rule} from {iso(revocation.at)} on"
        decision = Decision(True, (Reason(Code.EVENT_ALLOWED, message),))
        s.log(
            "rule-revoked", revocation.at, {"rule": revocation.rule, "by": revocation.by}, decision
        )
        return decision


def route_new_item(exchange: Exchange, s: Session, item_id: str, at: datetime) -> None:
    """Evaluate every standing rule that matches the new item at its instant and make the
    releases they allow, recipients in each rule's order, in the session's unit of work."""
    from accord.service.exchange import release_subjects  # noqa: PLC0415

    item = s.world.items[item_id]
    for rule in matching_rules(s.facts, item, at):
        hubs: dict[str, str] = {}  # a hub that got its copy on an earlier recipient's route
        for recipient in rule.recipients:
            if recipient in hubs:
                _log_hub_copy(s, rule.id, item.id, item.originator, recipient, hubs[recipient], at)
                continue
            choice = choose_route(s.facts, rule, item, recipient, at)
            chosen = choice.chosen
            if chosen is not None:
                # a release that rests on a fact that failed its check is refused, as by hand
                exchange.require_sound(s, *release_subjects(chosen.request))
                exchange.make_release(s, chosen.request, at, chosen.decision)
                if chosen.request.via is not None:
                    hubs[chosen.request.via] = recipient
            _log(s, choice, item.originator, at)


def _log_hub_copy(
    s: Session, rule: str, item: str, originator: str, hub: str, served: str, at: datetime
) -> None:
    """The hub got its copy directly from the originator, as the hub of ``served``'s route:
    that copy is this recipient's, and it is not released again."""
    message = f"{hub} received its copy from {originator} as the hub of the release to {served}"
    reason = Reason(Code.RELEASE_ALLOWED, message)
    subject = {
        "rule": rule,
        "item": item,
        "recipient": hub,
        "route": Route(None).label,
        "from": originator,
        "to": hub,
        "via": None,
        "explained": [f"{reason.code.value}: {message}"],
    }
    s.log(RULE_RELEASE, at, subject, Decision(True, (reason,)))


def _log(s: Session, choice: RouteChoice, originator: str, at: datetime) -> None:
    chosen = choice.chosen
    reasons = choice.reasons()
    if chosen is None:
        release = {"from": originator, "to": choice.recipient, "via": None}
        decision = Decision(False, reasons)
        route = NONE
    else:
        request = chosen.request
        release = {"from": request.from_party, "to": request.to_party, "via": request.via}
        decision = Decision(True, reasons, chosen.decision.holdings)
        route = chosen.route.label
    subject = {
        "rule": choice.rule,
        "item": choice.item,
        "recipient": choice.recipient,
        "route": route,
        **release,
        "explained": [f"{r.code.value}: {r.message}" for r in reasons],
    }
    s.log(RULE_RELEASE, at, subject, decision)


def routing_log(
    exchange: Exchange, rule: str | None = None, item: str | None = None
) -> list[RoutingEntry]:
    """Every logged routing outcome, oldest first (of one rule, or one item, when given)."""
    return [
        e
        for e in _entries(exchange)
        if (rule is None or e.rule == rule) and (item is None or e.item == item)
    ]


def route_taken(exchange: Exchange, item: str, recipient: str) -> str:
    """The route the standing rules took for ``item`` to ``recipient``, or ``none``."""
    for entry in routing_log(exchange, item=item):
        if entry.to == recipient and entry.route != NONE:
            return entry.route
    return NONE


def _entries(exchange: Exchange) -> Iterator[RoutingEntry]:
    from accord.service import journal  # noqa: PLC0415

    with exchange.session(write=False) as s:
        for seq, leaf, _ in s.tx.entries():
            body = journal.decode_entry(leaf, seq)
            if body.get("kind") == RULE_RELEASE:
                yield _entry(seq, body)


def _entry(seq: int, body: dict[str, Any]) -> RoutingEntry:
    subject = body["subject"]
    return RoutingEntry(
        seq,
        str(body["at"]),
        str(subject["rule"]),
        str(subject["item"]),
        str(subject["recipient"]),
        str(subject["route"]),
        tuple(str(r) for r in subject.get("explained", ())),
    )


def standing(
    exchange: Exchange,
) -> tuple[list[StandingRule], list[StandingConsent], dict[str, str]]:
    """The standing rules and consents recorded, by id, and when each was revoked."""
    world = exchange.snapshot()
    rules = [world.standing_rules[r] for r in sorted(world.standing_rules)]
    consents = [world.standing_consents[c] for c in sorted(world.standing_consents)]
    return rules, consents, {k: iso(v) for k, v in world.revoked.items()}


# --- the JSON shapes of rules and consents (the admin API and `accord rule ... --json`) ---------


def window_json(window: Window, revoked: str | None) -> dict[str, Any]:
    until = iso(window.until) if window.until is not None else None
    return {"from": iso(window.start), "until": until, "revoked": revoked}


def rule_json(r: StandingRule, revoked: str | None) -> dict[str, Any]:
    return {
        "id": r.id,
        "originator": r.originator,
        "topics": sorted(r.topics),
        "max_level": r.max_level,
        "to": list(r.recipients),
        "routes": [route.label for route in r.routes],
        **window_json(r.window, revoked),
    }


def consent_json(c: StandingConsent, revoked: str | None) -> dict[str, Any]:
    return {
        "id": c.id,
        "by": c.by,
        "holder": c.holder,
        "to": sorted(c.recipients),
        "topics": sorted(c.topics),
        "max_level": c.max_level,
        **window_json(c.window, revoked),
    }
