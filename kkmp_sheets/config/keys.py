"""What the city config file may say: every section and key, its type, default and meaning.

The one source of truth for the file's schema: `config` checks a file against it, and
`docs/configuration.md` is `reference_markdown()` (`python -m kkmp_sheets.config`; a test keeps
them equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from kkmp_sheets.core.pasokan import DEFAULT_BUTIR_PER_KG
from kkmp_sheets.core.template import WAJIB_DUE_DAY


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
            'outside it get a warning. A federation instance (`[source] kind = "federation"`) '
            "of a province uses the province's code; the national one `00`.",
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
        "area": Key(
            list,
            "The city's area as a box of four numbers in degrees, `[south, west, north, east]` "
            "(e.g. `[-6.23, 106.68, -6.09, 106.81]`). A Titik Lokasi outside it is a Peringatan "
            "in the cooperative's Hasil Pemeriksaan and is left off the Laporan Pimpinan's map. "
            "Empty: the centre of the city's own cooperatives (their median point) and "
            "`area_radius_km` decide (docs/laporan.md).",
        ),
        "area_radius_km": Key(
            (int, float),
            "Without `area`: a Titik Lokasi farther than this many km from the median point of "
            "the city's cooperatives is outside the city (checked once at least 5 have one).",
            default=30,
        ),
    },
    "source": {
        "kind": Key(
            str,
            "Where cooperative workbooks live; `federation`: this instance is a province or the "
            "nation and reads its children's status spreadsheets instead (docs/federation.md).",
            required=True,
            choices=("local", "google", "federation"),
        ),
        "registry": Key(
            str,
            "The registry of cooperatives: local mode a `.csv` or `.xlsx` path; Google mode the "
            "ID or URL of the spreadsheet holding the `Daftar KKMP` tab. Federation: a `.csv` or "
            "`.xlsx` path listing the children (Kode Wilayah | Nama | Spreadsheet | Email "
            "Operator; Spreadsheet = a Google ID/URL or a local status `.xlsx` path).",
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
        "laporan": Key(
            bool,
            "Write the Laporan Pimpinan each cycle (a one-page PDF for the city and one per "
            "kecamatan, attached to the daily city and kecamatan digests).",
            default=True,
        ),
        "laporan_dir": Key(
            str,
            "Folder of the Laporan Pimpinan PDFs; empty means `laporan/` beside the status "
            "workbook in local mode and `laporan/` in `[data] dir` in Google mode.",
            default="",
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
    "channels": {
        "quiet_hours": Key(
            str,
            "WhatsApp and Telegram: no message is sent between these WIB times (`HH:MM-HH:MM`, "
            "across midnight allowed); what falls in them waits in the delivery ledger until the "
            'window opens. Empty (`""`) sends at any hour. Email is not held.',
            default="21:00-06:00",
        ),
        "city": Key(
            list,
            'Channels beside email for the daily city digest: `["telegram"]` (to '
            "`[channels.telegram] city_chat`).",
            default=[],
        ),
        "kecamatan": Key(
            list,
            'Channels beside email for each kecamatan digest: `["telegram"]` (to the chat of '
            "`[channels.telegram] kecamatan_chats`).",
            default=[],
        ),
        "coop": Key(
            list,
            'Channels beside email for the cooperative\'s weekly nudge: `"whatsapp"` to the '
            'Telepon Ketua of its Profil, `"telegram"` to `[channels.telegram] people` under '
            "the cooperative's ID.",
            default=[],
        ),
        "alert": Key(
            list,
            'Channels beside email for the penanggung jawab alert: `"whatsapp"` to the '
            'registry\'s Telepon Penanggung Jawab, `"telegram"` to `[channels.telegram] people` '
            "under the Email Penanggung Jawab.",
            default=[],
        ),
        "muted": Key(
            list,
            "Recipients who receive no WhatsApp or Telegram message (phone numbers as people "
            "type them, or Telegram chat ids). A cooperative is muted by `Tanpa Pesan` = `Ya` in "
            "the registry.",
            default=[],
        ),
        "max_attempts": Key(
            int,
            "A message the service keeps refusing for the moment (rate limit, fault, timeout) "
            "is given up, and reported, after this many attempts.",
            default=20,
        ),
    },
    "channels.whatsapp": {
        "base_url": Key(
            str, "WhatsApp Cloud API base URL.", default="https://graph.facebook.com/v21.0"
        ),
        "phone_number_id": Key(
            str, "The sending phone number's id (WhatsApp Manager).", default=""
        ),
        "waba_id": Key(
            str, "The WhatsApp Business Account id, for the template list of `check`.", default=""
        ),
        "token_env": Key(
            str,
            "Name of the environment variable holding the access token (never the token).",
            default="KKMP_WHATSAPP_TOKEN",
        ),
        "messages_per_second": Key(
            (int, float), "Client-side limit on messages per second.", default=20
        ),
        "templates": Key(
            dict,
            "Approved template per digest kind, `name` or `name:language`: keys `city`, "
            "`kecamatan`, `coop`, `alert`, `laporan` (the PDF, with a DOCUMENT header). Missing "
            "kinds use the names in docs/channels.md.",
            default={},
        ),
        "language": Key(str, "Template language when a template names none.", default="id"),
    },
    "channels.telegram": {
        "base_url": Key(str, "Telegram Bot API base URL.", default="https://api.telegram.org"),
        "token_env": Key(
            str,
            "Name of the environment variable holding the bot token (never the token).",
            default="KKMP_TELEGRAM_TOKEN",
        ),
        "city_chat": Key(
            str, "Chat id (`-100…`) or `@channel` that receives the city digest.", default=""
        ),
        "kecamatan_chats": Key(
            dict,
            'Chat per kecamatan name: `"Kebon Jeruk" = "-1001234567890"`.',
            default={},
        ),
        "people": Key(
            dict,
            "Private chats with the bot: a cooperative's ID (its pengurus) or a penanggung "
            'jawab\'s email → chat id: `"KKMP-3173011001" = "123456789"`.',
            default={},
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
    "digest": {
        "merah_list_limit": Key(
            int,
            "How many Merah cooperatives the city and kecamatan digests name, each with its "
            "reasons; beyond it they say how many more and point to the status spreadsheet "
            '(docs/operator.md, "What the digests contain").',
            default=10,
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
    "pasokan": {
        "telur_butir_per_kg": Key(
            (int, float),
            "Eggs (Telur) per kilogram: Pasokan shows eggs in kg, and Stok rows counted in "
            "`butir` are converted at this rate (docs/pasokan.md).",
            default=DEFAULT_BUTIR_PER_KG,
        ),
    },
    # --- a province or national instance ([source] kind = "federation"); docs/federation.md
    "federation": {
        "stale_days": Key(
            int,
            "A child whose data date is more than this many days before the parent's is shown "
            "`Terlambat` (its figures still count) and its operator is told.",
            default=2,
        ),
        "per_kecamatan": Key(
            bool,
            "Also read each child's sub-region tab (a city's Kecamatan, a province's Status "
            "Kab/Kota) and show its rows in the parent's Kecamatan tab.",
            default=False,
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
            "workbooks side by side, each under `[limits]`; in every mode, processes that draw "
            "the Laporan Pimpinan pages that changed. 0 means one per core this service may "
            "use, 1 one at a time. The results are the same whatever the number.",
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
        "request_budget_mb": Key(
            (int, float),
            "Most MiB of one request that writes the status spreadsheet (Google refuses more "
            "than 10). A larger status is written in several requests into hidden staging tabs "
            "and shown by one last request, so readers never see half of it (docs/operator.md, "
            '"Large status spreadsheets").',
            default=8,
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


def type_name(expected: type | tuple[type, ...]) -> str:
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


def reference_markdown() -> str:
    """The configuration reference (docs/configuration.md is this text; a test keeps them equal)."""
    lines = [
        "# Configuration reference",
        "",
        "One TOML file per city. Paths are relative to the file. Secrets never go in it: the SMTP",
        "password comes from the environment variable named by `[mail] password_env`, the Google",
        "service-account key from `GOOGLE_APPLICATION_CREDENTIALS`.",
        "This page is generated from `kkmp_sheets/config/keys.py` (`python -m kkmp_sheets.config`).",
        "",
    ]
    for section, keys in KEYS.items():
        lines += [f"## [{section}]", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        for key, spec in keys.items():
            default = "*required*" if spec.required else f"`{spec.default!r}`"
            kind = type_name(spec.type)
            if spec.choices:
                kind = " or ".join(f"`{c}`" for c in spec.choices)
            doc = spec.doc.replace("|", "\\|")
            lines.append(f"| `{key}` | {kind} | {default} | {doc} |")
        lines.append("")
    return "\n".join(lines)
