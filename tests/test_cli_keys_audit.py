"""``accord keys`` and ``accord audit`` as a user runs them: real processes on real SQLite files,
exit codes and messages, proofs checked offline with nothing but the proof and a verifier key.

Every command runs in a process of its own, started by ``accord()``. A cold ``python -m accord``
spends ~3–5 s of CPU importing (most of it ``jsonschema``'s optional ``rfc3987_syntax``, which
builds a Lark grammar at import time), which would put this file far beyond its time budget. So
``accord()`` forks each command from a small server process that has imported ``accord.cli.main``
once: each command is still a separate OS process with its own environment, working directory,
stdin (``/dev/null``), stdout, stderr and exit status, running ``accord.cli.main.main()`` exactly
as the ``accord`` console script does and shutting its interpreter down normally.
``test_a_forked_command_is_a_cold_command`` checks the two ways give the same output and status.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from accord.service import Exchange, MasterKey
from tests.stores import counts, execute, query

ROOT = Path(__file__).resolve().parents[1]
BUILTIN = ROOT / "src" / "accord" / "scenario" / "builtin" / "gsomia-2019.yaml"
AFTER = "2024-01-01T00:00:00Z"  # after every event of the built-in world

# exit codes, as documented in accord.cli.exits (written out here: the test states the contract)
OK, DENIED, INVALID, KEY_UNAVAILABLE, KEY_MISMATCH, INTEGRITY, PROOF, CHECKPOINT, UNSIGNED = (
    0,
    1,
    2,
    4,
    5,
    6,
    7,
    8,
    9,
)


# --- running accord ----------------------------------------------------------------------------

_SERVER = r"""
import gc, json, os, signal, sys
from accord.cli.main import main  # what a cold `accord` imports, imported once
import accord.scenario, accord.service  # what its commands import when they run, imported once too
gc.freeze()  # children then neither collect nor copy the server's objects on exit
requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 0)
os.dup2(null, 1)
for line in requests:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        requests.close()
        replies.close()
        signal.alarm(job["timeout"])
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        os.dup2(os.open(job["stdout"], flags, 0o600), 1)
        os.dup2(os.open(job["stderr"], flags, 0o600), 2)
        sys.argv = ["accord", *job["argv"]]
        main()  # exits: SystemExit ends this interpreter as it ends a cold `accord`
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    replies.write(json.dumps({"rc": os.waitstatus_to_exitcode(status)}) + "\n")
    replies.flush()
