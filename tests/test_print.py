"""The city status workbook on paper: the demo city's workbook printed to PDF by LibreOffice.

Officials print the status workbook for meetings. The workbook is converted as it is written
(`run --once` on the demo city) with `soffice --headless --convert-to pdf`, and the PDF is read
back with pdfplumber: its text, where each character lies and the printed cell grid. Pages are
told apart by the footer, which names the sheet and carries "Halaman x dari y".

The pictures in docs/img/ are made by docs/render_print_pages.py, not here.
"""

from __future__ import annotations

import itertools
import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from kkmp_sheets.cli import main
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.onboarding import guide

pdfplumber = pytest.importorskip("pdfplumber")

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not on PATH"),
]

AS_OF = date(2026, 1, 29)
CITY = "Kota Administrasi Jakarta Barat"
MIN_FONT = 6.0  # points: the smallest print an official can read at a meeting table
# Status KKMP on paper, left to right (core/report.py's STATUS_PRINTED).
STATUS_PRINTED = [
    "Kecamatan", "Kelurahan", "Nama Koperasi", "Zona", "Alasan Zona", "Status Operasional",
    "Siap Pembiayaan", "Anggota Aktif", "Omset 30 Hari", "Transaksi Terakhir", "Galat",
    "Penanggung Jawab",
]  # fmt: skip
FOOTER_LEFT = f"{CITY} — data per 29 Januari 2026 "
FOOTER = re.compile(r"(?P<sheet>[\w ]+?) Halaman (?P<page>\d+) dari (?P<pages>\d+)")


@dataclass
class Page:
    sheet: str
    number: int
    of: int
    page: Any  # pdfplumber's Page


@dataclass
class Printed:
    workbook: Path
    pages: list[Page]

    def of(self, sheet: str) -> list[Page]:
        return [p for p in self.pages if p.sheet == sheet]


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("cetak")
    city = build_demo_city(root / "kota", as_of=AS_OF, workers=2)
    assert main(["run", "--once", "--config", str(city.config_path), "--as-of", str(AS_OF)]) == 0
    workbook = city.root / "out" / "status-kota.xlsx"
    pdf_path = to_pdf(workbook, root / "pdf")
    with pdfplumber.open(pdf_path) as pdf:
        yield Printed(workbook, [_page(p) for p in pdf.pages])


def to_pdf(workbook: Path, outdir: Path) -> Path:
    """Every sheet of `workbook` printed to one PDF, as its page setup says."""
    return guide.to_pdf(workbook, outdir, export="pdf")


def _page(page: Any) -> Page:
    """The sheet and page number, from the footer line (the lowest line of text)."""
    lines = (page.extract_text() or "").strip().splitlines()
    last = lines[-1] if lines else ""
    found = FOOTER.fullmatch(last.removeprefix(FOOTER_LEFT))
    assert last.startswith(FOOTER_LEFT) and found, f"page {page.page_number} footer: {last!r}"
    return Page(found["sheet"].strip(), int(found["page"]), int(found["pages"]), page)


# --- the printed grid -------------------------------------------------------------------------


def _grid(page: Any) -> tuple[list[float], list[float]]:
    """The x of every column edge and the y of every row edge of the printed table.

    The grid is printed (so a long row can be followed across the page); its outer edges are
    those of the frame around the table."""
    wide = [r for r in page.rects if r["x1"] - r["x0"] > page.width / 2]  # the table's frame
    verticals = sorted({round(ln["x0"], 1) for ln in page.lines if abs(ln["x0"] - ln["x1"]) < 0.1})
    horizontals = {round(ln["top"], 1) for ln in page.lines if abs(ln["top"] - ln["bottom"]) < 0.1}
    horizontals |= {round(y, 1) for r in wide for y in (r["top"], r["bottom"])}
    left = min(r["x0"] for r in wide)
    return [round(left, 1), *(x for x in verticals if x > left + 1)], sorted(horizontals)


def _header_cells(page: Any, first_label: str) -> list[str]:
    """The text inside each header cell, left to right, read only from characters lying wholly
    inside the cell: a label cut off or running over its neighbour or the row below loses
    characters here."""
    columns, rows = _grid(page)
    anchor = next(w for w in page.extract_words() if w["text"] == first_label.split()[0])
    top = max(y for y in rows if y <= anchor["top"] + 0.5)
    bottom = min(y for y in rows if y > anchor["bottom"])
    cells = []
    for x0, x1 in itertools.pairwise(columns):
        text = page.within_bbox((x0 - 0.5, top - 0.5, x1 + 0.5, bottom + 0.5)).extract_text()
        cells.append(" ".join((text or "").split()))
    return cells


