"""Checking a candidate file before it may replace the workbook.

The zip's CRCs; every entry that was not edited is the same bytes, and every tab still points at
its own part; python-calamine reads the new tab back as written and, within a size budget
(`FULL_CHECK_MAX_SHEET_XML`), every other tab with the same values as before.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import python_calamine

from kkmp_sheets.core.tables import CellValue
from kkmp_sheets.sources.xlsx_patch.ooxml import PatchError
from kkmp_sheets.sources.xlsx_patch.package import _Changes, _Package
from kkmp_sheets.sources.xlsx_patch.values import _comparable, _read_sheet, _snapshot
from kkmp_sheets.sources.xlsx_patch.zipcopy import _copied_member

# Reading every sheet back through calamine costs about 0.03 s per MB of sheet XML, twice (before
# and after). Above this budget the value comparison is skipped: the structural check already
# proves each data tab is the same bytes under the same name, read with the same shared strings
# and the same (only appended-to) styles, so any reader sees the same values.
FULL_CHECK_MAX_SHEET_XML = 12_000_000


def _full_check_affordable(package: _Package, budget: int) -> bool:
    sheet_parts = {s.part for s in package.sheets if s.part}
    total = sum(package.info(part).file_size for part in sheet_parts)
    return total <= budget


@dataclass(frozen=True)
class _Expected:
    """What a candidate file must look like."""

    package: _Package  # the original
    names: list[str]  # tab names as calamine lists them
    tab_name: str
    adds_tab: bool
    cells: list[list[CellValue]]
    values: dict[str, object] | None  # other tabs' values, when affordable


def _verify(candidate: Path, expected: _Expected, changes: _Changes) -> None:
    try:
        blob = candidate.read_bytes()
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as error:
        raise _failed(f"not a readable zip: {error}") from None
    if broken is not None:
        raise _failed(f"zip entry {broken} is corrupt")
    try:
        reopened = _Package.open(candidate, blob)
    except PatchError as error:
        raise _failed(str(error)) from None
    _verify_structure(reopened, expected, changes)
    _verify_values(blob, expected)


def _failed(detail: str) -> PatchError:
    return PatchError(f"the updated workbook failed verification ({detail})")


def _verify_structure(candidate: _Package, expected: _Expected, changes: _Changes) -> None:
    """Unchanged entries are the same bytes, in the same order, and each tab keeps its part."""
    original = expected.package
    kept = [i for i in original.infos if i.filename not in changes.dropped]
    names = [i.filename for i in candidate.infos]
    if names != [i.filename for i in kept] + list(changes.added):
        raise _failed("the zip entries are not the original ones plus the new tab")
    for info in kept:
        if info.filename not in changes.replaced:
            twin = candidate.info(info.filename)
            same = (info.CRC, info.file_size) == (twin.CRC, twin.file_size)
            if not same or _payload(original, info) != _payload(candidate, twin):
                raise _failed(f"{info.filename} changed")
    if candidate.date1904 != original.date1904:
        raise _failed("the date system changed")
    added = 1 if expected.adds_tab else 0
    if len(candidate.sheets) != len(original.sheets) + added:
        raise _failed("unexpected number of tabs")
    for before, after in zip(original.sheets, candidate.sheets, strict=False):
        if (before.name, before.part) != (after.name, after.part):
            raise _failed(f"the tab {before.name!r} no longer points at its own data")


def _payload(package: _Package, info: zipfile.ZipInfo) -> bytes:
    return _copied_member(package, info).payload


def _verify_values(blob: bytes, expected: _Expected) -> None:
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(blob))
    except Exception as error:  # calamine's own hierarchy
        raise _failed(f"cannot be opened: {error}") from None
    if book.sheet_names != expected.names:
        raise _failed(f"tabs are {book.sheet_names}, expected {expected.names}")
    if _read_sheet(book, expected.tab_name) != _comparable(expected.cells):
        raise _failed(f"the tab {expected.tab_name!r} does not read back as written")
    if expected.values is not None and _snapshot(book, expected.tab_name) != expected.values:
        raise _failed("another tab reads differently")
