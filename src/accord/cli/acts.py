"""Commands that act: diplomatic events, releases, consent, destruction, compromise reports."""

from __future__ import annotations

import click

from accord.cli.context import at_option, env, json_option, names
from accord.cli.define import agreement, duration, equivalence_rows, topic_scope
from accord.cli.exits import DENIED
from accord.cli.render import console, decision_table, emit_json
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
from accord.model.requests import ReleaseRequest
from accord.model.time import parse_instant
from accord.policy.reasons import Decision


def report(title: str, decision: Decision, as_json: bool) -> None:
    """Print a decision; a denial exits 1."""
    if as_json:
        emit_json(decision.as_dict())
    else:
        console.print(decision_table(title, decision))
    if not decision.allowed:
        raise click.exceptions.Exit(DENIED)


def _record(event: AgreementEvent, as_json: bool) -> None:
    report(f"{event.kind} on {event.agreement}", env().exchange.record(event), as_json)


by_option = click.option("--by", "by", required=True, help="The acting party.")


@agreement.command("notice")
@click.argument("agreement_id")
@by_option
@at_option
@json_option
def notice(agreement_id: str, by: str, at_text: str | None, as_json: bool) -> None:
    """Deliver a written termination notice."""
    _record(TerminationNotice(env().at(at_text), agreement_id, by), as_json)


@agreement.command("suspend")
@click.argument("agreement_id")
@by_option
@at_option
@json_option
def suspend(agreement_id: str, by: str, at_text: str | None, as_json: bool) -> None:
    """Suspend the effect of the outstanding notice."""
    _record(NoticeSuspended(env().at(at_text), agreement_id, by), as_json)


@agreement.command("lift")
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


@agreement.command("withdraw")
@click.argument("agreement_id")
@by_option
@at_option
@json_option
def withdraw(agreement_id: str, by: str, at_text: str | None, as_json: bool) -> None:
    """Withdraw the outstanding notice."""
    _record(NoticeWithdrawn(env().at(at_text), agreement_id, by), as_json)


@agreement.command("amend")
@click.argument("agreement_id")
@click.option(
    "--equivalence",
    "rows",
    multiple=True,
    help="PARTY=LEVEL,... (repeat per row); replaces the table.",
)
@click.option("--topics", "topics_text", default=None)
@click.option("--term", default=None, help="ISO 8601 duration, or 'indefinite'.")
@click.option("--notice-period", default=None)
@click.option("--parties", "parties_text", default=None)
@click.option("--renewal", type=click.Choice(["automatic", "none"]), default=None)
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
    """Change some of an agreement's terms from --at on."""
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
    decision = env().exchange.release(
        ReleaseRequest(item_id, sender, recipient, hub), env().at(at_text)
    )
    report(f"release {item_id}", decision, as_json)


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
    report(f"consent on {item_id}", env().exchange.consent(act), as_json)


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
    _consent(item_id, by, holder, to, at_text, as_json, granted=True)


@consent.command("refuse")
@_consent_options
def consent_refuse(
    item_id: str, by: str, holder: str, to: str, at_text: str | None, as_json: bool
) -> None:
    _consent(item_id, by, holder, to, at_text, as_json, granted=False)


@click.command()
@click.argument("item_id")
@click.option("--party", "party_code", required=True)
@at_option
@json_option
def destroy(item_id: str, party_code: str, at_text: str | None, as_json: bool) -> None:
    """Destroy a party's copy of an item (R10)."""
    act = Destruction(env().at(at_text), item_id, party_code)
    report(f"destroy {item_id} at {party_code}", env().exchange.destroy(act), as_json)


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
    report(
        f"compromise of {item_id} at {party_code}", env().exchange.report_compromise(act), as_json
    )
