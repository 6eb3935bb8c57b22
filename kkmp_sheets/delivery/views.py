"""What digest templates see: zone bars, rows of cooperatives, changes, trend, problems.

Plain data made from one cycle's `CoopResult`s and `core.figures.CityFigures`; `digest.py` puts
them together per digest. Nothing here reads a member's personal data: a problem's value only
reaches a view through `safe_value` (masked when personal, and again when it looks like an
identity number).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from kkmp_sheets.core.figures import Totals
from kkmp_sheets.core.issue import Issue, Severity, mask_personal
from kkmp_sheets.core.report import CoopResult, sorted_issues
from kkmp_sheets.core.zoning import HIJAU, KUNING, MERAH
from kkmp_sheets.delivery.locale import ZONES, FigureRow, shares
from kkmp_sheets.store.history import CityPoint

TREND_DAYS = 30
TREND_HEIGHT_PX = 96
MAX_ROWS_PER_GROUP = 12
_LONG_DIGITS = re.compile(r"\d[\d .-]{10,}\d")

# --- views: what templates see --------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """A stacked zone bar: counts, and cell widths in percent of the bar (summing to 100)."""

    hijau: int
    kuning: int
    merah: int
    scale_pct: int = 100  # width of the whole bar, relative to the longest bar shown with it

    @property
    def total(self) -> int:
        return self.hijau + self.kuning + self.merah

    @property
    def counts(self) -> tuple[int, int, int]:
        return (self.hijau, self.kuning, self.merah)

    @property
    def cells(self) -> list[tuple[str, int, int]]:
        """(zone, count, width %) for each zone with a count."""
        widths = shares(self.counts, 100)
        return [(z, n, w) for z, n, w in zip(ZONES, self.counts, widths, strict=True) if n and w]


@dataclass(frozen=True)
class KecamatanRow:
    name: str
    jumlah: int
    aktif: int
    galat: int
    bar: Bar


@dataclass(frozen=True)
class CoopRow:
    id: str
    nama: str
    kelurahan: str
    kecamatan: str
    zone: str
    reasons: tuple[str, ...]
    readable: bool
    status_operasional: str | None
    anggota_aktif: int
    omset: float
    transaksi: int
    transaksi_terakhir: date | None
    data_diperbarui: datetime | None
    galat: int
    peringatan: int
    penanggung_jawab: str
    link: str  # a web link, or "" (a local path is no use to people outside the office)
    figures: tuple[FigureRow, ...] = ()  # its figures as the kecamatan digest lists them
    # Local mode: the workbook as a `file://` URI, for digests that stay inside the office (city,
    # penanggung jawab alert), whose readers open the office's folder; "" otherwise.
    file_link: str = ""
    file_path: str = ""  # the same file as a path to show: mail clients may block file links


@dataclass(frozen=True)
class StatusLink:
    """Where the reader opens the status spreadsheet: `url` for a link, `text` to show with it
    (the URL, or in local mode the file's path, since mail clients may block file links)."""

    url: str
    text: str
    local: bool


@dataclass(frozen=True)
class MerahItem:
    coop: CoopRow
    new: bool  # turned Merah since the previous recorded day
    since: date | None  # first recorded day of its current run of Merah days (None: unknown)


@dataclass(frozen=True)
class MerahList:
    """The Merah cooperatives a digest names (at most the configured limit), in the order of
    `merah_list`, and how many more there are."""

    items: list[MerahItem]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True)
class Quiet:
    """Why a cooperative counts as gone quiet: days since its last update / last sale."""

    coop: CoopRow
    stale_days: int | None
    no_sale_days: int | None


@dataclass(frozen=True)
class CountRow:
    coop: CoopRow
    count: int


@dataclass(frozen=True)
class Move:
    coop: CoopRow
    from_zone: str
    to_zone: str

    @property
    def worse(self) -> bool:
        return ZONE_RANK.get(self.to_zone, 0) > ZONE_RANK.get(self.from_zone, 0)


@dataclass
class ChangesView:
    first: bool
    since: date | None
    moves: list[Move] = field(default_factory=list)
    new_problems: list[CountRow] = field(default_factory=list)
    resolved_problems: list[CountRow] = field(default_factory=list)
    quiet: list[Quiet] = field(default_factory=list)
    newly_red: list[CoopRow] = field(default_factory=list)

    @property
    def new_total(self) -> int:
        return sum(r.count for r in self.new_problems)

    @property
    def resolved_total(self) -> int:
        return sum(r.count for r in self.resolved_problems)

    @property
    def empty(self) -> bool:
        return not (self.moves or self.new_problems or self.resolved_problems or self.quiet)


@dataclass(frozen=True)
class AlertItem:
    coop: CoopRow
    red: bool  # turned Merah since the previous recorded day
    quiet: Quiet | None  # went quiet since then (None: did not)


@dataclass(frozen=True)
class TrendBar:
    day: date
    aktif: int
    hijau_px: int
    kuning_px: int
    merah_px: int
    counts: tuple[int, int, int]


@dataclass(frozen=True)
class IssueRow:
    row: int | None
    value: str  # masked where personal; "" when there is nothing to show


@dataclass
class IssueGroup:
    """One kind of problem in one column of one tab, with every row it occurs in."""

    severity: str
    tab: str
    column: str
    message: str
    fix: str
    rows: list[IssueRow] = field(default_factory=list)
    more: int = 0  # rows not listed

    @property
    def count(self) -> int:
        return len(self.rows) + self.more


# --- building blocks ----------------------------------------------------------------------------


