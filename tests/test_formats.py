"""Reading and writing Indonesian values as typed by hand (kkmp_sheets.core.formats).

Synthetic data only: every NIK, NIB, NPWP, phone number and address here is made up.
"""

from __future__ import annotations

import math
import pickle
from datetime import date, datetime, time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kkmp_sheets.core import wilayah
from kkmp_sheets.core.formats import (
    MONTHS,
    FormatError,
    NikCheck,
    Npwp,
    check_nik,
    compose_nik,
    dates,
    format_date,
    format_number,
    format_percent,
    format_rupiah,
    is_blank,
    nik_reader,
    parse_date,
    parse_email,
    parse_int_like_id,
    parse_kode_wilayah,
    parse_latlong,
    parse_money,
    parse_nib,
    parse_npwp,
    parse_number,
    parse_phone,
    parse_sk_ahu,
    parse_yes_no,
)
from kkmp_sheets.core.formats import text as text_cells
from kkmp_sheets.core.issue import CATALOG

PARSERS = [
    parse_number,
    parse_money,
    parse_date,
    parse_int_like_id,
    check_nik,
    parse_nib,
    parse_npwp,
    parse_sk_ahu,
    parse_phone,
    parse_email,
    parse_kode_wilayah,
    parse_latlong,
    parse_yes_no,
]
BLANKS = [None, "", " ", "\t\n", "\u00a0", " \u202f ", "-", " - ", "–", "—", "\u200b"]


# --------------------------------------------------------------------------- blanks and errors


@pytest.mark.parametrize("value", [*BLANKS, float("nan")])
def test_is_blank(value):
    assert is_blank(value)


@pytest.mark.parametrize("value", [0, 0.0, "0", False, "x", "--", ".", date(2025, 1, 1), "Rp"])
def test_is_not_blank(value):
    assert not is_blank(value)


@pytest.mark.parametrize("parser", PARSERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("value", BLANKS)
def test_every_parser_reads_blank_as_none(parser, value):
    assert parser(value) is None


@pytest.mark.parametrize("parser", PARSERS, ids=lambda f: f.__name__)
def test_every_parser_reads_nan_as_none(parser):
    # pandas marks an empty cell with NaN
    assert parser(float("nan")) is None


def test_format_error_carries_its_fields_and_pickles():
    err = FormatError("value-unreadable", "angka", "1.250", "x")
    assert isinstance(err, ValueError)
    assert (err.code, err.expected, err.example, err.detail) == (
        "value-unreadable",
        "angka",
        "1.250",
        "x",
    )
    assert "value-unreadable" in str(err) and "angka" in str(err)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.code, copy.expected, copy.example, copy.detail) == (
        err.code,
        err.expected,
        err.example,
        err.detail,
    )


def _error_of(parser, value) -> FormatError:
    with pytest.raises(FormatError) as info:
        parser(value)
    return info.value


# --------------------------------------------------------------------------- numbers and money

AMOUNTS = [
    # real numbers pass through
    (1250000, 1250000.0),
    (1250000.5, 1250000.5),
    (0, 0.0),
    (-3, -3.0),
    # Indonesian: dots group thousands, comma is the decimal mark
    ("1250000", 1250000.0),
    ("1.250.000", 1250000.0),
    ("1.250.000,00", 1250000.0),
    ("1.250.000,50", 1250000.5),
    ("1.250", 1250.0),
    ("1,250", 1.25),
    ("1.250,5", 1250.5),
    ("12,5", 12.5),
    ("0,75", 0.75),
    ("1250000,5", 1250000.5),
    ("007", 7.0),
    ("1.000.000.000.000", 1e12),
    # dot decimals typed on phones
    ("12.5", 12.5),
    ("12.50", 12.5),
    ("1250000.0", 1250000.0),
    ("0.5", 0.5),
    ("0.125", 0.125),
    # currency
    ("Rp 1.250.000", 1250000.0),
    ("Rp1.250.000", 1250000.0),
    ("RP 1.250.000", 1250000.0),
    ("rp. 50.000", 50000.0),
    ("Rp.50.000", 50000.0),
    ("Rp1.250.000,-", 1250000.0),
    ("Rp 1.250.000,00", 1250000.0),
    ("50.000,-", 50000.0),
    ("50.000,--", 50000.0),
    ("50.000.-", 50000.0),
    ("IDR 50.000", 50000.0),
    ("50.000 IDR", 50000.0),
    ("50.000 rupiah", 50000.0),
    ("Rp\u00a01.250.000", 1250000.0),  # Excel's currency format uses a no-break space
    ("Rp -", 0.0),  # accounting format zero
    # multiplier words
    ("50rb", 50000.0),
    ("50 rb", 50000.0),
    ("50 ribu", 50000.0),
    ("50 Ribu Rupiah", 50000.0),
    ("50 rebu", 50000.0),
    ("50k", 50000.0),
    ("Rp 50rb", 50000.0),
    ("1,5 juta", 1500000.0),
    ("1,5jt", 1500000.0),
    ("1,5 jt.", 1500000.0),
    ("2 jt", 2000000.0),
    ("2 Juta", 2000000.0),
    ("1.5 juta", 1500000.0),
    ("1.25 juta", 1250000.0),
    ("1,1 juta", 1100000.0),  # exactly, not 1100000.0000000002
    ("3 M", 3e9),
    ("3m", 3e9),
    ("3 miliar", 3e9),
    ("3 milyar", 3e9),
    ("2,5 miliar", 2.5e9),
    ("2 triliun", 2e12),
    ("2 T", 2e12),
    ("1.250 juta", 1.25e9),  # a dot with 3 digits is a thousands group, even before "juta"
    # negatives are returned; the caller reports "negative-value"
    ("-50.000", -50000.0),
    ("- 50.000", -50000.0),
    ("\u221250.000", -50000.0),  # the minus sign
    ("–50.000", -50000.0),  # an en dash typed as minus
    ("(50.000)", -50000.0),
    ("(Rp 50.000)", -50000.0),
    ("Rp (50.000)", -50000.0),
    ("Rp -50.000", -50000.0),
    ("-Rp 50.000", -50000.0),
    ("-Rp1.250,50", -1250.5),
    ("+50.000", 50000.0),
    # spacing
    ("  1.250.000  ", 1250000.0),
    ("\u00a01.250\u00a0", 1250.0),
    ("\ufeff1.250", 1250.0),
    ("1.250\u200b", 1250.0),
]


