"""Snapshots of the cooperative workbooks, kept in the history store: compressed, deduplicated.

Every workbook a cycle reads is kept as it was read (tab → rows of cell values, as the source
handed them over), so that a tab wiped by mistake can be given back (`kkmp-sheets restore`).
Three tables of the history store (schema version 2, see `history_schema.py`) hold them:

- `blob`: one row per distinct *tab* content, keyed by its SHA-256: the rows as compact JSON
  (dates, times and durations tagged, so they come back as what they were), zlib-compressed.
  A tab that did not change is stored once, whatever workbook, day or cooperative it belongs
  to — a day of new sales adds the Penjualan tab again, not the member list.
- `content`: the tabs of one workbook content, in order (title, blob, row count). The content
  hash is the hash of that list, so an unchanged workbook always has the same hash.
- `snapshot`: one row per cooperative per *change*: `taken_at` is when this content was first
  read, `seen_at` when it was last read; `version` is the source's revision when it has one
  (Drive's `version`), so a later reader can tell an unchanged spreadsheet without reading it.

Times are stored as ISO 8601 in WIB, so that text order is time order and a day is a prefix.

Snapshots hold personal data (names, NIK, a member's savings). They leave the store only
through `restore`, back into the cooperative's own workbook or a file made for it; the listing
functions here return tab titles and row counts, never a cell.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from kkmp_sheets.core.parse import RawWorkbook, Rows
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.store.sqlite import transaction


@dataclass(frozen=True)
class Snapshot:
    """One workbook as it was read."""

    coop_id: str
    raw: RawWorkbook
    taken_at: datetime
    seen_at: datetime
    hash: str
    version: str | None = None


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot without its cells: for listings that may be shown to anyone."""

    taken_at: datetime
    seen_at: datetime
    hash: str
    version: str | None
    tabs: tuple[tuple[str, int], ...]  # (title, rows)


@dataclass(frozen=True)
class Pruned:
    snapshots: int
    blobs: int

    def __str__(self) -> str:
        return f"{self.snapshots} snapshots and {self.blobs} tab contents removed"


# --- encoding ----------------------------------------------------------------------------------


