"""``/taxii2/<party>/status/<id>/``: a status resource, for the user who posted only; for anyone
else it is 404, like a status that does not exist."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from accord.api import responses
from accord.api.context import Server
from accord.api.errors import NotFound
from accord.service.credentials import Principal


def status(server: Server, request: Request, principal: Principal) -> Response:
    server.root(request.path_params["root"])
    body = server.taxii.status(request.path_params["status"], principal.user)
    if body is None:
        raise NotFound("no such status")
    return responses.taxii(body)
