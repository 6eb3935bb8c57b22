"""Reader comparison on the same workbooks, in the same process: python-calamine vs openpyxl.

    python bench/bench_readers.py [--coops N]

Reads every tab of N demo workbooks (default: the 56 of Jakarta Barat) with each reader, three
rounds each, alternating, and prints the best round, cells per second and the ratio. This is why
the local source reads with calamine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import openpyxl
import python_calamine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import demo_city


def read_calamine(path: Path) -> int:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    cells = 0
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        cells += sum(len(r) for r in rows)
    return cells


def read_openpyxl(path: Path) -> int:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    cells = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells += len(row)
    book.close()
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--coops", type=int, default=None)
    args = parser.parse_args()
    root = demo_city("jakarta-barat", kode="31.73", size=None)
    paths = sorted((root / "workbooks").glob("*.xlsx"))[: args.coops]
    best: dict[str, float] = {}
    cells: dict[str, int] = {}
    for _ in range(3):
        for name, reader in (("calamine", read_calamine), ("openpyxl", read_openpyxl)):
            started = time.perf_counter()
            cells[name] = sum(reader(p) for p in paths)
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - started)
    print(f"{len(paths)} workbooks, {sum(p.stat().st_size for p in paths) / 1e6:.1f} MB")
    for name in ("calamine", "openpyxl"):
        print(f"{name:<10}{best[name]:>8.2f} s{cells[name] / best[name]:>14,.0f} cells/s")
    print(
        f"calamine is {best['openpyxl'] / best['calamine']:.1f}x faster than openpyxl (read_only)"
    )


if __name__ == "__main__":
    main()
