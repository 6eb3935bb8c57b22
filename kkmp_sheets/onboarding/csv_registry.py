"""Editing a CSV registry in place: only the cells written change, every other byte stays."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from kkmp_sheets.core.parse import locate_header
from kkmp_sheets.core.registry import REGISTRY_SPEC
from kkmp_sheets.errors import OutputError, SourceError


def set_csv_cells(path: Path, values: dict[str, str]) -> None:
    """Put `values` (cooperative ID → text) in the Spreadsheet cells of those rows.

    Only those records are rewritten (same delimiter, same line ending); every other byte of the
    file stays as it was, and the encoding (UTF-8 with or without BOM, or Windows-1252) is kept.
    A cell that is no longer empty is left alone."""
    raw = path.read_bytes()
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        encoding = "cp1252"
        text = raw.decode(encoding)
    records = split_records(text)
    first = records[0][0] if records else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = [_fields(body, delimiter) for body, _ in records]
    located = locate_header(rows, REGISTRY_SPEC)
    if located is None:
        raise SourceError(f"registry {path}: no header row with ID and Spreadsheet columns")
    header_index, positions, _ = located
    column = {key: pos for pos, key in positions.items()}
    id_col, sheet_col = column["id"], column.get("spreadsheet")
    if sheet_col is None:
        raise SourceError(
            f"registry {path} has no Spreadsheet column: add one (header 'Spreadsheet')"
        )
    left = dict(values)
    for index in range(header_index + 1, len(records)):
        fields = rows[index]
        coop_id = fields[id_col].strip() if id_col < len(fields) else ""
        if coop_id not in left:
            continue
        value = left.pop(coop_id)
        if sheet_col < len(fields) and fields[sheet_col].strip():
            continue
        fields += [""] * (sheet_col + 1 - len(fields))
        fields[sheet_col] = value
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="").writerow(fields)
        records[index] = (out.getvalue(), records[index][1])
    if left:
        raise SourceError(f"registry {path} changed meanwhile: rows {', '.join(left)} not found")
    new_text = "".join(body + end for body, end in records)
    try:
        data = new_text.encode(encoding)
    except UnicodeEncodeError:
        raise OutputError(
            f"registry {path} is saved as Windows-1252 and a new value does not fit it: "
            "save the registry as CSV UTF-8 and run provision again"
        ) from None
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, path.stat().st_mode & 0o7777)
    os.replace(tmp, path)


def split_records(text: str) -> list[tuple[str, str]]:
    """CSV text as (record, line ending) pairs; a quoted field may hold line breaks."""
    out: list[tuple[str, str]] = []
    start, quoted, i, n = 0, False, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "\r\n":
            end = i + 2 if text.startswith("\r\n", i) else i + 1
            out.append((text[start:i], text[i:end]))
            start = i = end
            continue
        i += 1
    if start < n:
        out.append((text[start:], ""))
    return out


def _fields(record: str, delimiter: str) -> list[str]:
    return next(csv.reader([record], delimiter=delimiter), [])
