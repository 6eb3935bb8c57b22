"""Which cooperative gets which village, kind, planned zone, staff member and mistakes.

A cooperative's *kind* (how far along it is) decides its Status Operasional and its planned zone
under the default thresholds of PRODUCT.md "Zones"; the tables here say what each kind means
(members, sales, when it began and stopped selling) and which mistakes may go where. A mistake
that makes a `Galat` is only dealt where the planned zone is Kuning or Merah already, so seeding
never changes a zone. The whole plan is drawn from one `random.Random` seeded by (seed, region),
before any workbook is written.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from kkmp_sheets.core import wilayah
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.demo import catalogues as cat

EMAIL_DOMAIN = "kkmp-demo.example"
OFFICE_DOMAIN = "dinas-demo.example"
LAUNCHING = date(2025, 7, 21)  # the national launch of the Koperasi Desa/Kelurahan Merah Putih

# kind: Status Operasional, planned zone, % in a city of kelurahan, % where desa dominate
KINDS: dict[str, tuple[str, str, int, int]] = {
    "mapan": ("Aktif", "Hijau", 28, 12),  # ≥100 members, papers complete, daily sales, up to date
    "berkembang": ("Aktif", "Kuning", 17, 12),  # ≥100 members, one of NIB/NPWP/bank missing
    "baru": ("Aktif", "Kuning", 15, 16),  # selling for 3–8 weeks, fewer than 100 members
    "lambat": ("Aktif", "Kuning", 9, 6),  # mature, but the sheet was last edited 16–27 days ago
    "persiapan": ("Persiapan", "Merah", 12, 35),  # not selling yet, few members, papers missing
    "sepi": ("Aktif", "Merah", 8, 9),  # "Aktif" on paper, no sale for 35–70 days
    "terbengkalai": ("Aktif", "Merah", 5, 5),  # the sheet abandoned 33–58 days ago
    "berhenti": ("Berhenti", "Merah", 6, 5),
}
MEMBERS = {  # kind: (fewest, most, typical) members on the list
    "mapan": (115, 600, 170),
    "berkembang": (112, 320, 140),
    "lambat": (110, 400, 150),
    "baru": (30, 92, 55),
    "persiapan": (15, 60, 28),
    "sepi": (40, 150, 70),
    "terbengkalai": (60, 200, 90),
    "berhenti": (25, 120, 50),
}
NOTAS_PER_DAY = {"mapan": 6, "lambat": 5, "berkembang": 4, "baru": 3, "terbengkalai": 3}
_SOLD_UNTIL = {"sepi": (35, 70), "berhenti": (45, 90)}  # days before as_of of the last sale
_STARTED = {"baru": (20, 55), "berhenti": (120, 170)}  # days before as_of it began selling
_SPPG_ODDS = {"mapan": 0.6, "lambat": 0.5, "berkembang": 0.4, "baru": 0.2}

_ALL = frozenset(KINDS)
_NOT_GREEN = _ALL - {"mapan"}  # where a Galat may go: the planned zone is Kuning or Merah anyway
_TRADING = _ALL - {"persiapan"}
# mistake: (the issue code expected, the kinds of cooperative it may be seeded in)
MISTAKES: dict[str, tuple[str | None, frozenset[str]]] = {
    "nik-number": ("nik-as-number", _NOT_GREEN),
    "nik-15": ("nik-length", _NOT_GREEN),
    "nik-birthdate": ("nik-birthdate", _NOT_GREEN),
    "member-id-dup": ("member-id-duplicate", _NOT_GREEN),
    "nik-dup": ("nik-duplicate", _NOT_GREEN),
    "nik-elsewhere": ("nik-elsewhere", _ALL),
    "nama-empty": ("required-missing", _NOT_GREEN),
    "date-unreadable": ("value-unreadable", _NOT_GREEN),
    "future-date": ("future-date", _NOT_GREEN),
    "member-unknown": ("member-unknown", _ALL),
    "jenis-unknown": ("choice-unknown", _NOT_GREEN),
    "emoji": (None, _ALL),  # no issue expected: the text must come back as typed
    "stock-negative": ("negative-value", _NOT_GREEN & _TRADING),
    "harga-beli-empty": ("missing-optional", _TRADING),
    "formula-text": (None, _TRADING),  # no issue expected: must stay text, never a formula
    "item-unknown": ("item-unknown", _TRADING),
    "total-mismatch": ("total-mismatch", _TRADING),
    "nib-12": ("nib-format", _NOT_GREEN),
    "npwp-15": ("npwp-15-digit", _NOT_GREEN),
    "sk-ahu": ("sk-ahu-format", _NOT_GREEN),
    "status-unknown": ("choice-unknown", frozenset({"sepi", "terbengkalai"})),
    "tab-missing": ("tab-missing", frozenset({"persiapan"})),
    "column-missing": ("column-missing", frozenset({"baru", "berkembang", "persiapan"})),
}


@dataclass(frozen=True)
class SeededMistake:
    """A deliberate mistake (or an accidental shared NIK), where the user sees it."""

    coop_id: str
    tab: str  # the tab name as written in the workbook
    row: int | None  # the sheet row the user sees (1-based); None for a whole tab or column
    column: str  # the header (or Profil label) as written; the contract's name when missing
    code: str | None  # the issue code expected (issue.CATALOG); None: no issue, kept as typed
    value: Any = None  # what was written there


@dataclass(frozen=True)
class DemoCoop:
    """One cooperative of the sample city, as planned."""

    id: str
    nama: str
    kelurahan: str
    kecamatan: str
    kode_wilayah: str
    workbook: Path
    penanggung_jawab: str
    kind: str  # a key of KINDS
    status: str  # Status Operasional as intended
    planned_zone: str  # Merah / Kuning / Hijau under PRODUCT.md's default thresholds
    edited: datetime  # the workbook's mtime, in WIB


@dataclass(frozen=True)
class _Plan:
    index: int
    seed: int
    as_of: date
    run_kode: str
    coop: DemoCoop
    email: str
    ketua: str
    mistakes: tuple[str, ...]
    shared: tuple[tuple[str, str, bool], ...]  # (nik, nama, female) also in another cooperative


def _plan_city(
    run_kode: str,
    villages: list[wilayah.Region],
    root: Path,
    *,
    size: int,
    seed: int,
    as_of: date,
    mistakes: bool,
) -> tuple[list[_Plan], list[tuple[str, str]]]:
    """A plan per cooperative, and the (name, email) of each one's penanggung jawab."""
    n = len(villages)
    rng = random.Random(f"kkmp-demo:{seed}:{run_kode}")
    picks = [villages[i * n // size] if size <= n else villages[i % n] for i in range(size)]
    kinds = _deal_kinds(rng, size, urban=sum(v.is_kelurahan for v in villages) * 2 > n)
    staff = _staff(rng, [v.kode.rsplit(".", 1)[0] for v in picks])
    coops, emails, taken = [], [], set()
    for i, (village, kind) in enumerate(zip(picks, kinds, strict=True)):
        suffix = f"-{i // n + 1}" if i >= n else ""
        coop_id = f"KKMP-{village.kode.replace('.', '')}{suffix}"
        jenis = "Kelurahan" if village.is_kelurahan else "Desa"
        kecamatan = village.kode.rsplit(".", 1)[0]
        coops.append(
            DemoCoop(
                id=coop_id,
                nama=f"Koperasi {jenis} Merah Putih {village.nama}{suffix.replace('-', ' ')}",
                kelurahan=village.nama,
                kecamatan=wilayah.name(kecamatan) or kecamatan,
                kode_wilayah=village.kode,
                workbook=root / "workbooks" / f"{coop_id}.xlsx",
                penanggung_jawab=staff[i][0],
                kind=kind,
                status=KINDS[kind][0],
                planned_zone=KINDS[kind][1],
                edited=_edited(rng, kind, as_of),
            )
        )
        email = f"kkmp.{_slug(village.nama)}{suffix[1:]}@{EMAIL_DOMAIN}"
        if email in taken:  # another village of the same name: add the code
            email = email.replace("@", f".{coop_id[5:]}@")
        taken.add(email)
        emails.append(email)
    dealt, shared = _deal_mistakes(rng, coops, as_of) if mistakes else ({}, {})
    ketua = [f"{g} {f}" for g, f in cat.official_names()]
    plans = [
        _Plan(i, seed, as_of, run_kode, c, emails[i], rng.choice(ketua),
              tuple(dealt.get(i, ())), tuple(shared.get(i, ())))
        for i, c in enumerate(coops)
    ]  # fmt: skip
    return plans, staff


def _deal_kinds(rng: random.Random, size: int, urban: bool) -> list[str]:
    """Kinds in the planned proportions (largest remainder), in a random order."""
    exact = {k: size * (v[2] if urban else v[3]) / 100 for k, v in KINDS.items()}
    counts = {k: math.floor(x) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: counts[k] - exact[k])[: size - sum(counts.values())]:
        counts[k] += 1
    kinds = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(kinds)
    return kinds


def _edited(rng: random.Random, kind: str, as_of: date) -> datetime:
    """When a pengurus last edited the workbook: most this week, some weeks ago, a few long ago."""
    fresh, late, stale = (
        rng.choice((0, 1, 1, 2, 2, 3, 4, 5, 6)),
        rng.randint(16, 27),
        rng.randint(33, 58),
    )
    roll = rng.random()
    days = {
        "lambat": late,
        "terbengkalai": stale,
        "berhenti": stale if roll < 0.7 else late,
        "persiapan": fresh if roll < 0.6 else late if roll < 0.85 else stale,
    }.get(kind, fresh)
    clock = time(rng.randint(6, 10) if days == 0 else rng.randint(7, 21), rng.randint(0, 59))
    return datetime.combine(as_of - timedelta(days=days), clock, WIB)


def _staff(rng: random.Random, kecamatan: list[str]) -> list[tuple[str, str]]:
    """4–6 office staff; each is penanggung jawab for the cooperatives of a run of kecamatan."""
    people = rng.sample(cat.official_names(), rng.randint(4, 6))
    titles = (", S.E.", ", S.Sos.", ", S.AP.", ", M.M.", "")
    staff = [
        (f"{g} {f}{rng.choice(titles)}", f"{g}.{f}@{OFFICE_DOMAIN}".lower()) for g, f in people
    ]
    owner, before = {}, 0
    for k in sorted(set(kecamatan)):  # contiguous kecamatan, balanced by number of cooperatives
        owner[k] = staff[before * len(staff) // len(kecamatan)]
        before += kecamatan.count(k)
    return [owner[k] for k in kecamatan]


def _deal_mistakes(
    rng: random.Random, coops: list[DemoCoop], as_of: date
) -> tuple[dict[int, list[str]], dict[int, list[tuple[str, str, bool]]]]:
    """Which cooperatives get which mistakes: each kind about once per 56 cooperatives, mostly in
    a careless ~30% of them, and a Galat only where the planned zone is not Hijau."""
    size = len(coops)
    careless = set(rng.sample(range(size), max(1, size * 3 // 10)))
    dealt: dict[int, list[str]] = defaultdict(list)
    shared: dict[int, list[tuple[str, str, bool]]] = defaultdict(list)
    for name, (_, eligible) in MISTAKES.items():
        pool = [i for i, c in enumerate(coops) if c.kind in eligible]
        for _ in range(max(1, round(size / 56))):
            fits = [i for i in pool if name not in dealt[i]]
            if not fits or (name == "nik-elsewhere" and size < 2):
                break
            i = rng.choice([i for i in fits if i in careless and len(dealt[i]) < 4] or fits)
            dealt[i].append(name)
            if name == "nik-elsewhere":  # the same person, also a member of a neighbour
                others = [j for j in range(size) if j != i]
                j = rng.choice(
                    [j for j in others if coops[j].kecamatan == coops[i].kecamatan] or others
                )
                female = rng.random() < 0.55
                kec = coops[i].kode_wilayah[:8].replace(".", "")
                person = (cat.nik(rng, kec, female, as_of), cat.person_name(rng, female), female)
                shared[i].append(person)
                shared[j].append(person)
    return dealt, shared


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())
