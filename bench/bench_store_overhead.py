"""What the history store adds to a cycle: CPU seconds with the store against without it.

    python bench/bench_store_overhead.py                # 600 cooperatives of Jawa Barat
    python bench/bench_store_overhead.py --size 6000    # the province of the issue
    python bench/bench_store_overhead.py --profile      # also where the store's time goes

Both cycles are a first cycle (every workbook read, Hasil Pemeriksaan written) on a fresh copy of
the same cached city, each in its own interpreter. CPU is user + system time of the cycle's
process and of its children (the reader workers, ended before it is counted), from
`resource.getrusage`; the store cycle also records the cycle and prunes old snapshots, as
`kkmp-sheets run` does. The Laporan Pimpinan is off unless `--laporan` (its PDFs cost the same
with and without the store). The machine is shared, so only the ratio between the two, measured in the
same run, is the figure. The goal is a ratio of at most 1.10. `--profile` runs the store cycle
again under cProfile (in-process work only) and prints the store's share by function.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import demo_city, fresh_copy, in_subprocess

CYCLE = """
import json, resource, time
from pathlib import Path
from datetime import date, datetime
from kkmp_sheets import config
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.service.wiring import make_sink, make_source
from kkmp_sheets.store.history import HistoryStore

def cpu():
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

from dataclasses import replace
cfg = config.load({config_path!r})
if {workers!r} is not None:
    cfg = replace(cfg, workers={workers!r})
cfg = replace(cfg, laporan={laporan!r})
store = HistoryStore.for_config(cfg) if {with_store!r} else None
now = datetime(2026, 1, 29, 9, 0, tzinfo=WIB)
before, wall = cpu(), time.perf_counter()
source = make_source(cfg)
try:
    run = lambda: run_cycle(cfg, source=source, sink=make_sink(cfg), as_of=now.date(), now=now,
                            store=store)
    if {profile!r}:
        import cProfile, pstats
        profiler = cProfile.Profile(time.process_time)  # CPU, as the figure compared
        profiler.enable()
        cycle = run()
        profiler.disable()
    else:
        cycle = run()
    if store is not None:  # what `kkmp-sheets run` does after a cycle
        store.record_cycle(cycle)
        store.prune(cfg.snapshot_days, now=now)
finally:
    source.close()
    if store is not None:
        store.close()
wall = time.perf_counter() - wall
out = {{"cpu": round(cpu() - before, 2), "wall": round(wall, 2), "coops": len(cycle.results)}}
if {profile!r}:
    stats = pstats.Stats(profiler)
    total = sum(v[3] for v in stats.stats.values() if v[3]) or 1
    # Cumulative time of the store's own functions, by the name they are known by.
    wanted = ("snapshots.py", "protection.py", "history.py", "reuse.py", "results_cache.py",
              "report.py")
    rows = []
    for (path, line, name), (cc, nc, tt, ct, callers) in stats.stats.items():
        if path.endswith(wanted):
            rows.append((round(ct, 2), f"{{Path(path).name}}:{{name}}"))
    out["profile"] = sorted(rows, reverse=True)[:20]
    out["profiled_total"] = round(total, 2)
print(json.dumps(out))
"""


def cycle(
    root: Path,
    name: str,
    *,
    with_store: bool,
    workers: int | None,
    laporan: bool = False,
    profile: bool = False,
) -> dict:
    run = fresh_copy(root, name)
    return in_subprocess(
        CYCLE.format(
            config_path=str(run / "city.toml"),
            with_store=with_store,
            workers=workers,
            laporan=laporan,
            profile=profile,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=600, help="cooperatives (default 600)")
    parser.add_argument("--kode", default="32", help="city or province code (default 32)")
    parser.add_argument("--workers", type=int, default=None, help="[performance] workers")
    parser.add_argument("--repeat", type=int, default=3, help="pairs of cycles to run")
    parser.add_argument("--profile", action="store_true", help="where the store's time goes")
    parser.add_argument(
        "--laporan",
        action="store_true",
        help="also write the Laporan Pimpinan PDFs (off by default: they cost the same with or "
        "without the store and are measured on their own)",
    )
    args = parser.parse_args()
    name = f"kode-{args.kode}-{args.size}"  # shared with bench_pool.py
    root = demo_city(name, kode=args.kode, size=args.size)
    print(
        f"{args.size} cooperatives (kode {args.kode}), workers {args.workers or 'default'}, "
        f"Laporan Pimpinan {'on' if args.laporan else 'off'}"
    )
    print(
        f"{'run':<5}{'CPU without':>13}{'CPU with':>10}{'ratio':>8}{'wall without':>14}{'wall with':>11}"
    )
    bares, kepts = [], []
    for n in range(args.repeat):  # alternating, so that both see the same neighbours
        bare = cycle(root, name, with_store=False, workers=args.workers, laporan=args.laporan)
        kept = cycle(root, name, with_store=True, workers=args.workers, laporan=args.laporan)
        bares.append(bare["cpu"])
        kepts.append(kept["cpu"])
        print(
            f"{n + 1:<5}{bare['cpu']:>13.2f}{kept['cpu']:>10.2f}{kept['cpu'] / bare['cpu']:>8.3f}"
            f"{bare['wall']:>14.2f}{kept['wall']:>11.2f}"
        )
    # Another process on the same cores only ever adds CPU time (caches, migrations): the
    # least of each is the nearest to the work itself.
    print(f"{'min':<5}{min(bares):>13.2f}{min(kepts):>10.2f}{min(kepts) / min(bares):>8.3f}")
    print(f"ratio of the least CPU seconds {min(kepts) / min(bares):.3f} (goal <= 1.10)")
    if args.profile:
        found = cycle(
            root, name, with_store=True, workers=args.workers, laporan=args.laporan, profile=True
        )
        print(
            f"\nstore functions, cumulative CPU s (this process only, of {found['profiled_total']} s):"
        )
        for seconds, where in found["profile"]:
            print(f"  {seconds:>8.2f}  {where}")


if __name__ == "__main__":
    main()
