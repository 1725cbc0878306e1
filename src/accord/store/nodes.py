"""A sovereign node's rows: its identity, the peers it pinned, and the last it heard of each.

Identity and peer rows are audited (every insert is kept as a change the service logs with the
act); the contact rows are bookkeeping, rewritten whenever a peer is reached or fails.

Importing this module from ``accord.store.sql`` is what adds ``peer_contacts`` to
``accord.store.schema.metadata``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, String, Table, Text, insert, select, update

from accord.store.images import Change, image
from accord.store.schema import Instant, metadata, node_identity, node_peers

if TYPE_CHECKING:  # accord.store.sql imports this module to register its table
    from accord.store.sql import StoreTx

peer_contacts = Table(
    "peer_contacts",
    metadata,
    Column("party", String(32), primary_key=True),
    Column("last_contact", Instant, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_error_at", Instant, nullable=True),
)


@dataclass(frozen=True, slots=True)
class IdentityRow:
    party: str
    url: str
    certificate: str
    sealed_key: bytes
    created_at: datetime
    mac: bytes


@dataclass(frozen=True, slots=True)
class PeerRow:
    party: str
    fingerprint: str
    card: str
    pinned_at: datetime
    mac: bytes


@dataclass(frozen=True, slots=True)
class ContactRow:
    party: str
    last_contact: datetime | None
    last_error: str | None
    last_error_at: datetime | None


def _insert(tx: StoreTx, table: Table, values: dict[str, object]) -> None:
    tx.conn.execute(insert(table).values(**values))
    tx.changes.append(Change(table.name, "insert", image(table, values)))


def add_identity(tx: StoreTx, row: IdentityRow) -> None:
    _insert(
        tx,
        node_identity,
        {
            "party": row.party,
            "url": row.url,
            "certificate": row.certificate,
            "sealed_key": row.sealed_key,
            "created_at": row.created_at,
            "mac": row.mac,
        },
    )


def reseal_identity(tx: StoreTx, row: IdentityRow) -> None:
    """Rewrite the identity's sealed key and MAC (master-key rotation), kept as a change."""
    values = {"sealed_key": row.sealed_key, "mac": row.mac}
    tx.conn.execute(
        update(node_identity).where(node_identity.c.party == row.party).values(**values)
    )
    full = tx.conn.execute(select(node_identity).where(node_identity.c.party == row.party))
    tx.changes.append(
        Change(node_identity.name, "update", image(node_identity, full.mappings().one()))
    )


def identities(tx: StoreTx) -> list[IdentityRow]:
    rows = tx.conn.execute(select(node_identity).order_by(node_identity.c.party)).mappings()
    return [
        IdentityRow(
            r["party"],
            r["url"],
            r["certificate"],
            bytes(r["sealed_key"]),
            r["created_at"],
            bytes(r["mac"]),
        )
        for r in rows
    ]


def add_peer(tx: StoreTx, row: PeerRow) -> None:
    _insert(
        tx,
        node_peers,
        {
            "party": row.party,
            "fingerprint": row.fingerprint,
            "card": row.card,
            "pinned_at": row.pinned_at,
            "mac": row.mac,
        },
    )


def peers(tx: StoreTx) -> list[PeerRow]:
    rows = tx.conn.execute(select(node_peers).order_by(node_peers.c.party)).mappings()
    return [
        PeerRow(r["party"], r["fingerprint"], r["card"], r["pinned_at"], bytes(r["mac"]))
        for r in rows
    ]


def contacts(tx: StoreTx) -> dict[str, ContactRow]:
    rows = tx.conn.execute(select(peer_contacts)).mappings()
    return {
        r["party"]: ContactRow(r["party"], r["last_contact"], r["last_error"], r["last_error_at"])
        for r in rows
    }


def note_contact(tx: StoreTx, party: str, at: datetime, error: str | None = None) -> None:
    """Record that ``party`` was reached at ``at`` (or, with ``error``, that it failed then)."""
    values: dict[str, object] = (
        {"last_contact": at} if error is None else {"last_error": error, "last_error_at": at}
    )
    done = tx.conn.execute(
        update(peer_contacts).where(peer_contacts.c.party == party).values(**values)
    )
    if done.rowcount == 0:
        tx.conn.execute(insert(peer_contacts).values(party=party, **values))
