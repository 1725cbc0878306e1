"""Identifiers of users, items and agreements."""

from __future__ import annotations

from accord.errors import InvalidInput


def check_id(value: str, what: str) -> str:
    """A non-empty id without surrounding white space."""
    if not value or value != value.strip():
        raise InvalidInput(f"{what} id {value!r} must be non-empty, without surrounding spaces")
    return value
