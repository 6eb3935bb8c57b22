"""The clock: one protocol for every part of the service that reads the time or waits.

`serve` asks it for the WIB wall time (what is due) and waits on it between jobs; the Google
client asks it for a monotonic time (its quota windows) and sleeps on it between retries. Both
take it injected, so tests and simulations run minutes or days of schedule and quota waiting
without waiting:

- `SystemClock`: the real one.
- `SimulatedClock`: starts at a given moment and skips every wait; with `real_time`, it also
  moves on with the real time that passes between waits (the work's own duration).
- `WarpClock`: a simulated clock that starts now and runs with real time (tests and benchmarks
  of the Google client): request latency takes real time, waiting for quota takes none. Its
  `wall()` is the matching epoch time, shared with the local Google fake (`fake.clock =
  clock.wall`) so that the fake's quota windows open on the same schedule.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Protocol

from kkmp_sheets.core.wib import WIB


class Stop(Protocol):
    """What a wait watches to end early (a signal's stop flag, a `threading.Event`)."""

    def is_set(self) -> bool: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in WIB."""
        ...

    def monotonic(self) -> float:
        """Seconds on a scale that never goes back (quota windows, elapsed time)."""
        ...

    def sleep(self, seconds: float, stop: Stop | None = None) -> None:
        """Let `seconds` pass, or less when `stop` is set meanwhile."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(WIB)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float, stop: Stop | None = None) -> None:
        if stop is None:
            if seconds > 0:
                time.sleep(seconds)
            return
        end = time.monotonic() + max(0.0, seconds)
        while not stop.is_set() and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 1.0))  # a signal's flag is seen within a second


class SimulatedClock:
    """Time that starts at `start` and skips every wait.

    With `real_time`, it also moves on with the real time that passes between waits (the jobs'
    own run time), so a simulation shows how long jobs take; without it, it stands still
    except when waiting or `advance()`d (a frozen clock for tests). Safe to share between
    threads (the Google client's workers sleep on it at the same time).
    """

    def __init__(self, start: datetime, *, real_time: bool = False) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock's start must carry a time zone")
        self._start = start.astimezone(WIB)
        self._real_time = real_time
        self._origin = time.monotonic()
        self._lock = threading.Lock()
        self.skipped = 0.0  # seconds of waiting skipped so far

    def _moved(self) -> float:
        return time.monotonic() - self._origin if self._real_time else 0.0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.skipped + self._moved())

    def monotonic(self) -> float:
        return self.skipped + self._moved()

    def sleep(self, seconds: float, stop: Stop | None = None) -> None:
        if stop is None or not stop.is_set():
            self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self.skipped += seconds


class WarpClock(SimulatedClock):
    """Real time from now on, except that every wait is skipped (tests and benchmarks)."""

    def __init__(self) -> None:
        super().__init__(datetime.now(WIB), real_time=True)

    def wall(self) -> float:
        """Epoch seconds on this clock (for the local Google fake)."""
        return self.now().timestamp()
