"""Talking to Google within its quotas: a rate limiter, bounded retries, and the gspread client.

Google counts Sheets requests per minute: 60 reads and 60 writes per user (a service account is
one user) and 300 of each per project; a batch counts as one. Past a limit it answers 429 for
the rest of the minute. gspread 6.2.1 offers no limiter, no default timeout, and a
`BackOffHTTPClient` that retries forever; the service cannot wait forever, and a 429 must never
become a problem on a cooperative's row. So every request goes through `GuardedHTTPClient`, a
gspread `HTTPClient` subclass (gspread itself is unmodified and is injected into the sources):

- **Rate limiter** (`RateLimiter`): before each request it waits until the request fits every
  quota it counts against (Sheets reads: per user and per project; Sheets writes: the same two).
  It keeps the start times of the requests of the last minute (a sliding log), not a token
  bucket: a bucket holding a full minute's burst can let through up to twice the limit within
  one 60-second window, which Google answers with 429s; a log never exceeds it, whether Google
  counts in fixed or rolling minutes. A one-second margin covers the network delay between our
  clock and Google's counter.
- **Bounded retries** on 408, 429, 5xx, Drive's 403 rate-limit reasons, connection errors and
  timeouts: at most `max_attempts` attempts and `max_wait_seconds` of waiting in all, each wait
  a random time between 0 and `base × 2^attempt` (exponential backoff with full jitter, so that
  clients that failed together do not retry together); `Retry-After` is honoured when given.
  Then the last error is raised, and the caller turns it into a problem on that cooperative's row.
- **A timeout on every request** (`set_timeout`), besides the session's default.

Writes are retried too. A write whose answer was lost may have been applied; the writers here
(`google/sink.py`, `google/source.py`) make their batches fail loudly rather than apply twice
(`addSheet` with a chosen id, `deleteEmbeddedObject` by id) and rebuild from a fresh read when a
batch is refused.

The clock (`kkmp_sheets.clock`) is injectable: tests and benchmarks use `WarpClock`, whose
`sleep` moves time forward instantly, shared with the local fake, so that minutes of quota
waiting take no real time.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gspread
import requests
from google.auth.credentials import AnonymousCredentials, Credentials
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import (
    DRIVE_FILES_API_V3_URL,
    SPREADSHEET_BATCH_UPDATE_URL,
    SPREADSHEET_URL,
    SPREADSHEET_VALUES_BATCH_UPDATE_URL,
    SPREADSHEET_VALUES_BATCH_URL,
)

from kkmp_sheets.clock import Clock, SystemClock
from kkmp_sheets.config import GoogleSettings
from kkmp_sheets.errors import ConfigError

log = logging.getLogger(__name__)

SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
DRIVE_METADATA_SCOPE = "https://www.googleapis.com/auth/drive.metadata.readonly"
# Sheets read/write: the service writes Hasil Pemeriksaan and the city status spreadsheet.
# Drive metadata only: change detection needs files.list (version, modifiedTime, last modifier),
# never a file's content; `drive.readonly` would also allow downloading every shared file.
SCOPES = (SHEETS_SCOPE, DRIVE_METADATA_SCOPE)
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
# Creating files in a shared folder, copying a template and sharing need the full Drive scope;
# only `provision` asks for it (the cycle itself reads Drive metadata only).
PROVISION_SCOPES = (SHEETS_SCOPE, DRIVE_SCOPE)

SHEET_MIME = "application/vnd.google-apps.spreadsheet"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FAKE_IDENTITY = "kkmp-sheets@kkmp-local.iam.gserviceaccount.com"  # the local fake's default

_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_DRIVE_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_SHEETS_HOST = "https://sheets.googleapis.com/"


# --- the quota ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    reads_per_minute_per_user: int = 60
    writes_per_minute_per_user: int = 60
    requests_per_minute_per_project: int = 300  # reads and writes are counted separately
    window_seconds: float = 60.0
    margin_seconds: float = 1.0


class RateLimiter:
    """Waits until a request fits every quota it counts against (a sliding log per quota)."""

    def __init__(self, limits: Limits, clock: Clock) -> None:
        self.limits = limits
        self.clock = clock
        self._lock = threading.Lock()
        self._window = limits.window_seconds + limits.margin_seconds
        self._logs: dict[str, tuple[int, deque[float]]] = {
            "read:user": (limits.reads_per_minute_per_user, deque()),
            "read:project": (limits.requests_per_minute_per_project, deque()),
            "write:user": (limits.writes_per_minute_per_user, deque()),
            "write:project": (limits.requests_per_minute_per_project, deque()),
        }

    def acquire(self, kind: str) -> float:
        """Block until one more `kind` ("read" or "write") request fits; return seconds waited."""
        names = [f"{kind}:user", f"{kind}:project"]
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock.monotonic()
                wait = 0.0
                for name in names:
                    limit, starts = self._logs[name]
                    while starts and starts[0] <= now - self._window:
                        starts.popleft()
                    if limit > 0 and len(starts) >= limit:
                        wait = max(wait, starts[len(starts) - limit] + self._window - now)
                if wait <= 0:
                    for name in names:
                        self._logs[name][1].append(now)
                    return waited
            self.clock.sleep(wait)
            waited += wait


# --- retries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    max_wait_seconds: float = 120.0
    base_seconds: float = 1.0
    cap_seconds: float = 32.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(cap, base × 2^attempt)] (attempt counts from 0)."""
        return rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**attempt))


