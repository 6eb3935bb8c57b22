"""Federation end to end: real demo cities run their cycles, a province and the nation read them.

Five small demo cities (three in Jawa Barat, 32; two in Banten, 36) each run `run --once` in
local mode; a province instance reads their status `.xlsx` files, a national instance reads two
provinces. Figures are compared through the catalogue (`core/figures.py`): every Ringkasan
figure of a parent must be the roll-up of its children's Ringkasan values, read here from the
children's files by the catalogue's labels.
"""

from __future__ import annotations

import email
import shutil
from collections.abc import Iterator
from datetime import date
from email import policy
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import openpyxl
import pytest
import python_calamine

from kkmp_sheets.cli import main
from kkmp_sheets.core.federation import ANGKA_TERAKHIR, DITOLAK, TERKINI, TERLAMBAT
from kkmp_sheets.core.figures import RINGKASAN, ROLLED, SHARES, pick
from kkmp_sheets.core.metadata import (
    KEYS,
    SCHEMA_VERSION,
    Metadata,
    Refused,
    read_metadata,
)
from kkmp_sheets.core.parse import RawWorkbook, parse_workbook
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.testing.fake_google import FakeGoogle

AS_OF = date(2026, 1, 29)
CITIES = {"32": [("32.73", 5), ("32.04", 4), ("32.77", 3)], "36": [("36.74", 4), ("36.71", 3)]}
CHILD_TAB = {"32": "Status Kab-Kota", "00": "Status Provinsi"}


