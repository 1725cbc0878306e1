"""Stateless, signed pagination cursors.

A cursor names the last object of a page by its index key and is bound to the user, the API
root, the collection and the query (every filter and the limit, except ``next`` itself); it is
signed with HMAC-SHA256 under the server secret kept in the store, so it works in every process
and after restarts, and a cursor that was altered or used by someone else is refused (400).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable

from accord.api.errors import BadCursor

VERSION = 1


def query_digest(pairs: Iterable[tuple[str, str]]) -> str:
    """A digest of the query parameters other than ``next``, in a canonical order."""
    canonical = sorted((k, v) for k, v in pairs if k != "next")
    data = json.dumps(canonical, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:32]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.digest(self._secret, payload, "sha256")

    def sign(self, user: str, scope: str, digest: str, key: tuple[int, str]) -> str:
        payload = json.dumps(
            [VERSION, user, scope, digest, key[0], key[1]],
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def verify(self, token: str, user: str, scope: str, digest: str) -> tuple[int, str]:
        """The key a cursor names; ``BadCursor`` if it was altered or is not this user's for
        this collection and query."""
        problem = BadCursor("the next cursor is not valid for this request")
        text, sep, mac_text = token.partition(".")
        if not sep or len(token) > 2048:
            raise problem
        try:
            payload, mac = _unb64(text), _unb64(mac_text)
        except ValueError:
            raise problem from None
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise problem
        try:
            version, c_user, c_scope, c_digest, added, item = json.loads(payload)
        except (ValueError, TypeError):
            raise problem from None
        if (version, c_user, c_scope, c_digest) != (VERSION, user, scope, digest):
            raise problem
        if not isinstance(added, int) or not isinstance(item, str):
            raise problem
        return added, item
