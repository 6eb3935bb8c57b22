"""A status book of any number of cooperatives, for the large-spreadsheet tests and benchmark.

Checking thousands of generated workbooks takes many minutes, and what a status book weighs
depends only on its rows. So a small demo city (`seed` cooperatives, its seeded mistakes
included) is checked once by the real cycle, and its results are repeated, each copy under new
IDs (`KKMP-…-2`, `-3`, …), until there are `size` of them; the status book is then built from those
results as the cycle builds it (`status_book`): Status KKMP one row per cooperative, Masalah Data
one row per problem (about 7 per cooperative in the demo), Kecamatan, Riwayat, Pasokan, charts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from kkmp_sheets import config as config_
from kkmp_sheets.core.report import CoopResult, Target, status_book
from kkmp_sheets.core.tables import StatusBook
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.demo.city import build_demo_city

AS_OF = date(2026, 1, 29)
NOW = datetime(2026, 1, 29, 8, 0, tzinfo=WIB)


@dataclass
class Seed:
    """The checked results of a small demo city, and its config."""

    results: list[CoopResult]
    config: config_.Config


class _Keep:
    """A sink that keeps the book instead of writing it (only the results are wanted)."""

    def history(self) -> list[list]:
        return []

    def publish(self, book: StatusBook) -> str:
        return "memory"

    def link(self, tab: str) -> str:
        return ""  # kept in memory: nothing a person could open

    def close(self) -> None:
        pass


def check_seed(root: Path, *, size: int = 40, kode: str = "32") -> Seed:
    """Build a demo city of `size` cooperatives under `root` and check it once (no feedback)."""
    from kkmp_sheets.service.cycle import run_cycle
    from kkmp_sheets.service.wiring import make_source

    if not (root / "city.toml").exists():
        build_demo_city(root, kode=kode, size=size)
    cfg = dataclasses.replace(config_.load(root / "city.toml"), write_feedback=False)
    source = make_source(cfg)
    try:
        cycle = run_cycle(cfg, source=source, sink=_Keep(), as_of=AS_OF, now=NOW)
    finally:
        close = getattr(source, "close", None)
        if close:
            close()
    return Seed(cycle.results, cfg)


def large_book(seed: Seed, size: int, *, history: list[list] | None = None) -> StatusBook:
    """The status book of `size` cooperatives: the seed's results repeated under new IDs."""
    results = []
    for number in range(size):
        result = seed.results[number % len(seed.results)]
        copy = number // len(seed.results)
        if copy:
            coop = dataclasses.replace(result.coop, id=f"{result.coop.id}-{copy + 1}")
            result = dataclasses.replace(result, coop=coop)
        results.append(result)
    cfg = seed.config
    return status_book(
        results,
        city_name=cfg.city_name,
        as_of=AS_OF,
        now=NOW,
        reporting_window_days=cfg.reporting_window_days,
        target=Target(cfg.target_date, cfg.target_active_share),
        history=history,
    )
