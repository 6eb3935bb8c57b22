"""Hasil Pemeriksaan written into local workbooks by `[performance] workers` processes at once.

Writing the tab (`xlsx_patch.write_tab`: read the package, plan, zip, verify, stage, swap) was
over half of a first cycle, done one workbook after another in the cycle's own process while the
other cores idled. The rows of each cooperative are still made in the cycle's process (they need
the cross-cooperative checks); a worker gets the rows and the workbook's path and does the write.

What stays as it is with one process:

- the guarantees of `xlsx_patch` (each write is the same `write_tab`, with its journal in the
  data folder; `staging` claims each journal's name exclusively, so that writers never share
  one);
- one flush of each folder per batch: a worker's commit flushes its staged file and journal as
  before, and names the workbook's folder back to the cycle's process, whose `WriteBatch` flushes
  every folder when the batch ends, before anything about the writes is recorded. The folder is
  added to the batch as soon as the write is answered, so a batch that ends early (an error)
  still flushes every write already swapped in;
- a failure belongs to its cooperative: `PatchError`'s message and `reason` travel back as they
  were raised; a worker that died or overran `[limits] seconds` fails that workbook's write
  only (`isolation.ReaderPool` starts another), and a write it left half done is settled by
  `staging.recover` on the next run, like one a crash interrupted;
- recovery of earlier crashes runs in the cycle's process before the first write is handed over,
  never while a worker writes.

A worker dies with the cycle's process (Linux: `PR_SET_PDEATHSIG`), as a power cut would take
both: a write never goes on behind a service that is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kkmp_sheets.core.report_card import (
    FEEDBACK_HIDDEN,
    FEEDBACK_LOOK,
    FEEDBACK_MERGES,
    feedback_comparable,
    feedback_row_heights,
    feedback_styles,
)
from kkmp_sheets.core.template import FEEDBACK_TAB
from kkmp_sheets.sources.isolation import ReaderPool
from kkmp_sheets.sources.limits import ReadLimits
from kkmp_sheets.sources.xlsx_patch import Look, PatchError, WriteBatch, write_tab

# What a write comes to: (written, the workbook's version right after it; None: not known).
Outcome = tuple[bool, "str | None"]


def write_feedback_tab(
    path: Path,
    rows: list[list[Any]],
    header_row: int,
    widths: Sequence[float],
    *,
    work_dir: Path | None,
    opened_as: Path | None,
    batch: WriteBatch | None,
) -> bool:
    """Hasil Pemeriksaan into the workbook at `path` (its real path), as `write_tab` does it."""
    return write_tab(
        path,
        FEEDBACK_TAB,
        rows,
        header_row=header_row,
        column_widths=widths,
        work_dir=work_dir,
        opened_as=opened_as,
        batch=batch,
        looks={name: Look(**asdict(look)) for name, look in FEEDBACK_LOOK.items()},
        cell_looks=feedback_styles(rows, header_row),
        paper=True,
        compare=feedback_comparable,
        row_heights=feedback_row_heights(rows, header_row),
        merges=[(row, first, row, last) for row, first, last in FEEDBACK_MERGES],
        hidden_columns=FEEDBACK_HIDDEN,
    )


def version_text(info: os.stat_result) -> str:
    """A workbook file's version as `LocalSource.version` tells it (see there)."""
    return f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"


class PendingFeedback:
    """A Hasil Pemeriksaan write handed over: `result()` waits for it and returns what
    `write_feedback` would have (True: written; False: the tab already held the rows), or
    raises what it would have raised. `version`, once `result()` returned: the workbook's
    version right after the write (None: not known)."""

    def __init__(self, future: Future[Outcome]):
        self._future = future
        self.version: str | None = None

    @classmethod
    def now(cls, write: Callable[[], Outcome]) -> PendingFeedback:
        """A write done here and now (no workers): its outcome, or its exception, kept."""
        future: Future[Outcome] = Future()
        try:
            future.set_result(write())
        except Exception as error:
            future.set_exception(error)
        return cls(future)

    @classmethod
    def failed(cls, error: Exception) -> PendingFeedback:
        future: Future[Outcome] = Future()
        future.set_exception(error)
        return cls(future)

    def done(self) -> bool:
        return self._future.done()

    def result(self) -> bool:
        written, self.version = self._future.result()
        return written


class FeedbackWriters:
    """`workers` processes writing Hasil Pemeriksaan for one `batch` (see the module)."""

    def __init__(self, limits: ReadLimits, workers: int, batch: WriteBatch, work_dir: Path | None):
        self.workers = max(1, workers)
        self._pool = ReaderPool(limits, self.workers, write_in_worker)
        self._batch = batch
        self._work_dir = str(work_dir) if work_dir is not None else None
        # Names this batch in the workers, which keep one listing of leftovers per folder for it.
        self._token = secrets.token_hex(8)

    def submit(
        self,
        path: Path,
        opened_as: Path | None,
        rows: list[list[Any]],
        header_row: int,
        widths: Sequence[float],
    ) -> PendingFeedback:
        answer = self._pool.submit(
            path,
            self._work_dir,
            str(opened_as) if opened_as is not None else None,
            rows,
            header_row,
            list(widths),
            self._token,
        )
        outcome: Future[Outcome] = Future()

        def answered(done: Future[Any]) -> None:
            # In the pool's thread, as soon as the worker answers: the folder joins the batch
            # even if the cycle never asks for this result (it stopped on an error).
            if done.cancelled():
                outcome.set_exception(PatchError(f"{path}: not written (the cycle stopped)"))
                return
            error = done.exception()
            if error is not None:  # the worker died or overran: see `isolation.ReaderProcess`
                outcome.set_exception(
                    PatchError(f"{path}: could not be updated ({error}); the file was not changed")
                )
                return
            status, text, reason = done.result()
            if status == "failed":
                outcome.set_exception(PatchError(text, reason))
                return
            if status == "written":
                self._batch.written(path.parent)
            outcome.set_result((status == "written", text))

        answer.add_done_callback(answered)
        return PendingFeedback(outcome)

    def close(self) -> None:
        """Wait for the writes under way, end the workers."""
        self._pool.close()


# --- in the worker --------------------------------------------------------------------------

_batch: tuple[str, WriteBatch] | None = None


def write_in_worker(
    path: str,
    limits: ReadLimits,
    work_dir: str | None,
    opened_as: str | None,
    rows: list[list[Any]],
    header_row: int,
    widths: list[float],
    token: str,
) -> tuple[str, str | None, str]:
    """The worker's task: ("written", version after, ""), ("unchanged", None, "") or
    ("failed", PatchError's message, its reason). Its batch is never flushed here: the
    cycle's process flushes the folders (see the module)."""
    global _batch
    if _batch is None:
        _die_with_parent()
    if _batch is None or _batch[0] != token:
        _batch = (token, WriteBatch())
    target = Path(path)
    try:
        written = write_feedback_tab(
            target,
            rows,
            header_row,
            widths,
            work_dir=Path(work_dir) if work_dir is not None else None,
            opened_as=Path(opened_as) if opened_as is not None else None,
            batch=_batch[1],
        )
    except PatchError as error:
        return ("failed", str(error), error.reason)
    if not written:
        return ("unchanged", None, "")
    try:
        return ("written", version_text(target.stat()), "")
    except OSError:
        return ("written", None, "")


def _die_with_parent() -> None:
    """Linux: this process is killed when the cycle's process dies."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent was already gone before the line above
        os.kill(os.getpid(), signal.SIGKILL)
