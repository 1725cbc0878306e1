"""No forged versions and no existence oracle, over real HTTP on 127.0.0.1 with taxii2-client.

Only an object's originator makes its versions. A user of another party who posts an object
under an id in use (a "newer version" of someone else's object) gets exactly the answer a post
of a fresh id gets, and what is stored is an object of the poster's own party, which never
becomes a version of the other's: every reader who may read the originator's copies keeps
getting the originator's versions only, by default, by version filter, in the version list and
in the manifest. An object naming another party as its maker (``created_by_ref``) is refused
from the posted object alone, whether its id is in use or not."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from taxii2client.v21 import Collection

from accord.api import ApiSettings, create_app
from accord.api.context import HOLDINGS, collection_id
from accord.api.markings import EXTENSION_ID, MarkingIndex, party_identity
from accord.api.stix_codec import new_object
from accord.model.requests import ReadRequest
from accord.service import Exchange
from accord.service.taxii import ObjectFilter, ObjectRef, TaxiiService, derived_stix_id
from tests.test_taxii_support import (
    LATER,
    TAXII,
    Clock,
    envelope,
    indicator,
    issue,
    open_exchange,
    posting,
    scenario_exchange,
    serving,
)

V1 = "2024-01-01T00:00:00.000Z"
V2 = "2024-03-01T00:00:00.000Z"
V3 = "2024-04-01T00:00:00.000Z"
KOR_SECRET = "군사II급비밀"  # JPN's 極秘: jpn-analyst may read it, jpn-junior (秘) may not


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Exchange]]:
    clock = Clock(LATER)
    url, exchange = scenario_exchange(tmp_path, clock)
    with serving(create_app(ApiSettings(url), exchange)) as base:
        yield base, open_exchange(url, clock)  # the test's own view, as another process's


def holdings(base: str, user: str, token: str, party: str) -> Collection:
    return Collection(
        f"{base}/taxii2/{party}/collections/{collection_id(HOLDINGS, party)}/",
        user=user,
        password=token,
    )


def answer(status: Any) -> dict[str, Any]:
    """A status resource without what differs between any two posts (its id, its instant and
    the ids and versions of the objects posted)."""
    body = dict(status if isinstance(status, dict) else status._raw)
    for key in ("id", "request_timestamp"):
        body.pop(key)
    for key in ("successes", "failures"):
        body[key] = [d["message"] for d in body[key]]
    return body


def entries(exchange: Exchange) -> int:
    with exchange.store.transaction() as tx:
        return tx.entry_count()


def jpn_version(n: int, modified: str, level: str = "極秘", **extra: Any) -> dict[str, Any]:
    """KOR's indicator ``n`` as a JPN user would post a "newer version" of it, marked by JPN."""
    return indicator(
        n,
        "JPN",
        level,
        rel=("KOR", "USA"),
        modified=modified,
        name=f"not KOR's indicator {n}",
        **extra,
    )


def kor_original(base: str, exchange: Exchange, n: int) -> dict[str, Any]:
    """KOR's indicator ``n`` (version V1), posted by KOR and released to JPN."""
    kor = issue(exchange, "kor-analyst")
    original = indicator(n, level=KOR_SECRET, modified=V1)
    assert holdings(base, "kor-analyst", kor, "KOR").add_objects(
        {"objects": [original]}
    ).success_count == (1)
    to_jpn = holdings(base, "kor-analyst", kor, "JPN").add_objects({"objects": [original]})
    assert to_jpn.success_count == 1
    return original


def served_versions(collection: Collection, stix_id: str) -> list[str]:
    return list(collection.object_versions(stix_id).get("versions", []))


def test_a_newer_version_by_another_party_is_never_served_as_the_originators(
    live: tuple[str, Exchange],
) -> None:
    base, exchange = live
    original = kor_original(base, exchange, 1)
    stix_id = original["id"]
    jpn_token = issue(exchange, "jpn-analyst")
    jpn = holdings(base, "jpn-analyst", jpn_token, "JPN")

    before = entries(exchange)
    forged = jpn.add_objects({"objects": [jpn_version(1, V2)]})
    forged_entries = entries(exchange) - before
    before = entries(exchange)
    fresh = jpn.add_objects({"objects": [jpn_version(2, V2)]})  # an id nobody uses
    fresh_entries = entries(exchange) - before
    # the same answer, and the same writes, as a post of an id nobody uses
    assert answer(forged) == answer(fresh)
    assert answer(forged)["successes"] == ["created"]
    assert forged_entries == fresh_entries == 1

    # the JPN reader who may read KOR's copy still gets KOR's object, in every view
    (got,) = jpn.get_object(stix_id)["objects"]
    assert got["modified"] == V1 and got["name"] == original["name"]
    assert got["extensions"][EXTENSION_ID]["originator"] == "KOR"
    assert served_versions(jpn, stix_id) == [V1]
    everything = jpn.get_objects(id=stix_id, version="all")["objects"]
    assert [o["modified"] for o in everything] == [V1]
    with pytest.raises(requests.HTTPError) as raised:
        jpn.get_object(stix_id, version=V2)
    assert raised.value.response.status_code == 404
    manifest = [m for m in jpn.get_manifest()["objects"] if m["id"] == stix_id]
    assert [m["version"] for m in manifest] == [V1]
    listed = [o for o in jpn.get_objects(type="indicator")["objects"] if o["id"] == stix_id]
    assert [o["modified"] for o in listed] == [V1]
    # the store holds JPN's post as JPN's own object, beside KOR's
    world = exchange.snapshot()
    assert f"JPN~{stix_id}~{V2}" in world.items
    assert world.items[f"JPN~{stix_id}~{V2}"].originator == "JPN"


