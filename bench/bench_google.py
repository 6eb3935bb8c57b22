"""Google mode on the local fake: requests per cycle, seconds, and a naive gspread script.

    python bench/bench_google.py            # 56 (Jakarta Barat) and 1,000 cooperatives (Jawa Barat)
    python bench/bench_google.py --small    # 56 only

The fake answers every request after 100 ms (`latency`, real time) and enforces Google's real
per-user quota: 60 reads and 60 writes a minute (300 per project). Waiting for quota is
simulated: the service's rate limiter and the fake share a `WarpClock`, whose sleep moves time
forward at once, so the 1,000-cooperative cold cycle (17 minutes of read quota) runs in a few
real minutes. Two times are printed, labelled: **sim s** is what the cycle would take against
Google (real time spent + quota waits skipped), **real s** is what it took here.

For each city three cycles of the service (`run_cycle` with a history store, as `run --once`
and `serve` run it): **cold** (first ever: nothing known), **3 changed** (three cooperatives
edited by their staff), **none changed**. Then a naive script on the same fake with gspread's
own client (no limiter, no retries): `open_by_key`, then `worksheet(title)` and
`get_all_records()` per tab, for every cooperative, moving on when a request fails.

"Quota min" is the least time the cold cycle's Sheets reads can take at 60 a minute (reads ÷ 60
per minute); the ratio is sim s ÷ that. Cities are built once into bench/.cache.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gspread
from _common import demo_city
from google.auth.credentials import AnonymousCredentials
from gspread.exceptions import APIError, GSpreadException

from kkmp_sheets import config
from kkmp_sheets.clock import WarpClock
from kkmp_sheets.google.http import make_session
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.store.history import HistoryStore
from kkmp_sheets.testing import FakeGoogle, QuotaConfig
from kkmp_sheets.testing.google_city import GoogleCity, connect_fake, load_city

AS_OF = date(2026, 1, 29)
NOW = datetime(2026, 1, 29, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
LATENCY = 0.1
READS = ("sheets.spreadsheets.get", "sheets.values.batchGet", "sheets.values.get")


@dataclass
class Row:
    city: str
    run: str
    reads: int
    writes: int
    drive: int
    seen_429: int  # 429 answers the client met (and retried)
    user_429: int  # cooperatives reported unreadable because of quota (what reaches the user)
    sim_s: float
    real_s: float
    note: str = ""

    @property
    def total(self) -> int:
        return self.reads + self.writes + self.drive


def split(counts: Counter[str]) -> tuple[int, int, int]:
    reads = sum(v for k, v in counts.items() if k in READS)
    drive = sum(v for k, v in counts.items() if k.startswith("drive."))
    return reads, sum(counts.values()) - reads - drive, drive


def naive_run(name: str, fake: FakeGoogle, clock: WarpClock, registry_id: str) -> Row:
    """What a first script would do: gspread's defaults, three kinds of read per tab."""
    fake.reset_counts()
    fake.reset_quota()
    credentials = AnonymousCredentials()
    session = make_session(credentials, fake.base_url, timeout=None)
    gc = gspread.Client(auth=credentials, session=session)  # gspread's own HTTPClient
    failed_429 = failed_other = ok = unusable = 0
    skipped, started = clock.skipped, time.perf_counter()
    try:
        registry = gc.open_by_key(registry_id).worksheet("Daftar KKMP").get_all_records()
        for record in registry:
            target = str(record["Spreadsheet"])
            try:
                sheet = (
                    gc.open_by_url(target) if target.startswith("http") else gc.open_by_key(target)
                )
                for ws in sheet.worksheets():
                    try:
                        sheet.worksheet(ws.title).get_all_records()
                    except GSpreadException as exc:
                        if isinstance(exc, APIError):
                            raise
                        unusable += 1  # a title row above the header: "header not unique"
                ok += 1
            except APIError as exc:
                if exc.response.status_code == 429:
                    failed_429 += 1
                else:
                    failed_other += 1
            except GSpreadException:
                failed_other += 1
    finally:
        session.close()
    real = time.perf_counter() - started
    reads, writes, drive = split(fake.counts)
    statuses = Counter(r.status for r in fake.requests)
    return Row(
        name,
        "naive gspread",
        reads,
        writes,
        drive,
        statuses[429],
        failed_429,
        real + clock.skipped - skipped,
        real,
        f"{ok} coops read, {failed_429} failed on 429, {failed_other} otherwise; "
        f"{unusable} tabs get_all_records could not use",
    )


