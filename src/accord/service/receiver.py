"""The receiving side of the node protocol: check a message from an authenticated peer, keep
its facts once each, witness the sender's log and answer with a signed receipt.

Checked in this order, the first failure refusing the whole message (nothing is applied; the
refusal is appended to this node's audit log and answered with its code):

1. the bytes are a canonical message document (``malformed``: not JSON, truncated, a field
   missing or of the wrong type);
2. its sender is the peer the channel authenticated and its recipient is this node
   (``misaddressed``), a party whose keys this node holds (``unknown-peer``), and the sender's
   signature verifies over the whole message (``bad-signature``: forged or tampered);
3. the peer is not held for a fork (``peer-forked``);
4. ``sent_at`` is within the skew of the arrival (``clock-skew``);
5. the message number: the next one is new; the last one again with the same facts is a
   duplicate and gets the very receipt it got before (nothing changes); the last one with other
   facts is ``duplicate-conflict``; an earlier one is ``replay``; one past the next is
   ``sequence-gap``;
6. each fact: signed by the party that must vouch for its kind (``wrong-voucher``) with that
   party's key (``fact-bad-signature``), an id already held only with the same content
   (``duplicate-conflict``), its instant not after ``sent_at`` (``clock-skew``) nor before an
   earlier fact of its party from this sender (``sender-regress``);
7. the sender's checkpoint and consistency proof (``checkpoint-refused``, ``peer-forked``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from accord.crypto.messages import (
    decode_message,
    encode_receipt,
    encode_refusal,
    fact_digest,
    verify_fact,
    verify_message,
)
from accord.errors import (
    Category,
    ClockSkew,
    InvalidInput,
    MessageConflict,
    MessageMalformed,
    MessageMisaddressed,
    MessageRefused,
    MessageReplayed,
    MessageUnknownPeer,
    PeerForked,
    SenderRegress,
    SequenceGap,
    StoreError,
    WrongVoucher,
)
from accord.model.messages import FactRefusal, LinkState, Message, Receipt, Refusal, WireFact
from accord.policy.arrival import judge_fact, judge_message
from accord.service import node_log, witness
from accord.service.exchange import Exchange
from accord.service.node_settings import NodeIdentity, NodeSettings, PeerLookup, VouchedBy
from accord.store import inbox, links
from accord.store.sql import StoreTx

# applies an accepted message's new facts in its transaction; the facts it refused
Applier = Callable[[StoreTx, Message, Sequence[WireFact], datetime], tuple[FactRefusal, ...]]

# the answer's HTTP status by the refusal's category
STATUS: dict[Category, int] = {
    Category.CLIENT: 400,
    Category.DENIED: 403,
    Category.CONFLICT: 409,
    Category.UNAVAILABLE: 503,
}

_TIME_ERRORS: dict[Refusal, Callable[[str], MessageRefused]] = {
    Refusal.CLOCK_SKEW: ClockSkew,
    Refusal.SENDER_REGRESS: SenderRegress,
}


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes


class Receiver:
    """This node's inbox: ``handle(peer, body)`` is the node channel's message handler."""

    def __init__(
        self,
        exchange: Exchange,
        identity: NodeIdentity,
        peers: PeerLookup,
        vouched_by: VouchedBy,
        settings: NodeSettings | None = None,
        applier: Applier | None = None,
    ) -> None:
        """``applier``: applies each new fact of an accepted message to this node's world in
        the message's transaction, and says which it refused (named in the receipt)."""
        self.applier = applier
        self.exchange = exchange
        self.identity = identity
        self.peers = peers
        self.vouched_by = vouched_by
        self.settings = settings or NodeSettings()

    def handle(self, peer: str, body: bytes) -> tuple[int, bytes]:
        """Answer a message from the authenticated ``peer``: 200 and a signed receipt, or the
        refusal's status and code. The arrival instant is this node's clock."""
        answer = self.receive(peer, body, self.exchange.instant(None))
        return answer.status, answer.body

    def receive(self, peer: str, body: bytes, arrived_at: datetime) -> Answer:
        arrived = self.exchange.instant(arrived_at)
        try:
            return Answer(200, self._accept(peer, body, arrived))
        except MessageRefused as refusal:
            self._refused(peer, refusal, arrived)
            return Answer(
                STATUS.get(refusal.category, 500), encode_refusal(refusal.code, refusal.message)
            )
        except StoreError as error:  # busy or down: the peer sends it again later
            return Answer(503, encode_refusal(error.code, "this node's store is unavailable"))

    # --- the checks -------------------------------------------------------------------------

    def _accept(self, peer: str, body: bytes, arrived: datetime) -> bytes:
        message, signed, signature = decode_message(body)
        if message.sender != peer:
            raise MessageMisaddressed(
                f"the message names sender {message.sender!r}; the channel authenticated {peer!r}"
            )
        if message.recipient != self.identity.party:
            raise MessageMisaddressed(
                f"the message is for {message.recipient!r}; this node is {self.identity.party!r}"
            )
        keys = self.peers(peer)
        if keys is None:
            raise MessageUnknownPeer(f"no pinned keys for {peer!r}")
        verify_message(signed, signature, keys.ed25519_public, peer)
        with self.exchange.store.transaction(write=True) as tx:
            link = links.link(tx, peer)
            if link.state is LinkState.FORKED:
                raise PeerForked(f"{peer} is held for a fork: {link.fork}")
            verdict = judge_message(message.sent_at, arrived, self.settings.arrival)
            if verdict.refusal is not None:
                raise ClockSkew(f"message {message.seq}: {verdict.detail}")
            digests = [fact_digest(f) for f in message.facts]
            content = hashlib.sha256(b"".join(digests)).digest()
            again = self._seen(link, message, content)
            if again is not None:
                return again
            new = self._check_facts(tx, message, digests)
            seen = witness.witness(tx, keys, message, self.identity)
            return self._apply(tx, link, message, content, new, seen, arrived)

    def _seen(self, link: links.Link, message: Message, content: bytes) -> bytes | None:
        """The stored receipt for a duplicate of the last message; a refusal for any other
        number than the next; ``None`` for the next."""
        if message.seq == link.received_seq:
            if content == link.received_digest and link.received_receipt is not None:
                return link.received_receipt
            raise MessageConflict(
                f"message {message.seq} was already received from {message.sender} with other facts"
            )
        if message.seq < link.received_seq:
            raise MessageReplayed(
                f"message {message.seq} from {message.sender}: this node already received up to "
                f"{link.received_seq}"
            )
        if message.seq > link.received_seq + 1:
            raise SequenceGap(
                f"message {message.seq} from {message.sender}: the next expected is "
                f"{link.received_seq + 1}"
            )
        return None

    def _check_facts(
        self, tx: StoreTx, message: Message, digests: list[bytes]
    ) -> list[tuple[WireFact, bytes]]:
        """The facts not held yet, each checked; refuses the message at the first bad one."""
        new: list[tuple[WireFact, bytes]] = []
        latest: dict[str, datetime | None] = {}
        for fact, digest in zip(message.facts, digests, strict=True):
            self._check_voucher(fact)
            held = inbox.digest_of(tx, fact.fact_id)
            if held is not None and held != digest:
                raise MessageConflict(f"fact {fact.fact_id} is already held with other content")
            if fact.party not in latest:
                latest[fact.party] = inbox.latest_instant(tx, message.sender, fact.party)
            verdict = judge_fact(fact.instant, message.sent_at, latest[fact.party])
            if verdict.refusal is not None:
                raise _TIME_ERRORS[verdict.refusal](f"fact {fact.fact_id}: {verdict.detail}")
            latest[fact.party] = fact.instant
            if held is None:
                new.append((fact, digest))
        return new

    def _check_voucher(self, fact: WireFact) -> None:
        try:
            voucher = self.vouched_by(fact.kind, fact.body)
        except InvalidInput as error:
            raise MessageMalformed(f"fact {fact.fact_id}: {error.message}") from None
        if voucher != fact.party:
            raise WrongVoucher(
                f"fact {fact.fact_id} of kind {fact.kind} is signed by {fact.party}; "
                f"{voucher} must vouch for it"
            )
        keys = self.peers(voucher)
        if keys is None:
            raise MessageUnknownPeer(f"fact {fact.fact_id}: no pinned keys for {voucher!r}")
        verify_fact(fact, keys.ed25519_public)

    # --- the effects ------------------------------------------------------------------------

    def _apply(
        self,
        tx: StoreTx,
        link: links.Link,
        message: Message,
        content: bytes,
        new: list[tuple[WireFact, bytes]],
        seen: witness.Witnessed,
        arrived: datetime,
    ) -> bytes:
        inbox.record(tx, message.sender, message.seq, message.sent_at, arrived, new)
        refused: tuple[FactRefusal, ...] = ()
        if self.applier is not None:
            refused = self.applier(tx, message, [f for f, _ in new], arrived)
        inbox.keep_peer_checkpoint(tx, message.sender, seen.size, seen.cosigned)
        receipt = encode_receipt(
            Receipt(
                self.identity.party,
                message.sender,
                message.seq,
                message.fact_ids,
                arrived,
                seen.cosigned,
                refused,
            ),
            self.identity.key,
        )
        links.save_link(
            tx,
            link.but(received_seq=message.seq, received_digest=content, received_receipt=receipt),
        )
        applied = {f.fact_id for f, _ in new}
        subject = {
            "peer": message.sender,
            "seq": message.seq,
            "sent_at": message.sent_at.isoformat(),
            "checkpoint_size": seen.size,
            "facts": [
                {"id": f.fact_id, "kind": f.kind, "party": f.party, "digest": d.hex()}
                for f, d in new
            ],
            "already_held": [i for i in message.fact_ids if i not in applied],
            "refused": [{"fact": r.fact_id, "code": r.code, "reason": r.reason} for r in refused],
        }
        node_log.log(
            tx,
            self.exchange.vault,
            "node-message-accepted",
            arrived,
            self.exchange.instant(None),
            subject,
        )
        return receipt

    def _refused(self, peer: str, refusal: MessageRefused, arrived: datetime) -> None:
        """Log the refusal in its own transaction (and hold a peer whose fork was just found)."""
        try:
            with self.exchange.store.transaction(write=True) as tx:
                if isinstance(refusal, PeerForked) and refusal.checkpoint is not None:
                    witness.hold(tx, peer, refusal)
                subject = {"peer": peer, "code": refusal.code, "message": refusal.message}
                node_log.log(
                    tx,
                    self.exchange.vault,
                    "node-message-refused",
                    arrived,
                    self.exchange.instant(None),
                    subject,
                )
        except StoreError:
            return  # the store is busy or down: the refusal stands, unlogged (said to the peer)
