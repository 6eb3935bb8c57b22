"""The demo city: real regions, workbooks that follow the contract, mistakes where recorded."""

from __future__ import annotations

import csv
import os
import re
import tomllib
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from kkmp_sheets.core import issue, template, wilayah
from kkmp_sheets.demo import WIB, DemoCity, DemoCoop, SeededMistake, build_demo_city

AS_OF = date(2026, 1, 29)
SPECS = {spec.name: spec for spec in (template.PROFIL, *template.TABLES)}
MONTHS = {
    name: number
    for number, names in enumerate(
        (("januari", "jan"), ("februari", "feb"), ("maret", "mar"), ("april", "apr"),
         ("mei",), ("juni", "jun"), ("juli", "jul"), ("agustus", "agu", "ags"),
         ("september", "sep"), ("oktober", "okt"), ("november", "nov"), ("desember", "des")),
        start=1,
    )
    for name in names
}  # fmt: skip
Sheets = dict[str, list[list[Any]]]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    return build_demo_city(tmp_path_factory.mktemp("jakarta-barat"), workers=2)


@pytest.fixture(scope="module")
def books(city: DemoCity) -> dict[str, Sheets]:
    return {c.id: read(c.workbook) for c in city.coops}


# --- reading a workbook back, the tolerant way the contract describes


def read(path: Path) -> Sheets:
    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def find_tab(sheets: Sheets, spec: Any) -> str | None:
    return next((n for n in sheets if template.normalize(n) in spec.match_keys), None)


def header_row(rows: list[list[Any]], spec: Any) -> int:
    """Index of the header row: the first of the top 6 rows naming two contract columns."""
    if spec is template.PROFIL:
        keys = {template.normalize(h) for h in spec.label_header}
        return next(i for i, r in enumerate(rows[:6]) if template.normalize(r[0]) in keys)
    keys = set().union(*(c.match_keys for c in spec.columns))
    return next(
        i for i, r in enumerate(rows[:6]) if sum(template.normalize(v) in keys for v in r) > 1
    )


def column_key(spec: Any, header: Any) -> str | None:
    return next((c.key for c in spec.columns if template.normalize(header) in c.match_keys), None)


def records(sheets: Sheets, spec: Any) -> list[tuple[int, dict[str, Any]]]:
    """(sheet row, {contract key: value}) per non-blank data row; [] when the tab is missing."""
    name = find_tab(sheets, spec)
    if name is None:
        return []
    rows = sheets[name]
    h = header_row(rows, spec)
    keys = [column_key(spec, v) for v in rows[h]]
    return [
        (h + 2 + i, {k: v for k, v in zip(keys, row, strict=False) if k})
        for i, row in enumerate(rows[h + 1 :])
        if any(v != "" for v in row)
    ]


def profil(sheets: Sheets) -> dict[str, Any]:
    name = find_tab(sheets, template.PROFIL)
    assert name is not None
    rows = sheets[name]
    fields = template.PROFIL.fields
    out = {}
    for row in rows[header_row(rows, template.PROFIL) + 1 :]:
        key = next((f.key for f in fields if template.normalize(row[0]) in f.match_keys), None)
        if key:
            out[key] = row[1]
    return out


def as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().lower()
    try:
        if m := re.fullmatch(r"(\d{2})[/-](\d{2})[/-](\d{4})", text):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if (m := re.fullmatch(r"(\d{1,2}) ([a-z]+) (\d{4})", text)) and m[2] in MONTHS:
            return date(int(m[3]), MONTHS[m[2]], int(m[1]))
    except ValueError:
        return None
    return None


