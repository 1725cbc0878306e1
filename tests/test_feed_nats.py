"""Two ``accord serve --nats`` processes on one store (a SQLite file, and PostgreSQL when it
runs): a subscriber on one receives the events of acts posted to the other, woken through NATS
JetStream (each process looks at the store by itself only every 600 s here, so an event that
arrives came by NATS). Skips when no NATS server answers on 127.0.0.1:4222."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

import httpx
import pytest
from httpx_sse import connect_sse

from accord.crypto import MasterKey
from accord.service import Exchange
from tests.feeds import START, define
from tests.test_feed_sse import KOR_II, post
from tests.test_taxii_support import free_port, indicator, issue

NATS = ("127.0.0.1", 4222)
START_SECONDS = 60
READ_SECONDS = 60.0


def _nats_running() -> bool:
    try:
        with socket.create_connection(NATS, timeout=2) as s:
            return s.recv(4).startswith(b"INFO")
    except OSError:
        return False


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    if not _nats_running():
        pytest.skip("no NATS server on 127.0.0.1:4222 (run nats-server -js)")
    master = MasterKey.generate()
    key_file = tmp_path / "master.key"
    master.write(key_file)
    exchange = Exchange.open(store_url, lambda: START, lambda: master)
    try:
        exchange.init_keys()
        define(exchange)
        tokens = {u: issue(exchange, u) for u in ("kor-analyst", "jpn-analyst")}
    finally:
        exchange.store.close()
    yield store_url, key_file, tokens


@contextmanager
def process(url: str, key_file: Path, log: Path) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "accord", "--db", url, "--key-file", str(key_file)]
    command += ["serve", "--port", str(port), "--nats", "nats://127.0.0.1:4222"]
    command += ["--feed-poll", "600"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            try:
                httpx.get(f"{base}/taxii2/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_a_subscriber_on_one_process_gets_the_acts_of_the_other(
    store: tuple[str, Path, dict[str, str]], tmp_path: Path
) -> None:
    url, key_file, tokens = store
    with (
        process(url, key_file, tmp_path / "a.log") as a,
        process(url, key_file, tmp_path / "b.log") as b,
        httpx.Client(base_url=b, timeout=httpx.Timeout(10.0, read=READ_SECONDS)) as http,
    ):
        headers = {"Authorization": f"Bearer {tokens['jpn-analyst']}"}
        with connect_sse(http, "GET", "/feeds/JPN/", headers=headers) as s:
            ids = []
            for n in (1, 2, 3):
                obj = indicator(n, "KOR", KOR_II, modified=f"2024-01-01T00:00:0{n}.000Z")
                post(a, tokens["kor-analyst"], "KOR", obj)
                post(a, tokens["kor-analyst"], "JPN", {"type": obj["type"], "id": obj["id"]})
                ids.append(obj["id"])
            # bounded: heartbeats keep the stream alive, so a lost wake-up would wait forever
            with ThreadPoolExecutor(1) as pool:
                reading = pool.submit(lambda: list(islice(s.iter_sse(), 3)))
                try:
                    events = reading.result(timeout=READ_SECONDS)
                except TimeoutError:
                    s.response.close()
                    pytest.fail(f"fewer than 3 events within {READ_SECONDS} s: no NATS wake-up")
            got = [json.loads(event.data) for event in events]
    assert [e["object"]["id"] for e in got] == ids
    assert [e["kind"] for e in got] == ["available"] * 3
