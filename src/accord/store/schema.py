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
    node_identity,
    node_peers,
)
