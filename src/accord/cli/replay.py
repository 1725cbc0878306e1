"""``accord replay FILE``: publish each launch of a launch database as a launch-event item."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from accord.cli.context import env, json_option, names
from accord.cli.progress import progress_bar
from accord.errors import InvalidInput
from accord.model.time import parse_instant

if TYPE_CHECKING:
    from accord.service.replay import Published


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--speed",
    type=float,
    default=0.0,
    show_default=True,
    help="Wait between launches their real interval divided by N (0: no waiting).",
)
@click.option("--no-wait", is_flag=True, help="Publish as fast as possible (--speed 0).")
@click.option("--originator", default="KOR", show_default=True, help="The publishing party.")
@click.option("--level", default=None, help="A level of the originator (default: its lowest).")
@click.option("--topics", "topics_text", default="nk-missile", show_default=True)
@click.option(
    "--releasable-to", "releasable", default="", help="Comma-separated parties (default: none)."
)
@click.option("--start", "start_text", default=None, help="Only launches at or after INSTANT.")
@click.option("--until", "until_text", default=None, help="Only launches before INSTANT.")
@click.option("--skip-bad", is_flag=True, help="Publish the readable rows when some are not.")
@json_option
def replay(
    file: Path,
    speed: float,
    no_wait: bool,
    originator: str,
    level: str | None,
    topics_text: str,
    releasable: str,
    start_text: str | None,
    until_text: str | None,
    skip_bad: bool,
    as_json: bool,
) -> None:
    """Publish each launch of FILE (the CNS database's CSV export, or nagix's flattened
    table) as a launch-event item created by the originator at the launch's real instant.

    Rows that cannot be read are listed with their line and column; nothing is published
    then (exit 2) unless --skip-bad is given."""
    # imported here: the CLI starts without the service, store and crypto layers
    from accord.cli.render import console, emit_json, when
    from accord.scenario.launch_file import read_launches
    from accord.service.replay import Replayer, ReplaySettings

    if no_wait and speed != 0:
        raise InvalidInput("give --speed N or --no-wait, not both")
    settings = ReplaySettings(
        originator,
        names(topics_text),
        level,
        names(releasable),
        speed,
        parse_instant(start_text, "--start") if start_text else None,
        parse_instant(until_text, "--until") if until_text else None,
        skip_bad,
    )
    launches = read_launches(file)
    tz = env().zone(None)
    done: list[Published] = []

    if skip_bad:
        for problem in launches.problems:
            click.echo(f"skipped: {file}: {problem}", err=True)
    with progress_bar(f"replaying {file}") as bar:

        def progress(event: Published) -> None:
            done.append(event)
            if bar is not None:  # a terminal: the bar counts the launches of the file
                bar("launches", len(done), len(launches.rows))
            if not as_json:
                state = "published" if event.created else "already present"
                click.echo(f"{when(event.at, tz)}  {state}  {event.item}  {event.title}")

        report = Replayer(env().exchange).run(launches, settings, progress)
    if as_json:
        emit_json(
            {
                "file": str(file),
                "layout": launches.layout,
                "selected": report.selected,
                "published": report.published,
                "already_present": report.present,
                "unreadable_rows": [
                    {"line": p.line, "column": p.column, "value": p.value, "message": p.message}
                    for p in launches.problems
                ],
                "items": [
                    {
                        "line": e.line,
                        "item": e.item,
                        "stix_id": e.stix_id,
                        "at": when(e.at, None),
                        "created": e.created,
                    }
                    for e in done
                ],
            }
        )
        return
    console.print(
        f"{file}: {report.published} published, {report.present} already present, "
        f"{report.unreadable} unreadable rows skipped"
    )
