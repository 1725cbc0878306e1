"""``/taxii2/``: discovery. Every authenticated user sees every party's API root (parties are
the exchange's public definitions: a user needs them to release to another party); the default
is the user's own party's root, the only one they may read from."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from accord.api import responses
from accord.api.context import Server
from accord.service.credentials import Principal


def root_url(code: str) -> str:
    return f"/taxii2/{code}/"


def discovery(server: Server, request: Request, principal: Principal) -> Response:
    parties = server.parties()
    return responses.taxii(
        {
            "title": server.settings.title,
            "description": "accord: each party's API root serves what its users may read.",
            "default": root_url(principal.party),
            "api_roots": [root_url(code) for code in sorted(parties)],
        }
    )
