"""Our built-in 2019 world checked against public data that no one on the team wrote.

``../shared/data/classification_levels/classification_equivalences.csv`` records the Art. 4
equivalences of the 2016 Japan–ROK GSOMIA from the official texts. A user's clone does not
have ``shared/``; these tests skip with a reason there.
"""

from __future__ import annotations

import csv
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from accord.scenario import builtin_scenario_path, load_scenario

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "classification_levels"
EQUIVALENCES = DATA / "classification_equivalences.csv"

pytestmark = pytest.mark.skipif(
    not EQUIVALENCES.is_file(),
    reason=f"public data not present at {EQUIVALENCES} (only in the team's workspace)",
)


def art4_rows() -> list[dict[str, str]]:
    with EQUIVALENCES.open(encoding="utf-8", newline="") as handle:
        return [
            row
            for row in csv.DictReader(handle)
            if row["agreement"].startswith("Japan-ROK") and row["signed"] == "2016-11-23"
        ]


def test_builtin_gsomia_table_matches_the_official_art_4_equivalences() -> None:
    scenario = load_scenario(builtin_scenario_path())
    gsomia = next(a for a in scenario.agreements if a.id == "rok-japan-gsomia")
    table = gsomia.terms.equivalence
    checked = 0
    for row in art4_rows():
        korean, japanese = row["marking_b"], row["marking_a"]
        if row["english_equivalent"] == "(not exchanged)":
            for level in (part.strip() for part in korean.split("/")):
                assert table.equivalent("KOR", level, "JPN") is None, level
            checked += 1
            continue
        ours = table.equivalent("KOR", korean, "JPN")
        assert ours is not None, korean
        assert ours in [part.strip() for part in japanese.split("/")], (korean, japanese, ours)
        checked += 1
    assert checked == 3


def test_builtin_gsomia_dates_match_the_public_record() -> None:
    scenario = load_scenario(builtin_scenario_path())
    gsomia = next(a for a in scenario.agreements if a.id == "rok-japan-gsomia")
    signed = {row["signed"] for row in art4_rows()}
    assert signed == {gsomia.in_force_from.astimezone(ZoneInfo("Asia/Seoul")).date().isoformat()}
