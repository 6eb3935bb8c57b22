"""The staff guide (`docs/panduan-pengurus.md`): its generated parts and its pictures.

Two parts of the guide are generated so that they never drift from the code: the table of every
problem Hasil Pemeriksaan can show (from `issue.CATALOG`), and the columns of each tab with how
to fill them (from `workbook_template`, which takes them from `template.py`). They sit between
`<!-- BEGIN generated:NAME -->` and `<!-- END generated:NAME -->` markers; a test compares them
with what this module generates.

    python -m kkmp_sheets.onboarding.guide                    # rewrite the generated parts in place
    python -m kkmp_sheets.onboarding.guide --screenshots      # and render docs/img/panduan-*.png

The screenshots are the real template, filled with synthetic demo data, rendered by LibreOffice
headless (each tab as one PDF page) and `pdftoppm` (poppler-utils).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kkmp_sheets.core.issue import CATALOG, Severity
from kkmp_sheets.core.parse import RawWorkbook, parse_workbook
from kkmp_sheets.core.template import PROFIL
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.onboarding import workbook_template as wt

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 1, 29)  # the demo's day; the pictures show it
GUIDE = ROOT / "docs" / "panduan-pengurus.md"
IMAGES = ROOT / "docs" / "img"

# How the problems are grouped in the guide; a code not listed here goes under "Lainnya".
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Berkas, tab dan kolom",
        (
            "workbook-unreadable",
            "workbook-too-large",
            "workbook-read-stopped",
            "workbook-missing",
            "workbook-no-access",
            "workbook-not-native",
            "workbook-unavailable",
            "workbook-no-tabs",
            "workbook-outside-root",
            "feedback-read-only",
            "feedback-open-elsewhere",
            "feedback-changed",
            "feedback-not-written",
            "tab-missing",
            "header-not-found",
            "column-missing",
            "column-duplicate",
            "tab-too-large",
        ),
    ),
    (
        "Isi sel",
        (
            "required-missing",
            "value-unreadable",
            "choice-unknown",
            "negative-value",
            "future-date",
            "date-before-start",
            "missing-optional",
            "formula-error",
        ),
    ),
    (
        "NIK dan nomor anggota",
        (
            "nik-as-number",
            "nik-length",
            "nik-birthdate",
            "nik-region-unknown",
            "nik-outside-city",
            "nik-duplicate",
            "nik-elsewhere",
            "member-id-duplicate",
            "member-unknown",
            "member-left-before-join",
        ),
    ),
    (
        "Stok dan penjualan",
        ("item-unknown", "item-code-duplicate", "total-mismatch", "sale-price-below-cost"),
    ),
    (
        "Profil",
        (
            "nib-format",
            "npwp-format",
            "npwp-15-digit",
            "sk-ahu-format",
            "kode-wilayah-format",
            "kode-wilayah-unknown",
            "kode-wilayah-mismatch",
            "phone-format",
            "email-format",
            "latlong-format",
            "latlong-short-link",
            "latlong-swapped",
            "latlong-outside-area",
            "profil-field-missing",
            "bank-account-incomplete",
        ),
    ),
    ("Daftar KKMP di dinas", ("registry-id-duplicate",)),
    ("Data yang tiba-tiba hilang", ("likely-deletion",)),
)
_PLACEHOLDERS = {"column": "[kolom]", "tab": "[tab]", "expected": "[…]", "detail": "[…]"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def problem_table() -> str:
    """Every problem Hasil Pemeriksaan can show, grouped, with its level and its fix."""
    grouped = {code for _, codes in GROUPS for code in codes}
    groups = [*GROUPS]
    rest = tuple(code for code in CATALOG if code not in grouped)
    if rest:
        groups.append(("Lainnya", rest))
    lines: list[str] = []
    for title, codes in groups:
        present = [c for c in codes if c in CATALOG]
        if not present:
            continue
        lines += [f"#### {title}", "", "| Tingkat | Masalah | Cara memperbaiki |", "|---|---|---|"]
        for code in present:
            entry = CATALOG[code]
            level = "**Galat**" if entry.severity is Severity.GALAT else "Peringatan"
            message = entry.message.format(**_PLACEHOLDERS)
            fix = entry.fix.format(**_PLACEHOLDERS)
            lines.append(f"| {level} | {_cell(message)} | {_cell(fix)} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def tab_tables() -> str:
    """Each tab's columns: required or not, and how to fill them (the Petunjuk tab's text)."""
    made = wt.design()
    lines: list[str] = []
    sections: list[tuple[str, list[tuple[str, bool, str]]]] = [
        (
            PROFIL.name,
            [(r.look.column.label, r.look.column.required, r.look.hint) for r in made.profil],
        )
    ]
    for tab in made.tables:
        rows = []
        for lk in tab.looks:
            rows.append((lk.column.label, lk.column.required, lk.full_hint))
        sections.append((tab.name, rows))
    for name, rows in sections:
        lines += [f"#### Tab {name}", "", wt.TAB_PURPOSE[name], ""]
        lines += ["| Kolom | Wajib | Cara mengisi |", "|---|---|---|"]
        lines += [
            f"| {label} | {'ya' if req else ''} | {_cell(hint)} |" for label, req, hint in rows
        ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


GENERATED = {"masalah": problem_table, "kolom": tab_tables}


def regions(text: str) -> dict[str, str]:
    """The generated regions of a guide, by name."""
    pattern = re.compile(r"<!-- BEGIN generated:(\w+) -->\n(.*?)<!-- END generated:\1 -->", re.S)
    return {m[1]: m[2] for m in pattern.finditer(text)}


def render(text: str) -> str:
    """The guide with every generated region rewritten."""

    def fill(match: re.Match[str]) -> str:
        name = match[1]
        body = GENERATED[name]() if name in GENERATED else match[2]
        return f"<!-- BEGIN generated:{name} -->\n{body}<!-- END generated:{name} -->"

    return re.sub(
        r"<!-- BEGIN generated:(\w+) -->\n(.*?)<!-- END generated:\1 -->", fill, text, flags=re.S
    )


# --- filling a template with existing data (screenshots, tests) ----------------------------------


def records_from(raw: RawWorkbook) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """A workbook's Profil values and records, typed (dates, numbers, listed values), ready to
    be written into a template (`workbook_template.write_xlsx(..., data=..., profil=...)`)."""
    parsed = parse_workbook(raw)
    data = {
        name: [dict(rec.values) for rec in table.records] for name, table in parsed.tables.items()
    }
    profil = {k: v for k, v in parsed.profil.values.items() if v is not None}
    return profil, data


# --- screenshots ---------------------------------------------------------------------------------

PDF_EXPORT = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'


def to_pdf(xlsx: Path, out_dir: Path, *, export: str = PDF_EXPORT) -> Path:
    """`xlsx` as a PDF by LibreOffice headless, with a profile of its own (a shared one would
    clash with another LibreOffice running). By default every tab as one page, in tab order
    (the guide's pictures); `export="pdf"` prints it as its page setup says."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is needed to render the screenshots")
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    try:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                export,
                "--outdir",
                str(out_dir),
                str(xlsx),
            ],
            check=True,
            capture_output=True,
            timeout=180,
            env={**os.environ, "LC_ALL": "id_ID.UTF-8", "LANG": "id_ID.UTF-8"},  # Rp1.250.000
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return out_dir / f"{xlsx.stem}.pdf"


