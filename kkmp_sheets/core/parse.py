"""Raw rows → typed tables, plus the problems met on the way.

A `RawWorkbook` is what any source hands over: tab title → rows of cell values, anchored at A1
(row index 0 is the sheet's row 1), exactly as the user sees the sheet. This module finds the
contract's tabs and header rows tolerantly, maps headers and aliases to column keys, reads each
cell with `formats` and turns everything it cannot use into an `Issue` at the row the user sees.
It never raises on bad data.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import compress, repeat, zip_longest
from typing import Any, NamedTuple

from kkmp_sheets.core import formats
from kkmp_sheets.core.issue import CATALOG, Issue
from kkmp_sheets.core.template import (
    MAX_ROWS_ABOVE_HEADER,
    PROFIL,
    TABLES,
    TICKS_TAB,
    Column,
    Kind,
    ProfilSpec,
    TableSpec,
    match_choice,
    normalize,
)

Rows = list[list[Any]]

# Past this many rows a tab is read but reported: real cooperatives stay far below it.
LARGE_TAB_ROWS = 50_000
FORMULA_ERRORS = frozenset(
    {
        "#DIV/0!",
        "#N/A",
        "#NAME?",
        "#NULL!",
        "#NUM!",
        "#REF!",
        "#VALUE!",
        "#ERROR!",
        "#SPILL!",
        "#CALC!",
    }
)


@dataclass
class RawWorkbook:
    tabs: dict[str, Rows]
    modified: datetime | None = None  # when the data last changed (Drive time or file mtime)
    version: str | None = None  # the source's revision of what was read (Drive's version)


@dataclass(slots=True)  # one per data row: no per-record __dict__
class Record:
    row: int  # the sheet row the user sees
    values: dict[str, Any]  # column key → typed value (None when blank or unreadable)

    def __getitem__(self, key: str) -> Any:
        return self.values.get(key)


@dataclass
class Table:
    spec: TableSpec
    tab: str  # the tab title as the user wrote it
    headers: dict[str, str]  # column key → header as typed
    records: list[Record] = field(default_factory=list)

    def header(self, key: str) -> str:
        return self.headers.get(key) or self.spec.column(key).label


@dataclass
class Profil:
    tab: str | None
    values: dict[str, Any] = field(default_factory=dict)  # field key → typed value
    rows: dict[str, int] = field(default_factory=dict)  # field key → sheet row
    raw: dict[str, Any] = field(default_factory=dict)  # field key → value as typed


@dataclass
class ParsedWorkbook:
    profil: Profil
    tables: dict[str, Table]  # spec name → table (absent when the tab or its header is missing)
    issues: list[Issue]


def parse_workbook(raw: RawWorkbook) -> ParsedWorkbook:
    # A large tab becomes hundreds of thousands of new records, dicts and values, none of which
    # can form a reference cycle; the cyclic garbage collector would walk them all again and
    # again as they are made (a third of the time of a 200,000-row tab). It is paused while
    # parsing and resumed as it was; reference counting still frees everything as usual.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _parse_workbook(raw)
    finally:
        if paused:
            gc.enable()


def _parse_workbook(raw: RawWorkbook) -> ParsedWorkbook:
    issues: list[Issue] = []
    # The ticks read from Hasil Pemeriksaan travel with the tabs; they are not data.
    titles = {normalize(title): title for title in raw.tabs if title != TICKS_TAB}

    def find(match_keys: frozenset[str]) -> str | None:
        for key, title in titles.items():
            if key in match_keys:
                return title
        return None

    found_any = False
    profil_title = find(PROFIL.match_keys)
    if profil_title is None:
        profil = Profil(tab=None)
        issues.append(Issue("tab-missing", tab=PROFIL.name))
    else:
        found_any = True
        profil = parse_profil(raw.tabs[profil_title], profil_title, PROFIL, issues)

    tables: dict[str, Table] = {}
    for spec in TABLES:
        title = find(spec.match_keys)
        if title is None:
            issues.append(Issue("tab-missing", tab=spec.name))
            continue
        found_any = True
        table = parse_table(raw.tabs[title], title, spec, issues)
        if table is not None:
            tables[spec.name] = table

    if not found_any:
        # One clear problem instead of five "tab missing" lines.
        issues = [Issue("workbook-no-tabs", detail=", ".join(titles.values()) or "kosong")]
    return ParsedWorkbook(profil=profil, tables=tables, issues=issues)


def locate_header(rows: Rows, spec: TableSpec) -> tuple[int, dict[int, str], list[Issue]] | None:
    """The header row index and its column positions → keys, or None when no row looks like one.

    A header must match at least two of the tab's columns; among the first rows the one that
    matches most wins (a title row like "DAFTAR ANGGOTA" matches none).
    """
    lookup: dict[str, str] = {}
    for col in spec.columns:
        for key in col.match_keys:
            lookup.setdefault(key, col.key)
    best: tuple[int, int] | None = None
    for index, row in enumerate(rows[: MAX_ROWS_ABOVE_HEADER + 1]):
        hits = len({lookup[k] for k in (normalize(c) for c in row) if k in lookup})
        if hits >= 2 and (best is None or hits > best[1]):
            best = (index, hits)
    if best is None:
        return None
    index = best[0]
    positions: dict[int, str] = {}
    seen: set[str] = set()
    duplicates: list[Issue] = []
    for pos, cell in enumerate(rows[index]):
        col_key = lookup.get(normalize(cell))
        if col_key is None:
            continue  # an extra column: ignored by contract
        if col_key in seen:
            duplicates.append(
                Issue("column-duplicate", tab="", row=index + 1, column=str(cell).strip())
            )
            continue
        seen.add(col_key)
        positions[pos] = col_key
    return index, positions, duplicates


def parse_table(rows: Rows, title: str, spec: TableSpec, issues: list[Issue]) -> Table | None:
    located = locate_header(rows, spec)
    if located is None:
        expected = ", ".join(c.label for c in spec.columns if c.required)
        issues.append(Issue("header-not-found", tab=title, expected=expected))
        return None
    header_index, positions, duplicates = located
    issues.extend(Issue(d.code, tab=title, row=d.row, column=d.column) for d in duplicates)
    headers = {key: str(rows[header_index][pos]).strip() for pos, key in positions.items()}
    table = Table(spec=spec, tab=title, headers=headers)
    for col in spec.columns:
        if col.required and col.key not in headers:
            issues.append(Issue("column-missing", tab=title, column=col.label))

    readers = [(pos, spec.column(key), headers[key]) for pos, key in positions.items()]
    data_rows = len(rows) - header_index - 1
    if data_rows > LARGE_TAB_ROWS:
        issues.append(Issue("tab-too-large", tab=title, detail=formats.format_number(data_rows)))
    # Blank rows inside a table are skipped by contract.
    body = rows[header_index + 1 :]
    # Most rows start with a plain value (the member's number): kept without a call. The test
    # is a comprehension and the rows are picked with compress, both cheaper than a loop.
    keep = [
        (type(first) is str and first.isascii() and first.strip() not in _BLANK_ASCII)
        or not _blank_row(row)
        for row, first in zip(body, (row[0] if row else None for row in body), strict=True)
    ]
    kept_rows: list[list[Any]] = list(compress(body, keep))
    sheet_rows: list[int] = list(compress(range(header_index + 2, len(rows) + 1), keep))
    # Column by column: each column's reader is chosen once and each distinct value read once.
    # Issues are gathered as (position, issue), position = record index × columns + reader
    # index, then put back in the order of a row-by-row, left-to-right reading.
    width = len(readers)
    found: list[tuple[int, Issue]] = []
    columns: list[list[Any]] = []
    # The rows transposed in C. Google leaves out a row's trailing blank cells: zip_longest
    # fills them with None, as a blank cell reads.
    transposed = list(zip_longest(*kept_rows))
    picked = [
        transposed[pos] if pos < len(transposed) else (None,) * len(kept_rows)
        for pos, _, _ in readers
    ]
    for order, ((_, col, header), cells) in enumerate(zip(readers, picked, strict=True)):
        columns.append(_read_column(cells, sheet_rows, col, title, header, found, order, width))
    if found:
        found.sort(key=_position)
        issues.extend(issue for _, issue in found)
    keys = [col.key for _, col, _ in readers]
    # The records, one per kept row, built without a Python-level loop.
    table.records = list(
        map(Record, sheet_rows, map(dict, map(zip, repeat(keys), zip(*columns, strict=True))))
    )
    if not readers:  # no column to read: a record per non-blank row, as before
        table.records = [Record(sheet_row, {}) for sheet_row in sheet_rows]
    return table


def _position(entry: tuple[int, Issue]) -> int:
    return entry[0]


# Distinct values remembered per column of one table: a column of mostly unique values (amounts,
# notes in a listed-value column) stops growing its memo there, so memory stays bounded
# whatever the tab holds; the memo is dropped with the table's reading.
MEMO_LIMIT = 16_384


def _read_column(
    cells: Sequence[Any],
    sheet_rows: list[int],
    col: Column,
    tab: str,
    header: str,
    found: list[tuple[int, Issue]],
    order: int,
    width: int,
) -> list[Any]:
    """The typed values of one column's cells, exactly as `read_cell` reads each of them.

    The common cells take a short way chosen once for the column: plain ASCII text (not a
    formula error, not blank) is a Text or ID value as it stands, or goes straight to the reader
    of a column whose values are mostly unique (NIK, telephone); a date or datetime in a date
    column is its day. Any other value's reading depends only on the value and its type, so it
    is remembered per distinct value: keyed by the text itself for a str, by (type, value) for
    an int or a non-zero float (1, 1.0 and True are equal keys otherwise; 0.0 and -0.0 are equal
    but read apart, so zero is never remembered). Other types are read on their own each time.
    A remembered issue is made again at the row it is met. A value the column's own reader
    refuses is reported as `read_cell` reports it and remembered, so that a bad value typed
    thousands of times ("12345" as a telephone) is refused once.
    """
    text_column = col.kind is Kind.TEXT
    id_column = col.kind is Kind.ID
    date_column = col.kind is Kind.DATE
    direct = _column_reader(col.kind)
    required = col.required
    memo: dict[Any, tuple[Any, Issue | None]] = {}
    values: list[Any] = []
    append = values.append
    for index, cell in enumerate(cells):
        kind = type(cell)
        if cell is None:
            if required:
                issue = Issue("required-missing", tab=tab, row=sheet_rows[index], column=header)
                found.append((index * width + order, issue))
            append(None)
            continue
        if kind is str:
            if cell.isascii() and cell[:1] != "#":
                # Not a formula error, and ASCII, so blank means "" or "-" once stripped.
                text = cell.strip()
                if text and text != "-":
                    if text_column or (id_column and text[0] != "'"):
                        append(text)  # what `_text` and `parse_int_like_id` make of it
                        continue
                    if direct is not None and cell not in memo:  # not refused before
                        try:
                            append(direct(cell, col))
                        except formats.FormatError as err:
                            # What `read_cell` makes of it: the cell is neither blank nor a
                            # formula error, and `direct` is the column's reader.
                            issue = _refused(err, cell, col, tab, sheet_rows[index], header)
                            found.append((index * width + order, issue))
                            if len(memo) < MEMO_LIMIT:
                                memo[cell] = (None, issue)
                            append(None)
                        continue
            key: Any = cell
        elif date_column and kind is datetime:
            append(cell.date())
            continue
        elif date_column and kind is date:
            append(cell)
            continue
        elif kind is int or (kind is float and cell):
            key = (kind, cell)
        else:
            append(
                _read_one(cell, col, tab, sheet_rows[index], header, found, index * width + order)
            )
            continue
        hit = memo.get(key)
        if hit is None:
            before = len(found)
            value = _read_one(
                cell, col, tab, sheet_rows[index], header, found, index * width + order
            )
            if len(memo) < MEMO_LIMIT:
                memo[key] = (value, found[-1][1] if len(found) > before else None)
            append(value)
            continue
        append(hit[0])
        if hit[1] is not None:
            found.append((index * width + order, hit[1].at_row(sheet_rows[index])))
    return values


def _column_reader(kind: Kind) -> Callable[[Any, Column], Any] | None:
    """The reader called directly for each cell of a column of mostly unique values, or None."""
    if kind is Kind.NIK:
        return _nik_column()
    return READERS[kind] if kind in _UNIQUE_VALUES else None


def _read_one(
    cell: Any,
    col: Column,
    tab: str,
    row: int,
    header: str,
    found: list[tuple[int, Issue]],
    position: int,
) -> Any:
    issues: list[Issue] = []
    value = read_cell(cell, col, tab, row, header, issues)
    found.extend((position, issue) for issue in issues)
    return value


_BLANK_ASCII = frozenset({"", "-"})  # blank ASCII text once stripped (see `formats.is_blank`)


def _blank_row(row: list[Any]) -> bool:
    for cell in row:
        if cell is None or cell == "":
            continue
        if type(cell) is str and cell.isascii():  # the common case, without a call
            if cell.strip() not in _BLANK_ASCII:
                return False
            continue
        if not formats.is_blank(cell):
            return False
    return True


def parse_profil(rows: Rows, title: str, spec: ProfilSpec, issues: list[Issue]) -> Profil:
    """The Profil tab: a label column and a value column (`Data | Isi`), one field per row."""
    profil = Profil(tab=title)
    lookup = {key: f for f in spec.fields for key in f.match_keys}
    label_col, value_col = _profil_columns(rows, spec)
    for index, row in enumerate(rows):
        if label_col >= len(row):
            continue
        field_spec = lookup.get(normalize(row[label_col]))
        if field_spec is None or field_spec.key in profil.rows:
            continue
        cell = row[value_col] if value_col < len(row) else None
        profil.rows[field_spec.key] = index + 1
        profil.raw[field_spec.key] = cell
        # Kolom is the field's one label (`NIB`), however the row names it (`Nomor Induk
        # Berusaha`): Masalah Data is filtered by Kolom, so one field must read one way.
        profil.values[field_spec.key] = read_cell(
            cell, field_spec, title, index + 1, field_spec.label, issues
        )
    for field_spec in spec.fields:
        if field_spec.required and field_spec.key not in profil.rows:
            issues.append(Issue("required-missing", tab=title, column=field_spec.label))
    return profil


def _profil_columns(rows: Rows, spec: ProfilSpec) -> tuple[int, int]:
    labels = {normalize(h) for h in spec.label_header}
    values = {normalize(h) for h in spec.value_header}
    for row in rows[: MAX_ROWS_ABOVE_HEADER + 1]:
        keys = [normalize(c) for c in row]
        label_at = next((i for i, k in enumerate(keys) if k in labels), None)
        value_at = next((i for i, k in enumerate(keys) if k in values), None)
        if label_at is not None and value_at is not None:
            return label_at, value_at
    return 0, 1


# --- reading one cell -------------------------------------------------------------------------

EXAMPLES = {
    Kind.DATE: ("tanggal", "17/08/2025"),
    Kind.MONEY: ("jumlah rupiah", "Rp 1.250.000 atau 1250000"),
    Kind.NUMBER: ("angka", "12 atau 1,5"),
    Kind.YESNO: ("Ya/Tidak", "Ya"),
}


def read_cell(cell: Any, col: Column, tab: str, row: int, header: str, issues: list[Issue]) -> Any:
    """The typed value of one cell, or None; problems go to `issues`."""
    # Most cells are empty or plain: the two cheap tests first (this runs on every cell).
    if isinstance(cell, str) and cell[:1] == "#" and cell.strip() in FORMULA_ERRORS:
        issues.append(Issue("formula-error", tab=tab, row=row, column=header, detail=cell.strip()))
        return None
    if cell is None or cell == "" or formats.is_blank(cell):
        if col.required:
            issues.append(Issue("required-missing", tab=tab, row=row, column=header))
        return None
    reader = READERS.get(col.kind)
    if reader is None:
        return _text(cell)
    try:
        return reader(cell, col)
    except formats.FormatError as err:
        issues.append(_refused(err, cell, col, tab, row, header))
        return None


def _refused(
    err: formats.FormatError, cell: Any, col: Column, tab: str, row: int, header: str
) -> Issue:
    """The issue of a cell its column's reader refused."""
    code = err.code if err.code in CATALOG else "value-unreadable"
    expected, example = EXAMPLES.get(col.kind, (err.expected or "nilai", err.example))
    return Issue(
        code,
        tab=tab,
        row=row,
        column=header,
        value=cell,
        personal=col.personal,
        expected=expected if code == "value-unreadable" else err.expected,
        detail=example if code == "value-unreadable" else err.detail,
    )