@pytest.mark.parametrize(("value", "expected"), AMOUNTS)
def test_parse_money(value, expected):
    assert parse_money(value) == expected


@pytest.mark.parametrize(("value", "expected"), AMOUNTS)
def test_parse_number_reads_the_same_as_money(value, expected):
    assert parse_number(value) == expected


@pytest.mark.parametrize("parser", [parse_number, parse_money], ids=lambda f: f.__name__)
def test_amount_results_are_floats(parser):
    for value in (7, "7", "1.250", 2.5):
        assert type(parser(value)) is float


UNREADABLE_AMOUNTS = [
    "abc",
    "1.2.3,4,5",
    "Rp",
    "rupiah",
    "12 ribu 5",
    "1 juta 500 ribu",
    "1,250,000",  # English grouping: refused rather than guessed
    "1,250.50",
    "1.250.000.50",
    "1250.000",
    "1.25.000",
    "01.250",
    "1 250 000",
    "1e5",
    "1.5E+06",
    "50.000-",  # a trailing minus could be accounting's negative: ambiguous
    "-(50.000)",
    "(50.000",
    "50.000.",
    "50,",
    ",5",
    "--5",
    "12 kg",
    "5 tahun",
    "50 ribuan",
    "Rp 50.000 / kg",
    "½",
    "١٢٣",  # Arabic-Indic digits
    "１２３",  # fullwidth digits
    "9" * 400,  # beyond a float: infinity is never returned
    "9" * 300 + " triliun",
    True,
    False,
    float("inf"),
    float("-inf"),
    10**400,
    date(2025, 8, 17),
    datetime(2025, 8, 17, 10, 0),
    time(10, 0),
    [1],
    object(),
]


@pytest.mark.parametrize("value", UNREADABLE_AMOUNTS)
def test_parse_money_unreadable(value):
    err = _error_of(parse_money, value)
    assert (err.code, err.expected, err.example) == (
        "value-unreadable",
        "jumlah rupiah",
        "Rp 1.250.000",
    )


@pytest.mark.parametrize("value", UNREADABLE_AMOUNTS)
def test_parse_number_unreadable(value):
    err = _error_of(parse_number, value)
    assert (err.code, err.expected) == ("value-unreadable", "angka")
    assert err.example


def test_amount_errors_do_not_leak_between_number_and_money():
    # the text reader is memoised; the wrapper must still say which kind was expected
    assert _error_of(parse_money, "xyz").expected == "jumlah rupiah"
    assert _error_of(parse_number, "xyz").expected == "angka"
    assert _error_of(parse_money, "xyz").expected == "jumlah rupiah"


def test_long_amount_text_is_read_without_the_cache():
    text = "Rp 1" + ".000" * 10 + ",50"
    assert len(text) > text_cells._CACHED_MAX_LEN
    assert parse_money(text) == float("1" + "000" * 10 + ".5")
    with pytest.raises(FormatError):
        parse_money("Rp 1" + ".000" * 10 + " x")


def test_amount_numpy_scalars():
    np = pytest.importorskip("numpy")
    assert parse_money(np.float64(12.5)) == 12.5
    assert parse_money(np.int64(7)) == 7.0
    assert parse_number(np.float64("nan")) is None
    with pytest.raises(FormatError):
        parse_number(np.float64("inf"))


# --------------------------------------------------------------------------- dates

