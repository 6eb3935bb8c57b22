"""The Laporan Pimpinan: a one-page A4 PDF for the city and one per kecamatan.

What a kepala suku dinas or camat takes into the weekly meeting: the zone counts and their
change since last week, progress toward the target, the Merah cooperatives with their reasons,
the five largest changes, the trend and a map. Every figure is read from the cycle's
`CityFigures` (the catalogue, `core/figures.py`); what the history store recorded
(`Recorded`) gives the comparison day and the trend. Only cooperatives' own names, kecamatan,
zones, reasons and figures reach the page: no NIK, member name or issue value is in its inputs.

HTML from `report_templates/id/laporan.html.j2` (the digests' jinja2 environment, passed in by
the service), PDF by WeasyPrint, the chart and the map by matplotlib (`tren.py`, `peta.py`) as
PNG. A page that would spill onto a second page is rendered again with shorter lists (the
overflow named as "dan N lainnya") until it fits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kkmp_sheets.core.figures import (
    BY_KEY,
    LAPORAN,
    CityFigures,
    Figure,
    Progress,
    Target,
    Totals,
    pick,
    target_progress,
)
from kkmp_sheets.core.lokasi import OUTSIDE_AREA
from kkmp_sheets.core.report import CoopResult
from kkmp_sheets.core.zoning import HIJAU, KUNING, MERAH
from kkmp_sheets.outputs.laporan_draw import (  # noqa: F401  (re-exported: the page's API)
    STYLE,
    TEMPLATE,
    EnvFactory,
    ReportUnavailable,
    charts,
    draw_pages,
    render_html,
    render_pdf,
    weasyprint_available,
    weasyprint_module,
)
from kkmp_sheets.outputs.peta import Pin
from kkmp_sheets.outputs.tren import TrendPoint

if TYPE_CHECKING:
    import jinja2

log = logging.getLogger(__name__)

CITY_AUDIENCE = "kota"
PREFIX = "laporan-pimpinan-"
MERAH_LISTED = 10  # first try (fits the demo city's page at once); fewer when it would overflow
UNPLACED_LISTED = 12
# One line per Merah row, so that the page's length is known: longer text is cut with "…"
# (the status workbook has it whole).
NAME_CHARS, REASONS_CHARS = 40, 84
CHANGES_LISTED = 5
_ZONE_RANK = {MERAH: 0, KUNING: 1, HIJAU: 2}
CHANGE_FIGURES = ("omset", "anggota_aktif")  # the per-cooperative figures a change is read on


@dataclass(frozen=True)
class Recorded:
    """What the history store recorded, as the report needs it (all aggregates)."""

    since: date | None = None  # the comparison day ("last week"); None: nothing recorded yet
    coops_then: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # id → coop_day
    city_then: Mapping[str, Any] | None = None  # the city_day row of `since`
    city_days: Sequence[Mapping[str, Any]] = ()  # city_day rows of the last 30 days, oldest first
    zones_by_day: Mapping[date, Mapping[str, str]] = field(default_factory=dict)  # id → zone


@dataclass(frozen=True)
class Tile:
    figure: Figure
    value: int
    delta: int | None  # None: no recorded day to compare with
    colour: str  # a zone name, or "" for the neutral tile


@dataclass(frozen=True)
class MerahRow:
    nama: str
    kecamatan: str
    kelurahan: str
    alasan: str


@dataclass(frozen=True)
class Change:
    nama: str
    kecamatan: str
    what: str  # "Zona" or a figure's label
    before: Any
    after: Any
    fmt: str  # how the template formats before/after: "zone", "rupiah", "number"
    share: float | None = None  # the change as a share of the larger value (figures only)


@dataclass(frozen=True)
class Unplaced:
    nama: str
    why: str


@dataclass
class ReportView:
    """Everything one page shows; the template only lays it out."""

    audience: str  # "kota" or "kecamatan:<key>"
    file_name: str
    city: str
    kecamatan: str | None
    as_of: date
    now: datetime
    totals: Totals
    tiles: list[Tile]
    figures: list[tuple[Figure, Any]]
    since: date | None
    progress: Progress
    merah: list[MerahRow]
    changes: list[Change]
    trend: list[TrendPoint]
    pins: list[Pin]
    unplaced: list[Unplaced]
    merah_listed: int = MERAH_LISTED
    unplaced_listed: int = UNPLACED_LISTED

    @property
    def title(self) -> str:
        return f"Kecamatan {self.kecamatan}" if self.kecamatan else self.city


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "tanpa-nama"


def file_name(kecamatan: str | None) -> str:
    return f"{PREFIX}{'kota' if kecamatan is None else slug(kecamatan)}.pdf"


# --- the views ------------------------------------------------------------------------------


def build_views(
    results: Sequence[CoopResult],
    figures: CityFigures,
    recorded: Recorded,
    *,
    city_name: str,
    target: Target,
    now: datetime,
) -> list[ReportView]:
    """The city's view, then one per named kecamatan, in the display order."""
    by_id = {r.coop.id: r for r in results}
    as_of = figures.window.as_of
    views = [
        _view(
            CITY_AUDIENCE, None, [by_id[i] for i in figures.per_coop if i in by_id],
            figures.city, figures.progress, figures, recorded, city_name, now,
            city_then=recorded.city_then, zone_days=None,
        )
    ]  # fmt: skip
    members_of = {
        group.kecamatan.key: [by_id[i] for i in group.coop_ids if i in by_id]
        for group in figures.kecamatan
        if group.kecamatan.named  # rows without a kecamatan: on the city's page only
    }
    zone_days = _zone_counts_by_day(recorded, members_of, as_of)
    for group in figures.kecamatan:
        if not group.kecamatan.named:
            continue
        progress = target_progress(group.totals, target, as_of)
        key = group.kecamatan.key
        views.append(
            _view(
                f"kecamatan:{key}", group.kecamatan.name, members_of[key],
                group.totals, progress, figures, recorded, city_name, now, city_then=None,
                zone_days=zone_days.get(key, {}),
            )
        )  # fmt: skip
    return _distinct_file_names(views)


