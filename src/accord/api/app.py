"""The app factory: TAXII 2.1 on plain Starlette routes (speed), the admin API on FastAPI (its
OpenAPI document at ``/openapi.json``, the TAXII endpoints described at ``/taxii2/openapi.json``).
No global app: ``create_app(settings)`` builds one.

Nothing blocking runs on the event loop: resources are synchronous code run in worker threads
(``accord.api.workers``), one at a time inside the exchange, which is not thread-safe. Every
answer that is not a resource's own — unknown routes (404), unknown methods (405 with
``Allow``), framework errors — uses the TAXII error body; ``HEAD`` answers wherever ``GET`` does.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
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
from accord.api.gate import AdminGate
from accord.api.media import TAXII
from accord.api.settings import ApiSettings
from accord.service.credentials import Credentials, Principal
from accord.service.exchange import Exchange

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
    routes = [*_routes(server), Mount("/", AdminGate(server, admin))]
    handlers: dict[Any, Any] = {HTTPException: _http_error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.server = server
    return app
