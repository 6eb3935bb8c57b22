"""The template as the requests of one Sheets `batchUpdate` (Google mode)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kkmp_sheets.core.a1 import column_letters
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.template import (
    PROFIL,
    TABLES,
)
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.google.cells import cell, rgb
from kkmp_sheets.onboarding.workbook_template.design import (
    DATA_ROWS,
    GUIDE_BG,
    GUIDE_TAB,
    GUIDE_WIDTHS,
    OPTIONAL_BG,
    OPTIONAL_FG,
    PROFIL_WIDTHS,
    REQUIRED_BG,
    REQUIRED_FG,
    Design,
    Look,
    TableData,
    cell_value,
    look,
    profil_values,
)

GUIDE_SHEET_ID = 0  # a new spreadsheet's first tab; renamed to Petunjuk
SHEET_IDS = {PROFIL.name: 1, **{spec.name: i for i, spec in enumerate(TABLES, start=2)}}
LOCALE, TIME_ZONE = "id_ID", WIB.key  # Asia/Jakarta
_PIXELS_PER_CHAR = 7


def _color(hex_color: str) -> dict[str, Any]:
    return {"rgbColor": rgb(hex_color)}


def _gr(sheet_id: int, r0: int, r1: int, c0: int, c1: int) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": r0,
        "endRowIndex": r1,
        "startColumnIndex": c0,
        "endColumnIndex": c1,
    }


def _text_cell(
    value: Any,
    *,
    bold: bool = False,
    italic: bool = False,
    bg: str | None = None,
    fg: str | None = None,
    number_format: dict[str, str] | None = None,
    wrap: bool = False,
    note: str = "",
) -> dict[str, Any]:
    fmt: dict[str, Any] = {"verticalAlignment": "TOP"}
    text: dict[str, Any] = {}
    if bold:
        text["bold"] = True
    if italic:
        text["italic"] = True
    if fg:
        text["foregroundColorStyle"] = _color(fg)
    if text:
        fmt["textFormat"] = text
    if bg:
        fmt["backgroundColorStyle"] = _color(bg)
    if number_format:
        fmt["numberFormat"] = number_format
    if wrap:
        fmt["wrapStrategy"] = "WRAP"
    data: dict[str, Any] = {"userEnteredFormat": fmt}
    entered = cell(value)
    if entered:
        data["userEnteredValue"] = entered
    if note:
        data["note"] = note
    return data


def _update_cells(sheet_id: int, r0: int, rows: list[list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": r0, "columnIndex": 0},
            "rows": [{"values": row} for row in rows],
            "fields": "userEnteredValue,userEnteredFormat,note",
        }
    }


def _header(look_: Look) -> dict[str, Any]:
    required = look_.column.required
    return _text_cell(
        look_.column.label,
        bold=True,
        bg=REQUIRED_BG if required else OPTIONAL_BG,
        fg=REQUIRED_FG if required else OPTIONAL_FG,
        wrap=True,
        note=look_.hint,
    )


def _sheets_rule(look_: Look, formula_cell: str) -> dict[str, Any] | None:
    rule = look_.rule
    if rule is None:
        return None
    if rule.kind == "list":
        condition: dict[str, Any] = {
            "type": "ONE_OF_LIST",
            "values": [{"userEnteredValue": c} for c in rule.choices],
        }
    elif rule.kind == "date":
        condition = {"type": "DATE_IS_VALID"}
    elif rule.kind == "min0":
        condition = {"type": "NUMBER_GREATER_THAN_EQ", "values": [{"userEnteredValue": "0"}]}
    else:
        condition = {
            "type": "CUSTOM_FORMULA",
            "values": [{"userEnteredValue": f"=LEN({formula_cell})=16"}],
        }
    return {
        "condition": condition,
        "inputMessage": look_.hint,
        "strict": rule.strict,
        "showCustomUi": rule.kind == "list",
    }


def _protect(sheet_id: int, r0: int, r1: int, c0: int, c1: int, what: str) -> dict[str, Any]:
    return {
        "addProtectedRange": {
            "protectedRange": {
                "range": _gr(sheet_id, r0, r1, c0, c1),
                "description": what,
                "warningOnly": True,
            }
        }
    }


def _widths(sheet_id: int, widths: Sequence[float]) -> list[dict[str, Any]]:
    return [
        {
            "updateDimensionProperties": {
                "range": {
                    "sheetId": sheet_id,
                    "dimension": "COLUMNS",
                    "startIndex": c,
                    "endIndex": c + 1,
                },
                "properties": {"pixelSize": int(width * _PIXELS_PER_CHAR + 5)},
                "fields": "pixelSize",
            }
        }
        for c, width in enumerate(widths)
    ]


def sheets_requests(made: Design, data: TableData | None = None) -> list[dict[str, Any]]:
    """The whole template as the requests of one `spreadsheets.batchUpdate` on a NEW spreadsheet
    (its first tab, sheetId 0, becomes Petunjuk). Google applies them all or none."""
    requests: list[dict[str, Any]] = [
        {
            "updateSpreadsheetProperties": {
                "properties": {"locale": LOCALE, "timeZone": TIME_ZONE},
                "fields": "locale,timeZone",
            }
        },
        {
            "updateSheetProperties": {
                "properties": {
                    "sheetId": GUIDE_SHEET_ID,
                    "title": GUIDE_TAB,
                    "gridProperties": {"hideGridlines": True},
                    "tabColorStyle": _color(GUIDE_BG),
                },
                "fields": "title,gridProperties.hideGridlines,tabColorStyle",
            }
        },
    ]
    # Profil
    profil_id = SHEET_IDS[PROFIL.name]
    requests.append(_add_sheet(profil_id, PROFIL.name, len(made.profil) + 20, 6, frozen_cols=1))
    rows: list[list[dict[str, Any]]] = [
        [
            _text_cell("Data", bold=True, bg=REQUIRED_BG, fg=REQUIRED_FG),
            _text_cell("Isi", bold=True, bg=REQUIRED_BG, fg=REQUIRED_FG),
            _text_cell("Cara mengisi", bold=True, bg=OPTIONAL_BG),
        ]
    ]
    for row in made.profil:
        lk = row.look
        rows.append(
            [
                _text_cell(lk.column.label, bold=True),
                _text_cell(cell_value(lk, row.value), number_format=lk.sheets_format),
                _text_cell(lk.hint + (" (wajib)" if lk.column.required else ""), italic=True),
            ]
        )
    requests.append(_update_cells(profil_id, 0, rows))
    for r, row in enumerate(made.profil, start=1):
        rule = _sheets_rule(row.look, f"B{r + 1}")
        if rule:
            requests.append(
                {"setDataValidation": {"range": _gr(profil_id, r, r + 1, 1, 2), "rule": rule}}
            )
    requests += _widths(profil_id, PROFIL_WIDTHS)
    requests.append(_protect(profil_id, 0, 1, 0, 3, "Judul: jangan diubah"))
    requests.append(_protect(profil_id, 1, len(made.profil) + 1, 0, 1, "Nama data: jangan diubah"))
    # the tables
    for tab in made.tables:
        sid = SHEET_IDS[tab.name]
        width = len(tab.looks)
        records = (data or {}).get(tab.name, ())
        requests.append(_add_sheet(sid, tab.name, max(DATA_ROWS, len(records)) + 1, width + 4))
        rows = [[_header(lk) for lk in tab.looks]]
        rows += [
            [
                _text_cell(cell_value(lk, rec.get(lk.column.key)), number_format=lk.sheets_format)
                for lk in tab.looks
            ]
            for rec in records
        ]
        requests.append(_update_cells(sid, 0, rows))
        for c, lk in enumerate(tab.looks):
            column = _gr(sid, 1, DATA_ROWS + 1, c, c + 1)
            if lk.sheets_format:
                requests.append(
                    {
                        "repeatCell": {
                            "range": {**column, "startRowIndex": 1 + len(records)},
                            "cell": {"userEnteredFormat": {"numberFormat": lk.sheets_format}},
                            "fields": "userEnteredFormat.numberFormat",
                        }
                    }
                )
            rule = _sheets_rule(lk, f"{column_letters(c)}2")
            if rule:
                requests.append({"setDataValidation": {"range": column, "rule": rule}})
        requests += _widths(sid, [lk.width for lk in tab.looks])
        requests.append(_protect(sid, 0, 1, 0, width, "Judul kolom: jangan diubah"))
        requests.append(
            {"setBasicFilter": {"filter": {"range": _gr(sid, 0, DATA_ROWS + 1, 0, width)}}}
        )
    # Petunjuk last: its rows refer to nothing else
    guide: list[list[dict[str, Any]]] = []
    for cells, style in zip(made.guide, made.guide_styles, strict=True):
        guide.append([_guide_cell(text, style) for text in (cells or ("",))])
    requests.append(_update_cells(GUIDE_SHEET_ID, 0, guide))
    requests += _widths(GUIDE_SHEET_ID, GUIDE_WIDTHS)
    requests.append(_protect(GUIDE_SHEET_ID, 0, len(guide), 0, 10, "Petunjuk: hanya dibaca"))
    return requests


def _add_sheet(sheet_id: int, title: str, rows: int, cols: int, frozen_cols: int = 0) -> dict:
    grid: dict[str, int] = {"rowCount": rows, "columnCount": cols, "frozenRowCount": 1}
    if frozen_cols:
        grid["frozenColumnCount"] = frozen_cols
    return {
        "addSheet": {
            "properties": {
                "sheetId": sheet_id,
                "title": title,
                "index": sheet_id,
                "gridProperties": grid,
                "tabColorStyle": _color(REQUIRED_BG),
            }
        }
    }


def _guide_cell(text: str, style: str) -> dict[str, Any]:
    if style == "title":
        return _text_cell(text, bold=True, fg=GUIDE_BG)
    if style == "section":
        return _text_cell(text, bold=True, bg=GUIDE_BG, fg="#FFFFFF")
    if style == "header":
        return _text_cell(text, bold=True, bg=OPTIONAL_BG)
    if style == "example":
        return _text_cell(text, bg="#FFF8E1")
    if style == "note":
        return _text_cell(text, italic=True)
    return _text_cell(text)


def profil_fill_requests(
    sheet_id: int, value_col: int, rows_by_key: Mapping[str, int], coop: Coop
) -> list[dict[str, Any]]:
    """For a copied template: write the registry's Profil values into their cells
    (`rows_by_key`: field key → 0-based row index of that field in the Profil tab)."""
    requests: list[dict[str, Any]] = []
    for key, value in profil_values(coop).items():
        if key not in rows_by_key:
            continue
        lk = look(PROFIL.name, PROFIL.field(key))
        requests.append(
            {
                "updateCells": {
                    "start": {
                        "sheetId": sheet_id,
                        "rowIndex": rows_by_key[key],
                        "columnIndex": value_col,
                    },
                    "rows": [{"values": [{"userEnteredValue": _entered(lk, value)}]}],
                    "fields": "userEnteredValue",
                }
            }
        )
    return requests


def _entered(look_: Look, value: Any) -> dict[str, Any]:
    return cell(cell_value(look_, value))
