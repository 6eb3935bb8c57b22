"""Two simulated hours of `kkmp-sheets serve` on the 56-cooperative demo city.

    python bench/simulate_serve.py [--minutes 120] [--every 15]

The real service (`Service`, real jobs, real files) on an accelerated clock: waits are skipped,
and the clock moves on with the real time each job takes, so the printed durations are real.
It starts on Thursday 2026-01-29 at 06:20 WIB, after downtime: a sync and this week's
cooperative digests are caught up at once, the daily digests go at 07:00 WIB. Halfway through,
staff wipe most of one cooperative's Anggota tab; the next sync holds it (likely deletion).
The city is built once into bench/.cache; every run works on a fresh copy.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import demo_city, fresh_copy

WIB = ZoneInfo("Asia/Jakarta")
START = datetime(2026, 1, 29, 6, 20, tzinfo=WIB)


def wipe_members(workbook: Path) -> str:
    """A sort gone wrong: every row of the Anggota tab after the tenth is deleted."""
    import openpyxl

    from kkmp_sheets.core.template import ANGGOTA, normalize

    wb = openpyxl.load_workbook(workbook)
    title = next(n for n in wb.sheetnames if normalize(n) in ANGGOTA.match_keys)
    wb[title].delete_rows(11, wb[title].max_row)
    wb.save(workbook)
    return title


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=120, help="simulated minutes (120)")
    parser.add_argument("--every", type=int, default=15, help="sync every N minutes (15)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format=" " * 29 + "log: %(message)s")

    from kkmp_sheets import config
    from kkmp_sheets.clock import SimulatedClock
    from kkmp_sheets.service.serve import Service
    from kkmp_sheets.service.status import JobRun, status_text

    root = fresh_copy(demo_city("jakarta-barat", kode="31.73", size=None), "simulate-serve")
    config_path = root / "city.toml"
    with config_path.open("a", encoding="utf-8") as toml:
        toml.write(f'\n[schedule]\nsync_every_minutes = {args.every}\ndaily_digest_at = "07:00"\n')
    cfg = config.load(config_path)
    clock = SimulatedClock(START, real_time=True)
    until = START + timedelta(minutes=args.minutes)
    victim = sorted((root / "workbooks").glob("*.xlsx"))[3]
    wiped: list[str] = []
    runs: list[JobRun] = []

    def show(run: JobRun) -> None:
        runs.append(run)
        late = " (catch-up)" if run.catch_up else ""
        print(
            f"{run.started:%a %Y-%m-%d %H:%M:%S} WIB  {run.job:<6} "
            f"{'ok' if run.ok else 'FAILED':<6} {run.seconds:6.2f} s{late}  {run.message}",
            flush=True,
        )
        halfway = START + timedelta(minutes=args.minutes // 2)
        if run.job == "sync" and not wiped and clock.now() >= halfway:
            wiped.append(wipe_members(victim))
            print(f"{'':>29}(staff wipe most of {victim.stem}'s {wiped[0]} tab)", flush=True)

    print(
        f"Simulating {args.minutes} min of serve on {len(list((root / 'workbooks').glob('*.xlsx')))}"
        f" cooperatives from {START:%a %Y-%m-%d %H:%M} WIB (sync every {args.every} min)\n"
    )
    began = time.perf_counter()
    Service(cfg, clock=clock, on_job=show).run(until=until)
    real = time.perf_counter() - began

    per_job = Counter(r.job for r in runs)
    took = {job: sum(r.seconds for r in runs if r.job == job) for job in per_job}
    outbox = Counter(p.name.split("_")[0] for p in cfg.outbox_dir.glob("*.eml"))
    store = cfg.data_dir / "history.sqlite"
    print(
        f"\n{len(runs)} job runs in {real:.1f} s of real time: "
        + ", ".join(f"{job} ×{n} ({took[job]:.1f} s)" for job, n in per_job.items())
    )
    print("outbox: " + ", ".join(f"{kind} {n}" for kind, n in sorted(outbox.items())))
    print(f"history store: {store.stat().st_size / 1e6:.2f} MB (+ WAL)\n")
    print(status_text(cfg), end="")


if __name__ == "__main__":
    main()
