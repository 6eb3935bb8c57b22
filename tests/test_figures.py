"""The figure catalogue: one definition per figure, the target count, the kecamatan key, the
Profil labels, and the page generated from the catalogue."""

from __future__ import annotations

import dataclasses
from dataclasses import fields
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kkmp_sheets.config import Config, MailSettings
from kkmp_sheets.core import figures as cat
from kkmp_sheets.core.figures import Target, measure, target_count, target_progress
from kkmp_sheets.core.figures_doc import figures_markdown
from kkmp_sheets.core.kecamatan import NO_KECAMATAN, group_kecamatan, kecamatan_code, name_key
from kkmp_sheets.core.metrics import ADA, CoopFigures
from kkmp_sheets.core.parse import parse_workbook
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.report import STATUS_COLUMNS, CoopResult, status_book
from kkmp_sheets.core.validation import Context, validate
from kkmp_sheets.core.zoning import Zone
from kkmp_sheets.delivery.digest import render_digests
from kkmp_sheets.onboarding import check
from kkmp_sheets.service.cycle import CycleResult
from kkmp_sheets.store.history import Changes
from tests.conftest import AS_OF, PROFIL_ROWS, make_book

WIB = ZoneInfo("Asia/Jakarta")
DOC = Path(__file__).resolve().parents[1] / "docs" / "figures.md"


def result(
    coop_id: str,
    kecamatan: str = "Kebon Jeruk",
    kode: str | None = None,
    *,
    aktif: bool = True,
    zone: str = "Hijau",
    **values: object,
) -> CoopResult:
    coop = Coop(coop_id, f"KKMP {coop_id}", f"Kel {coop_id}", kecamatan, kode, f"{coop_id}.xlsx")
    fig = CoopFigures(
        status_operasional="Aktif" if aktif else "Persiapan",
        nib=ADA,
        data_diperbarui=datetime(2026, 1, 28, 9, 0, tzinfo=WIB),
        **values,  # type: ignore[arg-type]
    )
    return CoopResult(coop, fig, Zone(zone, ()))


# --- the catalogue ---------------------------------------------------------------------------------


def test_every_rolled_up_figure_is_a_field_of_totals_and_back():
    kinds = (cat.Rollup.COUNT, cat.Rollup.COUNT_IF, cat.Rollup.SUM, cat.Rollup.SHARE)
    rolled = {f.key for f in cat.FIGURES if f.rollup in kinds}
    assert {f.name for f in fields(cat.Totals)} == rolled
    target = {f.key for f in cat.FIGURES if f.rollup is cat.Rollup.TARGET}
    progress = target_progress(measure([], as_of=AS_OF).city, Target(AS_OF, 0.5), AS_OF)
    assert all(hasattr(progress, key) for key in target)
    assert all((f.read is None) == (f.rollup is cat.Rollup.TARGET) for f in cat.FIGURES)


def test_no_two_figures_share_a_label():
    seen: dict[str, str] = {}
    for f in cat.FIGURES:
        for label in (*f.labels, f.label_en, f.city_label_en):
            if label and label not in ("NIB", "NPWP", "Status Operasional"):  # same in English
                assert seen.setdefault(label, f.key) == f.key, label


def test_status_kkmp_keeps_the_contract_columns():
    assert [c.name for c in STATUS_COLUMNS] == [
        "ID", "Kecamatan", "Kelurahan", "Nama Koperasi", "Zona", "Alasan Zona",
        "Status Operasional", "NIB", "NPWP", "Rekening", "Siap Pembiayaan", "Anggota Aktif",
        "Anggota Baru 30 Hari", "Simpanan Pokok", "Simpanan Wajib", "Simpanan Sukarela",
        "Nilai Stok", "Omset 30 Hari", "Transaksi 30 Hari", "Transaksi Terakhir", "Galat",
        "Peringatan", "Data Diperbarui", "Penanggung Jawab", "Tautan",
    ]  # fmt: skip


def test_rollup_by_each_figures_rule():
    results = [
        result("A1", "A", omset=10.0, anggota_aktif=100, zone="Hijau"),
        result("A2", "A", aktif=False, omset=0.0, anggota_aktif=5, zone="Merah"),
        result("B1", "B", omset=5.0, anggota_aktif=50, zone="Kuning"),
    ]
    results[1].figures.data_diperbarui = datetime(2026, 1, 1, tzinfo=WIB)  # not reported
    measured = measure(results, as_of=AS_OF, reporting_window_days=7)
    a = measured.of_kecamatan("nama:a").totals
    assert (a.jumlah, a.aktif, a.hijau, a.merah, a.kelengkapan) == (2, 1, 1, 1, 0.5)
    assert (a.anggota_aktif, a.omset) == (105, 10.0)
    city = measured.city
    assert (city.jumlah, city.aktif, city.anggota_aktif, city.omset) == (3, 2, 155, 15.0)
    assert city.kelengkapan == pytest.approx(2 / 3)
    assert measure([], as_of=AS_OF).city.kelengkapan is None


