"""The fake's application object: identities, quotas, faults, accounting and routing.

``FakeApp.handle`` takes one HTTP request (method, target, headers, body) and returns a
``Response``; it knows nothing about sockets (see ``fake_server``). Endpoints live in
``api_sheets`` and ``api_drive``; the state they share (Drive files, spreadsheets) is
``fake_state.FakeState``, which ``FakeApp`` extends, and they see a request as a ``calls.Call``.
"""

from __future__ import annotations

import logging
import re
import string
import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from . import api_drive, api_sheets
from .api_errors import (
    HTML_502,
    MAX_PAYLOAD_BYTES,
    ApiError,
    drive_rate_limited,
    payload_too_large,
    quota_exceeded,
    unimplemented,
)
from .calls import Call, Endpoint, Response, json_response
from .fake_handling import HandlingMeter
from .fake_state import FakeState

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


def project_of_service_account(identity: str) -> str:
    """`kkmp-3201@kkmp-3201.iam.gserviceaccount.com` → `kkmp-3201` (its project id)."""
    return identity.lower().partition("@")[2].removesuffix(".iam.gserviceaccount.com")


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


class FakeApp(FakeState):
    """The fake's state (`FakeState`) with what HTTP adds: identities, quotas, faults, routing."""

    def __init__(
        self,
        *,
        quota: QuotaConfig | None = None,
        default_identity: str = DEFAULT_IDENTITY,
        project_number: str = "123456789012",
        seed: int = 0,
    ) -> None:
        super().__init__(seed=seed)
        self.tokens: dict[str, str] = {}
        self.default_identity = default_identity
        self.project_number = project_number
        self.quota = quota or QuotaConfig()
        # Which Google Cloud project an identity's requests are charged to. None: one project
        # for everyone (a single service). `project_of_service_account` gives each
        # `…@<project>.iam.gserviceaccount.com` its own project quota, as many instances have.
        self.project_of: Callable[[str], str] | None = None
        self.latency = 0.0
        self.counts: Counter[str] = Counter()
        self.log: list[RequestRecord] = []
        self.stop_event = threading.Event()
        self.meter = HandlingMeter()  # the fake's own work per request (benchmarks leave it out)
        self._faults: list[_Rule] = []
        self._slows: list[_Rule] = []
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self.routes: list[tuple[str, re.Pattern[str], str, Endpoint]] = [
            (method, re.compile(pattern), kind, fn)
            for method, pattern, kind, fn in (*api_sheets.ROUTES, *api_drive.ROUTES)
        ]

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
            project = f"project:{self.project_of(identity)}" if self.project_of else "project"
            limits = [(f"user:{identity.lower()}", per_user, True), (project, per_project, False)]
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
            self.meter.pause()  # the latency stands for Google's time: it is not handling
            self.stop_event.wait(delay)
            self.meter.resume()
        try:
            if len(body) > MAX_PAYLOAD_BYTES:  # refused in front of the API: no quota charged
                raise payload_too_large()
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
