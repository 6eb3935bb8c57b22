"""Where the cooperatives are: which Titik Lokasi lie outside the city's area.

There is no boundary data offline, so the area is one of two things (docs/laporan.md):

- `[city] area = [south, west, north, east]` in the config: a bounding box in degrees; a point
  outside it is outside the city.
- otherwise, the city's own cooperatives: the centre is the median latitude and the median
  longitude of their points (robust: up to half of them may be wrong without moving it much),
  and a point farther than `[city] area_radius_km` from it is outside. With fewer than
  `MIN_POINTS` located cooperatives there is no centre to trust, and nothing is flagged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import median

from kkmp_sheets.core import formats
from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.template import PROFIL

Point = tuple[float, float]  # (latitude, longitude) in degrees
MIN_POINTS = 5
EARTH_RADIUS_KM = 6371.0
OUTSIDE_AREA = "latlong-outside-area"


@dataclass(frozen=True)
class Area:
    """The city's area: a bounding box when configured, else a radius around the median."""

    box: tuple[float, float, float, float] | None = None  # south, west, north, east
    radius_km: float = 30.0


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def centre(points: Mapping[str, Point]) -> Point | None:
    """The median point of the cooperatives, or None with fewer than `MIN_POINTS`."""
    if len(points) < MIN_POINTS:
        return None
    return median(p[0] for p in points.values()), median(p[1] for p in points.values())


def outside(points: Mapping[str, Point], area: Area) -> dict[str, str]:
    """Cooperative id → why its point lies outside the area (the issue's detail)."""
    found: dict[str, str] = {}
    if area.box is not None:
        south, west, north, east = area.box
        for coop_id, (lat, lon) in points.items():
            if not (south <= lat <= north and west <= lon <= east):
                found[coop_id] = (
                    f"{formats.format_latlong((lat, lon))} di luar batas wilayah kota yang "
                    f"ditetapkan dinas ({south}, {west} sampai {north}, {east})"
                )
        return found
    middle = centre(points)
    if middle is None:
        return found
    for coop_id, point in points.items():
        km = distance_km(middle, point)
        if km > area.radius_km:
            found[coop_id] = (
                f"{formats.format_latlong(point)} berjarak {formats.format_number(round(km))} km "
                f"dari pusat titik koperasi kota (batas {formats.format_number(area.radius_km)} km)"
            )
    return found


def area_issues(
    points: Mapping[str, Point],
    area: Area,
    where: Mapping[str, tuple[str | None, int | None]] | None = None,
) -> dict[str, Issue]:
    """The Peringatan for each cooperative whose Titik Lokasi lies outside the city's area, at
    `where` it is (coop id → (Profil tab as named, row)) when known."""
    column = PROFIL.field("titik_lokasi").label
    where = where or {}
    out = {}
    for coop_id, detail in outside(points, area).items():
        tab, row = where.get(coop_id, (None, None))
        lat, long = points[coop_id]
        out[coop_id] = Issue(
            OUTSIDE_AREA,
            tab=tab or PROFIL.name,
            row=row,
            column=column,
            value=f"{lat:.6f}, {long:.6f}",  # a tick on it lapses when the point moves
            detail=detail,
        )
    return out