# --- the target count ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "jumlah", "count"),
    [
        (0.85, 10, 9),  # 8,5 → 9: the smallest whole number reaching 85 %
        (0.7, 10, 7),  # exactly 7, although 0.7 × 10 is 7.000000000000001 in floats
        (0.5, 10, 5),
        (1.0, 56, 56),
        (0.9, 3, 3),
        (0.01, 56, 1),
        (0.85, 0, 0),
        (1.0, 0, 0),
    ],
)
def test_target_count_is_the_smallest_whole_number_reaching_the_share(share, jumlah, count):
    assert target_count(share, jumlah) == count
    if jumlah:
        assert count / jumlah >= share and (count - 1) / jumlah < share


def test_still_needed_never_below_zero_and_days_left_never_negative():
    results = [result(f"K{i}", aktif=i < 9) for i in range(10)]
    city = measure(results, as_of=AS_OF).city
    progress = target_progress(city, Target(AS_OF - timedelta(days=3), 0.85), AS_OF)
    assert (progress.target_count, progress.needed, progress.days_left) == (9, 0, 0)
    empty = target_progress(measure([], as_of=AS_OF).city, Target(None, 0.85), AS_OF)
    assert (empty.target_count, empty.needed, empty.capaian, empty.days_left) == (0, 0, None, None)


def config(**changes: object) -> Config:
    cfg = Config(
        path=Path("/nonexistent/city.toml"),
        city_name="Kota Contoh",
        city_kode="31.73",
        source_kind="local",
        registry="registry.csv",
        output_kind="local",
        output_path=Path("out/status-kota.xlsx"),
        mail_kind="outbox",
        outbox_dir=Path("out/outbox"),
        mail=MailSettings(sender="kkmp@dinas.contoh.go.id", kecamatan={}),
        target_date=date(2026, 6, 30),
        target_active_share=0.85,
    )
    return dataclasses.replace(cfg, **changes)


def test_ringkasan_and_the_city_digest_say_the_same_target_count():
    # 85 % of 10 with 8 Aktif: Ringkasan used round() (8, so 0 still needed), the digest ceil().
    results = [result(f"K{i:02d}", aktif=i < 8) for i in range(10)]
    cfg = config()
    figures = measure(results, as_of=AS_OF, target=Target(cfg.target_date, cfg.target_active_share))
    book = status_book(
        results,
        city_name=cfg.city_name,
        as_of=AS_OF,
        now=datetime(2026, 1, 29, 8, tzinfo=WIB),
        reporting_window_days=7,
        target=Target(cfg.target_date, cfg.target_active_share),
        figures=figures,
    )
    ringkasan = {row[0]: row[1].value for row in book.sheet("Ringkasan").rows}  # type: ignore[union-attr]
    assert ringkasan["Target Jumlah KKMP Aktif"] == 9
    assert ringkasan["KKMP yang Masih Harus Aktif"] == 1
    cycle = CycleResult(results, [], figures.city, AS_OF, "x.xlsx", 0.1, figures=figures)
    [city] = render_digests(
        cycle, Changes(AS_OF, None), cfg, now=datetime(2026, 1, 29, 8, tzinfo=WIB), kinds=["city"]
    )
    assert "  KKMP yang Masih Harus Aktif  1\n" in city.text
    assert "Masih perlu 1 KKMP lagi" in city.text


# --- the kecamatan key -----------------------------------------------------------------------------


def test_kecamatan_code_and_name_key():
    assert kecamatan_code("31.73.05.1004") == "31.73.05"
    assert kecamatan_code("3173051004") == "31.73.05"
    assert kecamatan_code(None) is None and kecamatan_code("31.73") is None
    assert name_key("Kec. Kebon Jeruk") == name_key("KEBON-JERUK") == "kebonjeruk"
    assert name_key("Kecamatan  Kebon Jeruk") == "kebonjeruk"
    assert name_key("Kecapi") == "kecapi"  # only a whole leading word is a prefix


def test_two_spellings_with_one_code_are_one_kecamatan_under_its_official_name():
    groups = group_kecamatan(
        [
            result("A", "KEBON JERUK", "31.73.05.1004").coop,
            result("B", "Kec. Kebon Jeruk", "31.73.05.1005").coop,
            result("C", "kebon jeruk", None).coop,  # no code: joins by its name
            result("D", "Cengkareng", "31.73.01.1001").coop,
            result("E", "Kembangan Raya", None).coop,  # not in the list: its own spelling
            result("F", "Kembangan Raya", None).coop,
            result("G", "", None).coop,
        ]
    )
    assert {groups[i].name for i in "ABC"} == {"Kebon Jeruk"}
    assert groups["A"].key == groups["C"].key == "31.73.05"
    assert groups["A"].spellings == ("KEBON JERUK", "Kec. Kebon Jeruk", "kebon jeruk")
    assert groups["D"].name == "Cengkareng" and groups["D"].key == "31.73.01"
    assert groups["E"] == groups["F"] and groups["E"].name == "Kembangan Raya"
    assert groups["G"].name == NO_KECAMATAN and not groups["G"].named


