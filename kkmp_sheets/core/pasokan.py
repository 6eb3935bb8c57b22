"""Pasokan: stock on hand per category, in the unit people plan supply in (docs/pasokan.md).

Each cooperative's Stok rows arrive summed per (Kategori, base unit) (`metrics.base_unit`:
`karung 5 kg` is 5 kg, `Minyakita 1 L` in pouches is litres). Here they become one row per
category in that category's unit — eggs converted between butir and kg at the configured rate
— for the city and for each kecamatan. A quantity whose unit cannot be converted to its
category's unit stays on a row of its own, with a note, instead of being added to numbers of
another unit. Pure: no config, no I/O; the rate arrives as `PasokanRules`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kkmp_sheets.core.metrics import NO_UNIT
from kkmp_sheets.core.tables import Cell, Fmt

# The order of the contract's categories (PRODUCT.md, Stok), then any other name.
CATEGORY_ORDER = ("Beras", "Minyak Goreng", "Gula", "Telur", "Tepung", "LPG", "Lainnya")
# The unit each staple is planned in (SPPG kitchens and Bulog programmes count rice, sugar,
# flour and eggs by weight, oil by volume). Lainnya has none: its goods share no unit.
CATEGORY_UNIT = {
    "Beras": "kg",
    "Minyak Goreng": "liter",
    "Gula": "kg",
    "Telur": "kg",
    "Tepung": "kg",
    "LPG": "kg",
}
# Units that are measured, not counted: shown with decimals where the quantity has them.
MEASURED = frozenset({"kg", "liter"})
EGGS = "Telur"
BUTIR = "butir"
DEFAULT_BUTIR_PER_KG = 16.0  # ayam ras eggs: about 60–65 g each
DECIMALS = 2  # of a measured quantity: 10 g or 10 ml is the finest a planner needs


@dataclass(frozen=True)
class PasokanRules:
    """`[pasokan]` of the config."""

    telur_butir_per_kg: float = DEFAULT_BUTIR_PER_KG


# (kategori, base unit) → [quantity in that unit, value in Rp, items below Stok Minimum]
CoopStock = Mapping[tuple[str, str], list[float]]


@dataclass(frozen=True)
class PasokanRow:
    kategori: str
    satuan: str
    jumlah: float
    nilai: float
    kkmp: int  # cooperatives holding some of it
    di_bawah_minimum: int
    catatan: str = ""

    @property
    def counted(self) -> bool:
        return self.satuan not in MEASURED

    def quantity_cell(self) -> Cell:
        """Whole numbers for a counted unit (butir, pcs, karung, …); kg and liter with at most
        two decimals, and none when the quantity is whole (`45.430`, `12,5`)."""
        if self.counted:
            return Cell(round(self.jumlah), Fmt.INT)
        amount = round(self.jumlah, DECIMALS)
        if amount == int(amount):
            return Cell(int(amount), Fmt.INT)
        return Cell(amount, Fmt.NUMBER)


def converted(
    kategori: str, unit: str, quantity: float, rules: PasokanRules
) -> tuple[str, float, str]:
    """(unit, quantity, note) of one category's quantity in its category's unit, when it can be
    converted; else in its own unit with a note saying why it stands apart."""
    target = CATEGORY_UNIT.get(kategori)
    if unit == NO_UNIT:
        return unit, quantity, "Satuan tidak diisi di tab Stok; dijumlahkan terpisah"
    if target is None or unit == target:
        return unit, quantity, ""
    if kategori == EGGS and unit == BUTIR and target == "kg" and rules.telur_butir_per_kg > 0:
        return target, quantity / rules.telur_butir_per_kg, ""
    return (
        unit,
        quantity,
        (
            f"Satuan '{unit}' tidak bisa diubah ke {target}; dijumlahkan terpisah dari baris {target}"
        ),
    )


def pasokan_rows(stocks: Iterable[CoopStock], rules: PasokanRules) -> list[PasokanRow]:
    """The rows of a group of cooperatives (the city, or one kecamatan), in category order."""
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    notes: dict[tuple[str, str], str] = {}
    holders: dict[tuple[str, str], int] = defaultdict(int)
    for stock in stocks:
        held: set[tuple[str, str]] = set()
        for (kategori, unit), (quantity, value, below) in stock.items():
            unit_shown, amount, note = converted(kategori, unit, quantity, rules)
            key = (kategori, unit_shown)
            slot = totals[key]
            slot[0] += amount
            slot[1] += value
            slot[2] += below
            if note:
                notes[key] = note
            if amount > 0:
                held.add(key)
        for key in held:  # a cooperative with eggs in kg and in butir holds eggs once
            holders[key] += 1
    rows = [
        PasokanRow(k, u, v[0], v[1], holders[(k, u)], int(v[2]), notes.get((k, u), ""))
        for (k, u), v in totals.items()
    ]
    order = {name: i for i, name in enumerate(CATEGORY_ORDER)}
    # The category's own unit first, then the units that stand apart, largest first.
    return sorted(
        rows,
        key=lambda r: (order.get(r.kategori, 99), r.kategori, bool(r.catatan), -r.jumlah),
    )
