"""How big the history store grows: 90 simulated days of the 56-cooperative demo city.

    python bench/store_growth.py [--days 90] [--edited 5]

Each simulated day, a few cooperatives (`--edited`, chosen at random, seeded) do a day's work in
their workbook — 3 to 10 sales rows appended to Penjualan, one stock count changed — and save
it; then one sync runs as `serve` would (snapshot every workbook, check, record the day, prune
snapshots older than `[history] snapshot_days`). Hourly syncs of the same day add nothing but
a "seen" time to unchanged snapshots, so one sync a day measures the growth. Hasil Pemeriksaan
is not written (it is never part of a snapshot).

Printed every 10 days: snapshots and distinct tab contents kept, the store file's size, and,
for comparison, what a daily copy of the workbook folder would take.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import demo_city, fresh_copy

WIB = ZoneInfo("Asia/Jakarta")
FIRST_DAY = date(2026, 1, 29)


def header_row(sheet, keys: frozenset[str]) -> int:
    from kkmp_sheets.core.template import normalize

    for row in range(1, 8):
        if any(normalize(c.value) in keys for c in sheet[row]):
            return row
    raise LookupError(sheet.title)


def column_of(sheet, row: int, keys: frozenset[str]) -> int | None:
    from kkmp_sheets.core.template import normalize

    return next((c.column for c in sheet[row] if normalize(c.value) in keys), None)


def sells(path: Path) -> bool:
    """The workbook has a Penjualan tab with a header row."""
    import python_calamine

    from kkmp_sheets.core.template import PENJUALAN, normalize

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    title = next((t for t in book.sheet_names if normalize(t) in PENJUALAN.match_keys), None)
    if title is None:
        return False
    rows = book.get_sheet_by_name(title).to_python()[:7]
    keys = PENJUALAN.column("tanggal").match_keys
    return any(normalize(c) in keys for row in rows for c in row)


def a_days_work(path: Path, day: date, rng: random.Random) -> None:
    """Append a few sales of `day` (copies of the last sale, new date and nota), change a stock."""
    import openpyxl

    from kkmp_sheets.core.template import PENJUALAN, STOK, normalize

    wb = openpyxl.load_workbook(path)
    titles = {normalize(t): t for t in wb.sheetnames}
    sales = wb[next(t for k, t in titles.items() if k in PENJUALAN.match_keys)]
    top = header_row(sales, PENJUALAN.column("tanggal").match_keys)
    when = column_of(sales, top, PENJUALAN.column("tanggal").match_keys)
    nota = column_of(sales, top, PENJUALAN.column("no_nota").match_keys)
    last = [c.value for c in sales[sales.max_row]]
    for k in range(rng.randint(3, 10)):
        row = list(last)
        row[when - 1] = day
        if nota:
            row[nota - 1] = f"N{day:%y%m%d}-{k:02d}"
        sales.append(row)
    stok_title = next((t for k, t in titles.items() if k in STOK.match_keys), None)
    if stok_title:
        stok = wb[stok_title]
        top = header_row(stok, STOK.column("kode_barang").match_keys)
        qty = column_of(stok, top, STOK.column("jumlah_stok").match_keys)
        if qty and stok.max_row > top:
            cell = stok.cell(rng.randint(top + 1, stok.max_row), qty)
            if isinstance(cell.value, int | float):
                cell.value = max(0, cell.value + rng.randint(-20, 20))
    wb.save(path)
    edited = datetime(day.year, day.month, day.day, 16, 0, tzinfo=WIB).timestamp()
    os.utime(path, (edited, edited))


def file_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--edited", type=int, default=5, help="workbooks edited per day (5)")
    args = parser.parse_args()

    from kkmp_sheets import config
    from kkmp_sheets.service.cycle import run_cycle
    from kkmp_sheets.service.wiring import make_sink, make_source
    from kkmp_sheets.store import snapshots
    from kkmp_sheets.store.history import HistoryStore

    root = fresh_copy(demo_city("jakarta-barat", kode="31.73", size=None), "store-growth")
    cfg = replace(config.load(root / "city.toml"), write_feedback=False)
    workbooks = sorted((root / "workbooks").glob("*.xlsx"))
    trading = [w for w in workbooks if sells(w)]  # cooperatives still preparing do not sell
    folder_mb = sum(p.stat().st_size for p in workbooks) / 1e6
    rng = random.Random(2026)
    path = cfg.data_dir / "history.sqlite"
    print(
        f"{len(workbooks)} workbooks ({len(trading)} selling), {folder_mb:.2f} MB as .xlsx; "
        f"{args.edited} of the selling ones edited a day; "
        f"snapshots kept {cfg.snapshot_days} days\n"
    )
    print(
        f"{'day':>4} {'date':>11} {'snapshots':>10} {'tab contents':>13} {'stored MB':>10} "
        f"{'raw MB':>8} {'file MB':>8} {'daily folder copies MB':>23} {'s/day':>6}"
    )
    began = time.perf_counter()
    source, sink = make_source(cfg), make_sink(cfg)
    for n in range(args.days):
        day = FIRST_DAY + timedelta(days=n)
        started = time.perf_counter()
        if n:
            for workbook in rng.sample(trading, args.edited):
                a_days_work(workbook, day, rng)
        now = datetime(day.year, day.month, day.day, 17, 0, tzinfo=WIB)
        with HistoryStore(path) as store:
            cycle = run_cycle(cfg, source=source, sink=sink, as_of=day, now=now, store=store)
            store.record_cycle(cycle)
            store.prune(cfg.snapshot_days, now=now)
            if (n + 1) % 10 == 0 or n == 0 or n + 1 == args.days:
                store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                s = snapshots.stats(store.conn)
                copies = folder_mb * (n + 1)
                print(
                    f"{n + 1:>4} {day.isoformat():>11} {s['snapshots']:>10} {s['blobs']:>13} "
                    f"{s['stored_bytes'] / 1e6:>10.2f} {s['raw_bytes'] / 1e6:>8.2f} "
                    f"{file_mb(path):>8.2f} {copies:>23.1f} {time.perf_counter() - started:>6.1f}",
                    flush=True,
                )
    print(
        f"\nafter {args.days} days: history.sqlite {file_mb(path):.2f} MB "
        f"({time.perf_counter() - began:.0f} s to simulate)"
    )


if __name__ == "__main__":
    main()
