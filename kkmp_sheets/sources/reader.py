"""Reading one workbook's tabs: the work done inside the reader's worker process.

`read_tabs` is a plain function of a path and `ReadLimits` that returns picklable rows, so that
it can run in any worker (`sources/isolation.py` runs it in a child process whose address space
is capped; a pool of such workers runs it just the same). It checks the container first
(`limits.check_container`), then reads with python-calamine, bounding each tab's rows, columns
and cells before they become Python objects.
"""

from __future__ import annotations

import resource
import zipfile
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import python_calamine

from kkmp_sheets.core import acknowledge
from kkmp_sheets.core.template import FEEDBACK_TAB, TICKS_TAB, normalize
from kkmp_sheets.sources.limits import ReadLimits, TooLarge, check_container, grouped

Rows = list[list[Any]]


class Unreadable(Exception):
    """Not a workbook the reader can open; the message says why, in Indonesian, for staff."""


def read_tabs(path: str, limits: ReadLimits) -> dict[str, Rows]:
    """Every tab of the workbook at `path` but Hasil Pemeriksaan, as rows from A1 with trailing
    blank rows dropped; of Hasil Pemeriksaan only the keys of the rows staff ticked "Sudah
    Dicek", as the pseudo-tab `TICKS_TAB` (absent when none is ticked; see
    `core/acknowledge.py`). Raises `TooLarge` over a limit, `Unreadable` for a file it cannot
    open."""
    check_container(Path(path), limits)
    try:
        book = python_calamine.CalamineWorkbook.from_path(path)
        names = list(book.sheet_names)
    except Exception as exc:  # calamine raises several kinds for corrupt or foreign files
        raise Unreadable(_describe(exc, Path(path))) from None
    tabs: dict[str, Rows] = {}
    ticks: Rows = []
    cells = 0
    for name in names:
        try:
            sheet = book.get_sheet_by_name(name)
        except Exception as exc:
            raise Unreadable(_describe(exc, Path(path))) from None
        rows, columns = _extent(sheet)
        if rows > limits.max_rows:
            raise TooLarge(
                f"tab {name} berisi {grouped(rows)} baris, batasnya {grouped(limits.max_rows)}"
            )
        if columns > limits.max_columns:
            raise TooLarge(
                f"tab {name} memakai {grouped(columns)} kolom, batasnya {grouped(limits.max_columns)}"
            )
        cells += rows * columns
        if cells > limits.max_cells:
            raise TooLarge(
                f"tab-tabnya berisi lebih dari {grouped(limits.max_cells)} sel (batasnya), "
                f"sampai tab {name}"
            )
        if normalize(name) == normalize(FEEDBACK_TAB):  # our own output: only staff's ticks
            ticks = acknowledge.ticks_of_feedback(sheet.to_python(skip_empty_area=False))
            continue
        if name == TICKS_TAB:
            continue  # cannot be a tab's name; never taken for the ticks
        tabs[name] = trim(sheet.to_python(skip_empty_area=False))
    if ticks:
        tabs[TICKS_TAB] = ticks
    return tabs


def _extent(sheet: python_calamine.CalamineSheet) -> tuple[int, int]:
    """Rows and columns counted from A1, as `to_python(skip_empty_area=False)` will make them."""
    if sheet.height == 0 or sheet.width == 0:
        return 0, 0
    end_row, end_column = sheet.end or (0, 0)
    return end_row + 1, end_column + 1


def trim(rows: Rows) -> Rows:
    """Drop trailing blank rows: formatting can stretch a sheet's used range far past its data."""
    end = len(rows)
    while end and all(c == "" or c is None for c in rows[end - 1]):
        end -= 1
    return rows[:end]


def _describe(exc: Exception, path: Path) -> str:
    text = str(exc) or type(exc).__name__
    if "password" in text.lower() or "encrypt" in text.lower():
        return "berkas dilindungi kata sandi"
    if zipfile.is_zipfile(path) is False and path.suffix.lower() == ".xlsx":
        return "berkas rusak atau bukan .xlsx"
    return text[:200]


# --- the worker process ------------------------------------------------------------------------


def cap_memory(memory_mb: int) -> None:
    """Cap this process's address space: a runaway allocation then fails here (a MemoryError,
    or a native abort that ends only this process) instead of taking the machine's memory."""
    limit = memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


Task = Callable[..., Any]  # task(path, limits, *extra) -> a picklable answer


def serve(conn: Connection, memory_mb: int, task: Task = read_tabs) -> None:
    """The worker's loop: run `task` on the workbook each request names (by default read its
    tabs; the cycle's task also parses and measures them, see `service/worker.py`), answer
    with what it returned or why not. Ends when the parent closes its end (or dies)."""
    cap_memory(memory_mb)
    while True:
        try:
            path, limits, extra = conn.recv()
        except (EOFError, OSError):
            return
        answer: tuple[str, Any]
        try:
            answer = ("ok", task(path, limits, *extra))
        except TooLarge as exc:
            answer = ("too-large", str(exc))
        except Unreadable as exc:
            answer = ("unreadable", str(exc))
        except MemoryError:
            answer = ("memory", "")
        except Exception as exc:  # one workbook's surprise must not end the worker
            answer = ("unreadable", _describe(exc, Path(path)))
        try:
            conn.send(answer)
        except MemoryError:
            del answer
            conn.send(("memory", ""))
