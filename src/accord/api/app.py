"""The app factory: TAXII 2.1 on plain Starlette routes (speed), the admin API on FastAPI (its
OpenAPI document at ``/openapi.json``, the TAXII endpoints described at ``/taxii2/openapi.json``).
No global app: ``create_app(settings)`` builds one.

Nothing blocking runs on the event loop: resources are synchronous code run in worker threads
(``accord.api.workers``), one at a time inside the exchange, which is not thread-safe. Every
answer that is not a resource's own — unknown routes (404), unknown methods (405 with
``Allow``), framework errors — uses the TAXII error body; ``HEAD`` answers wherever ``GET`` does.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route

from accord.api import (
    api_roots,
    collections,
    discovery,
    manifest,
    objects,
    openapi,
    responses,
    status,
    versions,
)
from accord.api.admin import admin_app
from accord.api.context import Server, endpoint
from accord.api.errors import MethodNotAllowed, NotFound, http_error
from accord.api.feed import feed_endpoint
from accord.api.gate import AdminGate
from accord.api.media import TAXII
from accord.api.settings import ApiSettings
from accord.errors import InvalidInput
from accord.service import MasterKey
from accord.service.credentials import Credentials, Principal
from accord.service.exchange import Exchange, no_master_key, system_clock

Resource = Callable[[Server, Request, Principal], Response]

ROOT = "/taxii2/{root}"
COLLECTION = ROOT + "/collections/{collection}"
OBJECT = COLLECTION + "/objects/{object}"
EVERY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]


def _routes(server: Server) -> list[BaseRoute]:
    table: list[tuple[str, Resource, list[str]]] = [
        ("/taxii2/", discovery.discovery, ["GET"]),
        (ROOT + "/", api_roots.api_root, ["GET"]),
        (ROOT + "/collections/", collections.collections, ["GET"]),
        (COLLECTION + "/", collections.collection, ["GET"]),
        (COLLECTION + "/objects/", objects.get_objects, ["GET"]),
        (COLLECTION + "/objects/", objects.add_objects, ["POST"]),
        (COLLECTION + "/manifest/", manifest.manifest, ["GET"]),
        (OBJECT + "/", objects.get_object, ["GET"]),
        (OBJECT + "/", objects.delete_object, ["DELETE"]),
        (OBJECT + "/versions/", versions.versions, ["GET"]),
        (ROOT + "/status/{status}/", status.status, ["GET"]),
    ]
    by_path: dict[str, dict[str, Resource]] = {}
    for path, resource, methods in table:
        for method in methods:
            by_path.setdefault(path, {})[method] = resource
    routes: list[BaseRoute] = [Route("/taxii2/openapi.json", _taxii_openapi, methods=["GET"])]
    for path, resources in by_path.items():
        handler = _dispatch(server, resources)
        routes.append(Route(path, handler, methods=list(resources)))
        routes.append(Route(path.rstrip("/"), handler, methods=list(resources)))
    routes.append(Route("/taxii2/{rest:path}", _unrouted(list(routes)), methods=EVERY_METHOD))
    return routes


def _dispatch(
    server: Server, methods: dict[str, Resource]
) -> Callable[[Request], Awaitable[Response]]:
    bound = {
        method: endpoint(server, functools.partial(r, server)) for method, r in methods.items()
    }
    if "GET" in bound:
        bound["HEAD"] = bound["GET"]  # the server sends the headers only

    async def run(request: Request) -> Response:
        return await bound[request.method](request)

    return run


def _unrouted(routes: list[BaseRoute]) -> Callable[[Request], Awaitable[Response]]:
    """404 for a path no route has; 405 with ``Allow`` for a method a known path lacks."""

    async def run(request: Request) -> Response:
        for route in routes:
            match, _ = route.matches(request.scope)
            if match is Match.PARTIAL and isinstance(route, Route):
                allow = tuple(sorted(route.methods or ()))
                return responses.error(MethodNotAllowed("the resource lacks this method", allow))
        return responses.error(NotFound("no such TAXII resource"))

    return run


async def _taxii_openapi(request: Request) -> Response:
    return JSONResponse(openapi.document())


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing's own errors (404, 405) in the TAXII error body; the admin API's as plain JSON."""
    assert isinstance(exc, HTTPException)
    media = TAXII if request.url.path.startswith("/taxii2") else "application/json"
    return responses.error(http_error(exc), media)


