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

import logging
import os
import re
import time
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path

from gspread.exceptions import APIError

from kkmp_sheets import config as config_module
from kkmp_sheets.config import Config
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.errors import ConfigError, OutputError
from kkmp_sheets.google.api import PROVISION_SCOPES, GoogleApi, connect
from kkmp_sheets.google.drive import Drive
from kkmp_sheets.google.ids import file_id
from kkmp_sheets.onboarding import workbook_template as wt
from kkmp_sheets.onboarding.csv_registry import set_csv_cells
from kkmp_sheets.onboarding.provision_google import explain, google_folder, provision_google
from kkmp_sheets.onboarding.provision_plan import Outcome, Report, registry_coops, select
from kkmp_sheets.sources.local import LocalSource

log = logging.getLogger(__name__)

STATUS_TITLE = "Status KKMP — {city}"
PENDING = "(dibuat oleh provision --status)"  # stands for a status spreadsheet not made yet


# --- local mode -------------------------------------------------------------------------------


def provision_local(cfg: Config, ids: Sequence[str] = (), *, every: bool = False) -> Report:
    started = time.perf_counter()
    source = LocalSource(cfg.registry)
    rows = source.registry_rows()
    report = Report()
    record: dict[str, str] = {}
    registry_dir = source.registry_path.parent

    try:
        for coop in select(registry_coops(rows), rows, ids, every):
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
            folder = google_folder(cfg)
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
        raise OutputError(explain(exc, "the city status spreadsheet", api.account_email)) from None
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
