"""The STIX 2.1 ``launch-event`` object: a new SDO defined by an extension-definition, its JSON
schema, and its codec (STIX JSON in and out of ``accord.model.launch``).

Every way in calls ``problems`` (the TAXII POST path for each posted ``launch-event``, and the
replay for each object it makes), so no launch-event is stored that this module would refuse.
The checks are written by hand, without ``jsonschema``, because they sit on the ingest path; the
tests check them against ``LAUNCH_EVENT_SCHEMA`` (also in ``docs/stix-launch-event-extension.json``).

Properties the codec does not know (``object_marking_refs``, ``created_by_ref``, ``x_…``, other
extensions) are kept as they came, in ``LaunchEvent.extra``, and written back unchanged.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

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
from accord.model.time import parse_stix_time, stix_time

TYPE = "launch-event"
# Deterministic ids, the same in every process: uuid5 digests in accord's STIX namespace
# (``accord.service.taxii.derived_id`` of "launch-event/v1" and of "accord"; a test checks it).
EXTENSION_ID = "extension-definition--7e587b76-edef-4418-981d-3e889b38eb6b"
ACCORD_IDENTITY = "identity--a38117c9-75ec-481c-ac7b-558ca71776df"
CREATED = "2026-12-01T00:00:00.000Z"  # fixed: the definition never changes
EXTENSION = {"extension_type": "new-sdo"}

_ID = re.compile(
    r"^launch-event--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
_STAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$"

KNOWN = frozenset(
    {
        "type",
        "spec_version",
        "id",
        "created",
        "modified",
        "name",
        "detected",
        "detected_precision",
        "launch_site",
        "missile_name",
        "missile_type",
        "count",
        "apogee_km",
        "apogee_km_max",
        "distance_km",
        "distance_km_max",
        "impact_area",
        "impact_description",
        "outcome",
        "source",
        "source_references",
        "source_record",
        "confidence",
        "description",
    }
)


def _values(vocabulary: type[StrEnum]) -> list[str]:
    return [member.value for member in vocabulary]


_TEXT = {"type": "string", "minLength": 1}
_KM = {"type": "number", "minimum": 0}

LAUNCH_EVENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://accord.invalid/stix/launch-event/v1",
    "title": "accord launch-event (STIX 2.1 new-sdo)",
    "description": (
        "A missile launch as a warning reports it: the detection instant and its precision "
        "(day and month mark an approximate instant at 00:00 UTC of the day or of the first of "
        "the month), the launch site, the missile, the count, apogee and distance in kilometres "
        "(a value, or a range up to *_km_max), where it came down, the outcome, and who "
        "reports it with what STIX confidence. An unknown value is left out; an unknown "
        "vocabulary value is 'unknown'. Other STIX common properties may be present."
    ),
    "type": "object",
    "required": [
        "type",
        "spec_version",
        "id",
        "created",
        "modified",
        "name",
        "detected",
        "detected_precision",
        "missile_type",
        "count",
        "impact_area",
        "outcome",
        "source",
        "extensions",
    ],
    "properties": {
        "type": {"const": TYPE},
        "spec_version": {"const": "2.1"},
        "id": {"type": "string", "pattern": _ID.pattern},
        "created": {"type": "string", "pattern": _STAMP_PATTERN},
        "modified": {"type": "string", "pattern": _STAMP_PATTERN},
        "name": _TEXT,
        "detected": {
            "type": "string",
            "pattern": _STAMP_PATTERN,
            "description": "the instant the launch was detected (UTC)",
        },
        "detected_precision": {"enum": _values(InstantPrecision)},
        "launch_site": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": _TEXT,
                "latitude": {"type": "number", "minimum": -90, "maximum": 90},
                "longitude": {"type": "number", "minimum": -180, "maximum": 180},
            },
        },
        "missile_name": _TEXT,
        "missile_type": {"enum": _values(MissileType)},
        "count": {"type": "integer", "minimum": 1},
        "apogee_km": _KM,
        "apogee_km_max": {**_KM, "description": "the upper end when the apogee is a range"},
        "distance_km": _KM,
        "distance_km_max": {**_KM, "description": "the upper end when the distance is a range"},
        "impact_area": {"enum": _values(ImpactArea)},
        "impact_description": _TEXT,
        "outcome": {"enum": _values(LaunchOutcome)},
        "source": {**_TEXT, "description": "who reports the launch"},
        "source_references": {"type": "array", "items": _TEXT},
        "source_record": {**_TEXT, "description": "the source's own id for this record"},
        "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
        "description": _TEXT,
        "extensions": {
            "type": "object",
            "required": [EXTENSION_ID],
            "properties": {
                EXTENSION_ID: {
                    "type": "object",
                    "required": ["extension_type"],
                    "additionalProperties": False,
                    "properties": {"extension_type": {"const": "new-sdo"}},
                }
            },
        },
    },
    "dependentRequired": {"apogee_km_max": ["apogee_km"], "distance_km_max": ["distance_km"]},
}


def extension_definition() -> dict[str, Any]:
    """The extension-definition object that defines ``launch-event``; its ``schema`` is the
    JSON schema above."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": EXTENSION_ID,
        "created_by_ref": ACCORD_IDENTITY,
        "created": CREATED,
        "modified": CREATED,
        "name": "accord launch-event",
        "description": "A missile launch as a warning reports it (a new STIX domain object).",
        "schema": json.dumps(LAUNCH_EVENT_SCHEMA, ensure_ascii=False, sort_keys=True),
        "version": "1.0.0",
        "extension_types": ["new-sdo"],
    }


