"""Write the service's own tab, Hasil Pemeriksaan, into a cooperative's `.xlsx` and nothing else.

PRODUCT.md: "The service never changes a cooperative's data tabs. It owns exactly one tab in each
cooperative workbook, Hasil Pemeriksaan". In local mode the workbook is an `.xlsx` file that staff
also edit by hand, in Excel, LibreOffice or a phone app.

Why patch the zip package instead of loading and saving it with a library: openpyxl's load + save
drops charts, images, slicers, form controls and anything else it does not model, and rewrites
every part it does keep (styles renumbered, shared strings rebuilt). That would quietly damage the
cooperative's own data tabs. An `.xlsx` is a zip of XML parts, and adding one worksheet needs only
a handful of small edits, so this module:

- copies every existing zip entry as its stored (still compressed) bytes, in the same order and
  under the same name, so nothing we do not need to touch can change;
- edits `xl/workbook.xml` (one `<sheet/>`, plus the tab's `_xlnm._FilterDatabase` name that
  LibreOffice needs to show the autofilter), `xl/_rels/workbook.xml.rels` (one `<Relationship/>`)
  and `[Content_Types].xml` (one `<Override/>`) by inserting text, never by re-serialising the
  XML (ElementTree would rename namespace prefixes and break `mc:Ignorable`);
- appends, at most once per workbook, a bold font, two date formats and four cell formats at the
  END of the lists in `xl/styles.xml`, so every existing style index keeps its meaning;
- writes the tab itself as a new part, with inline strings (so `sharedStrings.xml` is untouched)
  and never a formula.

Replacing an existing Hasil Pemeriksaan (matched case-insensitively) swaps only that part (and
its filter range name) and keeps the tab where it is and as it is named. A new tab goes last so that `localSheetId` indexes of defined names stay valid.

The new package is written to a temp file next to the workbook and verified: zip CRCs; every entry
we did not edit is the same bytes and every tab still points at its own part; python-calamine
reads the new tab back as written and (within a size budget, see `FULL_CHECK_MAX_SHEET_XML`)
every other tab with the same values as before. Then it is moved over the original with
`os.replace` while a `.bak` hard link (or copy) of the original exists. Any failure leaves the original untouched and
raises `PatchError`, whose message is meant for the operator's log. The file's mtime is kept by
default: it is how the service knows when staff last edited the data.

`docProps/app.xml` (a cached list of tab titles) is left as it is: Excel and LibreOffice rebuild it
on save and do not check it on open.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import io
import math
import numbers
import os
import posixpath
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote
from xml.etree import ElementTree as ET

import python_calamine

from kkmp_sheets.tables import CellValue

__all__ = ["CellValue", "PatchError", "read_tab", "write_tab"]


class PatchError(Exception):
    """The workbook could not be read or written; the message says why, in plain English."""


# --------------------------------------------------------------------------------------------
# OOXML names

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
NS_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
RT_OFFICE_DOCUMENT = NS_REL + "/officeDocument"
RT_WORKSHEET = NS_REL + "/worksheet"
RT_STYLES = NS_REL + "/styles"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"

# Excel's hard limits.
MAX_CELL_CHARS = 32_767  # UTF-16 code units
MAX_ROWS = 1_048_576
MAX_COLS = 16_384
MAX_TITLE_CHARS = 31
# Excel shows and keeps 15 significant digits: a longer integer (a NIK, an account number) would
# silently change, so it is written as text instead.
MAX_EXACT_INT = 10**15

DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"

# The attributes of a start tag. Attribute values may contain ">" (XML allows it).
_ATTRS = r"""(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*"""

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: encrypted OOXML, or a legacy .xls
_ZIP_MAGIC = b"PK\x03\x04"


# --------------------------------------------------------------------------------------------
# Public API


def write_tab(
    path: Path,
    title: str,
    rows: Sequence[Sequence[CellValue]],
    *,
    header_row: int | None = None,
    column_widths: Sequence[float] | None = None,
    keep_mtime: bool = True,
) -> bool:
    """Put `rows` into the tab `title` of the workbook at `path`, creating or replacing that tab.

    `header_row` is the 1-based row holding column headers: it is bold, the sheet is frozen below
    it and an autofilter covers it. `column_widths` are in Excel's character units, from column A.
    Returns False, without touching the file, when the tab already holds exactly these values.
    Raises PatchError (file missing, locked, read-only, encrypted, not an .xlsx, damaged, or the
    result failed verification); the original file is then unchanged.
    """
    path = Path(path)
    _check_title(title)
    cells = _normalise_rows(rows)
    _check_layout(cells, header_row, column_widths)

    original_stat, blob = _read_file(path)
    package = _Package.open(path, blob)
    calamine_book = _calamine_open(path, blob)
    existing = package.find_sheet(title)
    if existing is not None:
        existing.require_worksheet(path)
        current = _read_sheet(calamine_book, existing.name)
        if not isinstance(current, _Unreadable) and current == _comparable(cells):
            return False

    tab_name = existing.name if existing is not None else title
    expected = _Expected(
        package=package,
        names=[*calamine_book.sheet_names, *([] if existing else [title])],
        tab_name=tab_name,
        adds_tab=existing is None,
        cells=cells,
        values=_snapshot(calamine_book, tab_name) if _full_check_affordable(package) else None,
    )
    changes = _plan_changes(package, title, cells, header_row, column_widths)
    new_blob = _write_zip(package, changes)

    def verify(candidate: Path) -> None:
        _verify(candidate, expected, changes)

    _commit(path, original_stat, new_blob, verify, keep_mtime=keep_mtime)
    return True


def read_tab(path: Path, title: str) -> list[list[CellValue]] | None:
    """The values of tab `title` (matched case-insensitively), or None when there is no such tab.

    Rows start at A1; an empty cell is None; trailing empty cells and rows are dropped; whole
    numbers come back as int, dated cells as date (or datetime when they carry a time of day).
    """
    path = Path(path)
    _, blob = _read_file(path)
    _Package.open(path, blob)  # for a clear message when the file is not a usable .xlsx
    book = _calamine_open(path, blob)
    name = _match_name(book.sheet_names, title)
    if name is None:
        return None
    values = _read_sheet(book, name)
    if isinstance(values, _Unreadable):
        raise PatchError(f"{path}: the tab {name!r} cannot be read ({values.reason})")
    return values


# --------------------------------------------------------------------------------------------
# Cell values: what is stored, and how it reads back


def _normalise_rows(rows: Sequence[Sequence[CellValue]]) -> list[list[CellValue]]:
    """The values exactly as they will be stored (and read back), row by row."""
    return [[_normalise_value(value) for value in row] for row in rows]


def _normalise_value(value: object) -> CellValue:
    # Subclasses (IntEnum, numpy and pandas scalars, Timestamp) become plain Python values, so
    # that what is written is a number's digits and never some type's repr().
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        number = int(value)
        # Beyond 15 digits Excel would round the number; keep it exact as text.
        return number if abs(number) < MAX_EXACT_INT else str(number)
    if isinstance(value, numbers.Real | decimal.Decimal):
        real = float(value)
        return real if math.isfinite(real) else str(value)
    if isinstance(value, dt.datetime):
        return _normalise_datetime(value)
    if isinstance(value, dt.date):
        day = dt.date(value.year, value.month, value.day)
        return day if day >= _FIRST_SERIAL_DATE else day.isoformat()
    text = _clean_text(value if isinstance(value, str) else str(value))
    return text or None


def _normalise_datetime(value: dt.datetime) -> CellValue:
    # Wall-clock time as given (the service works in WIB): Excel has no time zones, and keeps
    # milliseconds at best.
    try:
        moment = dt.datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond // 1000 * 1000,
        )
    except (TypeError, ValueError):  # e.g. pandas NaT
        return _clean_text(str(value)) or None
    return moment if moment >= _FIRST_SERIAL_DATETIME else moment.isoformat(sep=" ")


# XML 1.0 forbids these code points; lone surrogates cannot even be encoded as UTF-8.
_ILLEGAL_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean_text(text: str) -> str:
    text = _ILLEGAL_XML_CHARS.sub("", text)
    return _cap_length(text)


def _cap_length(text: str) -> str:
    """Cut `text` to Excel's cell limit, counted (as Excel does) in UTF-16 code units."""
    if len(text) <= MAX_CELL_CHARS // 2:  # fast path: cannot exceed even if all astral
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > MAX_CELL_CHARS:
            return text[:index]
    return text


def _comparable(rows: Iterable[Iterable[object]]) -> list[list[CellValue]]:
    """Rows in the shape `read_tab` returns, so written and read values compare equal."""
    result: list[list[CellValue]] = []
    for row in rows:
        cells = [_comparable_value(value) for value in row]
        while cells and cells[-1] is None:
            cells.pop()
        result.append(cells)
    while result and not result[-1]:
        result.pop()
    return result


def _comparable_value(value: object) -> CellValue:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()  # a date cell reads back as a date, whatever its format shows
    if isinstance(value, str | int | float | dt.date):
        return value
    return str(value)


# --------------------------------------------------------------------------------------------
# Arguments


_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _check_title(title: str) -> None:
    if (
        not title
        or len(title) > MAX_TITLE_CHARS
        or _TITLE_FORBIDDEN.search(title)
        or title.startswith("'")
        or title.endswith("'")
        or _ILLEGAL_XML_CHARS.search(title)
    ):
        raise ValueError(f"{title!r} is not a valid Excel tab name")


def _check_layout(
    cells: list[list[CellValue]], header_row: int | None, column_widths: Sequence[float] | None
) -> None:
    if len(cells) > MAX_ROWS or any(len(row) > MAX_COLS for row in cells):
        raise ValueError("too many rows or columns for an Excel sheet")
    if header_row is not None and not 1 <= header_row <= max(len(cells), 1):
        raise ValueError(f"header_row {header_row} is outside the {len(cells)} rows given")
    if column_widths is not None:
        if len(column_widths) > MAX_COLS:
            raise ValueError("too many column widths")
        for width in column_widths:
            if not 0 <= width <= 255:
                raise ValueError(f"column width {width} is outside Excel's 0..255")


# --------------------------------------------------------------------------------------------
# Reading the file and telling the operator what is wrong with it


def _read_file(path: Path) -> tuple[os.stat_result, bytes]:
    try:
        original_stat = path.stat()
        if not stat.S_ISREG(original_stat.st_mode):
            raise PatchError(f"{path}: is not a file")
        blob = path.read_bytes()
    except FileNotFoundError:
        raise PatchError(f"{path}: file not found") from None
    except PermissionError:
        raise PatchError(
            f"{path}: cannot be read (no permission, or locked by another program)"
        ) from None
    except OSError as error:
        raise PatchError(f"{path}: cannot be read ({error.strerror or error})") from None
    return original_stat, blob


def _not_a_zip_reason(blob: bytes) -> str:
    if blob.startswith(_CFB_MAGIC):
        # Excel stores a password-protected .xlsx inside an OLE2 container with these streams.
        if "EncryptionInfo".encode("utf-16-le") in blob:
            return (
                "is password-protected (encrypted); remove the password in Excel "
                "(File > Info > Protect Workbook) so the service can read and write it"
            )
        return "is an old-format Excel file (.xls); save it as an Excel Workbook (.xlsx)"
    if not blob:
        return "is empty (0 bytes)"
    if blob.startswith(_ZIP_MAGIC):
        return "is damaged (the zip structure is incomplete or corrupt)"
    return "is not an Excel workbook (.xlsx): it is not a zip file"


# --------------------------------------------------------------------------------------------
# The package: zip entries, relationships, sheets


class _Rel(NamedTuple):
    id: str
    type: str
    part: str  # the zip entry it points at; "" when external or missing


@dataclass
class _Sheet:
    name: str
    sheet_id: int
    rel_id: str
    rel_type: str
    part: str | None  # zip entry name of the sheet's part

    def require_worksheet(self, path: Path) -> None:
        if self.rel_type != RT_WORKSHEET or self.part is None:
            raise PatchError(
                f"{path}: the tab {self.name!r} is not an ordinary worksheet (perhaps a chart "
                "sheet); rename or delete it so the service can write its own tab"
            )


@dataclass
class _Package:
    path: Path
    blob: bytes
    zip: zipfile.ZipFile
    infos: list[zipfile.ZipInfo]
    by_lower_name: dict[str, zipfile.ZipInfo]
    workbook_part: str
    workbook_rels_part: str
    workbook_rels: list[_Rel]
    sheets: list[_Sheet]
    date1904: bool
    content_type_overrides: set[str] = field(default_factory=set)  # lower-case part names

    @classmethod
    def open(cls, path: Path, blob: bytes) -> _Package:
        try:
            archive = zipfile.ZipFile(io.BytesIO(blob))
        except (zipfile.BadZipFile, ValueError, OSError):
            raise PatchError(f"{path}: {_not_a_zip_reason(blob)}") from None
        infos = archive.infolist()
        by_lower_name: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.filename.lower() in by_lower_name:
                raise PatchError(f"{path}: is damaged (the zip lists {info.filename} twice)")
            if info.flag_bits & 0x1:
                raise PatchError(f"{path}: is damaged or not an .xlsx (zip entries are encrypted)")
            by_lower_name[info.filename.lower()] = info
        package = cls(path, blob, archive, infos, by_lower_name, "", "", [], [], False)
        package._load_structure()
        return package

    # -- reading parts

    def has(self, part: str) -> bool:
        return part.lower() in self.by_lower_name

    def info(self, part: str) -> zipfile.ZipInfo:
        return self.by_lower_name[part.lower()]

    def read(self, part: str) -> bytes:
        try:
            return self.zip.read(self.info(part))
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as error:
            raise PatchError(f"{self.path}: is damaged ({part}: {error})") from None

    def parse(self, part: str) -> ET.Element:
        try:
            return ET.fromstring(self.read(part))
        except ET.ParseError as error:
            raise PatchError(
                f"{self.path}: is damaged ({part} is not valid XML: {error})"
            ) from None

    def not_xlsx(self, detail: str) -> PatchError:
        return PatchError(f"{self.path}: is a zip file but not an Excel workbook (.xlsx): {detail}")

    # -- structure

    def _load_structure(self) -> None:
        if not self.has("[Content_Types].xml"):
            raise self.not_xlsx("[Content_Types].xml is missing")
        types = self.parse("[Content_Types].xml")
        self.content_type_overrides = {
            el.get("PartName", "").lstrip("/").lower() for el in types.iter(f"{{{NS_CT}}}Override")
        }
        self.workbook_part = self._find_workbook_part()
        root = self.parse(self.workbook_part)
        if root.tag == f"{{{NS_STRICT_MAIN}}}workbook":
            raise PatchError(
                f"{self.path}: is saved as 'Strict Open XML'; save it as an ordinary "
                "Excel Workbook (.xlsx)"
            )
        if root.tag != f"{{{NS_MAIN}}}workbook":
            raise self.not_xlsx(f"{self.workbook_part} is not a spreadsheet workbook")
        self.workbook_rels_part = _rels_part_of(self.workbook_part)
        self.workbook_rels = self._relationships(self.workbook_part)
        properties = root.find(f"{{{NS_MAIN}}}workbookPr")
        flag = properties.get("date1904", "") if properties is not None else ""
        self.date1904 = flag.lower() in ("1", "true")
        self.sheets = self._sheets(root)

    def _find_workbook_part(self) -> str:
        if not self.has("_rels/.rels"):
            raise self.not_xlsx("_rels/.rels is missing")
        for el in self.parse("_rels/.rels").iter(f"{{{NS_PKG_REL}}}Relationship"):
            if el.get("Type") == RT_OFFICE_DOCUMENT and el.get("TargetMode") != "External":
                part = _resolve_target("", el.get("Target", ""))
                if self.has(part):
                    return self.info(part).filename
        raise self.not_xlsx("it has no workbook part")

    def _relationships(self, source_part: str) -> list[_Rel]:
        rels_part = _rels_part_of(source_part)
        if not self.has(rels_part):
            return []
        found = []
        for el in self.parse(rels_part).iter(f"{{{NS_PKG_REL}}}Relationship"):
            resolved = ""
            if el.get("TargetMode") != "External":
                part = _resolve_target(source_part, el.get("Target", ""))
                resolved = self.info(part).filename if self.has(part) else ""
            found.append(_Rel(el.get("Id", ""), el.get("Type", ""), resolved))
        return found

    def _sheets(self, root: ET.Element) -> list[_Sheet]:
        by_id = {rel.id: (rel.type, rel.part) for rel in self.workbook_rels}
        sheets = []
        for el in root.iterfind(f"{{{NS_MAIN}}}sheets/{{{NS_MAIN}}}sheet"):
            rel_id = el.get(f"{{{NS_REL}}}id", "")
            rel_type, part = by_id.get(rel_id, ("", ""))
            try:
                sheet_id = int(el.get("sheetId", "0"))
            except ValueError:
                sheet_id = 0
            sheets.append(_Sheet(el.get("name", ""), sheet_id, rel_id, rel_type, part or None))
        if not sheets:
            raise self.not_xlsx("the workbook lists no sheets")
        return sheets

    def find_sheet(self, title: str) -> _Sheet | None:
        wanted = title.casefold()
        return next((s for s in self.sheets if s.name.casefold() == wanted), None)

    def related_part(self, rel_type: str) -> str | None:
        return next((r.part for r in self.workbook_rels if r.type == rel_type and r.part), None)


def _rels_part_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve_target(source_part: str, target: str) -> str:
    """The zip entry a relationship Target points at (relative to its source, or absolute)."""
    target = unquote(target.replace("\\", "/"))
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target)).lstrip("/")


