"""Google mode: the registry and every cooperative workbook are Google Sheets shared with the
service account.

The same shape as `local.LocalSource` (`registry_rows`, `read`, `link`, `write_feedback`), plus
change detection, because Google counts requests (see `google/api.py`):

- **One Drive listing per cycle** (`files.list`, 1,000 files per request) at the start of the
  cycle (`registry_rows`): every spreadsheet the service account can see, with its `version`,
  `modifiedTime`, last modifier and whether we may edit it. From it: the registry is read again
  only when its version moved; `unchanged(coop)` tells the pipeline that a workbook is as it was
  read last time, so it re-parses its snapshot instead of reading it (zero requests); a file not
  listed that failed last time fails again without a request; an uploaded `.xlsx` that was never
  converted is reported without a request.
- **The service's own write is not a human edit.** After Hasil Pemeriksaan is written, Drive
  lists a new version whose last modifier is us (`lastModifyingUser.me`): the workbook counts as
  unchanged, and Data Diperbarui stays the last human modification time. A person's edit landing
  between our read and our write in the same cycle is hidden by our write; it is seen at the
  next human edit (Drive records only the last modifier).
- **One read per changed cooperative.** The tab titles of the last read are remembered
  (`GoogleState`), so a workbook is read with one `values:batchGet` of all its tabs and its Hasil
  Pemeriksaan (`UNFORMATTED_VALUE`, `SERIAL_NUMBER`: types are parsed by `formats`, never by
  gspread's numericise). Titles are unknown on the first read, or not to be trusted when a
  contract tab was missing (one may have been added since): then one `spreadsheets.get` with grid
  data (`effectiveValue` only) reads every tab, titles included. A batchGet refused because a
  tab vanished falls back to the same.
- **Failures are problems on the cooperative's row** (`ReadFailure`): not shared with the
  service account (403), deleted (404), an `.xlsx` never converted, or Google not answering
  after the bounded retries. The cycle goes on.
- **Hasil Pemeriksaan** is one `batchUpdate` per cooperative that replaces that tab only (added
  with a chosen `sheetId` when missing), skipped when its rows are already there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import requests
from gspread.exceptions import APIError

from kkmp_sheets.core import acknowledge
from kkmp_sheets.core.a1 import column_letters
from kkmp_sheets.core.issue import CATALOG, Issue, Severity
from kkmp_sheets.core.parse import RawWorkbook, Rows
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.report_card import (
    FEEDBACK_HEADER,
    FEEDBACK_HEADER_ROW,
    FEEDBACK_HIDDEN,
    FEEDBACK_LOOK,
    FEEDBACK_MERGES,
    TICK_INDEX,
    TICKED,
    feedback_comparable,
    feedback_styles,
)
from kkmp_sheets.core.template import (
    FEEDBACK_TAB,
    PROFIL,
    REGISTRY,
    TABLES,
    TICKS_TAB,
    normalize,
)
from kkmp_sheets.errors import SourceError
from kkmp_sheets.google import drive
from kkmp_sheets.google.api import GoogleApi
from kkmp_sheets.google.cells import a1_tab, cell, fingerprint, grid_rows, pixels, rgb, trim
from kkmp_sheets.google.drive import FileState
from kkmp_sheets.google.ids import file_id
from kkmp_sheets.google.state import GoogleState
from kkmp_sheets.sources.base import ReadFailure

log = logging.getLogger(__name__)

UNFORMATTED = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"}
GRID_FIELDS = "sheets(properties(title,sheetId),data(rowData(values(effectiveValue))))"
FEEDBACK_SHEET_ID = 1_175_400_301  # the id we give the Hasil Pemeriksaan tab when we add it
FEEDBACK_COLS = len(FEEDBACK_HEADER)
HEADER_BG = "#D9E2EC"
PERINGATAN = Severity.PERINGATAN.value

_CONTRACT = (PROFIL.match_keys, *(spec.match_keys for spec in TABLES))
_FEEDBACK_KEY = normalize(FEEDBACK_TAB)


class FeedbackNotWritten(Exception):
    """Hasil Pemeriksaan could not be written; the message tells the operator what to do."""


class GoogleSource:
    kind = "google"
    # Write Hasil Pemeriksaan right after each read (pipeline): writes have their own quota, so
    # they fit in the minutes the reads wait for anyway (see the pipeline's `_early_feedback`).
    early_feedback = True

    def __init__(
        self,
        api: GoogleApi,
        registry: str,
        *,
        state: GoogleState | None = None,
        feedback: bool = True,
    ) -> None:
        self.api = api
        self.registry = registry
        self.state = state or GoogleState()
        self.feedback = feedback
        self.listing: dict[str, FileState] | None = None  # None: not listed (or listing failed)

    @property
    def account_email(self) -> str:
        return self.api.account_email

    def close(self) -> None:
        self.state.close()
        self.api.close()

    # --- change detection ---------------------------------------------------------------------
    def refresh_listing(self) -> dict[str, FileState] | None:
        """One Drive `files.list` per 1,000 files; on failure, no change detection this cycle."""
        try:
            self.listing = drive.listing(self.api)
        except (APIError, requests.exceptions.RequestException) as exc:
            log.warning("Drive listing failed, every workbook is read this cycle: %s", exc)
            self.listing = None
        return self.listing

    def changes(self, coops: list[Coop]) -> dict[str, FileState]:
        """Each cooperative's spreadsheet as Drive lists it (absent: not visible to us)."""
        if self.listing is None:
            self.refresh_listing()
        out: dict[str, FileState] = {}
        for coop in coops:
            sid = file_id(coop.spreadsheet)
            listed = self.listing.get(sid) if self.listing is not None and sid else None
            if listed is not None:
                out[coop.id] = listed
        return out

    def unchanged(self, coop: Coop, recorded: str | None) -> bool:
        """True when the spreadsheet is still as the snapshot at Drive version `recorded` (our
        last read) shows it: the same version, or only our own Hasil Pemeriksaan write since."""
        sid = file_id(coop.spreadsheet)
        if sid is None or recorded is None or self.listing is None:
            return False
        listed = self.listing.get(sid)
        memo = self.state.get(f"sheet:{sid}")
        if listed is None or not listed.native or not memo or memo.get("failure"):
            return False
        if memo.get("version") != recorded:  # read since without a snapshot (a dry run)
            return False
        if listed.version == recorded:
            return True
        if listed.last_modifier_is_me:
            self.state.update(f"sheet:{sid}", version=listed.version)
            return True
        return False

    def version(self, coop: Coop) -> str | None:
        """The Drive version of the cooperative's spreadsheet at this cycle's listing."""
        sid = file_id(coop.spreadsheet)
        listed = self.listing.get(sid) if self.listing is not None and sid else None
        return listed.version if listed else None

    # --- registry -----------------------------------------------------------------------------
    def registry_rows(self) -> Rows:
        """The `Daftar KKMP` tab; read again only when Drive lists a new version of it."""
        self.refresh_listing()
        sid = file_id(self.registry)
        if sid is None:
            raise SourceError(
                f"[source] registry = {self.registry!r} is not a Google spreadsheet ID or URL: "
                "copy the address of the spreadsheet holding the Daftar KKMP tab"
            )
        listed = self.listing.get(sid) if self.listing is not None else None
        memo = self.state.get("registry")
        if memo and listed and memo.get("id") == sid and memo.get("version") == listed.version:
            return [list(r) for r in memo["rows"]]
        if listed is not None and not listed.native:
            raise SourceError(
                f"the registry {sid} is an uploaded .xlsx, not a Google spreadsheet: open it in "
                "Google Drive, File > Save as Google Sheets, and put the new ID in [source] registry"
            )
        try:
            reply = self.api.get_spreadsheet(
                sid, {"includeGridData": "true", "fields": GRID_FIELDS}
            )
        except APIError as exc:
            raise SourceError(self._registry_problem(sid, exc)) from None
        except requests.exceptions.RequestException as exc:
            raise SourceError(f"the registry {sid} cannot be read: {exc}") from None
        sheets = reply.get("sheets") or []
        wanted = normalize(REGISTRY.tab)
        chosen = next((s for s in sheets if normalize(s["properties"]["title"]) == wanted), None)
        if chosen is None and sheets:
            chosen = sheets[0]
        rows = grid_rows(chosen) if chosen else []
        self.state.put(
            "registry", {"id": sid, "version": listed.version if listed else None, "rows": rows}
        )
        return rows

    def _registry_problem(self, sid: str, exc: APIError) -> str:
        status = exc.response.status_code
        if status == 403:
            return (
                f"the registry spreadsheet {sid} is not shared with the service account: share "
                f"it with {self.account_email} (Viewer is enough) and run again"
            )
        if status == 404:
            return (
                f"the registry spreadsheet {sid} does not exist (deleted?): check [source] registry"
            )
        if _not_native(exc):
            return (
                f"the registry {sid} is an uploaded .xlsx, not a Google spreadsheet: File > Save "
                "as Google Sheets, and put the new ID in [source] registry"
            )
        return f"the registry spreadsheet {sid} cannot be read: {exc}"

    # --- one cooperative ----------------------------------------------------------------------
    def link(self, coop: Coop) -> str:
        sid = file_id(coop.spreadsheet)
        return f"https://docs.google.com/spreadsheets/d/{sid}/edit" if sid else coop.spreadsheet

    def read(self, coop: Coop) -> RawWorkbook:
        sid = file_id(coop.spreadsheet)
        if sid is None:
            raise ReadFailure("workbook-missing", detail=coop.spreadsheet)
        key = f"sheet:{sid}"
        memo = self.state.get(key) or {}
        listed = self.listing.get(sid) if self.listing is not None else None
        if listed is not None and not listed.native:
            raise self._failed(key, ReadFailure("workbook-not-native"))
        # Still not visible to us: the same answer as last time, without asking again (unless
        # that answer's code is no longer in the catalogue, after an upgrade: then ask again).
        remembered = memo.get("failure") or {}
        if self.listing is not None and listed is None and remembered.get("code") in CATALOG:
            raise ReadFailure(**remembered)
        try:
            tabs, titles, feedback_id, feedback_rows = self._fetch(sid, memo)
        except APIError as exc:
            raise self._failed(key, self._failure(exc)) from None
        except requests.exceptions.RequestException as exc:
            detail = f"Google tidak menjawab ({type(exc).__name__})"
            raise self._failed(key, ReadFailure("workbook-unavailable", detail=detail)) from None

        if listed is None:
            modified = memo.get("human_modified")
        elif listed.last_modifier_is_me:
            modified = memo.get("human_modified")  # our own write is not a human edit
        else:
            modified = listed.modified_time
        self.state.put(
            key,
            {
                "version": listed.version if listed else None,
                "human_modified": modified,
                "titles": titles,
                "feedback_id": feedback_id,
                "feedback_hash": (
                    fingerprint(feedback_comparable(feedback_rows))
                    if feedback_id is not None
                    else None
                ),
                "failure": None,
            },
        )
        ticks = acknowledge.ticks_of_feedback(feedback_rows)
        if ticks:  # staff's ticks travel with the tabs (and into the snapshot)
            tabs = {**tabs, TICKS_TAB: ticks}
        return RawWorkbook(tabs=tabs, modified=modified, version=listed.version if listed else None)

    def _fetch(
        self, sid: str, memo: dict[str, Any]
    ) -> tuple[dict[str, Rows], list[str], int | None, Rows]:
        """(data tabs, their titles, Hasil Pemeriksaan's sheetId or None, its rows)."""
        titles = memo.get("titles") or []
        feedback_id = memo.get("feedback_id")
        if titles and _complete(titles) and (feedback_id is not None or not self.feedback):
            ranges = [a1_tab(t) for t in titles]
            if feedback_id is not None:
                ranges.append(a1_tab(FEEDBACK_TAB) + f"!A1:{column_letters(FEEDBACK_COLS - 1)}")
            try:
                reply = self.api.batch_get(sid, ranges, UNFORMATTED)
            except APIError as exc:
                if exc.response.status_code != 400 or _not_native(exc):
                    raise
                log.info("%s: a tab was renamed or removed; reading every tab", sid)
            else:
                values = [trim(r.get("values") or []) for r in reply.get("valueRanges") or []]
                tabs = dict(zip(titles, values[: len(titles)], strict=True))
                feedback = values[len(titles)] if feedback_id is not None else []
                return tabs, titles, feedback_id, feedback
        reply = self.api.get_spreadsheet(sid, {"includeGridData": "true", "fields": GRID_FIELDS})
        tabs, feedback, feedback_id = {}, [], None
        for sheet in reply.get("sheets") or []:
            props = sheet.get("properties") or {}
            title = props.get("title", "")
            if normalize(title) == _FEEDBACK_KEY:
                feedback_id, feedback = int(props.get("sheetId", 0)), grid_rows(sheet)
            else:
                tabs[title] = grid_rows(sheet)
        return tabs, list(tabs), feedback_id, feedback

    def _failure(self, exc: APIError) -> ReadFailure:
        status = exc.response.status_code
        if status == 403:
            return ReadFailure(
                "workbook-no-access",
                detail="tidak dibagikan ke akun layanan",
                expected=self.account_email,
            )
        if status == 404:
            return ReadFailure("workbook-missing")
        if _not_native(exc):
            return ReadFailure("workbook-not-native")
        if status == 429 or status >= 500 or status == 408:
            return ReadFailure("workbook-unavailable", detail=f"Google menjawab HTTP {status}")
        message = str((exc.error or {}).get("message", "")) if isinstance(exc.error, dict) else ""
        return ReadFailure("workbook-unreadable", detail=message[:200] or f"HTTP {status}")

    def _failed(self, key: str, failure: ReadFailure) -> ReadFailure:
        """Remember a failure (so that an unlisted file is not asked again) and return it."""
        remembered = {"code": failure.code, "detail": failure.detail, "expected": failure.expected}
        if failure.code in ("workbook-no-access", "workbook-missing", "workbook-not-native"):
            self.state.update(key, failure=remembered, version=None)
        return failure

    # --- Hasil Pemeriksaan --------------------------------------------------------------------
    def registry_issues(self, coops: Sequence[Coop]) -> list[Issue]:
        """Nothing to refuse: a spreadsheet ID points at no place on this machine."""
        return []

    def write_feedback(
        self, coop: Coop, rows: list[list[Any]], header_row: int, widths: list[float]
    ) -> bool:
        """Replace the Hasil Pemeriksaan tab with `rows`; False when they are already there."""
        sid = file_id(coop.spreadsheet)
        if sid is None:
            return False
        key = f"sheet:{sid}"
        memo = self.state.get(key) or {}
        rows = checkboxes(rows)
        digest = fingerprint(feedback_comparable(rows))
        if memo.get("feedback_hash") == digest and memo.get("feedback_id") is not None:
            return False
        listed = self.listing.get(sid) if self.listing is not None else None
        if listed is not None and not listed.can_edit:
            raise FeedbackNotWritten(
                f"shared read-only with {self.account_email}: share it as Editor so that "
                "Hasil Pemeriksaan can be written"
            )
        sheet_id = memo.get("feedback_id")
        try:
            self._write_feedback(sid, sheet_id, rows, header_row, widths)
        except APIError as exc:
            if exc.response.status_code != 400:
                raise self._write_problem(exc) from None
            # The tab was removed, renamed or added by someone since we looked: look again.
            sheet_id = self._feedback_sheet_id(sid)
            try:
                self._write_feedback(sid, sheet_id, rows, header_row, widths)
            except APIError as again:
                raise self._write_problem(again) from None
        self.state.update(key, feedback_id=sheet_id or FEEDBACK_SHEET_ID, feedback_hash=digest)
        return True

    def _write_problem(self, exc: APIError) -> FeedbackNotWritten:
        if exc.response.status_code == 403:
            return FeedbackNotWritten(
                f"no permission to edit (HTTP 403): share the spreadsheet with "
                f"{self.account_email} as Editor"
            )
        return FeedbackNotWritten(str(exc))

    def _feedback_sheet_id(self, sid: str) -> int | None:
        reply = self.api.get_spreadsheet(sid, {"fields": "sheets.properties(sheetId,title)"})
        for sheet in reply.get("sheets") or []:
            props = sheet.get("properties") or {}
            if normalize(props.get("title", "")) == _FEEDBACK_KEY:
                return int(props.get("sheetId", 0))
        return None

    def _write_feedback(
        self,
        sid: str,
        sheet_id: int | None,
        rows: list[list[Any]],
        header_row: int,
        widths: list[float],
    ) -> None:
        self.api.batch_update(sid, feedback_requests(sheet_id, rows, header_row, widths))


