"""A1 notation as the Sheets API reads and echoes it.

Everything here is pure: parsing a range text into a sheet reference and a span of cells, and
formatting a span back the way Google does (``Sheet1!A1:Z1000``, ``'My sheet'!B2``). Indexes are
0-based and end-exclusive, like a ``GridRange``; ``None`` marks an open end (``A1:C``, ``A:A``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kkmp_sheets.core.a1 import column_index, column_letters

_ENDPOINT = re.compile(r"^\$?([A-Za-z]{1,3})?\$?([0-9]+)?$")
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE = re.compile(r"^[A-Za-z]{1,3}[0-9]+$")
_R1C1_LIKE = re.compile(r"^[Rr][0-9]*[Cc][0-9]*$")


def quote_sheet_name(title: str) -> str:
    """The sheet name as Google echoes it in a range: bare when it is a plain identifier that
    cannot be read as a cell reference, else single-quoted with ``'`` doubled."""
    if _PLAIN_NAME.match(title) and not _CELL_LIKE.match(title) and not _R1C1_LIKE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def split_sheet(text: str) -> tuple[str | None, str | None]:
    """Split ``'It''s'!A1:B2`` into (sheet name, cell part).

    Returns ``(None, text)`` when there is no sheet part. Raises ``ValueError`` for an
    unterminated quote or text after a quoted name that is not ``!...``.
    """
    if text.startswith("'"):
        i = 1
        name = []
        while True:
            j = text.find("'", i)
            if j < 0:
                raise ValueError(text)
            name.append(text[i:j])
            if text[j + 1 : j + 2] == "'":
                name.append("'")
                i = j + 2
                continue
            rest = text[j + 1 :]
            break
        if rest == "":
            return "".join(name), None
        if not rest.startswith("!"):
            raise ValueError(text)
        return "".join(name), rest[1:] or None
    if "!" in text:
        sheet, cells = text.rsplit("!", 1)
        return sheet, cells or None
    return None, text


@dataclass(frozen=True)
class Span:
    """A rectangle of cells: rows ``r0 <= r < r1``, columns ``c0 <= c < c1``; ``None`` = open."""

    r0: int = 0
    r1: int | None = None
    c0: int = 0
    c1: int | None = None
    single: bool = False  # written as one cell ("B2"): an anchor for writes

    def bounded(self, rows: int, cols: int) -> Span:
        return Span(
            self.r0,
            rows if self.r1 is None else self.r1,
            self.c0,
            cols if self.c1 is None else self.c1,
            self.single,
        )

    def fits(self, rows: int, cols: int) -> bool:
        if self.r0 >= rows or self.c0 >= cols:
            return False
        if self.r1 is not None and self.r1 > rows:
            return False
        return not (self.c1 is not None and self.c1 > cols)


def _endpoint(text: str) -> tuple[int | None, int | None] | None:
    m = _ENDPOINT.match(text)
    if not m or (m.group(1) is None and m.group(2) is None):
        return None
    col = column_index(m.group(1)) if m.group(1) else None
    row = int(m.group(2)) - 1 if m.group(2) else None
    if row is not None and row < 0:
        return None
    return col, row


def _dimension(a: int | None, b: int | None) -> tuple[int, int | None]:
    """Start and end-exclusive of one dimension from the two endpoints of a range."""
    if a is not None and b is not None:
        return min(a, b), max(a, b) + 1
    if a is not None:
        return a, None
    if b is not None:
        return 0, b + 1
    return 0, None


def parse_cells(text: str) -> Span | None:
    """Parse the cell part of a range (``A1``, ``A1:B2``, ``A:C``, ``2:5``, ``A2:C``, ``D4:A1``).

    Returns ``None`` when the text is not A1 notation (it may then be a sheet or a named range).
    """
    if ":" in text:
        left, right = text.split(":", 1)
        a, b = _endpoint(left), _endpoint(right)
        if a is None or b is None:
            return None
        c0, c1 = _dimension(a[0], b[0])
        r0, r1 = _dimension(a[1], b[1])
        return Span(r0, r1, c0, c1)
    point = _endpoint(text)
    if point is None:
        return None
    col, row = point
    if col is None or row is None:
        return None
    return Span(row, row + 1, col, col + 1, single=True)


def format_cells(span: Span) -> str:
    """``A1`` for one cell, ``A1:C3`` otherwise (the span must be bounded)."""
    assert span.r1 is not None and span.c1 is not None
    start = f"{column_letters(span.c0)}{span.r0 + 1}"
    if span.r1 - span.r0 == 1 and span.c1 - span.c0 == 1:
        return start
    return f"{start}:{column_letters(span.c1 - 1)}{span.r1}"


def format_range(title: str, span: Span) -> str:
    return f"{quote_sheet_name(title)}!{format_cells(span)}"


def format_open_cells(r0: int, r1: int | None, c0: int, c1: int | None) -> str:
    """A1 text of a possibly open grid range, as Google writes it in error messages
    (``A1001:B``, ``AA1:2``)."""
    start = f"{column_letters(c0)}{r0 + 1}"
    if r1 is not None and c1 is not None and r1 - r0 == 1 and c1 - c0 == 1:
        return start
    end = (column_letters(c1 - 1) if c1 is not None else "") + (str(r1) if r1 is not None else "")
    return f"{start}:{end}"
