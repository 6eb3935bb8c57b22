"""The status workbook's cells: written by type and format, within Excel's limits.

Choices, and why:

- **`write_string` for every text.** `Worksheet.write` guesses: `"=HYPERLINK(...)"` becomes a
  live formula and a URL becomes a link. Cell text comes from cooperatives' own sheets, so a
  formula-looking value must stay inert text. Numbers go through `write_number` and stay numbers
  (filterable, summable); only their display format is Indonesian. Thousands separators follow the
  reader's regional settings in Excel; the `[$-421]` locale tag gives Indonesian month names.
- **Timezones.** Excel has none: aware datetimes are converted to WIB (Asia/Jakarta) and written
  naive, like the rest of the book.
- **Links.** Only a link column (`Fmt.LINK`) holds links, with its text itself visible: an
  http(s) URL links to itself; an absolute path of a local workbook (local mode's Tautan) links
  to that file by a path *relative to the status workbook's folder* (`external:../workbooks/…`),
  so the link still opens when the whole folder is copied or shared under another drive letter
  (Excel and LibreOffice resolve it from the workbook's own place). Excel 2016+ accepts up to
  2,079 characters per URL (older Excel stops at 255) and 65,530 links per sheet; beyond either
  limit, or for a path with `#` (which Excel reads as a cell anchor), the text stays plain text,
  so it is never dropped.
- **Cell limits.** Text over Excel's 32,767 characters is cut (ending in "…"), control characters
  that XML 1.0 forbids are removed, integers of 16+ digits are written as text (Excel keeps only
  15 significant digits), NaN/NaT become blank cells, and `""` is blank too (so COUNTA is right).
"""

from __future__ import annotations

import math
import numbers
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kkmp_sheets.core.tables import Cell, CellValue, Fmt
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.outputs.style import (
    DATES,
    HEADER_BG,
    NOTE_COLOR,
    NUMERIC,
    ZONE_COLORS,
    number_width,
    signed,
)

NUM_FORMATS: dict[Fmt, str] = {
    Fmt.TEXT: "@",
    Fmt.INT: "#,##0",
    Fmt.NUMBER: "#,##0.0#",
    Fmt.RUPIAH: "[$Rp-421]#,##0",
    Fmt.PERCENT: "0.0%",
    Fmt.DATE: "[$-421]d mmm yyyy",
    Fmt.DATETIME: "[$-421]d mmm yyyy hh:mm",
    Fmt.ZONE: "@",
    Fmt.LINK: "@",
}

MAX_TEXT = 32_767  # Excel's cell limit, in UTF-16 code units
MAX_URL = 2_079  # Excel 2016+ per URL (and per #anchor); xlsxwriter's default
MAX_LINKS = 65_530  # Excel's limit per worksheet
MAX_EXACT_INT = 10**15  # Excel stores 15 significant digits; larger integers would be rounded

# XML 1.0 forbids these; lone surrogates would also break the UTF-8 encoding of the file.
_SHORT = 1000  # far below MAX_TEXT
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HTTP_URL = re.compile(r"https?://\S+\Z", re.IGNORECASE)


@dataclass
class Styles:
    by_fmt: dict[Fmt, Any]
    zones: dict[str, Any]  # lower-case zone name -> coloured format
    signed: dict[Fmt, Any]  # a change, shown with its sign (`Cell.signed`)
    wrapped: Any  # long free text, wrapped within its column
    header: Any
    note: Any

    @classmethod
    def create(cls, workbook: Any) -> Styles:
        return cls(
            # Top-aligned: in a row made taller by a wrapped name, every value of the row starts
            # on the same line as the name.
            by_fmt={
                fmt: workbook.add_format({"num_format": nf, "valign": "top"})
                for fmt, nf in NUM_FORMATS.items()
            },
            zones={
                name.lower(): workbook.add_format(
                    {"num_format": "@", "bg_color": color, "pattern": 1, "valign": "top"}
                )
                for name, color in ZONE_COLORS.items()
            },
            signed={
                fmt: workbook.add_format({"num_format": signed(NUM_FORMATS[fmt]), "valign": "top"})
                for fmt in NUMERIC
            },
            wrapped=workbook.add_format({"num_format": "@", "text_wrap": True, "valign": "top"}),
            header=workbook.add_format(
                {
                    "bold": True,
                    "bg_color": HEADER_BG,
                    "pattern": 1,
                    "text_wrap": True,
                    "valign": "top",
                    "bottom": 1,
                }
            ),
            note=workbook.add_format({"italic": True, "font_color": NOTE_COLOR}),
        )


