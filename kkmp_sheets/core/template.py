"""The cooperative workbook contract (PRODUCT.md "The cooperative workbook") as data.

Everything that reads, validates, provisions or documents a cooperative workbook takes its tab
names, column names, aliases, required flags and listed values from here, so the contract lives
in one place.

Matching is tolerant: case, spaces and punctuation are ignored (`No. Anggota` = `no anggota` =
`NO_ANGGOTA`), see `normalize`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalize(text: object) -> str:
    """The matching key of a tab name, header, label or listed value: lower-case letters and digits."""
    if text is None:
        return ""
    return _NOT_ALNUM.sub("", str(text).lower())


class Kind(StrEnum):
    """How a column's cells are read (see `formats.py`)."""

    TEXT = "text"
    ID = "id"  # an identifier: kept as typed, numbers rendered without ".0"
    NIK = "nik"
    DATE = "date"
    MONEY = "money"
    NUMBER = "number"
    CHOICE = "choice"  # one of `choices`
    CHOICES = "choices"  # a comma list of `choices`
    PHONE = "phone"
    EMAIL = "email"
    NIB = "nib"
    NPWP = "npwp"
    SK_AHU = "sk_ahu"
    KODE_WILAYAH = "kode_wilayah"
    LATLONG = "latlong"
    YESNO = "yesno"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind = Kind.TEXT
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    personal: bool = False  # its values never leave the cooperative's own workbook

    @property
    def match_keys(self) -> frozenset[str]:
        return frozenset(normalize(n) for n in (self.label, *self.aliases))


@dataclass(frozen=True)
class TableSpec:
    """A tab with a header row and one record per row."""

    name: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()

    @property
    def match_keys(self) -> frozenset[str]:
        return frozenset(normalize(n) for n in (self.name, *self.aliases))

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)


@dataclass(frozen=True)
class ProfilSpec:
    """The Profil tab: two columns `Data | Isi`, one row per field."""

    name: str
    fields: tuple[Column, ...]
    aliases: tuple[str, ...] = ()
    label_header: tuple[str, ...] = ("Data", "Field", "Keterangan")
    value_header: tuple[str, ...] = ("Isi", "Nilai", "Value")

    @property
    def match_keys(self) -> frozenset[str]:
        return frozenset(normalize(n) for n in (self.name, *self.aliases))

    def field(self, key: str) -> Column:
        for col in self.fields:
            if col.key == key:
                return col
        raise KeyError(key)


# Listed values, spelled as users should type them.
STATUS_OPERASIONAL = ("Persiapan", "Aktif", "Berhenti")
UNIT_USAHA = (
    "Kantor Koperasi",
    "Gerai Sembako",
    "Simpan Pinjam",
    "Klinik",
    "Apotek",
    "Gudang/Cold Storage",
    "Logistik",
)
STATUS_ANGGOTA = ("Aktif", "Keluar")
JENIS_KELAMIN = ("L", "P")
JENIS_SIMPANAN = ("Pokok", "Wajib", "Sukarela")
# The day of the month from which that month's simpanan wajib (the Profil's monthly amount) is
# owed, unless the city config says otherwise (`[simpanan] due_day`; docs/simpanan.md).
WAJIB_DUE_DAY = 10
KATEGORI_BARANG = ("Beras", "Minyak Goreng", "Gula", "Telur", "Tepung", "LPG", "Lainnya")
JENIS_PEMBELI = ("Anggota", "Umum", "SPPG", "Mitra")
YA_TIDAK = ("Ya", "Tidak")

# Listed values people type in other words; matched after `normalize`.
CHOICE_SYNONYMS: dict[str, str] = {
    "lakilaki": "L",
    "laki": "L",
    "pria": "L",
    "perempuan": "P",
    "wanita": "P",
    "y": "Ya",
    "t": "Tidak",
    "aktip": "Aktif",
    "nonaktif": "Keluar",
    "berhentikeluar": "Keluar",
    "gudang": "Gudang/Cold Storage",
    "coldstorage": "Gudang/Cold Storage",
    "sembako": "Gerai Sembako",
    "kantor": "Kantor Koperasi",
    "simpanpinjam": "Simpan Pinjam",
    "usp": "Simpan Pinjam",
    "minyak": "Minyak Goreng",
    "terigu": "Tepung",
    "tepungterigu": "Tepung",
    "gulapasir": "Gula",
    "telurayam": "Telur",
    "lain": "Lainnya",
    "lainlain": "Lainnya",
}

