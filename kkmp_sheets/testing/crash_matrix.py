"""Kill `run --once` at named points and check that nothing was damaged or left behind.

A small sample city (`demo.build_demo_city`, built by the caller) is the pristine copy. For each point N a fresh copy of it is run in a subprocess
with `KKMP_CRASH_AT=N` (see `kkmp_sheets.crashpoints`: SIGKILL at the Nth named step), then:

- every cooperative workbook opens, and each of its data parts (every worksheet it had, shared
  strings) is byte-identical to the original: the service only ever adds its own tab;
- nothing is beside the workbooks that was not there before;
- the status workbook is absent or whole (it opens and has its tabs);
- each SQLite file in the data folder passes `PRAGMA integrity_check`;
- every `.eml` in the outbox parses with a body, and nothing else is there;

then a healthy run completes (exit 0), every workbook has its Hasil Pemeriksaan, and the staging
folder, the outbox and the output folder hold no leftovers. `tests/test_crash_matrix.py` runs at
least 20 points; `bench/crash_matrix.py` runs every point, repeatedly, and prints the figures.
"""

from __future__ import annotations

import email
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import date
from email import policy
from pathlib import Path

import python_calamine

from kkmp_sheets.crashpoints import CRASH_AT, CRASH_LOG

AS_OF = date(2026, 1, 29)
FEEDBACK_TAB = "Hasil Pemeriksaan"


@dataclass
class Outcome:
    point: int
    name: str
    killed: bool
    problems: list[str] = field(default_factory=list)  # after the kill
    stray: list[str] = field(default_factory=list)  # files beside the workbooks after the kill
    after_rerun: list[str] = field(default_factory=list)  # what the healthy rerun left wrong

    @property
    def clean(self) -> bool:
        return self.killed and not self.problems and not self.stray and not self.after_rerun


