"""The message protocol over the real channel: ``accord serve`` node processes on loopback
exchanging signed facts over mutual TLS, each node's keys taken from its pinned cards and who
vouches for a fact from the fact definitions. Every wait is bounded in time and tries."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accord.errors import InvalidInput
from accord.model.agreement import SuspensionLifted, TerminationNotice
from accord.model.facts.definition import FactKind
from accord.model.facts.registry import DEFINITIONS
from accord.service.node_wire import vouched_by
from tests.nodes import free_port
from tests.test_cli_keys_audit import INVALID, OK, accord, base_env

WAIT = 120.0  # seconds any one wait may take before the test fails
T0 = datetime(2019, 11, 22, 9, 0, tzinfo=UTC)
NOTE = FactKind.NOTE.value


@dataclass
class Site:
    party: str
    db: Path
    key: Path
    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return accord(*args, db=self.db, key_file=self.key)


def _note_body(by: str, n: int) -> dict[str, object]:
    event = TerminationNotice(T0 + timedelta(seconds=n), f"pact-{n}", by)
    return dict(DEFINITIONS[FactKind.NOTE].encode(event))


def _fact_file(folder: Path, by: str, n: int) -> Path:
    path = folder / f"fact-{by}-{n}.json"
    instant = (T0 + timedelta(seconds=n)).isoformat()
    path.write_text(json.dumps({"kind": NOTE, "instant": instant, "body": _note_body(by, n)}))
    return path


def _sites(tmp_path: Path, parties: tuple[str, ...]) -> dict[str, Site]:
    sites = {}
    for party in parties:
        folder = tmp_path / party
        folder.mkdir()
        port = free_port()
        site = Site(party, folder / "node.db", folder / "node.key", port, folder)
        done = site.run("node", "init", party, "--url", f"https://127.0.0.1:{port}")
        assert done.returncode == OK, done.stderr
        assert site.run("node", "card", "--out", folder / "card.json").returncode == OK
        sites[party] = site
    return sites


def _pin_all(sites: dict[str, Site]) -> None:
    for site in sites.values():
        for other in sites.values():
            if other is not site:
                done = site.run("node", "trust", other.folder / "card.json")
                assert done.returncode == OK, done.stderr


def _until(condition: Callable[[], bool], what: str) -> None:
    started = time.monotonic()
    for _ in range(100_000):
        if condition():
            return
        if time.monotonic() - started > WAIT:
            break
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _listening(site: Site) -> bool:
    import socket

    assert site.process is not None
    if site.process.poll() is not None:
        pytest.fail(f"{site.party}'s accord serve exited with {site.process.returncode}")
    try:
        with socket.create_connection(("127.0.0.1", site.port), timeout=1):
            return True
    except OSError:
        return False


def _serve(site: Site, *extra: str) -> None:
    argv = ["--db", str(site.db), "--key-file", str(site.key), "serve", "--port", str(free_port())]
    argv += extra
    site.process = subprocess.Popen(
        [sys.executable, "-m", "accord", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**base_env(), "PYTHONUNBUFFERED": "1"},
        cwd=site.folder,
    )
    _until(lambda: _listening(site), f"{site.party}'s node endpoint")


def _stop(site: Site, how: signal.Signals = signal.SIGTERM) -> None:
    if site.process is None or site.process.poll() is not None:
        return
    site.process.send_signal(how)
    try:
        site.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        site.process.kill()
        site.process.wait(timeout=30)


def _rows(db: Path, query: str) -> list[tuple[object, ...]]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
            return list(conn.execute(query).fetchall())
    except sqlite3.OperationalError:
        return []


def _held(site: Site) -> list[str]:
    found = _rows(site.db, "SELECT fact_id FROM node_inbox ORDER BY position")
    return [str(r[0]) for r in found]


def _waiting(site: Site) -> int:
    found = _rows(site.db, "SELECT count(*) FROM node_outbox WHERE delivered_at IS NULL")
    return int(found[0][0]) if found else -1  # type: ignore[call-overload]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[dict[str, Site]]:
    sites = _sites(tmp_path, ("KOR", "JPN"))
    _pin_all(sites)
    try:
        yield sites
    finally:
        for site in sites.values():
            _stop(site)


def test_a_fact_queued_on_kor_arrives_once_on_jpn_with_a_signed_receipt(
    pair: dict[str, Site],
) -> None:
    kor, jpn = pair["KOR"], pair["JPN"]
    _serve(jpn)
    queued = kor.run("node", "send", "JPN", _fact_file(kor.folder, "KOR", 1), "--json")
    assert queued.returncode == OK, queued.stderr
    fact_id = queued.json()["fact"]["id"]
    done = kor.run("node", "deliver", "--json")
    assert done.returncode == OK, done.stderr
    assert done.json()["peers"] == [
        {"peer": "JPN", "messages": 1, "facts": 1, "waiting": 0, "last_error": None}
    ]
    _stop(jpn)
    assert _held(jpn) == [fact_id]
    receipts = _rows(kor.db, "SELECT receipt FROM node_outbox WHERE delivered_at IS NOT NULL")
    receipt = json.loads(bytes(receipts[0][0]))  # type: ignore[arg-type]
    assert receipt["format"] == "accord-node-receipt/1"
    assert receipt["receipt"]["recipient"] == "JPN"
    assert receipt["receipt"]["fact_ids"] == [fact_id]
    assert "accord-witness-JPN" in receipt["receipt"]["cosigned"]
    again = kor.run("node", "deliver", "--json")  # nothing waits: nothing is sent again
    assert again.returncode == OK and again.json()["peers"][0]["messages"] == 0
    assert _held(jpn) == [fact_id]
    witnesses = kor.run("audit", "witnesses", "--json")
    assert witnesses.returncode == OK, witnesses.stderr
    (ours,) = witnesses.json()
    theirs = jpn.run("audit", "witnesses", "--json")
    assert theirs.returncode == OK, theirs.stderr
    (seen,) = theirs.json()
    assert (ours["peer"], seen["peer"]) == ("JPN", "KOR")
    assert ours["ours"] is not None and ours["ours"]["size"] > 0  # KOR's log, cosigned by JPN
    assert seen["theirs"] == ours["ours"]  # the very checkpoint JPN witnessed
    shown = kor.run("audit", "witnesses")
    assert f"JPN: ok; ours cosigned: size {ours['ours']['size']}" in shown.stdout


def test_serve_delivers_the_outbox_in_the_background_and_a_kill_loses_nothing(
    pair: dict[str, Site],
) -> None:
    kor, jpn = pair["KOR"], pair["JPN"]
    count = 12
    ids = []
    for n in range(count):
        queued = kor.run("node", "send", "JPN", _fact_file(kor.folder, "KOR", n), "--json")
        assert queued.returncode == OK, queued.stderr
        ids.append(queued.json()["fact"]["id"])
    _serve(jpn)
    _serve(kor)  # its background deliverer sends the outbox
    _until(lambda: len(_held(jpn)) >= 1, "the first fact on JPN")
    _stop(jpn, signal.SIGKILL)  # mid-delivery, or after: either way nothing may be lost
    _serve(jpn)
    _until(lambda: _waiting(kor) == 0, "KOR's outbox to empty")
    _stop(kor)
    _stop(jpn)
    held = _held(jpn)
    assert sorted(held) == sorted(ids)
    assert len(held) == len(set(held)) == count


def test_a_node_not_pinned_is_refused_and_its_facts_stay_queued(tmp_path: Path) -> None:
    sites = _sites(tmp_path, ("KOR", "JPN"))
    kor, jpn = sites["KOR"], sites["JPN"]
    assert kor.run("node", "trust", jpn.folder / "card.json").returncode == OK  # one way only
    try:
        _serve(jpn)
        assert kor.run("node", "send", "JPN", _fact_file(kor.folder, "KOR", 1)).returncode == OK
        done = kor.run("node", "deliver", "--attempts", "2", "--timeout", "5", "--json")
        assert done.returncode != OK
        (state,) = done.json()["peers"]
        assert state["waiting"] == 1 and state["messages"] == 0
        assert "mutual-TLS handshake failed" in state["last_error"]
    finally:
        _stop(jpn)
    assert _held(jpn) == []


def test_three_nodes_relay_nothing_the_rules_do_not_send(tmp_path: Path) -> None:
    sites = _sites(tmp_path, ("KOR", "JPN", "USA"))
    _pin_all(sites)
    try:
        for site in sites.values():
            _serve(site)
        to_jpn = sites["KOR"].run("node", "send", "JPN", _fact_file(tmp_path, "KOR", 1), "--json")
        to_usa = sites["KOR"].run("node", "send", "USA", _fact_file(tmp_path, "KOR", 2), "--json")
        back = sites["JPN"].run("node", "send", "KOR", _fact_file(tmp_path, "JPN", 3), "--json")
        for done in (to_jpn, to_usa, back):
            assert done.returncode == OK, done.stderr
        for party in ("KOR", "JPN"):
            delivered = sites[party].run("node", "deliver")
            assert delivered.returncode == OK, delivered.stderr
    finally:
        for site in sites.values():
            _stop(site)
    assert _held(sites["JPN"]) == [to_jpn.json()["fact"]["id"]]
    assert _held(sites["USA"]) == [to_usa.json()["fact"]["id"]]
    assert _held(sites["KOR"]) == [back.json()["fact"]["id"]]


def test_send_refuses_a_fact_this_node_does_not_vouch_for_and_writes_nothing(
    pair: dict[str, Site],
) -> None:
    kor = pair["KOR"]
    foreign = _fact_file(kor.folder, "JPN", 1)  # a note JPN sends: KOR may not sign it
    done = kor.run("node", "send", "JPN", foreign)
    assert done.returncode == INVALID
    assert str(foreign) in done.stderr and "vouched for by JPN" in done.stderr
    unknown = kor.run("node", "send", "USA", _fact_file(kor.folder, "KOR", 1))
    assert unknown.returncode == INVALID and "'USA'" in unknown.stderr
    bad = kor.folder / "bad.json"
    bad.write_text('{"kind": "no-such-kind", "instant": "2019-11-22T09:00:00+00:00", "body": {}}')
    refused = kor.run("node", "send", "JPN", bad)
    assert refused.returncode == INVALID and "no-such-kind" in refused.stderr
    assert _rows(kor.db, "SELECT count(*) FROM node_outbox") == [(0,)]


def test_who_vouches_is_the_fact_definitions_answer() -> None:
    body = json.dumps(_note_body("KOR", 1)).encode()
    assert vouched_by(NOTE, body) == "KOR"
    lifted = SuspensionLifted(T0, "pact", "JPN", T0 + timedelta(days=1))
    assert vouched_by(NOTE, json.dumps(DEFINITIONS[FactKind.NOTE].encode(lifted)).encode()) == (
        "JPN"
    )
    with pytest.raises(InvalidInput, match="not a kind of fact"):
        vouched_by("test-note", body)
    with pytest.raises(InvalidInput, match="cannot read"):
        vouched_by(NOTE, b'{"type": "nonsense"}')
    with pytest.raises(InvalidInput, match="cannot read"):
        vouched_by(NOTE, b"\xff not json")


def test_the_documented_fact_files_are_facts_kor_vouches_for() -> None:
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    start = readme.index("cat > notice.json <<'JSON'\n") + len("cat > notice.json <<'JSON'\n")
    documented = [readme[start : readme.index("\nJSON\n", start)]]
    nodes = (root / "docs" / "nodes.md").read_text(encoding="utf-8")
    start = nodes.index("```json\n", nodes.index("### Sending facts")) + len("```json\n")
    documented.append(nodes[start : nodes.index("```", start)])
    for text in documented:
        doc = json.loads(text)
        assert set(doc) == {"kind", "instant", "body"}
        assert vouched_by(doc["kind"], json.dumps(doc["body"]).encode()) == "KOR"
