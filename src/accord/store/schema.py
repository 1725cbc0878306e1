"""Tables. Instants are stored as integer microseconds since the Unix epoch, UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
)

from accord.errors import IntegrityError
from accord.model.time import require_aware

SCHEMA_VERSION = "5"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Instant(TypeDecorator[datetime]):
    """An aware datetime stored as UTC microseconds; naive values are refused."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        delta = require_aware(value, "instant") - EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else EPOCH + timedelta(microseconds=int(value))


class StoredJSON(TypeDecorator[Any]):
    """A JSON column read back: text that no longer parses (edited in the store) is stored data
    failing its check, an ``IntegrityError`` naming the column, never the decoder's error."""

    impl = JSON
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        decode = super().result_processor(dialect, coltype)
        column = self.column

        def process(value: Any) -> Any:
            try:
                return value if decode is None else decode(value)
            except ValueError:  # json.JSONDecodeError, and the drivers' own
                raise IntegrityError(f"a row of {column} is not JSON in the store") from None

        return process


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# every fact of the world, in the order recorded, each signed by the parties that vouch for it:
# ``body`` is the fact's canonical JSON (RFC 8785) exactly as signed; ``id`` the SHA-256 of its
# kind and body; ``signatures`` one stored Ed25519 signature (base64) per voucher, in order
facts = Table(
    "facts",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("vouchers", StoredJSON("facts.vouchers"), nullable=False),
    Column("body", Text, nullable=False),
    Column("signatures", StoredJSON("facts.signatures"), nullable=False),
)