class Matrix:
    """Runs of copies (made under `root`) of the pristine city in `pristine`, whose config is
    `city.toml` and whose cooperative workbooks are `workbooks`; its data is dated `AS_OF`."""

    def __init__(self, root: Path, pristine: Path, workbooks: list[Path]) -> None:
        self.root = Path(root)
        self.pristine = Path(pristine)
        self.workbooks = [Path(w).relative_to(self.pristine) for w in workbooks]
        self.parts = {w: _data_parts(self.pristine / w) for w in self.workbooks}
        self.beside = {w.parent for w in self.workbooks}
        self.listing = {folder: _names(self.pristine / folder) for folder in self.beside}

    def points(self) -> list[str]:
        """The named points of one healthy run, in order (a dry run with `KKMP_CRASH_LOG`)."""
        copy = self._copy("count")
        log = self.root / "points.log"
        log.unlink(missing_ok=True)
        result = self._run(copy, {CRASH_LOG: str(log)})
        if result.returncode != 0:
            raise RuntimeError(f"the healthy run failed: {result.stderr[-2000:]}")
        return [line.split(" ", 1)[1] for line in log.read_text().splitlines()]

    def kill_at(self, point: int, name: str = "") -> Outcome:
        copy = self._copy(f"kill-{point}")
        result = self._run(copy, {CRASH_AT: str(point)})
        outcome = Outcome(point, name, killed=result.returncode == -9)
        if not outcome.killed:
            outcome.problems.append(f"exit {result.returncode}, not killed: {result.stderr[-300:]}")
        outcome.problems += self._damage(copy)
        outcome.stray = self._stray(copy)
        rerun = self._run(copy, {})
        if rerun.returncode != 0:
            outcome.after_rerun.append(f"healthy rerun exit {rerun.returncode}")
        outcome.after_rerun += self._damage(copy) + self._stray(copy) + self._leftovers(copy)
        for workbook in self.workbooks:
            if FEEDBACK_TAB not in _tabs(copy / workbook):
                outcome.after_rerun.append(f"{workbook}: no {FEEDBACK_TAB} after the rerun")
        shutil.rmtree(copy, ignore_errors=True)
        return outcome

    # --- the checks -------------------------------------------------------------------------

    def _damage(self, city: Path) -> list[str]:
        found = []
        for workbook, parts in self.parts.items():
            path = city / workbook
            try:
                now = _data_parts(path, only=set(parts))
            except Exception as exc:  # zipfile raises several kinds for a damaged file
                found.append(f"{workbook}: does not open ({exc})")
                continue
            changed = sorted(name for name in parts if now.get(name) != parts[name])
            if changed:
                found.append(f"{workbook}: data parts changed: {', '.join(changed)}")
            if not _tabs(path):
                found.append(f"{workbook}: no tabs can be read")
        status = city / "out" / "status-kota.xlsx"
        if status.exists() and "Ringkasan" not in _tabs(status):
            found.append("the status workbook is not whole")
        for database in [*city.glob("out/data/*.sqlite"), *city.glob("out/data/*.db")]:
            found += _integrity(database)
        outbox = city / "out" / "outbox"
        for eml in sorted(outbox.glob("*.eml")) if outbox.is_dir() else []:
            message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
            body = message.get_body(preferencelist=("plain", "html"))
            if body is None or not body.get_content().strip():
                found.append(f"outbox: {eml.name} is not a whole message")
        return found

    def _stray(self, city: Path) -> list[str]:
        return sorted(
            str(folder / name)
            for folder in self.beside
            for name in _names(city / folder) - self.listing[folder]
        )

    def _leftovers(self, city: Path) -> list[str]:
        found = []
        staging = city / "out" / "data" / "feedback-staging"
        if staging.is_dir():
            found += [f"staging: {p.name}" for p in staging.iterdir()]
        outbox = city / "out" / "outbox"
        if outbox.is_dir():
            found += [f"outbox: {p.name}" for p in outbox.iterdir() if p.suffix != ".eml"]
        found += [f"out: {p.name}" for p in (city / "out").glob(".*") if p.is_file()]
        return found

    # --- running ----------------------------------------------------------------------------

    def _copy(self, name: str) -> Path:
        target = self.root / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(self.pristine, target, symlinks=True)
        for workbook in self.workbooks:  # copytree keeps mtimes; the service must too
            source = self.pristine / workbook
            os.utime(target / workbook, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns))
        return target

    def _run(self, city: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if k not in (CRASH_AT, CRASH_LOG)}
        command = [sys.executable, "-m", "kkmp_sheets", "run", "--once"]
        command += ["--config", str(city / "city.toml"), "--as-of", AS_OF.isoformat()]
        return subprocess.run(
            command, env={**clean, **env}, capture_output=True, text=True, timeout=300
        )


def _data_parts(path: Path, only: set[str] | None = None) -> dict[str, bytes]:
    """Every worksheet part and the shared strings, as stored (the cooperative's own data)."""
    with zipfile.ZipFile(path) as archive:
        names = [
            n
            for n in archive.namelist()
            if n.startswith("xl/worksheets/sheet") or n == "xl/sharedStrings.xml"
        ]
        if only is not None:
            names = [n for n in names if n in only]
        return {n: archive.read(n) for n in names}


def _tabs(path: Path) -> list[str]:
    try:
        return list(python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception:  # calamine raises several kinds for a damaged file
        return []


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _integrity(database: Path) -> list[str]:
    try:
        with sqlite3.connect(database) as conn:
            (answer,) = conn.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.Error as exc:
        return [f"{database.name}: {exc}"]
    return [] if answer == "ok" else [f"{database.name}: integrity_check says {answer}"]


def spread(total: int, count: int) -> list[int]:
    """`count` points from 1..total, evenly spread (all of them when there are fewer)."""
    if count >= total:
        return list(range(1, total + 1))
    return sorted({1 + round(i * (total - 1) / (count - 1)) for i in range(count)})
