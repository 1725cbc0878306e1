"""The one table from accord's error classes to HTTP statuses and TAXII error messages.

Errors raised by the API itself (``ApiError`` and its subclasses) carry a description written
for the client and safe to show. Any other ``AccordError`` gets the table's fixed description,
never its message (which may name things the client may not see); anything else is a 500 with a
generic body. Exception text never reaches a client.
"""

from __future__ import annotations

from typing import Any

from accord.errors import (
    AccordError,
    DuplicateId,
    InvalidInput,
    NaiveDatetime,
    OutOfOrder,
    Refused,
    StoreError,
    Unauthenticated,
    UnknownReference,
)


class ApiError(InvalidInput):
    """An error the API raises with a description safe to return to the client."""

    code = "bad-request"


class BadRequest(ApiError):
    code = "bad-request"


class BadCursor(BadRequest):
    code = "bad-cursor"


class Forbidden(ApiError):
    code = "forbidden"


class NotFound(ApiError):
    """Missing, or not readable by this user: the two are indistinguishable by design."""

    code = "not-found"


class NotAcceptable(ApiError):
    code = "not-acceptable"


class UnsupportedMediaType(ApiError):
    code = "unsupported-media-type"


class TooLarge(ApiError):
    code = "too-large"


class Unprocessable(ApiError):
    """An envelope that was refused as a whole; ``details`` carries its status resource."""

    code = "unprocessable"

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


# most specific first: (class, HTTP status, title, fixed description or None to use the message)
TABLE: tuple[tuple[type[Exception], int, str, str | None], ...] = (
    (Unauthenticated, 401, "Unauthorized", "The credentials are missing or not valid."),
    (Forbidden, 403, "Forbidden", None),
    (NotFound, 404, "Not Found", None),
    (NotAcceptable, 406, "Not Acceptable", None),
    (TooLarge, 413, "Payload Too Large", None),
    (UnsupportedMediaType, 415, "Unsupported Media Type", None),
    (Unprocessable, 422, "Unprocessable Entity", None),
    (BadRequest, 400, "Bad Request", None),
    (ApiError, 400, "Bad Request", None),
    (UnknownReference, 404, "Not Found", "No such resource."),
    (DuplicateId, 409, "Conflict", "The identifier is already taken."),
    (OutOfOrder, 409, "Conflict", "The act is earlier than the latest recorded act."),
    (NaiveDatetime, 400, "Bad Request", "Instants must carry a UTC offset."),
    (Refused, 422, "Unprocessable Entity", "Policy did not allow the request."),
    (InvalidInput, 400, "Bad Request", "The request is not valid."),
    (StoreError, 503, "Service Unavailable", "The store could not be read or written."),
    (AccordError, 400, "Bad Request", "The request could not be processed."),
)
INTERNAL = (500, "Internal Server Error", "The server hit an internal error.")


def error_body(status: int, title: str, description: str, code: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "error_code": code,
        "http_status": str(status),
    }


def describe(error: BaseException) -> tuple[int, dict[str, Any]]:
    """HTTP status and TAXII error message for an exception."""
    for cls, status, title, fixed in TABLE:
        if isinstance(error, cls):
            assert isinstance(error, AccordError)
            text = fixed if fixed is not None else error.message
            body = error_body(status, title, text, error.code)
            if isinstance(error, Unprocessable):
                body["details"] = error.details
            return status, body
    status, title, text = INTERNAL
    return status, error_body(status, title, text, "internal")
