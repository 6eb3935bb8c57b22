"""`kkmp-sheets check`: before the first cycle (and any time), what is missing or wrong.

One line per finding, `OK`, `GALAT` (the cycle cannot do its job for that row or output) or
`PERINGATAN` (it can, but something will be missing), each with what to do about it:

- the config file loads (every mistake in it is a line);
- every registry row: an ID, a Kode Wilayah that exists in the Kemendagri list, lies in the
  configured city and matches the row's kelurahan and kecamatan names (tolerantly: `Kel. Kedoya
  Utara` = `KEDOYA UTARA`); no two rows for one kelurahan, no two rows on one spreadsheet; a
  workbook and an Email Pengurus;
- every workbook reachable: local, the file exists and opens; Google, the spreadsheet is listed
  for the service account (if not: which address to share it with), is a Google spreadsheet (not
  an uploaded .xlsx), and may be edited (for Hasil Pemeriksaan);
- the city status workbook can be written; the provisioning folder, when configured, too;
- mail: the outbox folder can be written, or the SMTP server answers, starts TLS and accepts
  the login (no message is sent);
- the digest templates: the folder is found (inside the installed package, next to a source
  checkout, or at `KKMP_REPORT_TEMPLATES`) and every template of every digest kind in the
  configured language compiles.

Nothing is changed by a check: no file is written (write access is tested with `os.access`
on the nearest existing folder), no Google file is edited; Google costs one Drive listing, one
registry read and, when a provisioning folder is configured, one `files.get`.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import python_calamine
import requests
from gspread.exceptions import APIError

from kkmp_sheets import config as config_module
from kkmp_sheets.config import Config
from kkmp_sheets.core import wilayah
from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.kecamatan import display_order, group_kecamatan, name_key
from kkmp_sheets.core.registry import Coop, read_registry
from kkmp_sheets.core.template import PROFIL, TABLES, normalize
from kkmp_sheets.errors import ConfigError, SourceError
from kkmp_sheets.sources.base import ReadFailure
from kkmp_sheets.sources.local import LocalSource

if TYPE_CHECKING:
    from kkmp_sheets.google.api import GoogleApi
    from kkmp_sheets.google.drive import FileState

OK, GALAT, PERINGATAN = "OK", "GALAT", "PERINGATAN"
SMTP_TIMEOUT = 10.0
_KELURAHAN_PREFIXES = ("kelurahan", "kel", "desa", "ds")


@dataclass(frozen=True)
class Finding:
    level: str  # OK | GALAT | PERINGATAN
    what: str
    fix: str = ""
    row: int = 0  # the registry row it is about (0: none); findings are listed in row order

    def line(self) -> str:
        text = f"{self.level:<10}  {self.what}"
        return f"{text} — {self.fix}" if self.fix else text


def galat(what: str, fix: str, row: int = 0) -> Finding:
    return Finding(GALAT, what, fix, row)


def peringatan(what: str, fix: str, row: int = 0) -> Finding:
    return Finding(PERINGATAN, what, fix, row)


# --- the whole check ----------------------------------------------------------------------------


def run_checks(
    config_path: Path, *, api: GoogleApi | None = None, smtp_timeout: float = SMTP_TIMEOUT
) -> list[Finding]:
    """Every check, in the order an operator fixes things. `api` replaces the Google client."""
    try:
        cfg = config_module.load(config_path)
    except ConfigError as exc:
        return config_findings(str(exc), config_path)
    findings = [
        Finding(
            OK,
            f"config {cfg.path.name}: {cfg.city_name} ({cfg.city_kode}); source {cfg.source_kind}, "
            f"output {cfg.output_kind}, mail {cfg.mail_kind}",
        )
    ]
    google = "google" in (cfg.source_kind, cfg.output_kind)
    if google and api is None:
        from kkmp_sheets.google.api import connect

        try:
            api = connect(cfg.google)
        except ConfigError as exc:
            findings.append(galat(f"Google credentials: {exc}", "fix the variable and run again"))
            return findings + mail_findings(cfg, smtp_timeout) + template_findings(cfg)
        findings.append(Finding(OK, f"Google: acting as {api.account_email}"))
        try:
            return findings + _sources_and_outputs(cfg, api, smtp_timeout)
        finally:
            api.close()
    return findings + _sources_and_outputs(cfg, api, smtp_timeout)


def _sources_and_outputs(cfg: Config, api: GoogleApi | None, smtp_timeout: float) -> list[Finding]:
    findings: list[Finding] = []
    listing: dict[str, FileState] | None = None
    coops: list[Coop] = []
    try:
        if cfg.source_kind == "google":
            assert api is not None
            coops, issues, listing = _google_registry(cfg, api)
        else:
            local = LocalSource(cfg.registry, roots=cfg.workbook_roots)
            coops, issues = read_registry(local.registry_rows())
    except SourceError as exc:
        findings.append(galat(f"registry: {exc}", "fix [source] registry, then run check again"))
    else:
        findings += registry_findings(coops, cfg.city_kode, cfg.city_name, issues)
        if cfg.source_kind == "google":
            assert api is not None
            listing = _confirm_unlisted(api, coops, listing)
            findings += google_workbook_findings(coops, listing, api.account_email, cfg)
            findings += google_registry_findings(cfg, listing, api.account_email)
        else:
            findings += local_workbook_findings(coops, local)
    if cfg.output_kind == "google":
        assert api is not None
        if listing is None:
            listing = _listing(api)
        findings += google_output_findings(cfg, listing, api.account_email)
    else:
        findings += [_writable(cfg.output_path.parent, "city status workbook", "[output] path")]
    if cfg.source_kind == "google" and cfg.provision.google_folder:
        assert api is not None
        findings += provision_folder_findings(cfg, api)
    findings += mail_findings(cfg, smtp_timeout)
    findings += template_findings(cfg)
    return findings


def report(findings: Iterable[Finding]) -> tuple[str, int]:
    """The lines to print and the number of GALAT."""
    items = list(findings)
    counts = {level: sum(f.level == level for f in items) for level in (OK, GALAT, PERINGATAN)}
    lines = [f.line() for f in items]
    lines.append(
        f"\n{counts[GALAT]} galat, {counts[PERINGATAN]} peringatan, {counts[OK]} OK"
        + ("" if counts[GALAT] else ": ready for the first cycle")
    )
    return "\n".join(lines) + "\n", counts[GALAT]


def config_findings(message: str, path: Path) -> list[Finding]:
    """A config error as one GALAT per problem it lists."""
    lines = [line.strip()[2:] for line in message.splitlines() if line.strip().startswith("- ")]
    if not lines:
        return [galat(f"config: {message}", "fix it and run check again")]
    return [galat(f"config {Path(path).name}: {line}", f"edit {path}") for line in lines]


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
            by_sheet[_sheet_key(coop.spreadsheet)].append(coop)
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
            name_key(coop.kelurahan, _KELURAHAN_PREFIXES)
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
    if name_key(coop.kelurahan, _KELURAHAN_PREFIXES) != name_key(region.nama, ()):
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
    wanted = name_key(coop.kelurahan, _KELURAHAN_PREFIXES)
    if not wanted or wilayah.get(city) is None:
        return None
    same = [v for v in wilayah.villages(city) if name_key(v.nama, ()) == wanted]
    kecamatan = name_key(coop.kecamatan)
    best = [v for v in same if name_key(wilayah.name(v.kode[:8]) or "") == kecamatan]
    if len(best) == 1:
        return best[0]
    return same[0] if len(same) == 1 else None


def _sheet_key(text: str) -> str:
    from kkmp_sheets.google.ids import file_id as spreadsheet_id

    sid = spreadsheet_id(text)
    if sid:
        return sid
    return os.path.normcase(os.path.normpath(text.strip()))


# --- workbooks ------------------------------------------------------------------------------------

_CONTRACT_TABS = {PROFIL.name: PROFIL.match_keys, **{s.name: s.match_keys for s in TABLES}}


def local_workbook_findings(coops: list[Coop], source: LocalSource) -> list[Finding]:
    out: list[Finding] = []
    fine = with_sheet = 0
    for coop in coops:
        if not coop.spreadsheet:
            continue
        with_sheet += 1
        where = f"registry row {coop.row} ({coop.id})"
        try:
            path = source.locate(coop)
        except ReadFailure:
            out.append(
                galat(
                    f"{where}: workbook {coop.spreadsheet} leads outside {source.roots_text()}; "
                    "the service neither reads nor writes it",
                    "move the workbook inside that folder and give its path relative to the "
                    "registry (no '..', no symlink to elsewhere), or set [source] root",
                    coop.row,
                )
            )
            continue
        if not path.is_file():
            out.append(
                galat(
                    f"{where}: workbook {coop.spreadsheet} not found",
                    f"correct its Spreadsheet cell, or create it: `kkmp-sheets provision {coop.id}`",
                )
            )
            continue
        try:
            names = python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names
        except Exception as exc:  # calamine raises several kinds for corrupt or foreign files
            out.append(
                galat(
                    f"{where}: workbook {path.name} cannot be opened ({str(exc)[:80]})",
                    "open and save it again as .xlsx, or replace it from a backup",
                )
            )
            continue
        if not os.access(path, os.W_OK):
            out.append(
                peringatan(
                    f"{where}: workbook {path.name} is read-only",
                    "let the service's user write it, or Hasil Pemeriksaan cannot be written",
                )
            )
            continue
        keys = {normalize(n) for n in names}
        missing = [name for name, match in _CONTRACT_TABS.items() if not (match & keys)]
        if missing:
            out.append(
                peringatan(
                    f"{where}: {path.name} has no tab {', '.join(missing)}",
                    "the first cycle says so in its Hasil Pemeriksaan too; add the tab, or start "
                    "from the template (`kkmp-sheets provision --blank templat.xlsx`)",
                )
            )
            continue
        fine += 1
    if with_sheet:
        out.insert(0, Finding(OK, f"workbooks: {fine} of {with_sheet} found, readable, in shape"))
    return out


def _google_registry(
    cfg: Config, api: GoogleApi
) -> tuple[list[Coop], list[Issue], dict[str, FileState] | None]:
    from kkmp_sheets.google.source import GoogleSource
    from kkmp_sheets.google.state import GoogleState

    source = GoogleSource(api, cfg.registry, state=GoogleState(), feedback=False)
    coops, issues = read_registry(source.registry_rows())
    return coops, issues, source.listing


def _confirm_unlisted(
    api: GoogleApi, coops: list[Coop], listing: dict[str, FileState] | None
) -> dict[str, FileState] | None:
    """Look up (one `files.get` each) the spreadsheets the Drive listing left out: a Shared
    Drive's files made by someone else are reachable but not listed for the service account."""
    from kkmp_sheets.google.drive import LIST_FIELDS, Drive
    from kkmp_sheets.google.drive import file_state as _file_state
    from kkmp_sheets.google.ids import file_id as spreadsheet_id

    if listing is None:
        return None
    out = dict(listing)
    drive = Drive(api)
    for coop in coops:
        sid = spreadsheet_id(coop.spreadsheet)
        if sid and sid not in out:
            try:
                out[sid] = _file_state(drive.get(sid, LIST_FIELDS))
            except (APIError, requests.exceptions.RequestException):
                continue  # not found, or not shared with us: said per row
    return out


