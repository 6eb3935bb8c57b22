"""The city status workbook as .xlsx: read back with openpyxl, from the zip, and by LibreOffice."""

from __future__ import annotations

import errno
import os
import posixpath
import re
import shutil
import stat
import subprocess
import uuid
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from openpyxl import Workbook, load_workbook

from kkmp_sheets.core.tables import (
    ZONE_COLORS,
    ZONE_SERIES_COLORS,
    Cell,
    Chart,
    ChartKind,
    Col,
    Fmt,
    Print,
    Sheet,
    StatusBook,
)
from kkmp_sheets.errors import OutputError
from kkmp_sheets.outputs import xlsx
from kkmp_sheets.outputs.xlsx import write_status_workbook

UPDATED = datetime(2025, 8, 17, 8, 30)
ZONES = ("Hijau", "Kuning", "Merah")
SHEETS = ["Ringkasan", "Status KKMP", "Kecamatan", "Masalah Data", "Riwayat", "Pasokan"]
STATUS_COLUMNS = [
    Col("ID"),
    Col("Kecamatan"),
    Col("Nama Koperasi"),
    Col("Zona", Fmt.ZONE),
    Col("Alasan Zona"),
    Col("NIB"),
    Col("Siap Pembiayaan"),
    Col("Anggota Aktif", Fmt.INT),
    Col("Rata-rata Stok", Fmt.NUMBER),
    Col("Omset 30 Hari", Fmt.RUPIAH),
    Col("Kelengkapan", Fmt.PERCENT),
    Col("Transaksi Terakhir", Fmt.DATE),
    Col("Data Diperbarui", Fmt.DATETIME),
    Col("Penanggung Jawab", width=30),
    Col("Tautan", Fmt.LINK),
]


def status_row(**values: object) -> list:
    defaults: dict[str, object] = {
        "ID": "KKMP-001",
        "Kecamatan": "Coblong",
        "Nama Koperasi": "KKMP Dago",
        "Zona": "Hijau",
        "Alasan Zona": "",
        "NIB": "9120001234567",
        "Siap Pembiayaan": True,
        "Anggota Aktif": 120,
        "Rata-rata Stok": 1250.5,
        "Omset 30 Hari": 1_250_000,
        "Kelengkapan": 0.857,
        "Transaksi Terakhir": date(2025, 8, 16),
        "Data Diperbarui": UPDATED,
        "Penanggung Jawab": "Bu Sari (Ketua)",
        "Tautan": "https://docs.google.com/spreadsheets/d/abc",
    }
    defaults.update({key.replace("_", " "): value for key, value in values.items()})
    return [defaults[col.name] for col in STATUS_COLUMNS]


