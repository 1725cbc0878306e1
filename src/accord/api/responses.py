"""TAXII JSON responses."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from accord.api.errors import describe
from accord.api.media import TAXII
from accord.errors import Busy


def dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def taxii(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status, headers, media_type=TAXII)


def error(exc: BaseException) -> Response:
    status, body = describe(exc)
    headers = (
        {"WWW-Authenticate": 'Basic realm="accord", charset="UTF-8"'} if status == 401 else None
    )
    if isinstance(exc, Busy):  # retryable: the same request may be sent again
        headers = {"Retry-After": str(exc.retry_after)}
    return taxii(body, status, headers)
