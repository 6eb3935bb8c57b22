"""`kill -9` at every named step of `run --once` (at least 20): no workbook damaged, nothing left
beside the workbooks, the status workbook whole or absent, SQLite intact, no partial message in
the outbox; then a healthy run completes and cleans up (see `kkmp_sheets.testing.crash_matrix`).
"""

from __future__ import annotations

import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kkmp_sheets.demo.city import build_demo_city
from kkmp_sheets.testing.crash_matrix import AS_OF, Matrix, spread

pytestmark = pytest.mark.slow


def test_kill_9_at_each_step_leaves_no_damage_and_no_debris(tmp_path: Path) -> None:
    city = build_demo_city(tmp_path / "pristine", size=3, as_of=AS_OF, mistakes=False)
    matrix = Matrix(tmp_path, city.root, city.workbooks)
    names = matrix.points()
    assert len(names) >= 20, names
    # Every kind of step is among them: the write of each Hasil Pemeriksaan (before and after
    # its swap), the status workbook (before and after its rename) and the history store.
    assert {"feedback-verified", "feedback-swapped", "status-staged", "history-uncommitted"} <= set(
        names
    )
    chosen = spread(len(names), 20 if len(names) > 24 else len(names))
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda n: matrix.kill_at(n, names[n - 1]), chosen))
    assert len(outcomes) >= 20
    assert all(o.killed for o in outcomes)
    assert [o for o in outcomes if not o.clean] == []


def test_the_checks_see_damage_debris_and_leftovers(tmp_path: Path) -> None:
    """The matrix would notice: a changed data part, a file beside a workbook, a staged file."""
    city = build_demo_city(tmp_path / "pristine", size=1, as_of=AS_OF, mistakes=False)
    matrix = Matrix(tmp_path, city.root, city.workbooks)
    copy = matrix._copy("damaged")
    workbook = copy / matrix.workbooks[0]
    with zipfile.ZipFile(workbook) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    parts[sheet] = parts[sheet].replace(b"<v>", b"<v>9", 1)
    with zipfile.ZipFile(workbook, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    (workbook.parent / f"{workbook.name}.bak").write_bytes(b"copy")
    staging = copy / "out" / "data" / "feedback-staging"
    staging.mkdir(parents=True)
    (staging / "0a0a.xlsx").write_bytes(b"left")

    assert any("data parts changed" in p for p in matrix._damage(copy))
    assert matrix._stray(copy) == [f"{matrix.workbooks[0].parent}/{workbook.name}.bak"]
    assert matrix._leftovers(copy) == ["staging: 0a0a.xlsx"]
