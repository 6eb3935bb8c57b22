"""One level up: a province's (or the nation's) figures from its children's status spreadsheets.

Pure: the rows of a few tabs of each child in, a `StatusBook` out. A parent reads only the
children's aggregate tabs — Metadata, Ringkasan and (for `[federation] per_kecamatan`) the
one-row-per-sub-region tab — and takes each figure from Ringkasan by the catalogue's label
(`core/figures.py`): nothing is derived again, and no cooperative row, NIK or name is ever
among what it reads. The parent's own figures are the catalogue's roll-up of the children's
(`rollup_totals`); its status spreadsheet has the same Ringkasan labels and Metadata tab as a
city's, so that the nation reads provinces exactly as a province reads cities.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kkmp_sheets.core import formats
from kkmp_sheets.core.figures import (
    BY_KEY,
    KECAMATAN_TAB,
    RINGKASAN,
    SHARES,
    Target,
    Totals,
    pick,
    rollup_totals,
    target_progress,
)
from kkmp_sheets.core.metadata import (
    METADATA_TAB,
    NASIONAL,
    PROVINSI,
    Metadata,
    Refused,
    child_level,
    inside,
    level_of,
    metadata_sheet,
    read_metadata,
)
from kkmp_sheets.core.report import RIWAYAT_COLUMNS, figure_col, riwayat_row
from kkmp_sheets.core.tables import (
    ZONE_SERIES_COLORS,
    Cell,
    CellValue,
    Chart,
    ChartKind,
    Col,
    Fmt,
    Print,
    Sheet,
    StatusBook,
)
from kkmp_sheets.core.zoning import HIJAU, KUNING, MERAH

RINGKASAN_TAB = "Ringkasan"
# How the children are called, by the parent's level.
CHILD_NOUN = {PROVINSI: "Kab/Kota", NASIONAL: "Provinsi"}
# What a parent shows of each child, in this order (capaian: KKMP Aktif ÷ Jumlah KKMP).
CHILD_FIGURES = (
    "jumlah", "aktif", "capaian", "hijau", "kuning", "merah", "anggota_aktif", "simpanan_pokok",
    "simpanan_wajib", "simpanan_sukarela", "omset", "nilai_stok", "kelengkapan", "galat",
    "peringatan",
)  # fmt: skip

# A child's freshness, as its row says it.
TERKINI = "Terkini"  # read this cycle, data date within `stale_days`
TERLAMBAT = "Terlambat"  # read this cycle, but its data date is older
ANGKA_TERAKHIR = "Angka terakhir"  # not readable now: its last good figures stand in
TIDAK_TERBACA = "Tidak terbaca"  # not readable, and never was
DITOLAK = "Ditolak"  # read, and refused: outside the region or of an unreadable version
COUNTED = (TERKINI, TERLAMBAT, ANGKA_TERAKHIR)  # whose figures make the parent's


def child_tab(level: str) -> str:
    """The parent's tab with one row per child: `Status Kab-Kota`, `Status Provinsi` (a tab
    name may not hold `/` in Excel)."""
    return f"Status {CHILD_NOUN[level].replace('/', '-')}"


# --- the registry of children -------------------------------------------------------------------

CHILD_COLUMNS = {
    "kode_wilayah": ("kodewilayah", "kode"),
    "nama": ("nama", "namawilayah", "kabkota", "provinsi"),
    "spreadsheet": ("spreadsheet", "statusspreadsheet", "berkas"),
    "email": ("emailoperator", "operator", "email"),
}


@dataclass(frozen=True)
class ChildEntry:
    kode: str
    nama: str
    spreadsheet: str  # a Google ID or URL, or a local .xlsx path
    email: str = ""
    row: int = 0  # in the registry, as the user sees it


def read_children(rows: Sequence[Sequence[Any]]) -> tuple[list[ChildEntry], list[str]]:
    """The children of a registry (`Kode Wilayah | Nama | Spreadsheet | Email Operator`,
    headers matched loosely), and the problems of rows that were left out."""
    problems: list[str] = []
    if not rows:
        return [], ["daftar wilayah anak kosong"]
    header = [_key(cell) for cell in rows[0]]
    where: dict[str, int] = {}
    for name, aliases in CHILD_COLUMNS.items():
        for index, cell in enumerate(header):
            if cell in aliases and name not in where:
                where[name] = index
    missing = [n for n in ("kode_wilayah", "spreadsheet") if n not in where]
    if missing:
        return [], [f"daftar wilayah anak tanpa kolom {', '.join(missing)}"]
    children: list[ChildEntry] = []
    seen: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):

        def value_of(name: str, row: Sequence[Any] = row) -> str:
            index = where.get(name)
            value = row[index] if index is not None and index < len(row) else ""
            return _text(value)

        kode, sheet = value_of("kode_wilayah"), value_of("spreadsheet")
        if not kode and not sheet:
            continue
        if not kode or not sheet:
            problems.append(f"baris {number}: Kode Wilayah dan Spreadsheet wajib diisi")
            continue
        if kode in seen:
            problems.append(f"baris {number}: Kode Wilayah {kode} sudah ada di baris lain")
            continue
        seen.add(kode)
        children.append(
            ChildEntry(kode, value_of("nama") or kode, sheet, value_of("email"), number)
        )
    return children, problems


# --- reading one child --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildFigures:
    """What a parent keeps of one child: its Metadata, its Ringkasan figures and (when asked)
    its sub-region rows. This is also the child's "last good" reading, stored between cycles."""

    meta: Metadata
    totals: Totals
    sub_header: tuple[str, ...] = ()  # the child's sub-region tab header
    sub_rows: tuple[tuple[CellValue, ...], ...] = ()


