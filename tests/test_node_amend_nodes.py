"""Two real nodes over mutual TLS on 127.0.0.1: KOR's operator proposes an amendment with the
CLI, ``accord node deliver`` carries KOR's share to JPN's ``accord serve``, JPN's operator
countersigns, and JPN's share goes back to KOR's ``accord serve``. Both nodes' ``agreement
status`` then show the amended terms from the amendment's instant on. Every wait is bounded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_cli_keys_audit import INVALID, OK
from tests.test_node_apply import AID, Pair, make_pair
from tests.test_node_wire import Site, _serve, _stop

AT = "2019-09-01T09:00:00+09:00"  # the amendment is in force from here on
BEFORE = "2019-09-01T08:59:59.999999+09:00"


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[Pair, Site, Site]]:
    pair = make_pair(tmp_path)
    sites = [Site(m.party, m.db, m.key_file, m.port, m.db.parent) for m in (pair.kor, pair.jpn)]
    try:
        yield pair, sites[0], sites[1]
    finally:
        for site in sites:
            _stop(site)


def _ok(site: Site, *args: str) -> object:
    done = site.run(*args, "--json")
    assert done.returncode == OK, done.stderr
    return done.json()


def _term_end(site: Site, at: str) -> object:
    return _ok(site, "agreement", "status", AID, "--at", at)["term_end"]  # type: ignore[index]


ONE_YEAR = "2019-11-22T15:00:00Z"  # the current term's end: midnight KST
TWO_YEARS = "2020-11-22T15:00:00Z"  # the amended two-year term, counted from its start


def test_an_amendment_proposed_on_kor_and_countersigned_on_jpn_applies_on_both(
    nodes: tuple[Pair, Site, Site],
) -> None:
    _, kor, jpn = nodes
    _serve(jpn)
    proposed = _ok(kor, "node", "propose", AID, "--term", "P2Y", "--at", AT)
    proposal = proposed["proposal"]  # type: ignore[index]
    assert (proposal["state"], proposal["waiting_for"]) == ("awaiting", ["JPN"])
    assert _ok(kor, "node", "deliver")["done"] is True  # type: ignore[index]

    [held] = _ok(jpn, "node", "proposals")  # type: ignore[misc]
    assert (held["id"], held["state"], held["signed_by"]) == (
        proposal["id"],
        "to-countersign",
        ["KOR"],
    )
    assert _term_end(jpn, AT) == ONE_YEAR  # pending: not applied

    signed = _ok(jpn, "node", "countersign", proposal["id"])["proposal"]  # type: ignore[index]
    assert signed["state"] == "applied" and signed["signed_by"] == ["JPN", "KOR"]
    again = jpn.run("node", "countersign", proposal["id"], "--json")
    assert again.returncode == OK and again.json()["proposal"] == signed  # the same answer

    _serve(kor)
    assert _ok(jpn, "node", "deliver")["done"] is True  # type: ignore[index]
    [done] = _ok(kor, "node", "proposals")  # type: ignore[misc]
    assert done["state"] == "applied"
    for site in (kor, jpn):
        assert _term_end(site, BEFORE) == ONE_YEAR
        assert _term_end(site, AT) == TWO_YEARS
    text = jpn.run("agreement", "status", AID, "--at", AT)
    assert "received amendment by JPN, KOR" in text.stdout


def test_countersigning_an_unknown_proposal_is_exit_2_naming_it(
    nodes: tuple[Pair, Site, Site],
) -> None:
    _, _, jpn = nodes
    done = jpn.run("node", "countersign", "no-such-proposal")
    assert done.returncode == INVALID
    assert "no amendment proposal 'no-such-proposal'" in done.stderr
    assert "Traceback" not in done.stderr


def test_propose_with_a_file_and_its_errors(nodes: tuple[Pair, Site, Site], tmp_path: Path) -> None:
    _, kor, _ = nodes
    good = tmp_path / "amend.json"
    good.write_text('{"notice_period": "P180D", "renewal": "none"}')
    made = _ok(kor, "node", "propose", AID, "--amendment", str(good), "--at", AT)
    assert made["proposal"]["changes"] == {  # type: ignore[index]
        "notice_period": "P180D",
        "renewal": "none",
    }
    bad = tmp_path / "bad.json"
    bad.write_text('{"renewal": "sometimes"}')
    done = kor.run("node", "propose", AID, "--amendment", str(bad), "--at", AT)
    assert done.returncode == INVALID
    assert f'{bad}: renewal: "sometimes" is not a valid renewal' in done.stderr
    both = kor.run("node", "propose", AID, "--amendment", str(good), "--term", "P2Y", "--at", AT)
    assert both.returncode == INVALID and "not both" in both.stderr


def test_the_one_step_amend_on_a_node_points_to_node_propose(
    nodes: tuple[Pair, Site, Site],
) -> None:
    _, kor, _ = nodes
    done = kor.run("agreement", "amend", AID, "--term", "P2Y", "--at", AT)
    assert done.returncode == INVALID
    assert "accord node propose" in done.stderr