# API tokens: a slow salted hash of the secret, and a MAC binding the row (``mac``) under a key
# derived from the exchange's sealed key set; audited, so ``audit verify`` names an edited row
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user", String(200), nullable=False),
    Column("salt", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    Column("admin", Boolean, nullable=False),
    Column("issued_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=True),
    Column("revoked_at", Instant, nullable=True),
    Column("mac", LargeBinary, nullable=True),
    Index("api_tokens_user", "user"),
)

# an item's title, content and STIX object, encrypted under its own data key (AES-256-GCM, its
# metadata fact bound as associated data), and its originator's signature over both
items = Table(
    "items",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("payload", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("signer_version", Integer, nullable=False),
)

# one row per party and key version: public keys in clear, private keys sealed under the master key
key_sets = Table(
    "key_sets",
    metadata,
    Column("owner", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("x25519_public", LargeBinary, nullable=False),
    Column("ed25519_public", LargeBinary, nullable=False),
    Column("sealed_private", LargeBinary, nullable=False),
    Column("created_at", Instant, nullable=False),
    PrimaryKeyConstraint("owner", "version"),
)

# the item's data key wrapped for each party that holds a live copy; destruction deletes the row
wrapped_keys = Table(
    "wrapped_keys",
    metadata,
    Column("item", String(200), ForeignKey("items.id"), nullable=False),
    Column("party", String(32), nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
    PrimaryKeyConstraint("item", "party"),
)

# the RFC 9162 log: entry ``seq`` is leaf index ``seq``; ``leaf`` is the entry's exact bytes
audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("leaf", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary, nullable=False),
)

# the log's complete subtrees above the leaves (RFC 9162 MTH of 2**level leaves), so that a proof
# reads O(log n) rows; ``node`` is ``audit.node_key(level, index)``: last leaf * 64 + level
audit_nodes = Table(
    "audit_nodes",
    metadata,
    Column("node", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

# checkpoints the exchange published (signed notes, with any parties' countersignatures)
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("note", Text, nullable=False),
)

# --- the node-to-node protocol (``accord.store.outbox``, ``accord.store.inbox``) ----------------

# facts waiting for, or delivered to, one peer, in the order they were enqueued
node_outbox = Table(
    "node_outbox",
    metadata,
    Column("peer", String(200), nullable=False),
    Column("position", BigInteger, nullable=False, autoincrement=False),
    Column("fact_id", String(200), nullable=False),
    Column("kind", String(200), nullable=False),
    Column("party", String(200), nullable=False),
    Column("instant", Instant, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("enqueued_at", Instant, nullable=False),
    Column("message_seq", BigInteger, nullable=True),  # the message it was sent in
    Column("delivered_at", Instant, nullable=True),  # set only on a valid signed receipt
    Column("receipt", LargeBinary, nullable=True),  # that receipt, as the peer signed it
    PrimaryKeyConstraint("peer", "position"),
    Index("node_outbox_fact", "peer", "fact_id", unique=True),
    Index("node_outbox_message", "peer", "message_seq"),
)

# one row per peer: the message numbers both ways, the last receipt given, the witness state
node_links = Table(
    "node_links",
    metadata,
    Column("peer", String(200), primary_key=True),
    Column("sent_seq", BigInteger, nullable=False),  # the last message number assigned
    Column("acked_seq", BigInteger, nullable=False),  # the last one with a valid receipt
    Column("received_seq", BigInteger, nullable=False),  # the last accepted from the peer
    Column("received_digest", LargeBinary, nullable=True),  # of that message's facts
    Column("received_receipt", LargeBinary, nullable=True),  # the receipt given for it
    Column("ours_cosigned", Text, nullable=True),  # our latest checkpoint the peer cosigned
    Column("state", String(16), nullable=False),
    Column("fork", Text, nullable=True),  # what was inconsistent, while the peer is held
    Column("fork_checkpoint", Text, nullable=True),
    Column("last_error", Text, nullable=True),  # the last refusal or failure sending to it
)

# facts received from peers, each once (by fact id), with its sender's and its arrival instant
node_inbox = Table(
    "node_inbox",
    metadata,
    Column("fact_id", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False, unique=True, autoincrement=False),
    Column("kind", String(200), nullable=False),
    Column("party", String(200), nullable=False),
    Column("instant", Instant, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("digest", LargeBinary, nullable=False),
    Column("sender", String(200), nullable=False),
    Column("message_seq", BigInteger, nullable=False),
    Column("sent_at", Instant, nullable=False),
    Column("arrived_at", Instant, nullable=False),
    Index("node_inbox_sender_party", "sender", "party", "instant"),
)

# facts from peers this node applied to its world (or holds for their other vouchers' signatures):
# ``body`` the fact's canonical JSON as signed; ``signatures`` the signed wire facts that vouch
# for it (JSON: one per voucher); ``instant`` the sender's instant, ``arrived_at`` this node's;
# ``after_fact`` how many local facts came before it (the world replays both in that order);
# ``state`` ``applied`` or ``pending`` (a fact that still waits for a voucher's signature)
received_facts = Table(
    "received_facts",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("fact_id", String(200), nullable=False, unique=True),
    Column("kind", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("instant", Instant, nullable=False),
    Column("sender", String(200), nullable=False),
    Column("arrived_at", Instant, nullable=False),
    Column("after_fact", BigInteger, nullable=True),
    Column("state", String(16), nullable=False),
    Column("signatures", Text, nullable=False),
)

# every checkpoint of a peer's log this node witnessed (cosigned), by tree size
node_peer_checkpoints = Table(
    "node_peer_checkpoints",
    metadata,
    Column("peer", String(200), nullable=False),
    Column("size", BigInteger, nullable=False, autoincrement=False),
    Column("note", Text, nullable=False),
    PrimaryKeyConstraint("peer", "size"),
)

# a sovereign node: the one party it speaks for, its node URL, its TLS certificate and the TLS
# private key sealed under the master key; ``mac`` binds the row under the node's own key
node_identity = Table(
    "node_identity",
    metadata,
    Column("party", String(32), primary_key=True),
    Column("url", Text, nullable=False),
    Column("certificate", Text, nullable=False),
    Column("sealed_key", LargeBinary, nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("mac", LargeBinary, nullable=False),
)

# the peers a node pinned: each peer's card as pinned (canonical JSON), its certificate's
# SHA-256, when it was pinned, and a MAC binding the row under the node's own key
node_peers = Table(
    "node_peers",
    metadata,
    Column("party", String(32), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("card", Text, nullable=False),
    Column("pinned_at", Instant, nullable=False),
    Column("mac", LargeBinary, nullable=False),
)

# tables whose rows the audit log must explain (every other table is bookkeeping)
AUDITED = (
    facts,
    items,
    key_sets,
    wrapped_keys,
    api_tokens,
    checkpoints,
    node_identity,
    node_peers,
)