def _distinct_file_names(views: list[ReportView]) -> list[ReportView]:
    """A province has kecamatan of the same name in different kabupaten (Banjaran, Ciawi…):
    their pages would overwrite each other's file, and each would be drawn again every cycle.
    Such a name's files carry the kecamatan's key ("…-banjaran-32-04-13.pdf"); a name used
    once keeps its plain file name."""
    taken = Counter(v.file_name for v in views)
    return [
        replace(v, file_name=file_name(f"{v.kecamatan} {v.audience.split(':', 1)[1]}"))
        if taken[v.file_name] > 1 and v.kecamatan is not None
        else v
        for v in views
    ]


ZoneDays = dict[date, tuple[int, int, int]]  # a recorded day → (hijau, kuning, merah)


def _zone_counts_by_day(
    recorded: Recorded, members_of: Mapping[str, Sequence[CoopResult]], as_of: date
) -> dict[str, ZoneDays]:
    """Each kecamatan's zone counts on each recorded day before `as_of`, in one pass over the
    recorded zones (a province has hundreds of kecamatan and thousands of cooperatives: counting
    them again for every kecamatan made building the views quadratic)."""
    group_of = {r.coop.id: key for key, members in members_of.items() for r in members}
    rank = {HIJAU: 0, KUNING: 1, MERAH: 2}
    out: dict[str, ZoneDays] = {key: {} for key in members_of}
    for day, zones in sorted(recorded.zones_by_day.items()):
        if day >= as_of:
            continue
        counts = {key: [0, 0, 0] for key in members_of}
        for coop_id, zone in zones.items():
            key = group_of.get(coop_id)
            if key is not None and zone in rank:
                counts[key][rank[zone]] += 1
        for key, (hijau, kuning, merah) in counts.items():
            out[key][day] = (hijau, kuning, merah)
    return out