def test_a_reader_who_may_not_read_the_original_gets_what_a_fresh_id_gives(
    live: tuple[str, Exchange],
) -> None:
    """jpn-junior (秘) may not read KOR's copy: posting under its id, the junior is answered
    and served exactly as for a fresh id, so the junior learns nothing of KOR's object; when
    the junior's object is released to KOR, KOR's readers still get KOR's versions only."""
    base, exchange = live
    original = kor_original(base, exchange, 3)
    stix_id = original["id"]
    token = issue(exchange, "jpn-junior")
    junior = holdings(base, "jpn-junior", token, "JPN")
    with pytest.raises(requests.HTTPError):
        junior.get_object(stix_id)  # the junior may not read KOR's copy

    posted = junior.add_objects({"objects": [jpn_version(3, V3, "秘")]})
    fresh = junior.add_objects({"objects": [jpn_version(4, V3, "秘")]})
    assert answer(posted) == answer(fresh)
    (mine,) = junior.get_object(stix_id)["objects"]
    (other,) = junior.get_object(jpn_version(4, V3)["id"])["objects"]
    assert mine["modified"] == other["modified"] == V3
    assert mine["extensions"][EXTENSION_ID]["originator"] == "JPN"
    assert served_versions(junior, stix_id) == [V3]

    # released to KOR, the junior's object sits beside KOR's own under the same id
    to_kor = holdings(base, "jpn-junior", token, "KOR").add_objects(
        {"objects": [{"type": "indicator", "id": stix_id, "modified": V3}]}
    )
    assert to_kor.success_count == 1
    kor = holdings(base, "kor-analyst", issue(exchange, "kor-analyst"), "KOR")
    (got,) = kor.get_object(stix_id)["objects"]
    assert got["modified"] == V1 and got["extensions"][EXTENSION_ID]["originator"] == "KOR"
    assert served_versions(kor, stix_id) == [V1]
    at = exchange.instant(None)
    assert exchange.check_read(ReadRequest("kor-analyst", f"JPN~{stix_id}~{V3}"), at).allowed


def test_a_later_version_of_a_scenario_item_by_another_party_is_not_served(
    live: tuple[str, Exchange],
) -> None:
    """Items made without a STIX object are served under a derived id; a report posted under
    that id by another party does not become a version of the item."""
    base, exchange = live
    world = exchange.snapshot()
    at = exchange.instant(None)
    readable = [
        i
        for i in world.items_held_by["JPN"]
        if world.items[i].originator == "KOR"
        and exchange.check_read(ReadRequest("jpn-analyst", i), at).allowed
    ]
    assert readable, "the scenario releases KOR items JPN's analyst may read"
    item_id = readable[0]
    stix_id = derived_stix_id(item_id)
    jpn = holdings(base, "jpn-analyst", issue(exchange, "jpn-analyst"), "JPN")
    (before,) = jpn.get_object(stix_id)["objects"]
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": stix_id,
        "created": "2024-05-01T00:00:00.000Z",
        "modified": "2024-05-01T00:00:00.000Z",
        "name": "a newer version, by JPN",
        "published": "2024-05-01T00:00:00.000Z",
        "report_types": ["threat-report"],
        "object_refs": [party_identity("KOR")],
        "object_marking_refs": jpn_version(0, V1)["object_marking_refs"],
        "extensions": jpn_version(0, V1)["extensions"],
    }
    assert jpn.add_objects({"objects": [report]}).success_count == 1
    (after,) = jpn.get_object(stix_id)["objects"]
    assert after == before
    assert served_versions(jpn, stix_id) == [before["modified"]]


@pytest.mark.parametrize("in_use", [True, False])
def test_an_object_naming_another_party_as_its_maker_is_refused(
    live: tuple[str, Exchange], in_use: bool
) -> None:
    base, exchange = live
    original = kor_original(base, exchange, 5)
    n = 5 if in_use else 6
    assert (original["id"] == indicator(n)["id"]) is in_use
    token = issue(exchange, "jpn-analyst")
    items, count = len(exchange.snapshot().items), entries(exchange)
    forged = jpn_version(n, V2, created_by_ref=party_identity("KOR"))
    with httpx.Client(base_url=base) as http:
        path = f"/taxii2/JPN/collections/{collection_id(HOLDINGS, 'JPN')}/objects/"
        r = http.post(path, headers=posting(token), content=envelope(forged))
    assert r.status_code == 422 and r.headers["content-type"].startswith(TAXII.split(";")[0])
    status = r.json()["details"]["status"]
    assert answer(status) == {
        "status": "complete",
        "total_count": 1,
        "success_count": 0,
        "successes": [],
        "failure_count": 1,
        "failures": ["not-originator"],
        "pending_count": 0,
        "pendings": [],
    }
    assert len(exchange.snapshot().items) == items and entries(exchange) == count
    # naming one's own party is fine
    own = jpn_version(7, V2, created_by_ref=party_identity("JPN"))
    assert holdings(base, "jpn-analyst", token, "JPN").add_objects(
        {"objects": [own]}
    ).success_count == (1)
    (got,) = holdings(base, "jpn-analyst", token, "JPN").get_object(own["id"])["objects"]
    assert got["created_by_ref"] == party_identity("JPN")