def table(rows: Sequence[Sequence[Any]], first: str) -> tuple[list[str], list[list[Any]]]:
    """The header starting with `first` (below a note line or not) and the rows under it."""
    for index, row in enumerate(rows):
        if row and _text(row[0]) == first:
            header = [_text(c) for c in row]
            body = [list(r) for r in rows[index + 1 :] if r and any(v not in (None, "") for v in r)]
            return header, body
    return [], []


def ringkasan_totals(rows: Sequence[Sequence[Any]]) -> Totals:
    """A child's figures from its Ringkasan, by the catalogue's labels; `Refused` when one is
    missing. Figures Ringkasan does not show (Anggota Baru, Transaksi) are not carried."""
    _, body = table(rows, "Ukuran")
    values = {_text(r[0]): (r[1] if len(r) > 1 else None) for r in body}
    out: dict[str, Any] = {}
    for f in pick(RINGKASAN):
        label = f.label_for(city=True)
        if label not in values:
            raise Refused(f"Ringkasan tanpa baris {label}")
        out[f.key] = _number(values[label], f)
    return Totals(**out)


def read_child(
    entry: ChildEntry,
    tabs: Mapping[str, Sequence[Sequence[Any]]],
    *,
    parent_kode: str,
    per_kecamatan: bool = False,
) -> ChildFigures:
    """One child's figures from its tabs; `Refused` (with the reason) for a child of another
    schema major, of another region than its registry row, outside the parent, or of the
    wrong level."""
    meta = read_metadata(tabs.get(METADATA_TAB) or [])
    if meta.kode_wilayah != entry.kode:
        raise Refused(
            f"spreadsheet ini milik wilayah {meta.kode_wilayah}, bukan {entry.kode} seperti di "
            "daftar"
        )
    if not inside(meta.kode_wilayah, parent_kode):
        raise Refused(f"wilayah {meta.kode_wilayah} bukan bagian dari {parent_kode}")
    expected = child_level(level_of(parent_kode))
    if meta.level != expected:
        raise Refused(f"level {meta.level}, sedangkan induk ini membaca {expected}")
    totals = ringkasan_totals(tabs.get(RINGKASAN_TAB) or [])
    header: list[str] = []
    body: list[list[Any]] = []
    if per_kecamatan and meta.tab_anak in tabs:
        header, body = table(tabs[meta.tab_anak], _sub_first(tabs[meta.tab_anak]))
        header, body = _aggregate_columns(header, body)
    return ChildFigures(meta, totals, tuple(header), tuple(tuple(r) for r in body))


def _sub_first(rows: Sequence[Sequence[Any]]) -> str:
    """The first header cell of a sub-region tab: the row holding `Jumlah KKMP`."""
    label = BY_KEY["jumlah"].label
    for row in rows:
        cells = [_text(c) for c in row]
        if label in cells:
            return cells[0]
    return ""


def _aggregate_columns(header: list[str], body: list[list[Any]]) -> tuple[list[str], list[list]]:
    """Only the naming columns before the figures and the catalogue's figures: a parent keeps
    no column it does not know (a newer child may add some)."""
    known = {f.label for f in pick(KECAMATAN_TAB)}
    first = next((i for i, name in enumerate(header) if name in known), len(header))
    keep = list(range(first)) + [i for i, name in enumerate(header) if name in known]
    return [header[i] for i in keep], [[r[i] if i < len(r) else None for i in keep] for r in body]


