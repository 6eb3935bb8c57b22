"""`check` on the workbooks and outputs: local files open; Google spreadsheets are shared,
native and editable; the status workbook and provisioning folder can be written."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import python_calamine
import requests
from gspread.exceptions import APIError

from kkmp_sheets.config import Config
from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.registry import Coop, read_registry
from kkmp_sheets.core.template import PROFIL, TABLES, normalize
from kkmp_sheets.errors import ConfigError
from kkmp_sheets.sources.base import ReadFailure
from kkmp_sheets.sources.local import LocalSource

if TYPE_CHECKING:
    from kkmp_sheets.google.api import GoogleApi
    from kkmp_sheets.google.drive import FileState

from kkmp_sheets.onboarding.check.finding import OK, Finding, galat, peringatan

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


def google_registry(
    cfg: Config, api: GoogleApi
) -> tuple[list[Coop], list[Issue], dict[str, FileState] | None]:
    from kkmp_sheets.google.source import GoogleSource
    from kkmp_sheets.google.state import GoogleState

    source = GoogleSource(api, cfg.registry, state=GoogleState(), feedback=False)
    coops, issues = read_registry(source.registry_rows())
    return coops, issues, source.listing


def confirm_unlisted(
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


def drive_listing(api: GoogleApi) -> dict[str, FileState] | None:
    """The Drive listing, or None when Drive cannot be asked (said on the rows that need it)."""
    from kkmp_sheets.google.drive import listing

    try:
        return listing(api)
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
