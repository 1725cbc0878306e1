"""``GET /feeds/{party}/``: a user's live feed as server-sent events (docs/feed.md).

The same credentials as TAXII; a user may open only their own party's feed, and any other
party's, existing or not, is the same 404 as a cursor of another user's feed. ``Last-Event-ID``
(or else ``?after=``) resumes after that event; without either the stream starts at the end.

Per subscriber: a producer reads the store in pages (in a worker thread, under the exchange
lock) whenever woken, or every ``feed_poll`` seconds, into a queue of at most ``feed_queue``
events; a sender writes them out, and a comment line after ``feed_heartbeat`` idle seconds.
When the queue has stayed full for ``feed_stall`` seconds the subscriber is too slow: it gets a
``disconnect`` event with the cursor to resume from, and the stream ends. Nothing grows beyond
the queue: the store, not memory, holds what a slow subscriber has not read yet.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from accord.api import responses
from accord.api.context import Server
from accord.api.errors import BadRequest, NotFound, answer
from accord.api.feed_hub import FeedHub
from accord.api.stix_codec import stix_object
from accord.errors import AccordError, FeedCursorInvalid, FeedNotFound
from accord.model.feed import FeedCursor, FeedKind
from accord.service.feed import FeedBatch, FeedEvent

log = logging.getLogger("accord.api.feed")

MEDIA = "text/event-stream"
SLOW_CONSUMER = "slow-consumer"
HEARTBEAT = b": keep-alive\n\n"
OPENING = b": accord feed\n\n"
_SEND_GRACE = 1.0  # seconds the last words to a stalled client may wait


def sse(kind: str, data: dict[str, Any], cursor: str | None = None) -> bytes:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = f"id: {cursor}\n" if cursor is not None else ""
    return f"{head}event: {kind}\ndata: {text}\n\n".encode()


def event_data(event: FeedEvent) -> dict[str, Any]:
    data = event.data()
    if event.hit is not None:
        data["object"] = stix_object(event.hit)
    return data


def encode(user: str, batch: FeedBatch) -> list[bytes]:
    chunks = []
    if batch.gap is not None:
        resumed = FeedCursor(user, batch.gap.resumed).text()
        data = {
            "kind": FeedKind.GAP.value,
            "requested": batch.gap.requested,
            "resumed": resumed,
            "message": "events before this point are no longer kept for the feed;"
            " read the collection over TAXII for what came before",
        }
        chunks.append(sse(FeedKind.GAP.value, data, resumed))
    chunks += [sse(e.kind.value, event_data(e), e.cursor) for e in batch.events]
    return chunks


def feed_endpoint(server: Server, hub: FeedHub) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            principal = await server.gate.principal(request)
            if request.path_params["party"] != principal.party:
                raise NotFound("no such feed")
            start = await _start(server, request, principal.user)
        except AccordError as exc:
            if answer(exc).status >= 500:
                log.error("%s on GET %s: %s", exc.code, request.url.path, exc)
            return responses.error(exc, "application/json")
        except Exception as exc:
            log.exception("internal error on GET %s", request.url.path)
            return responses.error(exc, "application/json")
        if request.method == "HEAD":  # the headers a GET would get, and no stream
            return Response(None, 200, media_type="text/event-stream")
        return FeedStream(server, hub, principal.user, start)

    return run


async def _start(server: Server, request: Request, user: str) -> int:
    """The position to stream from: ``Last-Event-ID`` wins over ``?after=`` (a reconnecting
    browser resends the URL it was opened with, and the header is the newer)."""
    field, cursor = "Last-Event-ID", request.headers.get("last-event-id")
    if not cursor:
        field, cursor = "after", request.query_params.get("after")
    try:
        return await server.workers.exchange(server.feed.start, user, cursor or None)
    except FeedCursorInvalid as exc:
        raise BadRequest(f"{field}: {exc.message}") from None
    except FeedNotFound:
        raise NotFound("no such feed") from None


class FeedStream(Response):
    """One subscriber's stream (see the module)."""

    media_type = MEDIA

    def __init__(self, server: Server, hub: FeedHub, user: str, position: int) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),
            (b"connection", b"close"),  # a stream ends only when it must: never reused
        ]
        self.server = server
        self.hub = hub
        self.user = user
        self.position = position
        self.delivered = position
        self.queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(
            maxsize=server.settings.feed_queue + 1  # and a gap event
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        wake = self.hub.subscribe(self.user)
        reason: str | None = None
        try:
            await send({"type": "http.response.body", "body": OPENING, "more_body": True})
            async with anyio.create_task_group() as group:
                group.start_soon(self._watch, receive, group.cancel_scope)
                group.start_soon(self._send, send, group.cancel_scope)
                reason = await self._produce(wake)
                group.cancel_scope.cancel()
        except OSError:  # the client went away mid-write
            return
        finally:
            self.hub.unsubscribe(self.user, wake)
        await self._close(send, reason)

    async def _close(self, send: Send, reason: str | None) -> None:
        """The last words, each given ``_SEND_GRACE`` seconds: a stalled client's transport
        takes the bytes even when the wait for it to drain runs out, and the connection is
        closed after them (``connection: close``)."""
        chunks = [b""]
        if reason is not None:
            resume = FeedCursor(self.user, self.delivered).text()
            data = {
                "kind": FeedKind.DISCONNECT.value,
                "reason": reason,
                "resume": resume,
                "message": "the client did not keep up; reconnect with Last-Event-ID",
            }
            chunks.insert(0, sse(FeedKind.DISCONNECT.value, data))
        for n, chunk in enumerate(chunks):
            with anyio.move_on_after(_SEND_GRACE):
                try:
                    more = n < len(chunks) - 1
                    await send({"type": "http.response.body", "body": chunk, "more_body": more})
                except OSError:
                    return

    async def _watch(self, receive: Receive, scope: anyio.CancelScope) -> None:
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                scope.cancel()
                return

    async def _send(self, send: Send, scope: anyio.CancelScope) -> None:
        heartbeat = self.server.settings.feed_heartbeat
        while True:
            try:
                n, chunk = await asyncio.wait_for(self.queue.get(), heartbeat)
            except TimeoutError:
                n, chunk = self.delivered, HEARTBEAT
            try:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except OSError:
                scope.cancel()
                return
            self.delivered = n

    async def _produce(self, wake: asyncio.Event) -> str | None:
        """Read and queue events until the subscriber is too slow (the reason) or cancelled."""
        settings = self.server.settings
        page = max(1, min(settings.feed_page, settings.feed_queue))
        while True:
            if not await self._room(page, settings.feed_stall):
                return SLOW_CONSUMER
            wake.clear()
            read = functools.partial(_read, self.server, self.user, self.position, page)
            key = (self.user, self.position, page)
            chunks, position, more = await self.server.feed_reads.read(key, read)
            for item in chunks:
                self.queue.put_nowait(item)
            self.position = position
            if more:
                continue
            with anyio.move_on_after(settings.feed_poll):
                await wake.wait()

    async def _room(self, page: int, stall: float) -> bool:
        """Wait until a page fits in the queue; False if it stays full ``stall`` seconds."""
        limit = self.queue.maxsize
        with anyio.move_on_after(stall):
            while self.queue.qsize() + page > limit:
                await anyio.sleep(0.02)
            return True
        return False


def _read(
    server: Server, user: str, after: int, page: int
) -> tuple[tuple[tuple[int, bytes], ...], int, bool]:
    """One page of ``user``'s feed after ``after``, encoded: (position, chunk) pairs, the
    position to read on from, and whether more follow. Depends on nothing but its arguments
    and the store, so the streams of one user at one position may share it."""
    batch = server.feed.fetch(user, after, page, server.now())
    chunks = encode(user, batch)
    ns = ([batch.gap.resumed] if batch.gap is not None else []) + [e.n for e in batch.events]
    position = batch.position if batch.position is not None else after
    if batch.gap is not None and batch.position is None:
        position = batch.gap.resumed
    return tuple(zip(ns, chunks, strict=True)), position, batch.more
