"""Missile launches: the facts of one launch and the STIX launch-event object that carries them.

A launch is what a warning says: when it was detected (and how precisely that instant is known),
the site, the missile, how many, apogee and distance, where it came down, the outcome, and who
reports it with what confidence. ``Unknown`` in a source is ``None`` for a value and ``UNKNOWN``
for a vocabulary; nothing is guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from accord.errors import InvalidInput
from accord.model.time import require_aware


class InvalidLaunchEvent(InvalidInput):
    """A launch-event object or launch fact that breaks its definition; names the field (as
    the STIX property is spelt) and the value."""

    code = "invalid-launch-event"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


class MissileType(StrEnum):
    """The class of missile, as the sources name it."""

    SRBM = "srbm"  # short-range ballistic missile
    MRBM = "mrbm"  # medium-range
    IRBM = "irbm"  # intermediate-range
    ICBM = "icbm"  # intercontinental
    SLBM = "slbm"  # submarine-launched
    SLV = "slv"  # satellite launch vehicle
    HGV = "hgv"  # hypersonic glide vehicle
    CRUISE = "cruise"  # cruise missile
    UNKNOWN = "unknown"


class LaunchOutcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    UNKNOWN = "unknown"


class ImpactArea(StrEnum):
    """Where the missile (or its debris) came down."""

    SEA_OF_JAPAN = "sea-of-japan"  # the Sea of Japan / East Sea
    YELLOW_SEA = "yellow-sea"  # the Yellow Sea / West Sea
    PACIFIC_OCEAN = "pacific-ocean"
    NORTH_KOREA = "north-korea"  # on land, in North Korea
    NOT_APPLICABLE = (
        "not-applicable"  # nothing came down (a satellite launch, a failure on the pad)
    )
    UNKNOWN = "unknown"


class InstantPrecision(StrEnum):
    """How precisely the detection instant is known. ``day`` and ``month`` mark an approximate
    instant: 00:00 UTC of the day, or of the first day of the month."""

    SECOND = "second"
    MINUTE = "minute"
    DAY = "day"
    MONTH = "month"

    @property
    def approximate(self) -> bool:
        return self in (InstantPrecision.DAY, InstantPrecision.MONTH)

    def check(self, instant: datetime) -> None:
        """An instant of this precision has nothing finer than it: 00:00 UTC for a day, and
        the first of the month for a month."""
        finer = {
            InstantPrecision.SECOND: (instant.microsecond,),
            InstantPrecision.MINUTE: (instant.second, instant.microsecond),
            InstantPrecision.DAY: (
                instant.hour,
                instant.minute,
                instant.second,
                instant.microsecond,
            ),
            InstantPrecision.MONTH: (
                instant.day - 1,
                instant.hour,
                instant.minute,
                instant.second,
                instant.microsecond,
            ),
        }[self]
        if any(finer):
            raise InvalidLaunchEvent(
                "detected",
                f"{instant.isoformat()} is finer than its precision {self.value!r}"
                " (a day is 00:00 UTC, a month its first day)",
            )


@dataclass(frozen=True, slots=True)
class LaunchSite:
    """The launch site; any of its parts may be unknown."""

    name: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def __post_init__(self) -> None:
        if self.name is not None and not self.name.strip():
            raise InvalidLaunchEvent("launch_site.name", "must not be blank (omit it when unknown)")
        _check_range(self.latitude, -90.0, 90.0, "launch_site.latitude")
        _check_range(self.longitude, -180.0, 180.0, "launch_site.longitude")


@dataclass(frozen=True, slots=True)
class Measure:
    """A distance in kilometres: one value, or a range from ``km`` to ``max_km``."""

    km: float
    max_km: float | None = None

    def check(self, name: str) -> None:
        _check_range(self.km, 0.0, None, f"{name}_km")
        _check_range(self.max_km, self.km, None, f"{name}_km_max")


@dataclass(frozen=True, slots=True)
class Launch:
    """The facts of one launch (``count`` missiles of the same kind at the same instant)."""

    detected: datetime
    precision: InstantPrecision
    outcome: LaunchOutcome
    source: str
    site: LaunchSite = field(default_factory=LaunchSite)
    missile_name: str | None = None
    missile_type: MissileType = MissileType.UNKNOWN
    count: int = 1
    apogee: Measure | None = None
    distance: Measure | None = None
    impact_area: ImpactArea = ImpactArea.UNKNOWN
    impact_description: str | None = None
    confidence: int | None = None  # STIX confidence, 0-100
    description: str | None = None
    references: tuple[str, ...] = ()  # the source's own citations
    record: str | None = None  # the source's own id for the record

    def __post_init__(self) -> None:
        object.__setattr__(self, "detected", require_aware(self.detected, "detected"))
        if not self.source.strip():
            raise InvalidLaunchEvent("source", "must name who reports the launch")
        if self.missile_name is not None and not self.missile_name.strip():
            raise InvalidLaunchEvent("missile_name", "must not be blank (omit it when unknown)")
        if isinstance(self.count, bool) or self.count < 1:
            raise InvalidLaunchEvent("count", f"{self.count!r} must be a whole number, at least 1")
        if self.confidence is not None and not 0 <= self.confidence <= 100:
            raise InvalidLaunchEvent("confidence", f"{self.confidence!r} must be 0 to 100")
        for name, measure in (("apogee", self.apogee), ("distance", self.distance)):
            if measure is not None:
                measure.check(name)
        self.precision.check(self.detected)

    def title(self) -> str:
        """A one-line name: missile, type, site and instant."""
        missile = self.missile_name or "Unknown missile"
        site = self.site.name or "an unknown site"
        when = self.detected.strftime(
            {
                InstantPrecision.SECOND: "%Y-%m-%d %H:%M:%SZ",
                InstantPrecision.MINUTE: "%Y-%m-%d %H:%MZ",
                InstantPrecision.DAY: "%Y-%m-%d",
                InstantPrecision.MONTH: "%Y-%m",
            }[self.precision]
        )
        return f"{missile} ({self.missile_type.value}) from {site}, {when}"


@dataclass(frozen=True, slots=True)
class LaunchEvent:
    """The STIX 2.1 ``launch-event`` object (a new SDO, see ``accord.scenario.launch_stix``):
    its identity, its launch, and every other property exactly as it came (``extra``), so that
    unknown properties survive a round trip."""

    id: str
    created: datetime
    modified: datetime
    name: str
    launch: Launch
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "created", require_aware(self.created, "created"))
        object.__setattr__(self, "modified", require_aware(self.modified, "modified"))
        if self.modified < self.created:
            raise InvalidLaunchEvent("modified", "must not be earlier than created")
        if not self.name.strip():
            raise InvalidLaunchEvent("name", "must not be blank")


def _check_range(value: float | None, low: float, high: float | None, name: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidLaunchEvent(name, f"{value!r} is not a finite number")
    if value < low or (high is not None and value > high):
        bound = f"{low:g} to {high:g}" if high is not None else f"at least {low:g}"
        raise InvalidLaunchEvent(name, f"{value!r} must be {bound}")
