"""Commands that change state say what they did in one line, and ``--json`` gives the object:
the ones added beside the first set (matters, reclassification, investigations, release holds,
load), and replay's progress on a terminal."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from accord.service import MasterKey
from tests.test_cli_daily import accord as accord_without_key
from tests.test_cli_daily import on_terminal

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "nk-launches-sample.csv"
OK, DENIED = 0, 1


def one_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_matter_add_and_state_say_what_they_did(db: Path, master: MasterKey) -> None:
    accord = partial(accord_without_key, ACCORD_MASTER_KEY=master.text())
    added = accord(
        "matter", "add", "talks", "--states", "open,closed", "--initial", "open", "--db", db
    )
    assert added.returncode == OK, added.stderr
    assert one_line(added.stdout) == "added matter talks: states open, closed; initially open"
    state = ("matter", "state", "talks", "closed", "--by", "KOR", "--db", db)
    recorded = accord(*state, "--at", "2024-01-02T00:00:00Z")
    assert one_line(recorded.stdout) == "recorded talks as closed by KOR from 2024-01-02T00:00:00Z"
    again = accord(*state, "--at", "2024-01-03T00:00:00Z", "--json")
    data = json.loads(again.stdout)
    assert data["done"] is True and data["matter_state"] == {
        "matter": "talks",
        "state": "closed",
        "by": "KOR",
        "at": "2024-01-03T00:00:00Z",
    }
    defined = accord(
        "matter", "add", "vote", "--states", "a,b", "--initial", "a", "--json", "--db", db
    )
    assert json.loads(defined.stdout)["matter"] == {
        "id": "vote",
        "states": ["a", "b"],
        "initial": "a",
    }


def test_articles_acts_say_what_they_did(db: Path, master: MasterKey) -> None:
    accord = partial(accord_without_key, ACCORD_MASTER_KEY=master.text())
    item = ("kor-kn25-1031",)
    up = accord("reclassify", *item, "--by", "KOR", "--level", "군사III급비밀", "--db", db,
                "--at", "2024-01-05T00:00:00Z")  # fmt: skip
    assert up.returncode == OK, up.stderr
    assert one_line(up.stdout) == (
        "reclassified kor-kn25-1031 by KOR from 2024-01-05T00:00:00Z: level 군사III급비밀"
    )
    hold = accord("release-hold", "place", "--by", "KOR", "--holder", "JPN", "--db", db,
                  "--at", "2024-01-06T00:00:00Z", "--json")  # fmt: skip
    data = json.loads(hold.stdout)
    assert data["done"] is True and data["release_hold"]["state"] == "placed"
    lifted = accord("release-hold", "lift", "--by", "KOR", "--holder", "JPN", "--db", db,
                    "--at", "2024-01-07T00:00:00Z")  # fmt: skip
    assert one_line(lifted.stdout) == "release hold by KOR on JPN lifted from 2024-01-07T00:00:00Z"
    again = accord("release-hold", "lift", "--by", "KOR", "--holder", "JPN", "--db", db,
                   "--at", "2024-01-08T00:00:00Z")  # fmt: skip
    assert again.returncode == DENIED and "no-release-hold" in again.stdout
    reported = accord("compromise", *item, "--party", "JPN", "--description", "lost", "--db", db,
                      "--discovered-at", "2024-01-09T00:00:00Z", "--at", "2024-01-09T00:00:00Z")  # fmt: skip
    assert reported.returncode == OK, reported.stderr
    started = accord("investigation", "start", *item, "--party", "JPN", "--db", db,
                     "--at", "2024-01-09T01:00:00Z")  # fmt: skip
    assert one_line(started.stdout) == (
        "investigation of kor-kn25-1031 at JPN started at 2024-01-09T01:00:00Z"
    )
    concluded = accord("investigation", "conclude", *item, "--party", "JPN", "--db", db,
                       "--result", "not-compromised", "--measures", "new locks",
                       "--at", "2024-01-10T00:00:00Z", "--json")  # fmt: skip
    data = json.loads(concluded.stdout)
    assert data["done"] is True and data["investigation"]["state"] == "concluded"
    assert data["investigation"]["result"] == "not-compromised"


def test_load_says_what_it_added_and_json_names_it(
    db: Path, tmp_path: Path, master: MasterKey
) -> None:
    accord = partial(accord_without_key, ACCORD_MASTER_KEY=master.text())
    more = tmp_path / "more.yaml"
    more.write_text(
        "users:\n  - {id: jpn-second, party: JPN, clearance: 極秘, need_to_know: [nk-missile]}\n",
        encoding="utf-8",
    )
    loaded = accord("load", more, "--db", db, "--json")
    assert loaded.returncode == OK, loaded.stderr
    data = json.loads(loaded.stdout)
    assert data["done"] is True and data["added"]["users"] == ["jpn-second"]
    assert data["added"]["parties"] == [] and data["already_in_the_store"]["users"] == []
    again = accord("load", more, "--db", db)
    assert one_line(again.stdout).endswith("already in the store: 0 topics, 0 parties, 0 agreements,"
                                           " 1 users, 0 items, 0 events")  # fmt: skip


def fresh_kor_store(tmp_path: Path, key: dict[str, str]) -> Path:
    accord = partial(accord_without_key, **key)
    store = tmp_path / "launches.db"
    assert accord("keys", "init", "--db", store).returncode == OK
    assert accord("topic", "add", "nk-missile", "--db", store).returncode == OK
    party = accord("party", "add", "KOR", "--name", "Korea", "--timezone", "Asia/Seoul",
                   "--levels", "군사III급비밀,군사II급비밀", "--db", store)  # fmt: skip
    assert party.returncode == OK, party.stderr
    return store


REPLAY = ("replay", SAMPLE, "--originator", "KOR", "--topics", "nk-missile", "--skip-bad")


def test_replay_shows_a_progress_bar_on_a_terminal(tmp_path: Path, master: MasterKey) -> None:
    key = {"ACCORD_MASTER_KEY": master.text()}
    store = fresh_kor_store(tmp_path, key)
    shown = on_terminal(*REPLAY, "--db", store, columns=100, pipe_stdout=True, **key)
    assert shown.returncode == OK, shown.stderr
    assert "launches" in shown.stderr and "━" in shown.stderr and "12/12" in shown.stderr
    assert "12 published" in shown.stdout


def test_replay_shows_no_progress_on_a_pipe(tmp_path: Path, master: MasterKey) -> None:
    key = {"ACCORD_MASTER_KEY": master.text()}
    store = fresh_kor_store(tmp_path, key)
    piped = accord_without_key(*REPLAY, "--db", store, **key)
    assert piped.returncode == OK, piped.stderr
    assert "━" not in piped.stderr + piped.stdout and "\x1b" not in piped.stderr
    assert all(line.startswith("skipped: ") for line in piped.stderr.splitlines())
