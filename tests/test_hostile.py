"""The hostile corpus in a real cycle: each case alone in a small city, then all of them at once.

Each cycle runs `kkmp-sheets run --once` in its own interpreter under a small driver, so that the
peak resident memory measured (`RUSAGE_CHILDREN`: the largest of the cycle and its reader
workers) is that cycle's alone. Asserted: the cycle completes (exit 0), each hostile workbook is
reported on its own row with the expected problem, every clean cooperative's row is exactly as
in the same city without hostile files, no secret a payload points at leaks, and memory stays
under 1 GB.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kkmp_sheets.core.issue import CATALOG
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.testing import hostile

ROOT = Path(__file__).resolve().parents[1]
SECRET = "RAHASIA-XXE-7f3a91"
LIMIT_MB = 1024
BOMB_MB = 64  # ratio about 1000: over [limits] max_compression_ratio, quick to write

DRIVER = """
import json, resource, subprocess, sys
run = subprocess.run([sys.executable, "-m", "kkmp_sheets", "run", "--once", "--no-mail",
                      "--config", sys.argv[1], "--as-of", "2026-01-29"],
                     capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"rc": run.returncode, "peak_mb": peak, "err": run.stderr[-2000:]}))
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """A three-cooperative city, its clean cycle's rows, and every hostile file."""
    root = tmp_path_factory.mktemp("hostile")
    city = root / "city"
    build_demo_city(city, size=3)
    secret = root / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    files = root / "files"
    base = next((city / "workbooks").glob("*.xlsx"))
    paths = {
        name: hostile.write_case(name, files, base=base, secret=secret, bomb_mb=BOMB_MB)
        for name in hostile.CASES
    }
    clean = _copy(city, root / "clean")
    outcome = run_cycle(clean)
    assert outcome["rc"] == 0, outcome["err"]
    return {"root": root, "city": city, "paths": paths, "clean": status_rows(clean)}


def run_cycle(city: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", DRIVER, str(city / "city.toml")],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=600,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _copy(city: Path, target: Path) -> Path:
    shutil.copytree(city, target, ignore=shutil.ignore_patterns("out"))
    return target


def add_cases(city: Path, paths: dict[str, Path]) -> dict[str, str]:
    """Put each hostile file in the city's registry as a cooperative of its own: name → ID."""
    registry = city / "registry.csv"
    with registry.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, template = rows[0], rows[1]
    ids = {}
    for n, (name, path) in enumerate(paths.items(), start=1):
        target = city / "workbooks" / path.name
        shutil.copyfile(path, target)
        row = dict(zip(header, template, strict=True))
        row["ID"] = ids[name] = f"HOSTILE-{n:02d}"
        row["Nama Koperasi"] = f"Koperasi Uji {name}"
        row["Spreadsheet"] = f"workbooks/{path.name}"
        rows.append([row[h] for h in header])
    with registry.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return ids


def status_rows(city: Path) -> dict[str, dict]:
    """Status KKMP by ID, and each ID's Masalah Data texts under the key `_masalah`."""
    book = openpyxl.load_workbook(city / "out" / "status-kota.xlsx", read_only=True)
    found: dict[str, dict] = {}
    rows = [list(r) for r in book["Status KKMP"].iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(rows) if "ID" in r and "Zona" in r)
    names = rows[head]
    for r in rows[head + 1 :]:
        if r and r[0]:
            row = dict(zip(names, r, strict=False)) | {"_masalah": []}
            row.pop("Tautan", None)  # the workbook's path: each test city has its own folder
            found[str(r[0])] = row
    rows = [list(r) for r in book["Masalah Data"].iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(rows) if "ID" in r and "Masalah" in r)
    names = rows[head]
    for r in rows[head + 1 :]:
        item = dict(zip(names, r, strict=False))
        if item.get("ID") in found:
            found[item["ID"]]["_masalah"].append(str(item["Masalah"]))
    return found


def codes_of(texts: list[str]) -> set[str]:
    """The catalogue codes whose message (up to its first placeholder) starts a text."""
    codes = set()
    for code, entry in CATALOG.items():
        stem = entry.message.split("{")[0]
        if stem and any(text.startswith(stem) for text in texts):
            codes.add(code)
    return codes


def no_leak(city: Path) -> None:
    """The secret an XXE payload points at is in no output."""
    for path in (city / "out").rglob("*"):
        if not path.is_file():
            continue
        blob = path.read_bytes()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                blob = b"".join(z.read(n) for n in z.namelist())
        assert SECRET.encode() not in blob, path


def check(corpus: dict, city: Path, ids: dict[str, str], outcome: dict) -> None:
    assert outcome["rc"] == 0, outcome["err"]
    assert outcome["peak_mb"] < LIMIT_MB, outcome
    rows = status_rows(city)
    for name, coop_id in ids.items():
        case, row = hostile.CASES[name], rows[coop_id]
        expected = case.outcome if isinstance(case.outcome, tuple) else (case.outcome,)
        found = codes_of(row["_masalah"]) & {
            "workbook-too-large",
            "workbook-read-stopped",
            "workbook-unreadable",
        }
        if found:
            assert found & set(expected), (name, row["_masalah"])
            assert row["Zona"] == "Merah" and row["Galat"] >= 1, (name, row)
        else:
            assert None in expected, (name, row["_masalah"])
    for coop_id, clean in corpus["clean"].items():
        assert rows[coop_id] == clean, coop_id  # other cooperatives unaffected
    no_leak(city)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(hostile.CASES))
def test_each_hostile_case_alone(corpus, tmp_path, name):
    city = _copy(corpus["city"], tmp_path / "city")
    ids = add_cases(city, {name: corpus["paths"][name]})
    check(corpus, city, ids, run_cycle(city))


@pytest.mark.slow
def test_every_hostile_case_at_once(corpus, tmp_path):
    city = _copy(corpus["city"], tmp_path / "city")
    ids = add_cases(city, corpus["paths"])
    check(corpus, city, ids, run_cycle(city))