def _text(cell: Any) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    return str(cell).strip()


def _choice(cell: Any, col: Column) -> str:
    found = match_choice(cell, col.choices)
    if found is None:
        raise formats.FormatError("choice-unknown", expected=", ".join(col.choices))
    return found


def _choices(cell: Any, col: Column) -> tuple[str, ...]:
    found: list[str] = []
    for part in str(cell).replace(";", ",").split(","):
        if not part.strip():
            continue
        found.append(_choice(part, col))
    return tuple(found)


def _yes_no(cell: Any, col: Column) -> bool | None:
    return formats.parse_yes_no(cell)


class NikValue(NamedTuple):
    """A NIK cell: its check and the value as typed. Judged in validation, which knows the city.

    A named tuple, like `formats.NikCheck`: one is made per member."""

    check: formats.NikCheck
    raw: Any

    @property
    def digits(self) -> str | None:
        return self.check.digits


def _nik(cell: Any, col: Column) -> NikValue | None:
    check = formats.check_nik(cell)
    return NikValue(check, cell) if check is not None else None


def _nik_column() -> Callable[[Any, Column], NikValue | None]:
    """`_nik` for one column's cells (see `formats.nik_reader`)."""
    check = formats.nik_reader()
    make = tuple.__new__

    def read(cell: Any, col: Column) -> NikValue | None:
        found = check(cell)
        return make(NikValue, (found, cell)) if found is not None else None

    return read


