"""Amendments by mutual consent (Art. 21(2)): propose, accept, withdraw.

``accord agreement amend`` stays the one-step form: a proposal and every acceptance at one
instant. The amendable fields are the same for both.
"""

from __future__ import annotations

import click

from accord.cli.acts import amendable_options, by_option, changes_from, record_event
from accord.cli.context import at_option, env, json_option
from accord.model.agreement import AmendmentAccepted, AmendmentProposed, AmendmentWithdrawn
from accord.model.time import parse_instant


@click.command("propose")
@click.argument("agreement_id")
@by_option
@click.option("--id", "amendment_id", required=True, help="The amendment's id on this agreement.")
@amendable_options
@at_option
@json_option
def propose(
    agreement_id: str,
    by: str,
    amendment_id: str,
    rows: tuple[str, ...],
    topics_text: str | None,
    term: str | None,
    notice_period: str | None,
    parties_text: str | None,
    renewal: str | None,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Propose an amendment; it changes nothing until every other party accepts it."""
    changes = changes_from(rows, topics_text, term, notice_period, parties_text, renewal)
    event = AmendmentProposed(env().at(at_text), agreement_id, by, amendment_id, changes)
    record_event(event, as_json)


@click.command("accept")
@click.argument("agreement_id")
@click.argument("amendment_id")
@by_option
@click.option(
    "--effective-at",
    "effective_text",
    required=True,
    help="The instant from which the amendment is in force (not before --at).",
)
@at_option
@json_option
def accept(
    agreement_id: str,
    amendment_id: str,
    by: str,
    effective_text: str,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Accept a proposed amendment; the last acceptance puts it in force at the latest
    --effective-at given."""
    effective = parse_instant(effective_text, "--effective-at")
    event = AmendmentAccepted(env().at(at_text), agreement_id, by, amendment_id, effective)
    record_event(event, as_json)


@click.command("withdraw-amendment")
@click.argument("agreement_id")
@click.argument("amendment_id")
@by_option
@at_option
@json_option
def withdraw_amendment(
    agreement_id: str, amendment_id: str, by: str, at_text: str | None, as_json: bool
) -> None:
    """Withdraw one's own proposal before every other party has accepted it."""
    record_event(AmendmentWithdrawn(env().at(at_text), agreement_id, by, amendment_id), as_json)