def _relative_target(source_part: str, part: str) -> str:
    return posixpath.relpath(part, posixpath.dirname(source_part) or ".")


# --------------------------------------------------------------------------------------------
# Reading values with python-calamine (also how results are verified)


@dataclass(frozen=True)
class _Unreadable:
    reason: str


_SheetValues = list[list[CellValue]] | _Unreadable


def _calamine_open(path: Path, blob: bytes) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(blob))
    except Exception as error:  # calamine raises its own, undocumented, hierarchy
        raise PatchError(f"{path}: cannot be read as a workbook ({error})") from None


def _read_sheet(book: python_calamine.CalamineWorkbook, name: str) -> _SheetValues:
    try:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as error:  # e.g. a chart sheet, or a part calamine cannot parse
        return _Unreadable(f"{type(error).__name__}: {error}")
    return _comparable(rows)


def _snapshot(book: python_calamine.CalamineWorkbook, skip: str) -> dict[str, object]:
    """Every other sheet's values as calamine returns them (compared as they are, which is fast)."""
    values: dict[str, object] = {}
    for name in book.sheet_names:
        if name != skip:
            try:
                values[name] = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except Exception as error:  # unreadable before is fine, as long as it stays the same
                values[name] = _Unreadable(f"{type(error).__name__}: {error}")
    return values


