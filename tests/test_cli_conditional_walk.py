"""The README's walk through a conditional note (R15), run as a new user runs it: the November
2019 note written into ``my-world.yaml`` as the README says, then every command of its block in
a fresh directory, each a real process; the outputs the README shows are the ones printed.
And the failure of a condition through the CLI, at its instant and one microsecond before."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from tests.stores import counts
from tests.test_cli_daily import DENIED, INVALID, OK, Result, accord

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Conditional notes and amendments") :]
SECTION = SECTION[: SECTION.index("\n## ", 1)]
SCENARIOS = ROOT / "tests" / "scenarios"


def blocks(text: str, language: str) -> list[str]:
    """The fenced blocks of ``text`` opened with ``language`` (\"\" for a bare fence)."""
    found: list[str] = []
    lines: list[str] | None = None
    opened = ""
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            if lines is None:
                lines, opened = [], line[3:].strip()
                continue
            if opened == language:
                found.append("".join(lines))
            lines = None
        elif lines is not None:
            lines.append(line)
    return found


def my_world() -> str:
    """``my-world.yaml`` of the README, with the matter and the conditional note added to it and
    the two ``expect`` lines about midnight dropped, as the section says."""
    base = README[README.index("# my-world.yaml") :]
    base = base[base.index("\n") + 1 : base.index("```")]
    matters, events = blocks(SECTION, "yaml")[:2]
    kept = [
        line
        for line in base.splitlines(keepends=True)
        if "status: notice_pending" not in line and "status: terminated" not in line
    ]
    world = "".join(kept).replace("events:\n", matters + "events:\n")
    at = world.index("expect:\n")
    return world[:at] + events + world[at:]


def commands() -> list[list[str]]:
    (block,) = blocks(SECTION, "sh")[:1]
    found = [shlex.split(line, comments=True) for line in block.splitlines()]
    return [argv for argv in found if argv]


def shown(pasted: str) -> list[str]:
    """The lines of a pasted output, without the ``...`` that stands for lines left out."""
    return [line for line in pasted.splitlines() if line != "..."]


def test_the_readme_walk_works_as_written(tmp_path: Path) -> None:
    (tmp_path / "my-world.yaml").write_text(my_world(), encoding="utf-8")
    key = tmp_path / "home" / "exchange.key"
    key.parent.mkdir()
    checked = accord("test", "my-world.yaml", cwd=tmp_path)
    assert checked.returncode == OK and "1 passed, 0 failed" in checked.stdout, checked
    results: list[tuple[list[str], Result]] = []
    for argv in commands():
        assert argv[0] == "accord" and argv[1:3] == ["--db", "notes.db"], argv
        result = accord(*argv[1:], cwd=tmp_path, ACCORD_KEY_FILE=str(key))
        assert result.returncode == OK, (argv, result)
        results.append((argv, result))
    out = {" ".join(argv[3:5]): r.stdout for argv, r in results}
    impact = next(r.stdout for argv, r in results if argv[3] == "impact")
    duties = [(argv, r.stdout) for argv, r in results if argv[3] == "duties"]
    assert [(a[4], a[6]) for a, _ in duties] == [
        ("KOR", "2019-12-01T00:00:00+09:00"),
        ("JPN", "2019-12-01T00:00:00+09:00"),
        ("JPN", "2023-03-17T00:00:00+09:00"),
    ]
    pasted = [block for block in blocks(SECTION, "") if block.strip()]
    impact_shown, duties_shown, changed_shown = pasted[0], pasted[1], pasted[2]
    impact_lines = [line.rstrip() for line in impact.splitlines()]
    for line in shown(impact_shown):
        assert line.rstrip() in impact_lines, line
    assert impact_lines[0] == shown(impact_shown)[0]
    kor, jpn = duties[0][1], duties[1][1]
    assert kor.splitlines() == shown(duties_shown)
    assert jpn.replace("duties of JPN", "duties of KOR") == kor  # the same line for both
    later = duties[2][1]
    for line in shown(changed_shown):
        assert line in later.splitlines(), line
    assert "status           in_force" in out["agreement status"]
    assert "holds (holds while dialogue-ongoing, measures-withdrawn)" in out["agreement status"]


def load(tmp_path: Path, scenario: str) -> dict[str, str]:
    env = {"ACCORD_KEY_FILE": str(tmp_path / "exchange.key")}
    db = str(tmp_path / "accord.db")
    assert accord("--db", db, "keys", "init", **env).returncode == OK
    loaded = accord("--db", db, "load", SCENARIOS / scenario, **env)
    assert loaded.returncode == OK, loaded
    return {**env, "db": db}


def cli(setup: dict[str, str], *args: str) -> object:
    env = {k: v for k, v in setup.items() if k != "db"}
    result = accord("--db", setup["db"], *args, "--json", **env)
    assert result.returncode == OK, result
    return json.loads(result.stdout)


def test_a_condition_fails_at_its_instant_and_not_one_microsecond_before(tmp_path: Path) -> None:
    setup = load(tmp_path, "gsomia-2019-dialogue-fails.yaml")
    before, failure = "2019-12-15T23:59:59.999999+09:00", "2019-12-16T00:00:00+09:00"
    status = "agreement", "status", "rok-japan-gsomia", "--at"
    held = cli(setup, *status, before)
    failed = cli(setup, *status, failure)
    assert isinstance(held, dict) and isinstance(failed, dict)
    assert held["status"] == "in_force" and held["expires_at"] is None
    assert [c["holds"] for c in held["notice"]["conditions"]] == [True]
    assert failed["status"] == "terminated" and failed["ended_by"] == "condition-failed"
    assert failed["expires_at"] == "2019-12-15T15:00:00Z"
    assert [c["failed_at"] for c in failed["notice"]["conditions"]] == ["2019-12-15T15:00:00Z"]
    release = "check", "release", "kor-missile-1128", "--from", "KOR", "--to", "JPN", "--at"
    env = {k: v for k, v in setup.items() if k != "db"}
    allowed = accord("--db", setup["db"], *release, before, **env)
    denied = accord("--db", setup["db"], *release, failure, **env)
    assert (allowed.returncode, denied.returncode) == (OK, 1)
    assert "agreement-not-in-force" in denied.stdout


def test_the_changed_condition_duty_through_the_cli(tmp_path: Path) -> None:
    setup = load(tmp_path, "condition-duty.yaml")

    def changed(party: str, at: str) -> list[tuple[str, str, bool]]:
        found = cli(setup, "duties", party, "--at", at)
        assert isinstance(found, dict)
        return [
            (d["due"], d["state"], d["informational"])
            for d in found["duties"]
            if d["kind"] == "changed-condition"
        ]

    assert changed("JPN", "2019-12-01T23:59:59.999999+09:00") == []
    assert changed("JPN", "2019-12-02T00:00:00+09:00") == [
        ("2019-12-01T15:00:00Z", "pending", True)
    ]
    assert changed("KOR", "2019-12-15T23:59:59.999999+09:00") == [
        ("2019-12-01T15:00:00Z", "pending", True)
    ]
    assert changed("KOR", "2019-12-16T00:00:00+09:00") == [
        ("2020-01-14T15:00:00Z", "pending", False)
    ]


# --- bad input through the CLI: exit 2 naming the value, nothing written -------------------------

LATE = "2020-02-01T00:00:00+09:00"  # after every act of the loaded world
BAD = [
    (
        ["agreement", "suspend", "rok-japan-gsomia", "--by", "KOR", "--condition",
         "no-such-matter=open", "--on-failure", "none", "--at", LATE],
        "no-such-matter",
    ),
    (
        ["agreement", "suspend", "rok-japan-gsomia", "--by", "KOR", "--condition",
         "japan-export-controls=dialogue-paused", "--on-failure", "none", "--at", LATE],
        "dialogue-paused",
    ),
    (
        ["matter", "state", "japan-export-controls", "dialogue-paused", "--by", "JPN",
         "--at", LATE],
        "dialogue-paused",
    ),
    (["matter", "state", "no-such-matter", "open", "--by", "JPN", "--at", LATE], "no-such-matter"),
    (
        ["reclassify", "kor-missile-1031", "--by", "KOR", "--level", "TOP SECRET", "--at", LATE],
        "TOP SECRET",
    ),
    (
        ["investigation", "conclude", "kor-missile-1031", "--party", "JPN", "--result",
         "not-compromised", "--measures", "none needed", "--at", LATE],
        "no investigation was opened",
    ),
]  # fmt: skip


def recorded(db: Path) -> dict[str, int]:
    """The store's rows, but for the audit log (a refusal is logged, and changes nothing else)."""
    return {table: n for table, n in counts(db).items() if not table.startswith("audit")}


def test_bad_article_input_is_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    setup = load(tmp_path, "gsomia-2019-dialogue-fails.yaml")
    env = {k: v for k, v in setup.items() if k != "db"}
    db = Path(setup["db"])
    before = counts(db)
    for argv, named in BAD:
        result = accord("--db", db, *argv, **env)
        assert result.returncode == INVALID, (argv, result)
        assert named in result.stderr, (argv, result.stderr)
        assert "Traceback" not in result.stderr
        assert counts(db) == before, argv


def test_a_withdrawn_or_outsiders_acceptance_is_refused_and_writes_nothing(
    tmp_path: Path,
) -> None:
    setup = load(tmp_path, "gsomia-2019-conditional-holds.yaml")
    env = {k: v for k, v in setup.items() if k != "db"}
    db = Path(setup["db"])
    at = "2020-02-01T00:00:00+09:00"
    propose = ["agreement", "propose", "rok-japan-gsomia", "--by", "KOR", "--id", "am-1"]
    assert accord("--db", db, *propose, "--term", "P2Y", "--at", at, **env).returncode == OK
    accept = ["agreement", "accept", "rok-japan-gsomia", "am-1", "--effective-at", at, "--at", at]
    before = recorded(db)
    outsider = accord("--db", db, *accept, "--by", "USA", **env)
    assert outsider.returncode in (DENIED, INVALID) and "USA" in outsider.stdout + outsider.stderr
    assert recorded(db) == before
    withdraw = ["agreement", "withdraw-amendment", "rok-japan-gsomia", "am-1", "--by", "KOR"]
    assert accord("--db", db, *withdraw, "--at", at, **env).returncode == OK
    before = recorded(db)
    late = accord("--db", db, *accept, "--by", "JPN", **env)
    assert late.returncode in (DENIED, INVALID), late
    assert "withdrawn" in late.stdout + late.stderr
    assert recorded(db) == before
