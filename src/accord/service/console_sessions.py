"""Signed-in sessions of the web console, held server-side in a bounded table.

A session id is 32 random bytes (base64url) given to the browser once, in its cookie; the table
keeps only the SHA-256 of it, so a copy of the table (a memory dump, a log) signs nobody in.
Each session carries its principal (who the token spoke for), its CSRF token and its expiry on
the real clock; an expired session is forgotten when it is next asked for. At most ``limit``
sessions are held (the oldest is dropped first). ``ConsoleSessions`` keeps them in this process
(a restart signs everyone out); ``StoredSessions`` keeps them in the store, so that every process
serving one store (``accord serve --workers N``) knows every session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from accord.model.time import require_aware
from accord.service.credentials import Credentials, Principal
from accord.service.exchange import system_clock
from accord.store import credentials as store

SESSION_BYTES = 32
CSRF_SECRET = "console-csrf"


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    principal: Principal
    csrf: str
    expires_at: datetime

    def csrf_matches(self, presented: str | None) -> bool:
        """Whether ``presented`` is this session's CSRF token (compared in constant time)."""
        if not presented:
            return False
        return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), self.csrf.encode())


def _digest(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).digest()


class ConsoleSessions:
    """Open, look up and close console sessions; ``ttl`` is each session's lifetime."""

    def __init__(
        self,
        ttl: timedelta = timedelta(hours=8),
        limit: int = 10_000,
        clock: Callable[[], datetime] = system_clock,
    ) -> None:
        if ttl <= timedelta(0) or limit < 1:
            raise ValueError("ttl and limit must be positive")
        self.ttl = ttl
        self.limit = limit
        self.clock = clock
        self._sessions: OrderedDict[bytes, ConsoleSession] = OrderedDict()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return require_aware(self.clock(), "clock")

    def open(self, principal: Principal) -> tuple[str, ConsoleSession]:
        """A new session for ``principal``: its id (for the cookie, never stored) and itself."""
        session_id = secrets.token_urlsafe(SESSION_BYTES)
        session = ConsoleSession(principal, secrets.token_urlsafe(32), self.now() + self.ttl)
        with self._lock:
            self._sessions[_digest(session_id)] = session
            while len(self._sessions) > self.limit:
                self._sessions.popitem(last=False)
        return session_id, session

    def get(self, session_id: str | None) -> ConsoleSession | None:
        """The live session of ``session_id``, or None (unknown, expired or signed out)."""
        if not session_id or len(session_id) > 128:
            return None
        key = _digest(session_id)
        now = self.now()
        with self._lock:
            session = self._sessions.get(key)
            if session is not None and now >= session.expires_at:
                del self._sessions[key]
                return None
        return session

    def close(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._sessions.pop(_digest(session_id), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)


class Sessions(Protocol):
    """What the console asks of its sessions, wherever they are kept."""

    def open(self, principal: Principal) -> tuple[str, ConsoleSession]: ...

    def get(self, session_id: str | None) -> ConsoleSession | None: ...

    def close(self, session_id: str | None) -> None: ...

    def __len__(self) -> int: ...


class StoredSessions:
    """Console sessions kept in the store (``console_sessions``: the SHA-256 of each id, the
    principal, the expiry), shared by every process on it. The CSRF token is not stored: it is
    the HMAC-SHA256 of the session id under a server secret kept in the store, so every process
    derives the same one and a copy of the table yields none."""

    def __init__(
        self,
        credentials: Credentials,
        ttl: timedelta = timedelta(hours=8),
        limit: int = 10_000,
        clock: Callable[[], datetime] = system_clock,
    ) -> None:
        if ttl <= timedelta(0) or limit < 1:
            raise ValueError("ttl and limit must be positive")
        self.store = credentials.exchange.store
        self.ttl = ttl
        self.limit = limit
        self.clock = clock
        self._csrf_key = credentials.secret(CSRF_SECRET)  # now: never on a request

    def now(self) -> datetime:
        return require_aware(self.clock(), "clock")

    def _csrf(self, session_id: str) -> str:
        mac = hmac.new(self._csrf_key, session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def open(self, principal: Principal) -> tuple[str, ConsoleSession]:
        session_id = secrets.token_urlsafe(SESSION_BYTES)
        now = self.now()
        p = principal
        row = store.SessionRow(
            _digest(session_id), p.user, p.party, p.token_id, p.admin, now + self.ttl
        )
        with self.store.transaction() as tx:
            store.add_session(tx, row, now, self.limit)
        return session_id, ConsoleSession(principal, self._csrf(session_id), row.expires_at)

    def get(self, session_id: str | None) -> ConsoleSession | None:
        """The live session of ``session_id``, or None (unknown, expired or signed out)."""
        if not session_id or len(session_id) > 128:
            return None
        with self.store.transaction() as tx:
            row = store.session(tx, _digest(session_id))
        if row is None or self.now() >= row.expires_at:
            return None
        principal = Principal(row.user, row.party, row.token_id, row.admin)
        return ConsoleSession(principal, self._csrf(session_id), row.expires_at)

    def close(self, session_id: str | None) -> None:
        if session_id:
            with self.store.transaction() as tx:
                store.delete_session(tx, _digest(session_id))

    def __len__(self) -> int:
        with self.store.transaction() as tx:
            return store.session_count(tx)
