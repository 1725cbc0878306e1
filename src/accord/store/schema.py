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
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

from accord.model.time import require_aware

SCHEMA_VERSION = "1"
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

users = Table(
    "users",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("party", String(32), ForeignKey("parties.code"), nullable=False),
    Column("clearance", Text, nullable=False),
    Column("need_to_know", JSON, nullable=False),
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
    Column("title", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("stix", JSON, nullable=True),
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
