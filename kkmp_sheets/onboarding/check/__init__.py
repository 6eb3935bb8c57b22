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

from pathlib import Path
from typing import TYPE_CHECKING

from kkmp_sheets import config as config_module
from kkmp_sheets.config import Config
from kkmp_sheets.core.registry import Coop, read_registry
from kkmp_sheets.errors import ConfigError, SourceError
from kkmp_sheets.onboarding.check.channels import channel_findings
from kkmp_sheets.onboarding.check.delivery import mail_findings, smtp_finding, template_findings
from kkmp_sheets.onboarding.check.finding import (
    GALAT,
    OK,
    PERINGATAN,
    SMTP_TIMEOUT,
    Finding,
    config_findings,
    galat,
    peringatan,
    report,
    writable,
)
from kkmp_sheets.onboarding.check.registry import (
    kecamatan_finding,
    registry_findings,
    registry_issue_findings,
    suggest,
)
from kkmp_sheets.onboarding.check.workbooks import (
    confirm_unlisted,
    drive_listing,
    google_output_findings,
    google_registry,
    google_registry_findings,
    google_workbook_findings,
    local_workbook_findings,
    provision_folder_findings,
)

if TYPE_CHECKING:
    from kkmp_sheets.google.api import GoogleApi
    from kkmp_sheets.google.drive import FileState

__all__ = [
    "GALAT",
    "OK",
    "PERINGATAN",
    "Finding",
    "channel_findings",
    "config_findings",
    "galat",
    "kecamatan_finding",
    "mail_findings",
    "peringatan",
    "registry_findings",
    "registry_issue_findings",
    "report",
    "run_checks",
    "smtp_finding",
    "suggest",
    "template_findings",
]

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
            return (
                findings
                + mail_findings(cfg, smtp_timeout)
                + channel_findings(cfg)
                + template_findings(cfg)
            )
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
            coops, issues, listing = google_registry(cfg, api)
        else:
            from kkmp_sheets.sources.local import LocalSource

            local = LocalSource(cfg.registry, roots=cfg.workbook_roots)
            coops, issues = read_registry(local.registry_rows())
    except SourceError as exc:
        findings.append(galat(f"registry: {exc}", "fix [source] registry, then run check again"))
    else:
        findings += registry_findings(coops, cfg.city_kode, cfg.city_name, issues)
        if cfg.source_kind == "google":
            assert api is not None
            listing = confirm_unlisted(api, coops, listing)
            findings += google_workbook_findings(coops, listing, api.account_email, cfg)
            findings += google_registry_findings(cfg, listing, api.account_email)
        else:
            findings += local_workbook_findings(coops, local)
    if cfg.output_kind == "google":
        assert api is not None
        if listing is None:
            listing = drive_listing(api)
        findings += google_output_findings(cfg, listing, api.account_email)
    else:
        findings += [writable(cfg.output_path.parent, "city status workbook", "[output] path")]
    if cfg.source_kind == "google" and cfg.provision.google_folder:
        assert api is not None
        findings += provision_folder_findings(cfg, api)
    findings += mail_findings(cfg, smtp_timeout)
    findings += channel_findings(cfg)
    findings += template_findings(cfg)
    return findings
