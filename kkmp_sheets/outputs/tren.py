"""The trend chart of the Laporan Pimpinan: KKMP per zone on each recorded day, and KKMP Aktif.

From the history store's recorded days (what Riwayat shows); the cycle's own day is the last
point. Every point has a marker, so a first day alone is still visible, and the dates are the
days themselves in Indonesian (`29 Jan`), never a month-start tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kkmp_sheets.core.formats import format_date
from kkmp_sheets.core.tables import ZONE_SERIES_COLORS
from kkmp_sheets.core.zoning import HIJAU, KUNING, MERAH
from kkmp_sheets.outputs.plots import new_figure, png


@dataclass(frozen=True)
class TrendPoint:
    day: date
    hijau: int
    kuning: int
    merah: int
    aktif: int | None = None  # the city's KKMP Aktif; None where not recorded


def trend_png(
    points: Sequence[TrendPoint], *, width_in: float = 3.4, height_in: float = 1.8
) -> bytes:
    fig = new_figure(width_in, height_in)
    ax = fig.add_axes((0.11, 0.2, 0.86, 0.72))
    xs = list(range(len(points)))
    for zone, key in ((HIJAU, "hijau"), (KUNING, "kuning"), (MERAH, "merah")):
        ax.plot(xs, [getattr(p, key) for p in points], marker="o", markersize=3, linewidth=1.4,
                color=ZONE_SERIES_COLORS[zone], label=zone)  # fmt: skip
    if any(p.aktif is not None for p in points):
        ax.plot(xs, [p.aktif for p in points], marker="s", markersize=2.5, linewidth=1,
                linestyle="--", color="#1a73e8", label="KKMP Aktif")  # fmt: skip
    step = max(1, len(points) // 6)
    ticks = xs[::-1][::step][::-1]
    ax.set_xticks(ticks, [_short(points[i].day) for i in ticks], fontsize=6.5)
    ax.tick_params(axis="y", labelsize=6.5)
    ax.set_xlim(-0.5, max(len(points) - 0.5, 0.5))
    ax.set_ylim(bottom=0)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", color="#e0e0e0", linewidth=0.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=6, ncol=4, loc="upper center", bbox_to_anchor=(0.5, 1.14), frameon=False)
    return png(fig)


def _short(day: date) -> str:
    """`29 Jan`: the day and the short Indonesian month."""
    return " ".join(format_date(day, short=True).split()[:2])
