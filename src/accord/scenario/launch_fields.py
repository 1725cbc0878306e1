"""Reading the values of launch databases as their people wrote them: dates in three formats,
12-hour times, distances with their unit as text, ``Unknown``.

Each reader returns a value (``None`` for unknown) or raises ``FieldUnreadable`` with a message
saying what was expected; the file reader adds the line and the column.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from accord.model.launch import ImpactArea, InstantPrecision, Measure

UNKNOWN = frozenset({"", "unknown", "n/a", "na", "not applicable"})
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{2}|\d{4})$")  # 9-Apr-84
_MONTH_YEAR = re.compile(r"^([A-Za-z]{3})-(\d{2}|\d{4})$")  # Sep-84
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})$")  # 3/23/2023
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")  # 2019-11-28
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})$")  # 1984-09
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?[Mm]\.?)?$")
_KM = re.compile(
    r"^(?:between\s+)?(\d[\d,]*(?:\.\d+)?)(?:\s*(?:-|to|and)\s*(\d[\d,]*(?:\.\d+)?))?\s*(km|lm)?$",
    re.IGNORECASE,
)
# 'lm' is a misspelling of 'km' that a published export carries; it is read as km
_AREAS = (
    ("sea of japan", ImpactArea.SEA_OF_JAPAN),
    ("east sea", ImpactArea.SEA_OF_JAPAN),
    ("sea-of-japan", ImpactArea.SEA_OF_JAPAN),
    ("yellow sea", ImpactArea.YELLOW_SEA),
    ("west sea", ImpactArea.YELLOW_SEA),
    ("yellow-sea", ImpactArea.YELLOW_SEA),
    ("pacific ocean", ImpactArea.PACIFIC_OCEAN),
    ("pacific-ocean", ImpactArea.PACIFIC_OCEAN),
    ("north korea", ImpactArea.NORTH_KOREA),
    ("north-korea", ImpactArea.NORTH_KOREA),
)
_LABELS = {name for name, _ in _AREAS} | {"sea of japan or east sea", "yellow sea or west sea"}


class FieldUnreadable(ValueError):
    """A value that cannot be read; the message says what was expected."""


def is_unknown(text: str) -> bool:
    return text.strip().lower() in UNKNOWN


def _year(text: str) -> int:
    """A year; two digits follow the POSIX rule: 69-99 are 1969-1999, 00-68 are 2000-2068."""
    value = int(text)
    if len(text) == 2:
        return value + (1900 if value >= 69 else 2000)
    return value


def _month(name: str, text: str) -> int:
    try:
        return MONTHS.index(name.lower()) + 1
    except ValueError:
        raise FieldUnreadable(f"{text!r}: {name!r} is not a month name (Jan … Dec)") from None


def _day(text: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise FieldUnreadable(f"{text!r} is not a calendar day") from None


def read_date(text: str) -> tuple[date, InstantPrecision]:
    """A date as ``9-Apr-84``, ``Sep-84`` (month only), ``3/23/2023`` (month/day/year),
    ``2019-11-28`` or ``1984-09``; the precision says whether the day is known."""
    value = text.strip()
    if m := _DAY_MONTH_YEAR.match(value):
        return _day(text, _year(m[3]), _month(m[2], text), int(m[1])), InstantPrecision.DAY
    if m := _MONTH_YEAR.match(value):
        return _day(text, _year(m[2]), _month(m[1], text), 1), InstantPrecision.MONTH
    if m := _US.match(value):
        return _day(text, _year(m[3]), int(m[1]), int(m[2])), InstantPrecision.DAY
    if m := _ISO_DAY.match(value):
        return _day(text, int(m[1]), int(m[2]), int(m[3])), InstantPrecision.DAY
    if m := _ISO_MONTH.match(value):
        return _day(text, int(m[1]), int(m[2]), 1), InstantPrecision.MONTH
    raise FieldUnreadable(
        f"{text!r} is not a date (9-Apr-84, Sep-84, 3/23/2023, 2019-11-28 or 1984-09)"
    )


def read_time(text: str) -> tuple[time, InstantPrecision] | None:
    """A time of day as ``9:20:00 AM``, ``9:20 PM``, ``21:20:00`` or ``21:20``; None when
    unknown."""
    if is_unknown(text):
        return None
    m = _TIME.match(text.strip())
    if m is None:
        raise FieldUnreadable(f"{text!r} is not a time of day (9:20:00 AM or 21:20)")
    hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
    if m[4] is not None:
        if not 1 <= hour <= 12:
            raise FieldUnreadable(f"{text!r}: a 12-hour time has hours 1 to 12")
        hour = hour % 12 + (12 if m[4].lower() == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise FieldUnreadable(f"{text!r} is not a time of day")
    precision = InstantPrecision.SECOND if m[3] is not None else InstantPrecision.MINUTE
    return time(hour, minute, second), precision


def detection_instant(date_text: str, time_text: str) -> tuple[datetime, InstantPrecision]:
    """The instant of a launch from its UTC date and UTC time. Without a time it is 00:00 UTC
    of the day, or of the first of the month when only the month is known: an approximate
    instant, marked so by its precision."""
    day, precision = read_date(date_text)
    clock = read_time(time_text)
    if clock is None:
        return datetime.combine(day, time(0), UTC), precision
    if precision is InstantPrecision.MONTH:
        raise FieldUnreadable(f"a time ({time_text!r}) needs a day, but {date_text!r} is a month")
    return datetime.combine(day, clock[0], UTC), clock[1]


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def read_km(text: str) -> Measure | None:
    """A distance in km: ``1,380 km``, ``50``, ``between 25 and 90 km``; None when unknown."""
    if is_unknown(text):
        return None
    m = _KM.match(text.strip())
    if m is None:
        raise FieldUnreadable(
            f"{text!r} is not a distance in km (1,380 km, 50, between 25 and 90 km, Unknown)"
        )
    low = _number(m[1])
    high = _number(m[2]) if m[2] is not None else None
    if high is not None and high < low:
        raise FieldUnreadable(f"{text!r}: the range ends below where it starts")
    return Measure(low, high)


def read_coordinate(text: str, limit: float) -> float | None:
    """A latitude (limit 90) or longitude (limit 180) in decimal degrees; None when unknown."""
    if is_unknown(text):
        return None
    value = text.strip().replace("\u00b0", "").strip()
    try:
        number = float(value)
    except ValueError:
        raise FieldUnreadable(f"{text!r} is not a number of degrees") from None
    if not -limit <= number <= limit:
        raise FieldUnreadable(f"{text!r} is outside -{limit:g} to {limit:g} degrees")
    return number


def read_impact_area(text: str) -> tuple[ImpactArea, str | None]:
    """Where it came down: a known area, with the text kept when it says more than the name."""
    value = text.strip()
    lowered = value.lower()
    if lowered in UNKNOWN - {"n/a", "na", "not applicable"}:
        return ImpactArea.UNKNOWN, None
    if lowered in ("n/a", "na", "not applicable"):
        return ImpactArea.NOT_APPLICABLE, None
    found = {area for name, area in _AREAS if name in lowered}
    if len(found) != 1:
        raise FieldUnreadable(
            f"{text!r} names no single known area (Sea of Japan, Yellow Sea, Pacific Ocean, "
            "North Korea, N/A, Unknown)"
        )
    return found.pop(), (None if lowered in _LABELS else value)


def read_text(text: str) -> str | None:
    """Free text, with surrounding white space and no-break spaces trimmed; None when empty or
    unknown."""
    value = text.replace("\u00a0", " ").strip()
    return None if is_unknown(value) else value
