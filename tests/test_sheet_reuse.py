"""The status workbook's table sheets taken from the previous file (`outputs/sheet_reuse.py`).

The promise is that a write which reuses parts makes the very bytes a fresh write makes: each
test writes the same book twice, once over a previous file and once into an empty folder, and
compares every zip entry (but the creation time in docProps/core.xml)."""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from test_output_xlsx import sample_book
from test_xlsx_patch import convert, soffice_or_skip

from kkmp_sheets.core.tables import Sheet, StatusBook
from kkmp_sheets.outputs import sheet_reuse
from kkmp_sheets.outputs.xlsx import write_status_workbook

TABLES = ["Status KKMP", "Masalah Data", "Pasokan"]  # the sample's sheets no chart uses


def noted(book: StatusBook, note: str) -> StatusBook:
    """`book` with `note` above every sheet, as the status workbook has its "diperbarui" line."""
    return StatusBook([replace(sheet, note=note) for sheet in book.sheets], book.charts)


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"
        }


def written_afresh(book: StatusBook, path: Path) -> dict[str, bytes]:
    """What a write of `book` with nothing to reuse makes at `path` (the key holds the folder
    file links are relative to, so the comparison is made in the same place)."""
    path.unlink()
    assert write_status_workbook(book, path) == []
    return entries(path)