def _match_name(names: Iterable[str], title: str) -> str | None:
    wanted = title.casefold()
    return next((name for name in names if name.casefold() == wanted), None)


# --------------------------------------------------------------------------------------------
# Planning the edits


@dataclass
class _Changes:
    """Zip entries to replace (by existing name), add (at the end) or drop."""

    replaced: dict[str, bytes] = field(default_factory=dict)
    added: dict[str, bytes] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    relationship_ids: set[str] = field(default_factory=set)  # Ids added to workbook.xml.rels


def _plan_changes(
    package: _Package,
    title: str,
    cells: list[list[CellValue]],
    header_row: int | None,
    column_widths: Sequence[float] | None,
) -> _Changes:
    changes = _Changes()
    styles = _plan_styles(package, changes)
    sheet_xml = _sheet_xml(cells, styles, package.date1904, header_row, column_widths)
    filter_range = _filter_range(cells, header_row)
    existing = package.find_sheet(title)
    workbook = package.read(package.workbook_part)
    text = _decode_bytes(package, package.workbook_part, workbook)
    if existing is not None and existing.part is not None:
        changes.replaced[existing.part] = sheet_xml
        # Whatever hung off the old tab (notes, a drawing someone added) would point at cells
        # that no longer exist; the tab is the service's, so it starts clean.
        old_rels = _rels_part_of(existing.part)
        if package.has(old_rels):
            changes.dropped.add(package.info(old_rels).filename)
        index, name, new_sheet = package.sheets.index(existing), existing.name, None
    else:
        part, new_sheet = _plan_new_sheet(package, title, changes)
        changes.added[part] = sheet_xml
        text = _insert_sheet_element(package, text, new_sheet)
        index, name = len(package.sheets), title
    text = _set_filter_name(package, text, index, name, filter_range)
    edited = _encode(text)
    if edited != workbook:
        _check_workbook_edit(package, workbook, edited, new_sheet, index)
        changes.replaced[package.workbook_part] = edited
    return changes


@dataclass(frozen=True)
class _NewSheet:
    name: str
    sheet_id: int
    rel_id: str


def _plan_new_sheet(package: _Package, title: str, changes: _Changes) -> tuple[str, _NewSheet]:
    """The part name of a new tab, registered in the relationships and content types."""
    folder = posixpath.dirname(package.workbook_part)
    part = _free_part_name(package, changes, folder, "worksheets/sheet")
    rel_id = _add_relationship(package, changes, RT_WORKSHEET, part)
    _add_content_type(package, changes, part, CT_WORKSHEET)
    sheet_id = max((s.sheet_id for s in package.sheets), default=0) + 1
    return part, _NewSheet(title, sheet_id, rel_id)


