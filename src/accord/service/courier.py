"""Delivering a node's outbox to its pinned peers: bounded retries with exponential backoff.

``Courier.round`` tries every peer with facts waiting, once each message, until each is empty
or fails; a peer that failed is not tried again before its backoff has passed (``base``,
doubled at each failure up to ``ceiling``; reset by a delivery). ``deliver_all`` (``accord node
deliver``) runs rounds until nothing waits or ``attempts`` failures per peer, waiting between
them; ``run`` (the background deliverer of ``accord serve``) runs rounds until stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from accord.errors import AccordError
from accord.model.messages import DeliveryOutcome
from accord.service.deliverer import Deliverer
from accord.store import outbox

log = logging.getLogger("accord.node")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds before a failed peer is tried again: ``base`` · 2^(failures−1), at most
    ``ceiling``."""

    base: float = 0.2
    ceiling: float = 10.0

    def delay(self, failures: int) -> float:
        if failures <= 0:
            return 0.0
        return float(min(self.ceiling, self.base * 2 ** min(failures - 1, 30)))


@dataclass
class PeerProgress:
    """What the courier did for one peer."""

    peer: str
    messages: int = 0
    facts: int = 0
    failures: int = 0
    last_error: str | None = None
    waiting: int = 0
    ready_at: float = 0.0  # monotonic seconds: not tried before


@dataclass
class Courier:
    """Delivers through ``deliverer`` to the parties ``peers()`` lists; ``monotonic`` is the
    clock of backoff (seconds), ``per_round`` bounds the messages sent to one peer a round."""

    deliverer: Deliverer
    peers: Callable[[], list[str]]
    monotonic: Callable[[], float]
    backoff: Backoff = field(default_factory=Backoff)
    per_round: int = 100
    progress: dict[str, PeerProgress] = field(default_factory=dict)

    def waiting(self, peer: str) -> int:
        with self.deliverer.exchange.store.transaction(write=False) as tx:
            return outbox.pending_count(tx, peer)

    def round(self) -> list[PeerProgress]:
        """One pass over every peer that is due; what each came to."""
        now = self.monotonic()
        for peer in self.peers():
            state = self.progress.setdefault(peer, PeerProgress(peer))
            if state.ready_at > now:
                continue
            self._try(state)
        return list(self.progress.values())

    def _try(self, state: PeerProgress) -> None:
        state.waiting = self.waiting(state.peer)
        if state.waiting == 0:
            return
        for _ in range(self.per_round):
            try:
                attempt = self.deliverer.deliver(state.peer, self.deliverer.exchange.instant(None))
            except AccordError as error:  # the peer is not pinned, a row fails its check...
                attempt_outcome, detail = DeliveryOutcome.REFUSED, f"{error.code}: {error.message}"
            else:
                attempt_outcome, detail = attempt.outcome, attempt.detail
            if attempt_outcome is DeliveryOutcome.DELIVERED:
                state.messages += 1
                state.facts += attempt.facts
                state.failures = 0
                state.last_error = None
                state.ready_at = 0.0
                continue
            if attempt_outcome is not DeliveryOutcome.IDLE:
                state.failures += 1
                state.last_error = f"{attempt_outcome.value}: {detail}"
                state.ready_at = self.monotonic() + self.backoff.delay(state.failures)
                log.info("delivery to %s: %s", state.peer, state.last_error)
            break
        state.waiting = self.waiting(state.peer)

    def deliver_all(self, attempts: int, wait: Callable[[float], object]) -> list[PeerProgress]:
        """Rounds until nothing waits, or some peer has failed ``attempts`` times in a row;
        ``wait(seconds)`` sleeps between rounds (until the next peer is due)."""
        for _ in range(attempts * self.per_round + 1):  # bounded: every round sends or fails
            states = self.round()
            due = [s for s in states if s.waiting > 0]
            if not due or any(s.failures >= attempts for s in due):
                return states
            next_at = min(s.ready_at for s in due)
            pause = next_at - self.monotonic()
            if pause > 0:
                wait(pause)
        return list(self.progress.values())

    def run(self, stop: threading.Event, interval: float) -> None:
        """Rounds every ``interval`` seconds (sooner for a peer whose backoff ends) until
        ``stop`` is set; a failing store is logged and tried again, never fatal."""
        while not stop.is_set():
            try:
                self.round()
            except AccordError as error:
                log.warning("the background deliverer: %s", error.code)
            except Exception:
                log.exception("the background deliverer failed a round")
            stop.wait(interval)
