"""Write the service's own tab, Hasil Pemeriksaan, into a cooperative's `.xlsx` and nothing else.

PRODUCT.md: "The service never changes a cooperative's data tabs. It owns exactly one tab in each
cooperative workbook, Hasil Pemeriksaan". In local mode the workbook is an `.xlsx` file that staff
also edit by hand, in Excel, LibreOffice or a phone app.

Why patch the zip package instead of loading and saving it with a library: openpyxl's load + save
drops charts, images, slicers, form controls and anything else it does not model, and rewrites
every part it does keep (styles renumbered, shared strings rebuilt). That would quietly damage the
cooperative's own data tabs. An `.xlsx` is a zip of XML parts, and adding one worksheet needs only
a handful of small edits, so this package:

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
its filter range name) and keeps the tab where it is and as it is named. A new tab goes last so
that `localSheetId` indexes of defined names stay valid.

The new package is checked without reading the data tabs (see `verify`): every entry we did not
edit has the original's zip record and the same CRC-32 over its stored bytes, every edited part
is what was planned, every tab still points at its own part, and the new tab, read back on its
own (`sheet_read`), holds exactly the values asked for. It is staged in the service's data
folder (never beside the workbook, where staff or a sync client would see it; see `staging`),
then one atomic exchange puts it in place, and a save by staff that slipped in meanwhile is
detected and kept (see `commit`). Writes made in one `WriteBatch` share one flush of each folder
to disk (see `batch`). Any failure leaves the original untouched and raises `PatchError`, whose
message is meant for the operator's log and whose `reason` says what staff can do. The file's
mtime is kept by default: it is how the service knows when staff last edited the data.

`docProps/app.xml` (a cached list of tab titles) is left as it is: Excel and LibreOffice rebuild it
on save and do not check it on open.
The modules, in the order a write uses them:

- `values`: what is stored for a Python value, how a tab reads back, and the arguments' limits;
- `package`: the `.xlsx` as read, and the `_Changes` planned to it;
- `styles`, `sheet_xml` and `package_edits` (editing text with `xml_text`): the edits themselves;
- `zipcopy`: the new zip, with unchanged entries copied byte for byte;
- `verify` and `commit`: the checks on the result (`sheet_read` reads the new tab back), and
  putting it in place of the original (`swap` the atomic exchange, `staging` where the new file
  waits and what a crash left, `batch` the flush to disk shared by many writes);
- `ooxml`: the names they all share, and `PatchError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from kkmp_sheets.core.tables import CellValue
from kkmp_sheets.sources.xlsx_patch.batch import WriteBatch
from kkmp_sheets.sources.xlsx_patch.commit import _check_not_open, _commit
from kkmp_sheets.sources.xlsx_patch.ooxml import PatchError
from kkmp_sheets.sources.xlsx_patch.package import _Changes, _Package, _read_file, _rels_part_of
from kkmp_sheets.sources.xlsx_patch.package_edits import (
    _check_workbook_edit,
    _insert_sheet_element,
    _plan_new_sheet,
    _set_filter_name,
    _set_print_titles,
)
from kkmp_sheets.sources.xlsx_patch.sheet_read import read_own_sheet
from kkmp_sheets.sources.xlsx_patch.sheet_xml import _filter_range, _sheet_xml, _text_xml
from kkmp_sheets.sources.xlsx_patch.staging import clear_beside, recover
from kkmp_sheets.sources.xlsx_patch.styles import Look, _plan_styles, _StyleIds
from kkmp_sheets.sources.xlsx_patch.values import (
    _calamine_open,
    _check_layout,
    _check_title,
    _comparable,
    _match_name,
    _normalise_rows,
    _read_sheet,
    _Unreadable,
)
from kkmp_sheets.sources.xlsx_patch.verify import _Expected, _verify
from kkmp_sheets.sources.xlsx_patch.xml_text import _decode_bytes, _encode
from kkmp_sheets.sources.xlsx_patch.zipcopy import _write_zip

__all__ = ["CellValue", "Look", "PatchError", "WriteBatch", "read_tab", "recover", "write_tab"]

# `write_tab` and `_plan_changes` look up `_write_zip`, `_verify` and `_text_xml` here, in the package, each time they run: the tests replace them on
# the package (`monkeypatch.setattr(xlsx_patch, "_verify", ...)`) to make a write fail on purpose.


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
    work_dir: Path | None = None,
    opened_as: Path | None = None,
    batch: WriteBatch | None = None,
    looks: Mapping[str, Look] | None = None,
    cell_looks: Mapping[tuple[int, int], str] | None = None,
    paper: bool = False,
    compare: Callable[[list[list[CellValue]]], list[list[CellValue]]] | None = None,
    row_heights: Mapping[int, float] | None = None,
    merges: Sequence[tuple[int, int, int, int]] = (),
    hidden_columns: Sequence[int] = (),
) -> bool:
    """Put `rows` into the tab `title` of the workbook at `path`, creating or replacing that tab.

    `header_row` is the 1-based row holding column headers: it is bold, the sheet is frozen below
    it and an autofilter covers it. `column_widths` are in Excel's character units, from column A.
    Returns False, without touching the file, when the tab already holds exactly these values.
    Raises PatchError (file missing, locked, read-only, encrypted, not an .xlsx, damaged, the
    result failed verification, or staff saved meanwhile); the original file is then unchanged.

    `work_dir`: the service's data folder, where the new file is staged with a journal (see
    `staging`); None stages it beside the workbook under a hidden name. Either way, whatever an
    interrupted earlier write left beside the workbook is removed once it has been read whole.
    `opened_as`: the symlink staff open the workbook through, whose folder holds their Excel or
    LibreOffice lock file. `batch`: the writes whose folders are flushed to disk together when
    it ends (see `batch`); None: this write's folder is flushed before it returns.

    `looks` names the cell formats the tab may use (fills, bold, font colours; added to the
    style sheet at most once) and `cell_looks` gives (row, column), from 1, its look. `paper`:
    a print setup (A4 landscape, one page wide, the header row repeated on every page).
    `compare`: what of the rows decides that the tab "already holds" them (applied to both
    sides; by default all of them). `row_heights` (row from 1 → points) and `merges` (top,
    left, bottom, right) shape the tab for rows of wrapped text; `hidden_columns` (from 1) are
    hidden (and do not print).
    """
    path = Path(path)
    if opened_as is not None:
        _check_not_open(Path(opened_as))
    _check_title(title)
    cells = _normalise_rows(rows)
    _check_layout(cells, header_row, column_widths)

    original_stat, blob = _read_file(path)
    package = _Package.open(path, blob)
    # The workbook was just read whole: nothing left beside it is needed.
    clear_beside(path, batch.leftovers(path.parent) if batch is not None else None)
    existing = package.find_sheet(title)
    if existing is not None:
        existing.require_worksheet(path)
    plan = _plan_changes(
        package,
        title,
        cells,
        header_row,
        column_widths,
        _Shape(looks, cell_looks, paper, row_heights, merges, hidden_columns),
    )
    if existing is not None and _holds_already(package, existing.name, plan, cells, compare):
        return False
    expected = _Expected(
        package=package,
        tab_name=existing.name if existing is not None else title,
        tab_part=plan.tab_part,
        adds_tab=existing is None,
        cells=cells,
        styles=plan.styles,
    )
    changes = plan.changes
    new_blob = _write_zip(package, changes)

    def verify(candidate: bytes) -> None:
        _verify(candidate, expected, changes)

    _commit(
        path,
        original_stat,
        new_blob,
        verify,
        keep_mtime=keep_mtime,
        work_dir=work_dir,
        batch=batch,
    )
    return True


def _holds_already(
    package: _Package,
    name: str,
    plan: _Plan,
    cells: list[list[CellValue]],
    compare: Callable[[list[list[CellValue]]], list[list[CellValue]]] | None = None,
) -> bool:
    """The tab already holds these values. Read on its own when it is as this package writes
    it (the usual case), else by python-calamine, which also knows what staff's programs write."""
    current: object = None
    if not plan.adds_styles:  # else the tab's cells cannot be using the planned formats
        current = read_own_sheet(package.read(plan.tab_part), plan.styles, package.date1904)
    if current is None:
        current = _read_sheet(_calamine_open(package.path, package.blob), name)
        if isinstance(current, _Unreadable):
            return False
    if compare is not None:
        held = cast("list[list[CellValue]]", current)
        return _comparable(compare(held)) == _comparable(compare(cells))
    return current == _comparable(cells)


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
# Planning the edits


