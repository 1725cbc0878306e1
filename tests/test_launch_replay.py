"""Replaying launches into a real exchange (SQLite file): items at the launches' real instants,
sealed, signed and logged; the wait between launches compressed N times on a wall clock the test
controls; bad rows, bad settings and a record later than the launches refused with nothing
written; launch-events posted over TAXII checked against their definition."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from accord.errors import InvalidInput, OutOfOrder, UnknownReference
from accord.model.requests import ReadRequest
from accord.scenario import launch_stix, load_scenario
from accord.scenario.launch_file import read_launches
from accord.scenario.launch_rows import UnreadableRows
from accord.service import Exchange
from accord.service.replay import Published, Replayer, ReplaySettings
from accord.service.scenarios import apply_scenario
from tests.test_taxii_support import TAXII, client, issue, open_exchange, posting

SAMPLE = Path(__file__).resolve().parent / "data" / "nk-launches-sample.csv"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
WORLD = """
topics: [nk-missile, cyber]
parties:
  - {code: KOR, name: Republic of Korea, timezone: Asia/Seoul, levels: [군사III급비밀, 군사II급비밀, 군사I급비밀]}
  - {code: JPN, name: Japan, timezone: Asia/Tokyo, levels: [秘, 極秘, 機密]}
agreements:
  - id: rok-japan-gsomia
    parties: [KOR, JPN]
    in_force_from: 2016-11-23T00:00:00+09:00
    term: P1Y
    renewal: automatic
    notice_period: P90D
    timezone: Asia/Seoul
    topics: all
    equivalence:
      - {KOR: 군사II급비밀, JPN: 極秘}
      - {KOR: 군사III급비밀, JPN: 秘}
users:
  - {id: kor-analyst, party: KOR, clearance: 군사II급비밀, need_to_know: [nk-missile]}
  - {id: jpn-analyst, party: JPN, clearance: 極秘, need_to_know: [nk-missile]}
"""


def world(tmp_path: Path) -> tuple[str, Exchange]:
    url = f"sqlite:///{tmp_path / 'accord.db'}"
    exchange = open_exchange(url, lambda: NOW)
    exchange.init_keys()
    path = tmp_path / "world.yaml"
    path.write_text(WORLD, encoding="utf-8")
    apply_scenario(exchange, load_scenario(path), strict=True)
    return url, exchange


def settings(**changes: Any) -> ReplaySettings:
    fields: dict[str, Any] = {
        "originator": "KOR",
        "topics": frozenset({"nk-missile"}),
        "releasable_to": frozenset({"JPN"}),
        "skip_bad": True,
    }
    fields.update(changes)
    return ReplaySettings(**fields)


class WallClock:
    """A monotonic clock that moves only when the replay sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_each_launch_becomes_an_item_of_the_originator_at_its_real_instant(tmp_path: Path) -> None:
    _, exchange = world(tmp_path)
    launches = read_launches(SAMPLE)
    seen: list[Published] = []
    entries = exchange.audit_verify().entries
    report = Replayer(exchange).run(launches, settings(), seen.append)
    assert (report.selected, report.published, report.present, report.unreadable) == (12, 12, 0, 1)
    instants = [p.at for p in seen]
    assert instants == sorted(r.launch.detected for r in launches.rows)
    snapshot = exchange.snapshot()
    for event in seen:
        item = snapshot.items[event.item]
        assert item.originator == "KOR" and item.level == "군사III급비밀"  # the lowest by default
        assert item.created == event.at and item.topics == {"nk-missile"}
    # sealed and signed: the content opens for a KOR reader, its STIX object a valid launch-event
    hwasong15 = next(p for p in seen if p.title.startswith("Hwasong-15"))
    read = exchange.read(ReadRequest("kor-analyst", hwasong15.item), NOW)
    assert read.item is not None and read.item.stix is not None
    event = launch_stix.from_stix(read.item.stix)
    assert event.launch.detected == datetime(2017, 11, 28, 18, 17, tzinfo=UTC)
    assert event.launch.apogee is not None and event.launch.apogee.km == 4475.0
    assert "outcome success" in read.item.content
    assert read.item.stix["created_by_ref"].startswith("identity--")
    # logged: the record verifies (it raises otherwise), an entry per item and one for the read
    assert exchange.audit_verify().entries == entries + 12 + 1


