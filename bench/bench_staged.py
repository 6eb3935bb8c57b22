"""Status spreadsheets beyond Google's request size: the staged write beside one request.

    python bench/bench_staged.py                    # 56, 2,000, 3,000 and 6,000 cooperatives
    python bench/bench_staged.py --sizes 56,3000    # those only
    python bench/bench_staged.py --no-threshold     # skip the search for the threshold

The status book of N cooperatives is `demo/large_book.py`'s: a 40-cooperative demo city of
province 32 (its seeded mistakes included, about 7 Masalah Data rows per cooperative) checked
once by the real cycle, its results repeated under new IDs. For each N, on one local fake with
100 ms latency and Google's write quota (60 a minute per user), two spreadsheets:

- **one request** (the baseline, today's writer): the whole book in one `batchUpdate`; above
  10 MiB the client refuses it before sending (Google would answer 400), and the write fails;
- **staged** (`[google] request_budget_mb`, 8 MiB): one request when the batch fits the budget,
  else hidden staging tabs in requests under the budget and one final request that shows them.

Each spreadsheet is written twice: **first** (empty spreadsheet) and **rewrite** (the previous
status there, the book changed: another Riwayat day), the case of every later cycle. Times as in
`bench_google.py`: **sim s** is what the write would take against Google (real time less the
fake's own work, plus skipped quota waits; the 100 ms latency per request counts, the upload of
the body does not), **real s** what it took here, **fake s** the fake's work taken out.

The threshold: the fewest cooperatives whose one-request batch is over the budget (bisection on
N, the body measured as sent).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CACHE
from bench_google import LATENCY, Stopwatch

from kkmp_sheets.config import GoogleSettings
from kkmp_sheets.demo.large_book import Seed, check_seed, large_book
from kkmp_sheets.errors import OutputError
from kkmp_sheets.google.api import MAX_BODY, batch_body
from kkmp_sheets.google.staged import DEFAULT_BUDGET
from kkmp_sheets.google.status_batch import build_requests
from kkmp_sheets.testing import FakeGoogle, QuotaConfig
from kkmp_sheets.testing.fake_clock import FakeWarpClock
from kkmp_sheets.testing.google_city import GoogleCity, connect_fake

MB = 1024 * 1024


@dataclass
class Row:
    size: int
    mode: str
    write: str
    requests: int
    max_mib: float
    total_mib: float
    sim_s: float
    real_s: float
    fake_s: float
    note: str = ""


def one_request_bytes(seed: Seed, size: int) -> int:
    return len(batch_body(build_requests(large_book(seed, size), {}, [])[0]))


def threshold(seed: Seed, budget: int) -> tuple[int, int, int]:
    """(the fewest cooperatives over `budget`, its batch's bytes, the bytes of one fewer)."""
    low, high = 100, 4000  # low fits, high does not
    assert one_request_bytes(seed, low) <= budget < one_request_bytes(seed, high)
    while high - low > 1:
        middle = (low + high) // 2
        if one_request_bytes(seed, middle) > budget:
            high = middle
        else:
            low = middle
    return high, one_request_bytes(seed, high), one_request_bytes(seed, low)


def measure(seed: Seed, size: int) -> list[Row]:
    rows: list[Row] = []
    with FakeGoogle(quota=QuotaConfig()) as fake:
        clock = FakeWarpClock(fake)
        fake.clock = clock.wall
        for mode, budget in (("one request", 10**12), ("staged", DEFAULT_BUDGET)):
            sid = fake.add_spreadsheet(
                f"Status {size} {mode}",
                {"Sheet1": []},
                owner="dinas@kota.example",
                shared_with={fake.default_identity: "writer"},
            )
            settings = GoogleSettings(base_url=fake.base_url, timeout_seconds=1800)
            clients = connect_fake(fake, GoogleCity("r" * 30, sid), clock=clock, settings=settings)
            sink = clients.sink
            sink.budget = budget
            fake.latency = LATENCY
            try:
                first = large_book(seed, size)
                yesterday = [date(2026, 1, 28), *first.sheet("Riwayat").rows[-1][1:]]
                for write, book in (("first", first), ("rewrite", None)):
                    book = book or large_book(seed, size, history=[yesterday])
                    sink.history()
                    fake.reset_counts()
                    sent: list[int] = []
                    send = sink.api.batch_update

                    def counted(sid_, reqs, body=None, send=send, sent=sent, api=sink.api):  # type: ignore[no-untyped-def]
                        reply = send(sid_, reqs, body)
                        sent.append(api.last_body_bytes)
                        return reply

                    sink.api.batch_update = counted  # type: ignore[method-assign]
                    watch = Stopwatch(fake, clock)
                    note = ""
                    try:
                        sink.publish(book)
                    except OutputError as exc:
                        note = "REFUSED: " + str(exc).split(";")[0]
                    sim, real, fake_s, _ = watch.stop()
                    sink.api.batch_update = send  # type: ignore[method-assign]
                    writes = fake.counts.get("sheets.spreadsheets.batchUpdate", 0)
                    reads = sum(fake.counts.values()) - writes
                    note = note or f"{reads} read(s) besides"
                    rows.append(
                        Row(
                            size,
                            mode,
                            write,
                            writes,
                            max(sent, default=0) / MB,
                            sum(sent) / MB,
                            sim,
                            real,
                            fake_s,
                            note,
                        )
                    )
                    print(
                        f"  {size} {mode} {write}: {writes} request(s), {sim:.1f} sim s", flush=True
                    )
            finally:
                clients.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="56,2000,3000,6000")
    parser.add_argument("--no-threshold", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    seed = check_seed(CACHE / "staged-seed-32-40", size=40)
    print(f"seed: {len(seed.results)} cooperatives checked ({time.perf_counter() - started:.0f} s)")
    if not args.no_threshold:
        at, over, under = threshold(seed, DEFAULT_BUDGET)
        print(
            f"threshold: staged from {at:,} cooperatives (one request {over:,} bytes > budget "
            f"{DEFAULT_BUDGET:,}; {at - 1:,} cooperatives: {under:,} bytes); Google's limit "
            f"{MAX_BODY:,} bytes"
        )
    rows: list[Row] = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows += measure(seed, size)
    print()
    print(
        f"Fake: {LATENCY * 1000:.0f} ms per request, 60 writes/min/user; budget {DEFAULT_BUDGET / MB:.0f} MiB."
    )
    head = (
        f"{'coops':>6}  {'mode':<12}{'write':<9}{'requests':>9}{'max MiB':>9}{'total MiB':>10}"
        f"{'sim s':>8}{'real s':>8}{'fake s':>8}  note"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r.size:>6}  {r.mode:<12}{r.write:<9}{r.requests:>9}{r.max_mib:>9.2f}"
            f"{r.total_mib:>10.2f}{r.sim_s:>8.1f}{r.real_s:>8.1f}{r.fake_s:>8.1f}  {r.note}"
        )
    print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
