"""``…/collections/<id>/manifest/``: the same listing as objects, without content."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from accord.api import responses
from accord.api.context import Server
from accord.api.listing import fetch, scope_of
from accord.api.media import STIX
from accord.api.query import parse_query
from accord.model.time import stix_time
from accord.service.credentials import Principal


def manifest(server: Server, request: Request, principal: Principal) -> Response:
    p = request.path_params
    found = server.collection(principal, p["root"], p["collection"])
    server.readable(principal, found)
    query = parse_query(
        list(request.query_params.multi_items()),
        default_limit=server.settings.default_page_size,
        max_limit=server.settings.max_page_size,
    )
    listing = fetch(
        server, principal, found, query, scope_of(principal, found, "manifest"), content=False
    )
    records = [
        {
            "id": e.id,
            "date_added": stix_time(e.date_added),
            "version": e.version,
            "media_type": STIX,
        }
        for e in listing.entries
    ]
    return responses.taxii(listing.envelope("objects", records), headers=listing.headers())
