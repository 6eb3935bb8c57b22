"""One cycle: registry → read each workbook → parse → validate → figures → zones → outputs.

The only place that wires I/O to the pure core. A cooperative whose workbook cannot be read is
reported on its own row and the cycle goes on; only failures of the service itself (the
registry, the status workbook) raise `KkmpError`.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kkmp_sheets import __version__, crashpoints
from kkmp_sheets.config import Config
from kkmp_sheets.core import acknowledge, formats, validation
from kkmp_sheets.core.figures import measure
from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.lokasi import area_issues
from kkmp_sheets.core.registry import Coop, read_registry, registry_error
from kkmp_sheets.core.report import STATUS_TAB, CoopResult, Target, riwayat_row, status_book
from kkmp_sheets.core.report_card import FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS, feedback_rows
from kkmp_sheets.core.results import CycleResult
from kkmp_sheets.core.template import FEEDBACK_TAB
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.core.zoning import Zone, zone
from kkmp_sheets.errors import SourceError
from kkmp_sheets.outputs.base import Sink
from kkmp_sheets.service import reuse
from kkmp_sheets.service.checking import Checked, check_one, checked_in_order
from kkmp_sheets.service.laporan import write_reports
from kkmp_sheets.service.protection import Guard, zone_note
from kkmp_sheets.sources.base import Pending, Source, feedback_batch, submit_feedback

if TYPE_CHECKING:
    from kkmp_sheets.store.history import HistoryStore

log = logging.getLogger(__name__)
# check_one is where it always was for callers that check one cooperative on its own.
__all__ = ["Feedback", "check_one", "load_registry", "run_cycle", "write_feedback"]

Progress = Callable[[int, int, str], None]  # (done, total, coop id)


def run_cycle(
    config: Config,
    *,
    source: Source,
    sink: Sink,
    as_of: date,
    now: datetime | None = None,
    progress: Progress | None = None,
    store: HistoryStore | None = None,
    registry: Registry | None = None,
    recorded: bool = True,
    reports: bool = True,
) -> CycleResult:
    """One cycle. With a history `store`, every workbook read is snapshotted, sudden drops are
    held (`protection.Guard`) and Riwayat comes from the store's recorded days. `registry`: what
    `load_registry` returned, when the caller read it first; else it is read here.

    `recorded=False`: a cycle that will never be recorded (its day is after tomorrow): it takes
    no snapshot and moves no guard, and its day gets no Riwayat row, so that nothing of it is
    carried into later cycles' history.

    `reports=False`: no Laporan Pimpinan (a dry run); else the PDFs are written after the status
    workbook when `[output] laporan` is on (`service/laporan.py`)."""
    started = time.perf_counter()
    now = (now or datetime.now(WIB)).astimezone(WIB)
    coops, registry_issues = registry if registry is not None else load_registry(config, source)
    guard = None
    if store is not None and recorded:
        guard = Guard(
            store,
            config.protection,
            now=now,
            window_days=config.window_days,
            wajib_due_day=config.wajib_due_day,
        )
    cache = (
        reuse.Reuse(guard.store, config, source, as_of=as_of, now=now)
        if guard is not None
        else None
    )

    checked: list[Checked] = []
    niks: dict[str, dict[str, int]] = {}
    early: set[str] = set()  # cooperatives whose Hasil Pemeriksaan was written while reading
    # Read, parsed, validated and measured by `[performance] workers` processes, in registry
    # order; what needs every cooperative comes after. A cooperative the cache still holds is
    # neither read nor parsed (`reuse.py`).
    in_order = checked_in_order(coops, source, config, as_of, guard=guard, cache=cache)
    for done, (coop, item) in enumerate(zip(coops, in_order, strict=True), start=1):
        if cache is not None and not item.reused:
            cache.remember(item)
        checked.append(item)
        if config.write_feedback and item.read and source.early_feedback:
            _early_feedback(item, source, config, now, as_of, early)
        if item.niks:
            niks[coop.id] = item.niks
        item.niks = {}  # NIKs are needed only for the cross-cooperative check below
        if progress:
            progress(done, len(coops), coop.id)

    tabs = {c.coop.id: c.anggota_tab for c in checked}
    if cache is not None:  # fingerprints, so that the reused cooperatives count too
        elsewhere = cache.cross_coop_issues(niks, tabs)
    else:
        elsewhere = validation.cross_coop_issues(niks, tabs)
    del niks
    located = [c for c in checked if c.figures.readable and c.figures.titik_lokasi is not None]
    outside_area = area_issues(
        {c.coop.id: c.figures.titik_lokasi for c in located},  # type: ignore[misc]
        config.area,
        {c.coop.id: (c.figures.lokasi_tab, c.figures.lokasi_row) for c in located},
    )
    results: list[CoopResult] = []
    for item in checked:
        # An unreadable workbook's last NIKs still count for the others, not for itself.
        found = elsewhere.get(item.coop.id, []) if item.figures.readable else []
        # A NIK registered elsewhere is identified by the NIK itself; staff may tick it too.
        issues = item.issues + acknowledge.ticked(acknowledge.keyed(found), item.ticks)
        if item.coop.id in outside_area:  # a Peringatan like any other: staff may tick it
            issues += acknowledge.ticked(
                acknowledge.keyed([outside_area[item.coop.id]]), item.ticks
            )
        galat, _ = validation.count(issues)
        results.append(
            CoopResult(
                coop=item.coop,
                figures=item.figures,
                zone=_stale(
                    _noted(zone(item.figures, galat, as_of, config.zones), item.kept_from),
                    item.stale_from,
                ),
                issues=issues,
                link=source.link(item.coop),
            )
        )

    # Hasil Pemeriksaan before the status workbook, so that a workbook the service could not
    # write into shows that on its row, in Masalah Data and in the digests of this very cycle.
    feedback = Feedback()
    if config.write_feedback:
        writer = cache.feedback(source) if cache is not None else source
        feedback = write_feedback(results, writer, now, as_of, early=early, workers=config.workers)
    if cache is not None:
        cache.flush()
    crashpoints.reached("cycle-feedback-done")

    figures = measure(
        results,
        as_of=as_of,
        reporting_window_days=config.reporting_window_days,
        target=Target(config.target_date, config.target_active_share),
    )
    book = status_book(
        results,
        city_name=config.city_name,
        as_of=as_of,
        now=now,
        reporting_window_days=config.reporting_window_days,
        target=Target(config.target_date, config.target_active_share),
        registry_issues=registry_issues,
        history=_riwayat(sink, store, now),
        figures=figures,
        units=config.pasokan,
        kode_wilayah=config.city_kode,
        program_version=__version__,
    )
    if not recorded:
        riwayat = book.sheet("Riwayat")
        riwayat.rows = [row for row in riwayat.rows if row[0] != as_of]
    output = sink.publish(book)
    crashpoints.reached("cycle-published")
    log.info("status workbook written: %s", output)
    report_paths: dict[str, str] = {}
    report_note = ""
    if reports and config.laporan:
        report_paths, report_note = write_reports(config, results, figures, store, now)

    cycle = CycleResult(
        results=results,
        registry_issues=registry_issues,
        summary=figures.city,
        as_of=as_of,
        output=output,
        seconds=0.0,
        figures=figures,
        status_link=sink.link(STATUS_TAB),
        feedback_written=feedback.written,
        feedback_unchanged=feedback.unchanged,
        feedback_failed=feedback.failed,
        reports=report_paths,
        reports_note=report_note,
    )
    cycle.seconds = time.perf_counter() - started
    return cycle


Registry = tuple[list[Coop], list[Issue]]


def load_registry(config: Config, source: Source) -> Registry:
    """The cooperatives and the registry's per-row problems. A registry the cycle cannot use
    (no header, a required column missing, an ID on two rows) raises `SourceError` (exit code
    4) before anything is read or written: a cycle over it would record every cooperative as
    unreadable, or two of them as one, as the day's figures."""
    coops, issues = read_registry(source.registry_rows())
    issues += source.registry_issues(coops)
    error = registry_error(issues)
    if error is not None:
        raise SourceError(
            f"registry {config.registry}: {error}. Nothing was written (no status workbook, "
            "Riwayat row, Hasil Pemeriksaan, digest or history); run again once it is fixed"
        )
    log.info("registry: %d cooperatives, %d problems", len(coops), len(issues))
    return coops, issues


