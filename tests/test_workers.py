"""Several processes on one store: real ``accord serve --workers 2`` on SQLite and PostgreSQL,
real HTTP posts on 127.0.0.1 from several clients at once, the write lock held from the test to
force a 503, and ``kill -9`` of a worker in the middle of an ingest. Every loop is bounded in
count and time."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine

from accord.errors import Busy
from accord.model.requests import ReadRequest
from accord.service import Exchange, MasterKey
from accord.service.scenarios import apply_scenario
from accord.service.taxii import TaxiiService
from accord.store.sql import LOG_LOCK
from tests.stores import BUILTIN
from tests.test_taxii_support import envelope, free_port, indicator, issue, posting

COLLECTION = "/taxii2/KOR/collections/{}/objects/"
START_SECONDS = 60  # a worker that has not answered by then has failed to start
REQUEST_SECONDS = 30


@pytest.fixture
def world(store_url: str, tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    """The built-in world in a fresh store of each backend, its master key in a file, and a
    token of KOR's analyst."""
    from accord.scenario import load_scenario

    master = MasterKey.generate()
    key_file = tmp_path / "master.key"
    master.write(key_file)
    exchange = Exchange.open(store_url, master=lambda: master)
    try:
        exchange.init_keys()
        apply_scenario(exchange, load_scenario(BUILTIN), strict=True)
        token = issue(exchange, "kor-analyst", expires="P1D")
    finally:
        exchange.store.close()
    yield store_url, key_file, token


def _collection_path() -> str:
    from accord.api.context import HOLDINGS, collection_id

    return COLLECTION.format(collection_id(HOLDINGS, "KOR"))


@contextmanager
def serving(
    url: str, key_file: Path, log: Path, *, workers: int = 2, lock_timeout: float = 5.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``accord serve --workers N`` in its own process group; yields its base URL once it
    answers, and stops it (then its whole group) at the end."""
    port = free_port()
    command = [sys.executable, "-m", "accord", "--db", url, "--key-file", str(key_file)]
    command += ["serve", "--port", str(port), "--workers", str(workers)]
    command += ["--lock-timeout", str(lock_timeout)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base, proc, workers, log)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _wait_until_serving(base: str, proc: subprocess.Popen[bytes], workers: int, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"accord serve exited: {log.read_text(errors='replace')}")
        try:
            requests.get(f"{base}/taxii2/", timeout=2)
            if workers == 1 or len(worker_pids(proc.pid)) >= workers:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"accord serve did not answer: {log.read_text(errors='replace')}")


def worker_pids(parent: int) -> list[int]:
    """The uvicorn worker processes of ``parent`` (not multiprocessing's resource tracker)."""
    try:
        children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    except OSError:
        return []
    pids = []
    for pid in map(int, children):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline or b"fork" in cmdline:
            pids.append(pid)
    return pids


def _post(base: str, token: str, objects: list[dict[str, Any]]) -> requests.Response:
    # a new connection each time: the workers share the listening socket, so posts land on both
    return requests.post(
        base + _collection_path(),
        data=envelope(*objects),
        headers={**posting(token), "Connection": "close"},
        timeout=REQUEST_SECONDS,
    )


def _open(url: str, key_file: Path) -> Exchange:
    master = MasterKey.from_file(key_file)
    return Exchange.open(url, master=lambda: master)


def _readable(exchange: Exchange, stix_ids: list[str]) -> list[str]:
    """The ids among ``stix_ids`` whose item KOR's analyst can read now (decrypted, checked)."""
    world = exchange.snapshot()
    by_stix = {item_id.split("~")[1]: item_id for item_id in world.items if "~" in item_id}
    now = datetime.now(UTC)
    found = []
    for stix_id in stix_ids:
        item_id = by_stix.get(stix_id)
        if item_id is None:
            continue
        result = exchange.read(ReadRequest("kor-analyst", item_id), now)
        if result.item is not None:
            found.append(stix_id)
    return found


# --- one store, two processes, many clients -----------------------------------------------------


def test_two_workers_take_every_concurrent_live_post(
    world: tuple[str, Path, str], tmp_path: Path
) -> None:
    """Three clients post at once to two workers; no post is refused (none out of order), and
    every object is then readable and the log verifies."""
    url, key_file, token = world
    clients, posts, size = 3, 8, 3
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def client(c: int) -> None:
        for p in range(posts):
            first = 1000 * (c + 1) + p * size
            response = _post(base, token, [indicator(first + k) for k in range(size)])
            with lock:
                answers.append((response.status_code, response.text[:300]))

    with serving(url, key_file, tmp_path / "serve.log") as (base, _proc):
        threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=clients * posts * REQUEST_SECONDS)
    assert [code for code, _ in answers] == [202] * (clients * posts), answers
    exchange = _open(url, key_file)
    try:
        ids = [
            indicator(1000 * (c + 1) + p * size + k)["id"]
            for c in range(clients)
            for p in range(posts)
            for k in range(size)
        ]
        assert sorted(_readable(exchange, ids)) == sorted(ids)
        assert exchange.audit_verify().entries > 0
    finally:
        exchange.store.close()


def test_a_live_post_is_dated_inside_the_write_lock(store_url: str) -> None:
    """Process A's post arrives, then process B writes a later act while holding the lock; A's
    post, once it has the lock, is dated after B's act instead of being refused out of order."""
    from accord.scenario import load_scenario

    now = [datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)]
    master = MasterKey.generate()
    a = Exchange.open(store_url, clock=lambda: now[0], master=lambda: master)
    a.init_keys()
    apply_scenario(a, load_scenario(BUILTIN), strict=True)
    b = Exchange.open(store_url, clock=lambda: now[0], master=lambda: master)
    from accord.service.taxii import NewObject

    def new(n: int) -> NewObject:
        return NewObject(
            f"indicator--00000000-0000-4000-8000-{n:012d}",
            "indicator",
            "2030-01-01T00:00:00.000Z",
            0,
            "2.1",
            "군사II급비밀",
            frozenset({"nk-missile"}),
            frozenset({"JPN"}),
            f"n{n}",
            {"type": "indicator", "id": f"indicator--00000000-0000-4000-8000-{n:012d}"},
        )

    taxii_a, taxii_b = TaxiiService(a), TaxiiService(b)
    result: list[tuple[bool, list[Any]]] = []
    try:
        with b.batch():  # B holds the write lock
            stored_b, _ = taxii_b.add_objects("kor-analyst", [new(1)], None)
            waiting = threading.Thread(
                target=lambda: result.append(taxii_a.add_objects("kor-analyst", [new(2)], None))
            )
            waiting.start()  # A's post arrives at 12:00:00 and waits for the lock
            time.sleep(0.2)
            now[0] = datetime(2030, 1, 1, 12, 0, 1, tzinfo=UTC)  # B's act is later than A's arrival
            taxii_b.add_objects("kor-analyst", [new(3)], None)
        waiting.join(timeout=30)
        assert stored_b and result and result[0][0], result
        assert [o.codes for o in result[0][1]] == [("created",)]
        assert a.snapshot().latest == now[0]
    finally:
        a.store.close()
        b.store.close()


