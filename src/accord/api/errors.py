"""The one table from accord's errors to HTTP statuses and TAXII error messages.

An error's status comes from its category; the API's own errors, and the few domain classes that
HTTP tells apart (401, 422), have a row of their own. Errors raised by the API itself
(``ApiError`` and its subclasses) carry a description written for the client and safe to show.
Any other ``AccordError`` gets the table's fixed description, never its message (which may name
things the client may not see); integrity and key failures are the server's fault (500) and say
nothing more; anything else is a 500 with a generic body. Exception text never reaches a client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accord.errors import (
    AccordError,
    Category,
    DuplicateId,
    InvalidInput,
    NaiveDatetime,
    OutOfOrder,
    Refused,
    Unauthenticated,
    UnknownReference,
)

CHALLENGE = 'Basic realm="accord", charset="UTF-8"'
RETRY_AFTER = 1  # seconds, for a 503 whose error names no wait of its own


class ApiError(InvalidInput):
    """An error the API raises with a description safe to return to the client."""

    code = "bad-request"


class BadRequest(ApiError):
    code = "bad-request"


class BadCursor(BadRequest):
    code = "bad-cursor"


class Forbidden(ApiError):
    code = "forbidden"
    category = Category.DENIED


class NotFound(ApiError):
    """Missing, or not readable by this user: the two are indistinguishable by design."""

    code = "not-found"
    category = Category.NOT_FOUND


class MethodNotAllowed(ApiError):
    """A method the resource does not have; ``allow`` lists the ones it has."""

    code = "method-not-allowed"

    def __init__(self, message: str, allow: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allow = allow


class NotAcceptable(ApiError):
    code = "not-acceptable"


class RequestTimeout(ApiError):
    """The client did not send its body within the body timeout."""

    code = "request-timeout"


class UnsupportedMediaType(ApiError):
    code = "unsupported-media-type"


class TooLarge(ApiError):
    code = "too-large"


class TooManyRequests(ApiError):
    """Too many failed authentications from one address; ``retry_after`` seconds to wait."""

    code = "too-many-requests"
    category = Category.DENIED

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unprocessable(ApiError):
    """An envelope that was refused as a whole; ``details`` carries its status resource."""

    code = "unprocessable"
    category = Category.DENIED

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    title: str
    fixed: str | None  # the description every such error gets; None: the error's own message


# first match wins: a class (isinstance) or a category (``error.category``)
TABLE: tuple[tuple[type[AccordError] | Category, Answer], ...] = (
    (Unauthenticated, Answer(401, "Unauthorized", "The credentials are missing or not valid.")),
    (TooManyRequests, Answer(429, "Too Many Requests", None)),
    (Forbidden, Answer(403, "Forbidden", None)),
    (NotFound, Answer(404, "Not Found", None)),
    (MethodNotAllowed, Answer(405, "Method Not Allowed", None)),
    (NotAcceptable, Answer(406, "Not Acceptable", None)),
    (RequestTimeout, Answer(408, "Request Timeout", None)),
    (TooLarge, Answer(413, "Payload Too Large", None)),
    (UnsupportedMediaType, Answer(415, "Unsupported Media Type", None)),
    (Unprocessable, Answer(422, "Unprocessable Entity", None)),
    (ApiError, Answer(400, "Bad Request", None)),
    (Refused, Answer(422, "Unprocessable Entity", "Policy did not allow the request.")),
    (NaiveDatetime, Answer(400, "Bad Request", "Instants must carry a UTC offset.")),
    (UnknownReference, Answer(404, "Not Found", "No such resource.")),
    (DuplicateId, Answer(409, "Conflict", "The identifier is already taken.")),
    (OutOfOrder, Answer(409, "Conflict", "The act is earlier than the latest recorded act.")),
    (Category.CLIENT, Answer(400, "Bad Request", "The request is not valid.")),
    (Category.NOT_FOUND, Answer(404, "Not Found", "No such resource.")),
    (Category.CONFLICT, Answer(409, "Conflict", "The request conflicts with the record.")),
    (Category.DENIED, Answer(403, "Forbidden", "The request is not allowed.")),
    (
        Category.UNAVAILABLE,
        Answer(503, "Service Unavailable", "The store is busy or unavailable; try again."),
    ),
    (Category.INTEGRITY, Answer(500, "Internal Server Error", "The server hit an internal error.")),
    (Category.INTERNAL, Answer(500, "Internal Server Error", "The server hit an internal error.")),
)
INTERNAL = Answer(500, "Internal Server Error", "The server hit an internal error.")


def error_body(status: int, title: str, description: str, code: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "error_code": code,
        "http_status": str(status),
    }


def answer(error: AccordError) -> Answer:
    for match, found in TABLE:
        if _matches(match, error):
            return found
    return INTERNAL


def describe(error: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """HTTP status, TAXII error message and headers for an exception."""
    if not isinstance(error, AccordError):
        return INTERNAL.status, error_body(*_internal(), "internal"), {}
    found = answer(error)
    code = "internal" if found.status == 500 else error.code  # a 500 names nothing more
    text = found.fixed if found.fixed is not None else error.message
    body = error_body(found.status, found.title, text, code)
    if isinstance(error, Unprocessable):
        body["details"] = error.details
    return found.status, body, _headers(error, found.status)


def _internal() -> tuple[int, str, str]:
    return INTERNAL.status, INTERNAL.title, INTERNAL.fixed or ""


def _headers(error: AccordError, status: int) -> dict[str, str]:
    if status == 401:
        return {"WWW-Authenticate": CHALLENGE}
    if status == 405 and isinstance(error, MethodNotAllowed):
        return {"Allow": ", ".join(error.allow)}
    if status in (429, 503):
        return {"Retry-After": str(getattr(error, "retry_after", RETRY_AFTER))}
    return {}


def http_error(exc: Any) -> ApiError:
    """The API error for a routing exception (Starlette's ``HTTPException``): 404, 405 with its
    ``Allow``, or a plain 400."""
    if exc.status_code == 404:
        return NotFound("no such resource")
    if exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "")
        return MethodNotAllowed(
            "the resource does not have this method",
            tuple(m.strip() for m in allow.split(",") if m.strip()),
        )
    return BadRequest("the request is not valid")


def _matches(match: type[AccordError] | Category, error: AccordError) -> bool:
    """A category row matches its category; a class row matches the class and its subclasses
    that keep its category (a subclass with a category of its own gets that category's row)."""
    if isinstance(match, Category):
        return error.category == match
    return isinstance(error, match) and error.category == match.category
