"""Questions: check, read, agreement status, impact, readable."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click
from rich.table import Table

from accord.cli.acts import report
from accord.cli.context import at_option, env, json_option, tz_option
from accord.cli.define import agreement
from accord.cli.matters import parse_if
from accord.cli.render import console, emit_json, state_table, when
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
    decision = env().exchange.check_read(ReadRequest(user_id, item_id), env().at(at_text))
    report(f"read {item_id} by {user_id}", decision, as_json)


@click.command()
@click.argument("item_id")
@click.option("--user", "user_id", required=True)
@at_option
@json_option
def read(item_id: str, user_id: str, at_text: str | None, as_json: bool) -> None:
    """Read an item as a user: its content is printed only when the read is allowed."""
    result = env().exchange.read(ReadRequest(user_id, item_id), env().at(at_text))
    if result.item is None:
        report(f"read {item_id} by {user_id}", result.decision, as_json)
        return
    holding_reason = result.decision.reasons[0]
    if as_json:
        emit_json(
            {
                **result.decision.as_dict(),
                "item": {
                    "id": result.item.id,
                    "title": result.item.title,
                    "originator": result.item.originator,
                    "content": result.item.content,
                },
            }
        )
        return
    console.print(f"{result.item.title or result.item.id}  ({holding_reason.message})")
    click.echo(result.item.content)


@agreement.command("status")
@click.argument("agreement_id")
@at_option
@tz_option
@json_option
def status(agreement_id: str, at_text: str | None, tz_text: str | None, as_json: bool) -> None:
    """State, term end, expiry instant and time left at --at (shown in the agreement's zone)."""
    exchange = env().exchange
    state = exchange.agreement_state(agreement_id, env().at(at_text))
    if as_json:
        emit_json(state.as_dict())
        return
    reference = exchange.snapshot().agreements[agreement_id].timezone
    console.print(state_table(state, env().zone(tz_text, reference)))


def impact_tables(report_: ImpactReport, tz: ZoneInfo | None) -> list[Table]:
    flows = Table(
        "originator",
        "from → to",
        "level",
        "topics",
        "items",
        f"from {when(report_.at, tz)}",
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
