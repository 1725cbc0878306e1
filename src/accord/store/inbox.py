"""Facts received from peers, each once by fact id, and the peers' checkpoints witnessed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, update

from accord.model.messages import WireFact
from accord.store.schema import node_inbox, node_peer_checkpoints

if TYPE_CHECKING:
    from accord.store.sql import StoreTx


@dataclass(frozen=True, slots=True)
class ReceivedFact:
    position: int
    fact: WireFact
    digest: bytes
    sender: str
    message_seq: int
    sent_at: datetime
    arrived_at: datetime


def digest_of(tx: StoreTx, fact_id: str) -> bytes | None:
    """The digest of the fact held under ``fact_id``, or ``None``."""
    value = tx.conn.execute(
        select(node_inbox.c.digest).where(node_inbox.c.fact_id == fact_id)
    ).scalar()
    return None if value is None else bytes(value)


def latest_instant(tx: StoreTx, sender: str, party: str) -> datetime | None:
    """The latest instant of a fact of ``party`` received from node ``sender``."""
    value: datetime | None = tx.conn.execute(
        select(func.max(node_inbox.c.instant)).where(
            node_inbox.c.sender == sender, node_inbox.c.party == party
        )
    ).scalar()
    return value


def record(
    tx: StoreTx,
    sender: str,
    seq: int,
    sent_at: datetime,
    arrived_at: datetime,
    facts: Sequence[tuple[WireFact, bytes]],
) -> None:
    """Keep each new fact with its digest, its sender's and its arrival instant, in order."""
    last = tx.conn.execute(select(func.max(node_inbox.c.position))).scalar()
    position = int(last or 0)
    rows = []
    for fact, digest in facts:
        position += 1
        rows.append(
            {
                "fact_id": fact.fact_id,
                "position": position,
                "kind": fact.kind,
                "party": fact.party,
                "instant": fact.instant,
                "body": fact.body,
                "signature": fact.signature,
                "digest": digest,
                "sender": sender,
                "message_seq": seq,
                "sent_at": sent_at,
                "arrived_at": arrived_at,
            }
        )
    if rows:
        tx.conn.execute(insert(node_inbox), rows)


def received(tx: StoreTx) -> list[ReceivedFact]:
    """Every fact received, in arrival order."""
    rows = tx.conn.execute(select(node_inbox).order_by(node_inbox.c.position))
    return [_from_row(row) for row in rows]


def _from_row(row: Any) -> ReceivedFact:
    fact = WireFact(
        row.fact_id, row.kind, row.party, row.instant, bytes(row.body), bytes(row.signature)
    )
    return ReceivedFact(
        int(row.position),
        fact,
        bytes(row.digest),
        row.sender,
        int(row.message_seq),
        row.sent_at,
        row.arrived_at,
    )


# --- the peers' checkpoints this node witnessed -------------------------------------------------


def peer_checkpoint(tx: StoreTx, peer: str, size: int | None = None) -> tuple[int, str] | None:
    """The witnessed checkpoint of ``peer`` at ``size`` (default: the largest), or ``None``."""
    query = select(node_peer_checkpoints.c.size, node_peer_checkpoints.c.note).where(
        node_peer_checkpoints.c.peer == peer
    )
    if size is not None:
        query = query.where(node_peer_checkpoints.c.size == size)
    row = tx.conn.execute(query.order_by(node_peer_checkpoints.c.size.desc()).limit(1)).first()
    return None if row is None else (int(row.size), str(row.note))


def keep_peer_checkpoint(tx: StoreTx, peer: str, size: int, note: str) -> None:
    done = tx.conn.execute(
        update(node_peer_checkpoints)
        .where(node_peer_checkpoints.c.peer == peer, node_peer_checkpoints.c.size == size)
        .values(note=note)
    )
    if done.rowcount == 0:
        tx.conn.execute(insert(node_peer_checkpoints).values(peer=peer, size=size, note=note))


def forget_peer_checkpoints(tx: StoreTx, peer: str) -> None:
    tx.conn.execute(delete(node_peer_checkpoints).where(node_peer_checkpoints.c.peer == peer))
