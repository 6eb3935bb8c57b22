"""The cooperative workbook template that `kkmp-sheets provision` hands to a cooperative.

Tabs, column names, required flags and listed values all come from `template.py`; this module
only decides how each column is *presented* so that mistakes are hard to make:

- a dropdown for every listed value (Status, Jenis, Kategori, Jenis Kelamin, Jenis Pembeli,
  Konsinyasi, Status Operasional, Unit Usaha);
- NIK, phone, No Anggota, Kode Barang, RT/RW and every other identifier formatted as text, so a
  16-digit NIK keeps its last digits and `003` keeps its zeros; a NIK must be 16 characters;
- dates shown `dd/mm/yyyy` with a date check; rupiah shown `Rp1.250.000`, never negative;
- the header row bold, frozen and protected (data cells stay free: sorting, filtering, inserting
  and deleting rows all work), required columns in a darker colour;
- a hint on every column (shown when a cell is selected), a **Petunjuk** tab explaining each tab
  in plain Indonesian with an example row, and the Profil pre-filled from the registry.

`design(coop)` describes all of that once, independent of the file format; two writers render
it: `write_xlsx` (xlsxwriter: local mode, and the screenshots of the staff guide) and
`provision.sheets_requests` (one Sheets `batchUpdate` in Google mode).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from kkmp_sheets.core import wilayah
from kkmp_sheets.core.a1 import column_letters
from kkmp_sheets.core.formats import compose_nik
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.template import (
    ANGGOTA,
    PENJUALAN,
    PROFIL,
    SIMPANAN,
    STOK,
    TABLES,
    Column,
    Kind,
    TableSpec,
)
from kkmp_sheets.google.cells import cell, rgb

GUIDE_TAB = "Petunjuk"
DATA_ROWS = 2000  # rows below the header that carry the dropdowns and checks
EXTRA_COLUMNS = 20  # unlocked columns right of the contract's, for the cooperative's own
DATE_FORMAT = "dd/mm/yyyy"
EXCEL_MONEY = "[$Rp-421]#,##0"  # the status workbook's rupiah format (outputs/xlsx.py)
SHEETS_MONEY = '"Rp"#,##0'  # with the spreadsheet's id_ID locale: Rp1.250.000
REQUIRED_BG, REQUIRED_FG = "#8B1A1A", "#FFFFFF"  # merah: a required column
OPTIONAL_BG, OPTIONAL_FG = "#F2D7D5", "#000000"  # putih kemerahan: an optional column
GUIDE_BG = "#1E6B3A"
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
PROFIL_WIDTHS = (30, 50, 90)  # Data | Isi | Cara mengisi
GUIDE_WIDTHS = (31, 18, 18, 16, 16, 16, 16, 16, 16, 16)  # the Petunjuk tab

TEXT_KINDS = frozenset(
    {
        Kind.TEXT,
        Kind.ID,
        Kind.NIK,
        Kind.PHONE,
        Kind.EMAIL,
        Kind.NIB,
        Kind.NPWP,
        Kind.SK_AHU,
        Kind.KODE_WILAYAH,
        Kind.LATLONG,
        Kind.CHOICE,
        Kind.CHOICES,
        Kind.YESNO,
    }
)

# --- the words staff read: one hint per column (shown when a cell is selected, and in Petunjuk)

TAB_PURPOSE: dict[str, str] = {
    PROFIL.name: "Data resmi koperasi: nama, wilayah, izin, rekening dan pengurus. Satu baris "
    "untuk satu data; isi kolom Isi. Nama, kelurahan, kecamatan, kota dan kode wilayah sudah "
    "diisi oleh dinas.",
    ANGGOTA.name: "Daftar semua anggota koperasi, satu baris untuk satu orang. Anggota yang "
    "keluar jangan dihapus: ubah Status menjadi Keluar dan isi Tanggal Keluar.",
    SIMPANAN.name: "Buku simpanan: satu baris untuk setiap setoran simpanan pokok, wajib atau "
    "sukarela.",
    STOK.name: "Persediaan barang di gerai sekarang: satu baris untuk satu barang. Perbarui "
    "Jumlah Stok setiap kali menghitung stok.",
    PENJUALAN.name: "Catatan penjualan harian: satu baris untuk satu barang dalam satu nota.",
}

HINTS: dict[tuple[str, str], str] = {
    # Profil
    ("Profil", "nama_koperasi"): "Nama resmi koperasi sesuai akta pendirian.",
    ("Profil", "kelurahan"): "Sudah diisi oleh dinas. Ubah hanya bila salah.",
    ("Profil", "kecamatan"): "Sudah diisi oleh dinas. Ubah hanya bila salah.",
    ("Profil", "kota"): "Sudah diisi oleh dinas. Ubah hanya bila salah.",
    ("Profil", "kode_wilayah"): "Kode Kemendagri kelurahan/desa (10 digit). Sudah diisi dinas.",
    ("Profil", "tanggal_musyawarah"): "Tanggal musyawarah pembentukan koperasi, seperti "
    "17/08/2025.",
    ("Profil", "nomor_akta"): "Nomor akta pendirian dari notaris.",
    ("Profil", "nomor_sk_ahu"): "Nomor SK pengesahan dari Kemenkumham, misalnya "
    "AHU-0001234.AH.01.29.TAHUN 2025.",
    ("Profil", "nomor_induk_koperasi"): "Nomor Induk Koperasi dari sistem Kementerian Koperasi.",
    ("Profil", "nib"): "Nomor Induk Berusaha dari OSS: 13 digit angka.",
    ("Profil", "npwp"): "NPWP koperasi: 16 digit angka (format lama 15 digit).",
    ("Profil", "nama_bank"): "Bank tempat rekening koperasi, misalnya Bank Mandiri.",
    ("Profil", "nomor_rekening"): "Nomor rekening atas nama koperasi, angka saja.",
    ("Profil", "alamat_operasional"): "Alamat gerai atau kantor koperasi.",
    ("Profil", "titik_lokasi"): "Lintang, bujur dari Google Maps, misalnya -6.1680, 106.7589.",
    ("Profil", "status_operasional"): "Pilih Persiapan (belum berjualan), Aktif atau Berhenti.",
    ("Profil", "tanggal_mulai_operasi"): "Tanggal gerai mulai melayani, seperti 17/08/2025.",
    ("Profil", "tanggal_launching"): "Tanggal peluncuran resmi, seperti 17/08/2025.",
    ("Profil", "unit_usaha"): "Pilih satu dari daftar, atau ketik beberapa dipisah koma, "
    "misalnya: Gerai Sembako, Klinik.",
    ("Profil", "simpanan_pokok"): "Simpanan pokok per anggota, ketik angka saja: 100000.",
    ("Profil", "simpanan_wajib_bulanan"): "Simpanan wajib per bulan, ketik angka saja: 10000.",
    ("Profil", "nama_ketua"): "Nama lengkap ketua koperasi.",
    ("Profil", "telepon_ketua"): "Nomor HP ketua, misalnya 0812-3456-7890.",
    ("Profil", "email_pengurus"): "Alamat email pengurus untuk laporan mingguan.",
    ("Profil", "mitra"): "Mitra usaha, dipisah koma, misalnya Bulog, SPPG, peternak lokal.",
    # Anggota
    ("Anggota", "no_anggota"): "Nomor anggota, misalnya A-0001. Satu nomor untuk satu orang.",
    ("Anggota", "nama"): "Nama lengkap sesuai KTP.",
    ("Anggota", "nik"): "16 digit angka dari KTP, tanpa spasi atau titik.",
    ("Anggota", "jenis_kelamin"): "Pilih L (laki-laki) atau P (perempuan).",
    ("Anggota", "tanggal_masuk"): "Tanggal menjadi anggota, seperti 17/08/2025.",
    ("Anggota", "rt"): "Nomor RT tempat tinggal, misalnya 003.",
    ("Anggota", "rw"): "Nomor RW tempat tinggal, misalnya 005.",
    ("Anggota", "telepon"): "Nomor HP anggota, misalnya 0812-3456-7890.",
    ("Anggota", "status"): "Pilih Aktif atau Keluar. Kosong berarti Aktif.",
    ("Anggota", "tanggal_keluar"): "Isi hanya bila anggota keluar, seperti 17/08/2025.",
    # Simpanan
    ("Simpanan", "tanggal"): "Tanggal setor, seperti 17/08/2025.",
    ("Simpanan", "no_anggota"): "No Anggota penyetor, sama persis dengan di tab Anggota.",
    ("Simpanan", "jenis"): "Pilih Pokok, Wajib atau Sukarela.",
    ("Simpanan", "jumlah"): "Jumlah setoran, ketik angka saja tanpa titik: 50000.",
    ("Simpanan", "keterangan"): "Catatan bila perlu; boleh kosong.",
    # Stok
    ("Stok", "kode_barang"): "Kode barang, misalnya BRS-01. Satu kode untuk satu barang.",
    ("Stok", "nama_barang"): "Nama barang, misalnya Beras Medium 5 kg.",
    ("Stok", "kategori"): "Pilih kategori barang dari daftar.",
    ("Stok", "satuan"): "Satuan hitung, misalnya kg, liter, karung, tabung.",
    ("Stok", "jumlah_stok"): "Jumlah barang yang ada sekarang (angka, tidak negatif).",
    ("Stok", "harga_beli"): "Harga beli per satuan, angka saja. Dipakai menghitung nilai stok.",
    ("Stok", "harga_jual"): "Harga jual per satuan, angka saja.",
    ("Stok", "stok_minimum"): "Batas stok terendah sebelum belanja lagi; boleh kosong.",
    ("Stok", "pemasok"): "Nama pemasok, misalnya Bulog.",
    ("Stok", "konsinyasi"): "Pilih Ya bila barang titipan, Tidak bila dibeli putus.",
    # Penjualan
    ("Penjualan", "tanggal"): "Tanggal penjualan, seperti 17/08/2025.",
    ("Penjualan", "no_nota"): "Nomor nota atau struk. Satu nota boleh beberapa baris barang.",
    ("Penjualan", "kode_barang"): "Kode barang yang dijual, sama dengan di tab Stok.",
    ("Penjualan", "jumlah"): "Banyaknya barang terjual (angka).",
    ("Penjualan", "harga_satuan"): "Harga per satuan, ketik angka saja tanpa titik: 68000.",
    ("Penjualan", "total"): "Jumlah × Harga Satuan; boleh kosong.",
    ("Penjualan", "jenis_pembeli"): "Pilih Anggota, Umum, SPPG atau Mitra.",
    ("Penjualan", "no_anggota"): "Isi bila pembelinya anggota koperasi.",
}

# One synthetic example row per tab (Petunjuk), by column key.
EXAMPLES: dict[str, dict[str, Any]] = {
    ANGGOTA.name: {
        "no_anggota": "A-0001",
        "nama": "Siti Rahmawati",
        # Well-formed and synthetic: kecamatan 31.73.05, a woman born 5 August 1990, serial 1.
        "nik": compose_nik("317305", date(1990, 8, 5), female=True, serial=1),
        "jenis_kelamin": "P",
        "tanggal_masuk": date(2025, 8, 17),
        "rt": "003",
        "rw": "005",
        "telepon": "0812-3456-7890",
        "status": "Aktif",
        "tanggal_keluar": None,
    },
    SIMPANAN.name: {
        "tanggal": date(2025, 8, 18),
        "no_anggota": "A-0001",
        "jenis": "Pokok",
        "jumlah": 100000,
        "keterangan": "Setoran awal",
    },
    STOK.name: {
        "kode_barang": "BRS-01",
        "nama_barang": "Beras Medium 5 kg",
        "kategori": "Beras",
        "satuan": "karung",
        "jumlah_stok": 40,
        "harga_beli": 62000,
        "harga_jual": 68000,
        "stok_minimum": 10,
        "pemasok": "Bulog",
        "konsinyasi": "Tidak",
    },
    PENJUALAN.name: {
        "tanggal": date(2025, 8, 20),
        "no_nota": "N-0001",
        "kode_barang": "BRS-01",
        "jumlah": 2,
        "harga_satuan": 68000,
        "total": 136000,
        "jenis_pembeli": "Anggota",
        "no_anggota": "A-0001",
    },
}

GENERAL_RULES: tuple[str, ...] = (
    "Satu baris untuk satu catatan. Jangan menggabung sel (merge) dan jangan mengubah judul "
    "kolom di baris pertama: baris itu dikunci.",
    "Judul kolom berwarna merah tua wajib diisi; judul berwarna merah muda boleh kosong.",
    "Tanggal: ketik seperti 17/08/2025 (tanggal/bulan/tahun).",
    "Rupiah: ketik angka saja, tanpa Rp dan tanpa titik: 1250000. Tampilan Rp1.250.000 muncul "
    "sendiri.",
    "NIK: salin 16 digit dari KTP. Kolomnya sudah berformat teks, jadi digit tidak berubah.",
    "Kolom dengan panah kecil: klik panahnya lalu pilih dari daftar.",
    "Baris baru: tambahkan di bawah baris terakhir. Mengurutkan dan menyaring (filter) boleh.",
    "Tab Hasil Pemeriksaan ditulis oleh dinas setiap kali data diperiksa: bacalah, lalu "
    "perbaiki data di tab yang disebut.",
    "Jangan mengetik di tab Hasil Pemeriksaan: isinya ditulis ulang setiap pemeriksaan.",
)


# --- the design ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A data check on a column's cells."""

    kind: str  # "list" | "date" | "min0" | "length"
    choices: tuple[str, ...] = ()
    strict: bool = True  # False: warn but allow (Unit Usaha's comma lists, dates typed as text)
    message: str = ""  # Indonesian, shown when a value is refused


