"""Reading and writing Indonesian values as cooperative staff type them by hand, on phones.

Every `parse_*` function takes a cell value as a spreadsheet reader hands it over (None, str,
int, float, bool, date, datetime, time), returns None for a blank cell, returns the value read,
or raises `FormatError` carrying an `issue.CATALOG` code. It never raises anything else and never
returns NaN or infinity. Bad data is data: the caller turns a `FormatError` into an `Issue`.

Blank
    None, "", whitespace only (non-breaking and zero-width spaces included), and a lone dash
    "-", "–", "—" (people write a dash for "nothing"). A float NaN (how pandas marks an empty
    cell) and pandas' NaT are blank too.

Numbers and Rupiah (`parse_number`, `parse_money`): Indonesian reading is the rule, `.` groups
thousands and `,` is the decimal mark.
    - Real int/float pass through; bool is not a number (a ticked checkbox is unreadable).
    - "1250000", "1.250.000", "1.250.000,00", "1.250,5": dots group exactly three digits and
      the first group does not start with 0; a comma is the decimal mark. So "1.250" = 1250 and
      "1,250" = 1.25.
    - Dot-decimal exceptions, because people type decimals with a dot on phones: a single dot
      followed by exactly 1 or 2 digits, with no other separator, is a decimal ("12.5" = 12.5,
      "1.5 juta" = 1 500 000, "1250000.0" = 1250000); so is a dot after a lone 0 ("0.125").
      Anything else mixing separators ("1,250,000", "1,250.50", "1250.000", "1.2.3,4,5") is
      unreadable rather than guessed.
    - Currency around the amount: "Rp", "Rp.", "IDR" in front, "rupiah"/"IDR"/"Rp" behind,
      ",-" or ".-" after the amount ("Rp1.250.000,-", "50.000,-" mean "no cents").
    - A multiplier word after the amount: rb/ribu/rebu/k = 10³, jt/juta = 10⁶,
      M/miliar/milyar/miliyar = 10⁹ (Indonesian "M" is miliar, not million), T/triliun/trilyun =
      10¹². "50rb", "1,5 juta", "1,5jt", "2 jt", "3 M". Only one multiplier: "12 ribu 5" and
      "1 juta 500 ribu" are unreadable.
    - Negative: a leading "-" (or the "−" minus sign, or "–"), or parentheses "(50.000)"; the
      caller decides whether a negative is allowed (issue "negative-value"). Accounting zero
      "Rp -" is 0.
    - Spaces inside the digits ("1 250 000") and scientific notation are unreadable.

Dates (`parse_date`): always day first, never the US month-first order.
    - date and datetime objects (a datetime gives its date); a time alone is unreadable.
    - Spreadsheet serial numbers (day 0 = 1899-12-30; a fraction is the time and is ignored),
      as numbers or 5-digit text, accepted between 18264 (1950-01-01) and 80000 (2119-01-11):
      any other number ("2025", "17082025") is unreadable, not a date in 1905.
    - "17/08/2025", "17-08-2025", "17.08.2025", "17/8/25": a 2-digit year 00-69 is 20xx and
      70-99 is 19xx. A time after the date ("17/08/2025 10:00") is ignored.
    - Year first: ISO "2025-08-17", "2025-08-17T10:00:00", and "2025/08/17".
    - Month names, Indonesian or English, full or abbreviated, with common spellings ("Agu",
      "Ags", "Agt", "Pebruari", "Nopember"); see `MONTHS`: "17 Agustus 2025", "17-Agu-2025",
      "17 Agu. 25". A day name in front is allowed and not checked against the date
      ("Senin, 17 Agustus 2025"; 17 August 2025 is in fact a Sunday).
    - An impossible date ("31/02/2025") is unreadable.

Identifiers
    - `parse_int_like_id`: No Anggota, Kode Barang, No Nota, RT: text is kept as typed (stripped,
      a leading apostrophe removed); a number loses its ".0" (a spreadsheet turned "12" into
      12.0). A date or bool in an identifier column is unreadable (the spreadsheet converted what
      was typed and the original cannot be recovered).
    - `check_nik`: NIK of 16 digits, spaces/dots/dashes and a leading apostrophe tolerated;
      returns the problems found rather than raising (see `NikCheck`). A NIK stored as a number
      (or as "3,17301E+15" text) is always flagged: its last digits may be gone. The 2-digit
      birth year is 20yy unless that date is still in the future, then 19yy.
    - NIB 13 digits; NPWP 16 digits, or 15 (the legacy format, flagged `legacy`): spaces, dots
      and dashes between the digits are tolerated, and so are numbers (an NIB stored as a number
      keeps its 13 digits; one that lost a leading 0 is reported, not padded).
    - Kode Wilayah: 10 digits, dotted 2.2.2.4 ("31.73.01.1001") or not dotted at all, spaces
      ignored; the result is always dotted. Whether the code exists is the caller's check.
    - SK AHU "AHU-0012345.AH.01.29.TAHUN 2025", case and spacing free, "TAHUN" optional, the
      year 2000-2099; normalised to that upper-case form with a 7-digit number.
    - Telephone: Indonesian numbers only, returned as E.164 "+62…": "0812-3456-7890",
      "+62 812 3456 7890", "62812…", "812…" (a number cell lost its leading 0), "(021) 5551234".
    - Titik Lokasi "lat, long" with dot decimals as Google Maps copies it ("-6.1680, 106.7589"),
      or comma decimals separated by ";", ", " or a space ("-6,1680; 106,7589"), or a link
      containing "@lat,long"; latitude within ±90, longitude within ±180.
    - Ya/Tidak: Ya, Y, Iya, Yes, True, 1 / Tidak, Tdk, T, No, N, False, 0, Gak; and bool.
      Anything else is a listed value not in the list: "choice-unknown", not "value-unreadable".

Writing (`format_*`) is the reverse, in the Indonesian style: "1.250.000", "1.250.000,50",
"Rp1.250.000", "17 Agustus 2025", "17 Agu 2025", "85,7%".

Performance: this runs on millions of cells. Real ints, floats, dates and plain digit strings
take a fast path; text goes through compiled regexes, and the text readers for amounts and dates
are memoised, because a workbook repeats the same prices and dates on many rows.
"""

