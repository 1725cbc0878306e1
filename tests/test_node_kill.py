"""``kill -9`` of either node mid-delivery, as real processes over HTTP on 127.0.0.1: no
acknowledged fact is lost and none is applied twice. Every wait is bounded in time."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.node_kit import Clock, Directory, Node

ROOT = Path(__file__).resolve().parents[1]
COUNT = 30
WAIT = 90.0  # seconds any one wait may take before the test fails


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _held(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM node_inbox").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > WAIT:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _start(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.node_process", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=WAIT)


def test_kill_9_of_sender_and_receiver_mid_delivery_loses_nothing_and_applies_nothing_twice(
    tmp_path: Path,
) -> None:
    clock, directory = Clock(), Directory()
    kor = Node(tmp_path / "kor.db", "KOR", clock, directory)
    jpn = Node(tmp_path / "jpn.db", "JPN", clock, directory)
    verifiers = [directory.keys["KOR"].log_verifier, directory.keys["JPN"].log_verifier]
    for node in (kor, jpn):
        node.master.write(tmp_path / f"{node.party}.key")
        node.exchange.store.close()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    receive = ("receive", str(jpn.path), str(tmp_path / "JPN.key"), str(port), *verifiers)
    send = ("send", str(kor.path), str(tmp_path / "KOR.key"), url, str(COUNT), *verifiers)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(receiver := _start(*receive))
        processes.append(sender := _start(*send))
        _until(lambda: _held(jpn.path) >= COUNT // 3, "a third of the facts")
        _kill(sender)  # the sender, mid-delivery
        processes.append(sender := _start(*send))
        _until(lambda: _held(jpn.path) >= 2 * COUNT // 3, "two thirds of the facts")
        _kill(receiver)  # the receiver, mid-delivery: the sender keeps its facts and retries
        processes.append(receiver := _start(*receive))
        assert sender.wait(timeout=WAIT * 2) == 0, sender.stderr.read() if sender.stderr else ""
    finally:
        for process in processes:
            if process.poll() is None:
                _kill(process)
            if process.stderr:
                process.stderr.close()
    kor = Node(tmp_path / "kor.db", "KOR", clock, Directory(), master=kor.master, init=False)
    jpn = Node(tmp_path / "jpn.db", "JPN", clock, Directory(), master=jpn.master, init=False)
    expected = [f"KOR-note-{n}" for n in range(COUNT)]
    assert [r.fact.fact_id for r in jpn.received()] == expected
    applied = [
        f["id"] for b in jpn.log_bodies("node-message-accepted") for f in b["subject"]["facts"]
    ]  # type: ignore[index]
    assert applied == expected  # the receiver's log: each fact applied once, in order
    assert all(q.delivered_at is not None for q in kor.queued("JPN"))
    delivered = [i for b in kor.log_bodies("node-delivered") for i in b["subject"]["facts"]]  # type: ignore[attr-defined]
    assert delivered == expected  # and each acknowledged once on the sender's side