# --- the parent's view of its children -----------------------------------------------------------


@dataclass(frozen=True)
class ChildRow:
    entry: ChildEntry
    state: str  # TERKINI, TERLAMBAT, ANGKA_TERAKHIR, TIDAK_TERBACA or DITOLAK
    figures: ChildFigures | None = None
    reason: str = ""  # why it is not TERKINI, in Indonesian

    @property
    def counted(self) -> bool:
        return self.state in COUNTED and self.figures is not None

    @property
    def name(self) -> str:
        return self.entry.nama


def freshness(figures: ChildFigures, as_of: date, stale_days: int) -> tuple[str, str]:
    """TERKINI, or TERLAMBAT with the reason, by the child's data date against the parent's."""
    behind = (as_of - figures.meta.tanggal_data).days
    if behind > stale_days:
        day = formats.format_date(figures.meta.tanggal_data)
        return TERLAMBAT, f"data per {day}, {behind} hari sebelum {formats.format_date(as_of)}"
    return TERKINI, ""


@dataclass
class Federation:
    """One federation cycle's figures: the children as read, and their roll-up."""

    kode: str
    name: str
    as_of: date
    children: list[ChildRow]
    totals: Totals = field(init=False)

    def __post_init__(self) -> None:
        self.totals = rollup_totals(c.figures.totals for c in self.counted)  # type: ignore[union-attr]

    @property
    def level(self) -> str:
        return level_of(self.kode)

    @property
    def counted(self) -> list[ChildRow]:
        return [c for c in self.children if c.counted]

    def with_state(self, state: str) -> list[ChildRow]:
        return [c for c in self.children if c.state == state]


def federation_book(
    fed: Federation,
    *,
    now: datetime,
    target: Target,
    history: list[list] | None = None,
    per_kecamatan: bool = False,
    program_version: str = "",
) -> StatusBook:
    """The province's (or the nation's) status spreadsheet: Ringkasan (the same labels as a
    city's), one row per child, the children's sub-regions when asked, Riwayat, charts and
    its own Metadata."""
    as_of, totals = fed.as_of, fed.totals
    noun = CHILD_NOUN[fed.level]
    updated = now.replace(tzinfo=None)
    footer = f"{fed.name} — data per {formats.format_date(as_of)}"
    note = f"{footer}, diperbarui {updated:%d-%m-%Y %H.%M} WIB"
    paper = Print(footer=footer)
    progress = target_progress(totals, target, as_of)

    ringkasan = Sheet(RINGKASAN_TAB, [Col("Ukuran", width=34), Col("Nilai", width=22)], note=note)
    rows: list[tuple[str, Cell]] = [
        (f.label_for(city=True), Cell(totals.get(f.key), f.fmt)) for f in pick(RINGKASAN)
    ]
    rows += [
        ("Diperbarui (WIB)", Cell(updated, Fmt.DATETIME)),
        ("Tanggal Data", Cell(as_of, Fmt.DATE)),
    ]
    rows += [(f.label, Cell(progress.get(f.key), f.fmt)) for f in progress.shown]
    rows += [
        (f"Jumlah {noun}", Cell(len(fed.children), Fmt.INT)),
        (f"{noun} Terkini", Cell(len(fed.with_state(TERKINI)), Fmt.INT)),
        (f"{noun} Terlambat", Cell(len(fed.with_state(TERLAMBAT)), Fmt.INT)),
        (f"{noun} dengan Angka Terakhir", Cell(len(fed.with_state(ANGKA_TERAKHIR)), Fmt.INT)),
        (
            f"{noun} Tidak Terbaca atau Ditolak",
            Cell(len(fed.with_state(TIDAK_TERBACA)) + len(fed.with_state(DITOLAK)), Fmt.INT),
        ),
    ]
    ringkasan.rows = [[label, value] for label, value in rows]
    ringkasan.print_setup = paper

    children = Sheet(child_tab(fed.level), child_columns(noun), note=note, print_setup=paper)
    for child in sorted(fed.children, key=lambda c: c.entry.kode):
        children.rows.append(child_row(child, as_of))

    sheets = [ringkasan, children]
    if per_kecamatan:
        sheets.append(sub_regions(fed, noun, note, paper))

    riwayat = Sheet(
        "Riwayat",
        RIWAYAT_COLUMNS,
        note=f"Satu baris per hari: angka {fed.name} dari waktu ke waktu",
        print_setup=paper,
    )
    riwayat.rows = [row for row in (history or []) if row and row[0] != as_of]
    riwayat.rows.append(riwayat_row(as_of, totals))
    riwayat.rows.sort(key=lambda row: str(row[0]))
    sheets.append(riwayat)
    sheets.append(
        metadata_sheet(
            Metadata(
                kode_wilayah=fed.kode,
                level=fed.level,
                nama=fed.name,
                tanggal_data=as_of,
                waktu_siklus=now,
                program_version=program_version,
                jumlah_kkmp=totals.jumlah,
                jumlah_anak=len(fed.children),
                tab_anak=children.name,
            ),
            footer=footer,
        )
    )
    zones = [BY_KEY[k].label for k in ("hijau", "kuning", "merah")]
    charts = [
        Chart(
            f"Zona KKMP per {noun}",
            data_sheet=children.name,
            category_col=noun,
            series_cols=tuple(zones),
            kind=ChartKind.STACKED_COLUMN,
            place_on=RINGKASAN_TAB,
            anchor="D2",
            colors=tuple(ZONE_SERIES_COLORS[z] for z in (HIJAU, KUNING, MERAH)),
        ),
        Chart(
            "KKMP Aktif dari waktu ke waktu",
            data_sheet="Riwayat",
            category_col="Tanggal",
            series_cols=(BY_KEY["aktif"].label, BY_KEY["hijau"].label),
            kind=ChartKind.LINE,
            place_on=RINGKASAN_TAB,
            anchor="D24",
            colors=("#1A73E8", ZONE_SERIES_COLORS[HIJAU]),
        ),
    ]
    return StatusBook(sheets, charts)


