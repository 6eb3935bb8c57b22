"""HTTP sessions for gspread: a default timeout, and optionally another base URL.

gspread builds its URLs from constants (``https://sheets.googleapis.com/v4/...``,
``https://www.googleapis.com/drive/v3/...``) and passes ``timeout=None`` unless
``set_timeout`` was called, so a stalled connection would hang the service. ``make_session``
returns a ``google.auth`` ``AuthorizedSession`` with a transport adapter mounted on those two
prefixes that applies a default timeout and, when ``base_url`` is given, sends the request to
``base_url`` instead (the local fake in tests, a recording proxy, ...). gspread stays unmodified::

    session = make_session(credentials, base_url=None, timeout=30)
    client = gspread.Client(auth=credentials, session=session)
"""

from __future__ import annotations

from typing import Any

import requests
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

GOOGLE_API_PREFIXES = ("https://sheets.googleapis.com/", "https://www.googleapis.com/")

Timeout = float | tuple[float, float] | None


class GoogleApiAdapter(HTTPAdapter):
    """Transport for Google API URLs: default timeout, optional rewrite onto ``base_url``."""

    def __init__(self, base_url: str | None = None, timeout: Timeout = 60.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.default_timeout = timeout

    def rewrite(self, url: str) -> str:
        if self.base_url:
            for prefix in GOOGLE_API_PREFIXES:
                if url.startswith(prefix):
                    return f"{self.base_url}/{url[len(prefix) :]}"
        return url

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        url = self.rewrite(request.url or "")
        if url != request.url:
            request.url = url
            # Proxies were chosen for the Google host; choose again for the new one.
            proxies = get_environ_proxies(url)
        return super().send(
            request,
            stream=stream,
            timeout=self.default_timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


def make_session(
    credentials: Credentials, base_url: str | None = None, timeout: Timeout = 60.0
) -> AuthorizedSession:
    """An authorized session for gspread (``gspread.Client(auth=..., session=...)``).

    ``base_url`` (e.g. ``http://127.0.0.1:8089``) replaces both Google API hosts; ``None``
    keeps the real ones. ``timeout`` (seconds, or ``(connect, read)``) applies whenever the
    caller gives none. Close the session when done.
    """
    session = AuthorizedSession(credentials)
    adapter = GoogleApiAdapter(base_url, timeout)
    for prefix in GOOGLE_API_PREFIXES:
        session.mount(prefix, adapter)
    return session
