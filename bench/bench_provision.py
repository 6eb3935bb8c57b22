"""Provisioning a whole city in Google mode, on the local fake: seconds and requests.

    python bench/bench_provision.py                 # the 56 cooperatives of Jakarta Barat
    python bench/bench_provision.py --latency 0.1   # every answer 100 ms late, like the network

The registry is the demo city's, with every Spreadsheet cell empty; `provision --all` creates
each cooperative's spreadsheet in a Drive folder (one `files.create`), builds the template in it
(one Sheets `batchUpdate`), shares it with its pengurus (one `permissions.create`), and records
the IDs in the registry (one `values.batchUpdate` at the end). The fake enforces Google's
per-user Sheets quota (60 writes a minute); waiting for it is simulated (`WarpClock`), so
**sim s** is what the run would take against Google (real time + quota waits skipped) and
**real s** what it took here. Most of the real time is the fake itself emulating every cell the
template's formats and checks cover (2,000 rows per tab); Google does that server-side.
Then the same command again: nothing is made twice.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import demo_city

from kkmp_sheets import config
from kkmp_sheets.clock import WarpClock
from kkmp_sheets.config import GoogleSettings
from kkmp_sheets.core.template import REGISTRY
from kkmp_sheets.google.api import PROVISION_SCOPES, connect
from kkmp_sheets.onboarding import provision_google
from kkmp_sheets.testing import FakeGoogle


def run(latency: float) -> None:
    root = demo_city("jakarta-barat", kode="31.73", size=None)
    with (root / "registry.csv").open(encoding="utf-8", newline="") as fh:
        rows = [list(r) for r in csv.reader(fh)]
    for row in rows[1:]:
        row[5] = ""
    with FakeGoogle() as fake:
        clock = WarpClock()
        fake.clock = clock.wall
        fake.latency = latency
        sa = fake.default_identity
        office = "sudin.kukm@jakbar.example"
        folder = fake.add_folder("KKMP Jakarta Barat", owner=office, shared_with={sa: "writer"})
        registry = fake.add_spreadsheet(
            "Daftar KKMP", {REGISTRY.tab: rows}, owner=office, shared_with={sa: "writer"}
        )
        cfg = config.load(root / "city.toml")
        cfg = replace(
            cfg,
            source_kind="google",
            registry=registry,
            google=GoogleSettings(base_url=fake.base_url, timeout_seconds=60),
            provision=replace(cfg.provision, google_folder=folder, notify=False),
        )
        api = connect(cfg.google, clock=clock, scopes=PROVISION_SCOPES)
        for label in ("first run", "second run"):
            fake.reset_counts()
            skipped = clock.skipped
            started = time.perf_counter()
            report = provision_google.provision_google(cfg, every=True, api=api)
            real = time.perf_counter() - started
            sim = real + clock.skipped - skipped
            made = report.count("dibuat")
            print(
                f"{label:<10}  {made:>2} created, {report.count('sudah ada'):>2} already there  "
                f"real {real:6.1f} s  sim {sim:6.1f} s  requests {sum(fake.counts.values())}"
            )
            for method, n in sorted(fake.counts.items()):
                print(f"            {method:<34} {n:>4}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    args = parser.parse_args()
    run(args.latency)


if __name__ == "__main__":
    main()
