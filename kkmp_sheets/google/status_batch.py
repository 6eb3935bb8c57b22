"""The whole city status workbook as the requests of one Sheets `batchUpdate` (atomic).

`GoogleSink` (`sink.py`) sends it; this module only builds it: each tab added with a chosen
sheet id or resized, its cells written RAW with numbers as JSON numbers, formats applied in
runs, widths fitted, filters, frozen rows and charts.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from gspread.utils import a1_to_rowcol

from kkmp_sheets.core.tables import Cell, CellValue, Chart, ChartKind, Fmt, Sheet, StatusBook
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.google.cells import cell, pixels, rgb
from kkmp_sheets.outputs.style import (
    DATES,
    HEADER_BG,
    NOTE_COLOR,
    NUMERIC,
    SHEETS_NUMBER_FORMATS,
    ZONE_COLORS,
    fitted,
    header_width,
    number_width,
    signed,
)

log = logging.getLogger(__name__)

LOCALE, TIME_ZONE = "id_ID", WIB.key  # Indonesian separators and month names; Asia/Jakarta
_FIRST_SHEET_ID = 1000
# How a run of cells is shown: its format, and whether it is a change shown with its sign.
Shown = tuple[Fmt, bool]
POINT_SIZE = 6  # pixels: a line chart's markers, as the xlsx's


def build_requests(
    book: StatusBook, layout: dict[str, Any], old_charts: list[int]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every request of one publish, and the layout it leaves (sheet ids, rule counts)."""
    existing: dict[str, int] = dict(layout.get("sheets") or {})
    rules: dict[str, int] = dict(layout.get("rules") or {})
    taken = set(existing.values())
    out: list[dict[str, Any]] = [
        {
            "updateSpreadsheetProperties": {
                "properties": {"locale": LOCALE, "timeZone": TIME_ZONE},
                "fields": "locale,timeZone",
            }
        }
    ]
    for chart_id in old_charts:
        out.append({"deleteEmbeddedObject": {"objectId": chart_id}})

    placed: dict[str, _Placed] = {}
    charts_on: dict[str, list[Chart]] = {}
    for chart in book.charts:
        charts_on.setdefault(chart.place_on, []).append(chart)
    for index, sheet in enumerate(book.sheets):
        sheet_id = existing.get(sheet.name)
        spot = _Placed(sheet, sheet_id if sheet_id is not None else _free_id(taken))
        taken.add(spot.id)
        for chart in charts_on.get(sheet.name, []):
            row, col = a1_to_rowcol(chart.anchor)  # 1-based: the grid must hold the anchor
            spot.rows = max(spot.rows, row)
            spot.cols = max(spot.cols, col)
        grid = {
            "rowCount": spot.rows,
            "columnCount": spot.cols,
            "frozenRowCount": spot.header_row + 1,
        }
        props = {"sheetId": spot.id, "title": sheet.name, "index": index, "gridProperties": grid}
        if sheet_id is None:
            out.append({"addSheet": {"properties": props}})
        else:
            out.append(
                {
                    "updateSheetProperties": {
                        "properties": {**props, "hidden": False},
                        "fields": "title,index,hidden,gridProperties.rowCount,"
                        "gridProperties.columnCount,gridProperties.frozenRowCount",
                    }
                }
            )
            for _ in range(rules.get(str(sheet_id), 0)):
                out.append({"deleteConditionalFormatRule": {"sheetId": sheet_id, "index": 0}})
        rules[str(spot.id)] = 0
        existing[sheet.name] = spot.id
        placed[sheet.name] = spot
        out.extend(_sheet_requests(spot))
        rules[str(spot.id)] = sum(1 for r in out if _rule_on(r, spot.id))
    for chart in book.charts:
        request = _chart_request(chart, placed)
        if request is not None:
            out.append(request)
    return out, {"sheets": existing, "rules": rules, "charts": []}


class _Placed:
    def __init__(self, sheet: Sheet, sheet_id: int) -> None:
        self.sheet = sheet
        self.id = sheet_id
        self.header_row = 1 if sheet.note else 0
        # One spare row below a table without rows, so that the frozen rows never fill the grid.
        self.rows = self.header_row + 1 + max(len(sheet.rows), 1)
        self.cols = max(len(sheet.columns), 1)

    def range(
        self, row0: int, row1: int | None = None, col0: int = 0, col1: int | None = None
    ) -> dict[str, Any]:
        return {
            "sheetId": self.id,
            "startRowIndex": row0,
            "endRowIndex": self.rows if row1 is None else row1,
            "startColumnIndex": col0,
            "endColumnIndex": self.cols if col1 is None else col1,
        }


def _free_id(taken: set[int]) -> int:
    candidate = _FIRST_SHEET_ID
    while candidate in taken:
        candidate += 1
    return candidate


