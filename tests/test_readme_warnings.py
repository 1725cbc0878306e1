"""The README's warnings walkthrough, run as a new user runs it: each
command exactly as the README writes it, from a fresh store, in the repository's folder."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
HEADING = "### Warnings across midnight, from a fresh store"


def _commands() -> list[str]:
    """The ``accord`` lines of the section's ``sh`` block."""
    text = README.read_text(encoding="utf-8")
    section = text.split(HEADING, 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the warnings walkthrough has no sh block"
    return [line for line in block.group(1).splitlines() if line.startswith("accord ")]


def _accord(line: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(line)[1:]
    return subprocess.run(
        [sys.executable, "-m", "accord", *argv],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def newcomer(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env |= {"ACCORD_DB": str(tmp_path / "warnings.db")}
    env |= {"ACCORD_KEY_FILE": str(tmp_path / "warnings.key"), "COLUMNS": "200"}
    return env


def test_the_warnings_change_route_at_midnight_and_the_feed_loses_none(
    newcomer: dict[str, str],
) -> None:
    commands = _commands()
    assert [c.split()[1] for c in commands] == [
        "keys",
        "load",
        "rule",
        "consent",
        "replay",
        "rule",
        "feed",
    ]
    results = [_accord(line, newcomer) for line in commands]
    for line, result in zip(commands, results, strict=True):
        assert result.returncode == 0, (line, result.stderr)
    replay, log, feed = results[4], results[5], results[6]
    assert "3 published" in replay.stdout + replay.stderr
    assert "line 13" in replay.stderr  # the sample's 30 February: named, skipped
    to_jpn = [line for line in log.stdout.splitlines() if "→ JPN" in line]
    assert [line.split()[0][:10] for line in to_jpn] == ["2019-09-10", "2019-10-31", "2019-11-28"]
    assert [line.rsplit(": ", 1)[1] for line in to_jpn] == ["direct", "direct", "via USA"]
    assert "direct: rok-japan-gsomia is terminated" in log.stdout
    arrived = [line.split()[2] for line in feed.stdout.splitlines() if " available " in line]
    assert len(arrived) == 3 and len(set(arrived)) == 3  # all three, once each
    assert [a.rsplit("~", 1)[1][:10] for a in arrived] == ["2019-09-10", "2019-10-31", "2019-11-28"]
