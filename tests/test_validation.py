from datetime import date

import pytest

from kkmp_sheets.core.issue import Severity
from kkmp_sheets.core.parse import parse_workbook
from kkmp_sheets.core.validation import Context, cross_coop_issues, member_niks, validate
from tests.conftest import AS_OF, PROFIL_ROWS, make_book, member, nik

CTX = Context(as_of=AS_OF, city_kode="31.73", city_name="Kota Administrasi Jakarta Barat")


def problems(book, ctx=CTX):
    parsed = parse_workbook(book)
    return sorted((i.code, i.tab, i.row) for i in parsed.issues + validate(parsed, ctx))


def test_clean_workbook_has_no_problems():
    book = make_book(
        anggota=[member("A-001", 1), member("A-002", 2)],
        simpanan=[["02/12/2025", "A-001", "Pokok", "Rp 100.000"]],
        stok=[["B01", "Beras SPHP 5 kg", "Beras", "karung 5 kg", 10, 62500]],
        penjualan=[["03/01/2026", "N-1", "B01", 2, 65000, 130000]],
    )
    assert problems(book) == []


@pytest.mark.parametrize(
    ("tabs", "expected"),
    [
        (
            {"anggota": [member("A-001", 1), member("A-001", 2)]},
            [("member-id-duplicate", "Anggota", 3)],
        ),
        (
            {"anggota": [member("A-001", 1), ["A-002", "Dua", nik(1), "L", "01/12/2025", "Aktif"]]},
            [("nik-duplicate", "Anggota", 3)],
        ),
        (
            {"anggota": [["A-001", "Satu", 3173051708900001, "L", "01/12/2025", ""]]},
            [("nik-as-number", "Anggota", 2)],
        ),
        (
            {"anggota": [["A-001", "Satu", "317305170890001", "L", "01/12/2025", ""]]},
            [("nik-length", "Anggota", 2)],
        ),
        (
            {"anggota": [["A-001", "Satu", "3173053213900001", "L", "01/12/2025", ""]]},
            [("nik-birthdate", "Anggota", 2)],
        ),
        (
            {"anggota": [["A-001", "Satu", "9999991708900001", "L", "01/12/2025", ""]]},
            [("nik-region-unknown", "Anggota", 2)],
        ),
        (
            {"anggota": [["A-001", "Satu", nik(1, kecamatan="327301"), "L", "01/12/2025", ""]]},
            [("nik-outside-city", "Anggota", 2)],
        ),
        ({"anggota": [member("A-001", 1, joined="01/03/2026")]}, [("future-date", "Anggota", 2)]),
        (
            {"anggota": [["A-001", "", nik(1), "L", "01/12/2025", ""]]},
            [("required-missing", "Anggota", 2)],
        ),
        (
            {
                "anggota": [member("A-001", 1)],
                "simpanan": [["01/01/2026", "A-009", "Wajib", 10000]],
            },
            [("member-unknown", "Simpanan", 2)],
        ),
        (
            {
                "anggota": [member("A-001", 1)],
                "simpanan": [["01/01/2026", "A-001", "Wajib", "-10.000"]],
            },
            [("negative-value", "Simpanan", 2)],
        ),
        ({"stok": [["B01", "Beras", "Beras", "kg", -3, 12000]]}, [("negative-value", "Stok", 2)]),
        ({"stok": [["B01", "Beras", "Beras", "kg", 3, None]]}, [("missing-optional", "Stok", 2)]),
        (
            {
                "stok": [["B01", "Beras", "Beras", "kg", 3, 12000]],
                "penjualan": [["03/01/2026", "N1", "X9", 1, 1000, 1000]],
            },
            [("item-unknown", "Penjualan", 2)],
        ),
        (
            {
                "stok": [["B01", "Beras", "Beras", "kg", 3, 12000]],
                "penjualan": [["03/01/2026", "N1", "B01", 2, 13000, 30000]],
            },
            [("total-mismatch", "Penjualan", 2)],
        ),
    ],
)
def test_rules(tabs, expected):
    assert problems(make_book(**tabs)) == expected


def test_total_within_one_rupiah_is_fine():
    book = make_book(
        stok=[["B01", "Gula", "Gula", "kg", 3, 16000]],
        penjualan=[["03/01/2026", "N1", "B01", 3, 17500.33, 52501]],
    )
    assert problems(book) == []