def _free_part_name(package: _Package, changes: _Changes, folder: str, stem: str) -> str:
    """A part name that no zip entry and no content-type override uses (case-insensitively)."""
    taken = {name.lower() for name in changes.added}
    for number in range(1, len(package.infos) + len(taken) + 2):
        part = posixpath.join(folder, f"{stem}{number}.xml")
        lower = part.lower()
        if not package.has(part) and lower not in package.content_type_overrides | taken:
            return part
    raise AssertionError("unreachable: there are more names than entries")


def _add_relationship(package: _Package, changes: _Changes, rel_type: str, part: str) -> str:
    used = {rel.id for rel in package.workbook_rels} | changes.relationship_ids
    number = len(used) + 1
    while f"rId{number}" in used:
        number += 1
    rel_id = f"rId{number}"
    changes.relationship_ids.add(rel_id)
    target = _relative_target(package.workbook_part, part)
    rels_part = package.workbook_rels_part
    if package.has(rels_part):
        rels_part = package.info(rels_part).filename
        text = _decode(package, rels_part, changes)
    else:  # cannot really happen (the sheets need it) but costs nothing to handle
        text = f'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="{NS_PKG_REL}"/>'
    prefix = _container(text, "Relationships", package, rels_part).prefix
    element = _element(prefix, "Relationship", {"Id": rel_id, "Type": rel_type, "Target": target})
    text = _append_children(text, "Relationships", [element], package, rels_part, count=None)
    _store(package, changes, rels_part, text)
    return rel_id


def _add_content_type(package: _Package, changes: _Changes, part: str, content_type: str) -> None:
    name = package.info("[Content_Types].xml").filename
    text = _decode(package, name, changes)
    prefix = _container(text, "Types", package, name).prefix
    element = _element(prefix, "Override", {"PartName": "/" + part, "ContentType": content_type})
    text = _append_children(text, "Types", [element], package, name, count=None)
    _store(package, changes, name, text)


def _insert_sheet_element(package: _Package, text: str, sheet: _NewSheet) -> str:
    """workbook.xml with one more `<sheet/>` as the last child of `<sheets>`, by text insertion."""
    prefix = _container(text, "sheets", package, package.workbook_part).prefix
    rel_prefix = _root_prefix_for(_encode(text), NS_REL)
    attributes = {"name": sheet.name, "sheetId": str(sheet.sheet_id)}
    if rel_prefix is None:
        # Declared locally: the root does not bind the relationships namespace to a prefix.
        attributes["xmlns:r"] = NS_REL
        rel_prefix = "r"
    attributes[f"{rel_prefix}:id"] = sheet.rel_id
    element = _element(prefix, "sheet", attributes)
    return _append_children(text, "sheets", [element], package, package.workbook_part, count=None)


# Excel's name for the range an autofilter covers. LibreOffice only shows the filter buttons when
# this sheet-scoped name exists; Excel writes it too.
_FILTER_NAME = "_xlnm._FilterDatabase"
_DEFINED_NAME = re.compile(
    r"<(?P<prefix>(?:[A-Za-z_][\w.\-]*:)?)definedName(?P<attrs>"
    + _ATTRS
    + r")(?:/>|>(?P<body>.*?)</(?P=prefix)definedName\s*>)",
    re.DOTALL,
)
_ATTRIBUTE = re.compile(r"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _set_filter_name(
    package: _Package,
    text: str,
    sheet_index: int,
    sheet_name: str,
    filter_range: tuple[int, int, int, int] | None,
) -> str:
    """workbook.xml with the tab's filter range name set to `filter_range` (dropped if None)."""
    value = None
    if filter_range is not None:
        top, left, bottom, right = filter_range
        first, last = f"${_column_letter(left)}${top}", f"${_column_letter(right)}${bottom}"
        quoted = "'" + sheet_name.replace("'", "''") + "'"
        value = _escape_text(f"{quoted}!{first}:{last}")
    for match in _DEFINED_NAME.finditer(text):
        attrs = {key: a or b for key, a, b in _ATTRIBUTE.findall(match.group("attrs"))}
        if attrs.get("name") != _FILTER_NAME or attrs.get("localSheetId") != str(sheet_index):
            continue
        if value is None:
            return text[: match.start()] + text[match.end() :]
        if match.group("body") is None:  # written as <definedName .../>: give it a body
            tag = match.group("prefix") + "definedName"
            element = f"<{tag}{match.group('attrs').rstrip()}>{value}</{tag}>"
            return text[: match.start()] + element + text[match.end() :]
        return text[: match.start("body")] + value + text[match.end("body") :]
    if value is None:
        return text
    prefix = _container(text, "sheets", package, package.workbook_part).prefix
    attributes = {"name": _FILTER_NAME, "localSheetId": str(sheet_index), "hidden": "1"}
    element = _element(prefix, "definedName", attributes, value)
    return _append_children(
        text,
        "definedNames",
        [element],
        package,
        package.workbook_part,
        count=None,
        create_after=("sheets", "functionGroups", "externalReferences"),
        root_prefix=prefix,
    )


def _check_workbook_edit(
    package: _Package, old: bytes, new: bytes, new_sheet: _NewSheet | None, sheet_index: int
) -> None:
    """Re-read the edited workbook.xml: only the new `<sheet/>` and the tab's filter name differ."""

    def fail(detail: str) -> PatchError:
        return PatchError(
            f"{package.path}: internal check failed while editing workbook.xml ({detail})"
        )

    try:
        old_root, new_root = ET.fromstring(old), ET.fromstring(new)
    except ET.ParseError as error:
        raise fail(str(error)) from None
    old_sheets, new_sheets = _sheet_entries(old_root), _sheet_entries(new_root)
    if new_sheet is not None:
        old_sheets.append((new_sheet.name, str(new_sheet.sheet_id), new_sheet.rel_id))
    if new_sheets != old_sheets:
        raise fail("the list of tabs")

    def others(root: ET.Element) -> list[_Tree]:
        return [
            _tree(el)
            for el in root.iterfind(f"{{{NS_MAIN}}}definedNames/{{{NS_MAIN}}}definedName")
            if (el.get("name"), el.get("localSheetId")) != (_FILTER_NAME, str(sheet_index))
        ]

    if others(old_root) != others(new_root):
        raise fail("defined names")
    skip = {f"{{{NS_MAIN}}}sheets", f"{{{NS_MAIN}}}definedNames"}
    old_rest = [_tree(el) for el in old_root if el.tag not in skip]
    new_rest = [_tree(el) for el in new_root if el.tag not in skip]
    if old_rest != new_rest or old_root.attrib != new_root.attrib:
        raise fail("other workbook settings")


def _sheet_entries(root: ET.Element) -> list[tuple[str | None, str | None, str | None]]:
    return [
        (el.get("name"), el.get("sheetId"), el.get(f"{{{NS_REL}}}id"))
        for el in root.iterfind(f"{{{NS_MAIN}}}sheets/{{{NS_MAIN}}}sheet")
    ]


_Tree = tuple[str, tuple[tuple[str, str], ...], str, tuple["_Tree", ...]]


def _tree(el: ET.Element) -> _Tree:
    """An element with its text, for comparing two versions of a part."""
    children = tuple(_tree(child) for child in el)
    return (el.tag, tuple(sorted(el.attrib.items())), (el.text or "").strip(), children)


