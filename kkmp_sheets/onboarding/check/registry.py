"""`check` on the registry: IDs, region codes and names, duplicates, kecamatan spellings."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from kkmp_sheets.core import wilayah
from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.kecamatan import display_order, group_kecamatan, name_key
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.onboarding.check.finding import (
    GALAT,
    KELURAHAN_PREFIXES,
    OK,
    Finding,
    galat,
    peringatan,
)

# --- the registry ---------------------------------------------------------------------------------

_REGISTRY_ISSUES = {
    "header-not-found": (
        "registry: no header row with {expected} in its first 6 rows",
        "put the column titles (ID, Nama Koperasi, Kelurahan, Kecamatan, Kode Wilayah, "
        "Spreadsheet, Email Pengurus, ...) in one of the first rows",
    ),
    "column-missing": ("registry: no column {column}", "add a column titled {column}"),
    "required-missing": ("registry row {row}: {column} is empty", "fill in {column}"),
    "registry-id-duplicate": (
        "registry row {row}: ID {value} is also on row {detail}",
        "give every cooperative its own ID",
    ),
    "kode-wilayah-format": (
        "registry row {row}: Kode Wilayah {value!r} is not a 10-digit Kemendagri code",
        "write it like 31.73.01.1001",
    ),
}


def registry_issue_findings(
    issues: Iterable[Issue], coops: Iterable[Coop] = (), city_kode: str = ""
) -> list[Finding]:
    """What `read_registry` found (missing columns and values, repeated IDs, malformed codes)."""
    by_row = {c.row: c for c in coops}
    out = []
    for issue in issues:
        what, fix = _REGISTRY_ISSUES.get(
            issue.code, ("registry row {row}: {column}: " + issue.code, "correct the registry")
        )
        if issue.code == "required-missing" and issue.column == "Spreadsheet":
            continue  # said per row, with the command that fills it (registry_findings)
        values = {
            "row": issue.row,
            "column": issue.column,
            "value": issue.value,
            "detail": issue.detail,
            "expected": issue.expected,
        }
        coop = by_row.get(issue.row or 0)
        wrong_code = issue.code == "kode-wilayah-format"
        hint = _hint(suggest(coop, city_kode)) if coop and city_kode and wrong_code else ""
        out.append(galat(what.format(**values), fix.format(**values) + hint, issue.row or 0))
    return out


def registry_findings(
    coops: list[Coop], city_kode: str, city_name: str = "", issues: Iterable[Issue] = ()
) -> list[Finding]:
    """Each row's region, names, duplicates, workbook and email, in row order (no I/O).
    `issues` are what `read_registry` found; they are listed among the rows."""
    issues = list(issues)
    city = wilayah.dotted(city_kode)
    out: list[Finding] = registry_issue_findings(issues, coops, city)
    bad_kode = {i.row for i in issues if i.code == "kode-wilayah-format"}
    city_name = city_name or wilayah.name(city) or city
    by_place: dict[str, list[Coop]] = defaultdict(list)
    by_sheet: dict[str, list[Coop]] = defaultdict(list)
    kecamatan_of = group_kecamatan(coops)  # the grouping every output uses
    clean = 0
    for coop in coops:
        where = f"registry row {coop.row} ({coop.id})"
        problems = [] if coop.row in bad_kode else _region_findings(coop, where, city, city_name)
        if coop.spreadsheet:
            by_sheet[sheet_key(coop.spreadsheet)].append(coop)
        else:
            problems.append(
                galat(
                    f"{where}: no workbook yet",
                    f"run `kkmp-sheets provision {coop.id}` (or `provision --all`)",
                )
            )
        if not coop.email_pengurus:
            problems.append(
                peringatan(
                    f"{where}: no Email Pengurus",
                    "add the pengurus' address: provisioning shares the workbook with it and "
                    "the weekly digest goes to it",
                )
            )
        place = coop.kode_wilayah or f"{kecamatan_of[coop.id].key}/" + (
            name_key(coop.kelurahan, KELURAHAN_PREFIXES)
        )
        by_place[place].append(coop)
        out += [replace(f, row=coop.row) for f in problems]
        clean += not problems
    for place, rows in by_place.items():
        if len(rows) > 1:
            first, *others = rows
            for other in others:
                out.append(
                    galat(
                        f"registry row {other.row} ({other.id}): kelurahan {other.kelurahan} "
                        f"({place}) is already row {first.row} ({first.id})",
                        "one KKMP per kelurahan/desa: remove the extra row or correct its "
                        "Kode Wilayah and names",
                        other.row,
                    )
                )
    for rows in by_sheet.values():
        if len(rows) > 1:
            first, *others = rows
            for other in others:
                out.append(
                    galat(
                        f"registry row {other.row} ({other.id}): same spreadsheet as row "
                        f"{first.row} ({first.id})",
                        f"give each cooperative its own workbook: empty this Spreadsheet cell and "
                        f"run `kkmp-sheets provision {other.id}`",
                        other.row,
                    )
                )
    out.sort(key=lambda f: f.row)
    if coops and clean == len(coops) and not any(f.level == GALAT for f in out):
        out.insert(
            0,
            Finding(
                OK,
                f"registry: {len(coops)} rows; every Kode Wilayah exists, lies in {city_name} "
                "and matches its kelurahan and kecamatan",
            ),
        )
    elif not coops:
        out.append(peringatan("registry: no cooperative listed", "add one row per cooperative"))
    if coops:
        out.append(kecamatan_finding(coops))
    return out


def kecamatan_finding(coops: list[Coop]) -> Finding:
    """The kecamatan as the status workbook and the digests will group and name them, with the
    other spellings each one has in the registry (`core.kecamatan`: one key for all outputs)."""
    kecamatan_of = group_kecamatan(coops)
    counts: dict[str, int] = defaultdict(int)
    for k in kecamatan_of.values():
        counts[k.key] += 1
    parts = []
    for k in display_order(kecamatan_of.values()):
        other = [f'"{s}"' for s in k.spellings if s != k.name]
        also = f"; also written {', '.join(other)}" if other else ""
        parts.append(f"{k.name} ({counts[k.key]}{also})")
    return Finding(
        OK, f"registry: {len(parts)} kecamatan, as the outputs will show them: {', '.join(parts)}"
    )


def _hint(region: wilayah.Region | None) -> str:
    if region is None:
        return ""
    return f" ({region.nama}, kecamatan {wilayah.name(region.kode[:8])}, is {region.kode})"


def _region_findings(coop: Coop, where: str, city: str, city_name: str) -> list[Finding]:
    hint = _hint(suggest(coop, city))
    if not coop.kode_wilayah:
        return [
            peringatan(
                f"{where}: Kode Wilayah is empty",
                f"fill in the 10-digit Kemendagri code{hint}: the Profil is pre-filled with it",
            )
        ]
    region = wilayah.get(coop.kode_wilayah)
    if region is None:
        return [
            galat(
                f"{where}: Kode Wilayah {coop.kode_wilayah} is not in the Kemendagri list",
                f"correct the code{hint}",
            )
        ]
    if not region.kode.startswith(city + "."):
        other = wilayah.name(region.kode[:5]) or region.kode[:5]
        return [
            galat(
                f"{where}: Kode Wilayah {region.kode} ({region.nama}) lies in {other}, not in "
                f"{city_name} ({city})",
                f"correct the code{hint} or remove the row: this config is for {city_name}",
            )
        ]
    out = []
    if name_key(coop.kelurahan, KELURAHAN_PREFIXES) != name_key(region.nama, ()):
        out.append(
            galat(
                f"{where}: Kelurahan {coop.kelurahan!r} but {region.kode} is {region.nama}",
                f"correct the Kelurahan or the Kode Wilayah{hint}",
            )
        )
    kecamatan = wilayah.name(region.kode[:8]) or ""
    if name_key(coop.kecamatan) != name_key(kecamatan):
        out.append(
            galat(
                f"{where}: Kecamatan {coop.kecamatan!r} but {region.kode} lies in kecamatan "
                f"{kecamatan}",
                f"correct the Kecamatan or the Kode Wilayah{hint}",
            )
        )
    return out


def suggest(coop: Coop, city: str) -> wilayah.Region | None:
    """The kelurahan/desa of the city whose name matches the row's (and its kecamatan's)."""
    wanted = name_key(coop.kelurahan, KELURAHAN_PREFIXES)
    if not wanted or wilayah.get(city) is None:
        return None
    same = [v for v in wilayah.villages(city) if name_key(v.nama, ()) == wanted]
    kecamatan = name_key(coop.kecamatan)
    best = [v for v in same if name_key(wilayah.name(v.kode[:8]) or "") == kecamatan]
    if len(best) == 1:
        return best[0]
    return same[0] if len(same) == 1 else None


def sheet_key(text: str) -> str:
    from kkmp_sheets.google.ids import file_id as spreadsheet_id

    sid = spreadsheet_id(text)
    if sid:
        return sid
    return os.path.normcase(os.path.normpath(text.strip()))
