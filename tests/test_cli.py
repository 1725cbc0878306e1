"""The CLI as a user runs it: a real process, a real SQLite file, exit codes and messages."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from accord.service import MasterKey

ROOT = Path(__file__).resolve().parents[1]
BUILTIN = ROOT / "src" / "accord" / "scenario" / "builtin" / "gsomia-2019.yaml"
SCENARIOS = sorted((ROOT / "tests" / "scenarios").glob("*.yaml"))


# one master key for the whole test session, given as a user would: in the environment
MASTER_KEY = MasterKey.generate().text()


def accord(
    *args: str, db: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    prefix = ["--db", str(db)] if db is not None else []
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    environment["ACCORD_MASTER_KEY"] = MASTER_KEY
    return subprocess.run(
        [sys.executable, "-m", "accord", *prefix, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**environment, **(env or {})},
    )


def new_db(path: Path) -> Path:
    """A store with its keys made, as `accord keys init` makes them."""
    result = accord("keys", "init", db=path)
    assert result.returncode == 0, result.stderr
    return path


def rows(db: Path) -> dict[str, int]:
    """Rows per table, and facts per kind (as ``facts:KIND``)."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        counted = {t: conn.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}
        if "facts" in tables:
            query = "select kind, count(*) from facts group by kind"
            counted |= {f"facts:{kind}": n for kind, n in conn.execute(query)}
        return counted


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    db = new_db(tmp_path / "exchange.db")
    result = accord("load", str(BUILTIN), db=db)
    assert result.returncode == 0, result.stderr
    return db


