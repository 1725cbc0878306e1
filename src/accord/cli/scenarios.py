"""Scenario commands: test, load.

The scenario codec, the service and the store are imported inside the commands: ``accord
--help`` and other commands do not pay for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from accord.cli.context import env, json_option
from accord.cli.exits import DENIED, INVALID
from accord.cli.progress import progress_bar
from accord.cli.render import announce
from accord.errors import ScenarioInvalid

if TYPE_CHECKING:
    from accord.scenario import Known
    from accord.service.scenarios import ScenarioResult


@click.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option
def test(files: tuple[Path, ...], as_json: bool) -> None:
    """Run scenario files as tests, each in a fresh in-memory exchange.

    Prints one line per failed expectation and per invalid file, then
    'N passed, N failed, N invalid'. Exit 0 when everything passed, 1 when an expectation
    failed, 2 when a file is invalid (also when expectations of other files failed)."""
    from accord.scenario import load_scenario
    from accord.service.scenarios import run_scenario

    results: list[ScenarioResult] = []
    invalid: list[ScenarioInvalid] = []
    for path in files:
        try:
            results.append(run_scenario(load_scenario(path)))
        except ScenarioInvalid as error:
            invalid.append(error)
    passed = sum(r.passed for r in results)
    failed = sum(r.failed for r in results)
    if as_json:
        _emit_summary(results, invalid, passed, failed)
    else:
        for problem in invalid:
            click.echo(f"ERROR {problem.message}", err=True)
        for result in results:
            for failure in result.failures:
                click.echo(str(failure))
        click.echo(f"{passed} passed, {failed} failed, {len(invalid)} invalid")
    if invalid:
        raise click.exceptions.Exit(INVALID)
    if failed:
        raise click.exceptions.Exit(DENIED)


def _emit_summary(
    results: list[ScenarioResult], invalid: list[ScenarioInvalid], passed: int, failed: int
) -> None:
    from accord.cli.render import emit_json

    emit_json(
        {
            "passed": passed,
            "failed": failed,
            "invalid": len(invalid),
            "failures": [f.as_dict() for r in results for f in r.failures],
            "invalid_files": [
                {"file": e.file, "line": e.line, "field": e.field, "message": e.detail}
                for e in invalid
            ],
        }
    )


@click.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@json_option
def load(file: Path, as_json: bool) -> None:
    """Add a scenario file's definitions and events to the exchange, all or nothing.

    The file may name what the store already holds (parties, agreements, users, items) and
    repeat definitions and recorded events identically: they are accepted and not added again.
    A definition that differs from the stored one is refused, naming the field and both
    values; nothing is written. New events must not be dated before the store's latest act."""
    from accord.service.scenarios import load_file

    with progress_bar(f"loading {file}") as progress:
        loaded = load_file(env().exchange, file, progress)
    scenario = loaded.scenario
    added = _counts(
        len(scenario.topics),
        len(scenario.parties),
        len(scenario.agreements),
        len(scenario.users),
        len(scenario.items),
        loaded.events,
    )
    line = f"loaded {file}: added {added}"
    known = _known_counts(scenario.known, loaded.known_events)
    if known:
        line += f"; already in the store: {known}"
    added_ids = {
        "topics": sorted(scenario.topics),
        "parties": [p.code for p in scenario.parties],
        "agreements": [a.id for a in scenario.agreements],
        "users": [u.id for u in scenario.users],
        "items": [i.id for i in scenario.items],
        "events": loaded.events,
    }
    already = {
        "topics": sorted(scenario.known.topics),
        "parties": [p.code for p in scenario.known.parties],
        "agreements": [a.id for a in scenario.known.agreements],
        "users": [u.id for u in scenario.known.users],
        "items": [i.id for i in scenario.known.items],
        "events": loaded.known_events,
    }
    objects: dict[str, object] = {
        "file": str(file),
        "added": added_ids,
        "already_in_the_store": already,
    }
    announce(line, as_json, objects)


def _counts(topics: int, parties: int, agreements: int, users: int, items: int, events: int) -> str:
    return (
        f"{topics} topics, {parties} parties, {agreements} agreements, {users} users,"
        f" {items} items, {events} events"
    )


def _known_counts(known: Known, events: int) -> str:
    counts = (
        len(known.topics),
        len(known.parties),
        len(known.agreements),
        len(known.users),
        len(known.items),
        events,
    )
    return _counts(*counts) if any(counts) else ""
