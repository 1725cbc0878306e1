"""One row per peer node: message numbers both ways, the last receipt given, the witness state."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from accord.model.messages import LinkState
from accord.store.schema import node_links

if TYPE_CHECKING:
    from accord.store.sql import StoreTx


@dataclass(frozen=True, slots=True)
class Link:
    peer: str
    sent_seq: int = 0
    acked_seq: int = 0
    received_seq: int = 0
    received_digest: bytes | None = None
    received_receipt: bytes | None = None
    ours_cosigned: str | None = None
    state: LinkState = LinkState.OK
    fork: str | None = None
    fork_checkpoint: str | None = None
    last_error: str | None = None

    def but(self, **changes: Any) -> Link:
        return replace(self, **changes)


def _from_row(row: Any) -> Link:
    return Link(
        row.peer,
        int(row.sent_seq),
        int(row.acked_seq),
        int(row.received_seq),
        None if row.received_digest is None else bytes(row.received_digest),
        None if row.received_receipt is None else bytes(row.received_receipt),
        row.ours_cosigned,
        LinkState(row.state),
        row.fork,
        row.fork_checkpoint,
        row.last_error,
    )


def _values(link: Link) -> dict[str, Any]:
    return {
        "peer": link.peer,
        "sent_seq": link.sent_seq,
        "acked_seq": link.acked_seq,
        "received_seq": link.received_seq,
        "received_digest": link.received_digest,
        "received_receipt": link.received_receipt,
        "ours_cosigned": link.ours_cosigned,
        "state": link.state.value,
        "fork": link.fork,
        "fork_checkpoint": link.fork_checkpoint,
        "last_error": link.last_error,
    }


def link(tx: StoreTx, peer: str) -> Link:
    """The link to ``peer`` (a fresh one, not yet stored, if there is none)."""
    row = tx.conn.execute(select(node_links).where(node_links.c.peer == peer)).first()
    return Link(peer) if row is None else _from_row(row)


def all_links(tx: StoreTx) -> list[Link]:
    rows = tx.conn.execute(select(node_links).order_by(node_links.c.peer))
    return [_from_row(row) for row in rows]


def save_link(tx: StoreTx, value: Link) -> None:
    values = _values(value)
    done = tx.conn.execute(
        update(node_links).where(node_links.c.peer == value.peer).values(**values)
    )
    if done.rowcount == 0:
        tx.conn.execute(insert(node_links).values(**values))
