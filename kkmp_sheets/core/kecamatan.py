"""One kecamatan key for every output: the Kecamatan tab, Status KKMP, every digest and `check`.

The registry is typed by hand, so one kecamatan arrives as `Kebon Jeruk`, `KEBON JERUK` or
`Kec. Kebon Jeruk`. Outputs that grouped by the raw spelling showed one kecamatan three times;
outputs that grouped by another rule disagreed with them. The rule, once:

- **Key**: the Kemendagri code of the kecamatan — the first three segments of the row's Kode
  Wilayah (`31.73.05.1004` → `31.73.05`) — when the registry gives one. A row without a code
  joins the coded group whose name matches its name (see `name_key`); otherwise its key is its
  name made comparable. A row with neither is in the group `NO_KECAMATAN`.
- **Shown name**: the official Kemendagri name when the code is in the shipped list (the same
  name the workbook template pre-fills), else the registry spelling used most often in the group
  (on a tie, the first one in registry order).

A wrong code wins over a right name: such a row is grouped by its code, and `check` reports the
mismatch between the two so that the office corrects it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from kkmp_sheets.core import wilayah
from kkmp_sheets.core.template import normalize

NO_KECAMATAN = "(tanpa kecamatan)"
KECAMATAN_PREFIXES = ("kecamatan", "kec")
_NAME_KEY = "nama:"  # keys made from a name, so that they never look like a code


class Placed(Protocol):
    """What grouping reads of a registry row (`core.registry.Coop` is one)."""

    @property
    def id(self) -> str: ...
    @property
    def kecamatan(self) -> str: ...
    @property
    def kode_wilayah(self) -> str | None: ...


@dataclass(frozen=True)
class Kecamatan:
    """One kecamatan as the outputs show it."""

    key: str  # "31.73.05", "nama:kebonjeruk", or "" for the rows without a kecamatan
    name: str  # the shown name
    code: str | None  # the Kemendagri kecamatan code, when the group has one
    spellings: tuple[str, ...] = ()  # as typed in the registry, most used first

    @property
    def named(self) -> bool:
        """False for the group of rows without a kecamatan (kecamatan digests skip it)."""
        return self.key != ""


def name_key(name: object, prefixes: tuple[str, ...] = KECAMATAN_PREFIXES) -> str:
    """A place name made comparable: `Kec. Kebon Jeruk` = `KEBON JERUK` = `kebon-jeruk`.

    A leading word in `prefixes` is dropped (only a whole word, and only when more follow, so
    `Kecapi` and a kecamatan named just `Kec` keep theirs); then case, spaces and punctuation
    are ignored (`template.normalize`).
    """
    words = str(name or "").replace(".", ". ").split()
    while len(words) > 1 and normalize(words[0]) in prefixes:
        words = words[1:]
    return normalize(" ".join(words))


def kecamatan_code(kode_wilayah: str | None) -> str | None:
    """`31.73.05.1004` (or `3173051004`) → `31.73.05`; None when there is no such code."""
    if not kode_wilayah:
        return None
    parts = wilayah.dotted(kode_wilayah).split(".")
    if len(parts) < 3 or not all(p.isdigit() for p in parts[:3]):
        return None
    return ".".join(parts[:3])


def group_kecamatan(rows: Iterable[Placed]) -> dict[str, Kecamatan]:
    """Each registry row's id → its kecamatan (see the module docstring for the rule)."""
    rows = list(rows)
    by_name_of_code: dict[str, str] = {}  # name key → code, from the rows that have a code
    for row in rows:
        code = kecamatan_code(row.kode_wilayah)
        if code is None:
            continue
        for name in (row.kecamatan, wilayah.name(code) or ""):
            if name_key(name):
                by_name_of_code.setdefault(name_key(name), code)

    keys: dict[str, str] = {}
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        typed = " ".join(str(row.kecamatan or "").split())
        code = kecamatan_code(row.kode_wilayah)
        if code is None and name_key(typed):
            code = by_name_of_code.get(name_key(typed))
        key = code or (_NAME_KEY + name_key(typed) if name_key(typed) else "")
        keys[row.id] = key
        if typed:
            spellings[key][typed] += 1  # Counter keeps first-seen order on ties

    groups: dict[str, Kecamatan] = {}
    for key in dict.fromkeys(keys.values()):
        written = tuple(name for name, _ in spellings[key].most_common())
        code = None if key == "" or key.startswith(_NAME_KEY) else key
        official = wilayah.name(code) if code else None
        name = official or (written[0] if written else NO_KECAMATAN)
        groups[key] = Kecamatan(key, name if key else NO_KECAMATAN, code, written)
    return {row_id: groups[key] for row_id, key in keys.items()}


def display_order(kecamatan: Iterable[Kecamatan]) -> list[Kecamatan]:
    """Each group once, by name (case-insensitive), the rows without a kecamatan last."""
    unique = {k.key: k for k in kecamatan}
    return sorted(unique.values(), key=lambda k: (not k.named, k.name.casefold(), k.key))
