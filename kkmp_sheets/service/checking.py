"""Checking each cooperative of a cycle: read, parse, validate, measure, guard.

`checked_in_order` yields one `Checked` per cooperative, in registry order whatever order the
work finishes in. Local workbooks are checked in a `ReaderPool` of `[performance] workers`
capped reader processes (`service/worker.py` is what each does), while this process keeps the
history store: the snapshot each worker prepared is stored and the guard judged here, one
cooperative after another in registry order, so the store sees the same writes in the same
order with one worker or many. Google workbooks are read over HTTP in this process under the
API's rate limit, which is what a Google cycle waits for; they are checked here too
(`check_one`), since a pool would only move the parsing of what is already slow to fetch.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from kkmp_sheets.config import Config
from kkmp_sheets.core import acknowledge, validation
from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.metrics import CoopFigures, coop_figures
from kkmp_sheets.core.parse import RawWorkbook, parse_workbook
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.template import ANGGOTA
from kkmp_sheets.service.protection import Guard
from kkmp_sheets.service.worker import Job, Measured, check_workbook, examine
from kkmp_sheets.sources.base import ReadFailure, Source
from kkmp_sheets.sources.isolation import ReaderPool
from kkmp_sheets.sources.local import LocalSource
from kkmp_sheets.store import snapshots

if TYPE_CHECKING:
    from kkmp_sheets.service.reuse import Reuse
    from kkmp_sheets.store.history import HistoryStore

log = logging.getLogger(__name__)


@dataclass
class Checked:
    coop: Coop
    figures: CoopFigures
    issues: list[Issue]
    niks: dict[str, int]
    anggota_tab: str
    kept_from: date | None = None  # a held drop: the day whose figures are kept
    stale_from: datetime | None = None  # unreadable: when its shown figures were last read
    read: bool = False  # read from the source this cycle (not its unchanged snapshot)
    reused: bool = False  # the result cache's, from an earlier cycle: nothing read or parsed
    ticks: list[str] = field(default_factory=list)  # keys ticked in Hasil Pemeriksaan


def checked_in_order(
    coops: Sequence[Coop],
    source: Source,
    config: Config,
    as_of: date,
    *,
    guard: Guard | None = None,
    cache: Reuse | None = None,
) -> Iterator[Checked]:
    """Every cooperative checked, in the order of `coops`; with a `cache`, those it still holds
    come from it (looked up before their workbook would be read, as `Reuse.lookup` asks)."""
    if not isinstance(source, LocalSource):
        for coop in coops:
            yield _reused(coop, cache) or check_one(coop, source, config, as_of, guard=guard)
        return
    # Each workbook's version is taken by the lookup before any worker could read it.
    looked_up = [_reused(coop, cache) for coop in coops] if cache is not None else None
    if looked_up is not None and all(looked_up):  # nothing to read: no worker to start
        yield from (item for item in looked_up if item is not None)
        return
    with ReaderPool(source.limits, config.workers, check_workbook) as pool:
        yield from _pooled(
            pool, coops, source, config, as_of, guard, iter(looked_up) if looked_up else None
        )


def _reused(coop: Coop, cache: Reuse | None) -> Checked | None:
    found = cache.lookup(coop) if cache is not None else None
    if found is None:
        return None
    return Checked(
        coop, found.figures, found.issues, {}, found.anggota_tab, reused=True, ticks=found.ticks
    )


# How many cooperatives may be under way beyond the workers' own: enough that a worker never
# waits for this process, few enough that the finished results held in memory stay small.
_AHEAD = 4
# Cooperatives whose snapshots and guard readings are stored in one transaction: one commit
# (one sync of the store's journal) per batch instead of two per cooperative.
_BATCH = 32


def _pooled(
    pool: ReaderPool,
    coops: Sequence[Coop],
    source: LocalSource,
    config: Config,
    as_of: date,
    guard: Guard | None,
    looked_up: Iterator[Checked | None] | None = None,
) -> Iterator[Checked]:
    """Keep the workers busy; take the answers in registry order, waiting for each outside
    any transaction (a workbook may take up to `[limits] seconds`), then store a batch of
    them at once. `looked_up`: the cache's answer for each of `coops`, in their order."""
    waiting = iter(coops)
    pending: deque[_Started] = deque()

    def top_up() -> None:
        while len(pending) < pool.workers + _AHEAD:
            coop = next(waiting, None)
            if coop is None:
                return
            reused = next(looked_up) if looked_up is not None else None
            if reused is not None:
                pending.append((coop, reused, None))
            else:
                pending.append(_start(pool, coop, source, config, as_of, guard))

    top_up()
    while pending:
        ready: list[_Answered] = []
        while pending and len(ready) < _BATCH:
            ready.append(_answered(pending.popleft()))
            top_up()
        if guard is None:
            yield from (_finish(*item, config, as_of, None) for item in ready)
            continue
        with guard.store.transaction():
            done = [_finish(*item, config, as_of, guard) for item in ready]
        yield from done


_Started = tuple[Coop, Future[Measured] | Checked, Job | None]
_Answered = tuple[Coop, Measured | ReadFailure | Checked, Job | None]


def _answered(started: _Started) -> _Answered:
    """Wait for the worker's answer (its `ReadFailure` is an answer too)."""
    coop, item, job = started
    if isinstance(item, Checked):
        return coop, item, job
    try:
        return coop, item.result(), job
    except ReadFailure as failure:
        return coop, failure, job


