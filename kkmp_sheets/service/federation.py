"""One federation cycle: a province (or the nation) reads its children's status spreadsheets.

registry of children → each child's aggregate tabs (local `.xlsx` or Google, per row) → trust
checks (region, level, schema version) → last good figures for a child that cannot be read →
the parent's status spreadsheet (`core/federation.py`, written by the usual sink) → the
parent's digest and an alert to each child's operator whose child is behind, once a day
through the delivery ledger.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from kkmp_sheets import __version__
from kkmp_sheets.config import Config
from kkmp_sheets.core import formats
from kkmp_sheets.core.federation import (
    ANGKA_TERAKHIR,
    DITOLAK,
    RINGKASAN_TAB,
    TERKINI,
    TIDAK_TERBACA,
    ChildEntry,
    ChildRow,
    Federation,
    child_tab,
    federation_book,
    freshness,
    read_child,
    read_children,
)
from kkmp_sheets.core.figures import Target
from kkmp_sheets.core.metadata import (
    KOTA,
    METADATA_TAB,
    Refused,
    child_level,
    inside,
    level_of,
)
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.errors import SourceError
from kkmp_sheets.google.ids import file_id
from kkmp_sheets.outputs.base import Sink
from kkmp_sheets.sources.federation import LocalChildReader, Unreachable, registry_rows
from kkmp_sheets.store.children import ChildrenStore

log = logging.getLogger(__name__)


class ChildReader(Protocol):
    def read(self, entry: ChildEntry, tabs: list[str]) -> dict[str, list[list[Any]]]: ...
    def close(self) -> None: ...


@dataclass
class FederationCycle:
    federation: Federation
    output: str
    seconds: float
    registry_problems: list[str]
    notified: Any = None  # service.notify.Notified, when digests went out

    @property
    def as_of(self) -> date:
        return self.federation.as_of


class Readers:
    """The reader for each child: a local path, or (built on first use) Google."""

    def __init__(self, cfg: Config, google: ChildReader | None = None) -> None:
        self.cfg = cfg
        self.local = LocalChildReader(
            Path(cfg.registry),
            [cfg.source_root] if cfg.source_root else [],
            cfg.limits,
        )
        self._google = google

    def for_child(self, entry: ChildEntry) -> ChildReader:
        if (
            entry.spreadsheet.lower().endswith((".xlsx", ".xlsm"))
            or file_id(entry.spreadsheet) is None
        ):
            return self.local
        if self._google is None:
            from kkmp_sheets.google.api import connect
            from kkmp_sheets.google.federation import GoogleChildReader

            self._google = GoogleChildReader(connect(self.cfg.google))
        return self._google

    def close(self) -> None:
        if self._google is not None:
            self._google.close()


def sub_region_tab(parent_kode: str) -> str:
    """The tab of a child with one row per sub-region: a city's Kecamatan, a province's
    Status Kab-Kota."""
    level = child_level(level_of(parent_kode))
    return "Kecamatan" if level == KOTA else child_tab(level)


def read_all(
    cfg: Config,
    entries: list[ChildEntry],
    readers: Readers,
    store: ChildrenStore,
    *,
    as_of: date,
    now: datetime,
    remember: bool = True,
) -> list[ChildRow]:
    """Every child as the parent sees it this cycle."""
    per_kecamatan = cfg.federation.per_kecamatan
    tabs = [METADATA_TAB, RINGKASAN_TAB]
    if per_kecamatan:
        tabs.append(sub_region_tab(cfg.city_kode))
    rows: list[ChildRow] = []
    for entry in entries:
        if not inside(entry.kode, cfg.city_kode):  # refused before anything is read
            reason = f"wilayah {entry.kode} bukan bagian dari {cfg.city_kode}"
            rows.append(ChildRow(entry, DITOLAK, reason=reason))
            continue
        try:
            read = readers.for_child(entry).read(entry, tabs)
            figures = read_child(
                entry, read, parent_kode=cfg.city_kode, per_kecamatan=per_kecamatan
            )
        except Refused as exc:
            rows.append(ChildRow(entry, DITOLAK, reason=str(exc)))
            log.warning("child %s refused: %s", entry.kode, exc)
            continue
        except Exception as exc:  # unreachable, or anything else of this one child
            why = str(exc) if isinstance(exc, Unreachable) else f"{type(exc).__name__}: {exc}"
            last = store.last_good(entry.kode)
            if last is None:
                rows.append(ChildRow(entry, TIDAK_TERBACA, reason=why))
            else:
                day = formats.format_date(last.meta.tanggal_data)
                reason = f"{why}; angka terakhir yang terbaca, data per {day}"
                rows.append(ChildRow(entry, ANGKA_TERAKHIR, last, reason))
            log.warning("child %s not read: %s", entry.kode, why)
            continue
        state, reason = freshness(figures, as_of, cfg.federation.stale_days)
        if remember:
            store.remember(entry.kode, figures, now)
        rows.append(ChildRow(entry, state, figures, reason))
    return rows


def load_children(cfg: Config) -> tuple[list[ChildEntry], list[str]]:
    entries, problems = read_children(registry_rows(Path(cfg.registry)))
    if not entries and problems:
        raise SourceError(f"registry {cfg.registry}: {'; '.join(problems)}")
    return entries, problems


def run_federation(
    cfg: Config,
    *,
    sink: Sink,
    as_of: date,
    now: datetime | None = None,
    readers: Readers | None = None,
    recorded: bool = True,
) -> FederationCycle:
    """One federation cycle: read the children, write the parent's status spreadsheet."""
    started = time.perf_counter()
    now = (now or datetime.now(WIB)).astimezone(WIB)
    entries, problems = load_children(cfg)
    own_readers = readers is None
    readers = readers or Readers(cfg)
    try:
        with ChildrenStore.in_folder(cfg.data_dir) as store:
            children = read_all(
                cfg, entries, readers, store, as_of=as_of, now=now, remember=recorded
            )
    finally:
        if own_readers:
            readers.close()
    fed = Federation(cfg.city_kode, cfg.city_name, as_of, children)
    history = [row for row in sink.history() if row and row[0] != as_of]
    book = federation_book(
        fed,
        now=now,
        target=Target(cfg.target_date, cfg.target_active_share),
        history=history,
        per_kecamatan=cfg.federation.per_kecamatan,
        program_version=__version__,
    )
    if not recorded:
        riwayat = book.sheet("Riwayat")
        riwayat.rows = [row for row in riwayat.rows if row[0] != as_of]
    output = sink.publish(book)
    log.info("federation status written: %s (%d children)", output, len(children))
    return FederationCycle(fed, output, time.perf_counter() - started, problems)


