"""Human output (rich tables) and JSON output.

Tables are as wide as the terminal, or ``$COLUMNS`` when it is set; a column too narrow for its
text wraps it inside the cell (a long id is folded, never cut). When standard output is not a
terminal (a pipe, a file) tables are plain text: columns aligned with spaces, no box drawing, no
colour, each row on one line unless ``$COLUMNS`` asks for a width.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.console import Console, RenderableType
from rich.table import Table

from accord.model.time import iso

if TYPE_CHECKING:
    from accord.policy.lifecycle import AgreementState
    from accord.policy.reasons import Decision


UNBOUNDED = 4096  # the width of a pipe that has none: rows are never wrapped


class Screen:
    """Where human output goes. Each print looks at the terminal (and ``$COLUMNS``) as it is
    then; nothing is kept between prints."""

    def print(self, *objects: RenderableType) -> None:
        """Tables fit the width; a line of text is never broken (a key or a path stays whole)."""
        # markup, emoji and highlighting off: ids, titles and level names are shown as stored
        out = Console(highlight=False, markup=False, emoji=False)
        if not out.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
            out.width = UNBOUNDED  # a pipe with no width asked for: one line per row, for grep
        for thing in objects:
            if isinstance(thing, Table):
                fit(thing, plain=not out.is_terminal)
        if all(isinstance(thing, str) for thing in objects):
            text = " ".join(str(thing) for thing in objects)
            out.print(text if out.width == UNBOUNDED else folded(text, out.width), soft_wrap=True)
            return
        out.print(*objects)


def folded(text: str, width: int) -> str:
    """``text`` wrapped at spaces to ``width`` cells, each continuation indented as its line is;
    a word is never broken (a key, a path or an id longer than the width stays whole)."""
    from rich.cells import cell_len

    out: list[str] = []
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip(" "))]
        current = ""
        for word in line[len(indent) :].split(" "):
            candidate = f"{current} {word}" if current else word
            if current and cell_len(indent + candidate) > width:
                out.append(indent + current)
                current = word
            else:
                current = candidate
        out.append(indent + current)
    return "\n".join(out)


def fit(table: Table, *, plain: bool) -> None:
    """Fold text that does not fit its column; on a pipe, no box and no edge padding."""
    for column in table.columns:
        column.overflow = "fold"
    if plain:
        table.box = None
        table.show_edge = False
        table.pad_edge = False


console = Screen()


def emit_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def when(instant: datetime | None, tz: ZoneInfo | None) -> str:
    """An instant in the viewer's zone (UTC when none is chosen)."""
    if instant is None:
        return "-"
    return iso(instant, tz) if tz is not None else iso(instant)


def wall(instant: datetime | None, tz: ZoneInfo) -> str:
    """An instant as a wall-clock time in ``tz`` (the table says which zone), to the second."""
    return "-" if instant is None else instant.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def span(delta: timedelta | None) -> str:
    """A countdown such as ``6h 00m 00s`` or ``90d 08h 35m``."""
    if delta is None:
        return "-"
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h {minutes:02d}m"
    return f"{sign}{hours}h {minutes:02d}m {seconds:02d}s"


def verdict(decision: Decision) -> str:
    return "ALLOW" if decision.allowed else "DENY"


def codes(decision: Decision) -> str:
    return ", ".join(decision.codes)


def decision_table(title: str, decision: Decision) -> Table:
    table = Table(title=f"{title}: {verdict(decision)}", title_justify="left")
    table.add_column("code")
    table.add_column("rule")
    table.add_column("agreement")
    table.add_column("why")
    for reason in decision.reasons:
        table.add_row(reason.code.value, reason.rule, reason.agreement or "-", reason.message)
    return table


def state_table(state: AgreementState, tz: ZoneInfo | None) -> Table:
    table = Table(
        title=f"agreement {state.agreement} at {when(state.at, tz)}",
        title_justify="left",
        show_header=False,
    )
    table.add_column("field")
    table.add_column("value")
    table.add_row("status", state.status.value)
    table.add_row("term ends", when(state.term_end, tz))
    table.add_row("expires at", when(state.expires_at, tz))
    table.add_row("time left", span(state.time_left))
    if state.notice is not None:
        notice = state.notice
        detail = f"by {notice.by}, delivered {when(notice.delivered_at, tz)}"
        if notice.suspended:
            detail += ", suspended"
        if notice.failed_condition is not None and notice.effective_at is not None:
            detail += (
                f", resumed when its condition on {notice.failed_condition} failed:"
                f" ends {when(notice.effective_at, tz)}"
            )
        elif notice.effective_at is not None:
            detail += f", suspension lifted: ends {when(notice.effective_at, tz)}"
        table.add_row("notice", detail)
    if state.ended_by is not None:
        table.add_row("ended by", state.ended_by)
    for hc in state.conditions:
        row = f"{hc.condition.matter} is {hc.state}: " + ("holds" if hc.holds else "does not hold")
        row += f" (holds while {', '.join(sorted(hc.condition.holds_while))})"
        if hc.failed_at is not None:
            row += f"; failed {when(hc.failed_at, tz)}"
        row += f"; if it fails: {hc.condition.on_failure.describe()}"
        table.add_row("condition (R15)", row)
    for proposal in state.proposals:
        accepted = ", ".join(p for p, at, _ in proposal.accepted if at <= state.at) or "nobody yet"
        table.add_row(
            "amendment",
            f"{proposal.id} by {proposal.by} ({', '.join(sorted(proposal.changes))}):"
            f" {proposal.status(state.at)}, accepted by {accepted}",
        )
    return table


def listing(columns: Sequence[str], rows: Iterable[Sequence[str]], title: str = "") -> Table:
    """A table of a listing: one row per object, every cell already text."""
    table = Table(*columns, title=title or None, title_justify="left")
    for row in rows:
        table.add_row(*row)
    return table


def joined(values: Iterable[str], empty: str = "-") -> str:
    """Names in a cell: comma-separated, ``empty`` when there are none."""
    text = ", ".join(values)
    return text or empty


def announce(summary: str, as_json: bool, objects: dict[str, object]) -> None:
    """What a command that changed state did: one line, or JSON with the changed objects."""
    if as_json:
        emit_json({"done": True, "summary": summary, **objects})
    else:
        console.print(summary)
