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
`sheets_requests` (one Sheets `batchUpdate` in Google mode).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kkmp_sheets.core import wilayah
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

TableData = Mapping[str, Sequence[Mapping[str, Any]]]  # tab name → records (column key → value)
GUIDE_TAB = "Petunjuk"
DATA_ROWS = 2000  # rows below the header that carry the dropdowns and checks
EXTRA_COLUMNS = 20  # unlocked columns right of the contract's, for the cooperative's own
DATE_FORMAT = "dd/mm/yyyy"
EXCEL_MONEY = "[$Rp-421]#,##0"  # the status workbook's rupiah format (outputs/xlsx_cells.py)
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
