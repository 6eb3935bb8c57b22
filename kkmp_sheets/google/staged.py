"""A status book too large for one `batchUpdate`, written in several without showing half of it.

Google refuses a request body over 10 MiB (`api.MAX_BODY`); the city status batch reaches that at
about 2,000 cooperatives. Above a budget (`DEFAULT_BUDGET`, 8 MiB of serialized JSON) the sink
writes the book this way instead of in one request:

1. **staging** requests, each under the budget: every tab of the book added as a new, hidden tab
   named `~<tab> (baru)` (a warning-only protection on it, in case someone unhides it), its cells
   and formats written there. Large cell writes are cut into row slices. The visible tabs are not
   touched: a reader still sees the complete previous status.
2. **one final** request, small (no cells): the staged tabs unhidden, our previous tabs and their
   charts deleted, the staged tabs renamed to their real names and put in the book's order, their
   protection removed, the charts drawn on them. Google applies it entirely or not at all, so the
   readers go from the whole old status to the whole new one.

The charts are built against the staged tabs' sheet ids, which a rename keeps, so nothing needs
re-pointing; filters and conditional rules live on the staged tabs and move with them.

A crash between staging requests leaves hidden `~… (baru)` tabs and nothing visible changed. The
sink remembers their ids before the first staging request; the next write (staged or not) deletes
them first, in its own first request (`cleanup`). Any `StatusBook` can be written so (the city
status, a province's or the nation's Status Kab/Kota): nothing here knows the tabs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from kkmp_sheets.core.tables import StatusBook
from kkmp_sheets.google.status_batch import build_requests

DEFAULT_BUDGET = 8 * 1024 * 1024  # bytes of JSON per request: 2 MiB of headroom under Google's 10
STAGE_PREFIX, STAGE_SUFFIX = "~", " (baru)"
_ENVELOPE = len(b'{"requests":[]}')  # what `api.batch_body` adds around the requests
_SLICE_SHARE = 4  # a cell write over budget / 4 is cut into row slices of about that size


def staged_title(name: str) -> str:
    return f"{STAGE_PREFIX}{name}{STAGE_SUFFIX}"


def is_staged_title(title: str) -> bool:
    return title.startswith(STAGE_PREFIX) and title.endswith(STAGE_SUFFIX)


def request_bytes(request: dict[str, Any]) -> int:
    """One request's share of the body `api.batch_body` sends (without the comma between)."""
    text = json.dumps(request, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return len(text.encode("utf-8"))


def cleanup_requests(stale: list[int]) -> list[dict[str, Any]]:
    """Delete hidden staging tabs an interrupted staged write left behind."""
    return [{"deleteSheet": {"sheetId": sheet_id}} for sheet_id in stale]


@dataclass
class StagedPlan:
    staging: list[list[dict[str, Any]]]  # each one batchUpdate under the budget
    final: list[dict[str, Any]]  # the swap: one batchUpdate, no cells
    staging_ids: list[int]  # the hidden tabs, remembered before the first staging request
    layout: dict[str, Any]  # sheet ids and rule counts once the final request is applied
    sizes: list[int] = field(default_factory=list)  # body bytes of each request, final last

    @property
    def requests(self) -> int:
        return len(self.staging) + 1

    def unprotecting(self, replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The final request, also removing the staging tabs' protections: their ids are in the
        staging requests' `replies` (Google assigns them)."""
        ids = [
            r["addProtectedRange"]["protectedRange"]["protectedRangeId"]
            for r in replies
            if "addProtectedRange" in r
        ]
        final = [{"deleteProtectedRange": {"protectedRangeId": i}} for i in ids] + self.final
        self.sizes[-1] = _body_size(final)
        return final


def plan_staged(
    book: StatusBook,
    layout: dict[str, Any],
    old_charts: list[int],
    *,
    budget: int = DEFAULT_BUDGET,
    stale: list[int] = (),  # type: ignore[assignment]
) -> StagedPlan:
    """The requests that write `book` through hidden staging tabs (see the module docstring).

    `layout` is the spreadsheet as it is now (our tabs' ids by title, as `build_requests` takes
    it); `old_charts` our charts on it; `stale` staging tabs left by an interrupted write."""
    existing: dict[str, int] = dict(layout.get("sheets") or {})
    ours = [s.name for s in book.sheets if s.name in existing]
    # The book as staged tabs: new titles, so `build_requests` adds each as a new tab with a
    # free id; ids still in the spreadsheet (ours, the office's, stale staging) stay taken.
    taken = {f"\0taken {sid}": sid for sid in [*existing.values(), *stale]}
    staged_book = StatusBook(
        [replace(sheet, name=staged_title(sheet.name)) for sheet in book.sheets],
        [
            replace(
                chart,
                data_sheet=staged_title(chart.data_sheet),
                place_on=staged_title(chart.place_on),
            )
            for chart in book.charts
        ],
    )
    built, staged_layout = build_requests(staged_book, {"sheets": taken}, [])

    settings: list[dict[str, Any]] = []
    charts: list[dict[str, Any]] = []
    writes: list[dict[str, Any]] = list(cleanup_requests(list(stale)))
    staged_ids: dict[str, int] = {}
    for request in built:
        kind = next(iter(request))
        if kind == "updateSpreadsheetProperties":
            settings.append(request)
        elif kind == "addChart":
            charts.append(request)  # drawn by the final request, on the renamed tabs
        elif kind == "addSheet":
            props = request["addSheet"]["properties"]
            props.pop("index", None)  # after every visible tab until the swap
            props["hidden"] = True
            staged_ids[props["title"]] = props["sheetId"]
            writes.append(request)
            writes.append(_protect(props["sheetId"]))
        elif kind == "updateCells":
            writes.extend(_slices(request, budget // _SLICE_SHARE))
        else:
            writes.append(request)

    staging, sizes = _pack(writes, budget)
    final: list[dict[str, Any]] = [*settings]
    final += [{"deleteEmbeddedObject": {"objectId": chart_id}} for chart_id in old_charts]
    final += [
        {
            "updateSheetProperties": {
                "properties": {"sheetId": sid, "hidden": False},
                "fields": "hidden",
            }
        }
        for sid in staged_ids.values()
    ]
    final += [{"deleteSheet": {"sheetId": existing[name]}} for name in ours]
    for index, sheet in enumerate(book.sheets):
        sid = staged_ids[staged_title(sheet.name)]
        final.append(
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": sid, "title": sheet.name, "index": index},
                    "fields": "title,index",
                }
            }
        )
    final += charts
    sizes.append(_body_size(final))

    sheets = {t: sid for t, sid in existing.items() if t not in ours and not is_staged_title(t)}
    sheets.update({sheet.name: staged_ids[staged_title(sheet.name)] for sheet in book.sheets})
    rules = {
        k: v for k, v in (staged_layout.get("rules") or {}).items() if int(k) in sheets.values()
    }
    new_layout = {"sheets": sheets, "rules": rules, "charts": []}
    return StagedPlan(staging, final, list(staged_ids.values()), new_layout, sizes)


def _body_size(requests_: list[dict[str, Any]]) -> int:
    return _ENVELOPE + sum(request_bytes(r) + 1 for r in requests_) - 1


def _protect(sheet_id: int) -> dict[str, Any]:
    """A warning, not a lock: whoever unhides a staging tab is told it is being written. Google
    chooses its id (the field is read-only); `StagedPlan.unprotecting` removes it at the swap."""
    return {
        "addProtectedRange": {
            "protectedRange": {
                "range": {"sheetId": sheet_id},
                "description": "Sedang ditulis oleh kkmp-sheets; jangan diubah",
                "warningOnly": True,
            }
        }
    }


def _slices(request: dict[str, Any], piece: int) -> list[dict[str, Any]]:
    """An `updateCells` cut into row slices of about `piece` bytes each (the last slice keeps the
    range's end, so that what the whole request cleared is still cleared)."""
    body = request["updateCells"]
    rows = body.get("rows") or []
    if len(rows) < 2 or request_bytes(request) <= piece:
        return [request]
    out: list[dict[str, Any]] = []
    start = body["range"]["startRowIndex"]
    first, size = 0, 0
    for i, row in enumerate(rows):
        size += request_bytes(row) + 1
        last = i == len(rows) - 1
        if size >= piece or last:
            end = body["range"]["endRowIndex"] if last else start + i + 1
            grid = {**body["range"], "startRowIndex": start + first, "endRowIndex": end}
            out.append({"updateCells": {**body, "range": grid, "rows": rows[first : i + 1]}})
            first, size = i + 1, 0
    return out


def _pack(
    writes: list[dict[str, Any]], budget: int
) -> tuple[list[list[dict[str, Any]]], list[int]]:
    """Requests in order, greedily into batches whose body stays within `budget` bytes."""
    batches: list[list[dict[str, Any]]] = []
    sizes: list[int] = []
    current: list[dict[str, Any]] = []
    size = _ENVELOPE - 1  # no comma before the first request
    for request in writes:
        cost = request_bytes(request) + 1
        if current and size + cost > budget:
            batches.append(current)
            sizes.append(size)
            current, size = [], _ENVELOPE - 1
        if size + cost > budget:
            raise ValueError(f"one request of {cost:,} bytes exceeds the budget of {budget:,}")
        current.append(request)
        size += cost
    if current:
        batches.append(current)
        sizes.append(size)
    return batches, sizes
