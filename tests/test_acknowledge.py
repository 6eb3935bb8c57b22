"""Acknowledged warnings, end to end: staff tick a Peringatan in Hasil Pemeriksaan, the service
keeps the tick across its rewrites, the warning stops counting, the tick follows the row when the
data rows move, and lapses when the value changes. Real cycles on real `.xlsx` files (with the
history store, so the result cache and the snapshots are in play), and the same through the
Google fake. A tick on a Galat is ignored, and said so; data tabs are never touched.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import python_calamine

from kkmp_sheets import config
from kkmp_sheets.core import acknowledge
from kkmp_sheets.core.parse import locate_header
from kkmp_sheets.core.report import CoopResult
from kkmp_sheets.core.report_card import (
    FEEDBACK_HEADER,
    FEEDBACK_HEADER_ROW,
    GALAT_TICK_NOTE,
    KEY_INDEX,
    TICK_INDEX,
    TICKED,
    feedback_styles,
)
from kkmp_sheets.core.results import CycleResult
from kkmp_sheets.core.template import ANGGOTA, FEEDBACK_TAB, normalize
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.delivery.digest import render_digests
from kkmp_sheets.demo import DemoCity, build_demo_city
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.service.wiring import make_sink
from kkmp_sheets.sources.local import LocalSource
from kkmp_sheets.store.history import Changes, HistoryStore

AS_OF = date(2026, 1, 29)
NOW = datetime(2026, 1, 29, 9, 0, tzinfo=WIB)
OUTSIDE = "nik-outside-city"  # the demo's most common warning: "NIK terdaftar di luar Kota"
OTHER_OUTSIDE_NIK = "3312120407070001"  # another NIK from outside the city (Jawa Tengah)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    return build_demo_city(tmp_path_factory.mktemp("kota") / "demo", size=4, as_of=AS_OF)


# --- the pure parts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["Ya", "ya", " YA ", "✓", "✔", "x", "X", "TRUE", True, 1, "sudah"]
)
def test_what_staff_type_is_a_tick(typed: Any) -> None:
    assert acknowledge.is_tick(typed)


@pytest.mark.parametrize("typed", [None, "", "Tidak", "belum", False, 0, "?", "FALSE"])
def test_what_is_not_a_tick(typed: Any) -> None:
    assert not acknowledge.is_tick(typed)


def test_ticks_are_found_by_their_headers_wherever_staff_sorted_them() -> None:
    header = list(FEEDBACK_HEADER)
    rows = [["Hasil Pemeriksaan"], [], header]
    rows += [["Peringatan", "Anggota", 9, "NIK", "x", "m", "s", "✓", "bbb"]]
    rows += [["Peringatan", "Anggota", 3, "NIK", "x", "m", "s", None, "aaa"]]
    rows += [["Galat", "Stok", 4, "Jumlah", -1, "m", "s", "Ya", "ccc"]]
    assert acknowledge.ticks_of_feedback(rows) == [["bbb"], ["ccc"]]
    assert acknowledge.ticks_of_feedback([["Tingkat", "Tab"], ["Galat", "x"]]) == []


# --- local mode: the whole round trip on real files ------------------------------------------


@dataclass
class Seen:
    """What one cycle showed of the chosen cooperative."""

    cycle: CycleResult
    result: CoopResult
    reads: list[str]
    feedback: list[list]  # its Hasil Pemeriksaan as any reader sees it
    peringatan: int  # Status KKMP's Peringatan figure
    masalah: int  # the warnings Masalah Data counts for it (sum of Jumlah)
    digest: str  # its cooperative digest, as text


class ReadCounting(LocalSource):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reads: list[str] = []

    def where(self, coop):  # type: ignore[no-untyped-def]
        self.reads.append(coop.id)
        return super().where(coop)


class LocalCity:
    def __init__(self, root: Path, coop_index: int) -> None:
        self.root = root
        self.cfg = config.load(root / "city.toml")
        self.store = HistoryStore.for_config(self.cfg)
        self.coop_id = _registry_ids(root)[coop_index]
        self.path = root / "workbooks" / f"{self.coop_id}.xlsx"
        self.hours = 0

    def cycle(self) -> Seen:
        """One cycle an hour after the last, on the same data day."""
        cfg = self.cfg
        source = ReadCounting(
            cfg.registry, roots=cfg.workbook_roots, work_dir=cfg.data_dir, limits=cfg.limits
        )
        now = NOW + timedelta(hours=self.hours)
        self.hours += 1
        data_before = _data_entries(self.path)
        try:
            cycle = run_cycle(
                cfg, source=source, sink=make_sink(cfg), as_of=AS_OF, now=now, store=self.store
            )
        finally:
            source.close()
        # The service wrote Hasil Pemeriksaan only: every data tab's part is byte-identical.
        assert _data_entries(self.path) == data_before
        result = next(r for r in cycle.results if r.coop.id == self.coop_id)
        return Seen(
            cycle,
            result,
            source.reads,
            _feedback(self.path),
            _status_peringatan(cfg.output_path, self.coop_id),
            _masalah_peringatan(cfg.output_path, self.coop_id),
            _coop_digest(cycle, cfg, now, self.coop_id),
        )

    def staff_edit(self, edit) -> None:  # type: ignore[no-untyped-def]
        """Staff open the workbook, change something and save it (as Excel would)."""
        book = openpyxl.load_workbook(self.path)
        edit(book)
        book.save(self.path)


def test_a_ticked_warning_is_kept_follows_its_row_and_lapses_when_its_value_changes(
    demo: DemoCity, tmp_path: Path
) -> None:
    index = _coop_with(demo, OUTSIDE)
    root = tmp_path / "city"
    shutil.copytree(demo.root, root, ignore=shutil.ignore_patterns("out"))
    city = LocalCity(root, index)
    try:
        first = city.cycle()
        warning = _issues(first, OUTSIDE)[0]
        nik = warning.value
        assert warning.key and not warning.ticked

        # Staff sort Hasil Pemeriksaan (last rows first), tick the warning and a Galat, save.
        galat_key, base = _make_a_galat(city)
        assert _issues(base, OUTSIDE, nik)[0].key == warning.key  # another row's edit: same key
        city.staff_edit(lambda book: _sort_and_tick(book, {warning.key, galat_key}))
        ticked = city.cycle()
        assert city.coop_id in ticked.reads  # the tick is a new version: not the cached result
        kept = _row_of(ticked.feedback, nik, OUTSIDE)
        assert kept[TICK_INDEX] == TICKED and "(sudah dicek)" in kept[5]
        counted = city.cycle()  # unchanged: the cached result, the tick still there
        assert city.coop_id not in counted.reads
        assert _row_of(counted.feedback, nik, OUTSIDE)[TICK_INDEX] == TICKED
        for seen in (ticked, counted):
            assert seen.peringatan == base.peringatan - 1
            assert seen.masalah == base.masalah - 1
            assert f"{seen.peringatan} peringatan)" in seen.digest
            assert f"{base.peringatan} peringatan)" in base.digest
            assert seen.result.zone == base.result.zone  # zones count Galat only
        # The Galat's tick is ignored, and its row says so.
        galat_row = next(r for r in ticked.feedback if r[KEY_INDEX] == galat_key)
        assert galat_row[0] == "Galat" and galat_row[TICK_INDEX] in ("", None)
        assert GALAT_TICK_NOTE in galat_row[6]
        assert ticked.result.galat == base.result.galat  # still counted

        # A member is added above: every Anggota row moves down one; the tick follows.
        row_before = kept[2]
        city.staff_edit(lambda book: _insert_member_above(book, row_before))
        moved = city.cycle()
        followed = _row_of(moved.feedback, nik, OUTSIDE)
        assert followed[2] == row_before + 1
        assert followed[TICK_INDEX] == TICKED
        assert _issues(moved, OUTSIDE, nik)[0].acknowledged
        assert moved.peringatan == _open_warnings(moved)

        # Its NIK is corrected to another NIK from outside: a new value, the tick lapses.
        city.staff_edit(lambda book: _set_nik(book, nik, OTHER_OUTSIDE_NIK))
        lapsed = city.cycle()
        again = _row_of(lapsed.feedback, OTHER_OUTSIDE_NIK, OUTSIDE)
        assert again[TICK_INDEX] in ("", None)
        assert not _issues(lapsed, OUTSIDE, OTHER_OUTSIDE_NIK)[0].acknowledged
        assert lapsed.peringatan == moved.peringatan + 1
        assert lapsed.masalah == moved.masalah + 1
    finally:
        city.store.close()


# --- Google mode: the same round trip through the fake ---------------------------------------


def test_google_mode_keeps_a_ticked_checkbox_and_lets_it_lapse(
    demo: DemoCity, tmp_path: Path
) -> None:
    from kkmp_sheets.clock import WarpClock
    from kkmp_sheets.testing import FakeGoogle
    from kkmp_sheets.testing.google_city import connect_fake, load_city

    index = _coop_with(demo, OUTSIDE)
    cfg = config.load(demo.config_path)
    coop_id = _registry_ids(demo.root)[index]
    clock = WarpClock()
    with FakeGoogle() as fake, HistoryStore(tmp_path / "history.sqlite") as store:
        fake.clock = clock.wall
        city = load_city(fake, demo.root)
        clients = connect_fake(fake, city, clock=clock)
        sid = city.sheets[coop_id]
        person = "pengurus@contoh.id"
        hours = iter(range(100))

        def cycle() -> tuple[CoopResult, list[list]]:
            done = run_cycle(
                cfg,
                source=clients.source,
                sink=clients.sink,
                as_of=AS_OF,
                now=NOW + timedelta(hours=next(hours)),
                store=store,
            )
            result = next(r for r in done.results if r.coop.id == coop_id)
            return result, fake.get_values(sid, FEEDBACK_TAB)

        try:
            first, tab = cycle()
            header = tab[FEEDBACK_HEADER_ROW - 1]
            assert header == list(FEEDBACK_HEADER)
            warning = next(i for i in first.issues if i.code == OUTSIDE)
            nik = warning.value
            at = next(
                n
                for n, r in enumerate(tab, 1)
                if len(r) > KEY_INDEX and r[KEY_INDEX] == warning.key
            )
            assert tab[at - 1][TICK_INDEX] is False  # an unticked checkbox
            fake.edit_values(sid, f"'{FEEDBACK_TAB}'!H{at}", [[True]], by=person)

            ticked, tab = cycle()
            assert ticked.peringatan == first.peringatan - 1
            assert _row_of(tab, nik, OUTSIDE)[TICK_INDEX] is True  # kept across the rewrite
            unchanged, tab = cycle()  # only our own write since: the snapshot or the cache
            assert unchanged.peringatan == first.peringatan - 1
            assert _row_of(tab, nik, OUTSIDE)[TICK_INDEX] is True

            # The member list moves down a row (a member added on top); the tick follows.
            title = next(t for t in fake.tabs(sid) if normalize(t) in ANGGOTA.match_keys)
            rows = fake.get_values(sid, title)
            head = locate_header(rows, ANGGOTA)[0]
            moved_rows = [
                *rows[: head + 1],
                _new_member(rows[head], rows[head + 1]),
                *rows[head + 1 :],
            ]
            fake.edit_values(sid, _a1(title), moved_rows, by=person, value_input="RAW")
            moved, tab = cycle()
            same = next(i for i in moved.issues if i.code == OUTSIDE and i.value == nik)
            assert same.acknowledged
            assert _row_of(tab, nik, OUTSIDE)[TICK_INDEX] is True
            assert moved.peringatan == _open(moved)

            # The NIK changes: the tick lapses, the warning counts again.
            changed = [[OTHER_OUTSIDE_NIK if c == nik else c for c in r] for r in moved_rows]
            fake.edit_values(sid, _a1(title), changed, by=person, value_input="RAW")
            lapsed, tab = cycle()
            assert _row_of(tab, OTHER_OUTSIDE_NIK, OUTSIDE)[TICK_INDEX] is False
            assert lapsed.peringatan == moved.peringatan + 1
        finally:
            clients.close()


# --- helpers ---------------------------------------------------------------------------------


def _registry_ids(root: Path) -> list[str]:
    import csv

    with (root / "registry.csv").open(encoding="utf-8") as f:
        return [row["ID"] for row in csv.DictReader(f)]


def _coop_with(demo: DemoCity, code: str) -> int:
    """The registry index of a cooperative whose first check finds `code` (read afresh)."""
    cfg = config.load(demo.config_path)
    source = LocalSource(cfg.registry, roots=cfg.workbook_roots, limits=cfg.limits)
    try:
        from kkmp_sheets.service.cycle import check_one, load_registry

        coops, _ = load_registry(cfg, source)
        for n, coop in enumerate(coops):
            if any(i.code == code for i in check_one(coop, source, cfg, AS_OF).issues):
                return n
    finally:
        source.close()
    raise AssertionError(f"no cooperative of the demo has {code}")


def _issues(seen: Seen, code: str, value: Any = None) -> list:
    return [i for i in seen.result.issues if i.code == code and (value is None or i.value == value)]


def _open_warnings(seen: Seen) -> int:
    return _open(seen.result)


def _open(result: CoopResult) -> int:
    return sum(1 for i in result.issues if i.severity.value == "Peringatan" and not i.acknowledged)


def _row_of(feedback: list[list], value: Any, code_message_of: str) -> list:
    """The problem row of Hasil Pemeriksaan showing `value` (as its Nilai)."""
    found = [r for r in feedback[FEEDBACK_HEADER_ROW:] if len(r) > 4 and str(r[4]) == str(value)]
    assert len(found) == 1, (value, found)
    return [*found[0], *([None] * (len(FEEDBACK_HEADER) - len(found[0])))]


def _feedback(path: Path) -> list[list]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_name(FEEDBACK_TAB).to_python()
    return [[c if c != "" else None for c in r] for r in rows]


def _data_entries(path: Path) -> dict[str, bytes]:
    """The data tabs' own parts (every worksheet but Hasil Pemeriksaan), as stored bytes."""
    with zipfile.ZipFile(path) as archive:
        feedback_part = _part_of(archive, FEEDBACK_TAB)
        return {
            info.filename: archive.read(info)
            for info in archive.infolist()
            if info.filename.startswith("xl/worksheets/sheet") and info.filename != feedback_part
        }


