"""Named points where a test can make the process die, to prove that a crash leaves no damage.

`reached("name")` costs one environment look-up when unused. With `KKMP_CRASH_AT=N` in the
environment the process kills itself (SIGKILL: no `finally`, no `atexit`, exactly like a power
cut or the OOM killer) at the Nth point it reaches; with `KKMP_CRASH_LOG=file` it appends one
line per point reached (`N name`), which is how the crash matrix learns how many points a run
has. Both are for tests and `bench/crash_matrix.py` only; an operator never sets them.
"""

from __future__ import annotations

import os
import signal

CRASH_AT = "KKMP_CRASH_AT"
CRASH_LOG = "KKMP_CRASH_LOG"

_reached = 0


def reached(name: str) -> None:
    at, log = os.environ.get(CRASH_AT), os.environ.get(CRASH_LOG)
    if not at and not log:
        return
    global _reached
    _reached += 1
    if log:
        with open(log, "a", encoding="utf-8") as file:
            file.write(f"{_reached} {name}\n")
    if at and _reached == int(at):
        os.kill(os.getpid(), signal.SIGKILL)
