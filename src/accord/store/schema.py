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

from accord.model.time import require_aware

SCHEMA_VERSION = "3"
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


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

topics = Table("topics", metadata, Column("name", String(200), primary_key=True))

parties = Table(
    "parties",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("levels", JSON, nullable=False),
)

agreements = Table(
    "agreements",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("title", Text, nullable=False),
    Column("hub", String(32), ForeignKey("parties.code"), nullable=True),
    Column("in_force_from", Instant, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("terms", JSON, nullable=False),
)

agreement_events = Table(
    "agreement_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("agreement", String(200), ForeignKey("agreements.id"), nullable=False),
    Column("at", Instant, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("body", JSON, nullable=False),
)

# matters outside the agreements and the states parties record for them (R15)
matters = Table(
    "matters",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("states", JSON, nullable=False),
    Column("initial", Text, nullable=False),
)

matter_states = Table(
    "matter_states",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("matter", String(200), ForeignKey("matters.id"), nullable=False),
    Column("at", Instant, nullable=False),
    Column("state", Text, nullable=False),
    Column("by", String(32), ForeignKey("parties.code"), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("party", String(32), ForeignKey("parties.code"), nullable=False),
    Column("clearance", Text, nullable=False),
    Column("need_to_know", JSON, nullable=False),
)

# API tokens: a slow salted hash of the secret, and a MAC binding the row (``mac``) under a key
# derived from the exchange's sealed key set; audited, so ``audit verify`` names an edited row
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user", String(200), ForeignKey("users.id"), nullable=False),
    Column("salt", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    Column("admin", Boolean, nullable=False),
    Column("issued_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=True),
    Column("revoked_at", Instant, nullable=True),
    Column("mac", LargeBinary, nullable=True),
    Index("api_tokens_user", "user"),
)

items = Table(
    "items",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("originator", String(32), ForeignKey("parties.code"), nullable=False),
    Column("level", Text, nullable=False),
    Column("topics", JSON, nullable=False),
    Column("releasable_to", JSON, nullable=False),
    Column("created", Instant, nullable=False),
    # title, content and STIX object, encrypted under the item's own data key (AES-256-GCM, the
    # metadata above bound as associated data); the originator's signature over both
    Column("payload", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("signer_version", Integer, nullable=False),
)

# copies received from another party; the originator's own copy is implied by the item
holdings = Table(
    "holdings",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("item", String(200), ForeignKey("items.id"), nullable=False),
    Column("party", String(32), ForeignKey("parties.code"), nullable=False),
    Column("level", Text, nullable=False),
    Column("originator", String(32), nullable=False),
    Column("originator_level", Text, nullable=False),
    Column("received_at", Instant, nullable=False),
    Column("agreement", String(200), ForeignKey("agreements.id"), nullable=True),
    Column("via", String(32), nullable=True),
    Index("holdings_item_party", "item", "party"),
)

releases = Table(
    "releases",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", Instant, nullable=False),
    Column("item", String(200), ForeignKey("items.id"), nullable=False),
    Column("from_party", String(32), nullable=False),
    Column("to_party", String(32), nullable=False),
    Column("via", String(32), nullable=True),
    Column("agreement", String(200), nullable=True),
)

consents = Table(
    "consents",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", Instant, nullable=False),
    Column("item", String(200), ForeignKey("items.id"), nullable=False),
    Column("by", String(32), nullable=False),
    Column("holder", String(32), nullable=False),
    Column("recipients", JSON, nullable=False),
    Column("granted", Boolean, nullable=False),
)

destructions = Table(
    "destructions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", Instant, nullable=False),
    Column("item", String(200), ForeignKey("items.id"), nullable=False),
    Column("party", String(32), nullable=False),
)

compromises = Table(
    "compromises",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", Instant, nullable=False),
    Column("item", String(200), ForeignKey("items.id"), nullable=False),
    Column("party", String(32), nullable=False),
    Column("description", Text, nullable=False),
)

# Art. 6(g), 6(h), 17: item retention, agreement deadlines, classification changes, investigation
# steps and release holds, one row per fact in the order recorded (``kind`` names its body)
article_facts = Table(
    "article_facts",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", Instant, nullable=True),
    Column("kind", String(32), nullable=False),
    Column("body", JSON, nullable=False),
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

# every checkpoint of a peer's log this node witnessed (cosigned), by tree size
node_peer_checkpoints = Table(
    "node_peer_checkpoints",
    metadata,
    Column("peer", String(200), nullable=False),
    Column("size", BigInteger, nullable=False, autoincrement=False),
    Column("note", Text, nullable=False),
    PrimaryKeyConstraint("peer", "size"),
)

# tables whose rows the audit log must explain (every other table is bookkeeping)
AUDITED = (
    topics,
    parties,
    agreements,
    agreement_events,
    matters,
    matter_states,
    users,
    items,
    holdings,
    releases,
    consents,
    destructions,
    compromises,
    article_facts,
    key_sets,
    wrapped_keys,
    api_tokens,
    checkpoints,
)