from __future__ import annotations

import math
import numbers
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from kkmp_sheets.core import wilayah
from kkmp_sheets.core.template import normalize

__all__ = [
    "MONTHS",
    "FormatError",
    "NikCheck",
    "Npwp",
    "check_nik",
    "compose_nik",
    "format_date",
    "format_number",
    "format_percent",
    "format_rupiah",
    "is_blank",
    "parse_date",
    "parse_email",
    "parse_int_like_id",
    "parse_kode_wilayah",
    "parse_latlong",
    "parse_money",
    "parse_nib",
    "parse_npwp",
    "parse_number",
    "parse_phone",
    "parse_sk_ahu",
    "parse_yes_no",
]


class FormatError(ValueError):
    """A cell value that cannot be read as what its column holds.

    `code` is a key of `issue.CATALOG`; `expected` a short Indonesian noun ("angka", "tanggal");
    `example` a good value to show the user ("Rp 1.250.000"); `detail` any extra fact.
    """

    def __init__(self, code: str, expected: str = "", example: str = "", detail: str = ""):
        # All four in args, so the exception pickles (e.g. across worker processes).
        super().__init__(code, expected, example, detail)
        self.code = code
        self.expected = expected
        self.example = example
        self.detail = detail

    def __str__(self) -> str:
        parts = [self.code]
        if self.expected:
            parts.append(f"bukan {self.expected}")
        if self.example:
            parts.append(f"contoh: {self.example}")
        if self.detail:
            parts.append(self.detail)
        return "; ".join(parts)


@dataclass(frozen=True)
class _Err:
    """What a parser raises when it cannot read a value."""

    code: str
    expected: str
    example: str

    def __call__(self, detail: str = "") -> FormatError:
        return FormatError(self.code, self.expected, self.example, detail)


_NUMBER_ERR = _Err("value-unreadable", "angka", "1.250")
_MONEY_ERR = _Err("value-unreadable", "jumlah rupiah", "Rp 1.250.000")
_DATE_ERR = _Err("value-unreadable", "tanggal", "17/08/2025")
_ID_ERR = _Err("value-unreadable", "nomor atau kode", "A-001")
_YES_NO_ERR = _Err("choice-unknown", "Ya, Tidak", "Ya")
_NIB_ERR = _Err("nib-format", "NIB 13 digit", "9120001234567")
_NPWP_ERR = _Err("npwp-format", "NPWP 16 digit", "0123456789012345")
_SK_AHU_ERR = _Err("sk-ahu-format", "nomor SK AHU", "AHU-0012345.AH.01.29.TAHUN 2025")
_PHONE_ERR = _Err("phone-format", "nomor telepon", "0812-3456-7890")
_EMAIL_ERR = _Err("email-format", "alamat email", "nama@contoh.id")
_KODE_WILAYAH_ERR = _Err("kode-wilayah-format", "kode wilayah 10 digit", "31.73.01.1001")
_LATLONG_ERR = _Err("latlong-format", "titik lokasi (lintang, bujur)", "-6.1680, 106.7589")


# --------------------------------------------------------------------------- text and blanks

# Phones and spreadsheets bring non-ASCII spacing (Excel's currency format uses a non-breaking
# space, autocorrect turns "-" into a dash): map it to plain ASCII before reading.
_UNICODE_TABLE = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u2007": " ",  # figure space
        "\u2009": " ",  # thin space
        "\u200a": " ",  # hair space
        "\u202f": " ",  # narrow no-break space
        "\u3000": " ",  # ideographic space
        "\u200b": None,  # zero-width space
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,  # word joiner
        "\ufeff": None,  # byte-order mark pasted along with text
        "\u2212": "-",  # minus sign
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
    }
)
_BLANK_TEXT = frozenset({"", "-"})