def _store(package: _Package, changes: _Changes, part: str, text: str) -> None:
    data = _encode(text)
    if part in changes.added or not package.has(part):
        changes.added[part] = data
    else:
        changes.replaced[part] = data


def _decode(package: _Package, part: str, changes: _Changes) -> str:
    """A part's text, including edits already planned in this write."""
    data = changes.replaced.get(part)
    if data is None:
        data = changes.added.get(part)
    if data is None:
        data = package.read(part)
    return _decode_bytes(package, part, data)


def _decode_bytes(package: _Package, part: str, data: bytes) -> str:
    # The parts this module edits are UTF-8 in every producer seen; anything else is refused
    # rather than risk re-encoding it wrongly. A BOM is kept as the character U+FEFF.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PatchError(f"{package.path}: {part} is not UTF-8; cannot edit it safely") from None


def _encode(text: str) -> bytes:
    return text.encode("utf-8")


def _root_prefix_for(data: bytes, namespace: str) -> str | None:
    """The prefix the root element binds to `namespace`, or None (also for a default binding)."""
    for event, item in ET.iterparse(io.BytesIO(data), events=("start-ns", "start")):
        if event == "start":
            break
        prefix, uri = item
        # A default namespace cannot qualify attributes, so only a real prefix will do.
        if uri == namespace and prefix:
            return str(prefix)
    return None


# --------------------------------------------------------------------------------------------
# Text surgery on XML parts


@dataclass(frozen=True)
class _Span:
    prefix: str  # "" or "x:"
    start: int  # of the start tag
    start_end: int  # just after the start tag
    close: int  # start of the close tag (== start_end for an empty element)
    end: int  # just after the element
    empty: bool  # written as <name .../>


def _find_element(text: str, local: str, where: str) -> _Span | None:
    """The one element called `local` (any prefix) in `text`, or None; raise when ambiguous."""
    pattern = re.compile(rf"<(?P<prefix>[A-Za-z_][\w.\-]*:)?{re.escape(local)}(?={_ATTRS}/?>)")
    matches = list(pattern.finditer(text))
    if not matches:
        return None
    if len(matches) > 1:
        raise PatchError(f"{where}: unexpected structure ({len(matches)} <{local}> elements)")
    match = matches[0]
    prefix = match.group("prefix") or ""
    tag = re.compile(_ATTRS + r"(?P<empty>/)?>").match(text, match.end())
    if tag is None:  # excluded by the lookahead; keeps the type checker honest
        raise PatchError(f"{where}: unexpected structure around <{local}>")
    if tag.group("empty"):
        return _Span(prefix, match.start(), tag.end(), tag.end(), tag.end(), True)
    close = re.compile(rf"</{re.escape(prefix)}{re.escape(local)}\s*>").search(text, tag.end())
    if close is None:
        raise PatchError(f"{where}: <{local}> is not closed")
    return _Span(prefix, match.start(), tag.end(), close.start(), close.end(), False)


def _container(text: str, local: str, package: _Package, part: str) -> _Span:
    span = _find_element(text, local, f"{package.path}: {part}")
    if span is None:
        raise PatchError(f"{package.path}: is damaged ({part} has no <{local}>)")
    return span


def _append_children(
    text: str,
    local: str,
    children: list[str],
    package: _Package,
    part: str,
    *,
    count: int | None,
    create_after: Sequence[str] = (),
    root_prefix: str = "",
) -> str:
    """Append `children` at the end of element `local`, updating its `count` attribute.

    When the element is absent it is created after the last of `create_after` that exists (its
    schema predecessors), or as the first child of the root.
    """
    where = f"{package.path}: {part}"
    span = _find_element(text, local, where)
    body = "".join(children)
    if span is None:
        attrs = f' count="{count}"' if count is not None else ""
        new = f"<{root_prefix}{local}{attrs}>{body}</{root_prefix}{local}>"
        position = _creation_point(text, create_after, where)
        return text[:position] + new + text[position:]
    start_tag = text[span.start : span.start_end]
    if count is not None:
        start_tag = _set_count(start_tag, count)
    if span.empty:
        start_tag = start_tag[: -len("/>")].rstrip() + ">"
        closing = f"</{span.prefix}{local}>"
        return text[: span.start] + start_tag + body + closing + text[span.end :]
    return (
        text[: span.start]
        + start_tag
        + text[span.start_end : span.close]
        + body
        + text[span.close :]
    )


def _set_count(start_tag: str, count: int) -> str:
    # Only an existing count is updated: producers that omit it are left without one.
    return re.sub(
        r"""(\scount\s*=\s*)(["'])\d*\2""", rf"\g<1>\g<2>{count}\g<2>", start_tag, count=1
    )


def _creation_point(text: str, predecessors: Sequence[str], where: str) -> int:
    for local in reversed(predecessors):
        span = _find_element(text, local, where)
        if span is not None:
            return span.end
    root = re.compile(r"<(?![?!])[^\s/>]+" + _ATTRS + ">").search(text)
    if root is None:
        raise PatchError(f"{where}: has no root element")
    return root.end()


