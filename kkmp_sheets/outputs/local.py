"""The city status workbook as a local `.xlsx` file."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import python_calamine

from kkmp_sheets.core.tables import StatusBook
from kkmp_sheets.outputs.xlsx import write_status_workbook

log = logging.getLogger(__name__)


class LocalSink:
    def __init__(self, path: Path):
        self.path = Path(path)

    def publish(self, book: StatusBook) -> str:
        write_status_workbook(book, self.path)
        return str(self.path)

    def close(self) -> None:
        """Nothing is held open: each publish writes the file and closes it."""

    def link(self, tab: str) -> str:
        """The workbook's `file://` URI (a file link cannot open a given tab)."""
        return self.path.resolve().as_uri()

    def history(self) -> list[list]:
        """Riwayat rows of the previous status workbook, so the trend grows cycle by cycle."""
        if not self.path.is_file():
            return []
        try:
            wb = python_calamine.CalamineWorkbook.from_path(str(self.path))
            if "Riwayat" not in wb.sheet_names:
                return []
            rows = wb.get_sheet_by_name("Riwayat").to_python(skip_empty_area=False)
        except Exception as exc:  # an unreadable old file only costs the history, not the cycle
            log.warning("previous status workbook unreadable, Riwayat starts afresh: %s", exc)
            return []
        history = []
        for row in rows:
            if row and isinstance(row[0], datetime | date):
                day = row[0].date() if isinstance(row[0], datetime) else row[0]
                history.append([day, *(None if v == "" else v for v in row[1:])])
        return history
