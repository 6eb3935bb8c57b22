"""Local mode writes only where its config says, and says so when it cannot write.

A registry path that is absolute elsewhere, climbs out with `..` or is a symlink to elsewhere is
refused as a registry problem (Masalah Data, `check`); a symlinked workbook inside the folder is
written through and stays a link; a Hasil Pemeriksaan that could not be written is a problem on
the cooperative's row and in its digest; nothing is left beside the workbooks."""

from __future__ import annotations

import csv
import email
import os
from datetime import date
from email import policy
from pathlib import Path

import pytest
import python_calamine

from kkmp_sheets.cli import main
from kkmp_sheets.demo.city import DemoCity, build_demo_city
from kkmp_sheets.sources.xlsx_patch import read_tab

AS_OF = date(2026, 1, 29)
TAB = "Hasil Pemeriksaan"


@pytest.fixture
def city(tmp_path: Path) -> DemoCity:
    return build_demo_city(tmp_path / "kota", size=6, as_of=AS_OF, mistakes=False)


def run(city: DemoCity) -> int:
    return main(["run", "--once", "--config", str(city.config_path), "--as-of", AS_OF.isoformat()])


def set_paths(city: DemoCity, paths: dict[int, str]) -> None:
    """Rewrite the Spreadsheet cell of registry data rows (0-based) as given."""
    with city.registry_path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    column = rows[0].index("Spreadsheet")
    for index, path in paths.items():
        rows[index + 1][column] = path
    with city.registry_path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def tab(path: Path, name: str) -> list[list]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(name).to_python()


def status_path(city: DemoCity) -> Path:
    return city.root / "out" / "status-kota.xlsx"


def digest_text(city: DemoCity, coop_id: str) -> str:
    """The plain text of the cooperative's own digest."""
    (eml,) = (city.root / "out" / "outbox").glob(f"coop_coop-{coop_id.lower()}_*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def stray_files(city: DemoCity) -> list[str]:
    folder = city.root / "workbooks"
    known = {p.name for p in city.workbooks}
    return sorted(p.name for p in folder.iterdir() if p.name not in known and not p.is_symlink())


def test_paths_leading_outside_are_refused_and_never_written(
    city: DemoCity, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    victims = []
    for i in range(3):
        victim = elsewhere / f"korban{i}.xlsx"
        victim.write_bytes(city.workbooks[i].read_bytes())
        victims.append(victim)
    link = city.root / "workbooks" / "pintasan.xlsx"
    link.symlink_to(victims[2])
    set_paths(
        city,
        {
            0: str(victims[0]),  # absolute, elsewhere
            1: f"../elsewhere/{victims[1].name}",  # climbs out
            2: "workbooks/pintasan.xlsx",  # a symlink inside, leading out
        },
    )
    before = [v.read_bytes() for v in victims]

    assert run(city) == 0

    assert [v.read_bytes() for v in victims] == before
    rows = tab(status_path(city), "Masalah Data")
    refused = [r for r in rows if r[0] == "(Daftar KKMP)" and "luar folder" in str(r[6])]
    assert sorted(int(r[4]) for r in refused) == [2, 3, 4]  # the registry rows officials see
    assert all("Pindahkan berkas" in str(r[6]) for r in refused)
    coop_ids = [c.id for c in city_coops(city)[:3]]
    own = [r for r in rows if r[0] in coop_ids and "luar folder" in str(r[6])]
    assert {r[0] for r in own} == set(coop_ids)  # each is Merah as unreadable, saying why
    status = tab(status_path(city), "Status KKMP")
    zona = next(r for r in status if r[0] == "ID").index("Zona")
    assert all(r[zona] == "Merah" for r in status if r[0] in coop_ids)
    assert read_tab(city.workbooks[3], TAB) is not None  # the others were checked as usual


def city_coops(city: DemoCity) -> list:
    return list(city.coops)


def test_check_reports_the_same(city: DemoCity, tmp_path: Path, capsys) -> None:
    set_paths(city, {0: "../../luar.xlsx"})
    main(["check", "--config", str(city.config_path)])
    out = capsys.readouterr().out
    assert "registry row 2" in out and "leads outside" in out and "[source] root" in out


def test_a_configured_root_allows_a_shared_folder(city: DemoCity, tmp_path: Path) -> None:
    shared = city.root.parent / "bersama"
    shared.mkdir()
    moved = shared / "k0.xlsx"
    moved.write_bytes(city.workbooks[0].read_bytes())
    set_paths(city, {0: str(moved)})
    text = city.config_path.read_text(encoding="utf-8")
    city.config_path.write_text(
        text.replace('registry = "registry.csv"', 'registry = "registry.csv"\nroot = ".."'),
        encoding="utf-8",
    )
    assert run(city) == 0
    assert read_tab(moved, TAB) is not None


def test_a_symlinked_workbook_is_written_through_and_stays_a_link(city: DemoCity) -> None:
    target = city.workbooks[0]
    link = city.root / "workbooks" / "tautan.xlsx"
    link.symlink_to(target.name)
    set_paths(city, {0: "workbooks/tautan.xlsx"})
    assert run(city) == 0
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert read_tab(target, TAB) is not None


def test_a_symlinked_workbook_open_through_its_link_is_not_written(city: DemoCity) -> None:
    target = city.workbooks[0]
    link = city.root / "workbooks" / "tautan.xlsx"
    link.symlink_to(target.name)
    (link.parent / ".~lock.tautan.xlsx#").write_text("pengurus,PC-2,2026")
    set_paths(city, {0: "workbooks/tautan.xlsx"})
    before = target.read_bytes()
    assert run(city) == 0
    assert target.read_bytes() == before
    rows = tab(status_path(city), "Masalah Data")
    assert [r for r in rows if r[0] == city.coops[0].id and "sedang dibuka" in str(r[6])]


@pytest.mark.parametrize(
    ("make_unwritable", "said", "fix"),
    [
        (lambda p: os.chmod(p, 0o444), "hanya-baca", "Izinkan penulisan"),
        (
            lambda p: p.with_name(f".~lock.{p.name}#").write_text("pengurus,PC-2,2026"),
            "sedang dibuka",
            "Tutup berkas di komputer lain",
        ),
    ],
    ids=["read-only", "open-elsewhere"],
)
def test_an_unwritten_hasil_pemeriksaan_is_on_the_row_and_in_the_digest(
    city: DemoCity, make_unwritable, said: str, fix: str
) -> None:
    book = city.workbooks[0]
    coop_id = city.coops[0].id
    make_unwritable(book)
    before = book.read_bytes()

    assert run(city) == 0

    assert book.read_bytes() == before
    rows = tab(status_path(city), "Masalah Data")
    assert [r for r in rows if r[0] == coop_id and r[3] == TAB and said in str(r[6])]
    rows = tab(status_path(city), "Status KKMP")
    header = next(r for r in rows if r[0] == "ID")
    row = next(r for r in rows if r[0] == coop_id)
    assert row[header.index("Peringatan")] >= 1
    assert fix in digest_text(city, coop_id)


def test_no_file_is_left_beside_the_workbooks(city: DemoCity) -> None:
    (city.root / "workbooks" / f"{city.workbooks[1].name}.bak").write_bytes(b"old copy")
    assert run(city) == 0
    assert run(city) == 0
    assert stray_files(city) == []
    staging = city.root / "out" / "data" / "feedback-staging"
    assert not staging.exists() or list(staging.iterdir()) == []
    assert all(read_tab(w, TAB) is not None for w in city.workbooks)