@dataclass(frozen=True)
class Look:
    """How one column (or one Profil field) is presented."""

    column: Column
    hint: str
    width: float
    text: bool  # formatted as text ("@")
    date: bool
    money: bool
    rule: Rule | None

    @property
    def full_hint(self) -> str:
        """The hint, plus the listed values when it does not name them all."""
        missing = [c for c in self.column.choices if c not in self.hint]
        if not missing:
            return self.hint
        return f"{self.hint} Pilihan: {', '.join(self.column.choices)}."

    @property
    def excel_format(self) -> str | None:
        if self.text:
            return "@"
        if self.date:
            return DATE_FORMAT
        if self.money:
            return EXCEL_MONEY
        return None

    @property
    def sheets_format(self) -> dict[str, str] | None:
        if self.text:
            return {"type": "TEXT"}
        if self.date:
            return {"type": "DATE", "pattern": DATE_FORMAT}
        if self.money:
            return {"type": "CURRENCY", "pattern": SHEETS_MONEY}
        return None


@dataclass(frozen=True)
class TabDesign:
    spec: TableSpec
    looks: tuple[Look, ...]

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class ProfilRow:
    look: Look
    value: Any  # pre-filled from the registry, or None


@dataclass(frozen=True)
class Design:
    """Everything a writer needs for one cooperative's workbook."""

    title: str  # the spreadsheet's name
    coop_name: str
    profil: tuple[ProfilRow, ...]
    tables: tuple[TabDesign, ...]
    guide: tuple[tuple[str, ...], ...]  # the Petunjuk tab's rows (see `guide_rows`)
    guide_styles: tuple[str, ...]  # one style name per guide row
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)


