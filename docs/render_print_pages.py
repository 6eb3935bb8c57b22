"""Render the first printed page of Ringkasan, Status KKMP, Kecamatan, Masalah Data and Riwayat
to docs/img/, and of one cooperative's Hasil Pemeriksaan.

Builds the demo city, runs its cycles, prints its status workbook to PDF with LibreOffice
(headless, a profile of its own) and turns each sheet's first page into a PNG with pdftoppm.
The sheet of a page is read from its footer. For Hasil Pemeriksaan, staff of the cooperative
with the most problems tick one warning as checked (Sudah Dicek), a second cycle keeps it, and
its workbook is printed the same way. Two cycles two weeks and one week before the data
date come first, so that the trend charts have three days and Ringkasan a week-on-week change;
they read the same workbooks (dated for 29 January), so on those days the later rows count as
dates in the future. Run from the repository root:

    PYTHONPATH=$PWD python docs/render_print_pages.py [docs/img]

Needs soffice, pdftoppm (poppler-utils) and pdfplumber.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pdfplumber

from kkmp_sheets.cli import main as kkmp
from kkmp_sheets.core.report_card import FEEDBACK_HEADER_ROW, TICK_INDEX
from kkmp_sheets.core.template import FEEDBACK_TAB
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.onboarding import guide

AS_OF = date(2026, 1, 29)
TREND_DAYS = (AS_OF - timedelta(days=14), AS_OF - timedelta(days=7), AS_OF)
PICTURES = {
    "Ringkasan": "cetak-ringkasan",
    "Riwayat": "cetak-riwayat",
    "Status KKMP": "cetak-status-kkmp",
    "Kecamatan": "cetak-kecamatan",
    "Masalah Data": "cetak-masalah-data",
}


def main(outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kkmp-cetak-") as tmp:
        root = Path(tmp)
        city = build_demo_city(root / "kota", as_of=AS_OF, workers=2)
        for day in TREND_DAYS:
            kkmp(["run", "--once", "--config", str(city.config_path), "--as-of", str(day)])
        workbook = city.root / "out" / "status-kota.xlsx"
        pdf = guide.to_pdf(workbook, root, export="pdf")
        first: dict[str, int] = {}
        with pdfplumber.open(pdf) as doc:
            for number, page in enumerate(doc.pages, start=1):
                footer = (page.extract_text() or "").strip().splitlines()[-1]
                for sheet in PICTURES:
                    if f" {sheet} Halaman " in footer:
                        first.setdefault(sheet, number)
        for sheet, stem in PICTURES.items():
            guide.page_png(pdf, first[sheet], outdir / f"{stem}.png", dpi=110)
            print(outdir / f"{stem}.png")
        card = _ticked_report_card(city.workbooks)
        kkmp(["run", "--once", "--config", str(city.config_path), "--as-of", str(AS_OF)])
        pdf = guide.to_pdf(card, root / "kartu", export="pdf")
        with pdfplumber.open(pdf) as doc:
            page = next(
                n
                for n, p in enumerate(doc.pages, start=1)
                if f"{FEEDBACK_TAB} Halaman" in (p.extract_text() or "")
            )
        guide.page_png(pdf, page, outdir / "hasil-pemeriksaan-cetak.png", dpi=110)
        print(outdir / "hasil-pemeriksaan-cetak.png")


def _ticked_report_card(workbooks: list[Path]) -> Path:
    """The workbook with the longest Hasil Pemeriksaan that has a Galat too (to show both
    colours), its first warning ticked by staff."""

    def weight(path: Path) -> tuple[bool, int]:
        sheet = openpyxl.load_workbook(path)[FEEDBACK_TAB]
        levels = [row[0] for row in sheet.iter_rows(values_only=True)]
        return "Galat" in levels, len(levels)

    path = max(workbooks, key=weight)
    book = openpyxl.load_workbook(path)
    sheet = book[FEEDBACK_TAB]
    for row in sheet.iter_rows(min_row=FEEDBACK_HEADER_ROW + 1):
        if row[0].value == "Peringatan":
            row[TICK_INDEX].value = "Ya"
            break
    book.save(path)
    return path


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/img"))
