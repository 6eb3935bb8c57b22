"""A cooperative's Hasil Pemeriksaan on paper: a demo workbook printed to PDF by LibreOffice.

Staff print their report card for the pengurus meeting. The workbook is printed as the service
left it (one `run --once` of the demo city) with `soffice --headless --convert-to pdf`, and the
PDF read back with pdfplumber. Its pages are told apart from the data tabs' by the footer the
service gives the tab ("Hasil Pemeriksaan … Halaman x dari y").

The picture in docs/img/ is made by docs/render_print_pages.py, not here.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from kkmp_sheets.cli import main
from kkmp_sheets.core.report_card import FEEDBACK_HEADER, FEEDBACK_HEADER_ROW
from kkmp_sheets.core.template import FEEDBACK_TAB
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.onboarding import guide

pdfplumber = pytest.importorskip("pdfplumber")

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not on PATH"),
]

AS_OF = date(2026, 1, 29)
MIN_FONT = 6.0  # points, as for the status workbook


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("cetak-hasil")
    city = build_demo_city(root / "kota", size=4, as_of=AS_OF)
    assert main(["run", "--once", "--config", str(city.config_path), "--as-of", str(AS_OF)]) == 0
    # The cooperative with the most problems: the longest report card.
    workbook = max(city.workbooks, key=lambda p: load_workbook(p)[FEEDBACK_TAB].max_row)
    pdf_path = guide.to_pdf(workbook, root / "pdf", export="pdf")
    with pdfplumber.open(pdf_path) as pdf:
        pages = [p for p in pdf.pages if f"{FEEDBACK_TAB} Halaman" in (p.extract_text() or "")]
        yield workbook, pages


def _top(workbook: Path) -> list[list]:
    sheet = load_workbook(workbook)[FEEDBACK_TAB]
    return [list(r) for r in sheet.iter_rows(max_row=FEEDBACK_HEADER_ROW, values_only=True)]


def _line(page: Any, first_word: str) -> str:
    """The printed text line that starts with `first_word`."""
    lines = (page.extract_text() or "").splitlines()
    return next(" ".join(ln.split()) for ln in lines if ln.startswith(first_word))


def test_hasil_pemeriksaan_prints_one_page_wide_on_a4_landscape(printed) -> None:
    _, pages = printed
    assert pages, "no page of Hasil Pemeriksaan in the PDF"
    for page in pages:
        assert (round(page.width), round(page.height)) == (842, 595)  # A4 landscape
        outside = [c["text"] for c in page.chars if c["x0"] < 0 or c["x1"] > page.width]
        assert not outside, "".join(outside)
        # One page wide: every page carries the whole header row (repeated), so none holds
        # only columns that spilled over from the page before.
        words = {w["text"] for w in page.extract_words()}
        for label in FEEDBACK_HEADER[:-1]:
            assert set(label.split()) <= words, (label, page.page_number)
        assert FEEDBACK_HEADER[-1] == "Kunci" and "Kunci" not in words  # hidden: not on paper
        assert min(c["size"] for c in page.chars) >= MIN_FONT


def test_the_title_and_zone_line_print_whole(printed) -> None:
    workbook, pages = printed
    top = _top(workbook)
    first = pages[0]
    title = " ".join(str(top[0][0]).split())
    assert _line(first, "Hasil") == title
    zone, reasons = top[1][1], " ".join(str(top[1][3]).split())
    assert _line(first, "Zona") == f"Zona {zone} Alasan {reasons}"
    checked = " ".join(str(top[2][1]).split())
    assert checked.endswith(" WIB") and _line(first, "Diperiksa").startswith(
        f"Diperiksa {checked} "
    )
    assert _line(first, "Perbaiki").startswith("Perbaiki dulu 1.")
