"""Replaying a launch database: each launch becomes a ``launch-event`` item created by the
originator at the launch's real instant, through the exchange's normal item creation (sealed,
signed and logged, one transaction per launch) and registered as a STIX object for TAXII.

Between two launches the replay waits their real interval divided by ``speed`` on the wall
clock (``speed`` 0: no waiting); the instants recorded are the real ones either way. Waiting is
scheduled from the first launch published, so slow writes do not add up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from accord.errors import InvalidInput, OutOfOrder
from accord.model.item import Item
from accord.model.launch import InvalidLaunchEvent, Launch, LaunchEvent
from accord.model.time import iso, require_aware
from accord.scenario import launch_stix
from accord.scenario.launch_rows import LaunchFile, LaunchRow, UnreadableRows
from accord.service.exchange import Exchange
from accord.service.taxii import derived_id
from accord.store import taxii as taxii_store


@dataclass(frozen=True, slots=True)
class ReplaySettings:
    """Who publishes, how it is marked, which launches, how fast."""

    originator: str
    topics: frozenset[str]
    level: str | None = None  # None: the originator's lowest level
    releasable_to: frozenset[str] = frozenset()  # empty: the originator only (R5)
    speed: float = 0.0  # wall-clock compression; 0 publishes without waiting
    start: datetime | None = None  # only launches at or after this instant
    until: datetime | None = None  # only launches before this instant
    skip_bad: bool = False  # publish the readable rows when some cannot be read

    def __post_init__(self) -> None:
        if not self.speed >= 0 or self.speed == float("inf"):
            raise InvalidInput(f"--speed: {self.speed!r} must be a number ≥ 0 (0: no waiting)")
        if not self.topics:
            raise InvalidInput("--topics: name at least one topic")
        for name in ("start", "until"):
            value = getattr(self, name)
            if value is not None:
                require_aware(value, f"--{name}")


@dataclass(frozen=True, slots=True)
class Published:
    """One launch of the replay: its item, and whether it was created now or already there."""

    line: int
    item: str
    stix_id: str
    at: datetime
    title: str
    created: bool


@dataclass(frozen=True, slots=True)
class ReplayReport:
    selected: int  # launches in the window
    published: int  # items created
    present: int  # items that already existed (an earlier replay)
    unreadable: int  # rows that could not be read (skipped with skip_bad)


def launch_stix_id(layout: str, row: LaunchRow) -> str:
    """The same id for the same record of the same database, in every replay."""
    record = row.launch.record or f"line-{row.line}"
    return derived_id(launch_stix.TYPE, f"{layout}/{record}")


def party_identity(code: str) -> str:
    """The STIX identity of a party (as the TAXII API publishes it)."""
    return derived_id("identity", f"party/{code}")


def launch_item_id(originator: str, stix_id: str, version: str) -> str:
    """The item id of a STIX object originated by a party: the id TAXII gives a posted
    object, so that posting the same object again finds it."""
    return f"{originator}~{stix_id}~{version}"


def _summary(launch: Launch, title: str) -> str:
    facts = [f"outcome {launch.outcome.value}", f"impact area {launch.impact_area.value}"]
    for name, measure in (("apogee", launch.apogee), ("distance", launch.distance)):
        if measure is not None:
            upper = f"-{measure.max_km:g}" if measure.max_km is not None else ""
            facts.append(f"{name} {measure.km:g}{upper} km")
    approximate = " (approximate instant)" if launch.precision.approximate else ""
    return f"{title}{approximate}: {', '.join(facts)}. Source: {launch.source}."


def launch_item(layout: str, row: LaunchRow, settings: ReplaySettings, level: str) -> Item:
    """The item of one launch: its STIX object checked as every posted one is."""
    launch = row.launch
    stix_id = launch_stix_id(layout, row)
    title = launch.title()
    event = LaunchEvent(
        stix_id,
        launch.detected,
        launch.detected,
        title,
        launch,
        {"created_by_ref": party_identity(settings.originator)},
    )
    obj = launch_stix.to_stix(event)
    found = launch_stix.problems(obj)
    if found:
        raise InvalidLaunchEvent(found[0][0], f"line {row.line}: {found[0][1]}")
    return Item(
        launch_item_id(settings.originator, stix_id, obj["modified"]),
        settings.originator,
        level,
        settings.topics,
        settings.releasable_to,
        launch.detected,
        title,
        _summary(launch, title),
        obj,
    )


class Replayer:
    """Publishes the launches of a file into an exchange. ``sleep`` and ``monotonic`` are the
    wall clock the waits use (tests give their own)."""

    def __init__(
        self,
        exchange: Exchange,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.exchange = exchange
        self.sleep = sleep
        self.monotonic = monotonic

    def _selected(self, launches: LaunchFile, settings: ReplaySettings) -> list[LaunchRow]:
        rows = sorted(launches.rows, key=lambda r: (r.launch.detected, r.line))
        return [
            r
            for r in rows
            if (settings.start is None or r.launch.detected >= settings.start)
            and (settings.until is None or r.launch.detected < settings.until)
        ]

    def _check(self, launches: LaunchFile, settings: ReplaySettings) -> str:
        """Everything that can be checked before the first write; returns the level."""
        if launches.problems and not settings.skip_bad:
            raise UnreadableRows(
                launches.problem_report()
                + "\nnothing was published (give --skip-bad to publish the readable rows)"
            )
        world = self.exchange.snapshot()
        party = world.party(settings.originator)
        level = settings.level or party.levels[0]
        party.rank(level)
        unknown = sorted(settings.topics - world.topics)
        if unknown:
            raise InvalidInput(f"--topics: {', '.join(unknown)} is not a topic of this exchange")
        for code in sorted(settings.releasable_to):
            world.party(code)
        return level

    def run(
        self,
        launches: LaunchFile,
        settings: ReplaySettings,
        progress: Callable[[Published], None] | None = None,
    ) -> ReplayReport:
        """Publish every selected launch in time order; nothing is written when the file has
        unreadable rows (unless ``skip_bad``) or a launch is earlier than the record."""
        level = self._check(launches, settings)
        rows = self._selected(launches, settings)
        world = self.exchange.snapshot()
        items = [(row, launch_item(launches.layout, row, settings, level)) for row in rows]
        new = [(row, item) for row, item in items if item.id not in world.items]
        if new and world.latest is not None and new[0][1].created < world.latest:
            row, item = new[0]
            raise OutOfOrder(
                f"{launches.name}: line {row.line}: the launch at {iso(item.created)} is earlier"
                f" than the exchange's latest recorded act ({iso(world.latest)}); the record is"
                " append-only in time (give --start at or after that instant)"
            )
        published = 0
        first: tuple[float, datetime] | None = None
        for row, item in items:
            if item.id in world.items:
                if progress is not None:
                    progress(self._published(row, item, created=False))
                continue
            first = self._wait(first, item.created, settings.speed)
            self._create(item)
            published += 1
            if progress is not None:
                progress(self._published(row, item, created=True))
        unreadable = len({p.line for p in launches.problems})
        return ReplayReport(len(rows), published, len(rows) - published, unreadable)

    def _wait(
        self, first: tuple[float, datetime] | None, at: datetime, speed: float
    ) -> tuple[float, datetime]:
        if first is None or speed == 0:
            return first or (self.monotonic(), at)
        due = first[0] + (at - first[1]).total_seconds() / speed
        delay = due - self.monotonic()
        if delay > 0:
            self.sleep(delay)
        return first

    def _create(self, item: Item) -> None:
        assert item.stix is not None
        row = taxii_store.ObjectRow(
            item.id, item.stix["id"], launch_stix.TYPE, item.stix["modified"], "2.1"
        )
        with self.exchange.batch():
            self.exchange.add_item(item)
            with self.exchange.session(write=True) as s:
                taxii_store.add_objects(s.tx, [row])

    @staticmethod
    def _published(row: LaunchRow, item: Item, *, created: bool) -> Published:
        assert item.stix is not None
        return Published(row.line, item.id, item.stix["id"], item.created, item.title, created)
