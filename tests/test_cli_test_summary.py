"""`accord test`'s report: invalid files counted, instants as the file wrote them, JSON per failure."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import accord
from tests.test_cli_load import BASE, write

# four expectations that fail, each with its instant written in another offset, and one that passes
FAILING = (
    BASE.replace(
        "type: release, item: report-1, from: KOR, to: JPN}",
        "type: release, item: report-1, from: KOR, to: JPN, expect: deny, reason: no-agreement}",
    )
    + "expect:\n"
    + "  - {at: 2019-11-22T23:59:59+09:00, check: agreement, agreement: gsomia, status: in_force}\n"
    + "  - {at: 2019-11-23T00:00:00Z, check: read, item: report-1, user: jpn-analyst,"
    " decision: deny}\n"
    + "  - {at: 2019-11-23T00:00:00-05:00, check: release, item: report-1, from: KOR, to: JPN,"
    " decision: allow}\n"
    + "  - {at: 2019-11-22T23:59:59+09:00, check: agreement, agreement: gsomia,"
    " status: notice_pending, expires_at: 2019-11-23T00:00:00+09:00}\n"
    + "  - {at: 2019-11-22T14:00:00+01:00, check: agreement, agreement: gsomia,"
    " status: notice_pending, expires_at: 2019-11-23T00:00:00+01:00}\n"
)
UNKNOWN_FIELD = (
    "parties:\n  - {code: KOR, name: K, timezone: Asia/Seoul, levels: [A], colour: red}\n"
)


def test_invalid_files_are_counted_in_the_closing_line(tmp_path: Path) -> None:
    good = write(tmp_path / "good.yaml", BASE)
    bad = write(tmp_path / "bad.yaml", UNKNOWN_FIELD)
    result = accord("test", str(good), str(bad))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0 passed, 0 failed, 1 invalid"
    assert "bad.yaml:2: parties[0]: unknown field 'colour'" in result.stderr
    only_bad = accord("test", str(bad), str(bad))
    assert only_bad.stdout.strip().splitlines()[-1] == "0 passed, 0 failed, 2 invalid"


def test_failures_and_invalid_files_exit_2_and_show_both(tmp_path: Path) -> None:
    failing = write(tmp_path / "failing.yaml", FAILING)
    bad = write(tmp_path / "bad.yaml", UNKNOWN_FIELD)
    result = accord("test", str(failing), str(bad))
    assert result.returncode == 2
    assert result.stdout.strip().splitlines()[-1] == "1 passed, 5 failed, 1 invalid"
    assert sum(line.startswith("FAIL ") for line in result.stdout.splitlines()) == 5
    without_invalid = accord("test", str(failing))
    assert without_invalid.returncode == 1
    assert without_invalid.stdout.strip().splitlines()[-1] == "1 passed, 5 failed, 0 invalid"


def test_failures_show_instants_in_the_offset_the_file_wrote(tmp_path: Path) -> None:
    failing = write(tmp_path / "failing.yaml", FAILING)
    lines = accord("test", str(failing)).stdout.splitlines()
    fails = {
        line.split(": ", 1)[0].rsplit(":", 1)[1]: line for line in lines if line.startswith("FAIL")
    }
    assert (
        "release at 2019-11-01T09:00:00+09:00: expected deny (no-agreement), decided allow"
        in (fails["23"])
    )
    assert "agreement gsomia at 2019-11-22T23:59:59+09:00: expected status in_force" in fails["25"]
    assert "read report-1 by jpn-analyst at 2019-11-23T00:00:00Z: expected deny" in fails["26"]
    # the reason's sentence too: the instant of the question, in the file's -05:00
    assert "release report-1 KOR→JPN at 2019-11-23T00:00:00-05:00" in fails["27"]
    assert "gsomia is terminated at 2019-11-23T00:00:00-05:00" in fails["27"]
    # the expiry is 2019-11-22T15:00:00Z: shown in the offset of the line's own instant
    assert "expected expires_at 2019-11-23T00:00:00+01:00" in fails["29"]
    assert "decided expires_at 2019-11-22T16:00:00+01:00" in fails["29"]
    assert not any("T15:00:00Z" in line or "T14:59:59Z" in line for line in fails.values())


def test_json_gives_each_failure_and_each_invalid_file_in_fields(tmp_path: Path) -> None:
    failing = write(tmp_path / "failing.yaml", FAILING)
    bad = write(tmp_path / "bad.yaml", UNKNOWN_FIELD)
    result = accord("test", "--json", str(failing), str(bad))
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert (report["passed"], report["failed"], report["invalid"]) == (1, 5, 1)
    by_line = {f["line"]: f for f in report["failures"]}
    assert sorted(by_line) == [23, 25, 26, 27, 29]
    release = by_line[27]
    assert release["file"] == str(failing)
    assert release["expected"] == "allow" and release["decided"] == "deny"
    assert {"code": "already-held", "rule": "R11", "message": "JPN already holds report-1"} in (
        release["reasons"]
    )
    assert {
        "code": "agreement-not-in-force",
        "rule": "R1",
        "message": "gsomia is terminated at 2019-11-23T00:00:00-05:00",
    } in release["reasons"]
    for failure in report["failures"]:
        assert set(failure) == {"file", "line", "what", "expected", "decided", "reasons"}
        for reason in failure["reasons"]:
            assert set(reason) == {"code", "rule", "message"}
    status = by_line[25]
    assert (status["expected"], status["decided"], status["reasons"]) == (
        "status in_force",
        "status notice_pending",
        [],
    )
    assert by_line[23]["expected"] == "deny (no-agreement)"
    assert report["invalid_files"] == [
        {
            "file": str(bad),
            "line": 2,
            "field": "parties[0].colour",
            "message": "parties[0]: unknown field 'colour' (allowed: code, name, timezone, levels)",
        }
    ]


def test_json_names_the_field_of_a_bad_value_and_no_field_for_a_missing_file(
    tmp_path: Path,
) -> None:
    renewal = write(
        tmp_path / "renewal.yaml", BASE.replace("term: P1Y", "term: P1Y\n    renewal: sometimes")
    )
    missing = tmp_path / "missing.yaml"
    report = json.loads(accord("test", "--json", str(renewal), str(missing)).stdout)
    first, second = report["invalid_files"]
    assert (first["line"], first["field"]) == (10, "agreements[0].renewal")
    assert "'sometimes' is not one of" in first["message"]
    assert second == {"file": str(missing), "line": None, "field": None, "message": "no such file"}