def _listing(api: GoogleApi) -> dict[str, FileState] | None:
    from kkmp_sheets.google.drive import LIST_FIELDS, LIST_QUERY
    from kkmp_sheets.google.drive import file_state as _file_state

    try:
        return {f["id"]: _file_state(f) for f in api.list_files(LIST_QUERY, LIST_FIELDS)}
    except (APIError, requests.exceptions.RequestException):
        return None


def google_workbook_findings(
    coops: list[Coop], listing: dict[str, FileState] | None, account: str, cfg: Config
) -> list[Finding]:
    from kkmp_sheets.google.ids import file_id as spreadsheet_id

    if listing is None:
        return [
            galat(
                "Drive: the list of spreadsheets shared with the service account cannot be read",
                "enable the Google Drive API in the Cloud project and run check again",
            )
        ]
    out: list[Finding] = []
    fine = with_sheet = 0
    share = f"share it with {account} as Editor (Bagikan > {account} > Editor)"
    for coop in coops:
        if not coop.spreadsheet:
            continue
        with_sheet += 1
        where = f"registry row {coop.row} ({coop.id})"
        sid = spreadsheet_id(coop.spreadsheet)
        listed = listing.get(sid) if sid else None
        if sid is None:
            out.append(
                galat(
                    f"{where}: {coop.spreadsheet!r} is not a spreadsheet ID or URL",
                    "paste the spreadsheet's address from the browser",
                )
            )
        elif listed is None:
            out.append(galat(f"{where}: spreadsheet {sid} not reachable", share))
        elif not listed.native:
            out.append(
                galat(
                    f"{where}: {sid} is an uploaded .xlsx, not a Google spreadsheet",
                    "open it, File > Save as Google Sheets, and put the new address in the "
                    "registry",
                )
            )
        elif not listed.can_edit and cfg.write_feedback:
            out.append(
                galat(
                    f"{where}: {sid} is shared with the service account as Viewer only",
                    f"make {account} an Editor so that Hasil Pemeriksaan can be written",
                )
            )
        else:
            fine += 1
    if with_sheet:
        out.insert(
            0, Finding(OK, f"workbooks: {fine} of {with_sheet} reachable and editable by {account}")
        )
    return out


