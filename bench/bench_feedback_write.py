"""Writing Hasil Pemeriksaan into every workbook of a local cycle: what it costs, and its share.

    python bench/bench_feedback_write.py               # 56 (Jakarta Barat) and 600 (Jawa Barat)
    python bench/bench_feedback_write.py --sizes 56    # the demo city only
    python bench/bench_feedback_write.py --workers 1 2 # [performance] workers: 1, then 2

Each city (built once into bench/.cache) runs one whole local cycle on a fresh copy, so every
workbook gets its first Hasil Pemeriksaan, the costly case. The cycle's `write_feedback` step is
timed on its own and printed beside the whole cycle measured in the same run: seconds, its share
of the cycle, milliseconds per workbook written, CPU seconds, the fsync calls it made, and the
bytes it read through system calls (`rchar`; in-memory parsing is in the CPU figure instead).

With `[performance] workers` above 1 the writes are made by writer processes: the CPU figure
adds theirs (they are reaped when the step ends), but fsyncs and bytes read count the cycle's
own process only (its folder flushes and its reads), not the workers' (one fsync of each
staged file and of each journal per write, and the original read once, as with one process).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import demo_city, fresh_copy

CITIES = {56: ("jakarta-barat", "31.73", None), 600: ("jawa-barat-600", "32", 600)}


def _rchar() -> int:
    with open("/proc/self/io", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return 0


class _Counter:
    """Counts fsync calls while the write step runs (the process is otherwise idle then)."""

    def __init__(self) -> None:
        self.calls = 0
        self._real = (os.fsync, os.fdatasync)

    def __enter__(self) -> _Counter:
        real_fsync, real_fdatasync = self._real

        def fsync(fd: int) -> None:
            self.calls += 1
            real_fsync(fd)

        def fdatasync(fd: int) -> None:
            self.calls += 1
            real_fdatasync(fd)

        os.fsync, os.fdatasync = fsync, fdatasync  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        os.fsync, os.fdatasync = self._real  # type: ignore[assignment]


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def measure(size: int, workers: int = 1) -> dict[str, float]:
    from kkmp_sheets import config
    from kkmp_sheets.service import cycle
    from kkmp_sheets.service.wiring import make_sink, make_source

    name, kode, count = CITIES[size]
    run = fresh_copy(demo_city(name, kode=kode, size=count), f"feedback-{name}")
    cfg = replace(config.load(run / "city.toml"), workers=workers, laporan=False)
    step: dict[str, float] = {}
    real_step = cycle.write_feedback

    def timed_step(*args: object, **kwargs: object) -> cycle.Feedback:
        rchar, wall = _rchar(), time.perf_counter()
        cpu = time.process_time() + _children_cpu()
        with _Counter() as counter:
            outcome = real_step(*args, **kwargs)  # type: ignore[arg-type]
        step.update(
            seconds=time.perf_counter() - wall,
            cpu=time.process_time() + _children_cpu() - cpu,
            read=_rchar() - rchar,
            fsyncs=counter.calls,
            written=outcome.written,
            failed=len(outcome.failed),
        )
        return outcome

    cycle.write_feedback = timed_step  # type: ignore[assignment]
    try:
        source = make_source(cfg)
        started = time.perf_counter()
        cycle.run_cycle(cfg, source=source, sink=make_sink(cfg), as_of=date(2026, 1, 29))
        step["cycle"] = time.perf_counter() - started
        source.close()
    finally:
        cycle.write_feedback = real_step  # type: ignore[assignment]
    step["bytes"] = sum(p.stat().st_size for p in (run / "workbooks").glob("*.xlsx"))
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[56, 600], choices=sorted(CITIES))
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1], help="[performance] workers, each in turn"
    )
    args = parser.parse_args()
    print("[output] laporan = false in every run (the write step's share of the cycle without it)")
    print(
        f"{'workers':>7}{'coops':>6}{'MB':>7}{'cycle s':>9}{'write s':>9}{'share':>7}{'ms/wb':>7}{'cpu s':>7}"
        f"{'fsyncs':>8}{'fsync/wb':>9}{'MB read':>9}{'read/size':>10}{'failed':>7}"
    )
    for size in args.sizes:
        for workers in args.workers:
            f = measure(size, workers)
            written = max(int(f["written"]), 1)
            print(
                f"{workers:>7}{int(f['written']):>6}{f['bytes'] / 1e6:>7.1f}{f['cycle']:>9.2f}{f['seconds']:>9.2f}"
                f"{100 * f['seconds'] / f['cycle']:>6.0f}%{1000 * f['seconds'] / written:>7.1f}"
                f"{f['cpu']:>7.2f}{int(f['fsyncs']):>8}{f['fsyncs'] / written:>9.2f}"
                f"{f['read'] / 1e6:>9.1f}{f['read'] / f['bytes']:>10.2f}{int(f['failed']):>7}"
            )


if __name__ == "__main__":
    main()
