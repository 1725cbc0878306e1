"""The live feed end to end: a real uvicorn server on 127.0.0.1, acts posted over TAXII, and
subscribers reading server-sent events with httpx and httpx-sse (software we did not write);
reconnects with Last-Event-ID, a server restart, a slow consumer, and every bad input."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from httpx_sse import ServerSentEvent, connect_sse

from accord.api import ApiSettings, create_app
from accord.api.context import HOLDINGS, collection_id
from accord.service import Exchange
from tests.feeds import START, define, item
from tests.test_taxii_support import (
    KEY,
    TAXII,
    Clock,
    envelope,
    free_port,
    indicator,
    issue,
    open_exchange,
)

READ_SECONDS = 60.0  # a read that waits longer has failed (events come in well under a second)
START_SECONDS = 30.0
KOR_II, KOR_III = "군사II급비밀", "군사III급비밀"


@dataclass
class Running:
    base: str
    server: uvicorn.Server
    app: Any

    @property
    def subscribers(self) -> int:
        return int(self.app.state.server.hub.subscribers)


@contextmanager
def serving(exchange: Exchange, **settings: Any) -> Iterator[Running]:
    url = str(exchange.store.url)
    app = create_app(
        ApiSettings(url, feed_heartbeat=settings.pop("heartbeat", 60.0), **settings), exchange
    )
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Running(f"http://127.0.0.1:{port}", server, app)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@dataclass
class World:
    url: str
    clock: Clock
    exchange: Exchange
    tokens: dict[str, str]

    def tick(self) -> None:
        self.clock.now += timedelta(minutes=1)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    if KEY is None:
        pytest.skip("no crypto layer")
    clock = Clock(START)
    url = f"sqlite:///{tmp_path / 'accord.db'}"
    exchange = open_exchange(url, clock)
    exchange.init_keys()
    define(exchange)
    users = ("kor-analyst", "jpn-analyst", "jpn-junior", "usa-analyst")
    tokens = {u: issue(exchange, u) for u in users}
    try:
        yield World(url, clock, exchange, tokens)
    finally:
        exchange.store.close()


def objects_path(party: str) -> str:
    return f"/taxii2/{party}/collections/{collection_id(HOLDINGS, party)}/objects/"


def post(base: str, token: str, party: str, *objects: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII, "Content-Type": TAXII}
    r = httpx.post(base + objects_path(party), content=envelope(*objects), headers=headers)
    assert r.status_code == 202, r.text


def create_and_release(w: World, base: str, n: int, level: str = KOR_II, to: str = "JPN") -> str:
    """KOR's analyst creates indicator ``n`` and releases it to ``to``; its STIX id."""
    obj = indicator(n, "KOR", level, modified=f"2024-01-01T00:00:{n:02d}.000Z")
    w.tick()
    post(base, w.tokens["kor-analyst"], "KOR", obj)
    w.tick()
    post(base, w.tokens["kor-analyst"], to, {"type": obj["type"], "id": obj["id"]})
    return str(obj["id"])


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def take(events: Iterator[ServerSentEvent], count: int) -> list[dict[str, Any]]:
    found = []
    for event in events:
        found.append({**json.loads(event.data), "sse_id": event.id, "event": event.event})
        if len(found) == count:
            break
    return found


def client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=httpx.Timeout(10.0, read=READ_SECONDS))


def test_a_release_arrives_as_the_object_taxii_serves(world: World) -> None:
    with serving(world.exchange) as running, client(running.base) as http:
        with connect_sse(
            http, "GET", "/feeds/JPN/", headers=auth(world.tokens["jpn-analyst"])
        ) as s:
            assert s.response.headers["content-type"].startswith("text/event-stream")
            stix_id = create_and_release(world, running.base, 1)
            [event] = take(s.iter_sse(), 1)
        assert event["event"] == "available" and event["kind"] == "available"
        assert event["sse_id"] == event["cursor"]
        assert event["object"]["id"] == stix_id and event["party"] == "JPN"
        headers = auth(world.tokens["jpn-analyst"], Accept=TAXII)
        served = http.get(objects_path("JPN") + stix_id + "/", headers=headers).json()
        assert served["objects"] == [event["object"]]  # the same marked object as TAXII


