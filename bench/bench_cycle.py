"""Local cycles of 56, 600 and 6,000 cooperatives against the calamine read floor, in one run.

    python bench/bench_cycle.py                      # 56 (Jakarta Barat), 600 and 6,000 (Jawa Barat)
    python bench/bench_cycle.py --sizes 56,600       # pick sizes (56 is the Jakarta Barat demo)
    python bench/bench_cycle.py --workers 2          # [performance] workers, when the config has it
    python bench/bench_cycle.py --no-laporan         # `[output] laporan = false` in every run's config

For each city, on a fresh copy (a cycle writes Hasil Pemeriksaan into the workbooks), each step
in its own interpreter so that its peak memory is its own:

- **floor**: every workbook's tabs read with python-calamine in one process (what reading alone
  costs; parsing, checking and writing come on top of it);
- **cycle 1**: the first cycle with the history store, as `run --once --no-mail` runs it;
- **unchanged**: a second cycle on the same copy, nothing changed in between;
- **no store**: cycle 1 on another fresh copy without the history store (its CPU against cycle 1
  is what the store costs).

CPU is user + system seconds of the cycle's process and its reaped children (the reader worker,
a process pool), measured around the cycle only (not the interpreter's start or imports). "peak
MB" is the cycle process's peak RSS, "child MB" the largest peak RSS of any of its children (the
reader worker), sampled every 0.2 s from /proc while they run. Ratios
are to the floor measured in the same run, since the machine is shared and absolute seconds move
with its load. Cities are built once into bench/.cache (not measured).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SUBPROCESS_PRELUDE, demo_city, fresh_copy, in_subprocess, run_header

HERE = Path(__file__).resolve().parent

CITIES = {56: ("jakarta-barat", "31.73", None)}  # the demo's default: one per kelurahan
GOALS = "goals (6,000 on 2 cores): cycle 1 <= 60 s wall; unchanged <= 8 s; store <= +10 % CPU; 56 unchanged <= 0.5 s"

PRELUDE = (
    SUBPROCESS_PRELUDE
    + """
# A child's peak as RUSAGE_CHILDREN reports it counts the parent's pages it held between fork and
# exec (a spawned worker starts as a fork), so the children's own peaks (VmHWM, which exec
# starts afresh) are sampled here while they run.
CHILD_MB = [0.0]
def _children():
    me = os.getpid()
    try:
        return open(f"/proc/{{me}}/task/{{me}}/children").read().split()
    except OSError:
        return []
def _sample():
    while True:
        for pid in _children():
            try:
                with open(f"/proc/{{pid}}/status") as fh:
                    hwm = [l for l in fh if l.startswith("VmHWM")]
                if hwm:
                    CHILD_MB[0] = max(CHILD_MB[0], int(hwm[0].split()[1]) / 1024)
            except OSError:
                pass
        time.sleep(0.2)
threading.Thread(target=_sample, daemon=True).start()
def peaks():
    s = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return round(s, 1), round(CHILD_MB[0], 1)
"""
)

# The same steps as `run --once --no-mail` (cli.run_once); without the store, run_once is given
# none (HistoryStore.for_config is the one place it makes it), so both go through the same code.
CYCLE = """
from datetime import date
from unittest import mock
from kkmp_sheets import config
from kkmp_sheets.cli import run_once
from kkmp_sheets.store.history import HistoryStore
cfg = config.load({config_path!r})
c0, t0 = cpu(), time.perf_counter()
if {with_store!r}:
    cycle = run_once(cfg, date(2026, 1, 29), mail=False)
else:
    with mock.patch.object(HistoryStore, "for_config", return_value=None):
        cycle = run_once(cfg, date(2026, 1, 29), mail=False)
wall, used = time.perf_counter() - t0, cpu() - c0
peak, child = peaks()
print(json.dumps({{"wall": wall, "cpu": used, "peak_mb": peak, "child_mb": child,
                  "coops": len(cycle.results), "written": cycle.feedback_written,
                  "unchanged": cycle.feedback_unchanged}}))
