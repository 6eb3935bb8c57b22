"""Column letters of A1 notation, defined once for Excel, Sheets and the local fake.

Indexes are 0-based, like xlsxwriter's columns and a Sheets `GridRange`: 0 is `A`, 25 `Z`,
26 `AA`, 16383 `XFD` (Excel's last column).
"""

from __future__ import annotations


def column_letters(index: int) -> str:
    """0 → `A`, 25 → `Z`, 26 → `AA`."""
    if index < 0:
        raise ValueError(f"a column index is 0 or more, not {index}")
    letters = ""
    number = index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """`A` → 0, `AA` → 26 (case-insensitive)."""
    if not letters.isascii() or not letters.isalpha():
        raise ValueError(f"column letters are A to Z, not {letters!r}")
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number - 1