def create_app(
    settings: ApiSettings,
    exchange: Exchange | None = None,
    credentials: Credentials | None = None,
) -> Starlette:
    """A TAXII 2.1 + admin server over ``exchange`` (opened from ``settings.db_url`` if None;
    with ``settings.at`` its clock is frozen at that instant)."""
    if exchange is None:
        frozen = settings.at
        exchange = (
            Exchange.open(settings.db_url, clock=lambda: frozen)
            if frozen is not None
            else Exchange.open(settings.db_url)
        )
    credentials = credentials or Credentials(exchange, cache_limit=settings.token_cache)
    server = Server(settings, exchange, credentials)
    admin = admin_app(server)
    feed = feed_endpoint(server, server.hub)
    routes = [
        *_routes(server),
        Route("/feeds/{party}/", feed, methods=["GET"]),
        Route("/feeds/{party}", feed, methods=["GET"]),
        Mount("/", AdminGate(server, admin)),
    ]
    handlers: dict[Any, Any] = {HTTPException: _http_error}
    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=_lifespan(server))
    app.state.server = server
    return app


def _lifespan(server: Server) -> Callable[[Starlette], Any]:
    """The feed's wake-ups: this loop's, and NATS between processes when ``nats_url`` is set;
    the standing rules' timer for agreement changes that come due while the server runs; at
    shutdown, the group commit's thread stopped."""

    @asynccontextmanager
    async def run(app: Starlette) -> AsyncIterator[None]:
        from accord.api.standing_timer import run_timer  # noqa: PLC0415

        server.hub.attach(asyncio.get_running_loop())
        timer = asyncio.create_task(run_timer(server, server.now()))
        bridge = None
        if server.settings.nats_url is not None:
            from accord.api.feed_nats import NatsBridge  # noqa: PLC0415

            channel = await server.workers.exchange(server.feed.channel)
            bridge = NatsBridge(server.settings.nats_url, channel, server.hub, server.workers)
            await bridge.start()
        try:
            yield
        finally:
            timer.cancel()
            if bridge is not None:
                await bridge.close()
            await asyncio.to_thread(server.workers.close)  # the group commit's last acts

    return run


WORKER_SETTINGS = "ACCORD_WORKER_SETTINGS"


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """What every ``accord serve --workers N`` process needs to build the same app, passed to
    the worker processes as JSON in ``$ACCORD_WORKER_SETTINGS`` (uvicorn starts each worker
    from an import string, so the settings cannot be handed over as objects). The master key
    is never in it: each worker reads the key file, or ``$ACCORD_MASTER_KEY``, itself."""

    db_url: str
    at: str | None = None  # ISO 8601: the frozen clock
    max_content_length: int = 10 * 1024 * 1024
    lock_timeout: float | None = None  # seconds; None: the store's default
    key_file: str | None = None
    master_key_env: str = "ACCORD_MASTER_KEY"
    create: bool = True  # whether the first process may create the store (``--create``)
    nats_url: str | None = None  # the feed's wake-ups between processes (``--nats``)
    feed_poll: float = 1.0  # seconds between a subscriber's looks at the store (``--feed-poll``)
    group_max: int = 64  # requests in one group commit (``--group-max``; 0 or 1: none)
    group_wait: float = 0.002  # seconds a group's first request waits (``--group-wait`` in ms)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerSettings:
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError):
            raise InvalidInput(f"${WORKER_SETTINGS} is not a worker's settings") from None

    def master(self) -> Callable[[], MasterKey]:
        if self.key_file is not None:
            path = Path(self.key_file)
            return lambda: MasterKey.from_file(path)
        if os.environ.get(self.master_key_env, "").strip():
            name = self.master_key_env
            return lambda: MasterKey.from_env(name)
        return no_master_key

    def exchange(self) -> Exchange:
        frozen = datetime.fromisoformat(self.at) if self.at is not None else None
        clock = (lambda: frozen) if frozen is not None else system_clock
        return Exchange.open(
            self.db_url, clock, self.master(), self.lock_timeout, create=self.create
        )

    def api(self) -> ApiSettings:
        frozen = datetime.fromisoformat(self.at) if self.at is not None else None
        return ApiSettings(
            self.db_url,
            frozen,
            max_content_length=self.max_content_length,
            nats_url=self.nats_url,
            feed_poll=self.feed_poll,
            group_max=self.group_max,
            group_wait=self.group_wait,
        )


def worker_app() -> Starlette:
    """The app factory of one worker process (``uvicorn --factory
    accord.api.app:worker_app``): its settings from ``$ACCORD_WORKER_SETTINGS``."""
    text = os.environ.get(WORKER_SETTINGS)
    if text is None:
        raise InvalidInput(f"${WORKER_SETTINGS} is not set (start workers with accord serve)")
    settings = WorkerSettings.from_json(text)
    return create_app(settings.api(), settings.exchange())
