"""The result cache: an unchanged cooperative is not read again, and nothing shown changes.

Every test runs two copies of the same small demo city side by side: one with a history store
(the cache at work), one without (every workbook read, as before the cache), and compares what
they produce: the results, the status workbook and each Hasil Pemeriksaan.
"""

from __future__ import annotations

import csv
import os
import shutil
import stat
import zlib
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import python_calamine

import kkmp_sheets
from kkmp_sheets import config
from kkmp_sheets.config import Config
from kkmp_sheets.core.issue import Issue, Severity
from kkmp_sheets.core.metrics import CoopFigures
from kkmp_sheets.core.parse import locate_header
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.results import CycleResult
from kkmp_sheets.core.template import ANGGOTA, FEEDBACK_TAB, normalize
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.demo import DemoCity, build_demo_city
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.service.wiring import make_sink
from kkmp_sheets.sources.local import LocalSource
from kkmp_sheets.store import results_cache
from kkmp_sheets.store.history import HistoryStore

AS_OF = date(2026, 1, 29)
NOW = datetime(2026, 1, 29, 9, 0, tzinfo=WIB)


class CountingSource(LocalSource):
    """The local source, counting the workbooks it reads and the Hasil Pemeriksaan it writes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reads: list[str] = []
        self.writes: list[str] = []

    def where(self, coop: Coop) -> tuple[Path, datetime]:
        # Every read starts here, in this process or handed to a pool of reader workers.
        self.reads.append(coop.id)
        return super().where(coop)

    def write_feedback(self, coop: Coop, rows: list[list], header_row: int, widths: list[float]):
        self.writes.append(coop.id)
        return super().write_feedback(coop, rows, header_row, widths)

    def submit_feedback(self, coop: Coop, rows: list[list], header_row: int, widths: list[float]):
        # Handed to writer processes (`[performance] workers` > 1), or written here, counted once.
        if self._writers is not None:
            self.writes.append(coop.id)
        return super().submit_feedback(coop, rows, header_row, widths)


@dataclass
class Run:
    cycle: CycleResult
    reads: list[str]
    writes: list[str]


class City:
    """A copy of the demo city, checked with or without a history store."""

    def __init__(self, root: Path, *, cached: bool) -> None:
        self.root, self.cached = root, cached
        self.cfg = config.load(root / "city.toml")

    def run(self, as_of: date = AS_OF, now: datetime = NOW, cfg: Config | None = None) -> Run:
        cfg = cfg or self.cfg
        source = CountingSource(
            cfg.registry, roots=cfg.workbook_roots, work_dir=cfg.data_dir, limits=cfg.limits
        )
        store = HistoryStore.for_config(cfg) if self.cached else None
        try:
            cycle = run_cycle(
                cfg, source=source, sink=make_sink(cfg), as_of=as_of, now=now, store=store
            )
        finally:
            source.close()
            if store is not None:
                store.close()
        return Run(cycle, source.reads, source.writes)

    @property
    def workbooks(self) -> list[Path]:
        return sorted((self.root / "workbooks").glob("*.xlsx"))

    def workbook(self, index: int) -> Path:
        with (self.root / "registry.csv").open(encoding="utf-8") as f:
            return self.root / list(csv.DictReader(f))[index]["Spreadsheet"]

    def results(self, run: Run) -> list:
        """The results, with the links to the workbooks as the registry gives them."""
        return [replace(r, link=self._local(r.link)) for r in run.cycle.results]

    def status(self) -> dict[str, list[list]]:
        sheets = _sheets(self.cfg.output_path)
        return {n: [[self._local(c) for c in row] for row in rows] for n, rows in sheets.items()}

    def _local(self, value: Any) -> Any:
        return value.replace(str(self.root), "<root>") if isinstance(value, str) else value

    def feedback(self) -> dict[str, list[list]]:
        out = {}
        for path in self.workbooks:
            book = python_calamine.CalamineWorkbook.from_path(str(path))
            if FEEDBACK_TAB in book.sheet_names:
                out[path.name] = book.get_sheet_by_name(FEEDBACK_TAB).to_python()
        return out


def _save(book: openpyxl.Workbook, path: Path) -> None:
    """Save as staff would, at the same moment in both copies (the time is Data Diperbarui)."""
    book.save(path)
    moment = (NOW - timedelta(hours=1)).timestamp()
    os.utime(path, (moment, moment))


def _sheets(path: Path) -> dict[str, list[list]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {n: book.get_sheet_by_name(n).to_python() for n in book.sheet_names}


def _stat(path: Path) -> tuple[int, int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    return build_demo_city(tmp_path_factory.mktemp("kota") / "demo", size=6, as_of=AS_OF)


@pytest.fixture
def pair(demo: DemoCity, tmp_path: Path) -> tuple[City, City]:
    """(with the cache, without), after one cycle each."""
    cities = []
    for name, cached in (("cached", True), ("plain", False)):
        root = tmp_path / name
        shutil.copytree(demo.root, root, ignore=shutil.ignore_patterns("out"))
        cities.append(City(root, cached=cached))
    for city in cities:
        assert len(city.run().reads) == 6
    return cities[0], cities[1]


def _same(cached: Run, plain: Run, a: City, b: City) -> None:
    """Everything shown is what the cycle without a cache shows."""
    assert a.results(cached) == b.results(plain)
    assert cached.cycle.summary == plain.cycle.summary
    assert (cached.cycle.feedback_written, cached.cycle.feedback_unchanged) == (
        plain.cycle.feedback_written,
        plain.cycle.feedback_unchanged,
    )
    assert a.status() == b.status()
    assert a.feedback() == b.feedback()


# --- nothing changed --------------------------------------------------------------------------


def test_an_unchanged_cycle_reads_and_writes_nothing_and_shows_the_same(pair):
    a, b = pair
    before = {p.name: _stat(p) for p in a.workbooks}
    cached, plain = a.run(now=NOW + timedelta(hours=1)), b.run(now=NOW + timedelta(hours=1))
    assert cached.reads == [] and len(plain.reads) == 6
    # Hasil Pemeriksaan is not even reopened: the workbooks are the very same files.
    assert cached.writes == []
    assert {p.name: _stat(p) for p in a.workbooks} == before
    assert cached.cycle.feedback_unchanged == 6
    _same(cached, plain, a, b)


def test_the_first_write_of_hasil_pemeriksaan_does_not_make_the_workbook_look_changed(pair):
    """Cycle 1 wrote Hasil Pemeriksaan into every workbook (new files); cycle 2 reuses anyway."""
    a, _ = pair
    assert a.run().reads == []
    assert a.run().reads == []


def test_a_reused_cooperative_moves_its_accepted_reading_as_a_read_would(pair):
    a, _ = pair
    later = NOW + timedelta(hours=3)
    a.run(now=later)
    with HistoryStore.for_config(a.cfg) as store:
        seen = store.conn.execute("SELECT DISTINCT good_at, seen_at FROM guard").fetchall()
        snaps = store.conn.execute("SELECT DISTINCT seen_at FROM snapshot").fetchall()
    stamp = later.isoformat(timespec="seconds")
    assert seen == [(stamp, stamp)]
    assert snaps == [(stamp,)]


# --- what makes a cooperative be read again -----------------------------------------------------


def test_a_touched_workbook_is_read_again(pair):
    a, b = pair
    for city in pair:
        path = city.workbook(2)
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 60_000_000_000))
    cached, plain = a.run(), b.run()
    assert len(cached.reads) == 1 and cached.reads[0] == cached.cycle.results[2].coop.id
    _same(cached, plain, a, b)


def test_a_workbook_saved_again_is_read_again_even_with_its_old_time(pair):
    a, b = pair
    for city in pair:
        path = city.workbook(1)
        st = path.stat()
        book = openpyxl.load_workbook(path)
        book["Profil"]["B8"] = "Aktif"
        book.save(path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # a tool that keeps the time
    cached, plain = a.run(), b.run()
    assert cached.reads == [cached.cycle.results[1].coop.id]
    _same(cached, plain, a, b)


def test_another_day_reads_everything_again(pair):
    a, b = pair
    day, now = AS_OF + timedelta(days=1), NOW + timedelta(days=1)
    cached, plain = a.run(day, now), b.run(day, now)
    assert len(cached.reads) == 6
    _same(cached, plain, a, b)


def test_a_changed_threshold_reads_everything_again(pair):
    a, b = pair
    cached = a.run(cfg=replace(a.cfg, window_days=14))
    plain = b.run(cfg=replace(b.cfg, window_days=14))
    assert len(cached.reads) == 6
    _same(cached, plain, a, b)
    assert a.run(cfg=replace(a.cfg, window_days=14)).reads == []
    assert len(a.run().reads) == 6  # and back


def test_a_changed_registry_row_reads_that_cooperative_again(pair):
    a, b = pair
    for city in pair:
        path = city.root / "registry.csv"
        with path.open(encoding="utf-8") as f:
            rows = list(csv.reader(f))
        rows[4][rows[0].index("Nama Koperasi")] += " (baru)"
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
    cached, plain = a.run(), b.run()
    assert cached.reads == [cached.cycle.results[3].coop.id]
    _same(cached, plain, a, b)


def test_another_program_version_reads_everything_again(pair, monkeypatch):
    a, _ = pair
    monkeypatch.setattr(kkmp_sheets, "__version__", kkmp_sheets.__version__ + ".post1")
    assert len(a.run().reads) == 6
    assert a.run().reads == []


def test_without_a_history_store_every_workbook_is_read(pair):
    _, b = pair
    assert len(b.run().reads) == 6


# --- the cross-cooperative NIK check and the guard ------------------------------------------


def _columns(rows: list[list]) -> tuple[int, dict[str, int]]:
    """The Anggota header's index and each column's position, found as the cycle finds them
    (the demo varies the header's place and words)."""
    located = locate_header(rows, ANGGOTA)
    assert located is not None
    return located[0], {key: pos for pos, key in located[1].items()}


def _first_member_nik(path: Path) -> str:
    rows = _sheets(path)[ANGGOTA.name]
    header, at = _columns(rows)
    niks = [str(r[at["nik"]]) for r in rows[header + 1 :] if normalize(r[at["status"]]) != "keluar"]
    return next(nik for nik in niks if nik.isdigit() and len(nik) == 16)


def _add_member(path: Path, nik: str) -> None:
    book = openpyxl.load_workbook(path)
    sheet = book[ANGGOTA.name]
    header, at = _columns([list(r) for r in sheet.iter_rows(values_only=True)])
    row = list(next(sheet.iter_rows(min_row=header + 2, max_row=header + 2, values_only=True)))
    row[at["no_anggota"]] = "A-9999"
    row[at["nik"]] = nik
    row[at["status"]] = "Aktif"
    sheet.append(row)
    _save(book, path)


def test_a_nik_shared_by_a_reused_and_a_read_cooperative_is_found_in_both(pair):
    a, b = pair
    nik = _first_member_nik(a.workbook(0))
    for city in pair:
        _add_member(city.workbook(3), nik)
    cached, plain = a.run(), b.run()
    assert cached.reads == [cached.cycle.results[3].coop.id]
    found = {
        r.coop.id: [i.value for i in r.issues if i.code == "nik-elsewhere" and i.value == nik]
        for r in cached.cycle.results
    }
    assert found[cached.cycle.results[0].coop.id] == [nik]
    assert found[cached.cycle.results[3].coop.id] == [nik]
    _same(cached, plain, a, b)

    # Both reused now: the NIK shown still comes out right (from the snapshot, not the cache).
    cached, plain = a.run(), b.run()
    assert cached.reads == []
    _same(cached, plain, a, b)


def test_no_member_nik_is_kept_in_the_cache(pair, demo):
    a, _ = pair
    with HistoryStore.for_config(a.cfg) as store:
        payloads = [
            zlib.decompress(p).decode()
            for (p,) in store.conn.execute("SELECT payload FROM result_cache")
        ]
        fps = store.conn.execute("SELECT COUNT(*) FROM result_cache").fetchone()[0]
    assert fps == 6
    shown = {
        str(i.value)
        for r in a.run().cycle.results
        for i in r.issues
        if i.value is not None  # a problem's own value is shown in its Hasil Pemeriksaan
    }
    kept = [nik for nik, _ in demo.people if nik not in shown and any(nik in p for p in payloads)]
    assert kept == []


def test_a_held_drop_is_never_reused(pair):
    a, b = pair
    for city in pair:
        path = city.workbook(0)
        book = openpyxl.load_workbook(path)
        sheet = book[ANGGOTA.name]
        sheet.delete_rows(5, sheet.max_row)
        _save(book, path)
    first = a.run()
    held = first.cycle.results[0]
    assert any(i.code == "likely-deletion" for i in held.issues)
    again, plain = a.run(), b.run()
    assert again.reads == [held.coop.id]  # held: read again, and still held
    assert any(i.code == "likely-deletion" for i in again.cycle.results[0].issues)
    assert a.results(again)[1:] == b.results(plain)[1:]


def test_an_unreadable_workbook_is_not_reused_once_readable(pair):
    a, _ = pair
    path = a.workbook(5)
    good = path.read_bytes()
    path.write_bytes(b"PK\x03\x04 not a workbook")
    broken = a.run()
    assert not broken.cycle.results[5].figures.readable
    path.write_bytes(good)
    assert a.run().reads == [broken.cycle.results[5].coop.id]


# --- the payload -----------------------------------------------------------------------------


def test_a_result_comes_back_exactly_as_it_was_kept():
    figures = CoopFigures(
        status_operasional="Aktif",
        anggota_aktif=12,
        simpanan_pokok=150000.0,
        omset=float("nan"),
        transaksi_terakhir=date(2026, 1, 2),
        data_diperbarui=datetime(2026, 1, 28, 17, 5, 3, 120, tzinfo=WIB),
        wajib_bulanan=10000,
        pasokan={("Beras", "kg"): [12.5, 150000, 1]},
    )
    issues = [
        Issue("nik-length", tab="Anggota", row=7, column="NIK", value="3173", personal=True),
        Issue("value-unreadable", tab="Penjualan", row=3, value=datetime(2026, 1, 1, 8, 0)),
        Issue("future-date", value=date(2027, 1, 1), severity_override=Severity.PERINGATAN),
        Issue("value-unreadable", value=1.5),
    ]
    entry = results_cache.Entry(figures, issues, [("ab", 3)], "Anggota ")
    back = results_cache.decode_entry(results_cache.encode_entry(entry))
    assert back.issues == issues
    assert repr(back.figures) == repr(figures)  # NaN != NaN: compared as written
    assert back.figures.data_diperbarui.tzinfo is WIB
    assert (back.fingerprints, back.anggota_tab) == ([("ab", 3)], "Anggota ")


def test_a_value_the_encoding_does_not_know_is_not_cached():
    entry = results_cache.Entry(CoopFigures(), [Issue("value-unreadable", value=object())], [], "")
    with pytest.raises(results_cache.Uncacheable):
        results_cache.encode_entry(entry)


# --- Google mode ------------------------------------------------------------------------------


def test_google_mode_reuses_results_across_our_own_writes(demo, tmp_path):
    """Cold (every spreadsheet read, Hasil Pemeriksaan written: a new Drive version by us), then
    unchanged cycles: results come from the cache, not from parsing the snapshots again. The
    snapshots of the cooperatives without a shared NIK are emptied to show it: parsed, they
    would give other results."""
    from kkmp_sheets.clock import WarpClock
    from kkmp_sheets.testing import FakeGoogle
    from kkmp_sheets.testing.google_city import connect_fake, load_city

    cfg = config.load(demo.config_path)
    clock = WarpClock()
    with FakeGoogle() as fake, HistoryStore(tmp_path / "history.sqlite") as store:
        fake.clock = clock.wall
        clients = connect_fake(fake, load_city(fake, demo.root), clock=clock)
        try:

            def cycle(hours: int) -> CycleResult:
                fake.reset_counts()
                return run_cycle(
                    cfg,
                    source=clients.source,
                    sink=clients.sink,
                    as_of=AS_OF,
                    now=NOW + timedelta(hours=hours),
                    store=store,
                )

            cold = cycle(0)
            assert cold.feedback_written == 6
            alone = [
                r.coop.id
                for r in cold.results
                if not any(i.code == "nik-elsewhere" for i in r.issues)
            ]
            assert alone
            for hours in (1, 2):
                with store.transaction() as conn:
                    conn.executemany(
                        "DELETE FROM content WHERE hash ="
                        " (SELECT good_hash FROM guard WHERE coop_id = ?)",
                        [(coop_id,) for coop_id in alone],
                    )
                again = cycle(hours)
                assert fake.counts == {"drive.files.list": 1}
                assert again.feedback_written == 0
                assert [replace(r, link="") for r in again.results] == [
                    replace(r, link="") for r in cold.results
                ]
        finally:
            clients.close()


def test_the_cache_keeps_one_folder_flush_for_all_hasil_pemeriksaan_writes(
    demo, tmp_path, monkeypatch
):
    """The cache's writer hands the writes to the source's batch: a cycle that writes every
    cooperative's Hasil Pemeriksaan flushes the workbooks' folder once, not once per write."""
    root = tmp_path / "city"
    shutil.copytree(demo.root, root, ignore=shutil.ignore_patterns("out"))
    city = City(root, cached=True)
    folders = {p.parent for p in city.workbooks}
    real = os.fsync
    flushed: list[str] = []

    def fsync(descriptor: int) -> None:
        if stat.S_ISDIR(os.fstat(descriptor).st_mode):
            flushed.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    run = city.run()
    assert len(run.writes) == 6
    assert sorted(f for f in flushed if Path(f) in folders) == sorted(str(f) for f in folders)


@pytest.mark.parametrize(
    "fingerprints", [[], [("ab", 3)], [("f" * 32, 2), ("0" * 32, 9), ("ab", 4)]]
)
def test_fingerprints_come_back_in_their_order(fingerprints):
    entry = results_cache.Entry(CoopFigures(), [], fingerprints, "Anggota")
    assert (
        results_cache.decode_entry(results_cache.encode_entry(entry)).fingerprints == fingerprints
    )


def test_fingerprints_that_do_not_pair_with_their_rows_are_not_used():
    entry = results_cache.Entry(CoopFigures(), [], [("ab", 3), ("cd", 4)], "Anggota")
    data = results_cache.encode_entry(entry).replace(b'"fp_rows":[3,4]', b'"fp_rows":[3]')
    with pytest.raises(ValueError):
        results_cache.decode_entry(data)


def test_the_hash_of_hasil_pemeriksaan_rows_tells_every_value_apart():
    """The hash decides whether Hasil Pemeriksaan is written again: rows that differ in any
    value, or in its type (a date and its text, 1 and 1.0), must hash apart; equal rows alike."""
    rows = [
        ["Galat", "Anggota", 7, "NIK", date(2026, 1, 2), 1.5, None, True],
        ["Peringatan", "Profil", 3, "NIB", datetime(2026, 1, 2, 8, 30, tzinfo=WIB), 2, "", False],
    ]
    same = [list(row) for row in rows]
    assert results_cache.feedback_hash(rows) == results_cache.feedback_hash(same)
    variants = []
    for r, c, value in [
        (0, 4, "2026-01-02"),
        (0, 5, 1),
        (0, 6, ""),
        (0, 7, 1),
        (1, 4, datetime(2026, 1, 2, 8, 30)),
        (1, 5, 2.0),
    ]:
        changed = [list(row) for row in rows]
        changed[r][c] = value
        variants.append(results_cache.feedback_hash(changed))
    assert len({results_cache.feedback_hash(rows), *variants}) == 1 + len(variants)
    nan = [list(row) for row in rows]
    nan[0][5] = float("nan")
    assert results_cache.feedback_hash(nan) == results_cache.feedback_hash([list(r) for r in nan])
    assert results_cache.feedback_hash(nan) != results_cache.feedback_hash(rows)
    with pytest.raises(results_cache.Uncacheable):
        results_cache.feedback_hash([[object()]])
