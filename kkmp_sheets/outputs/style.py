"""How the city status workbook looks, decided once for both sinks (`xlsx.py`, `google.py`).

Numbers stay numbers; only their display is Indonesian. Excel and Sheets spell number formats
differently: Excel takes a locale tag in the pattern (`[$Rp-421]#,##0`), Sheets takes the
spreadsheet's locale (the Google sink sets `id_ID`, so `#,##0` shows `1.250.000` and `d mmm yyyy`
shows `17 Agu 2025`). Colours, column fitting and which formats are numbers or dates are shared.
"""

from __future__ import annotations

import math

from kkmp_sheets.core.tables import ZONE_COLORS, ZONE_SERIES_COLORS, Fmt

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


def wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes when wrapped at word boundaries within `width` characters.

    Spreadsheets keep a row at one line unless it is given a height, so a wrapped value would
    spill over the next row or be cut off on paper; its row is made this many lines tall. A
    word longer than the width is broken, as the spreadsheet breaks it.
    """
    width = max(int(width), 1)
    lines = 0
    for paragraph in text.split("\n"):
        used = 0
        lines += 1
        for word in paragraph.split():
            if used and used + 1 + len(word) > width:
                lines += 1
                used = 0
            while len(word) > width:  # broken mid-word, a full line at a time
                word = word[width:]
                lines += 1
            used += (1 if used else 0) + len(word)
    return lines
