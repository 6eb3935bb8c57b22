"""The JSON the Sheets API returns for spreadsheets: ``spreadsheets.get`` metadata, sheet
properties in Google's key order, and grid data (``includeGridData`` or ``fields=sheets.data``)."""

from __future__ import annotations

import copy
from typing import Any

from . import a1
from .cells import Cell, FormulaErr, Scalar, formatted
from .fake_sheets import COL_PX, ROW_PX, Evaluator, Sheet, Spreadsheet, contains

SPREADSHEET_URL = "https://docs.google.com/spreadsheets/d/{}/edit"

DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "foregroundColorStyle": {"rgbColor": {}},
    },
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}


def _theme_color(kind: str, red: float = 0, green: float = 0, blue: float = 0) -> dict[str, Any]:
    rgb = {k: v for k, v in (("red", red), ("green", green), ("blue", blue)) if v}
    return {"colorType": kind, "color": {"rgbColor": rgb}}


SPREADSHEET_THEME: dict[str, Any] = {
    "primaryFontFamily": "Arial",
    "themeColors": [
        _theme_color("TEXT"),
        _theme_color("BACKGROUND", 1, 1, 1),
        _theme_color("ACCENT1", 0.25882354, 0.52156866, 0.95686275),
        _theme_color("ACCENT2", 0.91764706, 0.2627451, 0.20784314),
        _theme_color("ACCENT3", 0.9843137, 0.7372549, 0.015686275),
        _theme_color("ACCENT4", 0.20392157, 0.65882355, 0.3254902),
        _theme_color("ACCENT5", 1, 0.42745098, 0.003921569),
        _theme_color("ACCENT6", 0.27450982, 0.7411765, 0.7764706),
        _theme_color("LINK", 0.06666667, 0.33333334, 0.8),
    ],
}

_GRID_ORDER = (
    "rowCount",
    "columnCount",
    "frozenRowCount",
    "frozenColumnCount",
    "hideGridlines",
    "rowGroupControlAfter",
    "columnGroupControlAfter",
)
_PROP_ORDER = ("sheetId", "title", "index", "sheetType", "gridProperties", "hidden")


def sheet_properties_json(sheet: Sheet) -> dict[str, Any]:
    props = dict(sheet.props)
    grid = {k: v for k, v in props.pop("gridProperties").items() if v or k in _GRID_ORDER[:2]}
    props["gridProperties"] = {k: grid[k] for k in _GRID_ORDER if k in grid} | {
        k: v for k, v in grid.items() if k not in _GRID_ORDER
    }
    props = {k: v for k, v in props.items() if v is not False}
    ordered = {k: props.pop(k) for k in _PROP_ORDER if k in props}
    return ordered | props


def _user_value_json(cell: Cell) -> dict[str, Any]:
    if cell.formula is not None:
        return {"formulaValue": cell.formula}
    return _value_json(cell.value)


def _value_json(value: Scalar | FormulaErr | None) -> dict[str, Any]:
    if isinstance(value, FormulaErr):
        kinds = {"#DIV/0!": "DIVIDE_BY_ZERO", "#NAME?": "NAME", "#REF!": "REF", "#VALUE!": "VALUE"}
        return {"errorValue": {"type": kinds.get(value.code, "ERROR"), "message": value.code}}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": value}
    if value is None:
        return {}
    return {"stringValue": value}