PROFIL = ProfilSpec(
    name="Profil",
    aliases=("Profil Koperasi", "Profile", "Data Koperasi"),
    fields=(
        Column("nama_koperasi", "Nama Koperasi", required=True, aliases=("Nama KKMP", "Nama KDMP")),
        Column("kelurahan", "Kelurahan", required=True, aliases=("Desa", "Desa/Kelurahan")),
        Column("kecamatan", "Kecamatan", required=True),
        Column("kota", "Kota", aliases=("Kabupaten/Kota", "Kota/Kabupaten", "Kabupaten")),
        Column("kode_wilayah", "Kode Wilayah", Kind.KODE_WILAYAH, aliases=("Kode Kemendagri",)),
        Column("tanggal_musyawarah", "Tanggal Musyawarah", Kind.DATE, aliases=("Tanggal Musdes",)),
        Column("nomor_akta", "Nomor Akta", aliases=("No Akta", "Akta Pendirian")),
        Column("nomor_sk_ahu", "Nomor SK AHU", Kind.SK_AHU, aliases=("SK AHU", "No SK AHU")),
        Column("nomor_induk_koperasi", "Nomor Induk Koperasi", aliases=("NIK Koperasi", "NIKop")),
        Column("nib", "NIB", Kind.NIB, aliases=("Nomor Induk Berusaha",)),
        Column("npwp", "NPWP", Kind.NPWP, aliases=("NPWP Koperasi",)),
        Column("nama_bank", "Nama Bank", aliases=("Bank",)),
        Column("nomor_rekening", "Nomor Rekening", Kind.ID, aliases=("No Rekening", "Rekening")),
        Column("alamat_operasional", "Alamat Operasional", aliases=("Alamat",)),
        Column("titik_lokasi", "Titik Lokasi", Kind.LATLONG, aliases=("Koordinat", "Lokasi")),
        Column(
            "status_operasional",
            "Status Operasional",
            Kind.CHOICE,
            choices=STATUS_OPERASIONAL,
            aliases=("Status",),
        ),
        Column("tanggal_mulai_operasi", "Tanggal Mulai Operasi", Kind.DATE),
        Column(
            "tanggal_launching", "Tanggal Launching", Kind.DATE, aliases=("Tanggal Peluncuran",)
        ),
        Column("unit_usaha", "Unit Usaha", Kind.CHOICES, choices=UNIT_USAHA),
        Column("simpanan_pokok", "Simpanan Pokok (Rp)", Kind.MONEY, aliases=("Simpanan Pokok",)),
        Column(
            "simpanan_wajib_bulanan",
            "Simpanan Wajib per Bulan (Rp)",
            Kind.MONEY,
            aliases=("Simpanan Wajib per Bulan", "Simpanan Wajib", "Simpanan Wajib Bulanan"),
        ),
        Column("nama_ketua", "Nama Ketua", aliases=("Ketua",)),
        Column("telepon_ketua", "Telepon Ketua", Kind.PHONE, aliases=("HP Ketua", "No HP Ketua")),
        Column("email_pengurus", "Email Pengurus", Kind.EMAIL, aliases=("Email",)),
        Column("mitra", "Mitra", aliases=("Mitra Usaha",)),
    ),
)

