"""The city status workbook as a local `.xlsx` file."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import python_calamine

from kkmp_sheets.core.report import riwayat_read_back
from kkmp_sheets.core.tables import StatusBook
from kkmp_sheets.outputs.xlsx import write_status_workbook

log = logging.getLogger(__name__)


class LocalSink:
    def __init__(self, path: Path):
        self.path = Path(path)

    def publish(self, book: StatusBook) -> str:
        kept = write_status_workbook(book, self.path)
        log.info(
            "status workbook: %d of %d sheets kept from the previous file",
            len(kept),
            len(book.sheets),
        )
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
        return riwayat_read_back(rows, _day)


def _day(cell: object) -> date | None:
    if isinstance(cell, datetime):
        return cell.date()
    return cell if isinstance(cell, date) else None
