"""``accord demo``: the November 2019 GSOMIA case as tables."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from rich.table import Table

from accord.cli.context import env, json_option
from accord.cli.queries import impact_tables
from accord.cli.render import codes, console, emit_json, span, verdict, wall
from accord.model.time import iso

if TYPE_CHECKING:
    from accord.policy.lifecycle import AgreementState
    from accord.service.demo import DemoReport

SEOUL = ZoneInfo("Asia/Seoul")


def _state(state: AgreementState) -> str:
    text = state.status.value
    if state.notice is not None and state.notice.suspended and state.in_force:
        text += " (notice suspended)"
    return text


def _countdown(state: AgreementState) -> str:
    return span(state.time_left) if state.time_left is not None else "-"


def _states_table(report: DemoReport) -> Table:
    table = Table(title=f"{report.agreement}: state over time (KST)", title_justify="left")
    for column in (
        "instant (KST)",
        "event",
        "as it happened",
        "expires / countdown",
        "without the suspension",
        "expires / countdown",
    ):
        table.add_column(column)
    for row in report.states:
        table.add_row(
            wall(row.at, SEOUL),
            row.label,
            _state(row.actual),
            f"{wall(row.actual.expires_at, SEOUL)}\n{_countdown(row.actual)}",
            _state(row.without_suspension),
            f"{wall(row.without_suspension.expires_at, SEOUL)}\n{_countdown(row.without_suspension)}",
        )
    return table


def _decisions_table(report: DemoReport) -> Table:
    table = Table(
        title="releases around midnight, 23 November 2019 (instants in KST)", title_justify="left"
    )
    for column in ("instant (KST)", "release", "as it happened", "without the suspension"):
        table.add_column(column)
    for row in report.decisions:
        table.add_row(
            wall(row.at, SEOUL),
            row.label,
            f"{verdict(row.actual)} {codes(row.actual) if not row.actual.allowed else row.actual.reasons[0].agreement}",
            f"{verdict(row.without_suspension)} "
            f"{codes(row.without_suspension) if not row.without_suspension.allowed else row.without_suspension.reasons[0].agreement}",
        )
    return table


def _as_dict(report: DemoReport) -> dict[str, object]:
    return {
        "agreement": report.agreement,
        "lapse": iso(report.lapse),
        "states": [
            {
                "label": r.label,
                "at": iso(r.at),
                "as_it_happened": r.actual.as_dict(),
                "without_suspension": r.without_suspension.as_dict(),
            }
            for r in report.states
        ],
        "decisions": [
            {
                "label": r.label,
                "at": iso(r.at),
                "as_it_happened": r.actual.as_dict(),
                "without_suspension": r.without_suspension.as_dict(),
            }
            for r in report.decisions
        ],
        "impact_without_suspension": report.impact.as_dict(),
    }


@click.command()
@json_option
def demo(as_json: bool) -> None:
    """Play the November 2019 ROK–Japan GSOMIA case from the built-in scenario."""
    from accord.scenario import builtin_scenario_path, load_scenario
    from accord.service.demo import play

    _ = env().settings  # validated even though the demo uses its own in-memory exchange
    report = play(load_scenario(builtin_scenario_path()))
    if as_json:
        emit_json(_as_dict(report))
        return
    console.print(_states_table(report))
    console.print(_decisions_table(report))
    console.print("what would have stopped at midnight without the suspension")
    for table in impact_tables(report.impact, SEOUL):
        console.print(table)