D = date(2025, 8, 17)
DATES = [
    (D, D),
    (datetime(2025, 8, 17, 10, 30), D),
    (datetime(2025, 8, 17, 23, 59, 59), D),
    # spreadsheet serials: day 0 = 1899-12-30, the fraction is the time of day
    (45886, D),
    (45886.0, D),
    (45886.999, D),
    ("45886", D),
    ("45886.5", D),
    (18264, date(1950, 1, 1)),
    (80000, date(2119, 1, 11)),
    # numeric, day first
    ("17/08/2025", D),
    ("17-08-2025", D),
    ("17.08.2025", D),
    ("17/8/2025", D),
    ("17/8/25", D),
    ("17-8-25", D),
    ("1/2/2025", date(2025, 2, 1)),  # 1 February, never January 2
    ("12/01/2025", date(2025, 1, 12)),
    ("17/08/69", date(2069, 8, 17)),
    ("17/08/70", date(1970, 8, 17)),
    ("17/08/00", date(2000, 8, 17)),
    ("17 / 08 / 2025", D),
    ("17/08/2025 10:00", D),
    ("17/08/2025 10.00.00", D),
    ("17/08/2025 10:00 WIB", D),
    ("29/02/2024", date(2024, 2, 29)),
    # year first
    ("2025-08-17", D),
    ("2025-8-17", D),
    ("2025-08-17T10:00:00", D),
    ("2025-08-17T10:00:00.123+07:00", D),
    ("2025-08-17T03:00:00Z", D),
    ("2025-08-17 10:00:00", D),
    ("2025/08/17", D),
    # month names
    ("17 Agustus 2025", D),
    ("17 agustus 2025", D),
    ("17 AGUSTUS 2025", D),
    ("17 Agu 2025", D),
    ("17 Ags 2025", D),
    ("17 Agt 2025", D),
    ("17 Agst 2025", D),
    ("17 Agu. 2025", D),
    ("17-Agu-2025", D),
    ("17-agu-25", D),
    ("17/Agu/2025", D),
    ("17.Agu.2025", D),
    ("17 August 2025", D),
    ("17 Aug 2025", D),
    ("17Agustus2025", D),
    ("  17  Agustus  2025  ", D),
    ("17\u00a0Agustus\u00a02025", D),
    ("17 Agustus 2025 10:00", D),
    ("1 Januari 2025", date(2025, 1, 1)),
    ("1 Jan 2025", date(2025, 1, 1)),
    ("3 Februari 2025", date(2025, 2, 3)),
    ("3 Pebruari 2025", date(2025, 2, 3)),
    ("3 Feb 2025", date(2025, 2, 3)),
    ("3 Peb 2025", date(2025, 2, 3)),
    ("3 February 2025", date(2025, 2, 3)),
    ("5 Maret 2025", date(2025, 3, 5)),
    ("5 March 2025", date(2025, 3, 5)),
    ("5 Mei 2025", date(2025, 5, 5)),
    ("5 May 2025", date(2025, 5, 5)),
    ("5 Juni 2025", date(2025, 6, 5)),
    ("5 June 2025", date(2025, 6, 5)),
    ("5 Juli 2025", date(2025, 7, 5)),
    ("5 July 2025", date(2025, 7, 5)),
    ("5 September 2025", date(2025, 9, 5)),
    ("5 Sept 2025", date(2025, 9, 5)),
    ("5 Oktober 2025", date(2025, 10, 5)),
    ("5 Okt 2025", date(2025, 10, 5)),
    ("5 Oct 2025", date(2025, 10, 5)),
    ("10 November 2025", date(2025, 11, 10)),
    ("10 Nopember 2025", date(2025, 11, 10)),
    ("10 Nov 2025", date(2025, 11, 10)),
    ("10 Nop 2025", date(2025, 11, 10)),
    ("25 Desember 2025", date(2025, 12, 25)),
    ("25 Des 2025", date(2025, 12, 25)),
    ("25 December 2025", date(2025, 12, 25)),
    ("25 Dec 2025", date(2025, 12, 25)),
    # a day name in front, not checked against the date (17/08/2025 was a Sunday)
    ("Senin, 17 Agustus 2025", D),
    ("Minggu, 17 Agustus 2025", D),
    ("minggu 17 agustus 2025", D),
    ("Jum'at, 15 Agustus 2025", date(2025, 8, 15)),
    ("Jumat, 15/08/2025", date(2025, 8, 15)),
    ("Sun, 17 Aug 2025", D),
    ("Sunday, 17 August 2025", D),
]


@pytest.mark.parametrize(("value", "expected"), DATES)
def test_parse_date(value, expected):
    result = parse_date(value)
    assert result == expected
    assert type(result) is date


UNREADABLE_DATES = [
    "31/02/2025",  # impossible
    "29/02/2025",
    "32/01/2025",
    "00/01/2025",
    "17/13/2025",
    "17/00/2025",
    "2025-02-30",
    "31 Februari 2025",
    "17/08-2025",  # mixed separators
    "17/08",
    "Agustus 2025",
    "August 17, 2025",  # month first is never read
    "17 Foo 2025",
    "17 Agustusan 2025",
    "Blah, 17 Agustus 2025",
    "17/08/025",
    "17/08/20255",
    "0000-01-01",
    "17082025",
    "20250817",
    "2025",
    "10:00",
    "kemarin",
    "abc",
    "45886x",
    "17-Agu",
    2025,  # a number outside the serial window is a typing mistake, not a date in 1905
    17082025,
    18263,
    80001,
    -1,
    0,
    1e300,
    float("inf"),
    True,
    False,
    time(10, 0),
    [D],
]


@pytest.mark.parametrize("value", UNREADABLE_DATES)
def test_parse_date_unreadable(value):
    err = _error_of(parse_date, value)
    assert (err.code, err.expected, err.example) == ("value-unreadable", "tanggal", "17/08/2025")


@pytest.mark.parametrize(
    "parser", [parse_int_like_id, parse_nib, parse_npwp, parse_phone, parse_kode_wilayah]
)
def test_a_lone_apostrophe_is_an_empty_identifier(parser):
    assert parser("'") is None
    assert parser(" ' ") is None


@pytest.mark.parametrize("parser", PARSERS, ids=lambda f: f.__name__)
def test_every_parser_reads_pandas_nat_as_none(parser):
    pd = pytest.importorskip("pandas")
    assert parser(pd.NaT) is None


def test_parse_date_pandas_values():
    pd = pytest.importorskip("pandas")
    assert parse_date(pd.Timestamp("2025-08-17 10:00")) == D
    assert type(parse_date(pd.Timestamp("2025-08-17"))) is date
    assert parse_date(pd.NaT) is None
    assert is_blank(pd.NaT)


def test_parse_date_long_text_is_read_without_the_cache():
    text = "Minggu,      17      Agustus      2025      10:00"
    assert len(text) > text_cells._CACHED_MAX_LEN
    assert parse_date(text) == D


