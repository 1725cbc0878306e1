"""Instants and durations.

Every instant in accord is an aware ``datetime`` normalised to UTC. Durations are ISO 8601
(``P1Y``, ``P90D``) and are added on a zone's wall clock, so that a 6-month term from
2020-07-01T00:00 New York time ends at 2021-01-01T00:00 New York time whatever the offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import isodate

from accord.errors import InvalidInput, NaiveDatetime


def require_aware(value: datetime, field: str) -> datetime:
    """Return ``value`` in UTC; refuse a naive datetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(
            f"{field}: {value.isoformat()} has no UTC offset (naive datetimes are refused)"
        )
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(
            f"{field}: {value.isoformat()!r} is outside the representable range"
        ) from None


def parse_instant(text: str, field: str) -> datetime:
    """Parse an ISO 8601 instant that carries its offset (``Z`` or ``+09:00``)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not an ISO 8601 date-time") from None
    return require_aware(value, field)


def zone(name: str, field: str) -> ZoneInfo:
    """An IANA time zone by name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise InvalidInput(f"{field}: {name!r} is not an IANA time zone") from None


MAX_YEARS = 1000
MAX_MONTHS = 12 * MAX_YEARS
MAX_EXACT = timedelta(days=366 * MAX_YEARS)


@dataclass(frozen=True, slots=True)
class Duration:
    """An ISO 8601 duration: calendar months plus an exact part (days and time)."""

    text: str
    months: int
    exact: timedelta

    @classmethod
    def parse(cls, text: str, field: str) -> Duration:
        try:
            parsed = isodate.parse_duration(text)
        except (isodate.ISO8601Error, ValueError, TypeError, OverflowError):
            raise InvalidInput(
                f"{field}: {text!r} is not an ISO 8601 duration such as P1Y or P90D"
            ) from None
        if isinstance(parsed, timedelta):
            months, exact = 0, parsed
        else:
            if parsed.years != int(parsed.years) or parsed.months != int(parsed.months):
                raise InvalidInput(f"{field}: {text!r} must use whole years and months")
            months = int(parsed.years) * 12 + int(parsed.months)
            exact = parsed.tdelta
        if months < 0 or exact < timedelta(0) or (months == 0 and exact == timedelta(0)):
            raise InvalidInput(f"{field}: {text!r} must be a positive duration")
        if months > MAX_MONTHS or exact > MAX_EXACT:
            raise InvalidInput(f"{field}: {text!r} is longer than {MAX_YEARS} years")
        return cls(text, months, exact)

    def times(self, k: int) -> isodate.Duration:
        return isodate.Duration(months=self.months * k) + self.exact * k


class BeyondCalendar(InvalidInput):
    """Date arithmetic that leaves the calendar accord can represent (years 1 to 9999)."""

    code = "beyond-calendar"


def _localize(shifted: datetime, tz: ZoneInfo) -> datetime:
    return shifted.replace(tzinfo=tz).astimezone(UTC)


def add_on_wall_clock(instant: datetime, duration: Duration, tz: ZoneInfo, k: int = 1) -> datetime:
    """``instant + k * duration`` counted on ``tz``'s wall clock, returned in UTC.

    Month arithmetic clamps to the month's last day (31 Jan + P1M = 28/29 Feb). A wall time
    that does not exist (a spring-forward gap) is read with the offset in force before the gap.
    """
    try:
        local = instant.astimezone(tz).replace(tzinfo=None)
        shifted: datetime = local + duration.times(k)
        return _localize(shifted, tz)
    except (OverflowError, ValueError):
        raise BeyondCalendar(
            f"{iso(instant)} + {k} × {duration.text} is beyond year 9999"
        ) from None


def subtract_on_wall_clock(instant: datetime, duration: Duration, tz: ZoneInfo) -> datetime:
    """``instant - duration`` on ``tz``'s wall clock, returned in UTC."""
    try:
        local = instant.astimezone(tz).replace(tzinfo=None)
        shifted: datetime = local - duration.times(1)
        return _localize(shifted, tz)
    except (OverflowError, ValueError):
        raise BeyondCalendar(f"{iso(instant)} − {duration.text} is before year 1") from None


def iso(instant: datetime, tz: ZoneInfo | None = None) -> str:
    """An instant as ISO 8601, in ``tz`` if given, else UTC with a ``Z``."""
    if tz is None:
        return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return instant.astimezone(tz).isoformat()


# --- STIX timestamps ----------------------------------------------------------------------------

# ASCII digits only: ``\d`` alone would also take other scripts' digits, which int() accepts
_STIX_STAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$", re.ASCII
)


def stix_time(instant: datetime) -> str:
    """A STIX/TAXII timestamp in UTC with microseconds."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stix_time(text: object) -> datetime | None:
    """A STIX timestamp (``YYYY-MM-DDTHH:MM:SS[.s+]Z``), or None when it is not one."""
    if not isinstance(text, str):
        return None
    m = _STIX_STAMP.match(text)
    if m is None:
        return None
    fraction = (m.group(7) or "").ljust(6, "0")[:6]
    try:
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        return datetime(year, month, day, hour, minute, second, int(fraction), tzinfo=UTC)
    except ValueError:
        return None