def _column_text(pages: list[Page], index: int) -> str:
    """Everything printed in the `index`-th column, below the header, over all `pages`."""
    texts = []
    for p in pages:
        columns, rows = _grid(p.page)
        header = _header_bottom(p.page, rows)
        footer_top = max(w["top"] for w in p.page.extract_words()) - 1
        box = (columns[index] - 0.5, header, columns[index + 1] + 0.5, footer_top)
        texts.append(p.page.within_bbox(box).extract_text() or "")
    return " ".join(" ".join(texts).split())


def _header_bottom(page: Any, rows: list[float]) -> float:
    anchor = next(w for w in page.extract_words() if w["text"] == STATUS_PRINTED[0])
    return min(y for y in rows if y > anchor["bottom"])


# --- Status KKMP ------------------------------------------------------------------------------


def test_every_sheet_prints_on_a4_landscape_with_a_footer(printed: Printed) -> None:
    assert [p.number for p in printed.pages] == list(range(1, len(printed.pages) + 1))
    assert {p.of for p in printed.pages} == {len(printed.pages)}
    sheets = list(dict.fromkeys(p.sheet for p in printed.pages))
    assert sheets == [
        "Ringkasan",
        "Status KKMP",
        "Kecamatan",
        "Masalah Data",
        "Riwayat",
        "Pasokan",
        "Pasokan Kecamatan",
        "Metadata",
    ]
    for p in printed.pages:
        assert (round(p.page.width), round(p.page.height)) == (842, 595), p  # A4 landscape


def test_status_kkmp_headers_whole_inside_their_cells(printed: Printed) -> None:
    status = printed.of("Status KKMP")
    # Every Status page repeats the whole printed header, the first printed column on the
    # left, and no other column: no page carries only columns that spilled over from the page
    # before, and the columns folded away stay off paper.
    for p in status:
        assert _header_cells(p.page, STATUS_PRINTED[0]) == STATUS_PRINTED, p.number
    first = status[0].page
    words = {w["text"] for w in first.extract_words()}
    for label in STATUS_PRINTED:
        assert set(label.split()) <= words, label


def test_status_kkmp_inside_the_page_and_readable(printed: Printed) -> None:
    for p in printed.pages:
        page = p.page
        outside = [
            c["text"]
            for c in page.chars
            if c["x0"] < 0 or c["x1"] > page.width or c["top"] < 0 or c["bottom"] > page.height
        ]
        assert not outside, (p.sheet, p.number, "".join(outside))
    sizes = [c["size"] for p in printed.of("Status KKMP") for c in p.page.chars]
    assert min(sizes) >= MIN_FONT, min(sizes)


def test_status_kkmp_long_text_is_wrapped_not_cut(printed: Printed) -> None:
    """Each cooperative's name and zone reasons print whole, inside their column, once."""
    sheet = load_workbook(printed.workbook)["Status KKMP"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    header, data = list(rows[0]), [r for r in rows[1:] if r[0]]
    status = printed.of("Status KKMP")
    for label in ("Nama Koperasi", "Alasan Zona", "Kelurahan"):
        printed_text = _column_text(status, STATUS_PRINTED.index(label))
        at = 0
        for row in data:  # in the sheet's order, one after another
            value = " ".join(str(row[header.index(label)]).split())
            found = printed_text.find(value, at)
            assert found >= 0, (label, value, printed_text[at : at + 200])
            at = found + len(value)
    # Every cooperative is on paper, and the pages hold nothing but whole rows of them.
    assert len(data) == 56


def test_kecamatan_and_masalah_data_headers_inside_their_cells(printed: Printed) -> None:
    sheet = load_workbook(printed.workbook)
    for name in ("Kecamatan", "Masalah Data"):
        labels = [c for c in next(sheet[name].iter_rows(min_row=2, values_only=True)) if c]
        for p in printed.of(name):
            assert _header_cells(p.page, str(labels[0])) == labels, (name, p.number)
