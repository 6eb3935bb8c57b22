"""One cooperative's workbook while it is being made: its habits, its tabs, its mistakes so far.

`_Book` holds what the steps share (`layout`, `members`, `shop`, `profil`, then `workbook`, in
that order): the plan, the habits of whoever types the workbook, and the tabs as rows of values.
Every step draws from the book's one `rng`, seeded by (seed, cooperative index), so a seed gives
the same workbook whichever process builds it, and the order of the steps is part of that.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from kkmp_sheets.core.template import PROFIL
from kkmp_sheets.demo import catalogues as cat
from kkmp_sheets.demo.plan import _SOLD_UNTIL, _STARTED, MISTAKES, DemoCoop, SeededMistake, _Plan


@dataclass(frozen=True)
class _Typed:
    """A value written exactly as is, not through the cooperative's date or money habit."""

    value: str | float


_TOTAL = object()  # stands for a `=Jumlah*Harga Satuan` formula in the Total column
Row = dict[str, Any]


@dataclass
class _Tab:
    name: str
    cols: list[str]  # contract keys (and extra columns) in sheet order
    headers: dict[str, str]
    above: list[str | None]  # rows above the header: titles, None = blank
    rows: list[Row | None] = field(default_factory=list)  # None = a blank row
    money: frozenset[str] = frozenset()

    def sheet_row(self, index: int) -> int:
        return len(self.above) + 2 + index

    def data_rows(self, where: Callable[[Row], bool]) -> list[int]:
        return [i for i, r in enumerate(self.rows) if r is not None and where(r)]


@dataclass
class _Member:
    id: str | int
    join: date
    left: date | None
    row: int  # index in the Anggota rows


def _anything(row: Row) -> bool:
    return True


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


class _Book:
    """One cooperative's workbook: its habits, its records, its mistakes, then the file."""

    # set here: the plan, and the habits of whoever types the workbook
    plan: _Plan
    coop: DemoCoop
    kind: str
    todo: tuple[str, ...]  # the mistakes to make
    rng: random.Random
    seeded: list[SeededMistake]
    people: list[tuple[str, str]]
    date_style: str
    money_style: str
    upper_names: bool
    upper_headers: bool
    tidy: bool
    short: str
    jenis_desa: str
    scale: float
    edit: date
    musyawarah: date
    mulai: date | None
    last_sale: date | None
    # set by layout._layout
    anggota: _Tab
    simpanan: _Tab
    stok: _Tab
    penjualan: _Tab
    profil: _Tab
    # set by members._anggota and members._simpanan
    id_style: str
    initials: str
    members: list[_Member]
    pokok: int
    wajib: int
    # set by shop._stok and shop._penjualan
    goods: list[tuple[str, cat.Good, int]]  # (Kode Barang, good, Harga Jual)
    unknown_code: str
    sppg: bool
    formula_total: bool
    # set by layout._structure: the tabs in the order they are written
    sheets: list[_Tab | tuple[str, list[list[Any]]]]

    def __init__(self, plan: _Plan) -> None:
        self.plan, self.coop, self.kind, self.todo = plan, plan.coop, plan.coop.kind, plan.mistakes
        self.rng = rng = random.Random(f"kkmp-demo:{plan.seed}:{plan.index}")
        self.seeded = []
        self.people = []
        self.date_style = _weighted(rng, cat.DATE_STYLES)
        self.money_style = _weighted(rng, cat.MONEY_STYLES)
        self.upper_names = rng.random() < 0.3  # typed in capitals, as on the KTP
        self.upper_headers = rng.random() < 0.2
        self.tidy = rng.random() < 0.4  # no title rows anywhere
        self.short = f"KKMP {self.coop.kelurahan.upper()}"
        self.jenis_desa = "Kelurahan" if "Kelurahan" in self.coop.nama else "Desa"
        self.scale = 1.0 if self.jenis_desa == "Kelurahan" else 0.5  # a desa is smaller
        as_of, self.edit = plan.as_of, self.coop.edited.date()
        self.musyawarah = as_of - timedelta(days=rng.randint(200, 290))
        self.mulai = self.last_sale = None
        if self.kind != "persiapan":
            began = as_of - timedelta(days=rng.randint(*_STARTED.get(self.kind, (100, 175))))
            self.mulai = max(self.musyawarah + timedelta(days=30), began)
            until = _SOLD_UNTIL.get(self.kind)
            last = as_of - timedelta(days=rng.randint(*until)) if until else self.edit
            self.last_sale = min(self.edit, last)

    def pick(self, tab: _Tab, where: Callable[[Row], bool] = _anything) -> tuple[int, Row]:
        """A random data row (one matching `where` if any does) and its index."""
        i = self.rng.choice(tab.data_rows(where) or tab.data_rows(_anything))
        return i, tab.rows[i] or {}

    def seed(self, tab: _Tab, index: int | None, key: str, mistake: str, value: Any) -> None:
        """Record a mistake at data row `index` of `tab` (None: the whole tab or column)."""
        row = None if index is None else tab.sheet_row(index)
        field_key = (tab.rows[index] or {}).get("key") if index is not None else None
        # A Profil problem is reported under the field's one label, however the row names it.
        header = PROFIL.field(field_key).label if field_key else tab.headers.get(key, key)
        code = MISTAKES[mistake][0] if mistake in MISTAKES else mistake
        self.seeded.append(SeededMistake(self.coop.id, tab.name, row, header, code, value))

    def seed_future_date(self, tab: _Tab, where: Callable[[Row], bool]) -> None:
        """A year typed one too high: a date after as_of."""
        i, row = self.pick(tab, lambda r: type(r["tanggal"]) is date and where(r))
        row["tanggal"] = when = max(
            row["tanggal"] + timedelta(days=365), self.plan.as_of + timedelta(days=30)
        )
        self.seed(tab, i, "tanggal", "future-date", when)
