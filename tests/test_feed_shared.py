"""Shared feed reads (``accord.api.feed_reads``): the streams of one user at one position share
one store read, and each stream still gets exactly its own sequence; different users never
share; each resume point reads on from its own position. Real store (SQLite), real worker
threads, the API's own read of a page; the expected sequences come from the feed service read
for each subscriber alone."""

from __future__ import annotations

import asyncio
import functools
import json
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.api.context import Server
from accord.api.feed import _read
from accord.api.settings import ApiSettings
from accord.model.feed import FeedCursor
from accord.model.requests import ReleaseRequest
from accord.service import Exchange
from accord.service.credentials import Credentials
from tests.feeds import LATE, START, define, item

SUBSCRIBERS = ("kor-analyst", "jpn-analyst", "usa-analyst", "jpn-junior")
Key = tuple[str, int, int]


def _server() -> Server:
    exchange = define(Exchange.open("sqlite://", lambda: LATE))
    for n in range(1, 7):
        exchange.add_item(item(n))
        at = START + timedelta(minutes=n, seconds=30)
        exchange.release(ReleaseRequest(f"feed-item-{n}", "KOR", "JPN"), at)
        if n % 2 == 0:
            exchange.release(ReleaseRequest(f"feed-item-{n}", "KOR", "USA"), at)
    return Server(ApiSettings("sqlite://"), exchange, Credentials(exchange))


@pytest.fixture(scope="module")
def server() -> Server:
    return _server()


def _gathered(server: Server, keys: list[Key]) -> list[object]:
    """Every subscriber's read issued at once (one drain: nothing runs in between)."""

    async def main() -> list[object]:
        reads = server.feed_reads
        calls = [reads.read(key, functools.partial(_read, server, *key)) for key in keys]
        return list(await asyncio.gather(*calls, return_exceptions=True))

    return asyncio.run(main())


def _sequence(result: object) -> list[tuple[str, str]]:
    """The (cursor, item) of each event a page delivered, read back from its SSE bytes."""
    assert isinstance(result, tuple)
    chunks, _, _ = result
    found = []
    for _, chunk in chunks:
        data = json.loads(chunk.decode().split("data: ", 1)[1])
        found.append((data["cursor"], data["item"]))
    return found


def _own(server: Server, user: str, after: int, page: int) -> list[tuple[str, str]]:
    batch = server.feed.fetch(user, after, page, LATE)
    return [(FeedCursor(user, e.n).text(), e.item) for e in batch.events]


def test_streams_of_one_user_at_one_position_share_one_read(server: Server) -> None:
    before = server.feed_reads.runs
    results = _gathered(server, [("jpn-analyst", 0, 100)] * 25)
    assert server.feed_reads.runs - before == 1
    expected = _own(server, "jpn-analyst", 0, 100)
    assert len(expected) == 6
    assert all(_sequence(r) == expected for r in results)


def test_different_users_at_one_position_never_share(server: Server) -> None:
    before = server.feed_reads.runs
    results = _gathered(server, [(u, 0, 100) for u in SUBSCRIBERS])
    assert server.feed_reads.runs - before == len(SUBSCRIBERS)
    for user, result in zip(SUBSCRIBERS, results, strict=True):
        assert _sequence(result) == _own(server, user, 0, 100)
        tag = FeedCursor(user, 1).text().rsplit("-", 1)[0]
        assert all(cursor.startswith(f"{tag}-") for cursor, _ in _sequence(result))
    assert _sequence(results[3]) == []  # jpn-junior may read none of it


def test_resume_points_of_one_user_each_read_on_from_their_own(server: Server) -> None:
    keys = [("kor-analyst", n, 3) for n in (0, 2, 2, 5, 9)]
    before = server.feed_reads.runs
    results = _gathered(server, keys)
    assert server.feed_reads.runs - before == 4
    for (user, after, page), result in zip(keys, results, strict=True):
        assert _sequence(result) == _own(server, user, after, page)
        assert isinstance(result, tuple)
        _, position, more = result
        last = (
            int(_own(server, user, after, page)[-1][0].rsplit("-", 1)[1])
            if _sequence(result)
            else after
        )
        assert position == last
        assert more == bool(_own(server, user, last, 1))


def test_a_subscriber_that_leaves_takes_nothing_from_the_others(server: Server) -> None:
    key = ("usa-analyst", 0, 100)

    async def main() -> tuple[bool, object]:
        reads = server.feed_reads
        leaving = asyncio.create_task(reads.read(key, functools.partial(_read, server, *key)))
        staying = asyncio.create_task(reads.read(key, functools.partial(_read, server, *key)))
        await asyncio.sleep(0)  # both are waiting under the key
        leaving.cancel()
        result = await staying
        return leaving.cancelled(), result

    cancelled, result = asyncio.run(main())
    assert cancelled
    assert _sequence(result) == _own(server, "usa-analyst", 0, 100) != []


def test_any_mix_of_subscribers_each_gets_its_own_sequence(server: Server) -> None:
    @settings(max_examples=40, deadline=None)
    @given(
        st.lists(
            st.tuples(st.sampled_from(SUBSCRIBERS), st.integers(0, 14), st.integers(1, 5)),
            min_size=1,
            max_size=30,
        )
    )
    def check(keys: list[Key]) -> None:
        before = server.feed_reads.runs
        results = _gathered(server, keys)
        assert server.feed_reads.runs - before == len(set(keys))
        for (user, after, page), result in zip(keys, results, strict=True):
            assert _sequence(result) == _own(server, user, after, page)

    check()
