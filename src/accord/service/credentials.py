"""API credentials: tokens shown once and stored only as slow salted hashes, and server secrets.

A token is ``<token-id>.<secret>``: the id finds the row, the secret is checked against its
scrypt hash in constant time. Unknown ids, wrong secrets, revoked and expired tokens all raise the
same ``Unauthenticated`` after the same slow hash, so neither the answer nor its timing says which.
A successful check is cached in this process (keyed by a keyed hash of the presented token), so
the slow hash runs once per token per process; revocation is still checked on every use, by id,
so a token revoked from another process stops working at once.

Token validity is measured on the real clock, never on an exchange's frozen one (``accord serve
--at``): a frozen view of 2019 must not make a token issued today look unexpired forever.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from accord.errors import InvalidInput, StoreError, Unauthenticated
from accord.model.time import Duration, add_on_wall_clock, iso, require_aware
from accord.service.exchange import Exchange, system_clock
from accord.store import credentials as store

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
SECRET_BYTES = 32
_SECRET_CHARS = -(-SECRET_BYTES * 4 // 3)  # unpadded base64 of SECRET_BYTES bytes
_DUMMY_SALT = b"accord-no-such-token"
CURSOR_SECRET = "taxii-cursor"
CACHE_LIMIT = 10_000


def _scrypt(secret: bytes, salt: bytes) -> bytes:
    return hashlib.scrypt(
        secret, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32, maxmem=64 * 1024 * 1024
    )


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified token speaks for."""

    user: str
    party: str
    token_id: str
    admin: bool


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token_id: str
    token: str  # shown once; never stored
    user: str
    admin: bool
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenInfo:
    token_id: str
    user: str
    admin: bool
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class _Verified:
    user: str
    token_id: str
    admin: bool
    expires_at: datetime | None


