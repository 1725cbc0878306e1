"""A launch event drawn on a map of North-East Asia from its coordinates (no tiles): an
equirectangular projection of a fixed box, a few reference places, the launch site, the reported
distance as a ring around it (the record has no bearing), and the impact area's label at that
area's approximate centre."""

from __future__ import annotations

import math
from typing import Any

from accord.errors import InvalidInput
from accord.model.item import Item
from accord.model.launch import ImpactArea, Launch
from accord.scenario import launch_stix

WEST, EAST, SOUTH, NORTH = 118.0, 148.0, 28.0, 46.0  # degrees: the box drawn
WIDTH, HEIGHT = 600.0, 360.0
KM_PER_DEGREE = 111.2
PLACES = {"Pyongyang": (39.02, 125.75), "Seoul": (37.57, 126.98), "Tokyo": (35.68, 139.69)}
AREA_CENTRES = {  # approximate: for the label only
    ImpactArea.SEA_OF_JAPAN: (40.0, 134.0),
    ImpactArea.YELLOW_SEA: (36.0, 123.5),
    ImpactArea.PACIFIC_OCEAN: (38.0, 145.0),
    ImpactArea.NORTH_KOREA: (40.3, 127.3),
}


def point(latitude: float, longitude: float) -> tuple[float, float]:
    x = (longitude - WEST) / (EAST - WEST) * WIDTH
    y = (NORTH - latitude) / (NORTH - SOUTH) * HEIGHT
    return round(x, 1), round(y, 1)


def launch_of(item: Item) -> Launch | None:
    """The launch an item's STIX object states, if it is a valid launch-event."""
    if not item.stix or item.stix.get("type") != "launch-event":
        return None
    try:
        return launch_stix.from_stix(item.stix).launch
    except InvalidInput:
        return None


def launch_map(item: Item) -> dict[str, Any] | None:
    """What the item page draws, or None when the item states no launch with a site."""
    launch = launch_of(item)
    if launch is None:
        return None
    site = launch.site
    drawn: dict[str, Any] = {
        "width": WIDTH,
        "height": HEIGHT,
        "places": [{"name": n, "xy": point(*ll)} for n, ll in PLACES.items()],
        "site": None,
        "ring": None,
        "area": None,
        "launch": launch,
    }
    if site.latitude is not None and site.longitude is not None:
        x, y = point(site.latitude, site.longitude)
        drawn["site"] = {"name": site.name or "launch site", "xy": (x, y)}
        if launch.distance is not None:
            rx = launch.distance.km / (KM_PER_DEGREE * math.cos(math.radians(site.latitude)))
            ry = launch.distance.km / KM_PER_DEGREE
            drawn["ring"] = {
                "rx": round(rx / (EAST - WEST) * WIDTH, 1),
                "ry": round(ry / (NORTH - SOUTH) * HEIGHT, 1),
                "km": launch.distance.km,
            }
    centre = AREA_CENTRES.get(launch.impact_area)
    if centre is not None:
        drawn["area"] = {"name": launch.impact_area.value.replace("-", " "), "xy": point(*centre)}
    return drawn
