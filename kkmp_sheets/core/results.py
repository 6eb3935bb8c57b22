"""What one cycle produced: every cooperative's result, the registry's problems, the city summary.

The cycle (`service.cycle`) makes it; the history store records it, the digests and the CLI
summary read it. It lives in the core so that all of them can import it without importing the
cycle, which imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kkmp_sheets.core.figures import CityFigures
from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.report import CoopResult, Summary


@dataclass
class CycleResult:
    results: list[CoopResult]
    registry_issues: list[Issue]
    summary: Summary
    as_of: date
    output: str
    seconds: float
    feedback_written: int = 0
    feedback_unchanged: int = 0
    feedback_failed: list[tuple[str, str]] = field(default_factory=list)
    notified: Any = None  # notify.Notified, once digests were handed over
    figures: CityFigures | None = None  # every figure, measured once; `summary` is its city
    status_link: str = ""  # where officials open Status KKMP (`Sink.link`); "" if not published
    # The Laporan Pimpinan PDFs of this cycle: "kota" / "kecamatan:<key>" → path; and why none
    # were made, when they were not ("" when they were, or when the cycle makes none).
    reports: dict[str, str] = field(default_factory=dict)
    reports_note: str = ""

    @property
    def unreadable(self) -> list[CoopResult]:
        return [r for r in self.results if not r.figures.readable]