def _rule_on(request: dict[str, Any], sheet_id: int) -> bool:
    rule = request.get("addConditionalFormatRule")
    return rule is not None and rule["rule"]["ranges"][0]["sheetId"] == sheet_id


def _sheet_requests(spot: _Placed) -> list[dict[str, Any]]:
    sheet, columns = spot.sheet, spot.sheet.columns
    first = spot.header_row + 1  # first data row (0-based)
    out: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    widths = [header_width(col.name) for col in columns]
    links: list[tuple[int, int, str]] = []
    fmt_runs: list[tuple[int, int, int, Shown]] = []  # (col, row0, row1, format)
    if sheet.note:
        rows.append({"values": [{"userEnteredValue": cell(sheet.note)}]})
    rows.append({"values": [{"userEnteredValue": cell(col.name)} for col in columns]})
    for r, row in enumerate(sheet.rows):
        values = []
        for c, col in enumerate(columns):
            raw = row[c] if c < len(row) else None
            value, fmt = _shown(raw, col.fmt)
            data = {"userEnteredValue": cell(value)}
            values.append(data)
            widths[c] = max(widths[c], _width(value, fmt))
            change = isinstance(raw, Cell) and raw.signed and fmt in NUMERIC
            if (
                fmt == Fmt.LINK
                and isinstance(value, str)
                and value.startswith(("http://", "https://"))
            ):
                links.append((first + r, c, value))
            _extend_run(fmt_runs, c, first + r, (fmt, change))
        rows.append({"values": values})
    # Everything old goes: cells of the range that `rows` does not cover are cleared too.
    out.append(
        {
            "updateCells": {
                "range": spot.range(0),
                "rows": rows,
                "fields": "userEnteredValue",
            }
        }
    )
    out.append({"repeatCell": {"range": spot.range(0), "cell": {}, "fields": "userEnteredFormat"}})
    if sheet.note:
        out.append(
            {
                "repeatCell": {
                    "range": spot.range(0, 1, 0, 1),
                    "cell": {
                        "userEnteredFormat": {
                            "textFormat": {"italic": True, "foregroundColor": rgb(NOTE_COLOR)}
                        }
                    },
                    "fields": "userEnteredFormat.textFormat",
                }
            }
        )
    out.append(
        {
            "repeatCell": {
                "range": spot.range(spot.header_row, spot.header_row + 1, 0, len(columns)),
                "cell": {
                    "userEnteredFormat": {
                        "textFormat": {"bold": True},
                        "backgroundColor": rgb(HEADER_BG),
                        "wrapStrategy": "WRAP",
                        "verticalAlignment": "TOP",
                    }
                },
                "fields": "userEnteredFormat(textFormat,backgroundColor,wrapStrategy,"
                "verticalAlignment)",
            }
        }
    )
    # Long free text wraps within its (bounded) width, as in the xlsx; Sheets makes the rows
    # tall enough by itself. The rest of the page setup has no place in the Sheets API.
    for index, col in enumerate(columns):
        if col.wrap and col.width is not None and sheet.rows:
            out.append(
                {
                    "repeatCell": {
                        "range": spot.range(spot.header_row + 1, None, index, index + 1),
                        "cell": {
                            "userEnteredFormat": {
                                "wrapStrategy": "WRAP",
                                "verticalAlignment": "TOP",
                            }
                        },
                        "fields": "userEnteredFormat(wrapStrategy,verticalAlignment)",
                    }
                }
            )
    for run_col, row0, row1, (run_fmt, change) in fmt_runs:
        number = SHEETS_NUMBER_FORMATS.get(run_fmt)
        if number is None:
            continue
        kind, pattern = number
        if change:
            pattern = signed(pattern)
        out.append(
            {
                "repeatCell": {
                    "range": spot.range(row0, row1, run_col, run_col + 1),
                    "cell": {
                        "userEnteredFormat": {"numberFormat": {"type": kind, "pattern": pattern}}
                    },
                    "fields": "userEnteredFormat.numberFormat",
                }
            }
        )
    for link_col in sorted({c for _, c, _ in links}):
        # One request per column: a link format on each URL cell, nothing on the others.
        urls = {row: url for row, c, url in links if c == link_col}
        out.append(
            {
                "updateCells": {
                    "range": spot.range(first, first + len(sheet.rows), link_col, link_col + 1),
                    "rows": [
                        {
                            "values": [
                                {"userEnteredFormat": {"textFormat": {"link": {"uri": urls[row]}}}}
                                if row in urls
                                else {}
                            ]
                        }
                        for row in range(first, first + len(sheet.rows))
                    ],
                    "fields": "userEnteredFormat.textFormat.link",
                }
            }
        )
    last = first + len(sheet.rows)
    for c, col in enumerate(columns):
        if col.fmt != Fmt.ZONE or not sheet.rows:
            continue
        for zone, color in ZONE_COLORS.items():
            out.append(
                {
                    "addConditionalFormatRule": {
                        "rule": {
                            "ranges": [spot.range(first, last, c, c + 1)],
                            "booleanRule": {
                                "condition": {
                                    "type": "TEXT_EQ",
                                    "values": [{"userEnteredValue": zone}],
                                },
                                "format": {"backgroundColor": rgb(color)},
                            },
                        },
                        "index": 0,
                    }
                }
            )
    for c, col in enumerate(columns):
        out.append(
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": spot.id,
                        "dimension": "COLUMNS",
                        "startIndex": c,
                        "endIndex": c + 1,
                    },
                    "properties": {"pixelSize": pixels(col.width or fitted(widths[c]))},
                    "fields": "pixelSize",
                }
            }
        )
    if columns:
        out.append(
            {
                "setBasicFilter": {
                    "filter": {"range": spot.range(spot.header_row, last, 0, len(columns))}
                }
            }
        )
    return out


