"""The tab's own worksheet part: its rows as inline-string, number, boolean and date cells.

Text is written as inline strings, so `sharedStrings.xml` is never touched, and never as a
formula. The header row, when given, is bold, frozen and covered by an autofilter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence

from kkmp_sheets.core.a1 import column_letters
from kkmp_sheets.core.tables import CellValue
from kkmp_sheets.sources.xlsx_patch.ooxml import NS_MAIN, NS_REL
from kkmp_sheets.sources.xlsx_patch.styles import _StyleIds
from kkmp_sheets.sources.xlsx_patch.xml_text import _encode, _escape_text

_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)
_OOXML_ESCAPE_LOOKALIKE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def _sheet_xml(
    cells: list[list[CellValue]],
    styles: _StyleIds,
    date1904: bool,
    header_row: int | None,
    column_widths: Sequence[float] | None,
    *,
    text_xml: Callable[[str], str] | None = None,
    cell_looks: Mapping[tuple[int, int], str] | None = None,
    paper: bool = False,
    row_heights: Mapping[int, float] | None = None,
    merges: Sequence[tuple[int, int, int, int]] = (),
    hidden_columns: Sequence[int] = (),
) -> bytes:
    """The worksheet part holding `cells`; `text_xml` writes a text cell's `<t>` element
    (`_text_xml` unless given: the package passes its own, see its `__init__`).

    `cell_looks`: (row, column) from 1 → the name of a `Look` the styles planned. `paper`:
    the tab prints on A4 landscape, one page wide (the header row is repeated on every page
    by the print titles name the package sets in workbook.xml). `row_heights`: row (from 1) →
    points, for rows of wrapped text. `merges`: (top, left, bottom, right) ranges shown as
    one cell."""
    looks = cell_looks or {}
    heights = row_heights or {}
    width = max((len(row) for row in cells), default=0)
    height = len(cells)
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">',
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' if paper else "",
        f'<dimension ref="{_range_ref(1, 1, max(height, 1), max(width, 1))}"/>',
        _sheet_views(header_row),
        '<sheetFormatPr defaultRowHeight="15"/>',
        _cols_xml(column_widths, hidden_columns),
        "<sheetData>",
    ]
    epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
    encode_text = text_xml or _text_xml
    for index, row in enumerate(cells, start=1):
        if header_row is not None and index < header_row:
            role = "title"
        elif index == header_row:
            role = "header"
        else:
            role = "data"
        row_cells = [
            _cell_xml(
                f"{column_letters(col - 1)}{index}",
                value,
                role,
                styles,
                epoch,
                encode_text,
                styles.look(looks.get((index, col))),
            )
            for col, value in enumerate(row, start=1)
            if value is not None
        ]
        tall_to = heights.get(index)
        tall = f' ht="{float(tall_to)!r}" customHeight="1"' if tall_to else ""
        if row_cells or tall:
            out.append(f'<row r="{index}"{tall}>{"".join(row_cells)}</row>')
    out.append("</sheetData>")
    out.append(_autofilter_xml(_filter_range(cells, header_row)))
    if merges:
        refs = "".join(f'<mergeCell ref="{_range_ref(*m)}"/>' for m in merges)
        out.append(f'<mergeCells count="{len(merges)}">{refs}</mergeCells>')
    if paper:
        out.append('<printOptions gridLines="1"/>')
        out.append(
            '<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.5" header="0.3" footer="0.3"/>'
        )
        out.append(
            '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
        )
        out.append(
            "<headerFooter><oddFooter>&amp;L&amp;A&amp;RHalaman &amp;P dari &amp;N</oddFooter></headerFooter>"
        )
    else:
        out.append(
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
            ' footer="0.3"/>'
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


def _cols_xml(column_widths: Sequence[float] | None, hidden: Sequence[int] = ()) -> str:
    if not column_widths:
        return ""
    cols = "".join(
        f'<col min="{index}" max="{index}" width="{float(width)!r}" customWidth="1"'
        + (' hidden="1"' if index in hidden else "")
        + "/>"
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


def _cell_xml(
    ref: str,
    value: CellValue,
    role: str,
    styles: _StyleIds,
    epoch: dt.datetime,
    text_xml: Callable[[str], str],
    look: int | None = None,
) -> str:
    if isinstance(value, str):
        style = (
            look if look is not None else {"header": styles.header, "data": styles.wrap}.get(role)
        )
        return f'<c r="{ref}"{_style(style)} t="inlineStr"><is>{text_xml(value)}</is></c>'
    plain = _style(look if look is not None else styles.header if role == "header" else None)
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


def _range_ref(top: int, left: int, bottom: int, right: int) -> str:
    first, last = f"{column_letters(left - 1)}{top}", f"{column_letters(right - 1)}{bottom}"
    return first if first == last else f"{first}:{last}"
