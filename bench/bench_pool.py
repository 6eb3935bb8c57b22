"""Cycle 1 with one reader worker against several: `run --once`, wall and CPU seconds.

    python bench/bench_pool.py                      # Jakarta Barat (56) and 600 of Jawa Barat
    python bench/bench_pool.py --size 6000 --repeat 1

Each cycle is `kkmp-sheets run --once --no-mail` in its own process on a fresh copy of a cached
demo city (so every cycle is a first cycle: all workbooks read, Hasil Pemeriksaan written, the
history store filled), with `[performance] workers` set in its config. The settings alternate
within one run and the best of `--repeat` is kept, because the machine is shared: the ratio
between the two, measured side by side, is the figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import demo_city, fresh_copy

ROOT = Path(__file__).resolve().parents[1]


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def cycle(root: Path, name: str, workers: int) -> tuple[float, float]:
    """Wall and CPU seconds (the cycle and its workers) of one first cycle."""
    run = fresh_copy(root, name)
    toml = run / "city.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + f"\n[performance]\nworkers = {workers}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "kkmp_sheets", "run", "--once", "--no-mail"]
    command += ["--config", str(toml), "--as-of", "2026-01-29"]
    cpu, wall = children_cpu(), time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - wall, children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=600, help="cooperatives of kode 32")
    parser.add_argument("--workers", type=int, default=2, help="compared with 1 (default 2)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--small", action="store_true", help="only the 56-cooperative demo")
    args = parser.parse_args()
    cases = [("jakarta-barat", "31.73", None)]
    if not args.small:
        cases.append((f"kode-32-{args.size}", "32", args.size))  # shared with bench_store_overhead
    n = args.workers
    print(f"cycle 1, `run --once`; best of {args.repeat}; {os.cpu_count()} cores on this machine")
    print(
        f"{'city':<20}{'coops':>6}{'wall 1':>9}{f'wall {n}':>9}{'ratio':>7}"
        f"{'CPU 1':>9}{f'CPU {n}':>9}{'ratio':>7}"
    )
    for name, kode, size in cases:
        root = demo_city(name, kode=kode, size=size)
        coops = len(list((root / "workbooks").glob("*.xlsx")))
        best: dict[int, tuple[float, float]] = {}
        for _ in range(args.repeat):
            for workers in (1, n):
                wall, cpu = cycle(root, name, workers)
                old = best.get(workers)
                best[workers] = (min(wall, old[0]), min(cpu, old[1])) if old else (wall, cpu)
        (w1, c1), (wn, cn) = best[1], best[n]
        print(
            f"{name:<20}{coops:>6}{w1:>9.2f}{wn:>9.2f}{wn / w1:>7.2f}"
            f"{c1:>9.2f}{cn:>9.2f}{cn / c1:>7.2f}"
        )


if __name__ == "__main__":
    main()
