"""The rules: what is wrong or doubtful in a parsed cooperative workbook.

`parse.py` already reported what could not be read at all (missing tabs and columns, unreadable
cells, unknown listed values). This module judges what *was* read: identity numbers, duplicates,
signs, dates against the as-of day, cross-tab references (a sale of an unknown item, savings of an
unknown member), totals, the legal profile, and — across cooperatives — a NIK registered twice.

Pure: typed tables and a context in, `Issue`s out. No I/O, no clock.
"""

from __future__ import annotations

import gc
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import chain
from typing import Any

from kkmp_sheets.core import formats, wilayah
from kkmp_sheets.core.issue import Issue, Severity, display_value
from kkmp_sheets.core.parse import NikValue, ParsedWorkbook, Record, Table
from kkmp_sheets.core.template import ANGGOTA, PENJUALAN, PROFIL, SIMPANAN, STOK

# A Total may differ from Jumlah × Harga Satuan by this much (rounding) before we say so.
TOTAL_TOLERANCE_RP = 1.0
EARLIEST_PLAUSIBLE = date(2000, 1, 1)


@dataclass(frozen=True)
class Context:
    as_of: date
    city_kode: str  # "31.73" (a city) or "32" (a province)
    city_name: str = ""
    registry_kode_wilayah: str | None = None


def validate(book: ParsedWorkbook, ctx: Context) -> list[Issue]:
    # As in `parse.parse_workbook`: the issues of a large tab are many new objects that form no
    # cycle, and the collector walking them (and the tables) as they are made is wasted work.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _validate(book, ctx)
    finally:
        if paused:
            gc.enable()


def _validate(book: ParsedWorkbook, ctx: Context) -> list[Issue]:
    issues: list[Issue] = []
    issues += check_profil(book, ctx)
    anggota = book.tables.get(ANGGOTA.name)
    stok = book.tables.get(STOK.name)
    member_ids = None
    if anggota is not None:
        issues += check_anggota(anggota, ctx)
        member_ids = {v for r in anggota.records if (v := r.values.get("no_anggota"))}
    item_codes = None
    if stok is not None:
        issues += check_stok(stok, ctx)
        item_codes = {r["kode_barang"] for r in stok.records if r["kode_barang"]}
    if (simpanan := book.tables.get(SIMPANAN.name)) is not None:
        issues += check_simpanan(simpanan, ctx, member_ids)
    if (penjualan := book.tables.get(PENJUALAN.name)) is not None:
        issues += check_penjualan(penjualan, ctx, item_codes)
    return issues


def _at(table: Table, rec: Record, key: str, code: str, **details: Any) -> Issue:
    """An issue at one cell of a table: its tab, the row the user sees, the header as typed."""
    return Issue(code, tab=table.tab, row=rec.row, column=table.header(key), **details)


def _negatives(
    table: Table, rec: Record, keys: tuple[str, ...], personal: bool = False
) -> list[Issue]:
    """A negative amount, price or stock is certainly wrong (figures skip it)."""
    return [
        _at(table, rec, key, "negative-value", value=rec[key], personal=personal)
        for key in keys
        if rec[key] is not None and rec[key] < 0
    ]


# --- per tab ----------------------------------------------------------------------------------


def check_anggota(table: Table, ctx: Context) -> list[Issue]:
    issues: list[Issue] = []
    city_digits = ctx.city_kode.replace(".", "")
    first_id: dict[str, int] = {}
    first_nik: dict[str, int] = {}
    nik_header = table.header("nik")
    as_of = ctx.as_of
    # This runs once per member (hundreds of thousands in a province): the values are read from
    # the record's dict, and the helpers that make issues are called only when there is one.
    for rec in table.records:
        values = rec.values
        member_id = values.get("no_anggota")
        if member_id:
            if member_id in first_id:
                issues.append(
                    _at(
                        table,
                        rec,
                        "no_anggota",
                        "member-id-duplicate",
                        value=member_id,
                        detail=str(first_id[member_id]),
                    )
                )
            else:
                first_id[member_id] = rec.row
        nik = values.get("nik")
        if isinstance(nik, NikValue):
            digits = nik.check.digits
            if nik.check.problems or (
                digits and city_digits and not digits.startswith(city_digits)
            ):
                issues += _nik_issues(nik, rec.row, table.tab, nik_header, city_digits, ctx)
            if digits:
                if digits in first_nik:
                    issues.append(
                        Issue(
                            "nik-duplicate",
                            tab=table.tab,
                            row=rec.row,
                            column=nik_header,
                            value=digits,
                            personal=True,
                            detail=str(first_nik[digits]),
                        )
                    )
                else:
                    first_nik[digits] = rec.row
        joined, left = values.get("tanggal_masuk"), values.get("tanggal_keluar")
        if joined is not None and not EARLIEST_PLAUSIBLE <= joined <= as_of:
            issues += _date_issues(table, rec.row, "tanggal_masuk", joined, ctx)
        if left is not None and not EARLIEST_PLAUSIBLE <= left <= as_of:
            issues += _date_issues(table, rec.row, "tanggal_keluar", left, ctx)
        if joined and left and left < joined:
            issues.append(_at(table, rec, "tanggal_keluar", "member-left-before-join"))
    return issues


