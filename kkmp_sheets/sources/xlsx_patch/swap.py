"""Swapping two files in one step, so that nothing a person saves in between is lost.

Linux's `renameat2(RENAME_EXCHANGE)` swaps two names atomically: the new workbook takes the
workbook's name and the old file (whatever was there at that instant, staff's newest save
included) takes the staged name, where it can be compared with the version that was checked and
swapped back if it is not that one. Where the call is missing (other systems) or the file system
refuses it, `exchange` says so and the caller falls back to link-compare-rename, which narrows
the window to a few microseconds instead of closing it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from pathlib import Path

Version = tuple[int, int, int]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV}


def version_of(info: os.stat_result) -> Version:
    """What tells one saved version of a file from another: a save changes at least one."""
    return info.st_ino, info.st_size, info.st_mtime_ns


def _renameat2() -> object | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        return libc.renameat2
    except (OSError, AttributeError, TypeError):  # no C library by that name, or no such call
        return None


_RENAMEAT2 = _renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Swap the files named `a` and `b` atomically; False, with nothing changed, where the
    system or file system cannot. Other failures raise OSError."""
    call = _RENAMEAT2
    if call is None:
        return False
    result = call(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)  # type: ignore[operator]
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(b))
