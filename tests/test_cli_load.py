"""`accord load` into a live exchange, as a user runs it: a real process and a real SQLite file.

A file may name what the store holds, repeat what it holds identically (accepted, not added
again) and add to it; a definition that differs from the stored one is refused naming the file,
line, field and both values; any refusal leaves the store exactly as it was.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from accord.scenario import load_scenario
from accord.service import Exchange, MasterKey
from accord.service.scenarios import load_file
from tests.test_cli import BUILTIN, accord, new_db, rows

BASE = """\
topics: [nk-missile, cyber]
parties:
  - {code: KOR, name: Republic of Korea, timezone: Asia/Seoul, levels: [III, II, I]}
  - {code: JPN, name: Japan, timezone: Asia/Tokyo, levels: [秘, 極秘, 機密]}
agreements:
  - id: gsomia
    parties: [KOR, JPN]
    in_force_from: 2016-11-23T00:00:00+09:00
    term: P1Y
    notice_period: P90D
    timezone: Asia/Seoul
    topics: all
    equivalence:
      - {KOR: II, JPN: 極秘}
      - {KOR: III, JPN: 秘}
users:
  - {id: jpn-analyst, party: JPN, clearance: 極秘, need_to_know: [nk-missile]}
items:
  - {id: report-1, originator: KOR, level: II, topics: [nk-missile], releasable_to: [JPN],
     created: 2019-10-31T17:00:00+09:00, title: Launch report, content: Two SRBMs.}