def test_months_cover_every_month_in_both_languages():
    assert set(MONTHS.values()) == set(range(1, 13))
    assert all(key == key.lower().strip() for key in MONTHS)
    for key in ("agustus", "agu", "ags", "agt", "pebruari", "peb", "nopember", "nop", "august"):
        assert key in MONTHS


# --------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("A-001", "A-001"),
        ("  A-001 ", "A-001"),
        ("001", "001"),  # text keeps its zeros
        ("'001", "001"),
        ("' 001", "001"),
        ("KKMP/2025/01", "KKMP/2025/01"),
        (12, "12"),
        (12.0, "12"),
        (0, "0"),
        (-3.0, "-3"),
        (12.5, "12.5"),
        (1e20, "100000000000000000000"),
        (3173011708900001, "3173011708900001"),
        ("'", None),
    ],
)
def test_parse_int_like_id(value, expected):
    assert parse_int_like_id(value) == expected


@pytest.mark.parametrize(
    "value", [True, False, D, datetime(2025, 8, 17), time(1, 5), float("inf"), object()]
)
def test_parse_int_like_id_unreadable(value):
    assert _error_of(parse_int_like_id, value).code == "value-unreadable"


# --- NIK

NIK = "3173011708900001"  # 317301 = Kec. Cengkareng; born 17-08-1990; serial 0001


def _no_region(_code: str) -> bool:
    return False


@pytest.mark.parametrize(
    ("value", "digits", "problems"),
    [
        (NIK, NIK, ()),
        ("'" + NIK, NIK, ()),  # a leading apostrophe keeps a spreadsheet from making a number
        (" 3173 0117 0890 0001 ", NIK, ()),
        ("3173-0117-0890-0001", NIK, ()),
        ("3173.0117.0890.0001", NIK, ()),
        ("3173\u00a00117\u00a00890\u00a00001", NIK, ()),
        (3173011708900001, NIK, ("nik-as-number",)),
        (3.173011708900001e15, NIK, ("nik-as-number",)),
        ("3.173011708900001E+15", NIK, ("nik-as-number",)),
        ("3,17301E+15", None, ("nik-as-number",)),  # only 6 digits survived: nothing else is known
        (float("inf"), None, ("nik-as-number",)),
        (12345, None, ("nik-as-number", "nik-length")),
        ("317301170890001", None, ("nik-length",)),
        ("31730117089000012", None, ("nik-length",)),
        ("317301170890000A", None, ("nik-length",)),
        ("3173/0117/0890/0001", None, ("nik-length",)),
        ("NIK " + NIK, None, ("nik-length",)),
        ("..", None, ("nik-length",)),
        ("３１７３０１１７０８９００００１", None, ("nik-length",)),  # fullwidth digits
        (True, None, ("nik-length",)),
        (D, None, ("nik-length",)),
        ("3173013208900001", "3173013208900001", ("nik-birthdate",)),  # day 32
        ("3173017208900001", "3173017208900001", ("nik-birthdate",)),  # day 72 (woman's 32)
        ("3173010008900001", "3173010008900001", ("nik-birthdate",)),  # day 0
        ("3173011713900001", "3173011713900001", ("nik-birthdate",)),  # month 13
        ("3173011700900001", "3173011700900001", ("nik-birthdate",)),  # month 0
        ("3173013102900001", "3173013102900001", ("nik-birthdate",)),  # 31 February
        ("9999011708900001", "9999011708900001", ("nik-region-unknown",)),
        ("3173990002900001", "3173990002900001", ("nik-birthdate", "nik-region-unknown")),
        (3173013208900001, "3173013208900001", ("nik-as-number", "nik-birthdate")),
    ],
)
def test_check_nik_problems(value, digits, problems):
    result = check_nik(value)
    assert result is not None
    assert result.digits == digits
    assert result.problems == problems
    assert all(code in CATALOG for code in result.problems)


def test_check_nik_reads_birth_date_sex_and_kecamatan():
    man = check_nik(NIK)
    assert man == NikCheck(NIK, (), date(1990, 8, 17), "L", "317301")
    woman = check_nik("3173015708900001")  # day 57 = 17 + 40
    assert woman == NikCheck("3173015708900001", (), date(1990, 8, 17), "P", "317301")
    assert check_nik("3674014102000001").birth_date == date(2000, 2, 1)  # Tangerang Selatan


def test_check_nik_fields_are_none_where_a_problem_is():
    bad_birth = check_nik("3173013208900001")
    assert (bad_birth.birth_date, bad_birth.sex, bad_birth.kecamatan) == (None, None, "317301")
    unknown = check_nik(NIK, kecamatan_exists=_no_region)
    assert unknown.problems == ("nik-region-unknown",)
    assert (unknown.kecamatan, unknown.birth_date, unknown.sex) == (None, date(1990, 8, 17), "L")


def test_check_nik_century_is_the_one_not_in_the_future():
    today = date.today()
    next_year = (today.year + 1) % 100  # 20yy would be in the future: so 19yy
    assert check_nik(f"3173010101{next_year:02d}0001").birth_date == date(today.year - 99, 1, 1)
    assert check_nik("3173010101050001").birth_date == date(2005, 1, 1)
    assert check_nik("3173010101450001").birth_date == date(1945, 1, 1)
    assert check_nik("3173012902000001").birth_date == date(2000, 2, 29)  # 2000 was a leap year


def test_check_nik_uses_the_given_region_check():
    seen = []

    def exists(code: str) -> bool:
        seen.append(code)
        return True

    assert check_nik("1234561708900001", kecamatan_exists=exists).problems == ()
    assert seen == ["123456"]


