"""``AdminGate``: what the admin API checks before FastAPI reads anything.

A request with a body (POST, PUT, PATCH, DELETE) is authenticated as an admin first, then its
body is read up to ``max_admin_body`` bytes within ``body_timeout`` seconds and parsed as strict
JSON (``accord.api.body``); only then does FastAPI see it (the body replayed from memory). So an
unauthenticated client can make the server hold at most one socket buffer per connection, and
the admin API refuses what TAXII refuses (NaN, 1e400, nesting past the limit, lone surrogates).
``HEAD`` is answered as ``GET`` (the server sends only the headers).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.api import responses
from accord.api.body import declared_too_large, parse_json, read_body
from accord.api.context import Server
from accord.api.errors import Forbidden, TooLarge
from accord.errors import AccordError
from accord.service.credentials import Principal

WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON = "application/json"


class AdminGate:
    def __init__(self, server: Server, app: ASGIApp) -> None:
        self.server = server
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/admin"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}
        if scope["method"] not in WITH_BODY:
            await self.app(scope, receive, send)
            return
        try:
            principal, body = await self._checked(Request(scope, receive))
        except AccordError as exc:
            await responses.error(exc, JSON)(scope, receive, send)
            return
        state: dict[str, Any] = {**scope.get("state", {}), "principal": principal}
        await self.app({**scope, "state": state}, _replay(body, receive), send)

    async def _checked(self, request: Request) -> tuple[Principal, bytes]:
        principal = await self.server.gate.principal(request)
        if not principal.admin:
            raise Forbidden("this API needs an admin token")
        settings = self.server.settings
        limit = settings.max_admin_body
        if declared_too_large(request.headers.get("content-length"), limit):
            raise TooLarge(f"the body is larger than max_admin_body ({limit} bytes)")
        body = await read_body(request.stream(), limit, settings.body_timeout)
        if body.strip():
            parse_json(body, settings.max_json_depth)
        return principal, body


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: only the disconnect is left

    return replayed
