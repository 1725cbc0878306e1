"""launch-event objects against software we did not write: ``stix2-validator`` with the
extension registered (its ``--schemas`` directory holding our schema under the extension's id),
the ``stix2`` library parsing them into a type declared here, and — end to end — ``accord
replay`` of the sample into a store, a hand release to JPN, and JPN's analyst reading the
launch-event with its markings through the unmodified ``taxii2-client``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import stix2
import stix2validator
from stix2.properties import (
    DictionaryProperty,
    EnumProperty,
    FloatProperty,
    IntegerProperty,
    ListProperty,
    StringProperty,
    TimestampProperty,
)
from taxii2client.v21 import Server

from accord.api import ApiSettings, create_app
from accord.api.markings import EXTENSION_ID as CLASSIFICATION_ID
from accord.api.markings import classification_id, releasable_id
from accord.model.launch import ImpactArea, InstantPrecision, LaunchOutcome, MissileType
from accord.scenario import launch_stix
from accord.scenario.launch_file import read_launches
from accord.scenario.launch_rows import LaunchRow
from accord.service import Exchange, MasterKey
from accord.service.replay import ReplaySettings, launch_item
from tests.test_cli import MASTER_KEY, accord, new_db
from tests.test_launch_replay import WORLD
from tests.test_taxii_support import issue, serving

SAMPLE = Path(__file__).resolve().parent / "data" / "nk-launches-sample.csv"
CNS = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "nk_missile_tests"
    / "cns_nk_missile_test_database_1984-2023-04.csv"
)
SETTINGS = ReplaySettings("KOR", frozenset({"nk-missile"}), "군사II급비밀", frozenset({"JPN"}))


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> stix2validator.ValidationOptions:
    """stix2-validator's options with our extension registered: a schema directory holding
    the extension's schema under its id, which the validator applies to every object that
    carries the extension."""
    schemas = tmp_path_factory.mktemp("schemas")
    (schemas / f"{launch_stix.EXTENSION_ID}.json").write_text(
        json.dumps(launch_stix.LAUNCH_EVENT_SCHEMA), encoding="utf-8"
    )
    return stix2validator.ValidationOptions(schema_dir=str(schemas), strict=True)


@pytest.fixture(scope="module")
def stix2_type() -> type:
    """The launch-event declared in the stix2 library's own terms (registered once)."""

    def values(vocabulary: Any) -> list[str]:
        return [member.value for member in vocabulary]

    @stix2.v21.CustomObject(  # type: ignore[untyped-decorator]
        "launch-event",
        [
            ("name", StringProperty(required=True)),
            ("detected", TimestampProperty(required=True)),
            ("detected_precision", EnumProperty(values(InstantPrecision), required=True)),
            ("launch_site", DictionaryProperty()),
            ("missile_name", StringProperty()),
            ("missile_type", EnumProperty(values(MissileType), required=True)),
            ("count", IntegerProperty(min=1, required=True)),
            ("apogee_km", FloatProperty(min=0)),
            ("apogee_km_max", FloatProperty(min=0)),
            ("distance_km", FloatProperty(min=0)),
            ("distance_km_max", FloatProperty(min=0)),
            ("impact_area", EnumProperty(values(ImpactArea), required=True)),
            ("impact_description", StringProperty()),
            ("outcome", EnumProperty(values(LaunchOutcome), required=True)),
            ("source", StringProperty(required=True)),
            ("source_references", ListProperty(StringProperty)),
            ("source_record", StringProperty()),
            ("description", StringProperty()),
        ],
        extension_name=launch_stix.EXTENSION_ID,
    )
    class StixLaunchEvent:
        pass

    return StixLaunchEvent


def _objects(path: Path) -> list[dict[str, Any]]:
    launches = read_launches(path)

    def stix(row: LaunchRow) -> dict[str, Any]:
        item = launch_item(launches.layout, row, SETTINGS, "군사II급비밀")
        assert item.stix is not None
        return item.stix

    return [stix(row) for row in launches.rows]


def _check(obj: dict[str, Any], options: stix2validator.ValidationOptions, kind: type) -> None:
    result = stix2validator.validate_instance(obj, options)
    assert result.is_valid, [str(e) for e in result.errors]
    parsed = stix2.parse(obj)  # no allow_custom: every property is declared
    assert isinstance(parsed, kind)
    assert parsed.count == obj["count"] and parsed.outcome == obj["outcome"]


def test_the_validator_accepts_the_extension_definition(
    registered: stix2validator.ValidationOptions,
) -> None:
    definition = launch_stix.extension_definition()
    result = stix2validator.validate_instance(definition, registered)
    assert result.is_valid, [str(e) for e in result.errors]
    assert isinstance(stix2.parse(definition), stix2.v21.ExtensionDefinition)


def test_every_launch_of_the_sample_passes_the_validator_and_stix2(
    registered: stix2validator.ValidationOptions, stix2_type: type
) -> None:
    objects = _objects(SAMPLE)
    assert len(objects) == 12
    for obj in objects:
        _check(obj, registered, stix2_type)


@pytest.mark.skipif(
    not CNS.is_file(), reason=f"public data not present at {CNS} (only in the team's workspace)"
)
def test_every_launch_of_the_cns_database_passes_the_validator_and_stix2(
    registered: stix2validator.ValidationOptions, stix2_type: type
) -> None:
    objects = _objects(CNS)
    assert len(objects) == 245
    for obj in objects:
        _check(obj, registered, stix2_type)