def feedback_requests(
    sheet_id: int | None, rows: list[list[Any]], header_row: int, widths: list[float]
) -> list[dict[str, Any]]:
    """One batch that replaces the Hasil Pemeriksaan tab (adding it when `sheet_id` is None).

    `header_row` is the 1-based row of the column headers; rows above it stay visible (frozen).
    """
    n_rows = max(len(rows), header_row + 1)
    grid = {"rowCount": n_rows, "columnCount": FEEDBACK_COLS, "frozenRowCount": header_row}
    requests_: list[dict[str, Any]] = []
    if sheet_id is None:
        sheet_id = FEEDBACK_SHEET_ID
        requests_.append(
            {
                "addSheet": {
                    "properties": {
                        "sheetId": sheet_id,
                        "title": FEEDBACK_TAB,
                        "gridProperties": grid,
                    }
                }
            }
        )
    else:
        requests_.append(
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "gridProperties": grid},
                    "fields": "gridProperties.rowCount,gridProperties.columnCount,"
                    "gridProperties.frozenRowCount",
                }
            }
        )
    looks = feedback_styles(rows, header_row)
    header = {
        "textFormat": {"bold": True},
        "backgroundColor": rgb(HEADER_BG),
        "wrapStrategy": "WRAP",
        "verticalAlignment": "TOP",
    }
    wrap = {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"}
    row_data = []
    for index in range(n_rows):
        values = rows[index] if index < len(rows) else []
        cells = []
        for col in range(FEEDBACK_COLS):
            value = values[col] if col < len(values) else None
            look = looks.get((index + 1, col + 1))
            if index == header_row - 1:
                fmt: dict[str, Any] = header
            elif look is not None:
                fmt = _look_format(look, wrap=index >= header_row)
            elif index >= header_row and col >= 5:
                fmt = wrap
            else:
                fmt = {}
            entry: dict[str, Any] = {"userEnteredValue": cell(value), "userEnteredFormat": fmt}
            level = values[0] if values else None
            if index >= header_row and col == TICK_INDEX and level == PERINGATAN:
                # A checkbox staff click; a Galat row gets none (it cannot be acknowledged).
                entry["userEnteredValue"] = {"boolValue": value is True or value == TICKED}
                entry["dataValidation"] = {"condition": {"type": "BOOLEAN"}, "strict": True}
            cells.append(entry)
        row_data.append({"values": cells})
    requests_.append(
        {
            "updateCells": {
                "range": {
                    "sheetId": sheet_id,
                    "startRowIndex": 0,
                    "endRowIndex": n_rows,
                    "startColumnIndex": 0,
                    "endColumnIndex": FEEDBACK_COLS,
                },
                "rows": row_data,
                "fields": "userEnteredValue,userEnteredFormat,dataValidation",
            }
        }
    )
    # The report card's long lines wrap across the table's width (see FEEDBACK_MERGES); the
    # merges of the previous write are undone first, whatever they were.
    whole = {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": n_rows}
    requests_.append({"unmergeCells": {"range": whole}})
    if header_row == FEEDBACK_HEADER_ROW:
        for row, first, last in FEEDBACK_MERGES:
            merged = {
                "sheetId": sheet_id,
                "startRowIndex": row - 1,
                "endRowIndex": row,
                "startColumnIndex": first - 1,
                "endColumnIndex": last,
            }
            requests_.append({"mergeCells": {"range": merged, "mergeType": "MERGE_ALL"}})
    for col, width in enumerate(widths[:FEEDBACK_COLS]):
        requests_.append(
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": col,
                        "endIndex": col + 1,
                    },
                    "properties": {
                        "pixelSize": pixels(width),
                        "hiddenByUser": col + 1 in FEEDBACK_HIDDEN,
                    },
                    "fields": "pixelSize,hiddenByUser",
                }
            }
        )
    return requests_