# --- NIB, NPWP, SK AHU, Kode Wilayah


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9120001234567", "9120001234567"),
        (" 9120001234567 ", "9120001234567"),
        ("912 000 123 4567", "9120001234567"),
        ("9120-0012-34567", "9120001234567"),
        ("9.120.001.234.567", "9120001234567"),
        ("'0220001234567", "0220001234567"),
        (9120001234567, "9120001234567"),
        (9120001234567.0, "9120001234567"),
    ],
)
def test_parse_nib(value, expected):
    assert parse_nib(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "912000123456",
        "91200012345678",
        "91200012345AB",
        "NIB 9120001234567",
        "9120/001234567",
        220001234567,
        1.5,
        True,
        D,
    ],
)
def test_parse_nib_bad(value):
    assert _error_of(parse_nib, value).code == "nib-format"


def test_parse_nib_tells_the_digit_count():
    assert _error_of(parse_nib, "912000123456").detail == "12"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0123456789012345", Npwp("0123456789012345", legacy=False)),
        ("0123 4567 8901 2345", Npwp("0123456789012345", legacy=False)),
        ("01.234.567.8-901.000", Npwp("012345678901000", legacy=True)),
        ("012345678901000", Npwp("012345678901000", legacy=True)),
        ("'01.234.567.8-901.000", Npwp("012345678901000", legacy=True)),
        (123456789012345, Npwp("123456789012345", legacy=True)),
    ],
)
def test_parse_npwp(value, expected):
    assert parse_npwp(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "12345",
        "01.234.567.8-901.00",
        "01234567890123456",
        "01.234.567.8-901.00X",
        "01/234/567",
        12345,
        True,
        -1,
    ],
)
def test_parse_npwp_bad(value):
    assert _error_of(parse_npwp, value).code == "npwp-format"


SK = "AHU-0012345.AH.01.29.TAHUN 2025"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SK, SK),
        ("ahu-0012345.ah.01.29.tahun 2025", SK),
        ("AHU-0012345.AH.01.29.Tahun 2025", SK),
        ("AHU-0012345.AH.01.29.TAHUN2025", SK),
        ("AHU-0012345.AH.01.29. TAHUN 2025", SK),
        ("AHU-0012345.AH.01.29 Tahun 2025", SK),
        ("AHU-0012345.AH.01.29.2025", SK),
        ("AHU 0012345 AH 01 29 2025", SK),
        ("AHU - 0012345 . AH . 01 . 29 . TAHUN 2025", SK),
        ("  AHU-0012345.AH.01.29.TAHUN 2025  ", SK),
        ("AHU-12345.AH.01.29.TAHUN 2025", SK),  # the number padded to 7 digits
        ("AHU-0000178.AH.01.26.TAHUN 2019", "AHU-0000178.AH.01.26.TAHUN 2019"),
    ],
)
def test_parse_sk_ahu(value, expected):
    assert parse_sk_ahu(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "AHU-0012345.AH.01.29.TAHUN 1999",
        "AHU-0012345.AH.01.29.TAHUN 2100",
        "AHU-0012345.AH.01.29",
        "AHU-00123456789.AH.01.29.TAHUN 2025",
        "0012345.AH.01.29.TAHUN 2025",
        "AHU-0012345.AH.1.29.TAHUN 2025",
        "SK Kemenkumham 2025",
        "0012345",
        12345,
        True,
    ],
)
def test_parse_sk_ahu_bad(value):
    assert _error_of(parse_sk_ahu, value).code == "sk-ahu-format"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("31.73.01.1001", "31.73.01.1001"),
        ("3173011001", "31.73.01.1001"),
        (" 31.73.01.1001 ", "31.73.01.1001"),
        ("31 . 73 . 01 . 1001", "31.73.01.1001"),
        ("'3173011001", "31.73.01.1001"),
        (3173011001, "31.73.01.1001"),
        (3173011001.0, "31.73.01.1001"),
        ("36.74.01.1001", "36.74.01.1001"),
        ("99.99.99.9999", "99.99.99.9999"),  # existence is the caller's check
    ],
)
def test_parse_kode_wilayah(value, expected):
    assert parse_kode_wilayah(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "31.73.01",
        "317301",
        "31.7301.1001",
        "3.173.011.001",
        "31-73-01-1001",
        "31.73.01.10011",
        "31.73.01.1001a",
        31.73,
        True,
    ],
)
def test_parse_kode_wilayah_bad(value):
    assert _error_of(parse_kode_wilayah, value).code == "kode-wilayah-format"


