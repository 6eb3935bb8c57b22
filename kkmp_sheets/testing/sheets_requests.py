"""``spreadsheets.batchUpdate``: the request kinds, applied to a working copy.

``apply_batch`` first checks that every request names one known kind the fake implements (an
unknown name is a 400 like Google's, a real but unimplemented kind a 501), then applies them in
order to the copy; the caller swaps the copy in only if all succeeded, so a bad request anywhere
leaves the spreadsheet untouched. Errors read ``Invalid requests[i].kind: ...`` as Google's do.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable
from typing import Any

from . import a1
from .api_errors import ApiError, invalid, unimplemented
from .cells import Cell, Content, number_json
from .fake_sheets import Sheet, Spreadsheet
from .fieldmask import apply_update, mask_paths, parse_mask
from .sheets_json import sheet_properties_json

_KNOWN_REQUEST_NAMES = """
updateSpreadsheetProperties updateSheetProperties updateDimensionProperties
updateNamedRange repeatCell addNamedRange deleteNamedRange addSheet deleteSheet autoFill
cutPaste copyPaste mergeCells unmergeCells updateBorders updateCells addFilterView
appendCells clearBasicFilter deleteDimension deleteEmbeddedObject deleteFilterView
duplicateFilterView duplicateSheet findReplace insertDimension insertRange moveDimension
updateEmbeddedObjectPosition pasteData textToColumns updateFilterView deleteRange
appendDimension addConditionalFormatRule updateConditionalFormatRule
deleteConditionalFormatRule sortRange setDataValidation setBasicFilter addProtectedRange
updateProtectedRange deleteProtectedRange autoResizeDimensions addChart updateChartSpec
updateBanding addBanding deleteBanding createDeveloperMetadata updateDeveloperMetadata
deleteDeveloperMetadata randomizeRange addDimensionGroup deleteDimensionGroup
updateDimensionGroup trimWhitespace deleteDuplicates updateEmbeddedObjectBorder addSlicer
updateSlicerSpec addDataSource updateDataSource deleteDataSource refreshDataSource
cancelDataSourceRefresh addTable updateTable deleteTable
"""
KNOWN_REQUESTS = frozenset(_KNOWN_REQUEST_NAMES.split())
_COLOR_KEYS = ("backgroundColor", "foregroundColor", "tabColor", "color")


def _channel(value: Any) -> int | float:
    level = math.floor(float(value) * 255 + 1e-6) / 255
    return number_json(round(level, 8))


def normalize_color(color: Any) -> dict[str, Any]:
    """Colors come back quantized to 8 bits per channel, zero channels left out."""
    if not isinstance(color, dict):
        return {}
    out = {}
    for key in ("red", "green", "blue", "alpha"):
        if color.get(key):
            out[key] = _channel(color[key])
    return out


def normalize_format(fmt: Any) -> dict[str, Any]:
    """Drop nulls, quantize colors and mirror ``xColor`` as ``xColorStyle`` like Google does."""
    if not isinstance(fmt, dict):
        return fmt
    out: dict[str, Any] = {}
    for key, value in fmt.items():
        if value is None:
            continue
        if key in _COLOR_KEYS:
            out[key] = normalize_color(value)
            out.setdefault(f"{key}Style", {"rgbColor": out[key]})
        elif key.endswith("ColorStyle") or key == "colorStyle":
            style = (
                {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else {}
            )
            if "rgbColor" in style:
                style["rgbColor"] = normalize_color(style["rgbColor"])
            if style:
                out[key] = style
        elif isinstance(value, dict):
            out[key] = normalize_format(value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def content_from_extended(value: Any) -> Content:
    if not isinstance(value, dict) or not value:
        return Content()
    if "formulaValue" in value:
        return Content(formula=str(value["formulaValue"]))
    if "numberValue" in value:
        return Content(number_json(float(value["numberValue"])))
    if "boolValue" in value:
        return Content(bool(value["boolValue"]))
    text = value.get("stringValue")
    return Content(str(text)) if text else Content()


class Batch:
    """Context of one ``batchUpdate``: the working copy and error wording."""

    def __init__(self, ss: Spreadsheet, identity: str, rng: random.Random) -> None:
        self.ss = ss
        self.identity = identity
        self.rng = rng
        self.index = 0
        self.kind = ""
        self.title_changed = False

    def fail(self, message: str) -> ApiError:
        return invalid(f"Invalid requests[{self.index}].{self.kind}: {message}")

    def sheet(self, sheet_id: Any) -> Sheet:
        sheet = self.ss.sheet_by_id(int(sheet_id or 0))
        if sheet is None:
            raise self.fail(f"No grid with id: {int(sheet_id or 0)}")
        return sheet

    def grid(self, gr: Any) -> tuple[Sheet, int, int, int, int]:
        gr = gr or {}
        sheet = self.sheet(gr.get("sheetId", 0))
        r0, c0 = int(gr.get("startRowIndex", 0)), int(gr.get("startColumnIndex", 0))
        r1 = gr.get("endRowIndex")
        c1 = gr.get("endColumnIndex")
        if r0 < 0 or c0 < 0 or (r1 is not None and r1 < r0) or (c1 is not None and c1 < c0):
            raise self.fail("Invalid range: start index must not be after the end index.")
        span = a1.Span(r0, None if r1 is None else int(r1), c0, None if c1 is None else int(c1))
        if not span.fits(sheet.rows, sheet.cols) and not (
            (r1 is not None and r1 == r0) or (c1 is not None and c1 == c0)
        ):
            shown = a1.format_open_cells(span.r0, span.r1, span.c0, span.c1)
            raise self.fail(
                f"Range ({a1.quote_sheet_name(sheet.title)}!{shown}) exceeds grid limits. "
                f"Max rows: {sheet.rows}, max columns: {sheet.cols}"
            )
        return (
            sheet,
            r0,
            sheet.rows if r1 is None else int(r1),
            c0,
            sheet.cols if c1 is None else int(c1),
        )

    def dimension(self, dr: Any) -> tuple[Sheet, str, int, int]:
        dr = dr or {}
        sheet = self.sheet(dr.get("sheetId", 0))
        dimension = dr.get("dimension")
        if dimension not in ("ROWS", "COLUMNS"):
            raise self.fail("Invalid dimension: must be ROWS or COLUMNS.")
        size = sheet.rows if dimension == "ROWS" else sheet.cols
        start, end = int(dr.get("startIndex", 0)), int(dr.get("endIndex", size))
        if start < 0 or end < start:
            raise self.fail("Invalid dimension range: start index must not be after the end index.")
        if end > size:
            raise self.fail(
                f"Invalid dimension range: end index {end} is beyond the grid size {size}."
            )
        return sheet, dimension, start, end

    def new_id(self, taken: set[int]) -> int:
        while True:
            candidate = self.rng.randrange(1, 2**31 - 1)
            if candidate not in taken:
                return candidate


Handler = Callable[[Batch, dict[str, Any]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def apply_batch(batch: Batch, requests: Any) -> list[dict[str, Any]]:
    if not isinstance(requests, list) or not requests:
        raise invalid("Must specify at least one request.")
    kinds = []
    for i, request in enumerate(requests):
        if not isinstance(request, dict) or len(request) != 1:
            raise invalid(f"Invalid requests[{i}]: exactly one kind of request must be set.")
        kind = next(iter(request))
        if kind not in KNOWN_REQUESTS:
            raise invalid(
                f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]': "
                "Cannot find field."
            )
        if kind not in HANDLERS:
            raise unimplemented(f"The batchUpdate request {kind!r}")
        kinds.append(kind)
    replies = []
    for i, (kind, request) in enumerate(zip(kinds, requests, strict=True)):
        batch.index, batch.kind = i, kind
        body = request[kind] or {}
        if not isinstance(body, dict):
            raise batch.fail("request body must be an object")
        replies.append(HANDLERS[kind](batch, body))
    return replies


def _fields(batch: Batch, body: dict[str, Any]) -> list[tuple[str, ...]]:
    fields = body.get("fields")
    if not fields:
        raise batch.fail("At least one field must be updated. Specify 'fields' to update.")
    try:
        return mask_paths(parse_mask(fields))
    except ValueError:
        raise batch.fail(f"Invalid field mask: {fields}") from None


# ------------------------------------------------------------------ sheets and spreadsheet


def _next_title(ss: Spreadsheet, stem: str) -> str:
    n = len(ss.sheets) + 1
    while ss.sheet_by_title(f"{stem}{n}"):
        n += 1
    return f"{stem}{n}"


def _check_title(batch: Batch, title: Any, own: Sheet | None = None) -> str:
    if not isinstance(title, str) or not title.strip():
        raise batch.fail("The sheet name cannot be empty.")
    other = batch.ss.sheet_by_title(title)
    if other is not None and other is not own:
        raise batch.fail(
            f'A sheet with the name "{title}" already exists. Please enter another name.'
        )
    return title


def _apply_sheet_props(sheet: Sheet, props: dict[str, Any]) -> None:
    for key in ("hidden", "rightToLeft", "tabColor", "tabColorStyle"):
        if props.get(key) is not None:
            value = normalize_format({key: props[key]})
            sheet.props.update(value)
            if key == "tabColorStyle" and not value.get(key):
                sheet.props.pop(key, None)
    grid = props.get("gridProperties") or {}
    for key, value in grid.items():
        if key not in ("rowCount", "columnCount") and value is not None:
            sheet.props["gridProperties"][key] = value


@handles("addSheet")
def add_sheet(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    taken = {s.sheet_id for s in batch.ss.sheets}
    sheet_id = props.get("sheetId")
    if sheet_id is not None and int(sheet_id) in taken:
        raise batch.fail(f"Sheet with id {sheet_id} already exists.")
    title = _check_title(batch, props.get("title") or _next_title(batch.ss, "Sheet"))
    grid = props.get("gridProperties") or {}
    rows, cols = int(grid.get("rowCount", 1000)), int(grid.get("columnCount", 26))
    if rows < 1 or cols < 1:
        raise batch.fail("The grid must have at least one row and one column.")
    sheet = Sheet.new(
        int(sheet_id) if sheet_id is not None else batch.new_id(taken), title, rows, cols
    )
    _apply_sheet_props(sheet, props)
    if sheet.hidden and all(s.hidden for s in batch.ss.sheets):
        raise batch.fail("You can't hide all the sheets in a document.")
    index = min(int(props.get("index", len(batch.ss.sheets))), len(batch.ss.sheets))
    batch.ss.sheets.insert(index, sheet)
    batch.ss.reindex()
    return {"addSheet": {"properties": sheet_properties_json(sheet)}}


@handles("deleteSheet")
def delete_sheet(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet = batch.sheet(body.get("sheetId", 0))
    if len(batch.ss.sheets) == 1:
        raise batch.fail("You can't remove all the sheets in a document.")
    batch.ss.sheets.remove(sheet)
    batch.ss.named_ranges = [
        n for n in batch.ss.named_ranges if int(n["range"].get("sheetId", 0)) != sheet.sheet_id
    ]
    if all(s.hidden for s in batch.ss.sheets):
        batch.ss.sheets[0].props.pop("hidden", None)
    batch.ss.reindex()
    return {}


@handles("duplicateSheet")
def duplicate_sheet(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    source = batch.sheet(body.get("sourceSheetId", 0))
    taken = {s.sheet_id for s in batch.ss.sheets}
    new_id = body.get("newSheetId")
    if new_id is not None and int(new_id) in taken:
        raise batch.fail(f"Sheet with id {new_id} already exists.")
    title = body.get("newSheetName") or f"Copy of {source.title}"
    dup = source.clone()
    dup.props["sheetId"] = int(new_id) if new_id is not None else batch.new_id(taken)
    dup.props["title"] = _check_title(batch, title)
    dup.protected = []
    index = min(int(body.get("insertSheetIndex", len(batch.ss.sheets))), len(batch.ss.sheets))
    batch.ss.sheets.insert(index, dup)
    batch.ss.reindex()
    return {"duplicateSheet": {"properties": sheet_properties_json(dup)}}


@handles("updateSheetProperties")
def update_sheet_properties(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    props = normalize_format(body.get("properties") or {})
    sheet = batch.sheet(props.get("sheetId", 0))
    paths = _fields(batch, body)
    new = copy.deepcopy(sheet.props)
    apply_update(new, props, paths)
    new["sheetId"] = sheet.sheet_id
    new["sheetType"] = new.get("sheetType") or "GRID"
    grid = new.setdefault("gridProperties", {})
    rows, cols = int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0))
    if rows < 1 or cols < 1:
        raise batch.fail("The grid must have at least one row and one column.")
    if new.get("title") != sheet.title:
        _check_title(batch, new.get("title"), own=sheet)
    if new.get("tabColorStyle") == {}:
        new.pop("tabColorStyle")
    if new.get("hidden") and all(s.hidden for s in batch.ss.sheets if s is not sheet):
        raise batch.fail("You can't hide all the sheets in a document.")
    index = int(new.get("index", sheet.props["index"]))
    sheet.props = new
    sheet.set_grid(rows, cols)
    if index != batch.ss.sheets.index(sheet):
        batch.ss.sheets.remove(sheet)
        batch.ss.sheets.insert(min(max(index, 0), len(batch.ss.sheets)), sheet)
    batch.ss.reindex()
    return {}


@handles("updateSpreadsheetProperties")
def update_spreadsheet_properties(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    paths = _fields(batch, body)
    props = copy.deepcopy(batch.ss.props)
    apply_update(props, body.get("properties") or {}, paths)
    if not props.get("title"):
        raise batch.fail("The spreadsheet title cannot be empty.")
    props.setdefault("locale", "en_US")
    props.setdefault("timeZone", "Etc/GMT")
    props.setdefault("autoRecalc", "ON_CHANGE")
    batch.title_changed = props["title"] != batch.ss.title
    batch.ss.props = props
    return {}


# ------------------------------------------------------------------ cells


def _apply_cell(
    sheet: Sheet, row: int, col: int, data: dict[str, Any], paths: list[tuple[str, ...]]
) -> None:
    cell = sheet.get(row, col)
    content = Content(cell.value, cell.formula, cell.display, cell.kind)
    note, fmt, validation = cell.note, cell.fmt, cell.validation
    for path in paths:
        head = path[0]
        if head in ("*", "userEnteredValue"):
            content = content_from_extended(data.get("userEnteredValue"))
        if head in ("*", "note"):
            note = data.get("note") or None
        if head in ("*", "dataValidation"):
            validation = _drop_nulls(data.get("dataValidation")) or None
        if head in ("*", "userEnteredFormat"):
            source = data.get("userEnteredFormat") or {}
            if len(path) == 1:
                fmt = normalize_format(source) or None
            else:
                merged = copy.deepcopy(dict(fmt or {}))
                apply_update(merged, source, [path[1:]])
                fmt = normalize_format(merged) or None
    new = Cell(content.value, content.formula, content.display, content.kind, note, fmt, validation)
    sheet.put(row, col, new)


@handles("updateCells")
def update_cells(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    rows = body.get("rows") or []
    paths = _fields(batch, body)
    if "range" in body:
        sheet, r0, r1, c0, c1 = batch.grid(body["range"])
        for r in range(r0, r1):
            values = (rows[r - r0].get("values") or []) if r - r0 < len(rows) else []
            for c in range(c0, c1):
                _apply_cell(sheet, r, c, values[c - c0] if c - c0 < len(values) else {}, paths)
        return {}
    start = body.get("start") or {}
    sheet = batch.sheet(start.get("sheetId", 0))
    r0, c0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
    width = max((len(r.get("values") or []) for r in rows), default=0)
    batch.grid(
        sheet.gr(r0, r0 + max(len(rows), 1), c0, c0 + max(width, 1)) | {"sheetId": sheet.sheet_id}
    )
    for i, row_data in enumerate(rows):
        for j, data in enumerate(row_data.get("values") or []):
            _apply_cell(sheet, r0 + i, c0 + j, data or {}, paths)
    return {}


@handles("repeatCell")
def repeat_cell(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet, r0, r1, c0, c1 = batch.grid(body.get("range"))
    paths = _fields(batch, body)
    data = body.get("cell") or {}
    for r in range(r0, r1):
        for c in range(c0, c1):
            _apply_cell(sheet, r, c, data, paths)
    return {}


@handles("updateBorders")
def update_borders(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet, r0, r1, c0, c1 = batch.grid(body.get("range"))
    for r in range(r0, r1):
        for c in range(c0, c1):
            sides = {
                "top": body.get("top") if r == r0 else body.get("innerHorizontal"),
                "bottom": body.get("bottom") if r == r1 - 1 else body.get("innerHorizontal"),
                "left": body.get("left") if c == c0 else body.get("innerVertical"),
                "right": body.get("right") if c == c1 - 1 else body.get("innerVertical"),
            }
            cell = sheet.get(r, c)
            fmt = copy.deepcopy(dict(cell.fmt or {}))
            borders = fmt.setdefault("borders", {})
            for side, border in sides.items():
                if border is None:
                    continue
                if border.get("style") == "NONE":
                    borders.pop(side, None)
                else:
                    borders[side] = normalize_format(border)
            if not borders:
                fmt.pop("borders")
            sheet.put(
                r,
                c,
                Cell(
                    cell.value,
                    cell.formula,
                    cell.display,
                    cell.kind,
                    cell.note,
                    fmt or None,
                    cell.validation,
                ),
            )
    return {}


@handles("setDataValidation")
def set_data_validation(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet, r0, r1, c0, c1 = batch.grid(body.get("range"))
    rule = _drop_nulls(body.get("rule")) or None
    for r in range(r0, r1):
        for c in range(c0, c1):
            cell = sheet.get(r, c)
            sheet.put(
                r,
                c,
                Cell(cell.value, cell.formula, cell.display, cell.kind, cell.note, cell.fmt, rule),
            )
    return {}


@handles("appendCells")
def append_cells(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet = batch.sheet(body.get("sheetId", 0))
    paths = _fields(batch, body)
    rows = body.get("rows") or []
    start = max((r for r, _ in sheet.cells), default=-1) + 1
    width = max((len(r.get("values") or []) for r in rows), default=0)
    grid = sheet.props["gridProperties"]
    grid["rowCount"] = max(sheet.rows, start + len(rows))
    grid["columnCount"] = max(sheet.cols, width)
    for i, row_data in enumerate(rows):
        for j, data in enumerate(row_data.get("values") or []):
            _apply_cell(sheet, start + i, j, data or {}, paths)
    return {}
