"""``/taxii2/<party>/collections/``: per party, ``holdings`` (the party's copies; its users read
and post here, other parties' users may only post: a release) and ``definitions`` (the
extension-definition, identities and marking definitions; read-only, own party only)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from accord.api import responses
from accord.api.context import DEFINITIONS, HOLDINGS, Collection, Server, collection_id
from accord.api.media import STIX
from accord.model.party import Party
from accord.service.credentials import Principal


def resource(principal: Principal, found: Collection) -> dict[str, Any]:
    own = principal.party == found.party.code
    if found.kind == HOLDINGS:
        return {
            "id": found.id,
            "title": f"{found.party.code} holdings",
            "description": (
                f"Items {found.party.code} holds that you may read, with their markings."
                if own
                else f"Post objects your party holds here to release them to {found.party.code}."
            ),
            "can_read": own,
            "can_write": True,
            "media_types": [STIX],
        }
    return {
        "id": found.id,
        "title": "definitions",
        "description": "The national-classification extension, identities and markings.",
        "can_read": True,
        "can_write": False,
        "media_types": [STIX],
    }


def visible(principal: Principal, party: Party) -> list[Collection]:
    found = [Collection(collection_id(HOLDINGS, party.code), HOLDINGS, party)]
    if principal.party == party.code:
        found.append(Collection(collection_id(DEFINITIONS, party.code), DEFINITIONS, party))
    return found


def collections(server: Server, request: Request, principal: Principal) -> Response:
    party = server.root(request.path_params["root"])
    return responses.taxii(
        {"collections": [resource(principal, c) for c in visible(principal, party)]}
    )


def collection(server: Server, request: Request, principal: Principal) -> Response:
    found = server.collection(
        principal, request.path_params["root"], request.path_params["collection"]
    )
    return responses.taxii(resource(principal, found))
