"""`kkmp-sheets provision`: hand every cooperative a workbook made from the template.

Local mode writes `[provision] folder/<ID>.xlsx` and puts its path in the registry's Spreadsheet
cell. Google mode creates a spreadsheet in `[provision] google_folder` (or copies
`[provision] google_template` there), shares it with the cooperative's Email Pengurus as
Editor, and records its ID in the registry's `Daftar KKMP` tab. `--status` creates the city
status spreadsheet and shares it with the officials as readers.

Running it twice creates nothing twice:

- a registry row whose Spreadsheet cell is filled is left alone ("sudah ada"); in local mode a
  file missing at that path is created there;
- local: a workbook already at `<folder>/<ID>.xlsx` (a run stopped before it wrote the registry)
  is recorded, not rewritten;
- Google: files are named `<ID> — <Nama Koperasi>`; before creating anything, one Drive listing
  of the folder finds the spreadsheets an interrupted run already made, which are finished
  (built if the build never happened, shared again) and recorded instead of made again.

The registry is edited in place and as little as possible: in a CSV only the Spreadsheet field
of the provisioned rows changes (every other byte stays, encoding and delimiter included); in
Google one `values.batchUpdate` writes those cells, after reading the tab again to find each row
by its ID and to check the cell is still empty. An `.xlsx` registry is never rewritten: the new
paths are printed for the office to paste.

What it costs in Google mode, per cooperative: one Drive `files.create` (or `files.copy`), one
Sheets `batchUpdate` (the whole template: tabs, dropdowns, formats, protected headers, the
Petunjuk, the Profil), one Drive `permissions.create` per pengurus address; plus, per run, one
registry read, one folder lookup, one folder listing, one registry re-read and one registry
write.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import time
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from gspread.exceptions import APIError
from gspread.urls import SPREADSHEET_VALUES_BATCH_UPDATE_URL

from kkmp_sheets import config as config_module
from kkmp_sheets.config import Config
from kkmp_sheets.core.a1 import column_letters
from kkmp_sheets.core.parse import Rows, locate_header
from kkmp_sheets.core.registry import REGISTRY_SPEC, Coop, read_registry
from kkmp_sheets.core.template import PROFIL, REGISTRY, normalize
from kkmp_sheets.errors import ConfigError, OutputError, SourceError, UsageError
from kkmp_sheets.google.api import PROVISION_SCOPES, GoogleApi, connect, error_reason
from kkmp_sheets.google.cells import a1_tab, grid_rows
from kkmp_sheets.google.drive import Drive
from kkmp_sheets.google.ids import file_id
from kkmp_sheets.onboarding import workbook_template as wt
from kkmp_sheets.sources.local import LocalSource

log = logging.getLogger(__name__)

NAME_SEPARATOR = " — "
STATUS_TITLE = "Status KKMP — {city}"
PENDING = "(dibuat oleh provision --status)"  # stands for a status spreadsheet not made yet


@dataclass
class Outcome:
    coop_id: str
    action: str  # "dibuat" | "dicatat" | "sudah ada" | "dilanjutkan" | "gagal"
    where: str = ""  # the path or spreadsheet ID
    detail: str = ""

    def line(self) -> str:
        text = f"{self.action:<11} {self.coop_id:<24} {self.where}"
        return f"{text}  ({self.detail})" if self.detail else text


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the operator still has to do
    seconds: float = 0.0
    requests: dict[str, int] = field(default_factory=dict)  # Google: requests sent, per kind

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.action == "gagal"]

    def count(self, action: str) -> int:
        return sum(o.action == action for o in self.outcomes)

    def text(self) -> str:
        lines = [o.line() for o in self.outcomes]
        summary = ", ".join(
            f"{self.count(a)} {a}"
            for a in ("dibuat", "dilanjutkan", "dicatat", "sudah ada", "gagal")
            if self.count(a)
        )
        lines.append(f"\n{summary or 'nothing to do'} in {self.seconds:.1f} s")
        if self.requests:
            lines.append(
                "Google requests: " + ", ".join(f"{k} {v}" for k, v in self.requests.items())
            )
        lines += self.notes
        return "\n".join(lines) + "\n"


# --- choosing the rows ------------------------------------------------------------------------


def select(
    coops: list[Coop],
    rows: Rows,
    ids: Sequence[str],
    every: bool,
) -> list[Coop]:
    """The registry rows asked for: the IDs given, or with `every` all of them (those with a
    workbook are reported "sudah ada"). Rows whose ID is missing or repeated are left out: fix
    the registry first (`kkmp-sheets check` shows them)."""
    own = _own_ids(rows)
    valid = [c for c in coops if c.row in own and own[c.row] == c.id]
    by_id = {c.id: c for c in valid}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise UsageError(
            f"not in the registry (or its ID is missing or repeated there): {', '.join(unknown)}; "
            "run `kkmp-sheets check` to see the registry's problems"
        )
    wanted = set(ids)
    return [c for c in valid if every or c.id in wanted]


def _own_ids(rows: Rows) -> dict[int, str]:
    """Registry row number → the ID typed in it (read_registry makes one up for a row whose ID
    is missing or repeated; such rows are not provisioned)."""
    located = locate_header(rows, REGISTRY_SPEC)
    if located is None:
        return {}
    header_index, positions, _ = located
    id_col = next((pos for pos, key in positions.items() if key == "id"), None)
    if id_col is None:
        return {}
    seen: dict[str, int] = {}
    for index in range(header_index + 1, len(rows)):
        cell = rows[index][id_col] if id_col < len(rows[index]) else ""
        text = _cell_text(cell)
        if text:
            seen[text] = seen.get(text, 0) + 1
    out = {}
    for index in range(header_index + 1, len(rows)):
        cell = rows[index][id_col] if id_col < len(rows[index]) else ""
        text = _cell_text(cell)
        if text and seen[text] == 1:
            out[index + 1] = text
    return out


def _cell_text(cell: Any) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return "" if cell is None else str(cell).strip()


def _registry(rows: Rows) -> list[Coop]:
    coops, _ = read_registry(rows)
    return coops


# --- local mode -------------------------------------------------------------------------------


def provision_local(cfg: Config, ids: Sequence[str] = (), *, every: bool = False) -> Report:
    started = time.perf_counter()
    source = LocalSource(cfg.registry)
    rows = source.registry_rows()
    report = Report()
    record: dict[str, str] = {}
    registry_dir = source.registry_path.parent

    try:
        for coop in select(_registry(rows), rows, ids, every):
            try:
                made = _provision_file(cfg, source, coop, report)
            except OSError as exc:
                report.outcomes.append(Outcome(coop.id, "gagal", "", exc.strerror or str(exc)))
                continue
            if made is not None:
                record[coop.id] = _relative(made, registry_dir)
    finally:
        if record:
            _record_local(source.registry_path, record, report)
    report.seconds = time.perf_counter() - started
    return report


def _provision_file(cfg: Config, source: LocalSource, coop: Coop, report: Report) -> Path | None:
    """Make one cooperative's workbook; returns the path to record in the registry, if any."""
    if coop.spreadsheet:
        path = source.locate(coop)
        if path.exists():
            report.outcomes.append(Outcome(coop.id, "sudah ada", str(path)))
        elif path.suffix.lower() != ".xlsx":
            report.outcomes.append(
                Outcome(coop.id, "gagal", str(path), "the registry names a file that is not .xlsx")
            )
        else:
            wt.write_xlsx(path, coop)
            report.outcomes.append(Outcome(coop.id, "dibuat", str(path)))
        return None  # the registry already names it
    path = cfg.provision.folder / f"{_file_stem(coop.id)}.xlsx"
    if path.exists():
        report.outcomes.append(Outcome(coop.id, "dicatat", str(path), "file was already there"))
    else:
        wt.write_xlsx(path, coop)
        report.outcomes.append(Outcome(coop.id, "dibuat", str(path)))
    return path


