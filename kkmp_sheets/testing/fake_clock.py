"""A warp clock for benchmarks on the in-process fake: Google's time, not the fake's.

`WarpClock` runs with real time and skips quota waits. Against the local fake, real time also
holds the fake's own work on each request (parsing, building answers; slow on a busy machine),
which Google would not cost the client; while it passes, requests made earlier age out of the
quota window although on Google they would not have. `FakeWarpClock` stands still while the fake
works (`HandlingMeter`): what passes is the client's own time, the configured latency and the
skipped waits. Shared by the client's rate limiter and the fake (`fake.clock = clock.wall`).
"""

from __future__ import annotations

import threading

from kkmp_sheets.clock import WarpClock

from .fake_google import FakeGoogle


class FakeWarpClock(WarpClock):
    def __init__(self, fake: FakeGoogle) -> None:
        self._meter = fake.app.meter
        self._base = self._meter.seconds()
        self._held = threading.Lock()
        self._last = 0.0
        super().__init__()

    def _moved(self) -> float:
        # Real time less the fake's busy time since the start; never back (two requests in
        # flight at once would count their overlap twice).
        moved = super()._moved() - (self._meter.seconds() - self._base)
        with self._held:
            self._last = max(self._last, moved)
            return self._last