# --- a property: the versions each reader gets, against an oracle of the rule ------------------

POSTERS = (
    ("kor-analyst", "KOR", ("군사III급비밀", "군사II급비밀")),
    ("jpn-analyst", "JPN", ("秘", "極秘")),
    ("jpn-junior", "JPN", ("秘",)),
    ("usa-analyst", "USA", ("CONFIDENTIAL", "SECRET")),
)
READERS = ("kor-analyst", "jpn-analyst", "jpn-junior", "jpn-cyber-analyst", "usa-analyst")
STEPS = st.lists(
    st.tuples(st.integers(0, len(POSTERS) - 1), st.integers(0, 1), st.booleans()),
    min_size=1,
    max_size=5,
)


@dataclass(frozen=True)
class Posted:
    """One copy in a party's holdings, in the order the objects were made."""

    item: str
    originator: str
    version: str


def expected_versions(copies: list[Posted], readable: Callable[[str], bool]) -> list[str]:
    """The rule, stated plainly: of the copies the reader may read, those made by the party
    that made the first of them."""
    visible = [c for c in copies if readable(c.item)]
    if not visible:
        return []
    return sorted(c.version for c in visible if c.originator == visible[0].originator)


class Store:
    """One exchange shared by every example (each example uses STIX ids of its own)."""

    def __init__(self, tmp: Path) -> None:
        self.clock = Clock(LATER)
        _, self.exchange = scenario_exchange(tmp, self.clock)
        self.taxii = TaxiiService(self.exchange)
        self.markings = MarkingIndex.of(self.exchange.snapshot().parties)
        self.ids = itertools.count(1_000)

    def post(self, user: str, party: str, obj: dict[str, Any]) -> str:
        entry = new_object(obj, 0, party, self.markings)
        stored, outcomes = self.taxii.add_objects(user, [entry], None)
        assert stored, outcomes
        return f"{party}~{obj['id']}~{obj['modified']}"

    def served(self, reader: str, party: str, stix_id: str, versions: str) -> list[str]:
        flt = ObjectFilter(ids=frozenset({stix_id}), versions=frozenset({versions}))
        at = self.exchange.instant(None)
        page = self.taxii.page(reader, party, flt, at, None, 100, content=False)
        return sorted(h.meta.version for h in page.hits)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return Store(tmp_path_factory.mktemp("forgery"))


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kor_level=st.integers(0, 1), released=st.booleans(), steps=STEPS)
def test_each_reader_gets_the_versions_the_rule_gives(
    shared: Store, kor_level: int, released: bool, steps: list[tuple[int, int, bool]]
) -> None:
    n = next(shared.ids)
    original = indicator(n, level=POSTERS[0][2][kor_level], modified=V1)
    holdings: dict[str, list[Posted]] = {"KOR": [], "JPN": [], "USA": []}
    first = shared.post("kor-analyst", "KOR", original)
    holdings["KOR"].append(Posted(first, "KOR", V1))
    if released:
        ref = ObjectRef(original["id"], V1, None)
        ok, outcomes = shared.taxii.release_objects("kor-analyst", "JPN", None, [ref], None)
        assert ok, outcomes
        holdings["JPN"].append(Posted(first, "KOR", V1))
    for step, (poster, level, later) in enumerate(steps):
        if later:  # else made at the same instant as the one before (a frozen clock)
            shared.clock.now += timedelta(seconds=1)
        user, party, levels = POSTERS[poster]
        version = f"2024-02-{step + 1:02d}T00:00:00.000Z"
        others = tuple(p for p in ("KOR", "JPN", "USA") if p != party)
        obj = indicator(n, party, levels[min(level, len(levels) - 1)], rel=others, modified=version)
        holdings[party].append(Posted(shared.post(user, party, obj), party, version))
    at = shared.exchange.instant(None)
    world = shared.exchange.snapshot()
    for reader in READERS:
        party = world.users[reader].party

        def readable(item: str, reader: str = reader) -> bool:
            return shared.exchange.check_read(ReadRequest(reader, item), at).allowed

        want = expected_versions(holdings[party], readable)
        assert shared.served(reader, party, original["id"], "all") == want, reader
        assert shared.served(reader, party, original["id"], "last") == want[-1:], reader
        assert shared.served(reader, party, original["id"], "first") == want[:1], reader
