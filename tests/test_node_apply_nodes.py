"""Two real nodes: JPN's ``accord serve`` process answers over mutual TLS on 127.0.0.1; KOR's
operator records a notice and its suspension with the CLI, which queues each for JPN in the
act's transaction, and ``accord node deliver`` sends them. JPN's agreement state follows, as
its own CLI reports it. Every wait is bounded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_cli_keys_audit import OK
from tests.test_node_apply import AID, Pair, make_pair
from tests.test_node_wire import Site, _serve, _stop

MIDNIGHT_KST = "2019-11-23T00:00:00+09:00"


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[Pair, Site, Site]]:
    pair = make_pair(tmp_path)
    sites = [Site(m.party, m.db, m.key_file, m.port, m.db.parent) for m in (pair.kor, pair.jpn)]
    try:
        yield pair, sites[0], sites[1]
    finally:
        for site in sites:
            _stop(site)


def _status(site: Site, at: str) -> dict[str, object]:
    done = site.run("agreement", "status", AID, "--at", at, "--json")
    assert done.returncode == OK, done.stderr
    return done.json()  # type: ignore[no-any-return]


def test_a_suspension_sent_by_kor_applies_on_jpn_and_jpn_follows_it(
    nodes: tuple[Pair, Site, Site],
) -> None:
    _, kor, jpn = nodes
    _serve(jpn)
    notice = kor.run("agreement", "notice", AID, "--by", "KOR", "--at", "2019-08-23T15:25:00+09:00")
    assert notice.returncode == OK, notice.stderr
    first = kor.run("node", "deliver", "--json")
    assert first.returncode == OK, first.stderr
    assert _status(jpn, MIDNIGHT_KST)["status"] == "terminated"  # the notice alone: it lapses
    suspend = kor.run(
        "agreement", "suspend", AID, "--by", "KOR", "--at", "2019-11-22T18:00:00+09:00"
    )
    assert suspend.returncode == OK, suspend.stderr
    second = kor.run("node", "deliver", "--json")
    assert second.returncode == OK, second.stderr
    assert second.json()["peers"][0]["waiting"] == 0
    shown = _status(jpn, MIDNIGHT_KST)
    assert shown["status"] == "in_force"
    assert shown == {**_status(kor, MIDNIGHT_KST), "notes": shown["notes"]}
    received = shown["notes"]["received"]  # type: ignore[index]
    assert [(r["note"], r["from"]) for r in received] == [
        ("termination_notice", "KOR"),
        ("notice_suspended", "KOR"),
    ]
