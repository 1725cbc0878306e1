"""The launch-event codec: STIX JSON in and out of the typed model, unknown properties kept,
every bad property named; the hand-written checks against the published JSON schema (checked
with ``jsonschema``, which accord does not use on this path)."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.api.markings import ACCORD_IDENTITY, party_identity
from accord.model.launch import (
    ImpactArea,
    InstantPrecision,
    InvalidLaunchEvent,
    Launch,
    LaunchEvent,
    LaunchOutcome,
    LaunchSite,
    Measure,
    MissileType,
)
from accord.scenario import launch_stix
from accord.service import replay
from accord.service.taxii import derived_id

DOC = Path(__file__).resolve().parents[1] / "docs" / "stix-launch-event-extension.json"
SCHEMA = jsonschema.Draft202012Validator(launch_stix.LAUNCH_EVENT_SCHEMA)
T0 = datetime(2017, 11, 28, 18, 17, tzinfo=UTC)


def hwasong15(**changes: Any) -> LaunchEvent:
    launch = Launch(
        T0,
        InstantPrecision.SECOND,
        LaunchOutcome.SUCCESS,
        "Japan Ministry of Defense",
        LaunchSite("Pyongsong", 39.282, 125.869),
        "Hwasong-15",
        MissileType.ICBM,
        1,
        Measure(4475.0),
        Measure(950.0),
        ImpactArea.SEA_OF_JAPAN,
        confidence=90,
        record="118",
    )
    fields: dict[str, Any] = {
        "id": "launch-event--0b6a6f5e-3f57-4f1e-9a55-7d0d9c7d3c11",
        "created": T0,
        "modified": T0,
        "name": "Hwasong-15 launch",
        "launch": launch,
        "extra": {},
    }
    fields.update(changes)
    return LaunchEvent(**fields)


def test_the_published_schema_is_the_one_in_docs_and_in_the_extension_definition() -> None:
    assert json.loads(DOC.read_text(encoding="utf-8")) == launch_stix.LAUNCH_EVENT_SCHEMA
    definition = launch_stix.extension_definition()
    assert json.loads(definition["schema"]) == launch_stix.LAUNCH_EVENT_SCHEMA
    assert definition["extension_types"] == ["new-sdo"]
    jsonschema.Draft202012Validator.check_schema(launch_stix.LAUNCH_EVENT_SCHEMA)


def test_ids_are_deterministic_and_agree_with_the_rest_of_accord() -> None:
    assert derived_id("extension-definition", "launch-event/v1") == launch_stix.EXTENSION_ID
    assert launch_stix.ACCORD_IDENTITY == ACCORD_IDENTITY
    assert replay.party_identity("KOR") == party_identity("KOR")


def test_an_event_goes_out_as_a_new_sdo_and_comes_back_equal() -> None:
    event = hwasong15()
    obj = launch_stix.to_stix(event)
    assert obj["type"] == "launch-event" and obj["spec_version"] == "2.1"
    assert obj["extensions"] == {launch_stix.EXTENSION_ID: {"extension_type": "new-sdo"}}
    assert obj["detected"] == "2017-11-28T18:17:00.000000Z"
    assert obj["launch_site"] == {"name": "Pyongsong", "latitude": 39.282, "longitude": 125.869}
    assert obj["apogee_km"] == 4475.0 and "apogee_km_max" not in obj
    assert obj["source_record"] == "118" and obj["confidence"] == 90
    assert SCHEMA.is_valid(obj) and launch_stix.problems(obj) == []
    assert launch_stix.from_stix(json.loads(json.dumps(obj))) == event


def test_unknown_properties_and_other_extensions_survive_a_round_trip() -> None:
    obj = launch_stix.to_stix(hwasong15())
    other = "extension-definition--2f5b3e71-0c38-4d44-9d5a-64a9f0d7c2e1"
    obj["x_example_detector"] = {"radar": "AN/TPY-2", "tracks": [1, 2]}
    obj["object_marking_refs"] = ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
    obj["extensions"][other] = {"extension_type": "property-extension", "rank": 5}
    event = launch_stix.from_stix(copy.deepcopy(obj))
    assert event.extra["x_example_detector"] == {"radar": "AN/TPY-2", "tracks": [1, 2]}
    assert event.extra["extensions"] == {other: {"extension_type": "property-extension", "rank": 5}}
    assert launch_stix.to_stix(event) == obj


def test_an_approximate_instant_is_stated_by_its_precision() -> None:
    launch = Launch(
        datetime(1984, 9, 1, tzinfo=UTC), InstantPrecision.MONTH, LaunchOutcome.UNKNOWN, "CNS"
    )
    event = hwasong15(created=launch.detected, modified=launch.detected, launch=launch)
    obj = launch_stix.to_stix(event)
    assert obj["detected_precision"] == "month" and obj["detected"].startswith(
        "1984-09-01T00:00:00"
    )
    assert "launch_site" not in obj and "apogee_km" not in obj and obj["missile_type"] == "unknown"
    assert launch_stix.from_stix(obj) == event


@pytest.mark.parametrize(
    ("precision", "instant"),
    [
        (InstantPrecision.DAY, datetime(1984, 4, 9, 0, 0, 0, 1, tzinfo=UTC)),  # 1 µs past midnight
        (InstantPrecision.MONTH, datetime(1984, 9, 2, tzinfo=UTC)),
        (InstantPrecision.MINUTE, datetime(2017, 11, 28, 18, 17, 1, tzinfo=UTC)),
    ],
)
def test_an_instant_finer_than_its_precision_is_refused(
    precision: InstantPrecision, instant: datetime
) -> None:
    with pytest.raises(InvalidLaunchEvent) as raised:
        Launch(instant, precision, LaunchOutcome.UNKNOWN, "CNS")
    assert raised.value.field == "detected"


def _set(path: str, value: object) -> Any:
    def mutate(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = obj
        for key in parents:
            target = target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value

    return mutate


_DELETE = object()
EXT = launch_stix.EXTENSION_ID

# (mutation, the property named, whether the JSON schema can say so too)
MUTATIONS = [
    (_set("type", "x-launch"), "type", True),
    (_set("spec_version", "2.0"), "spec_version", True),
    (_set("id", "indicator--0b6a6f5e-3f57-4f1e-9a55-7d0d9c7d3c11"), "id", True),
    (_set("id", "launch-event--not-a-uuid"), "id", True),
    (_set("created", "2017-11-28"), "created", True),
    (_set("modified", "2017-11-28T18:16:59.999999Z"), "modified", False),  # before created
    (_set("name", ""), "name", True),
    (_set("name", _DELETE), "name", True),
    (_set("detected", "2017-11-28 18:17"), "detected", True),
    (_set("detected", _DELETE), "detected", True),
    (_set("detected_precision", "hour"), "detected_precision", True),
    (_set("detected_precision", "day"), "detected", False),  # 18:17 is not 00:00
    (_set("launch_site.latitude", 90.000001), "launch_site.latitude", True),
    (_set("launch_site.longitude", -180.5), "launch_site.longitude", True),
    (_set("launch_site.latitude", "39.2"), "launch_site.latitude", True),
    (_set("launch_site.height", 3), "launch_site.height", True),
    (_set("launch_site.name", ""), "launch_site.name", True),
    (_set("launch_site", "Pyongsong"), "launch_site", True),
    (_set("missile_name", 15), "missile_name", True),
    (_set("missile_type", "scud"), "missile_type", True),
    (_set("missile_type", _DELETE), "missile_type", True),
    (_set("count", 0), "count", True),
    (_set("count", 1.5), "count", True),
    (_set("count", True), "count", True),
    (_set("count", _DELETE), "count", True),
    (_set("apogee_km", -0.001), "apogee_km", True),
    (_set("apogee_km", "4475 km"), "apogee_km", True),
    (_set("apogee_km_max", 4474.0), "apogee_km_max", False),  # below the lower end
    (_set("distance_km", _DELETE), "distance_km_max", True),
    (_set("impact_area", "sea"), "impact_area", True),
    (_set("outcome", "partial"), "outcome", True),
    (_set("outcome", _DELETE), "outcome", True),
    (_set("source", _DELETE), "source", True),
    (_set("source", "   "), "source", False),  # blank
    (_set("source_references", ["ok", ""]), "source_references", True),
    (_set("confidence", 101), "confidence", True),
    (_set("confidence", -1), "confidence", True),
    (_set("extensions", _DELETE), "extensions", True),
    (_set(f"extensions.{EXT}.extension_type", "property-extension"), "extensions", True),
    (_set(f"extensions.{EXT}.rank", 1), "extensions", True),
]


@pytest.mark.parametrize(("mutate", "field", "schema_too"), MUTATIONS)
def test_every_bad_property_is_named_on_every_way_in(
    mutate: Any, field: str, schema_too: bool
) -> None:
    obj = launch_stix.to_stix(hwasong15())
    obj["distance_km_max"] = 960.0
    assert launch_stix.problems(obj) == [] and SCHEMA.is_valid(obj)
    mutate(obj)
    assert field in [name for name, _ in launch_stix.problems(obj)]
    with pytest.raises(InvalidLaunchEvent) as raised:
        launch_stix.from_stix(obj)
    assert field in raised.value.message
    codes = launch_stix.reason_codes("launch-event", obj)
    assert codes[0] == "invalid-launch-event" and f"invalid-{field}" in codes
    if schema_too:
        assert not SCHEMA.is_valid(obj)


def test_other_types_are_not_checked_as_launch_events() -> None:
    assert launch_stix.reason_codes("indicator", {"type": "indicator"}) == []
    assert launch_stix.problems([]) == [("(object)", "must be a JSON object")]


# --- property: any launch-event the model can hold round-trips and satisfies the schema -----

texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20).filter(
    lambda t: bool(t.strip())
)
kms = st.floats(0, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def measures(draw: st.DrawFn) -> Measure | None:
    if draw(st.booleans()):
        return None
    low = draw(kms)
    high = draw(st.none() | st.floats(low, 2e6, allow_nan=False))
    return Measure(low, high)


@st.composite
def instants(draw: st.DrawFn) -> tuple[datetime, InstantPrecision]:
    precision = draw(st.sampled_from(InstantPrecision))
    moment = draw(st.datetimes(datetime(1970, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)))
    if precision is InstantPrecision.SECOND:
        moment = moment.replace(microsecond=0)
    elif precision is InstantPrecision.MINUTE:
        moment = moment.replace(second=0, microsecond=0)
    else:
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if precision is InstantPrecision.MONTH:
            moment = moment.replace(day=1)
    return moment, precision


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def events(draw: st.DrawFn) -> LaunchEvent:
    detected, precision = draw(instants())
    launch = Launch(
        detected,
        precision,
        draw(st.sampled_from(LaunchOutcome)),
        draw(texts),
        LaunchSite(
            draw(st.none() | texts),
            draw(st.none() | st.floats(-90, 90)),
            draw(st.none() | st.floats(-180, 180)),
        ),
        draw(st.none() | texts),
        draw(st.sampled_from(MissileType)),
        draw(st.integers(1, 1000)),
        draw(measures()),
        draw(measures()),
        draw(st.sampled_from(ImpactArea)),
        draw(st.none() | texts),
        draw(st.none() | st.integers(0, 100)),
        draw(st.none() | texts),
        tuple(draw(st.lists(texts, max_size=3))),
        draw(st.none() | texts),
    )
    created = draw(st.datetimes(datetime(1970, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)))
    extra = draw(
        st.dictionaries(st.from_regex(r"x_[a-z]{1,10}", fullmatch=True), json_values, max_size=3)
    )
    return LaunchEvent(
        f"launch-event--{draw(st.uuids(version=4))}",
        created,
        created + draw(st.timedeltas(timedelta(0), timedelta(days=3650))),
        draw(texts),
        launch,
        extra,
    )


@given(events())
def test_every_event_round_trips_through_json_and_satisfies_the_schema(event: LaunchEvent) -> None:
    obj = launch_stix.to_stix(event)
    wire = json.loads(json.dumps(obj, ensure_ascii=False))
    assert SCHEMA.is_valid(wire), list(SCHEMA.iter_errors(wire))[:1]
    assert launch_stix.problems(wire) == []
    back = launch_stix.from_stix(wire)
    assert back == event
    assert launch_stix.to_stix(back) == wire
    assert uuid.UUID(obj["id"].split("--")[1]).version == 4
