"""What an operator asks of the history store: a cooperative's figures over time, its snapshots,
a tab given back, a drop confirmed. The CLI's `history`, `restore` and `confirm` commands.

`history` shows figures, zones, problem counts, snapshot dates with tab row counts and the
protection state — never a cell of a snapshot. `restore` is the one way a snapshot's cells
leave the store: back into the cooperative's own workbook as a NEW tab ("Anggota (pulihan
2026-01-28)"), never over the tab staff work in, or into a separate `.xlsx` for the
cooperative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import python_calamine

from kkmp_sheets.config import Config
from kkmp_sheets.core import formats
from kkmp_sheets.core.parse import RawWorkbook, Rows
from kkmp_sheets.core.registry import read_registry
from kkmp_sheets.core.template import PROFIL, TABLES, normalize
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.errors import KkmpError, NotFound, OutputError
from kkmp_sheets.service import protection
from kkmp_sheets.store.history import HistoryStore

MAX_TITLE = 31  # Excel's limit for a tab name


# --- history -------------------------------------------------------------------------------------


def history_text(cfg: Config, coop_id: str, *, days: int | None = None) -> str:
    """A cooperative's recorded days as a table, then its snapshots and protection state."""
    with HistoryStore.for_config(cfg) as store:
        series = store.coop_series(coop_id)
        snaps = store.list_snapshots(coop_id)
        guard = protection.load(store, coop_id)
    if not series and not snaps:
        raise NotFound(
            f"{coop_id} is not in the history store {cfg.data_dir / 'history.sqlite'}: check the "
            "ID against the registry (IDs are case-sensitive), or run a cycle first"
        )
    shown = series[-days:] if days else series
    lines = []
    if series:
        last = series[-1]
        lines.append(f"{coop_id} — {last['nama']} ({last['kelurahan']}, {last['kecamatan']})")
    else:
        lines.append(coop_id)
    lines.append("")
    header = (
        "Tanggal", "Zona", "Anggota Aktif", "Anggota Baru", "Simpanan", "Nilai Stok",
        "Omset 30 Hari", "Transaksi", "Galat", "Peringatan",
    )  # fmt: skip
    table: list[tuple[str, ...]] = [header]
    for row in shown:
        simpanan = row["simpanan_pokok"] + row["simpanan_wajib"] + row["simpanan_sukarela"]
        table.append(
            (
                row["as_of"].isoformat(),
                row["zone"] if row["readable"] else f"{row['zone']} (tidak terbaca)",
                formats.format_number(row["anggota_aktif"]),
                formats.format_number(row["anggota_baru"]),
                formats.format_rupiah(round(simpanan)),
                formats.format_rupiah(round(row["nilai_stok"])),
                formats.format_rupiah(round(row["omset"])),
                formats.format_number(row["transaksi"]),
                formats.format_number(row["galat"]),
                formats.format_number(row["peringatan"]),
            )
        )
    if series:
        lines += _columns(table, right_from=2)
        if days and len(series) > days:
            lines.append(f"({len(series) - days} hari sebelumnya tidak ditampilkan; --days)")
    else:
        lines.append("Belum ada hari yang tercatat.")

    lines += ["", "Salinan (snapshot) untuk kkmp-sheets restore — waktu WIB, baris per tab:"]
    if not snaps:
        lines.append("  belum ada")
    good = guard.good.hash if guard is not None and guard.held else None
    for info in snaps:
        tabs = ", ".join(f"{tab} {n}" for tab, n in info.tabs)
        mark = "   ← angka terakhir yang baik" if info.hash == good else ""
        lines.append(
            f"  {info.taken_at.astimezone(WIB):%Y-%m-%d %H:%M} s.d. "
            f"{info.seen_at.astimezone(WIB):%Y-%m-%d %H:%M}   {tabs}{mark}"
        )
    if guard is not None and guard.held:
        drops = protection.drops(guard.good, guard.seen, cfg.protection)
        what = ", ".join(f"{d.label} {d.before} → {d.after}" for d in drops) or "turun"
        lines += [
            "",
            f"DITAHAN sejak {guard.held_since}: kemungkinan data terhapus ({what}).",
            f"  Angka dari {guard.good.day} dipakai di laporan kota sampai baris kembali, atau",
            f"  dikonfirmasi benar: kkmp-sheets confirm {coop_id} --config {cfg.path}",
        ]
    elif guard is not None and guard.confirmed_at is not None:
        lines += ["", f"Penurunan terakhir dikonfirmasi {guard.confirmed_at:%Y-%m-%d %H:%M} WIB."]
    return "\n".join(lines) + "\n"