def test_a_user_without_clearance_in_the_same_party_gets_none_of_it(world: World) -> None:
    with serving(world.exchange) as running, client(running.base) as http:
        junior = auth(world.tokens["jpn-junior"])
        with connect_sse(http, "GET", "/feeds/JPN/", headers=junior) as s:
            create_and_release(world, running.base, 1, KOR_II)  # 極秘: above 秘
            sentinel = create_and_release(world, running.base, 2, KOR_III)  # 秘: readable
            [event] = take(s.iter_sse(), 1)
        assert event["object"]["id"] == sentinel  # the first thing jpn-junior hears


def test_the_originator_hears_the_routing_of_its_releases(world: World) -> None:
    with serving(world.exchange) as running, client(running.base) as http:
        kor = auth(world.tokens["kor-analyst"])
        with connect_sse(http, "GET", "/feeds/KOR/", headers=kor) as s:
            create_and_release(world, running.base, 1)
            created, routing = take(s.iter_sse(), 2)
        assert created["kind"] == "available" and created["cause"] == "created"
        assert routing["kind"] == "routing" and routing["to"] == "JPN"
        assert routing["allowed"] is True and routing["reasons"] == ["release-allowed"]


def test_reconnect_mid_stream_with_last_event_id_loses_and_repeats_nothing(
    world: World,
) -> None:
    with serving(world.exchange) as running, client(running.base) as http:
        jpn = auth(world.tokens["jpn-analyst"])
        ids = [create_and_release(world, running.base, n) for n in range(1, 6)]
        with connect_sse(http, "GET", "/feeds/JPN/?after=0", headers=jpn) as s:
            first = take(s.iter_sse(), 2)
        resume = auth(world.tokens["jpn-analyst"], **{"Last-Event-ID": first[-1]["sse_id"]})
        # the header wins over a stale ?after= in the URL
        with connect_sse(http, "GET", "/feeds/JPN/?after=0", headers=resume) as s:
            rest = take(s.iter_sse(), 3)
    got = [e["object"]["id"] for e in first + rest]
    assert got == ids
    assert [e["sse_id"].rsplit("-", 1)[1] for e in first + rest] == ["1", "2", "3", "4", "5"]


def test_after_a_server_restart_the_cursor_resumes_with_nothing_lost(world: World) -> None:
    jpn = auth(world.tokens["jpn-analyst"])
    with serving(world.exchange) as running, client(running.base) as http:
        ids = [create_and_release(world, running.base, n) for n in (1, 2)]
        with connect_sse(http, "GET", "/feeds/JPN/?after=0", headers=jpn) as s:
            before = take(s.iter_sse(), 2)
    # acts while no server runs, written by another exchange on the store
    with serving(open_exchange(world.url, world.clock)) as running, client(running.base) as http:
        ids += [create_and_release(world, running.base, n) for n in (3, 4)]
    again = open_exchange(world.url, world.clock)
    try:
        with serving(again) as running, client(running.base) as http:
            last = before[-1]["sse_id"]
            with connect_sse(http, "GET", f"/feeds/JPN/?after={last}", headers=jpn) as s:
                after = take(s.iter_sse(), 2)
    finally:
        again.store.close()
    assert [e["object"]["id"] for e in before + after] == ids


def test_writes_by_another_process_reach_a_subscriber_by_the_poll(world: World) -> None:
    kor = auth(world.tokens["kor-analyst"])
    with (
        serving(world.exchange, feed_poll=0.2) as running,
        client(running.base) as http,
        connect_sse(http, "GET", "/feeds/KOR/", headers=kor) as s,
    ):
        other = open_exchange(world.url, world.clock)  # no wake-up reaches this server
        try:
            world.tick()
            other.add_item(item(99, at=world.clock.now))
        finally:
            other.store.close()
        [event] = take(s.iter_sse(), 1)
    assert event["item"] == "feed-item-99" and event["object"]["type"] == "report"


def test_idle_streams_get_heartbeats(world: World) -> None:
    with serving(world.exchange, heartbeat=0.1) as running, client(running.base) as http:
        headers = auth(world.tokens["jpn-analyst"])
        with http.stream("GET", "/feeds/JPN/", headers=headers) as r:
            lines = r.iter_lines()
            beats = 0
            for line in lines:
                beats += line == ": keep-alive"
                if beats == 2:
                    break
    assert beats == 2


