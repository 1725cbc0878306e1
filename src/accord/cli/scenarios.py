"""Scenario commands: test, load, demo."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from accord.cli.context import env, json_option
from accord.cli.exits import DENIED, INVALID
from accord.cli.progress import progress_bar
from accord.cli.render import console, emit_json
from accord.errors import ScenarioInvalid

if TYPE_CHECKING:
    from accord.service.scenarios import ScenarioResult


@click.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option
def test(files: tuple[Path, ...], as_json: bool) -> None:
    """Run scenario files as tests: one line per failed expectation, then 'N passed, N failed'.

    Exit 0 when everything passed, 1 when an expectation failed, 2 when a file is invalid."""
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
        emit_json(
            {
                "passed": passed,
                "failed": failed,
                "failures": [
                    {"file": f.file, "line": f.line, "message": f.message}
                    for r in results
                    for f in r.failures
                ],
                "invalid": [{"file": e.file, "line": e.line, "message": e.detail} for e in invalid],
            }
        )
    else:
        for problem in invalid:
            click.echo(f"ERROR {problem.message}", err=True)
        for result in results:
            for failure in result.failures:
                click.echo(str(failure))
        click.echo(f"{passed} passed, {failed} failed")
    if invalid:
        raise click.exceptions.Exit(INVALID)
    if failed:
        raise click.exceptions.Exit(DENIED)


@click.command("load")
@click.argument("file", type=click.Path(path_type=Path))
def load(file: Path) -> None:
    """Load a scenario's definitions and events into the database, all or nothing."""
    from accord.scenario import load_scenario
    from accord.service.scenarios import apply_scenario

    scenario = load_scenario(file)
    exchange = env().exchange
    with progress_bar(f"loading {file}") as progress:
        outcomes = apply_scenario(exchange, scenario, strict=True, progress=progress)
    console.print(
        f"loaded {file}: {len(scenario.parties)} parties, {len(scenario.agreements)} agreements, "
        f"{len(scenario.users)} users, {len(scenario.items)} items, {len(outcomes)} events"
    )
