"""Named points where a test can make the process die, to prove that a crash leaves no damage.

`reached("name")` costs one environment look-up when unused. With `KKMP_CRASH_AT=N` in the
environment the process kills itself (SIGKILL: no `finally`, no `atexit`, exactly like a power
cut or the OOM killer) at the Nth point it reaches; with `KKMP_CRASH_LOG=file` it appends one
line per point reached (`N name`), which is how the crash matrix learns how many points a run
has. Both are for tests and `bench/crash_matrix.py` only; an operator never sets them.

A run's worker processes (the Hasil Pemeriksaan writers, `sources/feedback_writers.py`) reach
points too. They share one count with the run's own process (a small counter file, named in
the environment before any worker starts, so that every worker inherits it), and a worker that
reaches the chosen point kills the run's process first, then itself: what a power cut does to
all of them at once (the other workers die with the run, see `feedback_writers`).
"""

from __future__ import annotations

import os
import signal
import tempfile

CRASH_AT = "KKMP_CRASH_AT"
CRASH_LOG = "KKMP_CRASH_LOG"
# Set by the run's own process: the counter file its workers share, and its process id.
_COUNTER = "KKMP_CRASH_COUNTER"
_TOP = "KKMP_CRASH_TOP"

_reached = 0


def _shared_counter() -> None:
    """In the run's own process under a crash test: the counter file its workers will share."""
    if not (os.environ.get(CRASH_AT) or os.environ.get(CRASH_LOG)):
        return
    if os.environ.get(_COUNTER) and os.environ.get(_TOP) in {str(os.getpid()), str(os.getppid())}:
        return  # made by this process, or by the run that started this worker: shared
    handle, name = tempfile.mkstemp(prefix="kkmp-crash-", suffix=".count")
    os.close(handle)
    os.environ[_COUNTER], os.environ[_TOP] = name, str(os.getpid())


def reached(name: str) -> None:
    at, log = os.environ.get(CRASH_AT), os.environ.get(CRASH_LOG)
    if not at and not log:
        return
    count = _next()
    if log:
        with open(log, "a", encoding="utf-8") as file:
            file.write(f"{count} {name}\n")
    if at and count == int(at):
        top = os.environ.get(_TOP)
        if top and top != str(os.getpid()):
            os.kill(int(top), signal.SIGKILL)  # the run first: a worker dies with it
        os.kill(os.getpid(), signal.SIGKILL)


def _next() -> int:
    """The number of this point in the run: shared with its workers when they have a counter."""
    global _reached
    counter = os.environ.get(_COUNTER)
    if not counter:
        _reached += 1
        return _reached
    import fcntl

    with open(counter, "r+", encoding="ascii") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # released when the file is closed
        count = int(file.read() or "0") + 1
        file.seek(0)
        file.write(str(count))
        file.truncate()
    return count


_shared_counter()
