"""The one way the service opens its SQLite files (history store and delivery ledger)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kkmp_sheets.delivery.ledger import DeliveryLedger
from kkmp_sheets.errors import OutputError
from kkmp_sheets.store.history import HistoryStore
from kkmp_sheets.store.sqlite import Database, open_database, schema_version, transaction


def test_the_history_store_and_the_ledger_refuse_each_others_file(tmp_path: Path) -> None:
    HistoryStore(tmp_path / "history.sqlite").close()
    DeliveryLedger(tmp_path / "deliveries.sqlite").close()
    with pytest.raises(OutputError, match="not a kkmp-sheets delivery ledger"):
        DeliveryLedger(tmp_path / "history.sqlite")
    with pytest.raises(OutputError, match="not a kkmp-sheets history store"):
        HistoryStore(tmp_path / "deliveries.sqlite")


def test_only_the_ledger_flushes_every_commit_to_disk(tmp_path: Path) -> None:
    """The ledger's 'sending' must survive a power cut (synchronous FULL = 2); the history store
    flushes at checkpoints (NORMAL = 1), both in WAL."""
    store = HistoryStore(tmp_path / "history.sqlite")
    ledger = DeliveryLedger(tmp_path / "deliveries.sqlite")
    try:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 1
        assert ledger._db.execute("PRAGMA synchronous").fetchone()[0] == 2
    finally:
        store.close()
        ledger.close()


def test_migrations_run_once_each_and_a_later_step_is_added_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    first = Database("test file", "x.sqlite", 0x4B4B4D58, ((1, ("CREATE TABLE a (x)",)),), "")
    open_database(path, first).close()
    second = Database(
        "test file",
        "x.sqlite",
        0x4B4B4D58,
        ((1, ("CREATE TABLE a (x)",)), (2, ("CREATE TABLE b (y)",))),
        "",
    )
    conn = open_database(path, second)  # step 1 is not run again (it would fail: a exists)
    assert schema_version(conn) == 2
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    with pytest.raises(OutputError, match="newer than this kkmp-sheets understands"):
        open_database(path, first)


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    db = Database("test file", "x.sqlite", 0x4B4B4D58, ((1, ("CREATE TABLE a (x)",)),), "")
    conn = open_database(tmp_path / "x.sqlite", db)
    with pytest.raises(sqlite3.IntegrityError), transaction(conn):
        conn.execute("INSERT INTO a VALUES (1)")
        raise sqlite3.IntegrityError("stop")
    assert conn.execute("SELECT COUNT(*) FROM a").fetchone()[0] == 0
    conn.close()