def run_federation_once(
    cfg: Config, as_of: date, *, mail: bool = True, write: bool = True, record: bool = True
) -> FederationCycle:
    """`run --once` of a federation instance: the cycle, then its digests (with `mail`)."""
    from kkmp_sheets.outputs.base import NullSink
    from kkmp_sheets.service.wiring import make_sink

    now = datetime.now(WIB)
    sink = make_sink(cfg) if write else NullSink()
    try:
        cycle = run_federation(cfg, sink=sink, as_of=as_of, now=now, recorded=record and write)
    finally:
        sink.close()
    if mail and write and record:
        cycle.notified = notify(cycle, cfg, now)
    return cycle


def notify(
    cycle: FederationCycle, cfg: Config, now: datetime, kinds: Collection[str] | None = None
) -> Any:
    """The parent's digest (kind "city") and the alerts to the operators of children that are
    behind (kind "alert"), or only `kinds`, through the delivery ledger: each at most once a
    day, queued while the mail server is down."""
    from kkmp_sheets.delivery.federation_digest import federation_digests
    from kkmp_sheets.delivery.ledger import DeliveryLedger, deliver
    from kkmp_sheets.service.notify import Notified, delivery_limits, make_transport

    digests = federation_digests(cycle.federation, cfg, now=now)
    if kinds is not None:
        digests = [d for d in digests if d.key.kind in kinds]
    transport = make_transport(cfg)
    with DeliveryLedger.for_config(cfg) as ledger:
        report = deliver(digests, transport, ledger, now=now, limits=delivery_limits(cfg))
    log.info("federation digests: %d rendered; %s", len(digests), report)
    return Notified(digests, report)


def federation_job(cfg: Config, now: datetime, kinds: Collection[str]) -> str:
    """A job of `serve` for a federation instance: the cycle of `now`'s day, then the digests
    of `kinds` (the sync sends the child alerts, the daily job the parent's digest; there is
    no weekly one)."""
    if not {"city", "alert"} & set(kinds):
        return "no digests of these kinds for a federation instance"
    from kkmp_sheets.service.wiring import make_sink

    sink = make_sink(cfg)
    try:
        cycle = run_federation(cfg, sink=sink, as_of=now.date(), now=now)
    finally:
        sink.close()
    notified = notify(cycle, cfg, now, kinds)
    fed = cycle.federation
    behind = len(fed.children) - len(fed.with_state(TERKINI))
    return (
        f"{len(fed.children)} children ({behind} not current), {fed.totals.jumlah} "
        f"cooperatives; {len(notified.digests)} digests ({', '.join(kinds)})"
    )


def summary_text(cycle: FederationCycle) -> str:
    """What `run --once` prints for a federation instance."""
    fed = cycle.federation
    t = fed.totals
    lines = [
        f"{fed.name} ({fed.kode}), data per {formats.format_date(fed.as_of)}",
        f"  wilayah anak     {len(fed.children)} ({len(fed.counted)} dihitung)",
        f"  Jumlah KKMP      {formats.format_number(t.jumlah)}",
        f"  KKMP Aktif       {formats.format_number(t.aktif)}",
        f"  Hijau/Kuning/Merah {t.hijau}/{t.kuning}/{t.merah}",
    ]
    for child in fed.children:
        if child.reason:
            lines.append(f"  {child.entry.kode} {child.name}: {child.state} — {child.reason}")
    lines += [f"  daftar: {p}" for p in cycle.registry_problems]
    lines.append(f"Ditulis: {cycle.output} ({cycle.seconds:.1f} s)")
    return "\n".join(lines) + "\n"
