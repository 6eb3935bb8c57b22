"""One local cycle: seconds and peak memory, for the 56-cooperative demo and a province.

    python bench/bench_local_cycle.py            # Jakarta Barat (56) and Jawa Barat (6,000)
    python bench/bench_local_cycle.py --small    # Jakarta Barat only

Each cycle runs in its own interpreter so that peak RSS is that cycle's alone; "reader MB" is the
peak of the worker process that reads the workbooks (`sources/isolation.py`). Cities are built
once into bench/.cache (generation time is printed but is not the figure measured); every run
works on a fresh copy, because a cycle writes Hasil Pemeriksaan into the workbooks. The second
run of a city shows the steady state: results unchanged, no workbook rewritten.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import demo_city, fresh_copy, in_subprocess

CYCLE = """
import json, resource, time
from datetime import date
from kkmp_sheets import config
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.service.wiring import make_sink, make_source
from _common import peak_rss_mb
cfg = config.load({config_path!r})
results = []
for run in range(2):
    t = time.perf_counter()
    source = make_source(cfg)
    cycle = run_cycle(cfg, source=source, sink=make_sink(cfg), as_of=date(2026, 1, 29))
    source.close()  # the reader's worker process ends, so that its peak memory is counted
    results.append(round(time.perf_counter() - t, 2))
reader_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({{"first": results[0], "second": results[1], "peak_mb": round(peak_rss_mb(), 1),
                  "reader_mb": round(reader_mb, 1),
                  "coops": len(cycle.results), "written": cycle.feedback_written,
                  "unchanged": cycle.feedback_unchanged}}))
"""


def measure(name: str, kode: str, size: int | None) -> dict:
    root = demo_city(name, kode=kode, size=size)
    run = fresh_copy(root, name)
    figures = in_subprocess(
        f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        + CYCLE.format(config_path=str(run / "city.toml"))
    )
    figures["built_s"] = (root / ".complete").read_text()
    figures["bytes"] = sum(p.stat().st_size for p in (root / "workbooks").glob("*.xlsx"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="only the 56-cooperative demo")
    args = parser.parse_args()
    cases = [("jakarta-barat", "31.73", None)]
    if not args.small:
        cases.append(("jawa-barat-6000", "32", 6000))
    print(
        f"{'city':<18}{'coops':>7}{'MB on disk':>12}{'cycle s':>9}{'again s':>9}{'s/coop':>8}{'peak MB':>9}{'reader MB':>10}"
    )
    for name, kode, size in cases:
        f = measure(name, kode, size)
        print(
            f"{name:<18}{f['coops']:>7}{f['bytes'] / 1e6:>12.1f}{f['first']:>9.2f}{f['second']:>9.2f}"
            f"{f['first'] / f['coops']:>8.3f}{f['peak_mb']:>9.0f}{f['reader_mb']:>10.0f}"
            f"   (built in {f['built_s']} s; second run rewrote {f['written']}, unchanged {f['unchanged']})"
        )


if __name__ == "__main__":
    main()