def _part_of(archive: zipfile.ZipFile, title: str) -> str | None:
    import re

    workbook = archive.read("xl/workbook.xml").decode()
    rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    found = re.search(r'<sheet [^>]*name="' + re.escape(title) + r'"[^>]*r:id="([^"]+)"', workbook)
    if found is None:
        return None
    target = re.search(r'Id="' + found[1] + r'"[^>]*Target="([^"]+)"', rels) or re.search(
        r'Target="([^"]+)"[^>]*Id="' + found[1] + '"', rels
    )
    return "xl/" + target[1].lstrip("/").removeprefix("xl/") if target else None


def _status_rows(path: Path, tab: str) -> tuple[list[str], list[list]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_name(tab).to_python()
    return [str(h) for h in rows[1]], rows[2:]


def _status_peringatan(path: Path, coop_id: str) -> int:
    header, rows = _status_rows(path, "Status KKMP")
    row = next(r for r in rows if r[0] == coop_id)
    return int(row[header.index("Peringatan")])


def _masalah_peringatan(path: Path, coop_id: str) -> int:
    header, rows = _status_rows(path, "Masalah Data")
    return sum(
        int(r[header.index("Jumlah")])
        for r in rows
        if r[0] == coop_id and r[header.index("Tingkat")] == "Peringatan"
    )


def _coop_digest(cycle: CycleResult, cfg: config.Config, now: datetime, coop_id: str) -> str:
    digests = render_digests(cycle, Changes(as_of=AS_OF), cfg, now=now, kinds=["coop"])
    return next(d.text for d in digests if d.key.audience == f"coop:{coop_id}")


def _anggota(book: openpyxl.Workbook) -> Any:
    return next(book[n] for n in book.sheetnames if normalize(n) in ANGGOTA.match_keys)


def _nik_column(sheet: Any) -> tuple[int, int]:
    """(header row, NIK column) of an Anggota sheet."""
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    head, positions, _ = locate_header(rows, ANGGOTA)
    return head + 1, next(pos for pos, key in positions.items() if key == "nik") + 1


def _make_a_galat(city: LocalCity) -> tuple[str, Seen]:
    """Staff type a NIK of 5 digits (a Galat) in the last member's row: its key, and the cycle
    that found it."""

    def edit(book: openpyxl.Workbook) -> None:
        sheet = _anggota(book)
        _, col = _nik_column(sheet)
        sheet.cell(sheet.max_row, col).value = "12345"

    city.staff_edit(edit)
    seen = city.cycle()
    key = next(i.key for i in seen.result.issues if i.code == "nik-length" and i.value == "12345")
    return key, seen


def _sort_and_tick(book: openpyxl.Workbook, keys: set[str]) -> None:
    """Staff sort the problem rows (last first) and tick the rows of `keys`."""
    sheet = book[FEEDBACK_TAB]
    first = FEEDBACK_HEADER_ROW + 1
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=first)]
    rows.reverse()
    for offset, values in enumerate(rows):
        for col, value in enumerate(values, start=1):
            sheet.cell(first + offset, col).value = value
        if values[KEY_INDEX] in keys:
            sheet.cell(first + offset, TICK_INDEX + 1).value = "ya" if offset % 2 else "✓"