ANGGOTA = TableSpec(
    name="Anggota",
    aliases=("Daftar Anggota", "Data Anggota", "Members"),
    columns=(
        Column(
            "no_anggota",
            "No Anggota",
            Kind.ID,
            required=True,
            aliases=("Nomor Anggota", "ID Anggota", "No. Anggota"),
        ),
        Column(
            "nama", "Nama", required=True, aliases=("Nama Lengkap", "Nama Anggota"), personal=True
        ),
        Column(
            "nik",
            "NIK",
            Kind.NIK,
            required=True,
            aliases=("No KTP", "Nomor KTP", "NIK KTP"),
            personal=True,
        ),
        Column(
            "jenis_kelamin",
            "Jenis Kelamin",
            Kind.CHOICE,
            choices=JENIS_KELAMIN,
            aliases=("JK", "L/P", "Kelamin"),
        ),
        Column(
            "tanggal_masuk",
            "Tanggal Masuk",
            Kind.DATE,
            required=True,
            aliases=("Tgl Masuk", "Tanggal Bergabung", "Tanggal Daftar"),
        ),
        Column("rt", "RT", Kind.ID),
        Column("rw", "RW", Kind.ID),
        Column(
            "telepon", "Telepon", Kind.PHONE, aliases=("No HP", "HP", "No Telepon"), personal=True
        ),
        Column(
            "status", "Status", Kind.CHOICE, choices=STATUS_ANGGOTA, aliases=("Status Anggota",)
        ),
        Column("tanggal_keluar", "Tanggal Keluar", Kind.DATE, aliases=("Tgl Keluar",)),
    ),
)

SIMPANAN = TableSpec(
    name="Simpanan",
    aliases=("Simpanan Anggota", "Buku Simpanan", "Savings"),
    columns=(
        Column("tanggal", "Tanggal", Kind.DATE, required=True, aliases=("Tgl", "Tanggal Setor")),
        Column(
            "no_anggota",
            "No Anggota",
            Kind.ID,
            required=True,
            aliases=("Nomor Anggota", "ID Anggota"),
        ),
        Column(
            "jenis",
            "Jenis",
            Kind.CHOICE,
            required=True,
            choices=JENIS_SIMPANAN,
            aliases=("Jenis Simpanan",),
        ),
        Column(
            "jumlah",
            "Jumlah",
            Kind.MONEY,
            required=True,
            aliases=("Jumlah (Rp)", "Nominal", "Jumlah Rp"),
            personal=True,
        ),
        Column("keterangan", "Keterangan", aliases=("Ket",)),
    ),
)

STOK = TableSpec(
    name="Stok",
    aliases=("Stok Barang", "Persediaan", "Stock"),
    columns=(
        Column("kode_barang", "Kode Barang", Kind.ID, required=True, aliases=("Kode",)),
        Column("nama_barang", "Nama Barang", required=True, aliases=("Barang", "Nama Produk")),
        Column("kategori", "Kategori", Kind.CHOICE, choices=KATEGORI_BARANG),
        Column("satuan", "Satuan", required=True, aliases=("Unit",)),
        Column(
            "jumlah_stok",
            "Jumlah Stok",
            Kind.NUMBER,
            required=True,
            aliases=("Stok", "Qty", "Jumlah"),
        ),
        Column("harga_beli", "Harga Beli (Rp)", Kind.MONEY, aliases=("Harga Beli", "Harga Modal")),
        Column("harga_jual", "Harga Jual (Rp)", Kind.MONEY, aliases=("Harga Jual",)),
        Column("stok_minimum", "Stok Minimum", Kind.NUMBER, aliases=("Stok Min", "Minimum")),
        Column("pemasok", "Pemasok", aliases=("Supplier",)),
        Column("konsinyasi", "Konsinyasi", Kind.YESNO, choices=YA_TIDAK),
    ),
)