def page_png(
    pdf: Path, page: int, out: Path, *, dpi: int = 100, max_height_pt: float | None = None
) -> Path:
    """One PDF page (1-based) as a PNG; `max_height_pt` keeps only the top of a tall page."""
    if shutil.which("pdftoppm") is None:
        raise RuntimeError("pdftoppm (apt-get install poppler-utils) is needed for screenshots")
    args = ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", "-singlefile"]
    if max_height_pt:
        args += ["-x", "0", "-y", "0", "-W", "4000", "-H", str(int(max_height_pt * dpi / 72))]
    subprocess.run([*args, str(pdf), str(out.with_suffix(""))], check=True, timeout=60)
    return out


def screenshot_city(root: Path) -> tuple[Path, Path]:
    """A one-cooperative city whose workbook is the template filled with demo data (a few
    deliberate mistakes included) and checked once: (workbook, config)."""
    import csv

    from kkmp_sheets import config
    from kkmp_sheets.core.registry import read_registry
    from kkmp_sheets.demo import build_demo_city
    from kkmp_sheets.outputs.local import LocalSink
    from kkmp_sheets.service.cycle import run_cycle
    from kkmp_sheets.sources.local import LocalSource

    demo = build_demo_city(root / "demo", size=12, mistakes=False, as_of=AS_OF)
    chosen = next(c for c in demo.coops if c.kind == "mapan")
    source = LocalSource(demo.registry_path)
    coops, _ = read_registry(source.registry_rows())
    coop = next(c for c in coops if c.id == chosen.id)
    profil, data = records_from(source.read(coop))
    into_city(data, coop.kode_wilayah or "")
    _sample_mistakes(data)
    city = root / "kota"
    workbook = city / "workbooks" / f"{coop.id}.xlsx"
    wt.write_xlsx(workbook, coop, data=data, profil=profil)
    with (city / "registry.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(
            ["ID", "Nama Koperasi", "Kelurahan", "Kecamatan", "Kode Wilayah", "Spreadsheet"]
        )
        out.writerow(
            [coop.id, coop.nama, coop.kelurahan, coop.kecamatan, coop.kode_wilayah,
             f"workbooks/{workbook.name}"]
        )  # fmt: skip
    cfg_path = city / "city.toml"
    cfg_path.write_text(demo.config_path.read_text(encoding="utf-8"), encoding="utf-8")
    cfg = config.load(cfg_path)
    run_cycle(
        cfg,
        source=LocalSource(cfg.registry),
        sink=LocalSink(cfg.output_path),
        as_of=AS_OF,
        now=datetime(2026, 1, 29, 8, 0, tzinfo=WIB),
    )
    return workbook, cfg_path


