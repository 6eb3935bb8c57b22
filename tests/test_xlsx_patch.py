"""Writing the Hasil Pemeriksaan tab must leave everything else in a cooperative's workbook alone.

Workbooks are built with the producers staff actually use (xlsxwriter stands in for Excel-like
output, openpyxl, LibreOffice) and filled with everything that a load-and-save round trip is known
to damage: charts, images, comments, data validation, conditional formats, defined names, hidden
sheets. The checks compare the zip packages entry by entry.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import io
import os
import random
import re
import shutil
import stat
import struct
import subprocess
import time
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
import python_calamine
import xlsxwriter
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from kkmp_sheets.sources import xlsx_patch
from kkmp_sheets.sources.xlsx_patch import CellValue, PatchError, read_tab, write_tab

TAB = "Hasil Pemeriksaan"
NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
WORKBOOK_PARTS = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}

RESULT: list[list[CellValue]] = [
    ["Diperiksa", dt.datetime(2026, 1, 29, 8, 30)],
    [],
    ["Tingkat", "Tab", "Baris", "Kolom", "Nilai", "Masalah", "Saran"],
    [
        "Galat",
        "Anggota",
        3,
        "NIK",
        "3173********0001",
        "NIK tersimpan sebagai angka",
        "Ketik ulang",
    ],
    ["Peringatan", "Penjualan", 12, "Total", 150000, "Total ≠ Jumlah × Harga", "Periksa"],
    ["Galat", "Simpanan", 7, "Tanggal", dt.date(2027, 1, 1), "Tanggal di masa depan", None],
]
WIDTHS: list[float] = [12.0, 14.0, 8.0, 14.0, 18.0, 48.0, 40.0]


# ------------------------------------------------------------------------------------------------
# Building workbooks


def tiny_png() -> bytes:
    """A 1x1 red PNG, made by hand so the tests do not need Pillow."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


MEMBERS = [
    ("A-001", "Siti Aminah", 1_250_000, dt.date(2025, 8, 17), "Aktif"),
    ("A-002", "Budi Santoso", 500_000, dt.date(2025, 9, 1), "Aktif"),
    ("A-003", "Dewi Lestari", 2_000_000, dt.date(2025, 10, 5), "Keluar"),
]


def xlsxwriter_book(path: Path, *, extra_tab: str | None = None) -> Path:
    """Values, formulas, styles, validation, a note, merged cells, conditional formats, an image,
    a chart, defined names, a hidden sheet, widths and a tab colour; optionally a middle tab."""
    wb = xlsxwriter.Workbook(str(path))
    bold = wb.add_format({"bold": True, "bg_color": "#FFE699", "border": 1})
    rupiah = wb.add_format({"num_format": '"Rp"#,##0'})
    tanggal = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws = wb.add_worksheet("Anggota")
    ws.set_tab_color("#C00000")
    ws.set_column("A:A", 14)
    ws.set_column("B:B", 30)
    ws.write_row(0, 0, ["No Anggota", "Nama", "Simpanan", "Tanggal Masuk", "Status"], bold)
    for row, (number, name, amount, joined, status) in enumerate(MEMBERS, start=1):
        ws.write_string(row, 0, number)
        ws.write_string(row, 1, name)
        ws.write_number(row, 2, amount, rupiah)
        ws.write_datetime(row, 3, dt.datetime.combine(joined, dt.time()), tanggal)
        ws.write_string(row, 4, status)
    ws.write_formula("C5", "=SUM(C2:C4)", rupiah, 3_750_000)
    ws.data_validation("E2:E100", {"validate": "list", "source": ["Aktif", "Keluar"]})
    ws.write_comment("B2", "Ketua koperasi")
    ws.merge_range("G1:H1", "Catatan", bold)
    ws.conditional_format(
        "C2:C4", {"type": "cell", "criteria": ">", "value": 1_000_000, "format": bold}
    )
    ws.autofilter("A1:E4")
    ws.freeze_panes(1, 0)
    ws.insert_image("J2", "dot.png", {"image_data": io.BytesIO(tiny_png())})
    chart = wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": "Simpanan",
            "categories": "=Anggota!$B$2:$B$4",
            "values": "=Anggota!$C$2:$C$4",
        }
    )
    ws.insert_chart("J6", chart)
    if extra_tab:
        mine = wb.add_worksheet(extra_tab)
        mine.write_row(0, 0, ["Tingkat", "Masalah"])
        mine.write_row(1, 0, ["Galat", "lama"])
        mine.write_comment("B2", "catatan lama")  # gives the tab its own relationships
    hidden = wb.add_worksheet("Rahasia")
    hidden.write("A1", "tersembunyi")
    hidden.hide()
    wb.define_name("TotalSimpanan", "=Anggota!$C$5")
    wb.define_name("Anggota!Lokal", "=Anggota!$A$2:$A$4")
    wb.close()
    return path


def openpyxl_book(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb["Sheet"])
    ws = wb.create_sheet("Simpanan")
    ws.append(["Tanggal", "No Anggota", "Jenis", "Jumlah"])
    ws.append([dt.date(2025, 8, 1), "A-001", "Pokok", 100_000])
    ws.append([dt.date(2025, 8, 2), "A-002", "Wajib", 50_000])
    ws.append([dt.date(2025, 8, 3), "A-003", "Sukarela", 25_000])
    ws["D5"] = "=SUM(D2:D4)"
    ws["A1"].font = Font(bold=True, color="FF0000")
    for cell in ws["D"][1:4]:
        cell.number_format = "#,##0"
    validation = DataValidation(type="list", formula1='"Pokok,Wajib,Sukarela"')
    ws.add_data_validation(validation)
    validation.add("C2:C50")
    ws["B2"].comment = Comment("cek nomor", "pengurus")
    ws.merge_cells("F1:G1")
    ws.conditional_formatting.add(
        "D2:D4",
        CellIsRule(
            operator="greaterThan",
            formula=["60000"],
            fill=PatternFill(start_color="FFC7CE", end_color="FFC7CE", fill_type="solid"),
        ),
    )
    ws.column_dimensions["A"].width = 15
    ws.sheet_properties.tabColor = "1072BA"
    ws.freeze_panes = "A2"
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=4, min_row=1, max_row=4), titles_from_data=True)
    ws.add_chart(chart, "I2")
    archive = wb.create_sheet("Arsip")
    archive["A1"] = "lama"
    archive.sheet_state = "hidden"
    wb.defined_names["Jumlah"] = DefinedName("Jumlah", attr_text="Simpanan!$D$2:$D$4")
    ws.defined_names["Lokal"] = DefinedName("Lokal", attr_text="Simpanan!$B$2:$B$4")
    wb.save(path)
    return path


