"""The history store: figures per day and the life of each data problem (SQLite, stdlib only).

One file, `<data dir>/history.sqlite`, in WAL mode so a reader (a digest, the CLI) never blocks
the cycle that writes. Its schema is a list of numbered, append-only migrations
(`history_schema.py`), applied by `sqlite.open_database`, which also refuses a store written by
a newer version, or a file that is not a history store, rather than guessing.

What is kept (aggregates and positions only — never an issue's value, a NIK, a member name or an
individual's savings — except in the snapshots and the result cache):

- `coop_day`: one row per (day, cooperative): the zone, its reasons in words, the cooperative's
  figures (`CoopFigures`) and its problem counts. Recording a day again replaces that day.
- `city_day`: one row per day: the city figures (`Summary`).
- `problem`: the life of each problem, keyed by (cooperative, code, tab, row, column):
  `first_seen`, `last_seen`, and `resolved_on` — the first recorded day on which a cycle no longer
  reported it. A problem that comes back after being resolved starts a new life (a new row).
- `blob`, `content`, `snapshot` (schema 2): a snapshot of every workbook read, compressed and
  deduplicated by content hash (see `snapshots.py`). Unlike everything above, snapshots hold
  personal data; they leave the store only through `kkmp-sheets restore`.
- `guard` (schema 2): each cooperative's last accepted and latest reading (`protection.py`).
- `result_cache`, `feedback_written`, `cache_key` (schema 3): each cooperative's last result and
  the Hasil Pemeriksaan last written (`results_cache.py`); like the snapshots, a result may hold
  the cooperative's own values (a problem's value), and members' NIKs only as keyed fingerprints.

Problem lives move forward only: recording a day earlier than the latest recorded day updates
that day's figures but leaves the lives alone. A cooperative whose workbook could not be read
keeps its open problems open (nobody could check them), except earlier read failures.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

from kkmp_sheets import crashpoints
from kkmp_sheets.core.zoning import HIJAU, KUNING, MERAH, ZoneRules, days_since
from kkmp_sheets.errors import OutputError
from kkmp_sheets.store import snapshots
from kkmp_sheets.store.history_schema import HISTORY, HISTORY_FILE
from kkmp_sheets.store.sqlite import open_database, schema_version, transaction

if TYPE_CHECKING:  # pipeline imports every I/O module; the store needs only the shapes
    from kkmp_sheets.config import Config
    from kkmp_sheets.core.parse import RawWorkbook
    from kkmp_sheets.core.report import CoopResult
    from kkmp_sheets.core.results import CycleResult

log = logging.getLogger(__name__)

COOP_NUMBERS = (
    "anggota_aktif", "anggota_baru", "simpanan_pokok", "simpanan_wajib", "simpanan_sukarela",
    "nilai_stok", "omset", "transaksi",
)  # fmt: skip
CITY_NUMBERS = (
    "jumlah", "aktif", "hijau", "kuning", "merah", "anggota_aktif", "simpanan_pokok",
    "simpanan_wajib", "simpanan_sukarela", "omset", "nilai_stok", "kelengkapan", "galat",
    "peringatan",
)  # fmt: skip

ProblemKey = tuple[str, str, str, int, str]  # coop id, code, tab, row (0 = none), column


class CityPoint(NamedTuple):
    """One day of the city trend."""

    day: date
    aktif: int
    hijau: int
    kuning: int
    merah: int


class ZoneMove(NamedTuple):
    coop_id: str
    nama: str
    kecamatan: str
    from_zone: str
    to_zone: str


@dataclass
class Changes:
    """What changed between the recorded day `since` and `as_of` (`since` None: nothing to compare)."""

    as_of: date
    since: date | None = None
    zone_moves: list[ZoneMove] = field(default_factory=list)
    new_problems: dict[str, int] = field(default_factory=dict)
    resolved_problems: dict[str, int] = field(default_factory=dict)
    gone_quiet: list[str] = field(default_factory=list)
    newly_red: list[str] = field(default_factory=list)
    # Each cooperative Merah at `as_of`: the first recorded day of its current run of Merah days
    # (the digests list the longest Merah first).
    merah_since: dict[str, date] = field(default_factory=dict)

    @property
    def first(self) -> bool:
        """No earlier day to compare with (the first recorded cycle)."""
        return self.since is None

    @property
    def empty(self) -> bool:
        return not (
            self.zone_moves
            or self.new_problems
            or self.resolved_problems
            or self.gone_quiet
            or self.newly_red
        )


class HistoryStore:
    """`with HistoryStore(path) as store: ...` — opens (creating and migrating) the file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = open_database(self.path, HISTORY)

    @classmethod
    def for_config(cls, cfg: Config) -> HistoryStore:
        return cls(cfg.data_dir / HISTORY_FILE)

    # --- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise OutputError(f"history store {self.path} is closed")
        return self._conn

    @property
    def schema_version(self) -> int:
        return schema_version(self.conn)

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One writer at a time, all or nothing (see `sqlite.transaction`)."""
        return transaction(self.conn)

    # --- writing -------------------------------------------------------------------------------

    def record_cycle(self, cycle: CycleResult) -> None:
        """Store one cycle's figures for its day (replacing an earlier recording of that day)."""
        try:
            with self.transaction() as conn:
                self._record(conn, cycle)
                crashpoints.reached("history-uncommitted")
            crashpoints.reached("history-recorded")
        except sqlite3.Error as exc:
            raise OutputError(
                f"history store {self.path}: the cycle of {cycle.as_of} could not be recorded "
                f"({exc}); check the disk space and that the file is writable"
            ) from exc

    def _record(self, conn: sqlite3.Connection, cycle: CycleResult) -> None:
        day = cycle.as_of.isoformat()
        # The day is replaced as a whole: a cooperative no longer registered leaves it.
        conn.execute("DELETE FROM coop_day WHERE as_of = ?", (day,))
        conn.executemany(
            """
            INSERT INTO coop_day (as_of, coop_id, nama, kelurahan, kecamatan, zone, reasons,
                readable, status_operasional, anggota_aktif, anggota_baru, simpanan_pokok,
                simpanan_wajib, simpanan_sukarela, nilai_stok, omset, transaksi,
                transaksi_terakhir, data_diperbarui, galat, peringatan)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (as_of, coop_id) DO UPDATE SET
                nama = excluded.nama, kelurahan = excluded.kelurahan,
                kecamatan = excluded.kecamatan, zone = excluded.zone,
                reasons = excluded.reasons, readable = excluded.readable,
                status_operasional = excluded.status_operasional,
                anggota_aktif = excluded.anggota_aktif, anggota_baru = excluded.anggota_baru,
                simpanan_pokok = excluded.simpanan_pokok,
                simpanan_wajib = excluded.simpanan_wajib,
                simpanan_sukarela = excluded.simpanan_sukarela,
                nilai_stok = excluded.nilai_stok, omset = excluded.omset,
                transaksi = excluded.transaksi,
                transaksi_terakhir = excluded.transaksi_terakhir,
                data_diperbarui = excluded.data_diperbarui,
                galat = excluded.galat, peringatan = excluded.peringatan
            """,
            [_coop_values(day, r) for r in cycle.results],
        )
        s = cycle.summary
        conn.execute(
            f"""
            INSERT OR REPLACE INTO city_day (as_of, {", ".join(CITY_NUMBERS)}, recorded_at)
            VALUES (?, {_marks(CITY_NUMBERS)}, ?)
            """,
            [
                day,
                *(getattr(s, name) for name in CITY_NUMBERS),
                datetime.now(UTC).isoformat(timespec="seconds"),
            ],
        )
        self._record_problems(conn, cycle)

    def _record_problems(self, conn: sqlite3.Connection, cycle: CycleResult) -> None:
        day = cycle.as_of.isoformat()
        latest = conn.execute("SELECT MAX(as_of) FROM city_day").fetchone()[0]
        if latest is not None and latest > day:
            log.info("history: %s is before %s; problem lives left as they are", day, latest)
            return
        previous = conn.execute(
            "SELECT MAX(as_of) FROM city_day WHERE as_of < ?", (day,)
        ).fetchone()[0]

        # Undo an earlier recording of this same day, so that recording it again replaces it.
        conn.execute("DELETE FROM problem WHERE first_seen = ?", (day,))
        conn.execute("UPDATE problem SET resolved_on = NULL WHERE resolved_on = ?", (day,))

        # Today's open problems go to a temporary table, and the lives are moved forward by
        # joining it to the open ones in SQL: nothing of the problems already stored is loaded
        # into Python, however many there are (the 600 demo cooperatives have about 5,000 open,
        # a province ten times that).
        seen: dict[ProblemKey, tuple[str, int]] = {}
        checked: list[tuple[str, int]] = []
        for r in cycle.results:
            coop_id, unreadable = r.coop.id, int(not r.figures.readable)
            checked.append((coop_id, 1 - unreadable))
            for issue in r.open_issues:  # an acknowledged warning is not an open problem
                key = (coop_id, issue.code, issue.tab or "", issue.row or 0, issue.column or "")
                if key not in seen:
                    seen[key] = (issue.severity.value, unreadable)
        conn.execute(_SEEN_TABLE)
        conn.execute(_CHECKED_TABLE)
        conn.execute("DELETE FROM temp.seen_problem")  # an earlier recording's, if any
        conn.execute("DELETE FROM temp.checked_coop")
        conn.executemany(
            "INSERT INTO temp.seen_problem (coop_id, code, tab, row, col, severity,"
            " read_failure) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(*key, severity, read_failure) for key, (severity, read_failure) in seen.items()],
        )
        # Last registration wins, as a dict of the results would have it.
        conn.executemany(
            "INSERT OR REPLACE INTO temp.checked_coop (coop_id, readable) VALUES (?, ?)",
            checked,
        )
        params = {"day": day, "previous": previous}
        # Seen again: open a day longer.
        conn.execute(
            f"UPDATE problem SET last_seen = :day WHERE resolved_on IS NULL AND {_SEEN}",
            params,
        )
        # Not seen by a cycle that checked it: resolved today. Not checked (no longer
        # registered, or unreadable while this is not a read failure): stays open. A life
        # seen only on an earlier recording of this same day ends on the day before.
        conn.execute(
            f"""
            UPDATE problem SET resolved_on = :day,
                last_seen = CASE WHEN last_seen = :day
                    THEN MAX(COALESCE(:previous, first_seen), first_seen)
                    ELSE last_seen END
            WHERE resolved_on IS NULL AND NOT {_SEEN}
              AND EXISTS (SELECT 1 FROM temp.checked_coop c WHERE c.coop_id = problem.coop_id
                          AND (c.readable OR problem.read_failure))
            """,
            params,
        )
        # New: seen and not open (in the order the cycle reported them, as ids go).
        conn.execute(
            """
            INSERT INTO problem (coop_id, code, tab, row, col, severity, read_failure,
                first_seen, last_seen)
            SELECT s.coop_id, s.code, s.tab, s.row, s.col, s.severity, s.read_failure,
                :day, :day
            FROM temp.seen_problem s
            WHERE NOT EXISTS (
                SELECT 1 FROM problem p WHERE p.resolved_on IS NULL AND p.coop_id = s.coop_id
                AND p.code = s.code AND p.tab = s.tab AND p.row = s.row AND p.col = s.col)
            ORDER BY s.ord
            """,
            params,
        )
        conn.execute("DELETE FROM temp.seen_problem")
        conn.execute("DELETE FROM temp.checked_coop")

    # --- reading -------------------------------------------------------------------------------

    def days(self) -> list[date]:
        rows = self.conn.execute("SELECT as_of FROM city_day ORDER BY as_of").fetchall()
        return [date.fromisoformat(r[0]) for r in rows]

    def previous_day(self, as_of: date) -> date | None:
        """The most recent recorded day before `as_of`."""
        row = self.conn.execute(
            "SELECT MAX(as_of) FROM city_day WHERE as_of < ?", (as_of.isoformat(),)
        ).fetchone()
        return date.fromisoformat(row[0]) if row[0] else None

    def changes(
        self, as_of: date, since: date | None, *, rules: ZoneRules | None = None
    ) -> Changes:
        """What changed from the recorded day `since` to `as_of` (both as recorded).

        gone_quiet: cooperatives whose data is now at least `yellow_stale_days` old but was not
        at `since`, or whose last sale is now at least `red_no_sale_days` old but was not.
        newly_red: Merah now, not Merah at `since`. Only cooperatives recorded on both days
        count; a new problem is one open at `as_of` and not at `since` (and the reverse for a
        resolved one).
        """
        rules = rules or ZoneRules()
        out = Changes(as_of=as_of, since=since, merah_since=self.merah_since(as_of))
        if since is None:
            return out
        now = self._coop_rows(as_of)
        then = self._coop_rows(since)
        for coop_id, row in sorted(now.items(), key=lambda kv: (kv[1]["kecamatan"], kv[0])):
            before = then.get(coop_id)
            if before is None:
                continue
            if before["zone"] != row["zone"]:
                out.zone_moves.append(
                    ZoneMove(coop_id, row["nama"], row["kecamatan"], before["zone"], row["zone"])
                )
            if row["zone"] == MERAH and before["zone"] != MERAH:
                out.newly_red.append(coop_id)
            stale = _crossed(
                row["data_diperbarui"], before["data_diperbarui"], as_of, since,
                rules.yellow_stale_days,
            )  # fmt: skip
            no_sale = _crossed(
                row["transaksi_terakhir"], before["transaksi_terakhir"], as_of, since,
                rules.red_no_sale_days,
            )  # fmt: skip
            if stale or no_sale:
                out.gone_quiet.append(coop_id)
        out.zone_moves.sort(key=lambda m: (_ZONE_RANK.get(m.to_zone, 9), m.kecamatan, m.coop_id))

        a, s = as_of.isoformat(), since.isoformat()
        open_at = "first_seen <= {d} AND (resolved_on IS NULL OR resolved_on > {d})"
        not_open_at = "NOT (" + open_at + ")"
        for target, sql in (
            (out.new_problems, f"{open_at.format(d=':a')} AND {not_open_at.format(d=':s')}"),
            (out.resolved_problems, f"{open_at.format(d=':s')} AND {not_open_at.format(d=':a')}"),
        ):
            counts: Counter[str] = Counter()
            for coop_id, n in self.conn.execute(
                f"SELECT coop_id, COUNT(*) FROM problem WHERE {sql} GROUP BY coop_id",
                {"a": a, "s": s},
            ):
                counts[coop_id] = n
            target.update(sorted(counts.items()))
        return out

    def merah_since(self, as_of: date) -> dict[str, date]:
        """Cooperatives recorded Merah on `as_of`: the first recorded day of their current run of
        Merah days (a day not recorded does not break a run; a recorded other zone does)."""
        rows = self.conn.execute(
            """
            SELECT c.coop_id, MIN(c.as_of) FROM coop_day c
            WHERE c.zone = :merah AND c.as_of <= :a
              AND c.coop_id IN (SELECT coop_id FROM coop_day WHERE as_of = :a AND zone = :merah)
              AND c.as_of > COALESCE((
                  SELECT MAX(o.as_of) FROM coop_day o
                  WHERE o.coop_id = c.coop_id AND o.as_of <= :a AND o.zone != :merah
              ), '')
            GROUP BY c.coop_id
            """,
            {"a": as_of.isoformat(), "merah": MERAH},
        ).fetchall()
        return {coop_id: date.fromisoformat(day) for coop_id, day in rows}

    def city_series(self, until: date, days: int = 30) -> list[CityPoint]:
        """The city's zone counts per recorded day in (until − days, until], oldest first."""
        start = until - timedelta(days=days)
        rows = self.conn.execute(
            "SELECT as_of, aktif, hijau, kuning, merah FROM city_day "
            "WHERE as_of > ? AND as_of <= ? ORDER BY as_of",
            (start.isoformat(), until.isoformat()),
        ).fetchall()
        return [CityPoint(date.fromisoformat(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    def last_recorded(self) -> tuple[date, datetime, dict[str, Any]] | None:
        """The most recently recorded cycle: its day, when it was recorded, its city figures."""
        cursor = self.conn.execute(
            f"SELECT as_of, recorded_at, {', '.join(CITY_NUMBERS)} FROM city_day "
            "ORDER BY recorded_at DESC, as_of DESC LIMIT 1"
        )
        row = cursor.fetchone()
        if row is None:
            return None
        figures = _as_dict(cursor, row)
        return figures.pop("as_of"), datetime.fromisoformat(figures.pop("recorded_at")), figures

    def city_rows(self, until: date | None = None) -> list[dict[str, Any]]:
        """Every recorded day's city figures (for Riwayat), oldest first."""
        sql = f"SELECT as_of, {', '.join(CITY_NUMBERS)} FROM city_day"
        params: list[str] = []
        if until is not None:
            sql += " WHERE as_of <= ?"
            params.append(until.isoformat())
        cursor = self.conn.execute(sql + " ORDER BY as_of", params)
        return [_as_dict(cursor, row) for row in cursor.fetchall()]

    def coop_series(self, coop_id: str) -> list[dict[str, Any]]:
        """Every recorded day of one cooperative, oldest first (dates as `date`/`datetime`)."""
        cursor = self.conn.execute(
            "SELECT * FROM coop_day WHERE coop_id = ? ORDER BY as_of", (coop_id,)
        )
        return [_as_dict(cursor, row) for row in cursor.fetchall()]

    def open_problems(self, coop_id: str | None = None) -> list[dict[str, Any]]:
        """Problems not resolved yet (positions only), oldest first."""
        sql = "SELECT * FROM problem WHERE resolved_on IS NULL"
        params: list[str] = []
        if coop_id is not None:
            sql += " AND coop_id = ?"
            params.append(coop_id)
        cursor = self.conn.execute(sql + " ORDER BY first_seen, id", params)
        return [_as_dict(cursor, row) for row in cursor.fetchall()]

    def problem_lives(self, coop_id: str) -> list[dict[str, Any]]:
        cursor = self.conn.execute(
            "SELECT * FROM problem WHERE coop_id = ? ORDER BY first_seen, id", (coop_id,)
        )
        return [_as_dict(cursor, row) for row in cursor.fetchall()]

    def comparison_day(self, as_of: date, days: int = 7) -> date | None:
        """The day "last week" means for the Laporan Pimpinan: the latest recorded day at least
        `days` before `as_of`; while there is none, the earliest recorded day before `as_of`."""
        row = self.conn.execute(
            "SELECT MAX(as_of) FROM city_day WHERE as_of <= ?",
            ((as_of - timedelta(days=days)).isoformat(),),
        ).fetchone()
        if row[0] is None:
            row = self.conn.execute(
                "SELECT MIN(as_of) FROM city_day WHERE as_of < ?", (as_of.isoformat(),)
            ).fetchone()
        return date.fromisoformat(row[0]) if row[0] else None

    def coop_rows(self, day: date) -> dict[str, dict[str, Any]]:
        """Every cooperative's recorded row on `day` (aggregates only), by cooperative id."""
        return self._coop_rows(day)

    def coop_zones(self, until: date, days: int = 30) -> dict[date, dict[str, str]]:
        """Each recorded day in (until − days, until]: cooperative id → its zone, oldest first."""
        rows = self.conn.execute(
            "SELECT as_of, coop_id, zone FROM coop_day WHERE as_of > ? AND as_of <= ? "
            "ORDER BY as_of",
            ((until - timedelta(days=days)).isoformat(), until.isoformat()),
        ).fetchall()
        out: dict[date, dict[str, str]] = {}
        for day, coop_id, zone_name in rows:
            out.setdefault(date.fromisoformat(day), {})[coop_id] = zone_name
        return out

    def _coop_rows(self, day: date) -> dict[str, dict[str, Any]]:
        cursor = self.conn.execute("SELECT * FROM coop_day WHERE as_of = ?", (day.isoformat(),))
        return {row[1]: _as_dict(cursor, row) for row in cursor.fetchall()}

    # --- snapshots (snapshots.py) --------------------------------------------------------------

    def save_snapshot(
        self, coop_id: str, raw: RawWorkbook, *, taken_at: datetime, version: str | None = None
    ) -> str:
        """Keep the workbook as read; return its content hash (unchanged: nothing new stored)."""
        return snapshots.save(self.conn, coop_id, raw, taken_at=taken_at, version=version)

    def latest_snapshot(self, coop_id: str) -> snapshots.Snapshot | None:
        return snapshots.latest(self.conn, coop_id)

    def snapshot_on(self, coop_id: str, day: date | datetime) -> snapshots.Snapshot | None:
        """The latest snapshot taken on or before `day` (WIB), or by that moment."""
        return snapshots.on(self.conn, coop_id, day)

    def list_snapshots(self, coop_id: str) -> list[snapshots.SnapshotInfo]:
        """Every kept snapshot of a cooperative (tab titles and row counts, no cells)."""
        return snapshots.listing(self.conn, coop_id)

    def prune(self, keep_days: int, *, now: datetime | None = None) -> snapshots.Pruned:
        """Forget snapshots older than `keep_days` (see `snapshots.prune` for what stays)."""
        keep = {h for (h,) in self.conn.execute("SELECT good_hash FROM guard")}
        return snapshots.prune(self.conn, keep_days, now or datetime.now(UTC), keep=keep)


_ZONE_RANK = {MERAH: 0, KUNING: 1, HIJAU: 2}  # worst first

# The problems one recording saw, and the cooperatives it checked (temporary: this connection
# only, never in the file). `ord` keeps the order the cycle reported them in.
_SEEN_TABLE = """
    CREATE TEMP TABLE IF NOT EXISTS seen_problem (
        ord INTEGER PRIMARY KEY, coop_id TEXT NOT NULL, code TEXT NOT NULL, tab TEXT NOT NULL,
        row INTEGER NOT NULL, col TEXT NOT NULL, severity TEXT NOT NULL,
        read_failure INTEGER NOT NULL, UNIQUE (coop_id, code, tab, row, col))
"""
_CHECKED_TABLE = """
    CREATE TEMP TABLE IF NOT EXISTS checked_coop (
        coop_id TEXT PRIMARY KEY, readable INTEGER NOT NULL)
"""
# An open `problem` row that the recording saw (same key).
_SEEN = """EXISTS (
    SELECT 1 FROM temp.seen_problem s WHERE s.coop_id = problem.coop_id AND s.code = problem.code
    AND s.tab = problem.tab AND s.row = problem.row AND s.col = problem.col)"""
_DATE_COLUMNS = {"as_of", "transaksi_terakhir", "first_seen", "last_seen", "resolved_on"}


def _coop_values(day: str, r: CoopResult) -> tuple[Any, ...]:
    f = r.figures
    return (
        day, r.coop.id, r.coop.nama, r.coop.kelurahan, r.coop.kecamatan, r.zone.name,
        "; ".join(r.zone.reasons), int(f.readable), f.status_operasional,
        *(getattr(f, name) for name in COOP_NUMBERS),
        _iso(f.transaksi_terakhir), _iso(f.data_diperbarui), r.galat, r.peringatan,
    )  # fmt: skip


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _as_dict(cursor: sqlite3.Cursor, row: Sequence[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for (name, *_), value in zip(cursor.description, row, strict=True):
        if value is not None and name in _DATE_COLUMNS:
            value = date.fromisoformat(value)
        elif value is not None and name == "data_diperbarui":
            value = datetime.fromisoformat(value)
        elif name in ("readable", "read_failure"):
            value = bool(value)
        out[name] = value
    return out


def _crossed(
    now: date | datetime | None, then: date | datetime | None, as_of: date, since: date, limit: int
) -> bool:
    """At least `limit` days old at `as_of`, and not at `since` (unknown dates never count)."""
    age_now, age_then = days_since(now, as_of), days_since(then, since)
    if age_now is None or age_then is None:
        return False
    return age_now >= limit and age_then < limit
