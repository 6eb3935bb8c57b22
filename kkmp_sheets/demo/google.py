"""`kkmp-sheets demo --google-fake`: the demo city in Google mode, without a Google account.

Starts the local fake of the Sheets v4 and Drive v3 APIs in this process (127.0.0.1, a free
port), puts the demo city into it as an office would have it in Google Drive (one spreadsheet per
cooperative shared with the service account, a `Daftar KKMP` registry, an empty status
spreadsheet), runs one Google-mode cycle through unmodified gspread over HTTP, then a second one
with nothing changed, and prints the requests each cost. The fake enforces Google's quota (60
reads and 60 writes a minute); waiting for it is simulated (the clock jumps), so the demo does not
pause. The results are exported from the fake as `.xlsx` files to look at, since the fake stops
with the command.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

import requests

from kkmp_sheets import config
from kkmp_sheets.clock import WarpClock
from kkmp_sheets.core.results import CycleResult
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.demo import DemoCity
from kkmp_sheets.google.api import XLSX_MIME
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.service.summary import print_summary
from kkmp_sheets.store.history import HistoryStore
from kkmp_sheets.testing import FakeGoogle
from kkmp_sheets.testing.google_city import connect_fake, load_city

log = logging.getLogger(__name__)


def run_google_demo(city: DemoCity, as_of: date, out: TextIO) -> CycleResult:
    folder = city.root / "out" / "google"
    folder.mkdir(parents=True, exist_ok=True)
    clock = WarpClock()
    with FakeGoogle() as fake:
        fake.clock = clock.wall
        gcity = load_city(fake, city.root)
        local = config.load(city.config_path)
        cfg = replace(
            local,
            source_kind="google",
            registry=gcity.registry_id,
            output_kind="google",
            output_spreadsheet=gcity.status_id,
            data_dir=folder / "data",
        )
        clients = connect_fake(fake, gcity, clock=clock)
        store = HistoryStore(cfg.data_dir / "history.sqlite")
        counts: list[Counter[str]] = []
        try:
            cycles = []
            for _ in range(2):
                fake.reset_counts()
                cycles.append(
                    run_cycle(
                        cfg,
                        source=clients.source,
                        sink=clients.sink,
                        as_of=as_of,
                        now=datetime.now(WIB),
                        store=store,
                    )
                )
                counts.append(fake.counts)
            waited = clients.api.stats.throttled_seconds
            status = _export(fake, gcity.status_id, folder / "status-kota.xlsx")
            first_id, first_sid = next(iter(gcity.sheets.items()))
            sample = _export(fake, first_sid, folder / f"{first_id}.xlsx")
            base_url = fake.base_url
        finally:
            clients.close()
            store.close()

    print_summary(cycles[0], out)
    out.write(
        f"\nGoogle API palsu di {base_url} (akun layanan {fake.default_identity})\n"
        f"Permintaan siklus pertama : {_counts(counts[0])}\n"
        f"Permintaan siklus kedua   : {_counts(counts[1])} (tidak ada yang berubah)\n"
        f"Menunggu kuota (disimulasikan): {waited:.0f} detik\n"
        f"\nLihat (diekspor dari API palsu):\n"
        f"  status kota      {status}\n"
        f"  contoh KKMP      {sample} (tab 'Hasil Pemeriksaan')\n"
        f"Panduan Google: docs/google-setup.md\n"
    )
    return cycles[0]


def _counts(counts: Counter[str]) -> str:
    total = sum(counts.values())
    parts = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
    return f"{total} ({parts})"


def _export(fake: FakeGoogle, file_id: str, path: Path) -> Path:
    url = f"{fake.base_url}/drive/v3/files/{file_id}/export"
    with requests.Session() as http:
        reply = http.get(url, params={"mimeType": XLSX_MIME}, timeout=30)
    reply.raise_for_status()
    path.write_bytes(reply.content)
    return path
