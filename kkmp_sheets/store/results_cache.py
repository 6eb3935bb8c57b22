"""The result cache in the history store: each cooperative's last result, by workbook version.

A cycle checks every cooperative again although most workbooks did not change since the last
one. `service/reuse.py` decides when a cooperative's last result still holds; this module keeps
it (schema 3, see `history_schema.py`):

- `result_cache`: per cooperative, the digest of the check's inputs, the workbook version and
  snapshot content it was computed from, and its payload: its own problems (as Hasil
  Pemeriksaan shows them, values included), its figures, the tab holding its members, and the
  fingerprints of its members' NIKs with their rows.
- `feedback_written`: per cooperative, a hash of the Hasil Pemeriksaan rows last written and
  the workbook's version right after the write.
- `cache_key`: the key of the NIK fingerprints. A fingerprint is a keyed hash, so the table of
  fingerprints alone cannot be turned back into NIKs by trying every possible number.

Like the snapshots next to it, the payload holds a cooperative's own data (a problem's value
may be a NIK or a name); it never leaves the store. Members' NIKs are not stored here: only
their fingerprints. Everything here can be thrown away: without it the cycle reads again.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from kkmp_sheets.core.issue import Issue, Severity
from kkmp_sheets.core.metrics import CoopFigures
from kkmp_sheets.store.snapshots import compact_json
from kkmp_sheets.store.sqlite import transaction

# Bump when the payload's shape or meaning changes: older entries are then not reused.
CACHE_FORMAT = 4  # 2: problems carry their acknowledgement key and tick; the ticks kept;
# 3: CoopFigures gained lintang/bujur (the map); 4: fingerprints as one string and one list of
# rows (a province's unchanged cycle decoded a million [fingerprint, row] pairs); older entries
# are re-read


class Uncacheable(ValueError):
    """A value the payload encoding does not know: that result is simply not cached."""


@dataclass
class Entry:
    """One cooperative's cached result."""

    figures: CoopFigures
    issues: list[Issue]
    fingerprints: list[tuple[str, int]]  # (NIK fingerprint, first sheet row), in table order
    anggota_tab: str
    ticks: list[str] = field(default_factory=list)  # keys ticked in Hasil Pemeriksaan


@dataclass(frozen=True)
class Stored:
    inputs: str
    version: str
    content: str
    entry: Entry


Row = tuple[str, str, str, str, bytes]  # coop id, inputs, version, content, payload


# --- the fingerprint key -------------------------------------------------------------------------


def fingerprint_key(conn: sqlite3.Connection) -> bytes:
    """The store's key for NIK fingerprints, made at first use."""
    row = conn.execute("SELECT secret FROM cache_key WHERE id = 1").fetchone()
    if row is not None:
        return bytes(row[0])
    with transaction(conn):
        conn.execute(
            "INSERT OR IGNORE INTO cache_key (id, secret) VALUES (1, ?)", (secrets.token_bytes(32),)
        )
    return bytes(conn.execute("SELECT secret FROM cache_key WHERE id = 1").fetchone()[0])


def fingerprint(key: bytes, nik: str) -> str:
    return hashlib.blake2b(nik.encode("ascii", "replace"), key=key, digest_size=16).hexdigest()


# --- results -------------------------------------------------------------------------------------


def load(conn: sqlite3.Connection, coop_id: str) -> Stored | None:
    row = conn.execute(
        "SELECT inputs, version, content, payload FROM result_cache WHERE coop_id = ?", (coop_id,)
    ).fetchone()
    if row is None:
        return None
    inputs, version, content, payload = row
    try:
        entry = decode_entry(zlib.decompress(payload))
    except (ValueError, KeyError, TypeError, zlib.error):  # a payload of another shape: unused
        return None
    return Stored(inputs, version, content, entry)


def encoded(coop_id: str, inputs: str, version: str, content: str, entry: Entry) -> Row:
    """The row that keeps `entry`; `Uncacheable` when a value cannot be kept faithfully."""
    return (coop_id, inputs, version, content, zlib.compress(encode_entry(entry), 1))