class Credentials:
    """Issue, revoke and verify API tokens of an exchange's users."""

    def __init__(self, exchange: Exchange, clock: Callable[[], datetime] = system_clock) -> None:
        self.exchange = exchange
        self.clock = clock
        self._cache_key = secrets.token_bytes(32)
        self._cache: dict[bytes, _Verified] = {}
        self._secrets: dict[str, bytes] = {}

    def now(self) -> datetime:
        return require_aware(self.clock(), "clock")

    # --- issuing --------------------------------------------------------------------------------

    def issue(self, user_id: str, expires: Duration, *, admin: bool = False) -> IssuedToken:
        """A new token for ``user_id``, valid for ``expires`` from now (real time)."""
        self.exchange.snapshot().user(user_id)  # raises UnknownReference
        now = self.now()
        expires_at = add_on_wall_clock(now, expires, ZoneInfo("UTC"))
        token_id = secrets.token_hex(8)
        secret = secrets.token_bytes(SECRET_BYTES)
        salt = secrets.token_bytes(SALT_BYTES)
        row = store.TokenRow(
            token_id, user_id, salt, _scrypt(secret, salt), admin, now, expires_at, None
        )
        with self.exchange._writer() as s:  # the token's row and its log entry (R12), together
            store.add_token(s.tx, row)
            subject = {"user": user_id, "token": token_id, "admin": admin}
            self.exchange._log(s, "token-issue", now, {**subject, "expires_at": iso(expires_at)})
        text = encode_secret(secret)
        return IssuedToken(token_id, f"{token_id}.{text}", user_id, admin, now, expires_at)

    def revoke(self, token_id: str) -> TokenInfo:
        now = self.now()
        with self.exchange._writer() as s:
            row = store.token(s.tx, token_id)
            if row is None:
                raise InvalidInput(f"no token {token_id!r}")
            store.revoke_token(s.tx, token_id, now)
            row = store.token(s.tx, token_id)
            assert row is not None
            self.exchange._log(s, "token-revoke", now, {"user": row.user, "token": token_id})
        return _info(row)

    def tokens(self, user_id: str | None = None) -> list[TokenInfo]:
        with self.exchange.store.transaction() as tx:
            return [_info(row) for row in store.tokens(tx, user_id)]

    # --- verifying ------------------------------------------------------------------------------

    def verify(self, token: str, user_id: str | None = None) -> Principal:
        """The principal of a presented token (and, with HTTP Basic, the user id it came with)."""
        now = self.now()
        key = hmac.digest(self._cache_key, token.encode("utf-8", "surrogatepass"), "sha256")
        verified = self._cache.get(key)
        if verified is None:
            verified = self._slow_verify(token, now)
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = verified
        elif not self._still_valid(verified, now):
            self._cache.pop(key, None)
            raise Unauthenticated("invalid credentials")
        if user_id is not None and not hmac.compare_digest(
            user_id.encode("utf-8", "surrogatepass"), verified.user.encode("utf-8")
        ):
            raise Unauthenticated("invalid credentials")
        user = self.exchange.snapshot().users.get(verified.user)
        if user is None:
            raise Unauthenticated("invalid credentials")
        return Principal(user.id, user.party, verified.token_id, verified.admin)

    def _still_valid(self, verified: _Verified, now: datetime) -> bool:
        if verified.expires_at is not None and now >= verified.expires_at:
            return False
        with self.exchange.store.transaction() as tx:
            exists, revoked_at = store.token_revoked_at(tx, verified.token_id)
        return exists and revoked_at is None

    def _slow_verify(self, token: str, now: datetime) -> _Verified:
        token_id, _, text = token.partition(".")
        secret = canonical_secret(text)
        row = None
        if token_id and len(token_id) <= 64 and token_id.isascii():
            with self.exchange.store.transaction() as tx:
                row = store.token(tx, token_id)
        salt, expected = (row.salt, row.hash) if row is not None else (_DUMMY_SALT, b"\0" * 32)
        actual = _scrypt(secret, salt)  # always: an unknown id costs the same as a wrong secret
        ok = hmac.compare_digest(actual, expected) and row is not None
        if not ok or row is None or row.revoked_at is not None:
            raise Unauthenticated("invalid credentials")
        if row.expires_at is not None and now >= row.expires_at:
            raise Unauthenticated("invalid credentials")
        return _Verified(row.user, row.id, row.admin, row.expires_at)

    # --- server secrets -------------------------------------------------------------------------

    def secret(self, name: str = CURSOR_SECRET) -> bytes:
        """A 32-byte secret generated once and kept in the store, shared by every process."""
        cached = self._secrets.get(name)
        if cached is not None:
            return cached
        with self.exchange.store.transaction() as tx:
            value = store.secret(tx, name)
        if value is None:
            candidate = secrets.token_bytes(32)
            try:
                with self.exchange.store.transaction() as tx:
                    store.add_secret(tx, name, candidate)
                value = candidate
            except StoreError:  # another process stored it first: use theirs
                with self.exchange.store.transaction() as tx:
                    value = store.secret(tx, name)
        if value is None:
            raise StoreError("the server secret could not be stored")
        self._secrets[name] = value
        return value


def encode_secret(secret: bytes) -> str:
    """The one spelling of a token secret: unpadded base64url (RFC 4648 section 5)."""
    return base64.urlsafe_b64encode(secret).rstrip(b"=").decode("ascii")


def canonical_secret(text: str) -> bytes:
    """The secret bytes of ``text`` when it is exactly their one spelling, else ``b""``.

    Base64 admits several spellings of the same bytes (the other alphabet, padding, unused low
    bits in the last character, trailing junk); a token is accepted in exactly one of them, so
    anything else decodes to a secret that matches no token (and still costs a full scrypt).
    """
    if len(text) != _SECRET_CHARS or not text.isascii():
        return b""
    try:
        secret = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except ValueError:
        return b""
    return secret if encode_secret(secret) == text else b""


def _info(row: store.TokenRow) -> TokenInfo:
    return TokenInfo(row.id, row.user, row.admin, row.issued_at, row.expires_at, row.revoked_at)
