"""`kkmp-sheets provision`: the template, local mode, the CSV registry edit, Google mode on the
local fake (56 cooperatives), the city status spreadsheet."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from kkmp_sheets import config
from kkmp_sheets.cli import main, run_once
from kkmp_sheets.clock import WarpClock
from kkmp_sheets.config import GoogleSettings
from kkmp_sheets.core.registry import Coop, read_registry
from kkmp_sheets.core.template import PROFIL, REGISTRY, TABLES, Kind
from kkmp_sheets.demo import DemoCity, build_demo_city
from kkmp_sheets.errors import ConfigError, UsageError
from kkmp_sheets.google.api import PROVISION_SCOPES, connect
from kkmp_sheets.onboarding import csv_registry, provision, provision_google
from kkmp_sheets.onboarding import workbook_template as wt
from kkmp_sheets.onboarding.guide import into_city, records_from
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.sources.local import LocalSource
from kkmp_sheets.testing import FakeGoogle
from kkmp_sheets.testing.google_city import GoogleCity, connect_fake

AS_OF = date(2026, 1, 29)
HEADER = [c.label for c in REGISTRY.columns]
KEDOYA = Coop(
    id="KKMP-3173051006",
    nama="Koperasi Kelurahan Merah Putih Kedoya Utara",
    kelurahan="Kedoya Utara",
    kecamatan="Kebon Jeruk",
    kode_wilayah="31.73.05.1006",
    spreadsheet="",
    email_pengurus=("kkmp.kedoyautara@kkmp-demo.example",),
)
TEXT_KEYS = {"nik", "telepon", "no_anggota", "kode_barang", "rt", "rw", "no_nota"}


# --- the template ------------------------------------------------------------------------------


def test_every_contract_column_has_a_look_a_hint_and_the_right_format():
    made = wt.design(KEDOYA)
    assert [t.name for t in made.tables] == [s.name for s in TABLES]
    for tab in made.tables:
        assert [lk.column for lk in tab.looks] == list(tab.spec.columns)
        for lk in tab.looks:
            assert (tab.name, lk.column.key) in wt.HINTS, (tab.name, lk.column.key)
            if lk.column.choices:
                assert lk.rule is not None and lk.rule.kind == "list"
                assert lk.rule.choices == lk.column.choices
            if lk.column.key in TEXT_KEYS:
                assert lk.excel_format == "@" and lk.sheets_format == {"type": "TEXT"}
            if lk.column.kind is Kind.DATE:
                assert lk.excel_format == "dd/mm/yyyy" and lk.rule and lk.rule.kind == "date"
            if lk.column.kind is Kind.MONEY:
                assert "Rp" in (lk.excel_format or "") and lk.rule and lk.rule.kind == "min0"
    for row in made.profil:
        assert (PROFIL.name, row.look.column.key) in wt.HINTS
    prefilled = {r.look.column.key: r.value for r in made.profil if r.value}
    assert prefilled == {
        "nama_koperasi": KEDOYA.nama,
        "kelurahan": "Kedoya Utara",
        "kecamatan": "Kebon Jeruk",
        "kota": "Kota Administrasi Jakarta Barat",
        "kode_wilayah": "31.73.05.1006",
        "email_pengurus": "kkmp.kedoyautara@kkmp-demo.example",
    }


def test_the_petunjuk_explains_every_tab_with_an_example_row():
    made = wt.design(KEDOYA)
    rows = list(zip(made.guide, made.guide_styles, strict=True))
    sections = [cells[0] for cells, style in rows if style == "section"]
    assert sections == ["Aturan umum", "Tab Profil", *(f"Tab {s.name}" for s in TABLES)]
    examples = [cells for cells, style in rows if style == "example"]
    assert len(examples) == len(TABLES)
    anggota = examples[0]
    assert anggota[2].startswith("317305") and len(anggota[2]) == 16  # the city's own kecamatan
    assert "17/08/2025" in anggota


def _column(ws, number: int):
    """The column dimension covering column `number` (xlsxwriter groups equal neighbours)."""
    for dim in ws.column_dimensions.values():
        if dim.min <= number <= dim.max:
            return dim
    raise AssertionError(f"no format for column {number}")


def test_the_xlsx_template_makes_mistakes_hard(tmp_path):
    path = wt.write_xlsx(tmp_path / "t.xlsx", KEDOYA)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Petunjuk", "Profil", "Anggota", "Simpanan", "Stok", "Penjualan"]
    for spec in TABLES:
        ws = book[spec.name]
        assert [c.value for c in ws[1]][: len(spec.columns)] == [c.label for c in spec.columns]
        assert ws.freeze_panes == "A2"
        assert ws.protection.sheet and ws.protection.sort is False  # False: sorting allowed
        assert ws.protection.insertRows is False and ws.protection.deleteRows is False
        assert ws["A1"].protection.locked
        rules = {}
        for dv in ws.data_validations.dataValidation:
            for ref in str(dv.sqref).split():
                rules[ref.split(":")[0].rstrip("0123456789")] = dv
        for index, col in enumerate(spec.columns):
            letter = openpyxl.utils.get_column_letter(index + 1)
            dim = _column(ws, index + 1)
            assert dim.protection.locked is False, (spec.name, col.label)  # data cells free
            dv = rules[letter]
            assert dv.prompt, (spec.name, col.label)  # the hint shows when a cell is selected
            assert str(dv.sqref).endswith(str(wt.DATA_ROWS + 1))
            if col.choices:
                assert dv.type == "list"
                assert dv.formula1 == '"' + ",".join(col.choices) + '"'
            if col.key in TEXT_KEYS:
                assert dim.number_format == "@", (spec.name, col.label)
            if col.kind is Kind.DATE:
                assert dim.number_format == "dd/mm/yyyy" and dv.type == "date"
            if col.kind is Kind.MONEY:
                assert "Rp" in dim.number_format and dv.type == "decimal"
            if col.kind is Kind.NIK:
                assert dv.type == "textLength" and dv.formula1 == "16"
    profil = book["Profil"]
    values = {row[0].value: row[1].value for row in profil.iter_rows(min_row=2)}
    assert values["Kode Wilayah"] == "31.73.05.1006"
    assert values["Kota"] == "Kota Administrasi Jakarta Barat"
    lists = {dv.formula1 for dv in profil.data_validations.dataValidation if dv.type == "list"}
    assert '"Persiapan,Aktif,Berhenti"' in lists
    assert any("Gerai Sembako" in f for f in lists)  # Unit Usaha


def _demo_books(root: Path) -> tuple[DemoCity, Coop, dict, dict]:
    """A well-kept demo cooperative's Profil and records, its outside-city members moved into
    the city (the demo has such members on purpose; they are warned about)."""
    demo = build_demo_city(root / "demo", size=12, mistakes=False, as_of=AS_OF)
    chosen = next(c for c in demo.coops if c.kind == "mapan")
    source = LocalSource(demo.registry_path)
    coops, _ = read_registry(source.registry_rows())
    coop = next(c for c in coops if c.id == chosen.id)
    profil, data = records_from(source.read(coop))
    into_city(data, coop.kode_wilayah or "")
    return demo, coop, profil, data


def _filled_city(root: Path) -> tuple[DemoCity, Path, str]:
    """A one-cooperative city whose workbook is provisioned, then filled with the records of a
    demo cooperative as its pengurus would type them in."""
    demo, coop, profil, data = _demo_books(root)
    city = root / "kota"
    city.mkdir()
    with (city / "registry.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerow(
            [coop.id, coop.nama, coop.kelurahan, coop.kecamatan, coop.kode_wilayah, "", "", "", ""]
        )
    (city / "city.toml").write_text(demo.config_path.read_text(encoding="utf-8"), "utf-8")
    assert main(["provision", coop.id, "--config", str(city / "city.toml")]) == 0
    path = city / "workbooks" / f"{coop.id}.xlsx"
    wt.write_xlsx(path, coop, data=data, profil=profil)
    return demo, city / "city.toml", coop.id


def test_a_provisioned_workbook_filled_with_the_demo_data_has_no_problem(tmp_path):
    demo, cfg_path, coop_id = _filled_city(tmp_path)
    cycle = run_once(config.load(cfg_path), AS_OF, mail=False)
    [result] = cycle.results
    assert result.coop.id == coop_id
    assert [(i.code, i.tab, i.row, i.column) for i in result.issues] == []
    assert result.figures.readable and result.figures.anggota_aktif >= 100
    assert result.zone.name == "Hijau", result.zone.reasons
    assert cycle.feedback_written == 1  # Hasil Pemeriksaan went into the provisioned workbook
    book = python_calamine.CalamineWorkbook.from_path(
        str(cfg_path.parent / "workbooks" / f"{coop_id}.xlsx")
    )
    assert book.sheet_names[-1] == "Hasil Pemeriksaan"
    # the same figures as the cooperative's own demo workbook
    original = run_once(config.load(demo.config_path), AS_OF, mail=False, write=False)
    mine = next(r for r in original.results if r.coop.id == coop_id)
    for figure in ("omset", "transaksi", "simpanan_pokok", "simpanan_wajib", "nilai_stok"):
        assert getattr(result.figures, figure) == getattr(mine.figures, figure), figure
    assert result.figures.siap_pembiayaan == mine.figures.siap_pembiayaan


# --- local mode ----------------------------------------------------------------------------------


def _city(root: Path, rows: list[list[str]], *, text: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if text is None:
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows([HEADER, *rows])
        text = out.getvalue()
    (root / "registry.csv").write_bytes(text.encode("utf-8"))
    cfg = root / "city.toml"
    cfg.write_text(
        '[city]\nname = "Kota Administrasi Jakarta Barat"\nkode_wilayah = "31.73"\n'
        '[source]\nkind = "local"\nregistry = "registry.csv"\n'
        '[output]\nkind = "local"\npath = "out/status-kota.xlsx"\n'
        '[mail]\nkind = "outbox"\ndir = "out/outbox"\n'
        '[provision]\nfolder = "buku"\n',
        encoding="utf-8",
    )
    return cfg


ROWS = [
    ["KKMP-3173051006", "KKMP Kedoya Utara", "Kedoya Utara", "Kebon Jeruk", "31.73.05.1006", "",
     "kedoya@contoh.id", "Budi", "budi@dinas.id"],
    ["KKMP-3173051001", "KKMP Kebon Jeruk", "Kebon Jeruk", "Kebon Jeruk", "31.73.05.1001", "",
     "", "Budi", "budi@dinas.id"],
    ["KKMP-3173011001", "KKMP Cengkareng Barat", "Cengkareng Barat", "Cengkareng", "31.73.01.1001",
     "", "cb@contoh.id", "Sari", ""],
]  # fmt: skip


def test_provision_all_writes_each_workbook_once_and_records_it(tmp_path, capsys):
    cfg = _city(tmp_path / "kota", [list(r) for r in ROWS])
    before = (tmp_path / "kota" / "registry.csv").read_bytes()
    assert main(["provision", "--all", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert out.count("dibuat") == 4  # three lines and the summary
    after = (tmp_path / "kota" / "registry.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(after.decode())))
    assert [r[5] for r in rows[1:]] == [f"buku/{r[0]}.xlsx" for r in ROWS]
    expected = before  # only the Spreadsheet field changed: every other byte is as it was
    for r in ROWS:
        expected = expected.replace(f"{r[4]},,".encode(), f"{r[4]},buku/{r[0]}.xlsx,".encode())
    assert after == expected
    mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "kota" / "buku").iterdir()}
    assert len(mtimes) == 3
    assert main(["provision", "--all", "--config", str(cfg)]) == 0
    assert "3 sudah ada" in capsys.readouterr().out
    assert (tmp_path / "kota" / "registry.csv").read_bytes() == after
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes  # nothing rewritten


def test_a_workbook_left_by_an_interrupted_run_is_recorded_not_rewritten(tmp_path, capsys):
    cfg = _city(tmp_path / "kota", [list(r) for r in ROWS[:1]])
    left = wt.write_xlsx(tmp_path / "kota" / "buku" / "KKMP-3173051006.xlsx", KEDOYA)
    stamp = left.stat().st_mtime_ns
    assert main(["provision", "KKMP-3173051006", "--config", str(cfg)]) == 0
    assert "dicatat" in capsys.readouterr().out
    assert left.stat().st_mtime_ns == stamp
    assert "buku/KKMP-3173051006.xlsx" in (tmp_path / "kota" / "registry.csv").read_text()


def test_a_missing_file_named_in_the_registry_is_created_there(tmp_path):
    rows = [list(ROWS[0])]
    rows[0][5] = "lama/kedoya.xlsx"
    cfg = _city(tmp_path / "kota", rows)
    before = (tmp_path / "kota" / "registry.csv").read_bytes()
    report = provision.provision(config.load(cfg), every=True)
    assert [o.action for o in report.outcomes] == ["dibuat"]
    assert (tmp_path / "kota" / "lama" / "kedoya.xlsx").is_file()
    assert (tmp_path / "kota" / "registry.csv").read_bytes() == before


def test_unknown_ids_and_rows_with_a_repeated_id_are_refused(tmp_path, capsys):
    rows = [list(ROWS[0]), list(ROWS[1])]
    rows[1][0] = rows[0][0]  # the same ID twice
    cfg = _city(tmp_path / "kota", rows)
    assert main(["provision", "KKMP-0000", "--config", str(cfg)]) == 2
    assert "not in the registry" in capsys.readouterr().err
    with pytest.raises(UsageError):
        provision.provision(config.load(cfg), ["KKMP-3173051006"])
    assert provision.provision(config.load(cfg), every=True).outcomes == []
    assert main(["provision", "--config", str(cfg)]) == 2  # nothing asked for


@pytest.mark.parametrize(
    ("encoding", "delimiter", "newline", "bom"),
    [
        ("utf-8", ",", "\r\n", False),
        ("utf-8", ";", "\n", True),
        ("cp1252", ";", "\r\n", False),
    ],
)
def test_the_csv_registry_keeps_its_bytes(tmp_path, encoding, delimiter, newline, bom):
    lines = [
        delimiter.join(HEADER),
        delimiter.join(['"KKMP-1"', '"Koperasi ""Sejahtera"""', "Kedoya Utara", "Kebon Jeruk",
                        "31.73.05.1006", "", "a@b.id", "José", ""]),
        delimiter.join(["KKMP-2", '"Nama\ndua baris"', "Kebon Jeruk", "Kebon Jeruk",
                        "31.73.05.1001", "ada.xlsx", "", "", ""]),
        delimiter.join(["KKMP-3", "Cengkareng", "Cengkareng Barat", "Cengkareng",
                        "31.73.01.1001", "", "", "", ""]),
    ]  # fmt: skip
    text = newline.join(lines) + newline
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)
    path = tmp_path / "registry.csv"
    path.write_bytes(raw)
    csv_registry.set_csv_cells(path, {"KKMP-1": "buku/KKMP-1.xlsx", "KKMP-3": "buku/KKMP-3.xlsx"})
    expected = list(lines)  # the two rows given a path are written again, nothing else
    expected[1] = delimiter.join(["KKMP-1", '"Koperasi ""Sejahtera"""', "Kedoya Utara",
                                  "Kebon Jeruk", "31.73.05.1006", "buku/KKMP-1.xlsx", "a@b.id",
                                  "José", ""])  # fmt: skip
    expected[3] = lines[3].replace(
        f"31.73.01.1001{delimiter}", f"31.73.01.1001{delimiter}buku/KKMP-3.xlsx"
    )
    wanted = newline.join(expected) + newline
    assert path.read_bytes() == (b"\xef\xbb\xbf" if bom else b"") + wanted.encode(encoding)
    rows = LocalSource(path).registry_rows()
    coops, _ = read_registry(rows)
    assert [c.spreadsheet for c in coops] == ["buku/KKMP-1.xlsx", "ada.xlsx", "buku/KKMP-3.xlsx"]
    assert coops[0].nama == 'Koperasi "Sejahtera"' and coops[1].nama == "Nama\ndua baris"


