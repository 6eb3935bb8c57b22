"""The column-wise parser and checks give exactly what the cell-by-cell ones gave.

tests/reference_parse_v1.py and tests/reference_validation_v1.py are the modules as they were
before parsing by column (frozen copies). Every record value and every issue is compared with its
type (1, 1.0 and True are equal in Python but not here), and issues in their order, on:
- messy Anggota tabs of several seeds (tests/messy_anggota.py);
- every tab of the contract filled with cells drawn from a pool of odd values of every type, so
  that each column's reader meets each of them, repeated (the memo) and not;
- the demo city's workbooks, read from .xlsx as the service reads them.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from kkmp_sheets.core import parse, validation
from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.template import PROFIL, TABLES
from tests import reference_parse_v1 as ref_parse
from tests import reference_validation_v1 as ref_validation
from tests.messy_anggota import CITY_KODE, anggota_rows

AS_OF = date(2026, 1, 29)


def typed(value: Any) -> Any:
    """A value with its type, recursively: what the comparison sees."""
    if type(value).__name__ == "NikValue":
        return ("NikValue", value.check, typed(value.raw))
    if isinstance(value, tuple):
        return ("tuple", *(typed(v) for v in value))
    return (type(value).__name__, repr(value))


def issue_fields(issue: Issue) -> tuple[Any, ...]:
    return (
        issue.code,
        issue.tab,
        issue.row,
        issue.column,
        typed(issue.value),
        issue.personal,
        issue.expected,
        issue.detail,
        issue.severity_override,
    )


def outcome(parse_module: Any, validation_module: Any, raw: parse.RawWorkbook) -> Any:
    book = parse_module.parse_workbook(raw)
    ctx = validation_module.Context(as_of=AS_OF, city_kode=CITY_KODE, city_name="Kota Bandung")
    checked = validation_module.validate(book, ctx)
    tables = {
        name: (
            table.tab,
            table.headers,
            [(r.row, {k: typed(v) for k, v in r.values.items()}) for r in table.records],
        )
        for name, table in book.tables.items()
    }
    profil = {k: typed(v) for k, v in book.profil.values.items()}
    return {
        "tables": tables,
        "profil": profil,
        "parse_issues": [issue_fields(i) for i in book.issues],
        "checks": [issue_fields(i) for i in checked],
        "member_niks": validation_module.member_niks(book),
    }


def assert_same(raw: parse.RawWorkbook) -> None:
    expected = outcome(ref_parse, ref_validation, raw)
    got = outcome(parse, validation, raw)
    for part in expected:
        assert got[part] == expected[part], part


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_messy_anggota_tab_reads_and_checks_the_same(seed):
    rows = anggota_rows(3000, seed)
    expected = outcome(ref_parse, ref_validation, parse.RawWorkbook(tabs={"Anggota": rows}))
    assert len(expected["parse_issues"]) > 500 and len(expected["checks"]) > 500  # truly messy
    assert_same(parse.RawWorkbook(tabs={"Anggota": rows}))


def test_clean_anggota_tab_reads_and_checks_the_same():
    assert_same(parse.RawWorkbook(tabs={"Anggota": anggota_rows(3000, 9, clean=True)}))


def test_a_tab_past_the_memo_limit_reads_the_same(monkeypatch):
    monkeypatch.setattr(parse, "MEMO_LIMIT", 50)  # most values are met after the memo is full
    assert_same(parse.RawWorkbook(tabs={"Anggota": anggota_rows(2000, 11)}))


WIB = timezone(timedelta(hours=7))
# Values whose equal-looking twins must read apart: 1 / 1.0 / True / "1", 0.0 / -0.0, NaN, an
# aware datetime equal to another one on a different day, str and numbers of the same digits.
# (Not 1e200 or more: a Penjualan row of 1e200 x 1e200 makes check_penjualan's Total difference infinite
# and format_rupiah raise, in both versions alike.)
ODD_VALUES: list[Any] = [
    None, "", " ", "  ", "-", " - ", "\u00a0", "\u200b", "\u2014", float("nan"),
    0, 0.0, -0.0, 1, 1.0, True, False, "1", "1.0", " 1 ", "0", -1, -1.5, 12.5, 2.5e-7,
    1e150, float("inf"), -float("inf"), 10**20, 45891, 45891.0, 45891.75, "45891", 17082025,
    "#REF!", " #REF!", "#N/A ", "#DIV/0!", "#hashtag", "#SPILL!",
    date(2025, 8, 17), datetime(2025, 8, 17, 23, 0), datetime(2025, 8, 17, 23, 0, tzinfo=WIB),
    datetime(2025, 8, 17, 16, 0, tzinfo=UTC), time(10, 0), date(1999, 1, 1),
    "17/08/2025", "17-8-25", "2025-08-17", "17 Agustus 2025", "Senin, 17 Agu 2025", "31/02/2025",
    "17/08/2099", "Rp 1.250.000", "1.250.000,00", "50rb", "1,5 juta", "(50.000)", "Rp -", "12,5",
    "1,250,000", "-5", "aktif", " KELUAR ", "Aktip", "perempuan", "wajb", "Pokok, Wajib",
    "Beras; gula", "ya", "Tidak", "T", "3273011708900001", "'3273011708900001",
    "3273 0117 0890 0001", 3273011708900001, 3273011708900001.0, "3,27301E+15",
    "327301170890001", "0812-3456-7890", "+62 812 3456 7890", 81234567890, "12345",
    "nama@contoh.id", "mailto:A@B.ID", "31.73.05.1004", "3173051004", "-6.1680, 106.7589",
    "AHU-0012345.AH.01.29.TAHUN 2025", "9120001234567", "01.234.567.8-901.000",
    Decimal("12.50"), "A-001", "'001", "B01", "Siti Aminah", "Kurma 🌴 تمر", "x" * 60,
]  # fmt: skip


def odd_rows(spec: Any, rng: random.Random, n: int) -> list[list[Any]]:
    header = [col.label for col in spec.columns]
    rows: list[list[Any]] = [header]
    for _ in range(n):
        row = [rng.choice(ODD_VALUES) for _ in header]
        if rng.random() < 0.05:
            row = row[: rng.randrange(len(row))]
        rows.append(row)
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_reader_meets_every_odd_value_the_same(seed):
    rng = random.Random(seed)
    tabs = {spec.name: odd_rows(spec, rng, 1500) for spec in TABLES}
    profil = [["Data", "Isi"]]
    profil += [[f.label, rng.choice(ODD_VALUES)] for f in PROFIL.fields]
    tabs["Profil"] = profil
    assert_same(parse.RawWorkbook(tabs=tabs))


@pytest.fixture(scope="module")
def demo_workbooks(tmp_path_factory) -> list[parse.RawWorkbook]:
    from kkmp_sheets.demo import build_demo_city
    from kkmp_sheets.sources.limits import ReadLimits
    from kkmp_sheets.sources.reader import read_tabs

    root = tmp_path_factory.mktemp("demo")
    build_demo_city(root, kode="31.73", size=8)
    paths = sorted(root.rglob("*.xlsx"))
    return [parse.RawWorkbook(tabs=read_tabs(str(p), ReadLimits())) for p in paths]


def without_titik_lokasi(raw: parse.RawWorkbook) -> parse.RawWorkbook:
    """`raw` with its Profil's Titik Lokasi left blank. Titik Lokasi is read in more forms since
    v1 (degrees-minutes-seconds, longitude first, Maps links: a deliberate change, with checks of
    its own in tests/test_lokasi.py), so only the rest of the workbook is held to v1."""
    label = PROFIL.field("titik_lokasi").label.casefold()
    tabs = dict(raw.tabs)
    for name, rows in raw.tabs.items():
        if name.casefold() == PROFIL.name.casefold():
            tabs[name] = [
                [row[0], *([None] * (len(row) - 1))]
                if row and str(row[0] or "").strip().casefold() == label
                else row
                for row in rows
            ]
    return parse.RawWorkbook(tabs=tabs)


def test_demo_workbooks_read_and_check_the_same(demo_workbooks):
    assert len(demo_workbooks) >= 8
    located = 0
    for raw in demo_workbooks:
        plain = without_titik_lokasi(raw)
        located += plain.tabs != raw.tabs
        assert_same(plain)
    assert located >= len(demo_workbooks) // 2  # the demo types most locations: they were blanked