def test_a_second_replay_finds_every_launch_already_there(tmp_path: Path) -> None:
    _, exchange = world(tmp_path)
    launches = read_launches(SAMPLE)
    Replayer(exchange).run(launches, settings())
    again: list[Published] = []
    report = Replayer(exchange).run(launches, settings(), again.append)
    assert (report.published, report.present) == (0, 12)
    assert not any(p.created for p in again)


def test_unreadable_rows_stop_the_replay_before_anything_is_written(tmp_path: Path) -> None:
    _, exchange = world(tmp_path)
    before = exchange.snapshot()
    with pytest.raises(UnreadableRows) as raised:
        Replayer(exchange).run(read_launches(SAMPLE), settings(skip_bad=False))
    assert "line 13, Date: '30-Feb-20' is not a calendar day" in raised.value.message
    assert "--skip-bad" in raised.value.message
    assert set(exchange.snapshot().items) == set(before.items)


def test_the_window_includes_its_start_and_excludes_its_end(tmp_path: Path) -> None:
    _, exchange = world(tmp_path)
    start = datetime(2017, 7, 4, 0, 40, tzinfo=UTC)  # Hwasong-14
    until = datetime(2019, 10, 31, 7, 35, tzinfo=UTC)  # the KN-25 of 31 October 2019
    seen: list[Published] = []
    Replayer(exchange).run(read_launches(SAMPLE), settings(start=start, until=until), seen.append)
    assert [p.at for p in seen] == [
        start,
        datetime(2017, 8, 28, 20, 57, tzinfo=UTC),
        datetime(2017, 11, 28, 18, 17, tzinfo=UTC),
        datetime(2019, 9, 10, 22, 3, tzinfo=UTC),
    ]
    seen.clear()
    one_before = start + timedelta(microseconds=1)
    Replayer(exchange).run(
        read_launches(SAMPLE), settings(start=one_before, until=until), seen.append
    )
    assert start not in [p.at for p in seen]


def test_waits_are_the_real_intervals_divided_by_the_speed(tmp_path: Path) -> None:
    _, exchange = world(tmp_path)
    clock = WallClock()
    speed = 86_400.0  # a day a second
    start = datetime(2019, 1, 1, tzinfo=UTC)
    seen: list[Published] = []
    Replayer(exchange, clock.sleep, clock.monotonic).run(
        read_launches(SAMPLE), settings(speed=speed, start=start), seen.append
    )
    gaps = [(b.at - a.at).total_seconds() / speed for a, b in itertools.pairwise(seen)]
    assert clock.sleeps == pytest.approx(gaps, abs=1e-9)
    assert clock.now - 1000.0 == pytest.approx((seen[-1].at - seen[0].at).total_seconds() / speed)


def test_speed_zero_never_waits(tmp_path: Path) -> None:
    _, exchange = world(tmp_path)
    clock = WallClock()
    Replayer(exchange, clock.sleep, clock.monotonic).run(read_launches(SAMPLE), settings())
    assert clock.sleeps == []


def test_time_spent_writing_is_taken_off_the_next_wait(tmp_path: Path) -> None:
    _, exchange = world(tmp_path)
    clock = WallClock()

    class Slow(Replayer):
        def _create(self, item: Any) -> None:
            super()._create(item)
            clock.now += 0.25  # each write takes a quarter of a second of wall time

    start = datetime(2019, 10, 31, tzinfo=UTC)
    Slow(exchange, clock.sleep, clock.monotonic).run(
        read_launches(SAMPLE), settings(speed=86_400.0 * 28, start=start)
    )
    # 31 Oct 07:35 -> 28 Nov 07:59 is 28 days and 24 minutes: one second of wall time, less 0.25
    gap = (datetime(2019, 11, 28, 7, 59) - datetime(2019, 10, 31, 7, 35)).total_seconds()
    assert clock.sleeps[0] == pytest.approx(gap / (86_400.0 * 28) - 0.25)


