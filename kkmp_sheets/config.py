"""Loading and checking the city configuration (one TOML file per city).

Every mistake gets one line that names the key, says what was found and what is expected; all
mistakes of a file are reported at once, so an operator fixes them in one go. Paths are relative
to the config file, so the service behaves the same from any working directory. Secrets (the
SMTP password, the service-account key) are never read from this file: only the *name* of the
environment variable that holds them.

Every key is documented in `KEYS` (and so in `docs/configuration.md`, which a test keeps in step).
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

from kkmp_sheets.core import wilayah
from kkmp_sheets.core.template import WAJIB_DUE_DAY
from kkmp_sheets.core.zoning import ZoneRules
from kkmp_sheets.errors import ConfigError


@dataclass(frozen=True)
class Key:
    type: type | tuple[type, ...]
    doc: str
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# section -> key -> Key. The one source of truth for what the config file may say.
KEYS: dict[str, dict[str, Key]] = {
    "city": {
        "name": Key(str, "Name of the city or kabupaten, shown in every output.", required=True),
        "kode_wilayah": Key(
            str,
            "Kemendagri code of the city/kabupaten (`31.73`) or province (`32`). NIKs registered "
            "outside it get a warning.",
            required=True,
        ),
        "target_date": Key(
            date, "Date by which every cooperative should be operating (progress in Ringkasan)."
        ),
        "target_active_share": Key(
            (int, float),
            "Share of cooperatives that should be Aktif by `target_date` (0–1).",
            default=1.0,
        ),
    },
    "source": {
        "kind": Key(
            str, "Where cooperative workbooks live.", required=True, choices=("local", "google")
        ),
        "registry": Key(
            str,
            "The registry of cooperatives: local mode a `.csv` or `.xlsx` path; Google mode the "
            "ID or URL of the spreadsheet holding the `Daftar KKMP` tab.",
            required=True,
        ),
        "root": Key(
            str,
            "Local mode: the folder every Spreadsheet path of the registry must lead into "
            "(symlinks followed), besides `[provision] folder`; empty means the registry's own "
            "folder. A row whose path is absolute elsewhere, climbs out with `..` or is a "
            "symlink to elsewhere is refused as a registry problem: the service neither reads "
            "nor writes that file.",
            default="",
        ),
    },
    "output": {
        "kind": Key(
            str,
            "Where the city status workbook is written.",
            required=True,
            choices=("local", "google"),
        ),
        "path": Key(
            str,
            "Local mode: the `.xlsx` path of the city status workbook.",
            default="out/status-kota.xlsx",
        ),
        "spreadsheet": Key(
            str,
            "Google mode: the ID or URL of the city status spreadsheet. Create an empty Google "
            "spreadsheet and share it with the service account as Editor; the service rewrites "
            "its own tabs and leaves any other tab alone.",
            default="",
        ),
    },
    "mail": {
        "kind": Key(
            str, "How digests are delivered.", default="outbox", choices=("outbox", "smtp")
        ),
        "dir": Key(
            str,
            "Outbox mode: folder where digests are written as `.eml` files.",
            default="out/outbox",
        ),
        "sender": Key(str, "From address of every digest.", default="kkmp-sheets@localhost"),
        "language": Key(str, "Language of the digests.", default="id", choices=("id", "en")),
        "officials": Key(list, "Addresses that receive the daily city digest.", default=[]),
        "kecamatan": Key(
            dict,
            'Camat/lurah addresses per kecamatan name: `Cengkareng = ["camat@..."]`; each receives '
            "the daily kecamatan digest of their own cooperatives.",
            default={},
        ),
        "operator": Key(str, "Address told when a job of the service itself fails.", default=""),
        "host": Key(str, "SMTP mode: server host name.", default="localhost"),
        "port": Key(
            int, "SMTP mode: server port; empty means 587 for STARTTLS, 465 for SSL, 25 plain."
        ),
        "security": Key(
            str,
            "SMTP mode: connection security.",
            default="starttls",
            choices=("starttls", "ssl", "none"),
        ),
        "username": Key(str, "SMTP mode: login name (empty: no login).", default=""),
        "password_env": Key(
            str,
            "SMTP mode: name of the environment variable holding the password.",
            default="KKMP_SMTP_PASSWORD",
        ),
        "timeout_seconds": Key(
            (int, float),
            "SMTP mode: seconds to wait for each step of the conversation with the server "
            "(connecting, each answer, each write) before giving up on that message for now.",
            default=20,
        ),
        "deadline_seconds": Key(
            (int, float),
            "SMTP mode: the longest one cycle spends delivering; what is not sent by then stays "
            "queued for the next cycle.",
            default=600,
        ),
        "breaker_threshold": Key(
            int,
            "SMTP mode: after this many messages in a row that the server refused to connect, "
            "did not answer in time or dropped, it is taken as down and the rest stay queued "
            "for the next cycle.",
            default=3,
        ),
    },
    "data": {
        "dir": Key(
            str,
            "Folder for the service's own state: the history store (figures, problems and the "
            "workbook snapshots, which hold personal data: keep the folder private), the delivery "
            "ledger, `status.json`, `serve.lock`, and `feedback-staging/`, where a Hasil "
            "Pemeriksaan write stages the new workbook with a small journal until it is swapped "
            "in (never beside the workbook). Keep it on the same disk as the local workbooks: "
            "otherwise the new file is staged beside the workbook under a hidden name that sync "
            "clients skip (`.~kkmp-<name>.<token>.tmp`), for the few seconds of the write.",
            default="out/data",
        ),
    },
    "zones": {
        "min_active_members": Key(int, "Kuning when fewer active members than this.", default=100),
        "red_no_sale_days": Key(int, "Merah when no sale within this many days.", default=30),
        "red_stale_days": Key(
            int, "Merah when the sheet was not updated for this many days.", default=30
        ),
        "yellow_stale_days": Key(
            int, "Kuning when the sheet was not updated within this many days.", default=14
        ),
    },
    "report": {
        "reporting_window_days": Key(
            int,
            "Kelengkapan Laporan counts cooperatives whose sheet changed within this many days.",
            default=7,
        ),
        "window_days": Key(
            int, "Length of the sales/new-member window (Omset 30 Hari, ...).", default=30
        ),
        "write_feedback": Key(
            bool,
            "Write the Hasil Pemeriksaan tab into each cooperative workbook.",
            default=True,
        ),
    },
    "simpanan": {
        "due_day": Key(
            int,
            "Day of the month (1–28) from which that month's simpanan wajib is owed: a member owes "
            "one monthly amount for each month from the month of Tanggal Masuk through the month "
            "before the as-of date, and for its own month only from this day on "
            "(docs/simpanan.md).",
            default=WAJIB_DUE_DAY,
        ),
    },
    # --- the scheduled service (`kkmp-sheets serve`) and its memory
    "schedule": {
        "sync_every_minutes": Key(
            int,
            "`serve`: minutes between two syncs (read every workbook, write the status workbook "
            "and Hasil Pemeriksaan, record the day, send penanggung jawab alerts).",
            default=60,
        ),
        "daily_digest_at": Key(
            str, "`serve`: time (HH:MM, WIB) of the daily city and kecamatan digests.", "07:00"
        ),
        "weekly_digest_day": Key(
            str,
            "`serve`: day of the weekly cooperative digests.",
            default="monday",
            choices=WEEKDAYS,
        ),
        "weekly_digest_at": Key(
            str, "`serve`: time (HH:MM, WIB) of the weekly cooperative digests.", "07:00"
        ),
    },
    "protection": {
        "max_drop_share": Key(
            (int, float),
            "A cooperative whose active members or stock items fall by more than this share (0–1) "
            "from its last accepted reading is flagged as a likely accidental deletion; the city "
            "view keeps its last good figures until the rows come back or `kkmp-sheets confirm` "
            "accepts the drop.",
            default=0.5,
        ),
        "min_rows": Key(
            int,
            "Only readings of at least this many active members (or stock items) are guarded.",
            default=20,
        ),
    },
    "history": {
        "snapshot_days": Key(
            int,
            "Days the snapshots of each workbook are kept in the history store (for `kkmp-sheets "
            "restore`); the newest snapshot of each cooperative, and its last accepted one, are "
            "always kept.",
            default=90,
        ),
    },
    # --- reading untrusted workbooks (local mode); see sources/limits.py
    "limits": {
        "max_uncompressed_mb": Key(
            int,
            "Local mode: a cooperative `.xlsx` whose parts together inflate to more than this "
            "many MB is not read (Galat `workbook-too-large`); checked from the zip directory "
            "before anything is parsed.",
            default=256,
        ),
        "max_compression_ratio": Key(
            int,
            "Local mode: a part of 1 MB or more that inflates to more than this many times its "
            "stored size (a zip bomb) makes its workbook not read.",
            default=200,
        ),
        "max_entries": Key(
            int, "Local mode: most parts (files inside the zip) of one `.xlsx`.", default=5000
        ),
        "max_rows": Key(
            int,
            "Local mode: most rows of one tab, as declared (`<dimension>`) and as read.",
            default=200_000,
        ),
        "max_columns": Key(
            int,
            "Local mode: most columns of one tab, as declared and as read.",
            default=1000,
        ),
        "max_cells": Key(
            int,
            "Local mode: most cells (rows × columns from A1) of all tabs of one workbook "
            "together, and of one tab's declared `<dimension>`.",
            default=3_000_000,
        ),
        "memory_mb": Key(
            int,
            "Local mode: address space (MB) of the worker process that reads one workbook; a "
            "workbook needing more stops only its own reading (Galat `workbook-read-stopped`).",
            default=768,
        ),
        "seconds": Key(
            (int, float),
            "Local mode: seconds one workbook's reading may take before it is stopped.",
            default=60,
        ),
    },
    "performance": {
        "workers": Key(
            int,
            "Local mode: processes that read, parse, validate and measure cooperative "
            "workbooks side by side, each under `[limits]`; 0 means one per core this service "
            "may use, 1 one at a time. The results are the same whatever the number.",
            default=0,
        ),
    },
    # --- Google mode ([source] or [output] kind = "google"); see docs/google-setup.md
    "google": {
        "credentials_env": Key(
            str,
            "Name of the environment variable holding the path of the service account's JSON "
            "key file (the key itself never goes in this file).",
            default="GOOGLE_APPLICATION_CREDENTIALS",
        ),
        "base_url": Key(
            str,
            "Send Sheets and Drive requests to this address instead of Google, e.g. the local "
            'fake `"http://127.0.0.1:8089"`; empty means Google itself.',
            default="",
        ),
        "reads_per_minute_per_user": Key(
            int,
            "Sheets read requests per minute the service allows itself (Google's per-user "
            "quota; a service account is one user).",
            default=60,
        ),
        "writes_per_minute_per_user": Key(
            int, "Sheets write requests per minute the service allows itself.", default=60
        ),
        "requests_per_minute_per_project": Key(
            int,
            "Sheets read (and, separately, write) requests per minute for the whole Google "
            "Cloud project; lower it when other programs share the project.",
            default=300,
        ),
        "timeout_seconds": Key(
            (int, float), "Seconds to wait for one answer from Google before retrying.", default=30
        ),
        "max_attempts": Key(
            int,
            "Attempts per request on 408/429/5xx answers, timeouts and dropped connections, with "
            "exponential backoff and jitter between them.",
            default=5,
        ),
        "max_wait_seconds": Key(
            (int, float),
            "Most seconds spent waiting between the attempts of one request; then that "
            "cooperative is reported as unreadable this cycle and the others go on.",
            default=120,
        ),
    },
    # --- onboarding: `kkmp-sheets provision` (see docs/onboarding.md)
    "provision": {
        "folder": Key(
            str,
            "Local mode: folder where `provision` writes new cooperative workbooks "
            "(`<ID>.xlsx`); the registry's Spreadsheet cell is set to the new file.",
            default="workbooks",
        ),
        "google_folder": Key(
            str,
            "Google mode: ID or URL of the Drive folder where `provision` creates the "
            "cooperative spreadsheets and the city status spreadsheet. Use a folder in a Shared "
            "Drive with the service account as Content manager: a service account has no Drive "
            "storage of its own.",
            default="",
        ),
        "google_template": Key(
            str,
            "Google mode: ID or URL of a template spreadsheet to copy for each cooperative "
            "(its Profil is then filled from the registry); empty means the service builds "
            "the template itself.",
            default="",
        ),
        "notify": Key(
            bool,
            "Google mode: Drive emails the pengurus (and the status readers) when a spreadsheet "
            "is shared with them.",
            default=True,
        ),
        "status_readers": Key(
            list,
            "Addresses given read access to the city status spreadsheet by `provision --status`; "
            "empty means `[mail] officials`.",
            default=[],
        ),
    },
}


@dataclass(frozen=True)
class MailSettings:
    sender: str = "kkmp-sheets@localhost"
    language: str = "id"
    officials: tuple[str, ...] = ()
    kecamatan: dict[str, tuple[str, ...]] = field(default_factory=dict)
    operator: str = ""
    host: str = "localhost"
    port: int | None = None
    security: str = "starttls"
    username: str = ""
    password_env: str = "KKMP_SMTP_PASSWORD"
    timeout_seconds: float = 20.0
    deadline_seconds: float = 600.0
    breaker_threshold: int = 3


@dataclass(frozen=True)
class ScheduleSettings:
    """When `serve` runs its jobs; times are WIB wall-clock times."""

    sync_every_minutes: int = 60
    daily_digest_at: time = time(7, 0)
    weekly_digest_day: str = "monday"
    weekly_digest_at: time = time(7, 0)


@dataclass(frozen=True)
class ProtectionRules:
    max_drop_share: float = 0.5
    min_rows: int = 20


@dataclass(frozen=True)
class GoogleSettings:
    """The `[google]` section (`google_api` uses it)."""

    credentials_env: str = "GOOGLE_APPLICATION_CREDENTIALS"
    base_url: str = ""
    reads_per_minute_per_user: int = 60
    writes_per_minute_per_user: int = 60
    requests_per_minute_per_project: int = 300
    timeout_seconds: float = 30.0
    max_attempts: int = 5
    max_wait_seconds: float = 120.0


@dataclass(frozen=True)
class ReadLimits:
    """The `[limits]` section: what reading one local cooperative workbook may take
    (`sources/limits.py` checks them). Plain data: it travels to the reader's worker process."""

    max_uncompressed_mb: int = 256
    max_compression_ratio: int = 200
    max_entries: int = 5000
    max_rows: int = 200_000
    max_columns: int = 1000
    max_cells: int = 3_000_000
    memory_mb: int = 768
    seconds: float = 60.0


