"""`kkmp-sheets check`: each kind of broken registry row, access, outputs and mail, one line
per finding with its fix."""

from __future__ import annotations

import csv
import shutil
import socket
from pathlib import Path

import pytest

from kkmp_sheets.cli import main
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.template import REGISTRY
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.onboarding import check
from kkmp_sheets.onboarding import workbook_template as wt
from kkmp_sheets.testing import XLSX_MIME, FakeGoogle

HEADER = [c.label for c in REGISTRY.columns]
PJ = ["Budi", "budi@dinas.example"]


def row(coop_id, kelurahan, kecamatan, kode, sheet="", email="kkmp@contoh.id"):
    return [coop_id, f"KKMP {kelurahan}", kelurahan, kecamatan, kode, sheet, email, *PJ]


BROKEN = [
    row("KKMP-OK", "Kedoya Utara", "Kebon Jeruk", "31.73.05.1006", "workbooks/ok.xlsx"),
    row("KKMP-UNKNOWN", "Kedoya Selatan", "Kebon Jeruk", "31.73.05.1099", "workbooks/a.xlsx"),
    row("KKMP-NAME", "Duri Kepa", "Kebon Jeruk", "31.73.05.1001", "workbooks/b.xlsx"),
    row("KKMP-KEC", "Kelapa Dua", "Cengkareng", "31.73.05.1004", "workbooks/c.xlsx"),
    row("KKMP-OUTSIDE", "Ciater", "Serpong", "36.74.01.1001", "workbooks/d.xlsx"),
    row("KKMP-TWICE", "Kel. Kedoya Utara", "Kec. Kebon Jeruk", "31.73.05.1006", "workbooks/e.xlsx"),
    row("KKMP-SAMEFILE", "Sukabumi Utara", "Kebon Jeruk", "31.73.05.1002", "workbooks/ok.xlsx"),
    row("KKMP-NOFILE", "Sukabumi Selatan", "Kebon Jeruk", "31.73.05.1003", "workbooks/hilang.xlsx"),
    row("KKMP-NOSHEET", "Grogol", "Grogol Petamburan", "31.73.02.1001", ""),
    row("KKMP-FORMAT", "Tomang", "Grogol Petamburan", "31.73.2", "workbooks/f.xlsx"),
    row("KKMP-UNKNOWN", "Jelambar", "Grogol Petamburan", "31.73.02.1004", "workbooks/g.xlsx"),
    row("KKMP-NOMAIL", "Kapuk", "Cengkareng", "31.73.01.1005", "workbooks/h.xlsx", email=""),
    row("KKMP-CORRUPT", "Rawa Buaya", "Cengkareng", "31.73.01.1003", "workbooks/rusak.xlsx"),
]
EXPECTED = {  # a broken row: what its line says
    "unknown code": "row 3 (KKMP-UNKNOWN): Kode Wilayah 31.73.05.1099 is not in the Kemendagri",
    "name mismatch": "row 4 (KKMP-NAME): Kelurahan 'Duri Kepa' but 31.73.05.1001 is Kebon Jeruk",
    "kecamatan mismatch": "row 5 (KKMP-KEC): Kecamatan 'Cengkareng' but 31.73.05.1004 lies in",
    "outside the city": "row 6 (KKMP-OUTSIDE): Kode Wilayah 36.74.01.1001 (Ciater) lies in "
    "Kota Tangerang Selatan, not in Kota Administrasi Jakarta Barat",
    "duplicate kelurahan": "row 7 (KKMP-TWICE): kelurahan Kel. Kedoya Utara (31.73.05.1006) is "
    "already row 2 (KKMP-OK)",
    "duplicate spreadsheet": "row 8 (KKMP-SAMEFILE): same spreadsheet as row 2 (KKMP-OK)",
    "missing file": "row 9 (KKMP-NOFILE): workbook",
    "no workbook": "row 10 (KKMP-NOSHEET): no workbook yet",
    "bad code": "row 11: Kode Wilayah '31.73.2' is not a 10-digit Kemendagri code",
    "duplicate id": "row 12: ID KKMP-UNKNOWN is also on row 3",
    "no email": "row 13 (KKMP-NOMAIL): no Email Pengurus",
    "corrupt file": "row 14 (KKMP-CORRUPT): workbook rusak.xlsx cannot be opened",
}
FIXES = {
    "unknown code": "(Kedoya Selatan, kecamatan Kebon Jeruk, is 31.73.05.1007)",
    "name mismatch": "(Duri Kepa, kecamatan Kebon Jeruk, is 31.73.05.1005)",
    "kecamatan mismatch": "(Kelapa Dua, kecamatan Kebon Jeruk, is 31.73.05.1004)",
    "bad code": "(Tomang, kecamatan Grogol Petamburan, is 31.73.02.1003)",
    "no workbook": "kkmp-sheets provision KKMP-NOSHEET",
    "duplicate spreadsheet": "kkmp-sheets provision KKMP-SAMEFILE",
}