def sample_book(kecamatan_rows: list | None = None) -> StatusBook:
    ringkasan = Sheet(
        "Ringkasan",
        [Col("Keterangan"), Col("Nilai", Fmt.INT)],
        [
            ["Jumlah KKMP", 3],
            ["Zona Merah", 1],
            ["Simpanan Pokok", Cell(125_000_000, Fmt.RUPIAH)],
            ["Kelengkapan Laporan", Cell(0.857, Fmt.PERCENT)],
            ["Diperbarui (WIB)", Cell(UPDATED, Fmt.DATETIME)],
        ],
        note="Diperbarui 17 Agu 2025 08:30 WIB",
    )
    status = Sheet(
        "Status KKMP",
        STATUS_COLUMNS,
        [
            status_row(),
            status_row(
                ID="KKMP-002",
                Nama_Koperasi='=HYPERLINK("http://evil.example","klik")',
                Zona="Merah",
                Alasan_Zona="Tidak ada penjualan 30 hari; " * 5,
                NIB=912000765432,  # a number in a text column stays text
                Siap_Pembiayaan=False,
                Penanggung_Jawab="+62 812 3456 7890",
                Data_Diperbarui=datetime(2025, 8, 17, 1, 30, tzinfo=UTC),
                Tautan="/srv/kkmp/kkmp-002.xlsx",
            ),
            status_row(
                ID="KKMP-003",
                Nama_Koperasi="KKMP\x00 Sukajadi\x1f",
                Zona="Kuning",
                Anggota_Aktif=Cell(None, Fmt.INT),
                Omset_30_Hari=float("nan"),
                Transaksi_Terakhir=None,
                Tautan=None,
            ),
        ],
    )
    kecamatan = Sheet(
        "Kecamatan",
        [Col("Kecamatan"), *(Col(f"Zona {zone}", Fmt.INT) for zone in ZONES)],
        [["Coblong", 1, 0, 1], ["Sukajadi", 0, 1, 0]] if kecamatan_rows is None else kecamatan_rows,
    )
    masalah = Sheet(
        "Masalah Data",
        [Col(n) for n in ("ID", "Kelurahan", "Tingkat", "Tab")]
        + [Col("Baris", Fmt.INT), Col("Kolom"), Col("Masalah")],
        [["KKMP-002", "Dago", "Galat", "Anggota", 7, "NIK", "NIK 16 digit: 3273********0001"]],
    )
    riwayat = Sheet(
        "Riwayat",
        [Col("Tanggal", Fmt.DATE), Col("KKMP Aktif", Fmt.INT), Col("Omset 30 Hari", Fmt.RUPIAH)],
        [[date(2025, 8, day), day % 3 + 1, day * 1_000_000] for day in range(1, 18)],
    )
    pasokan = Sheet(
        "Pasokan",
        [Col("Kategori"), Col("Satuan"), Col("Jumlah", Fmt.NUMBER), Col("Nilai", Fmt.RUPIAH)],
        [["Beras", "kg", 1250.5, 15_006_000], ["Telur", "kg", 80, 2_240_000]],
    )
    return StatusBook(
        sheets=[ringkasan, status, kecamatan, masalah, riwayat, pasokan],
        charts=[
            Chart(
                "Zona per Kecamatan",
                data_sheet="Kecamatan",
                category_col="Kecamatan",
                series_cols=tuple(f"Zona {zone}" for zone in ZONES),
                colors=tuple(ZONE_SERIES_COLORS[zone] for zone in ZONES),
            ),
            Chart(
                "Omset 30 Hari",
                data_sheet="Riwayat",
                category_col="Tanggal",
                series_cols=("Omset 30 Hari",),
                kind=ChartKind.LINE,
                place_on="Ringkasan",
                anchor="D20",
                colors=("#1A73E8",),
            ),
        ],
    )


@pytest.fixture
def written(tmp_path: Path) -> Path:
    path = tmp_path / "out" / "status-kota.xlsx"
    write_status_workbook(sample_book(), path)
    return path


def cell(path: Path, sheet: str, ref: str):
    return load_workbook(path)[sheet][ref]


# --- content ---------------------------------------------------------------------------------


def test_one_worksheet_per_sheet_in_order(written: Path) -> None:
    assert load_workbook(written).sheetnames == SHEETS


def test_note_then_bold_filled_wrapped_header(written: Path) -> None:
    wb = load_workbook(written)
    ringkasan, status = wb["Ringkasan"], wb["Status KKMP"]
    assert ringkasan["A1"].value == "Diperbarui 17 Agu 2025 08:30 WIB"
    assert ringkasan["A1"].font.i
    assert [c.value for c in ringkasan[2]] == ["Keterangan", "Nilai"]
    # Without a note the header is row 1.
    header = status[1]
    assert [c.value for c in header] == [col.name for col in STATUS_COLUMNS]
    assert all(c.font.b and c.alignment.wrap_text and c.fill.fill_type == "solid" for c in header)


def test_header_frozen_and_filtered(written: Path) -> None:
    wb = load_workbook(written)
    assert wb["Ringkasan"].freeze_panes == "A3"
    assert wb["Status KKMP"].freeze_panes == "A2"
    assert wb["Ringkasan"].auto_filter.ref == "A2:B7"
    assert wb["Status KKMP"].auto_filter.ref == "A1:O4"


@pytest.mark.parametrize(
    ("ref", "value", "number_format"),
    [
        ("H2", 120, "#,##0"),
        ("I2", 1250.5, "#,##0.0#"),
        ("J2", 1_250_000, "[$Rp-421]#,##0"),
        ("K2", 0.857, "0.0%"),
    ],
)
def test_numbers_stay_numbers_with_indonesian_formats(
    written: Path, ref: str, value: float, number_format: str
) -> None:
    got = cell(written, "Status KKMP", ref)
    assert got.data_type == "n"
    assert got.value == value
    assert got.number_format == number_format


