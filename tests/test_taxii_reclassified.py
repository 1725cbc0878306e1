"""Over TAXII a copy is served marked as it stands at the request instant (R2, Art. 6(g)): after
the originator reclassifies an item, Japan's object carries the new markings from the change's
instant on, and the old ones one microsecond before."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from accord.api.context import HOLDINGS, collection_id
from accord.api.markings import EXTENSION_ID, classification_id, releasable_id
from accord.model.classification import Reclassification
from accord.service.taxii import derived_stix_id
from tests.test_taxii_support import LATER, TAXII, Clock, bearer, client, issue, scenario_exchange

JPN = collection_id(HOLDINGS, "JPN")
ITEM = "kor-kn25-1031"
CHANGE = LATER - timedelta(hours=1)
US = timedelta(microseconds=1)


def served(api: Any, token: str) -> dict[str, Any]:
    query = f"?match[id]={derived_stix_id(ITEM)}"
    r = api.get(f"/taxii2/JPN/collections/{JPN}/objects/{query}", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == TAXII
    (obj,) = r.json()["objects"]
    return obj  # type: ignore[no-any-return]


def test_a_reclassified_copy_is_served_with_its_new_marking_from_the_change_on(
    tmp_path: Path,
) -> None:
    clock = Clock(CHANGE - US)
    url, exchange = scenario_exchange(tmp_path, clock)
    api = client(url, exchange)
    token = issue(exchange, "jpn-analyst")
    change = Reclassification(CHANGE, ITEM, "KOR", "군사III급비밀", frozenset({"JPN"}))
    assert exchange.reclassify(change).allowed

    before = served(api, token)
    assert before["object_marking_refs"] == [
        classification_id("KOR", "군사II급비밀"),
        classification_id("JPN", "極秘"),
        releasable_id("JPN"),
        releasable_id("USA"),
    ]
    assert before["extensions"][EXTENSION_ID]["holder_level"] == "極秘"

    clock.now = CHANGE
    after = served(api, token)
    assert after["object_marking_refs"] == [
        classification_id("KOR", "군사III급비밀"),
        classification_id("JPN", "秘"),
        releasable_id("JPN"),
    ]
    ours = after["extensions"][EXTENSION_ID]
    assert (ours["originator_level"], ours["holder_level"], ours["releasable_to"]) == (
        "군사III급비밀",
        "秘",
        ["JPN"],
    )
    assert exchange.marking(ITEM, "JPN", CHANGE).level == "秘"  # the same answer as the CLI's