def as_money(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    text = str(value).lower().replace("rp", "").replace(",-", "").strip()
    if m := re.fullmatch(r"([\d,]+)\s*(rb|juta|jt)", text):
        return float(m[1].replace(",", ".")) * (1000 if m[2] == "rb" else 1_000_000)
    return float(text.replace(".", "").replace(",", "."))


def digits(value: Any) -> str:
    return "".join(ch for ch in str(value) if ch.isdigit())


# --- the registry and the config


def test_registry_lists_the_56_kelurahan_of_jakarta_barat(city: DemoCity) -> None:
    with city.registry_path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [dict(zip(header, r, strict=True)) for r in reader]
    assert header == [c.label for c in template.REGISTRY.columns]
    expected = {
        (v.kode, v.nama, wilayah.name(v.kode.rsplit(".", 1)[0])) for v in wilayah.villages("31.73")
    }
    assert len(expected) == 56
    assert {(r["Kode Wilayah"], r["Kelurahan"], r["Kecamatan"]) for r in rows} == expected
    assert {r["Kecamatan"] for r in rows} == {k.nama for k in wilayah.children("31.73")}
    assert len({r["Kecamatan"] for r in rows}) == 8
    for r in rows:
        assert r["ID"] == "KKMP-" + r["Kode Wilayah"].replace(".", "")
        assert r["Spreadsheet"] == f"workbooks/{r['ID']}.xlsx"
        assert (city.root / r["Spreadsheet"]).is_file()
        assert r["Nama Koperasi"] == f"Koperasi Kelurahan Merah Putih {r['Kelurahan']}"
        assert r["Email Pengurus"].endswith("@kkmp-demo.example")
        assert r["Email Penanggung Jawab"].endswith(".example")
    staff = Counter(r["Penanggung Jawab"] for r in rows)
    assert 4 <= len(staff) <= 6 and min(staff.values()) >= 5
    assert len({(r["Penanggung Jawab"], r["Email Penanggung Jawab"]) for r in rows}) == len(staff)


def test_config_is_the_smallest_local_configuration(city: DemoCity) -> None:
    assert city.config_path == city.root / "city.toml"
    assert tomllib.loads(city.config_path.read_text(encoding="utf-8")) == {
        "city": {"name": "Kota Administrasi Jakarta Barat", "kode_wilayah": "31.73"},
        "source": {"kind": "local", "registry": "registry.csv"},
        "output": {"kind": "local", "path": "out/status-kota.xlsx"},
        "mail": {"kind": "outbox", "dir": "out/outbox"},
    }


# --- the workbooks


def test_every_workbook_opens_with_the_contract_tabs(
    city: DemoCity, books: dict[str, Sheets]
) -> None:
    missing = {(s.coop_id, s.tab) for s in city.seeded if s.code == "tab-missing"}
    assert city.workbooks == [c.workbook for c in city.coops]
    for coop in city.coops:
        sheets = books[coop.id]
        for spec in SPECS.values():
            if (coop.id, spec.name) in missing:
                assert find_tab(sheets, spec) is None
                continue
            name = find_tab(sheets, spec)
            assert name is not None, (coop.id, spec.name)
            assert header_row(sheets[name], spec) <= template.MAX_ROWS_ABOVE_HEADER
        info = profil(sheets)
        assert info["nama_koperasi"] == coop.nama
        assert digits(info["kode_wilayah"]) == coop.kode_wilayah.replace(".", "")


def test_niks_are_text_except_where_a_mistake_says_otherwise(
    city: DemoCity, books: dict[str, Sheets]
) -> None:
    as_number = {(s.coop_id, s.row) for s in city.seeded if s.code == "nik-as-number"}
    assert as_number
    for coop in city.coops:
        for row, rec in records(books[coop.id], template.ANGGOTA):
            assert isinstance(rec["nik"], str) != ((coop.id, row) in as_number), (coop.id, row)


def test_people_are_synthetic_with_well_formed_niks(city: DemoCity) -> None:
    assert len(city.people) > 5000
    local = 0
    for nik, nama in city.people:
        assert re.fullmatch(r"\d{16}", nik) and wilayah.kecamatan_exists(nik[:6]), nik
        day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
        born = date(1900 + year if year > 26 else 2000 + year, month, day - 40 * (day > 40))
        assert 17 <= (AS_OF - born).days // 365 <= 72
        assert int(nik[12:]) > 0
        assert len(nama.split()) >= 2
        local += nik.startswith("3173")
    assert local / len(city.people) > 0.7
    with city.registry_path.open(encoding="utf-8") as fh:
        officials = fh.read()
    names = {nama for _, nama in city.people}
    assert not [n for n in names if n in officials]  # an official is never named like a member


def test_workbook_mtimes_say_when_they_were_last_edited(city: DemoCity) -> None:
    ages = []
    for coop in city.coops:
        assert coop.workbook.stat().st_mtime == coop.edited.timestamp()
        assert coop.edited.tzinfo is not None
        ages.append((AS_OF - coop.edited.astimezone(WIB).date()).days)
    assert all(0 <= a <= 60 for a in ages)
    fresh, late, stale = (
        sum(lo <= a <= hi for a in ages) for lo, hi in ((0, 6), (15, 29), (31, 60))
    )
    assert fresh + late + stale == len(ages)
    assert fresh > len(ages) / 2 and late >= 3 and stale >= 2


# --- zones


def reference_zone(coop: DemoCoop, sheets: Sheets, seeded: list[SeededMistake]) -> str:
    """PRODUCT.md's default zoning, computed straight from the file."""
    info = profil(sheets)
    status = template.match_choice(info.get("status_operasional"), template.STATUS_OPERASIONAL)
    dates = [as_date(r["tanggal"]) for _, r in records(sheets, template.PENJUALAN)]
    sold = [d for d in dates if d and d <= AS_OF]
    stale = (AS_OF - datetime.fromtimestamp(coop.workbook.stat().st_mtime, WIB).date()).days
    if status != "Aktif" or not sold or (AS_OF - max(sold)).days >= 30 or stale >= 30:
        return "Merah"
    members = {
        r["no_anggota"]
        for _, r in records(sheets, template.ANGGOTA)
        if template.match_choice(r.get("status"), template.STATUS_ANGGOTA) != "Keluar"
    }
    papers = (
        len(digits(info.get("nib"))) == 13
        and len(digits(info.get("npwp"))) in (15, 16)
        and info.get("nama_bank")
        and info.get("nomor_rekening")
    )
    galat = any(
        s.coop_id == coop.id and s.code and issue.CATALOG[s.code].severity is issue.Severity.GALAT
        for s in seeded
    )
    if not papers or len(members) < 100 or galat or stale > 14:
        return "Kuning"
    return "Hijau"


def test_planned_zones_follow_from_the_data(city: DemoCity, books: dict[str, Sheets]) -> None:
    for coop in city.coops:
        assert reference_zone(coop, books[coop.id], city.seeded) == coop.planned_zone, coop
    share = Counter(c.planned_zone for c in city.coops)
    assert 0.20 <= share["Hijau"] / 56 <= 0.35
    assert 0.35 <= share["Kuning"] / 56 <= 0.50
    assert 0.25 <= share["Merah"] / 56 <= 0.35
    assert {c.status for c in city.coops} == {"Persiapan", "Aktif", "Berhenti"}


# --- seeded mistakes


def test_mistakes_are_seeded_in_a_minority_with_known_codes(city: DemoCity) -> None:
    codes = Counter(s.code for s in city.seeded)
    assert set(codes) - {None} <= set(issue.CATALOG)
    expected = {
        "nik-as-number", "nik-length", "nik-birthdate", "member-id-duplicate", "nik-duplicate",
        "nik-elsewhere", "required-missing", "value-unreadable", "future-date", "negative-value",
        "item-unknown", "total-mismatch", "member-unknown", "choice-unknown", "nib-format",
        "npwp-15-digit", "sk-ahu-format", "missing-optional", "tab-missing", "column-missing", None,
        "latlong-swapped", "latlong-short-link", "latlong-format",
    }  # fmt: skip
    assert set(codes) == expected
    assert codes["nik-elsewhere"] >= 2 and codes["choice-unknown"] >= 2 and codes[None] >= 2
    assert len({s.coop_id for s in city.seeded}) < len(city.coops) / 2
    green = {c.id for c in city.coops if c.planned_zone == "Hijau"}
    for s in city.seeded:
        if s.code and issue.CATALOG[s.code].severity is issue.Severity.GALAT:
            assert s.coop_id not in green, s


def test_every_seeded_mistake_is_in_the_row_it_names(
    city: DemoCity, books: dict[str, Sheets]
) -> None:
    for s in city.seeded:
        sheets = books[s.coop_id]
        if s.code == "tab-missing":
            assert find_tab(sheets, SPECS[s.tab]) is None
            continue
        spec = next(spec for spec in SPECS.values() if template.normalize(s.tab) in spec.match_keys)
        rows = sheets[s.tab]
        h = header_row(rows, spec)
        if s.code == "column-missing":
            assert s.row is None
            assert spec.column(column_key(spec, s.column) or "").label == s.column
            assert not any(template.normalize(v) == template.normalize(s.column) for v in rows[h])
            assert column_key(spec, s.column) not in {column_key(spec, v) for v in rows[h]}
            continue
        assert s.row is not None and s.row > h + 1
        row = rows[s.row - 1]
        col = 1 if spec is template.PROFIL else rows[h].index(s.column)
        if spec is template.PROFIL:  # the row may name the field by an alias; Kolom is its label
            [field] = [f for f in template.PROFIL.fields if f.label == s.column]
            assert template.normalize(row[0]) in field.match_keys
        above = [r[col] for r in rows[h + 1 : s.row - 1]]
        check_mistake(s, row[col], above, sheets, spec, rows[h], row)


def check_mistake(
    s: SeededMistake,
    cell: Any,
    above: list[Any],
    sheets: Sheets,
    spec: Any,
    header: list[Any],
    row: list[Any],
) -> None:
    code, where = s.code, (s.coop_id, s.tab, s.row, s.column, cell)
    if code is None:  # formula-looking text or emoji: kept exactly as typed, as text
        assert cell == s.value and isinstance(cell, str), where
        assert cell.startswith("=") or any(ord(ch) > 0xFFFF for ch in cell), where
    elif code == "nik-as-number":
        assert isinstance(cell, float) and cell == s.value and len(str(int(cell))) == 16, where
        assert int(cell) % 10 == 0, where  # the 16th digit lost, as Excel does
    elif code == "nik-length":
        assert isinstance(cell, str) and re.fullmatch(r"\d{15}", cell), where
    elif code == "nik-birthdate":
        assert isinstance(cell, str) and re.fullmatch(r"\d{16}", cell), where
        assert 32 <= int(cell[6:8]) <= 39, where  # neither a man's day nor a woman's (+40)
    elif code in ("member-id-duplicate", "nik-duplicate"):
        assert cell != "" and cell in above, where
    elif code == "nik-elsewhere":
        assert cell == s.value and re.fullmatch(r"\d{16}", cell), where
    elif code in ("required-missing", "missing-optional"):
        assert cell == "", where
    elif code == "value-unreadable":
        assert isinstance(cell, str) and "31" in cell and as_date(cell) is None, where
    elif code == "future-date":
        assert (as_date(cell) or date.min) > AS_OF, where
    elif code == "negative-value":
        assert isinstance(cell, float) and cell < 0, where
    elif code == "member-unknown":
        assert cell not in {r["no_anggota"] for _, r in records(sheets, template.ANGGOTA)}, where
    elif code == "item-unknown":
        assert cell not in {r["kode_barang"] for _, r in records(sheets, template.STOK)}, where
    elif code == "total-mismatch":
        rec = {column_key(spec, h): v for h, v in zip(header, row, strict=False)}
        product = as_money(rec["jumlah"]) * as_money(rec["harga_satuan"])
        assert abs(as_money(cell) - product) > 1, where
    elif code == "choice-unknown":
        choices = (
            template.JENIS_SIMPANAN if spec is template.SIMPANAN else template.STATUS_OPERASIONAL
        )
        assert cell and template.match_choice(cell, choices) is None, where
    elif code == "nib-format":
        assert re.fullmatch(r"\d{12}", str(cell)), where
    elif code == "npwp-15-digit":
        assert len(digits(cell)) == 15, where
    elif code == "sk-ahu-format":
        assert cell and not re.fullmatch(r"AHU-\d{7}\.AH\.01\.\d{2}\.TAHUN \d{4}", cell), where
    elif code == "latlong-swapped":  # longitude first, both within Indonesia
        first, second = (float(x) for x in cell.split(", "))
        assert 94 <= first <= 142 and -11 <= second <= 6.5, where
    elif code == "latlong-short-link":
        assert cell.startswith("https://maps.app.goo.gl/"), where
    elif code == "latlong-format":  # comma decimals joined by a comma: four numbers
        assert re.fullmatch(r"-?\d+,\d+,\d+,\d+", cell), where
    else:
        raise AssertionError(f"no check for {code}")


# --- other runs


def test_same_seed_gives_the_same_files_whatever_the_workers(tmp_path: Path) -> None:
    one = build_demo_city(tmp_path / "one", size=4, workers=1)
    two = build_demo_city(tmp_path / "two", size=4, workers=2)
    assert [p.name for p in one.workbooks] == [p.name for p in two.workbooks]
    for a, b in zip(one.workbooks, two.workbooks, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert read(a) == read(b)
        assert os.stat(a).st_mtime == os.stat(b).st_mtime
    assert one.registry_path.read_bytes() == two.registry_path.read_bytes()
    assert (one.people, one.seeded) == (two.people, two.seeded)
    other = build_demo_city(tmp_path / "other", size=3, seed=7, mistakes=False)
    assert {nik for nik, _ in other.people}.isdisjoint(nik for nik, _ in one.people)
    assert other.seeded == []


def test_a_province_with_200_cooperatives(tmp_path: Path) -> None:
    city = build_demo_city(tmp_path, kode="32", size=200, workers=2)
    with city.registry_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 200 == len({r["ID"] for r in rows}) == len(city.workbooks)
    assert all(r["Kode Wilayah"].startswith("32.") for r in rows)
    assert len({r["Kode Wilayah"][:5] for r in rows}) >= 20  # spread over the kabupaten/kota
    assert {r["Nama Koperasi"].split()[1] for r in rows} == {"Desa", "Kelurahan"}
    config = tomllib.loads(city.config_path.read_text(encoding="utf-8"))
    assert config["city"] == {"name": "Jawa Barat", "kode_wilayah": "32"}
    assert {c.planned_zone for c in city.coops} == {"Merah", "Kuning", "Hijau"}
    for path in city.workbooks[::20]:
        sheets = read(path)
        assert find_tab(sheets, template.ANGGOTA) and find_tab(sheets, template.SIMPANAN)
    assert all(nik.startswith(("1", "3", "7")) for nik, _ in city.people)


def test_more_cooperatives_than_villages_reuse_villages(tmp_path: Path) -> None:
    city = build_demo_city(tmp_path, kode="31.01", size=9)  # Kepulauan Seribu: 6 kelurahan
    ids = [c.id for c in city.coops]
    assert len(set(ids)) == 9 and len({c.kode_wilayah for c in city.coops}) == 6
    assert sorted(i for i in ids if i.endswith("-2")) == [f"{i}-2" for i in ids[:3]]
    assert all(p.is_file() for p in city.workbooks)


def test_a_code_that_is_not_a_city_or_province_is_refused(tmp_path: Path) -> None:
    for kode in ("31.73.01", "99", "Jakarta"):
        with pytest.raises(ValueError, match="kode"):
            build_demo_city(tmp_path, kode=kode)
    with pytest.raises(ValueError, match="size"):
        build_demo_city(tmp_path, size=0)
