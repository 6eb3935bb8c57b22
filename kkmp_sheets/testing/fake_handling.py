"""The fake's own time: how long it works on requests, so that a benchmark can leave it out.

Google's servers cost the client the network and their answer time, which the fake stands in for
with its configured `latency`; they do not cost it the fake's Python handling each request, which
in-process also shows in the client's CPU. `HandlingMeter` measures that work per request thread:
wall seconds from the request line to the last byte of the answer, latency waits left out, and
the thread's CPU seconds. `FakeWarpClock` (fake_clock.py) stands still while it runs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Handling:
    """The fake's work so far (it only grows): requests served, wall seconds with the latency
    and `slow_next` delays left out, CPU seconds of its threads."""

    requests: int = 0
    seconds: float = 0.0
    cpu: float = 0.0


class HandlingMeter:
    """Per-thread busy spans of the fake's request handlers (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: dict[int, float] = {}  # thread → start of its current busy span
        self._cpu_at: dict[int, float] = {}  # thread → its CPU clock when the request began
        self._done = Handling()

    def start(self) -> None:
        """A request line has arrived on this thread."""
        ident = threading.get_ident()
        with self._lock:
            self._since[ident] = time.perf_counter()
            self._cpu_at[ident] = time.thread_time()

    def pause(self) -> None:
        """This thread waits out the latency: Google's time, not the fake's work."""
        self._close_span(threading.get_ident())

    def resume(self) -> None:
        ident = threading.get_ident()
        with self._lock:
            if ident in self._cpu_at:  # only within a request the server started
                self._since[ident] = time.perf_counter()

    def end(self) -> None:
        """This thread has written its answer."""
        ident = threading.get_ident()
        self._close_span(ident)
        with self._lock:
            cpu_at = self._cpu_at.pop(ident, None)
            if cpu_at is not None:
                done = self._done
                cpu = done.cpu + time.thread_time() - cpu_at
                self._done = Handling(done.requests + 1, done.seconds, cpu)

    def _close_span(self, ident: int) -> None:
        with self._lock:
            since = self._since.pop(ident, None)
            if since is not None:
                done = self._done
                span = time.perf_counter() - since
                self._done = Handling(done.requests, done.seconds + span, done.cpu)

    def seconds(self) -> float:
        """Busy seconds so far, the spans still open included (a clock reads this mid-request)."""
        with self._lock:
            now = time.perf_counter()
            return self._done.seconds + sum(now - since for since in self._since.values())

    def snapshot(self) -> Handling:
        with self._lock:
            return self._done
