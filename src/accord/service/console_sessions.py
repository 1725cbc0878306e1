"""Signed-in sessions of the web console, held server-side in a bounded table.

A session id is 32 random bytes (base64url) given to the browser once, in its cookie; the table
keeps only the SHA-256 of it, so a copy of the table (a memory dump, a log) signs nobody in.
Each session carries its principal (who the token spoke for), its CSRF token and its expiry on
the real clock; an expired session is forgotten when it is next asked for. At most ``limit``
sessions are held (the oldest is dropped first). Sessions live in this process: a restart signs
everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from accord.model.time import require_aware
from accord.service.credentials import Principal
from accord.service.exchange import system_clock

SESSION_BYTES = 32


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
