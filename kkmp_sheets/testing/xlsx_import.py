"""Reading local workbooks into the fake: ``.xlsx`` via python-calamine, CSV via the stdlib.

Numbers stay numbers, dates become serial numbers (with a date format), text stays text, exactly
as a spreadsheet converted to Google Sheets would read back with ``UNFORMATTED_VALUE``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ImportedTab:
    title: str
    rows: list[list[Any]]
    hidden: bool = False
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, r1, c0, c1


def _clean(value: Any) -> Any:
    if value == "":
        return None
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 86400
    return value


def read_xlsx(source: str | Path | bytes) -> list[ImportedTab]:
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    if isinstance(source, bytes):
        book = CalamineWorkbook.from_filelike(io.BytesIO(source))
    else:
        book = CalamineWorkbook.from_path(str(source))
    try:
        visible = {m.name: m.visible == SheetVisibleEnum.Visible for m in book.sheets_metadata}
        tabs = []
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            rows = [[_clean(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
            merges = [
                (start[0], end[0] + 1, start[1], end[1] + 1)
                for start, end in (sheet.merged_cell_ranges or [])
            ]
            tabs.append(ImportedTab(name, rows, not visible.get(name, True), merges))
        return tabs
    finally:
        book.close()


def read_csv(data: bytes | str, title: str) -> ImportedTab:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    rows = [list(row) for row in csv.reader(io.StringIO(text))]
    return ImportedTab(title, rows)
