"""Commands that act: diplomatic events, releases, consent, destruction, compromise reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from accord.cli.context import at_option, env, json_option, names
from accord.cli.define import duration, equivalence_rows, topic_scope
from accord.cli.exits import DENIED
from accord.cli.render import announce, console, decision_table, emit_json, joined, when
from accord.errors import InvalidInput
from accord.model.acts import Compromise, Consent, Destruction
from accord.model.agreement import (
    AgreementEvent,
    Amendment,
    NoticeSuspended,
    NoticeWithdrawn,
    Renewal,
    SuspensionLifted,
    TerminationNotice,
)
from accord.model.matters import Condition, Consequence, ConsequenceKind
from accord.model.requests import ReleaseRequest
from accord.model.time import iso, parse_instant
from accord.policy.reasons import Decision


def report(title: str, decision: Decision, as_json: bool) -> None:
    """Print a decision; a denial exits 1."""
    if as_json:
        emit_json(decision.as_dict())
    else:
        console.print(decision_table(title, decision))
    if not decision.allowed:
        raise click.exceptions.Exit(DENIED)


def outcome(
    what: str, summary: str, decision: Decision, as_json: bool, objects: dict[str, object]
) -> None:
    """An act's outcome. Done: one line saying what was done (JSON: the changed objects and the
    reasons). Refused: the decision's reasons, and exit 1."""
    reasons = [r.as_dict() for r in decision.reasons]
    if decision.allowed:
        announce(summary, as_json, {**objects, "reasons": reasons})
        return
    if as_json:
        emit_json({"done": False, "summary": f"refused: {what}", **objects, "reasons": reasons})
    else:
        console.print(decision_table(what, decision))
    raise click.exceptions.Exit(DENIED)


def _record(event: AgreementEvent, as_json: bool) -> None:
    """Record a diplomatic event; say what it did and the agreement's state from then on."""
    from accord.service.inventory import history

    exchange = env().exchange
    what = f"{event.kind} on {event.agreement}"
    decision = exchange.record(event)
    world = exchange.snapshot()
    agreement_ = world.agreement(event.agreement)
    shown = env().zone(None, agreement_.timezone)
    if not decision.allowed:
        outcome(what, "", decision, as_json, {})
        return
    entry = history(agreement_, world.agreement_events[event.agreement], event.at)[-1]
    state = exchange.agreement_state(event.agreement, event.at)
    ends = f", ending at {when(state.expires_at, shown)}" if state.expires_at else ""
    kind = event.kind
    if isinstance(event, Amendment):
        kind = f"amendment of {', '.join(sorted(event.changes))}"
    summary = (
        f"recorded {kind} on {event.agreement} by {joined(entry.by)} at"
        f" {when(event.at, shown)}: the agreement is now {state.status.value}{ends}"
    )
    outcome(what, summary, decision, as_json, {"event": entry.as_dict(), "state": state.as_dict()})


record_event = _record


by_option = click.option("--by", "by", required=True, help="The acting party.")


@click.command("notice")
@click.argument("agreement_id")
@by_option
@at_option
@json_option
def notice(agreement_id: str, by: str, at_text: str | None, as_json: bool) -> None:
    """Deliver a written termination notice."""
    _record(TerminationNotice(env().at(at_text), agreement_id, by), as_json)


