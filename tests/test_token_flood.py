"""A token is hashed once per process whatever its outcome: a repeated bad token costs a row
read, exactly as a repeated known-but-refused one does (so repeating says nothing about
existence); refused tokens never push out accepted ones; a wrong user id does not spoil the
token for the right one; and the gate checks one unaccepted token at a time per address, so a
burst of one bad token from many connections costs one slow hash."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest
from starlette.requests import HTTPConnection

from accord.api.auth import Gate
from accord.api.errors import TooManyRequests
from accord.api.workers import Workers
from accord.errors import Unauthenticated
from accord.service import Exchange
from accord.service.credentials import Credentials, Principal
from accord.service.throttle import FailureThrottle
from tests.test_taxii_support import LATER, Clock, scenario_exchange

BAD = "0123456789abcdef." + "A" * 43


class Counted(Credentials):
    """The real credentials, counting slow hashes and row reads (nothing replaced)."""

    def __init__(self, exchange: Exchange, **options: object) -> None:
        super().__init__(exchange, **options)  # type: ignore[arg-type]
        self.hashes = 0
        self.reads = 0
        self._count = threading.Lock()

    def _slow_verify(self, token: str) -> tuple[str, bool]:
        with self._count:
            self.hashes += 1
        return super()._slow_verify(token)

    def _read(self, token_id: str):  # type: ignore[no-untyped-def]
        with self._count:
            self.reads += 1
        return super()._read(token_id)

    def _row(self, token_id: str):  # type: ignore[no-untyped-def]
        with self._count:
            self.reads += 1
        return super()._row(token_id)


@pytest.fixture
def exchange(tmp_path: Path) -> Exchange:
    return scenario_exchange(tmp_path, Clock(LATER))[1]


def _refused(credentials: Credentials, token: str, user: str | None = None) -> None:
    with pytest.raises(Unauthenticated, match="invalid credentials"):
        credentials.verify(token, user)


def _issue(credentials: Credentials, user: str = "kor-analyst") -> str:
    from accord.model.time import Duration

    return credentials.issue(user, Duration.parse("P1D", "expires")).token


def test_a_repeated_bad_token_is_hashed_once(exchange: Exchange) -> None:
    credentials = Counted(exchange)
    for _ in range(5):
        _refused(credentials, BAD)
    assert credentials.hashes == 1
    assert not credentials.cached(BAD)


@pytest.mark.parametrize("kind", ["unknown id", "wrong secret", "revoked", "malformed"])
def test_repeats_of_any_refused_token_cost_the_same(exchange: Exchange, kind: str) -> None:
    credentials = Counted(exchange)
    token = _issue(credentials)
    token_id = token.split(".")[0]
    presented = {
        "unknown id": BAD,
        "wrong secret": f"{token_id}.{'A' * 43}",
        "revoked": token,
        "malformed": f"{token_id}.not base64",
    }[kind]
    if kind == "revoked":
        credentials.revoke(token_id)
    _refused(credentials, presented)
    assert credentials.hashes == 1
    before = credentials.reads
    _refused(credentials, presented)
    _refused(credentials, presented)
    assert credentials.hashes == 1  # no slow hash on a repeat, whatever the reason
    assert credentials.reads - before == 2  # one row read per repeat, whatever the reason
    assert not credentials.cached(presented)


def test_a_good_token_is_hashed_once_and_read_on_every_use(exchange: Exchange) -> None:
    credentials = Counted(exchange)
    token = _issue(credentials)
    principals = [credentials.verify(token) for _ in range(3)]
    assert principals == [principals[0]] * 3 and principals[0].user == "kor-analyst"
    assert credentials.hashes == 1 and credentials.cached(token)
    Credentials(exchange).revoke(token.split(".")[0])  # as from another process
    _refused(credentials, token)
    assert not credentials.cached(token)
    assert credentials.hashes == 1


def test_a_wrong_user_id_does_not_spoil_the_token(exchange: Exchange) -> None:
    credentials = Counted(exchange)
    token = _issue(credentials)
    _refused(credentials, token, "jpn-analyst")
    assert not credentials.cached(token)
    assert credentials.verify(token, "kor-analyst").user == "kor-analyst"
    assert credentials.cached(token) and credentials.hashes == 1


def test_refused_tokens_never_push_out_accepted_ones(exchange: Exchange) -> None:
    credentials = Counted(exchange, cache_limit=2)
    good = [_issue(credentials), _issue(credentials, "jpn-analyst")]
    for token in good:
        credentials.verify(token)
    for n in range(5):  # more distinct bad tokens than the cache holds
        _refused(credentials, f"{n:016x}.{'A' * 43}")
    assert [credentials.cached(t) for t in good] == [True, True]
    assert len(credentials._refused) == 2  # bounded too
    hashes = credentials.hashes
    _refused(credentials, f"{0:016x}.{'A' * 43}")  # pushed out of the refused table
    assert credentials.hashes == hashes + 1


def _connection(token: str, address: str) -> HTTPConnection:
    scope = {
        "type": "http",
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "client": (address, 40000),
    }
    return HTTPConnection(scope)


def _gate(credentials: Credentials, failures: int = 100) -> Gate:
    workers = Workers(4, 2, credentials.exchange_lock)
    return Gate(credentials, workers, FailureThrottle(failures, 600.0, 100), delay=0.0)


def test_a_burst_of_one_bad_token_from_one_address_is_hashed_once(exchange: Exchange) -> None:
    credentials = Counted(exchange)
    gate = _gate(credentials)
    outcomes: list[str] = []

    async def one() -> None:
        try:
            await gate.principal(_connection(BAD, "192.0.2.7"))
            outcomes.append("accepted")
        except Unauthenticated:
            outcomes.append("refused")

    async def burst() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(one)

    anyio.run(burst)
    assert outcomes == ["refused"] * 20
    assert credentials.hashes == 1
    assert gate._turns == {}  # nothing left behind


def test_unaccepted_tokens_of_one_address_take_turns(exchange: Exchange) -> None:
    credentials = Counted(exchange)
    good = _issue(credentials)
    gate = _gate(credentials, failures=3)
    results: list[object] = []
    running = [0, 0]  # now, most at once

    original = credentials.verify

    def watched(token: str, user: str | None = None) -> Principal:
        running[0] += 1
        running[1] = max(running)
        try:
            return original(token, user)
        finally:
            running[0] -= 1

    credentials.verify = watched  # type: ignore[method-assign]

    async def one(token: str, address: str) -> None:
        try:
            results.append((await gate.principal(_connection(token, address))).user)
        except (Unauthenticated, TooManyRequests) as error:
            results.append(type(error).__name__)

    async def burst() -> None:
        async with anyio.create_task_group() as group:
            for n in range(6):
                group.start_soon(one, f"{n:016x}.{'A' * 43}", "192.0.2.8")

    anyio.run(burst)
    assert running[1] == 1  # one at a time from that address
    assert sorted(map(str, results)) == ["TooManyRequests"] * 3 + ["Unauthenticated"] * 3
    assert credentials.hashes == 3  # the limit: the rest were never hashed
    results.clear()
    anyio.run(one, good, "192.0.2.9")  # another address is not held up
    assert results == ["kor-analyst"]
