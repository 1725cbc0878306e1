"""The durable outbox: facts queued for a peer inside the act's own transaction, sent in order.

Each fact queued for a peer has a position (1, 2, 3, … per peer). The deliverer assigns the
oldest pending facts to the next message number and, once the peer's signed receipt for that
message is verified, marks them delivered; until then the same facts go again under the same
number. Nothing here reads the clock: instants are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update

from accord.errors import DuplicateId
from accord.model.messages import WireFact
from accord.store.schema import node_outbox

if TYPE_CHECKING:
    from accord.store.sql import StoreTx


@dataclass(frozen=True, slots=True)
class QueuedFact:
    peer: str
    position: int
    fact: WireFact
    enqueued_at: datetime
    message_seq: int | None
    delivered_at: datetime | None
    receipt: bytes | None  # the peer's signed receipt, kept as the proof of delivery


def _fact_values(fact: WireFact) -> dict[str, Any]:
    return {
        "fact_id": fact.fact_id,
        "kind": fact.kind,
        "party": fact.party,
        "instant": fact.instant,
        "body": fact.body,
        "signature": fact.signature,
    }


def _from_row(row: Any) -> QueuedFact:
    fact = WireFact(
        row.fact_id, row.kind, row.party, row.instant, bytes(row.body), bytes(row.signature)
    )
    return QueuedFact(
        row.peer,
        int(row.position),
        fact,
        row.enqueued_at,
        None if row.message_seq is None else int(row.message_seq),
        row.delivered_at,
        None if row.receipt is None else bytes(row.receipt),
    )


def enqueue(tx: StoreTx, peer: str, fact: WireFact, at: datetime) -> int:
    """Queue ``fact`` for ``peer`` in the caller's transaction; returns its position. The same
    fact queued again is the same position; another fact under a queued id is ``DuplicateId``."""
    found = tx.conn.execute(
        select(node_outbox).where(node_outbox.c.peer == peer, node_outbox.c.fact_id == fact.fact_id)
    ).first()
    if found is not None:
        if _from_row(found).fact != fact:
            raise DuplicateId(f"fact {fact.fact_id}: already queued for {peer} with other content")
        return int(found.position)
    last = tx.conn.execute(
        select(func.max(node_outbox.c.position)).where(node_outbox.c.peer == peer)
    ).scalar()
    position = int(last or 0) + 1
    tx.conn.execute(
        insert(node_outbox).values(
            peer=peer, position=position, enqueued_at=at, **_fact_values(fact)
        )
    )
    return position


def in_message(tx: StoreTx, peer: str, seq: int) -> list[QueuedFact]:
    """The facts assigned to message ``seq`` for ``peer``, in order."""
    rows = tx.conn.execute(
        select(node_outbox)
        .where(node_outbox.c.peer == peer, node_outbox.c.message_seq == seq)
        .order_by(node_outbox.c.position)
    )
    return [_from_row(row) for row in rows]


def assign(tx: StoreTx, peer: str, seq: int, limit: int) -> list[QueuedFact]:
    """Assign the oldest ``limit`` unassigned facts for ``peer`` to message ``seq``."""
    rows = tx.conn.execute(
        select(node_outbox.c.position)
        .where(node_outbox.c.peer == peer, node_outbox.c.message_seq.is_(None))
        .order_by(node_outbox.c.position)
        .limit(limit)
    ).all()
    positions = [int(r.position) for r in rows]
    if positions:
        tx.conn.execute(
            update(node_outbox)
            .where(node_outbox.c.peer == peer, node_outbox.c.position.in_(positions))
            .values(message_seq=seq)
        )
    return in_message(tx, peer, seq)


def mark_delivered(tx: StoreTx, peer: str, seq: int, at: datetime, receipt: bytes) -> int:
    """Mark message ``seq``'s facts delivered at ``at``, keeping the peer's signed receipt."""
    done = tx.conn.execute(
        update(node_outbox)
        .where(
            node_outbox.c.peer == peer,
            node_outbox.c.message_seq == seq,
            node_outbox.c.delivered_at.is_(None),
        )
        .values(delivered_at=at, receipt=receipt)
    )
    return int(done.rowcount)


def queued(tx: StoreTx, peer: str | None = None) -> list[QueuedFact]:
    """Every fact queued (for ``peer``, or for all), in order, delivered ones included."""
    query = select(node_outbox).order_by(node_outbox.c.peer, node_outbox.c.position)
    if peer is not None:
        query = query.where(node_outbox.c.peer == peer)
    return [_from_row(row) for row in tx.conn.execute(query)]


def pending_count(tx: StoreTx, peer: str) -> int:
    return int(
        tx.conn.execute(
            select(func.count())
            .select_from(node_outbox)
            .where(node_outbox.c.peer == peer, node_outbox.c.delivered_at.is_(None))
        ).scalar_one()
    )
