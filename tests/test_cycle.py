"""End to end on the demo city: the CLI, the status workbook, Hasil Pemeriksaan, bad input."""

from __future__ import annotations

import csv
import logging
import os
import shutil
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from kkmp_sheets.cli import main
from kkmp_sheets.core.report_card import FEEDBACK_HEADER_ROW
from kkmp_sheets.core.template import FEEDBACK_TAB, STOK, normalize
from kkmp_sheets.demo import DemoCity, build_demo_city

AS_OF = date(2026, 1, 29)

STATUS_COLUMNS = [
    "ID",
    "Kecamatan",
    "Kelurahan",
    "Nama Koperasi",
    "Zona",
    "Alasan Zona",
    "Status Operasional",
    "NIB",
    "NPWP",
    "Rekening",
    "Siap Pembiayaan",
    "Anggota Aktif",
    "Anggota Baru 30 Hari",
    "Simpanan Pokok",
    "Simpanan Wajib",
    "Simpanan Sukarela",
    "Nilai Stok",
    "Omset 30 Hari",
    "Transaksi 30 Hari",
    "Transaksi Terakhir",
    "Galat",
    "Peringatan",
    "Data Diperbarui",
    "Penanggung Jawab",
    "Tautan",
]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    return build_demo_city(tmp_path_factory.mktemp("kota") / "demo", as_of=AS_OF)


