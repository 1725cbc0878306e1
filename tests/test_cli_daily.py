"""The command line as a daily tool, run as a user runs it (a real process each time): it starts
without the heavy stacks, takes its global options anywhere, never creates a store by accident,
fits the terminal, keeps key files out of git work trees, exits honestly when no signature was
checked, and shows progress only on a terminal."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from accord.service import MasterKey
from tests.stores import counts

ROOT = Path(__file__).resolve().parents[1]
AFTER = "2024-01-01T00:00:00Z"  # after every event of the built-in world
MIDNIGHT_PLUS_1 = "2019-11-23T00:00:01+09:00"
OK, DENIED, INVALID, STORE, UNSIGNED = 0, 1, 2, 3, 9  # accord.cli.exits, written out: the contract
BOX = set("─━│┃┌┐└┘├┤┬┴┼┏┓┗┛┡┩╇┳┻╋╭╮╯╰═║╔╗╚╝")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_") and k != "COLUMNS"}
    env["PYTHONUTF8"] = "1"
    return {**env, **extra}


def accord(*args: str | Path, cwd: Path | None = None, **env: str) -> Result:
    done = subprocess.run(
        [sys.executable, "-m", "accord", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        check=False,
        stdin=subprocess.DEVNULL,
        env=environment(**env),
        cwd=cwd,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def on_terminal(*args: str | Path, columns: int, pipe_stdout: bool = False, **env: str) -> Result:
    """Run accord with stderr (and stdout unless ``pipe_stdout``) on a pseudo-terminal of
    ``columns`` columns; returns what the terminal received (ANSI sequences removed) as stderr,
    or as stdout too when stdout is the terminal."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "accord", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if pipe_stdout else follower,
        stderr=follower,
        env=environment(TERM="xterm-256color", **env),
    )
    os.close(follower)
    received = bytearray()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: every end of the terminal is closed
            break
        if not chunk:
            break
        received += chunk
    os.close(leader)
    piped = process.stdout.read().decode() if process.stdout is not None else ""
    if process.stdout is not None:
        process.stdout.close()
    code = process.wait(timeout=60)
    shown = ANSI.sub("", received.decode("utf-8", "replace")).replace("\r\n", "\n")
    return Result(code, piped if pipe_stdout else shown, shown)


def lines_fit(text: str, width: int) -> list[str]:
    """The lines longer than ``width`` (none, when the output fits)."""
    return [line for line in text.splitlines() if len(line.rstrip()) > width]


@pytest.fixture
def key(master: MasterKey) -> dict[str, str]:
    return {"ACCORD_MASTER_KEY": master.text()}


# --- speed: nothing heavy is imported to start ------------------------------------------------

HEAVY = ("sqlalchemy", "starlette", "fastapi", "jsonschema", "cryptography", "uvicorn", "numpy")
HEAVY_OURS = ("accord.service", "accord.store", "accord.crypto", "accord.api")


def test_importing_the_cli_imports_no_heavy_module() -> None:
    probe = "import json, sys; import accord.cli.main; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=environment(),
    )
    modules = json.loads(done.stdout)
    assert "accord.cli.main" in modules and "click" in modules  # the probe did import the CLI
    heavy = [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY_OURS)]
    assert heavy == []


def modules_after(*args: str | Path, **env: str) -> list[str]:
    """The modules a whole ``accord`` run imported (printed to stderr after the command ran)."""
    probe = (
        "import json, sys\n"
        "from accord.cli.main import main\n"
        f"sys.argv = ['accord', *{[str(a) for a in args]!r}]\n"
        "try:\n    main()\n"
        "except SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=environment(COLUMNS="100", **env),
    )
    modules: list[str] = json.loads(done.stderr.splitlines()[-1])
    return modules


UNSEALING = ("accord.audit", "accord.service.vault", "accord.service.journal")


def test_a_question_that_decrypts_nothing_opens_no_vault(db: Path) -> None:
    """A question checks the signatures of the facts it rests on (so it loads Ed25519), but it
    decrypts, unseals and logs nothing: no vault, no log, no NumPy."""
    status = modules_after("agreement", "status", "rok-japan-gsomia", "--db", db)
    release = modules_after(*RELEASE_VIA, "USA", "--at", MIDNIGHT_PLUS_1, "--db", db)
    for modules in (status, release):
        assert "accord.service.exchange" in modules and "sqlalchemy" in modules  # it did ask
        assert "accord.crypto.facts" in modules  # every fact's signature was checked
        assert [m for m in modules if m.startswith(UNSEALING)] == []
        assert not {"numpy", "jsonschema", "yaml", "starlette"} & set(modules)


