"""Write the city status workbook (`tables.StatusBook`) to a local `.xlsx` file with xlsxwriter.

Choices, and why:

- **Atomic replace.** Officials open this file from a shared folder while the service runs, so a
  reader must never see a half-written workbook. It is written to a hidden temp file in the same
  folder (same filesystem, so the rename is atomic), flushed to disk, then `os.replace`d over the
  old one. On any failure the previous workbook stays as it was and the temp file is removed.
- **`write_string` for every text.** `Worksheet.write` guesses: `"=HYPERLINK(...)"` becomes a
  live formula and a URL becomes a link. Cell text comes from cooperatives' own sheets, so a
  formula-looking value must stay inert text. Numbers go through `write_number` and stay numbers
  (filterable, summable); only their display format is Indonesian. Thousands separators follow the
  reader's regional settings in Excel; the `[$-421]` locale tag gives Indonesian month names.
- **Timezones.** Excel has none: aware datetimes are converted to WIB (Asia/Jakarta) and written
  naive, like the rest of the book.
- **Links.** Only a link column (`Fmt.LINK`) holds links, with its text itself visible: an
  http(s) URL links to itself; an absolute path of a local workbook (local mode's Tautan) links
  to that file by a path *relative to the status workbook's folder* (`external:../workbooks/…`),
  so the link still opens when the whole folder is copied or shared under another drive letter
  (Excel and LibreOffice resolve it from the workbook's own place). Excel 2016+ accepts up to
  2,079 characters per URL (older Excel stops at 255) and 65,530 links per sheet; beyond either
  limit, or for a path with `#` (which Excel reads as a cell anchor), the text stays plain text,
  so it is never dropped.
- **Cell limits.** Text over Excel's 32,767 characters is cut (ending in "…"), control characters
  that XML 1.0 forbids are removed, integers of 16+ digits are written as text (Excel keeps only
  15 significant digits), NaN/NaT become blank cells, and `""` is blank too (so COUNTA is right).
- **Workbook options.** `constant_memory` stays off: charts cache their data by reading cells back
  from the worksheets. `in_memory` is on, so nothing is written outside the output folder (no
  stray files in the system temp dir). Zip64 is enabled only when the content could pass the
  plain-zip 2 GiB limit, since some readers (LibreOffice among them) have trouble with Zip64
  archives; a city-sized book is a few megabytes.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import logging
import math
import numbers
import os
import re
import secrets
import stat
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

from kkmp_sheets import crashpoints
from kkmp_sheets.core.tables import (
    Cell,
    CellValue,
    Chart,
    ChartKind,
    Col,
    Fmt,
    Sheet,
    StatusBook,
)
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.errors import OutputError
from kkmp_sheets.outputs import sheet_reuse
from kkmp_sheets.outputs.style import (
    DATES,
    HEADER_BG,
    LINE_HEIGHT,
    NOTE_COLOR,
    NUMERIC,
    ZONE_COLORS,
    fitted,
    header_width,
    number_width,
    signed,
    wrapped_lines,
)

log = logging.getLogger(__name__)

DEFAULT_TITLE = "Status Koperasi Desa/Kelurahan Merah Putih"


NUM_FORMATS: dict[Fmt, str] = {
    Fmt.TEXT: "@",
    Fmt.INT: "#,##0",
    Fmt.NUMBER: "#,##0.0#",
    Fmt.RUPIAH: "[$Rp-421]#,##0",
    Fmt.PERCENT: "0.0%",
    Fmt.DATE: "[$-421]d mmm yyyy",
    Fmt.DATETIME: "[$-421]d mmm yyyy hh:mm",
    Fmt.ZONE: "@",
    Fmt.LINK: "@",
}
_NUMERIC = NUMERIC
_DATES = DATES

MAX_TEXT = 32_767  # Excel's cell limit, in UTF-16 code units
MAX_URL = 2_079  # Excel 2016+ per URL (and per #anchor); xlsxwriter's default
MAX_LINKS = 65_530  # Excel's limit per worksheet
MAX_EXACT_INT = 10**15  # Excel stores 15 significant digits; larger integers would be rounded

# XML 1.0 forbids these; lone surrogates would also break the UTF-8 encoding of the file.
_SHORT = 1000  # far below MAX_TEXT
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HTTP_URL = re.compile(r"https?://\S+\Z", re.IGNORECASE)
_SHEET_NAME_ILLEGAL = re.compile(r"[\[\]:*?/\\]")
_ZIP64_THRESHOLD = 1 << 30  # estimated XML bytes; half the 2 GiB plain-zip limit, for margin
_UNCHANGED = "The previous workbook, if any, is unchanged."
A4 = 9  # xlsxwriter's paper code
# Inches. Narrower than Excel's 0.7" sides, so the table prints larger; room at the foot for the
# footer line.
MARGINS = {"left": 0.3, "right": 0.3, "top": 0.5, "bottom": 0.6}
FOOTER_MARGIN = 0.3
MAX_FOOTER_TEXT = 120  # Excel allows 255 characters for a whole footer, codes included


def write_status_workbook(book: StatusBook, path: Path, *, title: str = DEFAULT_TITLE) -> list[str]:
    """Write `book` to `path`, replacing any previous file in one step. Returns the sheets
    whose part was taken unchanged from the previous file (`sheet_reuse.py`).

    Raises `OutputError` naming the problem and the fix when the folder cannot be created or
    written, the disk is full, or the old file is locked (open in Excel).
    """
    path = Path(path)
    if path.is_symlink():  # replace the file it points to, not the link itself
        path = path.resolve()
    folder = path.parent
    _ensure_folder(folder)
    _clear_stale_temps(folder, path.name)
    previous = sheet_reuse.Previous.read(path)
    tmp, fd = _open_temp(folder, path.name)
    try:
        with os.fdopen(fd, "w+b") as handle:
            reused = _build_workbook(book, handle, title, folder, previous)
            handle.flush()
            # Data on disk before the rename, so a crash never leaves an empty "new" file.
            os.fsync(handle.fileno())
        _copy_mode(path, tmp)
        crashpoints.reached("status-staged")
        _replace(tmp, path)
        crashpoints.reached("status-replaced")
    except FileCreateError as exc:  # xlsxwriter wraps the OSError of its zip writer
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else exc
        raise OutputError(f"Cannot write {path}: {_reason(cause)}. {_UNCHANGED}") from exc
    except OSError as exc:
        raise OutputError(f"Cannot write {path}: {_reason(exc)}. {_UNCHANGED}") from exc
    finally:
        previous.close()
        # After a successful replace the temp name is gone; otherwise it must not linger.
        with contextlib.suppress(OSError):
            tmp.unlink()
    return reused


# --- files -----------------------------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    """The cause of an OSError in words an operator can act on."""
    code = getattr(exc, "errno", None)
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if code == errno.ENOSPC:
        return "the disk is full; free some space"
    if code == errno.EROFS:
        return "the disk is mounted read-only"
    return getattr(exc, "strerror", None) or str(exc)


def _ensure_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise OutputError(
            f"Cannot create the output folder {folder}: a file is in the way "
            f"({exc.filename or folder} is not a folder). Move that file, or set the output "
            "path to another folder."
        ) from exc
    except OSError as exc:
        raise OutputError(
            f"Cannot create the output folder {folder}: {_reason(exc)}. Create it and let the "
            "user running kkmp-sheets write there, or set the output path to another folder."
        ) from exc


def _clear_stale_temps(folder: Path, name: str) -> None:
    """Temp files of a publish that was killed before its rename (only one publish runs at a
    time: `serve.lock`), so none of them is in use."""
    for stale in folder.glob(f".~{glob.escape(name)}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()


def _open_temp(folder: Path, name: str) -> tuple[Path, int]:
    """A new hidden file next to the target (same filesystem, so `os.replace` is atomic).

    Created with mode 0o666 minus the umask, like any new file; `tempfile.mkstemp` would make
    it 0o600 and the published workbook unreadable to colleagues sharing the folder.
    """
    tmp = folder / f".~{name}.{secrets.token_hex(4)}.tmp"
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(tmp, flags, 0o666)
    except OSError as exc:
        raise OutputError(
            f"Cannot write in the folder {folder}: {_reason(exc)}. Give the user running "
            "kkmp-sheets write permission on it, or set the output path to another folder."
        ) from exc
    return tmp, fd


def _copy_mode(path: Path, tmp: Path) -> None:
    """Keep the permissions someone gave the old workbook (rewriting in place would)."""
    with contextlib.suppress(OSError):
        os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))


def _replace(tmp: Path, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except IsADirectoryError as exc:
        raise OutputError(
            f"Cannot write {path}: it is a folder. Set the output path to a file name ending "
            "in .xlsx."
        ) from exc
    except PermissionError as exc:
        # On Windows this is the usual symptom of the workbook being open in Excel.
        raise OutputError(
            f"Cannot replace {path}: it is locked or read-only, probably open in Excel or "
            f"another program. Close it (or make it writable) and run again. {_UNCHANGED}"
        ) from exc


# --- workbook --------------------------------------------------------------------------------


@dataclass
class _Placed:
    """Where a `Sheet` landed, so charts can point at its cells."""

    worksheet: Any
    name: str
    sheet: Sheet
    header_row: int


@dataclass
class _Styles:
    by_fmt: dict[Fmt, Any]
    zones: dict[str, Any]  # lower-case zone name -> coloured format
    signed: dict[Fmt, Any]  # a change, shown with its sign (`Cell.signed`)
    wrapped: Any  # long free text, wrapped within its column
    header: Any
    note: Any

    @classmethod
    def create(cls, workbook: Any) -> _Styles:
        return cls(
            # Top-aligned: in a row made taller by a wrapped name, every value of the row starts
            # on the same line as the name.
            by_fmt={
                fmt: workbook.add_format({"num_format": nf, "valign": "top"})
                for fmt, nf in NUM_FORMATS.items()
            },
            zones={
                name.lower(): workbook.add_format(
                    {"num_format": "@", "bg_color": color, "pattern": 1, "valign": "top"}
                )
                for name, color in ZONE_COLORS.items()
            },
            signed={
                fmt: workbook.add_format({"num_format": signed(NUM_FORMATS[fmt]), "valign": "top"})
                for fmt in NUMERIC
            },
            wrapped=workbook.add_format({"num_format": "@", "text_wrap": True, "valign": "top"}),
            header=workbook.add_format(
                {
                    "bold": True,
                    "bg_color": HEADER_BG,
                    "pattern": 1,
                    "text_wrap": True,
                    "valign": "top",
                    "bottom": 1,
                }
            ),
            note=workbook.add_format({"italic": True, "font_color": NOTE_COLOR}),
        )


def _build_workbook(
    book: StatusBook,
    handle: IO[bytes],
    title: str,
    links_from: Path | None = None,
    previous: sheet_reuse.Previous | None = None,
) -> list[str]:
    """`links_from`: the folder the workbook is written in, which file links are relative to.
    `previous`: the file being replaced, whose unchanged table sheets are taken as they are.
    Returns the names of those."""
    workbook = xlsxwriter.Workbook(handle, {"in_memory": True, "constant_memory": False})
    workbook.set_properties(
        {
            "title": _clean(title),
            "subject": "Koperasi Desa/Kelurahan Merah Putih",
            "author": "kkmp-sheets",
        }
    )
    styles = _Styles.create(workbook)
    sheet_reuse.pin_styles(workbook)
    tables = sheet_reuse.table_sheets(book)
    placed: dict[str, _Placed] = {}
    reused: list[str] = []
    xml_bytes = 0
    names = _sheet_names(book.sheets)
    for number, (sheet, name) in enumerate(zip(book.sheets, names, strict=True), start=1):
        if sheet.name not in tables:
            worksheet = workbook.add_worksheet(name)
            header_row, sheet_bytes = _write_sheet(worksheet, sheet, styles, links_from)
        else:
            worksheet = workbook.add_worksheet(name, worksheet_class=sheet_reuse.TableSheet)
            part = _table_part(workbook, worksheet, sheet, number, name, links_from, previous)
            if part is not None:
                reused.append(sheet.name)
            header_row, sheet_bytes = _write_sheet(
                worksheet, sheet, styles, links_from, cells=part is None
            )
            sheet_bytes = len(part.xml) if part is not None else sheet_bytes
        placed[sheet.name] = _Placed(worksheet, name, sheet, header_row)
        xml_bytes += sheet_bytes
    for spec in book.charts:
        _add_chart(workbook, spec, placed)
    if xml_bytes > _ZIP64_THRESHOLD:
        workbook.use_zip64()
    workbook.close()
    return reused


def _table_part(
    workbook: Any,
    worksheet: sheet_reuse.TableSheet,
    sheet: Sheet,
    number: int,
    name: str,
    links_from: Path | None,
    previous: sheet_reuse.Previous | None,
) -> sheet_reuse.Part | None:
    """Record a table sheet's content key (its CRC follows when the part is written) and take
    its part from `previous` when that was written with the same key."""
    key = sheet_reuse.content_key(sheet, number=number, name=name, links_from=links_from)
    prop = f"{sheet_reuse.PROPERTY} {number}"
    workbook.set_custom_property(prop, f"{key} {sheet_reuse.NO_CRC}")
    index = len(workbook.custom_properties) - 1

    def record(crc: int) -> None:
        workbook.custom_properties[index] = (prop, f"{key} {crc:08x}", "text")

    worksheet.record_with(record)
    part = previous.part(number, key) if previous is not None else None
    if part is not None and sheet.note:
        first = _note_column(sheet)
        cell = sheet_reuse.note_cell(0, first)
        xml = sheet_reuse.with_note(part.xml, cell, _clean(sheet.note), worksheet.escaped)
        part = sheet_reuse.Part(xml, part.links) if xml is not None else None
    worksheet.reused = part
    return part


def _sheet_names(sheets: list[Sheet]) -> list[str]:
    """Names Excel accepts: no []:*?/\\, at most 31 characters, unique ignoring case."""
    taken = {"history"}  # reserved by Excel
    names = []
    for number, sheet in enumerate(sheets, start=1):
        base = _SHEET_NAME_ILLEGAL.sub(" ", _clean(sheet.name)).strip().strip("'")[:31]
        base = base or f"Sheet{number}"
        name, suffix = base, 1
        while name.lower() in taken:
            suffix += 1
            tag = f" ({suffix})"
            name = base[: 31 - len(tag)] + tag
        taken.add(name.lower())
        names.append(name)
    return names


def _write_sheet(
    worksheet: Any,
    sheet: Sheet,
    styles: _Styles,
    links_from: Path | None = None,
    *,
    cells: bool = True,
) -> tuple[int, int]:
    """Note, header and rows; returns the header's row index and an XML size estimate.
    `cells=False`: only what the workbook itself needs of the sheet (filter, print titles), for
    a part taken from the previous file."""
    header_row = 1 if sheet.note else 0
    columns = sheet.columns
    if not cells:
        if columns:
            _frame(worksheet, sheet, header_row)
        return header_row, 0
    if sheet.note:
        worksheet.write_string(0, _note_column(sheet), _clean(sheet.note), styles.note)
    if not columns:
        return header_row, 0
    widths = []
    for index, col in enumerate(columns):
        name = _clean(col.name)
        worksheet.write_string(header_row, index, name, styles.header)
        widths.append(header_width(name))

    writer = _CellWriter(worksheet, styles, links_from)
    fmts = [col.fmt for col in columns]
    wraps = [col.wrap and col.width is not None for col in columns]
    rooms = [_text_room(col) for col in columns]
    for row_index, row in enumerate(sheet.rows, start=header_row + 1):
        # A short row leaves its last cells blank; values past the last column have no header
        # and are not written.
        lines = 1
        for col_index, (value, fmt) in enumerate(zip(row, fmts, strict=False)):
            wrap = wraps[col_index]
            width = writer.write(row_index, col_index, value, fmt, wrap=wrap)
            if wrap and isinstance(value, str):
                lines = max(lines, wrapped_lines(_clean(value), rooms[col_index]))
            elif width > widths[col_index]:
                widths[col_index] = width
        if lines > 1:
            worksheet.set_row(row_index, LINE_HEIGHT * lines)

    shown = [col.width or fitted(widths[index]) for index, col in enumerate(columns)]
    _set_columns(worksheet, sheet, shown)
    # The header labels wrap; without a height for their lines the row stays one line tall and
    # the labels run over the first data row (on screen and on paper). The filter button takes
    # the last two characters of the width.
    header_lines = max(
        wrapped_lines(_clean(col.name), width - 2)
        for col, width in zip(columns, shown, strict=True)
    )
    worksheet.set_row(header_row, LINE_HEIGHT * header_lines + 2)
    _frame(worksheet, sheet, header_row)
    return header_row, writer.xml_bytes


def _note_column(sheet: Sheet) -> int:
    """Above the first column that is shown: a note in a folded-away column would be hidden."""
    return next((i for i, col in enumerate(sheet.columns) if sheet.printed(col)), 0)


def _frame(worksheet: Any, sheet: Sheet, header_row: int) -> None:
    """Frozen header, filter and page setup."""
    last_row = header_row + len(sheet.rows)
    worksheet.freeze_panes(header_row + 1, 0)
    worksheet.autofilter(header_row, 0, last_row, len(sheet.columns) - 1)
    _page_setup(worksheet, sheet, header_row)


def _text_room(col: Col) -> int:
    """Characters of text a wrapped column holds per line. A width counts digits of the default
    font; most letters are narrower, so this errs towards a row a little too tall, never one
    that cuts its text off."""
    return max(col.width or 0, 1)


def _set_columns(worksheet: Any, sheet: Sheet, widths: list[int]) -> None:
    """Widths, and the columns left off paper folded into outline groups (hidden, with a "+"
    above the next column to open them). Hidden columns do not print, in Excel or LibreOffice;
    their cells stay, so filters, formulas and readers of the file see the whole table."""
    hidden = [not sheet.printed(col) for col in sheet.columns]
    for index, width in enumerate(widths):
        options: dict[str, Any] = {}
        if hidden[index]:
            options = {"level": 1, "hidden": True}
        elif index and hidden[index - 1]:
            options = {"collapsed": True}
        worksheet.set_column(index, index, width, None, options)
    if hidden and hidden[-1]:  # the "+" of a group that ends the table sits after it
        worksheet.set_column(len(widths), len(widths), None, None, {"collapsed": True})


def _page_setup(worksheet: Any, sheet: Sheet, header_row: int) -> None:
    """A4 landscape, one page wide (as many tall as the rows need), the header row on every
    page, the grid printed so a long row can be followed across the page, and a footer: the
    city and data date, the sheet, "Halaman x dari y"."""
    worksheet.set_paper(A4)
    worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)
    worksheet.repeat_rows(header_row)
    worksheet.set_margins(**MARGINS)
    worksheet.hide_gridlines(0)
    footer = _clean(sheet.print_setup.footer)[:MAX_FOOTER_TEXT].replace("&", "&&")
    worksheet.set_footer(f"&L{footer}&C&A&RHalaman &P dari &N", {"margin": FOOTER_MARGIN})


# --- cells -----------------------------------------------------------------------------------


class _CellWriter:
    """Writes one worksheet's cells by type and format.

    Each `write` returns the width the shown value needs, for column fitting, and keeps a rough
    count of the XML it produces (for the Zip64 decision) and of hyperlinks (Excel's limit).
    """

    def __init__(self, worksheet: Any, styles: _Styles, links_from: Path | None = None) -> None:
        self.worksheet = worksheet
        self.styles = styles
        self.links_from = links_from  # the workbook's folder: file links are relative to it
        self.links = 0
        self.xml_bytes = 0
        # xlsxwriter's undecorated writers: the public ones first check for "A1"-style
        # arguments, once per cell (a province's status workbook has 391,000).
        self._string = worksheet._write_string
        self._number_cell = worksheet._write_number

    def write(
        self, row: int, col: int, value: CellValue | Cell, fmt: Fmt, *, wrap: bool = False
    ) -> int:
        if type(value) is str:  # most cells: straight to the text writer
            self.xml_bytes += 64
            return self._text(row, col, value, fmt, wrap=wrap)
        if isinstance(value, Cell):
            if value.signed and _is_number(value.value) and value.fmt in _NUMERIC:
                return self._signed(row, col, value.value, value.fmt)
            fmt = value.fmt
            value = value.value
        if value is None:
            return 0
        self.xml_bytes += 64
        if isinstance(value, str):
            return self._text(row, col, value, fmt, wrap=wrap)
        if isinstance(value, bool):  # before int: bool is an int
            return self._text(row, col, "Ya" if value else "Tidak", fmt)
        if isinstance(value, int | float):
            return self._number(row, col, value, fmt)
        if isinstance(value, date):  # datetime included
            return self._date(row, col, value, fmt)
        if isinstance(value, numbers.Number) and not isinstance(value, complex):
            return self._number(row, col, float(value), fmt)  # numpy, Decimal
        return self._text(row, col, str(value), fmt)

    def _text(self, row: int, col: int, text: str, fmt: Fmt, *, wrap: bool = False) -> int:
        text = _clean(text)
        if not text:
            return 0
        self.xml_bytes += 6 * len(text)  # UTF-8 and &amp;-style escapes, generously
        target = self._link_target(text) if fmt == Fmt.LINK else None
        if target is not None:
            self.links += 1
            self.worksheet.write_url(row, col, target, None, text)
        elif wrap and fmt == Fmt.TEXT:
            self._string(row, col, text, self.styles.wrapped)
        elif fmt == Fmt.ZONE:
            style = self.styles.zones.get(text.strip().lower(), self.styles.by_fmt[Fmt.TEXT])
            self._string(row, col, text, style)
        else:
            self._string(row, col, text, self.styles.by_fmt[fmt])
        return max(map(len, text.split("\n"))) if "\n" in text else len(text)

    def _link_target(self, text: str) -> str | None:
        """What a link cell showing `text` opens (see "Links" above); None: plain text."""
        if self.links >= MAX_LINKS:
            return None
        if _HTTP_URL.match(text):
            fits = all(_utf16_len(part) <= MAX_URL for part in text.split("#", 1))
            return text if fits else None
        if self.links_from is None or "#" in text or "\n" in text or not os.path.isabs(text):
            return None
        try:
            relative = os.path.relpath(text, self.links_from)
        except ValueError:  # another drive (Windows): only the absolute path reaches it
            relative = text
        return f"external:{relative}" if _utf16_len(relative) <= MAX_URL else None

    def _number(self, row: int, col: int, value: int | float, fmt: Fmt) -> int:
        if isinstance(value, float) and not math.isfinite(value):
            return 0  # NaN from pandas means "no value"; inf has no cell form
        text_column = fmt not in _NUMERIC and fmt not in _DATES
        if text_column or (isinstance(value, int) and abs(value) >= MAX_EXACT_INT):
            return self._text(row, col, _number_text(value), fmt)
        if fmt in _DATES:  # a bare number in a date column is shown as a number
            fmt = Fmt.NUMBER
        self._number_cell(row, col, value, self.styles.by_fmt[fmt])
        return number_width(value, fmt)

    def _signed(self, row: int, col: int, value: Any, fmt: Fmt) -> int:
        if isinstance(value, float) and not math.isfinite(value):
            return 0
        self.xml_bytes += 64
        self._number_cell(row, col, value, self.styles.signed[fmt])
        return number_width(value, fmt) + 1  # the sign

    def _date(self, row: int, col: int, value: date, fmt: Fmt) -> int:
        if value != value:  # pandas NaT
            return 0
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(WIB).replace(tzinfo=None)
        if value.year < 1900:  # before Excel's calendar: keep it visible as text
            return self._text(row, col, value.isoformat(), Fmt.TEXT)
        if fmt not in _DATES:
            fmt = Fmt.DATETIME if isinstance(value, datetime) else Fmt.DATE
        self.worksheet.write_datetime(row, col, value, self.styles.by_fmt[fmt])
        return 17 if fmt == Fmt.DATETIME else 11  # "17 Agu 2025 08:30"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _clean(text: str) -> str:
    """Text XML can hold, within Excel's cell limit."""
    if len(text) < _SHORT and text.isascii() and text.isprintable():
        return text  # most cells: nothing to remove, nothing to cut (and no regex to run)
    if _XML_ILLEGAL.search(text):
        text = _XML_ILLEGAL.sub("", text)
    if len(text) > MAX_TEXT // 2 and _utf16_len(text) > MAX_TEXT:
        # Cut in UTF-16 units like Excel counts; "ignore" drops a split surrogate pair.
        units = text.encode("utf-16-le")[: (MAX_TEXT - 1) * 2]
        text = units.decode("utf-16-le", errors="ignore") + "…"
    return text


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _number_text(value: int | float) -> str:
    """A number for a text column, without a spurious ".0"."""
    if isinstance(value, float) and value.is_integer() and abs(value) < MAX_EXACT_INT:
        return str(int(value))
    return str(value) if isinstance(value, int) else repr(value)


# --- charts ----------------------------------------------------------------------------------


def _add_chart(workbook: Any, spec: Chart, placed: dict[str, _Placed]) -> None:
    """A native chart over the data sheet's rows; skipped (not an error) when it cannot be drawn."""
    data, target = placed.get(spec.data_sheet), placed.get(spec.place_on)
    if data is None or target is None:
        log.warning(
            "Chart %r skipped: sheet %r or %r is not in the book",
            spec.title,
            spec.data_sheet,
            spec.place_on,
        )
        return
    if not data.sheet.rows:
        log.info("Chart %r skipped: sheet %r has no rows", spec.title, spec.data_sheet)
        return
    names = [col.name for col in data.sheet.columns]
    missing = [name for name in (spec.category_col, *spec.series_cols) if name not in names]
    if missing or not spec.series_cols:
        log.warning(
            "Chart %r skipped: sheet %r lacks column(s) %s (or no series named)",
            spec.title,
            spec.data_sheet,
            ", ".join(missing),
        )
        return

    chart = workbook.add_chart(
        {"type": "column", "subtype": "stacked"}
        if spec.kind == ChartKind.STACKED_COLUMN
        else {"type": "line"}
    )
    first, last = data.header_row + 1, data.header_row + len(data.sheet.rows)
    category = names.index(spec.category_col)
    for number, series_col in enumerate(spec.series_cols):
        column = names.index(series_col)
        series: dict[str, Any] = {
            "name": [data.name, data.header_row, column],
            "categories": [data.name, first, category, last, category],
            "values": [data.name, first, column, last, column],
        }
        if number < len(spec.colors):
            series.update(_series_style(spec.kind, spec.colors[number]))
        chart.add_series(series)

    chart.set_title({"name": _clean(spec.title), "name_font": {"size": 12}})
    chart.set_legend({"position": "bottom"})
    chart.set_y_axis(_value_axis(data.sheet, spec.series_cols[0]))
    if data.sheet.columns[category].fmt in _DATES:
        chart.set_x_axis({"date_axis": True, "num_format": "[$-421]d mmm"})
        _days_as_base_unit(chart)
    # Wide enough that every kecamatan/day keeps a readable slot.
    chart.set_size({"width": min(max(480, 40 * len(data.sheet.rows)), 1200), "height": 320})
    target.worksheet.insert_chart(spec.anchor, chart)


def _series_style(kind: ChartKind, color: str) -> dict[str, Any]:
    if kind == ChartKind.LINE:
        # A marker on every point: on the first day a line has one point and no segment, so
        # without a marker the chart would look empty.
        marker = {"type": "circle", "size": 6, "fill": {"color": color}, "border": {"color": color}}
        return {"line": {"color": color, "width": 2.25}, "marker": marker}
    return {"fill": {"color": color}, "border": {"color": "#FFFFFF"}}


def _days_as_base_unit(chart: Any) -> None:
    """Give the date axis a base unit of days (`<c:baseTimeUnit val="days"/>`).

    xlsxwriter writes a date axis without a base unit, which leaves it to the reader to infer
    from the spacing of the dates. With a single day there is no spacing: LibreOffice then
    picks months and labels the axis with the start of the month, so 29 January 2026 read
    "1 Jan". The element follows `c:lblOffset` in a `c:dateAx` (ECMA-376 §21.2.2.39); the
    value axis has no `c:lblOffset`, so only the date axis gets it.
    """
    write_label_offset = chart._write_label_offset

    def with_base_unit(value: Any) -> None:
        write_label_offset(value)
        chart._xml_empty_tag("c:baseTimeUnit", [("val", "days")])

    chart._write_label_offset = with_base_unit


def _value_axis(sheet: Sheet, series_col: str) -> dict[str, Any]:
    """Axis numbers shown like the first series' cells (Rp, %, thousands)."""
    axis: dict[str, Any] = {"major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}}
    fmt = next((col.fmt for col in sheet.columns if col.name == series_col), None)
    if fmt in _NUMERIC:
        axis["num_format"] = NUM_FORMATS[fmt]
    return axis