def _json_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars): what `copy.deepcopy` gives,
    several times faster (grid data renders this for every cell)."""
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
    return value


def _merge_format(base: dict[str, Any], over: Any) -> dict[str, Any]:
    out = _json_copy(base)
    for key, value in (over or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_format(out[key], value)
        else:
            out[key] = _json_copy(value)
    return out


def cell_data_json(
    ss: Spreadsheet, sheet: Sheet, row: int, col: int, ev: Evaluator
) -> dict[str, Any]:
    cell = sheet.cells.get((row, col))
    if cell is None:
        return {}
    out: dict[str, Any] = {}
    if cell.has_content:
        effective = ev.value(sheet, row, col)
        out["userEnteredValue"] = _user_value_json(cell)
        out["effectiveValue"] = _value_json(effective)
        out["formattedValue"] = formatted(cell, effective, ss.locale)
    if cell.fmt:
        out["userEnteredFormat"] = _json_copy(dict(cell.fmt))
    if cell.has_content or cell.fmt:
        out["effectiveFormat"] = _merge_format(DEFAULT_FORMAT, cell.fmt)
    if cell.note:
        out["note"] = cell.note
    if cell.validation:
        out["dataValidation"] = copy.deepcopy(dict(cell.validation))
    return out


def _dim_json(sheet: Sheet, dimension: str, index: int) -> dict[str, Any]:
    meta = sheet.dim_meta[dimension].get(index, {})
    out: dict[str, Any] = {
        "pixelSize": meta.get("pixelSize", ROW_PX if dimension == "ROWS" else COL_PX)
    }
    if meta.get("hiddenByUser"):
        out["hiddenByUser"] = True
    return out


def grid_data_json(ss: Spreadsheet, sheet: Sheet, span: a1.Span, ev: Evaluator) -> dict[str, Any]:
    assert span.r1 is not None and span.c1 is not None
    out: dict[str, Any] = {}
    if span.r0:
        out["startRow"] = span.r0
    if span.c0:
        out["startColumn"] = span.c0
    last: dict[int, int] = {}
    for row, col in sheet.cells:
        if contains(span, row, col):
            last[row] = max(last.get(row, -1), col)
    if last:
        out["rowData"] = [
            {"values": [cell_data_json(ss, sheet, r, c, ev) for c in range(span.c0, last[r] + 1)]}
            if r in last
            else {}
            for r in range(span.r0, max(last) + 1)
        ]
    out["rowMetadata"] = [_dim_json(sheet, "ROWS", r) for r in range(span.r0, span.r1)]
    out["columnMetadata"] = [_dim_json(sheet, "COLUMNS", c) for c in range(span.c0, span.c1)]
    return out


def sheet_json(
    ss: Spreadsheet, sheet: Sheet, data: list[a1.Span] | None, ev: Evaluator
) -> dict[str, Any]:
    out: dict[str, Any] = {"properties": sheet_properties_json(sheet)}
    if data is not None:
        out["data"] = [grid_data_json(ss, sheet, span, ev) for span in data]
    if sheet.merges:
        out["merges"] = [sheet.gr(*m) for m in sheet.merges]
    if sheet.conditional:
        out["conditionalFormats"] = copy.deepcopy(sheet.conditional)
    if sheet.protected:
        out["protectedRanges"] = copy.deepcopy(sheet.protected)
    if sheet.basic_filter:
        out["basicFilter"] = copy.deepcopy(sheet.basic_filter)
    if sheet.charts:
        out["charts"] = copy.deepcopy(sheet.charts)
    for dimension, key in (("ROWS", "rowGroups"), ("COLUMNS", "columnGroups")):
        if sheet.groups[dimension]:
            out[key] = copy.deepcopy(sheet.groups[dimension])
    return out


def spreadsheet_json(
    ss: Spreadsheet, *, grid: bool = False, ranges: list[str] | None = None
) -> dict[str, Any]:
    """``spreadsheets.get``: metadata, plus grid data when asked (for ``ranges`` only, if any)."""
    ev = Evaluator(ss)
    props = dict(ss.props)
    props.setdefault("defaultFormat", DEFAULT_FORMAT)
    props.setdefault("spreadsheetTheme", SPREADSHEET_THEME)
    sheets: list[dict[str, Any]]
    if grid and ranges:
        wanted: dict[int, list[a1.Span]] = {}
        for text in ranges:
            sheet, span = ss.bounded(text)
            wanted.setdefault(sheet.sheet_id, []).append(span)
        sheets = [
            sheet_json(ss, s, wanted[s.sheet_id], ev) for s in ss.sheets if s.sheet_id in wanted
        ]
    else:
        for text in ranges or ():
            ss.bounded(text)
        sheets = [
            sheet_json(ss, s, [a1.Span(0, s.rows, 0, s.cols)] if grid else None, ev)
            for s in ss.sheets
        ]
    out: dict[str, Any] = {
        "spreadsheetId": ss.id,
        "properties": copy.deepcopy(props),
        "sheets": sheets,
    }
    if ss.named_ranges:
        out["namedRanges"] = copy.deepcopy(ss.named_ranges)
    out["spreadsheetUrl"] = SPREADSHEET_URL.format(ss.id)
    return out
