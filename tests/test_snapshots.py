"""Workbook snapshots in the history store: round trip, deduplication, dates, retention."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kkmp_sheets.cli import main
from kkmp_sheets.core.parse import RawWorkbook
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.store import snapshots
from kkmp_sheets.store.history import HistoryStore
from kkmp_sheets.store.history_schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from tests.conftest import make_book, member

WIB = ZoneInfo("Asia/Jakarta")
T1 = datetime(2026, 1, 27, 8, 0, tzinfo=WIB)
T2 = datetime(2026, 1, 28, 8, 0, tzinfo=WIB)
T3 = datetime(2026, 1, 29, 8, 0, tzinfo=WIB)


@pytest.fixture
def store(tmp_path: Path):
    with HistoryStore(tmp_path / "history.sqlite") as s:
        yield s


def count(store: HistoryStore, table: str) -> int:
    return int(store.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def book(members: int = 3, **extra) -> RawWorkbook:
    return make_book(anggota=[member(f"A-{i:03d}", i) for i in range(1, members + 1)], **extra)


def test_every_cell_comes_back_as_it_was_read(store):
    rows = [
        ["Teks", "Tanggal", "Waktu", "Jam", "Durasi", "Angka", "Bulat", "Ya", "Kosong"],
        [
            '=HYPERLINK("http://contoh.id","Promo")',
            date(2025, 8, 17),
            datetime(2025, 8, 17, 8, 30, 5),
            time(8, 30),
            timedelta(hours=1, minutes=30),
            1_250_000.5,
            3173054108900007,
            True,
            None,
        ],
        ["Sembako 🛒 ünïcode", "", 2.0, 0, -1.5, float("inf"), False, "17/08/2025", "  "],
    ]
    modified = datetime(2026, 1, 26, 14, 5, tzinfo=WIB)
    raw = RawWorkbook(tabs={"Catatan": rows, "Profil": [["Data", "Isi"]]}, modified=modified)
    digest = store.save_snapshot("K1", raw, taken_at=T1)
    snap = store.latest_snapshot("K1")
    assert snap is not None and snap.hash == digest
    assert list(snap.raw.tabs) == ["Catatan", "Profil"]
    back = snap.raw.tabs["Catatan"]
    assert back == rows
    assert [[type(v) for v in row] for row in back] == [[type(v) for v in row] for row in rows]
    assert snap.raw.modified == modified
    assert snap.taken_at == T1


def test_an_unchanged_workbook_is_stored_once(store):
    first = store.save_snapshot("K1", book(), taken_at=T1)
    blobs = count(store, "blob")
    assert blobs == 5  # one per tab
    assert store.save_snapshot("K1", book(), taken_at=T2) == first
    assert (count(store, "snapshot"), count(store, "blob")) == (1, blobs)
    (info,) = store.list_snapshots("K1")
    assert (info.taken_at, info.seen_at) == (T1, T2)


def test_a_changed_tab_is_the_only_new_content(store):
    store.save_snapshot("K1", book(3), taken_at=T1)
    store.save_snapshot("K1", book(4), taken_at=T2)  # one member more: only Anggota changed
    assert (count(store, "snapshot"), count(store, "blob")) == (2, 6)
    store.save_snapshot("K2", book(3), taken_at=T2)  # another cooperative, the same tabs
    assert (count(store, "snapshot"), count(store, "blob")) == (3, 6)
    infos = store.list_snapshots("K1")
    assert [dict(i.tabs)["Anggota"] for i in infos] == [4, 5]  # header + members


def test_back_to_an_earlier_content_is_a_new_snapshot_but_no_new_blob(store):
    a = store.save_snapshot("K1", book(3), taken_at=T1)
    store.save_snapshot("K1", book(4), taken_at=T2)
    assert store.save_snapshot("K1", book(3), taken_at=T3) == a
    assert (count(store, "snapshot"), count(store, "blob")) == (3, 6)
    assert len(store.snapshot_on("K1", T3.date()).raw.tabs["Anggota"]) == 4


def test_snapshot_on_a_day_or_a_moment(store):
    store.save_snapshot("K1", book(3), taken_at=T1)
    store.save_snapshot("K1", book(4), taken_at=T2)
    assert store.snapshot_on("K1", T1.date() - timedelta(days=1)) is None
    assert store.snapshot_on("K1", T1.date()).taken_at == T1
    assert store.snapshot_on("K1", T2.date()).taken_at == T2
    assert store.snapshot_on("K1", date(2026, 12, 31)).taken_at == T2
    assert store.snapshot_on("K1", T2 - timedelta(minutes=1)).taken_at == T1
    assert store.snapshot_on("K1", T2).taken_at == T2
    assert store.snapshot_on("K2", T2.date()) is None
    # A day ends at midnight WIB, whatever zone the moment was given in.
    late = datetime(2026, 1, 29, 23, 30, tzinfo=WIB)
    store.save_snapshot("K3", book(), taken_at=late.astimezone(ZoneInfo("UTC")))
    assert store.snapshot_on("K3", date(2026, 1, 29)) is not None
    assert store.snapshot_on("K3", date(2026, 1, 28)) is None


def test_the_version_follows_the_latest_read(store):
    store.save_snapshot("K1", book(), taken_at=T1, version="101")
    store.save_snapshot("K1", book(), taken_at=T2, version="102")
    assert store.latest_snapshot("K1").version == "102"
    store.save_snapshot("K1", book(), taken_at=T3)  # a source without versions keeps the last
    assert store.latest_snapshot("K1").version == "102"


def test_times_without_a_zone_are_refused(store):
    with pytest.raises(ValueError, match="time zone"):
        store.save_snapshot("K1", book(), taken_at=datetime(2026, 1, 27, 8, 0))


def test_prune_keeps_the_period_and_the_state_at_its_start(store):
    days = [0, 10, 50, 100]
    start = datetime(2026, 1, 1, 8, 0, tzinfo=WIB)
    hashes = [
        store.save_snapshot("K1", book(n + 1), taken_at=start + timedelta(days=d))
        for n, d in enumerate(days)
    ]
    store.save_snapshot("K2", book(9), taken_at=start)  # unchanged for 100 days
    protected = hashes[0]
    store.conn.execute(
        "INSERT INTO guard VALUES ('K1', '2026-01-01', ?, ?, 1, 0, '2026-01-01', ?, ?, 1, 0,"
        " '2026-02-01', NULL)",
        (start.isoformat(), protected, start.isoformat(), protected),
    )
    pruned = store.prune(30, now=start + timedelta(days=100))
    kept = [i.taken_at for i in store.list_snapshots("K1")]
    assert kept == [start + timedelta(days=50), start + timedelta(days=100)]
    assert [i.taken_at for i in store.list_snapshots("K2")] == [start]
    assert pruned.snapshots == 2
    assert pruned.blobs == 1  # day 10's Anggota; day 0's is the accepted reading's
    assert snapshots.content(store.conn, protected) is not None
    assert snapshots.content(store.conn, hashes[1]) is None
    store.conn.execute("DELETE FROM guard")
    assert store.prune(30, now=start + timedelta(days=100)).blobs == 1
    assert snapshots.content(store.conn, protected) is None
    # Every tab a kept snapshot needs is still there.
    for coop in ("K1", "K2"):
        for info in store.list_snapshots(coop):
            assert snapshots.content(store.conn, info.hash) is not None


def test_a_store_of_schema_1_is_migrated_and_keeps_its_days(tmp_path):
    path = tmp_path / "history.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    for sql in MIGRATIONS[0][1]:
        conn.execute(sql)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO city_day VALUES ('2026-01-20', 1, 1, 1, 0, 0, 120, 0, 0, 0, 0, 0, 1.0, 0, 0,"
        " '2026-01-20T01:00:00+00:00')"
    )
    conn.close()
    with HistoryStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 2
        assert store.days() == [date(2026, 1, 20)]
        store.save_snapshot("K1", book(), taken_at=T1)
        assert store.latest_snapshot("K1") is not None


def test_two_cycles_of_unchanged_workbooks_add_no_blob(tmp_path):
    city = build_demo_city(tmp_path / "kota", size=3)
    run = ["run", "--once", "--config", str(city.config_path), "--as-of", "2026-01-29"]
    assert main([*run, "--no-mail"]) == 0
    path = tmp_path / "kota" / "out" / "data" / "history.sqlite"
    with HistoryStore(path) as store:
        before = (count(store, "snapshot"), count(store, "blob"))
        size = store.conn.execute("SELECT SUM(LENGTH(data)) FROM blob").fetchone()[0]
    assert before[0] == 3 and before[1] >= 3 * 5
    assert main([*run, "--no-mail"]) == 0  # Hasil Pemeriksaan is ours: not part of a snapshot
    with HistoryStore(path) as store:
        assert (count(store, "snapshot"), count(store, "blob")) == before
        assert store.conn.execute("SELECT SUM(LENGTH(data)) FROM blob").fetchone()[0] == size
