"""How long work reports how far it has got: a callback, never output.

``progress(stage, done, total)`` is called now and then (every ``EVERY`` units and at the end of
a stage) with a stage name such as ``"entries"``, the units done so far and the total when it is
known (``None`` when it is not). Adapters draw it (the CLI's progress bar) or ignore it.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int | None], None]

EVERY = 1024  # units of work between two reports


def tick(progress: Progress | None, stage: str, done: int, total: int | None) -> None:
    """Report ``done`` when it is a multiple of ``EVERY`` or the last unit of ``total``."""
    if progress is not None and (done % EVERY == 0 or done == total):
        progress(stage, done, total)
