from kkmp_sheets.core.registry import read_registry


def test_registry_rows_with_tolerant_headers():
    rows = [
        ["Daftar KKMP Jakarta Barat"],
        [
            "id",
            "Nama KKMP",
            "Kelurahan",
            "Kecamatan",
            "Kode Wilayah",
            "URL",
            "Email Pengurus",
            "PJ",
            "Email PJ",
        ],
        [
            "KKMP-1",
            "KKMP Kapuk",
            "Kapuk",
            "Cengkareng",
            "3173011005",
            "a.xlsx",
            "a@x.id; b@x.id",
            "Rina",
            "rina@x.id",
        ],
        ["", "", "", "", "", "", "", "", ""],
        ["KKMP-2", "KKMP Duri", "Duri Kosambi", "Cengkareng", "31.73.01.1002", "", "", "", ""],
    ]
    coops, issues = read_registry(rows)
    assert [c.id for c in coops] == ["KKMP-1", "KKMP-2"]
    assert coops[0].kode_wilayah == "31.73.01.1005"
    assert coops[0].email_pengurus == ("a@x.id", "b@x.id")
    assert coops[0].row == 3
    assert [(i.code, i.row, i.column) for i in issues] == [("required-missing", 5, "Spreadsheet")]


def test_registry_duplicate_id_and_bad_code_are_reported():
    rows = [
        ["ID", "Nama Koperasi", "Kelurahan", "Kecamatan", "Kode Wilayah", "Spreadsheet"],
        ["K1", "A", "Kapuk", "Cengkareng", "31.73", "a.xlsx"],
        ["K1", "B", "Duri", "Cengkareng", "", "b.xlsx"],
    ]
    coops, issues = read_registry(rows)
    assert len(coops) == 2 and coops[1].id != coops[0].id
    assert sorted(i.code for i in issues) == ["kode-wilayah-format", "registry-id-duplicate"]
