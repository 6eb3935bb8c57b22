"""Render the demo city's Laporan Pimpinan (the city's page and one kecamatan's) to docs/img/.

Builds the demo city and runs a cycle on three days a week apart, as a city that has been
running for a while would have (the page then has a trend and a week to compare with), then
turns page 1 of each PDF into a PNG with pdftoppm. Run from the repository root:

    PYTHONPATH=$PWD python docs/render_laporan_pages.py [docs/img]

Needs WeasyPrint (with Pango), matplotlib and pdftoppm (poppler-utils).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from kkmp_sheets.cli import main as kkmp
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.outputs.laporan import file_name

DAYS = (date(2026, 1, 15), date(2026, 1, 22), date(2026, 1, 29))
KECAMATAN = "Kebon Jeruk"
PICTURES = {None: "laporan-pimpinan", KECAMATAN: "laporan-pimpinan-kecamatan"}


def main(outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kkmp-laporan-") as tmp:
        city = build_demo_city(Path(tmp) / "kota", as_of=DAYS[-1], workers=2)
        for day in DAYS:
            code = kkmp(["run", "--once", "--no-mail", "--config", str(city.config_path),
                         "--as-of", day.isoformat()])  # fmt: skip
            if code:
                raise SystemExit(f"the cycle of {day} failed ({code})")
        for kecamatan, picture in PICTURES.items():
            pdf = city.root / "out" / "laporan" / file_name(kecamatan)
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(outdir / picture)],
                check=True,
            )
            print(outdir / f"{picture}.png")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))