def _element(prefix: str, local: str, attributes: dict[str, str], children: str = "") -> str:
    attrs = "".join(f' {name}="{_escape_attr(value)}"' for name, value in attributes.items())
    if not children:
        return f"<{prefix}{local}{attrs}/>"
    return f"<{prefix}{local}{attrs}>{children}</{prefix}{local}>"


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(text: str) -> str:
    return (
        _escape_text(text)
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


# --------------------------------------------------------------------------------------------
# Styles: append what the tab needs, reuse what is already there


@dataclass(frozen=True)
class _StyleIds:
    header: int
    wrap: int
    date: int
    datetime: int


# A style-sheet element as plain data, to compare what we need with what a workbook has.
_Node = tuple[str, tuple[tuple[str, str], ...], tuple["_Node", ...]]

_STYLESHEET_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs")

_MINIMAL_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{NS_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _plan_styles(package: _Package, changes: _Changes) -> _StyleIds:
    part = package.related_part(RT_STYLES)
    if part is None:
        # Every producer writes a style sheet, but a bare package need not have one; dates
        # would read as plain numbers without it, so give the workbook a minimal one.
        folder = posixpath.dirname(package.workbook_part)
        part = posixpath.join(folder, "styles.xml")
        if package.has(part) or part.lower() in package.content_type_overrides:
            part = _free_part_name(package, changes, folder, "styles")
        _add_relationship(package, changes, RT_STYLES, part)
        _add_content_type(package, changes, part, CT_STYLES)
        text, ids = _extend_styles(_MINIMAL_STYLES, package, part)
        changes.added[part] = _encode(text)
        return ids
    original = _decode_bytes(package, part, package.read(part))
    text, ids = _extend_styles(original, package, part)
    if text != original:
        changes.replaced[part] = _encode(text)
    return ids


def _extend_styles(text: str, package: _Package, part: str) -> tuple[str, _StyleIds]:
    where = f"{package.path}: {part}"
    try:
        root = ET.fromstring(_encode(text))
    except ET.ParseError as error:
        raise PatchError(f"{where} is not valid XML ({error})") from None
    if root.tag != f"{{{NS_MAIN}}}styleSheet":
        raise PatchError(f"{where}: not a style sheet")
    fonts = _children(root, "fonts", "font")
    xfs = _children(root, "cellXfs", "xf")
    if not fonts or not xfs:
        raise PatchError(f"{where}: the style sheet has no fonts or no cell formats")
    root_prefix = _find_root_prefix(text)

    number_formats = _children(root, "numFmts", "numFmt")
    formats = {el.get("formatCode", ""): _int(el.get("numFmtId")) for el in number_formats}
    new_formats: list[_Node] = []
    next_format = max([163, *formats.values()]) + 1  # 0..163 are Excel's built-in formats

    def format_id(code: str) -> int:
        nonlocal next_format
        if code not in formats:
            formats[code] = next_format
            attrs = (("formatCode", code), ("numFmtId", str(next_format)))
            new_formats.append(("numFmt", attrs, ()))
            next_format += 1
        return formats[code]

    date_fmt, datetime_fmt = format_id(DATE_FORMAT), format_id(DATETIME_FORMAT)

    bold = _bold_font(fonts[0])
    font_nodes = [_font_key(_node(el)) for el in fonts]
    new_fonts: list[_Node] = []
    if _font_key(bold) in font_nodes:
        bold_id = font_nodes.index(_font_key(bold))
    else:
        bold_id = len(fonts)
        new_fonts.append(bold)

    top_wrap = ("alignment", (("vertical", "top"), ("wrapText", "1")), ())
    top = ("alignment", (("vertical", "top"),), ())
    wanted = {
        "header": _xf(numfmt=0, font=bold_id, alignment=top_wrap),
        "wrap": _xf(numfmt=0, font=0, alignment=top_wrap),
        "date": _xf(numfmt=date_fmt, font=0, alignment=top),
        "datetime": _xf(numfmt=datetime_fmt, font=0, alignment=top),
    }
    xf_nodes = [_node(el) for el in xfs]
    new_xfs: list[_Node] = []
    ids: dict[str, int] = {}
    for role, xf in wanted.items():
        if xf in xf_nodes:
            ids[role] = xf_nodes.index(xf)
        elif xf in new_xfs:
            ids[role] = len(xfs) + new_xfs.index(xf)
        else:
            ids[role] = len(xfs) + len(new_xfs)
            new_xfs.append(xf)

    edits = [
        ("cellXfs", new_xfs, len(xfs) + len(new_xfs)),
        ("fonts", new_fonts, len(fonts) + len(new_fonts)),
        ("numFmts", new_formats, len(number_formats) + len(new_formats)),
    ]
    for local, nodes, count in edits:  # later elements first, so earlier offsets stay valid
        if nodes:
            prefix = _child_prefix(text, local, root_prefix, where)
            children = [_serialise(prefix, node) for node in nodes]
            order = _STYLESHEET_ORDER[: _STYLESHEET_ORDER.index(local)]
            text = _append_children(
                text,
                local,
                children,
                package,
                part,
                count=count,
                create_after=order,
                root_prefix=root_prefix,
            )
    _check_styles_grew(root, text, where)
    return text, _StyleIds(**ids)


def _int(text: str | None) -> int:
    try:
        return int(text or "0")
    except ValueError:
        return 0


def _children(root: ET.Element, container: str, child: str) -> list[ET.Element]:
    return root.findall(f"{{{NS_MAIN}}}{container}/{{{NS_MAIN}}}{child}")


def _find_root_prefix(text: str) -> str:
    match = re.compile(r"<(?![?!])(?P<prefix>[A-Za-z_][\w.\-]*:)?[A-Za-z_]").search(text)
    return (match.group("prefix") or "") if match else ""


def _child_prefix(text: str, container: str, root_prefix: str, where: str) -> str:
    span = _find_element(text, container, where)
    return span.prefix if span is not None else root_prefix


def _node(el: ET.Element) -> _Node:
    local = el.tag.rsplit("}", 1)[-1]
    return (local, tuple(sorted(el.attrib.items())), tuple(_node(child) for child in el))


def _font_key(font: _Node) -> _Node:
    # The children of <font> may come in any order.
    return (font[0], font[1], tuple(sorted(font[2])))


def _bold_font(default_font: ET.Element) -> _Node:
    """The workbook's default font (size, face, colour, theme scheme), made bold."""
    children = tuple(
        _node(child)
        for child in default_font
        if child.tag.startswith(f"{{{NS_MAIN}}}") and child.tag != f"{{{NS_MAIN}}}b"
    )
    # Only plain attributes: a namespaced one could not be written back without its prefix.
    children = tuple(
        (local, tuple((k, v) for k, v in attrs if not k.startswith("{")), grandchildren)
        for local, attrs, grandchildren in children
    )
    return ("font", (), (("b", (), ()), *children))


def _xf(*, numfmt: int, font: int, alignment: _Node) -> _Node:
    attrs = {
        "numFmtId": str(numfmt),
        "fontId": str(font),
        "fillId": "0",
        "borderId": "0",
        "xfId": "0",
        "applyAlignment": "1",
    }
    if font:
        attrs["applyFont"] = "1"
    if numfmt:
        attrs["applyNumberFormat"] = "1"
    return ("xf", tuple(sorted(attrs.items())), (alignment,))


def _serialise(prefix: str, node: _Node) -> str:
    local, attrs, children = node
    # Attribute order means nothing to XML; Excel's own order just makes the part easier to read.
    ordered = sorted(attrs, key=lambda item: _ATTR_ORDER.get(item[0], len(_ATTR_ORDER)))
    inner = "".join(_serialise(prefix, child) for child in children)
    return _element(prefix, local, dict(ordered), inner)


_ATTR_ORDER = {
    name: index
    for index, name in enumerate(
        (
            "numFmtId",
            "formatCode",
            "fontId",
            "fillId",
            "borderId",
            "xfId",
            "applyNumberFormat",
            "applyFont",
            "applyAlignment",
            "vertical",
            "wrapText",
        )
    )
}


def _check_styles_grew(old_root: ET.Element, new_text: str, where: str) -> None:
    """Every list entry that existed keeps its place; the text surgery is re-checked by parsing."""
    try:
        new_root = ET.fromstring(_encode(new_text))
    except ET.ParseError:
        raise PatchError(f"{where}: internal check failed (edited styles are not XML)") from None
    for container, child in (("numFmts", "numFmt"), ("fonts", "font"), ("cellXfs", "xf")):
        old = [_node(el) for el in _children(old_root, container, child)]
        new = [_node(el) for el in _children(new_root, container, child)]
        count = new_root.find(f"{{{NS_MAIN}}}{container}")
        declared = count.get("count") if count is not None else None
        if new[: len(old)] != old or (declared is not None and int(declared) != len(new)):
            raise PatchError(f"{where}: internal check failed while adding cell formats")


# --------------------------------------------------------------------------------------------
# The worksheet part


_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)
# Excel's 1900 calendar wrongly has 29 Feb 1900; serials are only unambiguous from March 1900.
_FIRST_SERIAL_DATE = dt.date(1900, 3, 1)
_FIRST_SERIAL_DATETIME = dt.datetime(1900, 3, 1)
_OOXML_ESCAPE_LOOKALIKE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def _sheet_xml(
    cells: list[list[CellValue]],
    styles: _StyleIds,
    date1904: bool,
    header_row: int | None,
    column_widths: Sequence[float] | None,
) -> bytes:
    width = max((len(row) for row in cells), default=0)
    height = len(cells)
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">',
        f'<dimension ref="{_range_ref(1, 1, max(height, 1), max(width, 1))}"/>',
        _sheet_views(header_row),
        '<sheetFormatPr defaultRowHeight="15"/>',
        _cols_xml(column_widths),
        "<sheetData>",
    ]
    epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
    for index, row in enumerate(cells, start=1):
        if header_row is not None and index < header_row:
            role = "title"
        elif index == header_row:
            role = "header"
        else:
            role = "data"
        row_cells = [
            _cell_xml(f"{_column_letter(col)}{index}", value, role, styles, epoch)
            for col, value in enumerate(row, start=1)
            if value is not None
        ]
        if row_cells:
            out.append(f'<row r="{index}">{"".join(row_cells)}</row>')
    out.append("</sheetData>")
    out.append(_autofilter_xml(_filter_range(cells, header_row)))
    out.append(
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
    )
    out.append("</worksheet>")
    return _encode("".join(out))


