"""Subscribers' reads of the store, coalesced: every read waiting when the worker is free runs
in one worker call and one store transaction. One commit, and one signature of the log over
every delivery's audited read, instead of one per subscriber."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from accord.api.workers import Workers
from accord.errors import AccordError
from accord.service.exchange import Exchange

T = TypeVar("T")


class FeedReads:
    def __init__(self, exchange: Exchange, workers: Workers) -> None:
        self.exchange = exchange
        self.workers = workers
        self._waiting: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def read(self, fn: Callable[[], T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((fn, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                results = await self.workers.exchange(self._run, [fn for fn, _ in batch])
            except BaseException as error:  # the whole transaction failed: every reader hears it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():  # its subscriber left meanwhile
                    continue
                if isinstance(result, AccordError):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    def _run(self, fns: list[Callable[[], Any]]) -> list[Any]:
        found: list[Any] = []
        with self.exchange.batch():
            for fn in fns:
                try:
                    found.append(fn())
                except AccordError as error:
                    found.append(error)
        return found
