"""Reading back a worksheet part that this package wrote, on its own, without opening the workbook.

The tab's part holds only what `sheet_xml` writes: inline strings, numbers, booleans, and dates
as serial numbers under the two date formats that `styles` planned. Reading exactly that needs
neither the shared strings nor any other tab, so checking a new tab, or whether the tab already
holds the rows to be written, costs the tab's own size and not the workbook's.

Anything else (a shared string, a formula, an error, a number under a cell format this package
did not plan, which might show it as a date) makes `read_own_sheet` answer None: "not sure",
and the caller asks python-calamine, which knows every format, or refuses.
"""

from __future__ import annotations

import datetime as dt
import re
from xml.etree import ElementTree as ET

from kkmp_sheets.core.tables import CellValue
from kkmp_sheets.sources.xlsx_patch.ooxml import NS_MAIN
from kkmp_sheets.sources.xlsx_patch.sheet_xml import _EPOCH_1900, _EPOCH_1904
from kkmp_sheets.sources.xlsx_patch.styles import _StyleIds
from kkmp_sheets.sources.xlsx_patch.values import _comparable

_C, _V, _IS, _T, _ROW = (f"{{{NS_MAIN}}}{tag}" for tag in ("c", "v", "is", "t", "row"))
_SHEET_DATA = f"{{{NS_MAIN}}}sheetData"
_REF = re.compile(r"([A-Z]{1,3})([0-9]+)")
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_MS_PER_DAY = 86_400_000


class _NotOurs(Exception):
    """The part holds something `sheet_xml` never writes."""


def read_own_sheet(xml: bytes, styles: _StyleIds, date1904: bool) -> list[list[CellValue]] | None:
    """The part's values in the shape `read_tab` returns, or None when it holds anything this
    package does not write (then only a full reader can say what it shows)."""
    try:
        root = ET.fromstring(xml)
        data = root.find(_SHEET_DATA)
        if data is None:
            return None
        epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
        cells: dict[tuple[int, int], CellValue] = {}
        for row in data:
            if row.tag != _ROW:
                return None
            for cell in row:
                if cell.tag != _C:
                    return None
                cells[_position(cell.get("r", ""))] = _value(cell, styles, epoch)
    except (ET.ParseError, _NotOurs, ValueError, OverflowError):
        return None
    height = max((r for r, _ in cells), default=0)
    width = max((c for _, c in cells), default=0)
    grid: list[list[CellValue]] = [[None] * width for _ in range(height)]
    for (r, c), value in cells.items():
        grid[r - 1][c - 1] = value
    return _comparable(grid)


def _position(ref: str) -> tuple[int, int]:
    found = _REF.fullmatch(ref)
    if found is None:
        raise _NotOurs(ref)  # the writer always gives each cell its reference
    column = 0
    for letter in found[1]:
        column = column * 26 + ord(letter) - 64
    return int(found[2]), column


def _value(cell: ET.Element, styles: _StyleIds, epoch: dt.datetime) -> CellValue:
    kind, style = cell.get("t"), int(cell.get("s", "0"))
    if len(cell) != 1:
        raise _NotOurs("a cell with a formula, or with no value")
    if kind == "inlineStr":
        text = cell.find(_IS)
        if text is None or len(text) != 1 or text[0].tag != _T:
            raise _NotOurs("rich text")
        return _unescape(text[0].text or "")
    number = cell.find(_V)
    if number is None or number.text is None:
        raise _NotOurs("no value")
    if kind == "b":
        if number.text not in ("0", "1"):
            raise _NotOurs("a boolean that is neither 0 nor 1")
        return number.text == "1"
    if kind not in (None, "n"):
        raise _NotOurs(f"a cell of type {kind}")
    serial = float(number.text)
    if style in styles.plain_numbers:
        return int(serial) if serial.is_integer() and abs(serial) < 2**53 else serial
    if style == styles.date and serial.is_integer():
        return (epoch + dt.timedelta(days=int(serial))).date()
    if style == styles.datetime:
        # The writer stores milliseconds at most; a double holds a day serial to ~1 µs.
        return epoch + dt.timedelta(milliseconds=round(serial * _MS_PER_DAY))
    raise _NotOurs(f"a number under cell format {style}")


def _unescape(text: str) -> str:
    """Excel's `_xHHHH_` escapes, as every reader applies them (`_x005F_` is a literal `_`)."""
    if "_x" not in text:
        return text
    return _OOXML_ESCAPE.sub(lambda found: chr(int(found[1], 16)), text)
