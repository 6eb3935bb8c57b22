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

The package, in the order a city is made:

- `plan`: the kinds of cooperative, the mistakes, and who gets which (`DemoCoop`, `SeededMistake`);
- `book`, `layout`, `members`, `shop`, `profil`: one cooperative's workbook, tab by tab;
- `workbook`: the steps in order, and the `.xlsx` file;
- `city`: `build_demo_city`, the registry, the config and `DemoCity`;
- `catalogues`: names, goods, banks, and how people type dates and amounts.
"""

from __future__ import annotations

from kkmp_sheets.demo.city import DemoCity, build_demo_city
from kkmp_sheets.demo.plan import (
    EMAIL_DOMAIN,
    KINDS,
    LAUNCHING,
    MEMBERS,
    MISTAKES,
    NOTAS_PER_DAY,
    OFFICE_DOMAIN,
    WIB,
    DemoCoop,
    SeededMistake,
)
from kkmp_sheets.demo.shop import FORMULA_TEXT

__all__ = [
    "EMAIL_DOMAIN",
    "FORMULA_TEXT",
    "KINDS",
    "LAUNCHING",
    "MEMBERS",
    "MISTAKES",
    "NOTAS_PER_DAY",
    "OFFICE_DOMAIN",
    "WIB",
    "DemoCity",
    "DemoCoop",
    "SeededMistake",
    "build_demo_city",
]
