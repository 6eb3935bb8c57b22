"""What every source (local files, Google Sheets) offers the pipeline.

A source reads the registry, reads one cooperative's workbook as a `RawWorkbook`, and writes
that cooperative's Hasil Pemeriksaan tab — the only write the service ever makes into a
cooperative's workbook. A workbook that cannot be read raises `ReadFailure`, which the pipeline
turns into a problem on that cooperative's row; the cycle goes on.

What only some sources can do is part of the Protocol too, so that the pipeline calls it plainly
and mypy checks every source for it; a source without the capability answers with its neutral
value:

- `early_feedback`: write Hasil Pemeriksaan right after each read instead of after the whole
  cycle (Google: writes have their own quota and fit in the time reads wait anyway). False: at
  the end.
- `unchanged(coop, recorded)` and `version(coop)`: change detection. A source that can tell that
  a workbook is still as its snapshot at `recorded` shows it saves a read (Google: Drive's file
  version). False and None: always read.
- `close()`: let go of what the source holds open (Google: an HTTP session, a state file).
- `registry_issues(coops)`: problems of registry rows that only the source can see (local: a
  Spreadsheet path leading outside the allowed folders). None: an empty list.

Optional, looked up with `feedback_batch(source)`: a source's `feedback_batch()` context, inside
which its Hasil Pemeriksaan writes share their flush to disk (local: one folder fsync per batch
instead of one per workbook). A source without it writes each on its own. Optional too, looked
up with `submit_feedback(source, ...)`: a source's `submit_feedback`, which hands a write over
and answers at once with a `Pending` (local: to the batch's writer processes, when
`feedback_batch(workers)` started some); without it the write is done on the spot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from kkmp_sheets.core.issue import Issue, require_code
from kkmp_sheets.core.parse import RawWorkbook, Rows
from kkmp_sheets.core.registry import Coop


class ReadFailure(Exception):
    """One cooperative's workbook cannot be read; `code` is an issue code from the catalog."""

    def __init__(self, code: str, detail: str = "", expected: str = ""):
        require_code(code)  # refused where it is raised, not when the cycle makes its Issue
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.expected = expected


@runtime_checkable
class Source(Protocol):
    kind: str
    early_feedback: bool

    def registry_rows(self) -> Rows: ...

    def read(self, coop: Coop) -> RawWorkbook: ...

    def link(self, coop: Coop) -> str: ...

    def write_feedback(
        self, coop: Coop, rows: list[list[Any]], header_row: int, widths: list[float]
    ) -> bool: ...

    def unchanged(self, coop: Coop, recorded: str | None) -> bool:
        """True when the workbook is still as it was at version `recorded` (the snapshot's)."""
        ...

    def version(self, coop: Coop) -> str | None:
        """The version of the workbook the source would read now; None: not known."""
        ...

    def close(self) -> None: ...

    def registry_issues(self, coops: Sequence[Coop]) -> list[Issue]:
        """Problems of registry rows that only this source can see, e.g. a path it refuses."""
        ...


def feedback_batch(source: object, workers: int = 1) -> contextlib.AbstractContextManager[object]:
    """The source's batch of Hasil Pemeriksaan writes (see the module's docstring), or nothing.
    `workers` > 1: the source may hand the batch's writes to that many processes (local)."""
    opener = getattr(source, "feedback_batch", None)
    if opener is None:
        return contextlib.nullcontext()
    return opener(workers) if workers > 1 else opener()


class Pending(Protocol):
    """A Hasil Pemeriksaan write handed over (`submit_feedback`): `done()` says whether it has
    finished; `result()` waits and returns what `write_feedback` would have, or raises what it
    would have raised; then `version` is the workbook's version right after it (None: unknown)."""

    version: str | None

    def done(self) -> bool: ...

    def result(self) -> bool: ...


class Finished:
    """A write already done (on the spot, by a source that hands none over) or not needed."""

    def __init__(self, written: bool = False, error: Exception | None = None):
        self._written, self._error = written, error
        self.version: str | None = None

    def done(self) -> bool:
        return True

    def result(self) -> bool:
        if self._error is not None:
            raise self._error
        return self._written


def submit_feedback(
    source: Source, coop: Coop, rows: list[list[Any]], header_row: int, widths: list[float]
) -> Pending:
    """The source's `submit_feedback` (its writes may go on in other processes while the cycle
    makes the next rows), or `write_feedback` done now."""
    submit = getattr(source, "submit_feedback", None)
    if submit is not None:
        return submit(coop, rows, header_row, widths)
    try:
        return Finished(source.write_feedback(coop, rows, header_row, widths))
    except Exception as error:  # raised again by `result()`, where the cycle expects it
        return Finished(error=error)
