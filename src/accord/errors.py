"""One error tree for accord.

Every class has a ``category`` (what kind of failure it is, whoever reports it); the adapters map
categories (and, where a finer answer is owed, classes) to exit codes (``cli.exits``) and HTTP
statuses (``api.errors``), each in one table. Messages are written for the person who sent the
input: they name the file, field and value, and never carry another exception's text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class Category(StrEnum):
    """What kind of failure an error is: the edges answer by category."""

    CLIENT = "client"  # the input is wrong; sending it again will not help
    NOT_FOUND = "not-found"  # it names something that does not exist (or may not be seen)
    CONFLICT = "conflict"  # it clashes with what is recorded
    DENIED = "denied"  # policy or credentials did not allow it
    INTEGRITY = "integrity"  # stored data or keys failed their check: the server's fault
    UNAVAILABLE = "unavailable"  # the store is busy or down: the same request may succeed later
    INTERNAL = "internal"  # a defect


class AccordError(Exception):
    """Base of every error accord raises on purpose."""

    code = "error"
    category: ClassVar[Category] = Category.CLIENT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(AccordError):
    """Input that is malformed or refers to something that does not exist."""

    code = "invalid-input"
    category = Category.CLIENT


class NaiveDatetime(InvalidInput):
    """A datetime without a UTC offset; accord never guesses a zone."""

    code = "naive-datetime"
    category = Category.CLIENT


class UnknownReference(InvalidInput):
    """An id, party, level or topic that the exchange does not know."""

    code = "unknown-reference"
    category = Category.NOT_FOUND


class DuplicateId(InvalidInput):
    """An id that is already taken."""

    code = "duplicate-id"
    category = Category.CONFLICT


class ScenarioInvalid(InvalidInput):
    """A scenario file that cannot be loaded; names the file and, where known, the line."""

    code = "scenario-invalid"
    category = Category.CLIENT

    def __init__(
        self, message: str, *, file: str, line: int | None = None, field: str | None = None
    ) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")
        self.file = file
        self.line = line
        self.field = field  # the offending value's path (``agreements[0].renewal``), if known
        self.detail = message


class DefinitionConflict(ScenarioInvalid):
    """A scenario definition that differs from what the store already holds under that id."""

    code = "definition-conflict"


class OutOfOrder(InvalidInput):
    """An act dated before the latest one already recorded: the record is append-only in time."""

    code = "out-of-order"
    category = Category.CONFLICT


class Refused(AccordError):
    """A state change that policy did not allow; carries the decision's reason codes."""

    code = "refused"
    category = Category.DENIED

    def __init__(self, message: str, reasons: tuple[str, ...]) -> None:
        super().__init__(message)
        self.reasons = reasons


class StoreError(AccordError):
    """The store could not be opened or written."""

    code = "store-error"
    category = Category.UNAVAILABLE


class Busy(StoreError):
    """The store's write lock was not had in time (other writers held it): a transient
    conflict, not a fault of the request. Nothing was changed, and the same request may be
    sent again as it is; adapters answer it as *unavailable* (HTTP 503 with ``Retry-After``)."""

    code = "busy"
    retry_after = 1  # seconds a client should wait before it retries


class Unauthenticated(AccordError):
    """Credentials that are missing, malformed, unknown, revoked or expired (never says which)."""

    code = "unauthenticated"
    category = Category.DENIED


class KeyUnavailable(AccordError):
    """The master key is missing, or its file or variable cannot be read as a key."""

    code = "key-unavailable"
    category = Category.INTEGRITY


class KeyMismatch(AccordError):
    """The master key given does not open this exchange's keys."""

    code = "key-mismatch"
    category = Category.INTEGRITY


class IntegrityError(AccordError):
    """Stored data failed its cryptographic check: a ciphertext, a signature or the audit log.

    Crypto failures are one opaque error: the message says what was being checked, never why the
    primitive failed.
    """

    code = "integrity"
    category = Category.INTEGRITY


class ProofInvalid(AccordError):
    """A Merkle inclusion or consistency proof that does not verify against the given tree."""

    code = "proof-invalid"
    category = Category.INTEGRITY


class CheckpointInvalid(AccordError):
    """A log checkpoint that cannot be parsed or whose signature does not verify."""

    code = "checkpoint-invalid"
    category = Category.INTEGRITY


