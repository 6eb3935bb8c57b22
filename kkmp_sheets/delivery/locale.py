"""How figures read in one language: numbers, money, shares, dates and times (always in WIB).

Indonesian is the rule (`1.250.000`, `Rp1.250.000`, `85,7%`, `17 Januari 2026`); English swaps
the marks (`1,250,000`) and names months and zones in English. `Locale.show` turns a catalogue
figure's value into text by its display format (`core.tables.Fmt`), and `Locale.rows` makes the
label/value rows every digest and the CLI summary show, so that a figure reads the same
everywhere: a share has `PERCENT_DECIMALS` decimals, as in the status workbook.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kkmp_sheets.core import formats
from kkmp_sheets.core.figures import Figure
from kkmp_sheets.core.tables import PERCENT_DECIMALS, Fmt
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.core.zoning import HIJAU, KUNING, MERAH

ZONES = (HIJAU, KUNING, MERAH)
NONE_SHOWN = "–"

_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
# The Indonesian words a text figure takes (`Ya`, `Tidak Ada`, …), for the English digests.
_EN_WORDS = {
    "Ya": "Yes",
    "Tidak": "No",
    "Ada": "present",
    "Tidak Ada": "missing",
    "Salah Format": "malformed",
    "Belum diisi": "not filled in",
    "Tidak terbaca": "unreadable",
}


@dataclass(frozen=True)
class FigureRow:
    """One figure as a digest or the CLI shows it: its label and its value as text."""

    key: str
    label: str
    text: str


@dataclass(frozen=True)
class Locale:
    """How numbers, money, dates and times read in one language (times always in WIB)."""

    code: str
    zone_names: dict[str, str]
    letters: dict[str, str]  # one letter per zone for plain-text bars

    def number(self, x: float | None, decimals: int = 0) -> str:
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return NONE_SHOWN
        text = formats.format_number(float(x), decimals)
        return text if self.code == "id" else text.translate(_SWAP)

    def rupiah(self, x: float | None) -> str:
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return NONE_SHOWN
        text = formats.format_rupiah(round(float(x)))
        return text if self.code == "id" else text.translate(_SWAP)

    def percent(self, fraction: float | None, decimals: int = PERCENT_DECIMALS) -> str:
        if fraction is None or (isinstance(fraction, float) and not math.isfinite(fraction)):
            return NONE_SHOWN
        return self.number(fraction * 100, decimals) + "%"

    def signed(self, x: int) -> str:
        return f"+{self.number(x)}" if x > 0 else self.number(x) if x < 0 else "±0"

    def date(self, d: date | datetime | None) -> str:
        if d is None:
            return NONE_SHOWN
        if isinstance(d, datetime):
            d = wib(d).date()
        if self.code == "id":
            return formats.format_date(d)
        return f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}"

    def time(self, moment: datetime) -> str:
        local = wib(moment)
        sep = "." if self.code == "id" else ":"
        return f"{local:%H}{sep}{local:%M} WIB"

    def datetime(self, moment: datetime | None) -> str:
        if moment is None:
            return NONE_SHOWN
        return f"{self.date(moment)} {self.time(moment)}"

    def zone(self, name: str) -> str:
        return self.zone_names.get(name, name)

    def word(self, text: str) -> str:
        """A text figure's value (`Ya`, `Tidak Ada`, …) in this language."""
        return _EN_WORDS.get(text, text) if self.code == "en" else text

    def textbar(self, counts: Sequence[int], width: int = 20, scale: int | None = None) -> str:
        """`HHHHHKKKKMMM`: one letter per zone (Hijau, Kuning, Merah), `width` for `scale` coops."""
        total = scale or sum(counts) or 1
        cells = shares(counts, round(width * sum(counts) / total))
        return "".join(self.letters[z] * n for z, n in zip(ZONES, cells, strict=True))

    def show(self, fmt: Fmt, value: Any) -> str:
        """A figure's value as text, by its display format."""
        if value is None:
            return NONE_SHOWN
        if fmt is Fmt.INT:
            return self.number(value)
        if fmt is Fmt.NUMBER:
            return self.number(value, 1)
        if fmt is Fmt.RUPIAH:
            return self.rupiah(value)
        if fmt is Fmt.PERCENT:
            return self.percent(value)
        if fmt is Fmt.DATETIME:
            return self.datetime(value)
        if fmt is Fmt.DATE:
            return self.date(value)
        if fmt is Fmt.ZONE:
            return self.zone(str(value))
        return self.word(str(value))

    def rows(
        self, figures: Iterable[Figure], value: Callable[[str], Any], *, city: bool = False
    ) -> list[FigureRow]:
        """Label/value rows of `figures`, each value read by key; `city` uses Ringkasan's names."""
        return [
            FigureRow(f.key, f.label_for(self.code, city=city), self.show(f.fmt, value(f.key)))
            for f in figures
        ]


_SWAP = str.maketrans(",.", ".,")
LOCALES = {
    "id": Locale("id", {}, {HIJAU: "H", KUNING: "K", MERAH: "M"}),
    "en": Locale(
        "en",
        {HIJAU: "Green", KUNING: "Yellow", MERAH: "Red"},
        {HIJAU: "G", KUNING: "Y", MERAH: "R"},
    ),
}


def wib(moment: datetime) -> datetime:
    return moment.astimezone(WIB) if moment.tzinfo is not None else moment


def shares(counts: Sequence[int], total: int) -> list[int]:
    """Split `total` in proportion to `counts`, summing exactly (largest remainder)."""
    whole = sum(counts)
    if whole <= 0 or total <= 0:
        return [0] * len(counts)
    raw = [c * total / whole for c in counts]
    out = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out