def test_dates_are_dates_and_aware_times_become_wib(written: Path) -> None:
    ws = load_workbook(written)["Status KKMP"]
    assert ws["L2"].is_date and ws["L2"].value == datetime(2025, 8, 16)
    assert ws["L2"].number_format == "[$-421]d mmm yyyy"
    assert ws["M2"].value == UPDATED
    assert ws["M2"].number_format == "[$-421]d mmm yyyy hh:mm"
    assert ws["M3"].value == UPDATED  # 01:30 UTC is 08:30 WIB, written without a zone


def test_cell_overrides_column_format(written: Path) -> None:
    ws = load_workbook(written)["Ringkasan"]
    assert (ws["B3"].value, ws["B3"].number_format) == (3, "#,##0")
    assert (ws["B5"].value, ws["B5"].number_format) == (125_000_000, "[$Rp-421]#,##0")
    assert (ws["B6"].value, ws["B6"].number_format) == (0.857, "0.0%")
    assert ws["B7"].is_date and ws["B7"].value == UPDATED


def test_text_that_looks_like_a_formula_or_number_stays_text(written: Path) -> None:
    ws = load_workbook(written)["Status KKMP"]
    formula_like, phone, nib = ws["C3"], ws["N3"], ws["F3"]
    assert formula_like.data_type == "s"
    assert formula_like.value == '=HYPERLINK("http://evil.example","klik")'
    assert (phone.data_type, phone.value) == ("s", "+62 812 3456 7890")
    assert (nib.data_type, nib.value) == ("s", "912000765432")


def test_zone_cells_are_filled_with_the_zone_colour(written: Path) -> None:
    ws = load_workbook(written)["Status KKMP"]
    for ref, zone in (("D2", "Hijau"), ("D3", "Merah"), ("D4", "Kuning")):
        assert ws[ref].value == zone
        assert ws[ref].fill.fill_type == "solid"
        assert ws[ref].fill.fgColor.rgb == "FF" + ZONE_COLORS[zone].lstrip("#")


def test_links_bools_blanks_and_dirty_text(written: Path) -> None:
    ws = load_workbook(written)["Status KKMP"]
    assert ws["O2"].value == "https://docs.google.com/spreadsheets/d/abc"
    assert ws["O2"].hyperlink.target == "https://docs.google.com/spreadsheets/d/abc"
    # A local workbook keeps its path as text and links to it relative to the status folder.
    assert ws["O3"].value == "/srv/kkmp/kkmp-002.xlsx"
    assert linked_file(ws["O3"], written.parent) == Path("/srv/kkmp/kkmp-002.xlsx")
    assert (ws["G2"].value, ws["G3"].value) == ("Ya", "Tidak")
    assert ws["C4"].value == "KKMP Sukajadi"  # XML-illegal control characters removed
    assert ws["E2"].value is None  # "" is blank
    assert ws["H4"].value is None  # Cell(None)
    assert ws["J4"].value is None  # NaN
    assert ws["L4"].value is None  # None
    assert ws["O4"].value is None


def linked_file(cell: Any, folder: Path) -> Path:
    """The file a link cell opens: its target (Windows separators, URL-escaped, relative to the
    workbook's folder, as Excel stores it) resolved the way Excel and LibreOffice do."""
    target = unquote(cell.hyperlink.target).replace("\\", "/")
    assert not target.startswith("/"), f"not a relative link: {target}"
    return Path(os.path.normpath(folder / target))


def local_city(tmp_path: Path) -> tuple[Path, Path]:
    """A status workbook in out/ whose Tautan points at a cooperative workbook in workbooks/."""
    coop = tmp_path / "kota" / "workbooks" / "KKMP Duri Kepa 01.xlsx"
    coop.parent.mkdir(parents=True)
    Workbook().save(coop)
    status = tmp_path / "kota" / "out" / "status-kota.xlsx"
    rows = [
        ["K1", str(coop)],
        ["K2", str(coop.parent / "KKMP #2.xlsx")],  # "#" reads as a cell anchor: stays text
        ["K3", "KKMP-3.xlsx"],  # relative to nothing known: stays text
    ]
    book = StatusBook([Sheet("Status KKMP", [Col("ID"), Col("Tautan", Fmt.LINK)], rows)])
    write_status_workbook(book, status)
    return status, coop


