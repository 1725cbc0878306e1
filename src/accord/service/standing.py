"""Standing release rules and consents on an exchange: recording them, revoking them, routing
each new item by them in the unit of work that creates it, and reading back what they did.

Every routing outcome is one log entry of kind ``rule-release``: its subject names the rule,
the item, the recipient, the route taken (``direct``, ``via USA``, or ``none``), the release
made (``from``, ``to``, ``via``), each route's reasons with their sentences, the instant the
rules were evaluated at (``evaluated``, the entry's own instant) and what made them evaluate
(``trigger``): ``created`` when the item was created, ``agreement:<id>`` when that agreement
changed state (see ``reevaluate``).

Re-evaluation: when an agreement changes state at an instant T (an event that changes it, or
the passage of time: a termination or an amendment taking effect), every recipient whose last
outcome for a rule is ``none``, that never held a copy of the item, that is a party to the
agreement, and whose rule still applies at T gets a new decision AT T, logged with
``trigger: agreement:<id>``. A copy refused earlier is released only by such a decision. The
changes due are found when the next act arrives (before it is applied, so the record stays in
time order) and by ``accord serve``'s timer (``evaluate_due``); a recipient already decided at
or after T is not decided again, so both may run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from accord.model.facts import FactKind
from accord.model.item import Item
from accord.model.rules import (
    Route,
    RouteOutcome,
    RuleRevoked,
    StandingConsent,
    StandingRule,
    Window,
)
from accord.model.time import iso
from accord.policy.changes import changes_between, next_change
from accord.policy.reasons import Code, Decision, Reason
from accord.policy.routing import RouteChoice, choose_route, matching_rules, rule_applies

if TYPE_CHECKING:  # the exchange imports this module lazily; see ``route_new_item``
    from accord.service.exchange import Exchange, Session

RULE_RELEASE = "rule-release"
NONE = RouteOutcome.NONE.value
CREATED = "created"
AGREEMENT = "agreement:"


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
    trigger: str = CREATED  # created | agreement:<id>

    def as_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "at": self.at,
            "rule": self.rule,
            "item": self.item,
            "to": self.to,
            "route": self.route,
            "reasons": list(self.reasons),
            "evaluated": self.at,
            "trigger": self.trigger,
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
        reevaluate_due(exchange, s, s.world.latest, revocation.at)
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
    item = s.world.items[item_id]
    for rule in matching_rules(s.facts, item, at):
        _serve(exchange, s, rule, item, rule.recipients, at, CREATED)


def _serve(
    exchange: Exchange,
    s: Session,
    rule: StandingRule,
    item: Item,
    recipients: Iterable[str],
    at: datetime,
    trigger: str,
) -> list[str]:
    """Decide each recipient in order at ``at`` and make the releases allowed; the recipients
    that got a copy (or whose copy a hub already got on an earlier recipient's route)."""
    from accord.service.exchange import release_subjects  # noqa: PLC0415

    served: list[str] = []
    hubs: dict[str, str] = {}  # a hub that got its copy on an earlier recipient's route
    for recipient in recipients:
        if recipient in hubs:
            _log_hub_copy(s, rule.id, item, recipient, hubs[recipient], at, trigger)
            served.append(recipient)
            continue
        choice = choose_route(s.facts, rule, item, recipient, at)
        chosen = choice.chosen
        if chosen is not None:
            # a release that rests on a fact that failed its check is refused, as by hand
            exchange.require_sound(s, *release_subjects(chosen.request))
            exchange.make_release(s, chosen.request, at, chosen.decision)
            served.append(recipient)
            if chosen.request.via is not None:
                hubs[chosen.request.via] = recipient
        _log(s, choice, item.originator, at, trigger)
    return served


# --- re-evaluation when an agreement changes state -----------------------------------------------


def reevaluate_due(exchange: Exchange, s: Session, after: datetime | None, until: datetime) -> int:
    """Re-evaluate the standing rules at each agreement state change in ``(after, until]``, in
    time order, in the session's unit of work (see the module); the number of decisions made."""
    if not s.world.standing_rules:
        return 0
    changes = changes_between(s.facts, after, until)
    if not changes:
        return 0
    waiting = _waiting(s)
    made = 0
    for instant, agreement_id in changes:
        made += _reevaluate(exchange, s, waiting, instant, agreement_id)
    return made


def evaluate_due(exchange: Exchange, since: datetime | None, now: datetime) -> int:
    """Time passing to ``now`` (``accord serve``'s timer, a scenario's last question):
    re-evaluate at each change in ``(since, now]`` that is after the latest recorded act
    (earlier ones were the next act's to evaluate)."""
    with exchange.session(write=True) as s:
        latest = s.world.latest
        after = latest if since is None or (latest is not None and latest > since) else since
        return reevaluate_due(exchange, s, after, now)


def next_due(exchange: Exchange, after: datetime) -> datetime | None:
    """The first agreement state change after ``after`` (None without standing rules)."""
    world = exchange.snapshot()
    if not world.standing_rules:
        return None
    with exchange.session(write=False) as s:
        return next_change(s.facts, after)


Key = tuple[str, str, str]  # rule, item, recipient


def _waiting(s: Session) -> dict[Key, datetime]:
    """Each (rule, item, recipient) whose last outcome is ``none``, with the instant it was
    last evaluated at (the log, and this unit of work's entries not yet written)."""
    from accord.service import journal  # noqa: PLC0415

    last: dict[Key, tuple[str, datetime]] = {}

    def note(body: dict[str, Any]) -> None:
        if body.get("kind") == RULE_RELEASE:
            subject = body["subject"]
            key = (str(subject["rule"]), str(subject["item"]), str(subject["recipient"]))
            last[key] = (str(subject["route"]), datetime.fromisoformat(str(body["at"])))

    for seq, leaf, _ in s.tx.entries():
        note(journal.decode_entry(leaf, seq))
    for body in s.pending.bodies if s.pending is not None else ():
        note(body)
    return {key: at for key, (route, at) in last.items() if route == NONE}


def _reevaluate(
    exchange: Exchange, s: Session, waiting: dict[Key, datetime], at: datetime, agreement: str
) -> int:
    world = s.world
    parties = {*world.agreements[agreement].terms.parties}
    parties |= s.facts.status_terms(agreement, at)[1].parties
    groups: dict[tuple[str, str], list[str]] = {}
    for (rule_id, item_id, recipient), evaluated in sorted(waiting.items()):
        if evaluated >= at or recipient not in parties or world.holdings.get((item_id, recipient)):
            continue
        groups.setdefault((rule_id, item_id), []).append(recipient)
    made = 0
    for (rule_id, item_id), recipients in groups.items():
        rule, item = world.standing_rules[rule_id], world.items[item_id]
        if item.created >= at or not rule_applies(s.facts, rule, item, at):
            continue
        ordered = [r for r in rule.recipients if r in recipients]  # the rule's order
        served = _serve(exchange, s, rule, item, ordered, at, AGREEMENT + agreement)
        made += len(ordered)
        for recipient in ordered:
            if recipient in served:
                del waiting[(rule_id, item_id, recipient)]
            else:
                waiting[(rule_id, item_id, recipient)] = at
    return made


def _log_hub_copy(
    s: Session, rule: str, item: Item, hub: str, served: str, at: datetime, trigger: str
) -> None:
    """The hub got its copy directly from the originator, as the hub of ``served``'s route:
    that copy is this recipient's, and it is not released again."""
    originator = item.originator
    message = f"{hub} received its copy from {originator} as the hub of the release to {served}"
    reason = Reason(Code.RELEASE_ALLOWED, message)
    subject = {
        "rule": rule,
        "item": item.id,
        "recipient": hub,
        "route": Route(None).label,
        "from": originator,
        "to": hub,
        "via": None,
        "explained": [f"{reason.code.value}: {message}"],
        "evaluated": iso(at),
        "trigger": trigger,
    }
    s.log(RULE_RELEASE, at, subject, Decision(True, (reason,)))


def _log(s: Session, choice: RouteChoice, originator: str, at: datetime, trigger: str) -> None:
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
        "evaluated": iso(at),
        "trigger": trigger,
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


def route_taken(
    exchange: Exchange, item: str, recipient: str, at: datetime | None = None
) -> RoutingEntry | None:
    """The outcome that stands for ``item`` to ``recipient`` (as of ``at``, when given): the
    route taken, or else the latest ``none``; None when the rules never decided it."""
    found: RoutingEntry | None = None
    for entry in routing_log(exchange, item=item):
        if entry.to != recipient or (at is not None and datetime.fromisoformat(entry.at) > at):
            continue
        if entry.route != NONE:
            return entry
        found = entry
    return found


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
        str(subject.get("trigger", CREATED)),
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
