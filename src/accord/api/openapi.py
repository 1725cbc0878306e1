"""The OpenAPI 3.1 document of the TAXII 2.1 endpoints (``/taxii2/openapi.json``).

It describes paths, parameters, media types and statuses, so that a generic client or fuzzer
(schemathesis, in the tests) can drive every TAXII endpoint; TAXII 2.1 itself (OASIS) defines
the bodies. The admin API has its own document at ``/openapi.json``.
"""

from __future__ import annotations

from typing import Any

TAXII = "application/taxii+json;version=2.1"
_ERROR = {
    "type": "object",
    "required": ["title", "http_status"],
    "properties": {
        "title": {"type": "string"},
        "description": {"type": "string"},
        "error_code": {"type": "string"},
        "http_status": {"type": "string"},
        "details": {"type": "object"},
    },
}
_STATUSES = {
    "400": "Bad request",
    "401": "Missing or invalid credentials",
    "403": "Not allowed for this user",
    "404": "No such resource, or not readable by this user",
    "406": "Not acceptable",
    "408": "The body did not arrive in time",
    "413": "Body too large",
    "415": "Unsupported media type",
    "422": "Nothing stored",
    "429": "Too many failed authentications",
    "503": "Store busy or unavailable",
}
_STRING = {"type": "string", "maxLength": 200}
_PARAMS = {
    "root": {"name": "root", "in": "path", "required": True, "schema": _STRING},
    "collection": {"name": "collection", "in": "path", "required": True, "schema": _STRING},
    "object": {"name": "object", "in": "path", "required": True, "schema": _STRING},
    "status": {"name": "status", "in": "path", "required": True, "schema": _STRING},
}
_QUERY = [
    {"name": name, "in": "query", "required": False, "schema": schema}
    for name, schema in (
        ("added_after", {"type": "string"}),
        ("limit", {"type": "string"}),
        ("next", {"type": "string"}),
        ("match[id]", {"type": "string"}),
        ("match[type]", {"type": "string"}),
        ("match[version]", {"type": "string"}),
        ("match[spec_version]", {"type": "string"}),
    )
]
_ROOT = "/taxii2/{root}"
_COLLECTION = _ROOT + "/collections/{collection}"
_OBJECT = _COLLECTION + "/objects/{object}"
# path, method, path parameters, takes the query filters, request body, success status
_OPERATIONS: tuple[tuple[str, str, tuple[str, ...], bool, bool, str], ...] = (
    ("/taxii2/", "get", (), False, False, "200"),
    (_ROOT + "/", "get", ("root",), False, False, "200"),
    (_ROOT + "/collections/", "get", ("root",), False, False, "200"),
    (_COLLECTION + "/", "get", ("root", "collection"), False, False, "200"),
    (_COLLECTION + "/objects/", "get", ("root", "collection"), True, False, "200"),
    (_COLLECTION + "/objects/", "post", ("root", "collection"), False, True, "202"),
    (_COLLECTION + "/manifest/", "get", ("root", "collection"), True, False, "200"),
    (_OBJECT + "/", "get", ("root", "collection", "object"), True, False, "200"),
    (_OBJECT + "/", "delete", ("root", "collection", "object"), True, False, "200"),
    (_OBJECT + "/versions/", "get", ("root", "collection", "object"), True, False, "200"),
    (_ROOT + "/status/{status}/", "get", ("root", "status"), False, False, "200"),
)


def _operation(
    params: tuple[str, ...], query: bool, body: bool, success: str, name: str
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        success: {"description": "OK", "content": {TAXII: {"schema": {"type": "object"}}}}
    }
    for status, text in _STATUSES.items():
        responses[status] = {
            "description": text,
            "content": {TAXII: {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    op: dict[str, Any] = {
        "operationId": name,
        "parameters": [_PARAMS[p] for p in params] + (_QUERY if query else []),
        "responses": responses,
        "security": [{"bearer": []}, {"basic": []}],
    }
    if body:
        envelope = {
            "type": "object",
            "properties": {"objects": {"type": "array", "items": {"type": "object"}}},
        }
        op["requestBody"] = {"required": True, "content": {TAXII: {"schema": envelope}}}
    return op


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for n, (path, method, params, query, body, success) in enumerate(_OPERATIONS):
        name = f"{method}_{n}"
        paths.setdefault(path, {})[method] = _operation(params, query, body, success, name)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "accord TAXII 2.1",
            "version": "2.1",
            "description": "TAXII 2.1 endpoints of an accord exchange; see docs/taxii.md.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": _ERROR},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
            },
        },
    }
