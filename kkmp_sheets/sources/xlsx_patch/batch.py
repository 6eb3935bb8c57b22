"""Many writes, one flush of each folder to disk: what a cycle's Hasil Pemeriksaan writes share.

Flushing a folder (fsync of the directory) is what makes a rename survive a power cut; doing it
after every workbook cost as much as the rest of the write. A batch flushes each folder that
received a workbook once, when it ends. It also lists each folder once for what interrupted
writes left there (`leftovers`), instead of once per workbook.

What a power cut before that flush can and cannot do, workbook by workbook:

- the staged file's data and the write's journal are flushed (fsync) before the swap
  (`commit`), so whichever name the swap's rename leaves on disk names a whole file;
- the swap is one rename (or exchange) of names: after a power cut the workbook's name holds
  either the old file or the new one, never a mix, never nothing. A deletion of the staged
  name that reaches the disk before the rename does removes only what that name held;
- so the only effect of a power cut before the flush is that a workbook may come back as it
  was before this cycle's write; the next cycle writes it again. A save by staff displaced by
  a swap is still found through the journal and put back (`staging.recover`).

The flush is done before the cycle records anything about the writes (the status workbook, the
history store), so nothing recorded can describe a write a power cut undid. Writes made by
writer processes (`sources/feedback_writers.py`) belong to the batch of the cycle's process:
each names its folder back when it answers, and the batch ends once every one has answered. A `kill -9` (the
crash matrix) loses nothing the process wrote: the kernel still holds it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

from kkmp_sheets import crashpoints
from kkmp_sheets.sources.xlsx_patch.staging import leftovers_in


class WriteBatch:
    """Writes whose folders are flushed together; use as a context manager, or call `flush`."""

    def __init__(self) -> None:
        self._folders: set[Path] = set()
        self._leftovers: dict[Path, set[str]] = {}

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

    def leftovers(self, folder: Path) -> set[str]:
        """What an interrupted write may have left in `folder`, listed once per batch (see
        `staging.leftovers_in`): only a crash adds such files, and this process's own are
        removed by the write that made them."""
        if folder not in self._leftovers:
            self._leftovers[folder] = leftovers_in(folder)
        return self._leftovers[folder]

    def written(self, folder: Path) -> None:
        """A workbook in `folder` was swapped in; the folder is flushed when the batch ends."""
        self._folders.add(folder)

    def flush(self) -> None:
        """Flush every folder written into since the last flush."""
        if not self._folders:
            return
        for folder in sorted(self._folders):
            fsync_folder(folder)
        self._folders.clear()
        crashpoints.reached("feedback-batch-synced")


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