def _start(
    pool: ReaderPool,
    coop: Coop,
    source: LocalSource,
    config: Config,
    as_of: date,
    guard: Guard | None,
) -> _Started:
    """Hand the cooperative's workbook to the pool; or check it here when there is nothing to
    read (no workbook, outside the root) or the source says it is unchanged since its snapshot."""
    store = guard.store if guard is not None else None
    if store is not None:
        has_snapshot, version = snapshots.latest_version(store.conn, coop.id)
        if has_snapshot and source.unchanged(coop, version):
            return coop, check_one(coop, source, config, as_of, guard=guard), None
    try:
        path, modified = source.where(coop)
    except ReadFailure as failure:
        return coop, _failed(coop, failure, store, config, as_of), None
    job = job_for(
        coop,
        config,
        as_of,
        modified=modified,
        snapshot=guard is not None,
        known_blobs=(
            frozenset(snapshots.latest_blobs(store.conn, coop.id)) if store else frozenset()
        ),
    )
    return coop, pool.submit(path, job), job


def _finish(
    coop: Coop,
    answer: Measured | ReadFailure | Checked,
    job: Job | None,
    config: Config,
    as_of: date,
    guard: Guard | None,
) -> Checked:
    """The worker's answer stored and judged: its snapshot, the guard's reading."""
    if isinstance(answer, Checked):
        return answer
    store = guard.store if guard is not None else None
    if isinstance(answer, ReadFailure):
        return _failed(coop, answer, store, config, as_of)
    if answer.error:
        raise RuntimeError(f"{coop.id}: checking its workbook failed:\n{answer.error}")
    figures, issues, kept_from = answer.figures, answer.issues, None
    if guard is not None and answer.snapshot is not None:
        held = guard.check_prepared(
            coop,
            answer.snapshot,
            figures,
            answer.counted,
            as_of,
            modified=job.modified if job else None,
        )
        figures, kept_from = held.figures, held.kept_from
        issues += held.issues
    return Checked(
        coop,
        figures,
        issues,
        answer.niks,
        answer.anggota_tab,
        kept_from,
        read=True,
        ticks=answer.ticks,
    )


def job_for(
    coop: Coop,
    config: Config,
    as_of: date,
    *,
    modified: datetime | None,
    snapshot: bool = False,
    known_blobs: frozenset[str] = frozenset(),
) -> Job:
    """What checking `coop`'s workbook needs besides the workbook itself."""
    return Job(
        as_of=as_of,
        city_kode=config.city_kode,
        city_name=config.city_name,
        registry_kode_wilayah=coop.kode_wilayah,
        window_days=config.window_days,
        wajib_due_day=config.wajib_due_day,
        modified=modified,
        snapshot=snapshot,
        known_blobs=known_blobs,
    )


def _failed(
    coop: Coop, failure: ReadFailure, store: HistoryStore | None, config: Config, as_of: date
) -> Checked:
    log.warning("%s: workbook not read (%s)", coop.id, failure.code)
    issue = Issue(failure.code, detail=failure.detail, expected=failure.expected)
    return _last_good(coop, issue, store, config, as_of)


# --- one cooperative in this process -----------------------------------------------------------


def check_one(
    coop: Coop, source: Source, config: Config, as_of: date, *, guard: Guard | None = None
) -> Checked:
    """Read, parse, validate and measure one cooperative; never raises for its data.

    With a `guard`, the workbook is snapshotted and a sudden drop is held (its last good
    figures kept, a `likely-deletion` problem added)."""
    store = guard.store if guard is not None else None
    try:
        raw, read = _read(coop, source, store)
    except ReadFailure as failure:
        return _failed(coop, failure, store, config, as_of)
    parsed, issues, figures = examine(raw, job_for(coop, config, as_of, modified=raw.modified))
    kept_from = None
    if guard is not None:
        held = guard.check(coop, raw, parsed, figures, as_of)
        figures, kept_from = held.figures, held.kept_from
        issues += held.issues
    anggota = parsed.tables.get(ANGGOTA.name)
    return Checked(
        coop,
        figures,
        issues,
        validation.member_niks(parsed),
        anggota.tab if anggota else ANGGOTA.name,
        kept_from,
        read=read,
        ticks=acknowledge.ticks_in(raw.tabs),
    )


def _read(coop: Coop, source: Source, store: HistoryStore | None) -> tuple[RawWorkbook, bool]:
    """The workbook, and whether it was read: its snapshot when the source says it is unchanged
    since (no request), else read. Only sources with change detection (Google) ever say so.
    The snapshot's cells are loaded only then: its version is all the question needs."""
    if store is not None:
        has_snapshot, version = snapshots.latest_version(store.conn, coop.id)
        if has_snapshot and source.unchanged(coop, version):
            snap = store.latest_snapshot(coop.id)
            if snap is not None:
                return (
                    RawWorkbook(
                        snap.raw.tabs, modified=snap.raw.modified, version=source.version(coop)
                    ),
                    False,
                )
    return source.read(coop), True


def _last_good(
    coop: Coop, issue: Issue, store: HistoryStore | None, config: Config, as_of: date
) -> Checked:
    """An unreadable workbook: Merah with its problem, showing its last good figures (from its
    latest snapshot, as of today) when there are any, marked as such in Alasan Zona."""
    snap = store.latest_snapshot(coop.id) if store is not None else None
    if snap is None:
        return Checked(coop, CoopFigures(readable=False), [issue], {}, ANGGOTA.name)
    parsed = parse_workbook(snap.raw)
    figures = coop_figures(
        parsed,
        as_of,
        window_days=config.window_days,
        modified=snap.raw.modified,
        wajib_due_day=config.wajib_due_day,
    )
    figures.readable = False
    anggota = parsed.tables.get(ANGGOTA.name)
    return Checked(
        coop,
        figures,
        [issue],
        validation.member_niks(parsed),
        anggota.tab if anggota else ANGGOTA.name,
        stale_from=snap.seen_at,
    )
