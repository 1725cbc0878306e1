"""The CNS North Korea Missile Test Database as its CSV export lays it out (James Martin Center
for Nonproliferation Studies / NTI): one row per missile, Windows-1252, CRLF records with line
breaks inside quoted fields, dates as ``9-Apr-84``, ``Sep-84`` or ``3/23/2023``, UTC times as
``9:20:00 AM``, distances as ``"1,380 km"``, and ``Unknown``.

The ``Date`` column is the UTC date of the launch (a timed row's date is the date of its UTC
time: the Hwasong-15 of 29 November 2017, 03:17 KST, is ``28-Nov-17``, ``6:18:00 PM``).
"""

from __future__ import annotations

from collections.abc import Iterator

from accord.model.launch import Launch, LaunchOutcome, LaunchSite, MissileType
from accord.scenario.launch_fields import (
    FieldUnreadable,
    detection_instant,
    read_coordinate,
    read_impact_area,
    read_km,
    read_text,
)
from accord.scenario.launch_rows import LaunchFile, Record, RowProblem, RowReader, collect, records

SOURCE = (
    "CNS North Korea Missile Test Database (James Martin Center for Nonproliferation Studies / NTI)"
)
LAYOUT = "cns"
ENCODING = "cp1252"  # Windows-1252
REQUIRED = (
    "Date",
    "Launch Time (UTC)",
    "Missile Name",
    "Missile Type",
    "Facility Name",
    "Facility Latitude",
    "Facility Longitude",
    "Landing Location",
    "Apogee",
    "Distance Travelled",
    "Confirmation Status",
    "Test Outcome",
)
# STIX confidence for the database's confirmation status: the STIX 2.1 mapping of the Admiralty
# credibility scale ("1 - confirmed by other sources" is 90, "3 - possibly true" is 50)
CONFIDENCE = {"confirmed": 90, "unconfirmed": 50}
# the launch property each column feeds, to name the column when a value breaks the definition
COLUMNS = {
    "detected": "Date",
    "launch_site": "Facility Name",
    "missile_name": "Missile Name",
    "apogee_km": "Apogee",
    "apogee_km_max": "Apogee",
    "distance_km": "Distance Travelled",
    "distance_km_max": "Distance Travelled",
    "source": "Source(s)",
}


def is_cns(header: list[str]) -> bool:
    return "Test Outcome" in header and "Launch Time (UTC)" in header


def read_missile_type(text: str) -> MissileType:
    value = text.strip().lower()
    if value in ("", "unknown"):
        return MissileType.UNKNOWN
    if value in ("cruise", "cruise missile"):
        return MissileType.CRUISE
    try:
        return MissileType(value)
    except ValueError:
        known = ", ".join(t.value.upper() for t in MissileType if t is not MissileType.UNKNOWN)
        raise FieldUnreadable(f"{text!r} is not a missile type ({known}, Unknown)") from None


def read_outcome(text: str) -> LaunchOutcome:
    value = text.strip().lower() or "unknown"
    try:
        return LaunchOutcome(value)
    except ValueError:
        raise FieldUnreadable(f"{text!r} is not an outcome (Success, Failure, Unknown)") from None


def read_confidence(text: str) -> int | None:
    value = text.strip().lower()
    if not value:
        return None
    if value not in CONFIDENCE:
        raise FieldUnreadable(f"{text!r} is not a confirmation status (Confirmed, Unconfirmed)")
    return CONFIDENCE[value]


def read_references(text: str) -> tuple[str, ...]:
    """The ``Source(s)`` column: citations separated by ``;`` or line breaks."""
    parts = text.replace("\r", "\n").replace(";", "\n").split("\n")
    return tuple(p.strip() for p in parts if p.strip())


def _launch(record: Record, seen: dict[str, int]) -> tuple[Launch | None, list[RowProblem]]:
    r = RowReader(record)
    instant = r.read("Date", lambda d: detection_instant(d, record.get("Launch Time (UTC)")))
    missile_type = r.read("Missile Type", read_missile_type)
    outcome = r.read("Test Outcome", read_outcome)
    confidence = r.read("Confirmation Status", read_confidence)
    site = LaunchSite(
        r.read("Facility Name", read_text),
        r.read("Facility Latitude", lambda t: read_coordinate(t, 90)),
        r.read("Facility Longitude", lambda t: read_coordinate(t, 180)),
    )
    impact = r.read("Landing Location", read_impact_area)
    apogee = r.read("Apogee", read_km)
    distance = r.read("Distance Travelled", read_km)
    missile_name = r.read("Missile Name", read_text)
    description = r.read("Additional Information", read_text)
    references = r.read("Source(s)", read_references)
    record_id = read_text(record.get("F1"))
    if record_id is not None and record_id in seen:
        message = f"record {record_id} is also on line {seen[record_id]}"
        r.problems.append(RowProblem(record.line, "F1", record_id, message))
    elif record_id is not None:
        seen[record_id] = record.line
    if r.problems:
        return None, r.problems
    assert instant and missile_type and outcome and impact
    launch = r.build(
        lambda: Launch(
            instant[0],
            instant[1],
            outcome,
            SOURCE,
            site,
            missile_name,
            missile_type,
            1,
            apogee,
            distance,
            impact[0],
            impact[1],
            confidence,
            description,
            references or (),
            record_id,
        ),
        COLUMNS,
    )
    return launch, r.problems


def parse_cns(text: str, name: str) -> LaunchFile:
    """Every launch of a CNS export (already decoded) and every row that cannot be read."""
    found, problems = records(text, name, REQUIRED)
    seen: dict[str, int] = {}

    def launches() -> Iterator[tuple[Launch | None, list[RowProblem], int]]:
        for problem in problems:
            yield None, [problem], problem.line
        for record in found:
            launch, row_problems = _launch(record, seen)
            yield launch, row_problems, record.line

    return collect(name, LAYOUT, launches())
