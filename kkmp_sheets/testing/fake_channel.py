"""What the WhatsApp and Telegram fakes share: the server's lifecycle, the test's clock, scripted
faults, sliding rate windows and reading a request's form (JSON, urlencoded or multipart).

Each fake is an application object (``handle`` one request, see ``fake_server.ServedApp``) served
by the same ``FakeServer`` as the Google fake, on 127.0.0.1 only. Time comes from a ``Clock``
(``kkmp_sheets.clock``) the test can share with the client under test: a ``SimulatedClock``
makes rate limits and the 24-hour window a matter of ``advance()``, never of sleeping.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

from kkmp_sheets.clock import Clock, SystemClock

from .calls import Response, json_response
from .fake_handling import HandlingMeter
from .fake_server import Served


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


class BadForm(ValueError):
    """The request body could not be read as the form it claims to be."""


def read_form(headers: Mapping[str, str], body: bytes) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The request's fields and file parts, whatever the encoding the client chose."""
    kind = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if not body.strip():
        return {}, {}
    if kind == "application/json":
        try:
            value = json.loads(body)
        except ValueError:
            raise BadForm("the body is not JSON") from None
        if not isinstance(value, dict):
            raise BadForm("the body is not a JSON object")
        return value, {}
    if kind == "multipart/form-data":
        return _multipart(headers["content-type"], body)
    fields = {key: values[-1] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
    return fields, {}


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, Upload]]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise BadForm("the multipart body has no parts")
    fields: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = Upload(filename, part.get_content_type(), data)
        else:
            fields[name] = data.decode(part.get_content_charset() or "utf-8", "replace")
    return fields, files


class RateWindows:
    """Sliding windows: at most ``limit`` events per ``seconds`` for each key."""

    # The client's limiter spaces messages exactly one period apart on a shared clock; float
    # sums may land a hair short of it, which a real service would not notice either.
    EPSILON = 1e-6

    def __init__(self) -> None:
        self._events: dict[str, deque[float]] = {}

    def wait_for(self, key: str, limit: int, seconds: float, now: float) -> float:
        """Seconds until one more event fits under the limit (0 when it fits now)."""
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - seconds + self.EPSILON:
            events.popleft()
        if len(events) < limit:
            return 0.0
        return events[len(events) - limit] + seconds - now

    def record(self, key: str, now: float) -> None:
        self._events.setdefault(key, deque()).append(now)

    def clear(self) -> None:
        self._events.clear()


@dataclass
class ScriptedFault:
    """The next ``remaining`` requests whose path contains ``path_contains`` fail this way."""

    remaining: int
    path_contains: str | None
    status: int  # 0: no failure, only the delay
    body: dict[str, Any] | None  # None: a proxy's bare HTML page instead of the API's error
    delay: float = 0.0

    def response(self) -> Response:
        if self.body is None:
            page = f"<html><body><h1>{self.status} Bad Gateway</h1></body></html>"
            return Response(self.status, page.encode(), "text/html; charset=UTF-8")
        return json_response(self.body, self.status)


class FakeChannel(Served):
    """Lifecycle, clock and faults of a channel fake; subclasses route and answer requests."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, clock: Clock | None = None) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the channel fakes listen on the loopback interface only")
        self.clock: Clock = clock or SystemClock()
        self.lock = threading.RLock()
        self.meter = HandlingMeter()
        self.stop_event = threading.Event()
        self.requests: list[
            tuple[str, str, int]
        ] = []  # (method, path with the token hidden, status)
        self._faults: list[ScriptedFault] = []
        self._address = (host, port)

    # ------------------------------------------------------------------ lifecycle

    def _served_app(self) -> FakeChannel:
        return self  # a channel fake answers its requests itself

    # ------------------------------------------------------------------ time

    def now(self) -> float:
        """Seconds on the test's clock (rate windows)."""
        return self.clock.monotonic()

    # ------------------------------------------------------------------ faults

    def _script(self, fault: ScriptedFault) -> None:
        with self.lock:
            self._faults.append(fault)

    def fail_bare(self, n: int = 1, status: int = 502) -> None:
        """The next ``n`` requests answer ``status`` with an HTML page, as a proxy or load
        balancer in front of the service does when the service is down."""
        self._script(ScriptedFault(n, None, status, None))

    def clear_faults(self) -> None:
        """The service is back: scripted faults not yet answered are dropped."""
        with self.lock:
            self._faults.clear()

    def _take_fault(self, path: str) -> ScriptedFault | None:
        with self.lock:
            for fault in self._faults:
                if fault.remaining > 0 and (not fault.path_contains or fault.path_contains in path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _delay(self, seconds: float) -> None:
        if seconds > 0:
            self.meter.pause()
            self.stop_event.wait(seconds)  # real time: it is the client's timeout that is tested
            self.meter.resume()

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        raise NotImplementedError
