"""Acknowledged warnings: a Peringatan staff checked and found correct, ticked in Hasil Pemeriksaan.

Hasil Pemeriksaan has a column "Sudah Dicek" that staff fill (Ya, ✓, x, TRUE, a checkbox) and a
narrow grey column "Kunci" the service fills with each problem's key: a short opaque hash of

- the problem's code, tab and column,
- the record's identity within its tab: the natural key of the tab (No Anggota for Anggota,
  Kode Barang for Stok, Tanggal + No Anggota + Jenis + Jumlah for Simpanan, Tanggal + No Nota +
  Kode Barang for Penjualan; the field itself for Profil), or, when those cells are empty, all
  the cells of the row; never the sheet row number,
- and the value as typed.

So a tick follows its row when staff insert rows above it or sort the tab (the key sits on the
row they sort), and lapses when the value changes (the key changes: the problem is a new one).
A key that appears twice in a tab (two identical records with the same problem) gets `#2`, `#3`
in row order.

What is read of a workbook's Hasil Pemeriksaan is only the keys of the ticked rows, kept as the
pseudo-tab `TICKS_TAB` of the workbook as read (`RawWorkbook.tabs`), so that they travel with the
workbook into its snapshot and are there when an unchanged workbook is checked from it. Its name
holds brackets, which no spreadsheet tab name may, so it cannot meet a real tab.

An acknowledged Peringatan (`Issue.acknowledged`) stays in the cooperative's own Hasil
Pemeriksaan, marked, and counts nowhere else: not in the Peringatan figure, Masalah Data, the
digests or the history store. A tick on a Galat is ignored and said so on its row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from kkmp_sheets.core.issue import Issue, display_value
from kkmp_sheets.core.parse import Rows, locate_header
from kkmp_sheets.core.template import (
    ANGGOTA,
    FEEDBACK_TAB,
    PENJUALAN,
    PROFIL,
    SIMPANAN,
    STOK,
    TICKS_TAB,
    TableSpec,
    normalize,
)

__all__ = ["TICKS_TAB", "ackable", "is_tick", "key_of", "keyed", "ticked", "ticks_in"]
TICK_COLUMN = "Sudah Dicek"
KEY_COLUMN = "Kunci"
# What staff may type to tick a row (matched like every listed value: case and spaces ignored);
# a checkbox reads as True.
TICK_WORDS = frozenset(
    normalize(word) for word in ("ya", "y", "yes", "sudah", "ok", "benar", "true", "x", "v", "1")
) | frozenset({"✓", "✔", "☑", "√", "✅"})

# The natural key of each tab: the cells that say which record a row is.
IDENTITY: dict[str, tuple[str, ...]] = {
    ANGGOTA.name: ("no_anggota",),
    SIMPANAN.name: ("tanggal", "no_anggota", "jenis", "jumlah"),
    STOK.name: ("kode_barang",),
    PENJUALAN.name: ("tanggal", "no_nota", "kode_barang"),
}
_SPECS: tuple[TableSpec, ...] = (ANGGOTA, SIMPANAN, STOK, PENJUALAN)


def is_tick(value: Any) -> bool:
    if value is True:
        return True
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value == 1
    text = str(value).strip()
    return text in TICK_WORDS or normalize(text) in TICK_WORDS


def ackable(issue: Issue) -> bool:
    """A problem that has a row of its own staff could tick (not the workbook as a whole, not
    the service's own write)."""
    return issue.row is not None and bool(issue.tab) and issue.tab != FEEDBACK_TAB


def key_of(issue: Issue, identity: str) -> str:
    text = "\x1f".join(
        (
            issue.code,
            normalize(issue.tab),
            normalize(issue.column),
            identity,
            display_value(issue.value),
        )
    )
    return hashlib.blake2b(text.encode("utf-8"), digest_size=5).hexdigest()


def keyed(issues: Iterable[Issue], tabs: Mapping[str, Rows] | None = None) -> list[Issue]:
    """`issues` with their keys, the record identities read from the workbook's `tabs` (None:
    the value alone identifies, as for a NIK registered elsewhere)."""
    identities = _Identities(tabs or {})
    out: list[Issue] = []
    seen: dict[str, int] = {}
    for issue in issues:
        if issue.key or not ackable(issue):
            out.append(issue)
            continue
        key = key_of(issue, identities.of(issue.tab, issue.row or 0))
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key}#{seen[key]}"
        out.append(replace(issue, key=key))
    return out


def ticked(issues: Iterable[Issue], ticks: Iterable[str]) -> list[Issue]:
    """`issues` with `ticked` set where staff ticked their key (Galat too: shown as ignored)."""
    marks = set(ticks)
    return [replace(i, ticked=True) if i.key and i.key in marks else i for i in issues]


def ticks_in(tabs: Mapping[str, Rows]) -> list[str]:
    """The ticked keys kept with a workbook as read."""
    return [str(row[0]) for row in tabs.get(TICKS_TAB) or () if row and row[0]]


def ticks_of_feedback(rows: Rows) -> Rows:
    """The ticked rows of a Hasil Pemeriksaan as read, as `TICKS_TAB` rows ([key], sorted):
    found by the "Kunci" and "Sudah Dicek" headers wherever they are, so that a tab staff
    sorted, or one written by an older layout, reads right. [] when nothing is ticked."""
    tick_col = key_col = None
    header = -1
    for index, row in enumerate(rows[:20]):
        names = [normalize(c) for c in row]
        if normalize(KEY_COLUMN) in names and normalize(TICK_COLUMN) in names:
            key_col, tick_col = (
                names.index(normalize(KEY_COLUMN)),
                names.index(normalize(TICK_COLUMN)),
            )
            header = index
            break
    if key_col is None or tick_col is None:
        return []
    keys = set()
    for row in rows[header + 1 :]:
        if max(key_col, tick_col) >= len(row):
            continue
        key = row[key_col]
        if key and isinstance(key, str) and is_tick(row[tick_col]):
            keys.add(key.strip())
    return [[key] for key in sorted(keys)]


class _Identities:
    """The identity of a row of a tab, from the raw rows under the tab's located header."""

    def __init__(self, tabs: Mapping[str, Rows]) -> None:
        self.tabs = tabs
        self._located: dict[str, tuple[str, dict[str, int]] | None] = {}

    def of(self, tab: str, row: int) -> str:
        if normalize(tab) in PROFIL.match_keys:
            return ""  # the field (the issue's column) is the record
        where = self._locate(tab)
        rows = self.tabs.get(tab)
        if where is None or rows is None or not 0 < row <= len(rows):
            return ""
        spec_name, positions = where
        cells = rows[row - 1]
        picked = [
            display_value(cells[positions[key]])
            if positions.get(key, len(cells)) < len(cells)
            else ""
            for key in IDENTITY[spec_name]
        ]
        if any(picked):
            return "\x1e".join(picked)
        return "\x1e".join(display_value(c) for c in cells)  # no key cells: the whole row

    def _locate(self, tab: str) -> tuple[str, dict[str, int]] | None:
        if tab not in self._located:
            found = None
            spec = next((s for s in _SPECS if normalize(tab) in s.match_keys), None)
            rows = self.tabs.get(tab)
            if spec is not None and rows is not None:
                located = locate_header(rows, spec)
                if located is not None:
                    found = (spec.name, {key: pos for pos, key in located[1].items()})
            self._located[tab] = found
        return self._located[tab]