def test_an_xlsx_registry_is_not_rewritten_the_paths_are_printed(tmp_path):
    import xlsxwriter

    root = tmp_path / "kota"
    cfg = _city(root, [list(ROWS[0])])
    book = xlsxwriter.Workbook(str(root / "registry.xlsx"))
    sheet = book.add_worksheet(REGISTRY.tab)
    for r, row in enumerate([HEADER, ROWS[0]]):
        sheet.write_row(r, 0, row)
    book.close()
    cfg.write_text(cfg.read_text().replace("registry.csv", "registry.xlsx"))
    before = (root / "registry.xlsx").read_bytes()
    report = provision.provision(config.load(cfg), every=True)
    assert [o.action for o in report.outcomes] == ["dibuat"]
    assert (root / "registry.xlsx").read_bytes() == before
    assert any("KKMP-3173051006\tbuku/KKMP-3173051006.xlsx" in n for n in report.notes)


def test_blank_template_and_local_status(tmp_path, capsys):
    assert main(["provision", "--blank", str(tmp_path / "templat.xlsx")]) == 0
    names = python_calamine.CalamineWorkbook.from_path(str(tmp_path / "templat.xlsx")).sheet_names
    assert names[:2] == ["Petunjuk", "Profil"]
    cfg = _city(tmp_path / "kota", [list(ROWS[0])])
    assert main(["provision", "--status", "--config", str(cfg)]) == 0
    assert "disiapkan" in capsys.readouterr().out
    assert (tmp_path / "kota" / "out").is_dir()