READERS: dict[Kind, Callable[[Any, Column], Any]] = {
    Kind.ID: lambda cell, col: formats.parse_int_like_id(cell),
    Kind.DATE: lambda cell, col: formats.parse_date(cell),
    Kind.MONEY: lambda cell, col: formats.parse_money(cell),
    Kind.NUMBER: lambda cell, col: formats.parse_number(cell),
    Kind.CHOICE: _choice,
    Kind.CHOICES: _choices,
    Kind.PHONE: lambda cell, col: formats.parse_phone(cell),
    Kind.EMAIL: lambda cell, col: formats.parse_email(cell),
    Kind.NIB: lambda cell, col: formats.parse_nib(cell),
    Kind.NPWP: lambda cell, col: formats.parse_npwp(cell),
    Kind.SK_AHU: lambda cell, col: formats.parse_sk_ahu(cell),
    Kind.KODE_WILAYAH: lambda cell, col: formats.parse_kode_wilayah(cell),
    Kind.LATLONG: lambda cell, col: formats.parse_latlong(cell),
    Kind.YESNO: _yes_no,
    Kind.NIK: _nik,
}

# Kinds whose values are mostly unique in a tab (one per member): remembering them would only
# fill the memo, so their reader is called directly.
_UNIQUE_VALUES = frozenset(
    {
        Kind.NIK,
        Kind.PHONE,
        Kind.EMAIL,
        Kind.NIB,
        Kind.NPWP,
        Kind.SK_AHU,
        Kind.KODE_WILAYAH,
        Kind.LATLONG,
    }
)
