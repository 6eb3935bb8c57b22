"""Pasokan in the units people plan in (docs/pasokan.md): one row per category in its unit, eggs
converted between butir and kg at `[pasokan] telur_butir_per_kg`, whole numbers for counted
units, unconvertible units on rows of their own with a note, and the same per kecamatan."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pdfplumber
import pytest

from kkmp_sheets import config as config_mod
from kkmp_sheets.cli import main
from kkmp_sheets.core.metrics import NO_UNIT, base_unit
from kkmp_sheets.core.pasokan import (
    CATEGORY_UNIT,
    DEFAULT_BUTIR_PER_KG,
    PasokanRow,
    PasokanRules,
    converted,
    pasokan_rows,
)
from kkmp_sheets.core.tables import Fmt
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.errors import ConfigError
from kkmp_sheets.onboarding import guide

RULES = PasokanRules()

# --- the rules ----------------------------------------------------------------------------------


def test_eggs_counted_in_butir_are_converted_to_kg_at_the_configured_rate() -> None:
    assert converted("Telur", "butir", 160, RULES) == ("kg", 160 / DEFAULT_BUTIR_PER_KG, "")
    assert converted("Telur", "butir", 150, PasokanRules(15)) == ("kg", 10, "")
    assert converted("Telur", "kg", 7.5, RULES) == ("kg", 7.5, "")


def test_a_unit_that_cannot_be_converted_stands_apart_with_a_note() -> None:
    unit, amount, note = converted("Telur", "pcs", 30, RULES)
    assert (unit, amount) == ("pcs", 30) and "tidak bisa diubah ke kg" in note
    unit, amount, note = converted("Minyak Goreng", "kg", 4, RULES)
    assert (unit, amount) == ("kg", 4) and "liter" in note
    # A Stok row without Satuan: its own row, whatever the category.
    assert "tidak diisi" in converted("Lainnya", NO_UNIT, 3, RULES)[2]
    # Lainnya has no unit of its own: each unit is its own row, nothing to note.
    assert converted("Lainnya", "bks", 12, RULES) == ("bks", 12, "")


def test_one_row_per_category_in_its_unit_and_a_holder_counted_once() -> None:
    coop_a = {("Telur", "kg"): [10.0, 270_000.0, 0], ("Telur", "butir"): [32.0, 54_000.0, 1]}
    coop_b = {("Telur", "butir"): [48.0, 81_000.0, 0], ("Beras", "kg"): [100.0, 1_300_000.0, 0]}
    coop_c = {("Telur", "pcs"): [5.0, 9_000.0, 0]}
    rows = pasokan_rows([coop_a, coop_b, coop_c], RULES)
    assert [(r.kategori, r.satuan) for r in rows] == [
        ("Beras", "kg"),
        ("Telur", "kg"),
        ("Telur", "pcs"),  # the unconvertible unit after the category's own
    ]
    eggs = rows[1]
    assert eggs.jumlah == pytest.approx(10 + (32 + 48) / DEFAULT_BUTIR_PER_KG)
    assert eggs.nilai == 270_000 + 54_000 + 81_000
    assert eggs.kkmp == 2  # coop A holds eggs in kg and in butir: one cooperative
    assert eggs.di_bawah_minimum == 1 and eggs.catatan == ""
    assert rows[2].catatan


def test_counted_units_are_whole_numbers_and_measured_ones_keep_needed_decimals() -> None:
    def cell(unit: str, amount: float) -> Any:
        shown = PasokanRow("X", unit, amount, 0, 1, 0).quantity_cell()
        return shown.value, shown.fmt

    assert cell("butir", 45_430.0) == (45_430, Fmt.INT)
    assert cell("karung", 12.0) == (12, Fmt.INT)
    assert cell("kg", 45_430.0) == (45_430, Fmt.INT)  # not "45.430,0"
    assert cell("kg", 12.5) == (12.5, Fmt.NUMBER)
    assert cell("liter", 1.23456) == (1.23, Fmt.NUMBER)
    assert cell("kg", 3.0001) == (3, Fmt.INT)


def test_sizes_in_the_unit_or_the_name_become_kg_and_liter() -> None:
    assert base_unit("karung", "Beras premium 5 kg") == (5.0, "kg")
    assert base_unit("pouch", "Minyakita 1 L") == (1.0, "liter")
    assert base_unit("butir", "Telur ayam ras") == (1.0, "butir")
    assert base_unit(None, "Telur") == (1.0, NO_UNIT)
    assert set(CATEGORY_UNIT.values()) == {"kg", "liter"}


def test_the_rate_is_configured_and_checked(tmp_path: Path) -> None:
    base = '[city]\nname = "Kota"\nkode_wilayah = "31.73"\n[source]\nkind = "local"\n'
    base += 'registry = "r.csv"\n[output]\nkind = "local"\npath = "out/s.xlsx"\n'
    path = tmp_path / "city.toml"
    path.write_text(base, encoding="utf-8")
    assert config_mod.load(path).pasokan.telur_butir_per_kg == DEFAULT_BUTIR_PER_KG
    path.write_text(base + "[pasokan]\ntelur_butir_per_kg = 15\n", encoding="utf-8")
    assert config_mod.load(path).pasokan.telur_butir_per_kg == 15
    path.write_text(base + "[pasokan]\ntelur_butir_per_kg = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="telur_butir_per_kg"):
        config_mod.load(path)


# --- the demo city, as written and printed ------------------------------------------------------

AS_OF = date(2026, 1, 29)


@dataclass
class Written:
    workbooks: list[Path]
    status: dict[float, Path]  # rate → the status workbook written with it


def _run(config_path: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", "--once", "--config", str(config_path), "--as-of", str(AS_OF)])
    assert code == 0, out.getvalue()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    root = tmp_path_factory.mktemp("pasokan")
    city = build_demo_city(root / "kota", as_of=AS_OF)
    status = {}
    text = city.config_path.read_text(encoding="utf-8")
    for rate in (16.0, 10.0):
        city.config_path.write_text(
            text + f"\n[pasokan]\ntelur_butir_per_kg = {rate}\n", encoding="utf-8"
        )
        _run(city.config_path)
        status[rate] = root / f"status-{rate:g}.xlsx"
        shutil.copy(city.root / "out" / "status-kota.xlsx", status[rate])
    return Written(sorted((city.root / "workbooks").glob("*.xlsx")), status)


def _table(path: Path, sheet: str) -> tuple[list[str], list[dict[str, Any]], list[list[Any]]]:
    """Header, rows by header, and the cells (for their number formats)."""
    ws = openpyxl.load_workbook(path)[sheet]
    rows = list(ws.iter_rows())
    at = next(i for i, r in enumerate(rows) if r[0].value in ("Kategori", "Kecamatan"))
    header = [c.value for c in rows[at]]
    body = [r for r in rows[at + 1 :] if r[0].value is not None]
    return header, [dict(zip(header, (c.value for c in r), strict=True)) for r in body], body


def test_the_demo_counts_eggs_in_kg_and_in_butir(written: Written) -> None:
    units: set[str] = set()
    for path in written.workbooks:
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            for ws in book.worksheets:
                for row in ws.iter_rows(values_only=True):
                    words = [str(v).strip().lower() for v in row if isinstance(v, str)]
                    if "telur" in words:
                        units.update(w for w in words if w in ("kg", "butir"))
        finally:
            book.close()
    assert units == {"kg", "butir"}


def test_eggs_are_one_row_in_kg_converted_at_the_configured_rate(written: Written) -> None:
    def eggs(rate: float) -> float:
        _, rows, _ = _table(written.status[rate], "Pasokan")
        telur = [r for r in rows if r["Kategori"] == "Telur"]
        [main_row] = [r for r in telur if not r["Catatan"]]  # one row without a note
        assert main_row["Satuan"] == "kg"
        assert all(r["Satuan"] != "butir" for r in telur)
        return float(main_row["Jumlah Stok"])

    # kg = K + B / rate at both rates: the eggs counted in butir are B, the ones weighed K.
    k16, k10 = eggs(16.0), eggs(10.0)
    butir = (k10 - k16) / (1 / 10 - 1 / 16)
    weighed = k16 - butir / 16
    assert butir > 0 and weighed > 0, (butir, weighed)
    assert butir == pytest.approx(round(butir), abs=0.5)  # whole eggs (shown rounded to 10 g)


def test_one_unit_per_category_and_numbers_shown_as_people_count(written: Written) -> None:
    _, rows, cells = _table(written.status[16.0], "Pasokan")
    for kategori, unit in CATEGORY_UNIT.items():
        own = [r for r in rows if r["Kategori"] == kategori and not r["Catatan"]]
        assert [r["Satuan"] for r in own] == [unit], kategori
        assert all(r["Satuan"] != unit for r in rows if r["Kategori"] == kategori and r["Catatan"])
    header = [c for c in _table(written.status[16.0], "Pasokan")[0]]
    qty = header.index("Jumlah Stok")
    for row, body in zip(rows, cells, strict=True):
        cell = body[qty]
        if row["Satuan"] in ("kg", "liter") and cell.value != int(cell.value):
            assert cell.number_format == "#,##0.0#", row
        else:  # counted, or a whole kg: no decimals
            assert cell.value == int(cell.value) and cell.number_format == "#,##0", row


def test_pasokan_per_kecamatan_adds_up_to_the_city(written: Written) -> None:
    _, city, _ = _table(written.status[16.0], "Pasokan")
    header, per_kec, _ = _table(written.status[16.0], "Pasokan Kecamatan")
    assert header[0] == "Kecamatan"
    sums: dict[tuple[str, str], list[float]] = {}
    for r in per_kec:
        slot = sums.setdefault((r["Kategori"], r["Satuan"]), [0.0, 0.0, 0])
        slot[0] += r["Jumlah Stok"]
        slot[1] += r["Nilai Stok"]
        slot[2] += r["KKMP dengan Stok"]
    assert set(sums) == {(r["Kategori"], r["Satuan"]) for r in city}
    for r in city:
        qty, value, holders = sums[r["Kategori"], r["Satuan"]]
        assert qty == pytest.approx(r["Jumlah Stok"], abs=0.01 * len(per_kec))  # each rounded
        assert value == pytest.approx(r["Nilai Stok"])
        assert holders == r["KKMP dengan Stok"]
    assert len({r["Kecamatan"] for r in per_kec}) == 8  # every kecamatan of Jakarta Barat


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_printed_pasokan_shows_no_spurious_decimals(written: Written, tmp_path: Path) -> None:
    pdf = guide.to_pdf(written.status[16.0], tmp_path, export="pdf")
    with pdfplumber.open(pdf) as doc:
        texts = [p.extract_text() or "" for p in doc.pages]
    pasokan = [t for t in texts if " Pasokan Halaman " in t]
    assert pasokan
    beras = next(line for line in pasokan[0].splitlines() if line.startswith("Beras kg "))
    assert re.match(r"Beras kg \d{1,3}(\.\d{3})* Rp", beras), beras  # "45.430", not "45.430,0"
    assert not re.search(r"\d,0\b", pasokan[0])
