"""Subscribers' reads of the store, coalesced and shared.

Every read waiting when the worker is free runs in one worker call and one store transaction:
one commit, and one signature of the log over every delivery's audited read, instead of one per
subscriber. Reads under one key (a user, a position and a page size) are shared: the first
subscriber's read runs once and each subscriber waiting under that key gets its result, so the
streams of one user at one position cost one store read, one decryption and one encoding. A
result is never kept after it is handed out, and different keys never share.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from accord.api.workers import Workers
from accord.errors import AccordError
from accord.service.exchange import Exchange

T = TypeVar("T")


@dataclass(slots=True)
class _Waiting:
    fn: Callable[[], Any]
    futures: list[asyncio.Future[Any]] = field(default_factory=list)


class FeedReads:
    def __init__(self, exchange: Exchange, workers: Workers) -> None:
        self.exchange = exchange
        self.workers = workers
        self._waiting: dict[Hashable, _Waiting] = {}
        self._drainer: asyncio.Task[None] | None = None
        self.runs = 0  # reads run (for tests: how many keys were read, not subscribers served)

    async def read(self, key: Hashable, fn: Callable[[], T]) -> T:
        """``fn``'s result, or that of the read already waiting under ``key`` (the same read:
        callers give one key only to reads that answer alike)."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, _Waiting(fn)).futures.append(future)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = list(self._waiting.values()), {}
            try:
                results = await self.workers.exchange(self._run, [w.fn for w in batch])
            except BaseException as error:  # the whole transaction failed: every reader hears it
                for waiting in batch:
                    for future in waiting.futures:
                        if not future.done():
                            future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            for waiting, result in zip(batch, results, strict=True):
                for future in waiting.futures:
                    if future.done():  # its subscriber left meanwhile
                        continue
                    if isinstance(result, AccordError):
                        future.set_exception(result)
                    else:
                        future.set_result(result)

    def _run(self, fns: list[Callable[[], Any]]) -> list[Any]:
        found: list[Any] = []
        self.runs += len(fns)
        with self.exchange.batch():
            for fn in fns:
                try:
                    found.append(fn())
                except AccordError as error:
                    found.append(error)
        return found
