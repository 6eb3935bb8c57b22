"""Small builders for in-memory workbooks: real rows, as a user would type them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from kkmp_sheets.core.parse import RawWorkbook

AS_OF = date(2026, 1, 29)

PROFIL_ROWS: list[list[Any]] = [
    ["PROFIL KOPERASI"],
    [],
    ["Data", "Isi"],
    ["Nama Koperasi", "KKMP Kedoya Selatan"],
    ["Kelurahan", "Kedoya Selatan"],
    ["Kecamatan", "Kebon Jeruk"],
    ["Kode Wilayah", "31.73.05.1004"],
    ["Status Operasional", "Aktif"],
    ["Nomor SK AHU", "AHU-0012345.AH.01.29.TAHUN 2025"],
    ["Nomor Induk Koperasi", "3173050010001"],
    ["NIB", "1234567890123"],
    ["NPWP", "0123456789012345"],
    ["Nama Bank", "Bank Mandiri"],
    ["Nomor Rekening", "1230009876543"],
    ["Simpanan Wajib per Bulan (Rp)", "Rp 10.000"],
]

ANGGOTA_HEADER = ["No Anggota", "Nama", "NIK", "Jenis Kelamin", "Tanggal Masuk", "Status"]
SIMPANAN_HEADER = ["Tanggal", "No Anggota", "Jenis", "Jumlah"]
STOK_HEADER = ["Kode Barang", "Nama Barang", "Kategori", "Satuan", "Jumlah Stok", "Harga Beli (Rp)"]
PENJUALAN_HEADER = ["Tanggal", "No Nota", "Kode Barang", "Jumlah", "Harga Satuan", "Total"]


def nik(
    serial: int = 1, *, woman: bool = False, kecamatan: str = "317305", born: str = "170890"
) -> str:
    """A synthetic, well-formed NIK (never a real person's)."""
    day = int(born[:2]) + (40 if woman else 0)
    return f"{kecamatan}{day:02d}{born[2:]}{serial:04d}"


def member(no: str, serial: int, joined: Any = "01/12/2025", **extra: Any) -> list[Any]:
    row = [no, f"Anggota Contoh {serial}", nik(serial), "L", joined, extra.get("status", "Aktif")]
    return row


def make_book(
    profil: list[list[Any]] | None = None,
    anggota: list[list[Any]] | None = None,
    simpanan: list[list[Any]] | None = None,
    stok: list[list[Any]] | None = None,
    penjualan: list[list[Any]] | None = None,
    modified: datetime | None = None,
    **extra_tabs: list[list[Any]],
) -> RawWorkbook:
    """A workbook; each tab given as rows WITHOUT the header (the standard header is added)."""
    tabs: dict[str, list[list[Any]]] = {}
    tabs["Profil"] = profil if profil is not None else [list(r) for r in PROFIL_ROWS]
    tabs["Anggota"] = [ANGGOTA_HEADER, *(anggota or [])]
    tabs["Simpanan"] = [SIMPANAN_HEADER, *(simpanan or [])]
    tabs["Stok"] = [STOK_HEADER, *(stok or [])]
    tabs["Penjualan"] = [PENJUALAN_HEADER, *(penjualan or [])]
    tabs.update(extra_tabs)
    return RawWorkbook(tabs=tabs, modified=modified)


@pytest.fixture
def as_of() -> date:
    return AS_OF
