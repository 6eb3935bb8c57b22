"""The fake's application object: state, identities, quotas, faults, accounting and routing.

``FakeApp.handle`` takes one HTTP request (method, target, headers, body) and returns a
``Response``; it knows nothing about sockets (see ``fake_server``). Endpoints live in
``api_sheets`` and ``api_drive``; the state they share (Drive files, spreadsheets) lives here.
"""

from __future__ import annotations

import json
import logging
import random
import re
import string
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .api_errors import HTML_502, ApiError, drive_rate_limited, quota_exceeded, unimplemented
from .cells import content_from_python, parse_user_entered
from .fake_drive import FOLDER_MIME, SHEET_MIME, Drive, DriveFile, Permission, permission_id
from .fake_sheets import DEFAULT_COLS, DEFAULT_ROWS, Sheet, Spreadsheet
from .xlsx_import import ImportedTab

log = logging.getLogger(__name__)

DEFAULT_IDENTITY = "kkmp-sheets@kkmp-local.iam.gserviceaccount.com"
_ID_ALPHABET = string.ascii_letters + string.digits + "-_"


@dataclass
class QuotaConfig:
    """Per-minute request quotas (``None`` = unlimited). Sheets counts a batch as one request;
    reads are GET requests (``spreadsheets.get``, ``values.get``, ``values:batchGet``)."""

    read_per_user: int | None = 60
    write_per_user: int | None = 60
    read_per_project: int | None = 300
    write_per_project: int | None = 300
    drive_per_user: int | None = None
    window_seconds: float = 60.0

    @classmethod
    def unlimited(cls) -> QuotaConfig:
        return cls(None, None, None, None, None)


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict[str, list[str]]
    kind: str
    identity: str | None = None
    status: int = 0
    at: float = 0.0


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(obj: Any, status: int = 200) -> Response:
    return Response(status, (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


@dataclass
class _Rule:
    remaining: int
    path_contains: str | None
    method: str | None
    status: int = 500
    message: str | None = None
    seconds: float = 0.0

    def matches(self, method: str, target: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return not self.path_contains or (
            self.path_contains in target or self.path_contains in unquote(target)
        )


@dataclass
class Call:
    """One routed request as endpoints see it."""

    app: FakeApp
    method: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    identity: str
    groups: tuple[str, ...]

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def flag(self, name: str) -> bool:
        return (self.param(name) or "").lower() == "true"

    def json(self) -> dict[str, Any]:
        """The request body as a JSON object (``{}`` when empty); anything else is a 400."""
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except ValueError:
            raise ApiError(400, "Invalid JSON payload received. Unexpected token.") from None
        if not isinstance(value, dict):
            raise ApiError(400, "Invalid JSON payload received. Expected an object.")
        return value


Endpoint = Callable[[Call], Response]


class FakeApp:
    def __init__(
        self,
        *,
        quota: QuotaConfig | None = None,
        default_identity: str = DEFAULT_IDENTITY,
        project_number: str = "123456789012",
        seed: int = 0,
    ) -> None:
        from . import api_drive, api_sheets

        self.lock = threading.RLock()
        self.drive = Drive()
        self.sheets: dict[str, Spreadsheet] = {}
        self.tokens: dict[str, str] = {}
        self.default_identity = default_identity
        self.project_number = project_number
        self.quota = quota or QuotaConfig()
        self.clock: Callable[[], float] = time.time
        self.offset = 0.0
        self.latency = 0.0
        self.counts: Counter[str] = Counter()
        self.log: list[RequestRecord] = []
        self.rng = random.Random(seed)
        self.stop_event = threading.Event()
        self._faults: list[_Rule] = []
        self._slows: list[_Rule] = []
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._last_stamp = 0
        self.routes: list[tuple[str, re.Pattern[str], str, Endpoint]] = [
            (method, re.compile(pattern), kind, fn)
            for method, pattern, kind, fn in (*api_sheets.ROUTES, *api_drive.ROUTES)
        ]

    # ------------------------------------------------------------------ time and ids

    def now(self) -> float:
        return self.clock() + self.offset

    def stamp(self) -> float:
        """A modification time, strictly increasing so that every write is visible."""
        millis = max(int(self.now() * 1000), self._last_stamp + 1)
        self._last_stamp = millis
        return millis / 1000

    def new_sheet_id(self, taken: set[int]) -> int:
        while True:
            candidate = self.rng.randrange(1, 2**31 - 1)
            if candidate not in taken:
                return candidate

    def new_file_id(self) -> str:
        while True:
            candidate = "1" + "".join(self.rng.choice(_ID_ALPHABET) for _ in range(43))
            if candidate not in self.drive.files:
                return candidate

    # ------------------------------------------------------------------ state helpers

    def add_file(
        self,
        name: str,
        mime_type: str,
        owner: str,
        *,
        parents: list[str] | None = None,
        file_id: str | None = None,
        created: float | None = None,
        modified: float | None = None,
        content: bytes | None = None,
    ) -> DriveFile:
        fid = file_id or self.new_file_id()
        if fid in self.drive.files:
            raise ValueError(f"a file with id {fid!r} already exists")
        moment = self.stamp() if created is None else created
        f = DriveFile(
            fid,
            name,
            mime_type,
            owner,
            created=moment,
            modified=moment if modified is None else modified,
            parents=list(parents) if parents else [self.drive.root_id(owner)],
            content=content,
            last_modifier=owner,
        )
        self.drive.files[fid] = f
        return f

    def add_spreadsheet_file(
        self,
        name: str,
        owner: str,
        tabs: list[ImportedTab] | None = None,
        *,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
        value_input: str = "RAW",
        **file_args: Any,
    ) -> tuple[DriveFile, Spreadsheet]:
        f = self.add_file(name, SHEET_MIME, owner, **file_args)
        ss = Spreadsheet.new(f.id, name, locale, time_zone)
        if tabs:
            ss.sheets = self.build_sheets(ss, tabs, value_input)
        self.sheets[f.id] = ss
        return f, ss

    def build_sheets(
        self, ss: Spreadsheet, tabs: list[ImportedTab], value_input: str
    ) -> list[Sheet]:
        """Sheets from imported tabs (the first gets sheetId 0, like a new spreadsheet)."""
        sheets: list[Sheet] = []
        for tab in tabs:
            sheet_id = self.new_sheet_id({s.sheet_id for s in sheets} | {0}) if sheets else 0
            sheets.append(self._build_sheet(ss, sheet_id, tab, value_input))
        if sheets and all(s.hidden for s in sheets):
            sheets[0].props.pop("hidden", None)
        for i, sheet in enumerate(sheets):
            sheet.props["index"] = i
        return sheets

    def _build_sheet(
        self, ss: Spreadsheet, sheet_id: int, tab: ImportedTab, value_input: str
    ) -> Sheet:
        height = len(tab.rows)
        width = max((len(r) for r in tab.rows), default=0)
        sheet = Sheet.new(sheet_id, tab.title, max(DEFAULT_ROWS, height), max(DEFAULT_COLS, width))
        for r, row in enumerate(tab.rows):
            for c, value in enumerate(row):
                if value_input == "USER_ENTERED" and isinstance(value, str):
                    content = parse_user_entered(value, ss.locale)
                else:
                    content = content_from_python(value, ss.locale)
                if content is not None and (content.value is not None or content.formula):
                    sheet.put(r, c, sheet.get(r, c).with_content(content))
        sheet.merges = list(tab.merges)
        if tab.hidden:
            sheet.props["hidden"] = True
        return sheet

    def share(
        self, f: DriveFile, email: str, role: str = "reader", kind: str = "user"
    ) -> Permission:
        if kind == "anyone":
            perm = Permission("anyoneWithLink", "anyone", role)
        elif kind == "domain":
            perm = Permission(permission_id("domain:" + email), "domain", role, domain=email)
        else:
            perm = Permission(permission_id(email), kind, role, email=email)
        f.permissions = [p for p in f.permissions if p.id != perm.id] + [perm]
        return perm

    def touch(self, f: DriveFile, identity: str) -> None:
        """Record a write: Drive ``version`` +1, ``modifiedTime`` now, last modifier."""
        f.version += 1
        f.modified = self.stamp()
        f.last_modifier = identity

    def delete_file(self, f: DriveFile) -> None:
        for child in [f, *self.drive.descendants(f.id)] if f.mime_type == FOLDER_MIME else [f]:
            self.drive.files.pop(child.id, None)
            self.sheets.pop(child.id, None)

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        *,
        path_contains: str | None = None,
        method: str | None = None,
        message: str | None = None,
    ) -> None:
        with self.lock:
            self._faults.append(_Rule(n, path_contains, method, status, message))

    def slow_next(
        self,
        seconds: float,
        n: int = 1,
        *,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        with self.lock:
            self._slows.append(_Rule(n, path_contains, method, seconds=seconds))

    def _take(self, rules: list[_Rule], method: str, target: str) -> _Rule | None:
        with self.lock:
            for rule in rules:
                if rule.remaining > 0 and rule.matches(method, target):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        rules.remove(rule)
                    return rule
        return None

    # ------------------------------------------------------------------ identity and quota

    def identity_of(self, headers: Mapping[str, str], api: str) -> str:
        auth = headers.get("authorization")
        if not auth:
            return self.default_identity
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token in self.tokens:
            return self.tokens[token]
        if api == "drive":
            raise ApiError(
                401,
                "Invalid Credentials",
                reason="authError",
                location="Authorization",
                location_type="header",
            )
        raise ApiError(401, status="UNAUTHENTICATED")

    def _charge(self, api: str, method: str, identity: str) -> None:
        q = self.quota
        if api == "sheets":
            metric = "Read" if method == "GET" else "Write"
            per_user = q.read_per_user if metric == "Read" else q.write_per_user
            per_project = q.read_per_project if metric == "Read" else q.write_per_project
            limits = [(f"user:{identity.lower()}", per_user, True), ("project", per_project, False)]
        else:
            metric = "Drive"
            limits = [(f"user:{identity.lower()}", q.drive_per_user, True)]
        now = self.now()
        active = []
        for scope, limit, user_scope in limits:
            if limit is None:
                continue
            window = self._windows.setdefault((scope, metric), deque())
            while window and window[0] <= now - q.window_seconds:
                window.popleft()
            if len(window) >= limit:
                if api == "drive":
                    raise drive_rate_limited()
                raise quota_exceeded(metric, user_scope, limit, self.project_number)
            active.append(window)
        for window in active:
            window.append(now)

    def reset_quota(self) -> None:
        with self.lock:
            self._windows.clear()

    # ------------------------------------------------------------------ dispatch

    def route(self, method: str, path: str) -> tuple[str, Endpoint | None, tuple[str, ...]]:
        for route_method, pattern, kind, fn in self.routes:
            m = pattern.match(path)
            if m and route_method == method:
                return kind, fn, tuple(m.groups())
        api = "sheets" if path.startswith("/v4/") else "drive"
        return f"{api}.unimplemented", None, ()

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        """Serve one request; ``headers`` has lower-case names."""
        method = method.upper()
        split = urlsplit(target)
        path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        kind, endpoint, groups = self.route(method, path)
        api = kind.split(".", 1)[0]
        record = RequestRecord(method, path, query, kind)
        with self.lock:
            record.at = self.now()
            self.counts[kind] += 1
            self.log.append(record)
        delay = self.latency
        slow = self._take(self._slows, method, target)
        if slow:
            delay += slow.seconds
        if delay > 0:
            self.stop_event.wait(delay)
        try:
            fault = self._take(self._faults, method, target)
            if fault:
                response = self._fault_response(fault, api, method)
            else:
                identity = self.identity_of(headers, api)
                record.identity = identity
                if endpoint is None:
                    raise unimplemented(f"{method} {path}")
                with self.lock:
                    self._charge(api, method, identity)
                    call = Call(self, method, query, headers, body, identity, groups)
                    response = endpoint(call)
        except ApiError as error:
            response = json_response(error.body(api), error.code)
        except Exception as error:  # a bug in the fake: answer, loudly, instead of hanging up
            log.exception("the local Google fake failed on %s %s", method, path)
            failure = ApiError(500, f"Internal error in the local Google fake: {error!r}")
            response = json_response(failure.body(api), 500)
        record.status = response.status
        return response

    def _fault_response(self, fault: _Rule, api: str, method: str) -> Response:
        if fault.status == 502:
            return Response(502, HTML_502.encode(), "text/html; charset=UTF-8")
        if fault.status == 429 and fault.message is None:
            read = method == "GET"
            limit = (self.quota.read_per_user if read else self.quota.write_per_user) or 60
            error = quota_exceeded("Read" if read else "Write", True, limit, self.project_number)
        else:
            error = ApiError(fault.status, fault.message)
        return json_response(error.body(api), fault.status)