def google_registry_findings(
    cfg: Config, listing: dict[str, FileState] | None, account: str
) -> list[Finding]:
    """Provisioning writes each new spreadsheet's ID into the registry: it needs Editor."""
    from kkmp_sheets.google.ids import file_id as spreadsheet_id

    sid = spreadsheet_id(cfg.registry)
    listed = (listing or {}).get(sid or "")
    if not cfg.provision.google_folder or listed is None or listed.can_edit:
        return []
    return [
        peringatan(
            f"registry {sid} is shared with the service account as Viewer: `provision` cannot "
            "record the spreadsheets it creates (it prints their IDs instead)",
            f"make {account} an Editor of the registry while provisioning",
        )
    ]


def google_output_findings(
    cfg: Config, listing: dict[str, FileState] | None, account: str
) -> list[Finding]:
    from kkmp_sheets.google.ids import file_id as spreadsheet_id

    sid = spreadsheet_id(cfg.output_spreadsheet)
    if sid is None:
        return [
            galat(
                f"[output] spreadsheet {cfg.output_spreadsheet!r} is not a spreadsheet ID or URL",
                "create it with `kkmp-sheets provision --status` and put its ID there",
            )
        ]
    listed = (listing or {}).get(sid)
    if listed is None:
        return [
            galat(
                f"city status spreadsheet {sid} not reachable",
                f"share it with {account} as Editor, or create one with "
                "`kkmp-sheets provision --status`",
            )
        ]
    if not listed.can_edit:
        return [
            galat(
                f"city status spreadsheet {sid}: the service account may only read it",
                f"make {account} an Editor",
            )
        ]
    return [Finding(OK, f"city status spreadsheet {sid} writable")]