def _insert_member_above(book: openpyxl.Workbook, row: int) -> None:
    sheet = _anggota(book)
    head, _ = _nik_column(sheet)
    template = [c.value for c in sheet[head + 1]]
    sheet.insert_rows(head + 1)
    for col, value in enumerate(_new_member(None, template), start=1):
        sheet.cell(head + 1, col).value = value


def _new_member(_header: Any, like: list) -> list:
    """A member row shaped like `like`, with its own No Anggota and a valid city NIK."""
    out = list(like)
    out[0] = "BARU-0001"
    out[1] = "Anggota Baru"
    for n, value in enumerate(out):
        if isinstance(value, str) and len(value) == 16 and value.isdigit():
            out[n] = "3173014506900001"
    return out


def _set_nik(book: openpyxl.Workbook, old: str, new: str) -> None:
    sheet = _anggota(book)
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value == old:
                cell.value = new


def _a1(title: str) -> str:
    return "'" + title.replace("'", "''") + "'!A1"


def test_the_look_of_each_row_is_read_off_the_rows() -> None:
    rows: list[list] = [["Hasil Pemeriksaan — X"], ["Zona", "Merah"], ["Diperiksa"]]
    rows += [[None]] * (FEEDBACK_HEADER_ROW - 4) + [list(FEEDBACK_HEADER)]
    rows += [["Galat", "Stok", 3, "Jumlah", -1, "m", "s", None, "k1"]]
    rows += [["Peringatan", "Anggota", 4, "NIK", "1", "m", "s", None, "k2"]]
    rows += [["Peringatan", "Anggota", 5, "NIK", "2", "m", "s", TICKED, "k3"]]
    looks = feedback_styles(rows, FEEDBACK_HEADER_ROW)
    body = FEEDBACK_HEADER_ROW
    assert looks[(1, 1)] == "title" and looks[(2, 2)] == "zona-Merah"
    assert [looks[(body + n, 1)] for n in (1, 2, 3)] == ["galat", "peringatan", "dicek"]
    assert looks[(body + 1, KEY_INDEX + 1)] == "kunci"
