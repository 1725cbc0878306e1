"""Standing rules: which of a new item's recipients get it, and by which route, at its instant.

For each recipient in the rule's order the route is the first in the rule's list that the full
release decision allows (R1, R2, R4, R5, R8 exactly as a hand release). When the hub already
holds its own live copy, the route through it passes that copy on (the hub releases it onward,
which needs the originator's consent: a standing consent or one on the item). If no route is
lawful, nothing is released and every route's reasons are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accord.model.item import Item
from accord.model.requests import ReleaseRequest
from accord.model.rules import Route, StandingRule
from accord.model.time import require_aware
from accord.policy.facts import Facts
from accord.policy.reasons import Decision, Reason
from accord.policy.release import decide_release


@dataclass(frozen=True, slots=True)
class RouteTried:
    """One route considered for a recipient: the request it stands for and the decision."""

    route: Route
    request: ReleaseRequest
    decision: Decision


@dataclass(frozen=True, slots=True)
class RouteChoice:
    """The outcome for one recipient: ``chosen`` is the lawful route taken, or None."""

    rule: str
    item: str
    recipient: str
    tried: tuple[RouteTried, ...]

    @property
    def chosen(self) -> RouteTried | None:
        last = self.tried[-1] if self.tried else None
        return last if last is not None and last.decision.allowed else None

    def reasons(self) -> tuple[Reason, ...]:
        """Every route's reasons, each message prefixed with its route."""
        return tuple(
            Reason(reason.code, f"{tried.route.label}: {reason.message}", reason.agreement)
            for tried in self.tried
            for reason in tried.decision.reasons
        )


def rule_applies(facts: Facts, rule: StandingRule, item: Item, at: datetime) -> bool:
    """The rule is in force at ``at`` and covers the item: its originator, every one of its
    topics, and a level no higher than the rule's highest."""
    world = facts.world
    return (
        rule.originator == item.originator
        and item.topics <= rule.topics
        and world.within_level(item.originator, item.level, rule.max_level)
        and world.standing_at(rule.id, rule.window.covers(at), at)
    )


def matching_rules(facts: Facts, item: Item, at: datetime) -> tuple[StandingRule, ...]:
    """The standing rules that apply to ``item`` at ``at``, by id."""
    at = require_aware(at, "at")
    rules = facts.world.standing_rules
    return tuple(rules[r] for r in sorted(rules) if rule_applies(facts, rules[r], item, at))


def route_request(
    facts: Facts, item: Item, recipient: str, route: Route, at: datetime
) -> ReleaseRequest:
    """The release a route stands for: the originator's, or, through a hub that already
    holds its own live copy, the hub's release of that copy onward."""
    hub = route.via
    if hub is None:
        return ReleaseRequest(item.id, item.originator, recipient, None)
    copy = facts.world.holding(item.id, hub, at)
    if copy is not None and copy.held_at(at):
        return ReleaseRequest(item.id, hub, recipient, None)
    return ReleaseRequest(item.id, item.originator, recipient, hub)


def choose_route(
    facts: Facts, rule: StandingRule, item: Item, recipient: str, at: datetime
) -> RouteChoice:
    """The first lawful route of the rule for ``recipient``, with the decisions of the routes
    tried before it (all of them when none is lawful)."""
    at = require_aware(at, "at")
    tried: list[RouteTried] = []
    for route in rule.routes:
        if route.via == recipient:
            continue  # a route through the recipient itself is no route to it
        request = route_request(facts, item, recipient, route, at)
        decision = decide_release(facts, request, at)
        tried.append(RouteTried(route, request, decision))
        if decision.allowed:
            break
    return RouteChoice(rule.id, item.id, recipient, tuple(tried))
