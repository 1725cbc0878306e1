"""``kill -9`` of either node mid-delivery, as real ``accord serve`` processes over mutual TLS
on 127.0.0.1: no acknowledged fact is lost and none is applied twice. Every wait is bounded in
time."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.test_cli_keys_audit import OK
from tests.test_node_wire import (
    Site,
    _fact_file,
    _held,
    _pin_all,
    _rows,
    _serve,
    _sites,
    _stop,
    _until,
    _waiting,
)

COUNT = 30


def _log_subjects(site: Site, kind: str) -> list[dict[str, object]]:
    from accord.service import Exchange, MasterKey, journal

    master = MasterKey.from_file(site.key)
    exchange = Exchange.open(f"sqlite:///{site.db}", master=lambda: master, create=False)
    try:
        with exchange.store.transaction() as tx:
            size = int(json.loads(tx.meta(journal.FRONTIER) or '{"size": 0}')["size"])
            entries = [tx.entry(seq) for seq in range(size)]
    finally:
        exchange.store.close()
    bodies = [journal.decode_entry(e[0], n) for n, e in enumerate(entries) if e is not None]
    return [b["subject"] for b in bodies if b["kind"] == kind]


def test_kill_9_of_sender_and_receiver_mid_delivery_loses_nothing_and_applies_nothing_twice(
    tmp_path: Path,
) -> None:
    sites = _sites(tmp_path, ("KOR", "JPN"))
    _pin_all(sites)
    kor, jpn = sites["KOR"], sites["JPN"]
    ids = []
    for n in range(COUNT):
        queued = kor.run("node", "send", "JPN", _fact_file(kor.folder, "KOR", n), "--json")
        assert queued.returncode == OK, queued.stderr
        ids.append(queued.json()["fact"]["id"])
    batch = ("--node-batch", "1")  # one fact a message: a kill lands between messages
    try:
        _serve(jpn)
        _serve(kor, *batch)
        _until(lambda: len(_held(jpn)) >= COUNT // 3, "a third of the facts")
        _stop(kor, signal.SIGKILL)  # the sender, mid-delivery
        _serve(kor, *batch)
        _until(lambda: len(_held(jpn)) >= 2 * COUNT // 3, "two thirds of the facts")
        _stop(jpn, signal.SIGKILL)  # the receiver, mid-delivery: the sender keeps its facts
        _serve(jpn)
        _until(lambda: _waiting(kor) == 0, "KOR's outbox to empty")
    finally:
        _stop(kor)
        _stop(jpn)
    assert _held(jpn) == ids  # every fact once, in order
    applied = [f["id"] for s in _log_subjects(jpn, "node-message-accepted") for f in s["facts"]]  # type: ignore[attr-defined]
    assert applied == ids  # the receiver's log: each fact applied once, in order
    delivered = [i for s in _log_subjects(kor, "node-delivered") for i in s["facts"]]  # type: ignore[attr-defined]
    assert delivered == ids  # and each acknowledged once on the sender's side
    assert _rows(kor.db, "SELECT count(*) FROM node_outbox WHERE receipt IS NULL") == [(0,)]