def look(tab: str, col: Column) -> Look:
    hint = HINTS.get((tab, col.key)) or col.label
    money = col.kind is Kind.MONEY
    dated = col.kind is Kind.DATE
    rule: Rule | None = None
    if col.choices:
        strict = col.kind is not Kind.CHOICES
        rule = Rule(
            "list",
            col.choices,
            strict=strict,
            message=f"Pilih dari daftar: {', '.join(col.choices)}.",
        )
    elif dated:
        rule = Rule(
            "date", strict=False, message="Tulis tanggal seperti 17/08/2025 (tanggal/bulan/tahun)."
        )
    elif money or col.kind is Kind.NUMBER:
        rule = Rule(
            "min0",
            message="Ketik angka saja (tanpa titik atau Rp), tidak boleh negatif. Contoh: 50000.",
        )
    elif col.kind is Kind.NIK:
        rule = Rule("length", message="NIK harus 16 digit angka, salin persis dari KTP.")
    return Look(
        column=col,
        hint=hint,
        width=_width(col),
        text=col.kind in TEXT_KINDS,
        date=dated,
        money=money,
        rule=rule,
    )


def _width(col: Column) -> float:
    by_kind = {
        Kind.DATE: 13,
        Kind.MONEY: 15,
        Kind.NUMBER: 12,
        Kind.NIK: 20,
        Kind.PHONE: 16,
        Kind.ID: 13,
        Kind.EMAIL: 26,
    }
    widest_choice = max((len(c) for c in col.choices), default=0) + 5
    base = by_kind.get(col.kind, 24 if col.key.startswith(("nama", "keterangan")) else 14)
    return float(max(base, widest_choice, len(col.label) + 4))


