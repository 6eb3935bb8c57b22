"""The history store: figures per day, problem lives, what changed, migrations."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.metrics import ADA, CoopFigures
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.report import CoopResult, Summary
from kkmp_sheets.core.results import CycleResult
from kkmp_sheets.core.zoning import Zone, ZoneRules
from kkmp_sheets.errors import OutputError
from kkmp_sheets.store.history import CityPoint, HistoryStore, ZoneMove
from kkmp_sheets.store.history_schema import SCHEMA_VERSION

WIB = ZoneInfo("Asia/Jakarta")
D1, D2, D3 = date(2026, 1, 27), date(2026, 1, 28), date(2026, 1, 29)
NIK = "3173054108900007"  # synthetic
NAME = "Siti Contohwati"  # synthetic


def result(
    coop_id: str,
    zone: str = "Hijau",
    *,
    issues: list[Issue] | None = None,
    kecamatan: str = "Kebon Jeruk",
    **figures: Any,
) -> CoopResult:
    coop = Coop(
        id=coop_id,
        nama=f"KKMP {coop_id}",
        kelurahan=f"Kelurahan {coop_id}",
        kecamatan=kecamatan,
        kode_wilayah=None,
        spreadsheet=f"{coop_id}.xlsx",
    )
    values: dict[str, Any] = {
        "status_operasional": "Aktif",
        "nib": ADA,
        "npwp": ADA,
        "rekening": ADA,
        "anggota_aktif": 120,
        "simpanan_pokok": 1_200_000.0,
        "omset": 5_000_000.0,
        "transaksi": 40,
        "transaksi_terakhir": D3 - timedelta(days=1),
        "data_diperbarui": datetime(2026, 1, 28, 9, 30, tzinfo=WIB),
    }
    values.update(figures)
    reasons = () if zone == "Hijau" else (f"alasan {zone}",)
    return CoopResult(coop, CoopFigures(**values), Zone(zone, reasons), list(issues or []))


def summary(results: list[CoopResult]) -> Summary:
    def zones(name: str) -> int:
        return sum(1 for r in results if r.zone.name == name)

    return Summary(
        jumlah=len(results),
        aktif=sum(1 for r in results if r.figures.status_operasional == "Aktif"),
        hijau=zones("Hijau"),
        kuning=zones("Kuning"),
        merah=zones("Merah"),
        anggota_aktif=sum(r.figures.anggota_aktif for r in results),
        simpanan_pokok=sum(r.figures.simpanan_pokok for r in results),
        simpanan_wajib=0.0,
        simpanan_sukarela=0.0,
        omset=sum(r.figures.omset for r in results),
        nilai_stok=0.0,
        kelengkapan=1.0,
        galat=sum(r.galat for r in results),
        peringatan=sum(r.peringatan for r in results),
    )


def cycle(as_of: date, *results: CoopResult) -> CycleResult:
    return CycleResult(
        results=list(results),
        registry_issues=[],
        summary=summary(list(results)),
        as_of=as_of,
        output="status-kota.xlsx",
        seconds=0.1,
    )


def missing(row: int, column: str = "Harga Satuan") -> Issue:
    return Issue("required-missing", tab="Penjualan", row=row, column=column)


@pytest.fixture
def store(tmp_path: Path):
    with HistoryStore(tmp_path / "data" / "history.sqlite") as s:
        yield s


def test_round_trip_across_two_days(store: HistoryStore):
    store.record_cycle(cycle(D1, result("A", "Kuning", anggota_aktif=90), result("B", "Merah")))
    store.record_cycle(cycle(D2, result("A", "Hijau"), result("B", "Merah")))

    assert store.days() == [D1, D2]
    assert store.previous_day(D2) == D1
    assert store.previous_day(D3) == D2
    assert store.previous_day(D1) is None
    series = store.coop_series("A")
    assert [(row["as_of"], row["zone"], row["anggota_aktif"]) for row in series] == [
        (D1, "Kuning", 90),
        (D2, "Hijau", 120),
    ]
    first = series[0]
    assert first["reasons"] == "alasan Kuning"
    assert first["transaksi_terakhir"] == D3 - timedelta(days=1)
    assert first["data_diperbarui"] == datetime(2026, 1, 28, 9, 30, tzinfo=WIB)
    assert first["readable"] is True
    assert first["status_operasional"] == "Aktif"
    assert first["simpanan_pokok"] == 1_200_000.0
    assert store.city_series(D2) == [CityPoint(D1, 2, 0, 1, 1), CityPoint(D2, 2, 1, 0, 1)]
    assert store.city_series(D2, days=1) == [CityPoint(D2, 2, 1, 0, 1)]
    assert [row["hijau"] for row in store.city_rows()] == [0, 1]


def test_recording_a_day_again_replaces_it(store: HistoryStore):
    store.record_cycle(cycle(D1, result("A", "Kuning"), result("B")))
    store.record_cycle(cycle(D1, result("A", "Merah")))

    assert [row["zone"] for row in store.coop_series("A")] == ["Merah"]
    assert store.coop_series("B") == []
    assert store.city_series(D1) == [CityPoint(D1, 1, 0, 0, 1)]


def test_problem_lifecycle_first_seen_last_seen_resolved(store: HistoryStore):
    store.record_cycle(cycle(D1, result("A", issues=[missing(5), missing(6)])))
    store.record_cycle(cycle(D2, result("A", issues=[missing(6), missing(7)])))
    store.record_cycle(cycle(D3, result("A")))

    lives = {
        life["row"]: (life["first_seen"], life["last_seen"], life["resolved_on"])
        for life in store.problem_lives("A")
    }
    assert lives == {5: (D1, D1, D2), 6: (D1, D2, D3), 7: (D2, D2, D3)}
    assert store.open_problems() == []
    changed = store.changes(D2, D1)
    assert changed.new_problems == {"A": 1}
    assert changed.resolved_problems == {"A": 1}
    assert store.changes(D3, D2).resolved_problems == {"A": 2}


def test_a_problem_that_comes_back_starts_a_new_life(store: HistoryStore):
    store.record_cycle(cycle(D1, result("A", issues=[missing(5)])))
    store.record_cycle(cycle(D2, result("A")))
    store.record_cycle(cycle(D3, result("A", issues=[missing(5)])))

    lives = [(p["first_seen"], p["resolved_on"]) for p in store.problem_lives("A")]
    assert lives == [(D1, D2), (D3, None)]
    assert store.changes(D3, D2).new_problems == {"A": 1}


def test_recording_the_latest_day_again_replaces_its_problems(store: HistoryStore):
    store.record_cycle(cycle(D1, result("A", issues=[missing(5)])))
    store.record_cycle(cycle(D2, result("A", issues=[missing(5), missing(9)])))
    store.record_cycle(cycle(D2, result("A")))  # the same day, data fixed in between

    lives = [(p["row"], p["first_seen"], p["last_seen"], p["resolved_on"]) for p in
             store.problem_lives("A")]  # fmt: skip
    assert lives == [(5, D1, D1, D2)]

    store.record_cycle(cycle(D2, result("A", issues=[missing(5)])))  # and broken again
    assert [(p["row"], p["resolved_on"]) for p in store.problem_lives("A")] == [(5, None)]


def test_an_unreadable_workbook_keeps_its_problems_open(store: HistoryStore):
    unreadable = Issue("workbook-missing")
    store.record_cycle(cycle(D1, result("A", issues=[missing(5)])))
    store.record_cycle(
        cycle(D2, result("A", "Merah", readable=False, issues=[unreadable], data_diperbarui=None))
    )
    assert {p["code"] for p in store.open_problems("A")} == {"required-missing", "workbook-missing"}

    store.record_cycle(cycle(D3, result("A")))
    assert store.open_problems("A") == []


def test_changes_finds_zone_moves_newly_red_and_gone_quiet(store: HistoryStore):
    fresh = datetime(2026, 1, 20, 8, 0, tzinfo=WIB)  # 7 days before D1, 9 before D3
    store.record_cycle(
        cycle(
            D1,
            result("A", "Hijau"),
            result("B", "Kuning", data_diperbarui=fresh - timedelta(days=4)),  # 11 days at D1
            result("C", "Kuning", transaksi_terakhir=D1 - timedelta(days=29)),
            result("D", "Merah"),
        )
    )
    store.record_cycle(
        cycle(
            D3,
            result("A", "Merah"),
            result("B", "Kuning", data_diperbarui=fresh - timedelta(days=4)),  # 13 days: not yet
            result("C", "Kuning", transaksi_terakhir=D1 - timedelta(days=29)),  # 31 days
            result("D", "Hijau"),
            result("E", "Merah"),  # new in the registry: not a move
        )
    )
    changed = store.changes(D3, store.previous_day(D3))

    assert changed.since == D1
    assert changed.zone_moves == [
        ZoneMove("A", "KKMP A", "Kebon Jeruk", "Hijau", "Merah"),
        ZoneMove("D", "KKMP D", "Kebon Jeruk", "Merah", "Hijau"),
    ]
    assert changed.newly_red == ["A"]
    assert changed.gone_quiet == ["C"]
    # A stricter rule makes B count too: 13 days old now, 11 at D1.
    strict = store.changes(D3, D1, rules=replace(ZoneRules(), yellow_stale_days=12))
    assert strict.gone_quiet == ["B", "C"]


def test_changes_on_the_first_day_compares_nothing(store: HistoryStore):
    store.record_cycle(cycle(D1, result("A", "Merah", issues=[missing(5)])))
    changed = store.changes(D1, store.previous_day(D1))
    assert changed.first and changed.empty
    assert changed.zone_moves == [] and changed.new_problems == {}


def test_opening_twice_migrates_once_and_keeps_the_data(tmp_path: Path):
    path = tmp_path / "history.sqlite"
    with HistoryStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.record_cycle(cycle(D1, result("A")))
    with HistoryStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.days() == [D1]
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with HistoryStore(path) as store:
        assert store.days() == [D1]


def test_a_newer_schema_is_refused(tmp_path: Path):
    path = tmp_path / "history.sqlite"
    with HistoryStore(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(OutputError, match="upgrade kkmp-sheets"):
        HistoryStore(path)


def test_another_sqlite_file_is_refused(tmp_path: Path):
    path = tmp_path / "deliveries.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE delivery (id INTEGER)")
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with pytest.raises(OutputError, match="not a kkmp-sheets history store"):
        HistoryStore(path)


def test_a_broken_file_says_what_to_do(tmp_path: Path):
    path = tmp_path / "history.sqlite"
    path.write_bytes(b"this is not a database, just some bytes" * 100)
    with pytest.raises(OutputError, match="move the file away"):
        HistoryStore(path)


def test_never_stores_a_value_or_anything_personal(tmp_path: Path):
    issues = [
        Issue("nik-length", tab="Anggota", row=4, column="NIK", value=NIK, personal=True),
        Issue("required-missing", tab="Anggota", row=5, column="NIK", value=NAME, personal=True),
        Issue("member-unknown", tab="Simpanan", row=6, column="No Anggota", value="A-0042"),
    ]
    path = tmp_path / "history.sqlite"
    with HistoryStore(path) as store:
        store.record_cycle(cycle(D1, result("A", issues=issues)))
        dump = "\n".join(store.conn.iterdump())
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    for secret in (NIK, NAME, "A-0042", NIK[-4:] + "'"):
        assert secret not in dump
        assert secret.encode() not in stored