def _stale(found: Zone, stale_from: datetime | None) -> Zone:
    if stale_from is None:
        return found
    day = formats.format_date(stale_from.date())
    return Zone(found.name, (*found.reasons, f"angka terakhir yang terbaca, dari {day}"))


def _early_feedback(
    item: Checked, source: Source, config: Config, now: datetime, as_of: date, early: set[str]
) -> None:
    """Hasil Pemeriksaan right after reading, for sources whose writes have their own quota
    (Google): the writes then share the read phase's minutes instead of following it. Only the
    cross-cooperative checks are missing yet; the final pass writes again where they add rows."""
    if not item.figures.readable:
        return
    galat, _ = validation.count(item.issues)
    result = CoopResult(
        item.coop, item.figures, zone(item.figures, galat, as_of, config.zones), item.issues
    )
    rows = feedback_rows(result, now, as_of)
    try:
        if source.write_feedback(item.coop, rows, FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS):
            early.add(item.coop.id)
    except Exception as exc:  # the final pass tries again, and reports it
        log.info("%s: Hasil Pemeriksaan not written yet: %s", item.coop.id, exc)


def _noted(found: Zone, kept_from: date | None) -> Zone:
    """Alasan Zona says when a held drop's last good figures stand in for the reading."""
    if kept_from is None:
        return found
    return Zone(found.name, (*found.reasons, zone_note(kept_from)))