class StoreMissing(StoreError):
    """No accord store where one was named; accord never creates one unless asked to."""

    code = "store-missing"


class StoreUnreachable(StoreError):
    """A database server that cannot be reached; the message names host, port and database, never
    the password."""

    code = "store-unreachable"


class SignatureUnchecked(CheckpointInvalid):
    """A check that verified no signature (no verifier key, or a tree without a checkpoint): it
    proves nothing about who vouched for the log, so it is not a success unless asked for."""

    code = "signature-unchecked"


# --- sovereign nodes -----------------------------------------------------------------------------


class NotANode(InvalidInput):
    """A node command on a store that was not made with ``accord node init``."""

    code = "not-a-node"
    category = Category.CLIENT


class NodeExists(DuplicateId):
    """``accord node init`` on a store that already speaks for a party (or already has keys)."""

    code = "node-exists"
    category = Category.CONFLICT


class CardInvalid(InvalidInput):
    """A node card that cannot be read: not JSON, a field missing, of the wrong type or value."""

    code = "card-invalid"
    category = Category.CLIENT


class CardSignatureInvalid(InvalidInput):
    """A node card whose party's signature does not verify over its fields."""

    code = "card-signature-invalid"
    category = Category.CLIENT


class CertificateMismatch(InvalidInput):
    """A card whose TLS certificate is not what the card says: another key, another party or
    host, not self-signed by its key, or not valid at the instant it is checked."""

    code = "certificate-mismatch"
    category = Category.CLIENT


class OwnCard(InvalidInput):
    """A card of the node's own party offered as a peer's."""

    code = "own-card"
    category = Category.CLIENT


class PeerConflict(DuplicateId):
    """A card for a party already pinned with another certificate or card."""

    code = "peer-conflict"
    category = Category.CONFLICT


class UnknownPeer(UnknownReference):
    """A party this node has not pinned (to connect to, or presenting a certificate)."""

    code = "unknown-peer"
    category = Category.NOT_FOUND


class PeerRowTampered(IntegrityError):
    """A pinned-peer row or the node's identity whose binding under the node's key fails: an edit
    in the store, never a trusted peer."""

    code = "peer-row-tampered"
    category = Category.INTEGRITY


class PeerUnavailable(AccordError):
    """A peer node that did not answer (down, unreachable, or too slow): the same message may be
    sent again later."""

    code = "peer-unavailable"
    category = Category.UNAVAILABLE


class MessageRefused(AccordError):
    """A node-to-node message the receiving node refused; nothing it carried was applied, and
    the refusal is in the receiver's audit log. ``code`` names the refusal."""

    code = "message-refused"
    category = Category.DENIED


class MessageMalformed(MessageRefused):
    """A message that is not one: not canonical JSON, truncated, a field missing or mistyped."""

    code = "malformed"
    category = Category.CLIENT


class MessageMisaddressed(MessageRefused):
    """A message from a party other than the authenticated peer, or for another node."""

    code = "misaddressed"


class MessageUnknownPeer(MessageRefused):
    """A message from, or a fact vouched by, a party whose keys this node has not pinned."""

    code = "unknown-peer"


class MessageForged(MessageRefused):
    """A message whose sender signature does not verify (forged, or tampered in transit)."""

    code = "bad-signature"


class FactForged(MessageRefused):
    """A fact whose signature does not verify under the key of the party that vouches for it."""

    code = "fact-bad-signature"


class WrongVoucher(MessageRefused):
    """A fact signed by a party other than the one that must vouch for a fact of its kind."""

    code = "wrong-voucher"


class MessageReplayed(MessageRefused):
    """A message whose sequence number this node already accepted and passed."""

    code = "replay"
    category = Category.CONFLICT


class MessageConflict(MessageRefused):
    """A message or fact already received under its number or id, now with other content."""

    code = "duplicate-conflict"
    category = Category.CONFLICT


class SequenceGap(MessageRefused):
    """A message whose sequence number skips one not yet received (reordered, or one lost)."""

    code = "sequence-gap"
    category = Category.CONFLICT


class ClockSkew(MessageRefused):
    """A message sent (by its own claim) further from its arrival than the allowed skew, or a
    fact claiming an instant after the message that carries it."""

    code = "clock-skew"
    category = Category.CONFLICT