def provision_folder_findings(cfg: Config, api: GoogleApi) -> list[Finding]:
    from kkmp_sheets.google.drive import Drive
    from kkmp_sheets.google.ids import file_id as folder_id
    from kkmp_sheets.onboarding.provision_google import check_folder

    folder = folder_id(cfg.provision.google_folder)
    if folder is None:
        return [
            galat(
                f"[provision] google_folder {cfg.provision.google_folder!r} is not a folder ID or URL",
                "paste the folder's address from Google Drive",
            )
        ]
    try:
        check_folder(api, Drive(api), folder)
    except ConfigError as exc:
        return [galat(str(exc), "fix the folder's sharing, then run check again")]
    except requests.exceptions.RequestException as exc:
        return [galat(f"[provision] google_folder {folder}: {exc}", "run check again")]
    return [Finding(OK, f"provisioning folder {folder}: the service account may add files")]


def _writable(folder: Path, what: str, key: str) -> Finding:
    """Whether files can be made in `folder` (or, if it does not exist yet, be created)."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if probe.is_dir() and os.access(probe, os.W_OK | os.X_OK):
        return Finding(OK, f"{what}: {folder} writable")
    return galat(
        f"{what}: {folder} cannot be written ({probe} is not a writable folder)",
        f"set {key} to a folder the service's user may write, or change its permissions",
    )


# --- mail -------------------------------------------------------------------------------------------


def mail_findings(cfg: Config, timeout: float = SMTP_TIMEOUT) -> list[Finding]:
    out: list[Finding] = []
    if cfg.mail_kind == "outbox":
        out.append(_writable(cfg.outbox_dir, "mail outbox", "[mail] dir"))
    else:
        out.append(smtp_finding(cfg, timeout))
    if not cfg.mail.officials:
        out.append(
            peringatan(
                "[mail] officials is empty: the daily city digest goes to nobody",
                'list the officials: officials = ["kadis@contoh.go.id"]',
            )
        )
    return out


def smtp_finding(cfg: Config, timeout: float = SMTP_TIMEOUT) -> Finding:
    """Connect, EHLO, STARTTLS (or SSL), login; send nothing."""
    from kkmp_sheets.delivery.mail import SmtpTransport

    mail = cfg.mail
    password = os.environ.get(mail.password_env, "") if mail.username else None
    where = f"SMTP {mail.host}:{mail.port or '(default port)'} ({mail.security})"
    try:
        transport = SmtpTransport(
            mail.host,
            mail.port,
            security=mail.security,
            username=mail.username or None,
            password=password,
            timeout=timeout,
        )
    except ConfigError as exc:
        fix = f"export {mail.password_env}=... for the service" if mail.username else "fix [mail]"
        return galat(f"{where}: {exc}", fix)
    where = f"SMTP {transport.host}:{transport.port} ({transport.security})"
    try:
        client = transport._open()  # connect, EHLO, STARTTLS, login: what every send does first
    except smtplib.SMTPAuthenticationError as exc:
        return galat(
            f"{where}: login refused ({exc.smtp_code})",
            f"check [mail] username and the password in ${mail.password_env}",
        )
    except smtplib.SMTPNotSupportedError:
        return galat(
            f"{where}: the server does not offer STARTTLS",
            'use security = "ssl" (port 465), or "none" only for a relay on this machine',
        )
    except ssl.SSLError as exc:
        return galat(
            f"{where}: TLS failed ({exc.reason or exc})",
            "check the host name matches the server's certificate",
        )
    except (smtplib.SMTPException, OSError) as exc:
        return galat(
            f"{where}: cannot connect ({type(exc).__name__}: {exc})",
            "check [mail] host and port, and that the firewall lets this machine reach it",
        )
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
    login = f", logged in as {mail.username}" if mail.username else ""
    return Finding(OK, f"{where}: connected{login} (no message sent)")


# --- digest templates -------------------------------------------------------------------------------


def template_findings(cfg: Config) -> list[Finding]:
    """The digest templates are found and each one the configured language uses compiles."""
    from kkmp_sheets.delivery import digest, templates
    from kkmp_sheets.errors import KkmpError

    language = cfg.mail.language
    fix = (
        f"reinstall kkmp-sheets (a wheel carries its templates), or set {templates.TEMPLATES_ENV} "
        "to a folder laid out like the project's report_templates/"
    )
    try:
        root = templates.templates_dir()
        env = digest.environment(language, root)
    except KkmpError as exc:
        return [galat(f"digest templates: {exc}", fix)]
    problems = templates.template_problems(env, root, language, digest.KINDS)
    if problems:
        return [
            galat(
                f"digest template {root / name}: {problem}",
                f"correct it (compare with the project's report_templates/{name}), or {fix}",
            )
            for name, problem in problems
        ]
    kinds = ", ".join(digest.KINDS)
    return [Finding(OK, f"digest templates ({language}, {kinds}): every one compiles, in {root}")]