def test_demo_shows_what_stops_at_midnight() -> None:
    result = accord("demo", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    after = [d for d in report["decisions"] if d["at"] == "2019-11-22T15:00:01Z"]
    direct = next(d for d in after if "directly" in d["label"] and "군사I급" not in d["label"])
    assert direct["as_it_happened"]["decision"] == "allow"
    assert direct["without_suspension"]["decision"] == "deny"
    codes = {r["code"] for r in direct["without_suspension"]["reasons"]}
    assert "agreement-not-in-force" in codes
    midnight = next(s for s in report["states"] if s["at"] == "2019-11-22T15:00:00Z")
    assert midnight["as_it_happened"]["status"] == "in_force"
    assert midnight["without_suspension"]["status"] == "terminated"
    assert {f["after"] for f in report["impact_without_suspension"]["flows"]} & {
        "still-flows",
        "needs-consent",
    }


def test_demo_tables_for_a_person() -> None:
    result = accord("demo")
    assert result.returncode == 0, result.stderr
    for text in ("rok-japan-gsomia", "terminated", "DENY", "ALLOW", "R7"):
        assert text in result.stdout


def test_scenario_files_pass() -> None:
    assert SCENARIOS, "tests/scenarios has no scenario files"
    result = accord("test", *map(str, SCENARIOS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].endswith(" 0 failed, 0 invalid")


def readme_scenario() -> str:
    """The scenario the README shows a new user."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert block.startswith("# my-world.yaml")
    return block


def test_the_readme_scenario_passes(tmp_path: Path) -> None:
    mine = tmp_path / "my-world.yaml"
    mine.write_text(readme_scenario(), encoding="utf-8")
    result = accord("test", str(mine))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "3 passed, 0 failed, 0 invalid"


def test_a_failed_expectation_is_one_line_and_exit_1(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        readme_scenario()
        + "  - {at: 2019-11-23T00:00:01+09:00, check: agreement, agreement: rok-japan-gsomia, status: in_force}\n",
        encoding="utf-8",
    )
    result = accord("test", str(wrong))
    assert result.returncode == 1, result.stdout + result.stderr
    fails = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fails) == 1
    assert "wrong.yaml:" in fails[0] and "in_force" in fails[0] and "terminated" in fails[0]
    assert result.stdout.strip().splitlines()[-1] == "3 passed, 1 failed, 0 invalid"


def test_an_invalid_file_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "parties:\n  - {code: KOR, name: K, timezone: Asia/Seoul, levels: [A]\n", encoding="utf-8"
    )
    result = accord("test", str(bad))
    assert result.returncode == 2
    assert "bad.yaml:" in result.stderr


def test_status_check_and_read_on_a_loaded_exchange(loaded: Path) -> None:
    status = accord(
        "agreement",
        "status",
        "rok-japan-gsomia",
        "--at",
        "2019-11-22T17:59:59+09:00",
        "--json",
        db=loaded,
    )
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["status"] == "notice_pending"
    assert state["expires_at"] == "2019-11-22T15:00:00Z"
    assert state["time_left_seconds"] == 6 * 3600 + 1
    suspended = json.loads(
        accord(
            "agreement",
            "status",
            "rok-japan-gsomia",
            "--at",
            "2019-11-23T00:00:00+09:00",
            "--json",
            db=loaded,
        ).stdout
    )
    assert suspended["status"] == "in_force" and suspended["notice"]["suspended"] is True
    check = accord(
        "check",
        "release",
        "kor-missile-eve",
        "--from",
        "KOR",
        "--to",
        "JPN",
        "--at",
        "2019-11-23T00:00:01+09:00",
        "--json",
        db=loaded,
    )
    assert check.returncode == 0 and json.loads(check.stdout)["decision"] == "allow"
    no_route = accord(
        "check",
        "release",
        "kor-missile-eve",
        "--from",
        "KOR",
        "--to",
        "JPN",
        "--via",
        "USA",
        "--at",
        "2019-11-23T00:00:01+09:00",
        "--json",
        db=loaded,
    )
    assert no_route.returncode == 1
    assert "no-originator-consent" in {r["code"] for r in json.loads(no_route.stdout)["reasons"]}


def test_read_prints_content_only_when_allowed(tmp_path: Path) -> None:
    db = new_db(tmp_path / "x.db")
    assert accord("topic", "add", "nk-missile", db=db).returncode == 0
    assert (
        accord(
            "party",
            "add",
            "KOR",
            "--name",
            "Korea",
            "--timezone",
            "Asia/Seoul",
            "--levels",
            "III,II,I",
            db=db,
        ).returncode
        == 0
    )
    for user, clearance in (("cleared", "II"), ("low", "III")):
        assert (
            accord(
                "user",
                "add",
                user,
                "--party",
                "KOR",
                "--clearance",
                clearance,
                "--need-to-know",
                "nk-missile",
                db=db,
            ).returncode
            == 0
        )
    made = accord(
        "item",
        "add",
        "r1",
        "--originator",
        "KOR",
        "--level",
        "II",
        "--topics",
        "nk-missile",
        "--created",
        "2019-10-31T17:00:00+09:00",
        "--content",
        "TWO SRBMS",
        db=db,
    )
    assert made.returncode == 0, made.stderr
    ok = accord("read", "r1", "--user", "cleared", "--at", "2019-11-01T00:00:00+09:00", db=db)
    assert ok.returncode == 0 and "TWO SRBMS" in ok.stdout
    denied = accord(
        "read", "r1", "--user", "low", "--at", "2019-11-01T00:00:00+09:00", "--json", db=db
    )
    assert denied.returncode == 1 and "TWO SRBMS" not in denied.stdout
    assert [r["code"] for r in json.loads(denied.stdout)["reasons"]] == ["clearance-too-low"]
    early = accord(
        "read", "r1", "--user", "cleared", "--at", "2019-10-01T00:00:00+09:00", "--json", db=db
    )
    assert [r["code"] for r in json.loads(early.stdout)["reasons"]] == ["not-held"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            (
                "check",
                "read",
                "kor-missile-eve",
                "--user",
                "jpn-analyst",
                "--at",
                "2019-11-23T00:00:00",
            ),
            "no UTC offset",
        ),
        (
            (
                "check",
                "read",
                "no-such-item",
                "--user",
                "jpn-analyst",
                "--at",
                "2019-11-23T00:00:00Z",
            ),
            "no-such-item",
        ),
        (
            ("agreement", "status", "no-such-agreement", "--at", "2019-11-23T00:00:00Z"),
            "no-such-agreement",
        ),
        (
            (
                "release",
                "kor-missile-eve",
                "--from",
                "KOR",
                "--to",
                "JPN",
                "--at",
                "2016-01-01T00:00:00Z",
            ),
            "earlier than the latest",
        ),
        (
            (
                "agreement",
                "add",
                "bad",
                "--parties",
                "KOR,JPN",
                "--in-force-from",
                "2020-01-01T00:00:00Z",
                "--timezone",
                "Asia/Seoul",
                "--equivalence",
                "KOR=군사II급비밀,JPN=秘",
                "--equivalence",
                "KOR=군사III급비밀,JPN=極秘",
            ),
            "not order-preserving",
        ),
        (
            ("party", "add", "XXX", "--name", "X", "--timezone", "Mars/Olympus", "--levels", "A"),
            "Mars/Olympus",
        ),
        (
            (
                "agreement",
                "notice",
                "rok-japan-gsomia",
                "--by",
                "KOR",
                "--at",
                "2030-01-01T00:00:00",
            ),
            "no UTC offset",
        ),
    ],
)
def test_bad_input_exits_2_names_the_value_and_writes_nothing(
    loaded: Path, args: tuple[str, ...], needle: str
) -> None:
    before = rows(loaded)
    result = accord(*args, db=loaded)
    assert result.returncode == 2, result.stdout + result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert rows(loaded) == before


def test_a_refused_act_exits_1_and_writes_only_its_record(loaded: Path) -> None:
    before = rows(loaded)
    result = accord(
        "release",
        "kor-top-eve",
        "--from",
        "KOR",
        "--to",
        "JPN",
        "--at",
        "2030-01-01T00:00:00+09:00",
        "--json",
        db=loaded,
    )
    assert result.returncode == 1
    assert "level-not-covered" in {r["code"] for r in json.loads(result.stdout)["reasons"]}
    after = rows(loaded)
    assert after.pop("audit_entries") == before.pop("audit_entries") + 1  # the refusal (R12)
    assert after.pop("audit_nodes") >= before.pop("audit_nodes")  # the log's subtrees
    assert after == before


def test_impact_and_readable(loaded: Path) -> None:
    impact = accord(
        "impact", "rok-japan-gsomia", "--at", "2019-11-23T00:00:00+09:00", "--json", db=loaded
    )
    assert impact.returncode == 0, impact.stderr
    report = json.loads(impact.stdout)
    assert report["actual_state"]["status"] == "in_force"
    assert report["flows"] and report["protected_holdings"]
    readable = accord(
        "readable", "jpn-analyst", "--at", "2019-12-01T00:00:00+09:00", "--json", db=loaded
    )
    assert readable.returncode == 0
    ids = json.loads(readable.stdout)
    for item_id in ids:
        single = accord(
            "check",
            "read",
            item_id,
            "--user",
            "jpn-analyst",
            "--at",
            "2019-12-01T00:00:00+09:00",
            db=loaded,
        )
        assert single.returncode == 0


def test_load_is_all_or_nothing(tmp_path: Path) -> None:
    db = new_db(tmp_path / "x.db")
    assert accord("topic", "add", "seed", db=db).returncode == 0
    before = rows(db)
    refused = tmp_path / "refused.yaml"
    refused.write_text(
        readme_scenario()
        + "  - {at: 2020-01-01T00:00:00+09:00, check: agreement, agreement: rok-japan-gsomia,"
        " status: terminated}\n",
        encoding="utf-8",
    )
    # a release after the lapse is refused by policy: the whole load is refused
    text = refused.read_text(encoding="utf-8").replace(
        "expect:\n",
        "  - {at: 2019-12-02T09:00:00+09:00, type: release, item: report-1, from: KOR, to: JPN}\nexpect:\n",
    )
    refused.write_text(text, encoding="utf-8")
    result = accord("load", str(refused), db=db)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "refused.yaml:" in result.stderr and "agreement-not-in-force" in result.stderr
    assert rows(db) == before
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text(
        readme_scenario().replace("2016-11-23T00:00:00+09:00", "2016-11-23T00:00:00"),
        encoding="utf-8",
    )
    result = accord("load", str(invalid), db=db)
    assert result.returncode == 2
    assert "invalid.yaml:" in result.stderr and "2016-11-23T00:00:00" in result.stderr
    assert rows(db) == before


def test_instants_are_shown_in_the_agreements_zone_or_the_viewers(loaded: Path) -> None:
    args = ("agreement", "status", "rok-japan-gsomia", "--at", "2019-11-22T17:59:59+09:00")
    own = accord(*args, db=loaded)
    assert own.returncode == 0 and "2019-11-23T00:00:00+09:00" in own.stdout
    viewer = accord(*args, "--tz", "America/New_York", db=loaded)
    assert viewer.returncode == 0 and "2019-11-22T10:00:00-05:00" in viewer.stdout
    bad = accord(*args, "--tz", "Mars/Olympus", db=loaded)
    assert bad.returncode == 2 and "Mars/Olympus" in bad.stderr


def test_an_event_whose_end_is_beyond_the_calendar_is_refused_and_writes_nothing(
    loaded: Path,
) -> None:
    before = rows(loaded)
    result = accord(
        "agreement",
        "notice",
        "rok-japan-gsomia",
        "--by",
        "JPN",
        "--at",
        "9999-10-01T00:00:00Z",
        db=loaded,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "beyond year 9999" in result.stderr
    assert rows(loaded) == before
    later = accord(
        "agreement",
        "status",
        "rok-japan-gsomia",
        "--at",
        "2019-12-01T00:00:00Z",
        "--json",
        db=loaded,
    )
    assert later.returncode == 0 and json.loads(later.stdout)["status"] == "in_force"


def test_short_and_huge_terms(tmp_path: Path) -> None:
    db = new_db(tmp_path / "terms.db")
    assert (
        accord(
            "party", "add", "AAA", "--name", "A", "--timezone", "UTC", "--levels", "L", db=db
        ).returncode
        == 0
    )
    assert (
        accord(
            "party", "add", "BBB", "--name", "B", "--timezone", "UTC", "--levels", "M", db=db
        ).returncode
        == 0
    )
    common = (
        "--parties",
        "AAA,BBB",
        "--in-force-from",
        "2020-01-01T00:00:00Z",
        "--timezone",
        "UTC",
        "--equivalence",
        "AAA=L,BBB=M",
    )
    assert accord("agreement", "add", "hourly", *common, "--term", "PT1H", db=db).returncode == 0
    status = accord(
        "agreement", "status", "hourly", "--at", "2035-01-01T00:30:00Z", "--json", db=db
    )
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["term_end"] == "2035-01-01T01:00:00Z"
    huge = accord("agreement", "add", "huge", *common, "--term", "P9000Y", db=db)
    assert huge.returncode == 2 and "P9000Y" in huge.stderr


def test_user_text_is_shown_as_stored_never_as_markup(tmp_path: Path) -> None:
    db = new_db(tmp_path / "markup.db")
    made = accord(
        "party",
        "add",
        "FRA",
        "--name",
        "France [/]",
        "--timezone",
        "Europe/Paris",
        "--levels",
        "DR,secret [rel usa]",
        db=db,
    )
    assert made.returncode == 0
    listing = accord("party", "list", db=db)
    assert (
        listing.returncode == 0
        and "France [/]" in listing.stdout
        and "secret [rel usa]" in listing.stdout
    )


def test_duplicate_topics_and_binary_content_are_bad_input(tmp_path: Path) -> None:
    db = new_db(tmp_path / "dup.db")
    assert accord("topic", "add", "a,b", db=db).returncode == 0
    before = rows(db)
    again = accord("topic", "add", "c,a", db=db)
    assert again.returncode == 2 and "'a'" in again.stderr
    assert rows(db) == before
    assert (
        accord(
            "party",
            "add",
            "KOR",
            "--name",
            "K",
            "--timezone",
            "Asia/Seoul",
            "--levels",
            "III,II",
            db=db,
        ).returncode
        == 0
    )
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(128, 256)))
    item = accord(
        "item",
        "add",
        "x",
        "--originator",
        "KOR",
        "--level",
        "II",
        "--topics",
        "a",
        "--content-file",
        str(binary),
        db=db,
    )
    assert item.returncode == 2 and "UTF-8" in item.stderr