# --- a retryable conflict is 503 with Retry-After -----------------------------------------------


@contextmanager
def holding_the_write_lock(url: str) -> Iterator[None]:
    """The store's write lock, taken from outside accord as another writer would hold it."""
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)) as c:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                c.execute("ROLLBACK")
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOG_LOCK})")
            yield
    finally:
        engine.dispose()


def test_a_post_that_cannot_get_the_lock_is_503_with_retry_after(
    world: tuple[str, Path, str], tmp_path: Path
) -> None:
    url, key_file, token = world
    obj = indicator(7)
    with serving(url, key_file, tmp_path / "serve.log", workers=1, lock_timeout=0.2) as (base, _):
        assert _post(base, token, [indicator(6)]).status_code == 202  # token verified, cached
        with holding_the_write_lock(url):
            refused = _post(base, token, [obj])
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] == "1"
        body = refused.json()
        assert body["http_status"] == "503" and body["error_code"] == "busy"
        again = _post(base, token, [obj])  # the same request, sent again, is taken
        assert again.status_code == 202, again.text
    exchange = _open(url, key_file)
    try:
        items = [i for i in exchange.snapshot().items if obj["id"] in i]
        assert len(items) == 1  # the refused attempt stored nothing
        exchange.audit_verify()
    finally:
        exchange.store.close()


def test_the_store_answers_busy_when_the_lock_is_held(store_url: str) -> None:
    master = MasterKey.generate()
    from accord.store.sql import SqlStore

    exchange = Exchange(SqlStore(store_url, lock_timeout=0.1), master=lambda: master)
    exchange.init_keys()
    with holding_the_write_lock(store_url), pytest.raises(Busy):
        exchange.add_topic("cyber")
    exchange.add_topic("cyber")  # retried once the lock is free
    assert "cyber" in exchange.snapshot().topics
    exchange.store.close()


# --- kill -9 of a worker mid-ingest loses no acknowledged write -------------------------------


def test_kill_9_of_a_worker_mid_ingest_loses_no_acknowledged_write(
    world: tuple[str, Path, str], tmp_path: Path
) -> None:
    url, key_file, token = world
    acknowledged: list[str] = []
    stop = threading.Event()
    size, limit = 4, 60  # at most 60 posts of 4 objects per client

    def client(c: int) -> None:
        for p in range(limit):
            if stop.is_set():
                return
            objects = [indicator(100_000 * (c + 1) + p * size + k) for k in range(size)]
            try:
                response = _post(base, token, objects)
            except requests.RequestException:
                continue  # the worker died under this post: not acknowledged
            if response.status_code == 202:
                acknowledged.extend(o["id"] for o in objects)

    with serving(url, key_file, tmp_path / "serve.log") as (base, proc):
        threads = [threading.Thread(target=client, args=(c,)) for c in range(2)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 5 * size and time.monotonic() < deadline:
            time.sleep(0.02)
        victims = worker_pids(proc.pid)
        assert victims, "no worker to kill"
        os.kill(victims[0], signal.SIGKILL)  # in the middle of the clients' posts
        before = len(acknowledged)
        deadline = time.monotonic() + 60
        while len(acknowledged) < before + 5 * size and time.monotonic() < deadline:
            time.sleep(0.02)  # the surviving worker keeps taking posts
        stop.set()
        for thread in threads:
            thread.join(timeout=limit * REQUEST_SECONDS)
    assert len(acknowledged) >= before + 5 * size, "the surviving worker took no posts"
    exchange = _open(url, key_file)
    try:
        assert sorted(_readable(exchange, acknowledged)) == sorted(acknowledged)
        report = exchange.audit_verify()
        assert report.entries > len(acknowledged) // size
    finally:
        exchange.store.close()