def sheet(path: Path, name: str) -> list[list[Any]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def table(path: Path, name: str) -> list[dict[str, Any]]:
    """A status tab's rows by header (row 1 is the note line, row 2 the header)."""
    rows = sheet(path, name)
    header = [str(h) for h in rows[1]]
    return [dict(zip(header, r, strict=False)) for r in rows[2:] if any(v != "" for v in r)]


def ringkasan(path: Path) -> dict[str, Any]:
    return {str(r[0]): r[1] for r in sheet(path, "Ringkasan")[2:] if r and r[0] != ""}


def expected_rollup(children: list[dict[str, Any]]) -> dict[str, Any]:
    """The roll-up of children's Ringkasan values, by the catalogue's rules, computed here."""
    out: dict[str, Any] = {}
    jumlah = sum(c["Jumlah KKMP"] for c in children)
    for f in pick(RINGKASAN):
        label = f.label_for(city=True)
        if f in ROLLED:
            out[label] = sum(c[label] for c in children)
        else:
            assert f in SHARES
            held = sum(round((c[label] or 0) * c["Jumlah KKMP"]) for c in children)
            out[label] = held / jumlah
    return out


def write_config(folder: Path, *, name: str, kode: str, rows: list[tuple[str, str, str, str]],
                 extra: str = "", output: str = "") -> Path:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["Kode Wilayah,Nama,Spreadsheet,Email Operator"]
    lines += [",".join(r) for r in rows]
    (folder / "registry.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = folder / "parent.toml"
    path.write_text(
        f"""
[city]
name = "{name}"
kode_wilayah = "{kode}"

[source]
kind = "federation"
registry = "registry.csv"
root = ".."

[output]
{output or 'kind = "local"' + chr(10) + 'path = "out/status.xlsx"'}

[mail]
kind = "outbox"
dir = "out/outbox"
officials = ["kadis@wilayah.example"]

{extra}
""",
        encoding="utf-8",
    )
    return path


def run(config: Path, as_of: date = AS_OF) -> int:
    return main(["run", "--once", "--config", str(config), "--as-of", as_of.isoformat()])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Five cities, each after its own `run --once`, under one folder."""
    root = tmp_path_factory.mktemp("federasi")
    cities: dict[str, dict[str, Path]] = {}
    for province, members in CITIES.items():
        for kode, size in members:
            city = build_demo_city(root / kode, kode=kode, size=size, as_of=AS_OF)
            (city.config_path).write_text(
                city.config_path.read_text(encoding="utf-8") + "\n[performance]\nworkers = 1\n",
                encoding="utf-8",
            )
            assert run(city.config_path) == 0
            cities.setdefault(province, {})[kode] = city.root
    return {"root": root, "cities": cities}


def status_of(city_root: Path) -> Path:
    return city_root / "out" / "status-kota.xlsx"


def province_rows(world: dict[str, Any], province: str) -> list[tuple[str, str, str, str]]:
    return [
        (kode, f"Wilayah {kode}", f"../{kode}/out/status-kota.xlsx", f"op.{kode}@kota.example")
        for kode in world["cities"][province]
    ]


@pytest.fixture(scope="module")
def jabar(world: dict[str, Any]) -> Path:
    config = write_config(
        world["root"] / "prov32",
        name="Provinsi Jawa Barat",
        kode="32",
        rows=province_rows(world, "32"),
        extra="[federation]\nper_kecamatan = true\n",
    )
    assert run(config) == 0
    return config.parent


# --- the Metadata tab ----------------------------------------------------------------------------


def test_every_city_status_workbook_ends_with_its_metadata(world: dict[str, Any]) -> None:
    for kode, root in world["cities"]["32"].items():
        path = status_of(root)
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        assert book.sheet_names[-1] == "Metadata"
        rows = sheet(path, "Metadata")
        assert [r[0] for r in rows[1:]] == list(KEYS)
        assert all(isinstance(r[1], str) for r in rows[1:])  # text, never 1.0 → 1
        meta = read_metadata(rows)
        assert (meta.kode_wilayah, meta.level, meta.tanggal_data) == (kode, "kota/kabupaten", AS_OF)
        assert meta.schema_version == SCHEMA_VERSION
        assert meta.jumlah_kkmp == ringkasan(path)["Jumlah KKMP"]
        assert meta.waktu_siklus.utcoffset().total_seconds() == 7 * 3600


def test_metadata_versions_newer_minor_read_other_major_refused() -> None:
    rows = [["Kunci", "Nilai"], *Metadata("32.73", "kota/kabupaten", "X", AS_OF,
            __import__("datetime").datetime(2026, 1, 29, 7)).rows()]  # fmt: skip
    newer = [[k, "1.7" if k == "schema_version" else v] for k, v in rows] + [["kunci_baru", "x"]]
    meta = read_metadata(newer)
    assert meta.kode_wilayah == "32.73" and meta.ignored == ("kunci_baru",)
    major = [[k, "2.0" if k == "schema_version" else v] for k, v in rows]
    with pytest.raises(Refused, match=r"versi 2\.0.*1\.x"):
        read_metadata(major)
    with pytest.raises(Refused, match="Metadata tidak ada"):
        read_metadata([])


# --- a province -----------------------------------------------------------------------------------


def test_province_ringkasan_is_the_rollup_of_its_cities(world: dict[str, Any], jabar: Path) -> None:
    children = [ringkasan(status_of(r)) for r in world["cities"]["32"].values()]
    parent = ringkasan(jabar / "out" / "status.xlsx")
    for label, value in expected_rollup(children).items():
        assert parent[label] == pytest.approx(value), label
    assert parent["Jumlah Kab/Kota"] == 3 and parent["Kab/Kota Terkini"] == 3


def test_province_has_one_row_per_city_with_its_own_figures(
    world: dict[str, Any], jabar: Path
) -> None:
    out = jabar / "out" / "status.xlsx"
    book = python_calamine.CalamineWorkbook.from_path(str(out))
    assert book.sheet_names == ["Ringkasan", "Status Kab-Kota", "Kecamatan", "Riwayat", "Metadata"]
    rows = {r["Kode Wilayah"]: r for r in table(out, "Status Kab-Kota")}
    assert set(rows) == set(world["cities"]["32"])
    for kode, root in world["cities"]["32"].items():
        child = ringkasan(status_of(root))
        row = rows[kode]
        assert row["Kesegaran"] == TERKINI and row["Tanggal Data"] == AS_OF
        for f in pick(RINGKASAN):  # the child's Ringkasan value, under the Kecamatan-tab label
            assert row[f.label] == pytest.approx(child[f.label_for(city=True)]), f.label
        assert row["Capaian KKMP Aktif"] == pytest.approx(
            child["KKMP Aktif"] / child["Jumlah KKMP"]
        )
    meta = read_metadata(sheet(out, "Metadata"))
    assert (meta.level, meta.kode_wilayah, meta.jumlah_anak) == ("provinsi", "32", 3)
    assert meta.tab_anak == "Status Kab-Kota"


def test_province_kecamatan_tab_holds_every_city_kecamatan(
    world: dict[str, Any], jabar: Path
) -> None:
    rows = table(jabar / "out" / "status.xlsx", "Kecamatan")
    expected = []
    for root in world["cities"]["32"].values():
        expected += table(status_of(root), "Kecamatan")
    assert len(rows) == len(expected)
    for label in ("Jumlah KKMP", "Anggota Aktif", "Anggota Baru 30 Hari", "Omset 30 Hari"):
        assert sum(r[label] for r in rows) == pytest.approx(sum(r[label] for r in expected))


def test_province_digest_names_children_and_holds_no_personal_data(
    world: dict[str, Any], jabar: Path
) -> None:
    texts = [_eml_text(p) for p in (jabar / "out" / "outbox").rglob("*.eml")]
    digest = next(t for t in texts if "RINGKASAN HARIAN KKMP - Provinsi Jawa Barat" in t)
    for kode in world["cities"]["32"]:
        assert f"Wilayah {kode}" in digest
    _assert_no_personal_data(world, [jabar / "out"])


def test_province_digest_shows_the_workbook_figures(jabar: Path) -> None:
    """Each Ringkasan figure of the province digest, found by its catalogue label, is the value
    of the province workbook's Ringkasan, in the digest's Indonesian format."""
    from kkmp_sheets.delivery.locale import LOCALES

    parent = ringkasan(jabar / "out" / "status.xlsx")
    texts = [_eml_text(p) for p in (jabar / "out" / "outbox").rglob("*.eml")]
    digest = next(t for t in texts if "RINGKASAN HARIAN KKMP - Provinsi Jawa Barat" in t)
    lines = {
        line[:35].strip(): line[35:].strip() for line in digest.splitlines() if line[:2] == "  "
    }
    for f in pick(RINGKASAN):
        label = f.label_for(city=True)
        assert lines[label] == LOCALES["id"].show(f.fmt, parent[label]), label


# --- children that fail, lag, or cannot be trusted --------------------------------------------------


@pytest.fixture
def trial(world: dict[str, Any], tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A province over copies of the three Jawa Barat cities' status files, to damage freely."""
    base = world["root"] / f"trial-{tmp_path.name}"
    copies = base / "kota"
    copies.mkdir(parents=True)
    rows = []
    for kode, root in world["cities"]["32"].items():
        shutil.copy(status_of(root), copies / f"{kode}.xlsx")
        rows.append((kode, f"Wilayah {kode}", f"../kota/{kode}.xlsx", f"op.{kode}@kota.example"))
    yield {"base": base, "copies": copies, "rows": rows}
    shutil.rmtree(base, ignore_errors=True)


def _set_metadata(path: Path, **values: str) -> None:
    book = openpyxl.load_workbook(path)
    ws = book["Metadata"]
    for key, value in values.items():
        for row in ws.iter_rows(min_row=2):
            if row[0].value == key:
                row[1].value = value
                break
        else:
            ws.append([key, value])
    book.save(path)


def test_unreachable_child_keeps_last_good_figures_and_its_operator_is_told(
    trial: dict[str, Any],
) -> None:
    config = write_config(trial["base"] / "prov", name="Jabar", kode="32", rows=trial["rows"])
    out = config.parent / "out" / "status.xlsx"
    assert run(config) == 0
    before = {r["Kode Wilayah"]: r for r in table(out, "Status Kab-Kota")}
    total_before = ringkasan(out)
    (trial["copies"] / "32.77.xlsx").rename(trial["copies"] / "hilang.xlsx")
    outbox = config.parent / "out" / "outbox"
    assert run(config) == 0
    sent = {p: p.stat().st_mtime_ns for p in outbox.rglob("*.eml") if "anak-32-77" in p.name}
    assert run(config) == 0  # again the same day: the ledger sends no second alert
    assert {
        p: p.stat().st_mtime_ns for p in outbox.rglob("*.eml") if "anak-32-77" in p.name
    } == sent
    rows = {r["Kode Wilayah"]: r for r in table(out, "Status Kab-Kota")}
    gone = rows["32.77"]
    assert gone["Kesegaran"] == ANGKA_TERAKHIR
    assert "tidak ada" in gone["Catatan"] and "angka terakhir" in gone["Catatan"]
    for label in ("Jumlah KKMP", "Anggota Aktif", "Omset 30 Hari", "Merah"):
        assert gone[label] == before["32.77"][label]
    assert ringkasan(out)["Jumlah KKMP"] == total_before["Jumlah KKMP"]
    alerts = [_eml(p) for p in sent]
    assert len(alerts) == 1 and alerts[0]["To"] == "op.32.77@kota.example"
    assert "Angka terakhir" in alerts[0].get_body(("plain",)).get_content()


def test_stale_child_is_marked_and_still_counted(trial: dict[str, Any]) -> None:
    _set_metadata(trial["copies"] / "32.04.xlsx", tanggal_data="2026-01-20")
    config = write_config(trial["base"] / "prov", name="Jabar", kode="32", rows=trial["rows"])
    assert run(config) == 0
    out = config.parent / "out" / "status.xlsx"
    rows = {r["Kode Wilayah"]: r for r in table(out, "Status Kab-Kota")}
    assert rows["32.04"]["Kesegaran"] == TERLAMBAT and "9 hari" in rows["32.04"]["Catatan"]
    assert rows["32.73"]["Kesegaran"] == TERKINI
    assert ringkasan(out)["Kab/Kota Terlambat"] == 1
    assert ringkasan(out)["Jumlah KKMP"] == sum(r["Jumlah KKMP"] for r in rows.values())


def test_children_out_of_region_or_of_another_major_are_refused(trial: dict[str, Any]) -> None:
    copies = trial["copies"]
    shutil.copy(copies / "32.73.xlsx", copies / "33.01.xlsx")  # Banyumas? no: Jawa Tengah
    _set_metadata(copies / "33.01.xlsx", kode_wilayah="33.01")
    shutil.copy(copies / "32.73.xlsx", copies / "32.11.xlsx")  # says 32.73 inside: mislabelled
    _set_metadata(copies / "32.04.xlsx", schema_version="1.1", kunci_baru="nilai")
    _set_metadata(copies / "32.77.xlsx", schema_version="2.0")
    rows = [
        *trial["rows"],
        ("33.01", "Luar Provinsi", "../kota/33.01.xlsx", ""),
        ("32.11", "Salah Berkas", "../kota/32.11.xlsx", ""),
        ("32.12", "Di Luar Folder", "/etc/passwd.xlsx", ""),
    ]
    config = write_config(trial["base"] / "prov", name="Jabar", kode="32", rows=rows)
    assert run(config) == 0
    out = config.parent / "out" / "status.xlsx"
    got = {r["Kode Wilayah"]: r for r in table(out, "Status Kab-Kota")}
    assert got["32.04"]["Kesegaran"] == TERKINI and got["32.04"]["Versi Skema"] == "1.1"
    assert got["32.77"]["Kesegaran"] == DITOLAK and "versi 2.0" in got["32.77"]["Catatan"]
    assert (
        got["33.01"]["Kesegaran"] == DITOLAK and "bukan bagian dari 32" in got["33.01"]["Catatan"]
    )
    assert got["32.11"]["Kesegaran"] == DITOLAK and "milik wilayah 32.73" in got["32.11"]["Catatan"]
    assert got["32.12"]["Kesegaran"] == DITOLAK and "di luar folder" in got["32.12"]["Catatan"]
    counted = [got[k] for k in ("32.73", "32.04")]
    assert ringkasan(out)["Jumlah KKMP"] == sum(r["Jumlah KKMP"] for r in counted)
    assert got["32.77"]["Jumlah KKMP"] == ""  # refused: shown, never counted


def test_serve_runs_a_province_alerts_at_sync_and_the_digest_at_the_daily_job(
    trial: dict[str, Any],
) -> None:
    from datetime import datetime

    from kkmp_sheets import config as config_module
    from kkmp_sheets.clock import SimulatedClock
    from kkmp_sheets.core.wib import WIB
    from kkmp_sheets.service.serve import Service

    (trial["copies"] / "32.04.xlsx").unlink()
    path = write_config(trial["base"] / "prov", name="Jabar", kode="32", rows=trial["rows"])
    service = Service(
        config_module.load(path), clock=SimulatedClock(datetime(2026, 1, 29, 9, tzinfo=WIB))
    )
    said = service.sync()
    outbox = path.parent / "out" / "outbox"
    names = sorted(p.name for p in outbox.rglob("*.eml"))
    assert "3 children (1 not current)" in said
    assert len(names) == 1 and "anak-32-04" in names[0]  # the alert; the digest waits
    service.daily_digest()
    names = sorted(p.name for p in outbox.rglob("*.eml"))
    assert len(names) == 2 and any("wilayah-32" in n for n in names)
    rows = {
        r["Kode Wilayah"]: r for r in table(path.parent / "out" / "status.xlsx", "Status Kab-Kota")
    }
    assert rows["32.04"]["Kesegaran"] == "Tidak terbaca"


# --- the nation -------------------------------------------------------------------------------------


def test_nation_over_two_provinces_is_the_sum_of_all_cities(
    world: dict[str, Any], jabar: Path
) -> None:
    banten = write_config(
        world["root"] / "prov36", name="Provinsi Banten", kode="36", rows=province_rows(world, "36")
    )
    assert run(banten) == 0
    nation = write_config(
        world["root"] / "nasional",
        name="Indonesia",
        kode="00",
        rows=[
            ("32", "Jawa Barat", "../prov32/out/status.xlsx", "op@jabar.example"),
            ("36", "Banten", "../prov36/out/status.xlsx", "op@banten.example"),
        ],
        extra="[federation]\nper_kecamatan = true\n",
    )
    assert run(nation) == 0
    out = nation.parent / "out" / "status.xlsx"
    cities = [ringkasan(status_of(r)) for p in world["cities"].values() for r in p.values()]
    provinces = [
        ringkasan(jabar / "out" / "status.xlsx"),
        ringkasan(banten.parent / "out" / "status.xlsx"),
    ]
    parent = ringkasan(out)
    for label, value in expected_rollup(cities).items():
        assert parent[label] == pytest.approx(value), label
    for label, value in expected_rollup(provinces).items():
        assert parent[label] == pytest.approx(value), label
    rows = table(out, "Status Provinsi")
    assert {r["Kode Wilayah"] for r in rows} == {"32", "36"}
    assert all(r["Kesegaran"] == TERKINI for r in rows)
    assert len(table(out, "Kecamatan")) == 5  # each province's Status Kab-Kota rows
    assert read_metadata(sheet(out, "Metadata")).level == "nasional"
    _assert_no_personal_data(world, [nation.parent / "out", banten.parent / "out"])


# --- Google mode --------------------------------------------------------------------------------------


def test_google_parent_reads_only_the_aggregate_tabs(
    world: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with FakeGoogle() as fake:
        sa = fake.default_identity
        ids = {
            kode: fake.load_xlsx(status_of(root), owner=f"op.{kode}@kota.example",
                                 shared_with={sa: "reader"})
            for kode, root in world["cities"]["32"].items()
        }  # fmt: skip
        status = fake.add_spreadsheet(
            "Status KKMP Jawa Barat", {"Sheet1": []}, owner="dinas@jabar.example",
            shared_with={sa: "writer"},
        )  # fmt: skip
        rows = [(k, f"Wilayah {k}", sid, f"op.{k}@kota.example") for k, sid in ids.items()]
        config = write_config(
            tmp_path / "prov",
            name="Provinsi Jawa Barat",
            kode="32",
            rows=rows,
            output=f'kind = "google"\nspreadsheet = "{status}"',
            extra=f'[google]\nbase_url = "{fake.base_url}"\ntimeout_seconds = 10\n',
        )
        assert run(config) == 0
        requests = [r for r in fake.requests if any(sid in r.path for sid in ids.values())]
        written = fake.get_values(status, "Ringkasan")
        tabs = fake.tabs(status)
        # The Cimahi office stops sharing its status spreadsheet: its last good figures stand.
        fake.unshare(ids["32.77"], sa)
        assert run(config) == 0
        rows = fake.get_values(status, "Status Kab-Kota")
        later = {str(r[0]): dict(zip(rows[1], r, strict=False)) for r in rows[2:] if r}
    assert len(requests) == 3  # one values.batchGet per child
    for r in requests:
        assert r.method == "GET" and r.path.endswith("/values:batchGet")
        assert sorted(unquote(x) for x in r.query["ranges"]) == ["'Metadata'", "'Ringkasan'"]
    assert tabs[:2] == ["Ringkasan", "Status Kab-Kota"] and "Metadata" in tabs
    children = [ringkasan(status_of(r)) for r in world["cities"]["32"].values()]
    got = {str(r[0]): r[1] for r in written[2:] if r}
    assert got["Jumlah KKMP"] == sum(c["Jumlah KKMP"] for c in children)
    cimahi = later["32.77"]
    assert cimahi["Kesegaran"] == ANGKA_TERAKHIR and "tidak dibagikan" in cimahi["Catatan"]
    assert (
        cimahi["Jumlah KKMP"] == ringkasan(status_of(world["cities"]["32"]["32.77"]))["Jumlah KKMP"]
    )


# --- the roll-up rule -------------------------------------------------------------------------------


def test_rollup_of_groups_weights_shares_by_jumlah() -> None:
    from kkmp_sheets.core.figures import Totals, rollup_totals

    def group(jumlah: int, reported: int, merah: int) -> Totals:
        zero = {f.key: 0 for f in ROLLED}
        return Totals(**{**zero, "jumlah": jumlah, "merah": merah,
                         "kelengkapan": reported / jumlah if jumlah else None})  # fmt: skip

    total = rollup_totals([group(3, 1, 2), group(7, 7, 0), group(0, 0, 0)])
    assert (total.jumlah, total.merah) == (10, 2)
    assert total.kelengkapan == pytest.approx(8 / 10)  # not the mean of 1/3 and 1
    assert rollup_totals([]).kelengkapan is None


# --- privacy ----------------------------------------------------------------------------------------


def _personal_values(world: dict[str, Any]) -> set[str]:
    """Every NIK and member name in every child's cooperative workbooks, read by the service's
    own parser (tab and header names as the demo's pengurus typed them)."""
    found: set[str] = set()
    for province in world["cities"].values():
        for root in province.values():
            for path in (root / "workbooks").glob("*.xlsx"):
                book = python_calamine.CalamineWorkbook.from_path(str(path))
                raw = RawWorkbook({n: sheet(path, n) for n in book.sheet_names})
                table = parse_workbook(raw).tables.get("Anggota")
                for record in table.records if table else []:
                    nik, nama = record["nik"], record["nama"]
                    digits = getattr(nik, "digits", None)
                    found |= {v for v in (digits, nama) if isinstance(v, str) and len(v) >= 8}
    return found


def _assert_no_personal_data(world: dict[str, Any], folders: list[Path]) -> None:
    personal = _personal_values(world)
    assert len(personal) > 50
    for folder in folders:
        for path in folder.rglob("*"):
            if path.suffix == ".xlsx":
                book = python_calamine.CalamineWorkbook.from_path(str(path))
                text = "\n".join(
                    str(v) for n in book.sheet_names for r in sheet(path, n) for v in r
                )
            elif path.suffix == ".eml":
                text = _eml_text(path)
            else:
                continue
            leaked = [v for v in personal if v in text]
            assert not leaked, f"{path}: {leaked[:3]}"


def _eml(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[return-value]


def _eml_text(path: Path) -> str:
    msg = _eml(path)
    return "\n".join(
        part.get_content() for part in msg.walk() if part.get_content_maintype() == "text"
    )
