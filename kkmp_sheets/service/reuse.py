"""Reuse of a cooperative's last result when nothing it depends on changed.

A cooperative's check depends on its workbook and on a few inputs: the cycle's day, its
registry row, the thresholds of the configuration, and the program itself. When its workbook is
still the version its cached result was computed from (local: device, inode, size and
modification and change times of the file; Google: the Drive version, allowing for our own
Hasil Pemeriksaan write) and the digest of those inputs is the same, the cached problems,
figures and NIK fingerprints are used without reading or parsing anything
(`store/results_cache.py` keeps them, in the history store).

What stays as it was without the cache:

- the cross-cooperative NIK check sees every cooperative: it runs on keyed fingerprints, for
  the workbooks read as for the reused ones; the NIK a problem shows comes from a workbook read
  this cycle holding it, or from the reused cooperative's snapshot;
- the guard (`protection.py`): a result is cached only when its reading was accepted (not
  held, not unreadable), and reused only while the guard still accepts that same snapshot; a
  reuse moves the accepted reading's day as a read of the same content would;
- Hasil Pemeriksaan: rows equal to those last written, into the version of the workbook that
  write left, are not written again (counted as unchanged, as before). A cached result computed
  from the version before our own write holds for the version after it.

Without a history store there is no cache: every workbook is read, as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import kkmp_sheets
from kkmp_sheets.config import Config
from kkmp_sheets.core import formats, validation
from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.metrics import CoopFigures
from kkmp_sheets.core.parse import RawWorkbook, Rows, locate_header, parse_workbook
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.report_card import feedback_comparable
from kkmp_sheets.core.template import ANGGOTA
from kkmp_sheets.service import protection
from kkmp_sheets.sources.base import Finished, Pending, Source, feedback_batch, submit_feedback
from kkmp_sheets.store import results_cache, snapshots
from kkmp_sheets.store.results_cache import CACHE_FORMAT, Entry, Uncacheable

if TYPE_CHECKING:
    from kkmp_sheets.store.history import HistoryStore

log = logging.getLogger(__name__)

_BATCH = 200  # cached results kept per transaction (bounds what waits in memory)


class Checked(Protocol):
    """What the cycle knows of one cooperative it checked (`checking.Checked`)."""

    coop: Coop
    figures: CoopFigures
    issues: list[Issue]
    niks: dict[str, int]
    anggota_tab: str
    kept_from: date | None
    stale_from: datetime | None
    ticks: list[str]


@dataclass
class Reused:
    """A cooperative's cached result: its own problems (before the cross-cooperative check),
    its figures and the tab holding its members."""

    figures: CoopFigures
    issues: list[Issue]
    anggota_tab: str
    ticks: list[str]


def inputs_digest(
    config: Config, coop: Coop, as_of: date, *, shared: Mapping[str, object] | None = None
) -> str:
    """What a cooperative's result depends on besides its workbook. `shared`: what
    `shared_inputs` returned for this config and day (the same for every cooperative: a cycle
    works it out once, not once per cooperative)."""
    inputs = {**(shared or shared_inputs(config, as_of)), "coop": repr(coop)}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def shared_inputs(config: Config, as_of: date) -> dict[str, object]:
    """The inputs every cooperative's result depends on: the program, the day, the settings."""
    return {
        "program": str(kkmp_sheets.__version__),
        "code": _code_digest(),
        "format": CACHE_FORMAT,
        "as_of": as_of.isoformat(),
        "config": repr(
            (
                config.city_name,
                config.city_kode,
                config.window_days,
                config.wajib_due_day,
                config.zones,
                config.protection,
                config.limits,
                config.source_kind,
                config.registry,
                config.source_root,
            )
        ),
    }


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """The program's own source: a changed check (a checkout between releases) is a new one."""
    digest = hashlib.sha256()
    package = Path(kkmp_sheets.__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class Reuse:
    """The cache of one cycle: `lookup` before checking a cooperative, `remember` after, then
    `cross_coop_issues` once all are checked, `feedback(source)` to write Hasil Pemeriksaan
    through, and `flush` at the end."""

    def __init__(
        self, store: HistoryStore, config: Config, source: Source, *, as_of: date, now: datetime
    ) -> None:
        self.store, self.config, self.source = store, config, source
        self.as_of, self.now = as_of, now
        self.key = results_cache.fingerprint_key(store.conn)
        self._shared = shared_inputs(config, as_of)
        self.reused = 0
        self._before: dict[str, tuple[str, str | None]] = {}  # coop id -> (inputs, version)
        self._reused: dict[str, str] = {}  # coop id -> the snapshot its result came from
        self._fps: dict[str, dict[str, int]] = {}  # coop id -> NIK fingerprint -> row
        self._rows: list[results_cache.Row] = []
        self._forget: list[str] = []
        self._seen: list[str] = []
        self._written: list[tuple[str, str, str]] = []
        self._moved: list[tuple[str, str, str]] = []

    # --- before and after checking one cooperative -------------------------------------------

    def lookup(self, coop: Coop) -> Reused | None:
        """The cooperative's cached result when it still holds; None: check it."""
        inputs = inputs_digest(self.config, coop, self.as_of, shared=self._shared)
        version = self.source.version(coop)  # before reading: a change meanwhile shows next time
        self._before[coop.id] = (inputs, version)
        stored = results_cache.load(self.store.conn, coop.id)
        if stored is None or stored.inputs != inputs or version is None:
            return None
        state = protection.load(self.store, coop.id)
        if state is None or state.held or stored.content != state.good.hash:
            return None
        if state.seen.hash != stored.content or not self.source.unchanged(coop, stored.version):
            return None
        if version != stored.version:  # unchanged all the same (Google: our own write since)
            self._moved.append((coop.id, stored.version, version))
        self.reused += 1
        self._reused[coop.id] = stored.content
        self._seen.append(coop.id)
        entry = stored.entry
        self._fps[coop.id] = dict(entry.fingerprints)
        return Reused(entry.figures, entry.issues, entry.anggota_tab, list(entry.ticks))

    def remember(self, item: Checked) -> None:
        """Keep a checked cooperative's result, when it is one the next cycle may reuse."""
        coop = item.coop
        fps = self._fps[coop.id] = self._fingerprints(item.niks)
        inputs, version = self._before.pop(coop.id, ("", None))
        content = self._accepted(coop.id) if version is not None and inputs else None
        usable = item.figures.readable and item.kept_from is None and item.stale_from is None
        if content is None or not usable or version is None:
            self._forget.append(coop.id)
            return
        entry = Entry(
            item.figures, list(item.issues), list(fps.items()), item.anggota_tab, list(item.ticks)
        )
        try:
            self._rows.append(results_cache.encoded(coop.id, inputs, version, content, entry))
        except Uncacheable as exc:
            log.info("%s: result not cached (%s)", coop.id, exc)
            self._forget.append(coop.id)
        if len(self._rows) >= _BATCH:
            self._save()

    def _accepted(self, coop_id: str) -> str | None:
        """The snapshot the guard accepted from this cycle's reading, or None (held, none)."""
        state = protection.load(self.store, coop_id)
        if state is None or state.held or state.good.hash != state.seen.hash:
            return None
        return state.good.hash

    def _fingerprints(self, niks: Mapping[str, int]) -> dict[str, int]:
        return {results_cache.fingerprint(self.key, nik): row for nik, row in niks.items()}

    # --- after checking all -------------------------------------------------------------------

    def cross_coop_issues(
        self, niks: Mapping[str, Mapping[str, int]], tabs: Mapping[str, str]
    ) -> dict[str, list[Issue]]:
        """`validation.cross_coop_issues` over every cooperative in `tabs` (in their order):
        the NIKs of those read (`niks`) and the fingerprints of those reused."""
        merged: dict[str, dict[str, int]] = {}
        for coop_id in tabs:
            if coop_id in self._fps:
                fps = self._fps[coop_id]
            elif coop_id in niks:  # read but not remembered (an unreadable one's last NIKs)
                fps = self._fingerprints(niks[coop_id])
            else:
                continue
            if fps:
                merged[coop_id] = fps
        log.info("%d of %d cooperatives unchanged: results reused", self.reused, len(tabs))
        found = validation.cross_coop_issues(merged, tabs)
        del merged
        known = self._niks_found(found, niks)
        out = {
            coop_id: [self._shown(coop_id, i, known) for i in issues]
            for coop_id, issues in found.items()
        }
        self._fps = {}
        self._save()
        return out

    def _niks_found(
        self, found: Mapping[str, list[Issue]], niks: Mapping[str, Mapping[str, int]]
    ) -> dict[str, str]:
        """fingerprint -> NIK of the NIKs found in two cooperatives, from those read this cycle
        (only the cooperatives with such a NIK are fingerprinted again: kept for all, the
        NIKs would double what the cycle holds in memory)."""
        wanted = {issue.value for issues in found.values() for issue in issues}
        known: dict[str, str] = {}
        for coop_id in found:
            for nik in niks.get(coop_id, ()):
                fp = results_cache.fingerprint(self.key, nik)
                if fp in wanted:
                    known[fp] = nik
        return known

    def _shown(self, coop_id: str, issue: Issue, known: dict[str, str]) -> Issue:
        """The problem with the NIK itself as its value, not its fingerprint."""
        fp = issue.value
        if fp not in known and coop_id in self._reused:
            known.update(self._nik_of_snapshot(self._reused[coop_id], issue.tab, issue.row or 0))
        nik = known.get(fp)
        if nik is None:  # cannot happen: a fingerprint is only ever made from a NIK known here
            log.error("%s: a NIK found elsewhere could not be recovered", coop_id)
        return replace(issue, value=nik)

    def _nik_of_snapshot(self, content: str, tab: str, row: int) -> dict[str, str]:
        """Every holder of a NIK was reused: the NIK is read back from the snapshot the result
        was computed from, at the row the problem names (the whole tab when that fails)."""
        rows = snapshots.content_tab(self.store.conn, content, tab) or []
        located = locate_header(rows, ANGGOTA)
        if located is not None and 0 < row <= len(rows):
            cells = rows[row - 1]
            for pos, key in located[1].items():
                check = _digits(cells[pos]) if key == "nik" and pos < len(cells) else None
                if check is not None and check.digits:
                    return {results_cache.fingerprint(self.key, check.digits): check.digits}
        members = validation.member_niks(parse_workbook(RawWorkbook(tabs={tab: rows})))
        return {results_cache.fingerprint(self.key, nik): nik for nik in members}

    def feedback(self, source: Source) -> Source:
        """`source`, writing Hasil Pemeriksaan only where it would change something. A source
        that writes early in the cycle (Google) already skips equal rows itself."""
        return source if source.early_feedback else _SkipUnchanged(source, self)

    def flush(self) -> None:
        """Keep what waits: results, the touches of reused readings, Hasil Pemeriksaan written."""
        self._save()
        results_cache.save_feedback(self.store.conn, self._written, self._moved)
        self._written, self._moved = [], []

    def _save(self) -> None:
        results_cache.save(self.store.conn, self._rows, self._forget)
        self._rows, self._forget = [], []
        if self._seen:
            protection.seen_unchanged(self.store, [(c, self.as_of, self.now) for c in self._seen])
            snapshots.seen_again(
                self.store.conn, [(c, self._reused[c], self.now) for c in self._seen]
            )
            self._seen = []

    def feedback_digest(self, rows: list[list[Any]], header_row: int, widths: list[float]) -> str:
        """What Hasil Pemeriksaan would hold: its rows (but the time of day of the check, as
        the writers compare them) and layout, by this program."""
        layout: list[list[Any]] = [[header_row, *widths], [kkmp_sheets.__version__, _code_digest()]]
        return results_cache.feedback_hash([*layout, *feedback_comparable(rows)])

    def last_feedback(self, coop: Coop) -> tuple[str, str] | None:
        return results_cache.last_feedback(self.store.conn, coop.id)

    def wrote(self, coop: Coop, digest: str, before: str | None, after: str | None) -> None:
        """Hasil Pemeriksaan `digest` is in the workbook, whose version went from `before` to
        `after` (equal: nothing needed writing)."""
        if after is not None:
            self._written.append((coop.id, digest, after))
        if before is not None and after is not None and before != after:
            self._moved.append((coop.id, before, after))


def _digits(cell: Any) -> formats.NikCheck | None:
    """A NIK cell's digits; its kecamatan is not judged (that needs the region table)."""
    return formats.check_nik(cell, lambda _kode: True)


class _SkipUnchanged:
    """A source whose Hasil Pemeriksaan write is skipped when the rows are those last written
    and the workbook is still the version that write left."""

    def __init__(self, inner: Source, reuse: Reuse) -> None:
        self.inner, self.reuse = inner, reuse
        self.kind, self.early_feedback = inner.kind, inner.early_feedback

    def write_feedback(
        self, coop: Coop, rows: list[list[Any]], header_row: int, widths: list[float]
    ) -> bool:
        try:
            digest = self.reuse.feedback_digest(rows, header_row, widths)
        except Uncacheable:
            return self.inner.write_feedback(coop, rows, header_row, widths)
        last = self.reuse.last_feedback(coop)
        if last is not None and last[0] == digest and self.inner.unchanged(coop, last[1]):
            return False
        before = self.inner.version(coop)
        written = self.inner.write_feedback(coop, rows, header_row, widths)
        # A save by someone else right after our write would be taken for ours: the window is
        # the time of one stat, and the cost a day's stale check of that one workbook.
        self.reuse.wrote(coop, digest, before, self.inner.version(coop) if written else before)
        return written

    def submit_feedback(
        self, coop: Coop, rows: list[list[Any]], header_row: int, widths: list[float]
    ) -> Pending:
        """`write_feedback` handed to the inner source's writers. The skip and the version
        before are decided here and now; the bookkeeping of the write happens when the cycle
        takes its `result()`, in the cycle's order."""
        try:
            digest = self.reuse.feedback_digest(rows, header_row, widths)
        except Uncacheable:
            return submit_feedback(self.inner, coop, rows, header_row, widths)
        last = self.reuse.last_feedback(coop)
        if last is not None and last[0] == digest and self.inner.unchanged(coop, last[1]):
            return Finished()  # the workbook still holds the rows last written
        before = self.inner.version(coop)
        return _Booked(
            submit_feedback(self.inner, coop, rows, header_row, widths),
            lambda written, after: self.reuse.wrote(
                coop, digest, before, (after or self.inner.version(coop)) if written else before
            ),
        )

    # --- the rest as the source does it
    def registry_rows(self) -> Rows:
        return self.inner.registry_rows()

    def read(self, coop: Coop) -> RawWorkbook:
        return self.inner.read(coop)

    def link(self, coop: Coop) -> str:
        return self.inner.link(coop)

    def unchanged(self, coop: Coop, recorded: str | None) -> bool:
        return self.inner.unchanged(coop, recorded)

    def version(self, coop: Coop) -> str | None:
        return self.inner.version(coop)

    def close(self) -> None:
        self.inner.close()

    def feedback_batch(self, workers: int = 1) -> AbstractContextManager[object]:
        # The inner source's batch (local: one folder flush for all the writes), not none.
        return feedback_batch(self.inner, workers)

    def registry_issues(self, coops: Sequence[Coop]) -> list[Issue]:
        return self.inner.registry_issues(coops)


class _Booked:
    """A write handed over whose outcome is booked (`Reuse.wrote`) when the cycle takes it."""

    def __init__(self, inner: Pending, book: Callable[[bool, str | None], None]) -> None:
        self.inner, self.book = inner, book
        self.version: str | None = None

    def done(self) -> bool:
        return self.inner.done()

    def result(self) -> bool:
        written = self.inner.result()  # a failure is not booked: the cycle reports it
        self.version = self.inner.version
        self.book(written, self.version)
        return written