# --- timestamps -----------------------------------------------------------------------------


# --- output ---------------------------------------------------------------------------------


def _measure(obj: dict[str, Any], name: str, measure: Measure | None) -> None:
    if measure is not None:
        obj[f"{name}_km"] = measure.km
        if measure.max_km is not None:
            obj[f"{name}_km_max"] = measure.max_km


def _site(site: LaunchSite) -> dict[str, Any]:
    parts = {"name": site.name, "latitude": site.latitude, "longitude": site.longitude}
    return {key: value for key, value in parts.items() if value is not None}


def to_stix(event: LaunchEvent) -> dict[str, Any]:
    """The STIX JSON object of a launch-event: its own properties, then ``extra`` unchanged."""
    launch = event.launch
    obj: dict[str, Any] = {
        "type": TYPE,
        "spec_version": "2.1",
        "id": event.id,
        "created": stix_time(event.created),
        "modified": stix_time(event.modified),
        "name": event.name,
        "detected": stix_time(launch.detected),
        "detected_precision": launch.precision.value,
    }
    site = _site(launch.site)
    if site:
        obj["launch_site"] = site
    optional = {
        "missile_name": launch.missile_name,
        "impact_description": launch.impact_description,
        "source_record": launch.record,
        "confidence": launch.confidence,
        "description": launch.description,
    }
    obj["missile_type"] = launch.missile_type.value
    obj["count"] = launch.count
    _measure(obj, "apogee", launch.apogee)
    _measure(obj, "distance", launch.distance)
    obj["impact_area"] = launch.impact_area.value
    obj["outcome"] = launch.outcome.value
    obj["source"] = launch.source
    if launch.references:
        obj["source_references"] = list(launch.references)
    obj.update({key: value for key, value in optional.items() if value is not None})
    extra = dict(event.extra)
    extensions = dict(extra.pop("extensions", None) or {})
    extensions[EXTENSION_ID] = dict(EXTENSION)
    obj.update(extra)
    obj["extensions"] = extensions
    return obj


# --- input ----------------------------------------------------------------------------------

E = TypeVar("E", bound=StrEnum)


