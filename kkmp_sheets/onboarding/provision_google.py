"""`provision` in Google mode: spreadsheets made in a Drive folder, shared, recorded in the registry.

See `provision.py` for what the command does and costs. Drive and Sheets calls go through
`google/` (`GoogleApi`, `Drive`); this module decides what to make and where to record it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import requests
from gspread.exceptions import APIError

from kkmp_sheets.config import Config
from kkmp_sheets.core.a1 import column_letters
from kkmp_sheets.core.parse import Rows, locate_header
from kkmp_sheets.core.registry import REGISTRY_SPEC, Coop
from kkmp_sheets.core.template import PROFIL, REGISTRY, normalize
from kkmp_sheets.errors import ConfigError, SourceError
from kkmp_sheets.google.api import PROVISION_SCOPES, GoogleApi, connect, error_reason
from kkmp_sheets.google.cells import a1_tab, grid_rows
from kkmp_sheets.google.drive import Drive
from kkmp_sheets.google.ids import file_id
from kkmp_sheets.onboarding import workbook_template as wt
from kkmp_sheets.onboarding.provision_plan import (
    NAME_SEPARATOR,
    Outcome,
    Report,
    cell_text,
    registry_coops,
    select,
)

log = logging.getLogger(__name__)


def explain(error: APIError, what: str, account: str) -> str:
    status = error.response.status_code
    if error_reason(error) == "storageQuotaExceeded":
        return (
            f"Google refused to create {what}: a service account has no Drive storage of its own. "
            "Set [provision] google_folder to a folder in a Shared Drive and add "
            f"{account} to that Shared Drive as Content manager"
        )
    if status == 404:
        return f"{what} not found, or not shared with {account}: share it with that address"
    if status == 403:
        return f"{account} may not do this on {what}: give it Editor (Content manager) access"
    return f"{what}: Google answered HTTP {status} ({error})"


# --- Google mode: the registry ------------------------------------------------------------------


@dataclass
class GoogleRegistry:
    spreadsheet: str
    title: str  # the Daftar KKMP tab's title as written
    rows: Rows


def read_google_registry(api: GoogleApi, registry: str) -> GoogleRegistry:
    sid = file_id(registry)
    if sid is None:
        raise ConfigError(
            f"[source] registry = {registry!r} is not a Google spreadsheet ID or URL: copy the "
            "address of the spreadsheet holding the Daftar KKMP tab"
        )
    fields = "sheets(properties(title),data(rowData(values(effectiveValue))))"
    try:
        reply = api.get_spreadsheet(sid, {"includeGridData": "true", "fields": fields})
    except APIError as exc:
        raise SourceError(
            explain(exc, f"the registry spreadsheet {sid}", api.account_email)
        ) from None
    except requests.exceptions.RequestException as exc:
        raise SourceError(f"the registry {sid} cannot be read: {exc}") from None
    sheets = reply.get("sheets") or []
    wanted = normalize(REGISTRY.tab)
    chosen = next((s for s in sheets if normalize(s["properties"]["title"]) == wanted), None)
    chosen = chosen or (sheets[0] if sheets else None)
    if chosen is None:
        raise SourceError(f"the registry spreadsheet {sid} has no tab")
    return GoogleRegistry(sid, chosen["properties"]["title"], grid_rows(chosen))


def record_google(api: GoogleApi, registry: str, values: dict[str, str]) -> list[str]:
    """Write each new spreadsheet ID into its row's Spreadsheet cell, found again by ID (rows
    may have moved since the first read); one `values.batchUpdate`. Returns IDs not recorded."""
    if not values:
        return []
    fresh = read_google_registry(api, registry)
    located = locate_header(fresh.rows, REGISTRY_SPEC)
    if located is None:
        return list(values)
    header_index, positions, _ = located
    column = {key: pos for pos, key in positions.items()}
    id_col, sheet_col = column["id"], column.get("spreadsheet")
    if sheet_col is None:
        return list(values)
    data, left = [], dict(values)
    for index in range(header_index + 1, len(fresh.rows)):
        row = fresh.rows[index]
        coop_id = cell_text(row[id_col] if id_col < len(row) else "")
        if coop_id not in left:
            continue
        value = left.pop(coop_id)
        if sheet_col < len(row) and str(row[sheet_col]).strip():
            continue  # someone filled it meanwhile: theirs wins
        ref = f"{a1_tab(fresh.title)}!{column_letters(sheet_col)}{index + 1}"
        data.append({"range": ref, "values": [[value]]})
    if data:
        api.write_values(fresh.spreadsheet, data)
    return list(left)


# --- Google mode: provisioning --------------------------------------------------------------------


def provision_google(
    cfg: Config,
    ids: Sequence[str] = (),
    *,
    every: bool = False,
    api: GoogleApi | None = None,
) -> Report:
    if api is None:
        api = connect(cfg.google, scopes=PROVISION_SCOPES)
        try:
            return provision_google(cfg, ids, every=every, api=api)
        finally:
            api.close()
    started = time.perf_counter()
    drive = Drive(api)
    before = dict(api.stats.sent)
    folder = google_folder(cfg)
    registry = read_google_registry(api, cfg.registry)
    chosen = select(registry_coops(registry.rows), registry.rows, ids, every)
    report = Report()
    record: dict[str, str] = {}
    todo = [c for c in chosen if not c.spreadsheet]
    for coop in chosen:
        if coop.spreadsheet:
            report.outcomes.append(Outcome(coop.id, "sudah ada", coop.spreadsheet))
    try:
        if todo:
            _provision_todo(cfg, api, drive, folder, todo, report, record)
    finally:
        try:
            missed = record_google(api, cfg.registry, record)
        except APIError as exc:
            missed = list(record)
            report.notes.append(
                f"\nThe registry could not be written ({explain(exc, 'the registry', api.account_email)})."
            )
        if missed:
            report.notes.append("Put these IDs in the registry's Spreadsheet column:")
            report.notes += [f"  {coop_id}\t{record[coop_id]}" for coop_id in missed]
        report.seconds = time.perf_counter() - started
        report.requests = {k: v - before.get(k, 0) for k, v in api.stats.sent.items()}
        report.requests["total"] = sum(report.requests.values())
    return report


def google_folder(cfg: Config) -> str:
    folder = file_id(cfg.provision.google_folder)
    if folder is None:
        raise ConfigError(
            "[provision] google_folder is not set: put the ID or URL of the Drive folder (in a "
            "Shared Drive) where the cooperative spreadsheets are to be created"
        )
    return folder


def _provision_todo(
    cfg: Config,
    api: GoogleApi,
    drive: Drive,
    folder: str,
    todo: list[Coop],
    report: Report,
    record: dict[str, str],
) -> None:
    check_folder(api, drive, folder)
    found = drive.spreadsheets_in(folder)
    made = {name.split(NAME_SEPARATOR, 1)[0]: sid for name, sid in found.items()}
    template = _template_layout(cfg, api) if cfg.provision.google_template else None
    for coop in todo:
        name = f"{coop.id}{NAME_SEPARATOR}{coop.nama}"[:250]
        try:
            sid = made.get(coop.id)
            if sid is None:
                sid = _create(api, drive, folder, name, coop, template)
                action = "dibuat"
            else:
                _finish(api, sid, coop, template)
                action = "dilanjutkan"
            for email in coop.email_pengurus:
                drive.share(sid, email, "writer", cfg.provision.notify)
        except APIError as exc:
            if _fatal(exc, folder):
                raise ConfigError(explain(exc, f"the folder {folder}", api.account_email)) from None
            report.outcomes.append(
                Outcome(coop.id, "gagal", "", explain(exc, name, api.account_email))
            )
            continue
        except requests.exceptions.RequestException as exc:
            report.outcomes.append(Outcome(coop.id, "gagal", "", str(exc)))
            continue
        record[coop.id] = sid
        report.outcomes.append(Outcome(coop.id, action, sid))
        log.info("%s: %s %s", coop.id, action, sid)


def _fatal(exc: APIError, folder: str) -> bool:
    """Errors every following cooperative would meet too: stop at the first."""
    return error_reason(exc) == "storageQuotaExceeded" or (
        exc.response.status_code == 404 and folder in str(exc)
    )


def check_folder(api: GoogleApi, drive: Drive, folder: str) -> None:
    """The folder exists, the service account sees it and may add files to it."""
    try:
        info = drive.get(folder, "id,name,mimeType,capabilities(canEdit,canAddChildren)")
    except APIError as exc:
        raise ConfigError(
            f"[provision] google_folder {folder}: " + explain(exc, "the folder", api.account_email)
        ) from None
    caps = info.get("capabilities") or {}
    if not caps.get("canAddChildren", caps.get("canEdit", False)):
        raise ConfigError(
            f"[provision] google_folder {folder} ({info.get('name', '')}): "
            f"{api.account_email} may only look at it; make it Content manager of the "
            "Shared Drive (or Editor of the folder)"
        )


@dataclass
class TemplateLayout:
    template_id: str
    profil_sheet: int
    value_col: int
    rows_by_key: dict[str, int]


def _template_layout(cfg: Config, api: GoogleApi) -> TemplateLayout:
    """Where the Profil values go in the template (read once per run)."""
    tid = file_id(cfg.provision.google_template)
    if tid is None:
        raise ConfigError(
            f"[provision] google_template = {cfg.provision.google_template!r} is not a "
            "spreadsheet ID or URL"
        )
    fields = "sheets(properties(sheetId,title),data(rowData(values(effectiveValue))))"
    try:
        reply = api.get_spreadsheet(tid, {"includeGridData": "true", "fields": fields})
    except APIError as exc:
        raise ConfigError(explain(exc, f"the template {tid}", api.account_email)) from None
    for sheet in reply.get("sheets") or []:
        if normalize(sheet["properties"]["title"]) in PROFIL.match_keys:
            rows = grid_rows(sheet)
            value_col, rows_by_key = profil_cells(rows)
            return TemplateLayout(tid, int(sheet["properties"]["sheetId"]), value_col, rows_by_key)
    raise ConfigError(f"the template {tid} has no Profil tab: it is not a KKMP template")


def profil_cells(rows: Rows) -> tuple[int, dict[str, int]]:
    """The value column of a Profil tab and the 0-based row of each field it lists."""
    labels = {normalize(h) for h in PROFIL.label_header}
    values = {normalize(h) for h in PROFIL.value_header}
    label_col, value_col = 0, 1
    for row in rows[:6]:
        keys = [normalize(c) for c in row]
        at_label = next((i for i, k in enumerate(keys) if k in labels), None)
        at_value = next((i for i, k in enumerate(keys) if k in values), None)
        if at_label is not None and at_value is not None:
            label_col, value_col = at_label, at_value
            break
    lookup = {key: f.key for f in PROFIL.fields for key in f.match_keys}
    found: dict[str, int] = {}
    for index, row in enumerate(rows):
        key = lookup.get(normalize(row[label_col])) if label_col < len(row) else None
        if key and key not in found:
            found[key] = index
    return value_col, found


def _create(
    api: GoogleApi,
    drive: Drive,
    folder: str,
    name: str,
    coop: Coop,
    template: TemplateLayout | None,
) -> str:
    if template is not None:
        sid = drive.copy(template.template_id, name, folder)
        _fill_profil(api, sid, coop, template)
        return sid
    sid = drive.create_spreadsheet(name, folder)
    api.batch_update(sid, wt.sheets_requests(wt.design(coop)))
    return sid


def _fill_profil(api: GoogleApi, sid: str, coop: Coop, template: TemplateLayout) -> None:
    requests_ = wt.profil_fill_requests(
        template.profil_sheet, template.value_col, template.rows_by_key, coop
    )
    if requests_:
        api.batch_update(sid, requests_)


def _finish(api: GoogleApi, sid: str, coop: Coop, template: TemplateLayout | None) -> None:
    """A spreadsheet an interrupted run made: build it if the build never happened."""
    if template is not None:
        _fill_profil(api, sid, coop, template)
        return
    reply = api.get_spreadsheet(sid, {"fields": "sheets(properties(title))"})
    titles = {normalize(s["properties"]["title"]) for s in reply.get("sheets") or []}
    if normalize(PROFIL.name) not in titles:
        api.batch_update(sid, wt.sheets_requests(wt.design(coop)))
