"""Commands for classification changes (Art. 6(g)) and compromise investigations and release
holds (Art. 17, R9), and the questions that go with them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from accord.cli.acts import outcome
from accord.cli.context import at_option, env, json_option, names, tz_option
from accord.cli.exits import DENIED
from accord.cli.render import console, emit_json, when
from accord.errors import InvalidInput
from accord.model.classification import Reclassification
from accord.model.investigation import (
    InvestigationConcluded,
    InvestigationResult,
    InvestigationStarted,
    ReleaseHold,
    ReleaseHoldLifted,
)
from accord.model.time import iso

F = TypeVar("F", bound=Callable[..., Any])
RESULTS = [result.value for result in InvestigationResult]


@click.command()
@click.argument("item_id")
@click.option("--by", required=True, help="The originator.")
@click.option("--level", default=None, help="The new level, in the originator's scheme.")
@click.option(
    "--releasable-to", "releasable", default=None, help="The new REL TO list (comma-separated)."
)
@at_option
@json_option
def reclassify(
    item_id: str,
    by: str,
    level: str | None,
    releasable: str | None,
    at_text: str | None,
    as_json: bool,
) -> None:
    """Change an item's level and/or REL TO from --at on; every copy is re-marked (Art. 6(g))."""
    if level is None and releasable is None:
        raise InvalidInput("reclassify: give --level, --releasable-to or both")
    rel_to = names(releasable) if releasable is not None else None
    change = Reclassification(env().at(at_text), item_id, by, level, rel_to)
    decision = env().exchange.reclassify(change)
    shown = env().zone(None)
    new = ", ".join(
        part
        for part in (
            f"level {level}" if level is not None else "",
            f"REL TO {', '.join(sorted(rel_to)) or 'NONE'}" if rel_to is not None else "",
        )
        if part
    )
    summary = f"reclassified {item_id} by {by} from {when(change.at, shown)}: {new}"
    recorded = {
        "item": item_id,
        "by": by,
        "at": iso(change.at),
        "level": level,
        "releasable_to": sorted(rel_to) if rel_to is not None else None,
    }
    outcome(f"reclassify {item_id}", summary, decision, as_json, {"reclassification": recorded})


@click.command()
@click.argument("item_id")
@click.option("--party", "party_code", required=True, help="The holder.")
@at_option
@tz_option
@json_option
def marking(
    item_id: str, party_code: str, at_text: str | None, tz_text: str | None, as_json: bool
) -> None:
    """The marking of a party's copy at --at (level, originator's level, flag)."""
    at = env().at(at_text)
    found = env().exchange.marking(item_id, party_code, at)
    if found is None:
        click.echo(f"{party_code} holds no copy of {item_id} at {when(at, None)}", err=True)
        raise click.exceptions.Exit(DENIED)
    copy = found.holding
    data = {
        "item": item_id,
        "party": party_code,
        "at": when(at, None),
        "level": copy.level,
        "originator": copy.originator,
        "originator_level": copy.originator_level,
        "agreement": copy.agreement,
        "flag": found.flag.value if found.flag else None,
        "changed_at": when(found.changed_at, None) if found.changed_at else None,
    }
    if as_json:
        emit_json(data)
        return
    shown = env().zone(tz_text)
    flag = f" [{data['flag']}]" if data["flag"] else ""
    console.print(
        f"{party_code}'s copy of {item_id} at {when(at, shown)}: {copy.level}{flag}"
        f" ({copy.originator} {copy.originator_level}, under {copy.agreement or 'its own'})"
    )


@click.group()
def investigation() -> None:
    """Investigations of a reported loss or compromise (Art. 17, R9)."""


def _item_party(command: F) -> F:
    """ITEM_ID and --party: the copy whose investigation it is."""
    command = click.option(
        "--party", "party_code", required=True, help="The holder that reported it."
    )(command)
    return click.argument("item_id")(command)


@investigation.command("start")
@_item_party
@at_option
@json_option
def start(item_id: str, party_code: str, at_text: str | None, as_json: bool) -> None:
    """The holder starts investigating (state under-investigation)."""
    event = InvestigationStarted(env().at(at_text), item_id, party_code)
    _investigation_outcome(event, "started", as_json)


@investigation.command("conclude")
@_item_party
@click.option("--result", type=click.Choice(RESULTS), required=True)
@click.option("--measures", required=True, help="The measures taken against recurrence.")
@at_option
@json_option
def conclude(
    item_id: str, party_code: str, result: str, measures: str, at_text: str | None, as_json: bool
) -> None:
    """The holder concludes; the result and measures are sent to the originator."""
    event = InvestigationConcluded(
        env().at(at_text), item_id, party_code, InvestigationResult(result), measures
    )
    _investigation_outcome(event, f"concluded ({result})", as_json)


@investigation.command("show")
@_item_party
@at_option
@json_option
def show(item_id: str, party_code: str, at_text: str | None, as_json: bool) -> None:
    """The investigation's state at --at, with its due instants and lateness."""
    at = env().at(at_text)
    found = env().exchange.investigation(item_id, party_code, at)
    if found is None:
        click.echo(f"no investigation of {party_code}'s copy of {item_id} at {when(at, None)}")
        raise click.exceptions.Exit(DENIED)
    data = found.as_dict(at)
    if as_json:
        emit_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key}: {value}")


def _investigation_outcome(
    event: InvestigationStarted | InvestigationConcluded, done: str, as_json: bool
) -> None:
    """Record the step; say what it did in one line (JSON: the investigation as it now is)."""
    exchange = env().exchange
    what = f"investigation of {event.item} at {event.party}"
    decision = exchange.record_investigation(event)
    summary = f"{what} {done} at {when(event.at, env().zone(None))}"
    objects: dict[str, object] = {}
    if decision.allowed:
        found = exchange.investigation(event.item, event.party, event.at)
        objects["investigation"] = found.as_dict(event.at) if found is not None else None
    outcome(what, summary, decision, as_json, objects)


@click.group("release-hold")
def release_hold() -> None:
    """The originator's hold on its releases to a holder, pending an investigation (R9)."""


@release_hold.command("place")
@click.option("--by", required=True, help="The originator.")
@click.option("--holder", required=True, help="The party whose releases are held.")
@at_option
@json_option
def place(by: str, holder: str, at_text: str | None, as_json: bool) -> None:
    """Hold BY's releases to HOLDER from --at on, pending an investigation (Art. 17, R9)."""
    event = ReleaseHold(env().at(at_text), by, holder)
    _hold_outcome(event, "placed", as_json)


@release_hold.command("lift")
@click.option("--by", required=True, help="The originator.")
@click.option("--holder", required=True, help="The party whose releases were held.")
@at_option
@json_option
def lift(by: str, holder: str, at_text: str | None, as_json: bool) -> None:
    """Lift BY's hold on releases to HOLDER from --at on (Art. 17, R9)."""
    event = ReleaseHoldLifted(env().at(at_text), by, holder)
    _hold_outcome(event, "lifted", as_json)


def _hold_outcome(event: ReleaseHold | ReleaseHoldLifted, done: str, as_json: bool) -> None:
    what = f"release hold by {event.by} on {event.holder}"
    decision = env().exchange.record_hold(event)
    summary = f"{what} {done} from {when(event.at, env().zone(None))}"
    recorded = {"by": event.by, "holder": event.holder, "at": iso(event.at), "state": done}
    outcome(what, summary, decision, as_json, {"release_hold": recorded})