# --- phone, email


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0812-3456-7890", "+6281234567890"),
        ("0812 3456 7890", "+6281234567890"),
        ("081234567890", "+6281234567890"),
        ("0812.3456.7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("+62-812-3456-7890", "+6281234567890"),
        ("+62 (0)812 3456 7890", "+6281234567890"),
        ("+620812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("0062 812 3456 7890", "+6281234567890"),
        ("81234567890", "+6281234567890"),  # a number cell dropped the leading 0
        ("'081234567890", "+6281234567890"),
        (81234567890, "+6281234567890"),
        (8123456789.0, "+628123456789"),
        (6281234567890, "+6281234567890"),
        ("0812-345-678", "+62812345678"),
        ("(021) 5551234", "+62215551234"),
        ("021-55512345", "+622155512345"),
        ("(0274) 512345", "+62274512345"),
        ("+62 21 5551234", "+62215551234"),
    ],
)
def test_parse_phone(value, expected):
    assert parse_phone(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "5551234",  # no area code
        "+1 202 555 0143",  # not Indonesian
        "0812-3456-7890 / 0813-1111-2222",  # two numbers
        "0812-3456-7890 (WA)",
        "08123",
        "0812345678901234",
        "+62",
        "0",
        "abc",
        "0812-3456-789O",  # a letter O for zero
        "0112345678",
        8.5,
        -81234567890,
        True,
        D,
    ],
)
def test_parse_phone_bad(value):
    assert _error_of(parse_phone, value).code == "phone-format"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("nama@contoh.id", "nama@contoh.id"),
        ("  nama@contoh.id ", "nama@contoh.id"),
        ("Ketua.KKMP@Contoh.CO.ID", "Ketua.KKMP@contoh.co.id"),
        ("kkmp-kebon.jeruk+1@gmail.com", "kkmp-kebon.jeruk+1@gmail.com"),
        ("o'neil@contoh.id", "o'neil@contoh.id"),
        ("mailto:nama@contoh.id", "nama@contoh.id"),
        ("nama@sub-domain.contoh.go.id", "nama@sub-domain.contoh.go.id"),
    ],
)
def test_parse_email(value, expected):
    assert parse_email(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "nama",
        "nama@",
        "@contoh.id",
        "nama@contoh",
        "nama@@contoh.id",
        "nama @contoh.id",
        "nama@contoh..id",
        "nama.@contoh.id",
        ".nama@contoh.id",
        "nama@-contoh.id",
        "nama@contoh.id.",
        "nama@contoh.i",
        "a@contoh.id, b@contoh.id",
        "a" * 250 + "@contoh.id",
        12345,
        True,
    ],
)
def test_parse_email_bad(value):
    assert _error_of(parse_email, value).code == "email-format"


# --- lat/long, yes/no


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-6.1680, 106.7589", (-6.168, 106.7589)),
        ("-6.1680,106.7589", (-6.168, 106.7589)),
        ("-6.1680 106.7589", (-6.168, 106.7589)),
        ("-6.1680; 106.7589", (-6.168, 106.7589)),
        ("(-6.1680, 106.7589)", (-6.168, 106.7589)),
        ("-6,1680; 106,7589", (-6.168, 106.7589)),
        ("-6,1680;106,7589", (-6.168, 106.7589)),
        ("-6,1680, 106,7589", (-6.168, 106.7589)),
        ("-6,1680 106,7589", (-6.168, 106.7589)),
        ("-6, 106", (-6.0, 106.0)),
        ("3.5952, 98.6722", (3.5952, 98.6722)),
        ("-90, 180", (-90.0, 180.0)),
        ("https://www.google.com/maps/@-6.1680,106.7589,17z", (-6.168, 106.7589)),
        ("https://maps.google.com/?q=-6.1680,106.7589", (-6.168, 106.7589)),
        ("https://www.google.com/maps/place/X/@-6.1680,106.7589,17z/data=x", (-6.168, 106.7589)),
        ("https://www.google.com/maps/search/?api=1&query=-6.1680%2C106.7589", (-6.168, 106.7589)),
        ("6°10'12\"S 106°45'30\"E", (-6.17, 106 + 45 / 60 + 30 / 3600)),
        ("6°10'12\"LS, 106°45'30\"BT", (-6.17, 106 + 45 / 60 + 30 / 3600)),
        ("S 6°10′12″ E 106°45′30″", (-6.17, 106 + 45 / 60 + 30 / 3600)),
        ("106°45'30\"E 6°10'12\"S", (-6.17, 106 + 45 / 60 + 30 / 3600)),  # letters decide
        ("6°10'12,5\"LS 106°45'30\"BT", (-(6 + 10 / 60 + 12.5 / 3600), 106 + 45 / 60 + 0.5 / 60)),
        ("3.5952 N, 98.6722 E", (3.5952, 98.6722)),
        ("106.7589, -6.1680", (-6.168, 106.7589)),  # longitude first: swapped (and flagged)
        ("106,7589 -6,1680", (-6.168, 106.7589)),
    ],
)
def test_parse_latlong(value, expected):
    assert parse_latlong(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "-91, 106",
        "200.5, -6.1680",  # longitude first, but not a longitude
        "6°10'12\"S 106°45'30\"S",  # two latitudes
        "6°61'12\"S 106°45'30\"E",  # 61 minutes
        "-6, 181",
        "-6.1680",
        "-6,1680,106,7589",  # comma decimals with a comma separator: ambiguous
        "-6.1680, 106.7589, 12",
        "Jl. Merdeka 1",
        "https://www.google.com/maps/place/Kantor+Koperasi",
        -6.168,
        True,
    ],
)
def test_parse_latlong_bad(value):
    assert _error_of(parse_latlong, value).code == "latlong-format"


@pytest.mark.parametrize(
    "value", ["https://maps.app.goo.gl/abc123", "maps.app.goo.gl/xyz", "https://goo.gl/maps/abc"]
)
def test_a_short_maps_link_says_to_paste_the_coordinates(value):
    assert _error_of(parse_latlong, value).code == "latlong-short-link"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ya", True),
        ("ya ", True),
        ("YA", True),
        ("Iya", True),
        ("Y", True),
        ("yes", True),
        ("True", True),
        ("1", True),
        (1, True),
        (1.0, True),
        (True, True),
        ("Tidak", False),
        ("tidak", False),
        ("Tdk", False),
        ("T", False),
        ("no", False),
        ("N", False),
        ("FALSE", False),
        ("0", False),
        ("gak", False),
        (0, False),
        (0.0, False),
        (False, False),
    ],
)
def test_parse_yes_no(value, expected):
    assert parse_yes_no(value) is expected