@click.command("suspend")
@click.argument("agreement_id")
@by_option
@click.option(
    "--condition",
    "condition_texts",
    multiple=True,
    metavar="MATTER=STATE,...",
    help="The suspension holds while MATTER is in one of these states (repeat per matter; R15).",
)
@click.option(
    "--on-failure",
    "on_failure",
    default=None,
    metavar="end_after=DURATION|end_at_term_end|none",
    help="What follows when a condition fails (required with --condition).",
)
@at_option
@json_option
def suspend(
    agreement_id: str,
    by: str,
    condition_texts: tuple[str, ...],
    on_failure: str | None,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Suspend the effect of the outstanding notice, optionally on conditions."""
    conditions = parse_conditions(condition_texts, on_failure)
    _record(NoticeSuspended(env().at(at_text), agreement_id, by, conditions=conditions), as_json)


def parse_conditions(texts: tuple[str, ...], on_failure: str | None) -> tuple[Condition, ...]:
    """``--condition MATTER=S1,S2`` (repeatable) with one ``--on-failure`` for all of them."""
    if not texts:
        if on_failure is not None:
            raise InvalidInput("--on-failure: give it with at least one --condition")
        return ()
    if on_failure is None:
        raise InvalidInput(
            "--on-failure: required with --condition (end_after=DURATION, end_at_term_end or none)"
        )
    if on_failure.startswith("end_after="):
        consequence = Consequence.end_after(on_failure.removeprefix("end_after="), "--on-failure")
    elif on_failure in ("end_at_term_end", "none"):
        consequence = Consequence(ConsequenceKind(on_failure))
    else:
        raise InvalidInput(
            f"--on-failure: {on_failure!r} is not end_after=DURATION, end_at_term_end or none"
        )
    conditions = []
    for text in texts:
        matter, sep, states = text.partition("=")
        if not sep or not matter.strip() or not names(states):
            raise InvalidInput(f"--condition: {text!r} is not MATTER=STATE[,STATE...]")
        conditions.append(Condition(matter.strip(), names(states), consequence))
    return tuple(conditions)


@click.command("lift")
@click.argument("agreement_id")
@by_option
@click.option(
    "--effective-at", "effective_text", required=True, help="The instant the agreement then ends."
)
@at_option
@json_option
def lift(
    agreement_id: str, by: str, effective_text: str, at_text: str | None, as_json: bool
) -> None:
    """Lift a suspension: the agreement ends at --effective-at."""
    effective = parse_instant(effective_text, "--effective-at")
    _record(SuspensionLifted(env().at(at_text), agreement_id, by, effective), as_json)


@click.command("withdraw")
@click.argument("agreement_id")
@by_option
@at_option
@json_option
def withdraw(agreement_id: str, by: str, at_text: str | None, as_json: bool) -> None:
    """Withdraw the outstanding notice."""
    _record(NoticeWithdrawn(env().at(at_text), agreement_id, by), as_json)


F = TypeVar("F", bound=Callable[..., Any])


def amendable_options(function: F) -> F:
    """The options naming new values for an agreement's terms."""
    for option in reversed(
        (
            click.option(
                "--equivalence",
                "rows",
                multiple=True,
                help="PARTY=LEVEL,... (repeat per row); replaces the table.",
            ),
            click.option("--topics", "topics_text", default=None),
            click.option("--term", default=None, help="ISO 8601 duration, or 'indefinite'."),
            click.option("--notice-period", default=None),
            click.option("--parties", "parties_text", default=None),
            click.option("--renewal", type=click.Choice(["automatic", "none"]), default=None),
        )
    ):
        function = option(function)
    return function


def changes_from(
    rows: tuple[str, ...],
    topics_text: str | None,
    term: str | None,
    notice_period: str | None,
    parties_text: str | None,
    renewal: str | None,
) -> dict[str, object]:
    """The changes the amendable options give; at least one is required."""
    changes: dict[str, object] = {}
    if rows:
        changes["equivalence"] = equivalence_rows(rows)
    if topics_text is not None:
        changes["topics"] = topic_scope(topics_text)
    if term is not None:
        changes["term"] = None if term == "indefinite" else duration(term, "--term")
    if notice_period is not None:
        changes["notice_period"] = duration(notice_period, "--notice-period")
    if parties_text is not None:
        changes["parties"] = names(parties_text)
    if renewal is not None:
        changes["renewal"] = Renewal(renewal)
    if not changes:
        raise click.UsageError("give at least one term to amend")
    return changes


@click.command("amend")
@click.argument("agreement_id")
@amendable_options
@at_option
@json_option
def amend(
    agreement_id: str,
    rows: tuple[str, ...],
    topics_text: str | None,
    term: str | None,
    notice_period: str | None,
    parties_text: str | None,
    renewal: str | None,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Change some of an agreement's terms from --at on: the one-step form of a proposal
    accepted by every party at that instant (see ``agreement propose|accept``)."""
    changes = changes_from(rows, topics_text, term, notice_period, parties_text, renewal)
    from accord.service.node import Node

    if Node(env().exchange).is_node():  # a node holds its own party's key only
        raise InvalidInput(
            "an amendment needs every party's signature: on a node, propose it with"
            " `accord node propose` and let the other parties countersign"
        )
    _record(Amendment(env().at(at_text), agreement_id, changes), as_json)


@click.command()
@click.argument("item_id")
@click.option("--from", "sender", required=True)
@click.option("--to", "recipient", required=True)
@click.option("--via", "hub", default=None, help="Route through this hub (R8).")
@at_option
@json_option
def release(
    item_id: str, sender: str, recipient: str, hub: str | None, at_text: str | None, as_json: bool
) -> None:
    """Release an item to another party, if policy allows at that instant."""
    from accord.service.inventory import Copy

    at = env().at(at_text)
    exchange = env().exchange
    decision = exchange.release(ReleaseRequest(item_id, sender, recipient, hub), at)
    route = f"{sender} → {hub} → {recipient}" if hub else f"{sender} → {recipient}"
    act = {"item": item_id, "from": sender, "to": recipient, "via": hub, "at": iso(at)}
    if not decision.allowed:
        outcome(f"release of {item_id} {route}", "", decision, as_json, {"release": act})
        return
    item_ = exchange.snapshot().item(item_id)
    copies = [Copy(item_, holding, at) for holding in decision.holdings]
    under = decision.reasons[0].agreement
    held = "; ".join(f"{c.holding.party}'s copy: {c.marking.banner()}" for c in copies)
    summary = f"released {item_id} {route} under {under} at {when(at, env().settings.tz)}; {held}"
    act["agreement"] = under
    objects: dict[str, object] = {"release": act, "copies": [c.as_dict() for c in copies]}
    outcome(f"release of {item_id} {route}", summary, decision, as_json, objects)


@click.group()
def consent() -> None:
    """The originator's consent for onward release (R4)."""


def _consent(
    item_id: str, by: str, holder: str, to: str, at_text: str | None, as_json: bool, granted: bool
) -> None:
    recipients = names(to)
    if not recipients:
        raise InvalidInput("--to: name at least one recipient party")
    act = Consent(env().at(at_text), item_id, by, holder, recipients, granted)
    decision = env().exchange.consent(act)
    answer = "granted" if granted else "refused"
    may = "may" if granted else "may not"
    to_text = joined(sorted(recipients))
    form = {
        "item": item_id,
        "by": by,
        "holder": holder,
        "recipients": sorted(recipients),
        "granted": granted,
        "answer": answer,
        "at": iso(act.at),
    }
    summary = (
        f"consent {answer}: {by} says {holder} {may} pass {item_id} on to {to_text}"
        f" (from {when(act.at, env().settings.tz)}, R4)"
    )
    what = f"consent {'grant' if granted else 'refusal'} on {item_id}"
    outcome(what, summary, decision, as_json, {"consent": form})


def _consent_options(function: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        (
            click.argument("item_id"),
            by_option,
            click.option("--holder", required=True, help="The party that would pass the item on."),
            click.option("--to", required=True, help="Comma-separated recipients."),
            at_option,
            json_option,
        )
    ):
        function = option(function)
    return function


@consent.command("grant")
@_consent_options
def consent_grant(
    item_id: str, by: str, holder: str, to: str, at_text: str | None, as_json: bool
) -> None:
    """The originator (--by) consents to --holder passing the item on to --to."""
    _consent(item_id, by, holder, to, at_text, as_json, granted=True)


@consent.command("refuse")
@_consent_options
def consent_refuse(
    item_id: str, by: str, holder: str, to: str, at_text: str | None, as_json: bool
) -> None:
    """The originator (--by) refuses --holder passing the item on to --to (withdrawing any
    earlier consent from --at on)."""
    _consent(item_id, by, holder, to, at_text, as_json, granted=False)


@click.command()
@click.argument("item_id")
@click.option("--party", "party_code", required=True)
@at_option
@json_option
def destroy(item_id: str, party_code: str, at_text: str | None, as_json: bool) -> None:
    """Destroy a party's copy of an item (R10)."""
    act = Destruction(env().at(at_text), item_id, party_code)
    decision = env().exchange.destroy(act)
    form = {"item": item_id, "party": party_code, "at": iso(act.at)}
    summary = (
        f"destroyed {party_code}'s copy of {item_id} at {when(act.at, env().settings.tz)}:"
        f" its key is deleted; no one at {party_code} can read it (R10)"
    )
    what = f"destruction of {party_code}'s copy of {item_id}"
    outcome(what, summary, decision, as_json, {"destruction": form})


@click.command()
@click.argument("item_id")
@click.option("--party", "party_code", required=True)
@click.option("--description", required=True)
@click.option(
    "--discovered-at",
    "discovered_text",
    default=None,
    metavar="INSTANT",
    help="When the loss was discovered (default: --at); the report is due a day later by default.",
)
@at_option
@json_option
def compromise(
    item_id: str,
    party_code: str,
    description: str,
    discovered_text: str | None,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Report loss or compromise of a copy to its originator (R9); opens an investigation."""
    discovered = parse_instant(discovered_text, "--discovered-at") if discovered_text else None
    act = Compromise(env().at(at_text), item_id, party_code, description, discovered)
    decision = env().exchange.report_compromise(act)
    form = {"item": item_id, "party": party_code, "description": description, "at": iso(act.at)}
    summary = (
        f"recorded {party_code}'s report of loss or compromise of {item_id} at"
        f" {when(act.at, env().settings.tz)}, for its originator (R9)"
    )
    what = f"report of compromise of {item_id} at {party_code}"
    outcome(what, summary, decision, as_json, {"compromise": form})