def profil_values(coop: Coop | None) -> dict[str, Any]:
    """The Profil fields the office already knows, from the registry and the region list."""
    if coop is None:
        return {}
    values: dict[str, Any] = {
        "nama_koperasi": coop.nama,
        "kelurahan": coop.kelurahan,
        "kecamatan": coop.kecamatan,
    }
    if coop.kode_wilayah:
        values["kode_wilayah"] = coop.kode_wilayah
        kota = wilayah.name(coop.kode_wilayah[:5])
        if kota:
            values["kota"] = kota
    if coop.email_pengurus:
        values["email_pengurus"] = ", ".join(coop.email_pengurus)
    return {k: v for k, v in values.items() if v}


def example_rows(coop: Coop | None) -> dict[str, dict[str, Any]]:
    """The Petunjuk example rows; the example NIK starts with the cooperative's own kecamatan."""
    examples = {tab: dict(row) for tab, row in EXAMPLES.items()}
    if coop is not None and coop.kode_wilayah:
        prefix = coop.kode_wilayah[:8].replace(".", "")
        examples[ANGGOTA.name]["nik"] = prefix + examples[ANGGOTA.name]["nik"][6:]
    return examples


def design(coop: Coop | None = None, *, profil: Mapping[str, Any] | None = None) -> Design:
    """The workbook for `coop` (None: a blank template); `profil` adds or overrides Profil values."""
    known = {**profil_values(coop), **(profil or {})}
    profil_rows = tuple(ProfilRow(look(PROFIL.name, f), known.get(f.key)) for f in PROFIL.fields)
    tables = tuple(
        TabDesign(spec, tuple(look(spec.name, c) for c in spec.columns)) for spec in TABLES
    )
    name = coop.nama if coop else "Koperasi Kelurahan/Desa Merah Putih"
    examples = example_rows(coop)
    rows, styles = guide_rows(name, tables, examples)
    title = f"{coop.id} — {coop.nama}" if coop else "Templat KKMP"
    return Design(title, name, profil_rows, tables, rows, styles, examples)


def guide_rows(
    coop_name: str, tables: Sequence[TabDesign], examples: Mapping[str, Mapping[str, Any]]
) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """The Petunjuk tab as rows of text, with a style name per row:
    title, text, rule, section, header, example, column (label | wajib | cara mengisi), blank."""
    rows: list[tuple[str, ...]] = []
    styles: list[str] = []

    def add(style: str, *cells: Any) -> None:
        rows.append(tuple(_shown(c) for c in cells))
        styles.append(style)

    add("title", f"PETUNJUK PENGISIAN — {coop_name}")
    add(
        "text",
        "Spreadsheet ini adalah buku koperasi. Dinas memeriksanya secara berkala dan menulis "
        "hasilnya di tab Hasil Pemeriksaan. Isilah setiap tab seperti contoh di bawah.",
    )
    add("blank")
    add("section", "Aturan umum")
    for number, rule in enumerate(GENERAL_RULES, start=1):
        add("rule", f"{number}.", rule)
    add("blank")
    add("section", f"Tab {PROFIL.name}")
    add("text", TAB_PURPOSE[PROFIL.name])
    add("header", "Data", "Wajib?", "Cara mengisi")
    for f in PROFIL.fields:
        add("column", f.label, "wajib" if f.required else "", look(PROFIL.name, f).hint)
    for tab in tables:
        add("blank")
        add("section", f"Tab {tab.name}")
        add("text", TAB_PURPOSE[tab.name])
        add("note", "Contoh satu baris:")
        add("header", *(lk.column.label for lk in tab.looks))
        example = examples.get(tab.name, {})
        add("example", *(example.get(lk.column.key) for lk in tab.looks))
        add("header", "Kolom", "Wajib?", "Cara mengisi")
        for lk in tab.looks:
            add("column", lk.column.label, "wajib" if lk.column.required else "", lk.full_hint)
    return tuple(rows), tuple(styles)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return f"{value:,.0f}".replace(",", ".") if value >= 1000 else f"{value:g}"
    return str(value)


