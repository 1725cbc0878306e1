"""The values of launch databases, one quirk at a time: three date formats, month-only dates,
12-hour times, units as text, ranges, ``Unknown``, coordinates at their bounds; and the date and
distance readers against formatting written here, independently, by hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.model.launch import ImpactArea, InstantPrecision, Measure
from accord.scenario.launch_fields import (
    FieldUnreadable,
    detection_instant,
    read_coordinate,
    read_date,
    read_impact_area,
    read_km,
    read_text,
    read_time,
)

DAY, MONTH = InstantPrecision.DAY, InstantPrecision.MONTH
ABBREVIATIONS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9-Apr-84", (date(1984, 4, 9), DAY)),
        ("28-Nov-17", (date(2017, 11, 28), DAY)),
        ("1-jan-2000", (date(2000, 1, 1), DAY)),
        ("Sep-84", (date(1984, 9, 1), MONTH)),
        ("Jul-91", (date(1991, 7, 1), MONTH)),
        ("3/23/2023", (date(2023, 3, 23), DAY)),
        ("11/2/2022", (date(2022, 11, 2), DAY)),
        ("2019-11-28", (date(2019, 11, 28), DAY)),
        ("1984-09", (date(1984, 9, 1), MONTH)),
        (" 9-Apr-84 ", (date(1984, 4, 9), DAY)),
    ],
)
def test_each_date_format(text: str, expected: tuple[date, InstantPrecision]) -> None:
    assert read_date(text) == expected


@pytest.mark.parametrize(("yy", "year"), [("69", 1969), ("99", 1999), ("00", 2000), ("68", 2068)])
def test_two_digit_years_follow_the_posix_pivot(yy: str, year: int) -> None:
    assert read_date(f"1-Jan-{yy}")[0].year == year


@pytest.mark.parametrize(
    "text", ["30-Feb-20", "2/30/2020", "13/1/2020", "9-Foo-84", "Sept-84", "84", "", "Unknown"]
)
def test_a_date_that_is_not_one_is_unreadable(text: str) -> None:
    with pytest.raises(FieldUnreadable) as raised:
        read_date(text)
    assert repr(text) in str(raised.value) or text.strip() == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:20:00 AM", time(9, 20, 0)),
        ("10:34:00 PM", time(22, 34, 0)),
        ("12:40:00 AM", time(0, 40, 0)),  # just after midnight
        ("12:00:00 PM", time(12, 0, 0)),  # noon
        ("11:59:59 PM", time(23, 59, 59)),
        ("7:59:30 AM", time(7, 59, 30)),
        ("21:20", time(21, 20)),
        ("00:00:00", time(0, 0)),
    ],
)
def test_times_with_and_without_am_pm(text: str, expected: time) -> None:
    read = read_time(text)
    assert read is not None and read[0] == expected


def test_a_time_with_seconds_is_precise_to_the_second_and_without_to_the_minute() -> None:
    assert read_time("9:20:00 AM") == (time(9, 20), InstantPrecision.SECOND)
    assert read_time("21:20") == (time(21, 20), InstantPrecision.MINUTE)


@pytest.mark.parametrize("text", ["", "Unknown", "unknown", " N/A "])
def test_an_unknown_time_is_none(text: str) -> None:
    assert read_time(text) is None


@pytest.mark.parametrize("text", ["13:00:00 PM", "0:30 AM", "24:00", "9:60", "9.20 AM", "noon"])
def test_a_time_that_is_not_one_is_unreadable(text: str) -> None:
    with pytest.raises(FieldUnreadable):
        read_time(text)


def test_a_dated_and_timed_launch_is_that_utc_instant() -> None:
    instant, precision = detection_instant("28-Nov-17", "6:18:00 PM")
    assert instant == datetime(2017, 11, 28, 18, 18, tzinfo=UTC)
    assert precision is InstantPrecision.SECOND


def test_a_date_without_time_is_0000_utc_of_the_day_and_approximate() -> None:
    instant, precision = detection_instant("9-Apr-84", "")
    assert instant == datetime(1984, 4, 9, tzinfo=UTC)
    assert precision is DAY and precision.approximate
    assert detection_instant("9-Apr-84", "Unknown") == (instant, DAY)


def test_a_month_only_date_is_0000_utc_of_the_first_and_approximate() -> None:
    assert detection_instant("Sep-84", "") == (datetime(1984, 9, 1, tzinfo=UTC), MONTH)
    assert MONTH.approximate and not InstantPrecision.SECOND.approximate


def test_a_time_on_a_month_only_date_is_unreadable() -> None:
    with pytest.raises(FieldUnreadable, match="needs a day"):
        detection_instant("Sep-84", "9:20:00 AM")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,380 km", Measure(1380.0)),
        ("4475 km", Measure(4475.0)),
        ("2111.5 km", Measure(2111.5)),
        ("0 km", Measure(0.0)),
        ("50", Measure(50.0)),
        ("50 KM", Measure(50.0)),
        ("between 25 and 90 km", Measure(25.0, 90.0)),
        ("25-90 km", Measure(25.0, 90.0)),
        ("330 lm", Measure(330.0)),  # the misspelling a published export carries
    ],
)
def test_distances_with_units_as_text(text: str, expected: Measure) -> None:
    assert read_km(text) == expected


@pytest.mark.parametrize("text", ["", "Unknown", "N/A", "unknown", "na"])
def test_an_unknown_distance_is_none(text: str) -> None:
    assert read_km(text) is None


@pytest.mark.parametrize(
    "text", ["300 miles", "about 300 km", "-5 km", "between 90 and 25 km", "km"]
)
def test_a_distance_that_is_not_one_is_unreadable(text: str) -> None:
    with pytest.raises(FieldUnreadable):
        read_km(text)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("40.8499966", 90, 40.8499966),
        ("90", 90, 90.0),
        ("-90", 90, -90.0),
        ("180", 180, 180.0),
        ("129.666664\u00b0", 180, 129.666664),
        ("Unknown", 90, None),
    ],
)
def test_coordinates(text: str, limit: float, expected: float | None) -> None:
    assert read_coordinate(text, limit) == expected


@pytest.mark.parametrize(("text", "limit"), [("90.000001", 90), ("-180.000001", 180), ("N40", 90)])
def test_a_coordinate_beyond_its_bound_is_unreadable(text: str, limit: float) -> None:
    with pytest.raises(FieldUnreadable):
        read_coordinate(text, limit)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sea of Japan or East Sea", (ImpactArea.SEA_OF_JAPAN, None)),
        ("Yellow Sea or West Sea", (ImpactArea.YELLOW_SEA, None)),
        ("Pacific Ocean", (ImpactArea.PACIFIC_OCEAN, None)),
        ("sea-of-japan", (ImpactArea.SEA_OF_JAPAN, None)),
        ("north-korea", (ImpactArea.NORTH_KOREA, None)),
        ("N/A", (ImpactArea.NOT_APPLICABLE, None)),
        ("na", (ImpactArea.NOT_APPLICABLE, None)),
        ("Unknown", (ImpactArea.UNKNOWN, None)),
        ("", (ImpactArea.UNKNOWN, None)),
        (
            "330km east of Hachinohe, in the Pacific Ocean",
            (ImpactArea.PACIFIC_OCEAN, "330km east of Hachinohe, in the Pacific Ocean"),
        ),
    ],
)
def test_impact_areas(text: str, expected: tuple[ImpactArea, str | None]) -> None:
    assert read_impact_area(text) == expected


@pytest.mark.parametrize("text", ["Sea of Okhotsk", "Yellow Sea and the Pacific Ocean"])
def test_an_impact_area_naming_no_single_known_area_is_unreadable(text: str) -> None:
    with pytest.raises(FieldUnreadable):
        read_impact_area(text)


def test_text_is_trimmed_of_no_break_spaces_and_unknown_is_none() -> None:
    assert read_text("Chiha-ri\u00a0") == "Chiha-ri"
    assert read_text("Unknown") is None and read_text("  ") is None


# --- against formatting written here -------------------------------------------------------


@given(st.dates(min_value=date(1969, 1, 1), max_value=date(2068, 12, 31)))
def test_every_day_in_every_format_reads_back(day: date) -> None:
    month = ABBREVIATIONS[day.month - 1]
    written = {
        f"{day.day}-{month}-{day.year % 100:02d}": (day, DAY),
        f"{day.day}-{month.upper()}-{day.year}": (day, DAY),
        f"{day.month}/{day.day}/{day.year}": (day, DAY),
        f"{month}-{day.year % 100:02d}": (day.replace(day=1), MONTH),
        day.isoformat(): (day, DAY),
        day.isoformat()[:7]: (day.replace(day=1), MONTH),
    }
    for text, expected in written.items():
        assert read_date(text) == expected, text


@given(st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_every_time_of_day_in_12_hour_form_reads_back(hour: int, minute: int, second: int) -> None:
    twelve = hour % 12 or 12
    text = f"{twelve}:{minute:02d}:{second:02d} {'AM' if hour < 12 else 'PM'}"
    assert read_time(text) == (time(hour, minute, second), InstantPrecision.SECOND)


@given(st.integers(0, 10_000_000), st.integers(0, 9), st.booleans())
def test_every_distance_with_thousands_separators_reads_back(
    whole: int, tenth: int, decimal: bool
) -> None:
    text = f"{whole:,}" + (f".{tenth}" if decimal else "") + " km"
    expected = whole + (tenth / 10 if decimal else 0)
    measure = read_km(text)
    assert measure is not None and measure.km == pytest.approx(expected, abs=1e-9)
    assert measure.max_km is None
