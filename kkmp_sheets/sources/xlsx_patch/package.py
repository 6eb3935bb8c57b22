"""The `.xlsx` as read (zip entries, relationships, tabs) and the `_Changes` planned to it.

`_read_file` and `_Package.open` refuse, with a message for the operator's log, whatever cannot be
edited safely: a missing, unreadable or empty file, an encrypted or old-format workbook, a damaged
zip, Strict Open XML. `_Changes` is the plan the other modules add to and the zip writer carries
out: entries to replace, add or drop.
"""

from __future__ import annotations

import io
import os
import posixpath
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote
from xml.etree import ElementTree as ET

from kkmp_sheets.sources.xlsx_patch.ooxml import (
    NS_CT,
    NS_MAIN,
    NS_PKG_REL,
    NS_REL,
    NS_STRICT_MAIN,
    RT_OFFICE_DOCUMENT,
    RT_WORKSHEET,
    PatchError,
)

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: encrypted OOXML, or a legacy .xls
_ZIP_MAGIC = b"PK\x03\x04"


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
# The plan


@dataclass
class _Changes:
    """Zip entries to replace (by existing name), add (at the end) or drop."""

    replaced: dict[str, bytes] = field(default_factory=dict)
    added: dict[str, bytes] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    relationship_ids: set[str] = field(default_factory=set)  # Ids added to workbook.xml.rels
