"""The TAXII endpoints through Starlette's test client: what each user sees is exactly what the
read decision allows, nothing leaks, and every bad input gets its 4xx with nothing stored."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from accord.api.context import DEFINITIONS, HOLDINGS, collection_id
from accord.api.markings import classification_id, releasable_id
from accord.model.requests import ReadRequest
from accord.service import Exchange
from accord.service.credentials import Credentials
from accord.service.taxii import derived_stix_id
from tests.test_taxii_support import (
    LATER,
    TAXII,
    Clock,
    TestClient,
    bearer,
    client,
    envelope,
    indicator,
    issue,
    posting,
    scenario_exchange,
)

JPN = collection_id(HOLDINGS, "JPN")
KOR = collection_id(HOLDINGS, "KOR")
USA = collection_id(HOLDINGS, "USA")


@pytest.fixture
def world(tmp_path: Path) -> tuple[str, Exchange, Clock]:
    clock = Clock(LATER)
    url, exchange = scenario_exchange(tmp_path, clock)
    return url, exchange, clock


@pytest.fixture
def api(world: tuple[str, Exchange, Clock]) -> TestClient:
    url, exchange, _ = world
    return client(url, exchange)


def objects_of(api: TestClient, token: str, root: str, collection: str, query: str = "") -> Any:
    r = api.get(f"/taxii2/{root}/collections/{collection}/objects/{query}", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == TAXII
    return r.json()


def expected_ids(exchange: Exchange, user: str) -> set[str]:
    world = exchange.snapshot()
    party = world.users[user].party
    at = exchange.instant(None)
    return {
        derived_stix_id(i)
        for i in world.items_held_by[party]
        if exchange.check_read(ReadRequest(user, i), at).allowed
    }


def item_count(exchange: Exchange) -> int:
    return len(exchange.snapshot().items)


# --- discovery, roots, collections -----------------------------------------------------------


def test_discovery_lists_every_root_and_defaults_to_the_users_party(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    token = issue(world[1], "jpn-analyst")
    body = api.get("/taxii2/", headers=bearer(token)).json()
    assert body["default"] == "/taxii2/JPN/"
    assert body["api_roots"] == ["/taxii2/JPN/", "/taxii2/KOR/", "/taxii2/USA/"]
    root = api.get("/taxii2/KOR/", headers=bearer(token)).json()
    assert root["versions"] == [TAXII] and root["max_content_length"] > 0


def test_collections_own_root_reads_other_root_only_posts(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    token = issue(world[1], "jpn-analyst")
    own = api.get("/taxii2/JPN/collections/", headers=bearer(token)).json()["collections"]
    assert [(c["id"], c["can_read"], c["can_write"]) for c in own] == [
        (JPN, True, True),
        (collection_id(DEFINITIONS, "JPN"), True, False),
    ]
    other = api.get("/taxii2/KOR/collections/", headers=bearer(token)).json()["collections"]
    assert [(c["id"], c["can_read"], c["can_write"]) for c in other] == [(KOR, False, True)]
    r = api.get(f"/taxii2/KOR/collections/{KOR}/objects/", headers=bearer(token))
    assert r.status_code == 403 and r.json()["http_status"] == "403"


def test_unknown_root_collection_and_path_are_taxii_404s(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    token = issue(world[1], "jpn-analyst")
    for path in ("/taxii2/XXX/", f"/taxii2/JPN/collections/{KOR}/", "/taxii2/JPN/nothing/"):
        r = api.get(path, headers=bearer(token))
        assert r.status_code == 404 and r.headers["content-type"] == TAXII, path
        assert r.json()["http_status"] == "404"


# --- what each user sees ---------------------------------------------------------------------


@pytest.mark.parametrize("user", ["jpn-analyst", "jpn-junior", "jpn-cyber-analyst", "kor-analyst"])
def test_each_user_sees_exactly_what_the_read_decision_allows(
    api: TestClient, world: tuple[str, Exchange, Clock], user: str
) -> None:
    exchange = world[1]
    token = issue(exchange, user)
    party = exchange.snapshot().users[user].party
    body = objects_of(api, token, party, collection_id(HOLDINGS, party), "?limit=1000")
    assert {o["id"] for o in body.get("objects", [])} == expected_ids(exchange, user)
    manifest = api.get(
        f"/taxii2/{party}/collections/{collection_id(HOLDINGS, party)}/manifest/",
        headers=bearer(token),
    ).json()
    assert {o["id"] for o in manifest.get("objects", [])} == expected_ids(exchange, user)


def test_jpn_copy_carries_originator_holder_and_caveat_markings(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    token = issue(world[1], "jpn-analyst")
    body = objects_of(api, token, "JPN", JPN, f"?match[id]={derived_stix_id('kor-kn25-1031')}")
    (obj,) = body["objects"]
    assert obj["type"] == "report" and obj["name"] == "Two KN-25 launches from Sunchon"
    assert obj["object_marking_refs"] == [
        classification_id("KOR", "군사II급비밀"),
        classification_id("JPN", "極秘"),
        releasable_id("JPN"),
        releasable_id("USA"),
    ]


def test_paging_walks_everything_once_with_signed_cursors(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    exchange = world[1]
    token = issue(exchange, "jpn-analyst")
    seen: list[str] = []
    query = "?limit=1"
    for _ in range(50):
        r = api.get(f"/taxii2/JPN/collections/{JPN}/objects/{query}", headers=bearer(token))
        body = r.json()
        assert len(body["objects"]) == 1
        assert r.headers["X-TAXII-Date-Added-First"] == r.headers["X-TAXII-Date-Added-Last"]
        seen += [o["id"] for o in body["objects"]]
        if not body["more"]:
            assert "next" not in body
            break
        query = f"?limit=1&next={body['next']}"
    assert len(seen) == len(set(seen)) and set(seen) == expected_ids(exchange, "jpn-analyst")


def test_tampered_foreign_or_mismatched_cursors_are_400(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    exchange = world[1]
    token, other = issue(exchange, "jpn-analyst"), issue(exchange, "jpn-junior")
    cursor = objects_of(api, token, "JPN", JPN, "?limit=1")["next"]
    payload, mac = cursor.split(".")
    raw = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[4] = 0  # rewind the position, keep the old signature
    forged = base64.urlsafe_b64encode(json.dumps(raw).encode()).rstrip(b"=").decode() + "." + mac
    cases = [
        (token, f"?limit=1&next={cursor[:-2]}xx"),
        (token, f"?limit=1&next={forged}"),
        (token, "?limit=1&next=garbage"),
        (other, f"?limit=1&next={cursor}"),  # another user's cursor
        (token, f"?limit=1&match[type]=report&next={cursor}"),  # another query's cursor
    ]
    for who, query in cases:
        r = api.get(f"/taxii2/JPN/collections/{JPN}/objects/{query}", headers=bearer(who))
        assert r.status_code == 400, query
        assert r.json()["error_code"] == "bad-cursor"


def test_a_cursor_works_in_another_process(
    world: tuple[str, Exchange, Clock], tmp_path: Path
) -> None:
    url, exchange, clock = world
    token = issue(exchange, "jpn-analyst")
    first = client(url, exchange)
    cursor = objects_of(first, token, "JPN", JPN, "?limit=2")["next"]
    from tests.test_taxii_support import open_exchange

    second = client(url, open_exchange(url, clock))  # a fresh exchange: as after a restart
    body = objects_of(second, token, "JPN", JPN, f"?limit=2&next={cursor}")
    assert len(body["objects"]) == 2


def test_unreadable_object_is_the_same_404_as_a_missing_one(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    token = issue(world[1], "jpn-junior")  # JPN holds kor-kn25-1031 at 極秘; junior is 秘
    hidden = derived_stix_id("kor-kn25-1031")
    missing = "report--00000000-0000-4000-8000-000000000000"
    answers = []
    for oid in (hidden, missing):
        for suffix in ("", "versions/"):
            r = api.get(
                f"/taxii2/JPN/collections/{JPN}/objects/{oid}/{suffix}", headers=bearer(token)
            )
            answers.append((r.status_code, r.content))
        r = api.delete(f"/taxii2/JPN/collections/{JPN}/objects/{oid}/", headers=bearer(token))
        answers.append((r.status_code, r.content))
    assert answers[:3] == answers[3:]
    assert {a[0] for a in answers} == {404}
    listed = objects_of(api, token, "JPN", JPN, f"?match[id]={hidden}")
    assert listed == {"more": False}


def test_filters_type_version_spec_version_and_added_after(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    token = issue(world[1], "jpn-analyst")
    everything = objects_of(api, token, "JPN", JPN)["objects"]
    assert objects_of(api, token, "JPN", JPN, "?match[type]=indicator") == {"more": False}
    assert len(objects_of(api, token, "JPN", JPN, "?match[type]=report")["objects"]) == len(
        everything
    )
    assert objects_of(api, token, "JPN", JPN, "?match[spec_version]=2.0") == {"more": False}
    r = api.get(f"/taxii2/JPN/collections/{JPN}/manifest/", headers=bearer(token)).json()
    cut = r["objects"][0]["date_added"]
    later = objects_of(api, token, "JPN", JPN, f"?added_after={cut}")["objects"]
    assert len(later) == len(everything) - 1
    one = everything[0]
    assert objects_of(
        api, token, "JPN", JPN, f"?match[version]={one['modified']}&match[id]={one['id']}"
    )["objects"] == [one]
    for bad in ("?limit=0", "?limit=x", "?added_after=yesterday", "?match[version]=soon"):
        r = api.get(f"/taxii2/JPN/collections/{JPN}/objects/{bad}", headers=bearer(token))
        assert r.status_code == 400, bad


def test_definitions_collection_serves_markings_and_the_extension(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    token = issue(world[1], "jpn-analyst")
    body = objects_of(api, token, "JPN", collection_id(DEFINITIONS, "JPN"), "?limit=1000")
    types = {o["type"] for o in body["objects"]}
    assert types == {"extension-definition", "identity", "marking-definition"}
    ids = {o["id"] for o in body["objects"]}
    assert classification_id("JPN", "極秘") in ids and releasable_id("KOR") in ids


# --- authentication --------------------------------------------------------------------------


def test_bad_expired_revoked_and_malformed_credentials_are_the_same_401(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    exchange = world[1]
    good = issue(exchange, "jpn-analyst")
    revoked = issue(exchange, "jpn-analyst")
    creds = Credentials(exchange)
    creds.revoke(revoked.split(".")[0])
    token_id, secret = good.split(".")
    expired = _expired_token(exchange)
    basic_wrong_user = base64.b64encode(f"kor-analyst:{good}".encode()).decode()
    cases = [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": f"Bearer {token_id}.{other_first_char(secret)}"},
        {"Authorization": f"Bearer ffffffffffffffff.{secret}"},
        {"Authorization": f"Bearer {revoked}"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Basic {basic_wrong_user}"},
        {"Authorization": "Basic !!!"},
    ]
    bodies = set()
    for headers in cases:
        r = api.get("/taxii2/", headers={**headers, "Accept": TAXII})
        assert r.status_code == 401, headers
        assert "WWW-Authenticate" in r.headers
        bodies.add(r.content)
    assert len(bodies) == 1
    basic = base64.b64encode(f"jpn-analyst:{good}".encode()).decode()
    assert api.get("/taxii2/", headers={"Authorization": f"Basic {basic}"}).status_code == 200


def other_first_char(secret: str) -> str:
    """The secret with its first character changed: always other bytes (the first character
    carries six whole bits, unlike the last, whose low bits base64 ignores)."""
    return ("B" if secret[0] == "A" else "A") + secret[1:]


def test_a_token_secret_has_exactly_one_accepted_spelling(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    good = issue(world[1], "jpn-analyst")
    token_id, secret = good.split(".")
    raw = base64.urlsafe_b64decode(secret + "=")
    # The last character carries 4 bits of the secret and 2 unused ones: 3 other characters
    # decode to the same bytes.
    same_bytes = [secret[:-1] + c for c in B64URL if c != secret[-1] and _same_high(c, secret[-1])]
    assert len(same_bytes) == 3
    assert all(base64.urlsafe_b64decode(s + "=") == raw for s in same_bytes)
    spellings = [
        secret + "=",
        secret + "==",
        secret + "x",
        base64.b64encode(raw).decode().rstrip("="),
        base64.b64encode(raw).decode(),
        *same_bytes,
    ]
    for spelling in spellings:
        if spelling == secret:
            continue
        r = api.get(
            "/taxii2/", headers={"Authorization": f"Bearer {token_id}.{spelling}", "Accept": TAXII}
        )
        assert r.status_code == 401, spelling
    ok = api.get("/taxii2/", headers={"Authorization": f"Bearer {good}", "Accept": TAXII})
    assert ok.status_code == 200


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _same_high(a: str, b: str) -> bool:
    return B64URL.index(a) >> 2 == B64URL.index(b) >> 2


def _expired_token(exchange: Exchange) -> str:
    from datetime import timedelta

    now = Credentials(exchange).now()
    creds = Credentials(exchange, clock=lambda: now - timedelta(days=10))
    from accord.model.time import Duration

    return creds.issue("jpn-analyst", Duration.parse("P1D", "x")).token


def test_a_revoked_token_stops_working_even_when_cached(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    exchange = world[1]
    token = issue(exchange, "jpn-analyst")
    assert api.get("/taxii2/", headers=bearer(token)).status_code == 200
    Credentials(exchange).revoke(token.split(".")[0])  # as from another process
    assert api.get("/taxii2/", headers=bearer(token)).status_code == 401


def test_tokens_are_stored_only_as_salted_hashes(world: tuple[str, Exchange, Clock]) -> None:
    url, exchange, _ = world
    token = issue(exchange, "jpn-analyst")
    secret = token.split(".")[1]
    db = Path(url.removeprefix("sqlite:///")).read_bytes()
    assert secret.encode() not in db and base64.urlsafe_b64decode(secret + "=") not in db


# --- media types ------------------------------------------------------------------------------


def test_unacceptable_accept_is_406_and_wrong_content_type_415(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    exchange = world[1]
    token = issue(exchange, "kor-analyst")
    for accept in ("text/html", "application/json", "application/taxii+json;version=2.0"):
        r = api.get("/taxii2/", headers={**bearer(token), "Accept": accept})
        assert r.status_code == 406 and r.json()["http_status"] == "406", accept
    before = item_count(exchange)
    for ctype in ("application/json", "text/plain", "application/stix+json;version=2.1", None):
        headers = {**bearer(token)} if ctype is None else {**bearer(token), "Content-Type": ctype}
        r = api.post(
            f"/taxii2/KOR/collections/{KOR}/objects/",
            headers=headers,
            content=envelope(indicator(1)),
        )
        assert r.status_code == 415, ctype
    assert item_count(exchange) == before


# --- posting: creation ------------------------------------------------------------------------


def test_post_to_own_collection_creates_items_that_round_trip(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    exchange = world[1]
    kor, jpn = issue(exchange, "kor-analyst"), issue(exchange, "jpn-analyst")
    obj = indicator(1, x_custom_score=97, labels=["malicious-activity"])
    r = api.post(
        f"/taxii2/KOR/collections/{KOR}/objects/", headers=posting(kor), content=envelope(obj)
    )
    assert r.status_code == 202, r.text
    status = r.json()
    assert (status["status"], status["success_count"], status["failure_count"]) == (
        "complete",
        1,
        0,
    )
    back = objects_of(api, kor, "KOR", KOR, "?match[type]=indicator")["objects"]
    assert len(back) == 1
    for key, value in obj.items():
        if key not in ("object_marking_refs", "extensions"):
            assert back[0][key] == value, key
    assert set(obj["object_marking_refs"]) <= set(back[0]["object_marking_refs"])
    # JPN does not hold it: not in its collection
    assert objects_of(api, jpn, "JPN", JPN, "?match[type]=indicator") == {"more": False}
    # the same envelope again changes nothing, and is answered as the first post was
    again = api.post(
        f"/taxii2/KOR/collections/{KOR}/objects/", headers=posting(kor), content=envelope(obj)
    )
    assert again.status_code == 202 and again.json()["successes"][0]["message"] == "created"
    got = api.get(f"/taxii2/KOR/status/{status['id']}/", headers=bearer(kor))
    assert got.status_code == 200 and got.json() == status
    assert api.get(f"/taxii2/KOR/status/{status['id']}/", headers=bearer(jpn)).status_code == 404


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ({"spec_version": "2.0"}, "not-stix-2.1"),
        ({"spec_version": None}, "not-stix-2.1"),
        ({"object_marking_refs": []}, "missing-level"),
        ({"object_marking_refs": [classification_id("JPN", "極秘")]}, "unknown-level"),
        (
            {
                "object_marking_refs": [
                    classification_id("KOR", "군사II급비밀"),
                    classification_id("KOR", "군사III급비밀"),
                ]
            },
            "ambiguous-level",
        ),
        ({"object_marking_refs": [classification_id("KOR", "군사I급비밀")]}, "above-clearance"),
        ({"extensions": {}}, "missing-topics"),
        ({"modified": "yesterday"}, "invalid-modified"),
        (
            {
                "object_marking_refs": [
                    classification_id("KOR", "군사II급비밀"),
                    releasable_id("JPN"),
                    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
                ]
            },
            "tlp-restricts-release",
        ),
    ],
)
def test_invalid_objects_reject_the_whole_envelope_and_store_nothing(
    api: TestClient, world: tuple[str, Exchange, Clock], bad: dict[str, Any], code: str
) -> None:
    exchange = world[1]
    kor = issue(exchange, "kor-analyst")
    broken = indicator(2)
    for key, value in bad.items():
        if value is None:
            broken.pop(key)
        else:
            broken[key] = value
    before = item_count(exchange)
    r = api.post(
        f"/taxii2/KOR/collections/{KOR}/objects/",
        headers=posting(kor),
        content=envelope(indicator(1), broken),
    )
    assert r.status_code == 422, r.text
    status = r.json()["details"]["status"]
    assert status["success_count"] == 0 and status["failure_count"] == 2
    assert code in status["failures"][1]["message"]
    assert status["failures"][0]["message"] == "created, envelope-rejected"
    assert item_count(exchange) == before
    assert objects_of(api, kor, "KOR", KOR, "?match[type]=indicator") == {"more": False}


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"objects": 3}',
        b'{"objects": [1]}',
        b'{"objects": [{"type": "indicator"}]}',
        b"\xff\xfe",
    ],
)
def test_malformed_bodies_are_400_and_store_nothing(
    api: TestClient, world: tuple[str, Exchange, Clock], body: bytes
) -> None:
    exchange = world[1]
    kor = issue(exchange, "kor-analyst")
    before = item_count(exchange)
    r = api.post(f"/taxii2/KOR/collections/{KOR}/objects/", headers=posting(kor), content=body)
    assert r.status_code == 400 and r.json()["http_status"] == "400"
    assert item_count(exchange) == before


def test_oversize_body_is_413_and_stores_nothing(world: tuple[str, Exchange, Clock]) -> None:
    url, exchange, _ = world
    small = client(url, exchange, max_content_length=2048)
    kor = issue(exchange, "kor-analyst")
    before = item_count(exchange)
    body = envelope(*(indicator(n) for n in range(20)))
    r = small.post(f"/taxii2/KOR/collections/{KOR}/objects/", headers=posting(kor), content=body)
    assert r.status_code == 413 and r.json()["http_status"] == "413"
    assert item_count(exchange) == before


# --- posting: releases ------------------------------------------------------------------------


def test_post_to_another_root_is_a_release_through_the_full_decision(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    exchange = world[1]
    kor, jpn = issue(exchange, "kor-analyst"), issue(exchange, "jpn-analyst")
    objs = [indicator(1), indicator(2, rel=("USA",))]
    assert (
        api.post(
            f"/taxii2/KOR/collections/{KOR}/objects/", headers=posting(kor), content=envelope(*objs)
        ).status_code
        == 202
    )
    # indicator 2 is not releasable to JPN: the whole envelope is refused (R5)
    r = api.post(
        f"/taxii2/JPN/collections/{JPN}/objects/", headers=posting(kor), content=envelope(*objs)
    )
    assert r.status_code == 422
    failures = {f["id"]: f["message"] for f in r.json()["details"]["status"]["failures"]}
    assert "not-releasable-to" in failures[objs[1]["id"]]
    assert objects_of(api, jpn, "JPN", JPN, "?match[type]=indicator") == {"more": False}
    # indicator 1 alone goes, under the GSOMIA (in force again in 2024)
    r = api.post(
        f"/taxii2/JPN/collections/{JPN}/objects/", headers=posting(kor), content=envelope(objs[0])
    )
    assert r.status_code == 202, r.text
    assert r.json()["successes"][0]["message"] == "release-allowed"
    (got,) = objects_of(api, jpn, "JPN", JPN, "?match[type]=indicator")["objects"]
    assert classification_id("JPN", "極秘") in got["object_marking_refs"]
    assert got["extensions"][next(iter(got["extensions"]))]["holder_level"] == "極秘"
    # releasing what one cannot see, or does not hold, is "not-found", not a hint
    r = api.post(
        f"/taxii2/KOR/collections/{KOR}/objects/",
        headers=posting(jpn),
        content=envelope(indicator(3)),
    )
    assert r.status_code == 422
    assert r.json()["details"]["status"]["failures"][0]["message"] == "not-found"


def test_release_through_a_hub_needs_the_originators_consent(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    exchange = world[1]
    kor = issue(exchange, "kor-analyst")
    obj = indicator(5)
    assert (
        api.post(
            f"/taxii2/KOR/collections/{KOR}/objects/", headers=posting(kor), content=envelope(obj)
        ).status_code
        == 202
    )
    r = api.post(
        f"/taxii2/JPN/collections/{JPN}/objects/?via=USA",
        headers=posting(kor),
        content=envelope(obj),
    )
    assert r.status_code == 422
    assert "no-originator-consent" in r.json()["details"]["status"]["failures"][0]["message"]
    r = api.post(
        f"/taxii2/JPN/collections/{JPN}/objects/?via=NOPE",
        headers=posting(kor),
        content=envelope(obj),
    )
    assert r.status_code == 400


# --- deletion is destruction ------------------------------------------------------------------


def test_delete_destroys_the_partys_copy_only(
    api: TestClient, world: tuple[str, Exchange, Clock]
) -> None:
    exchange = world[1]
    jpn, kor = issue(exchange, "jpn-analyst"), issue(exchange, "kor-analyst")
    oid = derived_stix_id("kor-kn25-1031")
    r = api.delete(f"/taxii2/JPN/collections/{JPN}/objects/{oid}/", headers=bearer(jpn))
    assert r.status_code == 200
    assert (
        api.get(f"/taxii2/JPN/collections/{JPN}/objects/{oid}/", headers=bearer(jpn)).status_code
        == 404
    )
    assert (
        api.get(f"/taxii2/KOR/collections/{KOR}/objects/{oid}/", headers=bearer(kor)).status_code
        == 200
    )
    assert (
        api.delete(f"/taxii2/KOR/collections/{KOR}/objects/{oid}/", headers=bearer(jpn)).status_code
        == 403
    )


# --- server errors ---------------------------------------------------------------------------


def test_a_defect_is_a_generic_500_without_exception_text(
    api: TestClient, world: tuple[str, Exchange, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = issue(world[1], "jpn-analyst")
    server = api.app.state.server  # type: ignore[attr-defined]

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(server.taxii, "page", broken)
    r = api.get(f"/taxii2/JPN/collections/{JPN}/objects/", headers=bearer(token))
    assert r.status_code == 500 and r.headers["content-type"] == TAXII
    assert "secret" not in r.text and r.json()["http_status"] == "500"
