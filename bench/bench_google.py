"""Google mode on the local fake: requests per cycle, seconds, and a naive gspread script.

    python bench/bench_google.py            # 56 (Jakarta Barat) and 1,000 cooperatives (Jawa Barat)
    python bench/bench_google.py --small    # 56 only

The fake answers every request after 100 ms (`latency`, real time) and enforces Google's real
per-user quota: 60 reads and 60 writes a minute (300 per project). Waiting for quota is
simulated: the service's rate limiter and the fake share a `FakeWarpClock`, whose sleep moves
time forward at once, so the 1,000-cooperative cold cycle (17 minutes of read quota) runs in a
few real minutes. That clock also stands still while the fake works on a request (Google's
servers would not cost us the fake's Python; the 100 ms latency per request does pass), so the
quota windows age on Google's time. Two times are printed, labelled: **sim s** is what the
cycle would take against Google (real time spent, less the fake's own work, plus the quota
waits skipped); **real s** is what it took here; **fake s** is the fake's work taken out.

The fake runs in this process (its threads share the warped clock), so the process's CPU counts
the fake's work too: **CPU s** is the service's alone, the process's CPU less the CPU of the
fake's threads (`FakeGoogle.handling`), measured per cycle.

For each city three cycles of the service (`run_cycle` with a history store, as `run --once`
and `serve` run it): **cold** (first ever: nothing known), **3 changed** (three cooperatives
edited by their staff), **none changed**. Then a naive script on the same fake with gspread's
own client (no limiter, no retries): `open_by_key`, then `worksheet(title)` and
`get_all_records()` per tab, for every cooperative, moving on when a request fails.

"Quota min" is the least time the cold cycle's Sheets requests can take: reads and writes have
separate quotas of 60 a minute per user, so it is the larger of reads ÷ 60 and writes ÷ 60
minutes; the ratio is sim s ÷ that. Cities are built once into bench/.cache.
"""

from __future__ import annotations

import argparse
import logging
import resource
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
from kkmp_sheets.config import GoogleSettings
from kkmp_sheets.google.http import make_session
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.store.history import HistoryStore
from kkmp_sheets.testing import FakeGoogle, QuotaConfig
from kkmp_sheets.testing.fake_clock import FakeWarpClock
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
    fake_s: float  # the fake's own handling time, taken out of sim s
    cpu_s: float  # the client's CPU: the process's, the fake's threads' taken out
    note: str = ""

    @property
    def total(self) -> int:
        return self.reads + self.writes + self.drive


def process_cpu() -> float:
    """User + system seconds of this process (every thread) and its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Stopwatch:
    """Real time, skipped quota waits, the fake's handling and the client's CPU over one run."""

    def __init__(self, fake: FakeGoogle, clock: FakeWarpClock) -> None:
        self.fake, self.clock = fake, clock
        self.handled = fake.handling()
        self.sim = clock.monotonic()
        self.cpu = process_cpu()
        self.started = time.perf_counter()

    def stop(self) -> tuple[float, float, float, float]:
        """(sim s, real s, fake s, client CPU s)."""
        real = time.perf_counter() - self.started
        cpu = process_cpu() - self.cpu
        handled = self.fake.handling()
        sim = self.clock.monotonic() - self.sim  # real - fake s + the quota waits skipped
        fake_s = handled.seconds - self.handled.seconds
        return sim, real, fake_s, cpu - (handled.cpu - self.handled.cpu)


def split(counts: Counter[str]) -> tuple[int, int, int]:
    reads = sum(v for k, v in counts.items() if k in READS)
    drive = sum(v for k, v in counts.items() if k.startswith("drive."))
    return reads, sum(counts.values()) - reads - drive, drive


def naive_run(name: str, fake: FakeGoogle, clock: FakeWarpClock, registry_id: str) -> Row:
    """What a first script would do: gspread's defaults, three kinds of read per tab."""
    fake.reset_counts()
    fake.reset_quota()
    credentials = AnonymousCredentials()
    session = make_session(credentials, fake.base_url, timeout=None)
    gc = gspread.Client(auth=credentials, session=session)  # gspread's own HTTPClient
    failed_429 = failed_other = ok = unusable = 0
    watch = Stopwatch(fake, clock)
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
    sim, real, fake_s, cpu = watch.stop()
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
        sim,
        real,
        fake_s,
        cpu,
        f"{ok} coops read, {failed_429} failed on 429, {failed_other} otherwise; "
        f"{unusable} tabs get_all_records could not use",
    )


