"""Write the city status workbook (`tables.StatusBook`) to a local `.xlsx` file with xlsxwriter.

Choices, and why (the cells' own are in `xlsx_cells.py`):

- **Atomic replace.** Officials open this file from a shared folder while the service runs, so a
  reader must never see a half-written workbook. It is written to a hidden temp file in the same
  folder (same filesystem, so the rename is atomic), flushed to disk, then `os.replace`d over the
  old one. On any failure the previous workbook stays as it was and the temp file is removed.
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
import os
import re
import secrets
import stat
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

from kkmp_sheets import crashpoints
from kkmp_sheets.core.tables import (
    Col,
    Sheet,
    StatusBook,
)
from kkmp_sheets.errors import OutputError
from kkmp_sheets.outputs import sheet_reuse
from kkmp_sheets.outputs.style import LINE_HEIGHT, fitted, header_width, wrapped_lines
from kkmp_sheets.outputs.xlsx_cells import CellWriter, Styles, clean
from kkmp_sheets.outputs.xlsx_charts import Placed, add_chart

log = logging.getLogger(__name__)

DEFAULT_TITLE = "Status Koperasi Desa/Kelurahan Merah Putih"


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
            "title": clean(title),
            "subject": "Koperasi Desa/Kelurahan Merah Putih",
            "author": "kkmp-sheets",
        }
    )
    styles = Styles.create(workbook)
    sheet_reuse.pin_styles(workbook)
    tables = sheet_reuse.table_sheets(book)
    placed: dict[str, Placed] = {}
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
        placed[sheet.name] = Placed(worksheet, name, sheet, header_row)
        xml_bytes += sheet_bytes
    for spec in book.charts:
        add_chart(workbook, spec, placed)
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
    """Record a table sheet's content key (its seal, the part's CRC and links, follows when the
    part is written) and take its part from `previous` when that was written with the same key."""
    key = sheet_reuse.content_key(sheet, number=number, name=name, links_from=links_from)
    prop = f"{sheet_reuse.PROPERTY} {number}"
    workbook.set_custom_property(prop, f"{key} {sheet_reuse.NO_SEAL} {sheet_reuse.NO_SEAL}")
    index = len(workbook.custom_properties) - 1

    def record(crc: int, links: str) -> None:
        workbook.custom_properties[index] = (prop, f"{key} {crc:08x} {links}", "text")

    worksheet.record_with(record)
    part = previous.part(number, key) if previous is not None else None
    if part is not None and sheet.note:
        note = clean(sheet.note)
        xml = sheet_reuse.with_note(part.xml, _note_column(sheet), note, worksheet.escaped)
        part = sheet_reuse.Part(xml, part.links) if xml is not None else None
    worksheet.reused = part
    return part


def _sheet_names(sheets: list[Sheet]) -> list[str]:
    """Names Excel accepts: no []:*?/\\, at most 31 characters, unique ignoring case."""
    taken = {"history"}  # reserved by Excel
    names = []
    for number, sheet in enumerate(sheets, start=1):
        base = _SHEET_NAME_ILLEGAL.sub(" ", clean(sheet.name)).strip().strip("'")[:31]
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
    styles: Styles,
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
        worksheet.write_string(0, _note_column(sheet), clean(sheet.note), styles.note)
    if not columns:
        return header_row, 0
    widths = []
    for index, col in enumerate(columns):
        name = clean(col.name)
        worksheet.write_string(header_row, index, name, styles.header)
        widths.append(header_width(name))

    writer = CellWriter(worksheet, styles, links_from)
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
                lines = max(lines, wrapped_lines(clean(value), rooms[col_index]))
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
        wrapped_lines(clean(col.name), width - 2) for col, width in zip(columns, shown, strict=True)
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
    footer = clean(sheet.print_setup.footer)[:MAX_FOOTER_TEXT].replace("&", "&&")
    worksheet.set_footer(f"&L{footer}&C&A&RHalaman &P dari &N", {"margin": FOOTER_MARGIN})
