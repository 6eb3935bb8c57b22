"""How the city status workbook looks, decided once for both sinks (`xlsx.py`, `google.py`).

Numbers stay numbers; only their display is Indonesian. Excel and Sheets spell number formats
differently: Excel takes a locale tag in the pattern (`[$Rp-421]#,##0`), Sheets takes the
spreadsheet's locale (the Google sink sets `id_ID`, so `#,##0` shows `1.250.000` and `d mmm yyyy`
shows `17 Agu 2025`). Colours, column fitting and which formats are numbers or dates are shared.
"""

from __future__ import annotations

import math
from functools import lru_cache

from kkmp_sheets.core.tables import ZONE_COLORS, ZONE_SERIES_COLORS, Fmt, wrapped_lines

__all__ = [
    "DATES",
    "HEADER_BG",
    "LINE_HEIGHT",
    "MAX_WIDTH",
    "MIN_WIDTH",
    "NOTE_COLOR",
    "NUMERIC",
    "SHEETS_NUMBER_FORMATS",
    "ZONE_COLORS",
    "ZONE_SERIES_COLORS",
    "fitted",
    "header_width",
    "number_width",
    "signed",
    "wrapped_lines",
]

HEADER_BG = "#D9E2EC"  # header row background
NOTE_COLOR = "#595959"  # the italic note line above a table
MAX_WIDTH = 50  # fitted column width cap, in characters
MIN_WIDTH = 6
LINE_HEIGHT = 15  # points per line of the default 11 pt font: a row's height is lines × this

NUMERIC = frozenset({Fmt.INT, Fmt.NUMBER, Fmt.RUPIAH, Fmt.PERCENT})
DATES = frozenset({Fmt.DATE, Fmt.DATETIME})

# Fmt → (Sheets NumberFormat type, pattern). Text formats are absent: plain text, no pattern.
SHEETS_NUMBER_FORMATS: dict[Fmt, tuple[str, str]] = {
    Fmt.INT: ("NUMBER", "#,##0"),
    Fmt.NUMBER: ("NUMBER", "#,##0.0#"),
    Fmt.RUPIAH: ("CURRENCY", '"Rp"#,##0'),
    Fmt.PERCENT: ("PERCENT", "0.0%"),
    Fmt.DATE: ("DATE", "d mmm yyyy"),
    Fmt.DATETIME: ("DATE_TIME", "d mmm yyyy hh.mm"),
    Fmt.TEXT: ("TEXT", "@"),
}


def signed(pattern: str) -> str:
    """A number format that shows a change with its sign: `+1.250`, `-3`, `0` (the same
    three-section syntax in Excel, LibreOffice and Sheets)."""
    return f"+{pattern};-{pattern};{pattern}"


def header_width(name: str) -> int:
    """Headers wrap, so they need their longest word and about half their length, plus the
    filter button."""
    longest_word = max((len(word) for word in name.split()), default=0)
    return max(longest_word, math.ceil(len(name) / 2)) + 2


@lru_cache(maxsize=1 << 16)  # counts and amounts recur down a column
def number_width(value: int | float, fmt: Fmt) -> int:
    if fmt == Fmt.PERCENT:
        return len(f"{value * 100:.1f}%")
    if fmt == Fmt.NUMBER:
        return len(f"{value:,.2f}")
    if fmt in DATES:
        return 17 if fmt == Fmt.DATETIME else 11  # "17 Agu 2025 08.30"
    return len(f"{value:,.0f}") + (2 if fmt == Fmt.RUPIAH else 0)


def fitted(widest: int) -> int:
    """A column width (characters) for content whose widest shown value is `widest`."""
    return min(max(widest + 2, MIN_WIDTH), MAX_WIDTH)