def _view(
    audience: str,
    kecamatan: str | None,
    members: list[CoopResult],
    totals: Totals,
    progress: Progress,
    figures: CityFigures,
    recorded: Recorded,
    city_name: str,
    now: datetime,
    *,
    city_then: Mapping[str, Any] | None,
    zone_days: ZoneDays | None,
) -> ReportView:
    ids = [r.coop.id for r in members]
    then_counts = _counts_then(ids, recorded, city_then)
    tiles = [
        Tile(BY_KEY[key], totals.get(key), _delta(totals.get(key), then_counts, key), colour)
        for key, colour in (("hijau", HIJAU), ("kuning", KUNING), ("merah", MERAH),
                            ("aktif", ""), ("jumlah", ""))
    ]  # fmt: skip
    return ReportView(
        audience=audience,
        file_name=file_name(kecamatan),
        city=city_name,
        kecamatan=kecamatan,
        as_of=figures.window.as_of,
        now=now,
        totals=totals,
        tiles=tiles,
        figures=[(f, totals.get(f.key)) for f in pick(LAPORAN)],
        since=recorded.since,
        progress=progress,
        merah=_merah(members, figures),
        changes=largest_changes(members, figures, recorded),
        trend=_trend(recorded, totals, figures.window.as_of, zone_days),
        pins=[p for p in (_pin(r, figures) for r in members) if p is not None],
        unplaced=_unplaced(members),
    )


def _counts_then(
    ids: Iterable[str], recorded: Recorded, city_then: Mapping[str, Any] | None
) -> dict[str, int] | None:
    """The zone counts (and, for the city, KKMP Aktif and Jumlah) on the comparison day."""
    if recorded.since is None:
        return None
    if city_then is not None:  # the city: its recorded figures
        return {k: city_then[k] for k in ("hijau", "kuning", "merah", "aktif", "jumlah")}
    zones = [recorded.coops_then[i]["zone"] for i in ids if i in recorded.coops_then]
    return {
        "hijau": zones.count(HIJAU),
        "kuning": zones.count(KUNING),
        "merah": zones.count(MERAH),
        "jumlah": len(zones),
    }


def _delta(now: int, then: Mapping[str, int] | None, key: str) -> int | None:
    if then is None or key not in then or then[key] is None:
        return None
    return now - then[key]


def _merah(members: Iterable[CoopResult], figures: CityFigures) -> list[MerahRow]:
    rows = [
        MerahRow(
            _cut(r.coop.nama, NAME_CHARS),
            figures.kecamatan_of[r.coop.id].name,
            _cut(r.coop.kelurahan, 24),
            _cut("; ".join(r.zone.reasons), REASONS_CHARS),
        )
        for r in members
        if figures.coop(r.coop.id)["zona"] == MERAH
    ]
    return sorted(rows, key=lambda m: (m.kecamatan, m.kelurahan, m.nama))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ;,") + "…"