@pytest.mark.parametrize("value", ["mungkin", "Ya/Tidak", "2", 2, 0.5, D, "✓"])
def test_parse_yes_no_bad(value):
    err = _error_of(parse_yes_no, value)
    assert (err.code, err.expected) == ("choice-unknown", "Ya, Tidak")


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize(
    ("x", "decimals", "expected"),
    [
        (1250000, 0, "1.250.000"),
        (1250000.5, 2, "1.250.000,50"),
        (1250, 0, "1.250"),
        (-1250, 0, "-1.250"),
        (-1250000.5, 2, "-1.250.000,50"),
        (0, 0, "0"),
        (999, 0, "999"),
        (1000, 0, "1.000"),
        (12.345, 1, "12,3"),
        (0.4, 0, "0"),
        (-0.4, 0, "0"),  # never "-0"
        (-0.001, 2, "0,00"),
        (1e15, 0, "1.000.000.000.000.000"),
    ],
)
def test_format_number(x, decimals, expected):
    assert format_number(x, decimals) == expected


@pytest.mark.parametrize("x", [float("nan"), float("inf"), -float("inf")])
def test_format_number_refuses_non_finite(x):
    with pytest.raises(ValueError):
        format_number(x)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (1250000, "Rp1.250.000"),
        (1250000.0, "Rp1.250.000"),
        (1250.5, "Rp1.250,50"),
        (1250.05, "Rp1.250,05"),
        (0, "Rp0"),
        (-1250, "-Rp1.250"),
        (1250.004, "Rp1.250"),
    ],
)
def test_format_rupiah(x, expected):
    assert format_rupiah(x) == expected


@pytest.mark.parametrize(
    ("d", "short", "expected"),
    [
        (D, False, "17 Agustus 2025"),
        (D, True, "17 Agu 2025"),
        (date(2025, 1, 1), False, "1 Januari 2025"),
        (date(2025, 2, 5), True, "5 Feb 2025"),
        (date(2025, 5, 5), True, "5 Mei 2025"),
        (date(2025, 10, 5), True, "5 Okt 2025"),
        (date(2025, 12, 31), False, "31 Desember 2025"),
        (datetime(2025, 8, 17, 10), False, "17 Agustus 2025"),
    ],
)
def test_format_date(d, short, expected):
    assert format_date(d, short=short) == expected


@pytest.mark.parametrize(
    ("fraction", "decimals", "expected"),
    [
        (0.857, 1, "85,7%"),
        (1, 1, "100,0%"),
        (0, 1, "0,0%"),
        (0.5, 0, "50%"),
        (0.12345, 2, "12,35%"),
    ],
)
def test_format_percent(fraction, decimals, expected):
    assert format_percent(fraction, decimals) == expected


# --------------------------------------------------------------------------- properties

CELL_VALUES = st.one_of(
    st.none(),
    st.text(),
    # text made of what amounts, dates and identity numbers are made of, to reach deep paths
    st.text(alphabet="0123456789.,-+() /:'RpIDRjutaribkMTEe\u00a0", max_size=30),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)


@pytest.mark.parametrize("parser", PARSERS, ids=lambda f: f.__name__)
@settings(max_examples=300, deadline=None)
@given(value=CELL_VALUES)
@example(value="9" * 5000)
@example(value=10**5000)
@example(value=-(10**5000))
def test_parsers_return_or_raise_format_error_only(parser, value):
    try:
        result = parser(value)
    except FormatError as err:
        assert err.code in CATALOG
        return
    if isinstance(result, float):
        assert math.isfinite(result)
    if isinstance(result, NikCheck):  # a named tuple: before the plain tuples (Titik Lokasi)
        assert all(code in CATALOG for code in result.problems)
        assert result.digits is None or len(result.digits) == 16
    elif isinstance(result, tuple):
        assert all(math.isfinite(x) for x in result)


@settings(max_examples=300)
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_money_round_trip_whole_rupiah(n):
    assert parse_money(format_rupiah(float(n))) == n


@settings(max_examples=300)
@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_money_round_trip_with_cents(cents):
    x = cents / 100
    assert parse_money(format_rupiah(x)) == x


@settings(max_examples=300)
@given(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False, allow_infinity=False))
def test_number_round_trip_two_decimals(x):
    assert parse_number(format_number(x, 2)) == round(x, 2)


@settings(max_examples=300)
@given(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False, allow_infinity=False))
def test_number_round_trip_whole(x):
    assert parse_number(format_number(x)) == round(x)


@settings(max_examples=300)
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)), st.booleans())
def test_date_round_trip(d, short):
    assert parse_date(format_date(d, short=short)) == d


@settings(max_examples=300)
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2119, 1, 11)), st.floats(0, 0.999))
def test_date_serial_round_trip(d, time_of_day):
    serial = (d - date(1899, 12, 30)).days
    assert parse_date(serial) == d
    assert parse_date(serial + time_of_day) == d


@settings(max_examples=300)
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)), st.sampled_from("/-."))
def test_date_numeric_round_trip(d, sep):
    assert parse_date(f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year}") == d
    assert parse_date(f"{d.day}{sep}{d.month}{sep}{d.year}") == d
    assert parse_date(d.isoformat()) == d


KECAMATAN = sorted(
    r.kode.replace(".", "") for city in ("31.73", "36.74") for r in wilayah.children(city)
)


