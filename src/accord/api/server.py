"""How uvicorn serves the app, with the connection limits of ``ApiSettings``:

- ``header_timeout``: a connection must finish sending a request's headers this many seconds
  after it opens (or after its first byte, on a kept-alive connection), or it is closed (uvicorn
  by itself never times out a slow header);
- ``idle_timeout``: a kept-alive connection with no request is closed after this many seconds
  (uvicorn's ``timeout_keep_alive``);
- ``max_header_bytes``: a request line and headers larger than this are refused by h11 (400);
- the body timeout and size limits are the app's own (``accord.api.body``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from accord.api.settings import ApiSettings


class HeaderDeadline(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose headers do not arrive in time."""

    header_timeout = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


SHUTDOWN_GRACE = 5  # seconds


def protocol(header_timeout: float) -> type[HeaderDeadline]:
    """The protocol class with its header deadline (uvicorn takes a class, not an instance)."""
    return type("HeaderDeadline", (HeaderDeadline,), {"header_timeout": header_timeout})


def config(app: Any, settings: ApiSettings, host: str, port: int, **extra: Any) -> uvicorn.Config:
    """A uvicorn configuration serving ``app`` with ``settings``' connection limits."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol(settings.header_timeout),
        timeout_keep_alive=max(1, round(settings.idle_timeout)),
        h11_max_incomplete_event_size=settings.max_header_bytes,
        log_level=extra.pop("log_level", "warning"),
        # a stopping server waits at most this long for open requests: live-feed streams, kept
        # alive by heartbeats, would otherwise hold it up forever
        timeout_graceful_shutdown=extra.pop("timeout_graceful_shutdown", SHUTDOWN_GRACE),
        **extra,
    )