def encode_rows(rows: Rows) -> bytes:
    """The rows of one tab as compact JSON; equal rows give equal bytes."""
    cells = [[_encode(value) for value in row] for row in rows]
    return json.dumps(cells, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_rows(data: bytes) -> Rows:
    return [list(row) for row in json.loads(data.decode("utf-8"), object_hook=_decode)]


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$f": repr(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, time):
        return {"$t": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$td": value.total_seconds()}
    return str(value)


def _decode(tagged: dict[str, Any]) -> Any:
    # Cells are never JSON objects, so every object is one of our tags.
    if "$dt" in tagged:
        return datetime.fromisoformat(tagged["$dt"])
    if "$d" in tagged:
        return date.fromisoformat(tagged["$d"])
    if "$t" in tagged:
        return time.fromisoformat(tagged["$t"])
    if "$td" in tagged:
        return timedelta(seconds=tagged["$td"])
    if "$f" in tagged:
        return float(tagged["$f"])
    return tagged


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("snapshot times must carry a time zone (e.g. datetime.now(WIB))")
    return moment.astimezone(WIB).isoformat(timespec="seconds")


def _day_after(day: date) -> str:
    """Text bound: every stamp of `day` (WIB) sorts before the next day's date."""
    return (day + timedelta(days=1)).isoformat()


# --- writing -----------------------------------------------------------------------------------


def save(
    conn: sqlite3.Connection,
    coop_id: str,
    raw: RawWorkbook,
    *,
    taken_at: datetime,
    version: str | None = None,
) -> str:
    """Keep `raw` as the cooperative's snapshot at `taken_at`; return its content hash.

    Unchanged since the cooperative's latest snapshot: no new row, only `seen_at` (and the
    version) move. A tab already stored, for anyone, is not stored again.
    """
    stamp = _stamp(taken_at)
    tabs = [(title, encode_rows(rows), len(rows)) for title, rows in raw.tabs.items()]
    listing = [[title, _sha(data)] for title, data, _ in tabs]
    content = _sha(json.dumps(listing, ensure_ascii=False).encode("utf-8"))
    modified = raw.modified.isoformat() if raw.modified is not None else None
    with transaction(conn):
        latest = conn.execute(
            "SELECT id, hash FROM snapshot WHERE coop_id = ? ORDER BY id DESC LIMIT 1", (coop_id,)
        ).fetchone()
        if latest is not None and latest[1] == content:
            conn.execute(
                "UPDATE snapshot SET seen_at = MAX(seen_at, ?), version = COALESCE(?, version),"
                " modified = ? WHERE id = ?",
                (stamp, version, modified, latest[0]),
            )
            return content
        known = conn.execute("SELECT 1 FROM content WHERE hash = ? LIMIT 1", (content,))
        if known.fetchone() is None:
            for position, ((title, data, count), (_, digest)) in enumerate(
                zip(tabs, listing, strict=True)
            ):
                stored = conn.execute("SELECT 1 FROM blob WHERE hash = ?", (digest,)).fetchone()
                if stored is None:
                    conn.execute(
                        "INSERT INTO blob (hash, data, size) VALUES (?, ?, ?)",
                        (digest, zlib.compress(data, 6), len(data)),
                    )
                conn.execute(
                    "INSERT INTO content (hash, position, tab, blob, rows) VALUES (?, ?, ?, ?, ?)",
                    (content, position, title, digest, count),
                )
        conn.execute(
            "INSERT INTO snapshot (coop_id, taken_at, seen_at, hash, version, modified)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (coop_id, stamp, stamp, content, version, modified),
        )
    return content


def seen_again(conn: sqlite3.Connection, rows: list[tuple[str, str, datetime]]) -> None:
    """(coop id, content hash, when): the workbook was found still as its latest snapshot
    without being read (its result reused); `seen_at` moves as a read would move it."""
    with transaction(conn):
        conn.executemany(
            "UPDATE snapshot SET seen_at = MAX(seen_at, ?) WHERE id = (SELECT id FROM snapshot"
            " WHERE coop_id = ? ORDER BY id DESC LIMIT 1) AND hash = ?",
            [(_stamp(at), coop_id, digest) for coop_id, digest, at in rows],
        )


def prune(
    conn: sqlite3.Connection, keep_days: int, now: datetime, *, keep: Collection[str] = ()
) -> Pruned:
    """Forget snapshots taken more than `keep_days` before `now`.

    Per cooperative the newest snapshot older than that stays (it is what the workbook held
    at the start of the kept period), and so does every content whose hash is in `keep` (the
    last accepted readings of `protection`). Tab contents nobody refers to any more go.
    """
    cutoff = _stamp(now - timedelta(days=keep_days))
    with transaction(conn):
        gone = conn.execute(
            """
            DELETE FROM snapshot WHERE taken_at < :cutoff AND id NOT IN (
                SELECT id FROM (
                    SELECT id, ROW_NUMBER() OVER (
                        PARTITION BY coop_id ORDER BY taken_at DESC, id DESC) AS n
                    FROM snapshot WHERE taken_at < :cutoff)
                WHERE n = 1)
            """,
            {"cutoff": cutoff},
        ).rowcount
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS keep_hash (hash TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM keep_hash")
        conn.executemany("INSERT OR IGNORE INTO keep_hash VALUES (?)", [(h,) for h in keep])
        conn.execute(
            "DELETE FROM content WHERE hash NOT IN (SELECT hash FROM snapshot)"
            " AND hash NOT IN (SELECT hash FROM keep_hash)"
        )
        blobs = conn.execute(
            "DELETE FROM blob WHERE hash NOT IN (SELECT blob FROM content)"
        ).rowcount
        conn.execute("DELETE FROM keep_hash")
    return Pruned(gone, blobs)


# --- reading -----------------------------------------------------------------------------------

_COLUMNS = "coop_id, taken_at, seen_at, hash, version, modified"


def latest(conn: sqlite3.Connection, coop_id: str) -> Snapshot | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM snapshot WHERE coop_id = ? ORDER BY taken_at DESC, id DESC"
        " LIMIT 1",
        (coop_id,),
    ).fetchone()
    return _snapshot(conn, row) if row is not None else None


def on(conn: sqlite3.Connection, coop_id: str, when: date | datetime) -> Snapshot | None:
    """The workbook as it stood at the end of day `when` (WIB), or at the moment `when`: the
    latest snapshot taken by then."""
    if isinstance(when, datetime):
        condition, bound = "taken_at <= ?", _stamp(when)
    else:
        condition, bound = "taken_at < ?", _day_after(when)
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM snapshot WHERE coop_id = ? AND {condition}"
        " ORDER BY taken_at DESC, id DESC LIMIT 1",
        (coop_id, bound),
    ).fetchone()
    return _snapshot(conn, row) if row is not None else None


def content(conn: sqlite3.Connection, digest: str) -> RawWorkbook | None:
    """The tabs of a content hash (None when it is not kept), without a modification time."""
    rows = conn.execute(
        "SELECT c.tab, b.data FROM content c JOIN blob b ON b.hash = c.blob"
        " WHERE c.hash = ? ORDER BY c.position",
        (digest,),
    ).fetchall()
    if not rows:
        return None
    return RawWorkbook(tabs={tab: decode_rows(zlib.decompress(data)) for tab, data in rows})


def content_tab(conn: sqlite3.Connection, digest: str, tab: str) -> Rows | None:
    """One tab of a content hash (None when it is not kept or has no such tab)."""
    row = conn.execute(
        "SELECT b.data FROM content c JOIN blob b ON b.hash = c.blob"
        " WHERE c.hash = ? AND c.tab = ? ORDER BY c.position LIMIT 1",
        (digest, tab),
    ).fetchone()
    return decode_rows(zlib.decompress(row[0])) if row is not None else None


def listing(conn: sqlite3.Connection, coop_id: str) -> list[SnapshotInfo]:
    """Every kept snapshot of a cooperative, oldest first: titles and row counts only."""
    snaps = conn.execute(
        "SELECT taken_at, seen_at, hash, version FROM snapshot WHERE coop_id = ?"
        " ORDER BY taken_at, id",
        (coop_id,),
    ).fetchall()
    out = []
    for taken_at, seen_at, digest, version in snaps:
        tabs = conn.execute(
            "SELECT tab, rows FROM content WHERE hash = ? ORDER BY position", (digest,)
        ).fetchall()
        out.append(
            SnapshotInfo(
                datetime.fromisoformat(taken_at),
                datetime.fromisoformat(seen_at),
                digest,
                version,
                tuple((tab, int(n)) for tab, n in tabs),
            )
        )
    return out


def stats(conn: sqlite3.Connection) -> dict[str, int]:
    """Counts and sizes, for the operator: snapshots, tab contents, stored and raw bytes."""
    snaps = conn.execute("SELECT COUNT(*) FROM snapshot").fetchone()[0]
    blobs, stored, raw = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0), COALESCE(SUM(size), 0) FROM blob"
    ).fetchone()
    return {"snapshots": snaps, "blobs": blobs, "stored_bytes": stored, "raw_bytes": raw}


def _snapshot(conn: sqlite3.Connection, row: tuple[Any, ...]) -> Snapshot:
    coop_id, taken_at, seen_at, digest, version, modified = row
    raw = content(conn, digest) or RawWorkbook(tabs={})
    raw.modified = datetime.fromisoformat(modified) if modified else None
    return Snapshot(
        coop_id,
        raw,
        datetime.fromisoformat(taken_at),
        datetime.fromisoformat(seen_at),
        digest,
        version,
    )