# --- values as cells ----------------------------------------------------------------------------


def cell_value(look_: Look, value: Any) -> Any:
    """A typed value as it goes into a cell of this column: dates as dates, money as numbers,
    identifiers as text, Ya/Tidak for yes/no, comma lists joined."""
    if value is None or value == "":
        return None
    if hasattr(value, "digits"):  # parse.NikValue, formats.Npwp
        value = value.digits or getattr(value, "raw", None)
        if value is None:
            return None
    if isinstance(value, bool):
        return "Ya" if value else "Tidak"
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if look_.text:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return value


# --- the xlsx writer ----------------------------------------------------------------------------

TableData = Mapping[str, Sequence[Mapping[str, Any]]]  # tab name → records (column key → value)

_PROTECT_OPTIONS = {
    "objects": False,
    "scenarios": False,
    "format_cells": True,
    "format_columns": True,
    "format_rows": True,
    "insert_columns": True,
    "insert_rows": True,
    "insert_hyperlinks": True,
    "delete_columns": False,
    "delete_rows": True,
    "select_locked_cells": True,
    "sort": True,
    "autofilter": True,
    "pivot_tables": False,
    "select_unlocked_cells": True,
}


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base = {"font_name": "Calibri", "font_size": 11, "valign": "top"}
        self.wb, self.base = wb, base
        header = {**base, "bold": True, "text_wrap": True, "border": 1, "locked": True}
        self.required = wb.add_format(
            {**header, "bg_color": REQUIRED_BG, "font_color": REQUIRED_FG}
        )
        self.optional = wb.add_format(
            {**header, "bg_color": OPTIONAL_BG, "font_color": OPTIONAL_FG}
        )
        self.label = wb.add_format({**base, "bold": True, "locked": True, "border": 1})
        self.hint = wb.add_format({**base, "italic": True, "font_color": "#555555", "locked": True})
        self.free = wb.add_format({**base, "locked": False})
        self._cells: dict[str | None, Any] = {}
        self.title = wb.add_format({**base, "bold": True, "font_size": 15, "font_color": GUIDE_BG})
        self.section = wb.add_format(
            {**base, "bold": True, "font_size": 12, "font_color": "#FFFFFF", "bg_color": GUIDE_BG}
        )
        self.text = wb.add_format({**base, "text_wrap": False})
        self.note = wb.add_format({**base, "italic": True})
        self.guide_header = wb.add_format(
            {**base, "bold": True, "bg_color": OPTIONAL_BG, "border": 1, "text_wrap": True}
        )
        self.example = wb.add_format({**base, "border": 1, "bg_color": "#FFF8E1"})
        self.column = wb.add_format({**base, "border": 1, "text_wrap": True})

    def cell(self, number_format: str | None) -> Any:
        """An unlocked data cell format with this number format."""
        if number_format not in self._cells:
            spec = {**self.base, "locked": False}
            if number_format:
                spec["num_format"] = number_format
            self._cells[number_format] = self.wb.add_format(spec)
        return self._cells[number_format]


def write_xlsx(
    path: Path,
    coop: Coop | None = None,
    *,
    data: TableData | None = None,
    profil: Mapping[str, Any] | None = None,
) -> Path:
    """Write the template for `coop` to `path` (atomically: a temp file, then a rename).

    `data` fills the tabs with records (tests, screenshots); `profil` adds Profil values."""
    made = design(coop, profil=profil)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.xlsx")
    try:
        wb = xlsxwriter.Workbook(
            str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False}
        )
        wb.set_properties({"title": made.title, "created": datetime(2025, 7, 21)})
        fmt = _Formats(wb)
        _guide_sheet(wb.add_worksheet(GUIDE_TAB), made, fmt)
        _profil_sheet(wb.add_worksheet(PROFIL.name), made, fmt)
        for tab in made.tables:
            records = (data or {}).get(tab.name, ())
            _table_sheet(wb.add_worksheet(tab.name), tab, records, fmt)
        wb.worksheets()[1].activate()  # open on Profil; Petunjuk is the first tab
        wb.close()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _input(look_: Look) -> dict[str, Any]:
    return {
        "input_title": look_.column.label[:32],
        "input_message": look_.hint[:255],
    }


def _validation(look_: Look) -> dict[str, Any]:
    """The xlsxwriter data_validation options of a column (always at least its hint)."""
    options: dict[str, Any] = {"validate": "any", **_input(look_)}
    rule = look_.rule
    if rule is None:
        return options
    options["error_title"] = "Isian tidak sesuai"
    options["error_message"] = rule.message[:255]
    options["error_type"] = "stop" if rule.strict else "warning"
    if rule.kind == "list":
        options.update({"validate": "list", "source": list(rule.choices)})
        if not rule.strict:
            options["error_type"] = "information"
    elif rule.kind == "date":
        options.update(
            {
                "validate": "date",
                "criteria": "between",
                "minimum": datetime(EARLIEST.year, EARLIEST.month, EARLIEST.day),
                "maximum": datetime(LATEST.year, LATEST.month, LATEST.day),
            }
        )
    elif rule.kind == "min0":
        options.update({"validate": "decimal", "criteria": ">=", "value": 0})
    elif rule.kind == "length":
        options.update({"validate": "length", "criteria": "==", "value": 16})
    return options


