"""The guarded Google client: rate limiter, bounded retries, timeouts, credentials, scopes."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import gspread
import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from gspread.exceptions import APIError
from gspread.http_client import BackOffHTTPClient

from kkmp_sheets import config
from kkmp_sheets.clock import WarpClock
from kkmp_sheets.config import GoogleSettings
from kkmp_sheets.errors import ConfigError
from kkmp_sheets.google.api import (
    PROVISION_SCOPES,
    SCOPES,
    GoogleApi,
    GuardedHTTPClient,
    Limits,
    RateLimiter,
    RetryPolicy,
    guarded_client,
    load_credentials,
)
from kkmp_sheets.google.http import make_session
from kkmp_sheets.testing import FakeGoogle, QuotaConfig


class StepClock:
    """A clock that only moves when slept on."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float, stop: object = None) -> None:
        self.slept.append(seconds)
        self.t += seconds


# ---------------------------------------------------------------------- the rate limiter


def test_limiter_never_lets_more_than_the_limit_into_any_minute() -> None:
    clock = StepClock()
    limiter = RateLimiter(Limits(reads_per_minute_per_user=60, margin_seconds=1.0), clock)
    starts = []
    for i in range(250):
        limiter.acquire("read")
        starts.append(clock.monotonic())
        clock.t += 0.05 if i % 7 else 0.4  # requests take time too
    window: deque[float] = deque()
    for t in starts:
        window.append(t)
        while window[0] <= t - 60:
            window.popleft()
        assert len(window) <= 60
    # The first 60 go at once; then each waits for the minute to roll: about 4 minutes in all.
    assert starts[59] - starts[0] < 10
    assert 3 * 61 <= starts[-1] - starts[0] < 4 * 61 + 10


def test_limiter_counts_reads_and_writes_apart_and_the_project_too() -> None:
    clock = StepClock()
    limiter = RateLimiter(
        Limits(
            reads_per_minute_per_user=5,
            writes_per_minute_per_user=5,
            requests_per_minute_per_project=3,
        ),
        clock,
    )
    waits = [limiter.acquire("read") for _ in range(3)] + [
        limiter.acquire("write") for _ in range(3)
    ]
    assert waits == [0.0] * 6  # separate buckets
    assert limiter.acquire("read") == pytest.approx(61.0)  # the project limit (3) binds first


def test_warp_clock_skips_waiting_but_not_time() -> None:
    clock = WarpClock()
    before_now, before_mono, before_wall = clock.now(), clock.monotonic(), clock.wall()
    clock.sleep(3600)
    assert (clock.now() - before_now).total_seconds() >= 3600
    assert clock.monotonic() - before_mono >= 3600
    assert clock.wall() - before_wall >= 3600
    assert clock.skipped == 3600


# ---------------------------------------------------------------------- retries on the fake


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as running:
        yield running


def api_for(
    fake: FakeGoogle, clock: WarpClock, **settings: object
) -> tuple[GoogleApi, GuardedHTTPClient]:
    given: dict[str, object] = {"timeout_seconds": 5, **settings}
    config = GoogleSettings(base_url=fake.base_url, **given)  # type: ignore[arg-type]
    session = make_session(AnonymousCredentials(), fake.base_url, timeout=config.timeout_seconds)
    client = guarded_client(AnonymousCredentials(), session, config, clock, seed=1)
    http = client.http_client
    assert isinstance(http, GuardedHTTPClient)
    return GoogleApi(client, fake.default_identity), http


def test_the_client_is_gspreads_own_with_a_guarded_http_client(fake: FakeGoogle) -> None:
    api, http = api_for(fake, WarpClock())
    try:
        assert isinstance(api.client, gspread.Client)
        assert not isinstance(http, BackOffHTTPClient)  # it never stops retrying
        assert http.timeout == 5  # always set
        sid = fake.add_spreadsheet("x", {"A": [[1]]})
        assert api.client.open_by_key(sid).sheet1.get_all_values() == [["1"]]
    finally:
        api.close()


def test_5xx_are_retried_with_backoff_then_succeed(fake: FakeGoogle) -> None:
    clock = WarpClock()
    api, http = api_for(fake, clock)
    sid = fake.add_spreadsheet("x", {"A": [[1]]})
    fake.fail_next(2, 503, path_contains="values:batchGet")
    fake.fail_next(1, 502, path_contains="values:batchGet")
    try:
        reply = api.batch_get(sid, ["A"], {})
    finally:
        api.close()
    assert reply["valueRanges"][0]["values"] == [["1"]]
    assert http.stats.retries == 3
    assert http.stats.sent["sheets.read"] == 4
    assert 0 < http.stats.backoff_seconds <= 2 + 4 + 8  # full jitter below 2^attempt
    assert clock.skipped == pytest.approx(http.stats.backoff_seconds)


