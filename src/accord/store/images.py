"""Row images: what the audit log records of a row, and what ``audit verify`` reads back.

An image is JSON-safe and the same whichever way it is made (from the values written, or from
the row read back): instants are ISO 8601 in UTC, binary columns are their SHA-256 (the log proves
which ciphertext was stored without holding it), JSON columns are kept as they are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Connection, LargeBinary, Table, select

from accord.model.time import iso
from accord.store.schema import Instant

Image = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Change:
    """One row written in a transaction: ``op`` is insert, update or delete; ``row`` its image
    (for a delete, the image of the row removed)."""

    table: str
    op: str
    row: Image

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "op": self.op, "row": self.row}


def digest(value: bytes) -> str:
    return "sha256:" + hashlib.sha256(value).hexdigest()


def _value(column_type: object, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column_type, Instant):
        assert isinstance(value, datetime)
        return iso(value)
    if isinstance(column_type, LargeBinary):
        return digest(bytes(value))
    if isinstance(column_type, Boolean):
        return bool(value)
    return value


def image(table: Table, values: Mapping[Any, Any]) -> Image:
    """The image of a row of ``table`` from its column values (missing columns are left out)."""
    columns = _COLUMNS.get(table.name)
    if columns is None:  # plain ``str`` names: SQLAlchemy's are a ``str`` subclass
        columns = _COLUMNS[table.name] = [(f"{c.name}", c.type) for c in table.columns]
    return {name: _value(kind, values[name]) for name, kind in columns if name in values}


_COLUMNS: dict[str, list[tuple[str, object]]] = {}


def key_of(table: Table, row: Mapping[str, Any]) -> tuple[Any, ...]:
    """A row's primary key, from its image or its values."""
    return tuple(row[column.name] for column in table.primary_key.columns)


def stored_images(conn: Connection, table: Table) -> Iterator[Image]:
    """Every row of ``table`` as it is in the store now, by primary key."""
    order = list(table.primary_key.columns)
    for row in conn.execute(select(table).order_by(*order)).mappings():
        yield image(table, row)
