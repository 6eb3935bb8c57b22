"""Local mode of a parent instance: its registry of children and their status `.xlsx` files.

A child's status workbook is read for its aggregate tabs only (Metadata, Ringkasan and, when
asked, the sub-region tab) and never a cooperative workbook. Paths are confined as the
cooperative registry's are (`sources/local.py`): a Spreadsheet path must resolve inside the
registry's folder or `[source] root`, else the child is refused without being opened. The
file is checked against `[limits]` from its zip directory before it is parsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import python_calamine

from kkmp_sheets.core.federation import ChildEntry
from kkmp_sheets.core.metadata import Refused
from kkmp_sheets.errors import SourceError
from kkmp_sheets.sources.limits import ReadLimits, TooLarge, check_container
from kkmp_sheets.sources.local import _registry_from_csv, _registry_from_workbook


class Unreachable(Exception):
    """A child's status spreadsheet could not be read now; its message says why."""


def registry_rows(path: Path) -> list[list[Any]]:
    """The rows of the registry of children (a `.csv` or the first tab of an `.xlsx`)."""
    if not path.is_file():
        raise SourceError(f"registry {path} not found: check [source] registry in the config")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return [list(r) for r in _registry_from_workbook(path)]
    return _registry_from_csv(path)


class LocalChildReader:
    """Reads the aggregate tabs of children's status `.xlsx` files, inside `roots`."""

    def __init__(self, registry: Path, roots: Sequence[Path], limits: ReadLimits) -> None:
        self.base = Path(registry).parent
        self.roots = [Path(r).resolve() for r in roots] or [self.base.resolve()]
        self.limits = limits

    def locate(self, entry: ChildEntry) -> Path:
        given = Path(entry.spreadsheet).expanduser()
        path = given if given.is_absolute() else self.base / given
        try:
            real = path.resolve()
        except (OSError, RuntimeError):
            real = None
        if real is None or not any(real.is_relative_to(root) for root in self.roots):
            where = " atau ".join(str(r) for r in self.roots)
            raise Refused(f"berkas {entry.spreadsheet} berada di luar folder {where}")
        return real

    def read(self, entry: ChildEntry, tabs: Sequence[str]) -> dict[str, list[list[Any]]]:
        """The `tabs` the file has (a missing one is left out); `Unreachable` when the file
        cannot be read, `Refused` when it may not be (outside the roots, over the limits)."""
        path = self.locate(entry)
        if not path.is_file():
            raise Unreachable(f"berkas {entry.spreadsheet} tidak ada")
        try:
            check_container(path, self.limits)
        except TooLarge as exc:
            raise Refused(f"berkas terlalu besar untuk dibaca: {exc}") from None
        except Exception as exc:
            raise Unreachable(f"berkas {path.name} tidak terbaca: {exc}") from None
        try:
            book = python_calamine.CalamineWorkbook.from_path(str(path))
            return {
                name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)
                for name in tabs
                if name in book.sheet_names
            }
        except Exception as exc:  # a damaged or half-copied file: try again next cycle
            raise Unreachable(f"berkas {path.name} tidak terbaca: {exc}") from None

    def close(self) -> None:
        """Nothing is held open."""
