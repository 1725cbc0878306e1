"""The admin REST API: admin tokens only, its OpenAPI document, and a bounded schemathesis run
against ``/openapi.json`` (no 5xx, every response as documented)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

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
    app = create_app(ApiSettings(url, auth_failures=100_000), exchange)  # no 429s
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


# --- creating parties and agreements, recording amendments ----------------------------------------

AUS = {
    "code": "AUS",
    "name": "Australia",
    "timezone": "Australia/Sydney",
    "levels": ["PROTECTED", "SECRET", "TOP SECRET"],
}
AUS_JPN = {
    "id": "aus-jpn-isa",
    "title": "Australia–Japan Information Security Agreement (2013)",
    "parties": ["AUS", "JPN"],
    "in_force_from": "2013-03-22T00:00:00+09:00",
    "timezone": "Asia/Tokyo",
    "term": None,
    "topics": "all",
    "equivalence": [{"AUS": "SECRET", "JPN": "極秘"}, {"AUS": "PROTECTED", "JPN": "秘"}],
}
ERROR_FIELDS = {"title", "description", "error_code", "http_status"}


def admin_client(world: tuple[str, Exchange]) -> tuple[TestClient, dict[str, str]]:
    url, exchange = world
    api = TestClient(create_app(ApiSettings(url), exchange))
    return api, {"Authorization": f"Bearer {issue(exchange, 'kor-analyst', admin=True)}"}


def refused(response: Any, status: int, *words: str) -> None:
    """A TAXII error body with ``status`` whose description names every one of ``words``."""
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == ERROR_FIELDS and body["http_status"] == str(status)
    for word in words:
        assert word in body["description"], body


def codes(api: TestClient, h: dict[str, str], what: str, key: str) -> list[str]:
    return [entry[key] for entry in api.get(f"/admin/{what}", headers=h).json()]


def test_admin_creates_a_party_that_can_then_have_users(world: tuple[str, Exchange]) -> None:
    api, h = admin_client(world)
    r = api.post("/admin/parties", headers=h, json=AUS)
    assert r.status_code == 201 and r.json() == AUS
    assert codes(api, h, "parties", "code") == ["KOR", "JPN", "USA", "AUS"]
    assert world[1].snapshot().parties["AUS"].rank("TOP SECRET") == 2
    user = {"id": "aus-analyst", "party": "AUS", "clearance": "SECRET"}
    assert api.post("/admin/users", headers=h, json=user).status_code == 201
    token = api.post("/admin/tokens", headers=h, json={"user": "aus-analyst"}).json()["token"]
    discovery = api.get("/taxii2/", headers={"Authorization": f"Bearer {token}"})
    assert discovery.status_code == 200 and discovery.json()["default"].endswith("/AUS/")


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, 400, ("timezone", "'Mars/Olympus_Mons'")),
        ({"timezone": "x" * 65}, 400, ()),  # longer than any IANA name: refused by the schema
        ({"levels": []}, 400, ("levels", "at least one")),
        ({"levels": ["SECRET", "SECRET"]}, 400, ("level", "'SECRET'", "twice")),
        ({"levels": ["SECRET", ""]}, 400, ("level", "''")),
        ({"code": "aus"}, 400, ("code", "'aus'")),
        ({"code": "KOR"}, 409, ("already taken",)),
        ({"name": ""}, 400, ()),
        ({"flag": "blue"}, 400, ()),
    ],
)
def test_a_bad_party_is_refused_and_nothing_is_stored(
    world: tuple[str, Exchange], change: dict[str, Any], status: int, words: tuple[str, ...]
) -> None:
    api, h = admin_client(world)
    refused(api.post("/admin/parties", headers=h, json={**AUS, **change}), status, *words)
    assert codes(api, h, "parties", "code") == ["KOR", "JPN", "USA"]
    assert sorted(world[1].snapshot().parties["KOR"].levels) == sorted(
        ["군사III급비밀", "군사II급비밀", "군사I급비밀"]
    )


def test_admin_creates_agreements_as_a_scenario_defines_them(world: tuple[str, Exchange]) -> None:
    api, h = admin_client(world)
    assert api.post("/admin/parties", headers=h, json=AUS).status_code == 201
    r = api.post("/admin/agreements", headers=h, json=AUS_JPN)
    assert r.status_code == 201
    created = r.json()
    assert created["parties"] == ["AUS", "JPN"] and created["hub"] is None
    assert created["in_force_from"] == "2013-03-21T15:00:00Z"
    assert created["state"]["status"] == "in_force" and created["state"]["term_end"] is None
    before = api.get("/admin/agreements/aus-jpn-isa?at=2013-03-21T23:59:59%2B09:00", headers=h)
    assert before.json()["state"]["status"] == "not_yet_in_force"
    assert "aus-jpn-isa" in codes(api, h, "agreements", "id")
    assert (
        world[1]
        .snapshot()
        .agreements["aus-jpn-isa"]
        .terms.equivalence.equivalent("AUS", "SECRET", "JPN")
        == "極秘"
    )
    # R6: a 6-month term from 2020-07-01T00:00 New York time ends at 2021-01-01T00:00 there
    # (an offset change later); a hub arrangement; the renewal defaults as in a scenario file
    hub = {
        "id": "aus-us-jpn",
        "parties": ["AUS", "USA", "JPN"],
        "hub": "USA",
        "in_force_from": "2020-07-01T00:00:00-04:00",
        "timezone": "America/New_York",
        "term": "P6M",
        "renewal": "none",
        "notice_period": "P30D",
        "topics": ["nk-missile"],
        "equivalence": [{"AUS": "SECRET", "USA": "SECRET", "JPN": "極秘"}],
    }
    assert api.post("/admin/agreements", headers=h, json=hub).status_code == 201
    state = api.get("/admin/agreements/aus-us-jpn?at=2020-12-31T12:00:00Z", headers=h).json()
    assert state["hub"] == "USA" and state["state"]["expires_at"] == "2021-01-01T05:00:00Z"
    ended = api.get("/admin/agreements/aus-us-jpn?at=2021-01-01T05:00:00Z", headers=h).json()
    assert ended["state"]["status"] == "terminated"
    renewing = {**hub, "id": "aus-us-jpn-2", "renewal": None}
    assert api.post("/admin/agreements", headers=h, json=renewing).status_code == 201
    later = api.get("/admin/agreements/aus-us-jpn-2?at=2021-01-01T05:00:00Z", headers=h).json()
    assert later["state"]["status"] == "in_force"  # a term without renewal given: automatic


KOR_USA = {
    "id": "kor-usa-new",
    "parties": ["KOR", "USA"],
    "in_force_from": "2024-01-01T00:00:00+09:00",
    "timezone": "Asia/Seoul",
    "term": "P1Y",
    "notice_period": "P90D",
    "topics": "all",
    "equivalence": [{"KOR": "군사II급비밀", "USA": "SECRET"}],
}


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"in_force_from": "2024-01-01T00:00:00"}, 400, ("in_force_from", "no UTC offset")),
        ({"timezone": "Asia/Seul"}, 400, ("timezone", "'Asia/Seul'")),
        ({"parties": ["KOR", "ZZZ"]}, 400, ("parties[1]", "'ZZZ'")),
        ({"parties": ["KOR", "KOR"]}, 400, ("at least two parties",)),
        ({"equivalence": [{"KOR": "군사II급비밀", "USA": "Secret"}]}, 400, ("USA", "'Secret'")),
        ({"equivalence": [{"KOR": "군사II급비밀", "JPN": "極秘"}]}, 400, ("JPN", "not a party")),
        ({"equivalence": [{"KOR": "군사II급비밀"}]}, 400, ("at least two parties",)),
        (
            {
                "equivalence": [
                    {"KOR": "군사II급비밀", "USA": "CONFIDENTIAL"},
                    {"KOR": "군사III급비밀", "USA": "SECRET"},
                ]
            },
            400,
            ("order-preserving",),
        ),
        ({"equivalence": []}, 400, ()),
        ({"topics": ["nk-missile", "nk-misile"]}, 400, ("topics[1]", "'nk-misile'")),
        ({"topics": "some"}, 400, ()),
        ({"term": "P1X"}, 400, ("term", "'P1X'")),
        ({"notice_period": "-P90D"}, 400, ("notice_period", "'-P90D'")),
        ({"hub": "JPN"}, 400, ("hub", "JPN")),
        ({"id": "rok-japan-gsomia"}, 409, ("already taken",)),
        ({"renewal": "sometimes"}, 400, ()),
        ({"signed": "yes"}, 400, ()),
        (  # the first term would end past the calendar: refused before anything is stored
            {"in_force_from": "9999-12-31T00:00:00+09:00", "renewal": "none"},
            400,
            ("beyond year 9999",),
        ),
    ],
)
def test_a_bad_agreement_is_refused_and_nothing_is_stored(
    world: tuple[str, Exchange], change: dict[str, Any], status: int, words: tuple[str, ...]
) -> None:
    api, h = admin_client(world)
    before = codes(api, h, "agreements", "id")
    refused(api.post("/admin/agreements", headers=h, json={**KOR_USA, **change}), status, *words)
    assert codes(api, h, "agreements", "id") == before
    assert "kor-usa-new" not in world[1].snapshot().agreements


def events_of(api: TestClient, h: dict[str, str], agreement: str) -> list[dict[str, Any]]:
    r = api.get(f"/admin/agreements/{agreement}/events", headers=h)
    assert r.status_code == 200
    events: list[dict[str, Any]] = r.json()
    return events


def test_admin_records_amendments(world: tuple[str, Exchange]) -> None:
    api, h = admin_client(world)
    path = "/admin/agreements/rok-japan-gsomia"
    assert api.get(path, headers=h).json()["state"]["expires_at"] is None  # renews each year
    r = api.post(
        f"{path}/events", headers=h, json={"type": "amendment", "changes": {"renewal": "none"}}
    )
    assert r.status_code == 200 and r.json()["allowed"] is True
    assert [c["code"] for c in r.json()["reasons"]] == ["event-allowed"]
    # no renewal: the agreement now ends at the end of its current term, 23 November, Seoul
    assert api.get(path, headers=h).json()["state"]["expires_at"] == "2024-11-22T15:00:00Z"
    last = events_of(api, h, "rok-japan-gsomia")[-1]
    assert last == {
        "at": "2024-06-01T00:00:00Z",
        "kind": "amendment",
        "by": None,
        "effective_at": None,
        "changes": ["renewal"],
    }
    # a new table that covers Korea's Class I, and an indefinite term, from a given instant
    r = api.post(
        f"{path}/events",
        headers=h,
        json={
            "type": "amendment",
            "at": "2024-06-01T09:30:00+09:00",
            "changes": {
                "equivalence": [
                    {"KOR": "군사I급비밀", "JPN": "機密"},
                    {"KOR": "군사II급비밀", "JPN": "極秘"},
                ],
                "term": None,
            },
        },
    )
    assert r.status_code == 200 and r.json()["allowed"] is True
    at = datetime.fromisoformat("2024-06-01T09:30:00+09:00")
    assert world[1].agreement_state("rok-japan-gsomia", LATER).terms.term is not None
    terms = world[1].agreement_state("rok-japan-gsomia", at).terms
    assert terms.term is None
    assert terms.equivalence.equivalent("KOR", "군사I급비밀", "JPN") == "機密"
    assert events_of(api, h, "rok-japan-gsomia")[-1]["changes"] == ["equivalence", "term"]


def test_an_amendment_policy_refuses_is_answered_and_not_recorded(
    world: tuple[str, Exchange],
) -> None:
    api, h = admin_client(world)
    before = events_of(api, h, "tisa")
    r = api.post(
        "/admin/agreements/tisa/events",
        headers=h,
        json={"type": "amendment", "changes": {"parties": ["KOR", "JPN"]}},  # drops the hub
    )
    assert r.status_code == 200 and r.json()["allowed"] is False
    assert [c["code"] for c in r.json()["reasons"]] == ["invalid-amendment"]
    assert events_of(api, h, "tisa") == before


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"changes": {}}, 400, ("changes", "at least one of")),
        ({"changes": {"topics": None}}, 400, ("changes.topics", "null")),
        ({"changes": {"renewal": None}}, 400, ("changes.renewal", "null")),
        ({"changes": {"term": "one year"}}, 400, ("changes.term", "'one year'")),
        ({"changes": {"topics": ["nk-misile"]}}, 400, ("changes.topics[0]", "'nk-misile'")),
        ({"changes": {"parties": ["KOR", "ZZZ"]}}, 400, ("changes.parties[1]", "'ZZZ'")),
        (
            {"changes": {"equivalence": [{"KOR": "군사II급비밀", "JPN": "SECRET"}]}},
            400,
            ("changes.equivalence[0].JPN", "'SECRET'"),
        ),
        ({"changes": {"hub": "USA"}}, 400, ()),
        ({"changes": {"renewal": "none"}, "by": "KOR"}, 400, ()),
        ({}, 400, ()),
        ({"changes": {"renewal": "none"}, "at": "2024-06-01T09:00:00"}, 400, ("UTC offset",)),
        ({"changes": {"renewal": "none"}, "at": "2020-01-01T00:00:00Z"}, 409, ("earlier",)),
    ],
)
def test_a_bad_amendment_is_refused_and_nothing_is_recorded(
    world: tuple[str, Exchange], body: dict[str, Any], status: int, words: tuple[str, ...]
) -> None:
    api, h = admin_client(world)
    before = events_of(api, h, "rok-japan-gsomia")
    path = "/admin/agreements/rok-japan-gsomia/events"
    refused(api.post(path, headers=h, json={"type": "amendment", **body}), status, *words)
    assert events_of(api, h, "rok-japan-gsomia") == before
    unknown = {"type": "amendment", "changes": {"renewal": "none"}}
    refused(api.post("/admin/agreements/nope/events", headers=h, json=unknown), 404)


def test_only_admin_tokens_may_create_or_amend(world: tuple[str, Exchange]) -> None:
    url, exchange = world
    api = TestClient(create_app(ApiSettings(url), exchange))
    plain = {"Authorization": f"Bearer {issue(exchange, 'kor-analyst')}"}
    amendment = {"type": "amendment", "changes": {"renewal": "none"}}
    posts = [
        ("/admin/parties", AUS),
        ("/admin/agreements", KOR_USA),
        ("/admin/agreements/rok-japan-gsomia/events", amendment),
    ]
    for path, body in posts:
        refused(api.post(path, json=body), 401)
        refused(api.post(path, headers={"Authorization": "Bearer x.y"}, json=body), 401)
        refused(api.post(path, headers=plain, json=body), 403)
    world_now = exchange.snapshot()
    assert "AUS" not in world_now.parties and "kor-usa-new" not in world_now.agreements
    assert [e.kind for e in world_now.agreement_events["rok-japan-gsomia"]][-1] != "amendment"
