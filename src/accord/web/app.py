"""The console app: ``console_app(credentials)`` builds one (no global app), to be mounted at
``/console`` beside the TAXII server (``accord serve`` does so).

Static files (the style sheet and the ES modules) are served from the package itself, so an
installed accord serves a working console with nothing fetched from anywhere else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from accord.service.credentials import Credentials
from accord.web import data, pages, signin
from accord.web.context import Console, ConsoleSettings, Handler, admin_only, signed_in
from accord.web.security import SecurityHeaders

STATIC = Path(__file__).parent / "static"


def _bare(
    console: Console, fn: Callable[[Console, Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        return await fn(console, request)

    return run


def _routes(console: Console) -> list[BaseRoute]:
    table: list[tuple[str, Handler, list[str]]] = [
        ("/", pages.network, ["GET"]),
        ("/agreements/{agreement}", pages.agreement, ["GET"]),
        ("/agreements/{agreement}/impact", pages.impact, ["GET"]),
        ("/items", pages.items, ["GET"]),
        ("/items/{item}", pages.item, ["GET"]),
        ("/items/{item}/read", pages.read_item, ["POST"]),
        ("/feed", pages.feed_page, ["GET"]),
        ("/decide", pages.decide, ["GET"]),
        ("/record", data.record_page, ["GET"]),
        ("/record/proof", data.proof, ["GET"]),
        ("/api/network", data.network, ["GET"]),
        ("/api/feed", data.feed, ["GET"]),
        ("/api/record/verify", admin_only(data.verify_start), ["POST"]),
        ("/api/record/verify", admin_only(data.verify_status), ["GET"]),
    ]
    routes: list[BaseRoute] = [
        Route("/signin", _bare(console, signin.sign_in_form), methods=["GET"]),
        Route("/signin", _bare(console, signin.sign_in), methods=["POST"]),
        Route("/signout", _bare(console, signin.sign_out), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    routes += [Route(p, signed_in(console, h), methods=m) for p, h, m in table]
    routes.append(Route("/{rest:path}", _missing(console), methods=["GET", "HEAD", "POST"]))
    return routes


def _missing(console: Console) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        return console.not_found(request, await console.session(request))

    return run


def console_app(
    credentials: Credentials, settings: ConsoleSettings | None = None
) -> SecurityHeaders:
    """The console over ``credentials.exchange``, sharing the TAXII server's exchange lock."""
    console = Console(credentials, settings or ConsoleSettings())
    app = Starlette(routes=_routes(console))
    app.state.console = console
    return SecurityHeaders(app)
