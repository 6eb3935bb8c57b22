"""Protection against mistakes: a sudden large drop in members or stock is held, not believed.

Staff sometimes wipe rows by accident (a sort over half a table, a selection deleted on a
phone). Figures that halve overnight would then reach the city status and the digests as if
they were real. So the history store keeps, per cooperative, its last *accepted* reading —
active members and stock items, the day, and the snapshot it was read from — and every new
reading of a readable workbook is compared with it:

- a fall of more than `[protection] max_drop_share` from an accepted reading of at least
  `min_rows` is *held*: a Galat `likely-deletion` tells the cooperative (Hasil Pemeriksaan)
  and the office (Masalah Data, digests) what fell and what to do; for what fell, the city
  view keeps the figures of the accepted snapshot (computed as of the cycle's day), and
  Alasan Zona says so;
- the reading stays held until the rows come back (that reading is accepted by itself), or an
  official confirms that the drop is real (`kkmp-sheets confirm COOP`): the latest reading then
  becomes the accepted one.

The accepted snapshot is kept by the snapshot retention however old it is (`kept_hashes`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from kkmp_sheets.config import ProtectionRules
from kkmp_sheets.core import formats
from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.metrics import CoopFigures, coop_figures
from kkmp_sheets.core.parse import ParsedWorkbook, RawWorkbook, parse_workbook
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.template import ANGGOTA, STOK, WAJIB_DUE_DAY
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.errors import NotFound
from kkmp_sheets.store import snapshots

if TYPE_CHECKING:
    from kkmp_sheets.store.history import HistoryStore

log = logging.getLogger(__name__)
CODE = "likely-deletion"

# measure → (the tab it is counted on, its name in messages)
MEASURES = {"anggota": (ANGGOTA.name, "Anggota Aktif"), "stok": (STOK.name, "Jumlah barang Stok")}


@dataclass(frozen=True)
class Reading:
    day: date
    at: datetime
    hash: str
    anggota: int
    stok: int


@dataclass(frozen=True)
class GuardState:
    coop_id: str
    good: Reading
    seen: Reading
    held_since: date | None
    confirmed_at: datetime | None

    @property
    def held(self) -> bool:
        return self.held_since is not None


@dataclass(frozen=True)
class Drop:
    measure: str  # a key of MEASURES
    before: int
    after: int

    @property
    def label(self) -> str:
        return MEASURES[self.measure][1]


@dataclass
class Held:
    """What a reading means for the city view: figures to use, problems to add."""

    figures: CoopFigures
    issues: list[Issue] = field(default_factory=list)
    kept_from: date | None = None  # the day whose figures are kept (None: the reading is used)


def stock_items(parsed: ParsedWorkbook) -> int:
    table = parsed.tables.get(STOK.name)
    return len(table.records) if table is not None else 0


@dataclass(frozen=True)
class Counted:
    """What the guard needs of a parsed workbook besides its figures: small enough to come back
    from a reader worker instead of the parsed tables."""

    stock_items: int
    tabs: dict[str, str]  # contract tab name -> the workbook's own title, for the guarded tabs

    @classmethod
    def of(cls, parsed: ParsedWorkbook) -> Counted:
        tabs = {}
        for contract_tab, _ in MEASURES.values():
            table = parsed.tables.get(contract_tab)
            if table is not None:
                tabs[contract_tab] = table.tab
        return cls(stock_items(parsed), tabs)


def drops(good: Reading, now: Reading, rules: ProtectionRules) -> list[Drop]:
    """Measures that fell by more than the allowed share from a large enough accepted reading."""
    found = []
    for measure in MEASURES:
        before, after = getattr(good, measure), getattr(now, measure)
        if before >= max(rules.min_rows, 1) and before - after > rules.max_drop_share * before:
            found.append(Drop(measure, before, after))
    return found


class Guard:
    """Snapshots each workbook read in a cycle and holds readings that fell too far."""

    def __init__(
        self,
        store: HistoryStore,
        rules: ProtectionRules,
        *,
        now: datetime,
        window_days: int,
        wajib_due_day: int = WAJIB_DUE_DAY,
    ) -> None:
        self.store, self.rules, self.window_days = store, rules, window_days
        self.wajib_due_day = wajib_due_day  # the kept arrears follow the same rule
        self.now = now.astimezone(WIB)

    def check(
        self,
        coop: Coop,
        raw: RawWorkbook,
        parsed: ParsedWorkbook,
        figures: CoopFigures,
        as_of: date,
    ) -> Held:
        prepared = snapshots.prepare(raw.tabs, snapshots.latest_blobs(self.store.conn, coop.id))
        return self.check_prepared(
            coop,
            prepared,
            figures,
            Counted.of(parsed),
            as_of,
            version=raw.version,
            modified=raw.modified,
        )

    def check_prepared(
        self,
        coop: Coop,
        prepared: snapshots.Prepared,
        figures: CoopFigures,
        counted: Counted,
        as_of: date,
        *,
        version: str | None = None,
        modified: datetime | None = None,
    ) -> Held:
        """`check` for a workbook parsed elsewhere (a reader worker): its snapshot made ready
        to store and what the guard counts of it."""
        digest = snapshots.save_prepared(
            self.store.conn,
            coop.id,
            prepared,
            taken_at=self.now,
            version=version,
            modified=modified,
        )
        reading = Reading(as_of, self.now, digest, figures.anggota_aktif, counted.stock_items)
        state = load(self.store, coop.id)
        found = drops(state.good, reading, self.rules) if state is not None else []
        if state is None or not found:
            if state is not None and state.held:
                log.info("%s: figures are back; the reading of %s is accepted", coop.id, as_of)
            _write(self.store, coop.id, good=reading, seen=reading, held_since=None)
            return Held(figures)

        held_since = state.held_since or as_of
        _write(self.store, coop.id, good=state.good, seen=reading, held_since=held_since)
        log.warning(
            "%s: likely accidental deletion (%s); the figures of %s are kept",
            coop.id,
            ", ".join(f"{d.measure} {d.before} -> {d.after}" for d in found),
            state.good.day,
        )
        issues = [self._issue(counted, d, state.good.day) for d in found]
        return Held(self._kept(state, figures, found, as_of), issues, state.good.day)

    def _issue(self, counted: Counted, drop: Drop, good_day: date) -> Issue:
        contract_tab = MEASURES[drop.measure][0]
        return Issue(
            CODE,
            tab=counted.tabs.get(contract_tab, contract_tab),
            column=drop.label,
            detail=(
                f"dari {formats.format_number(drop.before)} menjadi "
                f"{formats.format_number(drop.after)} (angka terakhir yang baik: "
                f"{formats.format_date(good_day)})"
            ),
        )

    def _kept(
        self, state: GuardState, figures: CoopFigures, found: list[Drop], as_of: date
    ) -> CoopFigures:
        """The reading's figures, with what fell taken from the accepted snapshot."""
        fell = {d.measure for d in found}
        good_raw = snapshots.content(self.store.conn, state.good.hash)
        if good_raw is None:  # not kept (a store restored from an older backup): counts only
            log.warning(
                "%s: the accepted snapshot is gone; only its counts are kept", state.coop_id
            )
            if "anggota" in fell:
                return replace(figures, anggota_aktif=state.good.anggota)
            return figures
        good = coop_figures(
            parse_workbook(good_raw),
            as_of,
            window_days=self.window_days,
            modified=figures.data_diperbarui,
            wajib_due_day=self.wajib_due_day,
        )
        kept: dict[str, Any] = {}
        if "anggota" in fell:
            for name in ("anggota_aktif", "anggota_baru", "anggota_menunggak", "tunggakan_wajib"):
                kept[name] = getattr(good, name)
        if "stok" in fell:
            kept.update(nilai_stok=good.nilai_stok, pasokan=good.pasokan)
        return replace(figures, **kept)


