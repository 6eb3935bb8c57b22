"""`docs/figures.md`, generated from the figure catalogue so that the page cannot drift from it.

`tests/test_figures.py` compares the file with `figures_markdown()`; after changing the
catalogue, write the page again with

    python -c "from kkmp_sheets.core.figures_doc import figures_markdown as m; print(m(), end='')" > docs/figures.md
"""

from __future__ import annotations

from kkmp_sheets.core import figures as cat
from kkmp_sheets.core.kecamatan import NO_KECAMATAN
from kkmp_sheets.core.tables import PERCENT_DECIMALS, Fmt
from kkmp_sheets.core.template import PROFIL

_FORMATS = {
    Fmt.INT: "whole number, `1.250`",
    Fmt.NUMBER: "number, `1.250,5`",
    Fmt.RUPIAH: "rupiah, `Rp1.250.000`",
    Fmt.PERCENT: f"share, {PERCENT_DECIMALS} decimal: `85,7%`",
    Fmt.DATE: "date, `17 Agu 2025`",
    Fmt.DATETIME: "date and time (WIB), `17 Agu 2025 08.30`",
    Fmt.TEXT: "text",
    Fmt.ZONE: "zone, coloured",
    Fmt.LINK: "link",
}

# Which figures each output shows (its own selection in `core/figures.py` or `core/report.py`).
_OUTPUTS = (
    ("Ringkasan (city)", cat.RINGKASAN + cat.PROGRESS, True),
    ("Kecamatan tab (per kecamatan)", cat.KECAMATAN_TAB, False),
    ("Riwayat (city, per day)", cat.RIWAYAT, False),
    ("City digest: Ringkasan and Menuju target", cat.RINGKASAN + cat.PROGRESS, True),
    ("Kecamatan digest (per kecamatan)", cat.KECAMATAN_DIGEST, False),
    ("Kecamatan digest, per cooperative", cat.KECAMATAN_DIGEST_COOP, False),
    ("Cooperative digest", cat.COOP_DIGEST + cat.ARREARS, False),
    ("CLI summary (`run --once`, `demo`)", (*cat.CLI_SUMMARY, "needed"), True),
    ("Hasil Pemeriksaan (its dates line)", ("galat", "peringatan"), False),
    ("Laporan Pimpinan (city; per kecamatan)", cat.LAPORAN + cat.PROGRESS, True),
)

_INTRO = """\
# Figures

Every figure the service shows — in the status workbook, the digests, Hasil Pemeriksaan and the
CLI summary — is defined once, in the catalogue `kkmp_sheets/core/figures.py`: its label, unit,
display format, how it is read for one cooperative and how it rolls up to a kecamatan and the
city. Each cycle measures every cooperative once (`figures.measure`) and every output reads that
one measurement, so the same figure has the same value wherever it appears
(`tests/test_figure_agreement.py` checks this on two generated cities).

This page is generated from the catalogue (`kkmp_sheets/core/figures_doc.py`) and a test fails
when they differ. D is the as-of date in Asia/Jakarta (`--as-of`).
"""

_TRENDS = """\
## The trend charts

Drawn from Riwayat (one row per recorded day), in the xlsx and in Google mode alike:

- **KKMP Aktif dan Zona per Hari** (on Ringkasan and on Riwayat): KKMP Aktif and the zone counts
  Hijau, Kuning and Merah per day, the zones in their colours. This is how the trend shows "KKMP
  Aktif by zone": under the zone rules a Hijau or Kuning cooperative operates, so the Hijau and
  Kuning lines are active cooperatives, and the gap between KKMP Aktif and Hijau + Kuning is the
  active cooperatives that are Merah (no sale, or not updated).
- **Anggota Aktif per Hari** and **Omset 30 Hari per Hari** (on Riwayat).

Every point has a marker, so the first day (one point, no line yet) shows. The date axis counts
days: its labels are the recorded days (`29 Jan`), never the start of a month.
"""