def largest_changes(
    members: Iterable[CoopResult], figures: CityFigures, recorded: Recorded
) -> list[Change]:
    """The five largest changes since the comparison day, one per cooperative (docs/laporan.md):
    first every zone move (into Merah first, then Kuning, then Hijau), then the largest changes
    of Omset 30 Hari or Anggota Aktif, measured as a share of the larger of the two values (a
    fall from Rp10 juta to Rp2 juta is 80 %), larger shares first."""
    moves: list[tuple[tuple, Change]] = []
    figure_changes: list[tuple[tuple, Change]] = []
    for r in members:
        then = recorded.coops_then.get(r.coop.id)
        if then is None:
            continue  # not recorded on that day: nothing to compare
        now = figures.coop(r.coop.id)
        kec = figures.kecamatan_of[r.coop.id].name
        if then["zone"] != now["zona"]:
            change = Change(r.coop.nama, kec, "Zona", then["zone"], now["zona"], "zone")
            moves.append(((_ZONE_RANK.get(now["zona"], 9), kec, r.coop.nama), change))
            continue
        best: tuple[float, float, Change] | None = None
        for key in CHANGE_FIGURES:
            before, after = then.get(key) or 0, now[key] or 0
            larger = max(abs(before), abs(after))
            if larger == 0 or before == after:
                continue
            share = abs(after - before) / larger
            f = BY_KEY[key]
            fmt = "rupiah" if f.unit == "Rp" else "number"
            candidate = Change(r.coop.nama, kec, f.label, before, after, fmt, share)
            if best is None or (share, abs(after - before)) > best[:2]:
                best = (share, abs(after - before), candidate)
        if best is not None:
            figure_changes.append(((-best[0], kec, r.coop.nama), best[2]))
    moves.sort(key=lambda kv: kv[0])
    figure_changes.sort(key=lambda kv: kv[0])
    return [c for _, c in (moves + figure_changes)[:CHANGES_LISTED]]


def _trend(
    recorded: Recorded, totals: Totals, as_of: date, zone_days: ZoneDays | None
) -> list[TrendPoint]:
    """The recorded days, then today from this cycle's figures (replacing a recorded today).
    `zone_days`: a kecamatan's counts on its recorded days (`_zone_counts_by_day`); None: the
    city, whose recorded figures are its own rows."""
    city = zone_days is None
    points: list[TrendPoint] = []
    if zone_days is None:
        for row in recorded.city_days:
            day = row["as_of"]
            if day < as_of:
                points.append(
                    TrendPoint(day, row["hijau"], row["kuning"], row["merah"], row["aktif"])
                )
    else:
        for day, (hijau, kuning, merah) in sorted(zone_days.items()):
            points.append(TrendPoint(day, hijau, kuning, merah))
    points.append(
        TrendPoint(as_of, totals.hijau, totals.kuning, totals.merah, totals.aktif if city else None)
    )
    return points


def _pin(r: CoopResult, figures: CityFigures) -> Pin | None:
    point = r.figures.titik_lokasi
    if point is None or _outside(r):
        return None
    return Pin(
        point[0], point[1], figures.coop(r.coop.id)["zona"], figures.kecamatan_of[r.coop.id].name
    )


def _outside(r: CoopResult) -> bool:
    return any(i.code == OUTSIDE_AREA for i in r.issues)


def _unplaced(members: Iterable[CoopResult]) -> list[Unplaced]:
    out = []
    for r in members:
        if not r.figures.readable:
            why = "berkas tidak terbaca"
        elif _outside(r):
            why = "di luar wilayah kota"
        elif r.figures.titik_lokasi is None:
            why = "Titik Lokasi belum diisi atau tidak terbaca"
        else:
            continue
        out.append(Unplaced(r.coop.nama, why))
    return sorted(out, key=lambda u: (u.why, u.nama))  # grouped by why on the page


# --- rendering ------------------------------------------------------------------------------


class ReportsIncomplete(RuntimeError):
    """Some pages could not be drawn; the others were written (`written`, audience → path)."""

    def __init__(self, written: dict[str, Path], failed: Mapping[str, BaseException]):
        names = ", ".join(f"{name} ({type(exc).__name__}: {exc})" for name, exc in failed.items())
        super().__init__(f"{len(failed)} halaman tidak dibuat: {names}")
        self.written = written
        self.failed = dict(failed)