@dataclass
class ApiStats:
    """What the client did: requests sent per kind, and what it met on the way."""

    sent: Counter[str] = field(default_factory=Counter)  # "sheets.read", "sheets.write", "drive"
    status_429: int = 0  # 429 answers seen (each was retried, or raised when retries ran out)
    retries: int = 0
    gave_up: int = 0  # requests that failed after their last attempt
    throttled_seconds: float = 0.0  # waited for the rate limiter
    backoff_seconds: float = 0.0  # waited between retries

    @property
    def total(self) -> int:
        return sum(self.sent.values())

    def snapshot(self) -> dict[str, Any]:
        return {
            **{k: self.sent[k] for k in ("sheets.read", "sheets.write", "drive")},
            "total": self.total,
            "status_429": self.status_429,
            "retries": self.retries,
            "gave_up": self.gave_up,
            "throttled_seconds": round(self.throttled_seconds, 1),
            "backoff_seconds": round(self.backoff_seconds, 1),
        }


def request_kind(method: str, url: str) -> str:
    if url.startswith(_SHEETS_HOST):
        return "sheets.read" if method.upper() == "GET" else "sheets.write"
    return "drive"


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, APIError):
        status = error.response.status_code
        if status in _RETRY_STATUS or status >= 500:
            return True
        return status == 403 and error_reason(error) in _DRIVE_RATE_REASONS
    return isinstance(
        error,
        requests.exceptions.ConnectionError
        | requests.exceptions.Timeout
        | requests.exceptions.ChunkedEncodingError,
    )


def error_reason(error: APIError) -> str:
    """The first `reason` of a Google error answer (`rateLimitExceeded`, `storageQuotaExceeded`)."""
    errors = error.error.get("errors") if isinstance(error.error, Mapping) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        return str(errors[0].get("reason") or "")
    return ""


def _retry_after(error: BaseException) -> float | None:
    if not isinstance(error, APIError):
        return None
    value = error.response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


class GuardedHTTPClient(HTTPClient):
    """gspread's HTTP client with a rate limiter, bounded retries and a timeout.

    gspread builds it (`gspread.Client(auth, session, http_client=GuardedHTTPClient)`); then
    `configure` gives it its limiter, policy and clock. Unconfigured it behaves like gspread's.
    """

    def __init__(self, auth: Credentials, session: requests.Session | None = None) -> None:
        super().__init__(auth, session)
        self.limiter: RateLimiter | None = None
        self.policy = RetryPolicy(max_attempts=1)
        self.clock: Clock = SystemClock()
        self.stats = ApiStats()
        self.rng = random.Random()

    def configure(
        self,
        *,
        limiter: RateLimiter | None,
        policy: RetryPolicy,
        clock: Clock,
        timeout: float,
        stats: ApiStats | None = None,
        seed: int | None = None,
    ) -> None:
        self.limiter = limiter
        self.policy = policy
        self.clock = clock
        self.set_timeout(timeout)
        self.stats = stats or ApiStats()
        self.rng = random.Random(seed)

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        kind = request_kind(method, endpoint)
        waited = 0.0
        attempt = 0
        while True:
            if self.limiter is not None and kind != "drive":
                self.stats.throttled_seconds += self.limiter.acquire(kind.split(".")[1])
            self.stats.sent[kind] += 1
            try:
                return super().request(method, endpoint, *args, **kwargs)
            except (APIError, requests.exceptions.RequestException) as error:
                if isinstance(error, APIError) and error.response.status_code == 429:
                    self.stats.status_429 += 1
                attempt += 1
                if not is_retryable(error) or attempt >= self.policy.max_attempts:
                    if is_retryable(error):
                        self.stats.gave_up += 1
                    raise
                delay = _retry_after(error)
                if delay is None:
                    # A 429 means the minute's quota is spent (by another client of the same
                    # account or project): wait on a longer scale than for a passing 5xx.
                    quota = isinstance(error, APIError) and error.response.status_code == 429
                    delay = self.policy.delay(attempt + (2 if quota else 0), self.rng)
                if waited + delay > self.policy.max_wait_seconds:
                    self.stats.gave_up += 1
                    raise
                log.info(
                    "%s %s failed (%s); retry %d in %.1f s",
                    method.upper(),
                    endpoint.split("?")[0][-60:],
                    _describe(error),
                    attempt,
                    delay,
                )
                self.stats.retries += 1
                self.stats.backoff_seconds += delay
                waited += delay
                self.clock.sleep(delay)