@dataclass(frozen=True)
class _Shape:
    """How the tab looks beyond its values (see `write_tab`)."""

    looks: Mapping[str, Look] | None = None
    cell_looks: Mapping[tuple[int, int], str] | None = None
    paper: bool = False
    row_heights: Mapping[int, float] | None = None
    merges: Sequence[tuple[int, int, int, int]] = ()
    hidden_columns: Sequence[int] = ()


@dataclass(frozen=True)
class _Plan:
    changes: _Changes
    styles: _StyleIds  # the cell formats the tab's part uses
    adds_styles: bool  # the style sheet gains them with this write
    tab_part: str


def _plan_changes(
    package: _Package,
    title: str,
    cells: list[list[CellValue]],
    header_row: int | None,
    column_widths: Sequence[float] | None,
    shape: _Shape | None = None,
) -> _Plan:
    """Every entry one write replaces, adds or drops: the cell formats first (the tab's cells
    refer to them), then the tab's own part, then its place in workbook.xml."""
    shape = shape or _Shape()
    changes = _Changes()
    styles = _plan_styles(package, changes, shape.looks)
    adds_styles = bool(changes.replaced or changes.added)
    sheet_xml = _sheet_xml(
        cells,
        styles,
        package.date1904,
        header_row,
        column_widths,
        text_xml=_text_xml,
        cell_looks=shape.cell_looks,
        paper=shape.paper,
        row_heights=shape.row_heights,
        merges=shape.merges,
        hidden_columns=shape.hidden_columns,
    )
    filter_range = _filter_range(cells, header_row)
    existing = package.find_sheet(title)
    workbook = package.read(package.workbook_part)
    text = _decode_bytes(package, package.workbook_part, workbook)
    if existing is not None and existing.part is not None:
        part = existing.part
        changes.replaced[part] = sheet_xml
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
    text = _set_print_titles(package, text, index, name, header_row if shape.paper else None)
    edited = _encode(text)
    if edited != workbook:
        _check_workbook_edit(package, workbook, edited, new_sheet, index)
        changes.replaced[package.workbook_part] = edited
    return _Plan(changes, styles, adds_styles, part)
