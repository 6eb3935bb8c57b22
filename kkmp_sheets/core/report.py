"""The status workbook's tables and each cooperative's Hasil Pemeriksaan rows.

Pure: results in, `StatusBook` (see tables.py) and rows out. This is the privacy gate for the
city view: it only ever reads aggregate figures and issue *positions* (tab, row, column,
message) — never an issue's value — so no NIK, member name or individual saving can reach the
city workbook. Hasil Pemeriksaan goes into the cooperative's own workbook and may show values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from kkmp_sheets.core import formats
from kkmp_sheets.core.issue import Issue, Severity
from kkmp_sheets.core.metrics import SUMMED, CoopFigures, pasokan_table, rollup
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.tables import (
    ZONE_SERIES_COLORS,
    Cell,
    Chart,
    ChartKind,
    Col,
    Fmt,
    Sheet,
    StatusBook,
)
from kkmp_sheets.core.template import FEEDBACK_COLUMNS, FEEDBACK_TAB
from kkmp_sheets.core.zoning import Zone


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


@dataclass(frozen=True)
class Summary:
    """What the city view states in Ringkasan; digests and the CLI reuse it."""

    jumlah: int
    aktif: int
    hijau: int
    kuning: int
    merah: int
    anggota_aktif: int
    simpanan_pokok: float
    simpanan_wajib: float
    simpanan_sukarela: float
    omset: float
    nilai_stok: float
    kelengkapan: float | None
    galat: int
    peringatan: int


def coop_frame(results: list[CoopResult], as_of: date, reporting_window_days: int) -> pd.DataFrame:
    """One row per cooperative: the columns `metrics.rollup` sums and counts."""
    records = []
    for r in results:
        f = r.figures
        updated = f.data_diperbarui.date() if f.data_diperbarui else None
        counts = {"galat": r.galat, "peringatan": r.peringatan}
        records.append(
            {
                "id": r.coop.id,
                "kecamatan": r.coop.kecamatan or "(tanpa kecamatan)",
                "zona": r.zone.name,
                "aktif": f.readable and f.status_operasional == "Aktif",
                "reported": f.readable
                and updated is not None
                and 0 <= (as_of - updated).days < reporting_window_days,
                **{key: counts[key] if key in counts else getattr(f, key) for key in SUMMED},
            }
        )
    columns = ["id", "kecamatan", "zona", "aktif", "reported", *SUMMED]
    return pd.DataFrame.from_records(records, columns=columns)


def summarize(frame: pd.DataFrame) -> Summary:
    city = rollup(frame, None).iloc[0] if len(frame) else None

    def get(name: str) -> float:
        return float(city[name]) if city is not None else 0.0

    kelengkapan = (
        None if city is None or pd.isna(city["kelengkapan"]) else float(city["kelengkapan"])
    )
    return Summary(
        jumlah=int(get("jumlah")),
        aktif=int(get("aktif")),
        hijau=int(get("hijau")),
        kuning=int(get("kuning")),
        merah=int(get("merah")),
        anggota_aktif=int(get("anggota_aktif")),
        simpanan_pokok=get("simpanan_pokok"),
        simpanan_wajib=get("simpanan_wajib"),
        simpanan_sukarela=get("simpanan_sukarela"),
        omset=get("omset"),
        nilai_stok=get("nilai_stok"),
        kelengkapan=kelengkapan,
        galat=int(get("galat")),
        peringatan=int(get("peringatan")),
    )


# --- the status workbook ---------------------------------------------------------------------

STATUS_COLUMNS = [
    Col("ID"),
    Col("Kecamatan"),
    Col("Kelurahan"),
    Col("Nama Koperasi", width=34),
    Col("Zona", Fmt.ZONE),
    Col("Alasan Zona", width=60),
    Col("Status Operasional"),
    Col("NIB"),
    Col("NPWP"),
    Col("Rekening"),
    Col("Siap Pembiayaan"),
    Col("Anggota Aktif", Fmt.INT),
    Col("Anggota Baru 30 Hari", Fmt.INT),
    Col("Simpanan Pokok", Fmt.RUPIAH),
    Col("Simpanan Wajib", Fmt.RUPIAH),
    Col("Simpanan Sukarela", Fmt.RUPIAH),
    Col("Nilai Stok", Fmt.RUPIAH),
    Col("Omset 30 Hari", Fmt.RUPIAH),
    Col("Transaksi 30 Hari", Fmt.INT),
    Col("Transaksi Terakhir", Fmt.DATE),
    Col("Galat", Fmt.INT),
    Col("Peringatan", Fmt.INT),
    Col("Data Diperbarui", Fmt.DATETIME),
    Col("Penanggung Jawab"),
    Col("Tautan", Fmt.LINK, width=40),
]

ROLLUP_COLUMNS = [
    ("jumlah", Col("Jumlah KKMP", Fmt.INT)),
    ("aktif", Col("KKMP Aktif", Fmt.INT)),
    ("hijau", Col("Hijau", Fmt.INT)),
    ("kuning", Col("Kuning", Fmt.INT)),
    ("merah", Col("Merah", Fmt.INT)),
    ("anggota_aktif", Col("Anggota Aktif", Fmt.INT)),
    ("anggota_baru", Col("Anggota Baru 30 Hari", Fmt.INT)),
    ("simpanan_pokok", Col("Simpanan Pokok", Fmt.RUPIAH)),
    ("simpanan_wajib", Col("Simpanan Wajib", Fmt.RUPIAH)),
    ("simpanan_sukarela", Col("Simpanan Sukarela", Fmt.RUPIAH)),
    ("nilai_stok", Col("Nilai Stok", Fmt.RUPIAH)),
    ("omset", Col("Omset 30 Hari", Fmt.RUPIAH)),
    ("transaksi", Col("Transaksi 30 Hari", Fmt.INT)),
    ("kelengkapan", Col("Kelengkapan Laporan", Fmt.PERCENT)),
    ("galat", Col("Galat", Fmt.INT)),
    ("peringatan", Col("Peringatan", Fmt.INT)),
]

RIWAYAT_COLUMNS = [
    Col("Tanggal", Fmt.DATE),
    Col("Jumlah KKMP", Fmt.INT),
    Col("KKMP Aktif", Fmt.INT),
    Col("Hijau", Fmt.INT),
    Col("Kuning", Fmt.INT),
    Col("Merah", Fmt.INT),
    Col("Anggota Aktif", Fmt.INT),
    Col("Simpanan Pokok", Fmt.RUPIAH),
    Col("Simpanan Wajib", Fmt.RUPIAH),
    Col("Simpanan Sukarela", Fmt.RUPIAH),
    Col("Omset 30 Hari", Fmt.RUPIAH),
    Col("Nilai Stok", Fmt.RUPIAH),
    Col("Kelengkapan Laporan", Fmt.PERCENT),
    Col("Galat", Fmt.INT),
]


@dataclass(frozen=True)
class Target:
    date: date | None
    share: float


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
) -> StatusBook:
    frame = coop_frame(results, as_of, reporting_window_days)
    summary = summarize(frame)
    updated = now.replace(tzinfo=None)
    note = f"{city_name} — data per {formats.format_date(as_of)}, diperbarui {updated:%d-%m-%Y %H.%M} WIB"

    ringkasan = Sheet("Ringkasan", [Col("Ukuran", width=30), Col("Nilai", width=22)], note=note)
    share_active = summary.aktif / summary.jumlah if summary.jumlah else 0.0
    rows: list[tuple[str, Cell]] = [
        ("Jumlah KKMP", Cell(summary.jumlah, Fmt.INT)),
        ("KKMP Aktif", Cell(summary.aktif, Fmt.INT)),
        ("Zona Hijau", Cell(summary.hijau, Fmt.INT)),
        ("Zona Kuning", Cell(summary.kuning, Fmt.INT)),
        ("Zona Merah", Cell(summary.merah, Fmt.INT)),
        ("Anggota Aktif", Cell(summary.anggota_aktif, Fmt.INT)),
        ("Simpanan Pokok", Cell(summary.simpanan_pokok, Fmt.RUPIAH)),
        ("Simpanan Wajib", Cell(summary.simpanan_wajib, Fmt.RUPIAH)),
        ("Simpanan Sukarela", Cell(summary.simpanan_sukarela, Fmt.RUPIAH)),
        ("Omset 30 Hari", Cell(summary.omset, Fmt.RUPIAH)),
        ("Nilai Stok", Cell(summary.nilai_stok, Fmt.RUPIAH)),
        ("Kelengkapan Laporan", Cell(summary.kelengkapan, Fmt.PERCENT)),
        ("Masalah Data (Galat)", Cell(summary.galat, Fmt.INT)),
        ("Masalah Data (Peringatan)", Cell(summary.peringatan, Fmt.INT)),
        ("Diperbarui (WIB)", Cell(updated, Fmt.DATETIME)),
        ("Tanggal Data", Cell(as_of, Fmt.DATE)),
        ("Target KKMP Aktif", Cell(target.share, Fmt.PERCENT)),
        ("Capaian KKMP Aktif", Cell(share_active, Fmt.PERCENT)),
    ]
    if target.date is not None:
        rows.append(("Batas Target", Cell(target.date, Fmt.DATE)))
        rows.append(("Sisa Hari", Cell(max((target.date - as_of).days, 0), Fmt.INT)))
        needed = max(round(target.share * summary.jumlah) - summary.aktif, 0)
        rows.append(("KKMP yang Masih Harus Aktif", Cell(needed, Fmt.INT)))
    ringkasan.rows = [[label, value] for label, value in rows]

    status = Sheet("Status KKMP", STATUS_COLUMNS, note=note)
    for r in sorted(results, key=lambda r: (r.coop.kecamatan, r.coop.kelurahan, r.coop.id)):
        f = r.figures
        status.rows.append(
            [
                r.coop.id,
                r.coop.kecamatan,
                r.coop.kelurahan,
                r.coop.nama,
                r.zone.name,
                r.zone.text,
                (f.status_operasional or "Belum diisi") if f.readable else "Tidak terbaca",
                f.nib,
                f.npwp,
                f.rekening,
                "Ya" if f.siap_pembiayaan else "Tidak",
                f.anggota_aktif,
                f.anggota_baru,
                f.simpanan_pokok,
                f.simpanan_wajib,
                f.simpanan_sukarela,
                f.nilai_stok,
                f.omset,
                f.transaksi,
                f.transaksi_terakhir,
                r.galat,
                r.peringatan,
                f.data_diperbarui.replace(tzinfo=None) if f.data_diperbarui else None,
                r.coop.penanggung_jawab,
                r.link,
            ]
        )

    kecamatan = Sheet("Kecamatan", [Col("Kecamatan"), *(c for _, c in ROLLUP_COLUMNS)], note=note)
    if len(frame):
        for _, row in rollup(frame, "kecamatan").iterrows():
            kecamatan.rows.append([row["kecamatan"], *(_number(row[k]) for k, _ in ROLLUP_COLUMNS)])

    masalah = Sheet(
        "Masalah Data",
        [
            Col("ID"),
            Col("Kelurahan"),
            Col("Tingkat"),
            Col("Tab"),
            Col("Baris", Fmt.INT),
            Col("Kolom"),
            Col("Masalah", width=70),
        ],
        note=note,
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
        "Riwayat", RIWAYAT_COLUMNS, note="Satu baris per hari: angka kota dari waktu ke waktu"
    )
    today = riwayat_row(as_of, summary)
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
    )
    pasokan.rows = [list(row) for row in pasokan_table([r.figures.pasokan for r in results])]

    charts = [
        Chart(
            "Zona KKMP per Kecamatan",
            data_sheet="Kecamatan",
            category_col="Kecamatan",
            series_cols=("Hijau", "Kuning", "Merah"),
            kind=ChartKind.STACKED_COLUMN,
            place_on="Ringkasan",
            anchor="D2",
            colors=tuple(ZONE_SERIES_COLORS[z] for z in ("Hijau", "Kuning", "Merah")),
        ),
        Chart(
            "KKMP Aktif dari waktu ke waktu",
            data_sheet="Riwayat",
            category_col="Tanggal",
            series_cols=("KKMP Aktif", "Hijau"),
            kind=ChartKind.LINE,
            place_on="Ringkasan",
            anchor="D24",
            colors=("#1A73E8", ZONE_SERIES_COLORS["Hijau"]),
        ),
    ]
    return StatusBook([ringkasan, status, kecamatan, masalah, riwayat, pasokan], charts)


def riwayat_row(as_of: date, s: Summary) -> list:
    return [
        as_of,
        s.jumlah,
        s.aktif,
        s.hijau,
        s.kuning,
        s.merah,
        s.anggota_aktif,
        s.simpanan_pokok,
        s.simpanan_wajib,
        s.simpanan_sukarela,
        s.omset,
        s.nilai_stok,
        s.kelengkapan,
        s.galat,
    ]


def _number(value: object) -> int | float | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()  # numpy scalar → Python number
    return value  # type: ignore[return-value]


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
    galat, peringatan = result.galat, result.peringatan
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
