"""Cell values: what `write_tab` stores for a Python value, and how a stored tab reads back.

Both halves live together because verification relies on them agreeing: `_normalise_rows` is what
will be written, `_comparable` puts written and read values in one shape, and python-calamine (the
reader the service itself uses) reads tabs back when they are not as this package writes them
(see `sheet_read` for the ones that are). The argument checks hold Excel's limits on tab
names, rows, columns and cell text.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import math
import numbers
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import python_calamine

from kkmp_sheets.core.tables import CellValue
from kkmp_sheets.sources.xlsx_patch.ooxml import PatchError

# Excel's hard limits.
MAX_CELL_CHARS = 32_767  # UTF-16 code units
MAX_ROWS = 1_048_576
MAX_COLS = 16_384
MAX_TITLE_CHARS = 31
# Excel shows and keeps 15 significant digits: a longer integer (a NIK, an account number) would
# silently change, so it is written as text instead.
MAX_EXACT_INT = 10**15


# Excel's 1900 calendar wrongly has 29 Feb 1900; serials are only unambiguous from March 1900.
_FIRST_SERIAL_DATE = dt.date(1900, 3, 1)
_FIRST_SERIAL_DATETIME = dt.datetime(1900, 3, 1)


# --------------------------------------------------------------------------------------------
# What is stored


def _normalise_rows(rows: Sequence[Sequence[CellValue]]) -> list[list[CellValue]]:
    """The values exactly as they will be stored (and read back), row by row."""
    return [[_normalise_value(value) for value in row] for row in rows]


def _normalise_value(value: object) -> CellValue:
    # Subclasses (IntEnum, numpy and pandas scalars, Timestamp) become plain Python values, so
    # that what is written is a number's digits and never some type's repr().
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        number = int(value)
        # Beyond 15 digits Excel would round the number; keep it exact as text.
        return number if abs(number) < MAX_EXACT_INT else str(number)
    if isinstance(value, numbers.Real | decimal.Decimal):
        real = float(value)
        return real if math.isfinite(real) else str(value)
    if isinstance(value, dt.datetime):
        return _normalise_datetime(value)
    if isinstance(value, dt.date):
        day = dt.date(value.year, value.month, value.day)
        return day if day >= _FIRST_SERIAL_DATE else day.isoformat()
    text = _clean_text(value if isinstance(value, str) else str(value))
    return text or None


def _normalise_datetime(value: dt.datetime) -> CellValue:
    # Wall-clock time as given (the service works in WIB): Excel has no time zones, and keeps
    # milliseconds at best.
    try:
        moment = dt.datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond // 1000 * 1000,
        )
    except (TypeError, ValueError):  # e.g. pandas NaT
        return _clean_text(str(value)) or None
    return moment if moment >= _FIRST_SERIAL_DATETIME else moment.isoformat(sep=" ")


# XML 1.0 forbids these code points; lone surrogates cannot even be encoded as UTF-8.
_ILLEGAL_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean_text(text: str) -> str:
    text = _ILLEGAL_XML_CHARS.sub("", text)
    return _cap_length(text)


def _cap_length(text: str) -> str:
    """Cut `text` to Excel's cell limit, counted (as Excel does) in UTF-16 code units."""
    if len(text) <= MAX_CELL_CHARS // 2:  # fast path: cannot exceed even if all astral
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > MAX_CELL_CHARS:
            return text[:index]
    return text


def _comparable(rows: Iterable[Iterable[object]]) -> list[list[CellValue]]:
    """Rows in the shape `read_tab` returns, so written and read values compare equal."""
    result: list[list[CellValue]] = []
    for row in rows:
        cells = [_comparable_value(value) for value in row]
        while cells and cells[-1] is None:
            cells.pop()
        result.append(cells)
    while result and not result[-1]:
        result.pop()
    return result


def _comparable_value(value: object) -> CellValue:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()  # a date cell reads back as a date, whatever its format shows
    if isinstance(value, str | int | float | dt.date):
        return value
    return str(value)


# --------------------------------------------------------------------------------------------
# Arguments


_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _check_title(title: str) -> None:
    if (
        not title
        or len(title) > MAX_TITLE_CHARS
        or _TITLE_FORBIDDEN.search(title)
        or title.startswith("'")
        or title.endswith("'")
        or _ILLEGAL_XML_CHARS.search(title)
    ):
        raise ValueError(f"{title!r} is not a valid Excel tab name")


def _check_layout(
    cells: list[list[CellValue]], header_row: int | None, column_widths: Sequence[float] | None
) -> None:
    if len(cells) > MAX_ROWS or any(len(row) > MAX_COLS for row in cells):
        raise ValueError("too many rows or columns for an Excel sheet")
    if header_row is not None and not 1 <= header_row <= max(len(cells), 1):
        raise ValueError(f"header_row {header_row} is outside the {len(cells)} rows given")
    if column_widths is not None:
        if len(column_widths) > MAX_COLS:
            raise ValueError("too many column widths")
        for width in column_widths:
            if not 0 <= width <= 255:
                raise ValueError(f"column width {width} is outside Excel's 0..255")


# --------------------------------------------------------------------------------------------
# Reading values with python-calamine (`read_tab`, and a tab someone else saved)


@dataclass(frozen=True)
class _Unreadable:
    reason: str


_SheetValues = list[list[CellValue]] | _Unreadable


def _calamine_open(path: Path, blob: bytes) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(blob))
    except Exception as error:  # calamine raises its own, undocumented, hierarchy
        raise PatchError(f"{path}: cannot be read as a workbook ({error})") from None


def _raw_sheet(book: python_calamine.CalamineWorkbook, name: str) -> list[list[Any]] | _Unreadable:
    """A sheet's values as calamine returns them, or why it cannot read them."""
    try:
        return book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as error:  # e.g. a chart sheet, or a part calamine cannot parse
        return _Unreadable(f"{type(error).__name__}: {error}")


def _read_sheet(book: python_calamine.CalamineWorkbook, name: str) -> _SheetValues:
    rows = _raw_sheet(book, name)
    return rows if isinstance(rows, _Unreadable) else _comparable(rows)


def _match_name(names: Iterable[str], title: str) -> str | None:
    wanted = title.casefold()
    return next((name for name in names if name.casefold() == wanted), None)
