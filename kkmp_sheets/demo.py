"""A realistic sample city: a config, a registry and one workbook per cooperative.

`build_demo_city(root)` writes, under `root`:
- `city.toml`, the smallest local configuration of PRODUCT.md;
- `registry.csv`, one row per cooperative, with real Kemendagri kelurahan/desa codes and names;
- `workbooks/KKMP-<kode>.xlsx`, one per cooperative, typed the way pengurus type: contract headers
  or their aliases, title rows, extra columns and tabs, dates and amounts in the forms PRODUCT.md
  lists, and (with `mistakes=True`) deliberate mistakes in a minority of cooperatives, each
  recorded in `DemoCity.seeded` with the row the user sees.

Each cooperative gets a *kind* (how far along it is) that decides its planned zone under the
default thresholds of PRODUCT.md "Zones". A mistake that makes a `Galat` is only seeded where the
planned zone is Kuning or Merah already, so seeding never changes a zone. Everything is drawn from
`random.Random` seeded by (seed, region) for the plan and (seed, cooperative index) per workbook,
so a seed gives the same files whatever `workers` is (byte-identical: xlsxwriter writes fixed zip
timestamps, and the creation time is set).

Members are synthetic: random combinations of common names, and random NIKs that are well-formed
(a real kecamatan code, a birth date with +40 for women, a serial).
"""

from __future__ import annotations

import csv
import math
import os
import random
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from kkmp_sheets import demo_data as dd
from kkmp_sheets import template, wilayah

WIB = timezone(timedelta(hours=7), "WIB")
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
FORMULA_TEXT = '=HYPERLINK("http://contoh.id","Promo")'
_CATEGORY_CODE = {"Beras": "BRS", "Minyak Goreng": "MYK", "Gula": "GLA", "Telur": "TLR",
                  "Tepung": "TPG", "LPG": "LPG", "Lainnya": "LN"}  # fmt: skip
_MEMBER_MISTAKES = (
    "nik-number",
    "nik-15",
    "nik-birthdate",
    "member-id-dup",
    "nik-dup",
    "nama-empty",
)
_ENGLISH_TABS = {"Members", "Savings", "Stock", "Sales", "Profile"}


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


@dataclass
class DemoCity:
    """What `build_demo_city` wrote. `people` and `seeded` are for tests: privacy tests scan outputs
    for the members' NIKs and names (and the personal values in `seeded`); pipeline tests expect
    each seeded issue code at its row."""

    root: Path
    config_path: Path
    registry_path: Path
    workbooks: list[Path]
    people: list[tuple[str, str]]  # (nik, nama) of every generated member
    seeded: list[SeededMistake]
    coops: list[DemoCoop] = field(default_factory=list)


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


@dataclass
class _Built:
    people: list[tuple[str, str]]
    seeded: list[SeededMistake]
    niks: list[tuple[str, int]]  # the NIKs written as 16-digit text, with their sheet rows
    nik_tab: str
    nik_header: str


# ------------------------------------------------------------------------------ the city