events:
  - {at: 2019-08-23T15:25:00+09:00, type: termination_notice, agreement: gsomia, by: KOR}
  - {at: 2019-11-01T09:00:00+09:00, type: release, item: report-1, from: KOR, to: JPN}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def dump(db: Path) -> list[str]:
    """Every row of the store, as SQL: equal dumps are equal contents."""
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def audit_size(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        count: int = conn.execute("select count(*) from audit_entries").fetchone()[0]
        return count


@pytest.fixture
def base(tmp_path: Path) -> Path:
    db = new_db(tmp_path / "exchange.db")
    result = accord("load", str(write(tmp_path / "base.yaml", BASE)), db=db)
    assert result.returncode == 0, result.stderr
    return db


def test_loading_the_same_file_again_changes_nothing(tmp_path: Path) -> None:
    db = new_db(tmp_path / "exchange.db")
    first = accord("load", str(BUILTIN), db=db)
    assert first.returncode == 0, first.stderr
    before, size = dump(db), audit_size(db)
    again = accord("load", str(BUILTIN), db=db)
    assert again.returncode == 0, again.stderr
    assert "added 0 topics, 0 parties, 0 agreements, 0 users, 0 items, 0 events" in again.stdout
    assert (
        "already in the store: 3 topics, 3 parties, 4 agreements, 5 users, 10 items, 11 events"
        in (again.stdout)
    )
    assert dump(db) == before and audit_size(db) == size
    assert accord("audit", "verify", db=db).returncode == 0


def test_the_same_definitions_written_differently_are_identical(base: Path, tmp_path: Path) -> None:
    """Rows of a table in another order, P12M for P1Y, the same instant in UTC, defaults spelled
    out: the same definition."""
    same = (
        BASE.replace("term: P1Y", "term: P12M\n    renewal: automatic")
        .replace("2016-11-23T00:00:00+09:00", "2016-11-22T15:00:00Z")
        .replace(
            "      - {KOR: II, JPN: 極秘}\n      - {KOR: III, JPN: 秘}\n",
            "      - {JPN: 秘, KOR: III}\n      - {KOR: II, JPN: 極秘}\n",
        )
        .replace("topics: [nk-missile, cyber]", "topics: [cyber, nk-missile]")
    )
    before = dump(base)
    result = accord("load", str(write(tmp_path / "same.yaml", same)), db=base)
    assert result.returncode == 0, result.stderr
    assert (
        "already in the store: 2 topics, 2 parties, 1 agreements, 1 users, 1 items, 2 events"
        in (result.stdout)
    )
    assert dump(base) == before


def test_a_file_may_name_only_new_users_and_events_of_stored_parties_and_agreements(
    base: Path, tmp_path: Path
) -> None:
    more = write(
        tmp_path / "more.yaml",
        "users:\n"
        "  - {id: jpn-second, party: JPN, clearance: 極秘, need_to_know: [nk-missile]}\n"
        "events:\n"
        "  - {at: 2019-11-22T18:00:00+09:00, type: notice_suspended, agreement: gsomia, by: KOR}\n",
    )
    before = rows(base)
    result = accord("load", str(more), db=base)
    assert result.returncode == 0, result.stderr
    assert "added 0 topics, 0 parties, 0 agreements, 1 users, 0 items, 1 events" in result.stdout
    after = rows(base)
    assert after["facts:user"] == before["facts:user"] + 1
    assert after["facts:agreement-event"] == before.get("facts:agreement-event", 0) + 1
    # the new user reads the stored copy; the stored agreement now has the suspension
    read = accord(
        "check", "read", "report-1", "--user", "jpn-second", "--at", "2019-12-01T00:00:00+09:00",
        "--json", db=base,
    )  # fmt: skip
    assert read.returncode == 0 and json.loads(read.stdout)["decision"] == "allow"
    status = accord(
        "agreement", "status", "gsomia", "--at", "2019-11-23T00:00:00+09:00", "--json", db=base
    )
    assert json.loads(status.stdout)["status"] == "in_force"
    assert accord("audit", "verify", db=base).returncode == 0


CONFLICTS = [
    pytest.param(
        ("levels: [秘, 極秘, 機密]", "levels: [秘, 極秘]"),
        ["parties[1].levels", "party 'JPN'", "['秘', '極秘', '機密']", "['秘', '極秘']"],
        "other.yaml:4:",
        id="party-levels",
    ),
    pytest.param(
        ("      - {KOR: III, JPN: 秘}\n", ""),
        [
            "agreements[0].equivalence",
            "agreement 'gsomia'",
            "[{'KOR': 'II', 'JPN': '極秘'}, {'KOR': 'III', 'JPN': '秘'}]",
            "this file gives [{'KOR': 'II', 'JPN': '極秘'}]",
        ],
        "other.yaml:14:",
        id="agreement-equivalence",
    ),
    pytest.param(
        ("notice_period: P90D", "notice_period: P6M"),
        ["agreements[0].notice_period", "with notice_period P90D", "this file gives P6M"],
        "other.yaml:10:",
        id="agreement-notice-period",
    ),
    pytest.param(
        ("clearance: 極秘", "clearance: 機密"),
        ["users[1].clearance", "user 'jpn-analyst'", "with clearance '極秘'", "gives '機密'"],
        "other.yaml:18:",
        id="user-clearance",
    ),
    pytest.param(
        ("level: II,", "level: III,"),
        ["items[0].level", "item 'report-1'", "with level 'II'", "gives 'III'"],
        "other.yaml:20:",
        id="item-level",
    ),
    pytest.param(
        ("content: Two SRBMs.", "content: Three SRBMs."),
        ["item 'report-1'", "another title, content or stix", "not shown"],
        "other.yaml:20:",
        id="item-content",
    ),
    pytest.param(
        ("title: Launch report", "title: Launch Report"),
        ["item 'report-1'", "another title, content or stix"],
        "other.yaml:20:",
        id="item-title",
    ),
]


@pytest.mark.parametrize(("change", "needles", "where"), CONFLICTS)
def test_a_conflicting_definition_is_refused_naming_both_values(
    base: Path, tmp_path: Path, change: tuple[str, str], needles: list[str], where: str
) -> None:
    old, new = change
    assert old in BASE
    # a new user before the conflict: refused with the rest (all or nothing)
    text = BASE.replace(
        "users:\n", "users:\n  - {id: kor-new, party: KOR, clearance: II, need_to_know: [cyber]}\n"
    )
    other = write(tmp_path / "other.yaml", text.replace(old, new))
    before, size = dump(base), audit_size(base)
    result = accord("load", str(other), db=base)
    assert result.returncode == 2, result.stdout + result.stderr
    message = result.stderr
    assert where in message, message
    for needle in needles:
        assert needle in message, message
    assert dump(base) == before and audit_size(base) == size


def test_an_event_before_the_latest_recorded_act_is_refused_in_the_files_offset(
    base: Path, tmp_path: Path
) -> None:
    late = write(
        tmp_path / "late.yaml",
        "users:\n"
        "  - {id: jpn-second, party: JPN, clearance: 極秘, need_to_know: [nk-missile]}\n"
        "events:\n"
        "  - {at: 2019-10-01T09:00:00+09:00, type: notice_suspended, agreement: gsomia, by: KOR}\n",
    )
    before, size = dump(base), audit_size(base)
    result = accord("load", str(late), db=base)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "late.yaml:4:" in result.stderr
    assert "notice_suspended at 2019-10-01T09:00:00+09:00" in result.stderr
    assert "latest act the store has recorded (2019-11-01T09:00:00+09:00)" in result.stderr
    assert dump(base) == before and audit_size(base) == size


def test_a_new_item_created_before_the_latest_recorded_act_is_refused(
    base: Path, tmp_path: Path
) -> None:
    text = (
        "items:\n"
        "  - {id: report-0, originator: KOR, level: II, topics: [nk-missile], releasable_to: [JPN],\n"
        "     created: 2019-10-01T17:00:00+09:00, title: Earlier, content: Before the release.}\n"
    )
    before, size = dump(base), audit_size(base)
    result = accord("load", str(write(tmp_path / "early.yaml", text)), db=base)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "early.yaml:2: item report-0 created at 2019-10-01T08:00:00Z is before" in result.stderr
    assert "(2019-11-01T00:00:00Z)" in result.stderr
    assert dump(base) == before and audit_size(base) == size


def test_a_recorded_event_the_file_expects_denied_conflicts(base: Path, tmp_path: Path) -> None:
    text = BASE.replace(
        "type: release, item: report-1, from: KOR, to: JPN}",
        "type: release, item: report-1, from: KOR, to: JPN, expect: deny}",
    )
    before = dump(base)
    result = accord("load", str(write(tmp_path / "deny.yaml", text)), db=base)
    assert result.returncode == 2
    assert "deny.yaml:23:" in result.stderr and "already recorded this event" in result.stderr
    assert dump(base) == before


def test_a_refused_event_in_a_file_that_extends_the_store_writes_nothing(
    base: Path, tmp_path: Path
) -> None:
    """New definitions and an event policy refuses: the whole load is refused (exit 1)."""
    text = (
        "users:\n"
        "  - {id: jpn-second, party: JPN, clearance: 極秘, need_to_know: [nk-missile]}\n"
        "items:\n"
        "  - {id: report-2, originator: KOR, level: II, topics: [nk-missile], releasable_to: [JPN],\n"
        "     created: 2019-12-01T17:00:00+09:00, title: Later, content: After the lapse.}\n"
        "events:\n"
        "  - {at: 2019-12-02T09:00:00+09:00, type: release, item: report-2, from: KOR, to: JPN}\n"
    )
    before, size = dump(base), audit_size(base)
    result = accord("load", str(write(tmp_path / "refused.yaml", text)), db=base)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "refused.yaml:7:" in result.stderr and "agreement-not-in-force" in result.stderr
    assert dump(base) == before and audit_size(base) == size


def test_an_unknown_reference_names_what_the_store_and_the_file_hold(
    base: Path, tmp_path: Path
) -> None:
    text = "users:\n  - {id: x-1, party: USA, clearance: SECRET, need_to_know: []}\n"
    before = dump(base)
    result = accord("load", str(write(tmp_path / "unknown.yaml", text)), db=base)
    assert result.returncode == 2
    assert "unknown.yaml:2:" in result.stderr
    assert "unknown party 'USA' (parties: JPN, KOR)" in result.stderr
    assert dump(base) == before


# --- in process, over every acceptance scenario ---------------------------------------------------

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))
FACT_TABLES = ("facts", "items", "wrapped_keys")


