"""Cell text as the readers see it: blanks, Unicode spacing, and the error they raise."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from datetime import date


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
