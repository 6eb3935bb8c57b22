"""The HTTP side of the fakes: a stdlib ``ThreadingHTTPServer`` in front of an application
object (``FakeApp`` for Google; the WhatsApp and Telegram fakes bring their own, see ``ServedApp``).

HTTP/1.1 with keep-alive (``requests`` pools connections). ``close()`` stops accepting, shuts the
open connections down so their handler threads finish, and closes every socket, so tests running
with warnings as errors see no ``ResourceWarning``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol, Self

from .calls import Response
from .fake_handling import HandlingMeter

log = logging.getLogger(__name__)


class ServedApp(Protocol):
    """What the server needs of an application: one request in, one ``Response`` out."""

    meter: HandlingMeter
    stop_event: threading.Event

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> Response: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ESF"
    sys_version = ""
    timeout = 30  # idle keep-alive connections are closed after this many seconds
    server: FakeServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def parse_request(self) -> bool:
        # The request line has arrived: from here to the answer's last byte the time is the
        # fake's own work (`fake_handling`), which Google would not cost the client.
        self.server.app.meter.start()
        return super().parse_request()

    def _dispatch(self) -> None:
        try:
            self._serve()
        finally:
            self.server.app.meter.end()

    def _serve(self) -> None:
        body = self._body()
        headers = {key.lower(): value for key, value in self.headers.items()}
        response = self.server.app.handle(self.command, self.path, headers, body)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if response.status != 204:
            self.send_header("Content-Length", str(len(response.body)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if response.body and response.status != 204:
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True  # the client went away (e.g. it timed out)

    def log_message(self, format: str, *args: Any) -> None:
        line = format % args
        hide = getattr(self.server.app, "hide", None)  # a fake whose URLs carry a secret
        log.debug("%s - %s", self.address_string(), hide(line) if hide else line)


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: ServedApp, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.app = app
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._serving: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        worker = threading.Thread(
            target=self._work, args=(request, client_address), daemon=True, name="fake-google-conn"
        )
        with self._lock:
            self._connections.add(request)
            self._workers.add(worker)
        worker.start()

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._connections.discard(request)
                self._workers.discard(threading.current_thread())

    def serving_cpu(self) -> float:
        """CPU seconds of the thread that accepts connections (the fake's, not the client's)."""
        serving = self._serving
        if serving is None or serving.ident is None or not serving.is_alive():
            return 0.0
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(serving.ident))
        except OSError:  # it ended meanwhile
            return 0.0

    def start(self) -> None:
        self._serving = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.01},
            daemon=True,
            name="fake-google",
        )
        self._serving.start()

    def close(self) -> None:
        self.app.stop_event.set()
        if self._serving is not None:
            self.shutdown()
            self._serving.join()
            self._serving = None
        with self._lock:
            connections = list(self._connections)
            workers = list(self._workers)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for worker in workers:
            worker.join(timeout=5)
        self.server_close()


class Served:
    """Start, stop and the base URL of a fake served by a `FakeServer` on the loopback: what
    the Google fake and the channel fakes share. A subclass sets `_address` and says which
    `ServedApp` answers (`_served_app`)."""

    _address: tuple[str, int]
    _server: FakeServer | None = None

    def _served_app(self) -> ServedApp:
        raise NotImplementedError

    def start(self) -> Self:
        if self._server is None:
            app = self._served_app()
            app.stop_event.clear()
            self._server = FakeServer(app, *self._address)
            self._server.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake is not running; use start() or a with block")
        return self._server.base_url
