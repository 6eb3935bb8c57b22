"""Dates as typed, always day first, and spreadsheet serial numbers (see the package docstring)."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from kkmp_sheets.core.formats.text import (
    _BLANK_TEXT,
    _CACHE_SIZE,
    _CACHED_MAX_LEN,
    FormatError,
    _clean,
    _Err,
    _is_nan,
    _is_real,
)

_DATE_ERR = _Err("value-unreadable", "tanggal", "17/08/2025")


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