def edit_entry(path: Path, entry: str, old: bytes, new: bytes) -> None:
    """The workbook at `path` with `old` replaced by `new` in one zip entry, as a hand edit of
    the file would leave it."""
    edited = path.with_name("edited.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(edited, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == entry:
                assert old in data
                data = data.replace(old, new)
            target.writestr(info, data)
    edited.replace(path)


def values(path: Path) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def test_the_table_sheets_are_those_no_chart_uses() -> None:
    assert sorted(sheet_reuse.table_sheets(sample_book())) == sorted(TABLES)


def test_an_unchanged_book_reuses_every_table_sheet_and_writes_the_same_bytes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "out" / "status-kota.xlsx"
    first = noted(sample_book(), "Diperbarui 17 Agu 2025 08:30 WIB")
    assert write_status_workbook(first, path) == []  # nothing before it
    again = noted(sample_book(), "Diperbarui 17 Agu 2025 09:30 WIB & <segera>")
    assert sorted(write_status_workbook(again, path)) == sorted(TABLES)
    assert entries(path) == written_afresh(again, path)
    shown = values(path)
    assert shown["Status KKMP"][0][0] == "Diperbarui 17 Agu 2025 09:30 WIB & <segera>"
    assert shown["Masalah Data"][2][6] == "NIK 16 digit: 3273********0001"


def test_a_changed_row_rewrites_only_its_sheet(tmp_path: Path) -> None:
    path = tmp_path / "out" / "status-kota.xlsx"
    write_status_workbook(noted(sample_book(), "satu"), path)
    changed = noted(sample_book(), "dua")
    changed.sheet("Masalah Data").rows[0][6] = "Telepon tidak dikenal"
    assert sorted(write_status_workbook(changed, path)) == ["Pasokan", "Status KKMP"]
    assert entries(path) == written_afresh(changed, path)
    assert values(path)["Masalah Data"][2][6] == "Telepon tidak dikenal"


def test_links_of_a_reused_sheet_open_the_same_files(tmp_path: Path) -> None:
    """Status KKMP's Tautan holds a local workbook's path: its relationship is taken back."""
    path = tmp_path / "out" / "status-kota.xlsx"
    write_status_workbook(sample_book(), path)
    with zipfile.ZipFile(path) as archive:
        rels = archive.read("xl/worksheets/_rels/sheet2.xml.rels").decode()
    assert "kkmp-002.xlsx" in rels and 'TargetMode="External"' in rels
    assert sorted(write_status_workbook(sample_book(), path)) == sorted(TABLES)
    assert entries(path) == written_afresh(sample_book(), path)


def test_a_sheet_moved_to_another_place_is_written_afresh(tmp_path: Path) -> None:
    path = tmp_path / "out" / "status-kota.xlsx"
    book = sample_book()
    write_status_workbook(book, path)
    ringkasan, status, kecamatan, masalah, riwayat, pasokan = book.sheets
    moved = StatusBook([ringkasan, kecamatan, masalah, riwayat, pasokan, status], book.charts)
    assert write_status_workbook(moved, path) == []
    assert entries(path) == written_afresh(moved, path)


def test_a_note_with_spaces_at_its_end_is_written_afresh(tmp_path: Path) -> None:
    """Such a note needs an attribute on its text: the sheet is written from its cells."""
    path = tmp_path / "out" / "status-kota.xlsx"
    write_status_workbook(noted(sample_book(), "satu"), path)
    trailing = noted(sample_book(), "dua  ")
    assert write_status_workbook(trailing, path) == []
    assert entries(path) == written_afresh(trailing, path)


def test_a_part_changed_since_it_was_written_is_not_reused(tmp_path: Path) -> None:
    """The property still holds the key, but the part's CRC is not the one written."""
    path = tmp_path / "out" / "status-kota.xlsx"
    write_status_workbook(sample_book(), path)
    edit_entry(path, "xl/worksheets/sheet4.xml", b"3273********0001", b"3273********9999")
    assert sorted(write_status_workbook(sample_book(), path)) == ["Pasokan", "Status KKMP"]
    assert entries(path) == written_afresh(sample_book(), path)


def test_a_sheet_whose_links_were_edited_is_written_afresh(tmp_path: Path) -> None:
    """The links live in the part's relationships, outside the part the CRC covers: their
    digest in the property catches an edit there."""
    path = tmp_path / "out" / "status-kota.xlsx"
    write_status_workbook(sample_book(), path)
    edit_entry(path, "xl/worksheets/_rels/sheet2.xml.rels", b"kkmp-002.xlsx", b"elsewhere.xlsx")
    assert sorted(write_status_workbook(sample_book(), path)) == ["Masalah Data", "Pasokan"]
    assert entries(path) == written_afresh(sample_book(), path)


@pytest.mark.parametrize(
    "damage",
    [b"", b"not a zip at all", b"PK\x03\x04" + b"\x00" * 200],
    ids=["empty", "text", "torn zip"],
)
def test_a_broken_previous_file_only_costs_the_reuse(tmp_path: Path, damage: bytes) -> None:
    path = tmp_path / "out" / "status-kota.xlsx"
    path.parent.mkdir()
    path.write_bytes(damage)
    assert write_status_workbook(sample_book(), path) == []
    assert entries(path) == written_afresh(sample_book(), path)


def test_a_foreign_custom_property_file_is_ignored(tmp_path: Path) -> None:
    """A previous file with custom properties of its own (not ours) has nothing to reuse."""
    path = tmp_path / "out" / "status-kota.xlsx"
    path.parent.mkdir()
    custom = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"'
        ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2"'
        ' name="kkmp-sheets lembar x"><vt:lpwstr>abc zz</vt:lpwstr></property></Properties>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("docProps/custom.xml", custom)
    assert write_status_workbook(sample_book(), path) == []
    assert entries(path) == written_afresh(sample_book(), path)


def test_the_key_ignores_how_equal_rows_share_their_objects() -> None:
    """Rows built from a cache and rows built from a fresh read hold equal values in objects
    shared differently; both must give one key, or an unchanged cycle would never reuse."""
    text = "sama " * 3
    shared = Sheet("Masalah Data", sample_book().sheet("Masalah Data").columns, [[text, text]])
    apart = Sheet(
        "Masalah Data",
        sample_book().sheet("Masalah Data").columns,
        [["".join(["sama "] * 3), "".join(["sama "] * 3)]],
    )
    assert sheet_reuse.content_key(
        shared, number=4, name="Masalah Data", links_from=None
    ) == sheet_reuse.content_key(apart, number=4, name="Masalah Data", links_from=None)
    other = Sheet("Masalah Data", shared.columns, [[text, text + "."]])
    assert sheet_reuse.content_key(
        other, number=4, name="Masalah Data", links_from=None
    ) != sheet_reuse.content_key(shared, number=4, name="Masalah Data", links_from=None)


def test_the_same_number_and_its_float_give_different_keys() -> None:
    """1 and 1.0 (and True) are equal in Python but written differently."""
    columns = sample_book().sheet("Pasokan").columns
    keys = {
        sheet_reuse.content_key(
            Sheet("Pasokan", columns, [[value]]), number=6, name="Pasokan", links_from=None
        )
        for value in (1, 1.0, True)
    }
    assert len(keys) == 3


@pytest.mark.libreoffice
def test_a_file_resaved_by_libreoffice_is_written_afresh(tmp_path: Path) -> None:
    """LibreOffice keeps custom document properties but rewrites every part (shared strings,
    its own styles): the CRCs no longer match and nothing of it is taken."""
    soffice = soffice_or_skip()
    path = tmp_path / "out" / "status-kota.xlsx"
    write_status_workbook(sample_book(), path)
    outdir = tmp_path / "resaved"
    convert(soffice, path, "xlsx:Calc MS Excel 2007 XML", outdir, tmp_path / "profile")
    resaved = outdir / "status-kota.xlsx"
    with zipfile.ZipFile(resaved) as archive:
        custom = archive.read("docProps/custom.xml").decode()
    assert sheet_reuse.PROPERTY in custom  # the keys survived the re-save
    shutil.copyfile(resaved, path)
    assert write_status_workbook(sample_book(), path) == []
    reused = values(path)
    assert entries(path) == written_afresh(sample_book(), path)
    assert values(path) == reused


HOSTILE = [
    "Dago",
    " leading space",
    "trailing space ",
    "tab\tinside",
    "line\nbreak",
    "\ttab first",
    "vertical\x0btab",
    "literal _x0041_ escape",
    "A & B <c> \"quoted\" 'single'",
    "<r><t>rich</t></r>",
    "Koperasi Désa — ümlaut",
    "emoji 🌾 padi",
    "\u00a0non-breaking at both ends\u00a0",
    '=HYPERLINK("http://evil.example")',
    "",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_string_cell_is_written_as_xlsxwriter_writes_inline_strings(text: str) -> None:
    """The table sheet's own string writer against xlsxwriter's inline-string writer, which it
    replaces: the same XML for every kind of text (but rich-string XML, which stays text)."""
    import io

    from xlsxwriter.utility import _preserve_whitespace, xl_rowcol_to_cell_fast
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import CellStringTuple

    workbook = Workbook(io.BytesIO(), {"in_memory": True})
    fmt = workbook.add_format({"bold": True})
    sheet_reuse.pin_styles(workbook)
    ours, theirs = sheet_reuse.TableSheet(), sheet_reuse.TableSheet()
    ours.fh, theirs.fh = io.StringIO(), io.StringIO()
    ours._write_cell(4, 2, CellStringTuple(text, fmt))
    escaped = theirs._escape_control_characters(text)
    attributes = [("r", xl_rowcol_to_cell_fast(4, 2)), ("s", fmt._get_xf_index())]
    theirs._xml_inline_string(escaped, _preserve_whitespace(escaped), attributes)
    assert ours.fh.getvalue() == theirs.fh.getvalue()
    workbook.close()


def test_hostile_text_in_a_table_sheet_reads_back_as_it_was(tmp_path: Path) -> None:
    book = sample_book()
    masalah = book.sheet("Masalah Data")
    masalah.rows = [
        ["KKMP-009", "Dago", "Galat", "Anggota", n, "Nama", text]
        for n, text in enumerate(HOSTILE[:-1], start=2)
    ]
    path = tmp_path / "out" / "status-kota.xlsx"
    write_status_workbook(book, path)
    again = write_status_workbook(book, path)
    assert "Masalah Data" in again
    shown = [row[6] for row in values(path)["Masalah Data"][1:]]
    # A vertical tab is one of the characters XML 1.0 forbids: removed, as in every sheet.
    assert shown == [text.replace("\x0b", "") for text in HOSTILE[:-1]]