# The text readers for amounts and dates are memoised for cells up to this length: a workbook
# repeats the same prices and dates on many rows. Longer text is read without the cache, so a
# column of huge unique cells cannot make the cache hold megabytes.
_CACHED_MAX_LEN = 40
_CACHE_SIZE = 8192


def _clean(text: str) -> str:
    """`text` with unusual spacing and dashes made ASCII, stripped."""
    if not text.isascii():  # O(1) in CPython: the common case costs nothing
        text = text.translate(_UNICODE_TABLE)
    return text.strip()


def _text_or_none(text: str) -> str | None:
    """Cleaned text, or None when it is blank."""
    text = _clean(text)
    return None if text in _BLANK_TEXT else text


def _is_nan(value: object) -> bool:
    """A float NaN or pandas NaT: how a dataframe marks an empty cell."""
    return isinstance(value, float | date) and value != value


def is_blank(value: object) -> bool:
    """Whether a cell counts as empty: None, "", whitespace, a lone dash, NaN or NaT."""
    if value is None:
        return True
    if isinstance(value, str):
        return _clean(value) in _BLANK_TEXT
    return _is_nan(value)


def _is_digits(text: str) -> bool:
    """Only ASCII digits ("²" and Arabic-Indic digits pass `str.isdigit`, not this)."""
    return text.isascii() and text.isdigit()


def _is_real(value: object) -> bool:
    """A real number that is not a bool (numpy scalars included)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _integral_text(value: object) -> str | None:
    """The digits of a non-negative whole number (12.0 -> "12"), else None."""
    try:
        number = int(value)  # type: ignore[call-overload]
        if number != value or number < 0:
            return None
        return str(number)
    except (ValueError, OverflowError, TypeError):  # inf, NaN, > 4300 digits
        return None


# --------------------------------------------------------------------------- numbers and money

# Currency in front of an amount: "Rp", "Rp.", "IDR".
_CURRENCY_PREFIX = re.compile(r"(?:rp|idr)\.?\s*")
# Excel's accounting format shows zero as "Rp -".
_ACCOUNTING_ZERO = re.compile(r"(?:rp|idr)\.?\s*-+")
_MULTIPLIERS = {
    "rb": 3,
    "ribu": 3,
    "rebu": 3,  # Jakarta slang
    "k": 3,
    "jt": 6,
    "juta": 6,
    "m": 9,  # Indonesian "M" is miliar (10⁹), never million
    "miliar": 9,
    "milyar": 9,
    "miliyar": 9,
    "t": 12,
    "triliun": 12,
    "trilyun": 12,
}
_AMOUNT = re.compile(
    r"(?P<num>[0-9](?:[0-9.,]*[0-9])?)"  # digits and separators, read by _split_number
    r"\s*(?:(?P<mult>triliun|trilyun|miliar|milyar|miliyar|ribu|rebu|juta|rb|jt|k|m|t)\.?)?"
    r"(?:\s*[.,]-+)?"  # "50.000,-": the dash says "no cents"
    r"(?:\s*(?:rupiah|idr|rp)\.?)?"
)
# Indonesian: thousands grouped by dots (the first group not starting with 0), comma decimals.
_INDONESIAN_NUMBER = re.compile(r"([0-9]+|[1-9][0-9]{0,2}(?:\.[0-9]{3})+)(?:,([0-9]+))?")
# Dot decimals typed on phones: one dot and 1-2 digits ("12.5"), or a dot after a lone 0.
_DOT_DECIMAL = re.compile(r"([0-9]+)\.([0-9]{1,2})|(0)\.([0-9]+)")


def _peel_sign(text: str) -> tuple[bool, str]:
    """(negative, rest) for a leading "-"/"+" or surrounding parentheses."""
    first = text[:1]
    if first == "-":
        return True, text[1:].lstrip()
    if first == "+":
        return False, text[1:].lstrip()
    if first == "(" and text.endswith(")"):
        return True, text[1:-1].strip()
    return False, text


def _split_number(num: str) -> tuple[str, str] | None:
    """(integer digits, fraction digits) of a number's text, or None when it is ambiguous."""
    if num.isdigit():
        return num, ""
    match = _INDONESIAN_NUMBER.fullmatch(num)
    if match:
        return match[1].replace(".", ""), match[2] or ""
    match = _DOT_DECIMAL.fullmatch(num)
    if match:
        return (match[1], match[2]) if match[1] is not None else (match[3], match[4])
    return None


