"""TAXII JSON responses."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from accord.api.errors import describe
from accord.api.media import TAXII


def dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def taxii(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status, headers, media_type=TAXII)


def error(exc: BaseException, media_type: str = TAXII) -> Response:
    """The TAXII error message for ``exc`` (the admin API sends the same body as plain JSON)."""
    status, body, headers = describe(exc)
    return Response(dumps(body), status, headers or None, media_type=media_type)