def _sheet_views(header_row: int | None) -> str:
    if header_row is None:
        return '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
    top_left = f"A{header_row + 1}"
    return (
        '<sheetViews><sheetView workbookViewId="0">'
        f'<pane ySplit="{header_row}" topLeftCell="{top_left}" activePane="bottomLeft"'
        ' state="frozen"/>'
        f'<selection pane="bottomLeft" activeCell="{top_left}" sqref="{top_left}"/>'
        "</sheetView></sheetViews>"
    )


def _cols_xml(column_widths: Sequence[float] | None) -> str:
    if not column_widths:
        return ""
    cols = "".join(
        f'<col min="{index}" max="{index}" width="{float(width)!r}" customWidth="1"/>'
        for index, width in enumerate(column_widths, start=1)
    )
    return f"<cols>{cols}</cols>"


def _filter_range(
    cells: list[list[CellValue]], header_row: int | None
) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the autofilter: the header's columns, down to the last row."""
    if header_row is None or header_row > len(cells):
        return None
    header = cells[header_row - 1]
    width = max((i + 1 for i, value in enumerate(header) if value is not None), default=0)
    if width == 0:
        return None
    return header_row, 1, max(len(cells), header_row), width


def _autofilter_xml(filter_range: tuple[int, int, int, int] | None) -> str:
    return f'<autoFilter ref="{_range_ref(*filter_range)}"/>' if filter_range else ""


def _cell_xml(ref: str, value: CellValue, role: str, styles: _StyleIds, epoch: dt.datetime) -> str:
    if isinstance(value, str):
        style = {"header": styles.header, "data": styles.wrap}.get(role)
        return f'<c r="{ref}"{_style(style)} t="inlineStr"><is>{_text_xml(value)}</is></c>'
    plain = _style(styles.header if role == "header" else None)
    if isinstance(value, bool):
        return f'<c r="{ref}"{plain} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"{plain}><v>{value!r}</v></c>'
    if isinstance(value, dt.datetime):
        delta = value - epoch
        serial = delta.days + (delta.seconds * 1_000_000 + delta.microseconds) / 86_400_000_000
        return f'<c r="{ref}"{_style(styles.datetime)}><v>{serial!r}</v></c>'
    if isinstance(value, dt.date):
        serial_days = (value - epoch.date()).days
        return f'<c r="{ref}"{_style(styles.date)}><v>{serial_days}</v></c>'
    raise TypeError(f"unexpected cell value {value!r}")  # _normalise_value rules this out


def _style(index: int | None) -> str:
    return f' s="{index}"' if index else ""


def _text_xml(text: str) -> str:
    # "_x0041_" in a cell is Excel's own escape for "A"; "_x005F_" keeps it literal. A carriage
    # return is written as a character reference because XML parsers turn a raw one into "\n".
    text = _OOXML_ESCAPE_LOOKALIKE.sub(r"_x005F_\1", text)
    escaped = _escape_text(text).replace("\r", "&#13;")
    return f'<t xml:space="preserve">{escaped}</t>'


def _column_letter(index: int) -> str:
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _range_ref(top: int, left: int, bottom: int, right: int) -> str:
    first, last = f"{_column_letter(left)}{top}", f"{_column_letter(right)}{bottom}"
    return first if first == last else f"{first}:{last}"


# --------------------------------------------------------------------------------------------
# Writing the zip: stored bytes of unchanged entries are copied as they are


_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END_OF_CENTRAL = struct.Struct("<4sHHHHIIH")
_DEFLATED, _STORED = zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED
# Bits worth keeping from the original general-purpose flags: deflate level hint, UTF-8 names.
# The data-descriptor bit is dropped because sizes are written in the local header.
_KEPT_FLAGS = 0x0806


@dataclass(frozen=True)
class _Member:
    name: bytes
    flags: int
    method: int
    date_time: tuple[int, int, int, int, int, int]
    crc: int
    size: int
    payload: bytes  # as stored in the zip (compressed unless method is STORED)
    made_by: int
    external_attr: int
    internal_attr: int
    comment: bytes


def _write_zip(package: _Package, changes: _Changes) -> bytes:
    members: list[_Member] = []
    for info in package.infos:
        if info.filename in changes.dropped:
            continue
        new_data = changes.replaced.get(info.filename)
        if new_data is None:
            members.append(_copied_member(package, info))
        else:
            members.append(_replaced_member(info, new_data))
    template = package.info(package.workbook_part)
    for name, data in changes.added.items():
        members.append(_added_member(template, name, data))
    return _assemble(package, members)


def _stored_name(info: zipfile.ZipInfo) -> bytes:
    return info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")