def _amount_from_text(text: str) -> float | None:
    """The amount typed in `text`, None when blank; raises a bare FormatError when unreadable."""
    text = _clean(text)
    if text in _BLANK_TEXT:
        return None
    text = text.lower()
    if text[-1] == "-" and _ACCOUNTING_ZERO.fullmatch(text):
        return 0.0
    negative, text = _peel_sign(text)
    prefix = _CURRENCY_PREFIX.match(text)
    if prefix:
        text = text[prefix.end() :]
    negative_inside, text = _peel_sign(text)  # "Rp -50.000", "Rp (50.000)"
    if negative and negative_inside:
        raise FormatError("value-unreadable")
    match = _AMOUNT.fullmatch(text)
    parts = _split_number(match["num"]) if match else None
    if match is None or parts is None:
        raise FormatError("value-unreadable")
    exponent = _MULTIPLIERS[match["mult"]] if match["mult"] else 0
    # Building the decimal text and letting float() round it once keeps "1,1 juta" exactly
    # 1100000.0, where 1.1 * 10**6 would give 1100000.0000000002.
    amount = float(f"{parts[0]}.{parts[1] or '0'}e{exponent}")
    if math.isinf(amount):
        raise FormatError("value-unreadable")
    return -amount if negative or negative_inside else amount


_amount_from_short_text = lru_cache(maxsize=_CACHE_SIZE)(_amount_from_text)


def _read_amount(value: object, err: _Err) -> float | None:
    if type(value) is float:  # fast path: the most common cell
        if math.isfinite(value):
            return value
        if value != value:
            return None
        raise err()
    if type(value) is str:
        # Fast path: plain digits. 15 digits or fewer are exact in a float.
        if len(value) < 16 and value.isdigit() and value.isascii():
            return float(value)
        try:
            if len(value) <= _CACHED_MAX_LEN:
                return _amount_from_short_text(value)
            return _amount_from_text(value)
        except FormatError:
            raise err() from None
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            raise err() from None
    if value is None or _is_nan(value):  # NaN and pandas' NaT mark empty cells
        return None
    if isinstance(value, str):  # a str subclass
        return _read_amount(str(value), err)
    if _is_real(value):  # numpy scalars
        try:
            number = float(value)  # type: ignore[arg-type]
        except (OverflowError, ValueError):
            raise err() from None
        if math.isfinite(number):
            return number
        if number != number:
            return None
    raise err()


def parse_number(value: object) -> float | None:
    """A quantity as typed ("1.250", "12,5", "2 jt"); None when blank. Negatives are returned."""
    return _read_amount(value, _NUMBER_ERR)


def parse_money(value: object) -> float | None:
    """A Rupiah amount as typed ("Rp 1.250.000", "50rb", "1,5 juta"); None when blank."""
    return _read_amount(value, _MONEY_ERR)


# --------------------------------------------------------------------------- dates

MONTHS: dict[str, int] = {
    "januari": 1,
    "january": 1,
    "jan": 1,
    "februari": 2,
    "pebruari": 2,
    "february": 2,
    "feb": 2,
    "peb": 2,
    "maret": 3,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "mei": 5,
    "may": 5,
    "juni": 6,
    "june": 6,
    "jun": 6,
    "juli": 7,
    "july": 7,
    "jul": 7,
    "agustus": 8,
    "august": 8,
    "agus": 8,
    "agst": 8,
    "agu": 8,
    "ags": 8,
    "agt": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "oktober": 10,
    "october": 10,
    "okt": 10,
    "oct": 10,
    "november": 11,
    "nopember": 11,
    "nov": 11,
    "nop": 11,
    "desember": 12,
    "december": 12,
    "des": 12,
    "dec": 12,
}
# fmt: off
_MONTH_NAMES = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)
_MONTH_SHORT = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
_DAY_NAMES = frozenset({
    "senin", "selasa", "rabu", "kamis", "jumat", "jum'at", "sabtu", "minggu", "ahad",
    "sen", "sel", "rab", "kam", "jum", "sab", "min",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
})
# fmt: on

# Serial day 0 of spreadsheets (Excel's 1900 system, also Google Sheets and LibreOffice).
_EPOCH_ORDINAL = date(1899, 12, 30).toordinal()
# Accepted serials: 1950-01-01 .. 2119-01-11. Other numbers in a date column are typing
# mistakes ("2025"), not dates in 1905.
_SERIAL_MIN = 18264
_SERIAL_MAX = 80000

