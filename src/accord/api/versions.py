"""``…/objects/<object-id>/versions/``: the versions of one object the user may read."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from accord.api import responses
from accord.api.context import Server
from accord.api.errors import NotFound
from accord.api.listing import fetch, scope_of
from accord.api.query import parse_query
from accord.service.credentials import Principal


def versions(server: Server, request: Request, principal: Principal) -> Response:
    p = request.path_params
    found = server.collection(principal, p["root"], p["collection"])
    server.readable(principal, found)
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k != "match[version]"]
    query = parse_query(
        pairs,
        default_limit=server.settings.default_page_size,
        max_limit=server.settings.max_page_size,
        default_version="all",
        object_id=p["object"],
    )
    scope = scope_of(principal, found, "versions", p["object"])
    listing = fetch(server, principal, found, query, scope, content=False)
    if not listing.entries and query.next is None:
        raise NotFound("no such object")
    body = listing.envelope("versions", [e.version for e in listing.entries])
    return responses.taxii(body, headers=listing.headers())
