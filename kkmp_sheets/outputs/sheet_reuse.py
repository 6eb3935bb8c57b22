"""A table sheet's XML taken from the previous status workbook when its table did not change.

In a cycle where nothing changed, the status workbook's tables are those the file already
holds: writing the 391,000 cells of a province again was 40 % of such a cycle. So a *table
sheet* (one no chart draws from or stands on) is written so that its XML part stands on its
own:

- its strings are inline (`<is>`), not indices into the workbook's shared strings, which
  depend on every sheet written before it;
- every cell style has its index fixed when the workbook's styles are made (`pin_styles`), not
  in the order cells first use them.

A custom document property per table sheet (`kkmp-sheets lembar <n>`) holds the sheet's content
key, the CRC-32 of the part as written and a digest of its links (the part's relationships). The
next write of a sheet with the same key takes the part from the previous file instead of writing
its cells, after checking the part's CRC in the zip directory and its links against the
property: a file re-saved by Excel or LibreOffice (which rewrite
every part, keeping custom properties) is written afresh. The one cell that changes every
cycle, the note above the table ("... diperbarui <time> WIB"), is left out of the key and put
into the part.

What comes out is the bytes a fresh write makes; `tests/test_sheet_reuse.py` compares them.
"""

from __future__ import annotations

import hashlib
import io
import logging
import pickle
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import xlsxwriter
from xlsxwriter.utility import _preserve_whitespace, xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellStringTuple, Worksheet

from kkmp_sheets.core.tables import Sheet, StatusBook

log = logging.getLogger(__name__)

PROPERTY = "kkmp-sheets lembar"  # + " <n>": the n-th worksheet part
_CUSTOM = "docProps/custom.xml"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_VT = "{http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes}lpwstr"
NO_SEAL = "-"  # until the part is written (`TableSheet._assemble_xml_file`)
MAX_PART = 512 << 20  # a previous part larger than this is not read back (a hostile file)


def table_sheets(book: StatusBook) -> set[str]:
    """The sheets no chart draws from or stands on: a chart reads its cells back through the
    workbook's shared strings, so those sheets are written the usual way."""
    charted = {c.data_sheet for c in book.charts} | {c.place_on for c in book.charts}
    return {sheet.name for sheet in book.sheets if sheet.name not in charted}


def content_key(sheet: Sheet, *, number: int, name: str, links_from: Path | None) -> str:
    """What a table sheet's part depends on, but its note's text: the rows, columns and print
    setup, where it stands in the workbook, the folder its file links are relative to, and the
    code that writes it."""
    digest = hashlib.sha256(_code_digest().encode())
    head = (
        number,
        name,
        str(links_from),
        sheet.columns,
        sheet.print_setup,
        bool(sheet.note),
    )
    digest.update(repr(head).encode())
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True  # no memo: equal rows give equal bytes, however their objects are shared
    pickler.dump(sheet.rows)
    digest.update(buffer.getbuffer())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """The modules that shape a part (this one, `xlsx*.py` and `style.py`), and the xlsxwriter
    that writes it."""
    digest = hashlib.sha256(xlsxwriter.__version__.encode())
    here = Path(__file__)
    for path in (here, here.with_name("style.py"), *sorted(here.parent.glob("xlsx*.py"))):
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class Part:
    """A worksheet part of the previous file and its external links (hyperlinks), in order."""

    xml: str
    links: list[list[str]]


class Previous:
    """The table sheets of the status workbook a write is about to replace."""

    def __init__(
        self, parts: dict[int, tuple[str, int, str]], archive: zipfile.ZipFile | None
    ) -> None:
        self._parts = parts  # worksheet number -> (content key, CRC-32, links digest)
        self._archive = archive

    @classmethod
    def read(cls, path: Path) -> Previous:
        """Never fails: a missing, unreadable or foreign file has nothing to reuse."""
        try:
            archive = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile, ValueError):
            return cls({}, None)
        try:
            parts = _recorded(archive)
        except Exception as exc:  # any damage in the old file only costs the reuse
            log.info("previous status workbook's sheet keys unreadable (%s): written afresh", exc)
            parts = {}
        if not parts:
            archive.close()
            return cls({}, None)
        return cls(parts, archive)

    def part(self, number: int, key: str) -> Part | None:
        """The n-th worksheet part when it was written with `key` and is still as written."""
        recorded = self._parts.get(number)
        if recorded is None or recorded[0] != key or self._archive is None:
            return None
        name = f"xl/worksheets/sheet{number}.xml"
        try:
            info = self._archive.getinfo(name)
            if recorded[1] != info.CRC or info.file_size > MAX_PART:
                return None
            xml = self._archive.read(info).decode("utf-8")  # checks the CRC as it reads
            links = _links(self._archive, f"xl/worksheets/_rels/sheet{number}.xml.rels")
        except Exception as exc:  # a damaged entry: this sheet is written afresh
            log.info("previous %s unreadable (%s): written afresh", name, exc)
            return None
        if links_digest(links) != recorded[2]:  # its links were edited since
            return None
        return Part(xml, links)

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None


