"""Spreadsheet state and the Sheets v4 ``values`` and ``get`` semantics.

A spreadsheet is a list of sheets; a sheet keeps its properties (as Google's JSON), a sparse dict of
cells and the few structures the API returns in metadata (merges, filters, protected ranges...).
Writes go to a ``clone()`` that replaces the original only when the whole request succeeded, which
makes every request atomic; cells are immutable, so a clone costs one dict copy per sheet.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from kkmp_sheets.core.a1 import column_letters

from . import a1
from .api_errors import bad_field, invalid
from .cells import (
    Cell,
    Content,
    FormulaErr,
    Scalar,
    evaluate,
    parse_raw,
    parse_user_entered,
    render,
)

DEFAULT_ROWS, DEFAULT_COLS = 1000, 26
ROW_PX, COL_PX = 21, 100


def grid_range_json(
    sheet_id: int, r0: int | None, r1: int | None, c0: int | None, c1: int | None
) -> dict[str, Any]:
    """A ``GridRange`` as Google prints it: sheetId 0 and open bounds are left out."""
    out: dict[str, Any] = {}
    if sheet_id:
        out["sheetId"] = sheet_id
    for key, value in (
        ("startRowIndex", r0),
        ("endRowIndex", r1),
        ("startColumnIndex", c0),
        ("endColumnIndex", c1),
    ):
        if value is not None:
            out[key] = value
    return out


@dataclass
class Sheet:
    props: dict[str, Any]
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, r1, c0, c1
    basic_filter: dict[str, Any] | None = None
    protected: list[dict[str, Any]] = field(default_factory=list)
    conditional: list[dict[str, Any]] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"ROWS": [], "COLUMNS": []}
    )
    dim_meta: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {"ROWS": {}, "COLUMNS": {}}
    )

    @classmethod
    def new(
        cls, sheet_id: int, title: str, rows: int = DEFAULT_ROWS, cols: int = DEFAULT_COLS
    ) -> Sheet:
        props = {
            "sheetId": sheet_id,
            "title": title,
            "index": 0,
            "sheetType": "GRID",
            "gridProperties": {"rowCount": rows, "columnCount": cols},
        }
        return cls(props)

    def clone(self) -> Sheet:
        dup = copy.copy(self)
        dup.cells = dict(self.cells)
        for name in ("props", "merges", "basic_filter", "protected", "conditional", "charts"):
            setattr(dup, name, copy.deepcopy(getattr(self, name)))
        dup.groups = copy.deepcopy(self.groups)
        dup.dim_meta = copy.deepcopy(self.dim_meta)
        return dup

    @property
    def sheet_id(self) -> int:
        return int(self.props["sheetId"])

    @property
    def title(self) -> str:
        return str(self.props["title"])

    @property
    def rows(self) -> int:
        return int(self.props["gridProperties"]["rowCount"])

    @property
    def cols(self) -> int:
        return int(self.props["gridProperties"]["columnCount"])

    @property
    def hidden(self) -> bool:
        return bool(self.props.get("hidden"))

    def set_grid(self, rows: int, cols: int) -> None:
        """Resize the grid; cells, merges and metadata outside it are dropped."""
        grid = self.props["gridProperties"]
        grid["rowCount"], grid["columnCount"] = rows, cols
        self.cells = {k: v for k, v in self.cells.items() if k[0] < rows and k[1] < cols}
        self.merges = [m for m in self.merges if m[1] <= rows and m[3] <= cols]
        self.dim_meta["ROWS"] = {i: v for i, v in self.dim_meta["ROWS"].items() if i < rows}
        self.dim_meta["COLUMNS"] = {i: v for i, v in self.dim_meta["COLUMNS"].items() if i < cols}

    def put(self, row: int, col: int, cell: Cell) -> None:
        if cell.is_blank:
            self.cells.pop((row, col), None)
        else:
            self.cells[(row, col)] = cell

    def get(self, row: int, col: int) -> Cell:
        return self.cells.get((row, col)) or Cell()

    def gr(self, r0: int | None, r1: int | None, c0: int | None, c1: int | None) -> dict[str, Any]:
        return grid_range_json(self.sheet_id, r0, r1, c0, c1)


@dataclass
class Spreadsheet:
    id: str
    props: dict[str, Any]
    sheets: list[Sheet]
    named_ranges: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def new(
        cls, sid: str, title: str, locale: str = "en_US", time_zone: str = "Etc/GMT"
    ) -> Spreadsheet:
        props = {"title": title, "locale": locale, "autoRecalc": "ON_CHANGE", "timeZone": time_zone}
        return cls(sid, props, [Sheet.new(0, "Sheet1")])

    def clone(self) -> Spreadsheet:
        return Spreadsheet(
            self.id,
            copy.deepcopy(self.props),
            [s.clone() for s in self.sheets],
            copy.deepcopy(self.named_ranges),
        )

    @property
    def title(self) -> str:
        return str(self.props["title"])

    @property
    def locale(self) -> str:
        return str(self.props.get("locale") or "en_US")

    def reindex(self) -> None:
        for i, sheet in enumerate(self.sheets):
            sheet.props["index"] = i

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        return next((s for s in self.sheets if s.sheet_id == sheet_id), None)

    def sheet_by_title(self, title: str) -> Sheet | None:
        folded = title.casefold()
        return next((s for s in self.sheets if s.title.casefold() == folded), None)

    def named_range(self, name: str) -> dict[str, Any] | None:
        folded = name.casefold()
        return next((n for n in self.named_ranges if n["name"].casefold() == folded), None)

    # ------------------------------------------------------------------ ranges

    def resolve(self, text: str) -> tuple[Sheet, a1.Span, str]:
        """Resolve range text to a sheet and an (unbounded) span. Raises 400 like Google."""
        try:
            sheet_name, cells = a1.split_sheet(text.strip())
        except ValueError:
            raise invalid(f"Unable to parse range: {text}") from None
        if sheet_name is not None:
            sheet = self.sheet_by_title(sheet_name)
            if sheet is None:
                raise invalid(f"Unable to parse range: {text}")
            if cells is None:
                return sheet, a1.Span(), ""
            span = a1.parse_cells(cells)
            if span is not None:
                return sheet, span, cells
            named = self.named_range(cells)
            if named is None:
                raise invalid(f"Unable to parse range: {text}")
            return self._named(named)
        assert cells is not None
        span = a1.parse_cells(cells)  # A1 notation wins over a sheet named like a cell ("D3")
        if span is not None and self.sheets:
            return self.sheets[0], span, cells
        sheet = self.sheet_by_title(cells)
        if sheet is not None:
            return sheet, a1.Span(), ""
        named = self.named_range(cells)
        if named is None:
            raise invalid(f"Unable to parse range: {text}")
        return self._named(named)

    def _named(self, named: dict[str, Any]) -> tuple[Sheet, a1.Span, str]:
        rng = named["range"]
        sheet = self.sheet_by_id(int(rng.get("sheetId", 0)))
        if sheet is None:
            raise invalid(f"Unable to parse range: {named['name']}")
        span = a1.Span(
            rng.get("startRowIndex", 0),
            rng.get("endRowIndex"),
            rng.get("startColumnIndex", 0),
            rng.get("endColumnIndex"),
        )
        return sheet, span, a1.format_open_cells(span.r0, span.r1, span.c0, span.c1)

    def bounded(self, text: str, *, prefix: str = "") -> tuple[Sheet, a1.Span]:
        sheet, span, cells = self.resolve(text)
        check_fits(sheet, span, cells, prefix)
        return sheet, span.bounded(sheet.rows, sheet.cols)


def check_fits(sheet: Sheet, span: a1.Span, cells: str, prefix: str = "") -> None:
    if not span.fits(sheet.rows, sheet.cols):
        shown = cells or a1.format_open_cells(span.r0, span.r1, span.c0, span.c1)
        raise invalid(
            f"{prefix}Range ({a1.quote_sheet_name(sheet.title)}!{shown}) exceeds grid limits. "
            f"Max rows: {sheet.rows}, max columns: {sheet.cols}"
        )


# ---------------------------------------------------------------------- formulas


class Evaluator:
    """Effective values of cells during one read (memoised, cycles → ``#REF!``)."""

    MAX_BLOCK = 200_000

    def __init__(self, ss: Spreadsheet) -> None:
        self.ss = ss
        self.memo: dict[tuple[int, int, int], Scalar | FormulaErr | None] = {}
        self.stack: set[tuple[int, int, int]] = set()

    def value(self, sheet: Sheet, row: int, col: int) -> Scalar | FormulaErr | None:
        cell = sheet.cells.get((row, col))
        if cell is None:
            return None
        if cell.formula is None:
            return cell.value
        key = (sheet.sheet_id, row, col)
        if key in self.memo:
            return self.memo[key]
        if key in self.stack:
            return FormulaErr("#REF!")
        self.stack.add(key)
        try:
            result = evaluate(
                cell.formula, lambda name, r0, r1, c0, c1: self._block(sheet, name, r0, r1, c0, c1)
            )
        finally:
            self.stack.discard(key)
        self.memo[key] = result
        return result

    def _block(
        self, home: Sheet, name: str | None, r0: int, r1: int, c0: int, c1: int
    ) -> list[Scalar | FormulaErr | None]:
        target = home if name is None else self.ss.sheet_by_title(name)
        if target is None or (r1 - r0) * (c1 - c0) > self.MAX_BLOCK:
            return [FormulaErr("#REF!")]
        return [self.value(target, r, c) for r in range(r0, r1) for c in range(c0, c1)]


# ---------------------------------------------------------------------- values


def contains(span: a1.Span, row: int, col: int) -> bool:
    assert span.r1 is not None and span.c1 is not None
    return span.r0 <= row < span.r1 and span.c0 <= col < span.c1


def read_values(
    ss: Spreadsheet,
    text: str,
    major: str = "ROWS",
    value_option: str = "FORMATTED_VALUE",
    datetime_option: str = "SERIAL_NUMBER",
    ev: Evaluator | None = None,
) -> dict[str, Any]:
    """A ``ValueRange``: trailing empty cells and rows trimmed, no ``values`` when empty."""
    sheet, span = ss.bounded(text)
    ev = ev or Evaluator(ss)
    found: dict[int, dict[int, Any]] = {}
    for (row, col), cell in sheet.cells.items():
        if not cell.has_content or not contains(span, row, col):
            continue
        shown = render(cell, ev.value(sheet, row, col), value_option, datetime_option, ss.locale)
        if shown == "":
            continue
        i, j = row - span.r0, col - span.c0
        if major == "COLUMNS":
            i, j = j, i
        found.setdefault(i, {})[j] = shown
    result: dict[str, Any] = {"range": a1.format_range(sheet.title, span), "majorDimension": major}
    if found:
        values = []
        for i in range(max(found) + 1):
            line = found.get(i, {})
            values.append([line.get(j, "") for j in range(max(line) + 1)] if line else [])
        result["values"] = values
    return result


def _matrix(values: Any, major: str, where: str) -> list[list[Any]]:
    if not isinstance(values, list):
        raise bad_field(f"{where}.values", values)
    for i, row in enumerate(values):
        if not isinstance(row, list):
            raise bad_field(f"{where}.values[{i}]", row)
        for j, item in enumerate(row):
            if isinstance(item, dict | list):
                kind = "struct_value" if isinstance(item, dict) else "list_value"
                raise invalid(f"Invalid values[{i}][{j}]: {kind}")
    if major != "COLUMNS":
        return values
    height = max((len(col) for col in values), default=0)
    return [[col[i] if i < len(col) else None for col in values] for i in range(height)]


def _parser(input_option: str | None, locale: str) -> Any:
    if input_option == "RAW":
        return parse_raw
    if input_option == "USER_ENTERED":
        return lambda v: parse_user_entered(v, locale)
    if not input_option:
        raise invalid("'valueInputOption' is required but not specified")
    raise invalid(
        f"Invalid value at 'value_input_option' (type.googleapis.com/"
        f'google.apps.sheets.v4.ValueInputOption), "{input_option}"'
    )


def _put_block(
    ss: Spreadsheet, sheet: Sheet, r0: int, c0: int, rows: list[list[Any]], parse: Any
) -> tuple[set[int], set[int], int]:
    touched_rows, touched_cols, count = set(), set(), 0
    for i, row in enumerate(rows):
        for j, item in enumerate(row):
            content = parse(item)
            if content is None:
                continue
            sheet.put(r0 + i, c0 + j, sheet.get(r0 + i, c0 + j).with_content(content))
            touched_rows.add(r0 + i)
            touched_cols.add(c0 + j)
            count += 1
    return touched_rows, touched_cols, count


def _update_response(
    ss: Spreadsheet,
    sheet: Sheet,
    r0: int,
    c0: int,
    rows: list[list[Any]],
    stats: tuple[set[int], set[int], int],
) -> dict[str, Any]:
    height, width = len(rows), max((len(r) for r in rows), default=0)
    span = a1.Span(r0, r0 + max(height, 1), c0, c0 + max(width, 1))
    out: dict[str, Any] = {
        "spreadsheetId": ss.id,
        "updatedRange": a1.format_range(sheet.title, span),
    }
    for key, value in (
        ("updatedRows", len(stats[0])),
        ("updatedColumns", len(stats[1])),
        ("updatedCells", stats[2]),
    ):
        if value:
            out[key] = value
    return out


def write_values(
    ss: Spreadsheet,
    text: str,
    values: Any,
    major: str,
    input_option: str | None,
    *,
    where: str = "data",
    prefix: str = "",
) -> tuple[dict[str, Any], Sheet, tuple[set[int], set[int], int]]:
    """``values.update`` on ``ss`` (a working copy): returns the response, the sheet and stats."""
    rows = _matrix(values, major or "ROWS", where)
    parse = _parser(input_option, ss.locale)
    sheet, span, cells = ss.resolve(text)
    check_fits(sheet, span, cells, prefix)
    anchor = span.single or not cells
    limit_r = sheet.rows if anchor or span.r1 is None else span.r1
    limit_c = sheet.cols if anchor or span.c1 is None else span.c1
    height, width = len(rows), max((len(r) for r in rows), default=0)
    if span.r0 + height > limit_r:
        raise invalid(
            f"{prefix}Requested writing within range [{text}], but tried writing to row "
            f"[{span.r0 + height}]"
        )
    if span.c0 + width > limit_c:
        raise invalid(
            f"{prefix}Requested writing within range [{text}], but tried writing to column "
            f"[{column_letters(span.c0 + width - 1)}]"
        )
    stats = _put_block(ss, sheet, span.r0, span.c0, rows, parse)
    return _update_response(ss, sheet, span.r0, span.c0, rows, stats), sheet, stats


def current_region(sheet: Sheet, row: int, col: int) -> tuple[int, int, int, int]:
    """The block of cells around (row, col) bounded by empty rows and columns, like a "table"
    in ``values.append`` (diagonal neighbours count). Returns r0, r1, c0, c1 (end-exclusive)."""
    filled = sorted(k for k, c in sheet.cells.items() if c.has_content)
    r0, r1, c0, c1 = row, row, col, col
    changed, forward = True, True
    while changed:
        changed = False
        for r, c in filled if forward else reversed(filled):
            if (
                r0 - 1 <= r <= r1 + 1
                and c0 - 1 <= c <= c1 + 1
                and not (r0 <= r <= r1 and c0 <= c <= c1)
            ):
                r0, r1, c0, c1 = min(r0, r), max(r1, r), min(c0, c), max(c1, c)
                changed = True
        forward = not forward
    return r0, r1 + 1, c0, c1 + 1


def insert_rows(sheet: Sheet, at: int, count: int) -> None:
    sheet.cells = {((r + count if r >= at else r), c): v for (r, c), v in sheet.cells.items()}
    sheet.merges = [
        (r0 + count, r1 + count, c0, c1)
        if r0 >= at
        else (r0, r1 + count if r1 > at else r1, c0, c1)
        for r0, r1, c0, c1 in sheet.merges
    ]
    meta = sheet.dim_meta["ROWS"]
    sheet.dim_meta["ROWS"] = {(i + count if i >= at else i): v for i, v in meta.items()}
    sheet.props["gridProperties"]["rowCount"] = sheet.rows + count


def append_values(
    ss: Spreadsheet, text: str, values: Any, major: str, input_option: str | None, insert: str
) -> dict[str, Any]:
    rows = _matrix(values, major or "ROWS", "data")
    parse = _parser(input_option, ss.locale)
    sheet, span = ss.bounded(text)
    inside = [k for k, c in sheet.cells.items() if c.has_content and contains(span, *k)]
    table = current_region(sheet, *max(inside)) if inside else None
    r0, c0 = (table[1], table[2]) if table else (span.r0, span.c0)
    height, width = len(rows), max((len(r) for r in rows), default=0)
    if insert == "INSERT_ROWS" and height:
        insert_rows(sheet, r0, height)
    if r0 + height > sheet.rows or c0 + width > sheet.cols:
        sheet.props["gridProperties"]["rowCount"] = max(sheet.rows, r0 + height)
        sheet.props["gridProperties"]["columnCount"] = max(sheet.cols, c0 + width)
    stats = _put_block(ss, sheet, r0, c0, rows, parse)
    out: dict[str, Any] = {"spreadsheetId": ss.id}
    if table:
        out["tableRange"] = a1.format_range(sheet.title, a1.Span(*table))
    out["updates"] = _update_response(ss, sheet, r0, c0, rows, stats)
    return out


def clear_values(ss: Spreadsheet, text: str, prefix: str = "") -> str:
    sheet, span, cells = ss.resolve(text)
    check_fits(sheet, span, cells, prefix)
    span = span.bounded(sheet.rows, sheet.cols)
    for (row, col), cell in list(sheet.cells.items()):
        if cell.has_content and contains(span, row, col):
            sheet.put(row, col, cell.with_content(Content()))
    return a1.format_range(sheet.title, span)


def plain_rows(
    ss: Spreadsheet, sheet: Sheet, value_option: str = "FORMATTED_VALUE"
) -> list[list[Any]]:
    """The whole sheet as trimmed rows (for exports and ``FakeGoogle.get_values``)."""
    title = a1.quote_sheet_name(sheet.title)
    return list(read_values(ss, title, "ROWS", value_option).get("values", []))
