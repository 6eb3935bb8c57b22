"""Where a write keeps its files while it works, and what the next run does with a crash's.

Nothing the service writes may sit beside a cooperative's workbook, where staff could open it
and a sync client (Google Drive, OneDrive, Dropbox) would upload it: the new workbook is staged
in the service's data folder (`<data>/feedback-staging/`), which must be private anyway (it
holds the history store's snapshots). It must be on the same file system as the workbook, so
that putting the new file in place is one atomic rename. When it is not (the data folder on
another disk than a share of workbooks), the staged file goes beside the workbook under a
hidden name that sync clients skip and no one mistakes for a workbook: `.~kkmp-<name>.<token>.tmp`
(a leading `.~` and a `.tmp` suffix: Dropbox, OneDrive and Google Drive all leave those alone).

A small journal per write (`<token>.json`, in the data folder, with no personal data: the
workbook's path and the identity of its two versions) says which workbook a staged file belongs
to. After a crash, `recover` reads each journal: a staged file that is the workbook's displaced
original is dropped once the workbook is verified to open (or put back when it does not); one
that is staff's save displaced by a swap that was then interrupted is put back; an unswapped new
version is dropped (the next cycle writes it again).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

import python_calamine

from kkmp_sheets.sources.xlsx_patch.swap import Version, exchange, version_of

log = logging.getLogger(__name__)

STAGING_FOLDER = "feedback-staging"
HIDDEN_PREFIX = ".~kkmp-"


@dataclass
class Staged:
    """One write's staged file (the new workbook; after the swap, the displaced original), the
    name a fallback swap holds the original under, and the journal."""

    workbook: Path
    file: Path
    journal: Path | None
    original: Version
    written: Version | None = None

    @property
    def held(self) -> Path:
        return self.file.with_name(self.file.name + ".held")

    def record_written(self) -> None:
        self.written = version_of(self.file.stat())
        self._save(durable=True)

    def _save(self, *, durable: bool) -> None:
        """Write the journal. It must be on disk (`durable`) before the swap, which is when a
        power cut could leave the workbook's two versions apart; before that, a journal lost to
        one leaves an unswapped staged file, which `recover` removes as an orphan."""
        if self.journal is None:
            return
        entry = {
            "workbook": str(self.workbook),
            "file": str(self.file),
            "original": list(self.original),
            "written": list(self.written) if self.written else None,
        }
        with open(self.journal, "w", encoding="utf-8") as handle:
            json.dump(entry, handle)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())

    def discard(self) -> None:
        for leftover in (self.file, self.held, self.journal):
            if leftover is not None:
                with contextlib.suppress(OSError):
                    leftover.unlink(missing_ok=True)


def stage(workbook: Path, original: os.stat_result, work_dir: Path | None) -> Staged:
    """A new staged write for `workbook`, its journal already on disk."""
    folder = staging_folder(work_dir) if work_dir is not None else None
    journal = None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        token, journal = _claim_journal(folder)
    else:
        token = secrets.token_hex(8)
    if folder is not None and _same_file_system(folder, workbook.parent):
        file = folder / f"{token}.xlsx"
    else:
        if folder is not None:
            log.info(
                "%s is on another file system than %s: staging beside the workbook under a "
                "hidden name",
                folder,
                workbook.parent,
            )
        file = workbook.parent / f"{HIDDEN_PREFIX}{workbook.name}.{token}.tmp"
    staged = Staged(workbook, file, journal, version_of(original))
    staged._save(durable=False)
    return staged


def _claim_journal(folder: Path) -> tuple[str, Path]:
    """A token no other write holds: its journal is created here, exclusively. Several writer
    processes stage into one folder at once (`feedback_writers`); a token drawn twice (2^-64)
    is drawn again instead of two writes sharing one journal."""
    while True:
        token = secrets.token_hex(8)
        journal = folder / f"{token}.json"
        try:
            os.close(os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        return token, journal


def staging_folder(work_dir: Path) -> Path:
    return Path(work_dir) / STAGING_FOLDER


def _same_file_system(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


# --------------------------------------------------------------------------------------------
# What a crash left


def clear_beside(workbook: Path, leftovers: set[str] | None = None) -> list[Path]:
    """Remove what an interrupted write left beside `workbook` (this version's hidden staged
    files, and earlier versions' `.<name>.*.tmp` and `<name>.bak`). Called only once the workbook
    itself has been read as a whole, so nothing here is needed to restore it.

    `leftovers`: what `leftovers_in` found in the workbook's folder, when one listing serves many
    workbooks (a batch); None lists the folder now. Names removed are taken out of it."""
    folder, name = workbook.parent, workbook.name
    candidates = leftovers_in(folder) if leftovers is None else leftovers
    if not candidates:
        return []
    patterns = [
        f"{_glob_escape(HIDDEN_PREFIX + name)}.*.tmp",
        f"{_glob_escape(HIDDEN_PREFIX + name)}.*.tmp.held",
        f".{_glob_escape(name)}.*.tmp",
    ]
    found = [
        entry
        for entry in sorted(candidates)
        if any(fnmatch.fnmatchcase(entry, pattern) for pattern in patterns)
    ]
    if name + ".bak" in candidates and (folder / (name + ".bak")).is_file():
        found.append(name + ".bak")
    removed = []
    for entry in found:
        candidates.discard(entry)
        with contextlib.suppress(OSError):
            (folder / entry).unlink()
            removed.append(folder / entry)
    return removed


def leftovers_in(folder: Path) -> set[str]:
    """The names in `folder` that an interrupted write may have left: hidden `.tmp` files and
    `.bak` copies. One listing of the folder, instead of one per workbook in it (a folder of
    thousands of workbooks made that quadratic)."""
    try:
        with os.scandir(folder) as entries:
            return {
                entry.name
                for entry in entries
                if (entry.name.startswith(".") and entry.name.endswith((".tmp", ".tmp.held")))
                or entry.name.endswith(".bak")
            }
    except OSError:
        return set()


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


def recover(work_dir: Path) -> list[str]:
    """Finish or undo every write a crash interrupted; one line per action, for the log."""
    folder = staging_folder(work_dir)
    if not folder.is_dir():
        return []
    done: list[str] = []
    journals = sorted(folder.glob("*.json"))
    for journal in journals:
        done += _recover_one(journal)
    for orphan in folder.iterdir():  # a staged file whose journal is gone belongs to nothing
        if orphan.suffix != ".json" and not orphan.with_name(_token(orphan) + ".json").exists():
            with contextlib.suppress(OSError):
                orphan.unlink()
                done.append(f"removed {orphan.name}, left by an interrupted write")
    return done


def _token(staged: Path) -> str:
    return staged.name.split(".", 1)[0]


def _recover_one(journal: Path) -> list[str]:
    try:
        entry = json.loads(journal.read_text(encoding="utf-8"))
        workbook, file = Path(entry["workbook"]), Path(entry["file"])
        original = tuple(entry["original"])
        written = tuple(entry["written"]) if entry.get("written") else None
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)  # torn while being written: nothing was staged yet
        return [f"removed an unreadable journal {journal.name}"]
    done: list[str] = []
    for candidate in (file, file.with_name(file.name + ".held")):
        try:
            info = candidate.stat()
        except OSError:
            continue
        done.append(_settle(workbook, candidate, version_of(info), original, written))
    if not done:
        done.append(f"{workbook}: a write stopped before it staged anything")
    journal.unlink(missing_ok=True)
    return done


def _settle(
    workbook: Path, staged: Path, staged_version: Version, original: tuple, written: tuple | None
) -> str:
    try:
        current = version_of(workbook.stat())
    except OSError:
        current = None
    if staged_version == original:
        # The swap happened: `staged` is the workbook as it was before our write.
        if current is not None and opens(workbook):
            staged.unlink(missing_ok=True)
            return f"{workbook}: the interrupted write had completed; its leftover was removed"
        _put_back(staged, workbook)
        return f"{workbook}: did not open after an interrupted write; the original was put back"
    if written is not None and current == written and staged_version != written:
        # Staff's save had been displaced by our swap when the process died: theirs wins.
        _put_back(staged, workbook)
        return f"{workbook}: staff's save, displaced by an interrupted write, was put back"
    staged.unlink(missing_ok=True)
    return f"{workbook}: an unfinished write was dropped; the next cycle writes again"


def _put_back(staged: Path, workbook: Path) -> None:
    if workbook.exists() and exchange(staged, workbook):
        staged.unlink(missing_ok=True)
    else:
        os.replace(staged, workbook)


def opens(path: Path) -> bool:
    """The workbook is a whole zip that a spreadsheet reader can list the tabs of."""
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.testzip() is not None:
                return False
        return bool(python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception:  # zipfile and calamine raise several kinds for a damaged file
        return False
