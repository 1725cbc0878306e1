"""The sending side of the node protocol: deliver a peer's queued facts in order, exactly once.

One message is outstanding per peer at a time. ``deliver`` takes the message not yet
acknowledged (or assigns the oldest pending facts to the next number, durably, before anything
is sent), stamps it with the current instant, this node's latest checkpoint and a consistency
proof from the checkpoint of ours the peer last cosigned, signs it and sends it. Only a receipt
signed by the peer, for that number and exactly those facts, with our checkpoint cosigned,
marks them delivered. Anything else leaves them to go again, under the same number and with the
same facts, so a peer that already holds them answers with the receipt it gave before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from accord.audit import verifier_key
from accord.crypto import EXCHANGE
from accord.crypto.messages import RefusalAnswer, decode_answer, encode_message
from accord.errors import (
    CheckpointInvalid,
    MessageRefused,
    MessageUnknownPeer,
    PeerUnavailable,
)
from accord.model.messages import DeliveryOutcome, Message, PeerKeys, Receipt, WireFact
from accord.service import journal, node_log, witness
from accord.service.exchange import Exchange
from accord.service.node_settings import NodeIdentity, NodeSettings, PeerLookup, Transport
from accord.store import links, outbox
from accord.store.outbox import QueuedFact
from accord.store.sql import StoreTx


@dataclass(frozen=True, slots=True)
class Attempt:
    outcome: DeliveryOutcome
    seq: int = 0
    facts: int = 0
    detail: str = ""


class Deliverer:
    """This node's outbox, sent through ``transport``."""

    def __init__(
        self,
        exchange: Exchange,
        identity: NodeIdentity,
        peers: PeerLookup,
        transport: Transport,
        settings: NodeSettings | None = None,
    ) -> None:
        self.exchange = exchange
        self.identity = identity
        self.peers = peers
        self.transport = transport
        self.settings = settings or NodeSettings()

    def enqueue(self, tx: StoreTx, peer: str, fact: WireFact, at: datetime) -> int:
        """Queue ``fact`` for ``peer`` inside the caller's (the act's) transaction."""
        return outbox.enqueue(tx, peer, fact, self.exchange.instant(at))

    def drain(
        self, peer: str, attempts: int, clock: Callable[[], datetime] | None = None
    ) -> list[Attempt]:
        """Deliver until nothing waits, at most ``attempts`` tries; stops at the first attempt
        that is not a delivery."""
        done: list[Attempt] = []
        for _ in range(attempts):
            attempt = self.deliver(peer, self.exchange.instant(clock() if clock else None))
            done.append(attempt)
            if attempt.outcome is not DeliveryOutcome.DELIVERED:
                break
        return done

    def deliver(self, peer: str, at: datetime) -> Attempt:
        """One attempt: send the outstanding (or next) message to ``peer`` at ``at``."""
        at = self.exchange.instant(at)
        keys = self.peers(peer)
        if keys is None:
            raise MessageUnknownPeer(f"no pinned keys for {peer!r}: pin its card first")
        prepared = self._prepare(peer, at)
        if prepared is None:
            return Attempt(DeliveryOutcome.IDLE)
        message, body = prepared
        try:
            answer = self.transport.send(peer, body)
        except PeerUnavailable as error:
            return self._failed(peer, message, DeliveryOutcome.UNAVAILABLE, error.message)
        try:
            receipt = decode_answer(answer, keys.ed25519_public)
        except MessageRefused as error:
            return self._failed(peer, message, DeliveryOutcome.BAD_RECEIPT, error.message)
        if isinstance(receipt, RefusalAnswer):
            return self._failed(
                peer, message, DeliveryOutcome.REFUSED, f"{receipt.code}: {receipt.message}"
            )
        problem = self._check_receipt(message, receipt, keys)
        if problem is not None:
            return self._failed(peer, message, DeliveryOutcome.BAD_RECEIPT, problem)
        self._delivered(peer, message, receipt, answer, at)
        return Attempt(DeliveryOutcome.DELIVERED, message.seq, len(message.facts))

    # --- steps ----------------------------------------------------------------------------

    def _prepare(self, peer: str, at: datetime) -> tuple[Message, bytes] | None:
        with self.exchange.store.transaction(write=True) as tx:
            link = links.link(tx, peer)
            if link.sent_seq > link.acked_seq:
                seq = link.sent_seq
                facts = outbox.in_message(tx, peer, seq)
            else:
                seq = link.sent_seq + 1
                facts = outbox.assign(tx, peer, seq, self.settings.batch)
                if not facts:
                    return None
                links.save_link(tx, link.but(sent_seq=seq))
            message = self._message(tx, link, peer, seq, at, facts)
        return message, encode_message(message, self.identity.key)

    def _message(
        self,
        tx: StoreTx,
        link: links.Link,
        peer: str,
        seq: int,
        at: datetime,
        facts: list[QueuedFact],
    ) -> Message:
        checkpoint = node_log.latest_checkpoint(tx)
        size = node_log.size_of(checkpoint)
        since = node_log.size_of(link.ours_cosigned)
        return Message(
            self.identity.party,
            peer,
            seq,
            at,
            tuple(q.fact for q in facts),
            checkpoint,
            since,
            node_log.consistency_from(tx, since, size),
        )

    def _check_receipt(self, message: Message, receipt: Receipt, keys: PeerKeys) -> str | None:
        if (receipt.recipient, receipt.sender, receipt.seq) != (
            message.recipient,
            message.sender,
            message.seq,
        ):
            return (
                f"the receipt is for message {receipt.seq} from {receipt.sender} to "
                f"{receipt.recipient}, not {message.seq} from {message.sender} to {message.recipient}"
            )
        if receipt.fact_ids != message.fact_ids:
            return f"the receipt for message {message.seq} names other facts than it carried"
        try:
            witness.check_cosigned(receipt.cosigned, self._own_log(), keys)
        except CheckpointInvalid as error:
            return f"the receipt's cosigned checkpoint: {error.message}"
        return None

    def _own_log(self) -> list[str]:
        """This node's log verifier keys, every version (a receipt may cosign a checkpoint
        signed before the log key was rotated)."""
        with self.exchange.store.transaction(write=False) as tx:
            rows = [row for row in tx.key_sets() if row.owner == EXCHANGE]
        name = journal.signer_name(EXCHANGE)
        return [
            verifier_key(name, Ed25519PublicKey.from_public_bytes(r.ed25519_public)) for r in rows
        ]

    def _delivered(
        self, peer: str, message: Message, receipt: Receipt, signed: bytes, at: datetime
    ) -> None:
        with self.exchange.store.transaction(write=True) as tx:
            link = links.link(tx, peer)
            if link.acked_seq >= message.seq:
                return
            outbox.mark_delivered(tx, peer, message.seq, at, signed)
            cosigned = link.ours_cosigned
            if node_log.size_of(receipt.cosigned) >= node_log.size_of(cosigned):
                cosigned = receipt.cosigned
            links.save_link(
                tx, link.but(acked_seq=message.seq, ours_cosigned=cosigned, last_error=None)
            )
            subject = {
                "peer": peer,
                "seq": message.seq,
                "facts": list(message.fact_ids),
                "received_at": receipt.received_at.isoformat(),
                "cosigned_size": node_log.size_of(receipt.cosigned),
            }
            node_log.log(
                tx, self.exchange.vault, "node-delivered", at, self.exchange.instant(None), subject
            )

    def _failed(
        self, peer: str, message: Message, outcome: DeliveryOutcome, detail: str
    ) -> Attempt:
        with self.exchange.store.transaction(write=True) as tx:
            link = links.link(tx, peer)
            links.save_link(tx, link.but(last_error=f"{outcome.value}: {detail}"))
        return Attempt(outcome, message.seq, len(message.facts), detail)
