"""The registry: the list of cooperatives the office monitors (PRODUCT.md "The registry").

Officials edit it (a `Daftar KKMP` tab, or a CSV/xlsx in local mode); the service only reads it.
Headers are matched as tolerantly as a cooperative workbook's. A row with neither ID nor name is
blank and skipped; any other row is a cooperative, and counts in Jumlah KKMP even when it cannot
be read.

Some problems are the registry's own, not a cooperative's: no header row, a required column
missing, an ID on two rows. A cycle over such a registry would mark every cooperative unreadable
(or mix two of them up) and record that as the day's figures, so `registry_error` turns them
into one message and the service refuses to run until the registry is fixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kkmp_sheets.core import formats
from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.parse import Rows, locate_header
from kkmp_sheets.core.template import MAX_ROWS_ABOVE_HEADER, REGISTRY, TableSpec

REGISTRY_SPEC = TableSpec(name=REGISTRY.tab, columns=REGISTRY.columns)
_EMAIL_SPLIT = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class Coop:
    id: str
    nama: str
    kelurahan: str
    kecamatan: str
    kode_wilayah: str | None
    spreadsheet: str
    email_pengurus: tuple[str, ...] = ()
    penanggung_jawab: str = ""
    email_penanggung_jawab: tuple[str, ...] = ()
    row: int = 0  # the registry row the official sees
    telepon_penanggung_jawab: str | None = None  # E.164; a WhatsApp recipient, never shown
    tanpa_pesan: bool = False  # no WhatsApp/Telegram message about this cooperative's people


def read_registry(rows: Rows) -> tuple[list[Coop], list[Issue]]:
    located = locate_header(rows, REGISTRY_SPEC)
    tab = REGISTRY.tab
    if located is None:
        expected = ", ".join(c.label for c in REGISTRY.columns if c.required)
        return [], [Issue("header-not-found", tab=tab, expected=expected)]
    header_index, positions, _ = located
    issues: list[Issue] = []
    found = set(positions.values())
    for col in REGISTRY.columns:
        if col.required and col.key not in found:
            issues.append(Issue("column-missing", tab=tab, column=col.label))
    coops: list[Coop] = []
    seen: dict[str, int] = {}
    for index in range(header_index + 1, len(rows)):
        values: dict[str, Any] = {key: "" for key in (c.key for c in REGISTRY.columns)}
        for pos, key in positions.items():
            cell = rows[index][pos] if pos < len(rows[index]) else None
            values[key] = "" if formats.is_blank(cell) else _text(cell)
        if not values["id"] and not values["nama_koperasi"]:
            continue
        row = index + 1
        coop_id = values["id"] or f"BARIS-{row}"
        if not values["id"]:
            issues.append(Issue("required-missing", tab=tab, row=row, column="ID"))
        if coop_id in seen:
            issues.append(
                Issue(
                    "registry-id-duplicate",
                    tab=tab,
                    row=row,
                    column="ID",
                    value=coop_id,
                    detail=str(seen[coop_id]),
                )
            )
            coop_id = f"{coop_id}-{row}"
        seen[coop_id] = row
        for key in ("nama_koperasi", "kelurahan", "kecamatan", "spreadsheet"):
            if not values[key]:
                issues.append(
                    Issue(
                        "required-missing", tab=tab, row=row, column=REGISTRY_SPEC.column(key).label
                    )
                )
        kode = values["kode_wilayah"]
        try:
            kode = formats.parse_kode_wilayah(kode) if kode else None
        except formats.FormatError:
            issues.append(
                Issue("kode-wilayah-format", tab=tab, row=row, column="Kode Wilayah", value=kode)
            )
            kode = None
        phone = values["telepon_penanggung_jawab"]
        try:
            phone = formats.parse_phone(phone) if phone else None
        except formats.FormatError:
            issues.append(
                Issue(
                    "phone-format",
                    tab=tab,
                    row=row,
                    # no value: a phone number is personal, the row and column find it
                    column=REGISTRY_SPEC.column("telepon_penanggung_jawab").label,
                )
            )
            phone = None
        coops.append(
            Coop(
                id=coop_id,
                nama=values["nama_koperasi"] or coop_id,
                kelurahan=values["kelurahan"],
                kecamatan=values["kecamatan"],
                kode_wilayah=kode,
                spreadsheet=values["spreadsheet"],
                email_pengurus=_emails(values["email_pengurus"]),
                penanggung_jawab=values["penanggung_jawab"],
                email_penanggung_jawab=_emails(values["email_penanggung_jawab"]),
                row=row,
                telepon_penanggung_jawab=phone,
                tanpa_pesan=_yes(values["tanpa_pesan"]),
            )
        )
    return coops, issues


def registry_error(issues: list[Issue]) -> str | None:
    """One line naming the missing columns and the rows of repeated IDs, then the fix; None when
    the registry can be used. Rows are the row numbers the official sees."""
    missing = [i.column for i in issues if i.code == "column-missing"]
    rows_of: dict[str, list[int]] = {}
    for issue in issues:
        if issue.code == "registry-id-duplicate" and issue.value is not None:
            rows = rows_of.setdefault(str(issue.value), [int(issue.detail)])
            rows.append(issue.row or 0)
    parts: list[str] = []
    fixes: list[str] = []
    header = next((i for i in issues if i.code == "header-not-found"), None)
    if header is not None:
        parts.append(
            f"no header row with the columns {header.expected} in its first {MAX_ROWS_ABOVE_HEADER + 1} rows"
        )
        fixes.append("put the column titles in one of the first rows")
    if missing:
        parts.append(
            f"no column {_and(missing)}" if len(missing) == 1 else f"no columns {_and(missing)}"
        )
        fixes.append("add " + ("the column" if len(missing) == 1 else "the columns"))
    if rows_of:
        parts.append(
            "; ".join(
                f"ID {coop_id} is on rows {_and([str(r) for r in sorted(rows)])}"
                for coop_id, rows in rows_of.items()
            )
        )
        fixes.append("give every cooperative its own ID")
    if not parts:
        return None
    return f"{'; '.join(parts)}: {', and '.join(fixes)}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _text(cell: Any) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _yes(text: str) -> bool:
    """`Ya` (or Y, Yes, 1, TRUE) in a yes/no column; anything else, blank included, is no."""
    return text.strip().lower() in ("ya", "y", "yes", "1", "true", "benar")


def _emails(text: str) -> tuple[str, ...]:
    return tuple(part for part in _EMAIL_SPLIT.split(text) if "@" in part)
