"""The app factory: TAXII 2.1 on plain Starlette routes (speed), the admin API on FastAPI (its
OpenAPI document at ``/openapi.json``). No global app: ``create_app(settings)`` builds one.

Every handler runs on the event loop thread, so the exchange (not thread-safe) is only ever used
from one thread; SQLite work is short and synchronous.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from accord.api import (
    api_roots,
    collections,
    discovery,
    manifest,
    objects,
    responses,
    status,
    versions,
)
from accord.api.admin import admin_app
from accord.api.context import Server, endpoint
from accord.api.errors import ApiError, NotFound
from accord.api.settings import ApiSettings
from accord.service.credentials import Credentials, Principal
from accord.service.exchange import Exchange

Resource = Callable[[Server, Request, Principal], Awaitable[Response]]

ROOT = "/taxii2/{root}"
COLLECTION = ROOT + "/collections/{collection}"
OBJECT = COLLECTION + "/objects/{object}"


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
    routes: list[BaseRoute] = []
    for path, resources in by_path.items():
        handler = _dispatch(server, resources)
        routes.append(Route(path, handler, methods=list(resources)))
        routes.append(Route(path.rstrip("/"), handler, methods=list(resources)))
    routes.append(
        Route("/taxii2/{rest:path}", _not_found, methods=["GET", "POST", "DELETE", "PUT"])
    )
    return routes


def _dispatch(
    server: Server, methods: dict[str, Resource]
) -> Callable[[Request], Awaitable[Response]]:
    bound = {method: endpoint(server, _bind(server, r)) for method, r in methods.items()}

    async def run(request: Request) -> Response:
        return await bound[request.method](request)

    return run


def _bind(
    server: Server, resource: Resource
) -> Callable[[Request, Principal], Awaitable[Response]]:
    async def run(request: Request, principal: Principal) -> Response:
        return await resource(server, request, principal)

    return run


async def _not_found(request: Request) -> Response:
    return responses.error(NotFound("no such TAXII resource"))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error = NotFound("no such resource") if exc.status_code == 404 else ApiError("not allowed")
    response = responses.error(error)
    response.status_code = exc.status_code if exc.status_code in (404, 405) else 400
    if not request.url.path.startswith("/taxii2"):  # the admin API speaks plain JSON
        response.headers["content-type"] = "application/json"
    return response


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
    credentials = credentials or Credentials(exchange)
    server = Server(settings, exchange, credentials)
    admin = admin_app(exchange, credentials, settings.title)
    routes = [*_routes(server), Mount("/", admin)]
    handlers: dict[Any, Any] = {HTTPException: _http_error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.server = server
    return app