def test_one_kecamatan_in_the_tab_the_digests_and_check():
    results = [
        result("A", "KEBON JERUK", "31.73.05.1004", zone="Merah"),
        result("B", "Kec. Kebon Jeruk", "31.73.05.1005"),
        result("C", "Cengkareng", "31.73.01.1001"),
    ]
    cfg = config(mail=MailSettings(sender="k@dinas.contoh.go.id", kecamatan={
        "kebon jeruk": ("camat@contoh.go.id",)}))  # fmt: skip
    figures = measure(results, as_of=AS_OF)
    book = status_book(
        results,
        city_name="Kota Contoh",
        as_of=AS_OF,
        now=datetime(2026, 1, 29, 8, tzinfo=WIB),
        reporting_window_days=7,
        target=Target(None, 1.0),
        figures=figures,
    )
    tab = [row[:3] for row in book.sheet("Kecamatan").rows]
    assert tab == [["Cengkareng", 1, 1], ["Kebon Jeruk", 2, 2]]
    status = {row[0]: row[1] for row in book.sheet("Status KKMP").rows}
    assert status == {"A": "Kebon Jeruk", "B": "Kebon Jeruk", "C": "Cengkareng"}

    cycle = CycleResult(results, [], figures.city, AS_OF, "x.xlsx", 0.1, figures=figures)
    digests = render_digests(cycle, Changes(AS_OF, None), cfg, now=datetime.now(WIB))
    kecamatan = {d.key.audience: d for d in digests if d.key.kind == "kecamatan"}
    assert set(kecamatan) == {"kecamatan:Kebon Jeruk", "kecamatan:Cengkareng"}
    assert kecamatan["kecamatan:Kebon Jeruk"].to == ("camat@contoh.go.id",)
    assert "  Jumlah KKMP                  2\n" in kecamatan["kecamatan:Kebon Jeruk"].text
    [city] = [d for d in digests if d.key.kind == "city"]
    assert "Kebon Jeruk              " in city.text and "KEBON JERUK" not in city.text

    [line] = [f for f in check.registry_findings([r.coop for r in results], "31.73")
              if "kecamatan, as the outputs" in f.what]  # fmt: skip
    assert line.what.startswith("registry: 2 kecamatan, as the outputs will show them: ")
    assert 'Kebon Jeruk (2; also written "KEBON JERUK", "Kec. Kebon Jeruk")' in line.what


# --- one label per Profil field ---------------------------------------------------------------------


def test_a_profil_field_is_reported_under_its_one_label_however_the_row_names_it():
    profil = [list(r) for r in PROFIL_ROWS]
    relabel = {"NIB": "Nomor Induk Berusaha", "NPWP": "NPWP Koperasi",
               "Nomor Induk Koperasi": "NIKop", "Nomor Rekening": "No Rekening"}  # fmt: skip
    for row in profil:
        if row and row[0] in relabel:
            row[0] = relabel[row[0]]
    values = {"Nomor Induk Berusaha": "123456789012", "NPWP Koperasi": "012345678901234",
              "NIKop": "", "No Rekening": ""}  # fmt: skip
    for row in profil:
        if row and row[0] in values:
            row[1] = values[row[0]]
    book = parse_workbook(make_book(profil=profil))
    ctx = Context(as_of=AS_OF, city_kode="31.73", city_name="Kota Contoh")
    issues = [i for i in book.issues + validate(book, ctx) if i.tab == "Profil"]
    columns = {i.code: i.column for i in issues}
    assert columns["nib-format"] == "NIB"
    assert columns["npwp-15-digit"] == "NPWP"
    assert columns["profil-field-missing"] == "Nomor Induk Koperasi"
    assert columns["bank-account-incomplete"] == "Nomor Rekening"
    assert not {i.column for i in issues} & set(relabel.values())


# --- the page ----------------------------------------------------------------------------------------


def test_docs_figures_md_is_generated_from_the_catalogue():
    assert DOC.read_text(encoding="utf-8") == figures_markdown(), (
        "docs/figures.md differs from the catalogue: write it again with the command in "
        "kkmp_sheets/core/figures_doc.py"
    )
    text = DOC.read_text(encoding="utf-8")
    for f in cat.FIGURES:
        assert f"**{f.label}**" in text
