"""The admin API's standing rules and consents: recorded, listed, revoked, and their routing
log; a bad body is a 400 naming the field and value, and nothing is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accord.api import ApiSettings, create_app
from accord.api.context import HOLDINGS, collection_id
from accord.service import Exchange, standing
from tests.test_taxii_support import (
    LATER,
    Clock,
    TestClient,
    bearer,
    envelope,
    indicator,
    issue,
    posting,
    scenario_exchange,
)

SCENARIO = Path(__file__).parent / "scenarios" / "standing-rules-no-suspension.yaml"
JPN = collection_id(HOLDINGS, "JPN")
KOR = collection_id(HOLDINGS, "KOR")
RULE = {
    "id": "kor-more",
    "originator": "KOR",
    "topics": ["nk-missile"],
    "max_level": "군사II급비밀",
    "to": ["JPN"],
    "routes": ["direct", "via USA"],
    "from": "2019-01-01T00:00:00+09:00",
}


@pytest.fixture
def admin(tmp_path: Path) -> tuple[TestClient, Exchange, dict[str, str]]:
    url, exchange = scenario_exchange(tmp_path, Clock(LATER), scenario=SCENARIO)
    api = TestClient(create_app(ApiSettings(url), exchange))
    return api, exchange, {"Authorization": f"Bearer {issue(exchange, 'jpn-analyst', admin=True)}"}


def stored(exchange: Exchange) -> tuple[Any, ...]:
    world = exchange.snapshot()
    return (sorted(world.standing_rules), sorted(world.standing_consents), dict(world.revoked))


def test_a_rule_is_recorded_listed_and_revoked(
    admin: tuple[TestClient, Exchange, dict[str, str]],
) -> None:
    api, exchange, h = admin
    r = api.post("/admin/standing-rules", headers=h, json=RULE)
    assert r.status_code == 201, r.text
    assert r.json()["routes"] == ["direct", "via USA"]
    listed = api.get("/admin/standing-rules", headers=h).json()
    assert {x["id"] for x in listed["rules"]} == {"kor-warnings", "kor-more"}
    assert [x["id"] for x in listed["consents"]] == ["usa-may-pass"]
    r = api.post("/admin/standing-rules/kor-more/revocation", headers=h, json={})
    assert r.status_code == 200, r.text
    assert r.json()["by"] == "KOR"
    assert "kor-more" in exchange.snapshot().revoked


def test_the_routing_log_is_served(admin: tuple[TestClient, Exchange, dict[str, str]]) -> None:
    api, _, h = admin
    log = api.get("/admin/standing-rules/log", headers=h, params={"item": "warning-3"}).json()
    assert {(e["to"], e["route"]) for e in log} == {("JPN", "via USA"), ("USA", "direct")}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"topics": ["weather"]}, "weather"),
        ({"to": ["CHN"]}, "CHN"),
        ({"routes": ["through USA"]}, "through USA"),
        ({"routes": ["via CHN"]}, "CHN"),
        ({"max_level": "SECRET"}, "SECRET"),
        ({"until": "2018-01-01T00:00:00+09:00"}, "not after"),
        ({"from": "2019-01-01T00:00:00"}, "no UTC offset"),
    ],
)
def test_a_bad_rule_is_400_and_stores_nothing(
    admin: tuple[TestClient, Exchange, dict[str, str]], change: dict[str, Any], named: str
) -> None:
    api, exchange, h = admin
    before = stored(exchange)
    r = api.post("/admin/standing-rules", headers=h, json={**RULE, **change})
    assert r.status_code == 400, r.text
    assert named in r.json()["description"]
    assert stored(exchange) == before


def test_revoking_an_unknown_rule_is_404_and_a_taken_id_is_409(
    admin: tuple[TestClient, Exchange, dict[str, str]],
) -> None:
    api, exchange, h = admin
    before = stored(exchange)
    r = api.post("/admin/standing-rules/nope/revocation", headers=h, json={})
    assert r.status_code == 404, r.text
    r = api.post("/admin/standing-rules", headers=h, json={**RULE, "id": "usa-may-pass"})
    assert r.status_code == 409, r.text
    assert stored(exchange) == before


def test_an_item_posted_over_taxii_is_routed_by_the_standing_rules(
    admin: tuple[TestClient, Exchange, dict[str, str]],
) -> None:
    api, exchange, h = admin
    assert api.post("/admin/standing-rules", headers=h, json=RULE).status_code == 201
    kor, jpn = issue(exchange, "kor-analyst"), issue(exchange, "jpn-analyst")
    obj = indicator(7)
    r = api.post(
        f"/taxii2/KOR/collections/{KOR}/objects/", headers=posting(kor), content=envelope(obj)
    )
    assert r.status_code == 202, r.text
    # in 2024 in this world the GSOMIA is long terminated: the rule sends it through the US
    (entry,) = [e for e in standing.routing_log(exchange, rule="kor-more")]
    assert (entry.to, entry.route) == ("JPN", "via USA")
    got = api.get(
        f"/taxii2/JPN/collections/{JPN}/objects/?match[type]=indicator", headers=bearer(jpn)
    )
    assert got.status_code == 200, got.text
    assert [o["id"] for o in got.json()["objects"]] == [obj["id"]]
