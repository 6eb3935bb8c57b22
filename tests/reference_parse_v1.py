"""FROZEN REFERENCE: `kkmp_sheets/core/parse.py` as it was before parsing by column.

Kept only so that tests/test_parse_equivalence.py can prove the column-wise parser gives the same
records and the same issues, in the same order, as the cell-by-cell one did. Do not edit or
import it from the package; it shares `formats`, `issue` and `template` with the package, so it
pins down parse.py's own behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kkmp_sheets.core import formats
from kkmp_sheets.core.issue import CATALOG, Issue
from kkmp_sheets.core.template import (
    MAX_ROWS_ABOVE_HEADER,
    PROFIL,
    TABLES,
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


@dataclass
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
    issues: list[Issue] = []
    titles = {normalize(title): title for title in raw.tabs}

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
        issues = [Issue("workbook-no-tabs", detail=", ".join(raw.tabs) or "kosong")]
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
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        if _blank_row(row):
            continue  # blank rows inside a table are skipped by contract
        sheet_row = index + 1
        values: dict[str, Any] = {}
        for pos, col, header in readers:
            cell = row[pos] if pos < len(row) else None
            values[col.key] = read_cell(cell, col, title, sheet_row, header, issues)
        table.records.append(Record(sheet_row, values))
    return table


def _blank_row(row: list[Any]) -> bool:
    for cell in row:
        if cell is None or cell == "":
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
        code = err.code if err.code in CATALOG else "value-unreadable"
        expected, example = EXAMPLES.get(col.kind, (err.expected or "nilai", err.example))
        issues.append(
            Issue(
                code,
                tab=tab,
                row=row,
                column=header,
                value=cell,
                personal=col.personal,
                expected=expected if code == "value-unreadable" else err.expected,
                detail=example if code == "value-unreadable" else err.detail,
            )
        )
        return None


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


@dataclass(frozen=True)
class NikValue:
    """A NIK cell: its check and the value as typed. Judged in validation, which knows the city."""

    check: formats.NikCheck
    raw: Any

    @property
    def digits(self) -> str | None:
        return self.check.digits


def _nik(cell: Any, col: Column) -> NikValue | None:
    check = formats.check_nik(cell)
    return NikValue(check, cell) if check is not None else None


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
