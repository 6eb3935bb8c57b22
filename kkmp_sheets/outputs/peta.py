"""The map of the Laporan Pimpinan: cooperatives placed by Titik Lokasi, coloured by zone.

No basemap (the service works offline): a longitude/latitude scatter drawn with equal aspect
after scaling longitude by cos(latitude), so distances look right at the equator and anywhere
else; each kecamatan gets a light convex hull around its points and its name at their median
point. Drawn by matplotlib (`plots.py`) as a PNG embedded in the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from kkmp_sheets.core.tables import ZONE_SERIES_COLORS
from kkmp_sheets.core.zoning import HIJAU, KUNING, MERAH
from kkmp_sheets.outputs.plots import new_figure, png

DRAW_ORDER = (HIJAU, KUNING, MERAH)  # red drawn last: never hidden under a green dot


@dataclass(frozen=True)
class Pin:
    """One cooperative on the map (no name: the map shows where, the list beside it who)."""

    lat: float
    lon: float
    zone: str
    kecamatan: str


def map_png(pins: Sequence[Pin], *, width_in: float = 3.9, height_in: float = 3.3) -> bytes:
    """The map as a PNG."""
    fig = new_figure(width_in, height_in)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
    ax.set_axis_off()
    if not pins:
        ax.text(0.5, 0.5, "Belum ada Titik Lokasi yang bisa dipetakan", ha="center",
                va="center", fontsize=8, color="#5f6368", transform=ax.transAxes)  # fmt: skip
        return png(fig)
    scale = math.cos(math.radians(median(p.lat for p in pins)))
    groups: dict[str, list[Pin]] = {}
    for pin in pins:
        groups.setdefault(pin.kecamatan, []).append(pin)
    for _name, members in sorted(groups.items()):
        xy = [(p.lon * scale, p.lat) for p in members]
        hull = _convex_hull(xy)
        if len(hull) >= 3:
            ax.fill(*zip(*hull, strict=True), facecolor="#e8eaed", edgecolor="#bdc1c6",
                    linewidth=0.6, alpha=0.55, zorder=1)  # fmt: skip
    for zone in DRAW_ORDER:
        xy = [(p.lon * scale, p.lat) for p in pins if p.zone == zone]
        if xy:
            ax.scatter(*zip(*xy, strict=True), s=22, c=ZONE_SERIES_COLORS[zone],
                       edgecolors="white", linewidths=0.6, zorder=3, label=zone)  # fmt: skip
    for name, members in sorted(groups.items()):
        x = median(p.lon for p in members) * scale
        y = median(p.lat for p in members)
        ax.annotate(name, (x, y), ha="center", va="center", fontsize=7, color="#202124",
                    fontweight="bold", zorder=4,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.7})  # fmt: skip
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.08)
    return png(fig)


def _convex_hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain: the hull's corners, counter-clockwise."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o, a, b) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]
