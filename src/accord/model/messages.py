"""What travels between nodes: signed facts, the message that carries them, and its receipt.

A node sends its peer a ``Message``: who sends to whom, the message's number in that direction
(1, 2, 3, … per sender and recipient), the sender's instant, the facts, the sender's latest log
checkpoint (a signed note) and a consistency proof from the last checkpoint of the sender's this
peer witnessed. The peer answers with a ``Receipt`` naming the fact ids it now holds, with the
sender's checkpoint countersigned. Facts are opaque here apart from their headers: id, kind, the
party that vouches for them, their instant, their canonical body bytes and its signature.

The encoding and the signatures are ``accord.crypto.messages``'s; this module only holds the
values and refuses ill-formed ones (``MessageMalformed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from accord.errors import InvalidInput, MessageMalformed
from accord.model.time import require_aware

MAX_FACTS = 1000  # per message: a sender batches at most this many
MAX_ID = 200


class Refusal(StrEnum):
    """Why a node refused a message: each is the ``code`` of one error class."""

    MALFORMED = "malformed"
    MISADDRESSED = "misaddressed"
    UNKNOWN_PEER = "unknown-peer"
    BAD_SIGNATURE = "bad-signature"
    FACT_BAD_SIGNATURE = "fact-bad-signature"
    WRONG_VOUCHER = "wrong-voucher"
    REPLAY = "replay"
    DUPLICATE_CONFLICT = "duplicate-conflict"
    SEQUENCE_GAP = "sequence-gap"
    CLOCK_SKEW = "clock-skew"
    SENDER_REGRESS = "sender-regress"
    CHECKPOINT_REFUSED = "checkpoint-refused"
    PEER_FORKED = "peer-forked"


class LinkState(StrEnum):
    """A peer as this node's witness sees it."""

    OK = "ok"
    FORKED = "forked"  # its log was rewritten: its messages wait for an operator


class ForkResolution(StrEnum):
    """What an operator decides about a forked peer; both forget the peer's checkpoints this node
    witnessed, so the next one it sends is trusted on first use, and lift the hold."""

    ACCEPT = "accept"  # the same node rewrote its log: its message numbers go on
    RESET = "reset"  # the node was rebuilt: its message numbers start again from 1


class DeliveryOutcome(StrEnum):
    """What one delivery attempt to a peer came to."""

    IDLE = "idle"  # nothing was waiting
    DELIVERED = "delivered"  # a valid signed receipt: the facts are marked delivered
    UNAVAILABLE = "unavailable"  # the peer did not answer: the same facts go again later
    REFUSED = "refused"  # the peer refused the message (its code is the link's last error)
    BAD_RECEIPT = "bad-receipt"  # an answer that is not a valid receipt for the message


@dataclass(frozen=True, slots=True)
class PeerKeys:
    """What a node knows of a party: its Ed25519 public key (32 raw bytes), which signs its
    messages, facts and receipts, and its log's note verifier key (``name+hash+key``)."""

    party: str
    ed25519_public: bytes
    log_verifier: str

    def __post_init__(self) -> None:
        _check_id(self.party, "party")
        if not isinstance(self.ed25519_public, bytes) or len(self.ed25519_public) != 32:
            raise InvalidInput(f"peer {self.party}: ed25519_public must be 32 bytes")
        if not isinstance(self.log_verifier, str) or not self.log_verifier:
            raise InvalidInput(f"peer {self.party}: log_verifier is empty")


@dataclass(frozen=True, slots=True)
class WireFact:
    """One signed fact: its headers, its canonical body and the vouching party's signature."""

    fact_id: str
    kind: str
    party: str
    instant: datetime
    body: bytes
    signature: bytes

    def __post_init__(self) -> None:
        _check_id(self.fact_id, "fact id")
        _check_id(self.kind, f"fact {self.fact_id}: kind")
        _check_id(self.party, f"fact {self.fact_id}: party")
        _check_instant(self.instant, f"fact {self.fact_id}: instant")
        if not isinstance(self.body, bytes) or not isinstance(self.signature, bytes):
            raise MessageMalformed(f"fact {self.fact_id}: body and signature must be bytes")