def test_a_launch_earlier_than_the_record_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    _, exchange = world(tmp_path)
    Replayer(exchange).run(read_launches(SAMPLE), settings(start=datetime(2021, 1, 1, tzinfo=UTC)))
    before = set(exchange.snapshot().items)
    with pytest.raises(OutOfOrder, match="give --start at or after"):
        Replayer(exchange).run(read_launches(SAMPLE), settings())
    assert set(exchange.snapshot().items) == before


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"originator": "PRK"}, UnknownReference, "PRK"),
        ({"level": "極秘"}, UnknownReference, "極秘"),
        ({"topics": frozenset({"weather"})}, InvalidInput, "weather"),
        ({"releasable_to": frozenset({"FRA"})}, UnknownReference, "FRA"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_written(
    tmp_path: Path, changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    _, exchange = world(tmp_path)
    with pytest.raises(error, match=message):
        Replayer(exchange).run(read_launches(SAMPLE), settings(**changes))
    assert not [i for i in exchange.snapshot().items if "launch-event" in i]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"speed": -1.0}, "--speed"),
        ({"speed": float("nan")}, "--speed"),
        ({"speed": float("inf")}, "--speed"),
        ({"topics": frozenset()}, "--topics"),
        ({"start": datetime(2019, 1, 1)}, "--start"),  # naive
    ],
)
def test_settings_that_mean_nothing_are_invalid(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        settings(**changes)


# --- the TAXII way in ---------------------------------------------------------------------


def _posted(event_changes: dict[str, Any] | None = None) -> dict[str, Any]:
    from accord.api.markings import EXTENSION_ID, classification_id, releasable_id
    from tests.test_launch_stix import hwasong15

    obj = launch_stix.to_stix(hwasong15())
    obj.update(event_changes or {})
    obj["object_marking_refs"] = [classification_id("KOR", "군사II급비밀"), releasable_id("JPN")]
    obj["extensions"][EXTENSION_ID] = {
        "extension_type": "property-extension",
        "topics": ["nk-missile"],
    }
    return obj


def _post(url: str, exchange: Exchange, obj: dict[str, Any]) -> Any:
    token = issue(exchange, "kor-analyst")
    with client(url, exchange) as http:
        root = http.get(
            "/taxii2/KOR/collections/",
            headers={"Authorization": f"Bearer {token}", "Accept": TAXII},
        )
        holdings = next(c for c in root.json()["collections"] if c["can_write"])
        return http.post(
            f"/taxii2/KOR/collections/{holdings['id']}/objects/",
            content=json.dumps({"objects": [obj]}),
            headers=posting(token),
        )


def test_a_valid_launch_event_posted_over_taxii_is_stored(tmp_path: Path) -> None:
    url, exchange = world(tmp_path)
    response = _post(url, exchange, _posted())
    assert response.status_code == 202, response.text
    assert response.json()["successes"][0]["message"] == "created"


def test_an_invalid_launch_event_posted_over_taxii_is_refused_naming_its_property(
    tmp_path: Path,
) -> None:
    url, exchange = world(tmp_path)
    before = set(exchange.snapshot().items)
    response = _post(url, exchange, _posted({"apogee_km": -5, "outcome": "partial"}))
    assert response.status_code == 422
    message = response.json()["details"]["status"]["failures"][0]["message"]
    assert "invalid-launch-event" in message
    assert "invalid-apogee_km" in message and "invalid-outcome" in message
    assert set(open_exchange(url, lambda: NOW).snapshot().items) == before
