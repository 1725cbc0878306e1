"""``accord feed``: from the store, and over SSE with a reconnect (Last-Event-ID) after the
server went away and came back on the same port."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from click.testing import CliRunner

from accord.api import ApiSettings, create_app
from accord.cli.feed_client import Follower, parse_sse
from accord.cli.main import cli
from accord.service import Exchange
from tests.feeds import START, define, item
from tests.test_taxii_support import KEY, Clock, free_port, issue, open_exchange


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, Path, str]:
    if KEY is None:
        pytest.skip("no crypto layer")
    key_file = tmp_path / "master.key"
    KEY.write(key_file)
    url = f"sqlite:///{tmp_path / 'accord.db'}"
    exchange = open_exchange(url, Clock(START))
    try:
        exchange.init_keys()
        define(exchange)
        for n in (1, 2):
            exchange.add_item(item(n))
        token = issue(exchange, "kor-analyst")
    finally:
        exchange.store.close()
    return url, key_file, token


def test_accord_feed_from_the_store_prints_each_event(store: tuple[str, Path, str]) -> None:
    url, key_file, _ = store
    args = ["--db", url, "--key-file", str(key_file), "feed", "kor-analyst", "--after", "0"]
    result = CliRunner().invoke(cli, [*args, "--count", "2", "--json"])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines()]
    assert [(e["kind"], e["item"]) for e in events] == [
        ("available", "feed-item-1"),
        ("available", "feed-item-2"),
    ]
    result = CliRunner().invoke(cli, [*args[:-1], events[0]["cursor"], "--count", "1"])
    assert result.exit_code == 0, result.output
    assert "feed-item-2" in result.output and "feed-item-1" not in result.output


def test_accord_feed_refuses_a_bad_cursor_naming_it(store: tuple[str, Path, str]) -> None:
    url, key_file, _ = store
    args = ["--db", url, "--key-file", str(key_file), "feed", "kor-analyst", "--after", "zz"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    assert "zz" in str(result.exception)


def test_the_follower_resumes_after_the_server_went_away(store: tuple[str, Path, str]) -> None:
    url, _, token = store
    port = free_port()
    first = _serve(open_exchange(url, Clock(START)), port)
    follower = Follower(f"http://127.0.0.1:{port}/feeds/KOR/", "kor-analyst", token, "0")
    follower.backoff = 0.05
    seen: list[str] = []
    done = threading.Event()

    def follow() -> None:
        for event in follower.events():
            if event.event == "available":
                seen.append(str(event.data["item"]))
            if len(seen) == 4:
                done.set()
                return

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    _until(lambda: len(seen) == 2)
    _stop(first)  # the connection drops
    writer = open_exchange(url, Clock(START))
    try:
        for n in (3, 4):
            writer.add_item(item(n))
    finally:
        writer.store.close()
    second = _serve(open_exchange(url, Clock(START)), port)
    try:
        assert done.wait(60), seen
    finally:
        _stop(second)
    assert seen == [f"feed-item-{n}" for n in (1, 2, 3, 4)]  # none lost, none twice


def test_parse_sse_reads_fields_comments_and_multiline_data() -> None:
    lines = [": keep-alive", "id: a-1", "event: x", 'data: {"a":', "data: 1}", "", "retry: 5", ""]
    events = list(parse_sse(lines))
    assert [(e.id, e.event) for e in events] == [(None, "heartbeat"), ("a-1", "x")]
    assert events[1].data == {"a": 1}


def _serve(exchange: Exchange, port: int) -> tuple[uvicorn.Server, threading.Thread, Exchange]:
    app = create_app(ApiSettings(str(exchange.store.url), feed_heartbeat=0.2), exchange)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="critical", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _until(lambda: server.started)
    return server, thread, exchange


def _stop(running: tuple[uvicorn.Server, threading.Thread, Exchange]) -> None:
    server, thread, exchange = running
    server.should_exit = True
    thread.join(timeout=20)
    exchange.store.close()


def _until(condition: object) -> None:
    deadline = time.monotonic() + 60
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline
        time.sleep(0.02)
