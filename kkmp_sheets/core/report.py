"""The status workbook's tables and each cooperative's Hasil Pemeriksaan rows.

Pure: results in, `StatusBook` (see tables.py) and rows out. This is the privacy gate for the
city view: it only ever reads aggregate figures and issue *positions* (tab, row, column,
message) — never an issue's value — so no NIK, member name or individual saving can reach the
city workbook. Hasil Pemeriksaan goes into the cooperative's own workbook and may show values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kkmp_sheets.core import formats
from kkmp_sheets.core.figures import (
    BY_KEY,
    KECAMATAN_TAB,
    RINGKASAN,
    RIWAYAT,
    CityFigures,
    Figure,
    Target,  # re-exported: the cycle builds it from the config
    Totals,
    Window,
    cell_value,
    coop_values,
    measure,
    pick,
)
from kkmp_sheets.core.issue import Issue, Severity
from kkmp_sheets.core.metadata import Metadata, level_of, metadata_sheet
from kkmp_sheets.core.metrics import CoopFigures, pasokan_table
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.tables import (
    ZONE_SERIES_COLORS,
    Cell,
    Chart,
    ChartKind,
    Col,
    Fmt,
    Print,
    Sheet,
    StatusBook,
)
from kkmp_sheets.core.template import FEEDBACK_COLUMNS, FEEDBACK_TAB
from kkmp_sheets.core.zoning import HIJAU, KUNING, MERAH, Zone


@dataclass
class CoopResult:
    coop: Coop
    figures: CoopFigures
    zone: Zone
    issues: list[Issue] = field(default_factory=list)
    link: str = ""

    @property
    def galat(self) -> int:
        return sum(1 for i in self.issues if i.severity is Severity.GALAT)

    @property
    def peringatan(self) -> int:
        return sum(1 for i in self.issues if i.severity is Severity.PERINGATAN)


Summary = Totals  # the city's figures (Ringkasan, Riwayat, the history store's `city_day`)


# --- the status workbook ---------------------------------------------------------------------

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
    kode_wilayah: str = "",
    program_version: str = "",
) -> StatusBook:
    """The status workbook. `figures` is the cycle's `measure`ment (measured here when None).
    `kode_wilayah` and `program_version` go into its Metadata tab, for a parent instance."""
    if figures is None:
        figures = measure(
            results, as_of=as_of, reporting_window_days=reporting_window_days, target=target
        )
    city, progress = figures.city, figures.progress
    updated = now.replace(tzinfo=None)
    note = f"{city_name} — data per {formats.format_date(as_of)}, diperbarui {updated:%d-%m-%Y %H.%M} WIB"

    ringkasan = Sheet("Ringkasan", [Col("Ukuran", width=30), Col("Nilai", width=22)], note=note)
    rows: list[tuple[str, Cell]] = [
        (f.label_for(city=True), Cell(city.get(f.key), f.fmt)) for f in pick(RINGKASAN)
    ]
    rows += [
        ("Diperbarui (WIB)", Cell(updated, Fmt.DATETIME)),
        ("Tanggal Data", Cell(as_of, Fmt.DATE)),
    ]
    rows += [(f.label, Cell(progress.get(f.key), f.fmt)) for f in progress.shown]
    ringkasan.rows = [[label, value] for label, value in rows]

    # On every printed page: which city and which data date the figures are of.
    footer = f"{city_name} — data per {formats.format_date(as_of)}"
    paper = Print(footer=footer)
    ringkasan.print_setup = paper

    status = Sheet(
        "Status KKMP",
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

    masalah = Sheet(
        "Masalah Data",
        [
            Col("ID"),
            Col("Kelurahan"),
            Col("Tingkat"),
            Col("Tab"),
            Col("Baris", Fmt.INT),
            Col("Kolom"),
            Col("Masalah", width=60, wrap=True),
        ],
        note=note,
        print_setup=paper,
    )
    for issue in registry_issues:
        masalah.rows.append(
            [
                "(Daftar KKMP)",
                "",
                issue.severity.value,
                issue.tab,
                issue.row,
                issue.column,
                issue.message,
            ]
        )
    for r in sorted(results, key=lambda r: r.coop.id):
        for issue in sorted_issues(r.issues):
            # Never the value: it may be a NIK, a name or a member's savings.
            masalah.rows.append(
                [
                    r.coop.id,
                    r.coop.kelurahan,
                    issue.severity.value,
                    issue.tab,
                    issue.row,
                    issue.column,
                    issue.message,
                ]
            )

    riwayat = Sheet(
        "Riwayat",
        RIWAYAT_COLUMNS,
        note="Satu baris per hari: angka kota dari waktu ke waktu",
        print_setup=paper,
    )
    today = riwayat_row(as_of, city)
    riwayat.rows = [row for row in (history or []) if row and row[0] != as_of] + [today]
    riwayat.rows.sort(key=lambda row: str(row[0]))  # ISO dates sort as text

    pasokan = Sheet(
        "Pasokan",
        [
            Col("Kategori"),
            Col("Satuan"),
            Col("Jumlah Stok", Fmt.NUMBER),
            Col("Nilai Stok", Fmt.RUPIAH),
            Col("KKMP dengan Stok", Fmt.INT),
            Col("Barang di Bawah Stok Minimum", Fmt.INT),
        ],
        note=note,
        print_setup=paper,
    )
    pasokan.rows = [list(row) for row in pasokan_table([r.figures.pasokan for r in results])]

    zones = [BY_KEY[k].label for k in ("hijau", "kuning", "merah")]
    charts = [
        Chart(
            "Zona KKMP per Kecamatan",
            data_sheet="Kecamatan",
            category_col="Kecamatan",
            series_cols=tuple(zones),
            kind=ChartKind.STACKED_COLUMN,
            place_on="Ringkasan",
            anchor="D2",
            colors=tuple(ZONE_SERIES_COLORS[z] for z in (HIJAU, KUNING, MERAH)),
        ),
        Chart(
            "KKMP Aktif dari waktu ke waktu",
            data_sheet="Riwayat",
            category_col="Tanggal",
            series_cols=(BY_KEY["aktif"].label, BY_KEY["hijau"].label),
            kind=ChartKind.LINE,
            place_on="Ringkasan",
            anchor="D24",
            colors=("#1A73E8", ZONE_SERIES_COLORS[HIJAU]),
        ),
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
    return StatusBook([ringkasan, status, kecamatan, masalah, riwayat, pasokan, meta], charts)


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
    return sorted(
        issues,
        key=lambda i: (
            SEVERITY_ORDER[i.severity],
            TAB_ORDER.get(i.tab, 9),
            i.tab,
            i.row or 0,
            i.column,
            i.code,
        ),
    )


# --- Hasil Pemeriksaan -------------------------------------------------------------------------

FEEDBACK_WIDTHS = [12.0, 18.0, 9.0, 18.0, 22.0, 60.0, 60.0]  # B and C hold the dates line too
FEEDBACK_HEADER_ROW = 4


def feedback_rows(result: CoopResult, checked_on: date, as_of: date) -> list[list]:
    """Rows of the Hasil Pemeriksaan tab: when it was checked, then one row per problem.

    The date (not the time) of the check is shown, so an unchanged result on the same day does
    not rewrite the tab.
    """
    values = coop_values(result, Window(as_of))
    galat, peringatan = values["galat"], values["peringatan"]
    rows: list[list] = [
        [f"{FEEDBACK_TAB} — {result.coop.nama}", None, None, None, None, None, None],
        [
            "Diperiksa",
            formats.format_date(checked_on),
            "Data per",
            formats.format_date(as_of),
            None,
            f"{galat} galat, {peringatan} peringatan",
            "Baris ini ditulis oleh layanan dinas; jangan diubah. Perbaiki data di tab aslinya.",
        ],
        [None] * 7,
        list(FEEDBACK_COLUMNS),
    ]
    if not result.issues:
        rows.append(["", "", None, "", "", "Tidak ada masalah. Terima kasih!", ""])
    for issue in sorted_issues(result.issues):
        rows.append(
            [
                issue.severity.value,
                issue.tab or "(berkas)",
                issue.row,
                issue.column,
                issue.shown_value,
                issue.message,
                issue.fix,
            ]
        )
    return rows
