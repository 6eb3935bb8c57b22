"""The city status workbook as a Google spreadsheet, shown to readers by one atomic `batchUpdate`.

The office creates the spreadsheet and shares it with the service account as Editor; its ID (or
URL) is `[output] spreadsheet`. Each publish is **one** `spreadsheets.batchUpdate`, which Google
applies entirely or not at all, so a reader never sees half of it (a batch over the budget, 8 MiB
by default, about 2,000 cooperatives, is written through hidden staging tabs and shown by one
final request instead: `staged.py`):

- the spreadsheet locale `id_ID` (Indonesian separators and month names) and time zone
  Asia/Jakarta; our tabs added (with chosen sheet ids) or resized to fit, in the book's order,
  header rows frozen; tabs the office added itself are left alone;
- every cell of our tabs rewritten from A1 (`updateCells` over the whole grid, so nothing old
  survives): text as `stringValue` (stored as typed, never a formula: what `RAW` means), numbers
  and dates as numbers, formats per column (`outputs/style.py`, shared with the xlsx writer),
  zone colours as conditional rules on the Zona column, links on http(s) URLs;
- our charts deleted by id and drawn again as native charts; a filter on every table.

What it costs (see `google/api.py` for the quota): when nothing changed since the last publish
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
from datetime import date
from typing import Any

import requests
from gspread.exceptions import APIError

from kkmp_sheets.core.formats import parse_date
from kkmp_sheets.core.metadata import CYCLE_TIME_KEY, METADATA_TAB
from kkmp_sheets.core.report import riwayat_read_back
from kkmp_sheets.core.tables import Cell, CellValue, Fmt, StatusBook
from kkmp_sheets.errors import OutputError
from kkmp_sheets.google.api import GoogleApi, RequestTooLarge, batch_body
from kkmp_sheets.google.cells import a1_tab
from kkmp_sheets.google.drive import FileState, file_state
from kkmp_sheets.google.ids import file_id
from kkmp_sheets.google.staged import (
    DEFAULT_BUDGET,
    cleanup_requests,
    plan_staged,
    staged_title,
)
from kkmp_sheets.google.state import GoogleState
from kkmp_sheets.google.status_batch import build_requests

log = logging.getLogger(__name__)

LAYOUT_FIELDS = (
    "sheets(properties(sheetId,title,index),charts(chartId,spec(title)),"
    "conditionalFormats(ranges(sheetId)))"
)
FILE_FIELDS = "id,mimeType,version,modifiedTime,lastModifyingUser(me),capabilities(canEdit)"
Listing = Callable[[], dict[str, FileState] | None]


class GoogleSink:
    def __init__(
        self,
        api: GoogleApi,
        spreadsheet: str,
        *,
        state: GoogleState | None = None,
        listing: Listing | None = None,
        budget: int = DEFAULT_BUDGET,
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
        self.last_bytes = 0  # size of the largest request of the last publish
        self.last_requests = 0  # batchUpdates the last publish took (more than 1: staged)
        self.budget = budget  # bytes: a book whose batch is larger is written staged

    @property
    def url(self) -> str:
        return f"https://docs.google.com/spreadsheets/d/{self.id}/edit"

    def link(self, tab: str) -> str:
        """The spreadsheet's URL, opening `tab` (`#gid=`) once a publish has placed it."""
        memo = self.state.get(self.key) or {}
        sheet_id = ((memo.get("layout") or {}).get("sheets") or {}).get(tab)
        return self.url if sheet_id is None else f"{self.url}#gid={sheet_id}"

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
            return _history_rows([list(r) for r in (memo or {}).get("riwayat") or []])
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
        staging = bool(memo and memo.get("staging"))  # hidden tabs of a write that broke off
        if untouched and memo and memo.get("fingerprint") == print_ and not staging:
            log.info("status spreadsheet unchanged; not rewritten")
            self.skipped += 1
            return self.url
        if file is not None and not file.can_edit:
            raise OutputError(self._not_editable())
        # After a staged write broke off, look at the spreadsheet itself: what it holds is known
        # only there (the hidden tabs, or the final request applied before the memo was).
        layout = (memo or {}).get("layout") if untouched and not staging else None
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
        stale = self._stale_staging(layout, book)
        requests_, new_layout = build_requests(book, layout, old_charts)
        body = batch_body(cleanup_requests(stale) + requests_)
        if len(body) <= self.budget:
            reply = self.api.batch_update(self.id, cleanup_requests(stale) + requests_, body)
            self.last_requests, self.last_bytes = 1, len(body)
            log.info("status spreadsheet written: one batchUpdate of %.1f MB", len(body) / 1e6)
            new_layout["sheets"] = {t: i for t, i in new_layout["sheets"].items() if i not in stale}
            return reply, new_layout
        del body
        plan = plan_staged(book, layout, old_charts, budget=self.budget, stale=stale)
        # Remembered before the first staging request: a crash after it leaves hidden tabs
        # that the next write deletes first.
        self.state.update(self.key, staging=plan.staging_ids)
        replies: list[dict[str, Any]] = []
        for number, chunk in enumerate(plan.staging, 1):
            replies += self.api.batch_update(self.id, chunk).get("replies") or []
            log.info(
                "status spreadsheet: staging request %d of %d (%.1f MB) into hidden tabs",
                number,
                len(plan.staging),
                self.api.last_body_bytes / 1e6,
            )
        reply = self.api.batch_update(self.id, plan.unprotecting(replies))
        self.last_requests, self.last_bytes = plan.requests, max(plan.sizes)
        log.info(
            "status spreadsheet written in %d batchUpdates (staged: the book's batch is over the "
            "%.1f MB budget), the largest %.1f MB; shown at once by the last",
            plan.requests,
            self.budget / 1e6,
            self.last_bytes / 1e6,
        )
        return reply, plan.layout

    def _stale_staging(self, layout: dict[str, Any], book: StatusBook) -> list[int]:
        """Hidden staging tabs an interrupted staged write left, found by their titles (the
        staged title of one of our tabs: an office's own tab is never taken for one). The
        layout was read from the spreadsheet whenever the memo says such a write began (or the
        memo is lost); a layout from memory has none."""
        ours = {staged_title(sheet.name) for sheet in book.sheets}
        stale = [i for t, i in (layout.get("sheets") or {}).items() if t in ours]
        if stale:
            log.info(
                "status spreadsheet: removing %d hidden staging tab(s) left by an interrupted "
                "write; the visible status was not changed by it",
                len(stale),
            )
        return stale

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


