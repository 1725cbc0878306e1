"""TAXII tables: the STIX identity of each item posted over TAXII, and status resources."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, insert, select

from accord.store.schema import Instant, StoredJSON, metadata

if TYPE_CHECKING:  # accord.store.sql imports accord.store.credentials, which imports us
    from accord.store.sql import StoreTx

taxii_objects = Table(
    "taxii_objects",
    metadata,
    Column("item", String(200), ForeignKey("items.id"), primary_key=True),
    Column("stix_id", String(200), nullable=False),
    Column("stix_type", String(128), nullable=False),
    Column("version", String(40), nullable=False),
    Column("spec_version", String(8), nullable=False),
    Index("taxii_objects_stix_id", "stix_id"),
)

# the order objects were made in, across processes: two parties may post one STIX id at one
# instant (a server whose clock is frozen), and the first of them made it
taxii_made = Table(
    "taxii_made",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("item", String(200), ForeignKey("items.id"), nullable=False, unique=True),
)

taxii_statuses = Table(
    "taxii_statuses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user", String(200), nullable=False),
    Column("created", Instant, nullable=False),
    Column("body", StoredJSON("taxii_statuses.body"), nullable=False),
)


@dataclass(frozen=True, slots=True)
class ObjectRow:
    item: str
    stix_id: str
    stix_type: str
    version: str
    spec_version: str


def add_objects(tx: StoreTx, rows: Iterable[ObjectRow]) -> None:
    values = [
        {
            "item": r.item,
            "stix_id": r.stix_id,
            "stix_type": r.stix_type,
            "version": r.version,
            "spec_version": r.spec_version,
        }
        for r in rows
    ]
    if values:
        tx.conn.execute(insert(taxii_objects), values)
        tx.conn.execute(insert(taxii_made), [{"item": v["item"]} for v in values])


def objects(tx: StoreTx) -> Iterator[ObjectRow]:
    for r in tx.conn.execute(select(taxii_objects)):
        yield ObjectRow(r[0], r[1], r[2], r[3], r[4])


def made_order(tx: StoreTx, items: Sequence[str]) -> dict[str, int]:
    """The order ``items`` were posted in (items made otherwise, or before this order was
    kept, have none)."""
    query = select(taxii_made.c.item, taxii_made.c.seq).where(taxii_made.c.item.in_(items))
    return {r[0]: int(r[1]) for r in tx.conn.execute(query)}


def add_status(tx: StoreTx, status_id: str, user: str, created: datetime, body: Any) -> None:
    tx.conn.execute(
        insert(taxii_statuses).values(id=status_id, user=user, created=created, body=body)
    )


def status(tx: StoreTx, status_id: str) -> tuple[str, Any] | None:
    """(user, body) of a status resource."""
    r = tx.conn.execute(
        select(taxii_statuses.c.user, taxii_statuses.c.body).where(taxii_statuses.c.id == status_id)
    ).first()
    return None if r is None else (r[0], r[1])
