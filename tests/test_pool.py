"""One worker or many, the cycle's outcome is the same, to the last cell and store row.

A small demo city with hostile and broken workbooks among the clean ones, two cooperatives
sharing members (the same NIKs in both), and on the second day a workbook that lost most of its
members (the guard holds it). The two days are run with the per-cooperative work done in this
process (`check_one`, as for Google workbooks) and with 1, 2 and 3 reader workers (which also
write Hasil Pemeriksaan in as many processes); everything the cycle produces is compared: each
cooperative's figures, zone and problems, the city figures, every sheet of the status workbook,
each workbook's Hasil Pemeriksaan and its bytes and modification time, and every row of the
history store (snapshots, blobs, guard, problems, days, the Hasil Pemeriksaan written).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import zipfile
import zlib
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import python_calamine

from kkmp_sheets import config
from kkmp_sheets.core.template import FEEDBACK_TAB
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.service.wiring import make_sink, make_source
from kkmp_sheets.sources.local import LocalSource
from kkmp_sheets.store import results_cache
from kkmp_sheets.store.history import HistoryStore
from kkmp_sheets.store.history_schema import HISTORY_FILE
from kkmp_sheets.testing import hostile

WIB = ZoneInfo("Asia/Jakarta")
DAY1 = datetime(2026, 1, 28, 9, 0, tzinfo=WIB)
DAY2 = DAY1 + timedelta(days=1)
# Cheap hostile cases, each in place of one cooperative's workbook (index in registry order).
HOSTILE = {2: "truncated", 4: "empty", 5: "dimension-whole-grid", 7: "control-characters"}
SHARED = (0, 8)  # the second is a copy of the first: every member's NIK in two cooperatives
SHRINKS = 9  # on the second day its Anggota tab loses most rows: a held drop
# What differs between two runs by design: when the row was written (wall clock); the result
# cache's key of NIK fingerprints (random per store), the workbook versions (file identity and
# times of each copy) and the input digests (which name each copy's own paths).
VOLATILE = {
    "city_day": {"recorded_at"},
    "cache_key": {"secret"},
    "result_cache": {"inputs", "version"},
    "feedback_written": {"version"},
}


class InProcess:
    """The local source as a source the pool does not know: every cooperative is checked in
    this process, the way Google workbooks are."""

    def __init__(self, local: LocalSource) -> None:
        self._local = local
        self.kind, self.early_feedback = local.kind, local.early_feedback

    def __getattr__(self, name: str) -> Any:
        return getattr(self._local, name)


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pool")
    city = root / "city"
    build_demo_city(city, size=12)
    books = sorted((city / "workbooks").glob("*.xlsx"), key=_registry_order(city))
    secret = root / "secret.txt"
    secret.write_text("rahasia", encoding="utf-8")
    for index, name in HOSTILE.items():
        made = hostile.write_case(name, root / "hostile", base=books[1], secret=secret, bomb_mb=8)
        shutil.copyfile(made, books[index])
    shutil.copyfile(books[SHARED[0]], books[SHARED[1]])
    return city


def _registry_order(city: Path):
    lines = (city / "registry.csv").read_text(encoding="utf-8").splitlines()
    order = {Path(line.split(",")[5]).name: n for n, line in enumerate(lines[1:])}
    return lambda path: order[path.name]


def _shrink(city: Path) -> None:
    books = sorted((city / "workbooks").glob("*.xlsx"), key=_registry_order(city))
    book = openpyxl.load_workbook(books[SHRINKS])
    sheet = book["Anggota"]
    sheet.delete_rows(8, sheet.max_row)  # keep the header and a few members
    book.save(books[SHRINKS])
    saved = (DAY2 - timedelta(hours=2)).timestamp()  # the same in every run: Data Diperbarui
    os.utime(books[SHRINKS], (saved, saved))


def outcome(city: Path, target: Path, workers: int | None) -> dict[str, Any]:
    """Two days of cycles on a copy of `city`; `workers` None: checked in this process."""
    shutil.copytree(city, target)
    cfg = config.load(target / "city.toml")
    cfg = replace(cfg, workers=workers or 1)
    found: dict[str, Any] = {}
    with HistoryStore.for_config(cfg) as store:
        # "again": day 2 an hour later, nothing changed: the cached results stand in.
        runs = (("day1", DAY1), ("day2", DAY2), ("again", DAY2 + timedelta(hours=1)))
        for day, now in runs:
            if day == "day2":
                _shrink(target)
            local = make_source(cfg)
            source = InProcess(local) if workers is None else local  # type: ignore[arg-type]
            try:
                cycle = run_cycle(
                    cfg, source=source, sink=make_sink(cfg), as_of=now.date(), now=now, store=store
                )
            finally:
                local.close()
            store.record_cycle(cycle)
            found[day] = {
                "coops": [
                    (r.coop.id, r.figures, r.zone, [_issue(i) for i in r.issues])
                    for r in cycle.results
                ],
                "city": cycle.summary,
                "feedback": (cycle.feedback_written, cycle.feedback_unchanged),
                "status": _sheets(cfg.output_path, target),
                "hasil": _hasil(target),
                "books": _books(target),
            }
    found["store"] = _store_rows(cfg.data_dir / HISTORY_FILE)
    return found


def _issue(issue) -> tuple:
    return (issue.code, issue.severity, issue.tab, issue.row, issue.column, issue.message)


def _sheets(path: Path, city: Path) -> dict[str, list[list]]:
    """Every sheet's cells; the links to the workbooks name the copy's folder, so not that."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {
        name: [
            [c.replace(str(city), "<city>") if isinstance(c, str) else c for c in row]
            for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        ]
        for name in book.sheet_names
    }