def _record_local(registry: Path, record: dict[str, str], report: Report) -> None:
    if registry.suffix.lower() != ".csv":
        report.notes.append(
            f"\n{registry.name} is not a CSV: kkmp-sheets does not rewrite it. "
            "Put these paths in its Spreadsheet column:"
        )
        report.notes += [f"  {coop_id}\t{value}" for coop_id, value in record.items()]
        return
    try:
        set_csv_cells(registry, record)
    except OSError as exc:
        raise OutputError(
            f"the registry {registry} cannot be written ({exc.strerror or exc}; open in Excel?): "
            "close it and run provision again; the workbooks made are recorded then, not made "
            "again"
        ) from None


def _file_stem(coop_id: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]+", "_", coop_id).strip("._") or "koperasi"


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def write_blank(path: Path) -> Path:
    """The template without a cooperative (to upload as a Google template, or hand out)."""
    return wt.write_xlsx(path)


# --- editing a CSV registry in place ----------------------------------------------------------------


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


def _explain(error: APIError, what: str, account: str) -> str:
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
            _explain(exc, f"the registry spreadsheet {sid}", api.account_email)
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
        coop_id = _cell_text(row[id_col] if id_col < len(row) else "")
        if coop_id not in left:
            continue
        value = left.pop(coop_id)
        if sheet_col < len(row) and str(row[sheet_col]).strip():
            continue  # someone filled it meanwhile: theirs wins
        ref = f"{a1_tab(fresh.title)}!{column_letters(sheet_col)}{index + 1}"
        data.append({"range": ref, "values": [[value]]})
    if data:
        url = SPREADSHEET_VALUES_BATCH_UPDATE_URL % fresh.spreadsheet
        api.http.request("post", url, json={"valueInputOption": "RAW", "data": data})
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
    folder = _google_folder(cfg)
    registry = read_google_registry(api, cfg.registry)
    chosen = select(_registry(registry.rows), registry.rows, ids, every)
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
                f"\nThe registry could not be written ({_explain(exc, 'the registry', api.account_email)})."
            )
        if missed:
            report.notes.append("Put these IDs in the registry's Spreadsheet column:")
            report.notes += [f"  {coop_id}\t{record[coop_id]}" for coop_id in missed]
        report.seconds = time.perf_counter() - started
        report.requests = {k: v - before.get(k, 0) for k, v in api.stats.sent.items()}
        report.requests["total"] = sum(report.requests.values())
    return report


