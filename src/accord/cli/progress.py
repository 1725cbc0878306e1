"""A progress bar for long work, on standard error, only when it is a terminal.

The service reports progress through a callback (``accord.service.progress``); this module is
the one place that draws it. On a pipe or a file the callback is ``None`` and nothing is shown.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accord.service.progress import Progress


@contextmanager
def progress_bar(title: str) -> Iterator[Progress | None]:
    """A callback drawing one bar per stage of the work (``None`` when stderr is no terminal)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as Bars

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Bars(*columns, console=Console(stderr=True, highlight=False, markup=False)) as bars:
        stages: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int | None) -> None:
            if stage not in stages:
                stages[stage] = bars.add_task(f"{title}: {stage}", total=total)
            bars.update(stages[stage], completed=done, total=total)

        yield report