def measure(name: str, kode: str, size: int | None) -> list[Row]:
    """The service's three cycles, then the naive script, on one fake with 100 ms latency."""
    root = demo_city(name, kode=kode, size=size)
    clock = WarpClock()
    with FakeGoogle(quota=QuotaConfig()) as fake:  # 60 reads, 60 writes /min/user; 300 project
        fake.clock = clock.wall
        started = time.perf_counter()
        city = load_city(fake, root)  # seeding is not measured: no latency yet
        print(f"  {name}: {len(city.sheets)} spreadsheets loaded", flush=True)
        fake.latency = LATENCY
        rows = service_runs(name, root, fake, clock, city)
        rows.append(naive_run(name, fake, clock, city.registry_id))
        print(f"  {name}: {time.perf_counter() - started:.0f} s in all", flush=True)
    return rows


def service_runs(
    name: str, root: Path, fake: FakeGoogle, clock: WarpClock, city: GoogleCity
) -> list[Row]:
    cfg = config.load(root / "city.toml")
    clients = connect_fake(fake, city, clock=clock)
    store = HistoryStore(":memory:")
    ids = list(city.sheets)
    rows = []
    try:
        for run in ("cold", "3 changed", "none changed"):
            if run == "3 changed":
                for coop_id in (ids[1], ids[len(ids) // 2], ids[-2]):
                    sid = city.sheets[coop_id]
                    title = fake.tabs(sid)[0].replace("'", "''")
                    fake.edit_values(sid, f"'{title}'!Z1", [["dicek"]], by=city.owners[coop_id])
            fake.reset_counts()
            before = clients.api.stats.snapshot()
            skipped, started = clock.skipped, time.perf_counter()
            cycle = run_cycle(
                cfg, source=clients.source, sink=clients.sink, as_of=AS_OF, now=NOW, store=store
            )
            real = time.perf_counter() - started
            after = clients.api.stats.snapshot()
            reads, writes, drive = split(fake.counts)
            quota_failures = sum(
                1 for r in cycle.results for i in r.issues if i.code == "workbook-unavailable"
            )
            rows.append(
                Row(
                    name,
                    run,
                    reads,
                    writes,
                    drive,
                    after["status_429"] - before["status_429"],
                    quota_failures,
                    real + clock.skipped - skipped,
                    real,
                    f"{len(cycle.results)} coops, {len(cycle.unreadable)} unreadable, "
                    f"Hasil Pemeriksaan written {cycle.feedback_written}"
                    + (
                        f", status batch {clients.sink.last_bytes / 1e6:.1f} MB"
                        if run == "cold"
                        else ""
                    ),
                )
            )
            print(f"  {name} {run}: {rows[-1].sim_s:.0f} sim s, {real:.0f} real s", flush=True)
    finally:
        clients.close()
        store.close()
    return rows


def print_table(rows: list[Row]) -> None:
    head = (
        f"{'city':<16}{'run':<15}{'reads':>7}{'writes':>7}{'drive':>6}{'total':>7}"
        f"{'429 seen':>9}{'429 user':>9}{'sim s':>9}{'real s':>8}  note"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r.city:<16}{r.run:<15}{r.reads:>7}{r.writes:>7}{r.drive:>6}{r.total:>7}"
            f"{r.seen_429:>9}{r.user_429:>9}{r.sim_s:>9.1f}{r.real_s:>8.1f}  {r.note}"
        )


def print_goals(rows: list[Row]) -> None:
    print()
    for city in dict.fromkeys(r.city for r in rows):
        runs = {r.run: r for r in rows if r.city == city}
        cold, three, none = runs["cold"], runs["3 changed"], runs["none changed"]
        coops = int(cold.note.split()[0])
        minimum = cold.reads / 60 * 60  # reads ÷ 60 per minute, in seconds
        print(
            f"{city}: cold {cold.reads} reads → quota min {minimum:.0f} s; cycle {cold.sim_s:.0f}"
            f" sim s = {cold.sim_s / minimum:.2f} × min | none changed: {none.total} request(s)"
            f" for {coops} coops ({none.reads + none.writes} Sheets, {none.drive} Drive listing"
            f" page(s) of up to 1,000 files) | 3 changed:"
            f" {three.reads} reads | 429 reaching the user: "
            f"{cold.user_429 + three.user_429 + none.user_429}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="only the 56-cooperative city")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cases = [("jakarta-barat", "31.73", None)]
    if not args.small:
        cases.append(("jawa-barat-1000", "32", 1000))
    rows: list[Row] = []
    for name, kode, size in cases:
        rows += measure(name, kode, size)
    print()
    print(f"Fake: {LATENCY * 1000:.0f} ms per request, quota 60 reads + 60 writes /min/user.")
    print_table(rows)
    print_goals(rows)


if __name__ == "__main__":
    main()