# An optional time after the date, ignored: "10:00", "10.00.00", "T10:00:00+07:00", "10:00 WIB".
_TIME = (
    r"(?:(?:\s+|t)[0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2}(?:[.,][0-9]+)?)?"
    r"\s*(?:am|pm|wib|wita|wit|z|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_DAY_NAME_PREFIX = re.compile(r"([a-z']+)\.?\s*,?\s*(?=[0-9])")
_SERIAL_TEXT = re.compile(r"[0-9]{5}(?:\.[0-9]+)?")
# The separator must be the same twice ("17/08/2025", not "17/08-2025").
_DMY_NUMERIC = re.compile(
    r"([0-9]{1,2})\s*([/.-])\s*([0-9]{1,2})\s*\2\s*([0-9]{4}|[0-9]{2})" + _TIME
)
_YMD_NUMERIC = re.compile(r"([0-9]{4})([/.-])([0-9]{1,2})\2([0-9]{1,2})" + _TIME)
_DMY_TEXT = re.compile(r"([0-9]{1,2})[\s./-]*([a-z]+)\.?[\s.,/-]*([0-9]{4}|[0-9]{2})" + _TIME)


def _full_year(text: str) -> int:
    """The year of "25" (2025), "85" (1985) or "2025"."""
    year = int(text)
    if len(text) == 2:
        return year + (2000 if year < 70 else 1900)
    return year


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:  # 31/02, month 13, year 0
        raise FormatError("value-unreadable") from None


def _date_from_serial(serial: float) -> date:
    if not _SERIAL_MIN <= serial < _SERIAL_MAX + 1:  # NaN fails this too
        raise FormatError("value-unreadable")
    return date.fromordinal(_EPOCH_ORDINAL + int(serial))  # the fraction is the time of day


def _date_from_text(text: str) -> date | None:
    """The date typed in `text`, None when blank; raises a bare FormatError when unreadable."""
    text = _clean(text)
    if text in _BLANK_TEXT:
        return None
    text = text.lower()
    day_name = _DAY_NAME_PREFIX.match(text)
    if day_name:
        if day_name[1] not in _DAY_NAMES:
            raise FormatError("value-unreadable")
        text = text[day_name.end() :]
    if _SERIAL_TEXT.fullmatch(text):
        return _date_from_serial(float(text))
    match = _DMY_NUMERIC.fullmatch(text)
    if match:
        return _make_date(_full_year(match[4]), int(match[3]), int(match[1]))
    match = _YMD_NUMERIC.fullmatch(text)
    if match:
        return _make_date(int(match[1]), int(match[3]), int(match[4]))
    match = _DMY_TEXT.fullmatch(text)
    if match and match[2] in MONTHS:
        return _make_date(_full_year(match[3]), MONTHS[match[2]], int(match[1]))
    raise FormatError("value-unreadable")


_date_from_short_text = lru_cache(maxsize=_CACHE_SIZE)(_date_from_text)


def parse_date(value: object) -> date | None:
    """A date as typed, day first ("17/08/2025", "17 Agu 2025", a serial); None when blank."""
    if type(value) is datetime:  # fast paths first: exact types, the common cells
        return value.date()
    if type(value) is date:
        return value
    try:
        if type(value) is str:
            if len(value) <= _CACHED_MAX_LEN:
                return _date_from_short_text(value)
            return _date_from_text(value)
        if type(value) is float or type(value) is int:
            if value != value:
                return None
            return _date_from_serial(value)
        if value is None:
            return None
        if isinstance(value, date):  # pandas Timestamp / NaT, other subclasses
            if value != value:
                return None
            return value.date() if isinstance(value, datetime) else value
        if isinstance(value, str):
            return _date_from_text(str(value))
        if _is_real(value):
            if _is_nan(value):
                return None
            return _date_from_serial(float(value))  # type: ignore[arg-type]
    except (ValueError, OverflowError):  # a bare FormatError, or float() of an odd number type
        raise _DATE_ERR() from None
    raise _DATE_ERR()  # bool, a time alone, anything else


# --------------------------------------------------------------------------- identifiers


def parse_int_like_id(value: object) -> str | None:
    """An identifier (No Anggota, Kode Barang, No Nota, RT) as text; 12.0 -> "12"; None if blank."""
    if isinstance(value, str):
        text = _text_or_none(value)
        # A leading apostrophe is how people force a spreadsheet to keep text ("'001").
        if text is not None and text[0] == "'":
            text = text[1:].strip() or None
        return text
    if value is None or _is_nan(value):
        return None
    if _is_real(value):
        whole = _integral_text(abs(value))  # type: ignore[arg-type]
        if whole is not None:
            return ("-" if value < 0 else "") + whole  # type: ignore[operator]
        try:
            number = float(value)  # type: ignore[arg-type]
        except (OverflowError, ValueError):
            raise _ID_ERR() from None
        if math.isfinite(number):
            return repr(number)  # a non-whole number: "12.5", as Python writes it
    raise _ID_ERR()


@dataclass(frozen=True)
class NikCheck:
    """What a NIK says, and what is wrong with it.

    `problems` are `issue.CATALOG` codes, in this order: "nik-as-number", "nik-length",
    "nik-birthdate", "nik-region-unknown". `digits` is the 16-digit NIK whenever there are 16
    digits (even with other problems). `birth_date` and `sex` ("L"/"P") are set only when the
    birth date in digits 7-12 is possible, `kecamatan` (6 digits) only when it is a known code.
    """

    digits: str | None
    problems: tuple[str, ...]
    birth_date: date | None
    sex: str | None
    kecamatan: str | None


# Spaces, dots and dashes people put in a NIK to read it ("3173 0117 0890 0001").
_NIK_PUNCTUATION = re.compile(r"[\s.-]+")
# A number that became text in scientific notation ("3,17301E+15"): its last digits are gone.
_SCIENTIFIC_TEXT = re.compile(r"[0-9](?:[.,][0-9]+)?e\+?[0-9]{1,3}", re.IGNORECASE)


def _nik_digits(value: object, problems: list[str]) -> str | None:
    """The digits of a NIK cell (None when it has other characters); adds "nik-as-number"."""
    if isinstance(value, str):
        text = _clean(value).removeprefix("'").strip()
        if len(text) == 16 and _is_digits(text):  # fast path: a NIK typed as it should be
            return text
        if _SCIENTIFIC_TEXT.fullmatch(text):
            problems.append("nik-as-number")
            mantissa, exponent = text.lower().split("e")
            if len(mantissa) - 1 < int(exponent) + 1:
                return None  # "3,17301E+15": only 6 of the 16 digits are left
            return _integral_text(round(float(text.replace(",", "."))))
        digits = _NIK_PUNCTUATION.sub("", text)
        return digits if _is_digits(digits) else None
    if _is_real(value):
        # A NIK stored as a number: a float holds only ~15.9 significant digits, so the last
        # digit may have changed even when we get 16 digits back.
        problems.append("nik-as-number")
        try:
            return _integral_text(round(value))  # type: ignore[call-overload]
        except (ValueError, OverflowError, TypeError):
            return None
    return None  # bool, a date: not a NIK


@lru_cache(maxsize=1)
def _today_in_hour(_hour: int) -> date:
    return date.today()


def _today() -> date:
    """date.today(), asked once an hour: it costs more than the rest of a NIK check. Local
    midnight falls on an hour boundary in every Indonesian time zone (WIB, WITA, WIT)."""
    return _today_in_hour(int(time.time() // 3600))


def _nik_birth_date(day: int, month: int, yy: int) -> date | None:
    """The birth date in a NIK: 20yy unless that is still in the future, then 19yy."""
    today = _today()
    year = 2000 + yy
    if year > today.year or (year == today.year and (month, day) > (today.month, today.day)):
        year -= 100
    try:
        return date(year, month, day)
    except ValueError:  # day 0 or 32-40, month 0 or 13+, 30 February
        return None


def compose_nik(kecamatan: str, born: date, *, female: bool, serial: int) -> str:
    """The NIK those parts make (the reverse of `check_nik`): kecamatan code, DDMMYY with 40
    added to the day for women, a 4-digit serial. For examples and synthetic data only."""
    day = born.day + 40 if female else born.day
    return f"{kecamatan}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def check_nik(
    value: object, kecamatan_exists: Callable[[str], bool] = wilayah.kecamatan_exists
) -> NikCheck | None:
    """Read a NIK and list its problems; None when blank. Never raises for a bad NIK.

    Digits 1-6 are the kecamatan code, 7-8 the day of birth (+40 for women), 9-10 the month,
    11-12 the year, 13-16 a serial number.
    """
    if value is None or is_blank(value):
        return None
    problems: list[str] = []
    digits = _nik_digits(value, problems)
    if digits is None and problems:  # a number whose digits are lost: only that is certain
        return NikCheck(None, tuple(problems), None, None, None)
    if digits is None or len(digits) != 16:
        problems.append("nik-length")
        return NikCheck(None, tuple(problems), None, None, None)
    day, month, yy = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    sex: str | None = "P" if day > 40 else "L"
    birth_date = _nik_birth_date(day - 40 if day > 40 else day, month, yy)
    if birth_date is None:
        problems.append("nik-birthdate")
        sex = None
    kecamatan: str | None = digits[:6]
    if not kecamatan_exists(digits[:6]):
        problems.append("nik-region-unknown")
        kecamatan = None
    # A serial of 0000 is never issued, but issue.CATALOG has no code for it, and the product
    # contract's malformed NIK is length, birth date and kecamatan only: not reported.
    return NikCheck(digits, tuple(problems), birth_date, sex, kecamatan)


def _id_text(value: object, err: _Err) -> str | None:
    """The text of an identity number cell; a whole number as its digits; None when blank."""
    if isinstance(value, str):
        text = _text_or_none(value)
        # A leading apostrophe is how people force a spreadsheet to keep text.
        return None if text is None else text.removeprefix("'").strip() or None
    if value is None or _is_nan(value):
        return None
    if _is_real(value):
        digits = _integral_text(value)
        if digits is not None:
            return digits
    raise err()


# Punctuation people type inside identity numbers: spaces, dots, dashes.
_ID_PUNCTUATION = re.compile(r"[\s.-]+")


def _id_digits(value: object, err: _Err) -> str | None:
    text = _id_text(value, err)
    if text is None:
        return None
    digits = _ID_PUNCTUATION.sub("", text)
    if not _is_digits(digits):
        raise err()
    return digits


def parse_nib(value: object) -> str | None:
    """Nomor Induk Berusaha: 13 digits ("9120001234567"); None when blank."""
    digits = _id_digits(value, _NIB_ERR)
    if digits is not None and len(digits) != 13:
        raise _NIB_ERR(str(len(digits)))
    return digits


@dataclass(frozen=True)
class Npwp:
    digits: str  # 16 digits, or 15 for the legacy format
    legacy: bool  # the 15-digit format (99.999.999.9-999.999), replaced by 16 digits


def parse_npwp(value: object) -> Npwp | None:
    """NPWP: 16 digits, or 15 in the legacy "01.234.567.8-901.000" format; None when blank."""
    digits = _id_digits(value, _NPWP_ERR)
    if digits is None:
        return None
    if len(digits) not in (15, 16):
        raise _NPWP_ERR(str(len(digits)))
    return Npwp(digits, legacy=len(digits) == 15)


_SK_SEP = r"(?:\s*[./]\s*|\s+)"
_SK_AHU = re.compile(
    rf"AHU\s*[-.]?\s*([0-9]{{1,7}}){_SK_SEP}AH{_SK_SEP}([0-9]{{2}}){_SK_SEP}([0-9]{{2}})"
    rf"{_SK_SEP}?(?:TAHUN\s*)?(20[0-9]{{2}})"
)


def parse_sk_ahu(value: object) -> str | None:
    """Nomor SK AHU, normalised to "AHU-0012345.AH.01.29.TAHUN 2025"; None when blank."""
    if value is None or _is_nan(value):
        return None
    if not isinstance(value, str):
        raise _SK_AHU_ERR()
    text = _text_or_none(value)
    if text is None:
        return None
    match = _SK_AHU.fullmatch(text.upper())
    if match is None:
        raise _SK_AHU_ERR()
    number, part1, part2, year = match.groups()
    return f"AHU-{number.zfill(7)}.AH.{part1}.{part2}.TAHUN {year}"


# Punctuation inside a phone number: spaces, dashes, dots, parentheses around the area code.
_PHONE_PUNCTUATION = re.compile(r"[\s().-]+")


def _phone_national(digits: str, plus: bool) -> str | None:
    """The national number (without the trunk 0) of what was typed, or None."""
    if plus:
        international = digits
    elif digits.startswith("00"):  # the international call prefix: 0062…
        international = digits[2:]
    elif digits.startswith("0"):
        return digits[1:]
    elif digits.startswith("8"):  # a number cell dropped the leading 0 of 0812…
        return digits
    else:
        international = digits  # 62812…: the country code without "+"
    if not international.startswith("62"):
        return None  # a foreign number, or a landline without its area code
    # "+62 0812…" and "+62 (0)21…" repeat the trunk 0 by mistake.
    return international[2:].removeprefix("0")


def _phone_ok(national: str) -> bool:
    if national[:1] == "8":  # mobile: 08xx-xxxx-xxx to 08xx-xxxx-xxxxx
        return 9 <= len(national) <= 12
    # landline: a 2-4 digit area code (21 Jakarta, 274 Yogyakarta) and the subscriber number
    return national[:1] in "2345679" and 7 <= len(national) <= 11


def parse_phone(value: object) -> str | None:
    """An Indonesian phone number as E.164 ("+6281234567890"); None when blank."""
    text = _id_text(value, _PHONE_ERR)
    if text is None:
        return None
    text = _PHONE_PUNCTUATION.sub("", text)
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not _is_digits(digits):
        raise _PHONE_ERR()
    national = _phone_national(digits, plus)
    if not national or not _phone_ok(national):
        raise _PHONE_ERR()
    return "+62" + national


_EMAIL_LOCAL_CHARS = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL = re.compile(
    rf"({_EMAIL_LOCAL_CHARS}(?:\.{_EMAIL_LOCAL_CHARS})*)"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)


def parse_email(value: object) -> str | None:
    """An email address ("nama@contoh.id"), the domain lower-cased; None when blank."""
    if value is None or _is_nan(value):
        return None
    if not isinstance(value, str):
        raise _EMAIL_ERR()
    text = _text_or_none(value)
    if text is None:
        return None
    if text[:7].lower() == "mailto:":  # pasted from a link
        text = text[7:]
    match = _EMAIL.fullmatch(text)
    if match is None or len(text) > 254:
        raise _EMAIL_ERR()
    return f"{match[1]}@{match[2].lower()}"


# 10 digits, dotted 2.2.2.4 or not dotted at all (the separator must be the same each time).
_KODE_WILAYAH = re.compile(r"([0-9]{2})(\.?)([0-9]{2})\2([0-9]{2})\2([0-9]{4})")


def parse_kode_wilayah(value: object) -> str | None:
    """A desa/kelurahan code, dotted: "31.73.01.1001". Existence is not checked here."""
    text = _id_text(value, _KODE_WILAYAH_ERR)
    if text is None:
        return None
    match = _KODE_WILAYAH.fullmatch("".join(text.split()))
    if match is None:
        raise _KODE_WILAYAH_ERR()
    return f"{match[1]}.{match[3]}.{match[4]}.{match[5]}"


_COORD_DOT = r"[-+]?[0-9]{1,3}(?:\.[0-9]+)?"
_COORD_COMMA = r"[-+]?[0-9]{1,3}(?:,[0-9]+)?"
# "-6.1680, 106.7589" as Google Maps copies it (also ";" or a space between).
_LATLONG_DOT = re.compile(rf"({_COORD_DOT})\s*(?:[,;]\s*|\s+)({_COORD_DOT})")
# "-6,1680; 106,7589": comma decimals need another separator (";", ", " or a space).
_LATLONG_COMMA = re.compile(rf"({_COORD_COMMA})(?:\s*;\s*|,\s+|\s+)({_COORD_COMMA})")
# A Google Maps link: ".../@-6.1680,106.7589,17z" or "...?q=-6.1680,106.7589".
_LATLONG_IN_LINK = re.compile(r"[@=/](-?[0-9]{1,2}\.[0-9]+),\s*(-?[0-9]{1,3}\.[0-9]+)")


def parse_latlong(value: object) -> tuple[float, float] | None:
    """Titik Lokasi as (latitude, longitude); None when blank."""
    if value is None or _is_nan(value):
        return None
    if not isinstance(value, str):
        raise _LATLONG_ERR()
    text = _text_or_none(value)
    if text is None:
        return None
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    if text.lower().startswith("http"):
        match = _LATLONG_IN_LINK.search(text)
    else:
        match = _LATLONG_DOT.fullmatch(text) or _LATLONG_COMMA.fullmatch(text)
    if match is None:
        raise _LATLONG_ERR()
    lat = float(match[1].replace(",", "."))
    long = float(match[2].replace(",", "."))
    if not (-90 <= lat <= 90 and -180 <= long <= 180):
        raise _LATLONG_ERR()
    return lat, long


_YES = frozenset({"ya", "iya", "y", "yes", "true", "1", "benar"})
_NO = frozenset({"tidak", "tdk", "t", "no", "n", "false", "0", "gak", "ga", "nggak", "enggak"})


def parse_yes_no(value: object) -> bool | None:
    """Ya/Tidak as typed (Ya, Y, Yes, True, 1 / Tidak, T, No, False, 0); None when blank."""
    if isinstance(value, bool):
        return value
    if value is None or _is_nan(value):
        return None
    if isinstance(value, str):
        if is_blank(value):
            return None
        key = normalize(value)  # case, spaces and punctuation ignored, as for listed values
        if key in _YES:
            return True
        if key in _NO:
            return False
    elif _is_real(value) and value in (0, 1):
        return value == 1
    raise _YES_NO_ERR()


# --------------------------------------------------------------------------- writing

_SWAP_SEPARATORS = str.maketrans(",.", ".,")


def format_number(x: float, decimals: int = 0) -> str:
    """1250000 -> "1.250.000"; decimals=2 -> "1.250.000,50"; -1250 -> "-1.250".

    Rounds as Python's round() does (to the nearest, ties to even on the binary value), so
    `parse_number(format_number(x, 2)) == round(x, 2)`. Raises ValueError for NaN/infinity.
    """
    if not math.isfinite(x):
        raise ValueError(f"cannot format {x!r} as a number")
    if decimals < 0:
        raise ValueError("decimals must be >= 0")
    text = f"{x:,.{decimals}f}"
    if text[0] == "-" and not text.strip("-0,."):  # -0.001 rounds to "0", not "-0"
        text = text[1:]
    return text.translate(_SWAP_SEPARATORS)


def format_rupiah(x: float) -> str:
    """Rupiah: "Rp1.250.000"; cents only when there are any: "Rp1.250,50"; "-Rp1.250"."""
    text = format_number(x, 2).removesuffix(",00")
    if text[0] == "-":
        return "-Rp" + text[1:]
    return "Rp" + text


def format_date(d: date, short: bool = False) -> str:
    """A date in words: "17 Agustus 2025", or short "17 Agu 2025"."""
    names = _MONTH_SHORT if short else _MONTH_NAMES
    return f"{d.day} {names[d.month - 1]} {d.year}"


def format_percent(fraction: float, decimals: int = 1) -> str:
    """0.857 -> "85,7%"."""
    return format_number(fraction * 100, decimals) + "%"
