"""The template as an .xlsx (xlsxwriter): local mode, and the screenshots of the staff guide."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.template import (
    PROFIL,
)
from kkmp_sheets.onboarding.workbook_template.design import (
    DATA_ROWS,
    EARLIEST,
    EXTRA_COLUMNS,
    GUIDE_BG,
    GUIDE_TAB,
    GUIDE_WIDTHS,
    LATEST,
    OPTIONAL_BG,
    OPTIONAL_FG,
    PROFIL_WIDTHS,
    REQUIRED_BG,
    REQUIRED_FG,
    Design,
    Look,
    TabDesign,
    TableData,
    cell_value,
    design,
)

_PROTECT_OPTIONS = {
    "objects": False,
    "scenarios": False,
    "format_cells": True,
    "format_columns": True,
    "format_rows": True,
    "insert_columns": True,
    "insert_rows": True,
    "insert_hyperlinks": True,
    "delete_columns": False,
    "delete_rows": True,
    "select_locked_cells": True,
    "sort": True,
    "autofilter": True,
    "pivot_tables": False,
    "select_unlocked_cells": True,
}


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base = {"font_name": "Calibri", "font_size": 11, "valign": "top"}
        self.wb, self.base = wb, base
        header = {**base, "bold": True, "text_wrap": True, "border": 1, "locked": True}
        self.required = wb.add_format(
            {**header, "bg_color": REQUIRED_BG, "font_color": REQUIRED_FG}
        )
        self.optional = wb.add_format(
            {**header, "bg_color": OPTIONAL_BG, "font_color": OPTIONAL_FG}
        )
        self.label = wb.add_format({**base, "bold": True, "locked": True, "border": 1})
        self.hint = wb.add_format({**base, "italic": True, "font_color": "#555555", "locked": True})
        self.free = wb.add_format({**base, "locked": False})
        self._cells: dict[str | None, Any] = {}
        self.title = wb.add_format({**base, "bold": True, "font_size": 15, "font_color": GUIDE_BG})
        self.section = wb.add_format(
            {**base, "bold": True, "font_size": 12, "font_color": "#FFFFFF", "bg_color": GUIDE_BG}
        )
        self.text = wb.add_format({**base, "text_wrap": False})
        self.note = wb.add_format({**base, "italic": True})
        self.guide_header = wb.add_format(
            {**base, "bold": True, "bg_color": OPTIONAL_BG, "border": 1, "text_wrap": True}
        )
        self.example = wb.add_format({**base, "border": 1, "bg_color": "#FFF8E1"})
        self.column = wb.add_format({**base, "border": 1, "text_wrap": True})

    def cell(self, number_format: str | None) -> Any:
        """An unlocked data cell format with this number format."""
        if number_format not in self._cells:
            spec = {**self.base, "locked": False}
            if number_format:
                spec["num_format"] = number_format
            self._cells[number_format] = self.wb.add_format(spec)
        return self._cells[number_format]


def write_xlsx(
    path: Path,
    coop: Coop | None = None,
    *,
    data: TableData | None = None,
    profil: Mapping[str, Any] | None = None,
) -> Path:
    """Write the template for `coop` to `path` (atomically: a temp file, then a rename).

    `data` fills the tabs with records (tests, screenshots); `profil` adds Profil values."""
    made = design(coop, profil=profil)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.xlsx")
    try:
        wb = xlsxwriter.Workbook(
            str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False}
        )
        wb.set_properties({"title": made.title, "created": datetime(2025, 7, 21)})
        fmt = _Formats(wb)
        _guide_sheet(wb.add_worksheet(GUIDE_TAB), made, fmt)
        _profil_sheet(wb.add_worksheet(PROFIL.name), made, fmt)
        for tab in made.tables:
            records = (data or {}).get(tab.name, ())
            _table_sheet(wb.add_worksheet(tab.name), tab, records, fmt)
        wb.worksheets()[1].activate()  # open on Profil; Petunjuk is the first tab
        wb.close()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _input(look_: Look) -> dict[str, Any]:
    return {
        "input_title": look_.column.label[:32],
        "input_message": look_.hint[:255],
    }


def _validation(look_: Look) -> dict[str, Any]:
    """The xlsxwriter data_validation options of a column (always at least its hint)."""
    options: dict[str, Any] = {"validate": "any", **_input(look_)}
    rule = look_.rule
    if rule is None:
        return options
    options["error_title"] = "Isian tidak sesuai"
    options["error_message"] = rule.message[:255]
    options["error_type"] = "stop" if rule.strict else "warning"
    if rule.kind == "list":
        options.update({"validate": "list", "source": list(rule.choices)})
        if not rule.strict:
            options["error_type"] = "information"
    elif rule.kind == "date":
        options.update(
            {
                "validate": "date",
                "criteria": "between",
                "minimum": datetime(EARLIEST.year, EARLIEST.month, EARLIEST.day),
                "maximum": datetime(LATEST.year, LATEST.month, LATEST.day),
            }
        )
    elif rule.kind == "min0":
        options.update({"validate": "decimal", "criteria": ">=", "value": 0})
    elif rule.kind == "length":
        options.update({"validate": "length", "criteria": "==", "value": 16})
    return options


def _print_setup(ws: Worksheet, last_col: int, last_row: int) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.print_area(0, 0, max(last_row, 1), last_col)


def _table_sheet(
    ws: Worksheet, tab: TabDesign, records: Sequence[Mapping[str, Any]], fmt: _Formats
) -> None:
    last = len(tab.looks) - 1
    ws.set_column(last + 1, last + EXTRA_COLUMNS, 14, fmt.free)  # columns staff add stay editable
    for c, lk in enumerate(tab.looks):
        ws.set_column(c, c, lk.width, fmt.cell(lk.excel_format))
        ws.write_string(0, c, lk.column.label, fmt.required if lk.column.required else fmt.optional)
        ws.data_validation(1, c, DATA_ROWS, c, _validation(lk))
    for r, record in enumerate(records, start=1):
        for c, lk in enumerate(tab.looks):
            _write(ws, r, c, cell_value(lk, record.get(lk.column.key)), fmt.cell(lk.excel_format))
    ws.set_row(0, 32)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(records), 1), last)
    ws.protect("", _PROTECT_OPTIONS)
    ws.set_tab_color(REQUIRED_BG)
    _print_setup(ws, last, max(len(records), 12))


def _profil_sheet(ws: Worksheet, made: Design, fmt: _Formats) -> None:
    widths = PROFIL_WIDTHS
    for c, width in enumerate(widths):
        ws.set_column(c, c, width, fmt.free if c == 1 else None)
    ws.set_column(len(widths), len(widths) + EXTRA_COLUMNS - 1, 14, fmt.free)
    ws.write_string(0, 0, "Data", fmt.required)
    ws.write_string(0, 1, "Isi", fmt.required)
    ws.write_string(0, 2, "Cara mengisi", fmt.optional)
    for r, row in enumerate(made.profil, start=1):
        lk = row.look
        ws.write_string(r, 0, lk.column.label, fmt.label)
        cell_fmt = fmt.cell(lk.excel_format)
        _write(ws, r, 1, cell_value(lk, row.value), cell_fmt)
        ws.write_string(r, 2, lk.hint + (" (wajib)" if lk.column.required else ""), fmt.hint)
        ws.data_validation(r, 1, r, 1, _validation(lk))
    ws.set_row(0, 22)
    ws.freeze_panes(1, 1)
    ws.protect("", _PROTECT_OPTIONS)
    ws.set_tab_color(REQUIRED_BG)
    _print_setup(ws, 2, len(made.profil))


def _guide_sheet(ws: Worksheet, made: Design, fmt: _Formats) -> None:
    last = len(GUIDE_WIDTHS) - 1
    for c, width in enumerate(GUIDE_WIDTHS):
        ws.set_column(c, c, width)
    styles = {
        "title": fmt.title,
        "text": fmt.text,
        "note": fmt.note,
        "section": fmt.section,
        "header": fmt.guide_header,
        "example": fmt.example,
        "column": fmt.column,
        "rule": fmt.text,
    }
    for r, (cells, style) in enumerate(zip(made.guide, made.guide_styles, strict=True)):
        if style == "section":
            ws.merge_range(r, 0, r, last, cells[0], fmt.section)
            continue
        if style == "rule":
            ws.write_string(r, 0, f"{cells[0]} {cells[1]}", fmt.text)
            continue
        if style == "column":
            ws.write_string(r, 0, cells[0], fmt.column)
            ws.write_string(r, 1, cells[1], fmt.column)
            ws.merge_range(r, 2, r, last, cells[2], fmt.column)
            continue
        if style == "header" and cells[1:2] == ("Wajib?",):
            ws.write_string(r, 0, cells[0], fmt.guide_header)
            ws.write_string(r, 1, cells[1], fmt.guide_header)
            ws.merge_range(r, 2, r, last, cells[2], fmt.guide_header)
            continue
        for c, text in enumerate(cells):
            ws.write_string(r, c, text, styles.get(style, fmt.text))
    ws.set_row(0, 24)
    ws.hide_gridlines(2)
    ws.set_tab_color(GUIDE_BG)
    ws.protect("", {**_PROTECT_OPTIONS, "insert_rows": False, "delete_rows": False})
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.print_area(0, 0, len(made.guide) - 1, last)


def _write(ws: Worksheet, r: int, c: int, value: Any, cell_fmt: Any) -> None:
    if value is None:
        return
    if isinstance(value, datetime):
        ws.write_datetime(r, c, value, cell_fmt)
    elif isinstance(value, bool):
        ws.write_boolean(r, c, value, cell_fmt)
    elif isinstance(value, int | float):
        ws.write_number(r, c, value, cell_fmt)
    else:
        ws.write_string(r, c, str(value), cell_fmt)
