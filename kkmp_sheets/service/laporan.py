"""The Laporan Pimpinan of a cycle: gather what the history store recorded, then write the PDFs.

Called by the cycle right after the status workbook is written (and by `kkmp-sheets report`).
A machine without WeasyPrint or its system libraries still completes the cycle: one log line,
and `CycleResult.reports_note` for the summary, never an exception. The PDFs go to
`Config.report_dir` (docs/laporan.md), one of the places the config names.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Collection, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kkmp_sheets.config import Config
from kkmp_sheets.core.figures import CityFigures, Target
from kkmp_sheets.core.kecamatan import name_key
from kkmp_sheets.core.report import CoopResult
from kkmp_sheets.core.results import CycleResult
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.delivery.digest import environment
from kkmp_sheets.errors import OutputError, UsageError
from kkmp_sheets.outputs import laporan
from kkmp_sheets.outputs.laporan import Recorded, ReportsIncomplete, ReportUnavailable

if TYPE_CHECKING:
    from kkmp_sheets.store.history import HistoryStore

log = logging.getLogger(__name__)

TREND_DAYS = 30
LAST_WEEK_DAYS = 7


def recorded(store: HistoryStore | None, as_of: date) -> Recorded:
    """What the report compares with: the comparison day's rows and 30 days of trend."""
    if store is None:
        return Recorded()
    since = store.comparison_day(as_of, LAST_WEEK_DAYS)
    city_then = None
    if since is not None:
        city_then = next((r for r in store.city_rows(until=since) if r["as_of"] == since), None)
    start = as_of.toordinal() - TREND_DAYS
    return Recorded(
        since=since,
        coops_then=store.coop_rows(since) if since is not None else {},
        city_then=city_then,
        city_days=[r for r in store.city_rows(until=as_of) if r["as_of"].toordinal() > start],
        zones_by_day=store.coop_zones(as_of, TREND_DAYS),
    )


def write_reports(
    cfg: Config,
    results: Sequence[CoopResult],
    figures: CityFigures,
    store: HistoryStore | None,
    now: datetime,
    *,
    only: Collection[str] | None = None,
    folder: Path | None = None,
) -> tuple[dict[str, str], str]:
    """(audience → path of each PDF written, a note when none could be made). `only`: the
    audiences to write ("kota", "kecamatan:<key>"); None: every one."""
    started = time.perf_counter()
    views = laporan.build_views(
        results,
        figures,
        recorded(store, figures.window.as_of),
        city_name=cfg.city_name,
        target=Target(cfg.target_date, cfg.target_active_share),
        now=now,
    )
    if only is not None:
        views = [v for v in views if v.audience in only]
    note = ""
    try:
        paths = laporan.write_reports(
            views,
            environment("id"),
            folder or cfg.report_dir,
            prune=only is None,
            workers=cfg.workers,  # [performance] workers: the pages that changed, side by side
            env_factory=functools.partial(environment, "id"),
        )
    except ReportsIncomplete as exc:  # the pages drawn are written and sent; the rest said
        paths, note = exc.written, f"sebagian tidak dibuat: {exc}"
    except ReportUnavailable as exc:
        log.warning("Laporan Pimpinan not made: %s", exc)
        return {}, f"tidak dibuat: {exc}"
    except Exception as exc:  # a secondary output: the cycle, its workbook and digests go on
        log.exception("Laporan Pimpinan not made")
        return {}, f"tidak dibuat: {type(exc).__name__}: {exc}"
    log.info(
        "Laporan Pimpinan: %d PDF in %s (%.1f s)",
        len(paths),
        folder or cfg.report_dir,
        time.perf_counter() - started,
    )
    return {audience: str(path) for audience, path in paths.items()}, note


def on_demand(cfg: Config, cycle: CycleResult, kecamatan: str | None = None) -> dict[str, str]:
    """`kkmp-sheets report`, after a cycle that wrote nothing (no Hasil Pemeriksaan, status
    workbook, history or digest): the city's report and every kecamatan's, or only the
    kecamatan named. An unknown name: `UsageError` listing the known ones."""
    from kkmp_sheets.store.history import HistoryStore

    figures = cycle.figures
    assert figures is not None  # run_cycle always measures
    only = None
    if kecamatan is not None:
        only = {_kecamatan_audience(figures, kecamatan)}
    with HistoryStore.for_config(cfg) as store:
        paths, note = write_reports(
            cfg, cycle.results, figures, store, datetime.now(WIB), only=only
        )
    if note:
        raise OutputError(f"Laporan Pimpinan {note}")
    return paths


def _kecamatan_audience(figures: CityFigures, name: str) -> str:
    wanted = name_key(name)
    for group in figures.kecamatan:
        k = group.kecamatan
        if k.named and wanted in {name_key(s) for s in (k.name, *k.spellings)}:
            return f"kecamatan:{k.key}"
    known = ", ".join(g.kecamatan.name for g in figures.kecamatan if g.kecamatan.named)
    raise UsageError(f"no kecamatan {name!r} in the registry; known: {known}")