def save(conn: sqlite3.Connection, rows: Sequence[Row], forget: Iterable[str] = ()) -> None:
    """Keep `rows` and drop the entries of `forget`, in one transaction."""
    gone = [(coop_id,) for coop_id in forget]
    if not rows and not gone:
        return
    with transaction(conn):
        conn.executemany("DELETE FROM result_cache WHERE coop_id = ?", gone)
        conn.executemany(
            "INSERT OR REPLACE INTO result_cache (coop_id, inputs, version, content, payload)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )


# --- Hasil Pemeriksaan written -------------------------------------------------------------------


def feedback_hash(rows: list[list[Any]]) -> str:
    """A hash of Hasil Pemeriksaan rows; `Uncacheable` for a cell the encoding does not know.

    The JSON encoder walks the rows in C and asks `_encode` only for what it cannot write itself
    (dates, times, an unknown type); a NaN or an infinity (rare) makes it tag every cell."""
    try:
        text = compact_json(rows, _encode).encode()
    except Uncacheable:
        raise
    except ValueError:
        text = _dumps([[_encode(v) for v in row] for row in rows])
    return hashlib.sha256(text).hexdigest()


def last_feedback(conn: sqlite3.Connection, coop_id: str) -> tuple[str, str] | None:
    """(rows hash, workbook version after that write) of the last Hasil Pemeriksaan."""
    row = conn.execute(
        "SELECT rows_hash, version FROM feedback_written WHERE coop_id = ?", (coop_id,)
    ).fetchone()
    return (row[0], row[1]) if row is not None else None


def save_feedback(
    conn: sqlite3.Connection,
    written: Sequence[tuple[str, str, str]],
    moved: Sequence[tuple[str, str, str]],
) -> None:
    """`written`: (coop id, rows hash, version after); `moved`: (coop id, version before,
    version after) of workbooks the service wrote into: a cached result computed from the
    version before still holds for the version after, since only Hasil Pemeriksaan changed."""
    if not written and not moved:
        return
    with transaction(conn):
        conn.executemany(
            "INSERT OR REPLACE INTO feedback_written (coop_id, rows_hash, version)"
            " VALUES (?, ?, ?)",
            written,
        )
        conn.executemany(
            "UPDATE result_cache SET version = ? WHERE coop_id = ? AND version = ?",
            [(after, coop_id, before) for coop_id, before, after in moved],
        )


# --- encoding ------------------------------------------------------------------------------------
# JSON with tagged dates and times, like the snapshots; unlike them, a value of any other type
# is refused (`Uncacheable`) rather than turned into text, so a reused result is the very same.


def encode_entry(entry: Entry) -> bytes:
    figures = {f.name: getattr(entry.figures, f.name) for f in fields(CoopFigures)}
    figures["pasokan"] = [[list(k), list(v)] for k, v in entry.figures.pasokan.items()]
    return _dumps(
        {
            "format": CACHE_FORMAT,
            "figures": {name: _encode(value) for name, value in figures.items()},
            "issues": [_issue(issue) for issue in entry.issues],
            # One string and one list: decoded in two steps, not a pair per member.
            "fps": _joined([fp for fp, _ in entry.fingerprints]),
            "fp_rows": [row for _, row in entry.fingerprints],
            "anggota_tab": entry.anggota_tab,
            "ticks": list(entry.ticks),
        }
    )


def decode_entry(data: bytes) -> Entry:
    raw = json.loads(data.decode("utf-8"), object_hook=_decode)
    if raw["format"] != CACHE_FORMAT:
        raise ValueError("another cache format")
    figures = dict(raw["figures"])
    figures["pasokan"] = {tuple(k): list(v) for k, v in figures["pasokan"]}
    return Entry(
        figures=CoopFigures(**figures),
        issues=[
            Issue(
                **{
                    **i,
                    "severity_override": Severity(i["severity_override"])
                    if i["severity_override"]
                    else None,
                }
            )
            for i in raw["issues"]
        ],
        fingerprints=_fingerprints(raw["fps"], raw["fp_rows"]),
        anggota_tab=raw["anggota_tab"],
        ticks=[str(key) for key in raw["ticks"]],
    )


def _joined(fps: list[str]) -> str:
    if any("\n" in fp for fp in fps):  # never for a hex digest
        raise Uncacheable("a fingerprint holds a line break")
    return "\n".join(fps)


def _fingerprints(joined: str, rows: list[int]) -> list[tuple[str, int]]:
    fps = joined.split("\n") if joined else []
    if len(fps) != len(rows) or not all(type(row) is int for row in rows):
        raise ValueError("fingerprints and rows do not pair up")
    return list(zip(fps, rows, strict=True))


def _issue(issue: Issue) -> dict[str, Any]:
    out = {name: _encode(getattr(issue, name)) for name in _ISSUE_FIELDS}
    out[_SEVERITY] = issue.severity_override.value if issue.severity_override else None
    return out


_SEVERITY = "severity_override"  # an enum: kept as its value
# In field order, looked up once (`fields()` builds its answer on every call, per problem).
_ISSUE_FIELDS = tuple(f.name for f in fields(Issue) if f.name != _SEVERITY)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _encode(value: Any) -> Any:
    if value is None or type(value) in (str, bool, int):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"$f": repr(value)}
    if type(value) is datetime:
        return {"$dt": value.replace(tzinfo=None).isoformat(), "$tz": _zone(value.tzinfo)}
    if type(value) is date:
        return {"$d": value.isoformat()}
    if type(value) is time and value.tzinfo is None:
        return {"$t": value.isoformat()}
    if type(value) is timedelta:
        return {"$td": [value.days, value.seconds, value.microseconds]}
    if type(value) in (list, tuple):
        return {"$l" if type(value) is list else "$u": [_encode(v) for v in value]}
    raise Uncacheable(f"a {type(value).__name__} cannot be cached")


def _zone(tz: Any) -> Any:
    if tz is None:
        return None
    if isinstance(tz, ZoneInfo):
        return tz.key
    if isinstance(tz, timezone):
        offset = tz.utcoffset(None)
        return {"$o": offset.total_seconds(), "$n": tz.tzname(None)}
    raise Uncacheable(f"time zone {tz!r} cannot be cached")


def _decode(tagged: dict[str, Any]) -> Any:
    if "$dt" in tagged:
        moment = datetime.fromisoformat(tagged["$dt"])
        tz = tagged["$tz"]
        if tz is None:
            return moment
        if isinstance(tz, str):
            return moment.replace(tzinfo=ZoneInfo(tz))
        return moment.replace(tzinfo=timezone(timedelta(seconds=tz["$o"]), tz["$n"]))
    if "$d" in tagged:
        return date.fromisoformat(tagged["$d"])
    if "$t" in tagged:
        return time.fromisoformat(tagged["$t"])
    if "$td" in tagged:
        days, seconds, micro = tagged["$td"]
        return timedelta(days=days, seconds=seconds, microseconds=micro)
    if "$f" in tagged:
        return float(tagged["$f"])
    if "$l" in tagged:
        return list(tagged["$l"])
    if "$u" in tagged:
        return tuple(tagged["$u"])
    return tagged
