"""Questions: check, read, agreement status, impact, readable."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click
from rich.table import Table

from accord.cli.acts import report
from accord.cli.context import at_option, env, json_option, tz_option
from accord.cli.exits import DENIED, INTEGRITY, KEY_UNAVAILABLE
from accord.cli.matters import parse_if
from accord.cli.render import console, decision_table, emit_json, state_table, when
from accord.model.marking import Integrity
from accord.model.requests import ReadRequest, ReleaseRequest
from accord.policy.impact import ConditionalImpact, ImpactReport


@click.group()
def check() -> None:
    """Ask for a decision without acting (exit 0 allow, 1 deny)."""


@check.command("release")
@click.argument("item_id")
@click.option("--from", "sender", required=True)
@click.option("--to", "recipient", required=True)
@click.option("--via", "hub", default=None)
@at_option
@json_option
def check_release(
    item_id: str, sender: str, recipient: str, hub: str | None, at_text: str | None, as_json: bool
) -> None:
    """Whether --from may release the item to --to (through the hub --via) at --at."""
    decision = env().exchange.check_release(
        ReleaseRequest(item_id, sender, recipient, hub), env().at(at_text)
    )
    report(f"release {item_id}", decision, as_json)


@check.command("read")
@click.argument("item_id")
@click.option("--user", "user_id", required=True)
@at_option
@json_option
def check_read(item_id: str, user_id: str, at_text: str | None, as_json: bool) -> None:
    """Whether the user may read the item at --at, and whether the copy passes its integrity check
    (the holder's key, the envelope, the originator's signature). No content is shown or logged.
    Exit 0 allowed and verified, 1 denied, 4 no master key to check it, 6 the check failed."""
    from accord.service import markings

    checked = markings.check(env().exchange, ReadRequest(user_id, item_id), env().at(at_text))
    if as_json:
        emit_json(checked.as_dict())
    else:
        console.print(decision_table(f"read {item_id} by {user_id}", checked.decision))
        if checked.marking is not None:
            click.echo(f"copy: {checked.marking.banner()}")
        click.echo(f"integrity: {checked.integrity.value} ({checked.detail})")
    if not checked.decision.allowed:
        raise click.exceptions.Exit(DENIED)
    if checked.integrity is Integrity.FAILED:
        raise click.exceptions.Exit(INTEGRITY)
    if checked.integrity is Integrity.NOT_CHECKED:
        raise click.exceptions.Exit(KEY_UNAVAILABLE)


@click.command()
@click.argument("item_id")
@click.option("--user", "user_id", required=True)
@at_option
@json_option
def read(item_id: str, user_id: str, at_text: str | None, as_json: bool) -> None:
    """Read an item as a user: the content is printed only when the read is allowed, and always
    between two banners of the copy's marking (the holder's level, the originator and its level,
    REL TO). Every read, allowed or not, is logged (R12)."""
    from accord.service import markings

    result = markings.read(env().exchange, ReadRequest(user_id, item_id), env().at(at_text))
    if result.item is None or result.marking is None:
        report(f"read {item_id} by {user_id}", result.decision, as_json)
        return
    if as_json:
        emit_json(result.as_dict())
        return
    banner = result.marking.banner()
    click.echo(banner)
    click.echo(f"{result.item.title or result.item.id}  ({result.decision.reasons[0].message})")
    click.echo(result.item.content)
    click.echo(banner)


@click.command("status")
@click.argument("agreement_id")
@at_option
@tz_option
@json_option
def status(agreement_id: str, at_text: str | None, tz_text: str | None, as_json: bool) -> None:
    """State, term end, expiry instant and time left at --at (shown in the agreement's zone)."""
    exchange = env().exchange
    state = exchange.agreement_state(agreement_id, env().at(at_text))
    notes = exchange.notes(agreement_id)  # on a node: the notes sent and received
    if as_json:
        emit_json(state.as_dict() if notes is None else {**state.as_dict(), "notes": notes})
        return
    reference = exchange.snapshot().agreements[agreement_id].timezone
    console.print(state_table(state, env().zone(tz_text, reference)))
    if notes is not None:
        for row in notes["sent"]:
            delivered = row["delivered_at"] or "waiting"
            click.echo(f"sent {row['note']} at {row['at']} to {row['to']} (delivered {delivered})")
        for row in notes["received"]:
            click.echo(
                f"received {row['note']} by {row['by']} at {row['at']} from {row['from']}"
                f" (arrived {row['arrived_at']})"
            )


def impact_tables(report_: ImpactReport, tz: ZoneInfo | None) -> list[Table]:
    flows = Table(
        "originator",
        "from → to",
        "level",
        "topics",
        "items",
        "then",
        "route / why",
        title=f"flows under {report_.agreement} if it is not in force from {when(report_.at, tz)}",
        title_justify="left",
    )
    for f in report_.flows:
        flows.add_row(
            f.originator,
            f"{f.sender} → {f.recipient}",
            f.level,
            ", ".join(sorted(f.topics)),
            str(len(f.items)),
            f.outcome.verdict,
            f.outcome.detail,
        )
    kept = Table(
        "item",
        "holder",
        "holder's marking",
        "originator's marking",
        "received",
        title="holdings that stay protected (R7)",
        title_justify="left",
    )
    for h in report_.protected:
        kept.add_row(
            h.item,
            h.party,
            h.level,
            f"{h.originator} {h.originator_level}",
            when(h.received_at, tz),
        )
    return [flows, kept]


@click.command()
@click.argument("agreement_id")
@click.option(
    "--if",
    "if_text",
    default=None,
    metavar="MATTER=STATE",
    help="Suppose the matter takes this state at --at (nothing is recorded; R15).",
)
@at_option
@tz_option
@json_option
def impact(
    agreement_id: str, if_text: str | None, at_text: str | None, tz_text: str | None, as_json: bool
) -> None:
    """What a lapse at --at would do to the flows this agreement has carried; with --if, what
    would stop if a matter took that state at --at."""
    exchange = env().exchange
    if if_text is not None:
        matter_id, state = parse_if(if_text)
        supposed = exchange.impact_if(agreement_id, matter_id, state, env().at(at_text))
        _print_conditional(supposed, tz_text, as_json)
        return
    result = exchange.impact(agreement_id, env().at(at_text))
    if as_json:
        emit_json(result.as_dict())
        return
    shown = env().zone(tz_text, exchange.snapshot().agreements[agreement_id].timezone)
    console.print(
        f"actual status of {agreement_id} at {when(result.at, shown)}: {result.state.status.value}"
    )
    for table in impact_tables(result, shown):
        console.print(table)


def _print_conditional(supposed: ConditionalImpact, tz_text: str | None, as_json: bool) -> None:
    if as_json:
        emit_json(supposed.as_dict())
        return
    exchange = env().exchange
    shown = env().zone(tz_text, exchange.snapshot().agreements[supposed.agreement].timezone)
    console.print(
        f"if {supposed.matter} is {supposed.state} at {when(supposed.at, shown)}:"
        f" {supposed.explanation}"
    )
    console.print(state_table(supposed.supposed, shown))
    if supposed.report is not None:
        for table in impact_tables(supposed.report, shown):
            console.print(table)


@click.command()
@click.argument("user_id")
@at_option
@json_option
def readable(user_id: str, at_text: str | None, as_json: bool) -> None:
    """Every item the user may read at --at (the batch question)."""
    items = env().exchange.readable(user_id, env().at(at_text))
    if as_json:
        emit_json(items)
    else:
        for item_id in items:
            click.echo(item_id)