def _riwayat(sink: Sink, store: HistoryStore | None, now: datetime) -> list[list]:
    """Riwayat rows: the store's recorded days, and the published ones it does not have; never
    a day after tomorrow (one that an earlier version let `--as-of` write: not history)."""
    last = now.date() + timedelta(days=1)
    published = [row for row in sink.history() if row and _day_of(row[0]) <= last]
    if store is None:
        return published
    recorded = {row["as_of"]: row for row in store.city_rows(until=last)}
    older = [row for row in published if row and row[0] not in recorded]
    stored = [riwayat_row(day, row) for day, row in recorded.items()]  # same names as figures
    return older + stored


def _day_of(cell: Any) -> date:
    """A Riwayat row's first cell as a day (a date, a datetime, or ISO text)."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    return date.fromisoformat(str(cell)[:10])


@dataclass
class Feedback:
    """What the Hasil Pemeriksaan writes of one cycle came to."""

    written: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (coop id, log message)


# PatchError.reason -> the problem shown on the cooperative's row (see core.issue.CATALOG)
_FEEDBACK_FAILURE = {
    "read-only": "feedback-read-only",
    "open": "feedback-open-elsewhere",
    "changed": "feedback-changed",
}


def write_feedback(
    results: list[CoopResult],
    source: Source,
    checked_at: datetime,
    as_of: date,
    *,
    early: set[str] | None = None,
    workers: int = 1,
) -> Feedback:
    """Hasil Pemeriksaan into each readable workbook. One that cannot be written (read-only,
    open elsewhere, saved by staff meanwhile, or anything else) gets a problem on its row, which
    the status workbook and the digests show with the fix, and the rest go on.
    `early`: cooperatives already written this cycle (counted as written when now unchanged).

    `workers` > 1: a local source writes in that many processes (`sources/feedback_writers.py`)
    while this one makes the next cooperatives' rows; what each write came to is taken in the
    order of `results`, as with one process, and the batch's folders are flushed once every
    write has answered."""
    outcome = Feedback()
    pending: deque[tuple[CoopResult, Pending]] = deque()
    # Writes under way beyond the workers' own: enough to keep them busy, few enough that the
    # time from a write to its bookkeeping (the version it left) stays short.
    ahead = workers + 4 if workers > 1 else 0
    # the writes share one flush to disk (local: per folder), after the last one answered
    with feedback_batch(source, workers):
        for result in results:
            if not result.figures.readable:
                continue
            rows = feedback_rows(result, checked_at, as_of)
            pending.append(
                (
                    result,
                    submit_feedback(
                        source, result.coop, rows, FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS
                    ),
                )
            )
            while pending and (len(pending) > ahead or pending[0][1].done()):
                _settle(*pending.popleft(), outcome, early)
        while pending:
            _settle(*pending.popleft(), outcome, early)
    return outcome


def _settle(result: CoopResult, write: Pending, outcome: Feedback, early: set[str] | None) -> None:
    """Count one write, or put its failure on its cooperative's row."""
    try:
        written = write.result()
    except Exception as exc:  # one locked or broken file must not stop the others
        log.warning("%s: Hasil Pemeriksaan not written: %s", result.coop.id, exc)
        outcome.failed.append((result.coop.id, str(exc)))
        code = _FEEDBACK_FAILURE.get(getattr(exc, "reason", ""), "feedback-not-written")
        result.issues.append(Issue(code, tab=FEEDBACK_TAB))
        return
    if written or (early and result.coop.id in early):
        outcome.written += 1
    else:
        outcome.unchanged += 1
