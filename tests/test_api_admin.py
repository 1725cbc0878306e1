"""The admin REST API: admin tokens only, its OpenAPI document, and a bounded schemathesis run
against ``/openapi.json`` (no 5xx, every response as documented)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accord.api import ApiSettings, create_app
from accord.service import Exchange
from tests.test_taxii_support import LATER, Clock, TestClient, issue, scenario_exchange


@pytest.fixture
def world(tmp_path: Path) -> tuple[str, Exchange]:
    return scenario_exchange(tmp_path, Clock(LATER))


def test_openapi_describes_the_admin_api(world: tuple[str, Exchange]) -> None:
    api = TestClient(create_app(ApiSettings(world[0]), world[1]))
    doc = api.get("/openapi.json").json()
    assert {"/admin/parties", "/admin/agreements/{agreement_id}/impact", "/admin/tokens"} <= set(
        doc["paths"]
    )


def test_only_admin_tokens_may_use_it(world: tuple[str, Exchange]) -> None:
    url, exchange = world
    api = TestClient(create_app(ApiSettings(url), exchange))
    plain, admin = issue(exchange, "kor-analyst"), issue(exchange, "kor-analyst", admin=True)
    assert api.get("/admin/parties").status_code == 401
    assert api.get("/admin/parties", headers={"Authorization": "Bearer x.y"}).status_code == 401
    assert (
        api.get("/admin/parties", headers={"Authorization": f"Bearer {plain}"}).status_code == 403
    )
    r = api.get("/admin/parties", headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 200 and [p["code"] for p in r.json()] == ["KOR", "JPN", "USA"]


def test_admin_reads_and_acts(world: tuple[str, Exchange]) -> None:
    url, exchange = world
    api = TestClient(create_app(ApiSettings(url), exchange))
    h = {"Authorization": f"Bearer {issue(exchange, 'kor-analyst', admin=True)}"}
    state = api.get(
        "/admin/agreements/rok-japan-gsomia?at=2019-11-23T00:00:00%2B09:00", headers=h
    ).json()
    assert state["state"]["status"] == "in_force"
    events = api.get("/admin/agreements/rok-japan-gsomia/events", headers=h).json()
    assert [e["kind"] for e in events][:2] == ["termination_notice", "notice_suspended"]
    impact = api.get("/admin/agreements/rok-japan-gsomia/impact", headers=h).json()
    assert impact["agreement"] == "rok-japan-gsomia" and impact["protected_holdings"]
    r = api.post(
        "/admin/users", headers=h, json={"id": "jpn-new", "party": "JPN", "clearance": "秘"}
    )
    assert r.status_code == 201
    r = api.post("/admin/tokens", headers=h, json={"user": "jpn-new", "expires": "P7D"})
    assert r.status_code == 201 and "." in r.json()["token"]
    token_id = r.json()["token_id"]
    assert any(
        t["token_id"] == token_id for t in api.get("/admin/tokens?user=jpn-new", headers=h).json()
    )
    assert api.delete(f"/admin/tokens/{token_id}", headers=h).json()["revoked_at"] is not None
    r = api.post(
        "/admin/consents",
        headers=h,
        json={"item": "kor-missile-eve", "by": "KOR", "holder": "USA", "to": ["JPN"]},
    )
    assert r.status_code == 200 and r.json()["allowed"] is True
    r = api.post(
        "/admin/agreements/rok-japan-gsomia/events",
        headers=h,
        json={"type": "notice_suspended", "by": "JPN"},
    )
    assert r.status_code == 200 and r.json()["allowed"] is False
    assert api.get("/admin/agreements/nope", headers=h).status_code == 404
    bad = api.post("/admin/users", headers=h, json={"id": 3})
    assert bad.status_code == 400 and bad.json()["http_status"] == "400"


def test_schemathesis_finds_no_server_error(tmp_path: Path) -> None:
    url, exchange = scenario_exchange(tmp_path, Clock(LATER))
    app = create_app(ApiSettings(url), exchange)
    token = issue(exchange, "kor-analyst", admin=True)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for operation in schema.get_all_operations():
        op = operation.ok()

        @settings(
            max_examples=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=op.as_strategy())
        def check(case: object) -> None:
            # the domain refuses values a schema cannot express (an unknown duration, a naive
            # instant) with a 400, so "schema-valid data must be accepted" does not apply
            case.call_and_validate(  # type: ignore[attr-defined]
                headers={"Authorization": f"Bearer {token}"},
                excluded_checks=[positive_data_acceptance],
            )

        try:
            check()
        except Exception as error:
            failures.append(f"{op.method.upper()} {op.path}: {str(error)[:500]}")
    assert failures == []