"""

FLOOR = """
from pathlib import Path
import python_calamine
paths = sorted(Path({workbooks!r}).glob("*.xlsx"))
c0, t0 = cpu(), time.perf_counter()
cells = 0
for path in paths:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        cells += sum(len(r) for r in book.get_sheet_by_name(name).to_python(skip_empty_area=False))
wall, used = time.perf_counter() - t0, cpu() - c0
peak, _ = peaks()
print(json.dumps({{"wall": wall, "cpu": used, "peak_mb": peak, "books": len(paths), "cells": cells}}))
"""


def city_of(size: int) -> tuple[str, str, int | None]:
    return CITIES.get(size, (f"jawa-barat-{size}", "32", size))


def set_workers(config_path: Path, workers: int | None) -> str:
    """Write `[performance] workers` into the run's config when this version's config knows it;
    say what was done (an older config rejects or ignores the key)."""
    if workers is None:
        return "workers: config default"
    from kkmp_sheets import config

    original = config_path.read_text(encoding="utf-8")
    config_path.write_text(original + f"\n[performance]\nworkers = {workers}\n", encoding="utf-8")
    try:
        cfg = config.load(config_path)
    except config.ConfigError:
        cfg = None
    found = getattr(cfg, "workers", None)
    if found is None:
        found = getattr(getattr(cfg, "performance", None), "workers", None)
    if found != workers:
        config_path.write_text(original, encoding="utf-8")
        return f"workers: --workers {workers} ignored, this config has no [performance] workers"
    return f"workers: [performance] workers = {workers}"


def run(code: str) -> dict:
    return in_subprocess(PRELUDE.format(here=str(HERE)) + code)


def set_laporan(config_path: Path, laporan: bool) -> str:
    """`--no-laporan`: `[output] laporan = false` in the run's config, so that the cycle rows
    measure the cycle without the Laporan Pimpinan PDFs (a version without the key ignores it)."""
    if laporan:
        return "laporan: config default"
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(text.replace("[output]\n", "[output]\nlaporan = false\n", 1), "utf-8")
    return "laporan: [output] laporan = false"


def measure(size: int, workers: int | None, laporan: bool = True) -> dict:
    name, kode, n = city_of(size)
    started = time.perf_counter()
    root = demo_city(name, kode=kode, size=n)
    print(f"  {name}: city ready in {time.perf_counter() - started:.0f} s", flush=True)
    floor = run(FLOOR.format(workbooks=str(root / "workbooks")))
    print(f"  {name}: floor {floor['cpu']:.1f} CPU s", flush=True)
    first_copy = fresh_copy(root, name)
    note = set_workers(first_copy / "city.toml", workers)
    note += "; " + set_laporan(first_copy / "city.toml", laporan)
    cycle_code = CYCLE.format(config_path=str(first_copy / "city.toml"), with_store=True)
    first = run(cycle_code)
    print(f"  {name}: cycle 1 {first['wall']:.1f} s", flush=True)
    again = run(cycle_code)
    print(f"  {name}: unchanged {again['wall']:.1f} s", flush=True)
    bare_copy = fresh_copy(root, name + "-no-store")
    set_workers(bare_copy / "city.toml", workers)
    set_laporan(bare_copy / "city.toml", laporan)
    bare = run(CYCLE.format(config_path=str(bare_copy / "city.toml"), with_store=False))
    print(f"  {name}: no store {bare['wall']:.1f} s", flush=True)
    return {
        "name": name,
        "floor": floor,
        "first": first,
        "again": again,
        "bare": bare,
        "note": note,
    }


def print_tables(results: list[dict]) -> None:
    print()
    head = (
        f"{'city':<17}{'coops':>6}{'floor CPU':>10}{'c1 wall':>9}{'c1 CPU':>8}{'x floor':>8}"
        f"{'again wall':>11}{'again CPU':>10}{'x floor':>8}{'no-store CPU':>13}{'store +%':>9}"
        f"{'peak MB':>8}{'child MB':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        fl, c1, c2, bare = r["floor"], r["first"], r["again"], r["bare"]
        print(
            f"{r['name']:<17}{c1['coops']:>6}{fl['cpu']:>10.1f}{c1['wall']:>9.1f}{c1['cpu']:>8.1f}"
            f"{c1['cpu'] / fl['cpu']:>8.1f}{c2['wall']:>11.2f}{c2['cpu']:>10.2f}"
            f"{c2['cpu'] / fl['cpu']:>8.2f}{bare['cpu']:>13.1f}"
            f"{(c1['cpu'] / bare['cpu'] - 1) * 100:>+9.0f}"
            f"{max(c1['peak_mb'], c2['peak_mb']):>8.0f}{max(c1['child_mb'], c2['child_mb']):>9.0f}"
        )
    print()
    for r in results:
        fl, c1, c2, bare = r["floor"], r["first"], r["again"], r["bare"]
        print(
            f"{r['name']}: floor {fl['books']} workbooks, {fl['cells']:,} cells, "
            f"{fl['wall']:.1f} s wall, peak {fl['peak_mb']:.0f} MB | cycle 1 wrote "
            f"{c1['written']} Hasil Pemeriksaan, peak {c1['peak_mb']:.0f}/{c1['child_mb']:.0f} MB "
            f"| unchanged wrote {c2['written']} (unchanged {c2['unchanged']}), peak "
            f"{c2['peak_mb']:.0f}/{c2['child_mb']:.0f} MB | no store {bare['wall']:.1f} s wall, "
            f"CPU ratio with/without store {c1['cpu'] / bare['cpu']:.2f} | {r['note']}"
        )
    print(GOALS)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="56,600,6000", help="cooperatives per city, comma-separated"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="[performance] workers, when supported"
    )
    parser.add_argument(
        "--no-laporan",
        action="store_true",
        help="[output] laporan = false in every cycle's config (the cycle without the PDFs)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(run_header(), flush=True)
    if args.no_laporan:
        print("cycle rows with [output] laporan = false (--no-laporan)", flush=True)
    results = [measure(size, args.workers, laporan=not args.no_laporan) for size in sizes]
    print_tables(results)


if __name__ == "__main__":
    main()