@dataclass(frozen=True)
class ProvisionSettings:
    """The `[provision]` section (`provision.py` uses it)."""

    folder: Path = Path("workbooks")  # resolved against the config file
    google_folder: str = ""
    google_template: str = ""
    notify: bool = True
    status_readers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    path: Path
    city_name: str
    city_kode: str
    source_kind: str
    registry: str  # a path (resolved) in local mode, an ID/URL in Google mode
    output_kind: str
    output_path: Path
    mail_kind: str
    outbox_dir: Path
    data_dir: Path = Path("out/data")
    mail: MailSettings = field(default_factory=lambda: MailSettings())
    zones: ZoneRules = field(default_factory=ZoneRules)
    reporting_window_days: int = 7
    window_days: int = 30
    write_feedback: bool = True
    target_date: date | None = None
    target_active_share: float = 1.0
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    protection: ProtectionRules = field(default_factory=ProtectionRules)
    snapshot_days: int = 90
    google: GoogleSettings = field(default_factory=GoogleSettings)
    output_spreadsheet: str = ""  # Google mode: the status spreadsheet's ID or URL
    provision: ProvisionSettings = field(default_factory=ProvisionSettings)
    wajib_due_day: int = WAJIB_DUE_DAY  # [simpanan] due_day
    limits: ReadLimits = field(default_factory=ReadLimits)
    source_root: Path | None = None  # [source] root, resolved; None: the registry's folder
    workers: int = field(default_factory=lambda: usable_cores())  # [performance] workers

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def workbook_roots(self) -> tuple[Path, ...]:
        """Local mode: the folders every cooperative workbook must resolve inside."""
        first = self.source_root or Path(self.registry).parent
        return (first, self.provision.folder)


