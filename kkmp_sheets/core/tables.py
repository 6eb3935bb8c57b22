"""The city status workbook as plain data, independent of where it is written.

`report.py` builds a `StatusBook`; a sink (`outputs/xlsx.py` for a local `.xlsx`, the Google sink
for a spreadsheet) writes it. Keeping the shape here means both sinks format numbers, zones and
charts the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache

CellValue = str | int | float | date | datetime | None


class Fmt(StrEnum):
    """How a value is shown. Values stay numbers; only the display is Indonesian."""

    TEXT = "text"  # always stored as text, even when it looks like a number or a formula
    INT = "int"  # 1.250
    NUMBER = "number"  # 1.250,5
    RUPIAH = "rupiah"  # Rp1.250.000
    PERCENT = "percent"  # 85,7%  (value is a fraction: 0.857)
    DATE = "date"  # 17 Agu 2025
    DATETIME = "datetime"  # 17 Agu 2025 08.30 (WIB)
    ZONE = "zone"  # Merah / Kuning / Hijau, coloured
    LINK = "link"  # a URL (clickable) or a local path (text)


# Decimals of a share wherever it is shown as text (the digests, the CLI): the same as the
# sinks' `0.0%` number format, so that a share reads the same in the workbook and in an e-mail.
PERCENT_DECIMALS = 1


@dataclass(frozen=True)
class Cell:
    """A value whose format differs from its column's (e.g. the Nilai column of Ringkasan)."""

    value: CellValue
    fmt: Fmt
    signed: bool = False  # a change: shown with its sign, +3 / -2 (a number format only)


@dataclass(frozen=True)
class Col:
    name: str
    fmt: Fmt = Fmt.TEXT
    width: int | None = None  # in characters; None = fitted to the content
    # Long free text (a name, the reasons of a zone, a problem): wrapped within `width` and the
    # row made tall enough, so that a printed page shows all of it instead of cutting it off at
    # the next cell.
    wrap: bool = False


@dataclass(frozen=True)
class Print:
    """How a sheet goes on paper. Officials print the status workbook for meetings.

    Every sheet prints on A4 landscape, one page wide, its header row repeated on every page and
    `footer` (the city and the data date) with the sheet name and "Halaman x dari y" at the foot.
    `columns` names the columns an official reads on paper, when that is fewer than all: the
    others stay in the table, for filtering and for the readers of the file, but are folded
    away (a column group, opened with its "+") so that what prints is what is on screen.

    The xlsx sink applies it. The Google sink leaves it out (it applies the widths and
    `Col.wrap`): the Sheets API has no page setup to write (paper, fit and footer are chosen in
    the print dialog each time), and hiding columns there would hide them for every viewer.
    """

    footer: str = ""
    columns: tuple[str, ...] = ()  # () = every column


@dataclass
class Sheet:
    name: str
    columns: list[Col]
    rows: list[list[CellValue | Cell]] = field(default_factory=list)
    note: str | None = None  # one line shown above the table (e.g. "Diperbarui ... WIB")
    print_setup: Print = field(default_factory=Print)

    def printed(self, col: Col) -> bool:
        return not self.print_setup.columns or col.name in self.print_setup.columns


class ChartKind(StrEnum):
    STACKED_COLUMN = "stacked_column"
    LINE = "line"


@dataclass(frozen=True)
class Chart:
    """A native chart drawn from columns of one sheet, placed on `place_on` at `anchor`."""

    title: str
    data_sheet: str
    category_col: str
    series_cols: tuple[str, ...]
    kind: ChartKind = ChartKind.STACKED_COLUMN
    place_on: str = "Ringkasan"
    anchor: str = "D2"
    colors: tuple[str, ...] = ()  # hex "#RRGGBB", one per series


@dataclass
class StatusBook:
    sheets: list[Sheet]
    charts: list[Chart] = field(default_factory=list)

    def sheet(self, name: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise KeyError(name)


ZONE_COLORS = {"Merah": "#F4C7C3", "Kuning": "#FCE8B2", "Hijau": "#B7E1CD"}
ZONE_SERIES_COLORS = {"Merah": "#D93025", "Kuning": "#F9AB00", "Hijau": "#1E8E3E"}


# The status workbook asks this of every wrapped cell (a hundred thousand in a province), and
# the same reasons and problem texts recur on many rows.
@lru_cache(maxsize=1 << 16)
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
