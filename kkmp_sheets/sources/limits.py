"""How big a cooperative workbook may be, and the checks that need no spreadsheet parser.

A workbook is a file other people control. An `.xlsx` is a zip of XML parts, and a few hundred
kilobytes of it can declare gigabytes: a part that inflates a thousandfold (a zip bomb), a sheet
whose `<dimension>` claims the whole 1,048,576 × 16,384 grid, a shared-string table that
announces billions of entries. The spreadsheet reader trusts those numbers and allocates for
them, and an allocation that fails in native code aborts the whole process. So before any part
is parsed, `check_container` reads the zip's central directory (sizes, ratios, entry count) and
the first few kilobytes of each XML part (the declared `<dimension>` and `uniqueCount`), and
refuses what is over a limit with a reason staff can read. What these cheap checks cannot see
(a directory that lies, a part that is not where the rels say) is caught by the reader's own
memory and time limits (`sources/isolation.py`).

The limits themselves are the `[limits]` section of the config (`config.ReadLimits`).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from kkmp_sheets.config import ReadLimits

__all__ = ["ReadLimits", "TooLarge", "check_container", "declared_size", "grouped"]

MB = 1024 * 1024


class TooLarge(Exception):
    """The workbook is over a limit; the message says which, in Indonesian, for staff."""


# A part smaller than this is never refused for its ratio: tiny parts compress oddly.
_RATIO_FLOOR = 1 * MB
# How much of each XML part is read for its declarations (they sit at the very start).
_HEAD_BYTES = 16 * 1024
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']+)[\"']")
_UNIQUE_COUNT = re.compile(rb"<(?:\w+:)?sst\b[^>]*?\buniqueCount\s*=\s*[\"'](\d+)[\"']")
_CELL = re.compile(r"\$?([A-Za-z]{1,3})?\$?(\d+)?")


def check_container(path: Path, limits: ReadLimits) -> None:
    """Raise `TooLarge` when the zip directory or a part's declarations are over `limits`.

    A file that is not a zip (an old `.xls`, an encrypted workbook, a damaged file) passes: the
    reader reports what it is, under its own memory and time limits."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_entries:
            raise TooLarge(
                f"berisi {grouped(len(entries))} bagian, batasnya {grouped(limits.max_entries)}"
            )
        total = sum(entry.file_size for entry in entries)
        if total > limits.max_uncompressed_mb * MB:
            raise TooLarge(
                f"isinya {grouped(total // MB)} MB setelah dibuka, batasnya "
                f"{grouped(limits.max_uncompressed_mb)} MB"
            )
        for entry in entries:
            if entry.file_size >= _RATIO_FLOOR:
                ratio = entry.file_size / max(entry.compress_size, 1)
                if ratio > limits.max_compression_ratio:
                    raise TooLarge(
                        f"bagian {_name(entry.filename)} dimampatkan {grouped(int(ratio))} kali, "
                        f"batasnya {grouped(limits.max_compression_ratio)} kali"
                    )
        for entry in entries:
            if entry.filename.lower().endswith(".xml"):
                _check_declarations(archive, entry, limits)


def _check_declarations(
    archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limits: ReadLimits
) -> None:
    try:
        with archive.open(entry) as part:
            head = part.read(_HEAD_BYTES)
    except Exception:  # a damaged or encrypted part: the reader says what it is
        return
    found = _DIMENSION.search(head) if b"dimension" in head else None  # find() is quicker
    if found:
        rows, columns = declared_size(found.group(1).decode("ascii", "replace"))
        where = "salah satu tab"  # staff know tab names, not zip part names
        if rows > limits.max_rows:
            raise TooLarge(
                f"{where} menyatakan {grouped(rows)} baris, batasnya {grouped(limits.max_rows)}"
            )
        if columns > limits.max_columns:
            raise TooLarge(
                f"{where} menyatakan {grouped(columns)} kolom, batasnya "
                f"{grouped(limits.max_columns)}"
            )
        if rows * columns > limits.max_cells:
            raise TooLarge(
                f"{where} menyatakan {grouped(rows * columns)} sel, batasnya "
                f"{grouped(limits.max_cells)}"
            )
    unique = _UNIQUE_COUNT.search(head) if b"uniqueCount" in head else None
    if unique and int(unique.group(1)) > limits.max_cells:
        raise TooLarge(
            f"daftar teksnya menyatakan {grouped(int(unique.group(1)))} isian, batasnya "
            f"{grouped(limits.max_cells)}"
        )


def declared_size(ref: str) -> tuple[int, int]:
    """Rows and columns of a range reference like `A1:XFD1048576` (`A1` alone: one cell)."""
    corners = [_corner(part) for part in ref.strip().split(":")[:2]]
    if len(corners) == 1:
        return 1, 1
    (row1, col1), (row2, col2) = corners
    return abs(row2 - row1) + 1, abs(col2 - col1) + 1


def _corner(text: str) -> tuple[int, int]:
    match = _CELL.fullmatch(text.strip())
    if match is None:
        return 1, 1
    letters, digits = match.group(1) or "A", match.group(2) or "1"
    column = 0
    for letter in letters.upper():
        column = column * 26 + ord(letter) - ord("A") + 1
    return int(digits), column


def grouped(number: int) -> str:
    """`1.048.576`: Indonesian thousands grouping."""
    return f"{number:,}".replace(",", ".")


def _name(part: str) -> str:
    """A part name as shown to staff: the file's own text, short."""
    return part if len(part) <= 60 else part[:57] + "..."