def write_city(root: Path, rows: list[list[str]], extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with (root / "registry.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    (root / "city.toml").write_text(
        '[city]\nname = "Kota Administrasi Jakarta Barat"\nkode_wilayah = "31.73"\n'
        '[source]\nkind = "local"\nregistry = "registry.csv"\n'
        '[output]\nkind = "local"\npath = "out/status-kota.xlsx"\n'
        '[mail]\nkind = "outbox"\ndir = "out/outbox"\nofficials = ["kadis@dinas.example"]\n'
        + extra,
        encoding="utf-8",
    )
    return root / "city.toml"


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    cfg = write_city(tmp_path / "kota", BROKEN)
    books = tmp_path / "kota" / "workbooks"
    for r in BROKEN:
        name = r[5].removeprefix("workbooks/")
        if name and name not in ("hilang.xlsx", "rusak.xlsx"):
            wt.write_xlsx(books / name)
    (books / "rusak.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    return cfg


def test_check_finds_each_kind_of_broken_registry_row(broken, capsys):
    assert main(["check", "--config", str(broken)]) == 7
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    for kind, text in EXPECTED.items():
        assert any(text in line for line in lines), f"{kind}: {text!r} not in\n{out}"
    for kind, fix in FIXES.items():
        [line] = [x for x in lines if EXPECTED[kind] in x]
        assert fix in line.split(" — ", 1)[1], (kind, line)
    findings = [x for x in lines if x.startswith(("GALAT", "PERINGATAN"))]
    assert all(" — " in x and x.split(" — ", 1)[1].strip() for x in findings)  # each has a fix
    assert lines[0].startswith("OK") and "config city.toml" in lines[0]
    assert "GALAT" in err or "fix them" in err
    print(out)  # the evidence: `pytest -s tests/test_check.py -k broken`


def test_a_clean_demo_city_is_ready(tmp_path, capsys):
    city = build_demo_city(tmp_path / "demo", size=6, mistakes=False)
    assert main(["check", "--config", str(city.config_path)]) == 0
    out = capsys.readouterr().out
    assert "0 galat" in out and "ready for the first cycle" in out
    assert "OK          registry: 6 rows; every Kode Wilayah exists" in out
    assert "OK          workbooks: 6 of 6 found, readable, in shape" in out
    assert "PERINGATAN  [mail] officials is empty" in out
    assert (
        "OK          digest templates (id, city, kecamatan, coop, alert): every one compiles" in out
    )


def test_a_broken_config_is_one_line_per_problem(tmp_path, capsys):
    cfg = write_city(tmp_path / "kota", [])
    cfg.write_text(cfg.read_text().replace('kind = "outbox"', 'kind = "pos"') + "[zonez]\n")
    assert main(["check", "--config", str(cfg)]) == 7
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("GALAT")]
    assert len(lines) == 2
    assert any("[mail] kind = 'pos'" in x for x in lines)
    assert any("unknown section [zonez]" in x for x in lines)
    assert main(["check", "--config", str(tmp_path / "nope.toml")]) == 7


def test_unwritable_outputs_are_found(tmp_path):
    cfg = write_city(tmp_path / "kota", [])
    (tmp_path / "kota" / "berkas").write_text("a file where a folder should be")
    cfg.write_text(cfg.read_text().replace('path = "out/', 'path = "berkas/out/'))
    [line] = [f for f in check.run_checks(cfg) if "city status workbook" in f.what]
    assert line.level == check.GALAT and "[output] path" in line.fix


def test_names_match_tolerantly():
    coop = Coop(
        "X",
        "X",
        "KEL. KEDOYA-UTARA",
        "kecamatan kebon jeruk",
        "31.73.05.1006",
        "a.xlsx",
        ("a@b.id",),
    )
    findings = check.registry_findings([coop], "31.73")
    assert [f.level for f in findings] == ["OK", "OK"]
    assert findings[-1].what == (
        "registry: 1 kecamatan, as the outputs will show them: Kebon Jeruk (1; also written "
        '"kecamatan kebon jeruk")'
    )


# --- mail -------------------------------------------------------------------------------------


def test_smtp_connection_is_tried_without_sending(tmp_path):
    from aiosmtpd.controller import Controller

    class Handler:
        received = 0

        async def handle_DATA(self, server, session, envelope):
            Handler.received += 1
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        cfg = write_city(tmp_path / "kota", [])
        smtp = f'kind = "smtp"\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        cfg.write_text(cfg.read_text().replace('kind = "outbox"\n', smtp))
        [line] = [f for f in check.run_checks(cfg) if f.what.startswith("SMTP")]
        assert line.level == "OK" and "connected" in line.what and "no message sent" in line.what
        assert Handler.received == 0
    finally:
        controller.stop()
    [line] = [f for f in check.run_checks(cfg, smtp_timeout=2) if f.what.startswith("SMTP")]
    assert line.level == "GALAT" and "cannot connect" in line.what and "host and port" in line.fix


# --- Google mode, on the local fake -----------------------------------------------------------------


def test_google_access_problems_each_say_who_to_share_with(tmp_path, capsys):
    with FakeGoogle() as fake:
        sa = fake.default_identity
        office = "sudin.kukm@jakbar.example"
        good = fake.add_spreadsheet("ok", {"Profil": []}, shared_with={sa: "writer"})
        unshared = fake.add_spreadsheet("unshared", {"Profil": []}, owner="x@koperasi.example")
        viewer = fake.add_spreadsheet(
            "viewer", {"Profil": []}, owner="y@koperasi.example", shared_with={sa: "reader"}
        )
        upload = fake.add_file("lama.xlsx", b"PK", XLSX_MIME, shared_with={sa: "writer"})
        rows = [
            row("KKMP-OK", "Kedoya Utara", "Kebon Jeruk", "31.73.05.1006", good),
            row("KKMP-UNSHARED", "Kebon Jeruk", "Kebon Jeruk", "31.73.05.1001", unshared),
            row("KKMP-VIEWER", "Kelapa Dua", "Kebon Jeruk", "31.73.05.1004", viewer),
            row("KKMP-XLSX", "Duri Kepa", "Kebon Jeruk", "31.73.05.1005", upload),
        ]
        registry = fake.add_spreadsheet(
            "Daftar KKMP", {REGISTRY.tab: [HEADER, *rows]}, owner=office, shared_with={sa: "reader"}
        )
        status = fake.add_spreadsheet(
            "Status", {"Sheet1": []}, owner=office, shared_with={sa: "reader"}
        )
        folder = fake.add_folder("KKMP", owner=office, shared_with={sa: "writer"})
        cfg = tmp_path / "city.toml"
        cfg.write_text(
            '[city]\nname = "Kota Administrasi Jakarta Barat"\nkode_wilayah = "31.73"\n'
            f'[source]\nkind = "google"\nregistry = "{registry}"\n'
            f'[output]\nkind = "google"\nspreadsheet = "{status}"\n'
            f'[mail]\ndir = "outbox"\nofficials = ["kadis@dinas.example"]\n'
            f'[google]\nbase_url = "{fake.base_url}"\n'
            f'[provision]\ngoogle_folder = "{folder}"\n',
            encoding="utf-8",
        )
        assert main(["check", "--config", str(cfg)]) == 7
        out = capsys.readouterr().out
    assert f"OK          Google: acting as {sa}" in out
    assert f"(KKMP-UNSHARED): spreadsheet {unshared} not reachable — share it with {sa}" in out
    assert f"(KKMP-VIEWER): {viewer} is shared with the service account as Viewer only" in out
    assert f"(KKMP-XLSX): {upload} is an uploaded .xlsx" in out
    assert "workbooks: 1 of 4 reachable and editable" in out
    assert f"city status spreadsheet {status}: the service account may only read it" in out
    assert f"provisioning folder {folder}: the service account may add files" in out
    assert f"registry {registry} is shared with the service account as Viewer" in out


# --- digest templates ---------------------------------------------------------------------------


def test_missing_digest_templates_are_a_galat_not_ready(tmp_path, capsys, monkeypatch):
    cfg = write_city(tmp_path / "kota", [])
    monkeypatch.setenv("KKMP_REPORT_TEMPLATES", str(tmp_path / "tidak-ada"))
    assert main(["check", "--config", str(cfg)]) == 7
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if "digest templates" in x]
    assert line.startswith("GALAT") and str(tmp_path / "tidak-ada") in line
    fix = line.split(" — ", 1)[1]
    assert "reinstall kkmp-sheets" in fix and "KKMP_REPORT_TEMPLATES" in fix
    assert "ready for the first cycle" not in out


def test_a_broken_digest_template_is_named(tmp_path, capsys, monkeypatch):
    cfg = write_city(tmp_path / "kota", [], extra='language = "en"\n')
    copy = tmp_path / "templates"
    shutil.copytree(Path(__file__).resolve().parents[1] / "report_templates", copy)
    city = copy / "en" / "city.html.j2"
    city.write_text(city.read_text(encoding="utf-8").replace("{% endblock %}", "", 1))
    (copy / "id" / "city.html.j2").unlink()  # not the configured language: not checked
    monkeypatch.setenv("KKMP_REPORT_TEMPLATES", str(copy))
    assert main(["check", "--config", str(cfg)]) == 7
    lines = [x for x in capsys.readouterr().out.splitlines() if "digest template" in x]
    assert len(lines) == 1 and lines[0].startswith("GALAT")
    assert str(city) in lines[0] and "report_templates/en/city.html.j2" in lines[0]
