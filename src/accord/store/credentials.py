"""Credentials: API tokens (stored only as slow salted hashes, each row bound by a MAC) and server
secrets. Token rows are audited: every insert and update is kept as a change, which the service
logs with the act (token issue, token revoke), so ``audit verify`` names a row edited since.

Also registers the TAXII tables (``accord.store.taxii``) and the live feed's
(``accord.store.feed``): importing this module from ``accord.store.sql`` is what adds them
to ``accord.store.schema.metadata``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    LargeBinary,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)

from accord.store import feed as _feed  # noqa: F401  (registers its table)
from accord.store import taxii as _taxii  # noqa: F401  (registers its tables)
from accord.store.images import Change, image
from accord.store.schema import Instant, api_tokens, metadata

if TYPE_CHECKING:  # accord.store.sql imports this module to register its tables
    from accord.store.sql import StoreTx

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
    mac: bytes | None = None  # over every other field (``service.credentials``)


def _values(row: TokenRow) -> dict[str, object]:
    return {
        "id": row.id,
        "user": row.user,
        "salt": row.salt,
        "hash": row.hash,
        "admin": row.admin,
        "issued_at": row.issued_at,
        "expires_at": row.expires_at,
        "revoked_at": row.revoked_at,
        "mac": row.mac,
    }


def add_token(tx: StoreTx, row: TokenRow) -> None:
    values = _values(row)
    tx.conn.execute(insert(api_tokens).values(**values))
    tx.changes.append(Change("api_tokens", "insert", image(api_tokens, values)))


def set_token(tx: StoreTx, row: TokenRow) -> None:
    """Rewrite a token's row (its revocation and MAC), kept as a change for the log."""
    values = _values(row)
    tx.conn.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(**values))
    tx.changes.append(Change("api_tokens", "update", image(api_tokens, values)))


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
        None if m["mac"] is None else bytes(m["mac"]),
    )


def token(tx: StoreTx, token_id: str) -> TokenRow | None:
    r = tx.conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    return None if r is None else _row(r)


def tokens(tx: StoreTx, user: str | None = None) -> list[TokenRow]:
    query = select(api_tokens).order_by(api_tokens.c.issued_at, api_tokens.c.id)
    if user is not None:
        query = query.where(api_tokens.c.user == user)
    return [_row(r) for r in tx.conn.execute(query)]


def secret(tx: StoreTx, name: str) -> bytes | None:
    value = tx.conn.execute(
        select(server_secrets.c.value).where(server_secrets.c.name == name)
    ).scalar()
    return None if value is None else bytes(value)


def add_secret(tx: StoreTx, name: str, value: bytes) -> None:
    """Store a secret (the transaction fails if another process stored one first)."""
    tx.conn.execute(insert(server_secrets).values(name=name, value=value))


# The web console's sessions when several processes serve one store: the SHA-256 of each session
# id (never the id), who it speaks for and its expiry. Bookkeeping, not audited: a session is no
# act, and a removed row only signs someone out.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("digest", LargeBinary, primary_key=True),
    Column("user", String(200), nullable=False),
    Column("party", String(32), nullable=False),
    Column("token_id", String(64), nullable=False),
    Column("admin", Boolean, nullable=False),
    Column("expires_at", Instant, nullable=False),
    Index("console_sessions_expiry", "expires_at"),
)


@dataclass(frozen=True, slots=True)
class SessionRow:
    digest: bytes
    user: str
    party: str
    token_id: str
    admin: bool
    expires_at: datetime


def add_session(tx: StoreTx, row: SessionRow, now: datetime, limit: int) -> None:
    """Keep a session, first forgetting the expired ones and, past ``limit``, the oldest."""
    c = console_sessions.c
    tx.conn.execute(delete(console_sessions).where(c.expires_at <= now))
    held = int(tx.conn.execute(select(func.count()).select_from(console_sessions)).scalar_one())
    if held >= limit:
        oldest = select(c.digest).order_by(c.expires_at, c.digest).limit(held - limit + 1)
        tx.conn.execute(delete(console_sessions).where(c.digest.in_(oldest.scalar_subquery())))
    tx.conn.execute(
        insert(console_sessions).values(
            digest=row.digest,
            user=row.user,
            party=row.party,
            token_id=row.token_id,
            admin=row.admin,
            expires_at=row.expires_at,
        )
    )


def session(tx: StoreTx, digest: bytes) -> SessionRow | None:
    r = tx.conn.execute(
        select(console_sessions).where(console_sessions.c.digest == digest)
    ).one_or_none()
    if r is None:
        return None
    return SessionRow(bytes(r.digest), r.user, r.party, r.token_id, bool(r.admin), r.expires_at)


def delete_session(tx: StoreTx, digest: bytes) -> None:
    tx.conn.execute(delete(console_sessions).where(console_sessions.c.digest == digest))


def session_count(tx: StoreTx) -> int:
    query = select(func.count()).select_from(console_sessions)
    return int(tx.conn.execute(query).scalar_one())