def _recorded(archive: zipfile.ZipFile) -> dict[int, tuple[str, int, str]]:
    if _CUSTOM not in archive.namelist():
        return {}
    root = ElementTree.fromstring(archive.read(_CUSTOM))
    parts: dict[int, tuple[str, int, str]] = {}
    for prop in root:
        name = prop.get("name", "")
        value = prop.find(_VT)
        if not name.startswith(PROPERTY + " ") or value is None or not value.text:
            continue
        sealed = value.text.split(" ")
        if len(sealed) == 3 and NO_SEAL not in sealed:
            key, crc, links = sealed
            parts[int(name.rsplit(" ", 1)[1])] = (key, int(crc, 16), links)
    return parts


def _links(archive: zipfile.ZipFile, name: str) -> list[list[str]]:
    """The part's relationships as xlsxwriter keeps them: [type, target, mode]."""
    if name not in archive.namelist():
        return []
    links = []
    for rel in ElementTree.fromstring(archive.read(name)).iter(_PACKAGE_RELS):
        kind = rel.get("Type", "")
        if not kind.startswith(_RELATIONSHIPS):
            raise ValueError(f"unexpected relationship {kind!r}")
        links.append(
            [kind[len(_RELATIONSHIPS) :], rel.get("Target", ""), rel.get("TargetMode", "")]
        )
    return links


def links_digest(links: list[list[str]]) -> str:
    """A digest of a part's relationships, in order."""
    return hashlib.sha256(repr([list(link) for link in links]).encode()).hexdigest()[:32]


def pin_styles(workbook: Any) -> None:
    """Give every format its style index now, in the order they were made, so that a cell's
    style index does not depend on which cells came first in the workbook."""
    for fmt in workbook.formats:
        fmt._get_xf_index()


def with_note(xml: str, col: int, note: str, escape: Callable[[str], str]) -> str | None:
    """`xml` with the note cell (its first cell, in row 1 at column `col`) showing `note`; None
    when the part is not shaped as this module writes it (then the sheet is written afresh)."""
    cell = xl_rowcol_to_cell_fast(0, col)
    start = xml.find("<sheetData>")
    at = xml.find("<c ", start) if start >= 0 else -1
    if at < 0 or not xml.startswith(f'<c r="{cell}" ', at):
        return None
    text = xml.find(">", at) + 1
    if not xml.startswith("<is><t>", text) or _preserve_whitespace(note):
        return None  # whitespace at either end needs an attribute: written afresh
    end = xml.find("</t></is></c>", text)
    if end < 0:
        return None
    return xml[: text + len("<is><t>")] + escape(note) + xml[end:]


class TableSheet(Worksheet):
    """A worksheet with inline strings whose part is either written from its cells or taken
    from the previous file (`reuse`), and whose CRC is recorded in its custom property."""

    def __init__(self) -> None:
        super().__init__()
        self.reused: Part | None = None
        self._record: Callable[[int, str], None] | None = None

    def record_with(self, record: Callable[[int, str], None]) -> None:
        """`record(crc, links)` is called with the CRC-32 of the part and the digest of its
        links once it is written. The packager writes every worksheet part before the custom
        properties, so both get there."""
        self._record = record

    # Inline strings: the string itself in the cell table, not a shared-string index. Text is
    # cleaned and cut to Excel's limit before it gets here (`xlsx._CellWriter`).
    def _write_string(self, row: int, col: int, string: str, cell_format: Any = None) -> int:
        if self._check_dimensions(row, col):
            return -1
        self.table[row][col] = CellStringTuple(string, cell_format)
        return 0

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        if type(cell) is not CellStringTuple:
            super()._write_cell(row, col, cell)
            return
        # What xlsxwriter's inline path writes (`_xml_inline_string`), with its per-cell regexes
        # run only where they could change something. Never as rich-string XML (xlsxwriter
        # passes "<r>...</r>" through): cell text comes from cooperatives' sheets.
        ref = xl_rowcol_to_cell_fast(row, col)
        style = f' s="{cell.format._get_xf_index()}"' if cell.format else ""
        text = self.escaped(cell.string)
        space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
        self.fh.write(f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>')

    def _assemble_xml_file(self) -> None:
        if self.reused is not None:
            self.fh.write(self.reused.xml)
            self.external_hyper_links = [list(link) for link in self.reused.links]
        else:
            super()._assemble_xml_file()
        if self._record is not None:
            crc = zlib.crc32(self.fh.getvalue().encode("utf-8"))
            self._record(crc, links_digest(self.external_hyper_links))

    def escaped(self, text: str) -> str:
        """`text` as `_write_cell` puts it into the part: control characters as _xHHHH_ (and
        a literal _xHHHH_ escaped in turn), then &, < and > as entities."""
        if "_x" in text or not text.isprintable():
            text = self._escape_control_characters(text)
        if "&" in text or "<" in text or ">" in text:
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return text