def _google_folder(cfg: Config) -> str:
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
                raise ConfigError(
                    _explain(exc, f"the folder {folder}", api.account_email)
                ) from None
            report.outcomes.append(
                Outcome(coop.id, "gagal", "", _explain(exc, name, api.account_email))
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
            f"[provision] google_folder {folder}: " + _explain(exc, "the folder", api.account_email)
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
        raise ConfigError(_explain(exc, f"the template {tid}", api.account_email)) from None
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


# --- the city status spreadsheet ---------------------------------------------------------------


def load_for_provision(path: Path) -> Config:
    """The config, accepting a Google `[output]` whose spreadsheet is still to be created
    (`provision --status` creates it; provisioning workbooks does not need it)."""
    try:
        return config_module.load(path)
    except ConfigError:
        try:
            data = tomllib.loads(Path(path).expanduser().read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        output = data.get("output")
        if (
            not isinstance(output, dict)
            or output.get("kind") != "google"
            or str(output.get("spreadsheet", "")).strip()
        ):
            raise
        output["spreadsheet"] = PENDING
        return config_module.parse(data, Path(path).expanduser().resolve())


def provision_status(cfg: Config, *, api: GoogleApi | None = None) -> Report:
    started = time.perf_counter()
    report = Report()
    if cfg.output_kind == "local":
        path = cfg.output_path
        existed = path.exists()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            probe = path.parent / f".kkmp-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise OutputError(
                f"cannot write in {path.parent}: {exc.strerror or exc}; set [output] path to a "
                "folder the service may write"
            ) from None
        action = "sudah ada" if existed else "disiapkan"
        detail = "" if existed else "folder ready; the first cycle writes the workbook"
        report.outcomes.append(Outcome("status kota", action, str(path), detail))
        report.seconds = time.perf_counter() - started
        return report
    if api is None:
        api = connect(cfg.google, scopes=PROVISION_SCOPES)
        try:
            return provision_status(cfg, api=api)
        finally:
            api.close()
    drive = Drive(api)
    before = dict(api.stats.sent)
    readers = cfg.provision.status_readers or cfg.mail.officials
    title = STATUS_TITLE.format(city=cfg.city_name)
    sid = file_id(cfg.output_spreadsheet) if cfg.output_spreadsheet != PENDING else None
    action = "sudah ada"
    try:
        if sid is None:
            folder = _google_folder(cfg)
            sid = drive.spreadsheets_in(folder).get(title)
            if sid is None:
                sid = drive.create_spreadsheet(title, folder)
                action = "dibuat"
            else:
                action = "dilanjutkan"
        else:
            drive.get(sid, "id")
        for email in readers:
            drive.share(sid, email, "reader", cfg.provision.notify)
    except APIError as exc:
        raise OutputError(_explain(exc, "the city status spreadsheet", api.account_email)) from None
    shared = f"shared with {len(readers)} reader(s)" if readers else "no readers configured"
    report.outcomes.append(Outcome("status kota", action, sid, shared))
    if cfg.output_spreadsheet == PENDING or file_id(cfg.output_spreadsheet) != sid:
        report.notes.append(
            f'\nPut it in {cfg.path.name}:\n[output]\nkind = "google"\nspreadsheet = "{sid}"'
        )
    if not readers:
        report.notes.append(
            "No readers: list the officials in [mail] officials or [provision] status_readers"
        )
    report.seconds = time.perf_counter() - started
    report.requests = {k: v - before.get(k, 0) for k, v in api.stats.sent.items()}
    report.requests["total"] = sum(report.requests.values())
    return report


def provision(cfg: Config, ids: Iterable[str] = (), *, every: bool = False) -> Report:
    """The workbooks of the registry rows asked for, in the config's mode."""
    if cfg.source_kind == "google":
        return provision_google(cfg, list(ids), every=every)
    return provision_local(cfg, list(ids), every=every)
