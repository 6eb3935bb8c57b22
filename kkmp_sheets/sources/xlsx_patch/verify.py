"""Checking the new package before it may replace the workbook, without reading the data tabs.

What a write may change is known exactly (`_Changes`), so the proof is in two halves:

- every entry the write did not edit is the original's entry: the same name, in the same order,
  with the same CRC-32, sizes, method and date in the central directory and in its local header,
  and its stored (compressed) bytes have the same CRC-32 as the original's stored bytes. The
  stored bytes are the whole of an entry's content, so whatever any reader shows from the data
  tabs, with the same shared strings and the same (only appended-to) styles, is what it showed
  before: their values need not be read, and are not;
- every entry the write edited or added is inflated and must be the planned bytes (and match its
  own CRC-32); the package's parts reopen (content types, relationships, workbook), each tab still
  points at its own part, the new tab at its new part, and a replaced style sheet still parses;
  the new tab, read back on its own (`sheet_read`), holds exactly the values asked for.

Only the small edited parts are inflated; the data tabs, whatever their size, cost one CRC-32
pass over their stored bytes.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from kkmp_sheets.core.tables import CellValue
from kkmp_sheets.sources.xlsx_patch.ooxml import RT_STYLES, PatchError
from kkmp_sheets.sources.xlsx_patch.package import _ZIP_MAGIC, _Changes, _Package
from kkmp_sheets.sources.xlsx_patch.sheet_read import read_own_sheet
from kkmp_sheets.sources.xlsx_patch.styles import _StyleIds
from kkmp_sheets.sources.xlsx_patch.values import _comparable
from kkmp_sheets.sources.xlsx_patch.zipcopy import _stored_name

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")


@dataclass(frozen=True)
class _Expected:
    """What a candidate package must look like."""

    package: _Package  # the original
    tab_name: str
    tab_part: str  # the zip entry the tab's values go into
    adds_tab: bool
    cells: list[list[CellValue]]
    styles: _StyleIds  # the cell formats the tab's part uses


def _verify(candidate: bytes, expected: _Expected, changes: _Changes) -> None:
    """Raise PatchError unless `candidate` is the original package with only `changes` made."""
    try:
        reopened = _Package.open(expected.package.path, candidate)
    except PatchError as error:
        raise _failed(str(error)) from None
    _verify_entries(reopened, expected.package, changes)
    _verify_tabs(reopened, expected)
    _verify_new_tab(reopened, expected, changes)


def _failed(detail: str) -> PatchError:
    return PatchError(f"the updated workbook failed verification ({detail})")


def _verify_entries(candidate: _Package, original: _Package, changes: _Changes) -> None:
    kept = [i for i in original.infos if i.filename not in changes.dropped]
    names = [i.filename for i in candidate.infos]
    if names != [i.filename for i in kept] + list(changes.added):
        raise _failed("the zip entries are not the original ones plus the new tab")
    for info in kept:
        twin = candidate.info(info.filename)
        edited = changes.replaced.get(info.filename)
        if edited is None:
            if _directory_record(info) != _directory_record(twin):
                raise _failed(f"{info.filename} changed (its zip record differs)")
            if _stored_crc(original, info, ours=False) != _stored_crc(candidate, twin, ours=True):
                raise _failed(f"{info.filename} changed (its stored bytes differ)")
        else:
            _check_edited(candidate, twin, edited)
    for name, data in changes.added.items():
        _check_edited(candidate, candidate.info(name), data)


def _directory_record(info: zipfile.ZipInfo) -> tuple[object, ...]:
    return (
        info.orig_filename,
        info.CRC,
        info.file_size,
        info.compress_size,
        info.compress_type,
        info.date_time,
    )


def _stored_span(package: _Package, info: zipfile.ZipInfo, *, ours: bool) -> tuple[int, int]:
    """Where an entry's stored bytes are. In the package this module wrote (`ours`) the local
    header must also agree with the central directory: readers differ in which one they trust."""
    offset = info.header_offset
    header = package.blob[offset : offset + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size or header[:4] != _ZIP_MAGIC:
        raise _failed(f"bad local header for {info.filename}")
    _, _, _, method, _, _, crc, compressed, size, name_length, extra_length = _LOCAL_HEADER.unpack(
        header
    )
    name_start = offset + _LOCAL_HEADER.size
    start = name_start + name_length + extra_length
    if ours and (
        (method, crc, compressed, size, extra_length)
        != (info.compress_type, info.CRC, info.compress_size, info.file_size, 0)
        or package.blob[name_start : name_start + name_length] != _stored_name(info)
    ):
        raise _failed(f"the local header of {info.filename} disagrees with the directory")
    if start + info.compress_size > len(package.blob):
        raise _failed(f"{info.filename} is truncated")
    return start, start + info.compress_size


def _stored_crc(package: _Package, info: zipfile.ZipInfo, *, ours: bool) -> int:
    start, end = _stored_span(package, info, ours=ours)
    return zlib.crc32(memoryview(package.blob)[start:end])


def _check_edited(candidate: _Package, info: zipfile.ZipInfo, planned: bytes) -> None:
    _stored_span(candidate, info, ours=True)
    try:
        data = candidate.zip.read(info)  # inflates and checks the entry's own CRC-32
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
        raise _failed(f"{info.filename} is corrupt: {error}") from None
    if data != planned:
        raise _failed(f"{info.filename} is not what was planned")


def _verify_tabs(candidate: _Package, expected: _Expected) -> None:
    original = expected.package
    if candidate.date1904 != original.date1904:
        raise _failed("the date system changed")
    added = 1 if expected.adds_tab else 0
    if len(candidate.sheets) != len(original.sheets) + added:
        raise _failed("unexpected number of tabs")
    for before, after in zip(original.sheets, candidate.sheets, strict=False):
        if (before.name, before.part) != (after.name, after.part):
            raise _failed(f"the tab {before.name!r} no longer points at its own data")
    tab = candidate.find_sheet(expected.tab_name)
    if tab is None or tab.name != expected.tab_name or tab.part != expected.tab_part:
        raise _failed(f"the tab {expected.tab_name!r} does not point at its new part")
    tab.require_worksheet(candidate.path)
    if expected.adds_tab and expected.tab_part.lower() not in candidate.content_type_overrides:
        raise _failed(f"{expected.tab_part} has no content type")


def _verify_new_tab(candidate: _Package, expected: _Expected, changes: _Changes) -> None:
    styles = candidate.related_part(RT_STYLES)
    if styles is not None and (styles in changes.replaced or styles in changes.added):
        try:
            ET.fromstring(candidate.read(styles))
        except ET.ParseError as error:
            raise _failed(f"{styles} is not valid XML: {error}") from None
    values = read_own_sheet(candidate.read(expected.tab_part), expected.styles, candidate.date1904)
    if values != _comparable(expected.cells):
        raise _failed(f"the tab {expected.tab_name!r} does not read back as written")