def coop_row(result: CoopResult, kecamatan: str, figures: Sequence[FigureRow] = ()) -> CoopRow:
    """A cooperative as the digests list it, under its kecamatan's shown name."""
    coop, fig = result.coop, result.figures
    return CoopRow(
        id=coop.id,
        nama=coop.nama,
        kelurahan=coop.kelurahan,
        kecamatan=kecamatan,
        zone=result.zone.name,
        reasons=result.zone.reasons,
        readable=fig.readable,
        status_operasional=fig.status_operasional,
        anggota_aktif=fig.anggota_aktif,
        omset=fig.omset,
        transaksi=fig.transaksi,
        transaksi_terakhir=fig.transaksi_terakhir,
        data_diperbarui=fig.data_diperbarui,
        galat=result.galat,
        peringatan=result.peringatan,
        penanggung_jawab=coop.penanggung_jawab,
        link=result.link if result.link.startswith(("https://", "http://")) else "",
        figures=tuple(figures),
        **_local_file(result.link),
    )


def _local_file(link: str) -> dict[str, str]:
    """`file_link`/`file_path` of a local workbook's absolute path; nothing for anything else."""
    if not link or "://" in link or not Path(link).is_absolute():
        return {}
    return {"file_link": Path(link).as_uri(), "file_path": link}


def status_link(address: str) -> StatusLink | None:
    """How a digest links to the status spreadsheet published at `address` (`Sink.link`)."""
    if address.startswith(("https://", "http://")):
        return StatusLink(address, address, local=False)
    if address.startswith("file://"):
        return StatusLink(address, url2pathname(urlsplit(address).path), local=True)
    return None  # not published (a dry run): nothing to open


def merah_list(
    rows: Iterable[CoopRow],
    *,
    newly_red: Collection[str],
    since: Mapping[str, date],
    as_of: date,
    limit: int,
) -> MerahList:
    """The Merah cooperatives among `rows`, as the digests name them. Order: those that turned
    Merah since the previous recorded day first; then the longest Merah first (the earliest first
    day of their current Merah run; one not recorded yet counts from `as_of`); then by kecamatan,
    name and ID. The first `limit` are listed."""
    items = [
        MerahItem(row, row.id in newly_red, since.get(row.id)) for row in rows if row.zone == MERAH
    ]
    items.sort(
        key=lambda i: (not i.new, i.since or as_of, i.coop.kecamatan, i.coop.nama, i.coop.id)
    )
    return MerahList(items[: max(limit, 0)], len(items))


def issue_groups(issues: Sequence[Issue]) -> list[IssueGroup]:
    """Problems grouped by (severity, tab, column, message, fix), Galat first, rows in order."""
    groups: dict[tuple[str, str, str, str, str], IssueGroup] = {}
    for issue in sorted_issues(list(issues)):
        key = (issue.severity.value, issue.tab, issue.column, issue.message, issue.fix)
        group = groups.get(key)
        if group is None:
            group = groups[key] = IssueGroup(*key)
        if len(group.rows) < MAX_ROWS_PER_GROUP:
            group.rows.append(IssueRow(issue.row, safe_value(issue)))
        else:
            group.more += 1
    order = {Severity.GALAT.value: 0, Severity.PERINGATAN.value: 1}
    return sorted(groups.values(), key=lambda g: order.get(g.severity, 9))  # stable: tab order


def safe_value(issue: Issue) -> str:
    """The value as a digest may show it: `Issue.public_value`, masked again if it looks like an
    identity number (defence in depth: a NIK is never shown whole, even if mislabelled)."""
    text = issue.public_value
    if not issue.personal and _LONG_DIGITS.search(text):
        text = mask_personal(text)
    return text if len(text) <= 40 else text[:39] + "…"


def kecamatan_row(name: str, totals: Totals, widest: int) -> KecamatanRow:
    """A kecamatan's line in the city digest, from its roll-up; `widest` scales the bar."""
    scale = round(100 * totals.jumlah / widest) if widest else 100
    return KecamatanRow(
        name=name,
        jumlah=totals.jumlah,
        aktif=totals.aktif,
        galat=totals.galat,
        bar=Bar(totals.hijau, totals.kuning, totals.merah, scale_pct=max(scale, 1)),
    )


def member_of(ids: set[str]) -> Callable[[CoopRow], bool]:
    return lambda row: row.id in ids


def zone_counts(bar: Bar) -> dict[str, int]:
    return {"hijau": bar.hijau, "kuning": bar.kuning, "merah": bar.merah}


def as_point(p: CityPoint | Sequence[Any]) -> CityPoint:
    day = p[0] if isinstance(p[0], date) else date.fromisoformat(str(p[0]))
    return CityPoint(day, int(p[1]), int(p[2]), int(p[3]), int(p[4]))


def point_on(
    series: Sequence[CityPoint | Sequence[Any]] | None, day: date | None
) -> CityPoint | None:
    if not series or day is None:
        return None
    for p in series:
        point = as_point(p)
        if point.day == day:
            return point
    return None


def trend(
    series: Sequence[CityPoint | Sequence[Any]] | None,
    as_of: date,
    today: tuple[int, int, int, int],
) -> list[TrendBar]:
    points = {p.day: p for p in map(as_point, series or ()) if p.day <= as_of}
    points[as_of] = CityPoint(as_of, *today)
    days = sorted(points)[-TREND_DAYS:]
    tallest = max((sum(points[d][2:5]) for d in days), default=0) or 1
    bars = []
    for d in days:
        p = points[d]
        counts = (p.hijau, p.kuning, p.merah)
        px = [max(1, round(TREND_HEIGHT_PX * n / tallest)) if n else 0 for n in counts]
        bars.append(TrendBar(d, p.aktif, px[0], px[1], px[2], counts))
    return bars


ZONE_RANK = {HIJAU: 0, KUNING: 1, MERAH: 2}
ZONE_RANK_DESC = {MERAH: 0, KUNING: 1, HIJAU: 2}
