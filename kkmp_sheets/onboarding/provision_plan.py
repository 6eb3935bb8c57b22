"""Which registry rows `provision` makes a workbook for, and what happened to each.

Shared by local mode (`provision.py`) and Google mode (`provision_google.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kkmp_sheets.core.parse import Rows, locate_header
from kkmp_sheets.core.registry import REGISTRY_SPEC, Coop, read_registry
from kkmp_sheets.errors import UsageError

NAME_SEPARATOR = " — "


@dataclass
class Outcome:
    coop_id: str
    action: str  # "dibuat" | "dicatat" | "sudah ada" | "dilanjutkan" | "gagal"
    where: str = ""  # the path or spreadsheet ID
    detail: str = ""

    def line(self) -> str:
        text = f"{self.action:<11} {self.coop_id:<24} {self.where}"
        return f"{text}  ({self.detail})" if self.detail else text


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the operator still has to do
    seconds: float = 0.0
    requests: dict[str, int] = field(default_factory=dict)  # Google: requests sent, per kind

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.action == "gagal"]

    def count(self, action: str) -> int:
        return sum(o.action == action for o in self.outcomes)

    def text(self) -> str:
        lines = [o.line() for o in self.outcomes]
        summary = ", ".join(
            f"{self.count(a)} {a}"
            for a in ("dibuat", "dilanjutkan", "dicatat", "sudah ada", "gagal")
            if self.count(a)
        )
        lines.append(f"\n{summary or 'nothing to do'} in {self.seconds:.1f} s")
        if self.requests:
            lines.append(
                "Google requests: " + ", ".join(f"{k} {v}" for k, v in self.requests.items())
            )
        lines += self.notes
        return "\n".join(lines) + "\n"


# --- choosing the rows ------------------------------------------------------------------------


def select(
    coops: list[Coop],
    rows: Rows,
    ids: Sequence[str],
    every: bool,
) -> list[Coop]:
    """The registry rows asked for: the IDs given, or with `every` all of them (those with a
    workbook are reported "sudah ada"). Rows whose ID is missing or repeated are left out: fix
    the registry first (`kkmp-sheets check` shows them)."""
    own = _own_ids(rows)
    valid = [c for c in coops if c.row in own and own[c.row] == c.id]
    by_id = {c.id: c for c in valid}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise UsageError(
            f"not in the registry (or its ID is missing or repeated there): {', '.join(unknown)}; "
            "run `kkmp-sheets check` to see the registry's problems"
        )
    wanted = set(ids)
    return [c for c in valid if every or c.id in wanted]


def _own_ids(rows: Rows) -> dict[int, str]:
    """Registry row number → the ID typed in it (read_registry makes one up for a row whose ID
    is missing or repeated; such rows are not provisioned)."""
    located = locate_header(rows, REGISTRY_SPEC)
    if located is None:
        return {}
    header_index, positions, _ = located
    id_col = next((pos for pos, key in positions.items() if key == "id"), None)
    if id_col is None:
        return {}
    seen: dict[str, int] = {}
    for index in range(header_index + 1, len(rows)):
        cell = rows[index][id_col] if id_col < len(rows[index]) else ""
        text = cell_text(cell)
        if text:
            seen[text] = seen.get(text, 0) + 1
    out = {}
    for index in range(header_index + 1, len(rows)):
        cell = rows[index][id_col] if id_col < len(rows[index]) else ""
        text = cell_text(cell)
        if text and seen[text] == 1:
            out[index + 1] = text
    return out


def cell_text(cell: Any) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return "" if cell is None else str(cell).strip()


def registry_coops(rows: Rows) -> list[Coop]:
    coops, _ = read_registry(rows)
    return coops
