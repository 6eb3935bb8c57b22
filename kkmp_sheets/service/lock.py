"""One `serve` per data folder: an exclusive `flock` on `<data dir>/serve.lock`.

The kernel releases the lock when the process ends in any way, so a crash or `kill -9` never
leaves a stale lock; a second instance is refused (`ServiceLocked`, exit code 5).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from kkmp_sheets.errors import KkmpError, ServiceLocked

LOCK_FILE = "serve.lock"


class ServiceLock:
    """An exclusive `flock` on `<data dir>/serve.lock`, held while inside; holds the pid.

    The file stays when the lock is released (removing it would let two processes lock two
    different files of the same name); what counts is the lock, which dies with its process.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def __enter__(self) -> ServiceLock:
        fcntl = _fcntl()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_pid(fd)
            os.close(fd)
            raise ServiceLocked(
                f"another kkmp-sheets serve{f' (pid {holder})' if holder else ''} already runs "
                f"with the data folder {self.path.parent}: stop it first (systemctl stop "
                "kkmp-sheets), or give this config its own [data] dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            _fcntl().flock(self._fd, _fcntl().LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @staticmethod
    def holder(path: Path) -> int | None:
        """The pid of the running instance that holds the lock at `path`, or None."""
        if not Path(path).is_file():
            return None
        fcntl = _fcntl()
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return _read_pid(fd) or -1
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)


def _fcntl() -> Any:
    if sys.platform == "win32":
        raise KkmpError(
            "serve needs Linux or another POSIX system (it runs under systemd); on Windows, "
            "schedule `kkmp-sheets run --once` with the Task Scheduler instead"
        )
    import fcntl

    return fcntl


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