def test_a_read_still_loads_the_crypto_and_checks_the_signature(
    db: Path, key: dict[str, str]
) -> None:
    read = ("read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", MIDNIGHT_PLUS_1)
    modules = modules_after(*read, "--db", db, **key)
    assert "accord.service.vault" in modules and "accord.crypto.signing" in modules


def test_help_answers_without_a_store(tmp_path: Path) -> None:
    result = accord("--help", cwd=tmp_path)
    assert result.returncode == OK and "--create" in result.stdout
    assert list(tmp_path.iterdir()) == []


# --- global options before or after the subcommand -------------------------------------------


def test_global_options_before_or_after_every_kind_of_command(
    db: Path, master: MasterKey, key: dict[str, str], tmp_path: Path
) -> None:
    seoul = ("--tz", "Asia/Seoul")
    status = ("agreement", "status", "rok-japan-gsomia", "--at", "2019-11-22T17:59:59+09:00")
    cases: list[tuple[tuple[str, ...], str]] = [
        (("party", "list"), "KOR"),
        (("agreement", "list"), "rok-japan-gsomia"),
        ((*status,), "notice_pending"),
        (("readable", "jpn-analyst", "--at", AFTER), "kor-kn25-1031"),
        (("impact", "rok-japan-gsomia", "--at", "2019-11-23T00:00:00+09:00"), "R7"),
    ]
    for args, shown in cases:
        before = accord("--db", db, *seoul, *args, **key)
        after = accord(*args, "--db", db, *seoul, **key)
        assert before.returncode == after.returncode == OK, (args, before.stderr, after.stderr)
        assert shown in after.stdout, args
        assert before.stdout == after.stdout, args
    # --tz after the subcommand is honoured by a command that had none of its own
    # (JSON instants are UTC whatever --tz says: typed output for scripts)
    shown_in = accord("agreement", "show", "rok-japan-gsomia", "--db", db, "--tz", "Asia/Seoul")
    assert shown_in.returncode == OK and "+09:00" in shown_in.stdout, shown_in.stdout
    # --key-file after the subcommand
    key_file = tmp_path / "master.key"
    master.write(key_file)
    read = ("read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", AFTER, "--json")
    with_file = accord(*read, "--db", db, "--key-file", key_file)
    assert with_file.returncode == OK, with_file.stderr
    bad_zone = accord("readable", "jpn-analyst", "--db", db, "--tz", "Mars/Base", **key)
    assert bad_zone.returncode == INVALID and "Mars/Base" in bad_zone.stderr


# --- opening a store ---------------------------------------------------------------------------


