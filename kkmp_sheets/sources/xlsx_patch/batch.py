"""Many writes, one flush of each folder to disk: what a cycle's Hasil Pemeriksaan writes share.

Flushing a folder (fsync of the directory) is what makes a rename survive a power cut; doing it
after every workbook cost as much as the rest of the write. A batch flushes each folder that
received a workbook once, when it ends (or when it holds `max_writes` writes or `max_bytes` of
originals, to bound the disk it borrows).

Why a workbook is still never half-written nor lost should the power fail before that flush:

- the staged file's data and its journal are flushed (fsync) before the swap (`commit`), so
  whichever of the two names the swap leaves on disk, it names a whole file;
- the swap is one rename (or exchange) of names: after a power cut the workbook's name holds
  either the old file or the new one, never a mix;
- until its folder is flushed, the displaced original is kept in the staging folder with its
  journal, instead of being deleted right away: whichever way the swap's rename went, both
  versions are still on disk, and `staging.recover` settles it on the next run (the workbook
  opens: the leftover is dropped; it does not: the original is put back);
- only after the flush are the originals and journals deleted; a deletion the power cut undoes
  is again a leftover that `recover` removes.

A `kill -9` (the crash matrix) loses nothing that was written: the kernel still holds it. It
leaves the same originals and journals, settled the same way.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

from kkmp_sheets import crashpoints
from kkmp_sheets.sources.xlsx_patch.staging import Staged, leftovers_in

MAX_WRITES = 256
MAX_BYTES = 256 * 1024 * 1024


class WriteBatch:
    """Writes whose folders are flushed together; use as a context manager, or call `flush`."""

    def __init__(self, *, max_writes: int = MAX_WRITES, max_bytes: int = MAX_BYTES):
        self.max_writes = max_writes
        self.max_bytes = max_bytes
        self._folders: set[Path] = set()
        self._held: list[Staged] = []
        self._held_bytes = 0
        self._leftovers: dict[Path, set[str]] = {}

    def leftovers(self, folder: Path) -> set[str]:
        """What an interrupted write may have left in `folder`, listed once per batch (see
        `staging.leftovers_in`): only a crash adds such files, and this process's own are
        removed by the write that made them."""
        if folder not in self._leftovers:
            self._leftovers[folder] = leftovers_in(folder)
        return self._leftovers[folder]

    def __enter__(self) -> WriteBatch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        # Also after an error: the writes already swapped in are done and must be made durable.
        self.flush()

    def hold(self, staged: Staged, folder: Path) -> None:
        """A swapped-in write: `staged.file` now holds the original, kept until `folder` (the
        workbook's) is flushed."""
        self._folders.add(folder)
        self._held.append(staged)
        with contextlib.suppress(OSError):
            self._held_bytes += staged.file.stat().st_size
        beside = staged.file.parent == folder  # staged beside the workbook: not kept there
        if beside or len(self._held) >= self.max_writes or self._held_bytes >= self.max_bytes:
            self.flush()

    def flush(self) -> None:
        """Flush every folder written into, then delete the originals kept until then."""
        if not self._held and not self._folders:
            return
        for folder in sorted(self._folders):
            fsync_folder(folder)
        crashpoints.reached("feedback-batch-synced")
        for staged in self._held:
            staged.discard()
        self._folders.clear()
        self._held.clear()
        self._held_bytes = 0


def fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open folders; its rename is durable enough
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
