"""The city: plan it, write every cooperative's workbook (in worker processes if asked), then
the registry and the config; `DemoCity` says what was written.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import Pool
from pathlib import Path

from kkmp_sheets.core import template, wilayah
from kkmp_sheets.demo.members import _kecamatan_prefixes, _outside_prefixes
from kkmp_sheets.demo.plan import DemoCoop, SeededMistake, _plan_city
from kkmp_sheets.demo.workbook import _build_coop, _Built


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
    """Write a sample city under `root` (see the package docstring) and describe what was written.

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
    plans, staff = _plan_city(
        region.kode, villages, root, size=size, seed=seed, as_of=as_of, mistakes=mistakes
    )
    coops, emails = [p.coop for p in plans], [p.email for p in plans]
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
        header = [c.label for c in template.REGISTRY.columns]
        out.writerow(header)
        for c, email, (pj, pj_email) in zip(coops, emails, staff, strict=True):
            path = c.workbook.relative_to(root).as_posix()
            row = [
                c.id,
                c.nama,
                c.kelurahan,
                c.kecamatan,
                c.kode_wilayah,
                path,
                email,
                pj,
                pj_email,
            ]
            # The optional columns after these (a penanggung jawab's phone, opt-out) stay empty.
            out.writerow(row + [""] * (len(header) - len(row)))
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
