"""Group commit: acts that arrive together run in one store transaction with one signed
checkpoint of the log, each keeping its own log entries.

``GroupCommit.submit`` queues an act (a function of no arguments that acts on the exchange: a
read, a write, any TAXII resource) and returns a future of its ``Outcome``. One committer thread
takes the first act waiting, every act queued behind it, and waits for more until the group holds
``max_acts`` or the first act has waited ``max_wait`` seconds; then it runs the group (``run``):
one write transaction (the store's write lock taken once), the acts in arrival order, one commit,
one signature of the log. Each unit of work an act opens — what would be a transaction of its own
without grouping — is a savepoint (``Exchange.group``): one that raises is undone alone, its rows,
its log entries and its changes to the world in memory, and the act's outcome carries the error;
the other acts commit. (So an act that fails after a unit that succeeded keeps that unit, as it
would have without grouping: a read that finds nothing is logged, then answered 404.) A
transaction that fails as a whole (the write lock not had in time, the commit refused) fails every
act of the group with that error.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

from accord.errors import InvalidInput
from accord.service import journal
from accord.service.exchange import Exchange, Session

T = TypeVar("T")

MAX_ACTS = 64  # the default most acts in one group
MAX_WAIT = 0.002  # the default seconds the first act of a group waits for others


@dataclass(frozen=True, slots=True)
class GroupLimits:
    """At most ``max_acts`` acts in one group; the first waits at most ``max_wait`` seconds for
    the others. ``max_acts`` 1 is no grouping (``enabled`` is false)."""

    max_acts: int = MAX_ACTS
    max_wait: float = MAX_WAIT

    def __post_init__(self) -> None:
        if isinstance(self.max_acts, bool) or not isinstance(self.max_acts, int):
            raise InvalidInput(f"group limits: max_acts {self.max_acts!r} is not an integer")
        if self.max_acts < 1:
            raise InvalidInput(f"group limits: max_acts {self.max_acts} is less than 1")
        if not (0 <= self.max_wait <= 60):  # also refuses NaN
            raise InvalidInput(f"group limits: max_wait {self.max_wait!r} is not 0 to 60 seconds")

    @property
    def enabled(self) -> bool:
        return self.max_acts > 1


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What became of one act of a group: its value or its error; the place of its own log
    entries (``entries``: empty when it logged none, or when the group failed); the size of the
    signed checkpoint that covers them (``checkpoint``: the group's, None when it logged
    nothing); the group's number in this ``GroupCommit`` (from 1)."""

    value: T | None
    error: Exception | None
    entries: range
    checkpoint: int | None
    group: int

    @property
    def ok(self) -> bool:
        return self.error is None

    def result(self) -> T:
        """The act's value, or its error raised."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


@dataclass(slots=True)
class _Waiting:
    act: Callable[[], object]
    future: Future[Outcome[object]]
    arrived: float


_STOP = object()


class GroupCommit:
    """Runs acts on ``exchange`` in groups (see the module). ``lock`` is the exchange's lock,
    held while a group runs (the exchange is not thread-safe); ``clock`` is a monotonic clock in
    seconds, for ``max_wait`` only."""

    def __init__(
        self,
        exchange: Exchange,
        limits: GroupLimits,
        lock: threading.RLock | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.exchange = exchange
        self.limits = limits
        self.lock = lock or threading.RLock()
        self.clock = clock
        self.groups = 0  # groups run so far
        self._queue: queue.SimpleQueue[_Waiting | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self._closed = False

    # --- one group, now -------------------------------------------------------------------------

    def run(self, acts: Sequence[Callable[[], T]]) -> list[Outcome[T]]:
        """The acts as one group, in this thread: one transaction, each act in its own part."""
        if not acts:
            return []
        with self.lock:
            self.groups += 1
            group = self.groups
            found: list[tuple[T | None, Exception | None, int, int]] = []
            exchange = self.exchange
            try:
                with exchange.group() as session:
                    first = journal.load_frontier(session.tx).size
                    found = [_run_part(exchange, session, act) for act in acts]
                    size = first + _logged(session)
            except Exception as error:  # the whole transaction: every act of the group failed
                return [Outcome(None, error, range(0), None, group) for _ in acts]
        return [
            Outcome(
                value,
                error,
                range(first + start, first + stop),
                size if stop > start else None,
                group,
            )
            for value, error, start, stop in found
        ]

    # --- acts as they arrive --------------------------------------------------------------------

    def submit(self, act: Callable[[], T]) -> Future[Outcome[T]]:
        """Queue ``act`` for the next group; the future holds its outcome once its group has
        committed (or failed). A future cancelled before its group starts is never run."""
        if self._closed:
            raise RuntimeError("this group commit is closed")
        future: Future[Outcome[T]] = Future()
        self._queue.put(_Waiting(act, future, self.clock()))  # type: ignore[arg-type]
        self._ensure_started()
        return future

    def close(self) -> None:
        """Stop the committer once every act queued before has run (no new act is taken)."""
        self._closed = True
        with self._start:
            thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._commit_loop, name="accord-group-commit", daemon=True
                )
                self._thread.start()

    def _commit_loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            assert isinstance(first, _Waiting)
            group, stopping = self._gather(first)
            self._run_waiting(group)

    def _gather(self, first: _Waiting) -> tuple[list[_Waiting], bool]:
        """The group that ``first`` opens: every act waiting, then more until it is full or
        ``first`` has waited ``max_wait``; and whether a stop came."""
        group = [first]
        deadline = first.arrived + self.limits.max_wait
        while len(group) < self.limits.max_acts:
            try:
                found = self._queue.get_nowait()
            except queue.Empty:
                left = deadline - self.clock()
                if left <= 0:
                    break
                try:
                    found = self._queue.get(timeout=left)
                except queue.Empty:
                    break
            if found is _STOP:
                return group, True
            assert isinstance(found, _Waiting)
            group.append(found)
        return group, False

    def _run_waiting(self, group: list[_Waiting]) -> None:
        live = [w for w in group if w.future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            outcomes = self.run([w.act for w in live])
        except BaseException as error:  # a defect of the group itself: every act hears it
            for w in live:
                w.future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for w, outcome in zip(live, outcomes, strict=True):
            w.future.set_result(outcome)


def _logged(session: Session) -> int:
    return len(session.pending.bodies) if session.pending is not None else 0


def _run_part(
    exchange: Exchange, session: Session, act: Callable[[], T]
) -> tuple[T | None, Exception | None, int, int]:
    """One act in its own part of the group: (value, error, first entry, end of its entries),
    its entries counted from the group's first."""
    start = _logged(session)
    try:
        value = act()
    except Exception as error:
        return None, error, start, _logged(session)
    return value, None, start, _logged(session)
