"""The national simulation (bench/bench_national.py) at a tiny scale over two provinces.

Banten (36, 8 kab/kota) and Bali (51, 9) with one cooperative each, each instance on its own
service account and project on the fake: the nation's Ringkasan must equal the roll-up of the
cities' own Ringkasan figures, and no instance may spend more requests than the simulation
measured per instance (bench/README.md, "National simulation"). No timing is asserted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def outcome():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(BENCH))
    try:
        import bench_national
    finally:
        sys.path.remove(str(BENCH))
    args = bench_national.arguments(
        ["--regions", "36,51", "--scale", "0.002", "--latency", "0", "--skip-largest"]
    )
    return bench_national.simulate(args)


def test_national_totals_equal_the_sum_of_the_cities(outcome) -> None:  # type: ignore[no-untyped-def]
    assert outcome.counts == {"kab/kota": 17, "provinsi": 2, "coops": 17}
    assert outcome.problems == []


def test_requests_per_instance_stay_within_the_measured_bounds(outcome) -> None:  # type: ignore[no-untyped-def]
    cold, idle = outcome.passes
    cities = [r for r in cold.runs if r.level == "kab/kota"]
    assert len(cities) == 17
    for r in cities:
        # Cold: one read per cooperative workbook plus the registry and the status spreadsheet's
        # own reads; one write per Hasil Pemeriksaan plus the status batch (and its Metadata).
        assert r.reads <= r.coops + 3, r
        assert r.writes <= r.coops + 1, r
        assert r.drive <= 1 + r.coops // 1000, r  # one Drive listing page per 1,000 files
    for r in idle.runs:
        if r.level == "kab/kota":
            assert r.reads + r.writes == 0, r  # nothing changed: only the Drive listing
            assert r.drive == 1, r
    parents = {r.kode: r for p in (cold, idle) for r in p.runs if r.level != "kab/kota"}
    children = {"36": 8, "51": 9, "00": 2}
    for kode, r in parents.items():
        # One values.batchGet per child, plus the parent's own status spreadsheet.
        assert r.reads <= children[kode] + 2, r
        assert r.writes <= 1, r
