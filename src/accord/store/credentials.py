"""Credentials: API tokens (stored only as slow salted hashes) and server secrets.

Also registers the TAXII tables (``accord.store.taxii``): importing this module from
``accord.store.sql`` is what adds both to ``accord.store.schema.metadata``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)

from accord.store import taxii as _taxii  # noqa: F401  (registers its tables)
from accord.store.schema import Instant, metadata

if TYPE_CHECKING:  # accord.store.sql imports this module to register its tables
    from accord.store.sql import StoreTx

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
    Index("api_tokens_user", "user"),
)

server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: str
    user: str
    salt: bytes
    hash: bytes
    admin: bool
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def add_token(tx: StoreTx, row: TokenRow) -> None:
    tx.conn.execute(
        insert(api_tokens).values(
            id=row.id,
            user=row.user,
            salt=row.salt,
            hash=row.hash,
            admin=row.admin,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )
    )


def _row(r: object) -> TokenRow:
    m = r._mapping  # type: ignore[attr-defined]
    return TokenRow(
        m["id"],
        m["user"],
        bytes(m["salt"]),
        bytes(m["hash"]),
        bool(m["admin"]),
        m["issued_at"],
        m["expires_at"],
        m["revoked_at"],
    )


def token(tx: StoreTx, token_id: str) -> TokenRow | None:
    r = tx.conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    return None if r is None else _row(r)


_REVOKED_AT = select(api_tokens.c.revoked_at).where(api_tokens.c.id == bindparam("id"))


def token_revoked_at(tx: StoreTx, token_id: str) -> tuple[bool, datetime | None]:
    """(exists, revoked_at) — the cheap check made on every request."""
    r = tx.conn.execute(_REVOKED_AT, {"id": token_id}).first()
    return (False, None) if r is None else (True, r[0])


def tokens(tx: StoreTx, user: str | None = None) -> list[TokenRow]:
    query = select(api_tokens).order_by(api_tokens.c.issued_at, api_tokens.c.id)
    if user is not None:
        query = query.where(api_tokens.c.user == user)
    return [_row(r) for r in tx.conn.execute(query)]


def revoke_token(tx: StoreTx, token_id: str, at: datetime) -> bool:
    """Mark a token revoked; False if there is no such token or it was already revoked."""
    result = tx.conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return bool(result.rowcount)


def secret(tx: StoreTx, name: str) -> bytes | None:
    value = tx.conn.execute(
        select(server_secrets.c.value).where(server_secrets.c.name == name)
    ).scalar()
    return None if value is None else bytes(value)


def add_secret(tx: StoreTx, name: str, value: bytes) -> None:
    """Store a secret (the transaction fails if another process stored one first)."""
    tx.conn.execute(insert(server_secrets).values(name=name, value=value))