def _print_setup(ws: Worksheet, last_col: int, last_row: int) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.print_area(0, 0, max(last_row, 1), last_col)


def _table_sheet(
    ws: Worksheet, tab: TabDesign, records: Sequence[Mapping[str, Any]], fmt: _Formats
) -> None:
    last = len(tab.looks) - 1
    ws.set_column(last + 1, last + EXTRA_COLUMNS, 14, fmt.free)  # columns staff add stay editable
    for c, lk in enumerate(tab.looks):
        ws.set_column(c, c, lk.width, fmt.cell(lk.excel_format))
        ws.write_string(0, c, lk.column.label, fmt.required if lk.column.required else fmt.optional)
        ws.data_validation(1, c, DATA_ROWS, c, _validation(lk))
    for r, record in enumerate(records, start=1):
        for c, lk in enumerate(tab.looks):
            _write(ws, r, c, cell_value(lk, record.get(lk.column.key)), fmt.cell(lk.excel_format))
    ws.set_row(0, 32)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(records), 1), last)
    ws.protect("", _PROTECT_OPTIONS)
    ws.set_tab_color(REQUIRED_BG)
    _print_setup(ws, last, max(len(records), 12))


def _profil_sheet(ws: Worksheet, made: Design, fmt: _Formats) -> None:
    widths = PROFIL_WIDTHS
    for c, width in enumerate(widths):
        ws.set_column(c, c, width, fmt.free if c == 1 else None)
    ws.set_column(len(widths), len(widths) + EXTRA_COLUMNS - 1, 14, fmt.free)
    ws.write_string(0, 0, "Data", fmt.required)
    ws.write_string(0, 1, "Isi", fmt.required)
    ws.write_string(0, 2, "Cara mengisi", fmt.optional)
    for r, row in enumerate(made.profil, start=1):
        lk = row.look
        ws.write_string(r, 0, lk.column.label, fmt.label)
        cell_fmt = fmt.cell(lk.excel_format)
        _write(ws, r, 1, cell_value(lk, row.value), cell_fmt)
        ws.write_string(r, 2, lk.hint + (" (wajib)" if lk.column.required else ""), fmt.hint)
        ws.data_validation(r, 1, r, 1, _validation(lk))
    ws.set_row(0, 22)
    ws.freeze_panes(1, 1)
    ws.protect("", _PROTECT_OPTIONS)
    ws.set_tab_color(REQUIRED_BG)
    _print_setup(ws, 2, len(made.profil))


def _guide_sheet(ws: Worksheet, made: Design, fmt: _Formats) -> None:
    last = len(GUIDE_WIDTHS) - 1
    for c, width in enumerate(GUIDE_WIDTHS):
        ws.set_column(c, c, width)
    styles = {
        "title": fmt.title,
        "text": fmt.text,
        "note": fmt.note,
        "section": fmt.section,
        "header": fmt.guide_header,
        "example": fmt.example,
        "column": fmt.column,
        "rule": fmt.text,
    }
    for r, (cells, style) in enumerate(zip(made.guide, made.guide_styles, strict=True)):
        if style == "section":
            ws.merge_range(r, 0, r, last, cells[0], fmt.section)
            continue
        if style == "rule":
            ws.write_string(r, 0, f"{cells[0]} {cells[1]}", fmt.text)
            continue
        if style == "column":
            ws.write_string(r, 0, cells[0], fmt.column)
            ws.write_string(r, 1, cells[1], fmt.column)
            ws.merge_range(r, 2, r, last, cells[2], fmt.column)
            continue
        if style == "header" and cells[1:2] == ("Wajib?",):
            ws.write_string(r, 0, cells[0], fmt.guide_header)
            ws.write_string(r, 1, cells[1], fmt.guide_header)
            ws.merge_range(r, 2, r, last, cells[2], fmt.guide_header)
            continue
        for c, text in enumerate(cells):
            ws.write_string(r, c, text, styles.get(style, fmt.text))
    ws.set_row(0, 24)
    ws.hide_gridlines(2)
    ws.set_tab_color(GUIDE_BG)
    ws.protect("", {**_PROTECT_OPTIONS, "insert_rows": False, "delete_rows": False})
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.print_area(0, 0, len(made.guide) - 1, last)


def _write(ws: Worksheet, r: int, c: int, value: Any, cell_fmt: Any) -> None:
    if value is None:
        return
    if isinstance(value, datetime):
        ws.write_datetime(r, c, value, cell_fmt)
    elif isinstance(value, bool):
        ws.write_boolean(r, c, value, cell_fmt)
    elif isinstance(value, int | float):
        ws.write_number(r, c, value, cell_fmt)
    else:
        ws.write_string(r, c, str(value), cell_fmt)


# --- the Google Sheets writer: one batchUpdate ----------------------------------------------------