# --- Google mode, on the local fake ------------------------------------------------------------------

OFFICE = "sudin.kukm@jakbar.example"


def _google(fake: FakeGoogle, demo: DemoCity, *, template: str = "") -> tuple[config.Config, str]:
    """The demo's registry as a Daftar KKMP spreadsheet with empty Spreadsheet cells, a folder
    shared with the service account, and a config pointing at both."""
    sa = fake.default_identity
    with demo.registry_path.open(encoding="utf-8", newline="") as fh:
        rows = [list(r) for r in csv.reader(fh)]
    for row in rows[1:]:
        row[5] = ""
    folder = fake.add_folder("KKMP Jakarta Barat", owner=OFFICE, shared_with={sa: "writer"})
    registry = fake.add_spreadsheet(
        "Daftar KKMP", {REGISTRY.tab: rows}, owner=OFFICE, shared_with={sa: "writer"}
    )
    cfg = config.load(demo.config_path)
    cfg = replace(
        cfg,
        source_kind="google",
        registry=registry,
        google=GoogleSettings(base_url=fake.base_url, timeout_seconds=30),
        provision=replace(
            cfg.provision, google_folder=folder, google_template=template, notify=False
        ),
    )
    return cfg, folder


def _shares(fake: FakeGoogle, file_id: str) -> dict[str, str]:
    with fake.app.lock:
        return {p.email or "": p.role for p in fake.app.drive.files[file_id].permissions}