class CellWriter:
    """Writes one worksheet's cells by type and format.

    Each `write` returns the width the shown value needs, for column fitting, and keeps a rough
    count of the XML it produces (for the Zip64 decision) and of hyperlinks (Excel's limit).
    """

    def __init__(self, worksheet: Any, styles: Styles, links_from: Path | None = None) -> None:
        self.worksheet = worksheet
        self.styles = styles
        self.links_from = links_from  # the workbook's folder: file links are relative to it
        self.links = 0
        self.xml_bytes = 0
        # xlsxwriter's undecorated writers: the public ones first check for "A1"-style
        # arguments, once per cell (a province's status workbook has 391,000).
        self._string = worksheet._write_string
        self._number_cell = worksheet._write_number

    def write(
        self, row: int, col: int, value: CellValue | Cell, fmt: Fmt, *, wrap: bool = False
    ) -> int:
        if type(value) is str:  # most cells: straight to the text writer
            self.xml_bytes += 64
            return self._text(row, col, value, fmt, wrap=wrap)
        if isinstance(value, Cell):
            if value.signed and is_number(value.value) and value.fmt in NUMERIC:
                return self._signed(row, col, value.value, value.fmt)
            fmt = value.fmt
            value = value.value
        if value is None:
            return 0
        self.xml_bytes += 64
        if isinstance(value, str):
            return self._text(row, col, value, fmt, wrap=wrap)
        if isinstance(value, bool):  # before int: bool is an int
            return self._text(row, col, "Ya" if value else "Tidak", fmt)
        if isinstance(value, int | float):
            return self._number(row, col, value, fmt)
        if isinstance(value, date):  # datetime included
            return self._date(row, col, value, fmt)
        if isinstance(value, numbers.Number) and not isinstance(value, complex):
            return self._number(row, col, float(value), fmt)  # numpy, Decimal
        return self._text(row, col, str(value), fmt)

    def _text(self, row: int, col: int, text: str, fmt: Fmt, *, wrap: bool = False) -> int:
        text = clean(text)
        if not text:
            return 0
        self.xml_bytes += 6 * len(text)  # UTF-8 and &amp;-style escapes, generously
        target = self._link_target(text) if fmt == Fmt.LINK else None
        if target is not None:
            self.links += 1
            self.worksheet.write_url(row, col, target, None, text)
        elif wrap and fmt == Fmt.TEXT:
            self._string(row, col, text, self.styles.wrapped)
        elif fmt == Fmt.ZONE:
            style = self.styles.zones.get(text.strip().lower(), self.styles.by_fmt[Fmt.TEXT])
            self._string(row, col, text, style)
        else:
            self._string(row, col, text, self.styles.by_fmt[fmt])
        return max(map(len, text.split("\n"))) if "\n" in text else len(text)

    def _link_target(self, text: str) -> str | None:
        """What a link cell showing `text` opens (see "Links" above); None: plain text."""
        if self.links >= MAX_LINKS:
            return None
        if _HTTP_URL.match(text):
            fits = all(_utf16_len(part) <= MAX_URL for part in text.split("#", 1))
            return text if fits else None
        if self.links_from is None or "#" in text or "\n" in text or not os.path.isabs(text):
            return None
        try:
            relative = os.path.relpath(text, self.links_from)
        except ValueError:  # another drive (Windows): only the absolute path reaches it
            relative = text
        return f"external:{relative}" if _utf16_len(relative) <= MAX_URL else None

    def _number(self, row: int, col: int, value: int | float, fmt: Fmt) -> int:
        if isinstance(value, float) and not math.isfinite(value):
            return 0  # NaN from pandas means "no value"; inf has no cell form
        text_column = fmt not in NUMERIC and fmt not in DATES
        if text_column or (isinstance(value, int) and abs(value) >= MAX_EXACT_INT):
            return self._text(row, col, _number_text(value), fmt)
        if fmt in DATES:  # a bare number in a date column is shown as a number
            fmt = Fmt.NUMBER
        self._number_cell(row, col, value, self.styles.by_fmt[fmt])
        return number_width(value, fmt)

    def _signed(self, row: int, col: int, value: Any, fmt: Fmt) -> int:
        if isinstance(value, float) and not math.isfinite(value):
            return 0
        self.xml_bytes += 64
        self._number_cell(row, col, value, self.styles.signed[fmt])
        return number_width(value, fmt) + 1  # the sign

    def _date(self, row: int, col: int, value: date, fmt: Fmt) -> int:
        if value != value:  # pandas NaT
            return 0
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(WIB).replace(tzinfo=None)
        if value.year < 1900:  # before Excel's calendar: keep it visible as text
            return self._text(row, col, value.isoformat(), Fmt.TEXT)
        if fmt not in DATES:
            fmt = Fmt.DATETIME if isinstance(value, datetime) else Fmt.DATE
        self.worksheet.write_datetime(row, col, value, self.styles.by_fmt[fmt])
        return 17 if fmt == Fmt.DATETIME else 11  # "17 Agu 2025 08:30"


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def clean(text: str) -> str:
    """Text XML can hold, within Excel's cell limit."""
    if len(text) < _SHORT and text.isascii() and text.isprintable():
        return text  # most cells: nothing to remove, nothing to cut (and no regex to run)
    if _XML_ILLEGAL.search(text):
        text = _XML_ILLEGAL.sub("", text)
    if len(text) > MAX_TEXT // 2 and _utf16_len(text) > MAX_TEXT:
        # Cut in UTF-16 units like Excel counts; "ignore" drops a split surrogate pair.
        units = text.encode("utf-16-le")[: (MAX_TEXT - 1) * 2]
        text = units.decode("utf-16-le", errors="ignore") + "…"
    return text


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _number_text(value: int | float) -> str:
    """A number for a text column, without a spurious ".0"."""
    if isinstance(value, float) and value.is_integer() and abs(value) < MAX_EXACT_INT:
        return str(int(value))
    return str(value) if isinstance(value, int) else repr(value)
