"""The hostile corpus against the demo city: what each case becomes, peak memory and seconds.

    python bench/bench_hostile.py              # Jakarta Barat (56) + each case, and all at once
    python bench/bench_hostile.py --bomb-mb 64 # smaller zip bombs (quicker to write)

Each row is one `kkmp-sheets run --once` in its own interpreter under a driver, so that peak RSS
(`RUSAGE_CHILDREN`: the largest of the cycle and its reader workers) is that cycle's alone. The
first row is the clean city in the same run, for comparison; "others" says whether every clean
cooperative's Status KKMP row came out exactly as in that clean run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import demo_city

from kkmp_sheets.core.issue import CATALOG
from kkmp_sheets.testing import hostile

ROOT = Path(__file__).resolve().parents[1]
DRIVER = """
import json, resource, subprocess, sys
run = subprocess.run([sys.executable, "-m", "kkmp_sheets", "run", "--once", "--no-mail",
                      "--config", sys.argv[1], "--as-of", "2026-01-29"],
                     capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"rc": run.returncode, "peak_mb": peak}))
"""


def cycle(city: Path) -> dict:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", DRIVER, str(city / "city.toml")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["seconds"] = time.perf_counter() - started
    return result


def with_cases(source: Path, target: Path, files: dict[str, Path]) -> dict[str, str]:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("out", ".complete"))
    registry = target / "registry.csv"
    rows = list(csv.reader(registry.open(encoding="utf-8", newline="")))
    ids = {}
    for n, (name, path) in enumerate(files.items(), start=1):
        shutil.copyfile(path, target / "workbooks" / path.name)
        row = list(rows[1])
        row[0] = ids[name] = f"HOSTILE-{n:02d}"
        row[rows[0].index("Spreadsheet")] = f"workbooks/{path.name}"
        rows.append(row)
    with registry.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return ids


def status(city: Path) -> tuple[dict[str, list], dict[str, list[str]]]:
    book = openpyxl.load_workbook(city / "out" / "status-kota.xlsx", read_only=True)
    rows = [list(r) for r in book["Status KKMP"].iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(rows) if "ID" in r and "Zona" in r)
    link = rows[head].index("Tautan")
    by_id = {str(r[0]): r[:link] + r[link + 1 :] for r in rows[head + 1 :] if r and r[0]}
    problems: dict[str, list[str]] = {}
    rows = [list(r) for r in book["Masalah Data"].iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(rows) if "ID" in r and "Masalah" in r)
    for r in rows[head + 1 :]:
        item = dict(zip(rows[head], r, strict=False))
        problems.setdefault(str(item["ID"]), []).append(str(item["Masalah"]))
    return by_id, problems


def outcome(zone: str, texts: list[str]) -> str:
    for code in ("workbook-too-large", "workbook-read-stopped", "workbook-unreadable"):
        stem = CATALOG[code].message.split("{")[0]
        if any(t.startswith(stem) for t in texts):
            return f"{zone}: {code}"
    return f"{zone}: read ({len(texts)} problems)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bomb-mb", type=int, default=1024, help="inflated size of each bomb")
    args = parser.parse_args()
    city = demo_city("jakarta-barat", kode="31.73", size=None)
    with tempfile.TemporaryDirectory(prefix="kkmp-hostile-") as tmp:
        work = Path(tmp)
        secret = work / "secret.txt"
        secret.write_text("RAHASIA", encoding="utf-8")
        base = next((city / "workbooks").glob("*.xlsx"))
        files = {
            name: hostile.write_case(
                name, work / "files", base=base, secret=secret, bomb_mb=args.bomb_mb
            )
            for name in hostile.CASES
        }
        clean_dir = work / "clean"
        shutil.copytree(city, clean_dir, ignore=shutil.ignore_patterns("out", ".complete"))
        clean = cycle(clean_dir)
        clean_rows, _ = status(clean_dir)
        print(f"{'case':<22}{'outcome':<44}{'others':>8}{'peak MB':>9}{'cycle s':>9}")
        print(
            f"{'(clean city)':<22}{'56 cooperatives':<44}{'':>8}{clean['peak_mb']:>9.0f}{clean['seconds']:>9.1f}"
        )
        runs = [(name, {name: path}) for name, path in files.items()] + [("(all at once)", files)]
        for n, (label, chosen) in enumerate(runs):
            target = work / f"run{n}"
            ids = with_cases(city, target, chosen)
            result = cycle(target)
            rows, problems = status(target)
            same = all(rows.get(i) == row for i, row in clean_rows.items())
            if len(ids) == 1:
                (coop_id,) = ids.values()
                zone = rows[coop_id][4]  # Zona, in the contract's column order
                text = outcome(str(zone), problems.get(coop_id, []))
            else:
                merah = sum(1 for i in ids.values() if rows[i][4] == "Merah")
                text = f"{merah}/{len(ids)} Merah, cycle exit {result['rc']}"
            if result["rc"] != 0:
                text = f"cycle exit {result['rc']}!"
            print(
                f"{label:<22}{text:<44}{'same' if same else 'CHANGED':>8}"
                f"{result['peak_mb']:>9.0f}{result['seconds']:>9.1f}",
                flush=True,
            )
            shutil.rmtree(target)


if __name__ == "__main__":
    main()