def child_columns(noun: str) -> list[Col]:
    return [
        Col("Kode Wilayah"),
        Col(noun, width=22, wrap=True),
        Col("Kesegaran", width=16),
        Col("Catatan", width=36, wrap=True),
        *(figure_col(f) for f in pick(CHILD_FIGURES)),
        Col("Tanggal Data", Fmt.DATE),
        Col("Siklus Terakhir (WIB)", Fmt.DATETIME),
        Col("Versi Skema"),
        Col("Versi Program"),
    ]


def child_row(child: ChildRow, as_of: date) -> list[CellValue | Cell]:
    """One child's row; figures blank when it is not counted (never read, or refused)."""
    head: list[CellValue | Cell] = [child.entry.kode, child.name, child.state, child.reason]
    if not child.counted or child.figures is None:
        return head + [None] * (len(CHILD_FIGURES) + 4)
    totals, meta = child.figures.totals, child.figures.meta
    capaian = target_progress(totals, Target(None, 1.0), as_of).capaian
    values = [capaian if f.key == "capaian" else totals.get(f.key) for f in pick(CHILD_FIGURES)]
    return [
        *head,
        *values,
        meta.tanggal_data,
        meta.waktu_siklus.replace(tzinfo=None),
        meta.schema_version,
        meta.program_version,
    ]


def sub_regions(fed: Federation, noun: str, note: str, paper: Print) -> Sheet:
    """The children's own sub-region rows (a city's kecamatan, a province's kabupaten/kota),
    each under its child's name: `[federation] per_kecamatan`."""
    figures = pick(KECAMATAN_TAB)
    labels = {f.label for f in figures}
    naming: list[str] = []
    for child in fed.counted:
        assert child.figures is not None
        for name in child.figures.sub_header:
            if name not in labels and name not in naming:
                naming.append(name)
    sheet = Sheet(
        "Kecamatan",
        [Col(noun, width=22), *(Col(n, width=18) for n in naming), *map(figure_col, figures)],
        note=note,
        print_setup=paper,
    )
    for child in sorted(fed.counted, key=lambda c: c.entry.kode):
        assert child.figures is not None
        header = list(child.figures.sub_header)
        for row in child.figures.sub_rows:
            cells = dict(zip(header, row, strict=False))
            sheet.rows.append(
                [
                    child.name,
                    *(_text(cells.get(n)) for n in naming),
                    *(_number(cells.get(f.label), f) for f in figures),
                ]
            )
    return sheet


# --- small readers ------------------------------------------------------------------------------


def _key(cell: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", _text(cell).casefold())


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _number(value: Any, f: Any) -> Any:
    """A figure's value as read back from a spreadsheet (a float, an int, blank)."""
    if value in (None, ""):
        return None if f in SHARES else 0
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise Refused(f"{f.label} bukan angka: {value[:20]!r}") from None
    if f.fmt is Fmt.INT:
        return round(value)
    return float(value)
