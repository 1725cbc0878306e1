"""``accord node`` as a user runs it (each command a process of its own), and three nodes as
three ``accord serve`` processes fetching each other's cards over mutual TLS on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.crypto.card import parse_card
from accord.service import Exchange, MasterKey
from accord.service.node import Node
from tests.nodes import dump, free_port
from tests.stores import execute
from tests.test_cli_keys_audit import INTEGRITY, INVALID, OK, accord, base_env

PARTIES = ("KOR", "JPN", "USA")


def _init(folder: Path, party: str, port: int) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    db, key = folder / f"{party.lower()}.db", folder / f"{party.lower()}.key"
    done = accord("node", "init", party, "--url", f"https://127.0.0.1:{port}", db=db, key_file=key)
    assert done.returncode == OK, done.stderr
    assert f"node {party} at https://127.0.0.1:{port}" in done.stdout
    return db, key


def test_card_and_trust_round_trip_through_the_cli(tmp_path: Path) -> None:
    kor_db, kor_key = _init(tmp_path, "KOR", 7401)
    jpn_db, jpn_key = _init(tmp_path, "JPN", 7402)
    card = tmp_path / "jpn.card"
    done = accord("node", "card", "--out", card, db=jpn_db, key_file=jpn_key)
    assert done.returncode == OK, done.stderr
    printed = accord("node", "card", db=jpn_db, key_file=jpn_key)
    assert parse_card(printed.stdout, "stdout") == parse_card(card.read_bytes(), "file")
    done = accord("node", "trust", card, "--json", db=kor_db, key_file=kor_key)
    assert done.returncode == OK, done.stderr
    pinned = done.json()
    assert (pinned["party"], pinned["url"], pinned["state"]) == (
        "JPN",
        "https://127.0.0.1:7402",
        "pinned",
    )
    listed = accord("node", "peers", "--json", db=kor_db, key_file=kor_key).json()
    assert [p["certificate_sha256"] for p in listed] == [pinned["certificate_sha256"]]
    table = accord("node", "peers", db=kor_db, key_file=kor_key)
    assert "JPN" in table.stdout and "https://127.0.0.1:7402" in table.stdout
    assert accord("audit", "verify", db=kor_db, key_file=kor_key).returncode == OK


def test_init_writes_a_new_key_file_only_when_it_succeeds(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    bad = accord("node", "init", "KOR", "--url", "http://x", db=tmp_path / "a.db", key_file=key)
    assert (bad.returncode, key.exists()) == (INVALID, False)
    assert "--url: 'http://x' is not a node URL" in bad.stderr
    _init(tmp_path, "KOR", 7403)
    key = tmp_path / "kor.key"
    assert key.stat().st_mode & 0o077 == 0


def test_every_bad_input_has_its_error_and_exit_code_and_changes_nothing(tmp_path: Path) -> None:
    kor_db, kor_key = _init(tmp_path, "KOR", 7411)
    jpn_db, jpn_key = _init(tmp_path / "j", "JPN", 7412)
    other_db, other_key = _init(tmp_path / "o", "JPN", 7413)
    own, jpn, other = tmp_path / "own.card", tmp_path / "jpn.card", tmp_path / "other.card"
    for db, key, out in (
        (kor_db, kor_key, own),
        (jpn_db, jpn_key, jpn),
        (other_db, other_key, other),
    ):
        assert accord("node", "card", "--out", out, db=db, key_file=key).returncode == OK
    assert accord("node", "trust", jpn, db=kor_db, key_file=kor_key).returncode == OK
    (tmp_path / "bad.card").write_text("{not json", encoding="utf-8")
    doc = json.loads(jpn.read_text(encoding="utf-8"))
    doc["url"] = "https://127.0.0.1:1"
    (tmp_path / "forged.card").write_text(json.dumps(doc), encoding="utf-8")
    cases = [
        (("node", "init", "KOR", "--url", "https://127.0.0.1:7411"), INVALID, "already a node"),
        (("node", "trust", own), INVALID, "own.card: party: 'KOR' is this node's own party"),
        (("node", "trust", other), INVALID, "JPN is already pinned with another certificate"),
        (("node", "trust", tmp_path / "bad.card"), INVALID, "bad.card: not a JSON node card"),
        (("node", "trust", tmp_path / "forged.card"), INVALID, "signature does not verify"),
        (("node", "trust", tmp_path / "none.card"), INVALID, "none.card does not exist"),
    ]
    for args, code, message in cases:
        before = dump(kor_db)
        done = accord(*args, db=kor_db, key_file=kor_key)
        assert (done.returncode, message in done.stderr) == (code, True), (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert dump(kor_db) == before, args
    execute(kor_db, "update node_peers set pinned_at = pinned_at + 1")
    done = accord("node", "peers", db=kor_db, key_file=kor_key)
    assert done.returncode == INTEGRITY
    assert "the pinned peer row for JPN does not verify" in done.stderr


# --- three processes -----------------------------------------------------------------------------


def _wait_for_port(port: int, process: subprocess.Popen[str], deadline: float) -> None:
    """Until ``port`` accepts a connection; bounded in tries and time."""
    for _ in range(3000):
        if process.poll() is not None:
            raise AssertionError(f"accord serve exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
    raise AssertionError(f"nothing listened on port {port}")


@pytest.fixture
def three_nodes(tmp_path: Path) -> Iterator[dict[str, tuple[Path, Path, int]]]:
    made = {}
    for party in PARTIES:
        port = free_port()
        db, key = _init(tmp_path / party, party, port)
        made[party] = (db, key, port)
    for party, (db, key, _) in made.items():
        card = tmp_path / f"{party}.card"
        assert accord("node", "card", "--out", card, db=db, key_file=key).returncode == OK
    for party, (db, key, _) in made.items():
        for other in PARTIES:
            if other != party:
                done = accord("node", "trust", tmp_path / f"{other}.card", db=db, key_file=key)
                assert done.returncode == OK, done.stderr
    processes = []
    env = {**base_env(), "PYTHONUNBUFFERED": "1"}
    try:
        for db, key, _ in made.values():
            argv = ["--db", str(db), "--key-file", str(key), "serve", "--port", str(free_port())]
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "accord", *argv],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=env,
                    cwd=tmp_path,
                    text=True,
                )
            )
        deadline = time.monotonic() + 240
        for process, (_, _, port) in zip(processes, made.values(), strict=True):
            _wait_for_port(port, process, deadline)
        yield made
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


def test_three_node_processes_fetch_each_others_cards_over_mutual_tls(
    three_nodes: dict[str, tuple[Path, Path, int]],
) -> None:
    for party, (db, key, _) in three_nodes.items():
        master = MasterKey.from_file(key)
        node = Node(Exchange.open(f"sqlite:///{db}", master=lambda m=master: m, create=False))
        for other in PARTIES:
            if other == party:
                continue
            with node.client(other) as client:
                card = parse_card(client.get("/node/v1/card", timeout=30), f"{other}'s card")
            assert card == node.peer(other).card
            assert card.party == other
    kor_db, kor_key, _ = three_nodes["KOR"]
    probed = accord("node", "peers", "--probe", "--json", db=kor_db, key_file=kor_key)
    assert probed.returncode == OK, probed.stderr
    assert [(p["party"], p["state"]) for p in probed.json()] == [
        ("JPN", "reachable"),
        ("USA", "reachable"),
    ]


def test_serve_refuses_to_start_on_a_node_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        db, key = _init(tmp_path, "KOR", port)
        done = accord("serve", "--port", str(free_port()), db=db, key_file=key)
    assert done.returncode == INVALID
    assert "cannot listen" in done.stderr