"""


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class _Server:
    """One fork server per test session, started on first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen[str] | None = None
        self.scratch = Path(tempfile.mkdtemp(prefix="accord-cli-"))
        self.count = 0

    def run(self, argv: list[str], env: dict[str, str], cwd: Path, timeout: int) -> Result:
        with self.lock:
            if self.process is None:
                self.process = subprocess.Popen(
                    [sys.executable, "-c", _SERVER],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    encoding="utf-8",
                    env=base_env(),
                )
                atexit.register(self.close)
            self.count += 1
            out, err = self.scratch / f"{self.count}.out", self.scratch / f"{self.count}.err"
            job = {
                "argv": argv,
                "env": env,
                "cwd": str(cwd),
                "stdout": str(out),
                "stderr": str(err),
                "timeout": timeout,
            }
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
            reply = self.process.stdout.readline()
            assert reply, "the accord fork server died"
            rc = json.loads(reply)["rc"]
            result = Result(rc, out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"))
            out.unlink()
            err.unlink()
            return result

    def close(self) -> None:
        if self.process is not None:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.close()
            self.process.wait(timeout=30)
            self.process.stdout.close()
            self.process = None
        shutil.rmtree(self.scratch, ignore_errors=True)


_server = _Server()


def base_env() -> dict[str, str]:
    """The environment of every command: the test's, without any ACCORD_ setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env["PYTHONUTF8"] = "1"
    env["COLUMNS"] = "250"  # human output on one line
    return env


def accord(
    *args: str | Path,
    db: Path | None = None,
    key: str | None = None,
    key_file: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    cold: bool = False,
) -> Result:
    """Run ``accord [--db DB] [--key-file F] ARGS`` in a process of its own. ``key`` is given in
    $ACCORD_MASTER_KEY; with neither ``key`` nor ``key_file`` the command has no master key."""
    argv = (["--db", str(db)] if db is not None else []) + (
        ["--key-file", str(key_file)] if key_file is not None else []
    )
    argv += [str(a) for a in args]
    environment = base_env()
    if key is not None:
        environment["ACCORD_MASTER_KEY"] = key
    environment.update(env or {})
    where = cwd or Path(tempfile.gettempdir())
    if cold:
        done = subprocess.run(
            [sys.executable, "-m", "accord", *argv],
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=180,
            check=False,
            stdin=subprocess.DEVNULL,
            env=environment,
            cwd=where,
        )
        return Result(done.returncode, done.stdout, done.stderr)
    return _server.run(argv, environment, where, timeout=120)


# --- the fork server itself --------------------------------------------------------------------


def test_a_forked_command_is_a_cold_command(db: Path, master: MasterKey) -> None:
    """One cold start (it costs seconds) against the same command forked, then the fork alone."""
    read = ("read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", AFTER)
    cold = accord(*read, "--json", db=db, key=master.text(), cold=True)
    forked = accord(*read, "--json", db=db, key=master.text())
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        cold.returncode,
        cold.stdout,
        cold.stderr,
    )
    assert forked.json()["item"]["title"] == "Two KN-25 launches from Sunchon"
    wrong = accord(*read, db=db, key=MasterKey.generate().text())
    assert (wrong.returncode, wrong.stdout) == (KEY_MISMATCH, "")
    assert wrong.stderr.startswith("error: the master key ")


# --- keys ----------------------------------------------------------------------------------------


def test_keys_init_writes_a_0600_key_file_and_a_second_init_is_refused(tmp_path: Path) -> None:
    db, key_file = tmp_path / "x.db", tmp_path / "master.key"
    made = accord("keys", "init", "--json", db=db, key_file=key_file)
    assert made.returncode == OK, made.stderr
    doc = made.json()
    assert doc["key_file_created"] is True
    assert doc["origin"].startswith("accord.exchange/")
    assert doc["verifier_key"].startswith("accord-exchange+")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    text = key_file.read_text(encoding="ascii")
    MasterKey.from_file(key_file)  # a key accord reads back
    assert text.strip().encode() not in db.read_bytes()  # the key never goes into the store
    shown = accord("audit", "verifier-key", db=db)
    assert (shown.returncode, shown.stdout.strip()) == (OK, doc["verifier_key"])

    before = counts(db)
    again = accord("keys", "init", db=db, key_file=key_file)
    assert again.returncode == INVALID
    assert "already has keys" in again.stderr
    assert counts(db) == before
    assert key_file.read_text(encoding="ascii") == text
    by_env = accord("keys", "init", db=db, key=text.strip())
    assert by_env.returncode == INVALID and counts(db) == before


def test_a_refused_keys_init_leaves_no_new_key_file(db: Path, tmp_path: Path) -> None:
    """`keys init` on an exchange that has keys is refused; the master key file it was told to
    create must not be left behind (a key that opens nothing, which a user would take for the
    exchange's)."""
    fresh = tmp_path / "new.key"
    refused = accord("keys", "init", db=db, key_file=fresh)
    assert refused.returncode == INVALID and "already has keys" in refused.stderr
    assert not fresh.exists(), f"{fresh} was written by a refused `keys init`"


def test_corrupted_key_files_exit_4_naming_the_file(db: Path, tmp_path: Path) -> None:
    raw = os.urandom(64)
    cases = {
        "short.key": base64.urlsafe_b64encode(raw[:16]),
        "long.key": base64.urlsafe_b64encode(raw[:48]),
        "not-base64.key": b"this is not a key, it is a sentence!\n",
        "binary.key": b"\xff\xfe\x00\x80" + raw,
        "empty.key": b"",
    }
    before = counts(db)
    read = ("read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", AFTER)
    for name, data in [*cases.items(), ("missing.key", None)]:
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        result = accord(*read, db=db, key_file=path)
        assert result.returncode == KEY_UNAVAILABLE, (name, result.stderr)
        assert str(path) in result.stderr, name
        assert result.stdout == ""
        if data:
            assert data.decode("latin-1").strip()[:20] not in result.stderr  # never echoed
    garbage = accord(*read, db=db, key="not-a-key!")
    assert garbage.returncode == KEY_UNAVAILABLE
    assert "$ACCORD_MASTER_KEY" in garbage.stderr and "not-a-key" not in garbage.stderr
    none = accord(*read, db=db)
    assert none.returncode == KEY_UNAVAILABLE and "no master key" in none.stderr
    assert counts(db) == before  # a refused read writes nothing, not even its log entry


def test_a_wrong_master_key_exits_5_and_changes_nothing(db: Path) -> None:
    before = counts(db)
    wrong = MasterKey.generate().text()
    read = accord("read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", AFTER, db=db, key=wrong)
    assert read.returncode == KEY_MISMATCH
    assert "does not open" in read.stderr and read.stdout == ""
    assert accord("keys", "rotate", "JPN", db=db, key=wrong).returncode == KEY_MISMATCH
    assert counts(db) == before


def test_the_bad_key_hint_names_a_command_that_exists(db: Path, tmp_path: Path) -> None:
    """The message for a key file that is not base64 tells the user how to make one; the command
    it names must exist."""
    path = tmp_path / "bad.key"
    path.write_text("not base64 at all!", encoding="ascii")
    failed = accord("keys", "rotate", "JPN", db=db, key_file=path)
    assert failed.returncode == KEY_UNAVAILABLE
    hint = re.search(r"make one with: accord ([a-z][a-z -]*[a-z])", failed.stderr)
    if hint is not None:
        named = accord(*hint.group(1).split(), "--help")
        assert named.returncode == OK, f"the hint names `accord {hint.group(1)}`: {named.stderr}"


def test_rotate_master_writes_a_new_0600_key_and_never_overwrites(
    db: Path, master: MasterKey, tmp_path: Path
) -> None:
    old = tmp_path / "old.key"
    master.write(old)
    key_sets = counts(db)["key_sets"]
    existing = tmp_path / "existing.key"
    existing.write_text("keep me\n", encoding="ascii")
    before = counts(db)
    refused = accord("keys", "rotate-master", "--new-key-file", existing, db=db, key_file=old)
    assert refused.returncode == INVALID and str(existing) in refused.stderr
    assert existing.read_text(encoding="ascii") == "keep me\n"
    assert counts(db) == before

    wrong = tmp_path / "wrong.key"
    MasterKey.generate().write(wrong)
    stray = tmp_path / "never.key"
    failed = accord("keys", "rotate-master", "--new-key-file", stray, db=db, key_file=wrong)
    assert failed.returncode == KEY_MISMATCH
    assert not stray.exists()  # no key file for a rotation that did not happen
    assert counts(db) == before

    new = tmp_path / "new.key"
    done = accord("keys", "rotate-master", "--new-key-file", new, "--json", db=db, key_file=old)
    assert done.returncode == OK, done.stderr
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    assert done.json()["resealed"] == key_sets
    assert done.json()["key_id"] == MasterKey.from_file(new).key_id != master.key_id

    read = ("read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", AFTER, "--json")
    with_new = accord(*read, db=db, key_file=new)
    assert with_new.returncode == OK, with_new.stderr
    assert with_new.json()["item"]["content"].startswith("Two KN-25 launched at about 16:35 KST")
    with_old = accord(*read, db=db, key_file=old)
    assert with_old.returncode == KEY_MISMATCH and with_old.stdout == ""
    verified = accord("audit", "verify", "--json", db=db)
    assert verified.returncode == OK, verified.stderr
    assert verified.json()["entries"] == counts(db)["audit_entries"]


def test_keys_rotate_a_party_and_the_exchange(db: Path, master: MasterKey) -> None:
    key = master.text()
    copies = query(db, "select count(*) from wrapped_keys where party = 'JPN'")[0][0]
    assert copies >= 5
    rotated = accord("keys", "rotate", "JPN", "--json", db=db, key=key)
    assert rotated.returncode == OK, rotated.stderr
    assert rotated.json() == {"owner": "JPN", "version": 2, "rewrapped": copies}
    assert query(db, "select distinct key_version from wrapped_keys where party = 'JPN'") == [(2,)]
    for item, user in (("kor-kn25-1031", "jpn-analyst"), ("jpn-radar-1128", "kor-analyst")):
        # JPN's copy under its new key; an item JPN signed with its old key still verifies
        read = accord("read", item, "--user", user, "--at", AFTER, "--json", db=db, key=key)
        assert read.returncode == OK, read.stderr
        assert read.json()["item"]["id"] == item

    before = accord("audit", "verifier-key", db=db).stdout.strip()
    exchange = accord("keys", "rotate", "@exchange", db=db, key=key)
    assert exchange.returncode == OK, exchange.stderr
    after = accord("audit", "verifier-key", db=db).stdout.strip()
    assert after != before and after.startswith("accord-exchange+")
    assert after in exchange.stdout
    verified = accord("audit", "verify", "--json", db=db)
    assert verified.returncode == OK, verified.stderr
    pinned = accord("audit", "verify", "--verifier-key", after, db=db)
    assert pinned.returncode == OK, pinned.stderr
    assert accord("audit", "verify", "--verifier-key", before, db=db).returncode == CHECKPOINT
    unknown = accord("keys", "rotate", "XXX", db=db, key=key)
    assert unknown.returncode == INVALID and "XXX" in unknown.stderr


# --- proofs --------------------------------------------------------------------------------------


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def flip_hex(text: str) -> str:
    return text[:-1] + ("0" if text[-1] != "0" else "1")


def flip_signature(note: str, name: str) -> str:
    """The note with one base64 character of ``name``'s signature line changed."""
    lines = note.split("\n")
    for n, line in enumerate(lines):
        if line.startswith(f"\u2014 {name} "):
            head, sig = line.rsplit(" ", 1)
            raw = bytearray(base64.b64decode(sig))
            raw[-1] ^= 0x01
            lines[n] = f"{head} {base64.b64encode(bytes(raw)).decode()}"
            return "\n".join(lines)
    raise AssertionError(f"no signature line by {name} in {note!r}")


def other_exchange(size: int) -> Exchange:
    """Another exchange (its own keys, its own log) with ``size`` entries."""
    other = Exchange.open("sqlite://")
    for n in range(size - 1):
        other.add_topic(f"topic-{n}")
    return other


def check(proof: Path, key: str | None, cwd: Path) -> Result:
    """``accord audit check-proof`` offline: no store, no master key, an empty directory."""
    args = ["audit", "check-proof", proof, "--json"] + (["--verifier-key", key] if key else [])
    return accord(*args, cwd=cwd)


def test_prove_and_check_an_inclusion_proof_offline(db: Path, tmp_path: Path) -> None:
    size = counts(db)["audit_entries"]
    seq = size // 2
    proved = accord("audit", "prove", seq, db=db)
    assert proved.returncode == OK, proved.stderr
    proof = proved.json()
    assert (proof["index"], proof["size"], proof["kind"]) == (seq, size, "inclusion")
    key = accord("audit", "verifier-key", db=db).stdout.strip()
    offline = tmp_path / "offline"
    offline.mkdir()

    good = check(write_json(tmp_path / "good.json", proof), key, offline)
    assert good.returncode == OK, good.stderr
    established = good.json()["established"]
    assert established[0].startswith(f"entry {seq} is in the tree of {size} entries")
    assert established[1] == "tree: checkpoint signed by accord-exchange"
    unpinned = check(tmp_path / "good.json", None, offline)  # no signature checked: exit 9
    assert (unpinned.returncode, unpinned.stdout) == (UNSIGNED, ""), unpinned.stderr
    assert "--verifier-key" in unpinned.stderr and "--unsigned-ok" in unpinned.stderr
    accepted = accord("audit", "check-proof", tmp_path / "good.json", "--json", "--unsigned-ok")
    assert accepted.returncode == OK and "give --verifier-key" in accepted.json()["established"][1]
    assert accepted.json()["unsigned"] == ["tree"]

    stranger = other_exchange(size)
    theirs = stranger.audit_prove(seq)
    leaf = base64.b64decode(proof["leaf"])
    cases: dict[str, tuple[dict[str, Any], int]] = {
        "a proof hash changed": (
            {**proof, "proof": [flip_hex(proof["proof"][0]), *proof["proof"][1:]]},
            PROOF,
        ),
        "one proof hash fewer": ({**proof, "proof": proof["proof"][:-1]}, PROOF),
        "the leaf changed": (
            {**proof, "leaf": base64.b64encode(leaf.replace(b'"seq"', b'"Seq"')).decode()},
            PROOF,
        ),
        "the leaf hash changed": ({**proof, "leaf_hash": flip_hex(proof["leaf_hash"])}, PROOF),
        "a wrong size": ({**proof, "size": size + 1}, PROOF),
        "a wrong index": ({**proof, "index": seq + 1}, PROOF),
        "another tree's root": ({**proof, "root": theirs["root"]}, PROOF),
        "another tree's root and checkpoint": (
            {**proof, "root": theirs["root"], "checkpoint": theirs["checkpoint"]},
            PROOF,
        ),
        "another exchange's own proof": (dict(theirs), CHECKPOINT),
        "a checkpoint with a bad signature": (
            {**proof, "checkpoint": flip_signature(proof["checkpoint"], "accord-exchange")},
            CHECKPOINT,
        ),
        "not an accord proof": ({**proof, "format": "other/1"}, PROOF),
    }
    for name, (doc, expected) in cases.items():
        result = check(write_json(tmp_path / "bad.json", doc), key, offline)
        assert result.returncode == expected, (name, result.stdout, result.stderr)
        assert result.stderr.startswith("error: "), name
    (tmp_path / "junk.json").write_text("{not json", encoding="utf-8")
    junk = check(tmp_path / "junk.json", key, offline)
    assert junk.returncode == INVALID and "junk.json" in junk.stderr


def test_prove_and_check_a_consistency_proof_offline(
    db: Path, master: MasterKey, tmp_path: Path
) -> None:
    published = accord("audit", "checkpoint", db=db, key=master.text())
    assert published.returncode == OK, published.stderr
    old = int(published.stdout.split("\n")[1])
    for user in ("jpn-analyst", "kor-analyst", "usa-analyst"):  # reads: three more entries
        accord("read", "kor-kn25-1031", "--user", user, "--at", AFTER, db=db, key=master.text())
    new = counts(db)["audit_entries"]
    assert new == old + 1 + 3  # the publication is an entry of its own
    proved = accord("audit", "consistency", old, new, db=db)
    assert proved.returncode == OK, proved.stderr
    proof = proved.json()
    key = accord("audit", "verifier-key", db=db).stdout.strip()
    offline = tmp_path / "offline"
    offline.mkdir()
    good = check(write_json(tmp_path / "good.json", proof), key, offline)
    assert good.returncode == OK, good.stderr
    assert good.json()["established"] == [
        f"the tree of {old} entries is a prefix of the tree of {new} entries",
        "old tree: checkpoint signed by accord-exchange",
        "new tree: checkpoint signed by accord-exchange",
    ]
    stranger = other_exchange(new)
    theirs = stranger.audit_consistency(old, new)
    cases: dict[str, tuple[dict[str, Any], int]] = {
        "a proof hash changed": (
            {**proof, "proof": [*proof["proof"][:-1], flip_hex(proof["proof"][-1])]},
            PROOF,
        ),
        "roots swapped": (
            {**proof, "old_root": proof["new_root"], "new_root": proof["old_root"]},
            PROOF,
        ),
        "a wrong old size": ({**proof, "old_size": old - 1}, PROOF),
        "a wrong new size": ({**proof, "new_size": new + 1}, PROOF),
        "another tree's new root": ({**proof, "new_root": theirs["new_root"]}, PROOF),
        "another exchange's own proof": (dict(theirs), CHECKPOINT),
        "an old checkpoint with a bad signature": (
            {**proof, "old_checkpoint": flip_signature(proof["old_checkpoint"], "accord-exchange")},
            CHECKPOINT,
        ),
        "a new checkpoint with a bad signature": (
            {**proof, "new_checkpoint": flip_signature(proof["new_checkpoint"], "accord-exchange")},
            CHECKPOINT,
        ),
    }
    for name, (doc, expected) in cases.items():
        result = check(write_json(tmp_path / "bad.json", doc), key, offline)
        assert result.returncode == expected, (name, result.stdout, result.stderr)


def test_proofs_beyond_the_log_are_bad_input(db: Path) -> None:
    size = counts(db)["audit_entries"]
    cases = [
        (("prove", str(size)), f"entries 0 to {size - 1}"),
        (("prove", "--", "-1"), "entries 0 to"),
        (("prove", "0", "--size", str(size + 1)), f"the log holds {size} entries"),
        (("prove", "0", "--size", "0"), f"the log holds {size} entries"),
        (("consistency", "0"), "OLD 0"),
        (("consistency", str(size + 1)), f"OLD {size + 1}"),
        (("consistency", "2", "1"), "OLD 2"),
        (("consistency", "1", str(size + 1)), f"the log holds {size} entries"),
    ]
    for args, message in cases:
        result = accord("audit", *args, db=db)
        assert result.returncode == INVALID, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert result.stdout == ""


# --- checkpoints -------------------------------------------------------------------------------


def test_publish_countersign_and_forged_signatures(db: Path, master: MasterKey) -> None:
    key = master.text()
    published = accord("audit", "checkpoint", db=db, key=key)
    assert published.returncode == OK, published.stderr
    origin, size_line, root = published.stdout.split("\n")[:3]
    size = int(size_line)
    # the publication is an entry of its own, after the tree it publishes
    assert origin.startswith("accord.exchange/") and size == counts(db)["audit_entries"] - 1
    tree = accord("audit", "consistency", size, size, db=db).json()
    assert base64.b64decode(root).hex() == tree["new_root"]
    assert accord("audit", "checkpoint", db=db).returncode != OK  # publishing needs the key

    assert (
        accord("audit", "countersign", size + 1, "--party", "KOR", db=db, key=key).returncode
        == INVALID
    )
    assert (
        accord("audit", "countersign", size, "--party", "XXX", db=db, key=key).returncode == INVALID
    )
    signed = accord("audit", "countersign", size, "--party", "KOR", db=db, key=key)
    assert signed.returncode == OK, signed.stderr
    assert "\n\u2014 accord-exchange " in signed.stdout
    assert "\n\u2014 accord-party-KOR " in signed.stdout
    assert query(db, "select note from checkpoints where size = ?", size) == [(signed.stdout,)]

    report = accord("audit", "verify", "--json", db=db)
    assert report.returncode == OK, report.stderr
    assert report.json()["countersignatures"] == [f"{size}:accord-party-KOR"]
    assert report.json()["checkpoints_verified"] == 2
    human = accord("audit", "verify", db=db)
    assert f"countersigned: {size}:accord-party-KOR" in human.stdout

    for name in ("accord-party-KOR", "accord-exchange"):
        execute(
            db,
            "update checkpoints set note = ? where size = ?",
            flip_signature(signed.stdout, name),
            size,
        )
        forged = accord("audit", "verify", db=db)
        assert forged.returncode == CHECKPOINT, (name, forged.stderr)
        assert f"published at size {size}" in forged.stderr and name in forged.stderr
    execute(db, "update checkpoints set note = ? where size = ?", signed.stdout, size)
    assert accord("audit", "verify", db=db).returncode == OK

    # a party countersigns only a log that verifies
    execute(
        db,
        "update facts set body = json_set(body, '$.level', '군사III급비밀')"
        " where kind = 'item' and json_extract(body, '$.id') = 'kor-kn25-1031'",
    )
    refused = accord("audit", "countersign", size, "--party", "JPN", db=db, key=key)
    assert refused.returncode == INTEGRITY and "kor-kn25-1031" in refused.stderr
    assert query(db, "select note from checkpoints where size = ?", size) == [(signed.stdout,)]


def test_verify_exits_6_for_a_changed_row_and_8_for_a_changed_checkpoint(db: Path) -> None:
    first = accord("audit", "verify", db=db)
    assert first.returncode == OK, first.stderr
    holding = (
        "kind = 'holding' and json_extract(body, '$.item') = 'kor-kn25-1031'"
        " and json_extract(body, '$.party') = 'JPN'"
    )
    execute(db, f"update facts set body = json_set(body, '$.level', '秘') where {holding}")
    changed = accord("audit", "verify", db=db)
    assert changed.returncode == INTEGRITY
    assert re.search(
        r"audit entry \d+ wrote facts row \d+ \(holding kor-kn25-1031/JPN\);"
        r" the store now differs in body",
        changed.stderr,
    ), changed.stderr
    execute(db, f"update facts set body = json_set(body, '$.level', '極秘') where {holding}")
    assert accord("audit", "verify", db=db).returncode == OK
    note = query(db, "select value from meta where key = 'audit_checkpoint'")[0][0]
    execute(
        db,
        "update meta set value = ? where key = 'audit_checkpoint'",
        flip_signature(note, "accord-exchange"),
    )
    forged = accord("audit", "verify", db=db)
    assert forged.returncode == CHECKPOINT
    assert "the latest checkpoint" in forged.stderr


@pytest.fixture(autouse=True)
def _no_stray_processes() -> Iterator[None]:
    yield
    assert _server.process is None or _server.process.poll() is None, "the fork server exited"