_DEFINITIONS = f"""\
## Definitions that were ambiguous

### Target count (PRODUCT.md amendment "Target count")

The number of cooperatives that must be Aktif to meet `[city] target_active_share` is the
**smallest whole number of cooperatives that reaches that share of Jumlah KKMP**: 85 % of 10 is
8,5, so **9**; 70 % of 10 is exactly **7**; of 0 cooperatives, 0. The share is taken exactly as
written in the config (`0.85` is 17/20), so no rounding of binary fractions moves the count.
**KKMP yang Masih Harus Aktif** is that number minus KKMP Aktif, never below 0. One function
(`figures.target_progress`) gives Ringkasan, the city digest and the CLI summary these numbers;
before, Ringkasan rounded (8) where the digest took the ceiling (9).

### One kecamatan key (`kkmp_sheets/core/kecamatan.py`)

The registry is typed by hand: one kecamatan arrives as `Kebon Jeruk`, `KEBON JERUK` or
`Kec. Kebon Jeruk`. Every output groups cooperatives the same way — the Kecamatan tab, the
Kecamatan column of Status KKMP, the city digest's zones per kecamatan, the kecamatan digests
and `kkmp-sheets check`:

- **Key**: the Kemendagri code of the kecamatan, the first three segments of the row's Kode
  Wilayah (`31.73.05.1004` → `31.73.05`), when the registry gives one. A row without a code
  joins the coded group whose name matches its name; otherwise it is grouped by its name, made
  comparable (case, spaces, punctuation and a leading `Kecamatan`/`Kec.` ignored). A row with
  neither is in the group `{NO_KECAMATAN}` (shown last; it gets no kecamatan digest).
- **Shown name**: the official Kemendagri name when the code is in the shipped list (the name
  the workbook template pre-fills), else the registry spelling used most often in the group (on
  a tie, the first in registry order). `[mail.kecamatan]` names match it the same tolerant way.
- A wrong code wins over a right name: the row is grouped by its code, and `check` reports the
  mismatch (and lists each kecamatan with the other spellings it has in the registry).

### One label per Profil field

A problem in the Profil tab is reported in Masalah Data and Hasil Pemeriksaan under the field's
one label (column **Kolom**), whichever of its names the row uses, so that filtering by Kolom
finds every row of a field:

"""


def figures_markdown() -> str:
    out = [_INTRO, "## The catalogue\n"]
    out.append(
        "| Key | Label | English label | Unit | Format | For one cooperative | Roll-up |\n"
        "|---|---|---|---|---|---|---|"
    )
    for f in cat.FIGURES:
        label = f"**{f.label}**" + (f" (Ringkasan: **{f.city_label}**)" if f.city_label else "")
        english = f.label_en + (f"; Ringkasan: {f.city_label_en}" if f.city_label_en else "")
        rollup = cat.ROLLUP_WORDS[f.rollup]
        out.append(
            f"| `{f.key}` | {label} | {english} | {f.unit} | {_FORMATS[f.fmt]} | "
            f"{f.definition} | {rollup} |"
        )
    out.append("\n## Where each figure is shown\n")
    out.append("| Output | Figures, in order |\n|---|---|")
    for name, keys, city in _OUTPUTS:
        labels = ", ".join(cat.BY_KEY[k].label_for(city=city) for k in keys)
        out.append(f"| {name} | {labels} |")
    out.append(
        "\nStatus KKMP shows, besides who the cooperative is, the per-cooperative figures in the "
        "contract's column order. Batas Target and Sisa Hari appear only when `[city] "
        "target_date` is set. Pasokan is a table of its own, per Kategori in the unit "
        "people plan in (eggs converted between butir and kg), for the city and per "
        "kecamatan (docs/pasokan.md); its Nilai Stok counts the same Stok rows as the figure "
        "Nilai Stok, so its rows add up to the city's.\n"
    )
    out.append(_TRENDS)
    out.append(
        f"## Week on week: {cat.WEEK_ON_WEEK_LABEL}\n\n"
        f"Ringkasan shows, beside each of its figures, the column **{cat.WEEK_ON_WEEK_LABEL}** "
        f"({cat.WEEK_ON_WEEK_LABEL_EN}). {cat.WEEK_ON_WEEK_DEFINITION} One function "
        "(`figures.week_on_week`, with `figures.week_ago` for the day) defines it.\n"
    )
    out.append(_DEFINITIONS + "| Kolom | Also typed as |\n|---|---|")
    for field in PROFIL.fields:
        aliases = ", ".join(field.aliases) or "—"
        out.append(f"| {field.label} | {aliases} |")
    return "\n".join(out) + "\n"