def build_demo_city(
    root: Path,
    *,
    kode: str = "31.73",
    size: int | None = None,
    seed: int = 2026,
    as_of: date = date(2026, 1, 29),
    mistakes: bool = True,
    workers: int = 1,
) -> DemoCity:
    """Write a sample city under `root` (see the module docstring) and describe what was written.

    `kode` is a kabupaten/kota (`31.73`) or a province (`32`); `size` the number of cooperatives
    (default: one per desa/kelurahan; fewer are spread over the region, more reuse villages with
    an id suffix `-2`, `-3`). `as_of` is a date in Asia/Jakarta: records are dated on or before
    their workbook's mtime (but for a seeded future date), which is set 0–60 days before it.
    `workers` > 1 writes the workbooks in that many processes, with the same result. Files of the
    same names are overwritten; nothing else is removed.
    """
    region = wilayah.get(kode)
    villages = wilayah.villages(region.kode) if region and region.level <= 2 else []
    if region is None or not villages:
        raise ValueError(f"kode {kode!r} is not a province or kabupaten/kota code (e.g. 31.73)")
    n = len(villages)
    size = n if size is None else size
    if size < 1:
        raise ValueError("size must be at least 1")
    root = Path(root)
    (root / "workbooks").mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"kkmp-demo:{seed}:{region.kode}")
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
    ketua = [f"{g} {f}" for g, f in dd.official_names()]
    plans = [
        _Plan(i, seed, as_of, region.kode, c, emails[i], rng.choice(ketua),
              tuple(dealt.get(i, ())), tuple(shared.get(i, ())))
        for i, c in enumerate(coops)
    ]  # fmt: skip
    if workers > 1 and size > 1:
        _kecamatan_prefixes(region.kode)  # read the region list once, before the workers fork
        _outside_prefixes(region.kode)
        with Pool(min(workers, size)) as pool:
            built = pool.map(_build_coop, plans, chunksize=max(1, size // (workers * 16)))
    else:
        built = [_build_coop(p) for p in plans]
    seeded = [s for b in built for s in b.seeded]
    seeded += _accidental_shared_niks(coops, built, seeded)
    registry = root / "registry.csv"
    with registry.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow([c.label for c in template.REGISTRY.columns])
        for c, email, (pj, pj_email) in zip(coops, emails, staff, strict=True):
            path = c.workbook.relative_to(root).as_posix()
            out.writerow(
                [c.id, c.nama, c.kelurahan, c.kecamatan, c.kode_wilayah, path, email, pj, pj_email]
            )
    config = root / "city.toml"
    config.write_text(_CONFIG.format(name=region.nama, kode=region.kode), encoding="utf-8")
    people = [p for b in built for p in b.people]
    workbooks = [c.workbook for c in coops]
    return DemoCity(root, config, registry, workbooks, people, seeded, coops)


_CONFIG = """\
# city.toml — paths are relative to this file
[city]
name = "{name}"
kode_wilayah = "{kode}"

[source]
kind = "local"              # or "google"
registry = "registry.csv"   # columns as in "The registry"; Spreadsheet = path of the .xlsx

[output]
kind = "local"              # or "google"
path = "out/status-kota.xlsx"

[mail]
kind = "outbox"             # or "smtp"
dir = "out/outbox"
"""


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
    people = rng.sample(dd.official_names(), rng.randint(4, 6))
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
                person = (dd.nik(rng, kec, female, as_of), dd.person_name(rng, female), female)
                shared[i].append(person)
                shared[j].append(person)
    return dealt, shared


def _accidental_shared_niks(
    coops: list[DemoCoop], built: list[_Built], seeded: list[SeededMistake]
) -> list[SeededMistake]:
    """NIKs that random drawing happened to give to members of two cooperatives (rare, but likely
    in a province): the checker will rightly report them, so they are listed as well."""
    where: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for i, b in enumerate(built):
        for nik, row in b.niks:
            where[nik].append((i, row))
    known = {(s.coop_id, s.row) for s in seeded if s.code == "nik-elsewhere"}
    return [
        SeededMistake(coops[i].id, built[i].nik_tab, row, built[i].nik_header, "nik-elsewhere", nik)
        for nik, places in where.items()
        if len({i for i, _ in places}) > 1
        for i, row in places
        if (coops[i].id, row) not in known
    ]


@cache
def _kecamatan_prefixes(run_kode: str) -> dict[str, list[str]]:
    """The kecamatan codes (6 digits) of each kabupaten/kota of the run."""
    found: dict[str, list[str]] = defaultdict(list)
    for kec in sorted({v.kode[:8] for v in wilayah.villages(run_kode)}):
        found[kec[:5]].append(kec.replace(".", ""))
    return found


@cache
def _origin_prefixes() -> tuple[str, ...]:
    """Kecamatan codes (6 digits) of the provinces people commonly move from."""
    found = {v.kode[:8].replace(".", "") for p in dd.ORIGIN_PROVINCES for v in wilayah.villages(p)}
    return tuple(sorted(found))


@cache
def _outside_prefixes(run_kode: str) -> tuple[str, ...]:
    inside = run_kode.replace(".", "")
    return tuple(p for p in _origin_prefixes() if not p.startswith(inside))


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


# ------------------------------------------------------------------------------ one workbook


@dataclass(frozen=True)
class _Typed:
    """A value written exactly as is, not through the cooperative's date or money habit."""

    value: str | float


_TOTAL = object()  # stands for a `=Jumlah*Harga Satuan` formula in the Total column
_EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of spreadsheet date serial numbers
Row = dict[str, Any]


@dataclass
class _Tab:
    name: str
    cols: list[str]  # contract keys (and extra columns) in sheet order
    headers: dict[str, str]
    above: list[str | None]  # rows above the header: titles, None = blank
    rows: list[Row | None] = field(default_factory=list)  # None = a blank row
    money: frozenset[str] = frozenset()

    def sheet_row(self, index: int) -> int:
        return len(self.above) + 2 + index

    def data_rows(self, where: Callable[[Row], bool]) -> list[int]:
        return [i for i, r in enumerate(self.rows) if r is not None and where(r)]


@dataclass
class _Member:
    id: str | int
    join: date
    left: date | None
    row: int  # index in the Anggota rows


def _build_coop(plan: _Plan) -> _Built:
    return _Book(plan).build()


def _anything(row: Row) -> bool:
    return True


class _Book:
    """One cooperative's workbook: its habits, its records, its mistakes, then the file."""

    def __init__(self, plan: _Plan) -> None:
        self.plan, self.coop, self.kind, self.todo = plan, plan.coop, plan.coop.kind, plan.mistakes
        self.rng = rng = random.Random(f"kkmp-demo:{plan.seed}:{plan.index}")
        self.seeded: list[SeededMistake] = []
        self.people: list[tuple[str, str]] = []
        self.date_style = _weighted(rng, dd.DATE_STYLES)
        self.money_style = _weighted(rng, dd.MONEY_STYLES)
        self.upper_names = rng.random() < 0.3  # typed in capitals, as on the KTP
        self.upper_headers = rng.random() < 0.2
        self.tidy = rng.random() < 0.4  # no title rows anywhere
        self.short = f"KKMP {self.coop.kelurahan.upper()}"
        self.jenis_desa = "Kelurahan" if "Kelurahan" in self.coop.nama else "Desa"
        self.scale = 1.0 if self.jenis_desa == "Kelurahan" else 0.5  # a desa is smaller
        as_of, self.edit = plan.as_of, self.coop.edited.date()
        self.musyawarah = as_of - timedelta(days=rng.randint(200, 290))
        self.mulai = self.last_sale = None
        if self.kind != "persiapan":
            began = as_of - timedelta(days=rng.randint(*_STARTED.get(self.kind, (100, 175))))
            self.mulai = max(self.musyawarah + timedelta(days=30), began)
            until = _SOLD_UNTIL.get(self.kind)
            last = as_of - timedelta(days=rng.randint(*until)) if until else self.edit
            self.last_sale = min(self.edit, last)

    def build(self) -> _Built:
        self._layout()
        self._anggota()
        self._simpanan()
        self._stok()
        self._penjualan()
        self._profil()
        self._structure()
        self._write()
        niks = []  # for the check across cooperatives
        for i in self.anggota.data_rows(_anything):
            nik = (self.anggota.rows[i] or {})["nik"]
            if type(nik) is str and len(nik) == 16:
                niks.append((nik, self.anggota.sheet_row(i)))
        return _Built(
            self.people, self.seeded, niks, self.anggota.name, self.anggota.headers["nik"]
        )

    # -- layout: tab names, headers, optional and extra columns, title rows

    def _tab(self, spec: template.TableSpec, drop: set[str], extra: str, title: str) -> _Tab:
        rng = self.rng
        names = [spec.name, *(a for a in spec.aliases if a not in _ENGLISH_TABS)]
        name = spec.name if rng.random() < 0.75 else rng.choice(names)
        cols = [c.key for c in spec.columns if c.key not in drop]
        if rng.random() < 0.15:  # two neighbouring columns the other way round
            k = rng.randrange(len(cols) - 1)
            cols[k], cols[k + 1] = cols[k + 1], cols[k]
        headers = {}
        for c in spec.columns:
            text = c.label if rng.random() < 0.7 else rng.choice((c.label, *c.aliases))
            headers[c.key] = text.upper() if self.upper_headers else text
        if extra:
            cols.insert(len(cols) if rng.random() < 0.7 else 2, extra.lower())
            headers[extra.lower()] = extra
        where = f"{self.jenis_desa} {self.coop.kelurahan}, Kecamatan {self.coop.kecamatan}"
        roll = 1.0 if self.tidy else rng.random()
        choices: list[list[str | None]] = [[title], [title, None], [title, where, None], []]
        above = choices[sum(roll >= p for p in (0.35, 0.6, 0.75))]
        return _Tab(name.upper() if rng.random() < 0.1 else name, cols, headers, above)

    def _layout(self) -> None:
        rng, todo = self.rng, self.todo

        def drop(p: float, *keys: str) -> set[str]:  # an optional column kept with probability p
            return set(keys) if rng.random() > p else set()

        def extra(p: float, name: str) -> str:
            return name if rng.random() < p else ""

        drop_a = (
            drop(0.8, "rt", "rw") | drop(0.85, "telepon") | drop(0.9, "status", "tanggal_keluar")
        )
        drop_s = drop(0.6, "keterangan") if "emoji" not in todo else set()
        drop_k = (
            drop(0.9, "kategori")
            | drop(0.6, "stok_minimum")
            | drop(0.8, "pemasok")
            | drop(0.5, "konsinyasi")
        )
        drop_p = drop(0.9, "no_nota") | (
            drop(0.5, "total") if "total-mismatch" not in todo else set()
        )
        drop_p |= drop(0.85, "jenis_pembeli", "no_anggota") or drop(0.8, "no_anggota")
        s = self.short
        self.anggota = self._tab(
            template.ANGGOTA, drop_a, extra(0.2, "Catatan"), f"DAFTAR ANGGOTA {s}"
        )
        self.simpanan = self._tab(
            template.SIMPANAN, drop_s, extra(0.1, "Petugas"), f"BUKU SIMPANAN ANGGOTA {s}"
        )
        self.stok = self._tab(
            template.STOK, drop_k, extra(0.15, "Keterangan"), f"STOK BARANG GERAI {s}"
        )
        self.penjualan = self._tab(
            template.PENJUALAN, drop_p, extra(0.1, "Kasir"), f"PENJUALAN HARIAN {s}"
        )
        self.simpanan.money = frozenset({"jumlah"})
        self.stok.money = frozenset({"harga_beli", "harga_jual"})
        self.penjualan.money = frozenset({"harga_satuan", "total"})
        labels = rng.choice(
            (("Data", "Isi"), ("Data", "Isi"), ("Keterangan", "Isi"), ("Data", "Nilai"))
        )
        above = (
            [] if self.tidy or rng.random() < 0.5 else [f"PROFIL {self.coop.nama.upper()}", None]
        )
        name = (
            template.PROFIL.name if rng.random() < 0.8 else rng.choice(template.PROFIL.aliases[::2])
        )
        self.profil = _Tab(name, ["label", "isi"], {"label": labels[0], "isi": labels[1]}, above)

    # -- records, each tab followed by its mistakes

    def _pick(self, tab: _Tab, where: Callable[[Row], bool] = _anything) -> tuple[int, Row]:
        """A random data row (one matching `where` if any does) and its index."""
        i = self.rng.choice(tab.data_rows(where) or tab.data_rows(_anything))
        return i, tab.rows[i] or {}

    def _seed(self, tab: _Tab, index: int | None, key: str, mistake: str, value: Any) -> None:
        row = None if index is None else tab.sheet_row(index)
        label = (tab.rows[index] or {}).get("label") if index is not None else None
        header = label or tab.headers.get(key, key)
        code = MISTAKES[mistake][0] if mistake in MISTAKES else mistake
        self.seeded.append(SeededMistake(self.coop.id, tab.name, row, header, code, value))

    def _fmt_id(self, n: int) -> str | int:
        if self.id_style == "int":
            return n
        return {"A": f"A-{n:04d}", "pad": f"{n:03d}"}.get(self.id_style, f"{self.initials}-{n:03d}")

    def _anggota(self) -> None:
        rng, plan, coop, tab = self.rng, self.plan, self.coop, self.anggota
        self.id_style = _weighted(rng, (("A", 30), ("pad", 25), ("village", 25), ("int", 20)))
        words = [w for w in coop.kelurahan.replace("-", " ").split() if w[:1].isalpha()]
        self.initials = (
            "".join(w[0] for w in words) if len(words) > 1 else coop.kelurahan[:3]
        ).upper()
        lo, hi, typical = MEMBERS[self.kind]
        n = min(hi, max(lo, int(rng.lognormvariate(math.log(typical * self.scale), 0.4))))
        founders = max(9, int(n * rng.uniform(0.2, 0.4)))
        span = max(1, (self.edit - self.musyawarah).days)
        joins = sorted(
            self.musyawarah + timedelta(days=0 if k < founders else rng.randint(1, span))
            for k in range(n)
        )
        own = coop.kode_wilayah[:8].replace(".", "")
        neighbours = _kecamatan_prefixes(plan.run_kode)[coop.kode_wilayah[:5]]
        outside = _outside_prefixes(plan.run_kode)
        may_leave = n - 108 if KINDS[self.kind][1] == "Hijau" else n // 10  # keep ≥100 active
        may_leave *= self.kind != "persiapan" and "status" in tab.cols
        gap_after = founders if rng.random() < 0.15 else -1  # a blank row after the founders
        rt_text = rng.random() < 0.7
        sexes = ("Perempuan", "Laki-laki") if rng.random() < 0.2 else ("P", "L")
        explicit_status = rng.random() < 0.4
        seen: set[str] = set()
        self.members: list[_Member] = []
        for k, join in enumerate(joins):
            female = rng.random() < 0.55
            roll = rng.random()
            kec = own if roll < 0.75 else rng.choice(neighbours if roll < 0.9 else outside)
            nik = dd.nik(rng, kec, female, plan.as_of)
            while nik in seen:
                nik = dd.nik(rng, kec, female, plan.as_of)
            seen.add(nik)
            left = None
            if may_leave > 0 and rng.random() < 0.03 and (self.edit - join).days > 40:
                left, may_leave = (
                    join + timedelta(days=rng.randint(30, (self.edit - join).days)),
                    may_leave - 1,
                )
            name = ("Hj. " if female else "H. ") * (rng.random() < 0.03) + dd.person_name(
                rng, female
            )
            name = name.upper() if self.upper_names else name
            rt, rw = rng.randint(1, 15), rng.randint(1, 12)
            tab.rows.append({
                "no_anggota": self._fmt_id(k + 1), "nama": name, "nik": nik,
                "jenis_kelamin": sexes[not female],
                "tanggal_masuk": join,
                "rt": f"{rt:03d}" if rt_text else rt, "rw": f"{rw:03d}" if rt_text else rw,
                "telepon": dd.phone(rng) if rng.random() < 0.85 else None,
                "status": "Keluar" if left else "Aktif" if explicit_status else None,
                "tanggal_keluar": left,
                "catatan": rng.choice(dd.CATATAN) if rng.random() < 0.08 else None,
            })  # fmt: skip
            self.members.append(_Member(self._fmt_id(k + 1), join, left, len(tab.rows) - 1))
            self.people.append((nik, name))
            if k + 1 == gap_after:
                tab.rows.append(None)
        shared = {nik for nik, _, _ in self.plan.shared}
        for nik, name, female in self.plan.shared:  # also a member of another cooperative
            m = rng.choice(self.members[founders:] or self.members)
            row = tab.rows[m.row] or {}
            name = name.upper() if self.upper_names else name
            row.update(nik=nik, nama=name, jenis_kelamin=sexes[not female])
            self.people.append((nik, name))
            self._seed(tab, m.row, "nik", "nik-elsewhere", nik)

        touched: set[int] = set()  # rows a mistake was already made in

        def plain(r: Row) -> bool:
            return id(r) not in touched and r["nik"] not in shared

        for mistake in self.todo:
            if mistake not in _MEMBER_MISTAKES:
                continue
            first, i = sorted(rng.sample(tab.data_rows(plain), 2))  # i: the row to spoil
            row = tab.rows[i] or {}
            touched.update((id(row), id(tab.rows[first])))
            nik = row["nik"]
            if mistake == "nik-number":  # typed into a Number cell: Excel keeps 15 digits
                row["nik"] = _Typed(float(int(nik) // 10 * 10))
            elif mistake == "nik-15":
                cut = rng.randint(12, 15)
                row["nik"] = nik[:cut] + nik[cut + 1 :]
            elif mistake == "nik-birthdate":
                row["nik"] = f"{nik[:6]}{rng.randint(32, 39)}{nik[8:]}"
            elif mistake == "nama-empty":
                row["nama"] = None
            else:  # a later row repeats an earlier one's No Anggota, or the whole person
                earlier = tab.rows[first] or {}
                if mistake == "member-id-dup":
                    row["no_anggota"] = earlier["no_anggota"]
                    next(m for m in self.members if m.row == i).id = earlier["no_anggota"]
                else:
                    row.update(nik=earlier["nik"], nama=earlier["nama"])
                    row["jenis_kelamin"] = earlier["jenis_kelamin"]
                    self.people.append((row["nik"], row["nama"]))
            key = {"nama-empty": "nama", "member-id-dup": "no_anggota"}.get(mistake, "nik")
            value = row[key].value if isinstance(row[key], _Typed) else row[key]
            self._seed(tab, i, key, mistake, value)

    def _simpanan(self) -> None:
        rng, tab = self.rng, self.simpanan
        self.pokok = rng.choice((50_000, 100_000, 100_000, 100_000, 150_000, 200_000))
        self.wajib = rng.choice((10_000, 10_000, 15_000, 20_000, 20_000, 25_000, 50_000))
        case = rng.choice((str, str, str.upper, str.lower))
        jenis = {j: case(j) for j in template.JENIS_SIMPANAN}
        entries: list[tuple[date, int, str | int, str, int, str | None]] = []
        for seq, m in enumerate(self.members):
            end = min(self.edit, m.left or self.edit)
            entries.append((m.join, seq, m.id, "Pokok", self.pokok, None))
            habit = rng.random()  # pays every month, stopped after a few, or never
            months = 99 if habit < 0.8 else rng.randint(1, 3) if habit < 0.93 else 0
            months *= self.kind != "persiapan" or habit > 0.4
            # monthly, or a few months at once (in a desa often after the harvest)
            step = 1 if rng.random() < 0.5 * self.scale else rng.choice((2, 3, 3))
            month = m.join.year * 12 + m.join.month - 1  # the first month not yet paid
            while months > 0:
                k = min(step, months)
                y, mo = divmod(month + k - 1, 12)
                paid = max(m.join, date(y, mo + 1, rng.randint(1, 20)))
                if paid > end:
                    break
                note = f"Wajib {dd.BULAN[month % 12]}" if rng.random() < 0.2 else None
                entries.append((paid, seq, m.id, "Wajib", self.wajib * k, note))
                month, months = month + k, months - k
            for _ in range(rng.randint(1, 3) if rng.random() < 0.15 else 0):
                when = m.join + timedelta(days=rng.randint(0, (end - m.join).days))
                amount = rng.choice(
                    (20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 1_500_000)
                )
                entries.append((when, seq, m.id, "Sukarela", amount, None))
        entries.sort(key=lambda e: (e[0], e[1]))
        gaps, previous = rng.random() < 0.1, entries[0][0]  # gaps: a blank row between months
        for when, _, member, kind, amount, note in entries:
            if gaps and (previous.year, previous.month) != (when.year, when.month):
                tab.rows.append(None)
            previous = when
            note = note or (rng.choice(dd.KETERANGAN) if rng.random() < 0.1 else None)
            tab.rows.append(
                {
                    "tanggal": when,
                    "no_anggota": member,
                    "jenis": jenis[kind],
                    "jumlah": amount,
                    "keterangan": note,
                    "petugas": "Bendahara" if rng.random() < 0.5 else None,
                }
            )

        def wajib(r: Row) -> bool:
            return r["jenis"] == jenis["Wajib"]

        for mistake in self.todo:
            if mistake == "date-unreadable":
                i, row = self._pick(tab, wajib)
                text = dd.impossible_date(row["tanggal"].year, self.date_style)
                row["tanggal"] = _Typed(text)
                self._seed(tab, i, "tanggal", mistake, text)
            elif mistake == "jenis-unknown":
                i, row = self._pick(tab, wajib)
                row["jenis"] = "Wajb"
                self._seed(tab, i, "jenis", mistake, "Wajb")
            elif mistake == "member-unknown":
                i, row = self._pick(tab, wajib)
                row["no_anggota"] = stranger = self._fmt_id(len(self.members) + rng.randint(20, 80))
                self._seed(tab, i, "no_anggota", mistake, stranger)
            elif mistake == "emoji":
                i, row = self._pick(tab)
                row["keterangan"] = text = rng.choice(
                    ("Lunas 👍", "Alhamdulillah 🙏", "Setor via HP 📱✅")
                )
                self._seed(tab, i, "keterangan", mistake, text)
            elif mistake == "future-date" and self.last_sale is None:
                self._future(tab, _anything)

    def _future(self, tab: _Tab, where: Callable[[Row], bool]) -> None:
        """A year typed one too high: a date after as_of."""
        i, row = self._pick(tab, lambda r: type(r["tanggal"]) is date and where(r))
        row["tanggal"] = when = max(
            row["tanggal"] + timedelta(days=365), self.plan.as_of + timedelta(days=30)
        )
        self._seed(tab, i, "tanggal", "future-date", when)

    def _stok(self) -> None:
        rng, tab, kind = self.rng, self.stok, self.kind
        core = [g for g in dd.GOODS if g.key in dd.CORE_GOODS]
        others = [g for g in dd.GOODS if g.key not in dd.CORE_GOODS]
        if kind == "persiapan":  # perhaps a first delivery from Bulog, perhaps nothing yet
            goods = rng.sample(core, rng.randint(2, 4)) if rng.random() < 0.5 else []
        else:
            core = rng.sample(core, rng.randint(3, 5)) if kind == "baru" else core
            goods = core + rng.sample(
                others, rng.randint(3, 12 if kind in ("mapan", "lambat") else 7)
            )
        goods.sort(key=dd.GOODS.index)
        scheme = rng.choice(("cat", "seq", "num", "key"))
        case = str.upper if rng.random() < 0.25 else str
        yes, no = ("Ya", "Tidak") if rng.random() < 0.8 else ("Y", "T")
        counters: dict[str, int] = defaultdict(int)

        def code(g: dd.Good, idx: int) -> str:
            counters[g.kategori] += 1
            return {
                "cat": f"{_CATEGORY_CODE[g.kategori]}-{counters[g.kategori]:02d}",
                "seq": f"B{idx + 1:03d}",
                "num": str(1001 + idx),
            }.get(scheme, g.key)

        self.goods: list[tuple[str, dd.Good, int]] = []  # (Kode Barang, good, Harga Jual)
        for idx, g in enumerate(goods):
            beli, jual = dd.price(rng, g)
            kategori = {"Minyak Goreng": "Minyak", "Tepung": "Terigu"}.get(g.kategori, g.kategori)
            low, high = (2, g.stok[0]) if kind == "persiapan" else g.stok
            tab.rows.append({
                "kode_barang": code(g, idx), "nama_barang": case(g.nama),
                "kategori": case(kategori if rng.random() < 0.15 else g.kategori),
                "satuan": g.satuan,
                "jumlah_stok": rng.randint(low, high), "harga_beli": beli, "harga_jual": jual,
                "stok_minimum": max(2, g.stok[0] // 2), "pemasok": rng.choice(g.pemasok),
                "konsinyasi": yes if g.konsinyasi else no if rng.random() < 0.6 else None,
                "keterangan": "Titipan UMKM" if g.konsinyasi and rng.random() < 0.5 else None,
            })  # fmt: skip
            self.goods.append(((tab.rows[-1] or {})["kode_barang"], g, jual))
        self.unknown_code = code(dd.UNSTOCKED, len(goods))
        for mistake in self.todo if tab.rows else ():
            if mistake == "stock-negative":
                i, row = self._pick(tab)
                row["jumlah_stok"] = qty = -rng.randint(2, 12)
                self._seed(tab, i, "jumlah_stok", mistake, qty)
            elif mistake == "harga-beli-empty":
                i, row = self._pick(tab)
                row["harga_beli"] = None
                self._seed(tab, i, "harga_beli", mistake, None)
            elif mistake == "formula-text":  # a promotion link pasted over a name
                i, row = self._pick(tab, lambda r: r["kategori"].lower() == "lainnya")
                row["nama_barang"] = FORMULA_TEXT
                self._seed(tab, i, "nama_barang", mistake, FORMULA_TEXT)

    def _penjualan(self) -> None:
        rng, tab, kind = self.rng, self.penjualan, self.kind
        self.sppg = rng.random() < _SPPG_ODDS.get(kind, 0)  # supplies an SPPG kitchen (MBG)
        self.formula_total = self.money_style == "number" and rng.random() < 0.35
        if self.last_sale is None or self.mulai is None or not self.goods:
            return
        start = max(self.mulai, self.last_sale - timedelta(days=rng.randint(60, 90)))
        mean = NOTAS_PER_DAY.get(kind, 2) * self.scale * rng.uniform(0.7, 1.3)
        closed_sunday, nota_style = rng.random() < 0.3, rng.choice(("day", "seq", "inv", "seq"))
        case = rng.choice((str, str, str, str.lower))
        buyers = {b: b if b == "SPPG" else case(b) for b in template.JENIS_PEMBELI}
        weights = [3 if g.key in dd.CORE_GOODS else 1 for _, g, _ in self.goods]
        bulk = [x for x in self.goods if x[1].grosir[1]]
        joins = [m.join for m in self.members]
        seq, day = 0, start
        while day <= self.last_sale:
            last = day == self.last_sale
            n = max(int(last), round(rng.gauss(mean, mean * 0.3)))
            if not last and ((closed_sunday and day.weekday() == 6) or rng.random() < 0.04):
                n = 0
            sppg = self.sppg and day.weekday() < 5 and rng.random() < 0.35  # a kitchen's order
            for k in range(n + sppg):
                seq += 1
                nota = {
                    "day": f"{day:%y%m%d}-{k + 1:02d}",
                    "inv": f"INV/{day:%Y/%m}/{seq:04d}",
                }.get(nota_style, f"{seq:05d}")
                roll = rng.random()
                buyer = "Anggota" if roll < 0.48 else "Umum" if roll < 0.92 else "Mitra"
                buyer = "SPPG" if k == n else buyer
                joined = bisect_right(joins, day)  # members who had joined by that day
                member = self.members[rng.randrange(joined)].id if joined else None
                if buyer != "Anggota":
                    member = None
                elif member is None:
                    buyer = "Umum"
                wholesale = buyer in ("SPPG", "Mitra") and bool(bulk)
                if wholesale:
                    lines = rng.sample(bulk, min(len(bulk), rng.randint(1, 3)))
                else:
                    basket = rng.choices(self.goods, weights, k=rng.choice((1, 1, 1, 1, 2, 2, 3)))
                    lines = list(dict.fromkeys(basket))
                for code, g, price in lines:
                    qty = rng.randint(*(g.grosir if wholesale else g.eceran))
                    tab.rows.append({
                        "tanggal": day, "no_nota": nota, "kode_barang": code, "jumlah": qty,
                        "harga_satuan": price,
                        "total": _TOTAL if self.formula_total else qty * price,
                        "jenis_pembeli": buyers[buyer], "no_anggota": member,
                        "kasir": "Kasir 1" if rng.random() < 0.7 else "Kasir 2",
                    })  # fmt: skip
            day += timedelta(days=1)

        def earlier(r: Row) -> bool:  # keeps the last sale's date where it is
            return r["tanggal"] != self.last_sale

        for mistake in self.todo:
            if mistake == "item-unknown":  # sold, but never entered in Stok
                i, row = self._pick(tab, lambda r: r["jenis_pembeli"] != "SPPG")
                price = dd.UNSTOCKED.jual
                row.update(kode_barang=self.unknown_code, harga_satuan=price, jumlah=1)
                row["total"] = _TOTAL if row["total"] is _TOTAL else price
                self._seed(tab, i, "kode_barang", mistake, self.unknown_code)
            elif mistake == "total-mismatch":  # one more typed than sold
                i, row = self._pick(tab, earlier)
                row["total"] = total = (row["jumlah"] + 1) * row["harga_satuan"]
                self._seed(tab, i, "total", mistake, total)
            elif mistake == "future-date":
                self._future(tab, earlier)

    def _profil(self) -> None:
        rng, c, plan, kind, todo = self.rng, self.coop, self.plan, self.kind, self.todo
        odds = {
            "persiapan": {"nib": 0.85, "npwp": 0.8, "bank": 0.5, "sk": 0.25, "nikop": 0.6},
            "baru": {"nib": 0.3, "npwp": 0.5, "bank": 0.3, "nikop": 0.4},
            "mapan": {},
            "lambat": {},
        }.get(kind, {"nib": 0.3, "npwp": 0.3, "bank": 0.3, "nikop": 0.2})
        gaps = {paper for paper, p in odds.items() if rng.random() < p}
        filled = {"nib-12": "nib", "npwp-15": "npwp", "sk-ahu": "sk"}  # a mistake writes these
        if kind == "berkembang":  # exactly one of NIB/NPWP/bank missing
            gaps = {
                rng.choice(
                    [p for p in ("nib", "npwp", "bank") if p not in {filled.get(m) for m in todo}]
                )
            }
        gaps -= {filled.get(m) for m in todo}

        def when(d: date | None) -> date | str | None:
            return None if d is None else dd.fmt_date(d, self.date_style)

        bank, account = dd.bank_account(rng, c.kode_wilayah[:2])
        trading = kind != "persiapan"
        units = ["Kantor Koperasi"] + ["Gerai Sembako"] * (trading or rng.random() < 0.5)
        units += [u for u, p in dd.MORE_UNITS if trading and rng.random() < p]
        mitra = ["Bulog"] * (trading or rng.random() < 0.5)
        mitra += [m for m in dd.MITRA if self.goods and rng.random() < 0.4]
        mitra += [f"SPPG {c.kecamatan} {rng.randint(1, 4)}"] * self.sppg
        kota = wilayah.name(c.kode_wilayah[:5]) or ""
        values: dict[str, Any] = {
            "nama_koperasi": c.nama, "kelurahan": c.kelurahan, "kecamatan": c.kecamatan,
            "kota": kota if rng.random() < 0.7 else dd.short_kota(kota),
            "kode_wilayah": c.kode_wilayah if rng.random() < 0.8 else c.id[5:15],
            "tanggal_musyawarah": when(self.musyawarah),
            "nomor_akta": dd.akta(rng, self.musyawarah),
            "nomor_sk_ahu": None if "sk" in gaps else dd.sk_ahu(rng, self.musyawarah.year),
            "nomor_induk_koperasi": None if "nikop" in gaps else dd.digits(rng, 16),
            "nib": None if "nib" in gaps else dd.digits(rng, 13),
            "npwp": None if "npwp" in gaps else dd.npwp(rng),
            "nama_bank": None if "bank" in gaps else bank,
            "nomor_rekening": None if "bank" in gaps else account,
            "alamat_operasional": dd.address(rng, self.jenis_desa, c.kelurahan),
            "titik_lokasi": dd.location(rng, c.kode_wilayah),
            "status_operasional": rng.choice((str, str, str, str.upper))(c.status),
            "tanggal_mulai_operasi": when(self.mulai),
            "tanggal_launching": when(LAUNCHING) if self.musyawarah < LAUNCHING <= plan.as_of
                                 else None,
            "unit_usaha": ", ".join(units),
            "simpanan_pokok": dd.fmt_money(self.pokok, self.money_style, rng),
            "simpanan_wajib_bulanan": dd.fmt_money(self.wajib, self.money_style, rng),
            "nama_ketua": plan.ketua, "telepon_ketua": dd.phone(rng), "email_pengurus": plan.email,
            "mitra": ", ".join(mitra) or None,
        }  # fmt: skip
        wrong = {
            "nib-12": ("nib", dd.digits(rng, 12)),
            "npwp-15": ("npwp", dd.digits(rng, 15)),
            "sk-ahu": (
                "nomor_sk_ahu",
                f"SK-{rng.randint(1, 99_999):05d}/AHU/{self.musyawarah.year}",
            ),
            "status-unknown": ("status_operasional", "Sdh jalan"),
        }
        for f in template.PROFIL.fields:
            names = [n for n in (f.label, *f.aliases) if n != "Desa" or self.jenis_desa == "Desa"]
            label = f.label if rng.random() < 0.75 else rng.choice(names)
            self.profil.rows.append({"key": f.key, "label": label, "isi": values[f.key]})
        for mistake in todo:
            if mistake in wrong:
                key, text = wrong[mistake]
                i = next(i for i, r in enumerate(self.profil.rows) if r and r["key"] == key)
                (self.profil.rows[i] or {})["isi"] = text
                self._seed(self.profil, i, "isi", mistake, text)

    def _structure(self) -> None:
        """A missing tab or column, extra tabs, and the order the tabs are written in."""
        rng = self.rng
        tabs = [self.profil, self.anggota, self.simpanan, self.stok, self.penjualan]
        if "tab-missing" in self.todo:  # not selling yet, so no Penjualan tab at all
            tabs.remove(self.penjualan)
            self.seeded.append(
                SeededMistake(self.coop.id, template.PENJUALAN.name, None, "", "tab-missing")
            )
        if "column-missing" in self.todo:
            stok = bool(self.stok.rows) and rng.random() < 0.5
            tab, spec, key = (
                (self.stok, template.STOK, "satuan")
                if stok
                else (self.anggota, template.ANGGOTA, "tanggal_masuk")
            )
            tab.cols.remove(key)
            self.seeded.append(
                SeededMistake(
                    self.coop.id, tab.name, None, spec.column(key).label, "column-missing"
                )
            )
        self.sheets: list[_Tab | tuple[str, list[list[Any]]]] = list(tabs)
        if rng.random() < 0.1:  # Penjualan before Stok
            self.sheets.sort(key=lambda t: t is self.stok)
        if rng.random() < 0.25:
            self.sheets.append(("Catatan Rapat", dd.meeting_notes(self.musyawarah, self.mulai)))
        if rng.random() < 0.1:
            self.sheets.insert(0, ("Petunjuk", dd.INSTRUCTIONS))

    # -- the file

    def _write(self) -> None:
        path, edited, rng = self.coop.workbook, self.coop.edited, self.rng
        options = {
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        }
        wb = xlsxwriter.Workbook(str(path), {"in_memory": True, **options})
        created = edited.astimezone(UTC).replace(tzinfo=None)
        wb.set_properties(
            {"title": self.coop.nama, "author": f"Pengurus {self.short}", "created": created}
        )
        fmt = {
            "bold": wb.add_format({"bold": True}),
            "date": wb.add_format(
                {"num_format": rng.choice(("dd/mm/yyyy", "d mmm yyyy", "dd-mm-yyyy"))}
            ),
            "money": wb.add_format({"num_format": "#,##0"}),
            "text": wb.add_format({"num_format": "@"}),
        }
        for sheet in self.sheets:
            if isinstance(sheet, _Tab):
                self._write_tab(wb, sheet, fmt)
                continue
            ws = wb.add_worksheet(sheet[0])
            ws.set_column(0, 2, 28)
            for r, line in enumerate(sheet[1]):
                for col, v in enumerate(line):
                    if isinstance(v, date):
                        ws.write_datetime(r, col, v, fmt["date"])
                    else:
                        ws.write_string(r, col, str(v), fmt["bold"] if r == 0 else None)
        wb.close()
        os.utime(path, (edited.timestamp(), edited.timestamp()))

    def _write_tab(self, wb: Any, tab: _Tab, fmt: dict[str, Any]) -> None:
        ws = wb.add_worksheet(tab.name)
        ws.set_column(0, len(tab.cols) - 1, 16)
        if "nik" in tab.cols:  # the column formatted as Teks, as the template asks
            ws.set_column(tab.cols.index("nik"), tab.cols.index("nik"), 20, fmt["text"])
        for r, line in enumerate(tab.above):
            if line:
                ws.write_string(r, 0, line, fmt["bold"])
        r = len(tab.above)
        for c, key in enumerate(tab.cols):
            ws.write_string(r, c, tab.headers[key], fmt["bold"])
        if self.rng.random() < 0.3:
            ws.freeze_panes(r + 1, 0)
        ref = {k: xl_col_to_name(c) for c, k in enumerate(tab.cols)}
        money, style, rng, dstyle = tab.money, self.money_style, self.rng, self.date_style
        write_string, write_number = ws.write_string, ws.write_number
        for row in tab.rows:
            r += 1
            if row is None:
                continue
            for c, key in enumerate(tab.cols):
                v = row.get(key)
                t = type(v)
                if v is None:
                    continue
                if t is str:
                    write_string(r, c, v)
                elif (t is int or t is float) and key in money:
                    v = dd.fmt_money(v, style, rng)
                    if type(v) is str:
                        write_string(r, c, v)
                    else:
                        write_number(r, c, v, fmt["money"])
                elif t is int or t is float:
                    write_number(r, c, v)
                elif t is date:
                    if dstyle == "cell":
                        write_number(r, c, (v - _EXCEL_EPOCH).days, fmt["date"])  # a date cell
                    else:
                        write_string(r, c, dd.fmt_date(v, dstyle))
                elif t is _Typed:
                    (write_string if type(v.value) is str else write_number)(r, c, v.value)
                elif v is _TOTAL:
                    formula = f"={ref['jumlah']}{r + 1}*{ref['harga_satuan']}{r + 1}"
                    value = row["jumlah"] * row["harga_satuan"]
                    ws.write_formula(r, c, formula, fmt["money"], value)
