"""Each cooperative's Hasil Pemeriksaan: its report card, then one row per problem.

Pure: a `CoopResult` in, rows out, with how each kind of cell looks (`feedback_styles`,
`FEEDBACK_LOOK`) for both sinks. Unlike the city's tables (`report.py`), these rows go into
the cooperative's own workbook and may show a problem's value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kkmp_sheets.core import formats
from kkmp_sheets.core.acknowledge import KEY_COLUMN, TICK_COLUMN
from kkmp_sheets.core.figures import Window, coop_values
from kkmp_sheets.core.issue import Issue, Severity
from kkmp_sheets.core.report import CoopResult, sorted_issues
from kkmp_sheets.core.tables import ZONE_COLORS, wrapped_lines
from kkmp_sheets.core.template import FEEDBACK_COLUMNS, FEEDBACK_TAB
from kkmp_sheets.core.wib import WIB

# Tingkat, Tab, Baris, Kolom, Nilai, Masalah, Saran (the contract's), then the tick staff set and
# the key that ties it to the problem (hidden and grey: it is for the service, not for reading).
FEEDBACK_HEADER = (*FEEDBACK_COLUMNS, TICK_COLUMN, KEY_COLUMN)
# Narrow enough that the table prints one A4 landscape page wide at a readable size (about 7 pt).
FEEDBACK_WIDTHS = [14.0, 14.0, 7.0, 16.0, 18.0, 44.0, 44.0, 11.0, 11.0]
TICK_INDEX, KEY_INDEX = FEEDBACK_HEADER.index(TICK_COLUMN), FEEDBACK_HEADER.index(KEY_COLUMN)
FIX_FIRST = 3  # "Perbaiki dulu": the problems named at the top
FEEDBACK_HEADER_ROW = 5 + FIX_FIRST  # title, zone, check, fix first ×3, how to tick, header
_CHECKED_AT = (
    2,
    1,
)  # (row, column) index of the check's "date, time WIB"; see `feedback_comparable`
TICKED = "Ya"  # what the service writes in Sudah Dicek for an acknowledged warning
HOW_TO_TICK = (
    "Peringatan yang sudah Anda periksa dan memang benar: tulis Ya (atau ✓, x, TRUE; di "
    "Google Spreadsheet cukup centang kotaknya) di kolom Sudah Dicek pada barisnya. Peringatan "
    "itu tetap tampil di sini tetapi tidak dihitung lagi oleh dinas, sampai nilainya berubah. "
    "Jangan ubah kolom Kunci. Galat tidak bisa ditandai: perbaiki datanya."
)
GALAT_TICK_NOTE = "(Tanda Sudah Dicek diabaikan: galat harus diperbaiki, tidak bisa ditandai.)"


@dataclass(frozen=True)
class CellLook:
    """How a kind of cell of Hasil Pemeriksaan looks, in both modes (colours `#RRGGBB`)."""

    fill: str | None = None
    bold: bool = False
    color: str | None = None  # of the font
    italic: bool = False
    wrap: bool = True  # wrapped within its (merged) cell, or one line
    size: int | None = None  # points; None: the workbook's default


# `feedback_styles` says which cell is which. Galat and Peringatan rows differ in fill and in
# font (a Galat is bold dark red), so that they differ in black and white too.
FEEDBACK_LOOK: dict[str, CellLook] = {
    "title": CellLook(bold=True, wrap=False, size=14),
    "label": CellLook(bold=True, wrap=False),
    "text": CellLook(),
    "galat": CellLook("#F4C7C3", bold=True, color="#A50E0E"),
    "peringatan": CellLook("#FCE8B2"),
    "dicek": CellLook(color="#80868B", italic=True),
    "kunci": CellLook(color="#9AA0A6"),
    **{
        f"zona-{name}": CellLook(color, bold=True, wrap=False)
        for name, color in ZONE_COLORS.items()
    },
}
LINE_POINTS = 15  # a line of the default 11 pt font
# Cells of the top block that wrap in their own column: (row, column), from 1.
_WRAPPED_TOP = ((3, 6),)
# Kunci is hidden: it is for the service, not for reading or printing; it still moves with its
# row when staff sort (a sort moves every column of the rows, hidden ones too).
FEEDBACK_HIDDEN = (KEY_INDEX + 1,)
# The report card's long lines, each in one cell merged across the table's width so that it
# wraps there instead of running off the page: (row, first column, last column), from 1.
FEEDBACK_MERGES = (
    (1, 1, len(FEEDBACK_HEADER)),
    (2, 4, len(FEEDBACK_HEADER)),
    (3, 2, 4),
    (3, 7, len(FEEDBACK_HEADER)),
    *((row, 2, len(FEEDBACK_HEADER)) for row in range(4, FEEDBACK_HEADER_ROW)),
)


def feedback_rows(result: CoopResult, checked_at: datetime, as_of: date) -> list[list]:
    """Rows of the Hasil Pemeriksaan tab: the cooperative's report card, then one row per problem.

    At the top: its zone and every reason, when it was checked (date and time, WIB) and the
    data date, what to fix first, and how to mark a warning as checked. The time of day is left
    out of the comparison with what the tab holds (`feedback_comparable`): an unchanged result on
    the same day does not rewrite the tab, which then shows the time this result was first found
    that day. Acknowledged warnings stay, greyed, with "Ya" in Sudah Dicek.
    """
    values = coop_values(result, Window(as_of))
    galat, peringatan = values["galat"], values["peringatan"]
    acknowledged = sum(1 for i in result.issues if i.acknowledged)
    counts = f"{galat} galat, {peringatan} peringatan"
    if acknowledged:
        counts += f" ({acknowledged} peringatan lain sudah dicek)"
    width = len(FEEDBACK_HEADER)
    moment = checked_at.astimezone(WIB) if checked_at.tzinfo else checked_at
    rows: list[list] = [
        _line(f"{FEEDBACK_TAB} — {result.coop.nama}"),
        _line("Zona", result.zone.name, "Alasan", result.zone.text),
        _line(
            "Diperiksa",
            f"{formats.format_date(moment.date())}, {moment:%H.%M} WIB",
            None,
            None,
            "Data per",
            f"{formats.format_date(as_of)} \u2014 {counts}",
            "Baris ini ditulis oleh layanan dinas; jangan diubah. Perbaiki data di tab aslinya.",
        ),
    ]
    ordered = sorted_issues(result.issues)
    first = [i for i in ordered if not i.acknowledged][:FIX_FIRST]
    for n in range(FIX_FIRST):
        label = "Perbaiki dulu" if n == 0 else None
        if n < len(first):
            rows.append(_line(label, f"{n + 1}. {_fix_first(first[n])}"))
        elif n == 0:
            rows.append(_line(label, "Tidak ada yang perlu diperbaiki."))
        else:
            rows.append([None] * width)
    rows.append(_line("Sudah dicek?", HOW_TO_TICK))
    rows.append(list(FEEDBACK_HEADER))
    if not result.issues:
        rows.append(_line("", "", None, "", "", "Tidak ada masalah. Terima kasih!", ""))
    for issue in ordered:
        fix = issue.fix
        if issue.ticked and not issue.acknowledged:
            fix = f"{fix} {GALAT_TICK_NOTE}"
        rows.append(
            [
                issue.severity.value,
                issue.tab or "(berkas)",
                issue.row,
                issue.column,
                issue.shown_value,
                issue.message + (" (sudah dicek)" if issue.acknowledged else ""),
                fix,
                TICKED if issue.acknowledged else None,
                issue.key or None,
            ]
        )
    return rows


def _line(*cells: Any) -> list:
    return [*cells, *([None] * (len(FEEDBACK_HEADER) - len(cells)))]


def _fix_first(issue: Issue) -> str:
    where = issue.tab or "berkas"
    if issue.row is not None:
        where += f" baris {issue.row}"
    if issue.column:
        where += f", {issue.column}"
    return f"{issue.severity.value} — {where}: {issue.message} {issue.fix}"


def feedback_row_heights(rows: list[list], header_row: int) -> dict[int, float]:
    """Row (from 1) → its height in points, where wrapped text needs more than one line: a
    spreadsheet keeps a row one line tall unless told, and the text would be cut on paper."""
    widths = FEEDBACK_WIDTHS
    out: dict[int, float] = {1: 22.0}
    for r, row in enumerate(rows, start=1):
        lines = 1
        if r < header_row:
            single = ((r, c, c) for row_at, c in _WRAPPED_TOP if row_at == r)
            for _, first, last in (*(m for m in FEEDBACK_MERGES if m[0] == r and r > 1), *single):
                text = row[first - 1] if len(row) >= first else None
                if isinstance(text, str):
                    lines = max(lines, wrapped_lines(text, sum(widths[first - 1 : last]) - 2))
        else:
            for value, width in zip(row, widths, strict=False):
                if isinstance(value, str):
                    lines = max(lines, wrapped_lines(value, width - 1))
        if lines > 1:
            out[r] = float(LINE_POINTS * lines + 2)
    return out


def feedback_comparable(rows: list[list]) -> list[list]:
    """`rows` as compared with what the tab already holds: without the time of day of the check,
    so that checking again the same day with the same result leaves the tab (and the file) as
    it is."""
    r, c = _CHECKED_AT
    if len(rows) <= r or len(rows[r]) <= c or rows[r][0] != "Diperiksa":
        return rows
    out = [list(row) for row in rows]
    out[r][c] = str(out[r][c]).split(",")[0]  # the date only
    return out


def feedback_styles(rows: list[list], header_row: int) -> dict[tuple[int, int], str]:
    """(row, column), both from 1, → the `FEEDBACK_LOOK` of that cell, read off the rows
    themselves so that both writers (and a tab read back) agree."""
    out: dict[tuple[int, int], str] = {}
    for r, row in enumerate(rows[: header_row - 1], start=1):
        if r == 1:
            out[(1, 1)] = "title"
            continue
        if row and row[0]:
            out[(r, 1)] = "label"
        if r == 2 and len(row) > 1 and f"zona-{row[1]}" in FEEDBACK_LOOK:
            out[(2, 2)] = f"zona-{row[1]}"
        if r == 2 and len(row) > 2:
            out[(2, 3)] = "label"
        if r == 3 and len(row) > 4:
            out[(3, 5)] = "label"
        for wrapped_row, col in _WRAPPED_TOP:
            if wrapped_row == r:
                out[(r, col)] = "text"
        for merged_row, first, _ in FEEDBACK_MERGES:
            if merged_row == r and r > 1:
                out[(r, first)] = "text"
    for r, row in enumerate(rows[header_row:], start=header_row + 1):
        tick = row[TICK_INDEX] if len(row) > TICK_INDEX else None
        level = row[0] if row else None
        if level == Severity.PERINGATAN.value and tick:
            kind = "dicek"
        elif level == Severity.GALAT.value:
            kind = "galat"
        elif level == Severity.PERINGATAN.value:
            kind = "peringatan"
        else:
            continue
        for c in range(1, len(FEEDBACK_HEADER) + 1):
            out[(r, c)] = kind if c != KEY_INDEX + 1 else "kunci"
    return out
