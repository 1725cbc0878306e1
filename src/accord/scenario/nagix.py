"""The flattened table of ``nagix/nk-missile-tests`` (after the CNS database): UTF-8, one row per
missile, ``date`` as ``YYYY-MM-DD`` or ``YYYY-MM``, ``time_utc`` as ``HH:MM`` or ``unknown``,
numbers without units, ``landing`` and ``outcome`` as lower-case codes."""

from __future__ import annotations

from collections.abc import Iterator

from accord.model.launch import Launch, LaunchSite
from accord.scenario.cns import read_missile_type, read_outcome
from accord.scenario.launch_fields import (
    detection_instant,
    read_coordinate,
    read_impact_area,
    read_km,
    read_text,
)
from accord.scenario.launch_rows import LaunchFile, Record, RowProblem, RowReader, collect, records

SOURCE = "nagix/nk-missile-tests (after the CNS North Korea Missile Test Database)"
LAYOUT = "nagix"
ENCODING = "utf-8"
REQUIRED = (
    "date",
    "time_utc",
    "missile_name",
    "missile_type",
    "facility_name",
    "facility_lat",
    "facility_lon",
    "landing",
    "apogee_km",
    "distance_km",
    "outcome",
)
COLUMNS = {
    "detected": "date",
    "launch_site": "facility_name",
    "missile_name": "missile_name",
    "apogee_km": "apogee_km",
    "distance_km": "distance_km",
}


def is_nagix(header: list[str]) -> bool:
    return "time_utc" in header and "facility_lat" in header


def _launch(record: Record, ordinal: int) -> tuple[Launch | None, list[RowProblem]]:
    r = RowReader(record)
    instant = r.read("date", lambda d: detection_instant(d, record.get("time_utc")))
    missile_type = r.read("missile_type", read_missile_type)
    outcome = r.read("outcome", read_outcome)
    site = LaunchSite(
        r.read("facility_name", read_text),
        r.read("facility_lat", lambda t: read_coordinate(t, 90)),
        r.read("facility_lon", lambda t: read_coordinate(t, 180)),
    )
    impact = r.read("landing", read_impact_area)
    apogee = r.read("apogee_km", read_km)
    distance = r.read("distance_km", read_km)
    missile_name = r.read("missile_name", read_text)
    description = r.read("description", read_text)
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
            None,
            description,
            (),
            str(ordinal),
        ),
        COLUMNS,
    )
    return launch, r.problems


def parse_nagix(text: str, name: str) -> LaunchFile:
    """Every launch of a nagix table and every row that cannot be read; a launch's record id
    is its row's position among the file's records (1 is the first)."""
    found, problems = records(text, name, REQUIRED)

    def launches() -> Iterator[tuple[Launch | None, list[RowProblem], int]]:
        for problem in problems:
            yield None, [problem], problem.line
        for ordinal, record in enumerate(found, 1):
            launch, row_problems = _launch(record, ordinal)
            yield launch, row_problems, record.line

    return collect(name, LAYOUT, launches())
