"""A local fake of the Google Sheets v4 and Drive v3 APIs, served over real HTTP.

Tests run unmodified gspread against it::

    with FakeGoogle() as fake:
        sid = fake.add_spreadsheet("Koperasi Desa Sukamaju", {"Anggota": [["Nama"], ["Siti"]]})
        credentials = AnonymousCredentials()  # or StaticTokenCredentials(fake.add_identity(email))
        session = make_session(credentials, fake.base_url, timeout=10)  # kkmp_sheets.google.http
        client = gspread.Client(auth=credentials, session=session)
        client.open_by_key(sid).values_batch_get(["Anggota"])
        session.close()

or standalone, to point the service at a local demo city::

    python -m kkmp_sheets.testing.fake_google --port 8089 --load-xlsx-dir demo-kota/

Requests without an ``Authorization`` header act as ``default_identity`` (a service account);
``add_identity(email)`` returns a bearer token acting as someone else. Quotas, scripted faults,
latency, a request log and per-method counts make the client's resilience testable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import secrets
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import google.auth.credentials

from kkmp_sheets.core.wib import WIB

from .api_errors import ApiError
from .fake_api import DEFAULT_IDENTITY, FakeApp, QuotaConfig, RequestRecord
from .fake_drive import FOLDER_MIME, XLSX_MIME, DriveFile, parse_time
from .fake_handling import Handling
from .fake_server import Served
from .fake_sheets import plain_rows, write_values
from .xlsx_import import ImportedTab, read_xlsx

Shares = Iterable[str] | Mapping[str, str]


class StaticTokenCredentials(google.auth.credentials.Credentials):
    """Credentials that always send ``Authorization: Bearer <token>`` (never refresh)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def refresh(self, request: Any) -> None:
        """Nothing to refresh: the token is fixed."""