def load(path: str | Path) -> Config:
    """Read and check a config file; raise ConfigError listing every mistake."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"config file {path} not found: pass --config with the path of a city .toml "
            "(see config/example-city.toml)"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); check quotes and brackets") from None
    return parse(data, path.resolve())


def parse(data: dict[str, Any], path: Path) -> Config:
    problems: list[str] = []
    values = _check(data, problems)
    if problems:
        raise ConfigError(
            f"{path} has {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems)
        )

    base = path.parent
    kode = str(values["city"]["kode_wilayah"]).strip()
    if wilayah.get(kode) is None:
        problems.append(
            f"[city] kode_wilayah = {kode!r} is not a Kemendagri province/city code; "
            'use the dotted code, e.g. "31.73" for Kota Administrasi Jakarta Barat'
        )
    share = float(values["city"]["target_active_share"])
    if not 0 < share <= 1:
        problems.append(
            f"[city] target_active_share = {share}: expected a number above 0 and at most 1"
        )
    for key in ("min_active_members", "red_no_sale_days", "red_stale_days", "yellow_stale_days"):
        if values["zones"][key] < 0:
            problems.append(f"[zones] {key} = {values['zones'][key]}: expected 0 or more")
    mail = values["mail"]
    if any(not isinstance(a, str) or "@" not in a for a in mail["officials"]):
        problems.append(
            '[mail] officials: expected a list of email addresses, e.g. ["kadis@contoh.go.id"]'
        )
    for name, addresses in mail["kecamatan"].items():
        if not isinstance(addresses, list) or any(
            not isinstance(a, str) or "@" not in a for a in addresses
        ):
            problems.append(f"[mail.kecamatan] {name}: expected a list of email addresses")
    for key in ("timeout_seconds", "deadline_seconds", "breaker_threshold"):
        if mail[key] <= 0:
            problems.append(f"[mail] {key} = {mail[key]}: expected a number above 0")
    for key in ("reporting_window_days", "window_days"):
        if values["report"][key] < 1:
            problems.append(f"[report] {key} = {values['report'][key]}: expected 1 or more")
    due_day = values["simpanan"]["due_day"]
    if not 1 <= due_day <= 28:
        problems.append(
            f"[simpanan] due_day = {due_day}: expected a day of the month from 1 to 28 (every "
            "month has it), e.g. 10"
        )
    schedule, protection = _service_settings(values, problems)
    google = _google_settings(values, problems)
    provision = _provision_settings(values, base, problems)
    limits = _read_limits(values, problems)
    workers = values["performance"]["workers"]
    if workers < 0:
        problems.append(
            f"[performance] workers = {workers}: expected 0 (one per core) or a number of "
            "processes, e.g. 2"
        )
    if problems:
        raise ConfigError(
            f"{path} has {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems)
        )

    source_kind = values["source"]["kind"]
    registry = values["source"]["registry"]
    if source_kind == "local":
        registry = str((base / registry).resolve())
    return Config(
        path=path,
        city_name=values["city"]["name"],
        city_kode=wilayah.dotted(kode),
        source_kind=source_kind,
        registry=registry,
        output_kind=values["output"]["kind"],
        output_path=(base / values["output"]["path"]).resolve(),
        mail_kind=values["mail"]["kind"],
        outbox_dir=(base / values["mail"]["dir"]).resolve(),
        data_dir=(base / values["data"]["dir"]).resolve(),
        mail=MailSettings(
            sender=mail["sender"],
            language=mail["language"],
            officials=tuple(mail["officials"]),
            kecamatan={k: tuple(v) for k, v in mail["kecamatan"].items()},
            operator=mail["operator"],
            host=mail["host"],
            port=mail["port"],
            security=mail["security"],
            username=mail["username"],
            password_env=mail["password_env"],
            timeout_seconds=float(mail["timeout_seconds"]),
            deadline_seconds=float(mail["deadline_seconds"]),
            breaker_threshold=mail["breaker_threshold"],
        ),
        zones=ZoneRules(**values["zones"]),
        reporting_window_days=values["report"]["reporting_window_days"],
        window_days=values["report"]["window_days"],
        write_feedback=values["report"]["write_feedback"],
        target_date=values["city"]["target_date"],
        target_active_share=share,
        schedule=schedule,
        protection=protection,
        snapshot_days=values["history"]["snapshot_days"],
        google=google,
        output_spreadsheet=values["output"]["spreadsheet"],
        provision=provision,
        wajib_due_day=due_day,
        limits=limits,
        source_root=(
            (base / values["source"]["root"]).resolve()
            if source_kind == "local" and values["source"]["root"].strip()
            else None
        ),
        workers=workers or usable_cores(),
    )


def usable_cores() -> int:
    """The cores this process may run on (its affinity, as a container or `taskset` sets it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _read_limits(values: dict[str, dict[str, Any]], problems: list[str]) -> ReadLimits:
    """[limits]: every limit a positive number; mistakes go to `problems`."""
    given = values["limits"]
    for key, value in given.items():
        if value <= 0:
            problems.append(f"[limits] {key} = {value}: expected a number above 0")
    if given["memory_mb"] < 128:
        problems.append(
            f"[limits] memory_mb = {given['memory_mb']}: expected at least 128 (the reader "
            "itself needs about 60 MB), e.g. 768"
        )
    if given["max_compression_ratio"] < 10:
        problems.append(
            f"[limits] max_compression_ratio = {given['max_compression_ratio']}: expected at "
            "least 10 (ordinary workbooks compress 5 to 50 times), e.g. 200"
        )
    return ReadLimits(**{**given, "seconds": float(given["seconds"])})


def _google_settings(values: dict[str, dict[str, Any]], problems: list[str]) -> GoogleSettings:
    """[google], and the keys Google mode needs elsewhere; mistakes go to `problems`."""
    given = values["google"]
    for key in (
        "reads_per_minute_per_user",
        "writes_per_minute_per_user",
        "requests_per_minute_per_project",
        "max_attempts",
    ):
        if given[key] < 1:
            problems.append(f"[google] {key} = {given[key]}: expected 1 or more")
    for key in ("timeout_seconds", "max_wait_seconds"):
        if given[key] <= 0:
            problems.append(f"[google] {key} = {given[key]}: expected a number of seconds above 0")
    if values["output"]["kind"] == "google" and not values["output"]["spreadsheet"].strip():
        problems.append(
            '[output] spreadsheet is required with kind = "google": the ID or URL of an empty '
            "Google spreadsheet shared with the service account as Editor"
        )
    return GoogleSettings(
        credentials_env=given["credentials_env"],
        base_url=given["base_url"].strip(),
        reads_per_minute_per_user=given["reads_per_minute_per_user"],
        writes_per_minute_per_user=given["writes_per_minute_per_user"],
        requests_per_minute_per_project=given["requests_per_minute_per_project"],
        timeout_seconds=float(given["timeout_seconds"]),
        max_attempts=given["max_attempts"],
        max_wait_seconds=float(given["max_wait_seconds"]),
    )


def _provision_settings(
    values: dict[str, dict[str, Any]], base: Path, problems: list[str]
) -> ProvisionSettings:
    """[provision]; mistakes go to `problems`."""
    given = values["provision"]
    readers = given["status_readers"]
    if any(not isinstance(a, str) or "@" not in a for a in readers):
        problems.append(
            '[provision] status_readers: expected a list of email addresses, e.g. ["kadis@contoh.go.id"]'
        )
        readers = []
    return ProvisionSettings(
        folder=(base / given["folder"]).resolve(),
        google_folder=given["google_folder"].strip(),
        google_template=given["google_template"].strip(),
        notify=given["notify"],
        status_readers=tuple(readers),
    )


def _service_settings(
    values: dict[str, dict[str, Any]], problems: list[str]
) -> tuple[ScheduleSettings, ProtectionRules]:
    """[schedule], [protection] and [history]: ranges and times; mistakes go to `problems`."""
    sched, guard = values["schedule"], values["protection"]
    every = sched["sync_every_minutes"]
    if not 1 <= every <= 1440:
        problems.append(
            f"[schedule] sync_every_minutes = {every}: expected 1 to 1440 (one day), e.g. 60"
        )
    times = {}
    for key in ("daily_digest_at", "weekly_digest_at"):
        times[key] = _clock_time(sched[key])
        if times[key] is None:
            problems.append(
                f'[schedule] {key} = {sched[key]!r}: expected a WIB time as HH:MM, e.g. "07:00"'
            )
    share = guard["max_drop_share"]
    if not 0 < share < 1:
        problems.append(
            f"[protection] max_drop_share = {share}: expected a share above 0 and below 1, "
            "e.g. 0.5 (a drop of more than half)"
        )
    if guard["min_rows"] < 0:
        problems.append(f"[protection] min_rows = {guard['min_rows']}: expected 0 or more")
    operator = values["mail"]["operator"]
    if operator.strip() and "@" not in operator:
        problems.append(
            f'[mail] operator = {operator!r}: expected an email address, e.g. "it@contoh.go.id"'
        )
    if values["history"]["snapshot_days"] < 1:
        problems.append(
            f"[history] snapshot_days = {values['history']['snapshot_days']}: expected 1 or more"
        )
    schedule = ScheduleSettings(
        sync_every_minutes=every,
        daily_digest_at=times["daily_digest_at"] or time(7, 0),
        weekly_digest_day=sched["weekly_digest_day"],
        weekly_digest_at=times["weekly_digest_at"] or time(7, 0),
    )
    return schedule, ProtectionRules(max_drop_share=float(share), min_rows=guard["min_rows"])


def _clock_time(text: str) -> time | None:
    """`"07:00"` or `"7:00"` as a time of day; None when it is not one."""
    match = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*", text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))


def _check(data: dict[str, Any], problems: list[str]) -> dict[str, dict[str, Any]]:
    """Types, required keys, listed values and typos; returns every section filled with defaults."""
    out: dict[str, dict[str, Any]] = {}
    for section in data:
        if section not in KEYS:
            problems.append(f"unknown section [{section}]{_did_you_mean(section, KEYS)}")
    for section, keys in KEYS.items():
        given = data.get(section, {})
        if not isinstance(given, dict):
            problems.append(f"[{section}] must be a table (a [{section}] header), found a value")
            given = {}
        for key in given:
            if key not in keys:
                problems.append(f"[{section}] unknown key {key!r}{_did_you_mean(key, keys)}")
        section_values: dict[str, Any] = {}
        for key, spec in keys.items():
            if key not in given:
                if spec.required:
                    problems.append(f"[{section}] {key} is required: {spec.doc}")
                section_values[key] = spec.default
                continue
            value = given[key]
            if not _is_type(value, spec.type):
                problems.append(f"[{section}] {key} = {value!r}: expected {_type_name(spec.type)}")
                section_values[key] = spec.default
                continue
            if spec.choices and value not in spec.choices:
                options = " or ".join(repr(c) for c in spec.choices)
                problems.append(f"[{section}] {key} = {value!r}: expected {options}")
            section_values[key] = value
        out[section] = section_values
    return out


def _is_type(value: Any, expected: type | tuple[type, ...]) -> bool:
    types = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, bool) and bool not in types:
        return False  # TOML true is not a number
    return isinstance(value, types)


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {
        str: "text in quotes",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        date: "a date like 2026-12-31 (no quotes)",
        list: 'a list like ["a@b.id"]',
        dict: "a table",
    }
    types = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(names.get(t, t.__name__) for t in types)


def _did_you_mean(word: str, options: Any) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def reference_markdown() -> str:
    """The configuration reference (docs/configuration.md is this text; a test keeps them equal)."""
    lines = [
        "# Configuration reference",
        "",
        "One TOML file per city. Paths are relative to the file. Secrets never go in it: the SMTP",
        "password comes from the environment variable named by `[mail] password_env`, the Google",
        "service-account key from `GOOGLE_APPLICATION_CREDENTIALS`.",
        "This page is generated from `kkmp_sheets/config.py` (`python -m kkmp_sheets.config`).",
        "",
    ]
    for section, keys in KEYS.items():
        lines += [f"## [{section}]", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        for key, spec in keys.items():
            default = "*required*" if spec.required else f"`{spec.default!r}`"
            kind = _type_name(spec.type)
            if spec.choices:
                kind = " or ".join(f"`{c}`" for c in spec.choices)
            doc = spec.doc.replace("|", "\\|")
            lines.append(f"| `{key}` | {kind} | {default} | {doc} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference_markdown(), end="")
