"""Putting the verified file in place of the workbook, so that it is never left half-written,
never leaves anything beside it, and never overwrites a save by staff.

The new bytes are staged (see `staging`: in the service's data folder, with a journal) and
verified there. Then one atomic exchange (`swap.exchange`) puts them in place; the file it
displaces is compared with the version that was checked, and if staff saved in between, the
exchange is undone and their save kept (the next cycle writes again). Where the exchange is not
available, a hard link of the checked version is taken and compared first and `os.replace`
follows. Either way the displaced original is the rollback should the file on disk not read back
as written, and it is deleted as soon as the write is done: no backup outlives the write. The
workbook's folder is flushed to disk once per batch of writes (see `batch`, which also says what
a power cut before then can do).

Nothing is written while the workbook is read-only or open in Excel or LibreOffice (their lock
files). The file's mtime is kept by default: it is how the service knows when staff last edited
the data. A crash at any point leaves the workbook either as it was or as written, plus a staged
file that `staging.recover` settles on the next run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from kkmp_sheets import crashpoints
from kkmp_sheets.sources.xlsx_patch.batch import WriteBatch
from kkmp_sheets.sources.xlsx_patch.ooxml import PatchError
from kkmp_sheets.sources.xlsx_patch.staging import Staged, stage
from kkmp_sheets.sources.xlsx_patch.swap import exchange, version_of


def _commit(
    path: Path,
    original_stat: os.stat_result,
    new_blob: bytes,
    verify: Callable[[bytes], None],
    *,
    keep_mtime: bool,
    work_dir: Path | None = None,
    batch: WriteBatch | None = None,
) -> None:
    """Put `new_blob` in place of `path` once `verify` accepts it. The exact bytes that are
    checked are the bytes written, and the workbook is compared with them after the swap."""
    _check_writable(path, original_stat)
    _check_not_open(path)
    staged = stage(path, original_stat, work_dir)
    crashpoints.reached("feedback-journal")
    swapped = False
    try:
        _write_staged(staged.file, new_blob, original_stat, keep_mtime=keep_mtime)
        staged.record_written()
        crashpoints.reached("feedback-staged")
        verify(new_blob)
        _check_unchanged(path, original_stat)
        crashpoints.reached("feedback-verified")
        _swap_in(staged, path, original_stat)
        swapped = True
        crashpoints.reached("feedback-swapped")
        if path.read_bytes() != new_blob:
            raise PatchError(f"{path}: the written file does not match what was written")
    except BaseException as error:
        if swapped and _is_ours(path, staged):
            # Put the original back, unless someone saved over our file in the meantime.
            try:
                _swap_back(staged, path)
            except OSError:
                raise PatchError(
                    f"{path}: the write failed and the original could not be put back"
                ) from error
        staged.discard()
        _reraise(path, error)
    staged.discard()
    # The folder is flushed to disk once per batch of writes (see `batch` for why that is safe).
    if batch is not None:
        batch.written(path.parent)
    else:
        with WriteBatch() as alone:
            alone.written(path.parent)
    crashpoints.reached("feedback-done")


def _reraise(path: Path, error: BaseException) -> None:
    if isinstance(error, PatchError):
        # Verification messages are about the staged file and do not name the workbook.
        if str(error).startswith(str(path)):
            raise error
        raise PatchError(f"{path}: {error}; the file was not changed", error.reason) from error
    if isinstance(error, PermissionError):
        raise PatchError(
            f"{path}: could not be updated ({_describe(error)}); the file was not changed",
            "read-only",
        ) from error
    if isinstance(error, Exception):
        raise PatchError(
            f"{path}: could not be updated ({_describe(error)}); the file was not changed"
        ) from error
    raise error


def _swap_in(staged: Staged, path: Path, original_stat: os.stat_result) -> None:
    """Put the staged file in place; afterwards `staged.file` holds what was displaced, which is
    the checked version: a save by staff that slipped in is swapped back and refused."""
    checked = version_of(original_stat)
    if exchange(staged.file, path):
        if version_of(staged.file.stat()) != checked:
            exchange(staged.file, path)  # their save returns to its place, untouched
            if version_of(staged.file.stat()) != staged.written:
                exchange(staged.file, path)  # they saved yet again meanwhile: that one is newest
            raise _changed(path)
        return
    # No atomic exchange here: pin the checked version with a hard link, compare, then rename.
    held = staged.held
    try:
        os.link(path, held)
        pinned = version_of(held.stat()) == checked
    except OSError:  # no hard links (FAT on a USB stick, some shares): a copy, compared by content
        shutil.copy2(path, held)
        pinned = _same_content_stamp(held, original_stat)
    if not pinned:
        raise _changed(path)
    os.replace(staged.file, path)
    os.replace(held, staged.file)


def _swap_back(staged: Staged, path: Path) -> None:
    if not exchange(staged.file, path):
        os.replace(staged.file, path)


def _is_ours(path: Path, staged: Staged) -> bool:
    try:
        return version_of(path.stat()) == staged.written
    except OSError:
        return False


def _same_content_stamp(copy: Path, original_stat: os.stat_result) -> bool:
    info = copy.stat()
    return (info.st_size, info.st_mtime_ns) == (original_stat.st_size, original_stat.st_mtime_ns)


def _changed(path: Path) -> PatchError:
    return PatchError(
        f"{path}: changed while it was being updated; it was left as saved and the next cycle "
        "writes again",
        "changed",
    )


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _check_writable(path: Path, original_stat: os.stat_result) -> None:
    # Root passes os.access whatever the mode, so the write bits are checked too.
    if not original_stat.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise PatchError(
            f"{path}: is read-only; the service needs to write its tab into it", "read-only"
        )


def _check_not_open(path: Path) -> None:
    """Refuse while LibreOffice or Excel has the workbook open: staff's next save would clash."""
    for lock, program in (
        (path.with_name(f".~lock.{path.name}#"), "LibreOffice"),
        (path.with_name(f"~${path.name}"), "Excel"),
    ):
        if lock.exists():
            raise PatchError(
                f"{path}: is open in {program} (lock file {lock.name}); it will be updated "
                "when it is closed. If nobody has it open, delete the lock file",
                "open",
            )


def _check_unchanged(path: Path, original_stat: os.stat_result) -> None:
    """Staff may have saved the workbook while it was being patched: then leave it alone."""
    if version_of(path.stat()) != version_of(original_stat):
        raise _changed(path)


def _write_staged(
    file: Path, data: bytes, original_stat: os.stat_result, *, keep_mtime: bool
) -> None:
    # Private while it is being written: it is a whole workbook, personal data included.
    handle = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(file, stat.S_IMODE(original_stat.st_mode))
    if hasattr(os, "chown"):
        with contextlib.suppress(OSError):  # only possible as root or as the owner
            os.chown(file, original_stat.st_uid, original_stat.st_gid)
    if keep_mtime:
        # Set before the swap so the workbook never shows the service's write time.
        os.utime(file, ns=(original_stat.st_atime_ns, original_stat.st_mtime_ns))