def test_retries_are_bounded_by_attempts(fake: FakeGoogle) -> None:
    api, http = api_for(fake, WarpClock(), max_attempts=3)
    sid = fake.add_spreadsheet("x", {"A": [[1]]})
    fake.fail_next(10, 500)
    try:
        with pytest.raises(APIError) as failure:
            api.batch_get(sid, ["A"], {})
    finally:
        api.close()
    assert failure.value.response.status_code == 500
    assert http.stats.sent["sheets.read"] == 3
    assert http.stats.gave_up == 1


def test_retries_are_bounded_by_total_wait(fake: FakeGoogle) -> None:
    clock = WarpClock()
    api, http = api_for(fake, clock, max_attempts=50, max_wait_seconds=10)
    sid = fake.add_spreadsheet("x", {"A": [[1]]})
    fake.fail_next(100, 503)
    try:
        with pytest.raises(APIError):
            api.batch_get(sid, ["A"], {})
    finally:
        api.close()
    assert http.stats.backoff_seconds <= 10
    assert http.stats.sent["sheets.read"] < 50


def test_client_errors_are_not_retried(fake: FakeGoogle) -> None:
    api, http = api_for(fake, WarpClock())
    sid = fake.add_spreadsheet("x", {"A": [[1]]}, owner="someone@else.example")
    try:
        with pytest.raises(APIError) as denied:
            api.batch_get(sid, ["A"], {})
        with pytest.raises(APIError) as bad_range:
            api.batch_get(fake.add_spreadsheet("y", {"A": [[1]]}), ["Nope"], {})
    finally:
        api.close()
    assert (denied.value.response.status_code, bad_range.value.response.status_code) == (403, 400)
    assert http.stats.retries == 0


def test_timeouts_and_dropped_connections_are_retried(fake: FakeGoogle) -> None:
    api, http = api_for(fake, WarpClock(), timeout_seconds=0.3)
    assert http.timeout == 0.3
    sid = fake.add_spreadsheet("x", {"A": [[1]]})
    fake.slow_next(1.0, path_contains="values:batchGet")
    try:
        assert api.batch_get(sid, ["A"], {})["valueRanges"]
    finally:
        api.close()
    assert http.stats.retries == 1


def test_429_from_a_foreign_burst_is_absorbed(fake: FakeGoogle) -> None:
    clock = WarpClock()
    fake.clock = clock.wall
    api, http = api_for(fake, clock)
    sid = fake.add_spreadsheet("x", {"A": [[1]]})
    fake.fail_next(3, 429, path_contains="values:batchGet")
    try:
        assert api.batch_get(sid, ["A"], {})["valueRanges"]
    finally:
        api.close()
    assert http.stats.status_429 == 3
    assert http.stats.gave_up == 0


def test_limiter_keeps_the_fake_quota_without_a_single_429(fake: FakeGoogle) -> None:
    clock = WarpClock()
    fake.clock = clock.wall
    fake.quota = QuotaConfig(read_per_user=10, write_per_user=10)
    api, http = api_for(fake, clock, reads_per_minute_per_user=10, writes_per_minute_per_user=10)
    sid = fake.add_spreadsheet("x", {"A": [[1]]})
    try:
        for _ in range(35):
            api.batch_get(sid, ["A"], {})
    finally:
        api.close()
    assert http.stats.status_429 == 0
    assert all(r.status == 200 for r in fake.requests)
    assert http.stats.throttled_seconds >= 3 * 60  # three full minutes waited, instantly
    assert clock.skipped >= 3 * 60


def test_drive_rate_limit_403_is_retried(fake: FakeGoogle) -> None:
    clock = WarpClock()
    fake.clock = clock.wall
    api, http = api_for(fake, clock, max_attempts=20, max_wait_seconds=600)
    fake.quota = QuotaConfig(drive_per_user=1)
    fake.add_spreadsheet("x", {"A": [[1]]})
    try:
        first = list(api.list_files("trashed = false", "id"))
        second = list(api.list_files("trashed = false", "id"))  # 403 userRateLimitExceeded first
    finally:
        api.close()
    assert len(first) == len(second) == 1
    assert http.stats.retries >= 1
    assert [r.status for r in fake.requests][:2] == [200, 403]


def test_backoff_is_full_jitter() -> None:
    policy = RetryPolicy(base_seconds=1, cap_seconds=8)
    rng = random.Random(0)
    delays = [policy.delay(4, rng) for _ in range(500)]
    assert max(delays) <= 8 and min(delays) >= 0
    assert max(delays) > 6 and min(delays) < 1  # spread over the whole range


# ---------------------------------------------------------------------- credentials


def test_scopes_are_least_privilege() -> None:
    assert SCOPES == (
        "https://www.googleapis.com/auth/spreadsheets",
        "https://www.googleapis.com/auth/drive.metadata.readonly",
    )