def _columns(table: list[tuple[str, ...]], *, right_from: int) -> list[str]:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    out = []
    for row in table:
        cells = [
            cell.rjust(width) if i >= right_from else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return out


# --- restore -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    coop_id: str
    tab: str  # the tab's title in the snapshot
    title: str  # the tab written
    path: Path  # the workbook (or separate file) written
    rows: int
    taken_at: datetime  # when the snapshot was taken
    seen_until: datetime  # the content was read unchanged until then


def restore(
    cfg: Config, coop_id: str, tab: str, day: date | datetime, *, to_file: Path | None = None
) -> Restored:
    """Write tab `tab` as it stood at the end of `day` (WIB), or at that moment, back: as a new
    tab of the cooperative's workbook, or into a new file."""
    with HistoryStore.for_config(cfg) as store:
        snap = store.snapshot_on(coop_id, day)
        if snap is None:
            kept = store.list_snapshots(coop_id)
    if snap is None:
        if not kept:
            raise NotFound(
                f"no snapshot of {coop_id} in the history store: check the ID against the "
                "registry; snapshots are taken by every cycle from this version on"
            )
        first = f"{kept[0].taken_at.astimezone(WIB):%Y-%m-%d %H:%M}"
        raise NotFound(
            f"no snapshot of {coop_id} on or before {day}: the oldest kept is from {first} WIB "
            f"(see kkmp-sheets history {coop_id} --config {cfg.path})"
        )
    title = match_tab(snap.raw, tab)
    if title is None:
        raise NotFound(
            f"the snapshot of {coop_id} from {snap.taken_at.astimezone(WIB):%Y-%m-%d %H:%M} WIB "
            f"has no tab {tab!r}; its tabs: {', '.join(snap.raw.tabs) or 'none'}"
        )
    rows = snap.raw.tabs[title]
    if to_file is not None:
        write_separate(to_file, title, rows)
        written, path = title, to_file
    else:
        path = _local_workbook(cfg, coop_id)
        label = (day.astimezone(WIB).date() if isinstance(day, datetime) else day).isoformat()
        written = free_title(_tab_names(path), f"{title} (pulihan {label})")
        _write_new_tab(path, written, rows)
    return Restored(coop_id, title, written, path, len(rows), snap.taken_at, snap.seen_at)


def match_tab(raw: RawWorkbook, wanted: str) -> str | None:
    """The snapshot's tab named `wanted`, matched like the workbook contract matches tabs: any
    case, spacing and punctuation, and the contract's aliases (`Anggota` finds `Members`)."""
    key = normalize(wanted)
    titles = {normalize(title): title for title in raw.tabs}
    if key in titles:
        return titles[key]
    for keys in (PROFIL.match_keys, *(spec.match_keys for spec in TABLES)):
        if key in keys:
            return next((title for norm, title in titles.items() if norm in keys), None)
    return None


def free_title(existing: list[str], wanted: str) -> str:
    """`wanted`, cut to Excel's 31 characters, made different from every existing tab name."""
    taken = {name.casefold() for name in existing}
    for n in range(1, 100):
        suffix = "" if n == 1 else f" {n}"
        title = _fit(wanted, suffix)
        if title.casefold() not in taken:
            return title
    raise OutputError("too many restored tabs of the same name: delete some first")


def _fit(wanted: str, suffix: str) -> str:
    """Keep the "(pulihan DATE)" part whole; shorten the tab's own name if needed."""
    if len(wanted) + len(suffix) <= MAX_TITLE:
        return wanted + suffix
    name, sep, tail = wanted.rpartition(" (")
    tail = sep.lstrip() + tail if sep else ""
    room = MAX_TITLE - len(suffix) - len(tail) - 1
    return f"{name[: max(room, 1)].rstrip()} {tail}{suffix}"[:MAX_TITLE]


def _local_workbook(cfg: Config, coop_id: str) -> Path:
    from kkmp_sheets.sources.local import LocalSource

    if cfg.source_kind != "local":
        raise KkmpError(
            f"restoring into a {cfg.source_kind} spreadsheet is not available yet: use "
            "--to-file PATH to get the tab as a separate .xlsx"
        )
    source = LocalSource(cfg.registry, roots=cfg.workbook_roots, work_dir=cfg.data_dir)
    coops, _ = read_registry(source.registry_rows())
    coop = next((c for c in coops if c.id == coop_id), None)
    if coop is None:
        raise NotFound(
            f"{coop_id} is not in the registry {cfg.registry} any more: use --to-file PATH to get "
            "the tab as a separate .xlsx"
        )
    from kkmp_sheets.sources.base import ReadFailure

    try:
        return source.locate(coop)
    except ReadFailure:
        raise KkmpError(
            f"{coop_id}: its Spreadsheet path in the registry (row {coop.row}) leads outside "
            f"{' and '.join(str(r) for r in cfg.workbook_roots)}, where the service does not "
            "write: move the workbook inside and give its path relative to the registry, or "
            "use --to-file PATH"
        ) from None


def _tab_names(path: Path) -> list[str]:
    try:
        return list(python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception as exc:  # calamine raises several kinds for missing or damaged files
        raise OutputError(
            f"{path} cannot be opened ({exc}): restore with --to-file PATH instead"
        ) from None


def _write_new_tab(path: Path, title: str, rows: Rows) -> None:
    from kkmp_sheets.sources import xlsx_patch

    try:
        xlsx_patch.write_tab(path, title, rows)
    except xlsx_patch.PatchError as exc:
        raise OutputError(
            f"the tab was not restored into {path}: {exc}. Close the workbook if it is open, "
            "or restore with --to-file PATH"
        ) from None


def write_separate(path: Path, title: str, rows: Rows) -> None:
    """One tab in a new `.xlsx`: text stays text (a NIK, a formula-looking note), dates dates."""
    import xlsxwriter

    path = Path(path)
    if path.exists():
        raise OutputError(f"{path} already exists: give --to-file a new file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
        sheet = book.add_worksheet(title[:MAX_TITLE])
        day = book.add_format({"num_format": "dd/mm/yyyy"})
        moment = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                _cell(sheet, r, c, value, day, moment)
        book.close()
    except OSError as exc:
        raise OutputError(f"{path} cannot be written: {exc.strerror or exc}") from None


def _cell(sheet: Any, r: int, c: int, value: Any, day: Any, moment: Any) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        sheet.write_boolean(r, c, value)
    elif isinstance(value, int | float):
        sheet.write_number(r, c, value)
    elif isinstance(value, datetime):
        sheet.write_datetime(r, c, value.replace(tzinfo=None), moment)
    elif isinstance(value, date):
        sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
    else:
        sheet.write_string(r, c, str(value))


# --- confirm -------------------------------------------------------------------------------------


def confirm_text(cfg: Config, coop_id: str, now: datetime) -> str:
    with HistoryStore.for_config(cfg) as store:
        state = protection.confirm(store, coop_id, now)
    if state is None:
        return f"{coop_id}: nothing is held (no sudden drop waiting for confirmation).\n"
    return (
        f"{coop_id}: the drop is confirmed as real. From the next sync the figures read on "
        f"{state.seen.day} are used (active members {state.seen.anggota}, stock items "
        f"{state.seen.stok}; before: {state.good.anggota} and {state.good.stok}).\n"
    )
