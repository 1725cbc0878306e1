"""``accord rule`` and ``accord consent standing``: record, list, log and revoke standing
rules and consents; bad input is a clear error naming the value, and changes nothing."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from accord.service import MasterKey
from tests.test_cli_daily import accord as accord_without_key

OK = 0
RULE = (
    "rule", "add", "kor-warnings", "--originator", "KOR", "--topics", "nk-missile",
    "--max-level", "군사II급비밀", "--to", "JPN,USA", "--routes", "direct,via USA",
    "--from", "2024-01-01T00:00:00+09:00",
)  # fmt: skip


def test_a_rule_routes_a_new_item_and_its_log_says_how(db: Path, master: MasterKey) -> None:
    accord = partial(accord_without_key, ACCORD_MASTER_KEY=master.text())
    added = accord(*RULE, "--db", db)
    assert added.returncode == OK, added.stderr
    assert added.stdout.startswith("standing rule kor-warnings: KOR releases its nk-missile")
    consent = accord("consent", "standing", "add", "usa-may-pass", "--by", "KOR", "--holder",
                     "USA", "--to", "JPN", "--topics", "nk-missile", "--max-level", "군사II급비밀",
                     "--from", "2024-01-01T00:00:00+09:00", "--db", db)  # fmt: skip
    assert consent.returncode == OK, consent.stderr
    item = accord("item", "add", "w-1", "--originator", "KOR", "--level", "군사II급비밀",
                  "--topics", "nk-missile", "--releasable-to", "JPN,USA", "--created",
                  "2024-06-01T09:00:00+09:00", "--title", "t", "--content", "c", "--db", db)  # fmt: skip
    assert item.returncode == OK, item.stderr
    log = json.loads(accord("rule", "log", "kor-warnings", "--json", "--db", db).stdout)
    assert [(e["item"], e["to"], e["route"]) for e in log] == [
        ("w-1", "JPN", "direct"),
        ("w-1", "USA", "direct"),
    ]
    revoked = accord("rule", "revoke", "kor-warnings", "--at", "2024-06-02T00:00:00Z", "--db", db)
    assert revoked.returncode == OK, revoked.stderr
    listed = json.loads(accord("rule", "list", "--json", "--db", db).stdout)
    assert listed["rules"][0]["revoked"] == "2024-06-02T00:00:00Z"
    assert [c["id"] for c in listed["consents"]] == ["usa-may-pass"]


def test_bad_rules_are_refused_with_the_value_and_change_nothing(
    db: Path, master: MasterKey
) -> None:
    accord = partial(accord_without_key, ACCORD_MASTER_KEY=master.text())
    before = accord("rule", "list", "--json", "--db", db).stdout
    for args, named in (
        (("--topics", "weather"), "weather"),
        (("--to", "CHN"), "CHN"),
        (("--routes", "through USA"), "through USA"),
        (("--routes", "via CHN"), "CHN"),
        (("--until", "2023-01-01T00:00:00Z"), "not after"),
    ):
        index = {"--topics": 5, "--to": 9, "--routes": 11}.get(args[0])
        command = list(RULE)
        if index is None:
            command += list(args)
        else:
            command[index + 1] = args[1]
        refused = accord(*command, "--db", db)
        assert refused.returncode != OK, (args, refused.stdout)
        assert named in refused.stderr, refused.stderr
    unknown = accord("rule", "revoke", "nope", "--db", db)
    assert unknown.returncode != OK and "nope" in unknown.stderr
    assert accord("rule", "list", "--json", "--db", db).stdout == before
