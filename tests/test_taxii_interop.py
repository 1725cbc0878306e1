"""Software we did not write against a real server: the unmodified OASIS ``taxii2-client`` over
HTTP to uvicorn on 127.0.0.1, ``stix2-validator`` and ``stix2`` on everything the server emits,
and real STIX from ``../shared/data`` round-tripping without losing custom properties."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import stix2
import stix2validator
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from accord.api import ApiSettings, create_app
from accord.api.context import DEFINITIONS, HOLDINGS, collection_id
from accord.api.markings import EXTENSION_ID, classification_id, releasable_id
from accord.model.requests import ReadRequest
from accord.service import Exchange
from accord.service.taxii import derived_stix_id
from tests.test_taxii_support import (
    AFTER,
    BEFORE,
    DATA,
    LATER,
    Clock,
    indicator,
    issue,
    open_exchange,
    scenario_exchange,
    serving,
)

EXAMPLES = DATA / "oasis_stix_taxii_examples"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, str, Exchange]]:
    clock = Clock(LATER)
    url, exchange = scenario_exchange(tmp_path, clock)
    with serving(create_app(ApiSettings(url), exchange)) as base:
        # the test's own view of the store, as another process would have it
        yield base, url, open_exchange(url, clock)


def _collection(base: str, user: str, token: str, party: str, kind: str = HOLDINGS) -> Collection:
    return Collection(
        f"{base}/taxii2/{party}/collections/{collection_id(kind, party)}/",
        user=user,
        password=token,
    )


def _valid(obj: dict[str, Any]) -> None:
    result = stix2validator.validate_instance(obj)
    assert result.is_valid, [str(e) for e in result.errors]
    stix2.parse(obj, allow_custom=True)


def test_discovery_roots_and_collections_through_taxii2_client(
    live: tuple[str, str, Exchange],
) -> None:
    base, _, exchange = live
    token = issue(exchange, "jpn-analyst")
    server = Server(f"{base}/taxii2/", user="jpn-analyst", password=token)
    assert server.default is not None and server.default.url.endswith("/taxii2/JPN/")
    assert sorted(r.url.rsplit("/", 2)[-2] for r in server.api_roots) == ["JPN", "KOR", "USA"]
    jpn = ApiRoot(f"{base}/taxii2/JPN/", user="jpn-analyst", password=token)
    assert {c.id for c in jpn.collections} == {
        collection_id(HOLDINGS, "JPN"),
        collection_id(DEFINITIONS, "JPN"),
    }
    kor = ApiRoot(f"{base}/taxii2/KOR/", user="jpn-analyst", password=token)
    assert [(c.can_read, c.can_write) for c in kor.collections] == [(False, True)]


def test_two_parties_add_read_filter_and_page_as_decisions_allow(
    live: tuple[str, str, Exchange],
) -> None:
    base, _, exchange = live
    kor_token, jpn_token = issue(exchange, "kor-analyst"), issue(exchange, "jpn-analyst")
    kor = _collection(base, "kor-analyst", kor_token, "KOR")
    objs = [indicator(n) for n in range(25)]
    status = kor.add_objects({"objects": objs})
    assert status.status == "complete" and status.success_count == 25
    # release 10 of them to JPN through JPN's root
    to_jpn = _collection(base, "kor-analyst", kor_token, "JPN")
    assert to_jpn.add_objects({"objects": objs[:10]}).success_count == 10

    def walk(collection: Collection, **filters: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in as_pages(collection.get_objects, per_request=4, **filters):
            found += page.get("objects", [])
        return found

    kor_view = walk(kor, type="indicator")
    assert [o["id"] for o in kor_view] == [o["id"] for o in objs]
    jpn = _collection(base, "jpn-analyst", jpn_token, "JPN")
    jpn_view = walk(jpn, type="indicator")
    assert [o["id"] for o in jpn_view] == [o["id"] for o in objs[:10]]
    # JPN's whole view equals the read decisions
    world = exchange.snapshot()
    at = exchange.instant(None)
    allowed = {
        i
        for i in world.items_held_by["JPN"]
        if exchange.check_read(ReadRequest("jpn-analyst", i), at).allowed
    }
    every = walk(jpn)
    assert len(every) == len(allowed)
    for obj in every:
        _valid(obj)
        assert obj["extensions"][EXTENSION_ID]["holder"] == "JPN"
    manifest = jpn.get_manifest(type="indicator")
    assert len(manifest["objects"]) == 10
    single = jpn.get_object(objs[0]["id"])
    assert single["objects"][0]["id"] == objs[0]["id"]
    assert jpn.object_versions(objs[0]["id"])["versions"] == [objs[0]["modified"]]
    # JPN's junior analyst (秘) sees none of the 極秘 copies and gets 404 for each
    junior = _collection(base, "jpn-junior", issue(exchange, "jpn-junior"), "JPN")
    assert walk(junior) == []
    with pytest.raises(requests.HTTPError) as raised:
        junior.get_object(objs[0]["id"])
    assert raised.value.response.status_code == 404


def test_everything_emitted_passes_the_validator(live: tuple[str, str, Exchange]) -> None:
    base, _, exchange = live
    token = issue(exchange, "jpn-analyst")
    definitions = _collection(base, "jpn-analyst", token, "JPN", DEFINITIONS)
    objs = definitions.get_objects(limit=1000)["objects"]
    assert {o["type"] for o in objs} == {"extension-definition", "identity", "marking-definition"}
    for obj in objs:
        _valid(obj)
    text = json.dumps(
        {"type": "bundle", "id": "bundle--6f1e6c1a-4b3e-4d0a-9c55-acc0de2a0002", "objects": objs}
    )
    assert stix2validator.validate_string(text).is_valid
    ext = next(o for o in objs if o["type"] == "extension-definition")
    schema = json.loads(ext["schema"])
    doc = Path(__file__).resolve().parents[1] / "docs" / "stix-classification-extension.json"
    assert json.loads(doc.read_text(encoding="utf-8")) == schema


def _real_objects() -> list[dict[str, Any]]:
    if not EXAMPLES.is_dir():
        pytest.skip(f"public data not present at {EXAMPLES} (only in the team's workspace)")
    found: list[dict[str, Any]] = []
    for name in (
        "threat-reports/apt1.json",
        "threat-reports/poisonivy.json",
        "indicators-for-C2-with-COA.json",
    ):
        bundle = json.loads(
            (EXAMPLES / "cti-stix2-json-schemas" / "examples" / name).read_text(encoding="utf-8")
        )
        found += [o for o in bundle["objects"] if o["type"] != "marking-definition"]
    ics = DATA / "mitre_attack" / "ics-attack-18.1.json"
    if ics.is_file():
        bundle = json.loads(ics.read_text(encoding="utf-8"))
        found += [o for o in bundle["objects"] if o["type"] != "marking-definition"][:200]
    return found


def test_real_stix_round_trips_without_losing_custom_properties(
    live: tuple[str, str, Exchange],
) -> None:
    base, _, exchange = live
    objects = _real_objects()
    token = issue(exchange, "kor-analyst")
    kor = _collection(base, "kor-analyst", token, "KOR")
    marked = []
    for original in objects:
        obj = json.loads(json.dumps(original))
        obj["object_marking_refs"] = [
            *obj.get("object_marking_refs", []),
            classification_id("KOR", "군사III급비밀"),
            releasable_id("USA"),
        ]
        obj.setdefault("extensions", {})[EXTENSION_ID] = {
            "extension_type": "property-extension",
            "topics": ["cyber"],
        }
        marked.append(obj)
    for start in range(0, len(marked), 100):
        status = kor.add_objects({"objects": marked[start : start + 100]})
        assert status.failure_count == 0, status.failures
    back: dict[str, dict[str, Any]] = {}
    for page in as_pages(kor.get_objects, per_request=100, version="all"):
        for obj in page.get("objects", []):
            back[(obj["id"], obj.get("modified", ""))] = obj  # type: ignore[index]
    customs = 0
    for original in objects:
        got = back[(original["id"], original.get("modified", ""))]  # type: ignore[index]
        for key, value in original.items():
            if key == "object_marking_refs":
                assert set(value) <= set(got[key])
            elif key == "extensions":
                assert all(got[key][k] == v for k, v in value.items())
            else:
                assert got[key] == value, (original["id"], key)
            customs += key.startswith("x_")
    assert customs > 0  # the data does carry custom properties (x_mitre_*)


def test_tlp_markings_are_kept(live: tuple[str, str, Exchange]) -> None:
    base, _, exchange = live
    token = issue(exchange, "kor-analyst")
    kor = _collection(base, "kor-analyst", token, "KOR")
    green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    obj = indicator(77)
    obj["object_marking_refs"].append(green)
    assert kor.add_objects({"objects": [obj]}).success_count == 1
    assert green in kor.get_object(obj["id"])["objects"][0]["object_marking_refs"]


EVE = datetime.fromisoformat("2019-11-22T21:00:00+09:00")


def _scenario(name: str) -> Path | None:
    if name == "no-suspension":
        return Path(__file__).resolve().parent / "scenarios" / "gsomia-2019-no-suspension.yaml"
    return None


@pytest.mark.parametrize("scenario", ["builtin", "no-suspension"])
def test_jpn_view_before_and_after_the_2019_boundary(tmp_path: Path, scenario: str) -> None:
    """JPN's view through taxii2-client one second before and at midnight, 23 November 2019
    KST: the same copies either way (R7), each exactly as the read decision allows."""
    url, exchange = scenario_exchange(tmp_path, Clock(BEFORE), scenario=_scenario(scenario))
    token = issue(exchange, "jpn-analyst")
    views = []
    for instant in (BEFORE, AFTER):
        frozen = open_exchange(url, lambda instant=instant: instant)
        with serving(create_app(ApiSettings(url, instant), frozen)) as base:
            jpn = _collection(base, "jpn-analyst", token, "JPN")
            seen = {o["id"] for o in jpn.get_objects(limit=1000).get("objects", [])}
        allowed = {
            derived_stix_id(i)
            for i in exchange.snapshot().items_held_by["JPN"]
            if exchange.check_read(ReadRequest("jpn-analyst", i), instant).allowed
        }
        assert seen == allowed
        views.append(seen)
    assert views[0] == views[1] and derived_stix_id("kor-kn25-1031") in views[0]
    assert derived_stix_id("kor-kn25-1128") not in views[0]  # released on 28 November


@pytest.mark.parametrize(
    ("scenario", "instant", "expected"),
    [
        ("builtin", BEFORE, "release-allowed"),
        ("builtin", AFTER, "release-allowed"),
        ("no-suspension", BEFORE, "release-allowed"),
        ("no-suspension", AFTER, "agreement-not-in-force"),
    ],
)
def test_a_release_posted_at_the_boundary(
    tmp_path: Path, scenario: str, instant: datetime, expected: str
) -> None:
    """KOR posts its eve report to JPN's root with the server frozen at the instant."""
    url, exchange = scenario_exchange(
        tmp_path, Clock(instant), scenario=_scenario(scenario), until=EVE
    )
    token = issue(exchange, "kor-analyst")
    with serving(
        create_app(ApiSettings(url, instant), open_exchange(url, lambda: instant))
    ) as base:
        to_jpn = _collection(base, "kor-analyst", token, "JPN")
        eve = {"type": "report", "id": derived_stix_id("kor-missile-eve-consented")}
        try:
            message = to_jpn.add_objects({"objects": [eve]}).successes[0]["message"]
        except requests.HTTPError as error:
            assert error.response.status_code == 422
            message = error.response.json()["details"]["status"]["failures"][0]["message"]
    assert expected in message
