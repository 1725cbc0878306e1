"""What every console handler shares: the exchange (used under its lock, off the event loop),
the sessions, the sign-in throttle, the templates, and the answers common to every page."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import anyio
import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from accord.errors import AccordError, InvalidInput
from accord.model.time import iso, parse_instant
from accord.service.console import ConsoleQueries
from accord.service.console_sessions import (
    ConsoleSession,
    ConsoleSessions,
    Sessions,
    StoredSessions,
)
from accord.service.console_verify import Verifier
from accord.service.credentials import Credentials
from accord.service.throttle import FailureThrottle
from accord.web.errors import public_message, status_of
from accord.web.security import SESSION_COOKIE

log = logging.getLogger("accord.console")
T = TypeVar("T")
NOT_FOUND_TEXT = "There is nothing here."


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    """Sessions last ``session_ttl``, at most ``sessions`` of them, in this process or (with
    ``shared_sessions``) in the store; at most ``sign_in_failures`` failed sign-ins per client
    address in ``sign_in_window`` seconds in each process (then 429 until the window ends)."""

    session_ttl: timedelta = timedelta(hours=8)
    sessions: int = 10_000
    sign_in_failures: int = 10
    sign_in_window: float = 60.0
    sign_in_clients: int = 10_000
    shared_sessions: bool = False  # kept in the store, for several processes on one store


class Console:
    def __init__(self, credentials: Credentials, settings: ConsoleSettings) -> None:
        self.credentials = credentials
        self.exchange = credentials.exchange
        self.settings = settings
        self.queries = ConsoleQueries(self.exchange)
        self.sessions: Sessions = (
            StoredSessions(credentials, settings.session_ttl, settings.sessions)
            if settings.shared_sessions
            else ConsoleSessions(settings.session_ttl, settings.sessions)
        )
        self.throttle = FailureThrottle(
            settings.sign_in_failures, settings.sign_in_window, settings.sign_in_clients
        )
        self.verifier = Verifier(self.exchange, credentials.exchange_lock)
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("accord.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["iso"] = iso

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread, holding the exchange's lock."""

        def locked() -> T:
            with self.credentials.exchange_lock:
                return fn(*args)

        return await anyio.to_thread.run_sync(locked)

    async def session(self, request: Request) -> ConsoleSession | None:
        """The request's live session, looked up off the event loop (it may be in the store):
        a session whose token was revoked or has expired since is closed."""
        cookie = request.cookies.get(SESSION_COOKIE)
        return await anyio.to_thread.run_sync(self._live_session, cookie)

    def _live_session(self, session_id: str | None) -> ConsoleSession | None:
        session = self.sessions.get(session_id)
        if session is not None and not self.credentials.live(session.principal):
            self.sessions.close(session_id)
            log.info("console session of %s ended with its token", session.principal.user)
            return None
        return session

    def page(
        self,
        request: Request,
        template: str,
        status: int = 200,
        session: ConsoleSession | None = None,
        **values: Any,
    ) -> HTMLResponse:
        body = self.templates.get_template(template).render(
            session=session, path=request.url.path, **values
        )
        return HTMLResponse(body, status)

    def not_found(self, request: Request, session: ConsoleSession | None) -> HTMLResponse:
        """The one answer for what does not exist and for what the user may not see."""
        return self.page(request, "missing.html", 404, session, message=NOT_FOUND_TEXT)

    def error(
        self, request: Request, error: AccordError, session: ConsoleSession | None
    ) -> Response:
        status = status_of(error)
        if status == 404:
            return self.not_found(request, session)
        if status >= 500:
            log.error("console: %s: %s", type(error).__name__, error.message)
        if request.url.path.startswith("/console/api/"):
            return JSONResponse({"error": error.code, "message": public_message(error)}, status)
        return self.page(request, "error.html", status, session, message=public_message(error))


def instant_param(request: Request, name: str = "at") -> datetime | None:
    """The ISO 8601 instant in query parameter ``name`` (with its offset), or None if absent."""
    text = request.query_params.get(name, "").strip()
    if not text:
        return None
    try:
        return parse_instant(text, name)
    except AccordError:
        raise InvalidInput(
            f"{name}: {text[:64]!r} is not an ISO 8601 instant with its offset"
            " (e.g. 2019-11-22T23:59:59+09:00)"
        ) from None


Handler = Callable[[Console, Request, ConsoleSession], Awaitable[Response]]


def signed_in(console: Console, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A handler for signed-in users: others are sent to sign in (pages) or get 401 (data)."""

    async def run(request: Request) -> Response:
        session = await console.session(request)
        if session is None:
            if request.url.path.startswith("/console/api/"):
                return JSONResponse({"error": "unauthenticated", "message": "sign in"}, 401)
            return RedirectResponse("/console/signin", 303)
        try:
            return await handler(console, request, session)
        except AccordError as error:
            return console.error(request, error, session)

    return run


def admin_only(handler: Handler) -> Handler:
    """A handler for admin tokens: anyone else gets the page of what does not exist."""

    async def run(console: Console, request: Request, session: ConsoleSession) -> Response:
        if not session.principal.admin:
            return console.not_found(request, session)
        return await handler(console, request, session)

    return run