@pytest.fixture(scope="module")
def jakbar(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    return build_demo_city(tmp_path_factory.mktemp("jakbar") / "demo", mistakes=False)


def test_google_provisions_all_56_once_each(jakbar, monkeypatch):
    # The fake emulates every cell a format or a check covers; fewer rows keep this test quick.
    # The requests are the same whatever the number of rows.
    monkeypatch.setattr(wt, "DATA_ROWS", 40)
    with FakeGoogle() as fake:
        clock = WarpClock()
        fake.clock = clock.wall
        cfg, folder = _google(fake, jakbar)
        api = connect(cfg.google, clock=clock, scopes=PROVISION_SCOPES)
        started = time.perf_counter()
        report = provision_google.provision_google(cfg, every=True, api=api)
        seconds = time.perf_counter() - started
        assert report.count("dibuat") == 56 and not report.failed
        counts = fake.counts
        assert counts["drive.files.create"] == 56
        assert counts["sheets.spreadsheets.batchUpdate"] == 56
        assert counts["drive.permissions.create"] == 56  # one pengurus address each
        assert counts["sheets.values.batchUpdate"] == 1  # the registry, once
        assert sum(counts.values()) == 56 * 3 + 5
        print(f"\n56 provisioned on the fake in {seconds:.1f} s, {dict(counts)}")
        registry = fake.get_values(cfg.registry, REGISTRY.tab)
        ids = [row[5] for row in registry[1:]]
        assert len(set(ids)) == 56 and all(ids)
        first = ids[0]
        assert fake.tabs(first) == [
            "Petunjuk",
            "Profil",
            "Anggota",
            "Simpanan",
            "Stok",
            "Penjualan",
        ]
        assert fake.file_info(first)["parents"] == [folder]
        owner = registry[1][6]
        assert _shares(fake, first)[owner] == "writer"
        # again: nothing is made twice, one request (the registry)
        fake.reset_counts()
        again = provision_google.provision_google(cfg, every=True, api=api)
        assert again.count("sudah ada") == 56 and sum(fake.counts.values()) == 1


def test_google_template_in_one_batch_matches_the_xlsx(jakbar):
    with FakeGoogle() as fake:
        cfg, _ = _google(fake, jakbar)
        api = connect(cfg.google, clock=WarpClock(), scopes=PROVISION_SCOPES)
        report = provision_google.provision_google(cfg, ["KKMP-3173051006"], api=api)
        [done] = report.outcomes
        assert done.action == "dibuat"
        sid = done.where
        profil = {r[0]: r[1] for r in fake.get_values(sid, "Profil")[1:] if len(r) > 1}
        assert profil["Kelurahan"] == "Kedoya Utara" and profil["Kode Wilayah"] == "31.73.05.1006"
        meta = api.get_spreadsheet(
            sid,
            {
                "includeGridData": "true",
                "ranges": ["Anggota!A1:J3"],
                "fields": "properties(locale),sheets(properties(gridProperties),protectedRanges,"
                "data(rowData(values(userEnteredFormat(numberFormat),dataValidation))))",
            },
        )
        assert meta["properties"]["locale"] == "id_ID"
        sheet = meta["sheets"][0]
        assert sheet["properties"]["gridProperties"]["frozenRowCount"] == 1
        assert sheet["properties"]["gridProperties"]["rowCount"] == wt.DATA_ROWS + 1
        assert sheet["protectedRanges"][0]["range"]["endRowIndex"] == 1
        assert sheet["protectedRanges"][0]["warningOnly"] is True
        cells = sheet["data"][0]["rowData"][1]["values"]
        nik, jk, masuk = cells[2], cells[3], cells[4]
        assert nik["userEnteredFormat"]["numberFormat"]["type"] == "TEXT"
        assert nik["dataValidation"]["condition"]["type"] == "CUSTOM_FORMULA"
        assert [v["userEnteredValue"] for v in jk["dataValidation"]["condition"]["values"]] == [
            "L",
            "P",
        ]
        assert masuk["userEnteredFormat"]["numberFormat"]["pattern"] == "dd/mm/yyyy"


def test_google_finishes_what_an_interrupted_run_made_and_copies_a_template(jakbar):
    with FakeGoogle() as fake:
        cfg, folder = _google(fake, jakbar)
        # an interrupted run: the file made, never built, never recorded
        made = fake.add_spreadsheet(
            "KKMP-3173051006 — Koperasi Kelurahan Merah Putih Kedoya Utara",
            {"Sheet1": []},
            owner=fake.default_identity,
            parent=folder,
        )
        api = connect(cfg.google, clock=WarpClock(), scopes=PROVISION_SCOPES)
        report = provision_google.provision_google(cfg, ["KKMP-3173051006"], api=api)
        assert [(o.action, o.where) for o in report.outcomes] == [("dilanjutkan", made)]
        assert "Profil" in fake.tabs(made) and fake.counts["drive.files.create"] == 0
        # a template the office made: copied, then its Profil filled
        template = fake.add_spreadsheet("Templat KKMP", owner=OFFICE)
        fake.share(template, fake.default_identity, "writer")
        api.batch_update(template, wt.sheets_requests(wt.design()))  # the office's own template
        fake.share(template, fake.default_identity, "reader")  # copying needs to read it only
        cfg = replace(cfg, provision=replace(cfg.provision, google_template=template))
        report = provision_google.provision_google(cfg, ["KKMP-3173011001"], api=api)
        [done] = report.outcomes
        assert done.action == "dibuat" and fake.counts["drive.files.copy"] == 1
        profil = {r[0]: r[1] for r in fake.get_values(done.where, "Profil")[1:] if len(r) > 1}
        assert profil["Kelurahan"] == "Cengkareng Barat"


def test_a_google_template_filled_with_the_demo_data_has_no_problem(tmp_path):
    demo, coop, profil, data = _demo_books(tmp_path)
    with FakeGoogle() as fake:
        clock = WarpClock()
        fake.clock = clock.wall
        sa = fake.default_identity
        sid = fake.add_spreadsheet(
            coop.nama, {"Sheet1": []}, owner="pengurus@koperasi.example", shared_with={sa: "writer"}
        )
        row = [
            coop.id,
            coop.nama,
            coop.kelurahan,
            coop.kecamatan,
            coop.kode_wilayah,
            sid,
            "",
            "",
            "",
        ]
        registry = fake.add_spreadsheet(
            "Daftar KKMP", {REGISTRY.tab: [HEADER, row]}, owner=OFFICE, shared_with={sa: "reader"}
        )
        status = fake.add_spreadsheet(
            "Status", {"Sheet1": []}, owner=OFFICE, shared_with={sa: "writer"}
        )
        clients = connect_fake(fake, GoogleCity(registry, status), clock=clock)
        try:
            template = wt.sheets_requests(wt.design(coop, profil=profil), data)
            clients.api.batch_update(sid, template)  # built and typed in: one batch here
            cycle = run_cycle(
                config.load(demo.config_path),
                source=clients.source,
                sink=clients.sink,
                as_of=AS_OF,
            )
        finally:
            clients.close()
        [result] = cycle.results
        assert [(i.code, i.tab, i.row, i.column) for i in result.issues] == []
        assert result.zone.name == "Hijau", result.zone.reasons
        assert fake.tabs(sid)[-1] == "Hasil Pemeriksaan"


def test_google_refuses_clearly_without_a_usable_folder(jakbar):
    with FakeGoogle() as fake:
        cfg, folder = _google(fake, jakbar)
        api = connect(cfg.google, clock=WarpClock(), scopes=PROVISION_SCOPES)
        fake.unshare(folder, fake.default_identity)
        with pytest.raises(ConfigError, match=r"google_folder .*share"):
            provision_google.provision_google(cfg, ["KKMP-3173051006"], api=api)
        fake.share(folder, fake.default_identity, "reader")
        with pytest.raises(ConfigError, match="Content manager"):
            provision_google.provision_google(cfg, ["KKMP-3173051006"], api=api)
        missing = replace(cfg, provision=replace(cfg.provision, google_folder=""))
        with pytest.raises(ConfigError, match="google_folder is not set"):
            provision_google.provision_google(missing, ["KKMP-3173051006"], api=api)


def test_google_status_spreadsheet_is_created_once_and_shared_with_the_officials(jakbar, tmp_path):
    with FakeGoogle() as fake:
        cfg, folder = _google(fake, jakbar)
        toml = tmp_path / "city.toml"
        toml.write_text(
            '[city]\nname = "Kota Administrasi Jakarta Barat"\nkode_wilayah = "31.73"\n'
            f'[source]\nkind = "google"\nregistry = "{cfg.registry}"\n'
            '[output]\nkind = "google"\n'
            '[mail]\nofficials = ["kadis@dinas.example", "sekdis@dinas.example"]\n'
            f'[google]\nbase_url = "{fake.base_url}"\n'
            f'[provision]\ngoogle_folder = "https://drive.google.com/drive/folders/{folder}"\n'
            "notify = false\n",
            encoding="utf-8",
        )
        with pytest.raises(ConfigError):
            config.load(toml)  # [output] spreadsheet missing: only provision --status accepts it
        status = provision.load_for_provision(toml)
        report = provision.provision_status(status)
        [done] = report.outcomes
        assert done.action == "dibuat"
        shared = _shares(fake, done.where)
        assert shared["kadis@dinas.example"] == shared["sekdis@dinas.example"] == "reader"
        assert f'spreadsheet = "{done.where}"' in report.text()
        assert provision.provision_status(status).outcomes[0].action == "dilanjutkan"
        toml.write_text(
            toml.read_text().replace(
                '[output]\nkind = "google"\n',
                f'[output]\nkind = "google"\nspreadsheet = "{done.where}"\n',
            )
        )
        assert main(["provision", "--status", "--config", str(toml)]) == 0
        # and the cycle can write it
        status_cfg = config.load(toml)
        assert status_cfg.output_spreadsheet == done.where
