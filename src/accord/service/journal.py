"""The record (R12): every act and every read appended to the RFC 9162 log in its own transaction.

An entry's leaf is ``ENTRY_PREFIX`` followed by the RFC 8785 JSON of what happened: its place in
the log, the act, its instant, the decision's reason codes and the image of every row it wrote.
At the end of each writing transaction the exchange signs a checkpoint of the whole log (kept as
the store's latest checkpoint), so no entry is ever outside a signature. Beside the entries it
keeps every complete subtree the appends close (``audit_nodes``), so that a proof reads O(log n)
stored hashes instead of the whole log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from accord.audit import (
    Checkpoint,
    Frontier,
    SignedCheckpoint,
    leaf_hash,
    node_key,
    sign_checkpoint,
)
from accord.crypto import EXCHANGE, Keyring, canonical_json
from accord.errors import IntegrityError, InvalidInput
from accord.model.time import iso
from accord.policy.reasons import Decision
from accord.store.images import Change
from accord.store.sql import StoreTx

ENTRY_PREFIX = b"accord audit entry v1\n"
FRONTIER = "audit_frontier"
LATEST = "audit_checkpoint"
ORIGIN = "audit_origin"


def origin_of(exchange_id: str) -> str:
    """The checkpoint origin line: names this exchange's log."""
    return f"accord.exchange/{exchange_id}"


def signer_name(owner: str) -> str:
    """The signed-note key name of the exchange or of a party."""
    return "accord-exchange" if owner == EXCHANGE else f"accord-party-{owner}"


def encode_entry(body: Mapping[str, Any]) -> bytes:
    return ENTRY_PREFIX + canonical_json(body)


def decode_entry(leaf: bytes, seq: int) -> dict[str, Any]:
    """An entry's body; a leaf that is not one is an integrity failure naming the entry."""
    if not leaf.startswith(ENTRY_PREFIX):
        raise IntegrityError(f"audit entry {seq}: not an accord entry")
    try:
        body = json.loads(leaf[len(ENTRY_PREFIX) :])
    except ValueError:
        raise IntegrityError(f"audit entry {seq}: its body is not JSON") from None
    if not isinstance(body, dict):
        raise IntegrityError(f"audit entry {seq}: its body is not an object")
    return body


@dataclass
class Pending:
    """Entries of the transaction under way, not yet written."""

    bodies: list[dict[str, Any]] = field(default_factory=list)


def entry_body(
    kind: str,
    at: datetime,
    recorded_at: datetime,
    subject: Mapping[str, Any],
    decision: Decision | None,
    changes: Sequence[Change],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": kind,
        "at": iso(at),
        "recorded_at": iso(recorded_at),
        "subject": dict(subject),
        "changes": [change.as_dict() for change in changes],
    }
    if decision is not None:
        body["allowed"] = decision.allowed
        body["reasons"] = [r.code.value for r in decision.reasons]
    return body


def load_frontier(tx: StoreTx) -> Frontier:
    return frontier_of(tx.meta(FRONTIER))


def frontier_of(state: str | None) -> Frontier:
    """The frontier kept in ``meta`` as ``state`` (none yet: the empty log's)."""
    if state is None:
        return Frontier()
    try:
        data = json.loads(state)
        return Frontier.from_state(int(data["size"]), [bytes.fromhex(h) for h in data["hashes"]])
    except (ValueError, KeyError, TypeError, InvalidInput):
        raise IntegrityError(
            "the log's stored frontier is malformed (was the store edited?)"
        ) from None


def flush(tx: StoreTx, pending: Pending, keyring: Keyring) -> SignedCheckpoint | None:
    """Append the pending entries, then sign and keep the checkpoint of the whole log."""
    if not pending.bodies:
        return None
    frontier = load_frontier(tx)
    rows = []
    nodes = []
    for body in pending.bodies:
        seq = frontier.size
        leaf = encode_entry({"seq": seq, **body})
        hashed = leaf_hash(leaf)
        for level, index, h in frontier.append(hashed):
            nodes.append((node_key(level, index), h))
        rows.append((seq, leaf, hashed))
    tx.append_entries(rows)
    tx.append_nodes(nodes)
    tx.set_meta(
        FRONTIER, json.dumps({"size": frontier.size, "hashes": [h.hex() for h in frontier.hashes]})
    )
    origin = tx.meta(ORIGIN)
    if origin is None:
        raise IntegrityError("the store names no audit log origin: was `accord keys init` run?")
    checkpoint = Checkpoint(origin, frontier.size, frontier.root())
    signed = sign_checkpoint(checkpoint, signer_name(EXCHANGE), keyring.current(EXCHANGE).ed25519)
    tx.set_meta(LATEST, signed.text())
    pending.bodies.clear()
    return signed