def _nik_issues(
    nik: NikValue, row: int, tab: str, header: str, city_digits: str, ctx: Context
) -> list[Issue]:
    issues = []
    value = nik.digits or display_value(nik.raw)
    problems = nik.check.problems
    for code in problems:
        detail = (
            str(sum(ch.isdigit() for ch in display_value(nik.raw))) if code == "nik-length" else ""
        )
        issues.append(
            Issue(code, tab=tab, row=row, column=header, value=value, personal=True, detail=detail)
        )
    if (
        nik.digits
        and "nik-region-unknown" not in problems
        and city_digits
        and not nik.digits.startswith(city_digits)
    ):
        where = ctx.city_name or wilayah.name(ctx.city_kode) or ctx.city_kode
        issues.append(
            Issue(
                "nik-outside-city",
                tab=tab,
                row=row,
                column=header,
                value=value,
                personal=True,
                detail=where,
            )
        )
    return issues


def check_simpanan(table: Table, ctx: Context, member_ids: set[str] | None) -> list[Issue]:
    issues: list[Issue] = []
    for rec in table.records:
        issues += _date_issues(table, rec.row, "tanggal", rec["tanggal"], ctx)
        issues += _negatives(table, rec, ("jumlah",), personal=True)  # a member's savings
        member = rec["no_anggota"]
        if member and member_ids is not None and member not in member_ids:
            issues.append(
                _at(
                    table,
                    rec,
                    "no_anggota",
                    "member-unknown",
                    value=member,
                )
            )
    return issues


def check_stok(table: Table, ctx: Context) -> list[Issue]:
    issues: list[Issue] = []
    first_code: dict[str, int] = {}
    has_cost_column = "harga_beli" in table.headers
    for rec in table.records:
        code = rec["kode_barang"]
        if code:
            if code in first_code:
                issues.append(
                    _at(
                        table,
                        rec,
                        "kode_barang",
                        "item-code-duplicate",
                        value=code,
                        detail=str(first_code[code]),
                    )
                )
            else:
                first_code[code] = rec.row
        issues += _negatives(
            table, rec, ("jumlah_stok", "harga_beli", "harga_jual", "stok_minimum")
        )
        if rec["harga_beli"] is None and rec["jumlah_stok"] is not None:
            issues.append(
                _at(
                    table,
                    rec,
                    "harga_beli",
                    "missing-optional",
                    detail="Nilai Stok"
                    if has_cost_column
                    else "Nilai Stok (kolom Harga Beli belum ada)",
                )
            )
        buy, sell = rec["harga_beli"], rec["harga_jual"]
        if buy and sell and 0 < sell < buy:
            issues.append(
                _at(
                    table,
                    rec,
                    "harga_jual",
                    "sale-price-below-cost",
                    value=sell,
                )
            )
    return issues


def check_penjualan(table: Table, ctx: Context, item_codes: set[str] | None) -> list[Issue]:
    issues: list[Issue] = []
    for rec in table.records:
        issues += _date_issues(table, rec.row, "tanggal", rec["tanggal"], ctx)
        issues += _negatives(table, rec, ("jumlah", "harga_satuan", "total"))
        code = rec["kode_barang"]
        if code and item_codes is not None and code not in item_codes:
            issues.append(
                _at(
                    table,
                    rec,
                    "kode_barang",
                    "item-unknown",
                    value=code,
                )
            )
        qty, price, total = rec["jumlah"], rec["harga_satuan"], rec["total"]
        if qty is not None and price is not None and total is not None:
            difference = total - qty * price
            # Numbers near the float limit multiply to infinity (or NaN): still a mismatch, shown
            # as one, never an exception that would stop this cooperative's check.
            if not math.isfinite(difference) or abs(difference) > TOTAL_TOLERANCE_RP:
                issues.append(
                    _at(
                        table,
                        rec,
                        "total",
                        "total-mismatch",
                        value=total,
                        detail=formats.format_rupiah(abs(difference))
                        if math.isfinite(difference)
                        else "sangat besar",
                    )
                )
    return issues


def _date_issues(table: Table, row: int, key: str, value: date | None, ctx: Context) -> list[Issue]:
    if value is None:
        return []
    if value > ctx.as_of:
        return [
            Issue(
                "future-date",
                tab=table.tab,
                row=row,
                column=table.header(key),
                value=value.isoformat(),
                detail=formats.format_date(ctx.as_of),
            )
        ]
    if value < EARLIEST_PLAUSIBLE:
        return [
            Issue(
                "date-before-start",
                tab=table.tab,
                row=row,
                column=table.header(key),
                value=value.isoformat(),
                detail=formats.format_date(value),
            )
        ]
    return []


# --- Profil -----------------------------------------------------------------------------------

