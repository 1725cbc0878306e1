"""The one table from error categories to the console's HTTP statuses, and its error pages.

An error page says what was wrong with the request (the field and value the message names); no
exception text of an unexpected failure ever reaches the browser.
"""

from __future__ import annotations

from accord.errors import AccordError, Category

STATUS: dict[Category, int] = {
    Category.CLIENT: 400,
    Category.NOT_FOUND: 404,
    Category.CONFLICT: 409,
    Category.DENIED: 403,
    Category.UNAVAILABLE: 503,
    Category.INTEGRITY: 500,
    Category.INTERNAL: 500,
}


def status_of(error: AccordError) -> int:
    return STATUS[error.category]


def public_message(error: AccordError) -> str:
    """What the browser is told: the message of a client error, a fixed sentence otherwise."""
    if STATUS[error.category] < 500:
        return error.message
    return "the exchange could not answer this request"
