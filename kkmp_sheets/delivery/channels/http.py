"""The one place the channel clients speak HTTP: a `requests` session with timeouts, and
keeping the tokens out of every log line and exception text.

`requests` is the widely used HTTP client the project already carries (through gspread); the
official SDKs add nothing the two endpoints need, and retrying is the delivery ledger's job, not
a transport's. A token rides in a header (WhatsApp) or in the URL path (Telegram: ``/bot<token>/``),
and urllib3 logs every request line at DEBUG and puts the URL into its connection errors; so
every token a client holds is registered here, urllib3's log records are rewritten without it,
and connection failures become results with words of our own, never the library's message.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import requests

from .base import SERVER_FAULT, TIMEOUT, UNREACHABLE, Result, transient

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
HIDDEN = "<token>"

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(secret: str) -> None:
    """Hide `secret` from the HTTP library's log lines from now on."""
    if len(secret) >= 8:  # a short string would hide ordinary words
        with _secrets_lock:
            _secrets.add(secret)
        _install_filter()


def redact(text: str) -> str:
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, HIDDEN)
    return text


class _Redacting(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = _Redacting()
_NOISY = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.connection", "requests")


def _install_filter() -> None:
    for name in _NOISY:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    retry_after: float | None  # the Retry-After header, when there was one


class Http:
    """A session to one service. `call` answers an `Answer`, or a transient `Result` when the
    service could not be reached or did not answer in time."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = session or requests.Session()
        if headers:
            self._session.headers.update(headers)
        self._session.headers.setdefault("User-Agent", "kkmp-sheets")

    def __repr__(self) -> str:
        return f"Http({redact(self.base_url)!r})"

    def call(self, method: str, path: str, **kwargs: Any) -> Answer | Result:
        url = f"{self.base_url}/{path.lstrip('/')}"
        try:
            response = self._session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            log.warning("%s %s: no answer in time", method, redact(path))
            return transient("timeout", TIMEOUT)
        except requests.RequestException as error:
            # The library's message names the URL (and so a Telegram token): say it our way.
            log.warning("%s %s: %s", method, redact(path), type(error).__name__)
            return transient("connection", UNREACHABLE)
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        retry_after = _seconds(response.headers.get("Retry-After"))
        if response.status_code >= 500 and not body:
            return transient(str(response.status_code), SERVER_FAULT, retry_after)
        return Answer(response.status_code, body, retry_after)

    def close(self) -> None:
        self._session.close()


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