# Fields a figure or the financing readiness uses: reported when empty, as a warning.
PROFIL_WANTED = (
    "status_operasional",
    "nomor_sk_ahu",
    "nomor_induk_koperasi",
    "nib",
    "npwp",
    "kode_wilayah",
)


def check_profil(book: ParsedWorkbook, ctx: Context) -> list[Issue]:
    profil = book.profil
    if profil.tab is None:
        return []
    tab = profil.tab

    def at(key: str, code: str, **details: Any) -> Issue:
        """An issue at a Profil field: the row the user sees, the field's one label."""
        return Issue(
            code, tab=tab, row=profil.rows.get(key), column=PROFIL.field(key).label, **details
        )

    issues: list[Issue] = []
    for key in PROFIL_WANTED:
        if profil.values.get(key) is None and formats.is_blank(profil.raw.get(key)):
            issues.append(at(key, "profil-field-missing"))
    npwp = profil.values.get("npwp")
    if isinstance(npwp, formats.Npwp) and npwp.legacy:
        issues.append(at("npwp", "npwp-15-digit", value=npwp.digits))
    bank, account = profil.values.get("nama_bank"), profil.values.get("nomor_rekening")
    if bool(bank) != bool(account):
        issues.append(at("nomor_rekening" if bank else "nama_bank", "bank-account-incomplete"))
    kode = profil.values.get("kode_wilayah")
    registered = wilayah.dotted(ctx.registry_kode_wilayah) if ctx.registry_kode_wilayah else None
    if kode and wilayah.get(kode) is None:
        issues.append(at("kode_wilayah", "kode-wilayah-unknown", value=kode))
    elif kode and registered and registered != kode:
        issues.append(at("kode_wilayah", "kode-wilayah-mismatch", value=kode, detail=registered))
    point = profil.values.get("titik_lokasi")
    if point is not None and _swapped(profil.raw.get("titik_lokasi")):
        issues.append(at("titik_lokasi", "latlong-swapped", detail=formats.format_latlong(point)))
    for key in ("tanggal_musyawarah", "tanggal_mulai_operasi"):  # a launch may be planned ahead
        value = profil.values.get(key)
        if isinstance(value, date) and value > ctx.as_of:
            issues.append(
                at(
                    key,
                    "future-date",
                    value=value.isoformat(),
                    detail=formats.format_date(ctx.as_of),
                )
            )
    return issues


def _swapped(raw: Any) -> bool:
    """The Titik Lokasi cell had longitude first (read again: one cell per workbook)."""
    try:
        reading = formats.read_latlong(raw)
    except formats.FormatError:
        return False
    return reading is not None and reading.swapped


# --- across cooperatives ----------------------------------------------------------------------


def member_niks(book: ParsedWorkbook) -> dict[str, int]:
    """Each well-formed NIK of a workbook's members → its first sheet row (kept in memory only)."""
    table = book.tables.get(ANGGOTA.name)
    found: dict[str, int] = {}
    if table is None:
        return found
    for rec in table.records:
        nik = rec.values.get("nik")
        if isinstance(nik, NikValue) and nik.digits and rec.values.get("status") != "Keluar":
            found.setdefault(nik.digits, rec.row)
    return found


def cross_coop_issues(
    niks: Mapping[str, Mapping[str, int]], tabs: Mapping[str, str]
) -> dict[str, list[Issue]]:
    """A NIK active in two cooperatives is told to each as "also registered elsewhere" — never which.

    A province holds millions of NIKs and almost none are shared: they are counted in C
    (`Counter`), and only the cooperatives holding a shared one are looked at in Python. Each
    cooperative's problems come in the order the shared NIKs first appear, cooperative after
    cooperative (as a walk over every NIK would list them)."""
    counts = Counter(chain.from_iterable(niks.values()))
    shared = {nik for nik, n in counts.items() if n > 1}
    del counts
    if not shared:
        return {}
    holding: dict[str, list[str]] = {}  # coop id -> its shared NIKs, in its own order
    rank: dict[str, int] = {}  # shared NIK -> where it first appears
    for coop_id, coop_niks in niks.items():
        if shared.isdisjoint(coop_niks):
            continue
        mine = [nik for nik in coop_niks if nik in shared]
        holding[coop_id] = mine
        for nik in mine:
            rank.setdefault(nik, len(rank))
    out: dict[str, list[Issue]] = {}
    for coop_id, mine in holding.items():
        out[coop_id] = [
            Issue(
                "nik-elsewhere",
                tab=tabs.get(coop_id, ANGGOTA.name),
                row=niks[coop_id][nik],
                column="NIK",
                value=nik,
                personal=True,
            )
            for nik in sorted(mine, key=rank.__getitem__)
        ]
    return out


def count(issues: Iterable[Issue]) -> tuple[int, int]:
    """(Galat, Peringatan) that count: an acknowledged Peringatan does not (see `acknowledge`)."""
    galat = peringatan = 0
    for issue in issues:
        if issue.acknowledged:
            continue
        if issue.severity is Severity.GALAT:
            galat += 1
        else:
            peringatan += 1
    return galat, peringatan