def rewrite_zip(source: Path, target: Path, edits: dict[str, bytes | None]) -> Path:
    """A copy of `source` with some entries replaced (or dropped, for None)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in edits:
                data = edits[info.filename]
                if data is not None:
                    dst.writestr(info, data)
            else:
                dst.writestr(info, src.read(info))
    return target


def package(path: Path, parts: dict[str, str]) -> Path:
    """A workbook written part by part, for producers whose XML looks unlike the libraries'."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


# ------------------------------------------------------------------------------------------------
# Inspecting packages


def entries(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def assert_only_changed(
    before: list[tuple[str, bytes]],
    after: list[tuple[str, bytes]],
    modified: set[str],
    added: Sequence[str] = (),
) -> None:
    """Same entries, same order, same bytes, except exactly `modified`, plus `added` at the end."""
    old_names = [name for name, _ in before]
    new_names = [name for name, _ in after]
    assert new_names == old_names + list(added)
    old, new = dict(before), dict(after)
    changed = {name for name in old_names if old[name] != new[name]}
    assert changed == modified


def assert_styles_only_grew(old: bytes, new: bytes) -> None:
    """Every list kept its entries in place; numFmts, fonts and cellXfs may have grown at the end."""
    old_root, new_root = ET.fromstring(old), ET.fromstring(new)
    growable = {f"{NS}numFmts", f"{NS}fonts", f"{NS}cellXfs"}
    new_tags = [child.tag for child in new_root]
    assert [t for t in new_tags if t != f"{NS}numFmts"] == [
        child.tag for child in old_root if child.tag != f"{NS}numFmts"
    ]
    assert new_root.attrib == old_root.attrib
    for old_child in old_root:
        new_child = new_root.find(old_child.tag)
        assert new_child is not None
        if old_child.tag in growable:
            old_items = [ET.tostring(el) for el in old_child]
            new_items = [ET.tostring(el) for el in new_child]
            assert new_items[: len(old_items)] == old_items
            if "count" in old_child.attrib:
                assert new_child.get("count") == str(len(new_items))
        else:
            assert ET.tostring(new_child) == ET.tostring(old_child)


def sheet_order(path: Path) -> list[str]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names


def all_values(path: Path) -> dict[str, object]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {
        name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for name in book.sheet_names
    }


def new_entries(before: list[tuple[str, bytes]], after: list[tuple[str, bytes]]) -> list[str]:
    return [name for name, _ in after][len(before) :]


def listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def expected(rows: Sequence[Sequence[object]]) -> list[list[object]]:
    """`rows` as read back: trailing empty cells and rows trimmed, None for empty."""
    result = [list(row) for row in rows]
    for row in result:
        while row and row[-1] is None:
            row.pop()
    while result and not result[-1]:
        result.pop()
    return result


def styles_part(names: list[str]) -> str:
    return next(name for name in names if name.endswith("styles.xml"))


# ------------------------------------------------------------------------------------------------
# The main promise: nothing else changes


def test_new_tab_changes_only_the_listed_parts(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    before, values_before = entries(book), all_values(book)

    assert write_tab(book, TAB, RESULT, header_row=3, column_widths=WIDTHS) is True

    after = entries(book)
    added = new_entries(before, after)
    assert added == ["xl/worksheets/sheet3.xml"]  # sheet1/2 are taken
    assert_only_changed(before, after, WORKBOOK_PARTS | {"xl/styles.xml"}, added)
    assert_styles_only_grew(dict(before)["xl/styles.xml"], dict(after)["xl/styles.xml"])
    assert sheet_order(book) == ["Anggota", "Rahasia", TAB]
    values_after = all_values(book)
    assert {k: v for k, v in values_after.items() if k != TAB} == values_before
    assert read_tab(book, TAB) == expected(RESULT)
    assert listing(tmp_path) == ["kkmp.xlsx"]  # no temp file, no backup left behind


def test_workbook_xml_is_edited_by_insertion_only(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    old = dict(entries(book))["xl/workbook.xml"].decode()
    write_tab(book, TAB, RESULT, header_row=3)
    new = dict(entries(book))["xl/workbook.xml"].decode()

    inserted_sheet = f'<sheet name="{TAB}" sheetId="3" r:id="rId'
    assert inserted_sheet in new
    # The tab is the third sheet (index 2): its filter range name is scoped to it.
    filter_name = (
        '<definedName name="_xlnm._FilterDatabase" localSheetId="2" hidden="1">'
        f"'{TAB}'!$A$3:$G$6</definedName>"
    )
    assert filter_name in new
    stripped = re.sub(r'<sheet name="Hasil Pemeriksaan"[^>]*/>', "", new).replace(filter_name, "")
    assert stripped == old


def test_openpyxl_still_sees_everything(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    write_tab(book, TAB, RESULT, header_row=3, column_widths=WIDTHS)

    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["Anggota", "Rahasia", TAB]
    data = wb["Anggota"]
    assert data["B2"].comment is not None and "Ketua koperasi" in data["B2"].comment.text
    assert [str(dv.sqref) for dv in data.data_validations.dataValidation] == ["E2:E100"]
    assert [str(r) for r in data.merged_cells.ranges] == ["G1:H1"]
    assert [str(cf.sqref) for cf in data.conditional_formatting] == ["C2:C4"]
    assert data["C5"].value == "=SUM(C2:C4)"
    assert data["C2"].number_format == '"Rp"#,##0'
    assert data["A1"].font.b is True
    assert data.column_dimensions["B"].width == pytest.approx(30, abs=1)
    tab_colour = data.sheet_properties.tabColor
    assert tab_colour is not None and tab_colour.rgb == "FFC00000"
    assert data.freeze_panes == "A2"
    assert data.auto_filter.ref == "A1:E4"
    assert wb["Rahasia"].sheet_state == "hidden"
    assert "TotalSimpanan" in wb.defined_names
    assert "Lokal" in data.defined_names  # still scoped to the same sheet

    mine = wb[TAB]
    assert mine.freeze_panes == "A4"
    assert mine.auto_filter.ref == "A3:G6"
    assert mine.column_dimensions["F"].width == 48
    assert mine["A3"].font.b is True
    assert mine["F4"].alignment.wrap_text is True
    assert mine["E6"].number_format == "dd/mm/yyyy"
    assert mine["E6"].value == dt.datetime(2027, 1, 1)
    assert mine["B1"].number_format == "dd/mm/yyyy hh:mm"
    assert mine["C4"].value == 3 and mine["C4"].data_type == "n"


def test_chart_and_image_are_still_there_and_referenced(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    write_tab(book, TAB, RESULT, header_row=3)
    parts = dict(entries(book))

    sheet_rels = parts["xl/worksheets/_rels/sheet1.xml.rels"].decode()
    assert "../drawings/drawing1.xml" in sheet_rels
    assert "<drawing r:id=" in parts["xl/worksheets/sheet1.xml"].decode()
    drawing_rels = parts["xl/drawings/_rels/drawing1.xml.rels"].decode()
    assert "../charts/chart1.xml" in drawing_rels and "../media/image1.png" in drawing_rels
    assert parts["xl/media/image1.png"] == tiny_png()
    assert b"<c:barChart>" in parts["xl/charts/chart1.xml"]
    types = parts["[Content_Types].xml"].decode()
    assert 'PartName="/xl/charts/chart1.xml"' in types and 'Extension="png"' in types


def test_openpyxl_produced_workbook(tmp_path: Path) -> None:
    book = openpyxl_book(tmp_path / "kkmp.xlsx")
    before, values_before = entries(book), all_values(book)

    assert write_tab(book, TAB, RESULT, header_row=3, column_widths=WIDTHS)

    after = entries(book)
    added = new_entries(before, after)
    assert_only_changed(before, after, WORKBOOK_PARTS | {"xl/styles.xml"}, added)
    assert_styles_only_grew(dict(before)["xl/styles.xml"], dict(after)["xl/styles.xml"])
    assert {k: v for k, v in all_values(book).items() if k != TAB} == values_before
    assert read_tab(book, TAB) == expected(RESULT)
    names = [name for name, _ in after]
    assert any(name.startswith("xl/charts/chart") for name in names)
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["Simpanan", "Arsip", TAB]
    data = wb["Simpanan"]
    assert data["B2"].comment is not None
    assert len(data.data_validations.dataValidation) == 1
    assert [str(r) for r in data.merged_cells.ranges] == ["F1:G1"]
    assert wb["Arsip"].sheet_state == "hidden"
    assert "Jumlah" in wb.defined_names and "Lokal" in data.defined_names


# ------------------------------------------------------------------------------------------------
# Rewriting the tab


def test_same_rows_again_is_a_no_op(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    write_tab(book, TAB, RESULT, header_row=3, column_widths=WIDTHS)
    os.utime(book, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    content, mtime = book.read_bytes(), book.stat().st_mtime_ns

    assert write_tab(book, TAB, RESULT, header_row=3, column_widths=WIDTHS) is False
    padded = [[*row, None] for row in RESULT] + [[]]  # trailing blanks do not count
    assert write_tab(book, TAB.upper(), padded) is False

    assert book.read_bytes() == content
    assert book.stat().st_mtime_ns == mtime
    assert listing(tmp_path) == ["kkmp.xlsx"]


def test_different_rows_replace_the_tab_in_place(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    write_tab(book, TAB, RESULT, header_row=3)
    before = entries(book)
    rows: list[list[CellValue]] = [
        *RESULT,
        ["Peringatan", "Stok", 4, "Harga Beli", None, "Harga Beli kosong", "Isi"],
    ]

    assert write_tab(book, TAB, rows, header_row=3) is True

    after = entries(book)
    # Styles are reused, so only the tab's part and its filter range name change.
    assert_only_changed(before, after, {"xl/worksheets/sheet3.xml", "xl/workbook.xml"})
    assert sheet_order(book) == ["Anggota", "Rahasia", TAB]
    assert read_tab(book, TAB) == expected(rows)
    assert f"'{TAB}'!$A$3:$G$7" in dict(after)["xl/workbook.xml"].decode()

    # Same number of rows: the filter range is unchanged, so only the tab's part changes.
    rows[-1][1] = "Penjualan"
    assert write_tab(book, TAB, rows, header_row=3) is True
    assert_only_changed(after, entries(book), {"xl/worksheets/sheet3.xml"})


def test_existing_tab_matched_case_insensitively_keeps_name_and_position(tmp_path: Path) -> None:
    source = xlsxwriter_book(tmp_path / "source.xlsx", extra_tab="HASIL PEMERIKSAAN")
    rels = dict(entries(source))["xl/_rels/workbook.xml.rels"].decode()
    absolute = rels.replace('Target="worksheets/', 'Target="/xl/worksheets/')
    assert absolute != rels
    book = rewrite_zip(
        source, tmp_path / "kkmp.xlsx", {"xl/_rels/workbook.xml.rels": absolute.encode()}
    )
    source.unlink()
    before, values_before = entries(book), all_values(book)
    assert "xl/worksheets/_rels/sheet2.xml.rels" in dict(before)  # the old tab's note

    assert write_tab(book, TAB, RESULT, header_row=3) is True

    after = entries(book)
    assert sheet_order(book) == ["Anggota", "HASIL PEMERIKSAAN", "Rahasia"]
    assert read_tab(book, TAB) == expected(RESULT)
    assert read_tab(book, "hasil pemeriksaan") == expected(RESULT)
    old_names = [name for name, _ in before]
    assert [name for name, _ in after] == [
        name for name in old_names if name != "xl/worksheets/_rels/sheet2.xml.rels"
    ]
    old, new = dict(before), dict(after)
    changed = {name for name, data in after if old[name] != data}
    assert changed == {"xl/worksheets/sheet2.xml", "xl/workbook.xml", "xl/styles.xml"}
    assert (
        '<definedName name="_xlnm._FilterDatabase" localSheetId="1"'
        in new["xl/workbook.xml"].decode()
    )
    values_after = all_values(book)
    for name in ("Anggota", "Rahasia"):
        assert values_after[name] == values_before[name]
    openpyxl.load_workbook(book)


def test_mtime_and_permissions_are_kept(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    os.chmod(book, 0o640)
    staff_edit = 1_735_000_000_123_456_789
    os.utime(book, ns=(staff_edit, staff_edit))

    write_tab(book, TAB, RESULT)

    assert book.stat().st_mtime_ns == staff_edit
    assert stat.S_IMODE(book.stat().st_mode) == 0o640


def test_keep_mtime_false_lets_the_mtime_move(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    os.utime(book, (1_000_000_000, 1_000_000_000))
    write_tab(book, TAB, RESULT, keep_mtime=False)
    assert book.stat().st_mtime > time.time() - 60


def test_stale_backup_from_an_interrupted_run_is_cleared(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    (tmp_path / "kkmp.xlsx.bak").write_bytes(b"left over")
    write_tab(book, TAB, RESULT)
    assert listing(tmp_path) == ["kkmp.xlsx"]


# ------------------------------------------------------------------------------------------------
# Cell contents


TRICKY = [
    "emoji 😀👍🏽 dan teks",
    "مرحبا بالعالم — teks kanan ke kiri",
    "<b>tag</b> & \"kutip\" 'tunggal'",
    '=HYPERLINK("http://x","y")',
    "+62812",
    "-1",
    "@SUM(A1)",
    "=1+1",
    "_x0041_ stays literal",
    "baris satu\r\nbaris dua\tdengan tab",
    "  spasi di tepi  ",
    "0812 awalan nol",
]


def test_tricky_text_stays_text(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    rows = [["Teks"], *[[text] for text in TRICKY]]
    write_tab(book, TAB, rows, header_row=1)

    assert read_tab(book, TAB) == rows
    sheet = dict(entries(book))["xl/worksheets/sheet3.xml"].decode()
    assert "<f>" not in sheet and "<f " not in sheet
    assert sheet.count('t="inlineStr"') == len(rows)
    wb = openpyxl.load_workbook(book)
    for row in wb[TAB].iter_rows(min_row=2):
        assert row[0].data_type == "s"
    assert wb[TAB]["A5"].value == '=HYPERLINK("http://x","y")'


def test_control_characters_are_stripped_and_long_text_capped(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    long_ascii = "a" * 40_000
    long_emoji = "😀" * 20_000  # 40,000 UTF-16 units
    rows = [["nul\x00 bel\x07 esc\x1b ok\ufffe"], [long_ascii], [long_emoji], ["\x00\x01"]]
    write_tab(book, TAB, rows)

    values = read_tab(book, TAB)
    assert values is not None
    assert values[0] == ["nul bel esc ok"]
    assert values[1] == ["a" * 32_767]
    assert values[2] == ["😀" * 16_383]  # cut before the pair that would pass 32,767 units
    assert values[3:] == []  # nothing legal left: an empty cell


def test_numbers_and_dates(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    rows: list[list[xlsx_patch.CellValue]] = [
        [1, 2.5, -1, 0, 1e-7, 123_456_789_012_345],
        [3_173_010_101_900_001, float("nan"), float("inf")],  # NIK-sized: kept exact as text
        [dt.date(2025, 8, 17), dt.datetime(2026, 1, 29, 8, 30, 15, 123_456)],
        [dt.datetime(2026, 1, 29), dt.date(1899, 12, 31), dt.date(1900, 3, 1)],
        [dt.datetime(2026, 1, 29, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))],
    ]
    write_tab(book, TAB, rows)

    assert read_tab(book, TAB) == [
        [1, 2.5, -1, 0, 1e-7, 123_456_789_012_345],
        ["3173010101900001", "nan", "inf"],
        [dt.date(2025, 8, 17), dt.datetime(2026, 1, 29, 8, 30, 15, 123_000)],
        [dt.date(2026, 1, 29), "1899-12-31", dt.date(1900, 3, 1)],
        [dt.datetime(2026, 1, 29, 7, 0)],  # wall-clock time as given
    ]
    ws = openpyxl.load_workbook(book)[TAB]
    assert ws["A3"].value == dt.datetime(2025, 8, 17)
    assert ws["B3"].value == dt.datetime(2026, 1, 29, 8, 30, 15, 123_000)


def test_enum_decimal_numpy_and_pandas_values_are_plain_cells(tmp_path: Path) -> None:
    numpy = pytest.importorskip("numpy")
    pandas = pytest.importorskip("pandas")

    class Tingkat(enum.StrEnum):
        GALAT = "Galat"

    class Baris(enum.IntEnum):
        TIGA = 3

    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    rows = [
        [Tingkat.GALAT, Baris.TIGA, decimal.Decimal("1250000.50"), numpy.int64(7)],
        [numpy.float64(2.5), pandas.Timestamp("2026-01-29 08:30:00"), pandas.NaT],
    ]
    write_tab(book, TAB, rows)

    assert read_tab(book, TAB) == [
        ["Galat", 3, 1_250_000.5, 7],
        [2.5, dt.datetime(2026, 1, 29, 8, 30), "NaT"],
    ]


def test_datetimes_round_trip_to_the_millisecond(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    rnd = random.Random(20260129)
    start = dt.datetime(1900, 3, 1)
    moments = [
        start + dt.timedelta(microseconds=rnd.randrange(10**6 * 86_400 * 365 * 200))
        for _ in range(300)
    ]
    write_tab(book, TAB, [[moment] for moment in moments])
    values = read_tab(book, TAB)
    assert values is not None
    for (value,), moment in zip(values, moments, strict=True):
        want = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        assert value == (want.date() if want.time() == dt.time(0) else want)


def test_1904_date_system(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    assert isinstance(ws, Worksheet)
    ws["A1"] = dt.date(2025, 8, 17)
    book = tmp_path / "mac.xlsx"
    wb.save(book)
    before = all_values(book)

    write_tab(book, TAB, [[dt.date(2025, 8, 17), dt.datetime(2026, 1, 29, 8, 30)]])

    assert read_tab(book, TAB) == [[dt.date(2025, 8, 17), dt.datetime(2026, 1, 29, 8, 30)]]
    assert all_values(book)["Sheet"] == before["Sheet"]
    assert openpyxl.load_workbook(book)[TAB]["A1"].value == dt.datetime(2025, 8, 17)


def test_read_tab_of_a_missing_tab_is_none(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    assert read_tab(book, TAB) is None
    anggota = read_tab(book, "anggota")
    assert anggota is not None and anggota[1][:4] == [
        "A-001",
        "Siti Aminah",
        1_250_000,
        dt.date(2025, 8, 17),
    ]


# ------------------------------------------------------------------------------------------------
# Other producers' XML


EXCEL_365_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'mc:Ignorable="x15 xr xr6 xr10 xr2" '
    'xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main" '
    'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
    'xmlns:xr6="http://schemas.microsoft.com/office/spreadsheetml/2016/revision6" '
    'xmlns:xr10="http://schemas.microsoft.com/office/spreadsheetml/2016/revision10" '
    'xmlns:xr2="http://schemas.microsoft.com/office/spreadsheetml/2015/revision2">'
    '<fileVersion appName="xl" lastEdited="7" lowestEdited="7" rupBuild="27328"/>'
    '<workbookPr defaultThemeVersion="166925"/>'
    '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
    '<mc:Choice Requires="x15"><x15ac:absPath url="C:\\Users\\pengurus\\Documents\\" '
    'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"/></mc:Choice>'
    "</mc:AlternateContent>"
    '<xr:revisionPtr revIDLastSave="0" documentId="8_{1C3B2E4A-0000-4000-8000-000000000000}" '
    'xr6:coauthVersionLast="47" xr6:coauthVersionMax="47" '
    'xr10:uidLastSave="{00000000-0000-0000-0000-000000000000}"/>'
    '<bookViews><workbookView xWindow="-120" yWindow="-120" windowWidth="29040" '
    'windowHeight="15840" xr2:uid="{00000000-000D-0000-FFFF-FFFF00000000}"/></bookViews>'
    '<sheets><sheet name="Anggota" sheetId="1" r:id="rId1"/>'
    '<sheet name="Rahasia" sheetId="2" state="hidden" r:id="rId2"/></sheets>'
    "<definedNames>"
    '<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
    "Anggota!$A$1:$E$4</definedName>"
    '<definedName name="Lokal" localSheetId="0">Anggota!$A$2:$A$4</definedName>'
    '<definedName name="TotalSimpanan">Anggota!$C$5</definedName></definedNames>'
    '<calcPr calcId="191029"/>'
    '<extLst><ext uri="{140A7094-0E35-4892-8432-C4D2E57EDEB5}" '
    'xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main">'
    '<x15:workbookPr chartTrackingRefBase="1"/></ext></extLst></workbook>'
)


def test_excel_365_workbook_xml_keeps_its_namespaces(tmp_path: Path) -> None:
    source = xlsxwriter_book(tmp_path / "source.xlsx")
    book = rewrite_zip(
        source, tmp_path / "kkmp.xlsx", {"xl/workbook.xml": EXCEL_365_WORKBOOK.encode()}
    )
    before = entries(book)

    write_tab(book, TAB, RESULT, header_row=3)

    new = dict(entries(book))["xl/workbook.xml"].decode()
    assert new.startswith(EXCEL_365_WORKBOOK.split("<sheets>")[0])  # mc:Ignorable and all
    assert new.endswith(EXCEL_365_WORKBOOK.split("</definedNames>")[1])
    stripped = re.sub(r'<sheet name="Hasil Pemeriksaan"[^>]*/>', "", new)
    stripped = re.sub(
        r'<definedName name="_xlnm._FilterDatabase" localSheetId="2"[^/]*/definedName>',
        "",
        stripped,
    )
    assert stripped == EXCEL_365_WORKBOOK
    assert_only_changed(
        before, entries(book), WORKBOOK_PARTS | {"xl/styles.xml"}, ["xl/worksheets/sheet3.xml"]
    )
    assert sheet_order(book) == ["Anggota", "Rahasia", TAB]
    assert openpyxl.load_workbook(book)["Anggota"].auto_filter.ref == "A1:E4"


def prefixed_parts(*, with_styles: bool) -> dict[str, str]:
    """A package whose SpreadsheetML uses an `x:` prefix, as the .NET Open XML SDK writes it."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            + (
                f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
                if with_styles
                else ""
            )
            + "</Types>"
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="{pkg}">'
            f'<Relationship Type="{rel}/officeDocument" Target="/xl/workbook.xml" Id="R1"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="utf-8"?><x:workbook xmlns:x="{main}">'
            f'<x:sheets><x:sheet name="Data" sheetId="1" r:id="Rb1" xmlns:r="{rel}"/></x:sheets>'
            "<x:definedNames/></x:workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="{pkg}">'
            f'<Relationship Type="{rel}/worksheet" Target="/xl/worksheets/sheet1.xml" Id="Rb1"/>'
            + (
                f'<Relationship Type="{rel}/styles" Target="/xl/styles.xml" Id="Rs1"/>'
                if with_styles
                else ""
            )
            + "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="utf-8"?><x:worksheet xmlns:x="{main}"><x:sheetData>'
            '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>Nama</x:t></x:is></x:c>'
            '<x:c r="B1"><x:v>42</x:v></x:c></x:row></x:sheetData></x:worksheet>'
        ),
    }
    if with_styles:
        parts["xl/styles.xml"] = (
            f'<?xml version="1.0" encoding="utf-8"?><x:styleSheet xmlns:x="{main}">'
            '<x:fonts count="1"><x:font><x:sz val="10"/><x:name val="Arial"/></x:font></x:fonts>'
            '<x:fills count="1"><x:fill><x:patternFill patternType="none"/></x:fill></x:fills>'
            '<x:borders count="1"><x:border/></x:borders>'
            '<x:cellStyleXfs count="1"><x:xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            '</x:cellStyleXfs><x:cellXfs count="1"><x:xf numFmtId="0" fontId="0" fillId="0" '
            'borderId="0" xfId="0"/></x:cellXfs><x:cellStyles count="1">'
            '<x:cellStyle name="Normal" xfId="0" builtinId="0"/></x:cellStyles></x:styleSheet>'
        )
    return parts


def test_prefixed_spreadsheetml(tmp_path: Path) -> None:
    book = package(tmp_path / "sdk.xlsx", prefixed_parts(with_styles=True))
    before = entries(book)

    write_tab(book, TAB, RESULT, header_row=3)

    after = dict(entries(book))
    assert_styles_only_grew(dict(before)["xl/styles.xml"], after["xl/styles.xml"])
    styles = after["xl/styles.xml"].decode()
    assert '<x:numFmts count="2"><x:numFmt numFmtId="164"' in styles
    assert '<x:font><x:b/><x:sz val="10"/><x:name val="Arial"/></x:font>' in styles
    workbook = after["xl/workbook.xml"].decode()
    assert f'<x:sheet name="{TAB}" sheetId="2" xmlns:r=' in workbook
    assert '<x:definedNames><x:definedName name="_xlnm._FilterDatabase"' in workbook
    assert read_tab(book, TAB) == expected(RESULT)
    assert read_tab(book, "Data") == [["Nama", 42]]
    assert openpyxl.load_workbook(book).sheetnames == ["Data", TAB]


def test_package_without_a_style_sheet_gets_one(tmp_path: Path) -> None:
    book = package(tmp_path / "bare.xlsx", prefixed_parts(with_styles=False))
    before = entries(book)

    write_tab(book, TAB, RESULT, header_row=3)

    after = entries(book)
    assert new_entries(before, after) == ["xl/styles.xml", "xl/worksheets/sheet2.xml"]
    assert_only_changed(before, after, WORKBOOK_PARTS, new_entries(before, after))
    assert read_tab(book, TAB) == expected(RESULT)  # dates read as dates: the formats exist


# ------------------------------------------------------------------------------------------------
# Refusing, failing, and leaving the file alone


def assert_refused(path: Path, match: str, **kwargs: object) -> None:
    content = path.read_bytes() if path.exists() else None
    folder = listing(path.parent)
    with pytest.raises(PatchError, match=match):
        write_tab(path, TAB, RESULT, **kwargs)  # type: ignore[arg-type]
    if content is not None:
        assert path.read_bytes() == content
    assert listing(path.parent) == folder


def test_not_a_workbook(tmp_path: Path) -> None:
    text = tmp_path / "catatan.xlsx"
    text.write_text("No Anggota;Nama\nA-001;Siti\n")
    assert_refused(text, "not a zip file")

    empty = tmp_path / "kosong.xlsx"
    empty.write_bytes(b"")
    assert_refused(empty, "empty")

    other_zip = tmp_path / "foto.xlsx"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("foto.txt", "bukan workbook")
    assert_refused(other_zip, r"zip file but not an Excel workbook")

    assert_refused(tmp_path / "tidak-ada.xlsx", "not found")


def test_damaged_workbook(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    truncated = tmp_path / "terpotong.xlsx"
    truncated.write_bytes(book.read_bytes()[: book.stat().st_size // 2])
    assert_refused(truncated, "damaged")
    with pytest.raises(PatchError, match="damaged"):
        read_tab(truncated, TAB)

    bad_xml = rewrite_zip(book, tmp_path / "rusak.xlsx", {"xl/workbook.xml": b"<workbook"})
    assert_refused(bad_xml, "damaged")


def test_encrypted_or_legacy_files(tmp_path: Path) -> None:
    # Password-protected .xlsx files are OLE2 containers holding these streams.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    encrypted = tmp_path / "berpassword.xlsx"
    encrypted.write_bytes(ole + "EncryptionInfo".encode("utf-16-le") + bytes(512))
    assert_refused(encrypted, "password-protected")

    legacy = tmp_path / "lama.xlsx"
    legacy.write_bytes(ole + "Workbook".encode("utf-16-le") + bytes(512))
    assert_refused(legacy, r"old-format Excel file \(\.xls\)")


def test_read_only_file(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    os.chmod(book, 0o444)
    assert_refused(book, "read-only")


@pytest.mark.parametrize(
    ("lock_name", "program"), [(".~lock.kkmp.xlsx#", "LibreOffice"), ("~$kkmp.xlsx", "Excel")]
)
def test_workbook_open_in_another_program(tmp_path: Path, lock_name: str, program: str) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    (tmp_path / lock_name).write_text("pengurus,desktop,2026")
    assert_refused(book, f"open in {program}")


def test_chart_sheet_with_the_tab_name(tmp_path: Path) -> None:
    wb = xlsxwriter.Workbook(str(tmp_path / "grafik.xlsx"))
    wb.add_worksheet("Data").write_column(0, 0, [1, 2, 3])
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=Data!$A$1:$A$3"})
    wb.add_chartsheet(TAB).set_chart(chart)
    wb.close()
    assert_refused(tmp_path / "grafik.xlsx", "not an ordinary worksheet")


def test_invalid_arguments(tmp_path: Path) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    for title in ("", "a" * 32, "Hasil/Pemeriksaan", "'Hasil'", "Hasil[1]"):
        with pytest.raises(ValueError, match="not a valid Excel tab name"):
            write_tab(book, title, RESULT)
    with pytest.raises(ValueError, match="header_row"):
        write_tab(book, TAB, RESULT, header_row=len(RESULT) + 1)
    with pytest.raises(ValueError, match="column width"):
        write_tab(book, TAB, RESULT, column_widths=[300])


def test_the_data_tabs_are_not_read_to_verify_a_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proof that nothing else changed is the zip records and stored bytes, not the values:
    no workbook is opened with a spreadsheet reader while writing our own tab."""
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    before = all_values(book)

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a spreadsheet reader was opened")

    with monkeypatch.context() as patch:
        patch.setattr(python_calamine.CalamineWorkbook, "from_filelike", no_reading)
        patch.setattr(python_calamine.CalamineWorkbook, "from_path", no_reading)
        assert write_tab(book, TAB, RESULT, header_row=3, column_widths=WIDTHS)
        assert write_tab(book, TAB, RESULT, header_row=3, column_widths=WIDTHS) is False
        assert write_tab(book, TAB, RESULT[:3], header_row=3)
    assert read_tab(book, TAB) == expected(RESULT[:3])
    assert {k: v for k, v in all_values(book).items() if k != TAB} == before


def test_a_tab_saved_by_another_program_is_compared_by_its_values(tmp_path: Path) -> None:
    """Saved by another program (here: text as formula-string cells, which this package never
    writes), the tab can no longer be read on its own: a full reader compares its values, and
    equal values are still no write."""
    written = xlsxwriter_book(tmp_path / "ours.xlsx")
    rows: list[list[CellValue]] = [["Diperiksa", dt.date(2026, 1, 29)], ["Tingkat", "Baris"]]
    rows += [["Galat", 4], ["Peringatan", 7.5]]
    write_tab(written, TAB, rows, header_row=2)
    part = "xl/worksheets/sheet3.xml"
    xml = dict(entries(written))[part]
    resaved = re.sub(
        rb'inlineStr"><is><t xml:space="preserve">([^<]*)</t></is>', rb'str"><v>\1</v>', xml
    )
    assert resaved != xml
    book = rewrite_zip(written, tmp_path / "kkmp.xlsx", {part: resaved})
    content = book.read_bytes()

    assert write_tab(book, TAB, rows, header_row=2) is False
    assert book.read_bytes() == content
    assert write_tab(book, TAB, [*rows, ["Galat", 9]], header_row=2)
    assert read_tab(book, TAB) == expected([*rows, ["Galat", 9]])


def _damaging_writer(monkeypatch: pytest.MonkeyPatch, damage: object) -> None:
    real = xlsx_patch._write_zip

    def writing(package: xlsx_patch._Package, changes: xlsx_patch._Changes) -> bytes:
        return damage(package, changes, real)  # type: ignore[operator]

    monkeypatch.setattr(xlsx_patch, "_write_zip", writing)


def _stored_bytes(blob: bytes, name: str) -> tuple[int, int]:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        info = archive.getinfo(name)
    name_length, extra_length = struct.unpack(
        "<HH", blob[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_length + extra_length
    return start, start + info.compress_size


def test_a_flipped_byte_in_a_copied_entry_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zip records are intact; only one stored byte of the data tab differs: the CRC-32 over
    the stored bytes tells."""
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")

    def flip(package: object, changes: object, real: object) -> bytes:
        blob = bytearray(real(package, changes))  # type: ignore[operator]
        start, end = _stored_bytes(bytes(blob), "xl/worksheets/sheet1.xml")
        blob[(start + end) // 2] ^= 0x01
        return bytes(blob)

    _damaging_writer(monkeypatch, flip)
    assert_refused(book, r"sheet1\.xml changed \(its stored bytes differ\)")


def test_a_data_tab_that_differs_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A data tab holding other values, consistently zipped (its own CRC, sizes and headers), is
    not the original entry."""
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")

    def other_values(package: object, changes: object, real: object) -> bytes:
        blob = real(package, changes)  # type: ignore[operator]
        source = zipfile.ZipFile(io.BytesIO(blob))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                data = source.read(info)
                if info.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b"<v>", b"<v>9", 1)
                target.writestr(info, data)
        return out.getvalue()

    _damaging_writer(monkeypatch, other_values)
    assert_refused(book, r"sheet1\.xml changed")


@pytest.mark.parametrize(
    ("wrong", "right"),
    [
        (b"<v>3</v>", b"<v>4</v>"),  # a number
        (b"Anggota", b"Angota"),  # a text
        (b' s="', b' s="1'),  # a date's cell format: it would read as another kind of value
    ],
)
def test_a_wrong_value_in_the_new_tab_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wrong: bytes, right: bytes
) -> None:
    """The new tab, read back on its own, must hold what was asked for: a writer that slips one
    value (and zips it faithfully) is refused."""
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")

    def slip(package: object, changes: xlsx_patch._Changes, real: object) -> bytes:
        part = next(iter(changes.added))
        assert wrong in changes.added[part]
        changes.added[part] = changes.added[part].replace(wrong, right, 1)
        return real(package, changes)  # type: ignore[operator]

    _damaging_writer(monkeypatch, slip)
    assert_refused(book, "does not read back as written", header_row=3)


def test_the_structural_check_catches_a_swapped_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx")
    real = xlsx_patch._write_zip

    def swap_two_sheets(package: xlsx_patch._Package, changes: xlsx_patch._Changes) -> bytes:
        workbook = changes.replaced["xl/workbook.xml"].decode()
        changes.replaced["xl/workbook.xml"] = (
            workbook.replace('r:id="rId1"', 'r:id="tmp"')
            .replace('r:id="rId2"', 'r:id="rId1"')
            .replace('r:id="tmp"', 'r:id="rId2"')
            .encode()
        )
        return real(package, changes)

    monkeypatch.setattr(xlsx_patch, "_write_zip", swap_two_sheets)
    assert_refused(book, "no longer points at its own data")


# ------------------------------------------------------------------------------------------------
# LibreOffice


def soffice_or_skip() -> str:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    version = subprocess.run(
        [soffice, "--version"], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    found = re.search(r"(\d+)\.(\d+)", version)
    if not found or (int(found[1]), int(found[2])) < (7, 2):
        pytest.skip(f"needs LibreOffice 7.2+ to export every sheet to CSV, found: {version!r}")
    return soffice


def convert(soffice: str, source: Path, target_format: str, outdir: Path, profile: Path) -> None:
    outdir.mkdir(exist_ok=True)
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            target_format,
            "--outdir",
            str(outdir),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )


# Field separator, quote, UTF-8, from line 1, -, -, -, -, values as shown, -, -, every sheet.
ALL_SHEETS_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"


@pytest.mark.libreoffice
def test_libreoffice_produced_workbook(tmp_path: Path) -> None:
    soffice = soffice_or_skip()
    (tmp_path / "src").mkdir()
    source = xlsxwriter_book(tmp_path / "src" / "kkmp.xlsx")
    convert(soffice, source, "xlsx", tmp_path / "lo", tmp_path / "profile")
    book = tmp_path / "lo" / "kkmp.xlsx"
    before, values_before = entries(book), all_values(book)

    assert write_tab(book, TAB, RESULT, header_row=3, column_widths=WIDTHS)

    after = entries(book)
    added = new_entries(before, after)
    assert len(added) == 1 and added[0].startswith("xl/worksheets/sheet")
    assert_only_changed(before, after, WORKBOOK_PARTS | {"xl/styles.xml"}, added)
    assert_styles_only_grew(dict(before)["xl/styles.xml"], dict(after)["xl/styles.xml"])
    assert {k: v for k, v in all_values(book).items() if k != TAB} == values_before
    assert read_tab(book, TAB) == expected(RESULT)
    names = [name for name, _ in after]
    assert any(name.startswith("xl/charts/chart") for name in names)
    assert any(name.startswith("xl/media/") for name in names)
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames[-1] == TAB
    assert wb["Anggota"]["B2"].comment is not None
    assert wb["Anggota"].data_validations.dataValidation


@pytest.mark.libreoffice
def test_libreoffice_opens_the_patched_workbook(tmp_path: Path) -> None:
    soffice = soffice_or_skip()
    profile = tmp_path / "profile"
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx", extra_tab="Catatan")
    convert(soffice, book, ALL_SHEETS_CSV, tmp_path / "before", profile)
    rows: list[list[CellValue]] = [["Tingkat", "Masalah"]]
    rows += [["Galat", text] for text in TRICKY]
    rows.append(["Tanggal", dt.date(2025, 8, 17)])

    write_tab(book, TAB, rows, header_row=1, column_widths=[12, 60])
    convert(soffice, book, ALL_SHEETS_CSV, tmp_path / "after", profile)

    before = {p.name: p.read_bytes() for p in (tmp_path / "before").iterdir()}
    after = {p.name: p.read_bytes() for p in (tmp_path / "after").iterdir()}
    assert set(after) == set(before) | {f"kkmp-{TAB}.csv"}
    for name, content in before.items():  # LibreOffice sees the data tabs exactly as before
        assert after[name] == content, name
    mine = after[f"kkmp-{TAB}.csv"].decode("utf-8")
    for text in TRICKY:
        shown = text.replace('"', '""').replace("\r\n", "\n")
        assert shown in mine, text
    assert "17/08/2025" in mine

    # A round trip through LibreOffice keeps the autofilter (it needs the filter range name).
    convert(soffice, book, "xlsx", tmp_path / "roundtrip", profile)
    saved = openpyxl.load_workbook(tmp_path / "roundtrip" / "kkmp.xlsx")
    assert saved[TAB].auto_filter.ref == f"A1:B{len(rows)}"
    assert saved.sheetnames == ["Anggota", "Catatan", "Rahasia", TAB]


@pytest.mark.libreoffice
def test_libreoffice_opens_a_replaced_tab_that_had_notes(tmp_path: Path) -> None:
    soffice = soffice_or_skip()
    book = xlsxwriter_book(tmp_path / "kkmp.xlsx", extra_tab="hasil pemeriksaan")
    write_tab(book, TAB, [["Tingkat", "Masalah"], ["Galat", "baru"]], header_row=1)
    assert "xl/worksheets/_rels/sheet2.xml.rels" not in dict(entries(book))

    convert(soffice, book, ALL_SHEETS_CSV, tmp_path / "out", tmp_path / "profile")

    mine = (tmp_path / "out" / "kkmp-hasil pemeriksaan.csv").read_text(encoding="utf-8")
    assert mine.splitlines() == ["Tingkat,Masalah", "Galat,baru"]
    assert (
        (tmp_path / "out" / "kkmp-Anggota.csv")
        .read_text(encoding="utf-8")
        .startswith("No Anggota,Nama")
    )


# ------------------------------------------------------------------------------------------------
# Speed


@pytest.mark.slow
def test_five_megabyte_workbook_patches_well_under_a_second(tmp_path: Path) -> None:
    source = tmp_path / "besar.xlsx"
    wb = xlsxwriter.Workbook(str(source))
    rnd = random.Random(1)
    for index in range(4):
        ws = wb.add_worksheet(f"Data{index}")
        for row in range(26_000):
            ws.write_row(
                row,
                0,
                [
                    f"Nama {rnd.randrange(10**6)}",
                    rnd.randrange(10**9),
                    rnd.random() * 1e6,
                    f"Jl. {row}",
                    row,
                ],
            )
    wb.close()
    assert source.stat().st_size > 4_500_000
    rows: list[list[CellValue]] = [["Tingkat", "Tab", "Baris", "Masalah"]]
    rows += [["Galat", "Anggota", i, f"masalah nomor {i}"] for i in range(2_000)]

    timings = []
    for attempt in range(3):  # best of three: the machine may be busy with other tests
        book = tmp_path / f"copy{attempt}.xlsx"
        shutil.copy(source, book)
        started = time.perf_counter()
        assert write_tab(book, TAB, rows, header_row=1, column_widths=[12, 14, 8, 60])
        timings.append(time.perf_counter() - started)
    assert min(timings) < 1.0, timings