def measure(name: str, kode: str, size: int | None) -> list[Row]:
    """The service's three cycles, then the naive script, on one fake with 100 ms latency."""
    root = demo_city(name, kode=kode, size=size)
    with FakeGoogle(quota=QuotaConfig()) as fake:  # 60 reads, 60 writes /min/user; 300 project
        clock = FakeWarpClock(fake)  # stands still while the fake works: Google's time only
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
    name: str, root: Path, fake: FakeGoogle, clock: FakeWarpClock, city: GoogleCity
) -> list[Row]:
    cfg = config.load(root / "city.toml")
    # The service's own request timeout (30 s), not the tests' 10 s: on a loaded machine the fake
    # can take longer than 10 s over the 1,000-cooperative status batch, and a timed-out batch
    # that the fake did apply is retried and refused (its charts are gone already).
    settings = GoogleSettings(base_url=fake.base_url)
    clients = connect_fake(fake, city, clock=clock, settings=settings)
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
            watch = Stopwatch(fake, clock)
            cycle = run_cycle(
                cfg, source=clients.source, sink=clients.sink, as_of=AS_OF, now=NOW, store=store
            )
            sim, real, fake_s, cpu = watch.stop()
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
                    sim,
                    real,
                    fake_s,
                    cpu,
                    f"{len(cycle.results)} coops, {len(cycle.unreadable)} unreadable, "
                    f"Hasil Pemeriksaan written {cycle.feedback_written}"
                    + (
                        f", status batch {clients.sink.last_bytes / 1e6:.1f} MB"
                        if run == "cold"
                        else ""
                    ),
                )
            )
            print(
                f"  {name} {run}: {sim:.0f} sim s, {real:.0f} real s, {cpu:.1f} CPU s", flush=True
            )
    finally:
        clients.close()
        store.close()
    return rows


def print_table(rows: list[Row]) -> None:
    head = (
        f"{'city':<16}{'run':<15}{'reads':>7}{'writes':>7}{'drive':>6}{'total':>7}"
        f"{'429 seen':>9}{'429 user':>9}{'sim s':>9}{'real s':>8}{'fake s':>8}{'CPU s':>7}  note"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r.city:<16}{r.run:<15}{r.reads:>7}{r.writes:>7}{r.drive:>6}{r.total:>7}"
            f"{r.seen_429:>9}{r.user_429:>9}{r.sim_s:>9.1f}{r.real_s:>8.1f}{r.fake_s:>8.1f}"
            f"{r.cpu_s:>7.1f}  {r.note}"
        )


def print_goals(rows: list[Row]) -> None:
    print()
    for city in dict.fromkeys(r.city for r in rows):
        runs = {r.run: r for r in rows if r.city == city}
        cold, three, none = runs["cold"], runs["3 changed"], runs["none changed"]
        coops = int(cold.note.split()[0])
        # Reads and writes are charged to separate quotas of 60 a minute each: the larger wins.
        bound = max(cold.reads, cold.writes)
        minimum = bound / 60 * 60  # requests ÷ 60 per minute, in seconds
        which = "reads" if cold.reads >= cold.writes else "writes"
        print(
            f"{city}: cold {cold.reads} reads, {cold.writes} writes → quota min {minimum:.0f} s"
            f" ({which}); cycle {cold.sim_s:.0f}"
            f" sim s = {cold.sim_s / minimum:.2f} × min | none changed: {none.total} request(s)"
            f" for {coops} coops ({none.reads + none.writes} Sheets, {none.drive} Drive listing"
            f" page(s) of up to 1,000 files), client CPU {none.cpu_s:.2f} s"
            f" = {none.cpu_s / coops * 1000:.2f} s per 1,000 coops (goal <= 2 s) | 3 changed:"
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
