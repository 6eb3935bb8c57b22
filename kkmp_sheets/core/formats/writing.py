"""Writing values the Indonesian way: "1.250.000", "Rp1.250.000", "17 Agustus 2025", "85,7%"."""

from __future__ import annotations

import math
from datetime import date

from kkmp_sheets.core.formats.dates import _MONTH_NAMES, _MONTH_SHORT

_SWAP_SEPARATORS = str.maketrans(",.", ".,")


def format_number(x: float, decimals: int = 0) -> str:
    """1250000 -> "1.250.000"; decimals=2 -> "1.250.000,50"; -1250 -> "-1.250".

    Rounds as Python's round() does (to the nearest, ties to even on the binary value), so
    `parse_number(format_number(x, 2)) == round(x, 2)`. Raises ValueError for NaN/infinity.
    """
    if not math.isfinite(x):
        raise ValueError(f"cannot format {x!r} as a number")
    if decimals < 0:
        raise ValueError("decimals must be >= 0")
    text = f"{x:,.{decimals}f}"
    if text[0] == "-" and not text.strip("-0,."):  # -0.001 rounds to "0", not "-0"
        text = text[1:]
    return text.translate(_SWAP_SEPARATORS)


def format_rupiah(x: float) -> str:
    """Rupiah: "Rp1.250.000"; cents only when there are any: "Rp1.250,50"; "-Rp1.250"."""
    text = format_number(x, 2).removesuffix(",00")
    if text[0] == "-":
        return "-Rp" + text[1:]
    return "Rp" + text


def format_date(d: date, short: bool = False) -> str:
    """A date in words: "17 Agustus 2025", or short "17 Agu 2025"."""
    names = _MONTH_SHORT if short else _MONTH_NAMES
    return f"{d.day} {names[d.month - 1]} {d.year}"


def format_percent(fraction: float, decimals: int = 1) -> str:
    """0.857 -> "85,7%"."""
    return format_number(fraction * 100, decimals) + "%"