PENJUALAN = TableSpec(
    name="Penjualan",
    aliases=("Penjualan Harian", "Transaksi", "Sales"),
    columns=(
        Column(
            "tanggal", "Tanggal", Kind.DATE, required=True, aliases=("Tgl", "Tanggal Transaksi")
        ),
        Column("no_nota", "No Nota", Kind.ID, aliases=("Nomor Nota", "Nota", "No Struk")),
        Column("kode_barang", "Kode Barang", Kind.ID, required=True, aliases=("Kode",)),
        Column("jumlah", "Jumlah", Kind.NUMBER, required=True, aliases=("Qty", "Jml")),
        Column(
            "harga_satuan",
            "Harga Satuan",
            Kind.MONEY,
            required=True,
            aliases=("Harga", "Harga Satuan (Rp)"),
        ),
        Column("total", "Total", Kind.MONEY, aliases=("Total (Rp)", "Subtotal")),
        Column(
            "jenis_pembeli",
            "Jenis Pembeli",
            Kind.CHOICE,
            choices=JENIS_PEMBELI,
            aliases=("Pembeli",),
        ),
        Column("no_anggota", "No Anggota", Kind.ID, aliases=("Nomor Anggota", "ID Anggota")),
    ),
)

TABLES: tuple[TableSpec, ...] = (ANGGOTA, SIMPANAN, STOK, PENJUALAN)

# The one tab the service owns in a cooperative workbook.
FEEDBACK_TAB = "Hasil Pemeriksaan"
# The keys staff ticked in Hasil Pemeriksaan, kept with the workbook as read (see
# `core/acknowledge.py`); brackets cannot occur in a real tab's name.
TICKS_TAB = "Hasil Pemeriksaan [sudah dicek]"
FEEDBACK_COLUMNS = ("Tingkat", "Tab", "Baris", "Kolom", "Nilai", "Masalah", "Saran")

# How many title or blank rows may stand above a header row.
MAX_ROWS_ABOVE_HEADER = 5


@dataclass(frozen=True)
class RegistryColumns:
    """The registry (`Daftar KKMP` tab, or a CSV/xlsx in local mode)."""

    tab: str = "Daftar KKMP"
    columns: tuple[Column, ...] = field(
        default_factory=lambda: (
            Column("id", "ID", Kind.ID, required=True, aliases=("ID KKMP", "Kode")),
            Column("nama_koperasi", "Nama Koperasi", required=True, aliases=("Nama KKMP",)),
            Column("kelurahan", "Kelurahan", required=True, aliases=("Desa", "Desa/Kelurahan")),
            Column("kecamatan", "Kecamatan", required=True),
            Column("kode_wilayah", "Kode Wilayah", Kind.KODE_WILAYAH),
            Column(
                "spreadsheet",
                "Spreadsheet",
                required=True,
                aliases=("Spreadsheet ID", "URL", "Tautan", "File", "Path"),
            ),
            Column("email_pengurus", "Email Pengurus", Kind.EMAIL),
            Column("penanggung_jawab", "Penanggung Jawab", aliases=("PJ",)),
            Column(
                "email_penanggung_jawab",
                "Email Penanggung Jawab",
                Kind.EMAIL,
                aliases=("Email PJ",),
            ),
            # Optional (issue 12): where the penanggung jawab alert goes on WhatsApp, and a
            # cooperative whose people asked for no WhatsApp/Telegram message.
            Column(
                "telepon_penanggung_jawab",
                "Telepon Penanggung Jawab",
                Kind.PHONE,
                aliases=("Telepon PJ", "HP PJ", "HP Penanggung Jawab", "WA Penanggung Jawab"),
            ),
            Column("tanpa_pesan", "Tanpa Pesan", aliases=("Tanpa WA", "Opt Out")),
        )
    )


REGISTRY = RegistryColumns()


def match_choice(value: object, choices: tuple[str, ...]) -> str | None:
    """The listed value `value` means, matched tolerantly, or None."""
    if isinstance(value, str):
        return _match_text_choice(value, choices)  # a column repeats a handful of values
    return _match_choice(value, choices)


@lru_cache(maxsize=4096)
def _match_text_choice(value: str, choices: tuple[str, ...]) -> str | None:
    return _match_choice(value, choices)


def _match_choice(value: object, choices: tuple[str, ...]) -> str | None:
    key = normalize(value)
    if not key:
        return None
    for choice in choices:
        if normalize(choice) == key:
            return choice
    synonym = CHOICE_SYNONYMS.get(key)
    if synonym in choices:
        return synonym
    return None