def zone_note(kept_from: date) -> str:
    """The words added to Alasan Zona while a reading is held."""
    return (
        f"Kemungkinan data terhapus: angka terakhir yang baik dari "
        f"{formats.format_date(kept_from)} dipakai"
    )


# --- the guard table ---------------------------------------------------------------------------

_COLUMNS = (
    "coop_id, good_day, good_at, good_hash, good_anggota, good_stok, seen_day, seen_at, "
    "seen_hash, seen_anggota, seen_stok, held_since, confirmed_at"
)


def load(store: HistoryStore, coop_id: str) -> GuardState | None:
    row = store.conn.execute(f"SELECT {_COLUMNS} FROM guard WHERE coop_id = ?", (coop_id,))
    found = row.fetchone()
    return _state(found) if found is not None else None


def held(store: HistoryStore) -> list[GuardState]:
    """Every cooperative whose latest reading is held, by id."""
    rows = store.conn.execute(
        f"SELECT {_COLUMNS} FROM guard WHERE held_since IS NOT NULL ORDER BY coop_id"
    )
    return [_state(row) for row in rows.fetchall()]


def kept_hashes(store: HistoryStore) -> set[str]:
    """Snapshot contents the retention must keep: every accepted reading's."""
    return {h for (h,) in store.conn.execute("SELECT good_hash FROM guard")}


