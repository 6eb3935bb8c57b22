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
from collections.abc import Callable, Collection
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
    """The rows of one tab as compact JSON; equal rows give equal bytes.

    The JSON encoder walks the rows in C and calls `_tagged` only for the few cells it cannot
    write itself (dates, times), which gives the same bytes as tagging every cell in Python at
    a fraction of the cost; a NaN or an infinity (rare) makes it tag every cell the slow way."""
    try:
        text = compact_json(rows, _tagged)
    except ValueError:
        cells = [[_encode(value) for value in row] for row in rows]
        text = json.dumps(cells, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def compact_json(value: Any, default: Callable[[Any], Any]) -> str:
    """`value` (rows of cells: no cycles) as compact JSON, walked in C; `default` is asked only
    for what JSON cannot hold itself. ValueError for a NaN or an infinity."""
    return json.dumps(
        value,
        ensure_ascii=False,
        separators=(",", ":"),
        default=default,
        allow_nan=False,
        check_circular=False,  # a fifth faster; rows read from a file or made here hold no cycles
    )


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


def _tagged(value: Any) -> Any:
    """`_encode` for what the JSON encoder cannot write itself (never a str, number or None)."""
    return _encode(value)


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


@dataclass(frozen=True)
class PreparedTab:
    title: str
    blob: str  # SHA-256 of `data` before compression
    rows: int
    size: int  # bytes of the JSON before compression
    data: bytes | None  # zlib-compressed JSON; None: an already stored blob (not sent again)


@dataclass(frozen=True)
class Prepared:
    """A workbook's tabs made ready to store: encoded, hashed and compressed wherever it was read
    (a reader worker), so that saving it is a few inserts."""

    hash: str  # the content hash
    tabs: tuple[PreparedTab, ...]


def prepare(tabs: dict[str, Rows], known: Collection[str] = ()) -> Prepared:
    """Encode, hash and compress each tab; a tab whose blob hash is in `known` (the blobs of
    the cooperative's latest snapshot, already stored) is hashed but not compressed."""
    out = []
    for title, rows in tabs.items():
        data = encode_rows(rows)
        digest = _sha(data)
        packed = None if digest in known else zlib.compress(data, _LEVEL)
        out.append(PreparedTab(title, digest, len(rows), len(data), packed))
    listing = [[tab.title, tab.blob] for tab in out]
    content = _sha(json.dumps(listing, ensure_ascii=False).encode("utf-8"))
    return Prepared(content, tuple(out))


# zlib level for the blobs: on the demo workbooks level 1 takes half the CPU of zlib's default 6
# for about a sixth more bytes, in a store that keeps each distinct tab once.
_LEVEL = 1


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
    prepared = prepare(raw.tabs, latest_blobs(conn, coop_id))
    return save_prepared(
        conn, coop_id, prepared, taken_at=taken_at, version=version, modified=raw.modified
    )


def save_prepared(
    conn: sqlite3.Connection,
    coop_id: str,
    prepared: Prepared,
    *,
    taken_at: datetime,
    version: str | None = None,
    modified: datetime | None = None,
) -> str:
    """`save` for tabs already `prepare`d (with `known` no larger than `latest_blobs`)."""
    stamp = _stamp(taken_at)
    content = prepared.hash
    modified_text = modified.isoformat() if modified is not None else None
    with transaction(conn):
        latest = conn.execute(
            "SELECT id, hash FROM snapshot WHERE coop_id = ? ORDER BY id DESC LIMIT 1", (coop_id,)
        ).fetchone()
        if latest is not None and latest[1] == content:
            conn.execute(
                "UPDATE snapshot SET seen_at = MAX(seen_at, ?), version = COALESCE(?, version),"
                " modified = ? WHERE id = ?",
                (stamp, version, modified_text, latest[0]),
            )
            return content
        known = conn.execute("SELECT 1 FROM content WHERE hash = ? LIMIT 1", (content,))
        if known.fetchone() is None:
            for position, tab in enumerate(prepared.tabs):
                stored = conn.execute("SELECT 1 FROM blob WHERE hash = ?", (tab.blob,)).fetchone()
                if stored is None:
                    if tab.data is None:  # prepared against blobs that are no longer stored
                        raise ValueError(f"tab {position} of {coop_id}: its blob is not stored")
                    conn.execute(
                        "INSERT INTO blob (hash, data, size) VALUES (?, ?, ?)",
                        (tab.blob, tab.data, tab.size),
                    )
                conn.execute(
                    "INSERT INTO content (hash, position, tab, blob, rows) VALUES (?, ?, ?, ?, ?)",
                    (content, position, tab.title, tab.blob, tab.rows),
                )
        conn.execute(
            "INSERT INTO snapshot (coop_id, taken_at, seen_at, hash, version, modified)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (coop_id, stamp, stamp, content, version, modified_text),
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


def latest_blobs(conn: sqlite3.Connection, coop_id: str) -> set[str]:
    """The blob hashes of the cooperative's latest snapshot (stored, so never sent again)."""
    row = conn.execute(
        "SELECT hash FROM snapshot WHERE coop_id = ? ORDER BY id DESC LIMIT 1", (coop_id,)
    ).fetchone()
    if row is None:
        return set()
    return {b for (b,) in conn.execute("SELECT blob FROM content WHERE hash = ?", (row[0],))}


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
        # The unreferenced are found in the tables' own indexes of hashes, and only they are
        # looked up to be deleted: a plain `DELETE … WHERE hash NOT IN` walks the tables
        # themselves, every compressed tab of the store, on every cycle.
        conn.execute(
            "DELETE FROM content WHERE hash IN (SELECT hash FROM content"
            " WHERE hash NOT IN (SELECT hash FROM snapshot)"
            " AND hash NOT IN (SELECT hash FROM keep_hash))"
        )
        blobs = conn.execute(
            "DELETE FROM blob WHERE hash IN (SELECT hash FROM blob"
            " WHERE hash NOT IN (SELECT blob FROM content))"
        ).rowcount
        conn.execute("DELETE FROM keep_hash")
    return Pruned(gone, blobs)


# --- reading -----------------------------------------------------------------------------------

_COLUMNS = "coop_id, taken_at, seen_at, hash, version, modified"


def latest_version(conn: sqlite3.Connection, coop_id: str) -> tuple[bool, str | None]:
    """Whether the cooperative has a snapshot, and its version: what a source's change
    detection needs, without decompressing a cell."""
    row = conn.execute(
        "SELECT version FROM snapshot WHERE coop_id = ? ORDER BY taken_at DESC, id DESC LIMIT 1",
        (coop_id,),
    ).fetchone()
    return (False, None) if row is None else (True, row[0])


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
