"""End to end in Google mode: the 56-cooperative demo city in the local fake of Sheets v4 and
Drive v3, driven through unmodified gspread over real HTTP, against a local run on the same files.

One scripted story per module (the fake and the history store carry over from cycle to cycle, as
they do for the service); each test checks one thing the story recorded.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kkmp_sheets import config
from kkmp_sheets.clock import WarpClock
from kkmp_sheets.config import GoogleSettings
from kkmp_sheets.core.report import CoopResult
from kkmp_sheets.core.report_card import FEEDBACK_HEADER_ROW
from kkmp_sheets.core.results import CycleResult
from kkmp_sheets.core.template import FEEDBACK_TAB
from kkmp_sheets.demo import DemoCity, build_demo_city
from kkmp_sheets.outputs.local import LocalSink
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.sources.local import LocalSource
from kkmp_sheets.store.history import HistoryStore
from kkmp_sheets.testing import XLSX_MIME, FakeGoogle, QuotaConfig
from kkmp_sheets.testing.google_city import GoogleCity, config_text, connect_fake, load_city

pytestmark = pytest.mark.slow
AS_OF = date(2026, 1, 29)
NOW = datetime(2026, 1, 29, 8, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
SHEETS_READS = ("sheets.values.batchGet", "sheets.spreadsheets.get")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    return build_demo_city(tmp_path_factory.mktemp("kota") / "demo", as_of=AS_OF, workers=2)


@pytest.fixture(scope="module")
def local(city: DemoCity, tmp_path_factory: pytest.TempPathFactory) -> CycleResult:
    """The same city in local mode, on a copy (a cycle writes into the workbooks)."""
    copy = tmp_path_factory.mktemp("lokal") / "demo"
    shutil.copytree(city.root, copy, copy_function=shutil.copy2)
    cfg = config.load(copy / "city.toml")
    return run_cycle(
        cfg,
        source=LocalSource(cfg.registry),
        sink=LocalSink(cfg.output_path),
        as_of=AS_OF,
        now=NOW,
    )


def google_config(city: DemoCity) -> config.Config:
    return config.load(city.config_path)  # zones, windows: the same as local mode


@dataclass
class Story:
    city: GoogleCity
    account: str
    cycles: dict[str, CycleResult] = field(default_factory=dict)
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


def touch(fake: FakeGoogle, sid: str, by: str) -> None:
    """A person edits the workbook (a note in an empty cell of its first tab)."""
    title = fake.tabs(sid)[0].replace("'", "''")
    fake.edit_values(sid, f"'{title}'!Z1", [["dicek"]], by=by)


def run(
    name: str,
    story: Story,
    fake: FakeGoogle,
    clients: Any,
    store: HistoryStore,
    cfg: Any,
    **kw: Any,
) -> CycleResult:
    fake.reset_counts()
    before = clients.api.stats.snapshot()
    cycle = run_cycle(
        cfg, source=clients.source, sink=clients.sink, as_of=AS_OF, now=NOW, store=store, **kw
    )
    story.cycles[name] = cycle
    story.counts[name] = fake.counts
    after = clients.api.stats.snapshot()
    story.stats[name] = {k: after[k] - before[k] for k in after}
    return cycle


@pytest.fixture(scope="module")
def story(city: DemoCity, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    clock = WarpClock()
    cfg = google_config(city)
    store = HistoryStore(tmp_path_factory.mktemp("data") / "history.sqlite")
    with FakeGoogle() as fake:
        fake.clock = clock.wall
        gcity = load_city(fake, city.root)
        clients = connect_fake(fake, gcity, clock=clock)
        story = Story(gcity, fake.default_identity)
        ids = list(gcity.sheets)
        try:
            run("cold", story, fake, clients, store, cfg)
            run("unchanged", story, fake, clients, store, cfg)

            edited = [ids[3], ids[20], ids[41]]
            story.notes["edited"] = edited
            for coop_id in edited:
                clock.sleep(60)
                touch(fake, gcity.sheets[coop_id], gcity.owners[coop_id])
            run("three", story, fake, clients, store, cfg)
            run("after-three", story, fake, clients, store, cfg)

            # A cooperative unshared while the cycle runs (after the listing, before its read).
            victim, before_it = ids[30], ids[29]
            story.notes["victim"] = victim
            touch(fake, gcity.sheets[victim], "x@y.example")

            def unshare_midway(done: int, total: int, coop_id: str) -> None:
                if coop_id == before_it:
                    fake.unshare(gcity.sheets[victim], fake.default_identity)

            run("unshared", story, fake, clients, store, cfg, progress=unshare_midway)

            # Google hiccups twice on a changed cooperative: retried, read.
            flaky = ids[10]
            story.notes["flaky"] = flaky
            touch(fake, gcity.sheets[flaky], "x@y.example")
            clients.source.refresh_listing()
            fake.fail_next(2, 503, path_contains=gcity.sheets[flaky])
            run("flaky", story, fake, clients, store, cfg)

            # An uploaded .xlsx never converted, added to the registry by an official.
            xlsx = fake.add_file(
                "KKMP Baru.xlsx",
                city.workbooks[0].read_bytes(),
                XLSX_MIME,
                owner="pengurus@baru.example",
                shared_with={fake.default_identity: "writer"},
            )
            fake.edit_values(
                gcity.registry_id,
                "'Daftar KKMP'!A58:F58",
                [["KKMP-BARU", '=HYPERLINK("x")', "Kedoya", "Kebon Jeruk", "", xlsx]],
                by="dinas@jakbar.example",
                value_input="RAW",
            )
            run("xlsx", story, fake, clients, store, cfg)
            story.notes["status"] = {
                tab: fake.get_values(gcity.status_id, tab, render="FORMULA")
                for tab in fake.tabs(gcity.status_id)
            }
            story.notes["status_meta"] = clients.api.get_spreadsheet(
                gcity.status_id, {"fields": "sheets(properties(title),charts(chartId))"}
            )
            story.notes["feedback"] = fake.get_values(gcity.sheets[ids[0]], FEEDBACK_TAB)
            story.notes["tabs"] = fake.tabs(gcity.sheets[ids[0]])
            yield story
        finally:
            clients.close()
            store.close()


def figures(result: CoopResult) -> dict[str, Any]:
    f = result.figures
    return {
        "zona": result.zone.name,
        "alasan": result.zone.text,
        "status": f.status_operasional,
        "anggota_aktif": f.anggota_aktif,
        "anggota_baru": f.anggota_baru,
        "simpanan": (f.simpanan_pokok, f.simpanan_wajib, f.simpanan_sukarela),
        "nilai_stok": round(f.nilai_stok, 2),
        "omset": round(f.omset, 2),
        "transaksi": (f.transaksi, f.transaksi_terakhir),
        "dokumen": (f.nib, f.npwp, f.rekening, f.siap_pembiayaan),
        "diperbarui": f.data_diperbarui.replace(microsecond=0) if f.data_diperbarui else None,
        "galat": result.galat,
        "peringatan": result.peringatan,
        "masalah": sorted(Counter(i.code for i in result.issues).items()),
    }


def by_id(cycle: CycleResult) -> dict[str, CoopResult]:
    return {r.coop.id: r for r in cycle.results}


# ---------------------------------------------------------------------- the same as local mode


def test_google_mode_gives_the_same_figures_and_zones_as_local_mode(
    story: Story, local: CycleResult
) -> None:
    google = {k: figures(v) for k, v in by_id(story.cycles["cold"]).items()}
    assert len(google) == 56
    for coop_id, result in by_id(local).items():
        assert google[coop_id] == figures(result), coop_id
    assert story.cycles["cold"].summary == local.summary
    assert {r.zone.name for r in local.results} == {"Merah", "Kuning", "Hijau"}


def test_cold_cycle_reads_each_cooperative_once(story: Story) -> None:
    counts = story.counts["cold"]
    assert counts["drive.files.list"] == 1
    # registry + 56 workbooks (one request each) + the status layout; Riwayat not there yet
    assert counts["sheets.spreadsheets.get"] == 1 + 56 + 1
    # Hasil Pemeriksaan right after each read, again where a cross-cooperative check (a NIK in
    # another cooperative) adds rows once every workbook is read; and the status.
    crossed = sum(
        1 for r in story.cycles["cold"].results if any(i.code == "nik-elsewhere" for i in r.issues)
    )
    assert 0 < crossed < 10
    assert counts["sheets.spreadsheets.batchUpdate"] == 56 + crossed + 1
    assert story.cycles["cold"].feedback_written == 56
    assert story.stats["cold"]["status_429"] == 0


# ---------------------------------------------------------------------- change detection


def test_nothing_changed_costs_one_drive_listing(story: Story) -> None:
    assert story.counts["unchanged"] == Counter({"drive.files.list": 1})
    assert story.cycles["unchanged"].feedback_written == 0
    same = {k: figures(v) for k, v in by_id(story.cycles["unchanged"]).items()}
    assert same == {k: figures(v) for k, v in by_id(story.cycles["cold"]).items()}


def test_three_edited_cooperatives_cost_three_reads(story: Story) -> None:
    counts = story.counts["three"]
    assert counts["drive.files.list"] == 1
    assert counts["sheets.values.batchGet"] + counts["sheets.spreadsheets.get"] == 3
    assert counts["sheets.values.batchGet"] == 3  # titles remembered: no metadata read
    cycle = by_id(story.cycles["three"])
    # The status (Data Diperbarui moved), and the Hasil Pemeriksaan whose zone line changed with it.
    rezoned = [
        c for c in story.notes["edited"] if cycle[c].zone != by_id(story.cycles["cold"])[c].zone
    ]
    assert counts["sheets.spreadsheets.batchUpdate"] == 1 + len(rezoned)
    for coop_id in story.notes["edited"]:
        old = by_id(story.cycles["cold"])[coop_id].figures.data_diperbarui
        assert cycle[coop_id].figures.data_diperbarui > old  # type: ignore[operator]


def test_our_own_writes_are_not_mistaken_for_human_edits(story: Story) -> None:
    # The cold cycle wrote Hasil Pemeriksaan into all 56; the next cycle read none of them.
    assert not any(story.counts["unchanged"][k] for k in SHEETS_READS)
    assert story.counts["after-three"] == Counter({"drive.files.list": 1})
    cold = by_id(story.cycles["cold"])
    for coop_id, result in by_id(story.cycles["unchanged"]).items():
        assert result.figures.data_diperbarui == cold[coop_id].figures.data_diperbarui


# ---------------------------------------------------------------------- faults


def test_a_cooperative_unshared_mid_run_is_isolated(story: Story) -> None:
    cycle = by_id(story.cycles["unshared"])
    victim = cycle[story.notes["victim"]]
    assert not victim.figures.readable
    assert victim.zone.name == "Merah"
    [problem] = victim.issues
    assert problem.code == "workbook-no-access"
    assert story.account in problem.fix
    assert "tidak dibagikan" in problem.message
    # its last good figures stay, marked as such
    before = by_id(story.cycles["three"])[story.notes["victim"]].figures
    assert victim.figures.anggota_aktif == before.anggota_aktif > 0
    assert "angka terakhir yang terbaca" in victim.zone.text
    others = [r for k, r in cycle.items() if k != story.notes["victim"]]
    assert all(r.figures.readable for r in others)
    assert len(story.cycles["unshared"].results) == 56


def test_server_errors_are_retried_and_the_cooperative_read(story: Story) -> None:
    flaky = by_id(story.cycles["flaky"])[story.notes["flaky"]]
    assert flaky.figures.readable
    assert story.stats["flaky"]["retries"] == 2
    assert story.stats["flaky"]["gave_up"] == 0


def test_an_uploaded_xlsx_is_reported_as_not_native(story: Story) -> None:
    new = by_id(story.cycles["xlsx"])["KKMP-BARU"]
    assert [i.code for i in new.issues] == ["workbook-not-native"]
    assert new.zone.name == "Merah"
    assert len(story.cycles["xlsx"].results) == 57


# ---------------------------------------------------------------------- the status spreadsheet


def test_the_status_spreadsheet_is_one_batch_update_with_a_chart(story: Story) -> None:
    for name in ("cold", "three", "unshared", "flaky", "xlsx"):
        assert story.counts[name]["sheets.spreadsheets.batchUpdate"] >= 1
    assert story.counts["unchanged"]["sheets.spreadsheets.batchUpdate"] == 0
    tabs = [s["properties"]["title"] for s in story.notes["status_meta"]["sheets"]]
    assert tabs[:7] == [
        "Ringkasan",
        "Status KKMP",
        "Kecamatan",
        "Masalah Data",
        "Riwayat",
        "Pasokan",
        "Pasokan Kecamatan",
    ]
    charts = [c for s in story.notes["status_meta"]["sheets"] for c in s.get("charts", [])]
    # Zones per kecamatan and the trend on Ringkasan; zones, members and trade on Riwayat.
    assert len(charts) == 5


def test_status_rows_are_numbers_and_text_stays_text(story: Story) -> None:
    rows = story.notes["status"]["Status KKMP"]
    header = rows[1]
    body = {r[0]: dict(zip(header, r, strict=False)) for r in rows[2:]}
    assert len(body) == 57
    assert body["KKMP-BARU"]["Nama Koperasi"] == '=HYPERLINK("x")'  # RAW: never a formula
    anggota = [r["Anggota Aktif"] for r in body.values()]
    assert all(isinstance(a, int | float) for a in anggota)
    link = body[next(iter(story.city.sheets))]["Tautan"]
    assert link.startswith("https://docs.google.com/spreadsheets/d/")
    ringkasan = {r[0]: r[1] for r in story.notes["status"]["Ringkasan"][2:] if len(r) > 1}
    assert ringkasan["Jumlah KKMP"] == 57


def test_hasil_pemeriksaan_is_the_only_tab_added(story: Story) -> None:
    assert story.notes["tabs"][-1] == FEEDBACK_TAB
    assert story.notes["feedback"][FEEDBACK_HEADER_ROW - 1][:7] == [
        "Tingkat",
        "Tab",
        "Baris",
        "Kolom",
        "Nilai",
        "Masalah",
        "Saran",
    ]


# ---------------------------------------------------------------------- quota pressure


def test_quota_pressure_gives_no_failed_cycle_and_no_429(
    city: DemoCity, local: CycleResult, tmp_path: Path
) -> None:
    """The fake allows 20 reads and 20 writes a minute; the limiter waits (on the shared
    simulated clock) instead of letting Google answer 429."""
    clock = WarpClock()
    cfg = google_config(city)
    settings = GoogleSettings(
        reads_per_minute_per_user=20, writes_per_minute_per_user=20, timeout_seconds=10
    )
    with FakeGoogle(quota=QuotaConfig(read_per_user=20, write_per_user=20)) as fake:
        fake.clock = clock.wall
        gcity = load_city(fake, city.root)
        clients = connect_fake(fake, gcity, clock=clock, settings=settings)
        store = HistoryStore(tmp_path / "history.sqlite")
        try:
            cycle = run_cycle(
                cfg, source=clients.source, sink=clients.sink, as_of=AS_OF, now=NOW, store=store
            )
        finally:
            clients.close()
            store.close()
        statuses = Counter(r.status for r in fake.requests)
    stats = clients.api.stats
    assert statuses[429] == 0 and stats.status_429 == 0
    assert all(r.figures.readable for r in cycle.results)
    assert stats.throttled_seconds > 60  # ~60 reads at 20 a minute: minutes of waiting, instantly
    assert {k: figures(v)["zona"] for k, v in by_id(cycle).items()} == {
        k: figures(v)["zona"] for k, v in by_id(local).items()
    }


# ---------------------------------------------------------------------- the command line


def test_run_once_in_google_mode_from_a_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run --once` with `[source]`/`[output] kind = "google"`: the real wiring (credentials,
    guarded client, state file, history store) against the fake as a server; a second run, in a
    fresh process as cron would start it, costs one request."""
    from kkmp_sheets.cli import main

    small = build_demo_city(tmp_path / "kecil", size=6, as_of=AS_OF)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with FakeGoogle() as fake:
        gcity = load_city(fake, small.root)
        path = small.root / "city-google.toml"
        path.write_text(config_text(fake, gcity), encoding="utf-8")
        assert main(["run", "--once", "--config", str(path), "--as-of", "2026-01-29"]) == 0
        first = fake.counts
        fake.reset_counts()
        assert main(["run", "--once", "--config", str(path), "--as-of", "2026-01-29"]) == 0
        second = fake.counts
        status_tabs = fake.tabs(gcity.status_id)
        feedback = [FEEDBACK_TAB in fake.tabs(sid) for sid in gcity.sheets.values()]
    assert first["sheets.spreadsheets.get"] >= 6
    assert second == Counter({"drive.files.list": 1})
    assert status_tabs[:2] == ["Ringkasan", "Status KKMP"]
    assert all(feedback)
    assert (small.root / "out" / "data" / "google-state.sqlite").is_file()
    assert list((small.root / "out" / "outbox").rglob("*.eml"))
    # The Laporan Pimpinan: in the data folder (Google mode has no local output folder), and in
    # the city digest.
    reports = small.root / "out" / "data" / "laporan"
    assert (reports / "laporan-pimpinan-kota.pdf").read_bytes().startswith(b"%PDF-")
    assert not (small.root / "out" / "laporan").exists()
    [city_mail] = (small.root / "out" / "outbox").glob("city_*.eml")
    assert b"laporan-pimpinan-kota.pdf" in city_mail.read_bytes()