# --- memory ---------------------------------------------------------------------------------------


def fingerprint(book: StatusBook) -> str:
    """A hash of what the book says, leaving out when it was made (the notes, Ringkasan's
    "Diperbarui" time and Metadata's cycle time), so that an unchanged result is not written
    again."""
    parts: list[Any] = []
    for sheet in book.sheets:
        rows = [
            [_plain(v) for v in row]
            for row in sheet.rows
            if not (sheet.name == "Ringkasan" and _is_timestamp(row))
            and not (sheet.name == METADATA_TAB and row[:1] == [CYCLE_TIME_KEY])
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
    """Riwayat as published, its header row first (read back by `riwayat_read_back`)."""
    try:
        sheet = book.sheet("Riwayat")
    except KeyError:
        return []
    header = [col.name for col in sheet.columns]
    return [
        header,
        *([_plain(v.value if isinstance(v, Cell) else v) for v in row] for row in sheet.rows),
    ]


def _history_rows(rows: list[list[Any]]) -> list[list[Any]]:
    """Riwayat as read back (or remembered): its rows whose first cell is a day."""
    return riwayat_read_back(rows, _day_of)


def _day_of(cell: Any) -> date | None:
    """A serial number as read back, or a date (an ISO text in the memory of a publish)."""
    if isinstance(cell, date):
        return cell
    if isinstance(cell, str):
        try:
            return date.fromisoformat(cell[:10])
        except ValueError:
            return None
    if isinstance(cell, bool) or not isinstance(cell, int | float):
        return None
    try:
        return parse_date(cell)
    except ValueError:
        return None
