from datetime import date

import pytest

from kkmp_sheets.core.parse import RawWorkbook, parse_workbook
from kkmp_sheets.core.template import match_choice, normalize
from tests.conftest import make_book, member, nik


def codes(issues):
    return sorted(i.code for i in issues)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("No. Anggota", "noanggota"),
        ("no anggota", "noanggota"),
        ("NO_ANGGOTA", "noanggota"),
        ("Jumlah (Rp)", "jumlahrp"),
        ("  L/P ", "lp"),
        (None, ""),
    ],
)
def test_normalize_ignores_case_space_punctuation(typed, key):
    assert normalize(typed) == key


@pytest.mark.parametrize(
    ("typed", "choices", "expected"),
    [
        ("aktif", ("Aktif", "Keluar"), "Aktif"),
        (" KELUAR ", ("Aktif", "Keluar"), "Keluar"),
        ("perempuan", ("L", "P"), "P"),
        ("Laki-laki", ("L", "P"), "L"),
        ("wajb", ("Pokok", "Wajib"), None),
        ("", ("L", "P"), None),
    ],
)
def test_listed_values_match_tolerantly(typed, choices, expected):
    assert match_choice(typed, choices) == expected


def test_header_below_title_rows_and_aliases_are_found():
    book = make_book()
    book.tabs["Daftar Anggota"] = [
        ["DAFTAR ANGGOTA KKMP KEDOYA SELATAN"],
        ["per Januari 2026"],
        [],
        ["No. Anggota", "Nama Lengkap", "No KTP", "L/P", "Tgl Masuk", "Catatan"],
        ["A-001", "Siti Contoh", nik(1, woman=True), "P", "05/01/2026", "lunas"],
        [],
        ["A-002", "Budi Contoh", nik(2), "L", "6 Januari 2026", ""],
    ]
    del book.tabs["Anggota"]
    parsed = parse_workbook(book)
    table = parsed.tables["Anggota"]
    assert table.tab == "Daftar Anggota"
    assert [r.row for r in table.records] == [5, 7]  # the rows the user sees; blank row skipped
    assert table.records[1]["tanggal_masuk"] == date(2026, 1, 6)
    assert table.records[0]["jenis_kelamin"] == "P"
    assert table.headers["nik"] == "No KTP"
    assert parsed.issues == []


def test_header_more_than_five_rows_down_is_not_found():
    rows = [["judul"]] * 6 + [["No Anggota", "Nama", "NIK", "Tanggal Masuk"]]
    book = make_book()
    book.tabs["Anggota"] = rows
    parsed = parse_workbook(book)
    assert "Anggota" not in parsed.tables
    assert [i.code for i in parsed.issues] == ["header-not-found"]


def test_missing_tab_and_missing_required_column_are_reported():
    book = make_book()
    del book.tabs["Stok"]
    book.tabs["Simpanan"] = [["Tanggal", "No Anggota", "Jumlah"], ["01/01/2026", "A-001", 10000]]
    parsed = parse_workbook(book)
    found = {(i.code, i.tab, i.column) for i in parsed.issues}
    assert ("tab-missing", "Stok", "") in found
    assert ("column-missing", "Simpanan", "Jenis") in found


def test_workbook_with_no_recognisable_tab_is_one_clear_problem():
    parsed = parse_workbook(RawWorkbook(tabs={"Sheet1": [["a", "b"]], "Sheet2": []}))
    assert codes(parsed.issues) == ["workbook-no-tabs"]


def test_unreadable_and_missing_values_name_row_and_column_as_typed():
    parsed = parse_workbook(
        make_book(
            simpanan=[
                ["31/02/2025", "A-001", "Wajib", "10.000"],
                ["01/01/2026", "", "Wajb", "sepuluh ribu"],
            ],
        )
    )
    found = sorted((i.code, i.row, i.column) for i in parsed.issues)
    assert found == [
        ("choice-unknown", 3, "Jenis"),
        ("required-missing", 3, "No Anggota"),
        ("value-unreadable", 2, "Tanggal"),
        ("value-unreadable", 3, "Jumlah"),
    ]
    messages = {(i.code, i.column): i for i in parsed.issues}
    assert "tanggal" in messages[("value-unreadable", "Tanggal")].message
    assert "17/08/2025" in messages[("value-unreadable", "Tanggal")].fix
    assert "jumlah rupiah" in messages[("value-unreadable", "Jumlah")].message
    assert "Pokok" in messages[("choice-unknown", "Jenis")].fix


def test_formula_error_cells_are_reported_not_read():
    parsed = parse_workbook(make_book(stok=[["B01", "Beras", "Beras", "kg", "#REF!", 12000]]))
    assert codes(parsed.issues) == ["formula-error"]
    assert parsed.tables["Stok"].records[0]["jumlah_stok"] is None


def test_profil_fields_read_with_types():
    parsed = parse_workbook(make_book())
    profil = parsed.profil
    assert profil.values["nama_koperasi"] == "KKMP Kedoya Selatan"
    assert profil.values["status_operasional"] == "Aktif"
    assert profil.values["simpanan_wajib_bulanan"] == 10000
    assert profil.rows["nib"] == 11  # the sheet row, below the title rows


def test_profil_without_required_field_is_reported():
    rows = [["Data", "Isi"], ["Nama Koperasi", "KKMP X"], ["Kecamatan", "Kembangan"]]
    parsed = parse_workbook(make_book(profil=rows))
    assert ("required-missing", "Kelurahan") in {(i.code, i.column) for i in parsed.issues}


def test_emoji_right_to_left_and_formula_text_are_plain_values():
    parsed = parse_workbook(
        make_book(
            anggota=[member("A-001", 1)],
            stok=[
                ["B01", '=HYPERLINK("http://contoh.id","Promo")', "Lainnya", "pcs", 3, 1000],
                ["B02", "Kurma 🌴 تمر", "Lainnya", "kg", 2, 50000],
            ],
        )
    )
    names = [r["nama_barang"] for r in parsed.tables["Stok"].records]
    assert names == ['=HYPERLINK("http://contoh.id","Promo")', "Kurma 🌴 تمر"]
    assert parsed.issues == []


def test_huge_tab_is_read_and_flagged():
    rows = [[f"B{i:05d}", "Barang", "Lainnya", "pcs", 1, 1000] for i in range(100_000)]
    parsed = parse_workbook(make_book(stok=rows))
    assert len(parsed.tables["Stok"].records) == 100_000
    assert codes(parsed.issues) == ["tab-too-large"]