@pytest.mark.parametrize(
    ("label", "value", "code"),
    [
        ("NIB", "123456789012", "nib-format"),
        ("NPWP", "01.234.567.8-901.000", "npwp-15-digit"),
        ("NPWP", "12345", "npwp-format"),
        ("Nomor SK AHU", "SK nomor 12", "sk-ahu-format"),
        ("Status Operasional", "Sdh jalan", "choice-unknown"),
        ("Kode Wilayah", "31.73.05.9999", "kode-wilayah-unknown"),
        ("Nomor Rekening", "", "bank-account-incomplete"),
    ],
)
def test_profil_rules(label, value, code):
    rows = [list(r) for r in PROFIL_ROWS]
    for row in rows:
        if row and row[0] == label:
            row[1] = value
    found = problems(make_book(profil=rows))
    assert [c for c, _, _ in found] == [code]


def test_severities_follow_the_contract():
    parsed = parse_workbook(
        make_book(anggota=[["A-001", "Satu", nik(1, kecamatan="327301"), "L", "x", ""]])
    )
    by_code = {i.code: i.severity for i in parsed.issues + validate(parsed, CTX)}
    assert by_code == {"nik-outside-city": Severity.PERINGATAN, "value-unreadable": Severity.GALAT}


def test_same_nik_in_two_cooperatives_is_told_to_each_without_naming_the_other():
    a = parse_workbook(make_book(anggota=[member("A-001", 1), member("A-002", 2)]))
    b = parse_workbook(make_book(anggota=[member("B-001", 1)]))
    found = cross_coop_issues({"KKMP-A": member_niks(a), "KKMP-B": member_niks(b)}, {})
    assert {k: [(i.code, i.row) for i in v] for k, v in found.items()} == {
        "KKMP-A": [("nik-elsewhere", 2)],
        "KKMP-B": [("nik-elsewhere", 2)],
    }
    issue = found["KKMP-A"][0]
    assert "KKMP-B" not in issue.message + issue.fix
    assert issue.public_value.startswith("3173") and "*" in issue.public_value


def test_member_who_left_is_not_a_cross_coop_duplicate():
    a = parse_workbook(make_book(anggota=[member("A-001", 1, status="Keluar")]))
    b = parse_workbook(make_book(anggota=[member("B-001", 1)]))
    assert cross_coop_issues({"A": member_niks(a), "B": member_niks(b)}, {}) == {}


def test_messages_never_contain_the_value():
    parsed = parse_workbook(
        make_book(anggota=[["A-001", "Satu", "317305170890001", "L", "01/12/2025", ""]])
    )
    for issue in parsed.issues + validate(parsed, CTX):
        assert "317305170890001" not in issue.message + issue.fix
        assert issue.public_value == "3173*******0001"


def test_future_is_judged_against_as_of_not_the_clock():
    book = make_book(anggota=[member("A-001", 1, joined="15/01/2026")])
    assert problems(book, Context(as_of=date(2026, 1, 10), city_kode="31.73")) == [
        ("future-date", "Anggota", 2)
    ]


def test_amounts_that_multiply_past_the_float_limit_are_a_mismatch_not_a_crash():
    book = make_book(
        stok=[["B01", "Gula", "Gula", "kg", 3, 16000]],
        penjualan=[["03/01/2026", "N1", "B01", 1e200, 1e200, 52501]],
    )
    assert problems(book) == [("total-mismatch", "Penjualan", 2)]


@pytest.mark.parametrize("seed", range(40))
def test_shared_niks_are_found_as_a_walk_over_every_nik_finds_them(seed: int) -> None:
    """The counting shortcut gives each cooperative the same problems, in the same order, as
    the frozen walk over every NIK (tests/reference_validation_v1.py)."""
    import random

    from tests.reference_validation_v1 import cross_coop_issues as walked

    rng = random.Random(seed)
    pool = [str(rng.randrange(10**15, 10**16)) for _ in range(rng.randint(1, 60))]
    niks = {
        f"KKMP-{c}": {n: rng.randint(2, 400) for n in rng.sample(pool, rng.randint(0, len(pool)))}
        for c in range(rng.randint(0, 12))
    }
    tabs = {coop: "Anggota Koperasi" for coop in niks if rng.random() < 0.7}
    expected = walked(niks, tabs)
    assert cross_coop_issues(niks, tabs) == expected
    assert any(expected) or seed % 7 or not niks  # most seeds do share NIKs
