"""Cell values to and from the Sheets API, the same way for every reader and writer.

Reading: `values:batchGet` with `UNFORMATTED_VALUE` + `SERIAL_NUMBER` gives numbers as JSON
numbers, dates as serial numbers (days since 1899-12-30; `formats.parse_date` reads them), text
as text, booleans as booleans and formula errors as their text (`#REF!`);
`spreadsheets.get` with grid data gives the same through `effectiveValue`, errors as a type
that `from_effective` turns into the same text. Rows come anchored at A1 (both calls are asked
for whole tabs), so row index 0 is the sheet's row 1, as `parse.RawWorkbook` expects.

Writing: `cell(value)` is the `userEnteredValue` of a `CellData`. Text goes as `stringValue`,
which Sheets stores as it is, never parsed as a formula or a number (what `RAW` means for the
values API); numbers as `numberValue`, dates as serial numbers (with a date format, set by the
caller). Integers of 16+ digits go as text: Sheets, like Excel, keeps 15 significant digits.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from datetime import date, datetime, time
from typing import Any

from kkmp_sheets.core.wib import WIB

EPOCH = datetime(1899, 12, 30)
MAX_TEXT = 50_000  # characters per cell in Google Sheets
MAX_EXACT_INT = 10**15

ERROR_TEXT = {
    "NULL_VALUE": "#NULL!",
    "DIVIDE_BY_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
    "LOADING": "#N/A",
    "ERROR": "#ERROR!",
}


# --- reading --------------------------------------------------------------------------------------


def from_effective(cell: dict[str, Any] | None) -> Any:
    """One `CellData` (`effectiveValue` only) as `values:batchGet` would give it."""
    value = (cell or {}).get("effectiveValue")
    if not value:
        return ""
    if "numberValue" in value:
        return value["numberValue"]
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "errorValue" in value:
        return ERROR_TEXT.get(value["errorValue"].get("type", ""), "#ERROR!")
    return ""


def grid_rows(sheet: dict[str, Any]) -> list[list[Any]]:
    """A sheet's rows from `spreadsheets.get` grid data (no `ranges`: anchored at A1)."""
    data = sheet.get("data") or [{}]
    rows = [
        [from_effective(c) for c in (r.get("values") or [])] for r in data[0].get("rowData") or []
    ]
    return trim(rows)


def trim(rows: list[list[Any]]) -> list[list[Any]]:
    """Without trailing empty cells in each row and trailing empty rows."""
    out = []
    for row in rows:
        end = len(row)
        while end and row[end - 1] in ("", None):
            end -= 1
        out.append(list(row[:end]))
    while out and not out[-1]:
        out.pop()
    return out


def fingerprint(rows: list[list[Any]]) -> str:
    """A hash of rows as they read back from Sheets: equal for what we wrote and what is there."""
    shown = [[_canonical(v) for v in row] for row in rows]
    text = json.dumps(trim(shown), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and value.is_integer() and abs(value) < MAX_EXACT_INT:
            return int(value)
        return value
    return str(value)[:MAX_TEXT]


# --- writing --------------------------------------------------------------------------------------


def serial(value: date) -> float | int:
    """A date or (naive, or WIB) datetime as a spreadsheet serial number."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(WIB).replace(tzinfo=None)
        delta = value - EPOCH
        return delta.days + delta.seconds / 86_400 + delta.microseconds / 86_400_000_000
    return (value - EPOCH.date()).days


def cell(value: Any) -> dict[str, Any]:
    """The `userEnteredValue` for a Python value; `{}` (an empty cell) for None, NaN, ""."""
    if value is None:
        return {}
    if isinstance(value, str):
        text = value[:MAX_TEXT]
        return {"stringValue": text} if text else {}
    if isinstance(value, bool):
        return {"stringValue": "Ya" if value else "Tidak"}
    if isinstance(value, int):
        if abs(value) >= MAX_EXACT_INT:
            return {"stringValue": str(value)}
        return {"numberValue": value}
    if isinstance(value, float):
        return {"numberValue": value} if math.isfinite(value) else {}
    if isinstance(value, date):  # datetime included
        if value != value:  # pandas NaT
            return {}
        return {"numberValue": serial(value)}
    if isinstance(value, time):
        return {"stringValue": value.isoformat()}
    if isinstance(value, numbers.Number) and not isinstance(value, complex):
        number = float(value)  # type: ignore[arg-type]  # numpy scalars, Decimal
        return {"numberValue": number} if math.isfinite(number) else {}
    return {"stringValue": str(value)[:MAX_TEXT]}


def a1_tab(title: str) -> str:
    """A whole tab in A1 notation: `'Kas ''Desa'''`."""
    return "'" + title.replace("'", "''") + "'"


def rgb(hex_color: str) -> dict[str, float]:
    """`#RRGGBB` as a Sheets `Color`."""
    text = hex_color.lstrip("#")
    red, green, blue = (int(text[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return {"red": round(red, 4), "green": round(green, 4), "blue": round(blue, 4)}


def pixels(characters: float) -> int:
    """A column width in characters (Excel's unit) as Sheets pixels."""
    return round(characters * 7 + 5)
