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