GUIDE_SHEET_ID = 0  # a new spreadsheet's first tab; renamed to Petunjuk
SHEET_IDS = {PROFIL.name: 1, **{spec.name: i for i, spec in enumerate(TABLES, start=2)}}
LOCALE, TIME_ZONE = "id_ID", "Asia/Jakarta"
_PIXELS_PER_CHAR = 7


def _color(hex_color: str) -> dict[str, Any]:
    return {"rgbColor": rgb(hex_color)}


def _gr(sheet_id: int, r0: int, r1: int, c0: int, c1: int) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": r0,
        "endRowIndex": r1,
        "startColumnIndex": c0,
        "endColumnIndex": c1,
    }


def _text_cell(
    value: Any,
    *,
    bold: bool = False,
    italic: bool = False,
    bg: str | None = None,
    fg: str | None = None,
    number_format: dict[str, str] | None = None,
    wrap: bool = False,
    note: str = "",
) -> dict[str, Any]:
    fmt: dict[str, Any] = {"verticalAlignment": "TOP"}
    text: dict[str, Any] = {}
    if bold:
        text["bold"] = True
    if italic:
        text["italic"] = True
    if fg:
        text["foregroundColorStyle"] = _color(fg)
    if text:
        fmt["textFormat"] = text
    if bg:
        fmt["backgroundColorStyle"] = _color(bg)
    if number_format:
        fmt["numberFormat"] = number_format
    if wrap:
        fmt["wrapStrategy"] = "WRAP"
    data: dict[str, Any] = {"userEnteredFormat": fmt}
    entered = cell(value)
    if entered:
        data["userEnteredValue"] = entered
    if note:
        data["note"] = note
    return data


def _update_cells(sheet_id: int, r0: int, rows: list[list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": r0, "columnIndex": 0},
            "rows": [{"values": row} for row in rows],
            "fields": "userEnteredValue,userEnteredFormat,note",
        }
    }


def _header(look_: Look) -> dict[str, Any]:
    required = look_.column.required
    return _text_cell(
        look_.column.label,
        bold=True,
        bg=REQUIRED_BG if required else OPTIONAL_BG,
        fg=REQUIRED_FG if required else OPTIONAL_FG,
        wrap=True,
        note=look_.hint,
    )


def _sheets_rule(look_: Look, formula_cell: str) -> dict[str, Any] | None:
    rule = look_.rule
    if rule is None:
        return None
    if rule.kind == "list":
        condition: dict[str, Any] = {
            "type": "ONE_OF_LIST",
            "values": [{"userEnteredValue": c} for c in rule.choices],
        }
    elif rule.kind == "date":
        condition = {"type": "DATE_IS_VALID"}
    elif rule.kind == "min0":
        condition = {"type": "NUMBER_GREATER_THAN_EQ", "values": [{"userEnteredValue": "0"}]}
    else:
        condition = {
            "type": "CUSTOM_FORMULA",
            "values": [{"userEnteredValue": f"=LEN({formula_cell})=16"}],
        }
    return {
        "condition": condition,
        "inputMessage": look_.hint,
        "strict": rule.strict,
        "showCustomUi": rule.kind == "list",
    }


def _protect(sheet_id: int, r0: int, r1: int, c0: int, c1: int, what: str) -> dict[str, Any]:
    return {
        "addProtectedRange": {
            "protectedRange": {
                "range": _gr(sheet_id, r0, r1, c0, c1),
                "description": what,
                "warningOnly": True,
            }
        }
    }


def _widths(sheet_id: int, widths: Sequence[float]) -> list[dict[str, Any]]:
    return [
        {
            "updateDimensionProperties": {
                "range": {
                    "sheetId": sheet_id,
                    "dimension": "COLUMNS",
                    "startIndex": c,
                    "endIndex": c + 1,
                },
                "properties": {"pixelSize": int(width * _PIXELS_PER_CHAR + 5)},
                "fields": "pixelSize",
            }
        }
        for c, width in enumerate(widths)
    ]