class _Reader:
    """Reads one object's properties, collecting every problem as (property, message)."""

    def __init__(self, obj: Mapping[str, Any]) -> None:
        self.obj = obj
        self.found: list[tuple[str, str]] = []

    def bad(self, name: str, message: str) -> None:
        self.found.append((name, message))

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        within: Mapping[str, Any] | None = None,
        label: str = "",
    ) -> str | None:
        value = (self.obj if within is None else within).get(name)
        if value is None:
            if required:
                self.bad(label or name, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.bad(label or name, f"{_shown(value)} must be a non-blank string")
            return None
        return value

    def number(
        self, name: str, within: Mapping[str, Any] | None = None, label: str = ""
    ) -> float | None:
        value = (self.obj if within is None else within).get(name)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            self.bad(label or name, f"{_shown(value)} must be a number")
            return None
        return float(value)

    def integer(self, name: str) -> int | None:
        value = self.obj.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(name, f"{_shown(value)} must be a whole number")
            return None
        return value

    def vocabulary(self, name: str, vocabulary: type[E]) -> E | None:
        value = self.obj.get(name)
        known = {member.value: member for member in vocabulary}
        if isinstance(value, str) and value in known:
            return known[value]
        self.bad(name, f"{_shown(value)} must be one of: {', '.join(known)}")
        return None

    def instant(self, name: str) -> datetime | None:
        value = self.obj.get(name)
        stamp = parse_stix_time(value)
        if stamp is None:
            self.bad(name, f"{_shown(value)} must be a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s]Z)")
        return stamp

    def attempt(self, build: Callable[[], Any]) -> Any:
        try:
            return build()
        except InvalidLaunchEvent as error:
            self.bad(error.field, error.detail)
            return None


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _read_site(r: _Reader) -> LaunchSite | None:
    raw = r.obj.get("launch_site")
    if raw is None:
        return LaunchSite()
    if not isinstance(raw, dict):
        r.bad("launch_site", f"{_shown(raw)} must be an object")
        return None
    for key in sorted(set(raw) - {"name", "latitude", "longitude"}):
        r.bad(f"launch_site.{key}", "is not a property of a launch site")
    name = r.text("name", within=raw, label="launch_site.name")
    latitude = r.number("latitude", raw, "launch_site.latitude")
    longitude = r.number("longitude", raw, "launch_site.longitude")
    site: LaunchSite | None = r.attempt(lambda: LaunchSite(name, latitude, longitude))
    return site


def _read_measure(r: _Reader, name: str) -> Measure | None:
    low, high = r.number(f"{name}_km"), r.number(f"{name}_km_max")
    if low is None:
        if high is not None:
            r.bad(f"{name}_km_max", f"needs {name}_km (the lower end of the range)")
        return None
    measure = Measure(low, high)
    r.attempt(lambda: measure.check(name))
    return measure


def _read_references(r: _Reader) -> tuple[str, ...]:
    raw = r.obj.get("source_references")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        r.bad("source_references", "must be a list of non-blank strings")
        return ()
    return tuple(raw)


def _read_identity(r: _Reader) -> tuple[str | None, datetime | None, datetime | None]:
    if r.obj.get("type") != TYPE:
        r.bad("type", f"{_shown(r.obj.get('type'))} must be {TYPE!r}")
    if r.obj.get("spec_version") != "2.1":
        r.bad("spec_version", f"{_shown(r.obj.get('spec_version'))} must be '2.1'")
    stix_id = r.obj.get("id")
    if not isinstance(stix_id, str) or not _ID.match(stix_id):
        r.bad("id", f"{_shown(stix_id)} must be launch-event--<UUIDv4>")
        stix_id = None
    return stix_id, r.instant("created"), r.instant("modified")


def _read_extensions(r: _Reader) -> dict[str, Any] | None:
    """The object's other extensions (ours must be present, exactly ``new-sdo``)."""
    raw = r.obj.get("extensions")
    if not isinstance(raw, dict) or raw.get(EXTENSION_ID) != EXTENSION:
        r.bad("extensions", f"must hold {EXTENSION_ID} as {{'extension_type': 'new-sdo'}}")
        return None
    return {key: value for key, value in raw.items() if key != EXTENSION_ID}


def _read_launch(r: _Reader) -> Launch | None:
    detected = r.instant("detected")
    precision = r.vocabulary("detected_precision", InstantPrecision)
    missile_type = r.vocabulary("missile_type", MissileType)
    impact = r.vocabulary("impact_area", ImpactArea)
    outcome = r.vocabulary("outcome", LaunchOutcome)
    source = r.text("source", required=True)
    count = r.integer("count")
    if "count" not in r.obj:
        r.bad("count", "is required")
    site = _read_site(r)
    missile_name = r.text("missile_name")
    apogee, distance = _read_measure(r, "apogee"), _read_measure(r, "distance")
    impact_description = r.text("impact_description")
    confidence = r.integer("confidence")
    description = r.text("description")
    references = _read_references(r)
    record = r.text("source_record")
    if r.found:
        return None
    assert detected and precision and missile_type and impact and outcome and source and site
    assert count is not None
    launch: Launch | None = r.attempt(
        lambda: Launch(
            detected,
            precision,
            outcome,
            source,
            site,
            missile_name,
            missile_type,
            count,
            apogee,
            distance,
            impact,
            impact_description,
            confidence,
            description,
            references,
            record,
        )
    )
    return launch


def _read(obj: Mapping[str, Any]) -> tuple[LaunchEvent | None, list[tuple[str, str]]]:
    r = _Reader(obj)
    stix_id, created, modified = _read_identity(r)
    name = r.text("name", required=True)
    others = _read_extensions(r)
    launch = _read_launch(r)
    if r.found or launch is None:
        return None, r.found
    assert stix_id and created and modified and name
    extra = {key: value for key, value in obj.items() if key not in KNOWN and key != "extensions"}
    if others:
        extra["extensions"] = others
    event: LaunchEvent | None = r.attempt(
        lambda: LaunchEvent(stix_id, created, modified, name, launch, extra)
    )
    return event, r.found


def problems(obj: object) -> list[tuple[str, str]]:
    """Every problem of a posted ``launch-event`` object, as (property, message); empty when
    it is valid. The one validation every way in calls."""
    if not isinstance(obj, dict):
        return [("(object)", "must be a JSON object")]
    return _read(obj)[1]


def from_stix(obj: object) -> LaunchEvent:
    """A launch-event from its STIX JSON; ``InvalidLaunchEvent`` names every bad property."""
    if not isinstance(obj, dict):
        raise InvalidLaunchEvent("(object)", "must be a JSON object")
    event, found = _read(obj)
    if event is None:
        (first, message), rest = found[0], found[1:]
        raise InvalidLaunchEvent(first, message + "".join(f"; {f}: {m}" for f, m in rest))
    return event


def reason_codes(stix_type: str, obj: Mapping[str, Any]) -> list[str]:
    """Reason codes for a posted object: none unless it is a launch-event that breaks its
    definition, then ``invalid-launch-event`` and ``invalid-<property>`` for each bad one."""
    if stix_type != TYPE:
        return []
    found = problems(obj)
    if not found:
        return []
    return ["invalid-launch-event", *dict.fromkeys(f"invalid-{name}" for name, _ in found)]