class SenderRegress(MessageRefused):
    """A fact claiming an instant before an earlier fact of the same party from the same node."""

    code = "sender-regress"
    category = Category.CONFLICT


class WitnessRefused(MessageRefused):
    """A sender checkpoint that does not verify, or a consistency proof from a size this node
    did not witness."""

    code = "checkpoint-refused"
    category = Category.CONFLICT


class PeerForked(MessageRefused):
    """A peer whose new checkpoint is not consistent with one it sent before (its log was
    rewritten or forked); its messages are refused until an operator resolves it."""

    code = "peer-forked"

    def __init__(self, message: str, checkpoint: str | None = None) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint  # the inconsistent checkpoint, when found just now


class PeerRefused(AccordError):
    """The mutual-TLS handshake with a peer failed: it refused our certificate, or it presented
    a certificate other than the one pinned for it."""

    code = "peer-refused"
    category = Category.DENIED


class PeerRejected(AccordError):
    """A peer node answered with an error status; ``status`` and ``body`` are its answer."""

    code = "peer-rejected"
    category = Category.DENIED

    def __init__(self, message: str, status: int = 0, body: bytes = b"") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class FeedCursorInvalid(InvalidInput):
    """A live-feed cursor (``Last-Event-ID`` or ``?after=``) that is not one."""

    code = "feed-cursor-invalid"
    category = Category.CLIENT


class FeedNotFound(UnknownReference):
    """No such feed for this user: another party's feed, or a cursor of another user's feed
    (one answer for both, and for a cursor never issued: nothing says what exists)."""

    code = "feed-not-found"
    category = Category.NOT_FOUND


# --- facts received from a peer that this node does not apply (the message is still received;
# each refusal is logged and named in the receipt, and nothing of the fact is applied) ---------


class FactRefused(AccordError):
    """A fact from a peer that this node's rules do not let into its world."""

    code = "fact-refused"
    category = Category.DENIED


class KindNotAccepted(FactRefused):
    """A kind of fact a node does not take from a peer (it is the peer's own business)."""

    code = "kind-not-accepted"
    category = Category.CLIENT


class NotAParty(FactRefused):
    """A note from a party that is not party to the agreement it is about."""

    code = "not-a-party"
    category = Category.DENIED


class AgreementNotHeld(FactRefused):
    """A fact about an agreement this node does not hold."""

    code = "agreement-not-held"
    category = Category.NOT_FOUND


class NotAddressed(FactRefused):
    """A fact not addressed to this node's party (it is not party to it, or not its holder)."""

    code = "not-addressed"
    category = Category.DENIED


class ForeignClearance(FactRefused):
    """A user's clearance sent by a node other than the user's own party's."""

    code = "foreign-clearance"
    category = Category.DENIED


class NotFactOriginator(FactRefused):
    """A consent on an item by a party other than its originator (or an item not held)."""

    code = "not-originator"
    category = Category.DENIED


class InstantMismatch(FactRefused):
    """A fact whose claimed instant is not the instant its body records."""

    code = "instant-mismatch"
    category = Category.CLIENT


class FactNotAllowed(FactRefused):
    """A fact this node's record of the agreement does not allow at its instant (the reasons
    are the decision's); also a fact the world cannot take (a user already defined)."""

    code = "fact-not-allowed"
    category = Category.CONFLICT

    def __init__(self, message: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = reasons


# --- amendments across nodes: shares of a proposal (``accord node propose`` / ``countersign``) --


class UnknownProposal(UnknownReference):
    """A proposal id this node holds no amendment proposal under."""

    code = "unknown-proposal"
    category = Category.NOT_FOUND


class ShareNotByParty(FactRefused):
    """A share of an amendment signed by a party that is not one of the amendment's vouchers."""

    code = "share-not-by-party"
    category = Category.DENIED


class ProposalNotHeld(FactRefused):
    """A share of an amendment to an agreement this node does not hold."""

    code = "proposal-agreement-not-held"
    category = Category.NOT_FOUND


class ProposalChanged(FactRefused):
    """A share whose id names another body than the one it carries, or a proposal held here
    under that id with another body: a changed body under the same id."""

    code = "proposal-changed"
    category = Category.CONFLICT
