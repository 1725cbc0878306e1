"""A scenario's standing rules and consents, its ``rule_revoked`` events and ``check: route``.

```yaml
standing_rules:
  - {id: kor-warnings, originator: KOR, topics: [nk-missile], max_level: 군사II급비밀,
     to: [JPN, USA], routes: [direct, via USA], from: 2019-01-01T00:00:00+09:00}
standing_consents:
  - {id: usa-may-pass, by: KOR, holder: USA, to: [JPN], topics: [nk-missile],
     max_level: 군사II급비밀, from: 2019-01-01T00:00:00+09:00}
```
"""

from __future__ import annotations

from datetime import datetime

from accord.errors import InvalidInput
from accord.model.rules import Route, RuleRevoked, StandingConsent, StandingRule, Window
from accord.scenario.entry import Entry
from accord.scenario.references import References
from accord.scenario.source import show
from accord.scenario.spec import ROUTE_NONE, Act, Expectation


def _window(entry: Entry) -> Window:
    start, until = entry.instant("from"), entry.optional_instant("until")
    with entry.located("until"):
        return Window(start, until)


def _routes(entry: Entry) -> tuple[Route, ...]:
    routes = []
    for index, text in enumerate(entry.texts("routes")):
        try:
            routes.append(Route.parse(text, f"{entry.where('routes')}[{index}]"))
        except InvalidInput as error:
            raise entry.source.fail(error.message, (*entry.path, "routes", index)) from None
    return tuple(routes)


def standing_rule(entry: Entry, refs: References) -> StandingRule:
    originator = refs.party(entry, "originator")
    recipients = entry.texts("to")
    refs.party_codes(entry, "to")
    routes = _routes(entry)
    for index, route in enumerate(routes):
        if route.via is not None and route.via not in refs.world.parties:
            raise entry.source.fail(
                f"{entry.where('routes')}[{index}]: unknown party {show(route.via)}",
                (*entry.path, "routes", index),
            )
    with entry.located():
        return StandingRule(
            entry.text("id"),
            originator.code,
            refs.topics(entry, "topics"),
            refs.level(entry, "max_level", originator),
            tuple(recipients),
            routes,
            _window(entry),
        )


def standing_consent(entry: Entry, refs: References) -> StandingConsent:
    by = refs.party(entry, "by")
    with entry.located():
        return StandingConsent(
            entry.text("id"),
            by.code,
            refs.party(entry, "holder").code,
            refs.party_codes(entry, "to"),
            refs.topics(entry, "topics"),
            refs.level(entry, "max_level", by),
            _window(entry),
        )


def rule_revoked(entry: Entry, refs: References, at: datetime) -> Act:
    """``{at, type: rule_revoked, rule}``: revoked by the rule's (or consent's) originator."""
    rule_id = entry.text("rule")
    world = refs.world
    rule = world.standing_rules.get(rule_id)
    consent = world.standing_consents.get(rule_id)
    if rule is not None:
        return RuleRevoked(at, rule_id, rule.originator)
    if consent is not None:
        return RuleRevoked(at, rule_id, consent.by)
    known = ", ".join(sorted({*world.standing_rules, *world.standing_consents})) or "none defined"
    raise entry.fail(
        f"{entry.where('rule')}: no standing rule or consent {show(rule_id)} (defined: {known})",
        "rule",
    )


def route_expectation(entry: Entry, refs: References) -> Expectation:
    """``{at, check: route, item, to, route, evaluated?, agreement?}``: route is ``direct``,
    ``via CODE`` or ``none``; ``evaluated`` the instant of the decision that stands by ``at``,
    ``agreement`` the agreement whose change of state triggered it."""
    route = entry.text("route")
    if route != ROUTE_NONE:
        try:
            parsed = Route.parse(route, entry.where("route"))
        except InvalidInput as error:
            raise entry.fail(f"{error.message} nor 'none'", "route") from None
        if parsed.via is not None and parsed.via not in refs.world.parties:
            raise entry.fail(f"{entry.where('route')}: unknown party {show(parsed.via)}", "route")
    return Expectation(
        line=entry.line,
        at=entry.instant("at"),
        check="route",
        request=refs.item(entry).id,
        route=route,
        recipient=refs.party(entry, "to").code,
        written_zone=entry.written_zone("at"),
        evaluated=entry.optional_instant("evaluated"),
        agreement=refs.agreement(entry).id if entry.has("agreement") else None,
    )


def feed_expectation(entry: Entry, refs: References) -> Expectation:
    """``{at, check: feed, user, from, to, items}``: the items the user's feed made available
    in ``[from, to]``, in delivery order; ``from`` after ``to`` or an unknown user or item is
    refused, naming the field and value."""
    user = refs.user(entry)
    start, end = entry.instant("from"), entry.instant("to")
    if start > end:
        raise entry.fail(
            f"{entry.where('to')}: {show(entry.data.get('to'))} is before from"
            f" {show(entry.data.get('from'))}: the window is empty",
            "to",
        )
    items = entry.texts("items")
    for index, item in enumerate(items):
        if item not in refs.world.items:
            raise entry.source.fail(
                f"{entry.where('items')}[{index}]: unknown item {show(item)}",
                (*entry.path, "items", index),
            )
    return Expectation(
        line=entry.line,
        at=entry.instant("at"),
        check="feed",
        request=user.id,
        written_zone=entry.written_zone("at"),
        window=(start, end),
        items=items,
    )