@settings(max_examples=300)
@given(
    kecamatan=st.sampled_from(KECAMATAN),
    born=st.dates(min_value=date(date.today().year - 99, 1, 1), max_value=date.today()),
    woman=st.booleans(),
    serial=st.integers(min_value=1, max_value=9999),
    as_text=st.sampled_from(["{}", "'{}", " {} "]),
)
def test_check_nik_on_valid_niks(kecamatan, born, woman, serial, as_text):
    day = born.day + (40 if woman else 0)
    digits = f"{kecamatan}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"
    result = check_nik(as_text.format(digits))
    assert result == NikCheck(digits, (), born, "P" if woman else "L", kecamatan)


NIK_LIKE = st.one_of(
    CELL_VALUES,
    st.text(alphabet="0123456789", min_size=15, max_size=17),  # some known kecamatan, most not
    st.builds(
        lambda kec, rest: kec + rest,
        st.sampled_from(KECAMATAN),
        st.text(alphabet="0123456789", min_size=10, max_size=10),  # possible birth dates or not
    ),
)


@settings(max_examples=500)
@given(value=NIK_LIKE)
@example(value="3173015708900001")  # a woman's NIK
@example(value="3173019999900001")  # an impossible birth date
@example(value="3299990101900001")  # an unknown kecamatan
@example(value="３１７３０１５７０８９００００１")  # full-width digits: not ASCII
def test_nik_reader_reads_as_check_nik(value):
    """The column reader's short way gives what `check_nik` gives, field by field."""
    assert nik_reader()(value) == check_nik(value)
    assert type(nik_reader()(value)) is type(check_nik(value))


def test_kecamatan_fixture_is_real():
    assert len(KECAMATAN) == 15  # Jakarta Barat 8 + Tangerang Selatan 7
    assert all(wilayah.kecamatan_exists(k) for k in KECAMATAN)


@settings(max_examples=300)
@given(st.integers(min_value=10**12, max_value=10**13 - 1), st.sampled_from(["{}", "{:,}"]))
def test_nib_round_trip(n, shape):
    assert parse_nib(shape.format(n).replace(",", ".")) == str(n)
    assert parse_nib(n) == str(n)


# 084x is not allocated to any operator, so phonenumbers refuses it (the old hand-written
# rule accepted any 08x mobile prefix).
@settings(max_examples=200)
@given(st.from_regex(r"8[1-35-9][0-9]{7,10}", fullmatch=True))
def test_phone_forms_agree(national):
    expected = "+62" + national
    assert parse_phone("0" + national) == expected
    assert parse_phone("+62 " + national) == expected
    assert parse_phone("62" + national) == expected
    assert parse_phone(int(national)) == expected


# How people punctuate a number they type: each gap between digits gets nothing, a space, a
# dash or a dot.
_PHONE_GAPS = st.sampled_from(["", "", " ", "-", "."])


@st.composite
def _typed_phone(draw, national: str) -> str:
    prefix = draw(st.sampled_from(["0", "+62 ", "+62", "62", "0062 ", "+62 (0)", ""]))
    if prefix == "" and not national.startswith("8"):
        prefix = "0"  # only a mobile number loses its 0 in a number cell and stays readable
    gaps = draw(st.lists(_PHONE_GAPS, min_size=len(national) - 1, max_size=len(national) - 1))
    typed = national[0] + "".join(
        gap + digit for gap, digit in zip(gaps, national[1:], strict=True)
    )
    return prefix + typed


_NATIONALS = st.one_of(
    st.from_regex(r"8[1-35-9][0-9]{7,10}", fullmatch=True),  # mobile
    st.from_regex(r"21[2-9][0-9]{6,7}", fullmatch=True),  # Jakarta landline
)


@settings(max_examples=300)
@given(_NATIONALS.flatmap(lambda n: st.tuples(st.just(n), _typed_phone(n))))
def test_phone_any_typing_of_a_number_gives_its_e164(pair):
    national, typed = pair
    assert parse_phone(typed) == "+62" + national


@settings(max_examples=300)
@given(st.text(alphabet="0123456789+-() .abcO/", max_size=22))
def test_phone_reads_or_refuses_with_the_fix(typed):
    try:
        e164 = parse_phone(typed)
    except FormatError as error:
        assert error.code == "phone-format"
        assert "0812-3456-7890" in CATALOG["phone-format"].fix  # the Saran says how to write it
        return
    if e164 is not None:
        assert e164.startswith("+62") and e164[1:].isdigit()
        assert parse_phone(e164) == e164  # E.164 reads as itself


def test_dates_never_read_month_first():
    for day in range(1, 13):
        assert parse_date(f"{day:02d}/01/2025") == date(2025, 1, day)


def test_serial_window_edges():
    assert parse_date(dates._SERIAL_MIN) == date(1950, 1, 1)
    assert parse_date(dates._SERIAL_MAX + 0.5) == date(2119, 1, 11)
    for outside in (dates._SERIAL_MIN - 0.5, dates._SERIAL_MAX + 1, "18263", "80001"):
        with pytest.raises(FormatError):
            parse_date(outside)


@given(
    kecamatan=st.sampled_from(["317301", "317305", "367401"]),
    born=st.dates(min_value=date(1930, 1, 1), max_value=date(2005, 12, 31)),
    female=st.booleans(),
    serial=st.integers(min_value=1, max_value=9999),
)
def test_compose_nik_reads_back(kecamatan, born, female, serial):
    check = check_nik(compose_nik(kecamatan, born, female=female, serial=serial))
    assert check is not None and check.problems == ()
    assert (check.birth_date, check.sex, check.kecamatan) == (
        born,
        "P" if female else "L",
        kecamatan,
    )
