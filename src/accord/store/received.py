"""The facts from peers a node applied to its world, or holds until every voucher has signed."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update

from accord.model.messages import WireFact
from accord.model.time import iso, parse_instant
from accord.store.schema import received_facts

if TYPE_CHECKING:
    from accord.store.sql import StoreTx


class ReceivedState(StrEnum):
    APPLIED = "applied"  # part of the world
    PENDING = "pending"  # waits for the signature of another voucher


@dataclass(frozen=True, slots=True)
class ReceivedRow:
    """A received fact: its kind and canonical body, the signed wire facts that vouch for it
    (one per voucher), the sender's instant, the node it came from and when it arrived."""

    position: int
    fact_id: str
    kind: str
    body: str
    instant: datetime
    sender: str
    arrived_at: datetime
    after_fact: int | None
    state: ReceivedState
    signatures: tuple[WireFact, ...]


def _wire_doc(fact: WireFact) -> dict[str, str]:
    return {
        "id": fact.fact_id,
        "kind": fact.kind,
        "party": fact.party,
        "instant": iso(fact.instant),
        "body": base64.b64encode(fact.body).decode("ascii"),
        "signature": base64.b64encode(fact.signature).decode("ascii"),
    }


def _wire_from(doc: Any) -> WireFact:
    return WireFact(
        str(doc["id"]),
        str(doc["kind"]),
        str(doc["party"]),
        parse_instant(str(doc["instant"]), "instant"),
        base64.b64decode(str(doc["body"]), validate=True),
        base64.b64decode(str(doc["signature"]), validate=True),
    )


def _values(row: ReceivedRow) -> dict[str, object]:
    return {
        "position": row.position,
        "fact_id": row.fact_id,
        "kind": row.kind,
        "body": row.body,
        "instant": row.instant,
        "sender": row.sender,
        "arrived_at": row.arrived_at,
        "after_fact": row.after_fact,
        "state": row.state.value,
        "signatures": json.dumps([_wire_doc(f) for f in row.signatures], sort_keys=True),
    }


def next_position(tx: StoreTx) -> int:
    last = tx.conn.execute(select(func.max(received_facts.c.position))).scalar()
    return int(last or 0) + 1


def add(tx: StoreTx, row: ReceivedRow) -> None:
    tx.conn.execute(insert(received_facts).values(**_values(row)))


def replace(tx: StoreTx, row: ReceivedRow) -> None:
    """The row of ``row.fact_id`` with its state, signatures and place brought up to date."""
    values = _values(row)
    del values["fact_id"]
    tx.conn.execute(
        update(received_facts).where(received_facts.c.fact_id == row.fact_id).values(**values)
    )


def get(tx: StoreTx, fact_id: str) -> ReceivedRow | None:
    found = tx.conn.execute(
        select(received_facts).where(received_facts.c.fact_id == fact_id)
    ).first()
    return None if found is None else _from_row(found)


def rows(tx: StoreTx, state: ReceivedState | None = None) -> list[ReceivedRow]:
    """The received facts in the order they were kept (only those in ``state``, when given).
    A row whose signatures cannot be read comes back with none (so it fails its check)."""
    query = select(received_facts).order_by(received_facts.c.position)
    if state is not None:
        query = query.where(received_facts.c.state == state.value)
    return [_from_row(r) for r in tx.conn.execute(query)]


def _from_row(row: Any) -> ReceivedRow:
    try:
        signatures = tuple(_wire_from(d) for d in json.loads(row.signatures))
    except Exception:  # an edited row: it then fails its check as having no signature
        signatures = ()
    try:
        state = ReceivedState(row.state)
    except ValueError:
        state = ReceivedState.APPLIED  # an edited state is checked like an applied fact
    return ReceivedRow(
        int(row.position),
        row.fact_id,
        row.kind,
        row.body,
        row.instant,
        row.sender,
        row.arrived_at,
        None if row.after_fact is None else int(row.after_fact),
        state,
        signatures,
    )