def test_a_local_workbook_is_linked_relative_to_the_status_folder(tmp_path: Path) -> None:
    status, coop = local_city(tmp_path)
    ws = load_workbook(status)["Status KKMP"]
    assert ws["B2"].value == str(coop)
    assert ws["B2"].hyperlink.target == "..\\workbooks\\KKMP%20Duri%20Kepa%2001.xlsx"
    assert linked_file(ws["B2"], status.parent) == coop
    assert (ws["B3"].hyperlink, ws["B4"].hyperlink) == (None, None)
    assert (ws["B3"].value, ws["B4"].value) == (str(coop.parent / "KKMP #2.xlsx"), "KKMP-3.xlsx")
    # The link is relative: the folder copied elsewhere (a share, a USB stick) still opens it.
    moved = tmp_path / "salinan"
    shutil.copytree(tmp_path / "kota", moved)
    copy = load_workbook(moved / "out" / status.name)["Status KKMP"]
    assert linked_file(copy["B2"], moved / "out").read_bytes() == coop.read_bytes()


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not on PATH")
def test_libreoffice_follows_the_relative_link_to_the_cooperative(tmp_path: Path) -> None:
    """LibreOffice opens the status workbook and resolves the Tautan link to the cooperative's
    file (its HTML export writes every link it read as an absolute address)."""
    status, coop = local_city(tmp_path)
    profile = Path("/tmp") / f"kkmp-lo-{uuid.uuid4().hex}"
    out = tmp_path / "html"
    try:
        done = subprocess.run(
            [
                "soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
                "--convert-to", "html", "--outdir", str(out), str(status),
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert done.returncode == 0, done.stderr
    html = (out / "status-kota.html").read_text(encoding="utf-8", errors="replace")
    assert re.findall(r'<a href="(file:[^"]+)"', html) == [coop.as_uri()]


def test_excel_limits_on_text_and_integers(tmp_path: Path) -> None:
    path = tmp_path / "limits.xlsx"
    long_url = "https://example.org/" + "a" * 2100
    book = StatusBook(
        [
            Sheet(
                "Batas",
                [Col("Teks"), Col("Angka", Fmt.INT), Col("Tautan", Fmt.LINK)],
                [["x" * 40_000, 10**15 + 1, long_url]],
            )
        ]
    )
    write_status_workbook(book, path)
    ws = load_workbook(path)["Batas"]
    assert len(ws["A2"].value) == 32_767 and ws["A2"].value.endswith("…")
    assert (ws["B2"].data_type, ws["B2"].value) == ("s", "1000000000000001")
    assert ws["C2"].value == long_url and ws["C2"].hyperlink is None


def test_column_widths_given_or_fitted_and_capped(written: Path) -> None:
    ws = load_workbook(written)["Status KKMP"]
    assert ws.column_dimensions["N"].width == pytest.approx(30, abs=1)  # Col.width
    assert ws.column_dimensions["E"].width == pytest.approx(50, abs=1)  # long reasons: capped
    assert 10 < ws.column_dimensions["B"].width < 20  # "Kecamatan" / "Coblong"


def test_sheet_names_made_acceptable_to_excel(tmp_path: Path) -> None:
    path = tmp_path / "names.xlsx"
    names = ["Masalah: Data/2025", "Riwayat", "riwayat", "x" * 40]
    write_status_workbook(StatusBook([Sheet(name, [Col("A")]) for name in names]), path)
    assert load_workbook(path).sheetnames == [
        "Masalah  Data 2025",
        "Riwayat",
        "riwayat (2)",
        "x" * 31,
    ]


def test_workbook_title(written: Path) -> None:
    assert load_workbook(written).properties.title == xlsx.DEFAULT_TITLE


# --- charts ----------------------------------------------------------------------------------

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Relationship id -> target part, for one part of the package."""
    rels_part = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    if rels_part not in archive.namelist():
        return {}
    root = ET.fromstring(archive.read(rels_part))
    return {
        rel.get("Id", ""): posixpath.normpath(
            posixpath.join(posixpath.dirname(part), rel.get("Target", ""))
        )
        for rel in root.findall("pr:Relationship", NS)
    }


def charts_on(path: Path, sheet_name: str) -> list[str]:
    """The chart XML of every chart drawn on `sheet_name`: workbook -> sheet -> drawing -> chart."""
    with zipfile.ZipFile(path) as archive:
        workbook = ET.fromstring(archive.read("xl/workbook.xml"))
        rid = next(
            s.get(f"{{{NS['r']}}}id")
            for s in workbook.iterfind("m:sheets/m:sheet", NS)
            if s.get("name") == sheet_name
        )
        sheet_part = _rels(archive, "xl/workbook.xml")[rid or ""]
        drawings = [p for p in _rels(archive, sheet_part).values() if "/drawings/" in p]
        charts = [c for d in drawings for c in _rels(archive, d).values() if "/charts/" in c]
        return [archive.read(chart).decode() for chart in charts]


def test_charts_are_native_and_placed_on_ringkasan(written: Path) -> None:
    with zipfile.ZipFile(written) as archive:
        assert "xl/charts/chart1.xml" in archive.namelist()
    column, line = charts_on(written, "Ringkasan")
    assert '<c:grouping val="stacked"/>' in column
    assert "<c:f>Kecamatan!$B$2:$B$3</c:f>" in column  # Zona Hijau values
    assert "<c:f>Kecamatan!$A$2:$A$3</c:f>" in column  # categories
    assert all(ZONE_SERIES_COLORS[zone].lstrip("#") in column for zone in ZONES)
    assert "<c:lineChart>" in line
    assert "<c:f>Riwayat!$C$2:$C$18</c:f>" in line
    assert charts_on(written, "Kecamatan") == []


def test_chart_over_an_empty_sheet_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    write_status_workbook(sample_book(kecamatan_rows=[]), path)
    charts = charts_on(path, "Ringkasan")
    assert len(charts) == 1 and "<c:lineChart>" in charts[0]  # only the trend is drawn
    assert load_workbook(path)["Kecamatan"].max_row == 1


# --- files -----------------------------------------------------------------------------------


def test_creates_the_folder_and_replaces_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "status.xlsx"
    write_status_workbook(StatusBook([Sheet("Lama", [Col("A")])]), path)
    write_status_workbook(sample_book(), path)
    assert load_workbook(path).sheetnames == SHEETS
    assert os.listdir(path.parent) == ["status.xlsx"]


def test_failed_replace_keeps_the_old_file_and_no_temp(
    written: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = written.read_bytes()

    def locked(src: object, dst: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(OutputError, match="open in Excel"):
        write_status_workbook(sample_book(kecamatan_rows=[]), written)
    assert written.read_bytes() == before
    assert os.listdir(written.parent) == [written.name]


def test_failure_while_writing_keeps_the_old_file_and_no_temp(
    written: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = written.read_bytes()

    def disk_full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(xlsx, "_build_workbook", disk_full)
    with pytest.raises(OutputError, match="disk is full"):
        write_status_workbook(sample_book(), written)
    assert written.read_bytes() == before
    assert os.listdir(written.parent) == [written.name]


def test_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "laporan"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="not a folder") as info:
        write_status_workbook(sample_book(), blocker / "status.xlsx")
    assert "output path" in str(info.value)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores modes")
def test_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="permission denied"):
            write_status_workbook(sample_book(), folder / "status.xlsx")
    finally:
        folder.chmod(0o755)


def test_no_permission_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same path as test_read_only_folder, for runs as root (e.g. in containers).
    def denied(*args: object, **kwargs: object) -> int:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(OutputError) as info:
        write_status_workbook(sample_book(), tmp_path / "status.xlsx")
    message = str(info.value)
    assert "permission denied" in message and "write permission" in message
    assert str(tmp_path) in message


@pytest.mark.skipif(os.name != "posix", reason="symlinks need privileges on Windows")
def test_a_symlinked_path_keeps_its_link(tmp_path: Path) -> None:
    real = tmp_path / "shared" / "status.xlsx"
    link = tmp_path / "status.xlsx"
    real.parent.mkdir()
    link.symlink_to(real)
    write_status_workbook(sample_book(), link)
    assert link.is_symlink()
    assert load_workbook(real).sheetnames == SHEETS


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_file_mode_follows_umask_and_is_kept_on_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "status.xlsx"
    umask = os.umask(0o022)
    try:
        write_status_workbook(sample_book(), path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's 0o600
        path.chmod(0o640)
        write_status_workbook(sample_book(), path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(umask)


# --- scale and a real spreadsheet program ----------------------------------------------------


@pytest.mark.slow
def test_six_thousand_rows_are_all_written(tmp_path: Path) -> None:
    # Speed is measured in bench/, not asserted here: this checks a province-sized table is whole.
    rows = [status_row(ID=f"KKMP-{n:05d}", Anggota_Aktif=n) for n in range(6000)]
    rows = [row + row[7:17] for row in rows]  # 25 columns
    columns = STATUS_COLUMNS + [Col(f"Ekstra {n}", Fmt.INT) for n in range(10)]
    book = StatusBook([Sheet("Status KKMP", columns, rows)])
    path = tmp_path / "big.xlsx"
    write_status_workbook(book, path)
    assert load_workbook(path, read_only=True)["Status KKMP"].max_row == 6001


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not on PATH")
def test_libreoffice_opens_it(written: Path, tmp_path: Path) -> None:
    profile = Path("/tmp") / f"kkmp-lo-{uuid.uuid4().hex}"
    out = tmp_path / "csv"
    # CSV of every sheet (last token -1), cells "as shown" (token 9), UTF-8 (76).
    csv_filter = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
    try:
        done = subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--convert-to",
                csv_filter,
                "--outdir",
                str(out),
                str(written),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert done.returncode == 0, done.stderr
    exported = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.csv")}
    assert len(exported) == len(SHEETS), (exported.keys(), done.stdout, done.stderr)
    status = exported["status-kota-Status KKMP.csv"]
    assert '"=HYPERLINK(""http://evil.example"",""klik"")"' in status  # still text, not run
    assert "16 Agu 2025" in status  # Indonesian month names from [$-421]
    assert "Rp1" in exported["status-kota-Ringkasan.csv"]


def test_page_setup_for_printing(tmp_path: Path) -> None:
    """A4 landscape, one page wide, header repeated and as tall as its wrapped labels, long text
    wrapped with its row made tall enough, the footer, and the columns left off paper folded."""
    long_reason = (
        "Tidak ada penjualan 30 hari terakhir; Data tidak diperbarui 44 hari; 1 galat data"
    )
    sheet = Sheet(
        "Status KKMP",
        [
            Col("ID"),
            Col("Nama Koperasi", width=22, wrap=True),
            Col("Alasan Zona", width=32, wrap=True),
            Col("NPWP"),
            Col("Status Operasional"),
            Col("Tautan", Fmt.LINK),
        ],
        rows=[["KKMP-1", "KKMP Dago", long_reason, "Ada", "Aktif", "https://x.example/1"]],
        note="Kota — data per 29 Januari 2026",
        print_setup=Print(
            footer="Kota A & B — data per 29 Januari 2026",
            columns=("Nama Koperasi", "Alasan Zona", "Status Operasional"),
        ),
    )
    path = tmp_path / "cetak.xlsx"
    write_status_workbook(StatusBook([sheet]), path)
    ws = load_workbook(path)["Status KKMP"]

    assert ws.page_setup.paperSize == 9  # A4
    assert ws.page_setup.orientation == "landscape"
    # One page wide (1 is the file format's default, left out), as many tall as needed (0).
    assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$2:$2"
    assert ws.print_options.gridLines
    footer = ws.oddFooter
    assert footer.left.text == "Kota A && B — data per 29 Januari 2026"
    assert footer.center.text == "&A"
    assert footer.right.text == "Halaman &P dari &N"
    # "Status Operasional" wraps to two lines in its fitted width: the header row is two tall.
    assert ws.row_dimensions[2].height == pytest.approx(2 * 15 + 2, abs=0.5)  # whole pixels
    # The reason takes three lines of 32 characters; the row is made that tall, and wrapped.
    assert ws.row_dimensions[3].height == 3 * 15
    assert ws["C3"].alignment.wrap_text and ws["C3"].alignment.vertical == "top"
    # Columns off paper are hidden in an outline group, their cells still there; the note moves
    # above the first shown column.
    hidden = {c for c in "ABCDEF" if ws.column_dimensions[c].hidden}
    assert hidden == {"A", "D", "F"}
    assert ws["A3"].value == "KKMP-1" and ws["D3"].value == "Ada"
    assert ws.column_dimensions["A"].outline_level == 1
    assert ws["B1"].value == "Kota — data per 29 Januari 2026" and ws["A1"].value is None
