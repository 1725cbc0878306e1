"""Reading launch databases whole: the project's own sample in the CNS layout (Windows-1252,
CRLF, a line break inside a quoted field, every date format, 12-hour times, units as text,
``Unknown``, one unreadable row), broken files, nagix's table, and — when the team's public data
is present — every row of the real CNS export and of nagix's table."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.model.launch import ImpactArea, InstantPrecision, LaunchOutcome, Measure, MissileType
from accord.scenario.launch_file import parse_launches, read_launches
from accord.scenario.launch_rows import LaunchFileInvalid

SAMPLE = Path(__file__).resolve().parent / "data" / "nk-launches-sample.csv"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "nk_missile_tests"
CNS = SHARED / "cns_nk_missile_test_database_1984-2023-04.csv"
NAGIX = SHARED / "nagix_nk_missile_tests_1984-2024-04-01.csv"
HEADER = (
    "F1,Date,Date Entered/Updated,Launch Time (UTC),Missile Name,Missile Type,"
    "Launch Agency/Authority,Facility Name,Facility Location,Other Name,Facility Latitude,"
    "Facility Longitude,Landing Location,Apogee,Distance Travelled,Confirmation Status,"
    "Test Outcome,Additional Information,Source(s)"
)
GOOD = '1,28-Nov-17,,6:18:00 PM,Hwasong-15,ICBM,,Pyongsong,,,39.282,125.869,Pacific Ocean,"4,475 km",950 km,Confirmed,Success,,'


def cns(*records: str, end: str = "\r\n") -> bytes:
    return end.join([HEADER, *records, ""]).encode("cp1252")


def test_the_sample_has_the_quirks_it_claims() -> None:
    raw = SAMPLE.read_bytes()
    assert b"\xb0" in raw and b"\xa0" in raw  # Windows-1252 degree sign and no-break space
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    with SAMPLE.open(encoding="cp1252", newline="") as handle:
        records = list(csv.reader(handle))
    assert text.count("\r\n") == len(records) == 14  # CRLF ends the header and 13 records
    assert "\n" in text.replace("\r\n", "")  # a bare LF inside a quoted field
    assert "Sep-84" in text and "10/31/2019" in text and "31-Aug-98" in text
    assert "PM" in text and '"1,600 km"' in text and "Unknown" in text


def test_the_sample_reads_with_one_unreadable_row_on_its_physical_line() -> None:
    launches = read_launches(SAMPLE)
    assert launches.layout == "cns"
    assert len(launches.rows) == 12
    assert [(p.line, p.column, p.value) for p in launches.problems] == [(13, "Date", "30-Feb-20")]
    assert "not a calendar day" in launches.problems[0].message
    # the record after a line break inside a quoted field starts one physical line later
    lines = {r.launch.record: r.line for r in launches.rows}
    assert lines["3"] == 4 and lines["4"] == 6 and lines["13"] == 17


def test_the_sample_values_are_read_as_written() -> None:
    by_record = {r.launch.record: r.launch for r in read_launches(SAMPLE).rows}
    month_only = by_record["1"]
    assert month_only.detected == datetime(1984, 9, 1, tzinfo=UTC)
    assert month_only.precision is InstantPrecision.MONTH
    assert by_record["13"].precision is InstantPrecision.DAY
    assert by_record["13"].detected == datetime(1993, 5, 29, tzinfo=UTC)
    hwasong15 = by_record["7"]
    assert hwasong15.detected == datetime(2017, 11, 28, 18, 17, tzinfo=UTC)
    assert hwasong15.missile_type is MissileType.ICBM
    assert (hwasong15.apogee, hwasong15.distance) == (Measure(4475.0), Measure(950.0))
    assert hwasong15.confidence == 90 and hwasong15.outcome is LaunchOutcome.SUCCESS
    assert by_record["9"].detected == datetime(2019, 10, 31, 7, 35, tzinfo=UTC)  # 10/31/2019
    assert by_record["3"].distance == Measure(1600.0)  # "1,600 km"
    assert by_record["3"].description == "Flew over northern Japan;\nthe third stage failed."
    assert by_record["8"].apogee == Measure(50.0, 60.0)
    assert by_record["8"].outcome is LaunchOutcome.UNKNOWN
    unknown = by_record["2"]
    assert unknown.missile_name is None and unknown.missile_type is MissileType.UNKNOWN
    assert unknown.site.name is None and unknown.site.latitude is None
    assert unknown.apogee is None and unknown.impact_area is ImpactArea.UNKNOWN
    assert unknown.confidence == 50  # Unconfirmed
    assert by_record["4"].apogee is None  # N/A
    hwasong12 = by_record["6"]
    assert hwasong12.impact_area is ImpactArea.PACIFIC_OCEAN
    assert hwasong12.impact_description == "Pacific Ocean, about 1,180 km east of Cape Erimo"
    assert by_record["11"].description == "Fired from a launcher\nwith four tubes."  # nbsp trimmed
    assert by_record["5"].references == (
        "Japan Ministry of Defense press release",
        "ROK Joint Chiefs of Staff",
    )


def test_every_unreadable_value_of_a_row_is_named_and_the_others_are_read() -> None:
    bad = "2,31-Nov-17,,25:00:00 PM,X,Rocket,,Site,,,91,125,Sea of Japan,far,950 km,Maybe,Partly,,"
    launches = parse_launches(cns(GOOD, bad, GOOD.replace("1,", "3,", 1)), "f.csv")
    assert [r.launch.record for r in launches.rows] == ["1", "3"]
    assert {(p.line, p.column) for p in launches.problems} == {
        (3, "Date"),
        (3, "Missile Type"),
        (3, "Facility Latitude"),
        (3, "Apogee"),
        (3, "Confirmation Status"),
        (3, "Test Outcome"),
    }
    assert "f.csv: line 3, Date:" in launches.problem_report()


def test_a_record_with_the_wrong_number_of_fields_is_unreadable() -> None:
    launches = parse_launches(cns(GOOD, "2,9-Apr-84,,", GOOD.replace("1,", "3,", 1)), "f.csv")
    assert [(p.line, p.column) for p in launches.problems] == [(3, "(record)")]
    assert len(launches.rows) == 2


def test_a_byte_that_is_not_windows_1252_is_named_on_its_row() -> None:
    data = cns(GOOD, GOOD.replace("1,", "2,", 1).replace("Pyongsong", "Pyong@song"))
    data = data.replace(b"Pyong@song", b"Pyong\x81song")
    launches = parse_launches(data, "f.csv")
    assert [(p.line, p.column) for p in launches.problems] == [(3, "Facility Name")]
    assert "0x81" in launches.problems[0].message


def test_a_record_number_given_twice_is_unreadable_the_second_time() -> None:
    launches = parse_launches(cns(GOOD, GOOD), "f.csv")
    assert [(p.line, p.column) for p in launches.problems] == [(3, "F1")]


def test_lf_and_cr_line_ends_count_lines_the_same_way() -> None:
    for end in ("\n", "\r\n", "\r"):
        launches = parse_launches(cns(GOOD, "", "2" + GOOD[1:].replace("30", "31"), end=end), "f")
        assert [r.line for r in launches.rows] == [2, 4]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a launch database header"),
        (b"a,b,c\r\n1,2,3\r\n", "not a launch database header"),
        (HEADER.replace(",Apogee", "").encode() + b"\r\n", "the header lacks Apogee"),
        ((HEADER + '\r\n1,"9-Apr-84\r\n').encode(), "line"),
    ],
)
def test_a_file_that_is_not_a_launch_database_is_invalid(data: bytes, message: str) -> None:
    with pytest.raises(LaunchFileInvalid, match=message) as raised:
        parse_launches(data, "bad.csv")
    assert "bad.csv" in raised.value.message


def test_a_file_that_cannot_be_opened_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(LaunchFileInvalid, match="cannot be read"):
        read_launches(tmp_path / "missing.csv")


NAGIX_HEADER = (
    "date,time_utc,series,missile_id,missile_name,missile_type,facility_id,facility_name,"
    "facility_lat,facility_lon,landing,apogee_km,distance_km,bearing_deg,outcome,"
    "glide_segments_json,description"
)


def test_nagix_table_reads_with_its_own_codes() -> None:
    text = "\n".join(
        [
            NAGIX_HEADER,
            "2017-11-28,18:17,,hwasong-15,Hwasong-15,ICBM,pyongsong,Pyongsong,39.282,125.869,"
            "sea-of-japan,4475,950,90,success,,Über den Wolken",
            "1984-09,unknown,1,scud-b,Scud-B,SRBM,tonghae,Tonghae,40.85,129.66,unknown,unknown,"
            "unknown,90,failure,,",
            "2020-13-01,unknown,,x,X,SRBM,x,X,1,1,na,1,1,1,success,,",
        ]
    )
    launches = parse_launches(text.encode("utf-8"), "nagix.csv")
    assert launches.layout == "nagix"
    first, second = (r.launch for r in launches.rows)
    assert first.detected == datetime(2017, 11, 28, 18, 17, tzinfo=UTC)
    assert first.precision is InstantPrecision.MINUTE and first.description == "Über den Wolken"
    assert first.impact_area is ImpactArea.SEA_OF_JAPAN and first.apogee == Measure(4475.0)
    assert second.precision is InstantPrecision.MONTH and second.distance is None
    assert [(p.line, p.column) for p in launches.problems] == [(4, "date")]
    assert [r.launch.record for r in launches.rows] == ["1", "2"]


# --- the public data, when present ----------------------------------------------------------

needs_cns = pytest.mark.skipif(
    not CNS.is_file(), reason=f"public data not present at {CNS} (only in the team's workspace)"
)
needs_nagix = pytest.mark.skipif(
    not NAGIX.is_file(), reason=f"public data not present at {NAGIX} (only in the team's workspace)"
)


@needs_cns
def test_every_row_of_the_cns_database_reads() -> None:
    launches = read_launches(CNS)
    assert launches.problems == ()
    assert len(launches.rows) == 245
    outcomes = Counter(r.launch.outcome.value for r in launches.rows)
    assert outcomes == {"success": 187, "failure": 33, "unknown": 25}
    types = Counter(r.launch.missile_type.value for r in launches.rows)
    assert types == {
        "srbm": 163,
        "mrbm": 30,
        "irbm": 16,
        "icbm": 11,
        "slbm": 10,
        "unknown": 8,
        "slv": 6,
        "hgv": 1,
    }
    assert Counter(r.launch.confidence for r in launches.rows) == {90: 236, 50: 9}
    assert len({r.launch.site.name for r in launches.rows}) == 46  # "Unknown" is one of them


@needs_cns
def test_the_cns_rows_agree_with_the_csv_module_on_lines_and_times() -> None:
    """An oracle over the raw file: csv's own record boundaries and which rows have a time."""
    with CNS.open(encoding="cp1252", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        starts, timed, consumed = [], 0, reader.line_num
        for row in reader:
            starts.append(consumed + 1)
            consumed = reader.line_num
            timed += any(ch.isdigit() for ch in row[3])
    launches = read_launches(CNS)
    assert [r.line for r in launches.rows] == starts
    assert starts[-1] > len(starts) + 1  # records do span several lines
    assert sum(not r.launch.precision.approximate for r in launches.rows) == timed
    hwasong18 = next(r.launch for r in launches.rows if r.launch.missile_name == "Hwasong-18")
    assert hwasong18.detected == datetime(2023, 4, 12, 22, 22, tzinfo=UTC)  # 07:22 KST, 13 April


@needs_nagix
def test_every_row_of_nagix_table_reads() -> None:
    launches = read_launches(NAGIX)
    assert launches.problems == ()
    assert len(launches.rows) == 270
    outcomes = Counter(r.launch.outcome.value for r in launches.rows)
    assert outcomes == {"success": 200, "failure": 36, "unknown": 34}


# --- property: any table written in the CNS layout reads back, on the right lines -----------

AREAS = {
    ImpactArea.SEA_OF_JAPAN: "Sea of Japan or East Sea",
    ImpactArea.YELLOW_SEA: "Yellow Sea or West Sea",
    ImpactArea.PACIFIC_OCEAN: "Pacific Ocean",
    ImpactArea.NORTH_KOREA: "North Korea",
    ImpactArea.NOT_APPLICABLE: "N/A",
    ImpactArea.UNKNOWN: "Unknown",
}
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@st.composite
def cns_rows(draw: st.DrawFn) -> tuple[list[str], dict[str, object]]:
    """One row as a person would type it into the CNS layout, and what it means."""
    day = draw(st.dates(date(1969, 1, 1), date(2068, 12, 31)))
    kind = draw(st.sampled_from(["timed", "day", "month"]))
    clock = draw(st.times()).replace(microsecond=0)
    if kind == "month":
        date_text, time_text = f"{MONTH_NAMES[day.month - 1]}-{day.year % 100:02d}", ""
        detected = datetime(day.year, day.month, 1, tzinfo=UTC)
    else:
        date_text = draw(
            st.sampled_from(
                [
                    f"{day.day}-{MONTH_NAMES[day.month - 1]}-{day.year % 100:02d}",
                    f"{day.month}/{day.day}/{day.year}",
                ]
            )
        )
        if kind == "day":
            time_text = draw(st.sampled_from(["", "Unknown"]))
            detected = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            twelve = clock.hour % 12 or 12
            half = "AM" if clock.hour < 12 else "PM"
            time_text = f"{twelve}:{clock.minute:02d}:{clock.second:02d} {half}"
            detected = datetime.combine(day, clock, UTC)
    apogee = draw(st.none() | st.integers(0, 20_000))
    low, high = sorted(draw(st.tuples(st.integers(0, 9_999), st.integers(0, 9_999))))
    ranged = draw(st.booleans())
    area = draw(st.sampled_from(list(AREAS)))
    outcome = draw(st.sampled_from(list(LaunchOutcome)))
    missile_type = draw(st.sampled_from([t for t in MissileType if t is not MissileType.CRUISE]))
    body = draw(st.text(st.sampled_from('abc XYZ,;"\n°é'), max_size=30))
    confirmed = draw(st.booleans())
    fields = [
        "",  # F1, set by the caller
        date_text,
        "1-Jan-24",
        time_text,
        draw(st.sampled_from(["Hwasong-15", "KN-25", "Scud-B", "Unknown"])),
        "Unknown" if missile_type is MissileType.UNKNOWN else missile_type.value.upper(),
        "",
        "Some Site",
        "Somewhere, 40°N",
        "",
        "39.5",
        "Unknown",
        AREAS[area],
        "Unknown" if apogee is None else f"{apogee:,} km",
        f"between {low} and {high} km" if ranged else f"{low:,} km",
        "Confirmed" if confirmed else "Unconfirmed",
        outcome.value.capitalize(),
        f"Note {body}.",
        "",
    ]
    meaning: dict[str, object] = {
        "detected": detected,
        "apogee": None if apogee is None else Measure(float(apogee)),
        "distance": Measure(float(low), float(high) if ranged else None),
        "impact_area": area,
        "outcome": outcome,
        "missile_type": missile_type,
        "confidence": 90 if confirmed else 50,
        "description": f"Note {body}.",
        "breaks": f"Note {body}.".count("\n"),
    }
    return fields, meaning


@given(st.lists(cns_rows(), min_size=1, max_size=8))
def test_any_table_in_the_cns_layout_reads_back_on_its_lines(
    table: list[tuple[list[str], dict[str, object]]],
) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER.split(","))
    expected_lines, line = [], 2
    for number, (fields, meaning) in enumerate(table, 1):
        writer.writerow([str(number), *fields[1:]])
        expected_lines.append(line)
        line += 1 + int(str(meaning["breaks"]))
    launches = parse_launches(buffer.getvalue().encode("cp1252"), "generated.csv")
    assert launches.problems == ()
    assert [r.line for r in launches.rows] == expected_lines
    for row, (_, meaning) in zip(launches.rows, table, strict=True):
        launch = row.launch
        assert launch.detected == meaning["detected"]
        assert (launch.apogee, launch.distance) == (meaning["apogee"], meaning["distance"])
        assert launch.impact_area is meaning["impact_area"]
        assert launch.outcome is meaning["outcome"]
        assert launch.missile_type is meaning["missile_type"]
        assert launch.confidence == meaning["confidence"]
        assert launch.description == meaning["description"]
        assert launch.site.latitude == 39.5 and launch.site.longitude is None
