"""One cooperative's workbook, from its plan to the `.xlsx` file.

`_build_coop` runs the steps in order and writes the file with xlsxwriter, which writes fixed zip
timestamps; the creation time and the mtime are set from the plan, so the same plan gives the
same bytes in any process. It returns what the city needs to know: the people, the seeded
mistakes and the NIKs written, for the check across cooperatives.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from kkmp_sheets.demo import catalogues as cat
from kkmp_sheets.demo.book import _TOTAL, _anything, _Book, _Tab, _Typed
from kkmp_sheets.demo.layout import _layout, _structure
from kkmp_sheets.demo.members import _anggota, _simpanan
from kkmp_sheets.demo.plan import SeededMistake, _Plan
from kkmp_sheets.demo.profil import _profil
from kkmp_sheets.demo.shop import _penjualan, _stok

_EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of spreadsheet date serial numbers


@dataclass
class _Built:
    people: list[tuple[str, str]]
    seeded: list[SeededMistake]
    niks: list[tuple[str, int]]  # the NIKs written as 16-digit text, with their sheet rows
    nik_tab: str
    nik_header: str


def _build_coop(plan: _Plan) -> _Built:
    """Write one cooperative's workbook and say what is in it (also run in worker processes)."""
    book = _Book(plan)
    _layout(book)
    _anggota(book)
    _simpanan(book)
    _stok(book)
    _penjualan(book)
    _profil(book)
    _structure(book)
    _write(book)
    niks = []  # for the check across cooperatives
    for i in book.anggota.data_rows(_anything):
        nik = (book.anggota.rows[i] or {})["nik"]
        if type(nik) is str and len(nik) == 16:
            niks.append((nik, book.anggota.sheet_row(i)))
    return _Built(book.people, book.seeded, niks, book.anggota.name, book.anggota.headers["nik"])


def _write(book: _Book) -> None:
    """The `.xlsx` file, its tabs in `book.sheets` order, with the planned mtime."""
    path, edited, rng = book.coop.workbook, book.coop.edited, book.rng
    options = {
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, **options})
    created = edited.astimezone(UTC).replace(tzinfo=None)
    wb.set_properties(
        {"title": book.coop.nama, "author": f"Pengurus {book.short}", "created": created}
    )
    fmt = {
        "bold": wb.add_format({"bold": True}),
        "date": wb.add_format(
            {"num_format": rng.choice(("dd/mm/yyyy", "d mmm yyyy", "dd-mm-yyyy"))}
        ),
        "money": wb.add_format({"num_format": "#,##0"}),
        "text": wb.add_format({"num_format": "@"}),
    }
    for sheet in book.sheets:
        if isinstance(sheet, _Tab):
            _write_tab(book, wb, sheet, fmt)
            continue
        ws = wb.add_worksheet(sheet[0])
        ws.set_column(0, 2, 28)
        for r, line in enumerate(sheet[1]):
            for col, v in enumerate(line):
                if isinstance(v, date):
                    ws.write_datetime(r, col, v, fmt["date"])
                else:
                    ws.write_string(r, col, str(v), fmt["bold"] if r == 0 else None)
    wb.close()
    os.utime(path, (edited.timestamp(), edited.timestamp()))


def _write_tab(book: _Book, wb: Any, tab: _Tab, fmt: dict[str, Any]) -> None:
    """One data tab: title rows, headers, then the values in this cooperative's habits."""
    ws = wb.add_worksheet(tab.name)
    ws.set_column(0, len(tab.cols) - 1, 16)
    if "nik" in tab.cols:  # the column formatted as Teks, as the template asks
        ws.set_column(tab.cols.index("nik"), tab.cols.index("nik"), 20, fmt["text"])
    for r, line in enumerate(tab.above):
        if line:
            ws.write_string(r, 0, line, fmt["bold"])
    r = len(tab.above)
    for c, key in enumerate(tab.cols):
        ws.write_string(r, c, tab.headers[key], fmt["bold"])
    if book.rng.random() < 0.3:
        ws.freeze_panes(r + 1, 0)
    ref = {k: xl_col_to_name(c) for c, k in enumerate(tab.cols)}
    money, style, rng, dstyle = tab.money, book.money_style, book.rng, book.date_style
    write_string, write_number = ws.write_string, ws.write_number
    for row in tab.rows:
        r += 1
        if row is None:
            continue
        for c, key in enumerate(tab.cols):
            v = row.get(key)
            t = type(v)
            if v is None:
                continue
            if t is str:
                write_string(r, c, v)
            elif (t is int or t is float) and key in money:
                v = cat.fmt_money(v, style, rng)
                if type(v) is str:
                    write_string(r, c, v)
                else:
                    write_number(r, c, v, fmt["money"])
            elif t is int or t is float:
                write_number(r, c, v)
            elif t is date:
                if dstyle == "cell":
                    write_number(r, c, (v - _EXCEL_EPOCH).days, fmt["date"])  # a date cell
                else:
                    write_string(r, c, cat.fmt_date(v, dstyle))
            elif t is _Typed:
                (write_string if type(v.value) is str else write_number)(r, c, v.value)
            elif v is _TOTAL:
                formula = f"={ref['jumlah']}{r + 1}*{ref['harga_satuan']}{r + 1}"
                value = row["jumlah"] * row["harga_satuan"]
                ws.write_formula(r, c, formula, fmt["money"], value)
