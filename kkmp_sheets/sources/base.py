"""What every source (local files, Google Sheets) offers the pipeline.

A source reads the registry, reads one cooperative's workbook as a `RawWorkbook`, and writes
that cooperative's Hasil Pemeriksaan tab — the only write the service ever makes into a
cooperative's workbook. A workbook that cannot be read raises `ReadFailure`, which the pipeline
turns into a problem on that cooperative's row; the cycle goes on.
"""

from __future__ import annotations

from typing import Any, Protocol

from kkmp_sheets.core.issue import require_code
from kkmp_sheets.core.parse import RawWorkbook, Rows
from kkmp_sheets.core.registry import Coop


class ReadFailure(Exception):
    """One cooperative's workbook cannot be read; `code` is an issue code from the catalog."""

    def __init__(self, code: str, detail: str = "", expected: str = ""):
        require_code(code)  # refused where it is raised, not when the cycle makes its Issue
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.expected = expected


class Source(Protocol):
    kind: str

    def registry_rows(self) -> Rows: ...

    def read(self, coop: Coop) -> RawWorkbook: ...

    def link(self, coop: Coop) -> str: ...

    def write_feedback(
        self, coop: Coop, rows: list[list[Any]], header_row: int, widths: list[float]
    ) -> bool: ...
