"""Local mode: the registry is a CSV or xlsx file, each cooperative an `.xlsx` in a folder.

Reading uses python-calamine (Rust; several times faster than openpyxl on the same files, see
`bench/bench_readers.py`), in a worker process under the `[limits]` of `sources/limits.py`, so
that a hostile or broken workbook costs only its own reading (`sources/isolation.py`). Writing the Hasil Pemeriksaan tab goes through `xlsx_patch`, which
touches nothing else in the workbook and keeps the file's modification time, because that time
is the cooperative's "Data Diperbarui".
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import python_calamine

from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.parse import RawWorkbook, Rows
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.template import REGISTRY, normalize
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.errors import SourceError
from kkmp_sheets.sources.base import ReadFailure
from kkmp_sheets.sources.feedback_writers import (
    FeedbackWriters,
    PendingFeedback,
    version_text,
    write_feedback_tab,
)
from kkmp_sheets.sources.isolation import ReaderProcess
from kkmp_sheets.sources.limits import ReadLimits
from kkmp_sheets.sources.reader import trim

if TYPE_CHECKING:
    from kkmp_sheets.sources.xlsx_patch import WriteBatch

log = logging.getLogger(__name__)


class LocalSource:
    """`roots`: the folders every workbook must resolve inside (default: the registry's own
    folder); `work_dir`: the service's data folder, where writes are staged (see
    `xlsx_patch.staging`)."""

    kind = "local"
    early_feedback = False  # Hasil Pemeriksaan after the cycle: a local write costs no quota

    def __init__(
        self,
        registry_path: str | Path,
        *,
        roots: Sequence[Path] = (),
        work_dir: Path | None = None,
        limits: ReadLimits | None = None,
    ):
        self.registry_path = Path(registry_path)
        self.roots = tuple(Path(r) for r in roots) or (self.registry_path.parent,)
        self.work_dir = work_dir
        self.limits = limits or ReadLimits()
        self._reader: ReaderProcess | None = None  # started at the first read
        self._recovered = False
        self._batch: WriteBatch | None = None  # see `feedback_batch`
        self._writers: FeedbackWriters | None = None  # the batch's writer processes, if any
        self._roots_resolved: list[Path] | None = None  # see `_real_roots`
        self._located: dict[Path, Path | None] = {}  # see `_confined`

    def close(self) -> None:
        """End the reader's worker process."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    # --- change detection: the file's identity and times ------------------------------------
    def unchanged(self, coop: Coop, recorded: str | None) -> bool:
        return recorded is not None and self.version(coop) == recorded

    def version(self, coop: Coop) -> str | None:
        """The workbook file as it stands: device, inode, size, modification and change times.
        Saving from Excel or LibreOffice replaces the file (a new inode); an edit in place moves
        the change time even when the modification time is put back (as `xlsx_patch` does).
        None when there is no file to tell (missing, outside the roots)."""
        if not coop.spreadsheet:
            return None
        try:
            st = self.locate(coop).stat()
        except (ReadFailure, OSError):
            return None
        return version_text(st)

    # --- registry ---------------------------------------------------------------------------
    def registry_rows(self) -> Rows:
        path = self.registry_path
        if not path.is_file():
            raise SourceError(
                f"registry {path} not found: set [source] registry to the CSV or xlsx listing the "
                "cooperatives (columns ID, Nama Koperasi, Kelurahan, Kecamatan, Spreadsheet, ...)"
            )
        if path.suffix.lower() in {".xlsx", ".xlsm", ".xls", ".ods"}:
            try:
                return _registry_from_workbook(path)
            except Exception as exc:
                raise SourceError(
                    f"registry {path} cannot be read as a spreadsheet: {exc}"
                ) from None
        return _registry_from_csv(path)

    def registry_issues(self, coops: Sequence[Coop]) -> list[Issue]:
        """A registry row whose Spreadsheet leads outside the allowed folders (an absolute path
        elsewhere, a `..` that climbs out, a symlink to elsewhere): the service neither reads
        nor writes that file, and says so on the row."""
        issues = []
        for coop in coops:
            if coop.spreadsheet and self._confined(self._given(coop)) is None:
                issues.append(
                    Issue(
                        "workbook-outside-root",
                        tab=REGISTRY.tab,
                        row=coop.row,
                        column="Spreadsheet",
                        expected=self.roots_text(),
                    )
                )
        return issues

    # --- one cooperative --------------------------------------------------------------------
    def locate(self, coop: Coop) -> Path:
        """The workbook's real path (symlinks followed), inside one of the roots; ReadFailure
        `workbook-outside-root` when it leads anywhere else."""
        real = self._confined(self._given(coop))
        if real is None:
            raise ReadFailure(
                "workbook-outside-root", detail=str(coop.row), expected=self.roots_text()
            )
        return real

    def link(self, coop: Coop) -> str:
        return str(self._given(coop))

    def _given(self, coop: Coop) -> Path:
        path = Path(coop.spreadsheet).expanduser()
        return path if path.is_absolute() else self.registry_path.parent / path

    def _confined(self, path: Path) -> Path | None:
        """`path` with its symlinks followed, if that is inside a root. Decided once per
        source, that is once per cycle: each workbook is located four or five times in a
        cycle, and following every folder of its path each time was a tenth of a cycle in
        which nothing changed. A link staff change mid-cycle is followed at the next one."""
        if path not in self._located:
            self._located[path] = self._resolve_confined(path)
        return self._located[path]

    def _resolve_confined(self, path: Path) -> Path | None:
        try:
            real = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            return None
        return real if any(real.is_relative_to(root) for root in self._real_roots()) else None

    def _real_roots(self) -> list[Path]:
        """The roots with their symlinks followed, once per source (each workbook of a cycle
        is located several times: resolving the roots again each time was a third of it)."""
        if self._roots_resolved is None:
            resolved = []
            for root in self.roots:
                try:
                    resolved.append(root.resolve())
                except (OSError, RuntimeError):
                    continue
            self._roots_resolved = resolved
        return self._roots_resolved

    def roots_text(self) -> str:
        """The allowed folders, for messages."""
        return " atau ".join(str(root) for root in self.roots)

    def read(self, coop: Coop) -> RawWorkbook:
        path, modified = self.where(coop)
        if self._reader is None:
            self._reader = ReaderProcess(self.limits)
        return RawWorkbook(tabs=self._reader.read(path), modified=modified)

    def where(self, coop: Coop) -> tuple[Path, datetime]:
        """The workbook's real path and modification time, before it is read (here or by a
        pool of readers); ReadFailure when there is no file to read."""
        if not coop.spreadsheet:
            raise ReadFailure("workbook-missing")
        path = self.locate(coop)
        try:
            modified = datetime.fromtimestamp(path.stat().st_mtime, tz=WIB)
        except FileNotFoundError:
            raise ReadFailure("workbook-missing") from None
        except OSError as exc:
            raise ReadFailure(
                "workbook-unreadable", detail=exc.strerror or type(exc).__name__
            ) from None
        return path, modified

    def write_feedback(
        self, coop: Coop, rows: list[list], header_row: int, widths: list[float]
    ) -> bool:
        """Write Hasil Pemeriksaan; a symlinked workbook is written through to its target (it
        stays a link). Raises `xlsx_patch.PatchError` (with a `reason`) when it cannot."""
        target = self._feedback_target(coop)
        if target is None:
            return False
        path, opened_as = target
        return write_feedback_tab(
            path,
            rows,
            header_row,
            widths,
            work_dir=self.work_dir,
            opened_as=opened_as,
            batch=self._batch,
        )

    def submit_feedback(
        self, coop: Coop, rows: list[list], header_row: int, widths: list[float]
    ) -> PendingFeedback:
        """`write_feedback` handed to the batch's writer processes (see `feedback_batch`), or
        done now when there are none; what it came to is the answer's `result()`."""
        if self._writers is None:
            return PendingFeedback.now(lambda: self._written_now(coop, rows, header_row, widths))
        try:
            target = self._feedback_target(coop)
        except Exception as error:
            return PendingFeedback.failed(error)
        if target is None:
            return PendingFeedback.now(lambda: (False, None))
        path, opened_as = target
        return self._writers.submit(path, opened_as, rows, header_row, widths)

    def _written_now(
        self, coop: Coop, rows: list[list], header_row: int, widths: list[float]
    ) -> tuple[bool, str | None]:
        written = self.write_feedback(coop, rows, header_row, widths)
        return written, self.version(coop) if written else None

    def _feedback_target(self, coop: Coop) -> tuple[Path, Path | None] | None:
        """The workbook's real path and the symlink staff open it through (or None); None when
        it is not an .xlsx. What an interrupted earlier write left is settled first, here in
        the cycle's process, before any write of this run (and never while a worker writes)."""
        from kkmp_sheets.sources import xlsx_patch

        if not self._recovered and self.work_dir is not None:
            self._recovered = True
            for action in xlsx_patch.recover(self.work_dir):
                log.warning("after an interrupted write: %s", action)
        path, given = self.locate(coop), self._given(coop)
        if path.suffix.lower() not in {".xlsx", ".xlsm"}:
            log.info("%s: %s is not an .xlsx; Hasil Pemeriksaan not written", coop.id, path.suffix)
            return None
        return path, given if given.is_symlink() else None

    @contextlib.contextmanager
    def feedback_batch(self, workers: int = 1) -> Iterator[None]:
        """Hasil Pemeriksaan writes made inside share one flush of each folder to disk, made when
        the batch ends (see `xlsx_patch.batch`), instead of one per workbook. `workers` > 1:
        `submit_feedback` hands the writes to that many processes (see `feedback_writers`),
        all finished before the folders are flushed."""
        from kkmp_sheets.sources import xlsx_patch

        with xlsx_patch.WriteBatch() as batch:
            self._batch = batch
            if workers > 1:
                self._writers = FeedbackWriters(self.limits, workers, batch, self.work_dir)
            try:
                yield
            finally:
                writers, self._writers, self._batch = self._writers, None, None
                if writers is not None:
                    writers.close()  # every write answered (its folder in the batch) first

    def recover(self) -> list[str]:
        """Settle what an interrupted write left (see `xlsx_patch.staging`); what was done."""
        from kkmp_sheets.sources import xlsx_patch

        self._recovered = True
        return xlsx_patch.recover(self.work_dir) if self.work_dir is not None else []


def _registry_from_workbook(path: Path) -> Rows:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    wanted = normalize(REGISTRY.tab)
    name = next((n for n in book.sheet_names if normalize(n) == wanted), book.sheet_names[0])
    return trim(book.get_sheet_by_name(name).to_python(skip_empty_area=False))


def _registry_from_csv(path: Path) -> Rows:
    raw = path.read_bytes()
    # Excel on Windows saves CSV in the ANSI code page; UTF-8 (with or without BOM) first.
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    first_line = text.split("\n", 1)[0]
    # Indonesian-locale Excel writes ";" separated CSV (the "," is the decimal mark).
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
