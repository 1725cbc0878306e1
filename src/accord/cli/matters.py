"""Matters outside the agreements (R15): define one, record its state, list them."""

from __future__ import annotations

import click
from rich.table import Table

from accord.cli.acts import by_option, outcome
from accord.cli.context import at_option, env, json_option, tz_option
from accord.cli.render import announce, console, emit_json, when
from accord.errors import InvalidInput
from accord.model.matters import Matter, MatterState
from accord.model.time import iso


@click.group()
def matter() -> None:
    """Matters outside the agreements that conditional notes depend on (R15)."""


@matter.command("add")
@click.argument("matter_id")
@click.option("--states", "states_text", required=True, help="Comma-separated, in any order.")
@click.option("--initial", required=True, help="The state the matter is in until one is recorded.")
@json_option
def matter_add(matter_id: str, states_text: str, initial: str, as_json: bool) -> None:
    """Define a matter and the states it may take."""
    states = tuple(part.strip() for part in states_text.split(",") if part.strip())
    if not states:
        raise InvalidInput("--states: name at least one state")
    defined = Matter(matter_id, states, initial)
    env().exchange.add_matter(defined)
    summary = f"added matter {defined.id}: states {', '.join(states)}; initially {initial}"
    announce(summary, as_json, {"matter": matter_dict(defined)})


def matter_dict(defined: Matter) -> dict[str, object]:
    return {"id": defined.id, "states": list(defined.states), "initial": defined.initial}


@matter.command("state")
@click.argument("matter_id")
@click.argument("state")
@by_option
@at_option
@json_option
def matter_state(matter_id: str, state: str, by: str, at_text: str | None, as_json: bool) -> None:
    """Record that MATTER is in STATE from --at on (exit 2 for a state it does not define)."""
    fact = MatterState(env().at(at_text), matter_id, state, by)
    decision = env().exchange.record_matter_state(fact)
    summary = f"recorded {matter_id} as {state} by {by} from {when(fact.at, env().zone(None))}"
    recorded = {"matter": matter_id, "state": state, "by": by, "at": iso(fact.at)}
    outcome(f"matter_state of {matter_id}", summary, decision, as_json, {"matter_state": recorded})


@matter.command("list")
@at_option
@tz_option
@json_option
def matter_list(at_text: str | None, tz_text: str | None, as_json: bool) -> None:
    """Every matter with its states and its state at --at."""
    at = env().at(at_text)
    world = env().exchange.snapshot()
    rows = []
    for matter_id in sorted(world.matters):
        defined = world.matters[matter_id]
        state, fact = world.matter_state_at(matter_id, at)
        rows.append((defined, state, fact))
    if as_json:
        emit_json(
            [
                {
                    "id": defined.id,
                    "states": list(defined.states),
                    "initial": defined.initial,
                    "at": iso(at),
                    "state": state,
                    "since": iso(fact.at) if fact else None,
                    "recorded_by": fact.by if fact else None,
                }
                for defined, state, fact in rows
            ]
        )
        return
    shown = env().zone(tz_text)
    table = Table("matter", "states", f"state at {when(at, shown)}", "since", "recorded by")
    for defined, state, fact in rows:
        table.add_row(
            defined.id,
            ", ".join(defined.states),
            state,
            when(fact.at, shown) if fact else "(initial)",
            fact.by if fact else "-",
        )
    console.print(table)


def parse_if(text: str) -> tuple[str, str]:
    """``--if MATTER=STATE``."""
    matter_id, sep, state = text.partition("=")
    if not sep or not matter_id.strip() or not state.strip():
        raise InvalidInput(f"--if: {text!r} is not MATTER=STATE")
    return matter_id.strip(), state.strip()
