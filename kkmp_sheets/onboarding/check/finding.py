"""One line of `check`: its level, what was found, and what to do about it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

OK, GALAT, PERINGATAN = "OK", "GALAT", "PERINGATAN"

SMTP_TIMEOUT = 10.0
KELURAHAN_PREFIXES = ("kelurahan", "kel", "desa", "ds")


@dataclass(frozen=True)
class Finding:
    level: str  # OK | GALAT | PERINGATAN
    what: str
    fix: str = ""
    row: int = 0  # the registry row it is about (0: none); findings are listed in row order

    def line(self) -> str:
        text = f"{self.level:<10}  {self.what}"
        return f"{text} — {self.fix}" if self.fix else text


def galat(what: str, fix: str, row: int = 0) -> Finding:
    return Finding(GALAT, what, fix, row)


def peringatan(what: str, fix: str, row: int = 0) -> Finding:
    return Finding(PERINGATAN, what, fix, row)


def report(findings: Iterable[Finding]) -> tuple[str, int]:
    """The lines to print and the number of GALAT."""
    items = list(findings)
    counts = {level: sum(f.level == level for f in items) for level in (OK, GALAT, PERINGATAN)}
    lines = [f.line() for f in items]
    lines.append(
        f"\n{counts[GALAT]} galat, {counts[PERINGATAN]} peringatan, {counts[OK]} OK"
        + ("" if counts[GALAT] else ": ready for the first cycle")
    )
    return "\n".join(lines) + "\n", counts[GALAT]


def config_findings(message: str, path: Path) -> list[Finding]:
    """A config error as one GALAT per problem it lists."""
    lines = [line.strip()[2:] for line in message.splitlines() if line.strip().startswith("- ")]
    if not lines:
        return [galat(f"config: {message}", "fix it and run check again")]
    return [galat(f"config {Path(path).name}: {line}", f"edit {path}") for line in lines]


def writable(folder: Path, what: str, key: str) -> Finding:
    """Whether files can be made in `folder` (or, if it does not exist yet, be created)."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if probe.is_dir() and os.access(probe, os.W_OK | os.X_OK):
        return Finding(OK, f"{what}: {folder} writable")
    return galat(
        f"{what}: {folder} cannot be written ({probe} is not a writable folder)",
        f"set {key} to a folder the service's user may write, or change its permissions",
    )