def test_the_registered_schema_is_what_the_validator_checks(
    registered: stix2validator.ValidationOptions,
) -> None:
    """A launch-event that breaks our schema passes the validator's own STIX checks, and fails
    once the extension is registered: the registration is doing the work."""
    bad = dict(_objects(SAMPLE)[0], count=0, impact_area="moon")
    assert stix2validator.validate_instance(bad).is_valid
    result = stix2validator.validate_instance(bad, registered)
    assert not result.is_valid
    assert any("count" in str(e) for e in result.errors)


# --- end to end: accord replay, a hand release, JPN reads it over TAXII ---------------------


@pytest.fixture
def replayed(tmp_path: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    db = new_db(tmp_path / "exchange.db")
    world = tmp_path / "world.yaml"
    world.write_text(WORLD, encoding="utf-8")
    assert accord("load", str(world), db=db).returncode == 0
    result = accord(
        "replay",
        str(SAMPLE),
        "--no-wait",
        "--level",
        "군사II급비밀",
        "--releasable-to",
        "JPN",
        "--start",
        "2017-01-01T00:00:00+09:00",
        "--skip-bad",
        "--json",
        db=db,
    )
    assert result.returncode == 0, result.stderr
    assert "skipped:" in result.stderr and "line 13, Date" in result.stderr
    yield db, json.loads(result.stdout)


def test_replay_then_release_then_jpn_reads_the_launch_event_with_its_markings(
    replayed: tuple[Path, dict[str, Any]],
    registered: stix2validator.ValidationOptions,
    stix2_type: type,
) -> None:
    db, report = replayed
    assert report["published"] == 7 and report["layout"] == "cns"
    assert [u["line"] for u in report["unreadable_rows"]] == [13]
    hwasong15 = next(i for i in report["items"] if i["at"] == "2017-11-28T18:17:00Z")
    released = accord(
        "release",
        hwasong15["item"],
        "--from",
        "KOR",
        "--to",
        "JPN",
        "--at",
        "2021-06-01T09:00:00+09:00",
        db=db,
    )
    assert released.returncode == 0, released.stdout + released.stderr
    url = f"sqlite:///{db}"
    key = MasterKey.from_text(MASTER_KEY, "test")
    exchange = Exchange.open(url, lambda: datetime(2021, 6, 2, tzinfo=UTC), lambda: key)
    token = issue(exchange, "jpn-analyst")
    at = datetime(2021, 6, 2, tzinfo=UTC)
    with serving(create_app(ApiSettings(url, at), exchange)) as base:
        server = Server(f"{base}/taxii2/", user="jpn-analyst", password=token)
        holdings = next(c for c in server.default.collections if c.title == "JPN holdings")
        objects = holdings.get_objects(type="launch-event")["objects"]
    assert [o["id"] for o in objects] == [hwasong15["stix_id"]]  # only what was released
    served = objects[0]
    assert served["type"] == "launch-event" and served["apogee_km"] == 4475.0
    assert set(served["object_marking_refs"]) == {
        classification_id("KOR", "군사II급비밀"),
        classification_id("JPN", "極秘"),
        releasable_id("JPN"),
    }
    ours = served["extensions"][CLASSIFICATION_ID]
    assert (ours["holder"], ours["holder_level"], ours["originator_level"]) == (
        "JPN",
        "極秘",
        "군사II급비밀",
    )
    assert served["extensions"][launch_stix.EXTENSION_ID] == {"extension_type": "new-sdo"}
    assert launch_stix.problems(served) == []
    result = stix2validator.validate_instance(served, registered)
    assert result.is_valid, [str(e) for e in result.errors]
    assert isinstance(stix2.parse(served, allow_custom=True), stix2_type)  # + the marking extension


def test_replay_with_unreadable_rows_exits_2_naming_them_and_writes_nothing(
    tmp_path: Path,
) -> None:
    db = new_db(tmp_path / "exchange.db")
    world = tmp_path / "world.yaml"
    world.write_text(WORLD, encoding="utf-8")
    assert accord("load", str(world), db=db).returncode == 0
    result = accord("replay", str(SAMPLE), db=db)
    assert result.returncode == 2
    assert "line 13, Date: '30-Feb-20' is not a calendar day" in result.stderr
    assert "nothing was published" in result.stderr
    listing = accord("readable", "kor-analyst", "--json", db=db)
    assert "launch-event" not in listing.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speed", "2", "--no-wait"], "not both"),
        (["--speed", "-1"], "--speed"),
        (["--start", "2019-01-01T00:00:00"], "--start"),
        (["--originator", "PRK"], "PRK"),
    ],
)
def test_replay_bad_arguments_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    db = new_db(tmp_path / "exchange.db")
    world = tmp_path / "world.yaml"
    world.write_text(WORLD, encoding="utf-8")
    assert accord("load", str(world), db=db).returncode == 0
    result = accord("replay", str(SAMPLE), "--skip-bad", *args, db=db)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_replay_of_a_file_that_is_not_a_launch_database_exits_2(tmp_path: Path) -> None:
    db = new_db(tmp_path / "exchange.db")
    path = tmp_path / "notes.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    result = accord("replay", str(path), db=db)
    assert result.returncode == 2 and "not a launch database header" in result.stderr
