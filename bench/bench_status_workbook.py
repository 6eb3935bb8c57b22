"""The local status workbook of a province: a fresh write, a rewrite with nothing changed, and a
rewrite with one cooperative's row changed, beside xlsxwriter writing the same cells plainly.

    python bench/bench_status_workbook.py                # 6,000 cooperatives
    python bench/bench_status_workbook.py --coops 600

The book is made up (not a cycle's): Status KKMP with one row per cooperative, Masalah Data with
about three problems each, Pasokan Kecamatan with about one row per cooperative, and the small
sheets with charts, every sheet under a "diperbarui" note that changes with each write, as in a
cycle. Each write goes over the previous file, as `run` does. The baseline is xlsxwriter's own
generic `Worksheet.write` of the same cells in `constant_memory` mode (no formats, widths, links
or charts), measured in the same run, since the machine is shared and only ratios hold.
Prints CPU seconds (best of `--repeat`), the ratio to the baseline, the sheets taken from the
previous file, and the file's size.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_header

from kkmp_sheets.core.tables import Cell, Chart, Col, Fmt, Sheet, StatusBook
from kkmp_sheets.outputs.xlsx import write_status_workbook

STATUS = [
    Col("ID"),
    Col("Kecamatan"),
    Col("Nama Koperasi", width=28, wrap=True),
    Col("Zona", Fmt.ZONE),
    Col("Alasan Zona", width=40, wrap=True),
    Col("Anggota Aktif", Fmt.INT),
    Col("Simpanan Wajib", Fmt.RUPIAH),
    Col("Omset 30 Hari", Fmt.RUPIAH),
    Col("Kelengkapan", Fmt.PERCENT),
    Col("Transaksi Terakhir", Fmt.DATE),
    Col("Data Diperbarui", Fmt.DATETIME),
    Col("Penanggung Jawab"),
    Col("Tautan", Fmt.LINK),
]
MASALAH = [
    Col("ID"),
    Col("Kelurahan"),
    Col("Tingkat"),
    Col("Tab"),
    Col("Baris", Fmt.INT),
    Col("Kolom"),
    Col("Masalah", width=60, wrap=True),
]
PASOKAN = [Col("Kecamatan"), Col("Kategori"), Col("Satuan"), Col("Jumlah", Fmt.NUMBER)]
REASONS = ["Tidak ada penjualan 30 hari", "NIB belum ada", "Rekening bank belum ada", ""]
PROBLEMS = [
    "NIK harus 16 digit angka",
    "Tanggal bergabung di masa depan",
    "Nomor telepon tidak dikenal",
    "Kolom Status wajib diisi",
]


def made_up_book(coops: int, seed: int = 7) -> StatusBook:
    rng = random.Random(seed)
    day = date(2026, 1, 29)
    status, masalah, pasokan = [], [], []
    for n in range(coops):
        coop = f"KKMP-{n:05d}"
        kecamatan = f"Kecamatan {n // 10:04d}"
        status.append(
            [
                coop,
                kecamatan,
                f"Koperasi Desa Merah Putih {n}",
                rng.choice(["Merah", "Kuning", "Hijau"]),
                rng.choice(REASONS),
                rng.randint(0, 400),
                rng.randint(0, 50) * 10_000,
                rng.randint(0, 200) * 25_000,
                rng.random(),
                day - timedelta(days=rng.randint(0, 60)),
                datetime(2026, 1, 28, 8, 0) + timedelta(minutes=rng.randint(0, 900)),
                f"Staf {n % 40}",
                f"https://docs.google.com/spreadsheets/d/{n:044d}",
            ]
        )
        for _ in range(rng.randint(0, 6)):
            masalah.append(
                [
                    coop,
                    f"Desa {n}",
                    "Galat",
                    "Anggota",
                    rng.randint(2, 300),
                    "NIK",
                    rng.choice(PROBLEMS),
                ]
            )
        pasokan.append(
            [kecamatan, rng.choice(["Beras", "Minyak", "Gula"]), "kg", rng.random() * 500]
        )
    kecamatan_rows = [[f"Kecamatan {k:04d}", 1, 2, 3] for k in range((coops + 9) // 10)]
    return StatusBook(
        sheets=[
            Sheet("Ringkasan", [Col("Ukuran"), Col("Nilai", Fmt.INT)], [["Jumlah KKMP", coops]]),
            Sheet("Status KKMP", STATUS, status),
            Sheet(
                "Kecamatan",
                [
                    Col("Kecamatan"),
                    *(Col(f"Zona {z}", Fmt.INT) for z in ("Merah", "Kuning", "Hijau")),
                ],
                kecamatan_rows,
            ),
            Sheet("Masalah Data", MASALAH, masalah),
            Sheet("Pasokan Kecamatan", PASOKAN, pasokan),
            Sheet("Metadata", [Col("Kunci"), Col("Nilai")], [["versi", Cell("1", Fmt.TEXT)]]),
        ],
        charts=[
            Chart(
                "Zona per Kecamatan",
                data_sheet="Kecamatan",
                category_col="Kecamatan",
                series_cols=("Zona Merah", "Zona Kuning", "Zona Hijau"),
            )
        ],
    )


def noted(book: StatusBook, when: int) -> StatusBook:
    note = f"Jawa Barat — data per 29 Januari 2026, diperbarui {when:02d}.00 WIB"
    return StatusBook([replace(sheet, note=note) for sheet in book.sheets], book.charts)


def cpu_of(action) -> tuple[float, object]:
    started = time.process_time()
    result = action()
    return time.process_time() - started, result


def plain_write(book: StatusBook, path: Path) -> None:
    """xlsxwriter's fastest path for the same cells: the baseline."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    for sheet in book.sheets:
        worksheet = workbook.add_worksheet(sheet.name)
        worksheet.write_row(0, 0, [col.name for col in sheet.columns])
        for r, row in enumerate(sheet.rows, start=1):
            for c, value in enumerate(row):
                worksheet.write(r, c, value.value if isinstance(value, Cell) else value)
    workbook.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coops", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(run_header())
    book = made_up_book(args.coops)
    cells = sum(len(s.rows) * len(s.columns) for s in book.sheets)
    print(f"{args.coops:,} cooperatives, {cells:,} cells in {len(book.sheets)} sheets")
    folder = Path(tempfile.mkdtemp(prefix="kkmp-status-bench-"))
    changed = noted(book, 10)
    status = changed.sheet("Status KKMP")
    status.rows = [list(row) for row in status.rows]  # its own rows: `book` stays as it was
    status.rows[0][5] += 1  # one cooperative's Anggota Aktif
    best: dict[str, float] = {}
    kept: dict[str, list] = {}
    size = 0
    for round_ in range(args.repeat):
        path = folder / f"round{round_}" / "status-kota.xlsx"
        for name, action in [
            ("baseline: xlsxwriter, plain", lambda: plain_write(book, folder / "plain.xlsx")),
            ("fresh write", lambda p=path: write_status_workbook(noted(book, 8), p)),
            ("nothing changed", lambda p=path: write_status_workbook(noted(book, 9), p)),
            ("one row changed", lambda p=path: write_status_workbook(changed, p)),
        ]:
            seconds, result = cpu_of(action)
            best[name] = min(best.get(name, seconds), seconds)
            kept[name] = result if isinstance(result, list) else []
        size = path.stat().st_size
    base = best["baseline: xlsxwriter, plain"]
    print(f"{'write':<30}{'CPU s':>8}{'x base':>8}  sheets kept from the previous file")
    for name, seconds in best.items():
        print(f"{name:<30}{seconds:>8.2f}{seconds / base:>8.2f}  {', '.join(kept[name]) or '-'}")
    print(f"file {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
