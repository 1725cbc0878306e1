"""``accord rule add|revoke|list|log`` and ``accord consent standing add|revoke``: an
originator's standing release rules and consents, and what the rules did with each new item."""

from __future__ import annotations

import click

from accord.cli.context import at_option, env, json_option, names
from accord.cli.render import announce, emit_json, joined, when
from accord.errors import InvalidInput
from accord.model.rules import Route, RuleRevoked, StandingConsent, StandingRule, Window
from accord.model.time import iso


def _ordered(text: str, option: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in text.split(",") if v.strip())
    if not values:
        raise InvalidInput(f"{option}: name at least one")
    return values


def _window(start: str | None, until: str | None) -> Window:
    return Window(env().at(start, "--from"), env().at(until, "--until") if until else None)


@click.group()
def rule() -> None:
    """An originator's standing release rules: its new items released the moment they exist,
    by the first lawful route."""


@rule.command("add")
@click.argument("rule_id")
@click.option("--originator", required=True, help="The party whose new items the rule releases.")
@click.option("--topics", required=True, help="Comma-separated topics the rule covers.")
@click.option("--max-level", required=True, help="The highest level, in the originator's scheme.")
@click.option("--to", "to", required=True, help="Comma-separated recipients, served in order.")
@click.option(
    "--routes",
    required=True,
    help="Comma-separated routes in order of preference: direct, 'via USA', ...",
)
@click.option("--from", "start", help="Start of validity (default: now).")
@click.option("--until", help="End of validity (excluded; default: none).")
@json_option
def rule_add(
    rule_id: str,
    originator: str,
    topics: str,
    max_level: str,
    to: str,
    routes: str,
    start: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    """Record RULE_ID, signed by its originator."""
    from accord.service import standing

    parsed = tuple(Route.parse(r, "--routes") for r in _ordered(routes, "--routes"))
    made = StandingRule(
        rule_id,
        originator,
        names(topics),
        max_level,
        _ordered(to, "--to"),
        parsed,
        _window(start, until),
    )
    standing.add_rule(env().exchange, made)
    summary = (
        f"standing rule {rule_id}: {originator} releases its {joined(sorted(made.topics))} items"
        f" up to {max_level} to {joined(made.recipients)} by {joined(r.label for r in parsed)}"
        f" from {when(made.window.start, env().settings.tz)}"
    )
    announce(summary, as_json, {"rule": standing.rule_json(made, None)})


@rule.command("revoke")
@click.argument("rule_id")
@at_option
@json_option
def rule_revoke(rule_id: str, at_text: str | None, as_json: bool) -> None:
    """Revoke a standing rule or consent from --at on (default: now)."""
    _revoke(rule_id, at_text, as_json)


def _revoke(rule_id: str, at_text: str | None, as_json: bool) -> None:
    from accord.service import standing

    exchange = env().exchange
    world = exchange.snapshot()
    found = world.standing_rules.get(rule_id)
    consent = world.standing_consents.get(rule_id)
    owner = found.originator if found else consent.by if consent else None
    if owner is None:
        raise InvalidInput(f"no standing rule or consent {rule_id!r}: nothing was revoked")
    at = env().at(at_text)
    standing.revoke(exchange, RuleRevoked(at, rule_id, owner))
    summary = f"{rule_id} revoked by {owner} from {when(at, env().settings.tz)} on"
    announce(summary, as_json, {"revoked": {"rule": rule_id, "by": owner, "at": iso(at)}})


@rule.command("list")
@json_option
def rule_list(as_json: bool) -> None:
    """The standing rules and consents recorded, and when each was revoked."""
    from accord.service import standing

    rules, consents, revoked = standing.standing(env().exchange)
    data = {
        "rules": [standing.rule_json(r, revoked.get(r.id)) for r in rules],
        "consents": [standing.consent_json(c, revoked.get(c.id)) for c in consents],
    }
    if as_json:
        emit_json(data)
        return
    for r in rules:
        click.echo(
            f"rule {r.id}: {r.originator} {joined(sorted(r.topics))} ≤ {r.max_level}"
            f" → {joined(r.recipients)} by {joined(x.label for x in r.routes)};"
            f" {_shown_window(r.window, revoked.get(r.id))}"
        )
    for c in consents:
        click.echo(
            f"consent {c.id}: {c.by} lets {c.holder} pass {joined(sorted(c.topics))}"
            f" ≤ {c.max_level} to {joined(sorted(c.recipients))};"
            f" {_shown_window(c.window, revoked.get(c.id))}"
        )
    if not rules and not consents:
        click.echo("no standing rules or consents")


@rule.command("log")
@click.argument("rule_id", required=False)
@click.option("--item", "item_id", help="Only the outcomes for this item.")
@json_option
def rule_log(rule_id: str | None, item_id: str | None, as_json: bool) -> None:
    """What the standing rules did with each new item: the route taken for each recipient (or
    none), with every route's reasons."""
    from accord.service import standing

    exchange = env().exchange
    if rule_id is not None and rule_id not in exchange.snapshot().standing_rules:
        raise InvalidInput(f"no standing rule {rule_id!r}")
    entries = standing.routing_log(exchange, rule_id, item_id)
    if as_json:
        emit_json([e.as_dict() for e in entries])
        return
    for e in entries:
        trigger = "" if e.trigger == standing.CREATED else f" ({e.trigger})"
        click.echo(f"{e.at} {e.rule} {e.item} → {e.to}: {e.route}{trigger}")
        for reason in e.reasons:
            click.echo(f"    {reason}")
    if not entries:
        click.echo("no routing outcomes recorded")


@click.group("standing")
def consent_standing() -> None:
    """Standing consents: a holder may pass the originator's matching items on (R4)."""


@consent_standing.command("add")
@click.argument("consent_id")
@click.option("--by", required=True, help="The originator that consents.")
@click.option("--holder", required=True, help="The party that may pass items on (the hub).")
@click.option("--to", "to", required=True, help="Comma-separated recipients.")
@click.option("--topics", required=True, help="Comma-separated topics.")
@click.option("--max-level", required=True, help="The highest level, in the originator's scheme.")
@click.option("--from", "start", help="Start of validity (default: now).")
@click.option("--until", help="End of validity (excluded; default: none).")
@json_option
def consent_standing_add(
    consent_id: str,
    by: str,
    holder: str,
    to: str,
    topics: str,
    max_level: str,
    start: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    """Record CONSENT_ID, signed by the originator (--by)."""
    from accord.service import standing

    made = StandingConsent(
        consent_id,
        by,
        holder,
        frozenset(_ordered(to, "--to")),
        names(topics),
        max_level,
        _window(start, until),
    )
    standing.add_consent(env().exchange, made)
    summary = (
        f"standing consent {consent_id}: {by} lets {holder} pass its"
        f" {joined(sorted(made.topics))} items up to {max_level} to"
        f" {joined(sorted(made.recipients))} from {when(made.window.start, env().settings.tz)}"
    )
    announce(summary, as_json, {"consent": standing.consent_json(made, None)})


@consent_standing.command("revoke")
@click.argument("consent_id")
@at_option
@json_option
def consent_standing_revoke(consent_id: str, at_text: str | None, as_json: bool) -> None:
    """Revoke a standing consent from --at on (default: now)."""
    _revoke(consent_id, at_text, as_json)


def _shown_window(window: Window, revoked: str | None) -> str:
    until = iso(window.until) if window.until is not None else "-"
    return f"from {iso(window.start)} until {until}; revoked {revoked or '-'}"
