"""Feed wake-ups between server processes through NATS JetStream.

Each process publishes, on ``accord.feed.<exchange>.wake`` (``<exchange>`` names the store's
exchange, so exchanges sharing a NATS server never wake each other; stream ``ACCORD_FEED``,
kept in memory for a minute), the tags of the users whose feeds its acts added to, once those acts have committed;
every process subscribes from the newest message on and wakes its own subscribers of those
users. A lost or late message costs latency only: subscribers also look at the store every
``feed_poll`` seconds, and the store, not NATS, is the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from accord.api.feed_hub import FeedHub
from accord.api.workers import Workers
from accord.model.feed import user_tag

log = logging.getLogger("accord.api.feed")

STREAM = "ACCORD_FEED"
SUBJECTS = "accord.feed.>"
RETENTION_SECONDS = 60.0


def _committed() -> None:
    """Run under the worker lock: returns once every act that woke the bridge has committed."""


class NatsBridge:
    def __init__(self, url: str, channel: str, hub: FeedHub, workers: Workers) -> None:
        self.url = url
        self.subject = f"accord.feed.{channel}.wake"
        self.hub = hub
        self.workers = workers
        self._pending: set[str] = set()
        self._ready = asyncio.Event()
        self._nc: Any = None
        self._js: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        import nats  # noqa: PLC0415  (only a server started with --nats needs it)
        from nats.js import api  # noqa: PLC0415

        self._nc = await nats.connect(self.url, name="accord-feed", connect_timeout=5)
        self._js = self._nc.jetstream()
        config = api.StreamConfig(
            name=STREAM,
            subjects=[SUBJECTS],
            storage=api.StorageType.MEMORY,
            max_age=RETENTION_SECONDS,
        )
        try:
            await self._js.add_stream(config)
        except nats.js.errors.BadRequestError:  # made by another process with other limits
            await self._js.stream_info(STREAM)
        await self._js.subscribe(
            self.subject,
            cb=self._received,
            deliver_policy=api.DeliverPolicy.NEW,
            ordered_consumer=True,
        )
        self.hub.forward = self._queue
        self._task = asyncio.create_task(self._publish())

    def _queue(self, users: frozenset[str]) -> None:
        self._pending |= users
        self._ready.set()

    async def _publish(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            await self.workers.exchange(_committed)
            users, self._pending = self._pending, set()
            body = json.dumps(sorted(user_tag(u) for u in users)).encode()
            try:
                await self._js.publish(self.subject, body)
            except Exception:  # NATS away: the other processes' polls still find the events
                log.warning("could not publish a feed wake-up to NATS at %s", self.url)

    async def _received(self, msg: Any) -> None:
        try:
            tags = json.loads(msg.data)
        except ValueError:
            return
        if isinstance(tags, list):
            self.hub.wake_tags(str(t) for t in tags)

    async def close(self) -> None:
        self.hub.forward = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._nc is not None:
            await self._nc.close()
