"""The inventory as an officer finds it: user, item, topic and token lists, agreement show and list,
with typed JSON; acts and definitions that say what they did in one line; every command with a
description. A real process and a real SQLite file each time."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from tests.test_cli import BUILTIN, accord, new_db, rows

DEC_1 = "2019-12-01T00:00:00+09:00"
CONTENTS = [item["content"] for item in yaml.safe_load(BUILTIN.read_text("utf-8"))["items"]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = new_db(tmp_path_factory.mktemp("inventory") / "exchange.db")
    loaded = accord("load", str(BUILTIN), db=db)
    assert loaded.returncode == 0, loaded.stderr
    return db


@pytest.fixture
def own(world: Path, tmp_path: Path) -> Path:
    """A copy of the loaded world that a test may change."""
    return Path(shutil.copy(world, tmp_path / "own.db"))


def as_json(*args: str, db: Path) -> Any:
    result = accord(*args, "--json", db=db)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def instant(text: object) -> datetime:
    """An ISO 8601 instant with its offset (what every JSON instant must be)."""
    assert isinstance(text, str)
    value = datetime.fromisoformat(text)
    assert value.utcoffset() is not None, text
    return value


# --- user list ------------------------------------------------------------------------------------


def test_user_list_and_its_party_filter(world: Path) -> None:
    users = as_json("user", "list", db=world)
    assert [u["id"] for u in users] == [
        "jpn-analyst",
        "jpn-cyber-analyst",
        "jpn-junior",
        "kor-analyst",
        "usa-analyst",
    ]
    junior = next(u for u in users if u["id"] == "jpn-junior")
    assert junior == {
        "id": "jpn-junior",
        "party": "JPN",
        "clearance": "秘",
        "need_to_know": ["nk-missile"],
    }
    japan = as_json("user", "list", "--party", "JPN", db=world)
    assert {u["party"] for u in japan} == {"JPN"} and len(japan) == 3
    text = accord("user", "list", "--party", "KOR", db=world)
    assert (
        text.returncode == 0 and "kor-analyst" in text.stdout and "jpn-analyst" not in text.stdout
    )
    assert "군사II급비밀" in text.stdout and "cyber, nk-missile, nk-nuclear" in text.stdout


# --- item list ------------------------------------------------------------------------------------


def test_item_list_is_each_holders_view_of_its_copies(world: Path) -> None:
    copies = as_json("item", "list", "--at", DEC_1, db=world)
    held = {(c["item"], c["holder"]) for c in copies}
    assert ("kor-kn25-1031", "KOR") in held and ("kor-kn25-1031", "JPN") in held
    assert ("kor-nuclear-test-0909", "USA") in held  # the hub's own copy (R8)
    assert ("kor-missile-eve", "JPN") not in held  # never released
    jpn = next(c for c in copies if (c["item"], c["holder"]) == ("kor-kn25-1031", "JPN"))
    assert jpn["holder_level"] == "極秘"
    assert (jpn["originator"], jpn["originator_level"]) == ("KOR", "군사II급비밀")
    assert jpn["releasable_to"] == ["JPN", "USA"] and jpn["topics"] == ["nk-missile"]
    assert jpn["agreement"] == "rok-japan-gsomia" and jpn["via"] is None
    assert instant(jpn["received_at"]) == instant("2019-11-01T09:00:00+09:00")
    assert jpn["destroyed"] is False and jpn["destroyed_at"] is None
    assert jpn["banner"] == "極秘 (JPN) // ORIGINATOR KOR 군사II급비밀 // REL TO JPN, USA"
    through = next(
        c for c in copies if (c["item"], c["holder"]) == ("kor-nuclear-test-0909", "JPN")
    )
    assert (through["agreement"], through["via"]) == ("tisa", "USA")
    own = next(c for c in copies if (c["item"], c["holder"]) == ("jpn-radar-1128", "JPN"))
    assert own["agreement"] is None  # the originator's own copy
    for copy in copies:
        assert set(copy) >= {"item", "holder", "holder_level", "originator", "originator_level"}
        assert isinstance(copy["topics"], list) and isinstance(copy["releasable_to"], list)
        instant(copy["received_at"])
        instant(copy["created"])
        assert "content" not in copy and "title" not in copy
    dump = json.dumps(copies, ensure_ascii=False)
    assert not any(content in dump for content in CONTENTS)


def test_item_list_filters(world: Path) -> None:
    japan = as_json("item", "list", "--party", "JPN", "--at", DEC_1, db=world)
    assert {c["holder"] for c in japan} == {"JPN"}
    assert {c["item"] for c in japan} == {
        "kor-nuclear-test-0909",
        "kor-kn25-0824",
        "kor-slbm-1002",
        "kor-kn25-1031",
        "kor-kn25-1128",
        "jpn-radar-1128",
    }
    nuclear = as_json("item", "list", "--topic", "nk-nuclear", "--at", DEC_1, db=world)
    assert {(c["item"], c["holder"]) for c in nuclear} == {
        ("kor-nuclear-test-0909", "KOR"),
        ("kor-nuclear-test-0909", "USA"),
        ("kor-nuclear-test-0909", "JPN"),
    }
    # --level is the holder's level in the holder's own scheme
    secret = as_json("item", "list", "--level", "SECRET", "--at", DEC_1, db=world)
    assert {(c["item"], c["holder"]) for c in secret} == {("kor-nuclear-test-0909", "USA")}
    top = as_json(
        "item", "list", "--party", "KOR", "--level", "군사I급비밀", "--at", DEC_1, db=world
    )
    assert [c["item"] for c in top] == ["kor-top-eve"]
    # --at: only copies received by then
    early = as_json("item", "list", "--party", "JPN", "--at", "2019-09-01T00:00:00+09:00", db=world)
    assert {c["item"] for c in early} == {"kor-nuclear-test-0909", "kor-kn25-0824"}
    combined = as_json(
        "item", "list", "--party", "JPN", "--topic", "nk-missile", "--level", "極秘", "--at", "2019-10-15T00:00:00+09:00", db=world
    )  # fmt: skip
    assert {c["item"] for c in combined} == {"kor-kn25-0824", "kor-slbm-1002"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--party", "XXX"), "XXX"),
        (("--topic", "weather"), "weather"),
        (("--party", "KOR", "--level", "極秘"), "極秘"),  # a level of JPN's scheme, not KOR's
        (("--level", "COSMIC"), "COSMIC"),
        (("--at", "2019-12-01T00:00:00"), "no UTC offset"),
    ],
)
def test_item_list_bad_filters_exit_2_naming_the_value(
    world: Path, args: tuple[str, ...], needle: str
) -> None:
    result = accord("item", "list", *args, db=world)
    assert result.returncode == 2, result.stdout + result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_a_destroyed_copy_is_listed_as_destroyed_from_its_instant(own: Path) -> None:
    done = accord(
        "destroy", "kor-kn25-1031", "--party", "JPN", "--at", "2023-06-01T00:00:00+09:00", db=own
    )
    assert done.returncode == 0, done.stderr

    def copy_at(at: str) -> dict[str, Any]:
        listed = as_json("item", "list", "--party", "JPN", "--at", at, db=own)
        return next(c for c in listed if c["item"] == "kor-kn25-1031")

    assert copy_at("2023-05-31T23:59:59.999999+09:00")["destroyed"] is False
    after = copy_at("2023-06-01T00:00:00+09:00")
    assert after["destroyed"] is True
    assert instant(after["destroyed_at"]) == instant("2023-06-01T00:00:00+09:00")


# --- topic list -----------------------------------------------------------------------------------


def test_topic_list(world: Path) -> None:
    topics = as_json("topic", "list", db=world)
    assert topics == [
        {"topic": "cyber", "items": 1, "users": 2},
        {"topic": "nk-missile", "items": 8, "users": 4},
        {"topic": "nk-nuclear", "items": 1, "users": 3},
    ]
    text = accord("topic", "list", db=world)
    assert text.returncode == 0 and "nk-nuclear" in text.stdout


# --- token list -----------------------------------------------------------------------------------


def test_token_list_never_shows_a_secret_or_its_hash(own: Path) -> None:
    first = as_json("user", "token", "jpn-analyst", db=own)
    second = as_json("user", "token", "usa-analyst", "--admin", "--expires", "P1D", db=own)
    revoked = as_json("user", "revoke", second["token_id"], db=own)
    assert revoked["done"] is True and revoked["token"]["revoked"] is True
    listed = as_json("token", "list", db=own)
    assert [t["id"] for t in listed] == [first["token_id"], second["token_id"]]
    one, two = listed
    assert (one["user"], one["admin"], one["revoked"], one["revoked_at"]) == (
        "jpn-analyst",
        False,
        False,
        None,
    )
    assert (two["user"], two["admin"], two["revoked"]) == ("usa-analyst", True, True)
    for token in listed:
        assert set(token) == {
            "id",
            "user",
            "admin",
            "issued_at",
            "expires_at",
            "expired",
            "revoked",
            "revoked_at",
        }
        assert instant(token["expires_at"]) > instant(token["issued_at"])
        assert token["expired"] is False
    instant(two["revoked_at"])
    mine = as_json("token", "list", "--user", "jpn-analyst", db=own)
    assert [t["id"] for t in mine] == [first["token_id"]]
    with sqlite3.connect(own) as conn:
        stored = conn.execute("select salt, hash from api_tokens").fetchall()
    text = accord("token", "list", db=own)
    assert text.returncode == 0 and first["token_id"] in text.stdout
    for shown in (text.stdout, json.dumps(listed)):
        for issued in (first, second):
            assert issued["token"].split(".", 1)[1] not in shown
        for salt, digest in stored:
            for value in (salt, digest):
                assert value.hex() not in shown
                assert base64.b64encode(value).decode() not in shown
                assert base64.urlsafe_b64encode(value).decode().rstrip("=") not in shown
    unknown = accord("token", "list", "--user", "nobody", db=own)
    assert unknown.returncode == 2 and "nobody" in unknown.stderr


# --- agreements -----------------------------------------------------------------------------------


def test_agreement_show_the_2019_world_at_midnight(world: Path) -> None:
    view = as_json(
        "agreement", "show", "rok-japan-gsomia", "--at", "2019-11-23T00:00:00+09:00", db=world
    )
    assert view["id"] == "rok-japan-gsomia" and view["parties"] == ["JPN", "KOR"]
    assert view["hub"] is None and view["timezone"] == "Asia/Seoul" and view["topics"] == "all"
    assert (view["term"], view["renewal"], view["notice_period"]) == ("P1Y", "automatic", "P90D")
    assert instant(view["in_force_from"]) == instant("2016-11-23T00:00:00+09:00")
    assert view["equivalence"] == [
        {"KOR": "군사II급비밀", "JPN": "極秘"},
        {"KOR": "군사III급비밀", "JPN": "秘"},
    ]
    state = view["state"]
    assert state["status"] == "in_force" and state["notice"]["suspended"] is True
    assert instant(state["term_end"]) == instant("2020-11-23T00:00:00+09:00")
    # the history up to --at: the notice and its suspension, each with its sender
    assert view["history"] == [
        {"at": "2019-08-23T06:25:00Z", "kind": "termination_notice", "by": ["KOR"]},
        {"at": "2019-11-22T09:00:00Z", "kind": "notice_suspended", "by": ["KOR"]},
    ]
    assert view["events"] == 3
    before = as_json(
        "agreement", "show", "rok-japan-gsomia", "--at", "2019-11-22T17:59:59+09:00", db=world
    )
    assert before["state"]["status"] == "notice_pending"
    assert [h["kind"] for h in before["history"]] == ["termination_notice"]
    later = as_json(
        "agreement", "show", "rok-japan-gsomia", "--at", "2024-01-01T00:00:00+09:00", db=world
    )
    assert [h["kind"] for h in later["history"]] == [
        "termination_notice",
        "notice_suspended",
        "notice_withdrawn",
    ]
    tisa = as_json("agreement", "show", "tisa", "--at", DEC_1, db=world)
    assert tisa["hub"] == "USA" and tisa["topics"] == ["nk-missile", "nk-nuclear"]
    assert tisa["term"] is None and tisa["history"] == []


def test_agreement_show_as_text_in_the_agreements_zone(world: Path) -> None:
    result = accord(
        "agreement", "show", "rok-japan-gsomia", "--at", "2019-11-23T00:00:00+09:00", db=world
    )
    assert result.returncode == 0, result.stderr
    for text in (
        "2019-08-23T15:25:00+09:00",
        "termination_notice",
        "notice_suspended",
        "P90D",
        "Asia/Seoul",
        "군사III급비밀",
        "秘",
        "in_force",
        "2020-11-23T00:00:00+09:00",
    ):
        assert text in result.stdout, text
    assert "notice_withdrawn" not in result.stdout  # 2023: after --at
    unknown = accord("agreement", "show", "no-such", db=world)
    assert unknown.returncode == 2 and "no-such" in unknown.stderr


def test_agreement_show_lists_amendments_by_every_party_with_typed_changes(own: Path) -> None:
    amended = accord(
        "agreement", "amend", "rok-japan-gsomia", "--topics", "nk-missile,nk-nuclear",
        "--notice-period", "P30D", "--at", "2024-01-01T00:00:00+09:00", db=own,
    )  # fmt: skip
    assert amended.returncode == 0, amended.stdout + amended.stderr
    view = as_json(
        "agreement", "show", "rok-japan-gsomia", "--at", "2024-06-01T00:00:00+09:00", db=own
    )
    last = view["history"][-1]
    assert last == {
        "at": "2023-12-31T15:00:00Z",
        "kind": "amendment",
        "by": ["JPN", "KOR"],
        "changes": {"notice_period": "P30D", "topics": ["nk-missile", "nk-nuclear"]},
    }
    assert view["topics"] == ["nk-missile", "nk-nuclear"] and view["notice_period"] == "P30D"
    before = as_json(
        "agreement", "show", "rok-japan-gsomia", "--at", "2023-12-31T23:59:59+09:00", db=own
    )
    assert before["topics"] == "all" and before["notice_period"] == "P90D"


def test_agreement_list_json_is_typed(world: Path) -> None:
    listed = as_json("agreement", "list", "--at", DEC_1, db=world)
    assert [a["id"] for a in listed] == [
        "japan-us-gsomia",
        "rok-japan-gsomia",
        "rok-us-security-agreement",
        "tisa",
    ]
    by_id = {a["id"]: a for a in listed}
    assert by_id["tisa"]["topics"] == ["nk-missile", "nk-nuclear"]
    assert by_id["tisa"]["parties"] == ["JPN", "KOR", "USA"] and by_id["tisa"]["hub"] == "USA"
    assert by_id["rok-japan-gsomia"]["topics"] == "all"
    assert by_id["rok-japan-gsomia"]["events"] == 3
    for agreement in listed:
        assert isinstance(agreement["parties"], list)
        assert isinstance(agreement["equivalence"], list)
        assert all(isinstance(row, dict) for row in agreement["equivalence"])
        assert agreement["topics"] == "all" or isinstance(agreement["topics"], list)
        instant(agreement["in_force_from"])
        assert agreement["state"]["status"] == "in_force"
        assert isinstance(agreement["history"], list)
    text = accord("agreement", "list", db=world)
    assert text.returncode == 0 and "tisa" in text.stdout


# --- consent --------------------------------------------------------------------------------------


def test_consent_refuse_says_refused_and_grant_says_granted(own: Path) -> None:
    args = ("kor-missile-eve", "--by", "KOR", "--holder", "USA", "--to", "JPN")
    refused = accord("consent", "refuse", *args, "--at", "2023-06-01T00:00:00+09:00", db=own)
    assert refused.returncode == 0, refused.stderr
    assert refused.stdout.strip().startswith("consent refused:")
    assert "may not pass kor-missile-eve on to JPN" in refused.stdout
    assert "ALLOW" not in refused.stdout and "granted" not in refused.stdout
    data = as_json("consent", "refuse", *args, "--at", "2023-06-02T00:00:00+09:00", db=own)
    assert data["done"] is True and "decision" not in data
    assert data["consent"]["granted"] is False and data["consent"]["answer"] == "refused"
    assert data["consent"]["recipients"] == ["JPN"]
    assert "allow" not in json.dumps(data)
    granted = as_json("consent", "grant", *args, "--at", "2023-06-03T00:00:00+09:00", db=own)
    assert granted["consent"]["granted"] is True and granted["summary"].startswith(
        "consent granted:"
    )
    # the refusal really counted: the hub could not pass it on between refusal and grant
    check = accord(
        "check", "release", "kor-missile-eve", "--from", "USA", "--to", "JPN",
        "--at", "2023-06-02T12:00:00+09:00", "--json", db=own,
    )  # fmt: skip
    assert check.returncode == 1


# --- one line for what was done --------------------------------------------------------------------


def one_line(result: Any) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    return str(lines[0])


def test_definitions_say_what_they_did_in_one_line(tmp_path: Path) -> None:
    db = new_db(tmp_path / "defs.db")
    assert one_line(accord("topic", "add", "space,sigint", db=db)) == "added topics sigint, space"
    assert as_json("topic", "add", "x", db=db) == {
        "done": True,
        "summary": "added topic x",
        "topics": ["x"],
    }
    line = one_line(
        accord(
            "party",
            "add",
            "FRA",
            "--name",
            "France",
            "--timezone",
            "Europe/Paris",
            "--levels",
            "CD,SD,TSD",
            db=db,
        )
    )
    assert line.startswith("added party FRA") and "CD < SD < TSD" in line
    party = as_json(
        "party",
        "add",
        "DEU",
        "--name",
        "Germany",
        "--timezone",
        "Europe/Berlin",
        "--levels",
        "VS,GEHEIM",
        db=db,
    )
    assert party["party"] == {
        "code": "DEU",
        "name": "Germany",
        "timezone": "Europe/Berlin",
        "levels": ["VS", "GEHEIM"],
    }
    line = one_line(
        accord(
            "user",
            "add",
            "fra-a",
            "--party",
            "FRA",
            "--clearance",
            "SD",
            "--need-to-know",
            "space",
            db=db,
        )
    )
    assert line == "added user fra-a of FRA: clearance SD, need-to-know space"
    user = as_json("user", "add", "deu-a", "--party", "DEU", "--clearance", "GEHEIM", db=db)
    assert user["user"] == {
        "id": "deu-a",
        "party": "DEU",
        "clearance": "GEHEIM",
        "need_to_know": [],
    }
    item_args = (
        "--originator",
        "FRA",
        "--level",
        "SD",
        "--topics",
        "space",
        "--created",
        "2030-01-01T00:00:00Z",
    )
    line = one_line(
        accord(
            "item",
            "add",
            "f1",
            *item_args,
            "--releasable-to",
            "DEU",
            "--content",
            "SECRET TEXT",
            db=db,
        )
    )
    assert line.startswith("added item f1: FRA SD // REL TO DEU") and "SECRET TEXT" not in line
    item = as_json(
        "item", "add", "f2", *item_args, "--content", "SECRET TEXT", "--title", "T", db=db
    )
    assert item["item"] == {
        "id": "f2",
        "originator": "FRA",
        "level": "SD",
        "topics": ["space"],
        "releasable_to": [],
        "created": "2030-01-01T00:00:00Z",
    }
    common = (
        "--parties",
        "FRA,DEU",
        "--timezone",
        "Europe/Paris",
        "--equivalence",
        "FRA=SD,DEU=GEHEIM",
    )
    line = one_line(
        accord(
            "agreement",
            "add",
            "fr-de",
            *common,
            "--in-force-from",
            "2030-01-01T00:00:00Z",
            "--term",
            "P1Y",
            db=db,
        )
    )
    assert line.startswith("added agreement fr-de between DEU, FRA")
    made = as_json(
        "agreement", "add", "fr-de-2", *common, "--in-force-from", "2030-01-01T00:00:00Z", db=db
    )
    assert made["agreement"]["id"] == "fr-de-2" and made["agreement"]["parties"] == ["DEU", "FRA"]


def test_acts_say_what_they_did_in_one_line(own: Path) -> None:
    line = one_line(
        accord(
            "agreement",
            "notice",
            "rok-japan-gsomia",
            "--by",
            "JPN",
            "--at",
            "2024-01-01T00:00:00Z",
            db=own,
        )
    )
    assert line.startswith("recorded termination_notice on rok-japan-gsomia by JPN")
    suspended = as_json(
        "agreement",
        "suspend",
        "rok-japan-gsomia",
        "--by",
        "JPN",
        "--at",
        "2024-01-02T00:00:00Z",
        db=own,
    )
    assert suspended["event"] == {
        "at": "2024-01-02T00:00:00Z",
        "kind": "notice_suspended",
        "by": ["JPN"],
    }
    assert suspended["state"]["status"] == "in_force"
    line = one_line(accord(
        "agreement", "lift", "rok-japan-gsomia", "--by", "JPN", "--effective-at", "2025-01-01T00:00:00Z",
        "--at", "2024-01-03T00:00:00Z", db=own,
    ))  # fmt: skip
    assert "suspension_lifted" in line and "notice_pending" in line
    assert "2025-01-01T09:00:00+09:00" in line  # in the agreement's zone
    line = one_line(
        accord(
            "agreement",
            "withdraw",
            "rok-japan-gsomia",
            "--by",
            "JPN",
            "--at",
            "2024-01-04T00:00:00Z",
            db=own,
        )
    )
    assert "notice_withdrawn" in line and "in_force" in line
    line = one_line(
        accord(
            "agreement",
            "amend",
            "rok-japan-gsomia",
            "--notice-period",
            "P60D",
            "--at",
            "2024-01-05T00:00:00Z",
            db=own,
        )
    )
    assert line.startswith("recorded amendment of notice_period on rok-japan-gsomia by JPN, KOR")
    released = accord(
        "release",
        "kor-missile-eve",
        "--from",
        "KOR",
        "--to",
        "JPN",
        "--at",
        "2024-02-01T00:00:00+09:00",
        db=own,
    )
    line = one_line(released)
    assert line.startswith("released kor-missile-eve KOR → JPN under rok-japan-gsomia")
    assert "JPN's copy: 極秘 (JPN) // ORIGINATOR KOR 군사II급비밀 // REL TO JPN, USA" in line
    via = as_json(
        "release",
        "kor-missile-eve-consented",
        "--from",
        "KOR",
        "--to",
        "JPN",
        "--via",
        "USA",
        "--at",
        "2024-02-01T00:00:00+09:00",
        db=own,
    )
    assert via["release"]["agreement"] == "tisa" and via["release"]["via"] == "USA"
    assert {(c["holder"], c["holder_level"]) for c in via["copies"]} == {
        ("USA", "SECRET"),
        ("JPN", "極秘"),
    }
    line = one_line(
        accord("destroy", "kor-kn25-1031", "--party", "JPN", "--at", "2024-03-01T00:00:00Z", db=own)
    )
    assert line.startswith("destroyed JPN's copy of kor-kn25-1031")
    report = as_json(
        "compromise",
        "kor-slbm-1002",
        "--party",
        "JPN",
        "--description",
        "laptop lost",
        "--at",
        "2024-03-02T00:00:00Z",
        db=own,
    )
    assert report["compromise"] == {
        "item": "kor-slbm-1002",
        "party": "JPN",
        "description": "laptop lost",
        "at": "2024-03-02T00:00:00Z",
    }
    line = one_line(
        accord(
            "consent",
            "grant",
            "kor-kn25-0824",
            "--by",
            "KOR",
            "--holder",
            "JPN",
            "--to",
            "USA",
            "--at",
            "2024-03-03T00:00:00Z",
            db=own,
        )
    )
    assert line.startswith("consent granted: KOR says JPN may pass kor-kn25-0824 on to USA")
    issued = as_json("user", "token", "jpn-analyst", db=own)
    line = one_line(accord("user", "revoke", issued["token_id"], db=own))
    assert line.startswith(f"revoked token {issued['token_id']} of jpn-analyst")


def test_a_refused_act_says_so_exits_1_and_changes_only_the_log(own: Path) -> None:
    before = rows(own)
    refused = accord(
        "release",
        "kor-top-eve",
        "--from",
        "KOR",
        "--to",
        "JPN",
        "--at",
        "2024-01-01T00:00:00+09:00",
        "--json",
        db=own,
    )
    assert refused.returncode == 1
    data = json.loads(refused.stdout)
    assert data["done"] is False and data["summary"].startswith("refused: release of kor-top-eve")
    assert "level-not-covered" in {r["code"] for r in data["reasons"]}
    after = rows(own)
    assert after.pop("audit_entries") == before.pop("audit_entries") + 1
    # the one entry may close subtrees of the log's tree, which the store keeps beside it
    assert after.pop("audit_nodes", 0) >= before.pop("audit_nodes", 0)
    assert after == before
    text = accord(
        "agreement", "suspend", "tisa", "--by", "USA", "--at", "2024-01-02T00:00:00Z", db=own
    )
    assert text.returncode == 1 and "no-notice" in text.stdout and "DENY" in text.stdout


# --- help -----------------------------------------------------------------------------------------


def test_every_command_and_group_has_a_description() -> None:
    from accord.cli.main import cli

    missing = []

    def walk(command: click.Command, path: str) -> None:
        if not (command.help or "").strip():
            missing.append(path)
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")

    walk(cli, "accord")
    assert missing == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("topic", "add"), "Add topics"),
        (("item", "list"), "as each holding party sees them"),
        (("consent", "refuse"), "refuses"),
        (("token", "list"), "Never the secret"),
        (("agreement", "show"), "history"),
    ],
)
def test_help_describes_the_command(args: tuple[str, ...], needle: str) -> None:
    result = accord(*args, "--help")
    assert result.returncode == 0 and needle in " ".join(result.stdout.split())
