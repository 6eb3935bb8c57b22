"""The city status workbook as a Google spreadsheet, written in one atomic `batchUpdate`.

The office creates the spreadsheet and shares it with the service account as Editor; its ID (or
URL) is `[output] spreadsheet`. Each publish is **one** `spreadsheets.batchUpdate`, which Google
applies entirely or not at all, so a reader never sees half of it:

- the spreadsheet locale `id_ID` (Indonesian separators and month names) and time zone
  Asia/Jakarta; our tabs added (with chosen sheet ids) or resized to fit, in the book's order,
  header rows frozen; tabs the office added itself are left alone;
- every cell of our tabs rewritten from A1 (`updateCells` over the whole grid, so nothing old
  survives): text as `stringValue` (stored as typed, never a formula: what `RAW` means), numbers
  and dates as numbers, formats per column (`outputs/style.py`, shared with the xlsx writer),
  zone colours as conditional rules on the Zona column, links on http(s) URLs;
- our charts deleted by id and drawn again as native charts; a filter on every table.

What it costs (see `google_api` for the quota): when nothing changed since the last publish
(a fingerprint of the book without its "updated at" times) and nobody else edited the
spreadsheet, nothing at all. Otherwise one write, plus one metadata read (sheet ids, charts,
rules) when someone else edited it since our last write or on the first publish — Drive's
last-modifier tells which, from the source's listing or one Drive `files.get`. The Riwayat rows
for the next book come from what we wrote, or are read back (one read) after someone else's edit.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import requests
from gspread.exceptions import APIError
from gspread.utils import a1_to_rowcol

from kkmp_sheets.core.tables import Cell, CellValue, Chart, ChartKind, Fmt, Sheet, StatusBook
from kkmp_sheets.errors import OutputError
from kkmp_sheets.google.api import GoogleApi, RequestTooLarge
from kkmp_sheets.google.cells import a1_tab, cell, pixels, rgb
from kkmp_sheets.google.drive import FileState, file_state
from kkmp_sheets.google.ids import file_id
from kkmp_sheets.google.state import GoogleState
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
)

log = logging.getLogger(__name__)

LOCALE, TIME_ZONE = "id_ID", "Asia/Jakarta"
LAYOUT_FIELDS = (
    "sheets(properties(sheetId,title,index),charts(chartId,spec(title)),"
    "conditionalFormats(ranges(sheetId)))"
)
FILE_FIELDS = "id,mimeType,version,modifiedTime,lastModifyingUser(me),capabilities(canEdit)"
_FIRST_SHEET_ID = 1000
Listing = Callable[[], dict[str, FileState] | None]


class GoogleSink:
    def __init__(
        self,
        api: GoogleApi,
        spreadsheet: str,
        *,
        state: GoogleState | None = None,
        listing: Listing | None = None,
    ) -> None:
        sid = file_id(spreadsheet)
        if sid is None:
            raise OutputError(
                f"[output] spreadsheet = {spreadsheet!r} is not a Google spreadsheet ID or URL: "
                "create an empty Google spreadsheet for the city status, share it with "
                f"{api.account_email} as Editor, and put its address here"
            )
        self.api = api
        self.id = sid
        self.state = state or GoogleState()
        self.listing = listing
        self.key = f"status:{sid}"
        self._file: FileState | None = None
        self.published = 0  # batchUpdates sent (for the CLI and tests)
        self.skipped = 0
        self.last_bytes = 0  # size of the last batch written

    @property
    def url(self) -> str:
        return f"https://docs.google.com/spreadsheets/d/{self.id}/edit"

    def close(self) -> None:
        self.state.close()
        self.api.close()

    # --- what is there --------------------------------------------------------------------------
    def _current_file(self) -> FileState | None:
        listed = self.listing() if self.listing else None
        if listed is not None and self.id in listed:
            return listed[self.id]
        try:
            return file_state(self.api.get_file(self.id, FILE_FIELDS))
        except (APIError, requests.exceptions.RequestException) as exc:
            log.info("status spreadsheet %s: Drive metadata unavailable (%s)", self.id, exc)
            return None

    def _untouched(self, memo: dict[str, Any] | None, file: FileState | None) -> bool:
        """Nobody but us wrote the spreadsheet since our last write (so our memo is true)."""
        if not memo or file is None or not memo.get("layout"):
            return False
        if file.version == memo.get("version"):
            return True
        if file.last_modifier_is_me:
            self.state.update(self.key, version=file.version)
            return True
        return False

    def history(self) -> list[list]:
        """Riwayat rows as last published: from memory, or read back after someone's edit."""
        self._file = self._current_file()
        memo = self.state.get(self.key)
        if self._untouched(memo, self._file):
            return [list(r) for r in (memo or {}).get("riwayat") or []]
        try:
            reply = self.api.batch_get(
                self.id,
                [a1_tab("Riwayat")],
                {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"},
            )
        except (APIError, requests.exceptions.RequestException) as exc:
            log.info("Riwayat not read back (%s); the trend starts from today", exc)
            return []
        rows = (reply.get("valueRanges") or [{}])[0].get("values") or []
        return _history_rows(rows)

    # --- writing ----------------------------------------------------------------------------------
    def publish(self, book: StatusBook) -> str:
        file = self._file if self._file is not None else self._current_file()
        self._file = None
        memo = self.state.get(self.key)
        print_ = fingerprint(book)
        untouched = self._untouched(memo, file)
        if untouched and memo and memo.get("fingerprint") == print_:
            log.info("status spreadsheet unchanged; not rewritten")
            self.skipped += 1
            return self.url
        if file is not None and not file.can_edit:
            raise OutputError(self._not_editable())
        layout = (memo or {}).get("layout") if untouched else None
        try:
            if layout is None:
                layout = self._read_layout()
            try:
                reply, layout = self._write(book, layout, memo)
            except APIError as exc:
                if exc.response.status_code != 400:
                    raise
                # Someone changed the spreadsheet between our look and our write: look again.
                log.info("status spreadsheet changed under us (%s); reading its layout again", exc)
                reply, layout = self._write(book, self._read_layout(), memo)
        except APIError as exc:
            raise OutputError(self._problem(exc)) from None
        except RequestTooLarge as exc:
            raise OutputError(
                f"the status spreadsheet is too large for one atomic write ({exc}); the previous "
                "status stays as it was. Split the city over several configs (fewer cooperatives "
                "each), or fix the most common data problems (Masalah Data is the largest tab)."
            ) from None
        except requests.exceptions.RequestException as exc:
            raise OutputError(
                f"Google did not answer while writing the status spreadsheet {self.id} ({exc}); "
                "the previous status stays as it was. Run again later."
            ) from None
        self.published += 1
        self.last_bytes = self.api.last_body_bytes
        log.info(
            "status spreadsheet written: one batchUpdate of %.1f MB", self.api.last_body_bytes / 1e6
        )
        layout["charts"] = [
            r["addChart"]["chart"]["chartId"] for r in reply.get("replies") or [] if "addChart" in r
        ]
        riwayat = _riwayat(book)
        self.state.put(
            self.key,
            {"fingerprint": print_, "layout": layout, "riwayat": riwayat, "version": None},
        )
        return self.url

    def _read_layout(self) -> dict[str, Any]:
        reply = self.api.get_spreadsheet(self.id, {"fields": LAYOUT_FIELDS})
        sheets: dict[str, int] = {}
        charts: list[dict[str, Any]] = []
        rules: dict[str, int] = {}
        for sheet in reply.get("sheets") or []:
            props = sheet.get("properties") or {}
            sheet_id = int(props.get("sheetId", 0))
            sheets[props.get("title", "")] = sheet_id
            for chart in sheet.get("charts") or []:
                title = ((chart.get("spec") or {}).get("title")) or ""
                charts.append({"id": chart["chartId"], "sheet": sheet_id, "title": title})
            rules[str(sheet_id)] = len(sheet.get("conditionalFormats") or [])
        return {"sheets": sheets, "all_charts": charts, "rules": rules}

    def _write(
        self, book: StatusBook, layout: dict[str, Any], memo: dict[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if "all_charts" in layout:  # freshly read: ours are those we made, or bear our titles
            ours = set((memo or {}).get("layout", {}).get("charts") or [])
            titles = {c.title for c in book.charts}
            old_charts = [
                c["id"] for c in layout["all_charts"] if c["id"] in ours or c["title"] in titles
            ]
        else:  # nobody else wrote since: exactly the charts we made
            old_charts = list(layout.get("charts") or [])
        requests_, new_layout = build_requests(book, layout, old_charts)
        reply = self.api.batch_update(self.id, requests_)
        return reply, new_layout

    def _not_editable(self) -> str:
        return (
            f"the status spreadsheet {self.id} is shared read-only with {self.api.account_email}: "
            "share it as Editor. The previous status stays as it was."
        )

    def _problem(self, exc: APIError) -> str:
        status = exc.response.status_code
        if status == 403:
            return (
                f"the status spreadsheet {self.id} is not shared with {self.api.account_email} "
                "as Editor: share it (Share > add the address > Editor) and run again"
            )
        if status == 404:
            return (
                f"the status spreadsheet {self.id} does not exist: create an empty Google "
                "spreadsheet, share it with the service account as Editor, and put its ID in "
                "[output] spreadsheet"
            )
        return (
            f"the status spreadsheet {self.id} was not written ({exc}); the previous status "
            "stays as it was"
        )


# --- the batch ------------------------------------------------------------------------------------


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
    fmt_runs: list[tuple[int, int, int, Fmt]] = []  # (col, row0, row1, fmt)
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
            if (
                fmt == Fmt.LINK
                and isinstance(value, str)
                and value.startswith(("http://", "https://"))
            ):
                links.append((first + r, c, value))
            _extend_run(fmt_runs, c, first + r, fmt)
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
    for run_col, row0, row1, run_fmt in fmt_runs:
        number = SHEETS_NUMBER_FORMATS.get(run_fmt)
        if number is None:
            continue
        kind, pattern = number
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


def _extend_run(runs: list[tuple[int, int, int, Fmt]], col: int, row: int, fmt: Fmt) -> None:
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


# --- memory ---------------------------------------------------------------------------------------


def fingerprint(book: StatusBook) -> str:
    """A hash of what the book says, leaving out when it was made (the notes and Ringkasan's
    "Diperbarui" time), so that an unchanged result is not written again."""
    parts: list[Any] = []
    for sheet in book.sheets:
        rows = [
            [_plain(v) for v in row]
            for row in sheet.rows
            if not (sheet.name == "Ringkasan" and _is_timestamp(row))
        ]
        parts.append([sheet.name, [[c.name, str(c.fmt), c.width] for c in sheet.columns], rows])
    parts.append([[c.title, c.data_sheet, list(c.series_cols), c.anchor] for c in book.charts])
    text = json.dumps(parts, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_timestamp(row: list[CellValue | Cell]) -> bool:
    return any(isinstance(v, Cell) and v.fmt == Fmt.DATETIME for v in row)


def _plain(value: Any) -> Any:
    if isinstance(value, Cell):
        return [_plain(value.value), str(value.fmt)]
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item") and not isinstance(value, str | date):
        return value.item()
    return value


def _riwayat(book: StatusBook) -> list[list[Any]]:
    try:
        sheet = book.sheet("Riwayat")
    except KeyError:
        return []
    return [[_plain(v.value if isinstance(v, Cell) else v) for v in row] for row in sheet.rows]


def _history_rows(rows: list[list[Any]]) -> list[list[Any]]:
    """Riwayat as read back: rows whose first cell is a date (a serial number)."""
    from kkmp_sheets.core.formats import parse_date

    out = []
    for row in rows:
        if not row or isinstance(row[0], bool) or not isinstance(row[0], int | float):
            continue
        try:
            day = parse_date(row[0])
        except ValueError:
            continue
        if day is None:
            continue
        out.append([day, *(None if v == "" else v for v in row[1:])])
    return out
