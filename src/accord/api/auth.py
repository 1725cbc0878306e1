"""HTTP Basic (user id + token) or Bearer token; every failure is the same 401.

``Gate`` is what every request passes: credentials are parsed on the event loop (cheap), then
verified in a worker thread (the slow hash never runs on the loop). A client address with too
many recent failures gets 429 with ``Retry-After`` for any token this process has not already
verified, before anything is hashed, and that answer is held back ``delay`` seconds (the
coroutine sleeps; no thread is held), so a flooding connection asks at most once per ``delay``
and costs a table lookup each time.

A token not accepted before is checked one at a time per client address (the others from that
address wait their turn on the loop, holding no thread): a burst from one address costs at most
one core, and a burst of one token one slow hash (the credentials remember its outcome, so the
rest of the burst costs a row read each), however many connections carry it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from starlette.requests import HTTPConnection

from accord.api.errors import TooManyRequests
from accord.api.workers import Workers
from accord.errors import Unauthenticated
from accord.service.credentials import Credentials, Principal
from accord.service.throttle import FailureThrottle

CHALLENGE = 'Basic realm="accord", charset="UTF-8", Bearer realm="accord"'


def parse(header: str | None) -> tuple[str, str | None]:
    """(token, user id or None) of an ``Authorization`` header."""
    if not header:
        raise Unauthenticated("no credentials")
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return value, None
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise Unauthenticated("malformed credentials") from None
        user, sep, token = decoded.partition(":")
        if sep and user and token:
            return token, user
    raise Unauthenticated("malformed credentials")


def authenticate(credentials: Credentials, header: str | None) -> Principal:
    """Verify in the calling thread (the CLI and tests; the server uses ``Gate``)."""
    token, user = parse(header)
    return credentials.verify(token, user)


class Gate:
    """Authentication off the event loop, with failed attempts limited per client address."""

    def __init__(
        self,
        credentials: Credentials,
        workers: Workers,
        throttle: FailureThrottle,
        delay: float = 1.0,
    ) -> None:
        self.credentials = credentials
        self.workers = workers
        self.throttle = throttle
        self.delay = delay
        self._turns: dict[str, tuple[anyio.Lock, int]] = {}  # address -> its lock, waiters

    async def principal(self, connection: HTTPConnection) -> Principal:
        token, user = parse(connection.headers.get("authorization"))
        if self.credentials.cached(token):  # no slow hash: never queued behind one
            return await self.workers.exchange(self.credentials.verify, token, user)
        address = connection.client.host if connection.client else "-"
        async with self._turn(address):
            if self.credentials.cached(token):  # accepted while this one waited its turn
                return await self.workers.exchange(self.credentials.verify, token, user)
            wait = self.throttle.retry_after(address)
            if wait is None:
                self.throttle.failed(address)  # counted before hashing, forgiven if it verifies
                principal = await self.workers.hashing(self.credentials.verify, token, user)
                self.throttle.forgive(address)
                return principal
        await anyio.sleep(min(self.delay, wait))  # held back outside the turn
        raise TooManyRequests("too many failed authentications; try again later", wait)

    @asynccontextmanager
    async def _turn(self, address: str) -> AsyncIterator[None]:
        """One unaccepted token checked at a time per address; the table holds only addresses
        with a check running or waiting (bounded by the open connections)."""
        lock, waiting = self._turns.get(address) or (anyio.Lock(), 0)
        self._turns[address] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._turns[address]
            if waiting == 1:
                del self._turns[address]
            else:
                self._turns[address] = (lock, waiting - 1)