def _shown(value: CellValue | Cell, fmt: Fmt) -> tuple[Any, Fmt]:
    """The value to write and the format it is shown in (a `Cell` carries its own)."""
    if isinstance(value, Cell):
        return value.value, value.fmt
    if isinstance(value, date) and fmt not in DATES:
        fmt = Fmt.DATETIME if isinstance(value, datetime) else Fmt.DATE
    if isinstance(value, int | float) and not isinstance(value, bool):
        if fmt not in NUMERIC and fmt not in DATES:
            return _number_text(value), fmt  # a number in a text column stays text
        if fmt in DATES:
            fmt = Fmt.NUMBER  # a bare number in a date column is shown as a number
    return value, fmt


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _width(value: Any, fmt: Fmt) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number_width(value, fmt) if value == value else 0
    if isinstance(value, date):
        return number_width(0, fmt)
    text = str(value)
    return max(map(len, text.split("\n")))


def _extend_run(runs: list[tuple[int, int, int, Shown]], col: int, row: int, fmt: Shown) -> None:
    """Group consecutive rows of a column with the same format into one repeatCell."""
    for i in range(len(runs) - 1, -1, -1):
        c, row0, row1, f = runs[i]
        if c == col:
            if f == fmt and row1 == row:
                runs[i] = (c, row0, row + 1, f)
                return
            break
    runs.append((col, row, row + 1, fmt))


def _chart_request(chart: Chart, placed: dict[str, _Placed]) -> dict[str, Any] | None:
    data, target = placed.get(chart.data_sheet), placed.get(chart.place_on)
    if data is None or target is None or not data.sheet.rows:
        log.info("chart %r skipped: no data", chart.title)
        return None
    names = [col.name for col in data.sheet.columns]
    if chart.category_col not in names or any(s not in names for s in chart.series_cols):
        log.warning("chart %r skipped: its columns are not in %r", chart.title, chart.data_sheet)
        return None
    head = data.header_row
    last = head + 1 + len(data.sheet.rows)

    def source(column: str) -> dict[str, Any]:
        c = names.index(column)
        return {"sourceRange": {"sources": [data.range(head, last, c, c + 1)]}}

    series = []
    for number, column in enumerate(chart.series_cols):
        item: dict[str, Any] = {"series": source(column), "targetAxis": "LEFT_AXIS"}
        if number < len(chart.colors):
            item["colorStyle"] = {"rgbColor": rgb(chart.colors[number])}
        if chart.kind == ChartKind.LINE:
            # A marker on every point: the first day's line is one point and no segment.
            item["pointStyle"] = {"shape": "CIRCLE", "size": POINT_SIZE}
        series.append(item)
    basic: dict[str, Any] = {
        "chartType": "COLUMN" if chart.kind == ChartKind.STACKED_COLUMN else "LINE",
        "legendPosition": "BOTTOM_LEGEND",
        "headerCount": 1,
        "axis": [{"position": "BOTTOM_AXIS", "title": chart.category_col}],
        "domains": [{"domain": source(chart.category_col)}],
        "series": series,
    }
    if chart.kind == ChartKind.STACKED_COLUMN:
        basic["stackedType"] = "STACKED"
    row, col = a1_to_rowcol(chart.anchor)
    return {
        "addChart": {
            "chart": {
                "spec": {"title": chart.title, "basicChart": basic},
                "position": {
                    "overlayPosition": {
                        "anchorCell": {
                            "sheetId": target.id,
                            "rowIndex": row - 1,
                            "columnIndex": col - 1,
                        },
                        "widthPixels": min(max(480, 40 * len(data.sheet.rows)), 1200),
                        "heightPixels": 320,
                    }
                },
            }
        }
    }
