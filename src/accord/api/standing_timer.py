"""``accord serve``'s timer for agreement state changes that happen by the passage of time (a
termination taking effect with no act at that instant): it sleeps until the next change, then
re-evaluates the standing rules at that change's instant (``accord.service.standing``).

Only changes after the server started (and after the latest recorded act) are the timer's;
earlier ones are re-evaluated by the next act, before it is applied. A process that cannot
evaluate (the store busy, a fact that fails its check) logs it and tries again at the next
wake-up; several processes on one store may all run it: a recipient already decided at or after
the change's instant is not decided again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from accord.api.context import Server
from accord.errors import AccordError
from accord.service import standing

LONGEST_SLEEP = (
    60.0  # seconds: new events may bring a change closer; look again at least this often
)
LOG = logging.getLogger("accord.standing")


async def run_timer(server: Server, since: datetime) -> None:
    """Until cancelled: wait for each due change and evaluate it."""
    exchange = server.exchange
    while True:
        now = exchange.instant(None)
        try:
            due = await server.workers.exchange(standing.next_due, exchange, now)
        except AccordError as error:
            LOG.error("standing rules timer: %s", error.message)
            due = None
        wait = LONGEST_SLEEP if due is None else (due - now).total_seconds()
        await asyncio.sleep(min(LONGEST_SLEEP, max(0.0, wait)))
        try:
            made = await server.workers.exchange(
                standing.evaluate_due, exchange, since, exchange.instant(None)
            )
        except AccordError as error:
            LOG.error("standing rules timer: %s", error.message)
            continue
        if made:
            LOG.info("standing rules re-evaluated: %d decisions", made)
