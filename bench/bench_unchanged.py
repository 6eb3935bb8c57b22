"""A local cycle in which nothing changed: with the result cache, and reading everything.

    python bench/bench_unchanged.py            # Jakarta Barat (56) and Jawa Barat (6,000)
    python bench/bench_unchanged.py --small    # Jakarta Barat only

Each city runs on a fresh copy, in its own interpreter: a first cycle with the history store
(every workbook read, results cached, Hasil Pemeriksaan written), then the unchanged cycle
twice: with the store (results reused, nothing read, no Hasil Pemeriksaan reopened) and
without one (every workbook read, parsed and checked, each Hasil Pemeriksaan reopened to find
it unchanged), which is what every unchanged local cycle cost before the cache. "cpu s" is this
process's CPU (the reader's worker process is not counted; it reads nothing with the cache).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import demo_city, fresh_copy, in_subprocess

CYCLES = """
import json, time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo
from kkmp_sheets import config
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.service.wiring import make_sink, make_source
from kkmp_sheets.store.history import HistoryStore

cfg = config.load({config_path!r})
as_of, now = date(2026, 1, 29), datetime(2026, 1, 29, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))

def cycle(store, hours):
    source = make_source(cfg)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        done = run_cycle(cfg, source=source, sink=make_sink(cfg), as_of=as_of,
                         now=now + timedelta(hours=hours), store=store)
    finally:
        source.close()
    return done, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)

out = {{}}
with HistoryStore.for_config(cfg) as store:
    first = cycle(store, 0)
    out["first"] = first[1:]
    cached = cycle(store, 1)
    out["cached"] = cached[1:]
plain = cycle(None, 2)
out["plain"] = plain[1:]
out["coops"] = len(cached[0].results)
out["same"] = [r.figures for r in cached[0].results] == [r.figures for r in plain[0].results]
out["unchanged"] = cached[0].feedback_unchanged
print(json.dumps(out))
"""


def measure(name: str, kode: str, size: int | None) -> dict:
    root = demo_city(name, kode=kode, size=size)
    run = fresh_copy(root, name)
    return in_subprocess(
        f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        + CYCLES.format(config_path=str(run / "city.toml"))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="only the 56-cooperative demo")
    args = parser.parse_args()
    cities = [("jakarta-barat", "31.73", None)]
    if not args.small:
        cities.append(("jawa-barat-6000", "32", 6000))
    print(
        f"{'city':<16} {'coops':>6} {'first s':>8} {'cached s':>9} {'cpu s':>6} "
        f"{'read-all s':>11} {'cpu s':>6} {'ratio':>6}  same figures"
    )
    for name, kode, size in cities:
        f = measure(name, kode, size)
        (first, _), (cached, cached_cpu), (plain, plain_cpu) = f["first"], f["cached"], f["plain"]
        print(
            f"{name:<16} {f['coops']:>6} {first:>8.2f} {cached:>9.2f} {cached_cpu:>6.2f} "
            f"{plain:>11.2f} {plain_cpu:>6.2f} {cached / plain:>6.2f}  {f['same']}"
        )


if __name__ == "__main__":
    main()