def _store(db: Path, master: MasterKey, *files: Path) -> Path:
    """A store with its keys made and ``files`` loaded one after the other, as `accord load`."""
    exchange = Exchange.open(f"sqlite:///{db}", master=lambda: master)
    try:
        exchange.init_keys()
        for file in files:
            load_file(exchange, file)
    finally:
        exchange.store.close()
    return db


def _facts(db: Path) -> dict[str, int]:
    counted = rows(db)
    kinds = {k: n for k, n in counted.items() if k.startswith("facts:")}
    return {table: counted[table] for table in FACT_TABLES} | kinds


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenario_loads_again_without_writing(scenario: Path, tmp_path: Path) -> None:
    master = MasterKey.generate()
    db = _store(tmp_path / "x.db", master, scenario)
    before = dump(db)
    _store_again = Exchange.open(f"sqlite:///{db}", master=lambda: master)
    try:
        loaded = load_file(_store_again, scenario)
    finally:
        _store_again.store.close()
    assert loaded.events == 0 and not loaded.scenario.parties and not loaded.scenario.items
    assert loaded.scenario.known.parties
    assert loaded.known_events == len(load_scenario(scenario).events)
    assert dump(db) == before


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_definitions_then_the_whole_file_make_the_same_facts_as_one_load(
    scenario: Path, tmp_path: Path
) -> None:
    """A file of definitions only, then the whole file (its definitions repeated, its events
    naming what the store holds): the same facts as loading the whole file at once."""
    text = scenario.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    definitions = {
        key: data[key] for key in ("topics", "parties", "agreements", "users") if key in data
    }
    first = write(tmp_path / "definitions.yaml", yaml.safe_dump(definitions, allow_unicode=True))
    master = MasterKey.generate()
    split = _store(tmp_path / "split.db", master, first, scenario)
    whole = _store(tmp_path / "whole.db", master, scenario)
    assert _facts(split) == _facts(whole)
