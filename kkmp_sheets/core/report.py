"""The status workbook's tables (each cooperative's Hasil Pemeriksaan rows: `report_card.py`).

Pure: results in, `StatusBook` (see tables.py) and rows out. This is the privacy gate for the
city view: it only ever reads aggregate figures and issue *positions* (tab, row, column,
message) — never an issue's value — so no NIK, member name or individual saving can reach the
city workbook. Hasil Pemeriksaan goes into the cooperative's own workbook and may show values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kkmp_sheets.core import formats
from kkmp_sheets.core.a1 import column_letters
from kkmp_sheets.core.figures import (
    BY_KEY,
    KECAMATAN_TAB,
    RINGKASAN,
    RIWAYAT,
    WEEK_ON_WEEK_LABEL,
    CityFigures,
    Figure,
    Target,  # re-exported: the cycle builds it from the config
    Totals,
    cell_value,
    measure,
    pick,
    week_ago,
    week_on_week,
)
from kkmp_sheets.core.issue import Issue, Severity
from kkmp_sheets.core.metadata import Metadata, level_of, metadata_sheet
from kkmp_sheets.core.metrics import CoopFigures
from kkmp_sheets.core.pasokan import PasokanRow, PasokanRules, pasokan_rows
from kkmp_sheets.core.registry import Coop
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
from kkmp_sheets.core.zoning import HIJAU, KUNING, MERAH, Zone


@dataclass
class CoopResult:
    coop: Coop
    figures: CoopFigures
    zone: Zone
    issues: list[Issue] = field(default_factory=list)
    link: str = ""

    # The counts below are read many times a cycle (status workbook, figures, digests, the
    # history store), each a scan of every issue: they are counted once and kept while `issues`
    # is the same list of the same length. Issues are frozen, and the one change after a result
    # is built is an append (a Hasil Pemeriksaan that could not be written) or a new list.
    _counted: _Counted | None = field(default=None, init=False, repr=False, compare=False)

    def _counts(self) -> _Counted:
        counted = self._counted
        if counted is None or counted.issues is not self.issues or counted.size != len(self.issues):
            counted = _Counted.of(self.issues)
            self._counted = counted
        return counted

    @property
    def open_issues(self) -> list[Issue]:
        """The problems that count: all but the Peringatan staff acknowledged (those stay only
        in the cooperative's own Hasil Pemeriksaan; see `core/acknowledge.py`)."""
        return list(self._counts().open_issues)

    @property
    def galat(self) -> int:
        return self._counts().galat

    @property
    def peringatan(self) -> int:
        return self._counts().peringatan


@dataclass(frozen=True)
class _Counted:
    """What `CoopResult` counted of one list of issues, and of which list at which length."""

    issues: list[Issue]
    size: int
    open_issues: tuple[Issue, ...]
    galat: int
    peringatan: int

    @classmethod
    def of(cls, issues: list[Issue]) -> _Counted:
        galat = peringatan = 0
        open_issues = []
        for issue in issues:
            if issue.severity is Severity.GALAT:
                galat += 1
            if issue.acknowledged:
                continue  # no longer counted
            open_issues.append(issue)
            if issue.severity is Severity.PERINGATAN:
                peringatan += 1
        return cls(issues, len(issues), tuple(open_issues), galat, peringatan)


DEFAULT_UNITS = PasokanRules()
Summary = Totals  # the city's figures (Ringkasan, Riwayat, the history store's `city_day`)


# --- the status workbook ---------------------------------------------------------------------

STATUS_TAB = "Status KKMP"  # the digests link to it (`Sink.link`)
_ID, _KECAMATAN, _KELURAHAN, _NAMA, _ALASAN, _PJ, _TAUTAN = (
    "@id", "@kecamatan", "@kelurahan", "@nama", "@alasan", "@pj", "@tautan"
)  # fmt: skip
_TEXT_COLUMNS = {
    _ID: Col("ID"),
    _KECAMATAN: Col("Kecamatan", width=13, wrap=True),
    _KELURAHAN: Col("Kelurahan", width=14, wrap=True),
    _NAMA: Col("Nama Koperasi", width=22, wrap=True),
    _ALASAN: Col("Alasan Zona", width=32, wrap=True),
    _PJ: Col("Penanggung Jawab", width=16, wrap=True),
    _TAUTAN: Col("Tautan", Fmt.LINK, width=40),
}
# Status KKMP in the contract's column order: who the cooperative is (`@…`), and its figures by
# catalogue key, so that the labels and formats are the catalogue's.
STATUS_LAYOUT = (
    _ID, _KECAMATAN, _KELURAHAN, _NAMA, "zona", _ALASAN, "status_operasional", "nib", "npwp",
    "rekening", "siap_pembiayaan", "anggota_aktif", "anggota_baru", "simpanan_pokok",
    "simpanan_wajib", "simpanan_sukarela", "nilai_stok", "omset", "transaksi",
    "transaksi_terakhir", "galat", "peringatan", "data_diperbarui", _PJ, _TAUTAN,
)  # fmt: skip


def figure_col(f: Figure) -> Col:
    return Col(f.label, f.fmt)


STATUS_COLUMNS = [
    _TEXT_COLUMNS[k] if k in _TEXT_COLUMNS else figure_col(BY_KEY[k]) for k in STATUS_LAYOUT
]
# What an official reads of Status KKMP on paper: which cooperative (by kecamatan, kelurahan and
# name), its zone and why, whether it operates and could be financed, its members and trade, its
# problems and who follows it up. All 25 columns on one A4 width print at about 3 pt; these 12
# print at a readable size. The rest (the ID; NIB/NPWP/Rekening and Data Diperbarui, which Siap
# Pembiayaan and Alasan Zona already sum up; the savings and stock figures; the link) stay in the
# tab, folded away rather than moved to a separate print tab: a filter set on screen then also
# shapes the printout, and there is no second copy of the figures that could disagree.
STATUS_PRINTED = (
    _KECAMATAN, _KELURAHAN, _NAMA, "zona", _ALASAN, "status_operasional",
    "siap_pembiayaan", "anggota_aktif", "omset", "transaksi_terakhir", "galat", _PJ,
)  # fmt: skip
KECAMATAN_COLUMNS = [Col("Kecamatan"), *(figure_col(f) for f in pick(KECAMATAN_TAB))]
RIWAYAT_COLUMNS = [Col("Tanggal", Fmt.DATE), *(figure_col(f) for f in pick(RIWAYAT))]


def status_book(
    results: list[CoopResult],
    *,
    city_name: str,
    as_of: date,
    now: datetime,
    reporting_window_days: int,
    target: Target,
    registry_issues: list[Issue] = (),  # type: ignore[assignment]
    history: list[list] | None = None,
    figures: CityFigures | None = None,
    units: PasokanRules = DEFAULT_UNITS,
    kode_wilayah: str = "",
    program_version: str = "",
) -> StatusBook:
    """The status workbook. `figures` is the cycle's `measure`ment (measured here when None);
    `units`: how Pasokan converts units (`[pasokan]`). `kode_wilayah` and `program_version` go
    into its Metadata tab, for a parent instance."""
    if figures is None:
        figures = measure(
            results, as_of=as_of, reporting_window_days=reporting_window_days, target=target
        )
    city, progress = figures.city, figures.progress
    updated = now.replace(tzinfo=None)
    note = f"{city_name} — data per {formats.format_date(as_of)}, diperbarui {updated:%d-%m-%Y %H.%M} WIB"

    past = [row for row in (history or []) if row and row[0] != as_of]
    ringkasan = Sheet(
        "Ringkasan",
        [Col("Ukuran", width=30), Col("Nilai", width=22), Col(WEEK_ON_WEEK_LABEL, width=16)],
        note=note,
    )
    changes = ringkasan_changes(city, past, as_of)
    rows: list[list[CellValue | Cell]] = [
        [
            f.label_for(city=True),
            Cell(city.get(f.key), f.fmt),
            Cell(changes[f.key], f.fmt, signed=True),
        ]
        for f in pick(RINGKASAN)
    ]
    rows += [
        ["Diperbarui (WIB)", Cell(updated, Fmt.DATETIME)],
        ["Tanggal Data", Cell(as_of, Fmt.DATE)],
    ]
    rows += [[f.label, Cell(progress.get(f.key), f.fmt)] for f in progress.shown]
    ringkasan.rows = rows

    # On every printed page: which city and which data date the figures are of.
    footer = f"{city_name} — data per {formats.format_date(as_of)}"
    paper = Print(footer=footer)
    ringkasan.print_setup = paper

    status = Sheet(
        STATUS_TAB,
        STATUS_COLUMNS,
        note=note,
        print_setup=Print(footer=footer, columns=tuple(_label(k) for k in STATUS_PRINTED)),
    )
    for r in sorted(results, key=lambda r: _status_order(r, figures)):
        values = figures.coop(r.coop.id)
        text = {
            _ID: r.coop.id,
            _KECAMATAN: figures.kecamatan_of[r.coop.id].name,
            _KELURAHAN: r.coop.kelurahan,
            _NAMA: r.coop.nama,
            _ALASAN: r.zone.text,
            _PJ: r.coop.penanggung_jawab,
            _TAUTAN: r.link,
        }
        status.rows.append([text[k] if k in text else cell_value(values[k]) for k in STATUS_LAYOUT])

    kecamatan = Sheet("Kecamatan", KECAMATAN_COLUMNS, note=note, print_setup=paper)
    for group in figures.kecamatan:
        kecamatan.rows.append(
            [group.kecamatan.name, *(group.totals.get(f.key) for f in pick(KECAMATAN_TAB))]
        )

    masalah = Sheet("Masalah Data", MASALAH_COLUMNS, note=note, print_setup=paper)
    masalah.rows = masalah_rows(results, registry_issues)

    riwayat = Sheet(
        "Riwayat",
        RIWAYAT_COLUMNS,
        note="Satu baris per hari: angka kota dari waktu ke waktu",
        print_setup=paper,
    )
    riwayat.rows = [*past, riwayat_row(as_of, city)]
    riwayat.rows.sort(key=lambda row: str(row[0]))  # ISO dates sort as text

    pasokan = Sheet("Pasokan", PASOKAN_COLUMNS, note=note, print_setup=paper)
    pasokan.rows = [
        _pasokan_cells(row) for row in pasokan_rows((r.figures.pasokan for r in results), units)
    ]
    by_id = {r.coop.id: r for r in results}
    per_kecamatan = Sheet(
        "Pasokan Kecamatan", [Col("Kecamatan"), *PASOKAN_COLUMNS], note=note, print_setup=paper
    )
    for group in figures.kecamatan:
        stocks = (by_id[i].figures.pasokan for i in group.coop_ids)
        per_kecamatan.rows += [
            [group.kecamatan.name, *_pasokan_cells(row)] for row in pasokan_rows(stocks, units)
        ]

    zones = [BY_KEY[k].label for k in ("hijau", "kuning", "merah")]
    charts = [
        Chart(
            "Zona KKMP per Kecamatan",
            data_sheet="Kecamatan",
            category_col="Kecamatan",
            series_cols=tuple(zones),
            kind=ChartKind.STACKED_COLUMN,
            place_on="Ringkasan",
            anchor="E2",
            colors=tuple(ZONE_SERIES_COLORS[z] for z in (HIJAU, KUNING, MERAH)),
        ),
        _trend(TREND_ZONES, place_on="Ringkasan", anchor="E24"),
        *riwayat_charts(len(RIWAYAT_COLUMNS)),
    ]
    meta = metadata_sheet(
        Metadata(
            kode_wilayah=kode_wilayah,
            level=level_of(kode_wilayah),
            nama=city_name,
            tanggal_data=as_of,
            waktu_siklus=now,
            program_version=program_version,
            jumlah_kkmp=city.jumlah,
            jendela_laporan_hari=reporting_window_days,
        ),
        footer=footer,
    )
    # Metadata last: a parent instance reads it (docs/federation.md); people need not.
    return StatusBook(
        [ringkasan, status, kecamatan, masalah, riwayat, pasokan, per_kecamatan, meta], charts
    )


# --- Pasokan ---------------------------------------------------------------------------------

PASOKAN_COLUMNS = [
    Col("Kategori"),
    Col("Satuan"),
    Col("Jumlah Stok", Fmt.NUMBER),
    Col("Nilai Stok", Fmt.RUPIAH),
    Col("KKMP dengan Stok", Fmt.INT),
    Col("Barang di Bawah Stok Minimum", Fmt.INT),
    Col("Catatan", width=40, wrap=True),
]


def _pasokan_cells(row: PasokanRow) -> list[CellValue | Cell]:
    return [
        row.kategori,
        row.satuan,
        row.quantity_cell(),
        row.nilai,
        row.kkmp,
        row.di_bawah_minimum,
        row.catatan or None,
    ]


# --- trends and week-on-week ------------------------------------------------------------------

AKTIF_COLOR = "#1A73E8"
# The trends (title, figures, their colours): KKMP Aktif with the zones, so that one picture
# says how many operate and how they fare; the members; the trade.
TREND_ZONES = (
    "KKMP Aktif dan Zona per Hari",
    ("aktif", "hijau", "kuning", "merah"),
    (AKTIF_COLOR, *(ZONE_SERIES_COLORS[z] for z in (HIJAU, KUNING, MERAH))),
)
TREND_ANGGOTA = ("Anggota Aktif per Hari", ("anggota_aktif",), (AKTIF_COLOR,))
TREND_OMSET = ("Omset 30 Hari per Hari", ("omset",), (ZONE_SERIES_COLORS[HIJAU],))
CHART_ROWS = 22  # rows between two charts stacked on a sheet (a chart is 320 px tall)


def _trend(
    spec: tuple[str, tuple[str, ...], tuple[str, ...]], *, place_on: str, anchor: str
) -> Chart:
    title, keys, colors = spec
    return Chart(
        title,
        data_sheet="Riwayat",
        category_col="Tanggal",
        series_cols=tuple(BY_KEY[k].label for k in keys),
        kind=ChartKind.LINE,
        place_on=place_on,
        anchor=anchor,
        colors=colors,
    )


def riwayat_charts(table_width: int) -> list[Chart]:
    """Riwayat's own charts, one above the other, right of its table (one column apart)."""
    column = column_letters(table_width + 1)
    return [
        _trend(spec, place_on="Riwayat", anchor=f"{column}{2 + i * CHART_ROWS}")
        for i, spec in enumerate((TREND_ZONES, TREND_ANGGOTA, TREND_OMSET))
    ]


def riwayat_values(row: list | None) -> dict[str, Any]:
    """A Riwayat row (`riwayat_row`'s order) as figure key → value; {} for no row."""
    if not row:
        return {}
    return {f.key: v for f, v in zip(pick(RIWAYAT), row[1:], strict=False)}


def ringkasan_changes(city: Totals, history: list[list], as_of: date) -> dict[str, Any]:
    """Each Ringkasan figure's week-on-week change (`figures.week_on_week`), from the Riwayat
    row of exactly a week before `as_of` among `history`; None where there is none."""
    day = week_ago(as_of)
    then = riwayat_values(next((row for row in history if row and row[0] == day), None))
    return {f.key: week_on_week(city.get(f.key), then.get(f.key)) for f in pick(RINGKASAN)}


def riwayat_read_back(rows: list[list], day_of: Callable[[Any], date | None]) -> list[list]:
    """Riwayat rows read back from a published Riwayat, in today's column order.

    Columns are found by their header labels, so a Riwayat published before a column was added
    (or with its columns moved) is read right, and a column it lacks is None. Without a header
    row (a Riwayat from before headers were looked for), the values are taken in order.
    `day_of` turns a first cell into its day, or None for a row that is not a day.
    """
    labels = [col.name for col in RIWAYAT_COLUMNS]
    where: list[int | None] = list(range(len(labels)))
    out = []
    for row in rows:
        if not row:
            continue
        if str(row[0]).strip() == labels[0]:
            header = {str(v).strip(): i for i, v in enumerate(row) if v not in (None, "")}
            where = [header.get(label) for label in labels]
            continue
        day = day_of(row[0])
        if day is None:
            continue
        values = [row[i] if i is not None and i < len(row) else None for i in where[1:]]
        out.append([day, *(None if v == "" else v for v in values)])
    return out


def _label(key: str) -> str:
    return _TEXT_COLUMNS[key].name if key in _TEXT_COLUMNS else BY_KEY[key].label


def _status_order(r: CoopResult, figures: CityFigures) -> tuple[bool, str, str, str]:
    kecamatan = figures.kecamatan_of[r.coop.id]
    return (not kecamatan.named, kecamatan.name.casefold(), r.coop.kelurahan, r.coop.id)


def riwayat_row(as_of: date, city: Totals | Mapping[str, Any]) -> list:
    """One Riwayat row: the day, then the RIWAYAT figures of the city (from `Totals` or a stored
    `city_day` row)."""
    get = city.get if isinstance(city, Totals) else city.__getitem__
    return [as_of, *(get(f.key) for f in pick(RIWAYAT))]


SEVERITY_ORDER = {Severity.GALAT: 0, Severity.PERINGATAN: 1}
TAB_ORDER = {"": 0, "Profil": 1, "Anggota": 2, "Simpanan": 3, "Stok": 4, "Penjualan": 5}


def sorted_issues(issues: list[Issue]) -> list[Issue]:
    return sorted(issues, key=lambda i: (SEVERITY_ORDER[i.severity], *_issue_order(i)))


def _issue_order(i: Issue) -> tuple[int, str, int, str, str]:
    return (TAB_ORDER.get(i.tab, 9), i.tab, i.row or 0, i.column, i.code)


# --- Masalah Data ------------------------------------------------------------------------------

# The contract's columns, then what the grouping and the order need: how many rows a line stands
# for (a number, so that the tab still sums and filters) and the zone it is sorted by.
MASALAH_COLUMNS = [
    Col("ID"),
    Col("Kelurahan", width=14, wrap=True),
    Col("Tingkat"),
    Col("Tab"),
    Col("Baris", width=16, wrap=True),  # "12", or the rows a grouped line covers: "12–40, 45"
    Col("Kolom", width=16, wrap=True),
    Col("Masalah", width=60, wrap=True),
    Col("Jumlah", Fmt.INT),
    Col("Zona", Fmt.ZONE),
]
ZONE_ORDER = {MERAH: 0, KUNING: 1, HIJAU: 2}
REGISTRY_ID = "(Daftar KKMP)"
# A grouped line names at most this many row runs; the rest are counted ("… dan 12 baris lain").
MAX_RUNS = 12


def masalah_rows(results: list[CoopResult], registry_issues: Sequence[Issue] = ()) -> list[list]:
    """Masalah Data: what the office should look at first comes first.

    The registry's own problems lead (until they are fixed a cooperative cannot be read at
    all); then the cooperatives by zone (Merah, Kuning, Hijau), within a zone every Galat
    before any Peringatan, then by cooperative. A Galat is one line per row; a Peringatan
    repeated in one cooperative (the same code, tab, column and message) is one line with its
    count in Jumlah and the rows it covers in Baris. Acknowledged warnings are left out: staff
    found them correct, and they no longer count in the Peringatan figure either. Never a
    value: it may be a NIK, a name or a member's savings.
    """
    rows: list[list] = [
        [REGISTRY_ID, "", i.severity.value, i.tab, _rows_text([i.row]), i.column, i.message, 1, ""]
        for i in registry_issues
    ]
    lines: list[tuple[tuple, list]] = []
    for r in results:
        zone_rank = ZONE_ORDER.get(r.zone.name, 3)
        groups: list[list[Issue]] = []  # in `sorted_issues` order
        repeated: dict[tuple[str, str, str, str], list[Issue]] = {}
        for issue in sorted_issues(r.open_issues):
            if issue.severity is Severity.GALAT:
                groups.append([issue])
                continue
            same = (issue.code, issue.tab, issue.column, issue.message)
            if same not in repeated:
                repeated[same] = []
                groups.append(repeated[same])
            repeated[same].append(issue)
        for members in groups:
            first = members[0]
            order = (zone_rank, SEVERITY_ORDER[first.severity], r.coop.id, _issue_order(first))
            line = [
                r.coop.id,
                r.coop.kelurahan,
                first.severity.value,
                first.tab,
                _rows_text([i.row for i in members]),
                first.column,
                first.message,
                len(members),
                r.zone.name,
            ]
            lines.append((order, line))
    lines.sort(key=lambda item: item[0])
    return rows + [line for _, line in lines]


def _rows_text(rows: list[int | None]) -> str:
    """The rows as runs: [12, 13, 14, 20] -> "12–14, 20"; "" when no row is known."""
    numbers = sorted({n for n in rows if n is not None})
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    shown = [str(a) if a == b else f"{a}\u2013{b}" for a, b in runs[:MAX_RUNS]]
    rest = sum(b - a + 1 for a, b in runs[MAX_RUNS:])
    if rest:
        shown.append(f"\u2026 dan {rest} baris lain")
    return ", ".join(shown)
