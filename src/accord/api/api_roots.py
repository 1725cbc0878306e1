"""``/taxii2/<party>/``: one API root per party."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from accord.api import responses
from accord.api.context import Server
from accord.api.media import TAXII
from accord.service.credentials import Principal


def api_root(server: Server, request: Request, principal: Principal) -> Response:
    party = server.root(request.path_params["root"])
    return responses.taxii(
        {
            "title": f"{party.name} ({party.code})",
            "description": (
                f"What {party.code} holds, as each of its users may read it. Users of other "
                "parties may only post here: a post is a release to this party."
            ),
            "versions": [TAXII],
            "max_content_length": server.settings.max_content_length,
        }
    )
