"""One cycle: registry → read each workbook → parse → validate → figures → zones → outputs.

The only place that wires I/O to the pure core. A cooperative whose workbook cannot be read is
reported on its own row and the cycle goes on; only failures of the service itself (the
registry, the status workbook) raise `KkmpError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from kkmp_sheets import validation
from kkmp_sheets.config import Config
from kkmp_sheets.issue import Issue
from kkmp_sheets.metrics import CoopFigures, coop_figures
from kkmp_sheets.outputs.base import Sink
from kkmp_sheets.parse import parse_workbook
from kkmp_sheets.registry import Coop, read_registry
from kkmp_sheets.report import (
    FEEDBACK_HEADER_ROW,
    FEEDBACK_WIDTHS,
    CoopResult,
    Summary,
    Target,
    coop_frame,
    feedback_rows,
    status_book,
    summarize,
)
from kkmp_sheets.sources.base import ReadFailure, Source
from kkmp_sheets.template import ANGGOTA
from kkmp_sheets.zoning import zone

log = logging.getLogger(__name__)
WIB = ZoneInfo("Asia/Jakarta")

Progress = Callable[[int, int, str], None]  # (done, total, coop id)


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

    @property
    def unreadable(self) -> list[CoopResult]:
        return [r for r in self.results if not r.figures.readable]


def run_cycle(
    config: Config,
    *,
    source: Source,
    sink: Sink,
    as_of: date,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> CycleResult:
    started = time.perf_counter()
    now = (now or datetime.now(WIB)).astimezone(WIB)
    coops, registry_issues = read_registry(source.registry_rows())
    log.info("registry: %d cooperatives, %d problems", len(coops), len(registry_issues))

    checked: list[_Checked] = []
    niks: dict[str, dict[str, int]] = {}
    for done, coop in enumerate(coops, start=1):
        item = check_one(coop, source, config, as_of)
        checked.append(item)
        if item.niks:
            niks[coop.id] = item.niks
        item.niks = {}  # NIKs are needed only for the cross-cooperative check below
        if progress:
            progress(done, len(coops), coop.id)

    elsewhere = validation.cross_coop_issues(niks, {c.coop.id: c.anggota_tab for c in checked})
    del niks
    results: list[CoopResult] = []
    for item in checked:
        issues = item.issues + elsewhere.get(item.coop.id, [])
        galat, _ = validation.count(issues)
        results.append(
            CoopResult(
                coop=item.coop,
                figures=item.figures,
                zone=zone(item.figures, galat, as_of, config.zones),
                issues=issues,
                link=source.link(item.coop),
            )
        )

    book = status_book(
        results,
        city_name=config.city_name,
        as_of=as_of,
        now=now,
        reporting_window_days=config.reporting_window_days,
        target=Target(config.target_date, config.target_active_share),
        registry_issues=registry_issues,
        history=sink.history(),
    )
    output = sink.publish(book)
    log.info("status workbook written: %s", output)

    cycle = CycleResult(
        results=results,
        registry_issues=registry_issues,
        summary=summarize(coop_frame(results, as_of, config.reporting_window_days)),
        as_of=as_of,
        output=output,
        seconds=0.0,
    )
    if config.write_feedback:
        write_feedback(cycle, source, now.date())
    cycle.seconds = time.perf_counter() - started
    return cycle


@dataclass
class _Checked:
    coop: Coop
    figures: CoopFigures
    issues: list[Issue]
    niks: dict[str, int]
    anggota_tab: str


def check_one(coop: Coop, source: Source, config: Config, as_of: date) -> _Checked:
    """Read, parse, validate and measure one cooperative; never raises for its data."""
    try:
        raw = source.read(coop)
    except ReadFailure as failure:
        log.warning("%s: workbook not read (%s)", coop.id, failure.code)
        issue = Issue(failure.code, detail=failure.detail, expected=failure.expected)
        return _Checked(coop, CoopFigures(readable=False), [issue], {}, ANGGOTA.name)
    parsed = parse_workbook(raw)
    ctx = validation.Context(
        as_of=as_of,
        city_kode=config.city_kode,
        city_name=config.city_name,
        registry_kode_wilayah=coop.kode_wilayah,
    )
    issues = parsed.issues + validation.validate(parsed, ctx)
    figures = coop_figures(parsed, as_of, window_days=config.window_days, modified=raw.modified)
    anggota = parsed.tables.get(ANGGOTA.name)
    return _Checked(
        coop,
        figures,
        issues,
        validation.member_niks(parsed),
        anggota.tab if anggota else ANGGOTA.name,
    )


def write_feedback(cycle: CycleResult, source: Source, checked_on: date) -> None:
    """Hasil Pemeriksaan into each readable workbook; a failure is logged and the rest go on."""
    for result in cycle.results:
        if not result.figures.readable:
            continue
        rows = feedback_rows(result, checked_on, cycle.as_of)
        try:
            written = source.write_feedback(result.coop, rows, FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS)
        except Exception as exc:  # one locked or broken file must not stop the others
            log.warning("%s: Hasil Pemeriksaan not written: %s", result.coop.id, exc)
            cycle.feedback_failed.append((result.coop.id, str(exc)))
            continue
        if written:
            cycle.feedback_written += 1
        else:
            cycle.feedback_unchanged += 1