def test_missing_key_is_a_config_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("KKMP_GOOGLE_KEY", raising=False)
    with pytest.raises(ConfigError, match="KKMP_GOOGLE_KEY is not set"):
        load_credentials(GoogleSettings(credentials_env="KKMP_GOOGLE_KEY"))
    monkeypatch.setenv("KKMP_GOOGLE_KEY", str(tmp_path / "nope.json"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_credentials(GoogleSettings(credentials_env="KKMP_GOOGLE_KEY"))
    (tmp_path / "bad.json").write_text('{"type": "authorized_user"}')
    monkeypatch.setenv("KKMP_GOOGLE_KEY", str(tmp_path / "bad.json"))
    with pytest.raises(ConfigError, match="not a service account key"):
        load_credentials(GoogleSettings(credentials_env="KKMP_GOOGLE_KEY"))


def test_service_account_key_gives_its_email_and_scopes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    key = {
        "type": "service_account",
        "project_id": "kkmp-contoh",
        "private_key_id": "0" * 40,
        "private_key": pem,
        "client_email": "kkmp-sheets@kkmp-contoh.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    import json

    (tmp_path / "sa.json").write_text(json.dumps(key))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "sa.json"))
    credentials, email = load_credentials(GoogleSettings())
    assert email == "kkmp-sheets@kkmp-contoh.iam.gserviceaccount.com"
    assert tuple(credentials.scopes) == SCOPES  # type: ignore[attr-defined]
    # provision alone asks for the full Drive scope (it creates and shares files)
    credentials, _ = load_credentials(GoogleSettings(), PROVISION_SCOPES)
    assert "https://www.googleapis.com/auth/drive" in credentials.scopes  # type: ignore[attr-defined]


def test_base_url_without_key_talks_to_the_fake_anonymously(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    credentials, email = load_credentials(GoogleSettings(base_url="http://127.0.0.1:8089"))
    assert isinstance(credentials, AnonymousCredentials)
    assert email.endswith(".iam.gserviceaccount.com")


def test_requests_exception_types_are_retryable() -> None:
    from kkmp_sheets.google.api import is_retryable

    assert is_retryable(requests.exceptions.ConnectTimeout())
    assert is_retryable(requests.exceptions.ConnectionError())
    assert not is_retryable(ValueError())


# ---------------------------------------------------------------------- the [google] config

GOOGLE_CITY = """
[city]
name = "Kota Administrasi Jakarta Barat"
kode_wilayah = "31.73"

[source]
kind = "google"
registry = "https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUvWxYz01234/edit"

[output]
kind = "google"
{output}

[google]
{google}
"""


def load_google(tmp_path: Path, output: str = "", google: str = "") -> config.Config:
    path = tmp_path / "city.toml"
    path.write_text(GOOGLE_CITY.format(output=output, google=google), encoding="utf-8")
    return config.load(path)


def test_google_config_defaults_and_registry_kept_as_given(tmp_path: Path) -> None:
    cfg = load_google(tmp_path, output='spreadsheet = "1XyZ0123456789abcdefghijkl"')
    assert cfg.registry.startswith("https://docs.google.com/")  # not turned into a path
    assert cfg.output_spreadsheet == "1XyZ0123456789abcdefghijkl"
    assert cfg.google == GoogleSettings()
    assert (cfg.google.reads_per_minute_per_user, cfg.google.max_attempts) == (60, 5)


def test_google_config_mistakes_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'max_attempts'"):
        load_google(tmp_path, google="max_atempts = 3")
    with pytest.raises(ConfigError) as failure:
        load_google(tmp_path, google="reads_per_minute_per_user = 0\ntimeout_seconds = -1")
    text = str(failure.value)
    assert "[output] spreadsheet is required" in text
    assert "[google] reads_per_minute_per_user = 0: expected 1 or more" in text
    assert "[google] timeout_seconds = -1" in text


def test_wiring_builds_google_source_and_sink_sharing_one_limiter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kkmp_sheets.google.sink import GoogleSink
    from kkmp_sheets.google.source import GoogleSource
    from kkmp_sheets.service.wiring import close, make_sink, make_source

    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    cfg = load_google(
        tmp_path,
        output='spreadsheet = "1XyZ0123456789abcdefghijkl"',
        google='base_url = "http://127.0.0.1:9"',
    )
    source = make_source(cfg)
    sink = make_sink(cfg, source=source)
    try:
        assert isinstance(source, GoogleSource) and isinstance(sink, GoogleSink)
        source_http, sink_http = source.api.http, sink.api.http
        assert isinstance(source_http, GuardedHTTPClient)
        assert isinstance(sink_http, GuardedHTTPClient)
        assert source_http.limiter is sink_http.limiter  # the quota is the account's
        assert sink.listing is not None
    finally:
        close(source, sink)


def test_one_limiter_per_account_whatever_the_clock_instance() -> None:
    from kkmp_sheets.clock import SystemClock
    from kkmp_sheets.google.api import shared_limiter

    settings = GoogleSettings(base_url="http://127.0.0.1:9")
    first = shared_limiter("SA@x.iam.gserviceaccount.com", settings, SystemClock())
    assert shared_limiter("sa@x.iam.gserviceaccount.com", settings, SystemClock()) is first
    other = shared_limiter("sa@x.iam.gserviceaccount.com", settings, WarpClock())
    assert other is not first  # a simulated clock gets its own