def write_reports(
    views: Sequence[ReportView],
    env: jinja2.Environment,
    folder: Path,
    *,
    prune: bool = True,
    workers: int = 1,
    env_factory: EnvFactory | None = None,
) -> dict[str, Path]:
    """Each view as `<folder>/<file_name>` (written atomically); audience → path.

    A page whose content is the same as when its PDF was last written (everything but the
    time it was made: `KEYS_FILE` keeps a hash of each) is not drawn again, so the hourly
    cycles of `serve` cost nothing while nothing changed: neither WeasyPrint nor matplotlib is
    imported then. The pages that changed are drawn by `workers` processes (`laporan_draw`;
    `env_factory` makes the template environment in each). A page that fails is not written
    and keeps its old key, so the next cycle draws it again; the others are written and
    `ReportsIncomplete` names it. With `prune`, PDFs of this kind left from kecamatan that no
    longer exist are removed, so the folder shows today's."""
    weasyprint_available()  # fail before anything is drawn, without importing it
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f".{PREFIX}*.tmp"):  # a write a crash cut short
        stale.unlink(missing_ok=True)
    keys = _read_keys(folder)
    source = template_source(env)
    written: dict[str, Path] = {}
    to_draw: list[tuple[ReportView, str]] = []
    for view in views:
        path = folder / view.file_name
        key = content_key(view, env, source)
        if keys.get(view.file_name) != key or not path.is_file():
            to_draw.append((view, key))
        written[view.audience] = path
    key_of = {id(view): key for view, key in to_draw}
    failed: dict[str, BaseException] = {}
    try:
        drawn = draw_pages(
            [view for view, _ in to_draw], env, workers=workers, env_factory=env_factory
        )
        for view, pdf in drawn:
            if isinstance(pdf, BaseException):
                log.error("Laporan Pimpinan %s not drawn: %s", view.file_name, pdf)
                failed[view.file_name] = pdf
                keys.pop(view.file_name, None)  # drawn again next cycle
                continue
            _write_atomically(folder / view.file_name, pdf)
            keys[view.file_name] = key_of[id(view)]
    finally:  # what was written is recorded even when drawing stopped
        keep = {p.name for p in written.values()}
        for old in folder.glob(f"{PREFIX}*.pdf") if prune else ():
            if old.name not in keep:
                old.unlink(missing_ok=True)
                keys.pop(old.name, None)
        _write_atomically(folder / KEYS_FILE, json.dumps(keys, indent=1, sort_keys=True).encode())
    if failed:
        raise ReportsIncomplete({a: p for a, p in written.items() if p.name not in failed}, failed)
    return written


KEYS_FILE = ".laporan-pimpinan.json"


def content_key(view: ReportView, env: jinja2.Environment, source: str | None = None) -> str:
    """What the page says, without the moment it was made, and the templates it is made from
    (`source`: `template_source(env)`, read once by a caller that keys many pages)."""
    if source is None:
        source = template_source(env)
    said = {
        "page": [view.audience, view.city, view.kecamatan, view.as_of, view.since],
        "tiles": [(t.figure.key, t.value, t.delta, t.colour) for t in view.tiles],
        "figures": [(f.key, value) for f, value in view.figures],
        "progress": asdict(view.progress),
        "merah": [_as_dict(m) for m in view.merah],
        "changes": [_as_dict(c) for c in view.changes],
        "unplaced": [_as_dict(u) for u in view.unplaced],
        "trend": [_as_row(p) for p in view.trend],
        "pins": [_as_row(p) for p in view.pins],
        "template": source,
    }
    text = json.dumps(said, default=str, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def template_source(env: jinja2.Environment) -> str:
    return "".join(
        env.loader.get_source(env, name)[0] if env.loader else "" for name in (TEMPLATE, STYLE)
    )


# dataclasses.asdict/astuple copy every value deeply; these rows hold only plain values, so the
# same dict or list is made without the copying (a province keys thousands of them).
def _as_dict(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _field_names(type(row))}


def _as_row(row: Any) -> list[Any]:
    return [getattr(row, name) for name in _field_names(type(row))]


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: Any) -> tuple[str, ...]:
    if cls not in _FIELD_NAMES:
        _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return _FIELD_NAMES[cls]


def _read_keys(folder: Path) -> dict[str, str]:
    try:
        keys = json.loads((folder / KEYS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return keys if isinstance(keys, dict) else {}


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # a report to share, not a secret (mkstemp makes it 0600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
