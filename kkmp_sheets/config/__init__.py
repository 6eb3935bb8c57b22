"""Loading and checking the city configuration (one TOML file per city).

Every mistake gets one line that names the key, says what was found and what is expected; all
mistakes of a file are reported at once, so an operator fixes them in one go. Paths are relative
to the config file, so the service behaves the same from any working directory. Secrets (the
SMTP password, the service-account key) are never read from this file: only the *name* of the
environment variable that holds them.

Every key is documented in `KEYS` (`keys.py`, and so in `docs/configuration.md`, which a test keeps in step).
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

from kkmp_sheets.config.keys import KEYS, WEEKDAYS, Key, reference_markdown, type_name
from kkmp_sheets.core import wilayah
from kkmp_sheets.core.lokasi import Area
from kkmp_sheets.core.metadata import NATIONAL_KODE
from kkmp_sheets.core.pasokan import PasokanRules
from kkmp_sheets.core.template import WAJIB_DUE_DAY
from kkmp_sheets.core.zoning import ZoneRules
from kkmp_sheets.errors import ConfigError

__all__ = ["KEYS", "WEEKDAYS", "Key", "reference_markdown"]  # the schema, in keys.py


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
    request_budget_mb: float = 8.0  # the status spreadsheet is written staged above it


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


CHANNEL_NAMES = ("whatsapp", "telegram")
CHANNEL_KINDS = ("city", "kecamatan", "coop", "alert")
# The template names docs/channels.md ships for an office to submit to Meta.
DEFAULT_TEMPLATES = {
    "city": "kkmp_ringkasan_kota",
    "kecamatan": "kkmp_ringkasan_kecamatan",
    "coop": "kkmp_pengingat_mingguan",
    "alert": "kkmp_peringatan_pj",
    "laporan": "kkmp_laporan_pimpinan",
}


@dataclass(frozen=True)
class WhatsAppSettings:
    base_url: str = "https://graph.facebook.com/v21.0"
    phone_number_id: str = ""
    waba_id: str = ""
    token_env: str = "KKMP_WHATSAPP_TOKEN"
    messages_per_second: float = 20.0
    templates: dict[str, tuple[str, str]] = field(default_factory=dict)  # kind → (name, lang)

    def template(self, kind: str) -> tuple[str, str]:
        return self.templates.get(kind) or (DEFAULT_TEMPLATES[kind], "id")


@dataclass(frozen=True)
class TelegramSettings:
    base_url: str = "https://api.telegram.org"
    token_env: str = "KKMP_TELEGRAM_TOKEN"
    city_chat: str = ""
    kecamatan_chats: dict[str, str] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)  # coop ID or PJ email → chat id


@dataclass(frozen=True)
class ChannelSettings:
    """`[channels]`: which digest kinds also go to WhatsApp / Telegram, and how. No section:
    `routes` is empty and delivery is email only, exactly as without channels."""

    routes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kind → channels
    quiet_hours: tuple[time, time] | None = (time(21, 0), time(6, 0))
    muted: tuple[str, ...] = ()
    max_attempts: int = 20
    whatsapp: WhatsAppSettings = field(default_factory=WhatsAppSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)

    @property
    def enabled(self) -> tuple[str, ...]:
        """The channels some digest kind goes to, in a stable order."""
        used = {c for channels in self.routes.values() for c in channels}
        return tuple(c for c in CHANNEL_NAMES if c in used)


@dataclass(frozen=True)
class FederationSettings:
    """The `[federation]` section: a province's or the nation's instance."""

    stale_days: int = 2
    per_kecamatan: bool = False


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
    pasokan: PasokanRules = field(default_factory=PasokanRules)
    limits: ReadLimits = field(default_factory=ReadLimits)
    source_root: Path | None = None  # [source] root, resolved; None: the registry's folder
    workers: int = field(default_factory=lambda: usable_cores())  # [performance] workers
    merah_list_limit: int = 10  # [digest] merah_list_limit
    area: Area = field(default_factory=Area)  # [city] area, area_radius_km
    laporan: bool = True  # [output] laporan
    laporan_dir: Path | None = None  # [output] laporan_dir, resolved; None: see `report_dir`
    federation: FederationSettings = field(default_factory=lambda: FederationSettings())
    channels: ChannelSettings = field(default_factory=ChannelSettings)  # [channels]

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def report_dir(self) -> Path:
        """Where the Laporan Pimpinan PDFs go: `[output] laporan_dir`, else `laporan/` beside
        the status workbook (local) or in the data folder (Google: no local output folder)."""
        if self.laporan_dir is not None:
            return self.laporan_dir
        if self.output_kind == "local":
            return self.output_path.parent / "laporan"
        return self.data_dir / "laporan"

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
    national = kode == NATIONAL_KODE and values["source"]["kind"] == "federation"
    if wilayah.get(kode) is None and not national:
        problems.append(
            f"[city] kode_wilayah = {kode!r} is not a Kemendagri province/city code; "
            'use the dotted code, e.g. "31.73" for Kota Administrasi Jakarta Barat'
        )
    share = float(values["city"]["target_active_share"])
    if not 0 < share <= 1:
        problems.append(
            f"[city] target_active_share = {share}: expected a number above 0 and at most 1"
        )
    area = _area(values["city"], problems)
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
    if values["digest"]["merah_list_limit"] < 1:
        problems.append(
            f"[digest] merah_list_limit = {values['digest']['merah_list_limit']}: expected 1 or "
            "more, e.g. 10"
        )
    for key in ("reporting_window_days", "window_days"):
        if values["report"][key] < 1:
            problems.append(f"[report] {key} = {values['report'][key]}: expected 1 or more")
    due_day = values["simpanan"]["due_day"]
    if not 1 <= due_day <= 28:
        problems.append(
            f"[simpanan] due_day = {due_day}: expected a day of the month from 1 to 28 (every "
            "month has it), e.g. 10"
        )
    butir_per_kg = values["pasokan"]["telur_butir_per_kg"]
    if not butir_per_kg > 0:
        problems.append(
            f"[pasokan] telur_butir_per_kg = {butir_per_kg}: expected the number of eggs in a "
            "kilogram, above 0, e.g. 16"
        )
    schedule, protection = _service_settings(values, problems)
    google = _google_settings(values, problems)
    provision = _provision_settings(values, base, problems)
    limits = _read_limits(values, problems)
    channels = _channel_settings(values, problems)
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
    if source_kind in ("local", "federation"):
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
        pasokan=PasokanRules(float(butir_per_kg)),
        limits=limits,
        source_root=(
            (base / values["source"]["root"]).resolve()
            if source_kind in ("local", "federation") and values["source"]["root"].strip()
            else None
        ),
        workers=workers or usable_cores(),
        merah_list_limit=values["digest"]["merah_list_limit"],
        area=area,
        laporan=values["output"]["laporan"],
        laporan_dir=(
            (base / values["output"]["laporan_dir"]).resolve()
            if values["output"]["laporan_dir"].strip()
            else None
        ),
        federation=FederationSettings(
            stale_days=values["federation"]["stale_days"],
            per_kecamatan=values["federation"]["per_kecamatan"],
        ),
        channels=channels,
    )


def _channel_settings(values: dict[str, dict[str, Any]], problems: list[str]) -> ChannelSettings:
    section, wa, tg = values["channels"], values["channels.whatsapp"], values["channels.telegram"]
    routes: dict[str, tuple[str, ...]] = {}
    for kind in CHANNEL_KINDS:
        chosen = section[kind]
        unknown = [c for c in chosen if c not in CHANNEL_NAMES]
        if unknown:
            problems.append(
                f'[channels] {kind} = {chosen!r}: expected a list of "whatsapp" and/or '
                '"telegram", e.g. ["telegram"]'
            )
        elif chosen:
            routes[kind] = tuple(dict.fromkeys(chosen))
    if routes.get("city", ()) and "whatsapp" in routes["city"]:
        problems.append('[channels] city: the city digest goes to Telegram only: ["telegram"]')
    if "whatsapp" in routes.get("kecamatan", ()):
        problems.append(
            '[channels] kecamatan: the kecamatan digest goes to Telegram only: ["telegram"]'
        )
    quiet: tuple[time, time] | None = None
    text = section["quiet_hours"].strip()
    if text:
        start, _, end = text.partition("-")
        quiet = (_clock_time(start) or time(0), _clock_time(end) or time(0))
        if _clock_time(start) is None or _clock_time(end) is None or quiet[0] == quiet[1]:
            problems.append(
                f'[channels] quiet_hours = {text!r}: expected two WIB times like "21:00-06:00", '
                'or "" to send at any hour'
            )
            quiet = None
    templates: dict[str, tuple[str, str]] = {}
    for kind, value in wa["templates"].items():
        if kind not in DEFAULT_TEMPLATES or not isinstance(value, str) or not value.strip():
            problems.append(
                f"[channels.whatsapp] templates: {kind} = {value!r}: expected one of "
                f'{", ".join(DEFAULT_TEMPLATES)} = "template_name" or "template_name:id"'
            )
            continue
        name, _, language = value.strip().partition(":")
        templates[kind] = (name.strip(), language.strip() or wa["language"])
    if "whatsapp" in {c for r in routes.values() for c in r} and not wa["phone_number_id"]:
        problems.append(
            "[channels.whatsapp] phone_number_id is required when a digest goes to WhatsApp"
        )
    if section["max_attempts"] < 1:
        problems.append(f"[channels] max_attempts = {section['max_attempts']}: expected 1 or more")
    if wa["messages_per_second"] <= 0:
        problems.append("[channels.whatsapp] messages_per_second: expected a number above 0")
    chats: dict[str, dict[str, str]] = {}
    for table in ("kecamatan_chats", "people"):
        for name, chat in tg[table].items():
            if not isinstance(chat, str | int) or isinstance(chat, bool):
                problems.append(
                    f"[channels.telegram] {table}: {name} = {chat!r}: expected a chat id"
                )
            chats.setdefault(table, {})[name] = str(chat).strip()
    return ChannelSettings(
        routes=routes,
        quiet_hours=quiet,
        muted=tuple(str(m).strip() for m in section["muted"]),
        max_attempts=section["max_attempts"],
        whatsapp=WhatsAppSettings(
            base_url=wa["base_url"].rstrip("/"),
            phone_number_id=wa["phone_number_id"].strip(),
            waba_id=wa["waba_id"].strip(),
            token_env=wa["token_env"],
            messages_per_second=float(wa["messages_per_second"]),
            templates=templates,
        ),
        telegram=TelegramSettings(
            base_url=tg["base_url"].rstrip("/"),
            token_env=tg["token_env"],
            city_chat=tg["city_chat"].strip(),
            kecamatan_chats=chats.get("kecamatan_chats", {}),
            people=chats.get("people", {}),
        ),
    )


def _area(city: dict[str, Any], problems: list[str]) -> Area:
    """[city] area and area_radius_km; mistakes go to `problems`."""
    radius = city["area_radius_km"]
    if radius <= 0:
        problems.append(f"[city] area_radius_km = {radius}: expected a number of km above 0")
    box = city["area"]
    if box is None or box == []:
        return Area(None, float(radius))
    numbers = [b for b in box if isinstance(b, int | float) and not isinstance(b, bool)]
    if len(box) != 4 or len(numbers) != 4:
        problems.append(
            f"[city] area = {box!r}: expected four numbers [south, west, north, east], "
            "e.g. [-6.23, 106.68, -6.09, 106.81]"
        )
        return Area(None, float(radius))
    south, west, north, east = (float(n) for n in numbers)
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        problems.append(
            f"[city] area = {box!r}: expected south < north (latitudes, −90 to 90) and "
            "west < east (longitudes, −180 to 180)"
        )
    return Area((south, west, north, east), float(radius))


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
    if not 0.1 <= given["request_budget_mb"] <= 10:
        problems.append(
            f"[google] request_budget_mb = {given['request_budget_mb']}: expected 0.1 to 10 "
            "(Google refuses a request over 10 MiB)"
        )
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
        request_budget_mb=float(given["request_budget_mb"]),
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
    data = _nested_sections(data)
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
                problems.append(f"[{section}] {key} = {value!r}: expected {type_name(spec.type)}")
                section_values[key] = spec.default
                continue
            if spec.choices and value not in spec.choices:
                options = " or ".join(repr(c) for c in spec.choices)
                problems.append(f"[{section}] {key} = {value!r}: expected {options}")
            section_values[key] = value
        out[section] = section_values
    return out


def _nested_sections(data: dict[str, Any]) -> dict[str, Any]:
    """`[channels.whatsapp]` is a table inside `[channels]` in TOML; the schema names it as
    a section of its own."""
    channels = data.get("channels")
    if not isinstance(channels, dict):
        return data
    data, channels = dict(data), dict(channels)
    for name in ("whatsapp", "telegram"):
        if isinstance(channels.get(name), dict):
            data[f"channels.{name}"] = channels.pop(name)
    data["channels"] = channels
    return data


def _is_type(value: Any, expected: type | tuple[type, ...]) -> bool:
    types = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, bool) and bool not in types:
        return False  # TOML true is not a number
    return isinstance(value, types)


def _did_you_mean(word: str, options: Any) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