def confirm(store: HistoryStore, coop_id: str, now: datetime) -> GuardState | None:
    """Accept the cooperative's latest reading; None when nothing was held."""
    state = load(store, coop_id)
    if state is None:
        raise NotFound(
            f"{coop_id} has never been read by a cycle: check the ID against the registry "
            "(IDs are case-sensitive)"
        )
    if not state.held:
        return None
    with store.transaction() as conn:
        conn.execute(
            "UPDATE guard SET good_day = seen_day, good_at = seen_at, good_hash = seen_hash,"
            " good_anggota = seen_anggota, good_stok = seen_stok, held_since = NULL,"
            " confirmed_at = ? WHERE coop_id = ?",
            (now.astimezone(WIB).isoformat(timespec="seconds"), coop_id),
        )
    log.info("%s: drop confirmed; the reading of %s is accepted", coop_id, state.seen.day)
    return state


def seen_unchanged(store: HistoryStore, rows: list[tuple[str, date, datetime]]) -> None:
    """(coop id, day, when): the accepted reading was found unchanged without reading it again
    (its result reused): it is accepted again on that day, as `Guard.check` would accept it, so
    that a later drop names the last day it was seen whole. Held readings are left alone."""
    with store.transaction() as conn:
        conn.executemany(
            "UPDATE guard SET good_day = ?, good_at = ?, seen_day = ?, seen_at = ?"
            " WHERE coop_id = ? AND held_since IS NULL AND good_hash = seen_hash",
            [
                (day.isoformat(), at.astimezone(WIB).isoformat(timespec="seconds")) * 2 + (coop_id,)
                for coop_id, day, at in rows
            ],
        )


def _write(
    store: HistoryStore, coop_id: str, *, good: Reading, seen: Reading, held_since: date | None
) -> None:
    def values(r: Reading) -> tuple[Any, ...]:
        return (r.day.isoformat(), r.at.isoformat(timespec="seconds"), r.hash, r.anggota, r.stok)

    with store.transaction() as conn:
        conn.execute(
            """
            INSERT INTO guard (coop_id, good_day, good_at, good_hash, good_anggota, good_stok,
                seen_day, seen_at, seen_hash, seen_anggota, seen_stok, held_since)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (coop_id) DO UPDATE SET
                good_day = excluded.good_day, good_at = excluded.good_at,
                good_hash = excluded.good_hash, good_anggota = excluded.good_anggota,
                good_stok = excluded.good_stok, seen_day = excluded.seen_day,
                seen_at = excluded.seen_at, seen_hash = excluded.seen_hash,
                seen_anggota = excluded.seen_anggota, seen_stok = excluded.seen_stok,
                held_since = excluded.held_since
            """,
            (
                coop_id,
                *values(good),
                *values(seen),
                held_since.isoformat() if held_since else None,
            ),
        )


def _state(row: tuple[Any, ...]) -> GuardState:
    coop_id, *good, seen_day, seen_at, seen_hash, seen_a, seen_s, held_since, confirmed = row

    def reading(day: str, at: str, digest: str, anggota: int, stok: int) -> Reading:
        return Reading(date.fromisoformat(day), datetime.fromisoformat(at), digest, anggota, stok)

    return GuardState(
        coop_id,
        reading(*good),
        reading(seen_day, seen_at, seen_hash, seen_a, seen_s),
        date.fromisoformat(held_since) if held_since else None,
        datetime.fromisoformat(confirmed) if confirmed else None,
    )
