"""A demo city inside the local Google fake, as an office would have it in Google Drive.

Each cooperative workbook becomes a native spreadsheet owned by its pengurus and shared with the
service account as Editor; the registry is a spreadsheet with a `Daftar KKMP` tab whose
Spreadsheet column holds each cooperative's ID (every third one as a full URL, as officials
paste them); the city status spreadsheet is empty, owned by the office, shared as Editor.

Used by the Google-mode tests, the benchmark and `kkmp-sheets demo --google-fake`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import gspread
from google.auth.credentials import AnonymousCredentials

from kkmp_sheets.clock import Clock
from kkmp_sheets.config import GoogleSettings
from kkmp_sheets.core.template import REGISTRY
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.google.api import GoogleApi, RateLimiter, guarded_client, limits
from kkmp_sheets.google.http import make_session
from kkmp_sheets.google.sink import GoogleSink
from kkmp_sheets.google.source import GoogleSource
from kkmp_sheets.google.state import GoogleState

from .fake_google import FakeGoogle, StaticTokenCredentials

OFFICE = "sudin.kukm@jakbar.example"


@dataclass
class GoogleCity:
    registry_id: str
    status_id: str
    sheets: dict[str, str] = field(default_factory=dict)  # coop id → spreadsheet id
    owners: dict[str, str] = field(default_factory=dict)  # coop id → owner (pengurus) email


def load_city(
    fake: FakeGoogle, root: Path, *, urls: bool = True, identity: str | None = None
) -> GoogleCity:
    """Put the demo city at `root` (registry.csv + workbooks/) into `fake`, shared with the
    service account `identity` (default: the fake's default identity)."""
    sa = identity or fake.default_identity
    with (root / "registry.csv").open(encoding="utf-8", newline="") as fh:
        rows = [list(r) for r in csv.reader(fh)]
    header, body = rows[0], rows[1:]
    col = header.index("Spreadsheet")
    city = GoogleCity(registry_id="", status_id="")
    for number, row in enumerate(body):
        coop_id = row[0]
        owner = f"pengurus.{coop_id.lower()}@koperasi.example"
        sid = fake.load_xlsx(
            root / row[col], owner=owner, shared_with={sa: "writer"}, time_zone=WIB.key
        )
        city.sheets[coop_id] = sid
        city.owners[coop_id] = owner
        row[col] = (
            f"https://docs.google.com/spreadsheets/d/{sid}/edit#gid=0"
            if urls and number % 3 == 2
            else sid
        )
    city.registry_id = fake.add_spreadsheet(
        "Daftar KKMP Kota",
        {REGISTRY.tab: [header, *body]},
        owner=OFFICE,
        shared_with={sa: "reader"},
    )
    city.status_id = fake.add_spreadsheet(
        "Status KKMP Kota", {"Sheet1": []}, owner=OFFICE, shared_with={sa: "writer"}
    )
    return city


@dataclass
class GoogleClients:
    """A source and sink on the fake sharing one guarded client (one limiter, one session)."""

    api: GoogleApi
    source: GoogleSource
    sink: GoogleSink
    state: GoogleState

    def close(self) -> None:
        self.state.close()
        self.api.close()


def connect_fake(
    fake: FakeGoogle,
    city: GoogleCity,
    *,
    clock: Clock,
    settings: GoogleSettings | None = None,
    state: GoogleState | None = None,
    feedback: bool = True,
    identity: str | None = None,
) -> GoogleClients:
    """Google-mode source and sink pointed at `fake`, as `wiring` builds them for Google, acting
    as `identity` (a service account with its own quota; default: the fake's default identity)."""
    api = fake_api_client(fake, clock=clock, settings=settings, identity=identity)
    state = state or GoogleState()
    source = GoogleSource(api, city.registry_id, state=state, feedback=feedback)
    sink = GoogleSink(api, city.status_id, state=state, listing=lambda: source.listing)
    return GoogleClients(api, source, sink, state)


def fake_api_client(
    fake: FakeGoogle,
    *,
    clock: Clock,
    settings: GoogleSettings | None = None,
    identity: str | None = None,
) -> GoogleApi:
    """The service's guarded client (its own limiter and session) on `fake`, acting as
    `identity` through a bearer token, or as the default identity without one."""
    settings = settings or GoogleSettings(base_url=fake.base_url, timeout_seconds=10)
    credentials = (
        StaticTokenCredentials(fake.add_identity(identity)) if identity else AnonymousCredentials()
    )
    session = make_session(credentials, fake.base_url, timeout=settings.timeout_seconds)
    client: gspread.Client = guarded_client(
        credentials,
        session,
        settings,
        clock,
        limiter=RateLimiter(limits(settings), clock),
        seed=0,
    )
    return GoogleApi(client, identity or fake.default_identity)


def config_text(fake: FakeGoogle, city: GoogleCity, *, name: str = "Kota Contoh") -> str:
    """A city config (TOML) that runs `city` in Google mode against `fake` as a server, digests
    to an outbox beside it: what `run --once --config` needs and nothing more."""
    return f"""
[city]
name = "{name}"
kode_wilayah = "31.73"

[source]
kind = "google"
registry = "https://docs.google.com/spreadsheets/d/{city.registry_id}/edit"

[output]
kind = "google"
spreadsheet = "{city.status_id}"

[mail]
kind = "outbox"
dir = "out/outbox"

[google]
base_url = "{fake.base_url}"
timeout_seconds = 10
"""
