"""Putting the verified file in place of the workbook, so that it is never left half-written.

The new bytes go to a temp file in the same folder and are verified there; then `os.replace`
moves them over the original while a `.bak` hard link (or copy) of it exists, and a failure puts
the original back. Nothing is written while the workbook is read-only or open in Excel or
LibreOffice (their lock files), and a save by staff in the meantime wins. The file's mtime is
kept by default: it is how the service knows when staff last edited the data.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from kkmp_sheets.sources.xlsx_patch.ooxml import PatchError


def _commit(
    path: Path,
    original_stat: os.stat_result,
    new_blob: bytes,
    verify: Callable[[Path], None],
    *,
    keep_mtime: bool,
) -> None:
    _check_writable(path, original_stat)
    _check_not_open(path)
    backup = path.with_name(path.name + ".bak")
    tmp: Path | None = None
    written: os.stat_result | None = None  # the new file, once it has replaced the original
    made_backup = False
    try:
        tmp = _write_temp(path, new_blob, original_stat, keep_mtime=keep_mtime)
        verify(tmp)
        _check_unchanged(path, original_stat)
        _make_backup(path, backup)
        made_backup = True
        tmp_stat = tmp.stat()
        os.replace(tmp, path)
        written, tmp = tmp_stat, None
        _fsync_folder(path.parent)
        if path.read_bytes() != new_blob:
            raise PatchError(f"{path}: the written file does not match what was written")
    except BaseException as error:
        if written is not None and made_backup and _same_file(path, written):
            # Put the original back, unless someone saved over our file in the meantime.
            try:
                os.replace(backup, path)
                made_backup = False
            except OSError:
                raise PatchError(
                    f"{path}: the write failed and the original could not be put back; "
                    f"it is saved as {backup}"
                ) from error
        _cleanup(tmp, backup if made_backup else None)
        if isinstance(error, PatchError):
            # Verification messages are about the temp file and do not name the workbook.
            if str(error).startswith(str(path)):
                raise
            raise PatchError(f"{path}: {error}; the file was not changed") from error
        if isinstance(error, Exception):
            raise PatchError(
                f"{path}: could not be updated ({_describe(error)}); the file was not changed"
            ) from error
        raise
    _cleanup(None, backup)


def _same_file(path: Path, written: os.stat_result) -> bool:
    try:
        now = path.stat()
    except OSError:
        return False
    return _version(now) == _version(written)


def _version(info: os.stat_result) -> tuple[int, int, int]:
    """What tells one saved version of a file from another: a save changes at least one."""
    return info.st_ino, info.st_size, info.st_mtime_ns


def _describe(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _check_writable(path: Path, original_stat: os.stat_result) -> None:
    # Root passes os.access whatever the mode, so the write bits are checked too.
    if not original_stat.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise PatchError(f"{path}: is read-only; the service needs to write its tab into it")


def _check_not_open(path: Path) -> None:
    """Refuse while LibreOffice or Excel has the workbook open: staff's next save would clash."""
    for lock, program in (
        (path.with_name(f".~lock.{path.name}#"), "LibreOffice"),
        (path.with_name(f"~${path.name}"), "Excel"),
    ):
        if lock.exists():
            raise PatchError(
                f"{path}: is open in {program} (lock file {lock.name}); it will be updated "
                "when it is closed. If nobody has it open, delete the lock file"
            )


def _check_unchanged(path: Path, original_stat: os.stat_result) -> None:
    """Staff may have saved the workbook while it was being patched: then leave it alone."""
    if _version(path.stat()) != _version(original_stat):
        raise PatchError(f"{path}: changed while it was being updated; try again")


def _write_temp(
    path: Path, data: bytes, original_stat: os.stat_result, *, keep_mtime: bool
) -> Path:
    # In the same folder so that os.replace is a rename on one file system, hence atomic.
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, stat.S_IMODE(original_stat.st_mode))
        if hasattr(os, "chown"):
            with contextlib.suppress(OSError):  # only possible as root or as the owner
                os.chown(tmp, original_stat.st_uid, original_stat.st_gid)
        if keep_mtime:
            # Set before the rename so the workbook never shows the service's write time.
            os.utime(tmp, ns=(original_stat.st_atime_ns, original_stat.st_mtime_ns))
    except BaseException:
        _cleanup(tmp, None)
        raise
    return tmp


def _make_backup(path: Path, backup: Path) -> None:
    # A leftover backup can only come from an interrupted run, after which `path` is either the
    # untouched original or a verified result: either way the leftover is redundant.
    backup.unlink(missing_ok=True)
    try:
        os.link(path, backup)  # instant, and no second copy of the bytes
    except OSError:  # file systems without hard links (FAT on a USB stick, some shares)
        backup.write_bytes(path.read_bytes())


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open folders; its rename is durable enough
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _cleanup(tmp: Path | None, backup: Path | None) -> None:
    for leftover in (tmp, backup):
        if leftover is not None:
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