def _epoch(value: dt.datetime | str | float | None) -> float | None:
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return parse_time(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


class FakeGoogle(Served):
    """The fake's public face: start/stop, seed data, inspect state, inject faults."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        quota: QuotaConfig | None = None,
        default_identity: str = DEFAULT_IDENTITY,
        project_number: str = "123456789012",
        seed: int = 0,
    ) -> None:
        self.app = FakeApp(
            quota=quota, default_identity=default_identity, project_number=project_number, seed=seed
        )
        self._address = (host, port)

    # ------------------------------------------------------------------ lifecycle

    def _served_app(self) -> FakeApp:
        return self.app

    # ------------------------------------------------------------------ identities and clock

    @property
    def default_identity(self) -> str:
        return self.app.default_identity

    def add_identity(self, email: str, token: str | None = None) -> str:
        """Register a principal; returns the bearer token that acts as it."""
        token = token or f"fake-token-{secrets.token_hex(8)}"
        with self.app.lock:
            self.app.tokens[token] = email
        return token

    @property
    def clock(self) -> Callable[[], float]:
        """Seconds since the epoch as the fake sees them (quota windows, modifiedTime)."""
        return self.app.clock

    @clock.setter
    def clock(self, fn: Callable[[], float]) -> None:
        self.app.clock = fn

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (e.g. 60 s to open a new quota window)."""
        with self.app.lock:
            self.app.offset += seconds

    def now(self) -> float:
        return self.app.now()

    # ------------------------------------------------------------------ faults and accounting

    @property
    def quota(self) -> QuotaConfig:
        return self.app.quota

    @quota.setter
    def quota(self, value: QuotaConfig) -> None:
        with self.app.lock:
            self.app.quota = value
            self.app.reset_quota()

    @property
    def latency(self) -> float:
        return self.app.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.app.latency = seconds

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        *,
        path_contains: str | None = None,
        method: str | None = None,
        message: str | None = None,
    ) -> None:
        """The next ``n`` matching requests answer ``status`` with Google's error body
        (502 answers Google's HTML error page). Scripted faults use no quota."""
        self.app.fail_next(n, status, path_contains=path_contains, method=method, message=message)

    def clear_faults(self) -> None:
        """Forget the scripted faults not yet used (Google answers again)."""
        with self.app.lock:
            self.app._faults.clear()

    def slow_next(
        self,
        seconds: float,
        n: int = 1,
        *,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        """Delay the next ``n`` matching requests (to exercise client timeouts)."""
        self.app.slow_next(seconds, n, path_contains=path_contains, method=method)

    @property
    def counts(self) -> Counter[str]:
        """Requests received per API method, e.g. ``{"sheets.values.batchGet": 56}``."""
        with self.app.lock:
            return Counter(self.app.counts)

    @property
    def requests(self) -> list[RequestRecord]:
        with self.app.lock:
            return list(self.app.log)

    def handling(self) -> Handling:
        """The fake's own time so far (it only grows): wall seconds spent serving requests, the
        configured latency left out, and CPU seconds of its threads, the accepting one included.
        In-process, both are part of the client's measured time and CPU unless taken out."""
        h = self.app.meter.snapshot()
        serving = self._server.serving_cpu() if self._server is not None else 0.0
        return Handling(h.requests, h.seconds, h.cpu + serving)

    def reset_counts(self) -> None:
        with self.app.lock:
            self.app.counts.clear()
            self.app.log.clear()

    def reset_quota(self) -> None:
        self.app.reset_quota()

    # ------------------------------------------------------------------ seeding data

    def _owner(self, owner: str | None) -> str:
        return owner or self.app.default_identity

    def _parents(self, parent: str | None) -> list[str] | None:
        if parent is not None and parent not in self.app.drive.files:
            raise KeyError(f"no folder with id {parent!r}")
        return [parent] if parent else None

    def _share_all(self, f: DriveFile, shared_with: Shares) -> None:
        items = (
            shared_with.items()
            if isinstance(shared_with, Mapping)
            else ((e, "writer") for e in shared_with)
        )
        for email, role in items:
            self.app.share(f, email, role, "anyone" if email == "anyone" else "user")

    def add_folder(
        self,
        name: str,
        *,
        parent: str | None = None,
        owner: str | None = None,
        shared_with: Shares = (),
        file_id: str | None = None,
    ) -> str:
        with self.app.lock:
            f = self.app.add_file(
                name,
                FOLDER_MIME,
                self._owner(owner),
                parents=self._parents(parent),
                file_id=file_id,
            )
            self._share_all(f, shared_with)
            return f.id

    def add_spreadsheet(
        self,
        title: str,
        tabs: Mapping[str, list[list[Any]]] | None = None,
        *,
        file_id: str | None = None,
        owner: str | None = None,
        shared_with: Shares = (),
        parent: str | None = None,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
        created_time: dt.datetime | str | float | None = None,
        modified_time: dt.datetime | str | float | None = None,
        value_input: str = "RAW",
    ) -> str:
        """A native spreadsheet with the given tabs (rows of Python values: str, int, float,
        bool, date, datetime, None). ``value_input="USER_ENTERED"`` parses strings like the UI."""
        imported = [
            ImportedTab(name, [list(r) for r in rows]) for name, rows in (tabs or {}).items()
        ]
        return self._add_native(
            title, imported, file_id, owner, shared_with, parent, locale, time_zone,
            created_time, modified_time, value_input,
        )  # fmt: skip

    def _add_native(
        self,
        title: str,
        tabs: list[ImportedTab],
        file_id: str | None,
        owner: str | None,
        shared_with: Shares,
        parent: str | None,
        locale: str,
        time_zone: str,
        created_time: Any,
        modified_time: Any,
        value_input: str,
    ) -> str:
        created, modified = _epoch(created_time), _epoch(modified_time)
        with self.app.lock:
            f, _ = self.app.add_spreadsheet_file(
                title,
                self._owner(owner),
                tabs or None,
                locale=locale,
                time_zone=time_zone,
                value_input=value_input,
                parents=self._parents(parent),
                file_id=file_id,
                created=created if created is not None else modified,
                modified=modified,
            )
            self._share_all(f, shared_with)
            return f.id

    def add_file(
        self,
        name: str,
        content: bytes,
        mime_type: str = XLSX_MIME,
        *,
        file_id: str | None = None,
        owner: str | None = None,
        shared_with: Shares = (),
        parent: str | None = None,
        modified_time: dt.datetime | str | float | None = None,
    ) -> str:
        """A non-native file (e.g. an uploaded ``.xlsx`` never converted to Google Sheets)."""
        modified = _epoch(modified_time)
        with self.app.lock:
            f = self.app.add_file(
                name,
                mime_type,
                self._owner(owner),
                parents=self._parents(parent),
                file_id=file_id,
                created=modified,
                modified=modified,
                content=content,
            )
            self._share_all(f, shared_with)
            return f.id

    def load_xlsx(
        self,
        path: str | Path,
        file_id: str | None = None,
        name: str | None = None,
        modified_time: dt.datetime | str | float | None = None,
        *,
        owner: str | None = None,
        shared_with: Shares = (),
        parent: str | None = None,
        native: bool = True,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
    ) -> str:
        """Import a local ``.xlsx`` as a native spreadsheet (numbers as numbers, dates as serial
        numbers, text as text); ``native=False`` keeps it as an Office file in Drive instead.
        ``modified_time`` defaults to the file's own modification time."""
        path = Path(path)
        title = name or path.stem
        if modified_time is None:
            modified_time = path.stat().st_mtime
        if not native:
            return self.add_file(
                title + path.suffix, path.read_bytes(), XLSX_MIME, file_id=file_id, owner=owner,
                shared_with=shared_with, parent=parent, modified_time=modified_time,
            )  # fmt: skip
        return self._add_native(
            title, read_xlsx(path), file_id, owner, shared_with, parent, locale, time_zone,
            None, modified_time, "RAW",
        )  # fmt: skip

    def share(self, file_id: str, email: str, role: str = "reader", kind: str = "user") -> None:
        with self.app.lock:
            self.app.share(self._file(file_id), email, role, kind)

    def unshare(self, file_id: str, email: str) -> None:
        with self.app.lock:
            f = self._file(file_id)
            f.permissions = [p for p in f.permissions if (p.email or "").lower() != email.lower()]

    def delete_file(self, file_id: str) -> None:
        with self.app.lock:
            self.app.delete_file(self._file(file_id))

    def trash_file(self, file_id: str) -> None:
        with self.app.lock:
            f = self._file(file_id)
            f.trashed = True
            self.app.touch(f, f.owner)

    # ------------------------------------------------------------------ inspecting state

    def _file(self, file_id: str) -> DriveFile:
        f = self.app.drive.files.get(file_id)
        if f is None:
            raise KeyError(f"no file with id {file_id!r}")
        return f

    def file_info(self, file_id: str) -> dict[str, Any]:
        """The file's Drive metadata (all fields) as its owner sees it."""
        with self.app.lock:
            f = self._file(file_id)
            return self.app.drive.file_json(f, f.owner)

    def file_ids(self) -> list[str]:
        with self.app.lock:
            return list(self.app.drive.files)

    def tabs(self, file_id: str) -> list[str]:
        with self.app.lock:
            return [s.title for s in self.app.sheets[self._file(file_id).id].sheets]

    def get_values(
        self, file_id: str, tab: str, render: str = "UNFORMATTED_VALUE"
    ) -> list[list[Any]]:
        """A tab's values as the API returns them (trailing empties trimmed)."""
        with self.app.lock:
            ss = self.app.sheets[self._file(file_id).id]
            sheet = ss.sheet_by_title(tab)
            if sheet is None:
                raise KeyError(f"no tab {tab!r} in {file_id!r}")
            return plain_rows(ss, sheet, render)

    def edit_values(
        self,
        file_id: str,
        range_a1: str,
        values: list[list[Any]],
        *,
        by: str | None = None,
        value_input: str = "USER_ENTERED",
    ) -> None:
        """Change cells as a person would in the browser: bumps version and modifiedTime and
        records ``by`` as the last modifying user (the owner by default)."""
        with self.app.lock:
            f = self._file(file_id)
            work = self.app.sheets[f.id].clone()
            try:
                write_values(work, range_a1, values, "ROWS", value_input)
            except ApiError as error:
                raise ValueError(error.message) from error
            self.app.sheets[f.id] = work
            self.app.touch(f, by or f.owner)


# ---------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kkmp_sheets.testing.fake_google",
        description="Serve a local fake of the Google Sheets v4 and Drive v3 APIs.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8089, help="port (0 picks a free one)")
    parser.add_argument("--load-xlsx-dir", type=Path, help="import every .xlsx in this folder")
    parser.add_argument("--folder-name", help="put the imported spreadsheets in a new folder")
    parser.add_argument(
        "--identity", default=DEFAULT_IDENTITY, help="who unauthenticated calls act as"
    )
    parser.add_argument(
        "--token", action="append", default=[], metavar="TOKEN=EMAIL",
        help="accept this bearer token as EMAIL (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--share-with", action="append", default=[], metavar="EMAIL",
        help="give EMAIL write access to the imported files (repeatable)",
    )  # fmt: skip
    parser.add_argument("--locale", default="id_ID", help="locale of imported spreadsheets")
    parser.add_argument("--time-zone", default=WIB.key, help="their time zone")
    parser.add_argument("--no-quota", action="store_true", help="disable the per-minute quotas")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each request")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")

    fake = FakeGoogle(
        args.host,
        args.port,
        quota=QuotaConfig.unlimited() if args.no_quota else None,
        default_identity=args.identity,
    )
    fake.latency = args.latency
    for item in args.token:
        token, _, email = item.partition("=")
        fake.add_identity(email, token)
    loaded: list[tuple[str, str]] = []
    if args.load_xlsx_dir:
        folder = (
            fake.add_folder(args.folder_name, shared_with=args.share_with)
            if args.folder_name
            else None
        )
        if folder:
            loaded.append((folder, f"{args.folder_name}/ (folder)"))
        for path in sorted(args.load_xlsx_dir.glob("*.xlsx")):
            sid = fake.load_xlsx(
                path,
                parent=folder,
                shared_with=args.share_with,
                locale=args.locale,
                time_zone=args.time_zone,
            )
            loaded.append((sid, path.stem))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with fake:
        out = sys.stdout
        out.write(f"fake Google APIs at {fake.base_url} (acting as {fake.default_identity})\n")
        for file_id, name in loaded:
            out.write(f"{file_id}\t{name}\n")
        out.flush()
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