def checkboxes(rows: list[list[Any]]) -> list[list[Any]]:
    """Hasil Pemeriksaan rows as the Google tab holds them: Sudah Dicek as a checkbox's value
    (True for the "Ya" of an acknowledged warning)."""
    out = []
    for index, row in enumerate(rows):
        if index >= FEEDBACK_HEADER_ROW and len(row) > TICK_INDEX and row[0] == PERINGATAN:
            row = [*row[:TICK_INDEX], row[TICK_INDEX] == TICKED, *row[TICK_INDEX + 1 :]]
        out.append(row)
    return out


def _look_format(name: str, *, wrap: bool) -> dict[str, Any]:
    """A `FEEDBACK_LOOK` as a Sheets cell format."""
    look = FEEDBACK_LOOK[name]
    text: dict[str, Any] = {"bold": look.bold, "italic": look.italic}
    if look.color:
        text["foregroundColor"] = rgb(look.color)
    if look.size:
        text["fontSize"] = look.size
    fmt: dict[str, Any] = {"textFormat": text, "verticalAlignment": "TOP"}
    if look.fill:
        fmt["backgroundColor"] = rgb(look.fill)
    if wrap or look.wrap:
        fmt["wrapStrategy"] = "WRAP"
    return fmt


def _complete(titles: list[str]) -> bool:
    """Every contract tab is among `titles` (so a tab added since cannot change the reading)."""
    keys = {normalize(t) for t in titles}
    return all(keys & match for match in _CONTRACT)


def _not_native(exc: APIError) -> bool:
    error = exc.error if isinstance(exc.error, dict) else {}
    return exc.response.status_code == 400 and error.get("status") == "FAILED_PRECONDITION"
