"""Small helpers the kind modules share to spell bodies (instants, optional instants, sets)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from accord.model.time import iso, parse_instant


def instant(value: datetime) -> str:
    return iso(value)


def maybe_instant(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def read_instant(body: Mapping[str, Any], name: str) -> datetime:
    return parse_instant(str(body[name]), name)


def read_maybe_instant(body: Mapping[str, Any], name: str) -> datetime | None:
    value = body.get(name)
    return None if value is None else parse_instant(str(value), name)


def sorted_list(values: Iterable[str]) -> list[str]:
    return sorted(values)