def sheets_requests(made: Design, data: TableData | None = None) -> list[dict[str, Any]]:
    """The whole template as the requests of one `spreadsheets.batchUpdate` on a NEW spreadsheet
    (its first tab, sheetId 0, becomes Petunjuk). Google applies them all or none."""
    requests: list[dict[str, Any]] = [
        {
            "updateSpreadsheetProperties": {
                "properties": {"locale": LOCALE, "timeZone": TIME_ZONE},
                "fields": "locale,timeZone",
            }
        },
        {
            "updateSheetProperties": {
                "properties": {
                    "sheetId": GUIDE_SHEET_ID,
                    "title": GUIDE_TAB,
                    "gridProperties": {"hideGridlines": True},
                    "tabColorStyle": _color(GUIDE_BG),
                },
                "fields": "title,gridProperties.hideGridlines,tabColorStyle",
            }
        },
    ]
    # Profil
    profil_id = SHEET_IDS[PROFIL.name]
    requests.append(_add_sheet(profil_id, PROFIL.name, len(made.profil) + 20, 6, frozen_cols=1))
    rows: list[list[dict[str, Any]]] = [
        [
            _text_cell("Data", bold=True, bg=REQUIRED_BG, fg=REQUIRED_FG),
            _text_cell("Isi", bold=True, bg=REQUIRED_BG, fg=REQUIRED_FG),
            _text_cell("Cara mengisi", bold=True, bg=OPTIONAL_BG),
        ]
    ]
    for row in made.profil:
        lk = row.look
        rows.append(
            [
                _text_cell(lk.column.label, bold=True),
                _text_cell(cell_value(lk, row.value), number_format=lk.sheets_format),
                _text_cell(lk.hint + (" (wajib)" if lk.column.required else ""), italic=True),
            ]
        )
    requests.append(_update_cells(profil_id, 0, rows))
    for r, row in enumerate(made.profil, start=1):
        rule = _sheets_rule(row.look, f"B{r + 1}")
        if rule:
            requests.append(
                {"setDataValidation": {"range": _gr(profil_id, r, r + 1, 1, 2), "rule": rule}}
            )
    requests += _widths(profil_id, PROFIL_WIDTHS)
    requests.append(_protect(profil_id, 0, 1, 0, 3, "Judul: jangan diubah"))
    requests.append(_protect(profil_id, 1, len(made.profil) + 1, 0, 1, "Nama data: jangan diubah"))
    # the tables
    for tab in made.tables:
        sid = SHEET_IDS[tab.name]
        width = len(tab.looks)
        records = (data or {}).get(tab.name, ())
        requests.append(_add_sheet(sid, tab.name, max(DATA_ROWS, len(records)) + 1, width + 4))
        rows = [[_header(lk) for lk in tab.looks]]
        rows += [
            [
                _text_cell(cell_value(lk, rec.get(lk.column.key)), number_format=lk.sheets_format)
                for lk in tab.looks
            ]
            for rec in records
        ]
        requests.append(_update_cells(sid, 0, rows))
        for c, lk in enumerate(tab.looks):
            column = _gr(sid, 1, DATA_ROWS + 1, c, c + 1)
            if lk.sheets_format:
                requests.append(
                    {
                        "repeatCell": {
                            "range": {**column, "startRowIndex": 1 + len(records)},
                            "cell": {"userEnteredFormat": {"numberFormat": lk.sheets_format}},
                            "fields": "userEnteredFormat.numberFormat",
                        }
                    }
                )
            rule = _sheets_rule(lk, f"{column_letters(c)}2")
            if rule:
                requests.append({"setDataValidation": {"range": column, "rule": rule}})
        requests += _widths(sid, [lk.width for lk in tab.looks])
        requests.append(_protect(sid, 0, 1, 0, width, "Judul kolom: jangan diubah"))
        requests.append(
            {"setBasicFilter": {"filter": {"range": _gr(sid, 0, DATA_ROWS + 1, 0, width)}}}
        )
    # Petunjuk last: its rows refer to nothing else
    guide: list[list[dict[str, Any]]] = []
    for cells, style in zip(made.guide, made.guide_styles, strict=True):
        guide.append([_guide_cell(text, style) for text in (cells or ("",))])
    requests.append(_update_cells(GUIDE_SHEET_ID, 0, guide))
    requests += _widths(GUIDE_SHEET_ID, GUIDE_WIDTHS)
    requests.append(_protect(GUIDE_SHEET_ID, 0, len(guide), 0, 10, "Petunjuk: hanya dibaca"))
    return requests


def _add_sheet(sheet_id: int, title: str, rows: int, cols: int, frozen_cols: int = 0) -> dict:
    grid: dict[str, int] = {"rowCount": rows, "columnCount": cols, "frozenRowCount": 1}
    if frozen_cols:
        grid["frozenColumnCount"] = frozen_cols
    return {
        "addSheet": {
            "properties": {
                "sheetId": sheet_id,
                "title": title,
                "index": sheet_id,
                "gridProperties": grid,
                "tabColorStyle": _color(REQUIRED_BG),
            }
        }
    }


def _guide_cell(text: str, style: str) -> dict[str, Any]:
    if style == "title":
        return _text_cell(text, bold=True, fg=GUIDE_BG)
    if style == "section":
        return _text_cell(text, bold=True, bg=GUIDE_BG, fg="#FFFFFF")
    if style == "header":
        return _text_cell(text, bold=True, bg=OPTIONAL_BG)
    if style == "example":
        return _text_cell(text, bg="#FFF8E1")
    if style == "note":
        return _text_cell(text, italic=True)
    return _text_cell(text)


def profil_fill_requests(
    sheet_id: int, value_col: int, rows_by_key: Mapping[str, int], coop: Coop
) -> list[dict[str, Any]]:
    """For a copied template: write the registry's Profil values into their cells
    (`rows_by_key`: field key → 0-based row index of that field in the Profil tab)."""
    requests: list[dict[str, Any]] = []
    for key, value in profil_values(coop).items():
        if key not in rows_by_key:
            continue
        lk = look(PROFIL.name, PROFIL.field(key))
        requests.append(
            {
                "updateCells": {
                    "start": {
                        "sheetId": sheet_id,
                        "rowIndex": rows_by_key[key],
                        "columnIndex": value_col,
                    },
                    "rows": [{"values": [{"userEnteredValue": _entered(lk, value)}]}],
                    "fields": "userEnteredValue",
                }
            }
        )
    return requests


def _entered(look_: Look, value: Any) -> dict[str, Any]:
    return cell(cell_value(look_, value))
