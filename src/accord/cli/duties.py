"""``accord duties``: what a party owes and by when (R2, R6, R9, R10, R15; Art. 6, 17, 21)."""

from __future__ import annotations

import click

from accord.cli.context import at_option, env, json_option, tz_option
from accord.cli.render import console, emit_json, when


@click.command()
@click.argument("party_code")
@at_option
@tz_option
@json_option
def duties(party_code: str, at_text: str | None, tz_text: str | None, as_json: bool) -> None:
    """What PARTY owes as of --at, by due instant: notices, re-markings, compromise reports,
    investigation conclusions, returns or destructions, conditions whose matters changed; each
    pending, late or done."""
    exchange = env().exchange
    at = env().at(at_text)
    owed = exchange.duties(party_code, at)
    if as_json:
        emit_json(
            {"party": party_code, "at": when(at, None), "duties": [d.as_dict() for d in owed]}
        )
        return
    shown = env().zone(tz_text, exchange.snapshot().parties[party_code].timezone)
    console.print(f"duties of {party_code} at {when(at, shown)}: {len(owed)}")
    for duty in owed:
        state = duty.state.value + (" (late)" if duty.late and duty.state.value == "done" else "")
        if duty.informational:
            state += ", informational"
        subject = duty.item or duty.agreement or "-"
        console.print(
            f"{when(duty.due, shown)}  {state:<22} {duty.kind.value:<23} {duty.rule} {duty.article}"
            f"  {subject}"
        )
        console.print(f"    {duty.message}")