def into_city(data: Mapping[str, list[dict[str, Any]]], kode_wilayah: str) -> None:
    """Give every member whose NIK was issued outside the cooperative's city a NIK of its own
    kecamatan (the rest of the number kept): a demo city has such members on purpose, and they
    are warned about, which a picture of a clean workbook does not need."""
    kecamatan = kode_wilayah[:8].replace(".", "")
    for row in data.get("Anggota") or []:
        nik = row.get("nik")
        digits = getattr(nik, "digits", None) or (nik if isinstance(nik, str) else None)
        if digits and len(digits) == 16 and digits[:4] != kecamatan[:4]:
            row["nik"] = kecamatan + digits[6:]


def _sample_mistakes(data: Mapping[str, list[dict[str, Any]]]) -> None:
    """Three everyday mistakes, so that Hasil Pemeriksaan has something to say."""
    anggota = data.get("Anggota") or []
    if len(anggota) > 3:
        nik = anggota[2]["nik"]
        anggota[2]["nik"] = (getattr(nik, "digits", None) or str(nik))[:15]  # a digit missing
    penjualan = data.get("Penjualan") or []
    if len(penjualan) > 4:
        penjualan[4]["kode_barang"] = "BRS-99"  # not in Stok
    stok = data.get("Stok") or []
    if stok:
        stok[0]["harga_beli"] = None  # the stock value cannot use it


SHOTS = {  # tab → (file, dpi, top of the page kept in points, or None for all)
    wt.GUIDE_TAB: ("panduan-petunjuk.png", 80, 620.0),
    PROFIL.name: ("panduan-profil.png", 90, None),
    "Anggota": ("panduan-anggota.png", 90, 250.0),
    "Penjualan": ("panduan-penjualan.png", 90, 250.0),
    "Hasil Pemeriksaan": ("panduan-hasil-pemeriksaan.png", 90, None),
}


def render_screenshots(out_dir: Path = IMAGES) -> list[Path]:
    import python_calamine

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kkmp-shots-") as tmp:
        workbook, _ = screenshot_city(Path(tmp))
        names = python_calamine.CalamineWorkbook.from_path(str(workbook)).sheet_names
        pdf = to_pdf(workbook, Path(tmp))
        made = []
        for tab, (name, dpi, top) in SHOTS.items():
            page = names.index(tab) + 1
            made.append(page_png(pdf, page, out_dir / name, dpi=dpi, max_height_pt=top))
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kkmp_sheets.onboarding.guide", description=__doc__
    )
    parser.add_argument("--screenshots", action="store_true", help="also render docs/img/")
    parser.add_argument("--guide", type=Path, default=GUIDE)
    args = parser.parse_args(argv)
    text = args.guide.read_text(encoding="utf-8")
    args.guide.write_text(render(text), encoding="utf-8")
    print(f"updated {args.guide}")
    if args.screenshots:
        for path in render_screenshots(args.guide.parent / "img"):
            print(f"rendered {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
