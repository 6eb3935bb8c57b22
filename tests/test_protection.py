"""A sudden large drop is held, its last good figures kept; restore gives the rows back."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import python_calamine

from kkmp_sheets import config
from kkmp_sheets.cli import main
from kkmp_sheets.clock import SimulatedClock
from kkmp_sheets.config import ProtectionRules
from kkmp_sheets.core.issue import Severity
from kkmp_sheets.core.metrics import coop_figures
from kkmp_sheets.core.parse import parse_workbook
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.template import ANGGOTA, normalize
from kkmp_sheets.demo import DemoCity, build_demo_city
from kkmp_sheets.errors import NotFound
from kkmp_sheets.service import protection
from kkmp_sheets.service.serve import Service
from kkmp_sheets.sources import xlsx_patch
from kkmp_sheets.store.history import HistoryStore
from tests.conftest import make_book, member

WIB = ZoneInfo("Asia/Jakarta")
DAY1, DAY2, DAY3 = date(2026, 1, 27), date(2026, 1, 28), date(2026, 1, 29)
COOP = Coop(
    id="KKMP-TEST",
    nama="KKMP Uji",
    kelurahan="Kedoya Selatan",
    kecamatan="Kebon Jeruk",
    kode_wilayah=None,
    spreadsheet="",
)
STOK = [[f"B{i:02d}", f"Barang {i}", "Lainnya", "pcs", 10, 1000] for i in range(30)]


def members(n: int) -> list[list]:
    return [member(f"A-{i:03d}", i) for i in range(1, n + 1)]


class Reader:
    """Feeds workbooks to a Guard the way check_one does, one day at a time."""

    def __init__(self, path: Path, rules: ProtectionRules | None = None) -> None:
        self.store = HistoryStore(path)
        self.rules = rules or ProtectionRules()

    def read(self, day: date, *, anggota: int = 40, stok: list[list] = STOK):
        raw = make_book(anggota=members(anggota), stok=stok)
        parsed = parse_workbook(raw)
        now = datetime.combine(day, datetime.min.time(), WIB) + timedelta(hours=8)
        guard = protection.Guard(self.store, self.rules, now=now, window_days=30)
        return guard.check(COOP, raw, parsed, coop_figures(parsed, day), day)


@pytest.fixture
def reader(tmp_path: Path):
    r = Reader(tmp_path / "history.sqlite")
    yield r
    r.store.close()


def test_a_first_reading_is_accepted(reader):
    held = reader.read(DAY1)
    assert (held.issues, held.kept_from, held.figures.anggota_aktif) == ([], None, 40)


def test_a_large_drop_is_held_with_the_last_good_figures(reader):
    reader.read(DAY1, anggota=40)
    held = reader.read(DAY2, anggota=12)
    assert held.kept_from == DAY1
    assert held.figures.anggota_aktif == 40
    (issue,) = held.issues
    assert (issue.code, issue.severity, issue.tab, issue.column) == (
        "likely-deletion",
        Severity.GALAT,
        "Anggota",
        "Anggota Aktif",
    )
    assert "dari 40 menjadi 12" in issue.message and "27 Januari 2026" in issue.message
    assert "kkmp-sheets restore" in issue.fix
    # Still held the next day, against the same accepted reading; the store says so too.
    again = reader.read(DAY3, anggota=10)
    assert (again.kept_from, again.figures.anggota_aktif) == (DAY1, 40)
    state = protection.load(reader.store, COOP.id)
    assert (state.held_since, state.good.anggota, state.seen.anggota) == (DAY2, 40, 10)


@pytest.mark.parametrize(
    ("before", "after", "held"),
    [
        (40, 21, False),  # fell by less than half
        (40, 20, False),  # exactly half: not "more than"
        (40, 19, True),
        (19, 0, False),  # too small a cooperative to guard (min_rows = 20)
        (20, 0, True),
    ],
)
def test_thresholds(reader, before, after, held):
    reader.read(DAY1, anggota=before)
    assert bool(reader.read(DAY2, anggota=after).issues) is held


def test_thresholds_come_from_the_config(tmp_path):
    strict = Reader(tmp_path / "h.sqlite", ProtectionRules(max_drop_share=0.2, min_rows=5))
    try:
        strict.read(DAY1, anggota=10)
        assert strict.read(DAY2, anggota=7).issues
    finally:
        strict.store.close()


def test_a_stock_drop_keeps_the_stock_value(reader):
    first = reader.read(DAY1)
    held = reader.read(DAY2, stok=STOK[:3])
    assert [i.column for i in held.issues] == ["Jumlah barang Stok"]
    assert held.figures.nilai_stok == first.figures.nilai_stok == 30 * 10 * 1000
    assert held.figures.anggota_aktif == 40


def test_rows_coming_back_end_the_hold(reader):
    reader.read(DAY1, anggota=40)
    reader.read(DAY2, anggota=5)
    back = reader.read(DAY3, anggota=39)
    assert (back.issues, back.kept_from) == ([], None)
    assert not protection.load(reader.store, COOP.id).held


def test_confirm_accepts_the_latest_reading(reader):
    reader.read(DAY1, anggota=40)
    reader.read(DAY2, anggota=5)
    now = datetime(2026, 1, 28, 10, 0, tzinfo=WIB)
    assert protection.confirm(reader.store, COOP.id, now).seen.anggota == 5
    after = reader.read(DAY3, anggota=5)
    assert (after.issues, after.figures.anggota_aktif) == ([], 5)
    assert protection.confirm(reader.store, COOP.id, now) is None  # nothing held any more
    with pytest.raises(NotFound):
        protection.confirm(reader.store, "KKMP-NOPE", now)


def test_the_accepted_snapshot_survives_retention(reader):
    reader.read(DAY1, anggota=40)
    reader.read(DAY2, anggota=5)
    reader.store.prune(1, now=datetime(2026, 6, 1, tzinfo=WIB))
    held = reader.read(DAY3, anggota=5)
    assert (held.kept_from, held.figures.anggota_aktif) == (DAY1, 40)


# --- end to end: a demo cooperative loses its members, and gets them back ----------------------


def _at(day: date, hour: int = 7, minute: int = 30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB)


def _sync(cfg: config.Config, day: date) -> Service:
    service = Service(cfg, clock=SimulatedClock(_at(day)))
    service.sync()
    return service


def _anggota_title(path: Path) -> str:
    names = python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names
    return next(n for n in names if normalize(n) in ANGGOTA.match_keys)


def _status_row(city: DemoCity, coop_id: str) -> dict:
    book = python_calamine.CalamineWorkbook.from_path(str(city.root / "out" / "status-kota.xlsx"))
    rows = book.get_sheet_by_name("Status KKMP").to_python()
    header = rows[1]
    return next(dict(zip(header, r, strict=True)) for r in rows[2:] if r[0] == coop_id)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    return build_demo_city(tmp_path_factory.mktemp("lindung") / "kota", size=5, as_of=DAY1)


def test_mass_deletion_is_held_then_restored_then_confirmed(city, capsys):
    cfg = config.load(city.config_path)
    first = _sync(cfg, DAY1).last_cycle
    target = max(first.results, key=lambda r: r.figures.anggota_aktif)
    coop_id, members_before = target.coop.id, target.figures.anggota_aktif
    assert members_before >= 40
    path = next(p for p in city.workbooks if p.stem == coop_id)
    title = _anggota_title(path)
    rows_before = xlsx_patch.read_tab(path, title)

    wb = openpyxl.load_workbook(path)  # a sort gone wrong: all but the first rows deleted
    wb[title].delete_rows(10, wb[title].max_row)
    wb.save(path)
    rows_deleted = xlsx_patch.read_tab(path, title)
    assert len(rows_deleted) < 10

    second = _sync(cfg, DAY2).last_cycle
    result = next(r for r in second.results if r.coop.id == coop_id)
    assert result.figures.anggota_aktif == members_before
    assert [i.code for i in result.issues if i.code == "likely-deletion"] == ["likely-deletion"]
    row = _status_row(city, coop_id)
    assert row["Anggota Aktif"] == members_before
    assert "angka terakhir yang baik dari 27 Januari 2026 dipakai" in row["Alasan Zona"]
    feedback = xlsx_patch.read_tab(path, "Hasil Pemeriksaan")
    assert any("turun tajam" in str(cell) for line in feedback for cell in line)
    others = [r for r in second.results if r.coop.id != coop_id]
    assert not any(i.code == "likely-deletion" for r in others for i in r.issues)

    args = ["--config", str(city.config_path)]
    assert main(["history", coop_id, *args]) == 0
    shown = capsys.readouterr().out
    assert "DITAHAN sejak 2026-01-28" in shown and "← angka terakhir yang baik" in shown
    assert not [s for nik, name in city.people for s in (nik, name) if s in shown]

    assert main(["restore", coop_id, "--tab", "Anggota", "--date", "2026-01-27", *args]) == 0
    assert "pulihan 2026-01-27" in capsys.readouterr().out
    restored = f"{title} (pulihan 2026-01-27)"
    assert xlsx_patch.read_tab(path, restored) == rows_before
    assert xlsx_patch.read_tab(path, title) == rows_deleted  # the current tab is untouched

    copy = city.root / "pulihan.xlsx"
    assert main(["restore", coop_id, "--tab", title.upper(), "--date", "2026-01-27", "--to-file",
                 str(copy), *args]) == 0  # fmt: skip
    assert xlsx_patch.read_tab(copy, title) == rows_before
    assert main(["restore", coop_id, "--tab", "Anggota", "--date", "2026-01-27", "--to-file",
                 str(copy), *args]) == 3  # fmt: skip  # never over an existing file
    assert main(["restore", coop_id, "--tab", "Anggota", "--date", "2026-01-01", *args]) == 6
    assert main(["restore", coop_id, "--tab", "Gudang", "--date", "2026-01-27", *args]) == 6
    capsys.readouterr()

    # The restored tab is an extra tab: it is not counted; the figures stay held until confirmed.
    assert main(["confirm", coop_id, *args]) == 0
    assert "confirmed as real" in capsys.readouterr().out
    third = _sync(cfg, DAY3).last_cycle
    result = next(r for r in third.results if r.coop.id == coop_id)
    assert result.figures.anggota_aktif < members_before // 2
    assert not any(i.code == "likely-deletion" for i in result.issues)
    assert "angka terakhir" not in _status_row(city, coop_id)["Alasan Zona"]
    assert main(["confirm", coop_id, *args]) == 0
    assert "nothing is held" in capsys.readouterr().out


def test_restore_names_a_free_title_within_excel_limits():
    from kkmp_sheets.service.restore import free_title

    assert free_title(["Anggota"], "Anggota (pulihan 2026-01-27)") == "Anggota (pulihan 2026-01-27)"
    taken = ["Anggota", "anggota (PULIHAN 2026-01-27)"]
    assert free_title(taken, "Anggota (pulihan 2026-01-27)") == "Anggota (pulihan 2026-01-27) 2"
    long = free_title([], "Daftar Anggota Koperasi Kita (pulihan 2026-01-27)")
    assert len(long) <= 31 and long.endswith("(pulihan 2026-01-27)")


def test_an_accepted_reading_passes_through_unchanged(reader):
    raw = make_book(anggota=members(30))
    parsed = parse_workbook(raw)
    figures = coop_figures(parsed, DAY1)
    guard = protection.Guard(reader.store, ProtectionRules(), now=_at(DAY1), window_days=30)
    assert guard.check(COOP, raw, parsed, figures, DAY1).figures is figures