def _describe(error: BaseException) -> str:
    if isinstance(error, APIError):
        return f"HTTP {error.response.status_code}"
    return type(error).__name__


# --- the API surface the source and sink use --------------------------------------------------------


def limits(settings: GoogleSettings) -> Limits:
    return Limits(
        settings.reads_per_minute_per_user,
        settings.writes_per_minute_per_user,
        settings.requests_per_minute_per_project,
    )


def policy(settings: GoogleSettings) -> RetryPolicy:
    return RetryPolicy(settings.max_attempts, settings.max_wait_seconds)


MAX_BODY = 10_485_760  # bytes: "Request payload size exceeds the limit: 10485760 bytes."


def batch_body(requests_: list[dict[str, Any]]) -> bytes:
    """The body of a `batchUpdate` exactly as it is sent: compact JSON, UTF-8. Its length is what
    Google measures against `MAX_BODY` (and what the staged writer keeps under its budget)."""
    return json.dumps(
        {"requests": requests_}, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


class RequestTooLarge(Exception):
    """A batch larger than Google accepts in one request (it would be refused with a 400)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size:,} bytes, over Google's limit of {MAX_BODY:,} per request")
        self.size = size


class GoogleApi:
    """The few Sheets and Drive calls the service makes, over an injected gspread client.

    Tests and the benchmark build it around a gspread client pointed at the local fake; the
    service builds it with `connect`. `account_email` is the service account's address: the one
    staff must share their spreadsheets with.
    """

    def __init__(self, client: gspread.Client, account_email: str) -> None:
        self.client = client
        self.http: HTTPClient = client.http_client
        self.account_email = account_email
        self.last_body_bytes = 0

    @property
    def stats(self) -> ApiStats:
        return getattr(self.http, "stats", None) or ApiStats()

    def close(self) -> None:
        self.http.session.close()

    # --- Sheets
    def get_spreadsheet(self, spreadsheet_id: str, params: dict[str, Any]) -> dict[str, Any]:
        url = SPREADSHEET_URL % spreadsheet_id
        return dict(self.http.request("get", url, params=params).json())

    def batch_get(
        self, spreadsheet_id: str, ranges: list[str], params: dict[str, Any]
    ) -> dict[str, Any]:
        url = SPREADSHEET_VALUES_BATCH_URL % spreadsheet_id
        query = {**params, "ranges": ranges}
        return dict(self.http.request("get", url, params=query).json())

    def batch_update(
        self, spreadsheet_id: str, requests_: list[dict[str, Any]], body: bytes | None = None
    ) -> dict[str, Any]:
        """One atomic batch. Sent as compact JSON: Google refuses bodies over 10 MiB. `body`:
        `batch_body(requests_)` when the caller has measured it already."""
        url = SPREADSHEET_BATCH_UPDATE_URL % spreadsheet_id
        body = batch_body(requests_) if body is None else body
        if len(body) > MAX_BODY:
            raise RequestTooLarge(len(body))
        self.last_body_bytes = len(body)
        headers = {"Content-Type": "application/json; charset=UTF-8"}
        return dict(self.http.request("post", url, data=body, headers=headers).json())

    def write_values(self, spreadsheet_id: str, data: list[dict[str, Any]]) -> dict[str, Any]:
        """One `values.batchUpdate` of `data` ({"range", "values"} items), written RAW: text
        never becomes a formula."""
        url = SPREADSHEET_VALUES_BATCH_UPDATE_URL % spreadsheet_id
        body = {"valueInputOption": "RAW", "data": data}
        return dict(self.http.request("post", url, json=body).json())

    # --- Drive
    def list_files(
        self, query: str, fields: str, page_size: int = 1000, *, corpora: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every file matching `query`, one files.list request per `page_size` files.

        The one Drive paginator. `corpora="allDrives"` also lists what others made in a Shared
        Drive (the default corpus leaves those out)."""
        token: str | None = None
        while True:
            params: dict[str, str | int | bool | float | list[str] | None] = {
                "q": query,
                "pageSize": page_size,
                "fields": f"nextPageToken,files({fields})",
                "supportsAllDrives": True,
                "includeItemsFromAllDrives": True,
            }
            if corpora:
                params["corpora"] = corpora
            if token:
                params["pageToken"] = token
            reply = self.http.request("get", DRIVE_FILES_API_V3_URL, params=params).json()
            yield from reply.get("files") or []
            token = reply.get("nextPageToken")
            if not token:
                return

    def get_file(self, file_id: str, fields: str) -> dict[str, Any]:
        params: dict[str, str | int | bool | float | list[str] | None] = {
            "fields": fields,
            "supportsAllDrives": True,
        }
        url = f"{DRIVE_FILES_API_V3_URL}/{file_id}"
        return dict(self.http.request("get", url, params=params).json())


_LIMITERS: dict[tuple[str, str], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_limiter(account: str, settings: GoogleSettings, clock: Clock) -> RateLimiter:
    """One limiter per account (and API address) in the process: the quota is the account's,
    however many clients (the source, the sink) use it."""
    key = (account.lower(), settings.base_url)
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(key)
        same_clock = limiter is not None and (
            limiter.clock is clock
            or (isinstance(limiter.clock, SystemClock) and isinstance(clock, SystemClock))
        )
        if limiter is None or limiter.limits != limits(settings) or not same_clock:
            limiter = _LIMITERS[key] = RateLimiter(limits(settings), clock)
        return limiter


def guarded_client(
    credentials: Credentials,
    session: requests.Session,
    settings: GoogleSettings,
    clock: Clock | None = None,
    *,
    limiter: RateLimiter | None = None,
    seed: int | None = None,
) -> gspread.Client:
    """A gspread client whose every request is rate-limited, retried within bounds, timed out."""
    clock = clock or SystemClock()
    client = gspread.Client(auth=credentials, session=session, http_client=GuardedHTTPClient)
    http = client.http_client
    assert isinstance(http, GuardedHTTPClient)
    http.configure(
        limiter=limiter or RateLimiter(limits(settings), clock),
        policy=policy(settings),
        clock=clock,
        timeout=settings.timeout_seconds,
        seed=seed,
    )
    return client


def load_credentials(
    settings: GoogleSettings, scopes: tuple[str, ...] = SCOPES
) -> tuple[Credentials, str]:
    """Service-account credentials from the key file named in the environment, and its email.

    With `base_url` set (the local fake) and no key file, anonymous credentials: the fake acts
    as its default service account.
    """
    names = [settings.credentials_env, "GOOGLE_APPLICATION_CREDENTIALS"]
    path = next((os.environ[n] for n in names if os.environ.get(n)), "")
    if not path:
        if settings.base_url:
            return AnonymousCredentials(), FAKE_IDENTITY
        raise ConfigError(
            f"the environment variable {settings.credentials_env} is not set: set it to the path "
            "of the service account's JSON key file (see docs/google-setup.md), e.g. "
            f"export {settings.credentials_env}=/etc/kkmp-sheets/service-account.json"
        )
    if settings.base_url:  # a token would be fetched from Google itself: not for the fake
        return AnonymousCredentials(), FAKE_IDENTITY
    key = Path(path).expanduser()
    if not key.is_file():
        raise ConfigError(
            f"the service account key file {key} (from ${settings.credentials_env}) does not "
            "exist: download a JSON key for the service account and point the variable at it"
        )
    from google.oauth2 import service_account

    try:
        credentials = service_account.Credentials.from_service_account_file(
            str(key), scopes=list(scopes)
        )
    except (ValueError, KeyError, OSError) as exc:
        raise ConfigError(
            f"{key} is not a service account key file ({exc}): in Google Cloud console, "
            "IAM > Service accounts > Keys > Add key > JSON"
        ) from None
    return credentials, credentials.service_account_email


def connect(
    settings: GoogleSettings, clock: Clock | None = None, *, scopes: tuple[str, ...] = SCOPES
) -> GoogleApi:
    """The service's Google client: credentials from the environment, guarded requests.

    `scopes` are what the credentials may do: the cycle's by default; `provision` asks for the
    full Drive scope it needs to create and share files (`PROVISION_SCOPES`)."""
    from kkmp_sheets.google.http import make_session

    credentials, email = load_credentials(settings, scopes)
    clock = clock or _REAL_CLOCK
    session = make_session(credentials, settings.base_url or None, settings.timeout_seconds)
    limiter = shared_limiter(email, settings, clock)
    return GoogleApi(guarded_client(credentials, session, settings, clock, limiter=limiter), email)


_REAL_CLOCK = SystemClock()