def _books(city: Path) -> dict[str, tuple[object, int]]:
    """Each workbook's stored zip entries (name, CRC, sizes, in order) and modification time:
    the Hasil Pemeriksaan writes, whether made in this process or by writer processes, leave
    the very same files. `docProps/` is left out: the test's own openpyxl save of the shrunk
    workbook stamps the time of the run there."""
    found: dict[str, tuple[object, int]] = {}
    for path in sorted((city / "workbooks").glob("*.xlsx")):
        try:
            with zipfile.ZipFile(path) as archive:
                content: object = [
                    (i.filename, i.CRC, i.compress_size, i.file_size)
                    for i in archive.infolist()
                    if not i.filename.startswith("docProps/")
                ]
        except zipfile.BadZipFile:  # a hostile file: never written into
            content = hashlib.sha256(path.read_bytes()).hexdigest()
        found[path.name] = (content, path.stat().st_mtime_ns)
    return found


def _hasil(city: Path) -> dict[str, list[list]]:
    out = {}
    for path in sorted((city / "workbooks").glob("*.xlsx")):
        try:
            book = python_calamine.CalamineWorkbook.from_path(str(path))
        except Exception:
            continue  # a hostile file: never written into
        if FEEDBACK_TAB in book.sheet_names:
            out[path.name] = book.get_sheet_by_name(FEEDBACK_TAB).to_python()
    return out


def _store_rows(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out = {}
        for table in sorted(tables):
            cursor = conn.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            skip = VOLATILE.get(table, set())
            rows = [
                tuple(_kept(n, v) for n, v in zip(names, row, strict=True) if n not in skip)
                for row in cursor.fetchall()
            ]
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


def _kept(name: str, value: Any) -> Any:
    """A cached result as what it holds: the same figures and problems, and as many NIK
    fingerprints (their values depend on each store's own key)."""
    if name != "payload":
        return value
    entry = results_cache.decode_entry(zlib.decompress(value))
    return (entry.figures, entry.issues, entry.anggota_tab, len(entry.fingerprints))


@pytest.fixture(scope="module")
def one_worker(city, tmp_path_factory) -> dict[str, Any]:
    return outcome(city, tmp_path_factory.mktemp("w1") / "city", 1)


def test_the_city_exercises_what_it_should(one_worker):
    day1, day2 = one_worker["day1"], one_worker["day2"]
    codes = {coop: {i[0] for i in issues} for coop, _, _, issues in day1["coops"]}
    ids = [coop for coop, *_ in day1["coops"]]
    assert "workbook-unreadable" in codes[ids[2]] and "workbook-unreadable" in codes[ids[4]]
    assert "workbook-too-large" in codes[ids[5]]
    assert day1["coops"][7][1].readable  # control characters: read
    assert "nik-elsewhere" in codes[ids[SHARED[0]]] and "nik-elsewhere" in codes[ids[SHARED[1]]]
    held = {coop: issues for coop, _, _, issues in day2["coops"]}[ids[SHRINKS]]
    assert any(code == "likely-deletion" for code, *_ in held)
    assert one_worker["store"]["snapshot"] and one_worker["store"]["guard"]
    # The unchanged run shows day 2 again, from the cache (nothing to write).
    assert one_worker["again"]["coops"] == day2["coops"]
    assert one_worker["again"]["feedback"][0] == 0 and one_worker["store"]["result_cache"]


@pytest.mark.parametrize("workers", [None, 2, 3], ids=["in-process", "2-workers", "3-workers"])
def test_the_outcome_is_the_same_with_any_number_of_workers(
    city, one_worker, workers, tmp_path_factory
):
    other = outcome(city, tmp_path_factory.mktemp(f"w{workers}") / "city", workers)
    for day in ("day1", "day2", "again"):
        for key in ("coops", "city", "feedback", "status", "hasil", "books"):
            assert other[day][key] == one_worker[day][key], (day, key)
    for table, rows in one_worker["store"].items():
        assert other["store"][table] == rows, table
