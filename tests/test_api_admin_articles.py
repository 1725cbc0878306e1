"""The admin API's routes for the agreement's own articles: matter states (R15), amendments by
mutual consent (Art. 21(2)), reclassification (Art. 6(g)), investigations and release holds
(Art. 17). Bodies mean what the same fields mean in a scenario file; a bad body is a 400 naming
the field and the value, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accord.api import ApiSettings, create_app
from accord.model.acts import Compromise
from accord.service import Exchange
from tests.test_taxii_support import LATER, Clock, TestClient, issue, scenario_exchange

SCENARIO = Path(__file__).parent / "scenarios" / "gsomia-2019-conditional-holds.yaml"
GSOMIA = "/admin/agreements/rok-japan-gsomia"
MATTER = "/admin/matters/japan-export-controls/states"
ITEM = "kor-missile-1031"


@pytest.fixture
def admin(tmp_path: Path) -> tuple[TestClient, Exchange, dict[str, str]]:
    url, exchange = scenario_exchange(tmp_path, Clock(LATER), scenario=SCENARIO)
    api = TestClient(create_app(ApiSettings(url), exchange))
    return api, exchange, {"Authorization": f"Bearer {issue(exchange, 'jpn-analyst', admin=True)}"}


def stored(exchange: Exchange) -> tuple[int, ...]:
    world = exchange.snapshot()
    return (
        len(world.matter_states),
        sum(len(e) for e in world.agreement_events.values()),
        sum(len(c) for c in world.reclassifications.values()),
        world.revision,
    )


def refused(
    api: TestClient, exchange: Exchange, h: dict[str, str], path: str, body: Any, *named: str
) -> None:
    before = stored(exchange)
    r = api.post(path, headers=h, json=body)
    assert r.status_code == 400, r.text
    description = r.json()["description"]
    for text in named:
        assert text in description, description
    assert stored(exchange) == before


def ok(api: TestClient, h: dict[str, str], path: str, body: Any) -> bool:
    r = api.post(path, headers=h, json=body)
    assert r.status_code == 200, r.text
    return bool(r.json()["allowed"])


def test_openapi_lists_the_article_routes(admin: tuple[TestClient, Exchange, Any]) -> None:
    paths = set(admin[0].get("/openapi.json").json()["paths"])
    assert {
        "/admin/matters/{matter_id}/states",
        "/admin/agreements/{agreement_id}/amendments",
        "/admin/agreements/{agreement_id}/amendments/{amendment_id}/acceptances",
        "/admin/agreements/{agreement_id}/amendments/{amendment_id}/withdrawal",
        "/admin/items/{item_id}/reclassifications",
        "/admin/items/{item_id}/investigation",
        "/admin/release-holds",
    } <= paths


def test_a_matter_state_is_recorded_and_bad_ones_are_400(
    admin: tuple[TestClient, Exchange, dict[str, str]],
) -> None:
    api, exchange, h = admin
    refused(api, exchange, h, MATTER, {"state": "nope", "by": "JPN"}, "state", "nope")
    path = "/admin/matters/no-such-matter/states"
    refused(api, exchange, h, path, {"state": "dialogue-failed", "by": "JPN"}, "no-such-matter")
    refused(api, exchange, h, MATTER, {"state": "x", "by": "JPN", "colour": 1}, "colour")
    at = "2024-06-01T00:00:00"  # naive
    refused(api, exchange, h, MATTER, {"state": "measures-withdrawn", "by": "JPN", "at": at})
    assert ok(api, h, MATTER, {"state": "measures-withdrawn", "by": "JPN"})
    world = exchange.snapshot()
    assert world.matter_states[-1].state == "measures-withdrawn"


def test_an_amendment_is_proposed_accepted_and_in_force(
    admin: tuple[TestClient, Exchange, dict[str, str]],
) -> None:
    api, exchange, h = admin
    body = {"id": "am-1", "by": "KOR", "changes": {"notice_period": "P180D"}}
    assert ok(api, h, f"{GSOMIA}/amendments", body)
    assert exchange.agreement_state("rok-japan-gsomia", LATER).terms.notice_period.text == "P90D"
    acceptance = {"by": "JPN", "effective_at": LATER.isoformat()}
    assert ok(api, h, f"{GSOMIA}/amendments/am-1/acceptances", acceptance)
    terms = exchange.agreement_state("rok-japan-gsomia", LATER).terms
    assert terms.notice_period is not None and terms.notice_period.text == "P180D"


def test_a_withdrawn_amendment_cannot_be_accepted(
    admin: tuple[TestClient, Exchange, dict[str, str]],
) -> None:
    api, exchange, h = admin
    body = {"id": "am-2", "by": "KOR", "changes": {"term": "P2Y"}}
    assert ok(api, h, f"{GSOMIA}/amendments", body)
    outsider = {"by": "USA", "effective_at": LATER.isoformat()}
    before = stored(exchange)
    assert not ok(api, h, f"{GSOMIA}/amendments/am-2/acceptances", outsider)  # not a party
    assert stored(exchange) == before
    assert ok(api, h, f"{GSOMIA}/amendments/am-2/withdrawal", {"by": "KOR"})
    before = stored(exchange)
    acceptance = {"by": "JPN", "effective_at": LATER.isoformat()}
    assert not ok(api, h, f"{GSOMIA}/amendments/am-2/acceptances", acceptance)
    assert stored(exchange) == before
    assert exchange.agreement_state("rok-japan-gsomia", LATER).terms.term.text == "P1Y"


def test_bad_amendment_bodies_are_400(admin: tuple[TestClient, Exchange, dict[str, str]]) -> None:
    api, exchange, h = admin
    path = f"{GSOMIA}/amendments"
    refused(api, exchange, h, path, {"id": "a", "by": "KOR", "changes": {}}, "at least one")
    bad = {"id": "a", "by": "KOR", "changes": {"notice_period": "ninety days"}}
    refused(api, exchange, h, path, bad, "notice_period", "ninety days")
    refused(api, exchange, h, path, {"id": "a", "by": "XXX", "changes": {"term": "P2Y"}}, "XXX")
    no_effective = {"by": "JPN"}
    refused(api, exchange, h, f"{path}/am-1/acceptances", no_effective, "effective_at")
    assert api.post("/admin/agreements/nope/amendments", headers=h, json=bad).status_code in (
        400,
        404,
    )


def test_a_reclassification_by_the_originator_remarks_the_copy(
    admin: tuple[TestClient, Exchange, dict[str, str]],
) -> None:
    api, exchange, h = admin
    path = f"/admin/items/{ITEM}/reclassifications"
    refused(api, exchange, h, path, {"by": "JPN", "level": "군사III급비밀"}, "JPN", "originator")
    refused(api, exchange, h, path, {"by": "KOR", "level": "TOP SECRET"}, "level", "TOP SECRET")
    refused(api, exchange, h, path, {"by": "KOR"}, "level or releasable_to")
    refused(api, exchange, h, "/admin/items/nope/reclassifications", {"by": "KOR"}, "")
    assert exchange.marking(ITEM, "JPN", LATER).level == "極秘"
    assert ok(api, h, path, {"by": "KOR", "level": "군사III급비밀"})
    assert exchange.marking(ITEM, "JPN", LATER).level == "秘"


def test_an_investigation_is_opened_by_a_report_and_concluded(
    admin: tuple[TestClient, Exchange, dict[str, str]],
) -> None:
    api, exchange, h = admin
    path = f"/admin/items/{ITEM}/investigation"
    conclude = {
        "type": "investigation_concluded",
        "party": "JPN",
        "result": "not-compromised",
        "measures": "laptop found",
    }
    refused(api, exchange, h, path, conclude, "no investigation was opened")
    refused(api, exchange, h, path, {**conclude, "result": "maybe"}, "result", "maybe")
    report = Compromise(LATER, ITEM, "JPN", "laptop lost")
    assert exchange.report_compromise(report).allowed
    assert ok(api, h, path, {"type": "investigation_started", "party": "JPN"})
    assert ok(api, h, path, conclude)
    found = exchange.investigation(ITEM, "JPN", LATER)
    assert found is not None and found.state.value == "concluded"


def test_a_release_hold_is_placed_and_lifted(
    admin: tuple[TestClient, Exchange, dict[str, str]],
) -> None:
    api, exchange, h = admin
    path = "/admin/release-holds"
    refused(api, exchange, h, path, {"type": "release_hold", "by": "KOR", "holder": "ZZZ"}, "ZZZ")
    refused(api, exchange, h, path, {"type": "hold", "by": "KOR", "holder": "JPN"}, "type")
    assert ok(api, h, path, {"type": "release_hold", "by": "KOR", "holder": "JPN"})
    assert ok(api, h, path, {"type": "release_hold_lifted", "by": "KOR", "holder": "JPN"})


@pytest.mark.parametrize(
    "call",
    [
        lambda api: api.post(MATTER, json={"state": "measures-withdrawn", "by": "JPN"}),
        lambda api: api.post("/admin/release-holds", json={"type": "release_hold"}),
    ],
)
def test_without_an_admin_token_nothing_is_recorded(
    admin: tuple[TestClient, Exchange, dict[str, str]], call: Callable[[TestClient], Any]
) -> None:
    api, exchange, _ = admin
    before = stored(exchange)
    assert call(api).status_code == 401
    assert stored(exchange) == before