def test_a_missing_store_is_exit_3_naming_it_and_nothing_is_created(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    for args in (
        ("party", "list"),
        ("agreement", "status", "rok-japan-gsomia"),
        ("check", "release", "x", "--from", "KOR", "--to", "JPN"),
        ("topic", "add", "cyber"),
        ("audit", "verify"),
    ):
        result = accord(*args, "--db", missing)
        assert result.returncode == STORE, (args, result.stderr)
        assert str(missing) in result.stderr and "--create" in result.stderr, args
        assert result.stdout == ""
        assert not missing.exists(), args
    made = accord("--create", "party", "list", "--json", "--db", missing)
    assert (made.returncode, made.stdout.strip()) == (OK, "[]"), made.stderr
    assert missing.is_file()
    assert accord("party", "list", "--json", "--db", missing).returncode == OK


def test_an_empty_database_is_not_a_store(store_url: str) -> None:
    result = accord("party", "list", "--db", store_url)
    assert result.returncode == STORE, result.stderr
    assert "no accord store" in result.stderr
    assert accord("party", "list", "--db", store_url, "--create").returncode == OK
    assert accord("party", "list", "--db", store_url).returncode == OK


def test_keys_init_creates_the_store(tmp_path: Path, key: dict[str, str]) -> None:
    store = tmp_path / "new.db"
    assert accord("keys", "init", "--db", store, **key).returncode == OK
    assert store.is_file()


def test_an_unreachable_server_is_named_without_its_password() -> None:
    with_password = "postgresql+psycopg://officer:s3cr3t-pw@127.0.0.1:1/exchange"
    result = accord("party", "list", "--db", with_password)
    assert result.returncode == STORE, result.stderr
    assert "127.0.0.1:1" in result.stderr and "exchange" in result.stderr
    assert "s3cr3t-pw" not in result.stderr + result.stdout


def test_demo_and_test_need_no_store(tmp_path: Path) -> None:
    assert accord("demo", "--json", cwd=tmp_path).returncode == OK
    scenario = ROOT / "tests" / "scenarios" / "gsomia-2019-no-suspension.yaml"
    assert accord("test", scenario, cwd=tmp_path).returncode == OK
    assert list(tmp_path.iterdir()) == []


# --- tables fit the terminal ------------------------------------------------------------------


RELEASE_VIA = ("check", "release", "kor-missile-eve", "--from", "KOR", "--to", "JPN", "--via")


@pytest.mark.parametrize("columns", [80, 200])
def test_tables_on_a_pipe_fit_columns_and_draw_no_box(
    columns: int, db: Path, key: dict[str, str]
) -> None:
    demo = accord("demo", COLUMNS=str(columns))
    via = accord(*RELEASE_VIA, "USA", "--at", MIDNIGHT_PLUS_1, "--db", db, COLUMNS=str(columns))
    status = accord("agreement", "status", "rok-japan-gsomia", "--db", db, COLUMNS=str(columns))
    assert (demo.returncode, via.returncode, status.returncode) == (OK, DENIED, OK)
    for result in (demo, via, status):
        assert lines_fit(result.stdout, columns) == []
        assert not BOX & set(result.stdout)
        assert "\x1b" not in result.stdout
    assert "no-originator-consent" in via.stdout  # folded, never cut with an ellipsis
    assert "…" not in demo.stdout + via.stdout
    if columns == 200:  # wide enough: each reason is one line
        assert any(
            "no-originator-consent" in line and "R4" in line for line in via.stdout.splitlines()
        )


@pytest.mark.parametrize("columns", [80, 100])
def test_tables_on_a_terminal_fit_it_with_boxes(columns: int, db: Path) -> None:
    demo = on_terminal("demo", columns=columns)
    via = on_terminal(*RELEASE_VIA, "USA", "--at", MIDNIGHT_PLUS_1, "--db", db, columns=columns)
    assert (demo.returncode, via.returncode) == (OK, DENIED), demo.stdout + via.stdout
    for result in (demo, via):
        assert lines_fit(result.stdout, columns) == []
        assert BOX & set(result.stdout)
    assert "R7" in demo.stdout


def test_a_pipe_without_columns_keeps_each_row_on_one_line(db: Path) -> None:
    listed = accord("agreement", "list", "--db", db)
    assert listed.returncode == OK and not BOX & set(listed.stdout)
    rows = listed.stdout.splitlines()
    for agreement in ("rok-japan-gsomia", "tisa", "rok-us-security-agreement", "japan-us-gsomia"):
        assert any(line.startswith(agreement + " ") for line in rows), agreement


def test_json_is_unchanged_by_the_width(db: Path) -> None:
    narrow = accord(
        *RELEASE_VIA, "USA", "--at", MIDNIGHT_PLUS_1, "--json", "--db", db, COLUMNS="40"
    )
    wide = accord(*RELEASE_VIA, "USA", "--at", MIDNIGHT_PLUS_1, "--json", "--db", db, COLUMNS="300")
    assert narrow.stdout == wide.stdout and json.loads(narrow.stdout)["decision"] == "deny"


# --- honest exits --------------------------------------------------------------------------------


def test_a_consistency_proof_from_an_unsigned_tree_is_exit_9(db: Path, tmp_path: Path) -> None:
    size = counts(db)["audit_entries"]
    old = 2  # a size at which no checkpoint was ever published
    refused = accord("audit", "consistency", str(old), "--db", db)
    assert (refused.returncode, refused.stdout) == (UNSIGNED, ""), refused.stderr
    assert "old tree" in refused.stderr and "--unsigned-ok" in refused.stderr
    given = accord("audit", "consistency", str(old), "--unsigned-ok", "--db", db)
    assert given.returncode == OK, given.stderr
    proof = json.loads(given.stdout)
    assert (proof["old_size"], proof["new_size"], proof["old_checkpoint"]) == (old, size, None)
    key = accord("audit", "verifier-key", "--db", db).stdout.strip()
    path = tmp_path / "grow.json"
    path.write_text(given.stdout, encoding="utf-8")
    pinned = accord("audit", "check-proof", path, "--verifier-key", key, "--json", cwd=tmp_path)
    assert (pinned.returncode, pinned.stdout) == (UNSIGNED, ""), pinned.stderr
    assert "old tree" in pinned.stderr
    accepted = accord(
        "audit", "check-proof", path, "--verifier-key", key, "--unsigned-ok", "--json", cwd=tmp_path
    )
    assert accepted.returncode == OK, accepted.stderr
    assert json.loads(accepted.stdout)["unsigned"] == ["old tree"]


# --- secrets ---------------------------------------------------------------------------------------


def test_keys_init_refuses_a_key_file_inside_a_git_work_tree(tmp_path: Path) -> None:
    tree = tmp_path / "repo"
    (tree / ".git").mkdir(parents=True)
    (tree / "sub").mkdir()
    key_file, store = tree / "sub" / "exchange.key", tmp_path / "x.db"
    refused = accord("keys", "init", "--db", store, "--key-file", key_file)
    assert refused.returncode == INVALID, refused.stderr
    assert str(key_file) in refused.stderr and str(tree) in refused.stderr
    assert "--force" in refused.stderr
    assert not key_file.exists() and not store.exists()
    forced = accord("keys", "init", "--force", "--db", store, "--key-file", key_file)
    assert forced.returncode == OK, forced.stderr
    assert key_file.stat().st_mode & 0o777 == 0o600
    outside = tmp_path / "outside.key"
    moved = accord(
        "keys", "rotate-master", "--new-key-file", outside, "--db", store, "--key-file", key_file
    )
    assert moved.returncode == OK, moved.stderr
    last = moved.stdout.strip().splitlines()[-1]
    assert str(key_file) in last and "opens nothing" in last
    back = accord(
        "keys",
        "rotate-master",
        "--new-key-file",
        tree / "again.key",
        "--db",
        store,
        "--key-file",
        outside,
    )
    assert back.returncode == INVALID and not (tree / "again.key").exists()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_gitignore_covers_the_walkthroughs_secret_files(tmp_path: Path) -> None:
    repo = tmp_path / "clone"
    repo.mkdir()
    shutil.copy(ROOT / ".gitignore", repo / ".gitignore")
    subprocess.run(["git", "init", "-q", str(repo)], check=True, timeout=60)
    names = [
        "exchange.key",
        "new.key",
        "jpn.token",
        "admin.token",
        "exchange.db",
        "exchange.db-wal",
    ]
    done = subprocess.run(
        ["git", "-C", str(repo), "check-ignore", *names],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert sorted(done.stdout.split()) == sorted(names)


# --- progress ----------------------------------------------------------------------------------------


def test_long_work_shows_no_progress_on_a_pipe(
    db: Path, key: dict[str, str], tmp_path: Path
) -> None:
    verify = accord("audit", "verify", "--db", db)
    rotate = accord("keys", "rotate", "JPN", "--db", db, **key)
    store = tmp_path / "fresh.db"
    assert accord("keys", "init", "--db", store, **key).returncode == OK
    load = accord(
        "load", ROOT / "src/accord/scenario/builtin/gsomia-2019.yaml", "--db", store, **key
    )
    for result in (verify, rotate, load):
        assert result.returncode == OK, result.stderr
        assert result.stderr == ""
        assert "━" not in result.stdout and "\x1b" not in result.stdout


def test_long_work_shows_a_progress_bar_on_a_terminal(db: Path, key: dict[str, str]) -> None:
    verify = on_terminal("audit", "verify", "--db", db, columns=100, pipe_stdout=True)
    assert verify.returncode == OK, verify.stderr
    assert "verifying the log: entries" in verify.stderr and "━" in verify.stderr
    assert verify.stdout.startswith("ok: ")
    rotate = on_terminal("keys", "rotate", "JPN", "--db", db, columns=100, pipe_stdout=True, **key)
    assert rotate.returncode == OK and "rotating JPN's keys: copies" in rotate.stderr
