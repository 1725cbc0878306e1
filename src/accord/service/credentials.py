"""API credentials: tokens shown once and stored only as slow salted hashes, and server secrets.

A token is ``<token-id>.<secret>``: the id finds the row, the secret is checked against its
scrypt hash in constant time. Unknown ids, wrong secrets, revoked and expired tokens all raise the
same ``Unauthenticated`` after the same slow hash, so neither the answer nor its timing says which.

Every token row carries a MAC (HMAC-SHA256 over all its fields) under a key derived from the
exchange's own key set, which only the master key opens: a token is a fact the exchange (the
node) vouches for itself. The MAC is checked on every use, so a row edited or inserted in the
store (revocation cleared, expiry moved, admin granted) grants nothing: it is refused as an
integrity failure (``IntegrityError``; the API answers 500 with no detail) and logged. The rows
are audited too, so ``accord audit verify`` names the edit.

The slow hash runs once per presented token per process, whatever its outcome. A token whose
secret matched its row is remembered with its id (an LRU of ``cache_limit`` entries keyed by a
keyed hash of the presented token); its row is still read and its MAC, revocation, expiry and
user checked on every use, so a token revoked from another process stops working at once. A
token whose secret matched no row is remembered as refused (a second LRU of ``cache_limit``, so
a flood of distinct bad tokens never pushes out a good one): presented again, it costs the same
row read as a known token and no hash. A known token that is refused (revoked, expired, its row
edited, the wrong user) is answered the same way, so repeating a token says nothing about
whether it exists: every repeat is one row read, every first try one slow hash. ``cached``
says only whether a token was accepted the last time it was checked (the API lets those skip
the failure throttle).

Thread-safe: the exchange is used only under ``exchange_lock`` (which the API's worker threads
share), and the slow hash runs outside it, so bad tokens never hold up the exchange.

Token validity is measured on the real clock, never on an exchange's frozen one (``accord serve
--at``): a frozen view of 2019 must not make a token issued today look unexpired forever.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from accord.crypto.keys import EXCHANGE
from accord.crypto.master import hkdf_sha256
from accord.errors import IntegrityError, InvalidInput, StoreError, Unauthenticated
from accord.model.taint import SubjectKind
from accord.model.time import Duration, add_on_wall_clock, iso, require_aware
from accord.service.exchange import Exchange, system_clock
from accord.store import credentials as store

log = logging.getLogger("accord.credentials")

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
SECRET_BYTES = 32
_SECRET_CHARS = -(-SECRET_BYTES * 4 // 3)  # unpadded base64 of SECRET_BYTES bytes
_DUMMY_SALT = b"accord-no-such-token"
CURSOR_SECRET = "taxii-cursor"
CACHE_LIMIT = 10_000
MAC_INFO = b"accord token-row mac v1"


def _scrypt(secret: bytes, salt: bytes) -> bytes:
    return hashlib.scrypt(
        secret, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32, maxmem=64 * 1024 * 1024
    )


def row_mac(key: bytes, row: store.TokenRow) -> bytes:
    """HMAC-SHA256 over every field of a token row but the MAC itself."""
    fields = [
        row.id,
        row.user,
        row.salt.hex(),
        row.hash.hex(),
        row.admin,
        iso(row.issued_at),
        iso(row.expires_at) if row.expires_at else None,
        iso(row.revoked_at) if row.revoked_at else None,
    ]
    return hmac.digest(key, json.dumps(fields, separators=(",", ":")).encode(), "sha256")


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


class Credentials:
    """Issue, revoke and verify API tokens of an exchange's users."""

    def __init__(
        self,
        exchange: Exchange,
        clock: Callable[[], datetime] = system_clock,
        *,
        cache_limit: int = CACHE_LIMIT,
        exchange_lock: threading.RLock | None = None,
    ) -> None:
        self.exchange = exchange
        self.clock = clock
        self.exchange_lock = exchange_lock or threading.RLock()
        self.cache_limit = cache_limit
        self._cache_key = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, str] = OrderedDict()  # token digest -> token id
        # token digest -> its row's id when the secret matched (refused on its last use), or
        # the id it named when it matched no row
        self._refused: OrderedDict[bytes, tuple[str, bool]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._secrets: dict[str, bytes] = {}
        self._mac_key: bytes | None = None

    def now(self) -> datetime:
        return require_aware(self.clock(), "clock")

    # --- the MAC key ----------------------------------------------------------------------------

    def _key(self, s: object) -> bytes:
        """The token-row MAC key: derived from the exchange's first key set (sealed under the
        master key), so it survives master-key rotation and no one without the master key has it."""
        if self._mac_key is None:
            tx, revision = s.tx, s.revision  # type: ignore[attr-defined]
            keys = self.exchange.vault.keyring(tx, revision).get(EXCHANGE, 1)
            self._mac_key = hkdf_sha256(keys.ed25519.private_bytes_raw(), MAC_INFO)
        return self._mac_key

    # --- issuing --------------------------------------------------------------------------------

    def issue(self, user_id: str, expires: Duration, *, admin: bool = False) -> IssuedToken:
        """A new token for ``user_id``, valid for ``expires`` from now (real time)."""
        now = self.now()
        expires_at = add_on_wall_clock(now, expires, ZoneInfo("UTC"))
        token_id = secrets.token_hex(8)
        secret = secrets.token_bytes(SECRET_BYTES)
        salt = secrets.token_bytes(SALT_BYTES)
        row = store.TokenRow(
            token_id, user_id, salt, _scrypt(secret, salt), admin, now, expires_at, None
        )
        with self.exchange_lock:
            self.exchange.snapshot().user(user_id)  # raises UnknownReference
            with self.exchange.session(write=True) as s:  # the token's row and its log entry (R12)
                store.add_token(s.tx, replace(row, mac=row_mac(self._key(s), row)))
                subject = {"user": user_id, "token": token_id, "admin": admin}
                s.log("token-issue", now, {**subject, "expires_at": iso(expires_at)})
        text = encode_secret(secret)
        return IssuedToken(token_id, f"{token_id}.{text}", user_id, admin, now, expires_at)

    def revoke(self, token_id: str) -> TokenInfo:
        now = self.now()
        with self.exchange_lock, self.exchange.session(write=True) as s:
            row = store.token(s.tx, token_id)
            if row is None:
                raise InvalidInput(f"no token {token_id!r}")
            if row.revoked_at is None:
                row = replace(row, revoked_at=now)
                store.set_token(s.tx, replace(row, mac=row_mac(self._key(s), row)))
            s.log("token-revoke", now, {"user": row.user, "token": token_id})
        return _info(row)

    def tokens(self, user_id: str | None = None) -> list[TokenInfo]:
        with self.exchange_lock, self.exchange.store.transaction() as tx:
            return [_info(row) for row in store.tokens(tx, user_id)]

    # --- verifying ------------------------------------------------------------------------------

    def _digest(self, token: str) -> bytes:
        return hmac.digest(self._cache_key, token.encode("utf-8", "surrogatepass"), "sha256")

    def cached(self, token: str) -> bool:
        """Whether this process verified ``token`` recently (no slow hash needed to check it)."""
        with self._cache_lock:
            return self._digest(token) in self._cache

    def verify(self, token: str, user_id: str | None = None) -> Principal:
        """The principal of a presented token (and, with HTTP Basic, the user id it came with)."""
        now = self.now()
        key = self._digest(token)
        token_id, matched = self._seen(key)
        if token_id is None:
            token_id, matched = self._slow_verify(token)
        if not matched:  # the same row read a known token costs, then the same refusal
            self._read(token_id)
            self._remember(key, token_id, False)
            raise Unauthenticated("invalid credentials")
        try:
            principal = self._principal(token_id, user_id, now)
        except Unauthenticated:
            self._remember(key, token_id, True, accepted=False)
            raise
        self._remember(key, token_id, True, accepted=True)
        return principal

    def _seen(self, key: bytes) -> tuple[str | None, bool]:
        """(token id, whether its secret matched) of a token checked before; (None, False)
        for one never seen."""
        with self._cache_lock:
            token_id = self._cache.get(key)
            if token_id is not None:
                self._cache.move_to_end(key)
                return token_id, True
            refused = self._refused.get(key)
            if refused is not None:
                self._refused.move_to_end(key)
                return refused
        return None, False

    def _remember(
        self, key: bytes, token_id: str, matched: bool, *, accepted: bool = False
    ) -> None:
        with self._cache_lock:
            if accepted:
                self._refused.pop(key, None)
                self._cache[key] = token_id
                _bound(self._cache, key, self.cache_limit)
            else:
                self._cache.pop(key, None)
                self._refused[key] = (token_id, matched)
                _bound(self._refused, key, self.cache_limit)

    def _row(self, token_id: str) -> store.TokenRow | None:
        """The token's row when its MAC holds; an edited or inserted row grants nothing: it is
        logged and refused as an integrity failure (the API answers 500, with no detail)."""
        with self.exchange_lock:
            if self._mac_key is None:
                with self.exchange.session(write=False) as s:
                    self._key(s)
            assert self._mac_key is not None
            with self.exchange.store.transaction() as tx:
                row = store.token(tx, token_id)
        if row is None:
            return None
        expected = row_mac(self._mac_key, row)
        if row.mac is None or not hmac.compare_digest(row.mac, expected):
            error = IntegrityError(f"token row {token_id!r} fails its MAC: it was edited")
            log.error("refused a token: %s", error.message)
            raise error
        return row

    def _principal(self, token_id: str, user_id: str | None, now: datetime) -> Principal:
        row = self._row(token_id)
        if row is None or row.revoked_at is not None:
            raise Unauthenticated("invalid credentials")
        if row.expires_at is not None and now >= row.expires_at:
            raise Unauthenticated("invalid credentials")
        if user_id is not None and not hmac.compare_digest(
            user_id.encode("utf-8", "surrogatepass"), row.user.encode("utf-8")
        ):
            raise Unauthenticated("invalid credentials")
        with self.exchange_lock:
            world = self.exchange.snapshot()
        world.check_sound([(SubjectKind.USER, row.user)])  # a user whose fact failed: integrity
        user = world.users.get(row.user)
        if user is None:
            raise Unauthenticated("invalid credentials")
        return Principal(user.id, user.party, row.id, row.admin)

    def live(self, principal: Principal) -> bool:
        """Whether the token ``principal`` signed in with still holds now: its row's MAC holds,
        it is not revoked and not expired (a console session ends with its token). Reads the
        store without the exchange's lock, so a long verification does not hold it up."""
        if self._mac_key is None:
            with self.exchange_lock, self.exchange.session(write=False) as s:
                self._key(s)
        assert self._mac_key is not None
        with self.exchange.store.transaction() as tx:
            row = store.token(tx, principal.token_id)
        now = self.now()
        return (
            row is not None
            and row.mac is not None
            and hmac.compare_digest(row.mac, row_mac(self._mac_key, row))
            and row.user == principal.user
            and row.revoked_at is None
            and (row.expires_at is None or now < row.expires_at)
        )

    def _read(self, token_id: str) -> store.TokenRow | None:
        """The row a presented token id names, if it is one a token could have."""
        if not (token_id and len(token_id) <= 64 and token_id.isascii()):
            return None
        with self.exchange_lock, self.exchange.store.transaction() as tx:
            return store.token(tx, token_id)

    def _slow_verify(self, token: str) -> tuple[str, bool]:
        """(The token id it names, whether its secret matches that row's hash); validity is
        checked after."""
        token_id, _, text = token.partition(".")
        secret = canonical_secret(text)
        row = self._read(token_id)
        salt, expected = (row.salt, row.hash) if row is not None else (_DUMMY_SALT, b"\0" * 32)
        actual = _scrypt(secret, salt)  # always: an unknown id costs the same as a wrong secret
        if row is None or not hmac.compare_digest(actual, expected):
            return token_id, False
        return row.id, True

    # --- server secrets -------------------------------------------------------------------------

    def secret(self, name: str = CURSOR_SECRET) -> bytes:
        """A 32-byte secret generated once and kept in the store, shared by every process."""
        cached = self._secrets.get(name)
        if cached is not None:
            return cached
        with self.exchange_lock:
            value = self._stored_secret(name)
        self._secrets[name] = value
        return value

    def _stored_secret(self, name: str) -> bytes:
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
        return value


def _bound(table: OrderedDict[bytes, Any], key: bytes, limit: int) -> None:
    """``key`` made the most recent entry of an LRU, the least recent dropped past ``limit``."""
    table.move_to_end(key)
    while len(table) > limit:
        table.popitem(last=False)


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