@dataclass(frozen=True, slots=True)
class Message:
    """A batch of facts from one node to another, and the sender's log state."""

    sender: str
    recipient: str
    seq: int
    sent_at: datetime
    facts: tuple[WireFact, ...]
    checkpoint: str  # the sender's latest signed checkpoint note
    proof_from: int  # the tree size the consistency proof starts from (0: none witnessed yet)
    proof: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _check_id(self.sender, "sender")
        _check_id(self.recipient, "recipient")
        _check_count(self.seq, "seq", minimum=1)
        _check_instant(self.sent_at, "sent_at")
        _check_count(self.proof_from, "proof_from", minimum=0)
        if not isinstance(self.facts, tuple) or not all(
            isinstance(f, WireFact) for f in self.facts
        ):
            raise MessageMalformed("facts must be a tuple of facts")
        if len(self.facts) > MAX_FACTS:
            raise MessageMalformed(f"facts: {len(self.facts)} is more than {MAX_FACTS}")
        ids = [f.fact_id for f in self.facts]
        if len(set(ids)) != len(ids):
            raise MessageMalformed("facts: a fact id appears twice in one message")
        if not isinstance(self.checkpoint, str) or not self.checkpoint:
            raise MessageMalformed("checkpoint is empty")
        if not isinstance(self.proof, tuple) or not all(isinstance(h, bytes) for h in self.proof):
            raise MessageMalformed("proof must be a tuple of hashes")

    @property
    def fact_ids(self) -> tuple[str, ...]:
        return tuple(f.fact_id for f in self.facts)


@dataclass(frozen=True, slots=True)
class FactRefusal:
    """A fact of a message the recipient holds but did not apply to its world, and why: the
    refusal's code (an error class's) and its sentence."""

    fact_id: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """The recipient's signed answer: the facts of message ``seq`` it holds, when they arrived,
    the sender's checkpoint with the recipient's cosignature added, and the facts it did not
    apply (``refused``, in the message's order)."""

    recipient: str
    sender: str
    seq: int
    fact_ids: tuple[str, ...]
    received_at: datetime
    cosigned: str  # the message's checkpoint note with the recipient's witness signature
    refused: tuple[FactRefusal, ...] = ()

    def __post_init__(self) -> None:
        _check_id(self.recipient, "recipient")
        _check_id(self.sender, "sender")
        _check_count(self.seq, "seq", minimum=1)
        _check_instant(self.received_at, "received_at")
        if not isinstance(self.fact_ids, tuple) or not all(
            isinstance(i, str) for i in self.fact_ids
        ):
            raise MessageMalformed("fact_ids must be a tuple of text")
        if not isinstance(self.cosigned, str) or not self.cosigned:
            raise MessageMalformed("cosigned is empty")
        if not isinstance(self.refused, tuple) or not all(
            isinstance(r, FactRefusal) and r.fact_id in self.fact_ids for r in self.refused
        ):
            raise MessageMalformed("refused must name facts of the receipt")


def _check_id(value: object, field: str) -> None:
    if not isinstance(value, str) or not value or len(value) > MAX_ID:
        raise MessageMalformed(f"{field}: must be text of 1 to {MAX_ID} characters")
    if not value.isprintable():
        raise MessageMalformed(f"{field}: {value[:40]!r} contains a control character")


def _check_count(value: object, field: str, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value < 2**53:
        raise MessageMalformed(f"{field}: {value!r} is not an integer from {minimum}")


def _check_instant(value: object, field: str) -> None:
    if not isinstance(value, datetime):
        raise MessageMalformed(f"{field}: must be an instant")
    try:
        require_aware(value, field)
    except InvalidInput:
        raise MessageMalformed(f"{field}: {value.isoformat()} has no UTC offset") from None