@pytest.fixture(scope="module")
def ran(city: DemoCity, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One cycle through the CLI from an unrelated working directory; what the files held before."""
    before = {p: _data_tabs(p) for p in city.workbooks}
    mtimes = {p: p.stat().st_mtime for p in city.workbooks}
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("elsewhere"))
    try:
        code = main(
            ["run", "--once", "--config", str(city.config_path), "--as-of", AS_OF.isoformat()]
        )
    finally:
        os.chdir(cwd)
    return {"code": code, "before": before, "mtimes": mtimes}


def _data_tabs(path: Path) -> dict[str, list]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {
        name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for name in book.sheet_names
        if name != FEEDBACK_TAB
    }


def _sheet(path: Path, name: str) -> list[list]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def _table(path: Path, name: str) -> tuple[list[str], list[list]]:
    """Header and rows of a status sheet (row 1 is the note line, row 2 the header)."""
    rows = _sheet(path, name)
    return [str(h) for h in rows[1]], rows[2:]


def status_path(city: DemoCity) -> Path:
    return city.root / "out" / "status-kota.xlsx"


def test_cycle_exits_zero_and_writes_every_tab(city, ran):
    assert ran["code"] == 0
    book = python_calamine.CalamineWorkbook.from_path(str(status_path(city)))
    assert book.sheet_names == [
        "Ringkasan",
        "Status KKMP",
        "Kecamatan",
        "Masalah Data",
        "Riwayat",
        "Pasokan",
        "Pasokan Kecamatan",
        "Metadata",  # last: for a parent instance (docs/federation.md)
    ]
    header, rows = _table(status_path(city), "Status KKMP")
    assert header == STATUS_COLUMNS
    assert len(rows) == 56
    assert {r[header.index("Zona")] for r in rows} == {"Merah", "Kuning", "Hijau"}
    assert len({r[header.index("Kecamatan")] for r in rows}) == 8


def test_numbers_are_numbers_and_ringkasan_adds_up(city, ran):
    header, rows = _table(status_path(city), "Status KKMP")
    members = [r[header.index("Anggota Aktif")] for r in rows]
    assert all(isinstance(m, float | int) for m in members)
    ringkasan = {r[0]: r[1] for r in _sheet(status_path(city), "Ringkasan")[2:] if r and r[0]}
    assert ringkasan["Jumlah KKMP"] == 56
    assert ringkasan["Anggota Aktif"] == sum(members)
    assert ringkasan["Zona Hijau"] + ringkasan["Zona Kuning"] + ringkasan["Zona Merah"] == 56
    kec_header, kec_rows = _table(status_path(city), "Kecamatan")
    assert sum(r[kec_header.index("Anggota Aktif")] for r in kec_rows) == sum(members)
    wb = openpyxl.load_workbook(status_path(city))
    cell = wb["Status KKMP"]["N3"]  # Simpanan Pokok of the first cooperative
    assert cell.data_type == "n" and "Rp" in cell.number_format


def test_every_seeded_mistake_is_reported_where_the_user_sees_it(city, ran):
    header, rows = _table(status_path(city), "Masalah Data")
    # A line may stand for several rows ("12–14, 20"): each of them is reported. A line whose
    # runs were cut short ("… dan 3 baris lain") covers the rest of its tab and column.
    reported = {(r[0], r[3], n, r[5]) for r in rows for n in _rows_of(r[4])}
    cut = {(r[0], r[3], r[5]) for r in rows if "lain" in str(r[4])}
    assert sum(r[header.index("Jumlah")] for r in rows) >= len(rows)
    messages = " ".join(str(r[6]) for r in rows)
    missing = []
    harmless = [
        m for m in city.seeded if m.code is None
    ]  # emoji, formula-looking text: not mistakes
    assert harmless, "the demo seeds harmless oddities too"
    for m in harmless:
        assert (m.coop_id, m.tab, m.row, m.column) not in reported, m
    for m in (m for m in city.seeded if m.code is not None):
        if m.row is None:
            found = any(r[0] == m.coop_id and r[3] == m.tab for r in rows)
        else:
            found = (m.coop_id, m.tab, m.row, m.column) in reported or (
                (m.coop_id, m.tab, m.column) in cut
            )
        if not found:
            missing.append(m)
    assert missing == []
    assert "juga terdaftar di koperasi lain" in messages


def _rows_of(text: object) -> list[int | None]:
    """The rows a Masalah Data line names: "12–14, 20" -> [12, 13, 14, 20]; "" -> [None]."""
    if text in ("", None):
        return [None]
    out: list[int | None] = []
    for part in str(text).split(", "):
        first, _, last = part.partition("\u2013")
        if first.isdigit():
            out += range(int(first), int(last or first) + 1)
    return out


def test_hasil_pemeriksaan_written_and_nothing_else_changed(city, ran):
    for path in city.workbooks:
        assert _data_tabs(path) == ran["before"][path], path.name
        assert path.stat().st_mtime == ran["mtimes"][path], (
            "the service's write moved Data Diperbarui"
        )
        rows = _sheet(path, FEEDBACK_TAB)
        head = FEEDBACK_HEADER_ROW - 1
        assert rows[head][:7] == ["Tingkat", "Tab", "Baris", "Kolom", "Nilai", "Masalah", "Saran"]
        assert len(rows) >= FEEDBACK_HEADER_ROW + 1


def test_second_run_the_same_day_rewrites_nothing(city, ran, capsys):
    snapshot = {p: p.read_bytes() for p in city.workbooks}
    assert (
        main(["run", "--once", "--config", str(city.config_path), "--as-of", AS_OF.isoformat()])
        == 0
    )
    assert "tidak berubah 56" in capsys.readouterr().out
    assert all(p.read_bytes() == snapshot[p] for p in city.workbooks)


def test_riwayat_keeps_one_row_per_day(city, ran):
    next_day = date(2026, 1, 30).isoformat()
    assert main(["run", "--once", "--config", str(city.config_path), "--as-of", next_day]) == 0
    _, rows = _table(status_path(city), "Riwayat")
    assert [r[0] for r in rows] == [AS_OF, date(2026, 1, 30)]
    assert (
        main(["run", "--once", "--config", str(city.config_path), "--as-of", AS_OF.isoformat()])
        == 0
    )


# --- privacy -----------------------------------------------------------------------------------


def _texts_outside_workbooks(city: DemoCity) -> dict[str, str]:
    """Every file the service wrote outside the cooperatives' own workbooks, as text.

    The history store's SQLite files are left out on purpose: its snapshots hold the workbooks
    as read (that is what makes restore possible) and never leave the store; what the store
    reports (`history`, `status`) is scanned in tests/test_protection.py.
    """
    texts = {}
    for path in (city.root / "out").rglob("*"):
        if not path.is_file() or ".sqlite" in path.name:
            continue
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                texts[str(path)] = " ".join(
                    z.read(n).decode("utf-8", "replace") for n in z.namelist()
                )
        else:
            texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    return texts


def test_no_nik_or_member_name_leaves_the_cooperative_workbook(city, ran, caplog):
    caplog.set_level(logging.DEBUG)
    assert (
        main(
            [
                "-vv",
                "run",
                "--once",
                "--config",
                str(city.config_path),
                "--as-of",
                AS_OF.isoformat(),
            ]
        )
        == 0
    )
    texts = _texts_outside_workbooks(city)
    texts["log"] = caplog.text
    assert len(texts) >= 2
    leaks = [
        (where, secret)
        for nik, name in city.people
        for secret in (nik, name)
        for where, text in texts.items()
        if secret in text
    ]
    assert leaks == []


# --- bad input and exit codes ------------------------------------------------------------------


def _small_city(tmp_path: Path, city: DemoCity, ids: int = 3) -> Path:
    """A copy of the first few demo cooperatives, to break at will."""
    root = tmp_path / "kecil"
    shutil.copytree(city.root, root, ignore=shutil.ignore_patterns("out"))
    registry = root / "registry.csv"
    with registry.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    with registry.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows[: ids + 1])
    return root


def _workbook_of(root: Path, index: int) -> Path:
    with (root / "registry.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return root / rows[index]["Spreadsheet"]


def test_broken_and_missing_workbooks_are_reported_and_the_cycle_goes_on(city, tmp_path, capsys):
    root = _small_city(tmp_path, city, ids=4)
    _workbook_of(root, 0).write_bytes(b"PK\x03\x04 this is not really a workbook")
    _workbook_of(root, 1).unlink()
    no_tabs = _workbook_of(root, 2)
    wb = openpyxl.Workbook()
    wb.active.append(["apa", "ini"])
    wb.save(no_tabs)
    assert (
        main(["run", "--once", "--config", str(root / "city.toml"), "--as-of", AS_OF.isoformat()])
        == 0
    )
    header, rows = _table(root / "out" / "status-kota.xlsx", "Status KKMP")
    zones = [(r[header.index("Zona")], r[header.index("Alasan Zona")]) for r in rows]
    assert zones[0][0] == "Merah" and "tidak bisa dibaca" in zones[0][1]
    assert zones[1][0] == "Merah"
    _, problems = _table(root / "out" / "status-kota.xlsx", "Masalah Data")
    assert {p[6].split(":")[0] for p in problems if p[0] == rows[1][0]} == {
        "Berkas spreadsheet tidak ditemukan."
    }
    assert any("Tidak ada satu pun tab" in p[6] for p in problems)
    assert "Tidak terbaca" in capsys.readouterr().out


def test_merged_cells_formulas_and_a_huge_tab_still_complete(city, tmp_path):
    root = _small_city(tmp_path, city, ids=1)
    path = _workbook_of(root, 0)
    wb = openpyxl.load_workbook(path)
    stok = next(wb[n] for n in wb.sheetnames if normalize(n) in STOK.match_keys)
    stok.insert_rows(1)
    stok["A1"] = "STOK BARANG"
    stok.merge_cells("A1:F1")
    stok.append(["F01", "Formula", "Lainnya", "pcs", "=2+3", 1000])
    for i in range(100_000):
        stok.append([f"X{i:06d}", "Barang massal", "Lainnya", "pcs", 1, 500])
    wb.save(path)
    assert (
        main(["run", "--once", "--config", str(root / "city.toml"), "--as-of", AS_OF.isoformat()])
        == 0
    )
    _, problems = _table(root / "out" / "status-kota.xlsx", "Masalah Data")
    assert any("sangat besar" in p[6] for p in problems)
    # A formula with no cached value (never opened in a spreadsheet program) reads as blank.
    assert any(p[3] == stok.title and "Jumlah" in p[5] and "wajib diisi" in p[6] for p in problems)


def test_config_mistake_exits_2_with_the_key(tmp_path, capsys):
    bad = tmp_path / "city.toml"
    bad.write_text(
        '[city]\nname = "X"\nkode_wilayah = "31.73"\n[source]\nkind = "lokal"\nregistry = "r.csv"\n'
        '[output]\nkind = "local"\n',
        encoding="utf-8",
    )
    assert main(["run", "--once", "--config", str(bad)]) == 2
    assert "[source] kind = 'lokal'" in capsys.readouterr().err


def test_missing_registry_exits_4(tmp_path, capsys):
    cfg = tmp_path / "city.toml"
    cfg.write_text(
        '[city]\nname = "X"\nkode_wilayah = "31.73"\n[source]\nkind = "local"\nregistry = "nope.csv"\n'
        '[output]\nkind = "local"\n',
        encoding="utf-8",
    )
    assert main(["run", "--once", "--config", str(cfg)]) == 4
    assert "registry" in capsys.readouterr().err


def test_unwritable_output_exits_3(city, tmp_path, capsys):
    root = _small_city(tmp_path, city, ids=1)
    (root / "out").mkdir()
    (root / "out" / "status-kota.xlsx").mkdir()  # a folder where the file should go
    assert (
        main(["run", "--once", "--config", str(root / "city.toml"), "--as-of", AS_OF.isoformat()])
        == 3
    )
    assert "status-kota.xlsx" in capsys.readouterr().err


def test_digest_dry_run_lists_and_writes_but_sends_and_records_nothing(city, ran, tmp_path, capsys):
    outbox = city.root / "out" / "outbox"
    before = sorted(p.name for p in outbox.iterdir())
    ledger = city.root / "out" / "data" / "deliveries.sqlite"
    ledger_bytes = ledger.read_bytes()
    folder = tmp_path / "dry"
    code = main(
        [
            "digest",
            "--dry-run",
            "--config",
            str(city.config_path),
            "--as-of",
            AS_OF.isoformat(),
            "--out",
            str(folder),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    written = sorted(folder.glob("*.eml"))
    assert len(written) >= 56 + 8 + 1  # a digest per cooperative, per kecamatan, and the city's
    assert "city" in out and "kota" in out and "(tidak dikirim)" in out
    assert sorted(p.name for p in outbox.iterdir()) == before
    assert ledger.read_bytes() == ledger_bytes