def test_a_slow_consumer_is_disconnected_with_a_reason(world: World) -> None:
    settings = {"feed_queue": 4, "feed_page": 2, "feed_stall": 0.5}
    with serving(world.exchange, **settings) as running, _slow_socket(running) as sock:
        token = world.tokens["kor-analyst"]
        request = (
            f"GET /feeds/KOR/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        sock.sendall(request.encode())
        received = b""
        while b"accord feed" not in received:
            received += sock.recv(1024)
        _wait(lambda: running.subscribers == 1)
        big = "x" * 200_000  # 40 such objects are far more than the socket buffers hold
        world.tick()
        objects = [indicator(n, "KOR", KOR_II, description=big) for n in range(1, 41)]
        post(running.base, token, "KOR", *objects)
        _wait(lambda: running.subscribers == 0)  # the server let it go
        while chunk := sock.recv(1 << 20):  # what it had sent, then the end of the stream
            received += chunk
    text = received.decode("utf-8", errors="replace")
    assert "event: disconnect" in text
    tail = text[text.index("event: disconnect") :]
    data = json.loads(tail.split("data: ", 1)[1].split("\n", 1)[0])
    delivered = text.count("event: available")
    assert data["reason"] == "slow-consumer"
    assert data["resume"].endswith(f"-{delivered}")  # resume right after the last one sent
    assert delivered < 40  # never were they all held for it


@contextmanager
def _slow_socket(running: Running) -> Iterator[socket.socket]:
    """A client that reads nothing until told: a receive buffer of 4 KiB."""
    sock = socket.socket()
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(READ_SECONDS)
        sock.connect(("127.0.0.1", int(running.base.rsplit(":", 1)[1])))
        yield sock
    finally:
        sock.close()


def _wait(condition: Any) -> None:
    deadline = time.monotonic() + READ_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come about"
        time.sleep(0.02)


# --- bad input ----------------------------------------------------------------------------


def test_another_partys_feed_and_a_missing_one_are_the_same_404(world: World) -> None:
    with serving(world.exchange) as running, client(running.base) as http:
        token = auth(world.tokens["jpn-analyst"])
        other = http.get("/feeds/KOR/", headers=token)
        missing = http.get("/feeds/NOPE/", headers=token)
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    assert other.json()["error_code"] == "not-found"


@pytest.mark.parametrize("where", ["header", "query"])
def test_a_malformed_cursor_is_400_naming_it(world: World, where: str) -> None:
    with serving(world.exchange) as running, client(running.base) as http:
        token = world.tokens["jpn-analyst"]
        if where == "header":
            r = http.get("/feeds/JPN/", headers=auth(token, **{"Last-Event-ID": "bogus"}))
        else:
            r = http.get("/feeds/JPN/?after=bogus", headers=auth(token))
    assert r.status_code == 400
    body = r.json()
    assert body["error_code"] == "bad-request" or body["http_status"] == "400"
    field = "Last-Event-ID" if where == "header" else "after"
    assert body["description"].startswith(f"{field}: cursor 'bogus'")


def test_a_cursor_of_another_user_is_the_same_404_as_another_partys_feed(world: World) -> None:
    with serving(world.exchange) as running, client(running.base) as http:
        create_and_release(world, running.base, 1)
        with connect_sse(
            http, "GET", "/feeds/JPN/?after=0", headers=auth(world.tokens["jpn-analyst"])
        ) as s:
            [event] = take(s.iter_sse(), 1)
        theirs = http.get(
            "/feeds/JPN/",
            headers=auth(world.tokens["jpn-junior"], **{"Last-Event-ID": event["sse_id"]}),
        )
        other_party = http.get("/feeds/KOR/", headers=auth(world.tokens["jpn-junior"]))
    assert theirs.status_code == 404
    assert theirs.json() == other_party.json()


def test_a_bad_token_is_401_and_no_credentials_too(world: World) -> None:
    with serving(world.exchange) as running, client(running.base) as http:
        bad = http.get("/feeds/JPN/", headers={"Authorization": "Bearer nope.nope"})
        none = http.get("/feeds/JPN/")
    assert bad.status_code == none.status_code == 401
    assert "WWW-Authenticate" in bad.headers


def test_head_answers_with_the_headers_and_no_stream(world: World) -> None:
    with serving(world.exchange) as running, client(running.base) as http:
        r = http.head("/feeds/JPN/", headers=auth(world.tokens["jpn-analyst"]))
        other = http.head("/feeds/KOR/", headers=auth(world.tokens["jpn-analyst"]))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert other.status_code == 404
