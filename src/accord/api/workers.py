"""The worker threads of one server: no blocking work runs on the event loop.

Exchange calls run in at most ``threads`` threads, one at a time inside the exchange (its lock,
shared with the credentials, since the exchange is not thread-safe); token checks run in at most
``hash_threads`` threads of their own, so a flood of slow hashes never takes every worker. The
limiters are made on first use (they belong to the running event loop). TAXII resources run
``grouped``: in the group commit's thread, with the others that arrive together, in one store
transaction (``accord.service.group_commit``); without a group commit, as ``exchange``.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

from accord.service.group_commit import GroupCommit

P = ParamSpec("P")
T = TypeVar("T")


class Workers:
    def __init__(
        self,
        threads: int,
        hash_threads: int,
        lock: threading.RLock,
        group: GroupCommit | None = None,
    ) -> None:
        if threads < 1 or hash_threads < 1:
            raise ValueError("threads and hash_threads must be at least 1")
        self.threads = threads
        self.hash_threads = hash_threads
        self.lock = lock
        self.group = group
        self._limiters: tuple[anyio.CapacityLimiter, anyio.CapacityLimiter] | None = None

    def _limiter(self, index: int) -> anyio.CapacityLimiter:
        if self._limiters is None:
            self._limiters = (
                anyio.CapacityLimiter(self.threads),
                anyio.CapacityLimiter(self.hash_threads),
            )
        return self._limiters[index]

    async def exchange(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` in a worker thread, holding the exchange's lock."""

        def locked() -> T:
            with self.lock:
                return fn(*args, **kwargs)

        return await anyio.to_thread.run_sync(locked, limiter=self._limiter(0))

    async def hashing(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn`` in a token-check thread (it takes the exchange's lock only where it must)."""
        call = functools.partial(fn, *args, **kwargs)
        return await anyio.to_thread.run_sync(call, limiter=self._limiter(1))

    async def grouped(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` in the next group commit (one transaction and one signed
        checkpoint with the acts arriving with it, its own part and log entries); its error, if
        it raised, is raised here. Without a group commit, as ``exchange``."""
        if self.group is None:
            return await self.exchange(fn, *args, **kwargs)
        future = self.group.submit(functools.partial(fn, *args, **kwargs))
        outcome = await asyncio.wrap_future(future)
        return outcome.result()

    def close(self) -> None:
        """Stop the group commit's thread (once the acts queued have run)."""
        if self.group is not None:
            self.group.close()
