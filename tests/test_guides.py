"""docs/panduan-pengurus.md and docs/onboarding.md: generated parts current, pictures present,
every documented command run."""

from __future__ import annotations

import csv
import re
import shlex
import shutil
import struct
from pathlib import Path

import pytest

from kkmp_sheets.cli import main
from kkmp_sheets.core.issue import CATALOG
from kkmp_sheets.core.template import REGISTRY
from kkmp_sheets.onboarding import guide
from kkmp_sheets.testing import FakeGoogle

ROOT = Path(__file__).resolve().parents[1]
STAFF = ROOT / "docs" / "panduan-pengurus.md"
OPERATOR = ROOT / "docs" / "onboarding.md"


def commands(path: Path) -> list[list[str]]:
    """Every `kkmp-sheets ...` line of a guide's ```sh blocks, split like a shell would."""
    text = path.read_text(encoding="utf-8")
    blocks = re.findall(r"^[ \t]*```sh\n(.*?)^[ \t]*```", text, re.S | re.M)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("kkmp-sheets ")]


def test_the_generated_parts_of_the_staff_guide_are_current():
    found = guide.regions(STAFF.read_text(encoding="utf-8"))
    assert set(found) == set(guide.GENERATED)
    for name, make in guide.GENERATED.items():
        assert found[name] == make(), (
            f"run `python -m kkmp_sheets.onboarding.guide` ({name} changed)"
        )


def test_every_problem_is_explained_in_the_staff_guide():
    text = STAFF.read_text(encoding="utf-8")
    for code, entry in CATALOG.items():
        message = entry.message.format(column="[kolom]", tab="[tab]", expected="[…]", detail="[…]")
        assert message.replace("|", "\\|") in text, code


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


@pytest.mark.parametrize("doc", [STAFF, OPERATOR], ids=["panduan", "onboarding"])
def test_every_picture_exists(doc):
    pictures = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", doc.read_text(encoding="utf-8"))
    for picture in pictures:
        width, height = _png_size(doc.parent / picture)
        assert width >= 600 and height >= 80, picture
    if doc is STAFF:
        assert {Path(p).name for p in pictures} == {name for name, _, _ in guide.SHOTS.values()}


def test_every_guide_links_to_what_exists():
    for doc in (STAFF, OPERATOR):
        for target in re.findall(r"\]\(([\w./-]+\.md)(?:#[\w-]+)?\)", doc.read_text("utf-8")):
            assert (doc.parent / target).is_file(), (doc.name, target)


def test_the_staff_guide_is_for_staff():
    assert commands(STAFF) == []  # no command line for cooperative staff
    text = STAFF.read_text(encoding="utf-8")
    assert "Hasil Pemeriksaan" in text and "17/08/2025" in text


@pytest.mark.libreoffice
@pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
    reason="LibreOffice and pdftoppm (poppler-utils) render the pictures",
)
def test_the_pictures_can_be_rendered_again(tmp_path):
    made = guide.render_screenshots(tmp_path)
    assert [p.name for p in made] == [name for name, _, _ in guide.SHOTS.values()]
    for path in made:
        assert _png_size(path)[0] >= 600


def _google_city(fake: FakeGoogle, local: Path, folder: Path) -> None:
    """google/city.toml: the demo's registry as a Daftar KKMP spreadsheet (Spreadsheet cells
    empty), a Shared Drive folder for new spreadsheets, all on the local fake."""
    sa = fake.default_identity
    with (local / "registry.csv").open(encoding="utf-8", newline="") as fh:
        rows = [list(r) for r in csv.reader(fh)]
    for row in rows[1:]:
        row[5] = ""
    office = "dinkop@tangsel.example"
    drive = fake.add_folder("KKMP Tangerang Selatan", owner=office, shared_with={sa: "writer"})
    registry = fake.add_spreadsheet(
        "Daftar KKMP", {REGISTRY.tab: rows}, owner=office, shared_with={sa: "writer"}
    )
    folder.mkdir()
    (folder / "city.toml").write_text(
        '[city]\nname = "Kota Tangerang Selatan"\nkode_wilayah = "36.74"\n'
        f'[source]\nkind = "google"\nregistry = "{registry}"\n'
        '[output]\nkind = "google"\n'
        '[mail]\nofficials = ["kadis@dinkop-tangsel.example"]\n'
        f'[google]\nbase_url = "{fake.base_url}"\n'
        f'[provision]\ngoogle_folder = "{drive}"\nnotify = false\n',
        encoding="utf-8",
    )


def test_every_documented_onboarding_command_runs(tmp_path, monkeypatch, capsys):
    documented = commands(OPERATOR)
    assert {c[1] for c in documented} >= {"demo", "check", "provision", "run"}
    assert any("--status" in c for c in documented) and any("--blank" in c for c in documented)
    monkeypatch.chdir(tmp_path)
    with FakeGoogle() as fake:
        for command in documented:
            args = command[1:]
            if args[0] == "--version":
                with pytest.raises(SystemExit) as done:
                    main(args)
                assert done.value.code == 0
                continue
            if args[0] == "demo":
                args += ["--size", "6"]  # the guide builds the whole city; 6 are enough here
            if "google/city.toml" in args and not (tmp_path / "google").exists():
                _google_city(fake, tmp_path / "tangsel", tmp_path / "google")
            assert main(args) == 0, command
        out = capsys.readouterr().out
    assert "sudah ada" in out and "dibuat" in out
    assert "spreadsheet = " in out  # provision --status in Google mode says what to configure
    assert (tmp_path / "templat-kkmp.xlsx").is_file()
    assert (tmp_path / "tangsel" / "out" / "status-kota.xlsx").is_file()
