"""Content never appears without its marking: `accord read` puts the copy's banner above and below
the content (text) and carries the marking's fields (JSON); `accord check read` says whether the
copy passed its integrity check. A real process and a real SQLite file each time."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml

from tests.test_cli import BUILTIN, accord, new_db, rows

DEC_1 = "2019-12-01T00:00:00+09:00"
JPN_COPY = "極秘 (JPN) // ORIGINATOR KOR 군사II급비밀 // REL TO JPN, USA"
KOR_COPY = "군사II급비밀 (KOR) // ORIGINATOR JPN 極秘 // REL TO KOR, USA"
USA_HUB_COPY = "SECRET (USA) // ORIGINATOR KOR 군사II급비밀 // REL TO JPN, USA"
CONTENTS = [item["content"] for item in yaml.safe_load(BUILTIN.read_text("utf-8"))["items"]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = new_db(tmp_path_factory.mktemp("markings") / "exchange.db")
    loaded = accord("load", str(BUILTIN), db=db)
    assert loaded.returncode == 0, loaded.stderr
    return db


@pytest.fixture
def own(world: Path, tmp_path: Path) -> Path:
    """A copy of the loaded world that a test may change."""
    return Path(shutil.copy(world, tmp_path / "own.db"))


def content_of(item_id: str) -> str:
    items = yaml.safe_load(BUILTIN.read_text("utf-8"))["items"]
    return str(next(i["content"] for i in items if i["id"] == item_id))


@pytest.mark.parametrize(
    ("item", "user", "at", "banner"),
    [
        ("kor-kn25-1031", "jpn-analyst", DEC_1, JPN_COPY),  # received under the GSOMIA (R2)
        ("jpn-radar-1128", "kor-analyst", DEC_1, KOR_COPY),  # the other way
        ("kor-nuclear-test-0909", "usa-analyst", "2016-09-09T13:00:00+09:00", USA_HUB_COPY),
        (
            "kor-kn25-1031",
            "kor-analyst",
            DEC_1,
            "군사II급비밀 (KOR) // ORIGINATOR KOR 군사II급비밀 // REL TO JPN, USA",
        ),
    ],
)
def test_read_puts_the_banner_above_and_below_the_content(
    world: Path, item: str, user: str, at: str, banner: str
) -> None:
    result = accord("read", item, "--user", user, "--at", at, db=world)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.rstrip("\n").split("\n")
    assert lines[0] == banner
    assert lines[-1] == banner
    assert content_of(item) in "\n".join(lines[1:-1])


def test_read_json_carries_the_marking_with_the_content(world: Path) -> None:
    result = accord(
        "read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", DEC_1, "--json", db=world
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["decision"] == "allow"
    assert data["marking"] == {
        "holder": "JPN",
        "holder_level": "極秘",
        "originator": "KOR",
        "originator_level": "군사II급비밀",
        "releasable_to": ["JPN", "USA"],
        "banner": JPN_COPY,
    }
    assert data["item"]["content"] == content_of("kor-kn25-1031")
    assert data["integrity"]["status"] == "verified"
    # the marking comes before the content in the document
    assert result.stdout.index('"marking"') < result.stdout.index('"content"')


def test_a_caveat_naming_no_party_is_rel_to_none(tmp_path: Path) -> None:
    db = new_db(tmp_path / "own.db")
    for args in (
        ("topic", "add", "t"),
        ("party", "add", "AAA", "--name", "A", "--timezone", "UTC", "--levels", "LOW,HIGH"),
        ("user", "add", "a1", "--party", "AAA", "--clearance", "HIGH", "--need-to-know", "t"),
    ):
        assert accord(*args, db=db).returncode == 0
    made = accord(
        "item", "add", "x", "--originator", "AAA", "--level", "HIGH", "--topics", "t",
        "--created", "2020-01-01T00:00:00Z", "--content", "EYES ONLY", db=db,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    read = accord("read", "x", "--user", "a1", "--at", "2020-01-02T00:00:00Z", db=db)
    assert read.returncode == 0, read.stderr
    lines = read.stdout.rstrip("\n").split("\n")
    assert lines[0] == lines[-1] == "HIGH (AAA) // ORIGINATOR AAA HIGH // REL TO NONE"


def test_a_denied_read_shows_neither_content_nor_marking(world: Path) -> None:
    for output in ("text", "json"):
        extra = ("--json",) if output == "json" else ()
        result = accord(
            "read", "kor-kn25-1031", "--user", "jpn-junior", "--at", DEC_1, *extra, db=world
        )
        assert result.returncode == 1
        assert content_of("kor-kn25-1031") not in result.stdout
        assert "ORIGINATOR" not in result.stdout
        if output == "json":
            assert "item" not in json.loads(result.stdout)


@pytest.mark.parametrize(
    "args",
    [
        ("item", "list", "--json"),
        ("item", "list"),
        ("check", "read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", DEC_1, "--json"),
        ("check", "read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", DEC_1),
        ("readable", "jpn-analyst", "--at", DEC_1, "--json"),
        ("impact", "rok-japan-gsomia", "--at", "2019-11-23T00:00:00+09:00", "--json"),
        ("agreement", "show", "rok-japan-gsomia", "--json"),
        ("user", "list", "--json"),
        ("topic", "list", "--json"),
    ],
)
def test_no_other_command_shows_content(world: Path, args: tuple[str, ...]) -> None:
    """Only `accord read` prints content, and always inside its banners."""
    result = accord(*args, db=world)
    assert result.returncode == 0, result.stderr
    for content in CONTENTS:
        assert content not in result.stdout


def test_check_read_says_the_copy_passed_its_integrity_check(world: Path) -> None:
    text = accord(
        "check", "read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", DEC_1, db=world
    )
    assert text.returncode == 0, text.stderr
    assert f"copy: {JPN_COPY}" in text.stdout
    assert "integrity: verified" in text.stdout
    data = json.loads(
        accord(
            "check",
            "read",
            "kor-kn25-1031",
            "--user",
            "jpn-analyst",
            "--at",
            DEC_1,
            "--json",
            db=world,
        ).stdout
    )
    assert data["decision"] == "allow"
    assert data["integrity"]["status"] == "verified"
    assert data["marking"]["banner"] == JPN_COPY
    assert "item" not in data


def test_check_read_writes_nothing(own: Path) -> None:
    before = rows(own)
    result = accord(
        "check", "read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", DEC_1, db=own
    )
    assert result.returncode == 0, result.stderr
    assert rows(own) == before


@pytest.mark.parametrize(
    ("table", "column", "where"),
    [
        ("items", "payload", "id = 'kor-kn25-1031'"),
        ("items", "signature", "id = 'kor-kn25-1031'"),
        ("wrapped_keys", "wrapped", "item = 'kor-kn25-1031' and party = 'JPN'"),
    ],
)
def test_a_tampered_copy_fails_its_check_and_is_never_read(
    own: Path, table: str, column: str, where: str
) -> None:
    with sqlite3.connect(own) as conn:
        (value,) = conn.execute(f"select {column} from {table} where {where}").fetchone()
        data = bytearray(value)
        data[len(data) // 2] ^= 0x5A
        conn.execute(f"update {table} set {column} = ? where {where}", (bytes(data),))
    args = ("kor-kn25-1031", "--user", "jpn-analyst", "--at", DEC_1)
    checked = accord("check", "read", *args, "--json", db=own)
    assert checked.returncode == 6, checked.stdout + checked.stderr
    data = json.loads(checked.stdout)
    assert data["decision"] == "allow" and data["integrity"]["status"] == "failed"
    assert "kor-kn25-1031" in data["integrity"]["detail"]
    text = accord("check", "read", *args, db=own)
    assert text.returncode == 6 and "integrity: failed" in text.stdout
    read = accord("read", *args, db=own)
    assert read.returncode == 6
    assert content_of("kor-kn25-1031") not in read.stdout
    # an untouched copy still passes
    other = accord("check", "read", "kor-slbm-1002", "--user", "jpn-analyst", "--at", DEC_1, db=own)
    assert other.returncode == 0 and "integrity: verified" in other.stdout


def test_check_read_without_a_master_key_says_it_checked_nothing(world: Path) -> None:
    result = accord(
        "check", "read", "kor-kn25-1031", "--user", "jpn-analyst", "--at", DEC_1, "--json",
        db=world, env={"ACCORD_MASTER_KEY": ""},
    )  # fmt: skip
    assert result.returncode == 4, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["decision"] == "allow"
    assert data["integrity"]["status"] == "not-checked"
    assert "master key" in data["integrity"]["detail"]


def test_check_read_of_a_destroyed_copy_agrees_with_read(own: Path) -> None:
    destroyed = accord(
        "destroy", "kor-kn25-1031", "--party", "JPN", "--at", "2023-06-01T00:00:00+09:00", db=own
    )
    assert destroyed.returncode == 0, destroyed.stderr
    # as of before the destruction, the decision would allow, but the key is gone (R10)
    args = ("kor-kn25-1031", "--user", "jpn-analyst", "--at", DEC_1, "--json")
    checked = accord("check", "read", *args, db=own)
    read = accord("read", *args, db=own)
    assert checked.returncode == read.returncode == 1
    codes = [r["code"] for r in json.loads(checked.stdout)["reasons"]]
    assert codes == [r["code"] for r in json.loads(read.stdout)["reasons"]] == ["destroyed"]
