"""On a node, a diplomatic note its party records is signed and queued for the node of every
other party to the agreement that this node pinned, in the act's own transaction: the note and
its queued copies are recorded together, or neither is."""

from __future__ import annotations

from datetime import datetime

from accord.crypto import Keyring
from accord.crypto.canonical import canonical_json
from accord.crypto.facts import fact_id
from accord.crypto.messages import sign_fact
from accord.model.agreement import AgreementEvent
from accord.model.facts import FactKind
from accord.model.facts.registry import DEFINITIONS
from accord.model.messages import WireFact
from accord.model.world import World
from accord.store import nodes, outbox
from accord.store.sql import StoreTx


def queue_note(
    tx: StoreTx, keyring: Keyring, world: World, event: AgreementEvent, now: datetime
) -> list[str]:
    """Queue ``event`` for the other parties' pinned nodes when this store is the node of its
    sender; the peers it was queued for (none on a store that is not a node)."""
    own = nodes.identities(tx)
    if len(own) != 1 or own[0].party != getattr(event, "by", None):
        return []
    pinned = {row.party for row in nodes.peers(tx)}
    parties = set(world.agreement(event.agreement).terms.parties)
    peers = sorted((parties & pinned) - {own[0].party})
    if not peers:
        return []
    kind = FactKind.NOTE.value
    body = canonical_json(DEFINITIONS[FactKind.NOTE].encode(event))
    unsigned = WireFact(
        fact_id(kind, body.decode("utf-8")), kind, own[0].party, event.at, body, b""
    )
    fact = sign_fact(keyring.current(own[0].party).ed25519, unsigned)
    for peer in peers:
        outbox.enqueue(tx, peer, fact, now)
    return peers


def note_log(tx: StoreTx, agreement_id: str) -> dict[str, list[dict[str, object]]] | None:
    """The notes on ``agreement_id`` this node sent (to whom, delivered when) and received
    (from which node, applied, with both instants); ``None`` on a store that is not a node."""
    import json  # noqa: PLC0415

    from accord.model.time import iso  # noqa: PLC0415
    from accord.store import received  # noqa: PLC0415

    if not nodes.identities(tx):
        return None
    kind = FactKind.NOTE.value
    sent: list[dict[str, object]] = []
    for queued in outbox.queued(tx):
        body = json.loads(queued.fact.body) if queued.fact.kind == kind else {}
        if body.get("agreement") == agreement_id:
            delivered = queued.delivered_at
            sent.append(
                {
                    "to": queued.peer,
                    "note": body.get("kind"),
                    "at": iso(queued.fact.instant),
                    "delivered_at": None if delivered is None else iso(delivered),
                }
            )
    got: list[dict[str, object]] = []
    for row in received.rows(tx, received.ReceivedState.APPLIED):
        body = json.loads(row.body) if row.kind == kind else {}
        if body.get("agreement") == agreement_id:
            got.append(
                {
                    "from": row.sender,
                    "note": body.get("kind"),
                    # an amendment is by every party that signed its share
                    "by": body.get("by") or ", ".join(sorted(s.party for s in row.signatures)),
                    "at": iso(row.instant),
                    "arrived_at": iso(row.arrived_at),
                }
            )
    return {"sent": sent, "received": got}
