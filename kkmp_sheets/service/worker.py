"""What a reader worker does for one cooperative: read, parse, validate, measure, snapshot.

`check_workbook` runs inside a capped reader process (`sources/isolation.py`), so a hostile
workbook costs only its own worker however far it gets, and several cooperatives are checked
at once (`[performance] workers`). It returns only what the cycle needs of the workbook:
figures, problems, NIK fingerprints, the Anggota tab's title, what the guard counts, and — when
the history store is in use — the snapshot ready to store (encoded, hashed and compressed here,
on the worker's core). Never the parsed tables.

This module is imported by every worker process: it keeps to the core, the reader, the guard's
counting and the snapshot encoding, not the rest of the service.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from datetime import date, datetime

from kkmp_sheets.config import ReadLimits
from kkmp_sheets.core import acknowledge, validation
from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.metrics import CoopFigures, coop_figures
from kkmp_sheets.core.parse import ParsedWorkbook, RawWorkbook, parse_workbook
from kkmp_sheets.core.template import ANGGOTA
from kkmp_sheets.service.protection import Counted
from kkmp_sheets.sources.reader import read_tabs
from kkmp_sheets.store import snapshots


@dataclass(frozen=True)
class Job:
    """What one check needs besides the workbook: the cycle's inputs for this cooperative."""

    as_of: date
    city_kode: str
    city_name: str
    registry_kode_wilayah: str | None
    window_days: int
    wajib_due_day: int
    modified: datetime | None
    snapshot: bool  # the history store is in use: prepare the snapshot
    known_blobs: frozenset[str] = frozenset()  # already stored: hashed, not compressed


@dataclass
class Measured:
    """A checked workbook, as it comes back from the worker."""

    figures: CoopFigures
    issues: list[Issue]
    niks: dict[str, int]
    anggota_tab: str
    counted: Counted = field(default_factory=lambda: Counted(0, {}))  # for the guard
    ticks: list[str] = field(default_factory=list)  # keys staff ticked in Hasil Pemeriksaan
    snapshot: snapshots.Prepared | None = None
    error: str = ""  # a failure of the service's own code, not of the workbook (a traceback)


def check_workbook(path: str, limits: ReadLimits, job: Job) -> Measured:
    """Read the workbook under `limits` (its failures raise, for the worker to report), then
    check it. A failure after reading is the service's, not the workbook's: it comes back as
    `error`, so that the cycle stops as it would had the check run in its own process."""
    tabs = read_tabs(path, limits)
    try:
        return measure_tabs(tabs, job)
    except Exception:
        return Measured(CoopFigures(readable=False), [], {}, ANGGOTA.name, error=_trace())


def measure_tabs(tabs: dict[str, list[list]], job: Job) -> Measured:
    parsed, issues, figures = examine(RawWorkbook(tabs, modified=job.modified), job)
    anggota = parsed.tables.get(ANGGOTA.name)
    return Measured(
        figures,
        issues,
        validation.member_niks(parsed),
        anggota.tab if anggota else ANGGOTA.name,
        counted=Counted.of(parsed),
        ticks=acknowledge.ticks_in(tabs),
        snapshot=snapshots.prepare(tabs, job.known_blobs) if job.snapshot else None,
    )


def examine(raw: RawWorkbook, job: Job) -> tuple[ParsedWorkbook, list[Issue], CoopFigures]:
    """Parse, validate and measure one workbook: the one way, in a worker or in the cycle's
    own process (Google workbooks)."""
    parsed = parse_workbook(raw)
    ctx = validation.Context(
        as_of=job.as_of,
        city_kode=job.city_kode,
        city_name=job.city_name,
        registry_kode_wilayah=job.registry_kode_wilayah,
    )
    issues = parsed.issues + validation.validate(parsed, ctx)
    # Each problem's key (so that a tick follows its record), and the ticks staff set.
    issues = acknowledge.ticked(acknowledge.keyed(issues, raw.tabs), acknowledge.ticks_in(raw.tabs))
    figures = coop_figures(
        parsed,
        job.as_of,
        window_days=job.window_days,
        modified=raw.modified,
        wajib_due_day=job.wajib_due_day,
    )
    return parsed, issues, figures


def _trace() -> str:
    return traceback.format_exc(limit=8)