def _copied_member(package: _Package, info: zipfile.ZipInfo) -> _Member:
    offset = info.header_offset
    header = package.blob[offset : offset + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size or header[:4] != _ZIP_MAGIC:
        raise PatchError(f"{package.path}: is damaged (bad zip entry {info.filename})")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + _LOCAL_HEADER.size + name_length + extra_length
    payload = package.blob[start : start + info.compress_size]
    if len(payload) != info.compress_size:
        raise PatchError(f"{package.path}: is damaged (zip entry {info.filename} is truncated)")
    return _Member(
        name=_stored_name(info),
        flags=info.flag_bits & _KEPT_FLAGS,
        method=info.compress_type,
        date_time=info.date_time,
        crc=info.CRC,
        size=info.file_size,
        payload=payload,
        made_by=(info.create_system << 8) | info.create_version,
        external_attr=info.external_attr,
        internal_attr=info.internal_attr,
        comment=info.comment,
    )


def _replaced_member(info: zipfile.ZipInfo, data: bytes) -> _Member:
    """New content under an existing entry's name, keeping that entry's metadata."""
    method = _STORED if info.compress_type == _STORED else _DEFLATED
    return _Member(
        name=_stored_name(info),
        flags=info.flag_bits & 0x800,
        method=method,
        date_time=info.date_time,
        crc=zlib.crc32(data),
        size=len(data),
        payload=_compress(data, method),
        made_by=(info.create_system << 8) | info.create_version,
        external_attr=info.external_attr,
        internal_attr=info.internal_attr,
        comment=info.comment,
    )


def _added_member(template: zipfile.ZipInfo, name: str, data: bytes) -> _Member:
    """A new entry, dated and attributed like the workbook part so the package looks uniform."""
    return _Member(
        name=name.encode("utf-8"),
        flags=0 if name.isascii() else 0x800,
        method=_DEFLATED,
        date_time=template.date_time,
        crc=zlib.crc32(data),
        size=len(data),
        payload=_compress(data, _DEFLATED),
        made_by=(template.create_system << 8) | template.create_version,
        external_attr=template.external_attr,
        internal_attr=0,
        comment=b"",
    )


def _compress(data: bytes, method: int) -> bytes:
    if method == _STORED:
        return data
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate, as zip stores it
    return compressor.compress(data) + compressor.flush()


def _dos_date_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    dos_date = (max(year - 1980, 0) << 9) | (month << 5) | day
    dos_time = (hour << 11) | (minute << 5) | (second // 2)
    return dos_date, dos_time


def _assemble(package: _Package, members: list[_Member]) -> bytes:
    out = io.BytesIO()
    central: list[bytes] = []
    for member in members:
        offset = out.tell()
        dos_date, dos_time = _dos_date_time(member.date_time)
        sizes = (member.crc, len(member.payload), member.size)
        out.write(
            _LOCAL_HEADER.pack(
                b"PK\x03\x04",
                20,
                member.flags,
                member.method,
                dos_time,
                dos_date,
                *sizes,
                len(member.name),
                0,
            )
        )
        out.write(member.name)
        out.write(member.payload)
        central.append(
            _CENTRAL_HEADER.pack(
                b"PK\x01\x02",
                member.made_by,
                20,
                member.flags,
                member.method,
                dos_time,
                dos_date,
                *sizes,
                len(member.name),
                0,
                len(member.comment),
                0,
                member.internal_attr,
                member.external_attr,
                offset,
            )
            + member.name
            + member.comment
        )
    directory = b"".join(central)
    directory_offset = out.tell()
    if directory_offset + len(directory) >= 0xFFFFFFFF or len(members) >= 0xFFFF:
        raise PatchError(f"{package.path}: the workbook is too large to update (over 4 GB)")
    comment = package.zip.comment
    out.write(directory)
    out.write(
        _END_OF_CENTRAL.pack(
            b"PK\x05\x06",
            0,
            0,
            len(members),
            len(members),
            len(directory),
            directory_offset,
            len(comment),
        )
    )
    out.write(comment)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Verifying a candidate file


# Reading every sheet back through calamine costs about 0.03 s per MB of sheet XML, twice (before
# and after). Above this budget the value comparison is skipped: the structural check already
# proves each data tab is the same bytes under the same name, read with the same shared strings
# and the same (only appended-to) styles, so any reader sees the same values.
FULL_CHECK_MAX_SHEET_XML = 12_000_000


def _full_check_affordable(package: _Package) -> bool:
    sheet_parts = {s.part for s in package.sheets if s.part}
    total = sum(package.info(part).file_size for part in sheet_parts)
    return total <= FULL_CHECK_MAX_SHEET_XML


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


# --------------------------------------------------------------------------------------------
# Committing: temp file, verification, backup, atomic replace


def _commit(
    path: Path,
    original_stat: os.stat_result,
    new_blob: bytes,
    verify: Callable[[Path], None],
    *,
    keep_mtime: bool,
) -> None:
    _check_writable(path, original_stat)
    _check_not_open(path)
    backup = path.with_name(path.name + ".bak")
    tmp: Path | None = None
    written: os.stat_result | None = None  # the new file, once it has replaced the original
    made_backup = False
    try:
        tmp = _write_temp(path, new_blob, original_stat, keep_mtime=keep_mtime)
        verify(tmp)
        _check_unchanged(path, original_stat)
        _make_backup(path, backup)
        made_backup = True
        tmp_stat = tmp.stat()
        os.replace(tmp, path)
        written, tmp = tmp_stat, None
        _fsync_folder(path.parent)
        if path.read_bytes() != new_blob:
            raise PatchError(f"{path}: the written file does not match what was written")
    except BaseException as error:
        if written is not None and made_backup and _same_file(path, written):
            # Put the original back, unless someone saved over our file in the meantime.
            try:
                os.replace(backup, path)
                made_backup = False
            except OSError:
                raise PatchError(
                    f"{path}: the write failed and the original could not be put back; "
                    f"it is saved as {backup}"
                ) from error
        _cleanup(tmp, backup if made_backup else None)
        if isinstance(error, PatchError):
            # Verification messages are about the temp file and do not name the workbook.
            if str(error).startswith(str(path)):
                raise
            raise PatchError(f"{path}: {error}; the file was not changed") from error
        if isinstance(error, Exception):
            raise PatchError(
                f"{path}: could not be updated ({_describe(error)}); the file was not changed"
            ) from error
        raise
    _cleanup(None, backup)


def _same_file(path: Path, written: os.stat_result) -> bool:
    try:
        now = path.stat()
    except OSError:
        return False
    fields = ("st_ino", "st_size", "st_mtime_ns")
    return all(getattr(now, name) == getattr(written, name) for name in fields)


def _describe(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _check_writable(path: Path, original_stat: os.stat_result) -> None:
    # Root passes os.access whatever the mode, so the write bits are checked too.
    if not original_stat.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise PatchError(f"{path}: is read-only; the service needs to write its tab into it")


def _check_not_open(path: Path) -> None:
    """Refuse while LibreOffice or Excel has the workbook open: staff's next save would clash."""
    for lock, program in (
        (path.with_name(f".~lock.{path.name}#"), "LibreOffice"),
        (path.with_name(f"~${path.name}"), "Excel"),
    ):
        if lock.exists():
            raise PatchError(
                f"{path}: is open in {program} (lock file {lock.name}); it will be updated "
                "when it is closed. If nobody has it open, delete the lock file"
            )


def _check_unchanged(path: Path, original_stat: os.stat_result) -> None:
    """Staff may have saved the workbook while it was being patched: then leave it alone."""
    now = path.stat()
    if (now.st_mtime_ns, now.st_size, now.st_ino) != (
        original_stat.st_mtime_ns,
        original_stat.st_size,
        original_stat.st_ino,
    ):
        raise PatchError(f"{path}: changed while it was being updated; try again")


def _write_temp(
    path: Path, data: bytes, original_stat: os.stat_result, *, keep_mtime: bool
) -> Path:
    # In the same folder so that os.replace is a rename on one file system, hence atomic.
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, stat.S_IMODE(original_stat.st_mode))
        if hasattr(os, "chown"):
            with contextlib.suppress(OSError):  # only possible as root or as the owner
                os.chown(tmp, original_stat.st_uid, original_stat.st_gid)
        if keep_mtime:
            # Set before the rename so the workbook never shows the service's write time.
            os.utime(tmp, ns=(original_stat.st_atime_ns, original_stat.st_mtime_ns))
    except BaseException:
        _cleanup(tmp, None)
        raise
    return tmp


def _make_backup(path: Path, backup: Path) -> None:
    # A leftover backup can only come from an interrupted run, after which `path` is either the
    # untouched original or a verified result: either way the leftover is redundant.
    backup.unlink(missing_ok=True)
    try:
        os.link(path, backup)  # instant, and no second copy of the bytes
    except OSError:  # file systems without hard links (FAT on a USB stick, some shares)
        backup.write_bytes(path.read_bytes())


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open folders; its rename is durable enough
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _cleanup(tmp: Path | None, backup: Path | None) -> None:
    for leftover in (tmp, backup):
        if leftover is not None:
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
