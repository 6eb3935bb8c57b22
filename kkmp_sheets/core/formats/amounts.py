"""Numbers and Rupiah as typed: Indonesian separators, currency, multipliers (see the package docstring)."""

from __future__ import annotations

import math
import re
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

_NUMBER_ERR = _Err("value-unreadable", "angka", "1.250")
_MONEY_ERR = _Err("value-unreadable", "jumlah rupiah", "Rp 1.250.000")


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
