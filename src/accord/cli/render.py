"""Human output (rich tables) and JSON output."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from accord.model.time import iso
from accord.policy.lifecycle import AgreementState
from accord.policy.reasons import Decision

# markup off: ids, titles and level names are shown exactly as stored, never read as markup
console = Console(highlight=False, soft_wrap=False, width=140, markup=False)


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
