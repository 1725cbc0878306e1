"""Following a live feed over HTTP: an SSE reader on httpx streaming that reconnects with
``Last-Event-ID`` after a dropped connection (or a slow-consumer disconnect), so nothing is
lost and nothing repeated."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from accord.errors import InvalidInput, StoreUnreachable, Unauthenticated

HEARTBEAT = "heartbeat"  # a comment line, passed on as an event of this name


@dataclass(frozen=True, slots=True)
class SseEvent:
    id: str | None
    event: str
    data: dict[str, Any]


def parse_sse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """Events of a ``text/event-stream``; a comment line is a ``HEARTBEAT`` (``retry:`` is
    skipped)."""
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                try:
                    body = json.loads("\n".join(data))
                except ValueError:
                    body = {"text": "\n".join(data)}
                yield SseEvent(fields.get("id"), fields.get("event", "message"), body)
            fields, data = {}, []
            continue
        if line.startswith(":"):
            yield SseEvent(None, HEARTBEAT, {})
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name in ("id", "event"):
            fields[name] = value


@dataclass
class Follower:
    """Follows ``url`` as ``user`` with ``token``; ``cursor`` is the last event seen."""

    url: str
    user: str
    token: str
    cursor: str | None = None
    retries: int | None = None  # reconnections allowed (None: no limit)
    backoff: float = 0.5
    sleep: Callable[[float], None] = time.sleep

    def events(self) -> Iterator[SseEvent]:
        failures = 0
        while True:
            try:
                for event in self._stream():
                    failures = 0
                    if event.id is not None:
                        self.cursor = event.id
                    yield event
            except (httpx.TransportError, httpx.RemoteProtocolError):
                pass
            failures += 1
            if self.retries is not None and failures > self.retries:
                raise StoreUnreachable(f"the feed at {self.url} stopped answering")
            self.sleep(min(5.0, self.backoff * 2 ** min(failures - 1, 4)))

    def _stream(self) -> Iterator[SseEvent]:
        headers = {"Accept": "text/event-stream"}
        if self.cursor is not None:
            headers["Last-Event-ID"] = self.cursor
        auth = httpx.BasicAuth(self.user, self.token)
        timeout = httpx.Timeout(10.0, read=60.0)  # heartbeats come far more often
        with httpx.stream("GET", self.url, headers=headers, auth=auth, timeout=timeout) as r:
            if r.status_code != 200:
                r.read()
                raise _refused(self.url, r)
            yield from parse_sse(r.iter_lines())


def _refused(url: str, response: httpx.Response) -> Exception:
    try:
        description = str(response.json().get("description", ""))
    except ValueError:
        description = ""
    if response.status_code == 401:
        return Unauthenticated(f"{url}: the user id or token is not valid")
    return InvalidInput(f"{url}: HTTP {response.status_code} {description}".rstrip())
