"""Trends that mean something from day one: markers and true dates on the trend charts, Riwayat's
own charts, and Ringkasan's week-on-week change, in the local workbook and in Google mode.

A small generated city is run as an operator runs it (`run --once`) a week before D and on D;
the same cycles also publish to the local Google fake, so that both modes are compared on the
same figures. The first day's workbook is printed by LibreOffice: its trend axis must read that
day, not "1 Jan" (a date axis without a base unit, which LibreOffice took for months).
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pdfplumber
import pytest

from kkmp_sheets import config as config_mod
from kkmp_sheets.cli import main
from kkmp_sheets.clock import WarpClock
from kkmp_sheets.core.figures import BY_KEY, RINGKASAN, RIWAYAT, WEEK_ON_WEEK_LABEL, week_ago
from kkmp_sheets.core.report import (
    RIWAYAT_COLUMNS,
    TREND_ANGGOTA,
    TREND_OMSET,
    TREND_ZONES,
    riwayat_read_back,
    riwayat_row,
    riwayat_values,
    status_book,
)
from kkmp_sheets.core.report import Target as _Target
from kkmp_sheets.core.tables import ZONE_SERIES_COLORS, Col, Fmt, Sheet, StatusBook
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.google.status_batch import POINT_SIZE
from kkmp_sheets.onboarding import guide
from kkmp_sheets.outputs.local import LocalSink
from kkmp_sheets.outputs.xlsx import write_status_workbook
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.service.wiring import make_source
from kkmp_sheets.store.history import HistoryStore
from kkmp_sheets.testing import FakeGoogle
from kkmp_sheets.testing.google_city import GoogleCity, connect_fake
from tests.test_output_xlsx import charts_on

D = date(2026, 1, 29)
WEEK_BEFORE = week_ago(D)
C = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}
OFFICE = "dinas@jakbar.example"


@dataclass
class Trends:
    first_day: Path  # the local status workbook after the cycle of D − 7 (one Riwayat row)
    workbook: Path  # after the cycle of D
    store: Path
    google: dict[str, Any]  # Google mode after D: values per tab and the charts' specs
    google_first_day: dict[str, Any]


def _run(cfg_path: Path, day: date) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", "--once", "--config", str(cfg_path), "--as-of", str(day)])
    assert code == 0, out.getvalue()


def _google_state(fake: FakeGoogle, sid: str, api: Any) -> dict[str, Any]:
    charts = api.get_spreadsheet(sid, {"fields": "sheets(properties(title),charts(spec))"})
    meta = api.get_spreadsheet(
        sid,
        {
            "fields": "sheets(properties(title),"
            "data(rowData(values(userEnteredFormat(numberFormat)))))",
            "ranges": ["Riwayat!A1:A40", "Ringkasan!A1:C20", "Pasokan!C:C"],
            "includeGridData": "true",
        },
    )
    return {
        "values": {
            tab: fake.get_values(sid, tab)
            for tab in ("Ringkasan", "Riwayat", "Pasokan", "Pasokan Kecamatan")
        },
        "charts": {
            s["properties"]["title"]: [c["spec"] for c in s.get("charts", [])]
            for s in charts["sheets"]
        },
        "meta": meta,
    }


@pytest.fixture(scope="module")
def trends(tmp_path_factory: pytest.TempPathFactory) -> Trends:
    root = tmp_path_factory.mktemp("trends")
    city = build_demo_city(root / "kota", size=12, as_of=D)
    workbook = city.root / "out" / "status-kota.xlsx"
    cfg = replace(config_mod.load(city.config_path), write_feedback=False)
    clock = WarpClock()
    with FakeGoogle() as fake, HistoryStore(root / "google-history.sqlite") as store:
        fake.clock = clock.wall
        sid = fake.add_spreadsheet(
            "Status KKMP Kota", {"Sheet1": []}, owner=OFFICE,
            shared_with={fake.default_identity: "writer"},
        )  # fmt: skip
        clients = connect_fake(fake, GoogleCity("r" * 30, sid), clock=clock)
        google = {}
        try:
            for day in (WEEK_BEFORE, D):
                _run(city.config_path, day)
                if day == WEEK_BEFORE:
                    shutil.copy(workbook, root / "first-day.xlsx")
                source = make_source(cfg)
                try:
                    cycle = run_cycle(cfg, source=source, sink=clients.sink, as_of=day, store=store)
                finally:
                    source.close()
                store.record_cycle(cycle)
                google[day] = _google_state(fake, sid, clients.api)
        finally:
            clients.close()
    return Trends(
        root / "first-day.xlsx", workbook, city.config_path.parent / "out" / "data" /
        "history.sqlite", google[D], google[WEEK_BEFORE],
    )  # fmt: skip


# --- the charts, local --------------------------------------------------------------------------


def _line_charts(xml: str) -> list[ET.Element]:
    return ET.fromstring(xml).findall(".//c:lineChart", C)


def test_every_trend_point_has_a_marker_and_the_axis_counts_days(trends: Trends) -> None:
    for sheet in ("Ringkasan", "Riwayat"):
        for xml in charts_on(trends.first_day, sheet):
            root = ET.fromstring(xml)
            for line in root.findall(".//c:lineChart", C):
                for series in line.findall("c:ser", C):
                    symbol = series.find("c:marker/c:symbol", C)
                    assert symbol is not None and symbol.get("val") == "circle", sheet
            for axis in root.findall(".//c:dateAx", C):
                base = axis.find("c:baseTimeUnit", C)
                assert base is not None and base.get("val") == "days", sheet
                fmt = axis.find("c:numFmt", C)
                assert fmt is not None and "d mmm" in (fmt.get("formatCode") or "")


def _titles(xml: str) -> str:
    return "".join(t.text or "" for t in ET.fromstring(xml).iter(f"{{{_A}}}t"))


_A = "http://schemas.openxmlformats.org/drawingml/2006/main"


def test_riwayat_charts_zones_members_and_trade(trends: Trends) -> None:
    charts = charts_on(trends.workbook, "Riwayat")
    by_title = {_titles(xml): xml for xml in charts}
    assert set(by_title) == {TREND_ZONES[0], TREND_ANGGOTA[0], TREND_OMSET[0]}
    zones = by_title[TREND_ZONES[0]]
    # KKMP Aktif and each zone, the zones in their colours, over the Riwayat columns of them.
    names = [BY_KEY[k].label for k in TREND_ZONES[1]]
    refs = re.findall(r"<c:tx><c:strRef><c:f>Riwayat!\$([A-Z]+)\$2</c:f>", zones)
    labels = [col.name for col in RIWAYAT_COLUMNS]
    assert [labels[ord(ref) - 65] for ref in refs] == names
    for zone in ("Hijau", "Kuning", "Merah"):
        assert ZONE_SERIES_COLORS[zone].lstrip("#") in zones
    assert "Riwayat!$A$3:$A$4" in zones  # two days: the week before and D
    assert "Anggota Aktif" in by_title[TREND_ANGGOTA[0]]
    assert "Omset 30 Hari" in by_title[TREND_OMSET[0]]
    # Ringkasan keeps the zones per kecamatan and the trend.
    assert {_titles(x) for x in charts_on(trends.workbook, "Ringkasan")} == {
        "Zona KKMP per Kecamatan",
        TREND_ZONES[0],
    }


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_the_first_day_prints_its_own_date_on_the_trend_axis(trends: Trends, tmp_path: Path):
    pdf = guide.to_pdf(trends.first_day, tmp_path, export="pdf")
    day = f"{WEEK_BEFORE.day} Jan"  # the axis format is "d mmm"
    pages: dict[str, str] = {}
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            text = page.extract_text() or ""
            if not text.strip():
                continue
            footer = text.strip().splitlines()[-1]
            for sheet in ("Ringkasan", "Riwayat"):
                if f" {sheet} Halaman " in footer:
                    pages.setdefault(sheet, text)
    assert set(pages) == {"Ringkasan", "Riwayat"}
    for sheet, text in pages.items():
        axis_labels = re.findall(r"^(\d{1,2} [A-Z][a-z]{2})$", text, re.MULTILINE)
        assert day in axis_labels, (sheet, axis_labels)
        assert "1 Jan" not in axis_labels, (sheet, axis_labels)


# --- the charts, Google ---------------------------------------------------------------------------


def test_google_line_charts_mark_every_point_over_the_date_column(trends: Trends) -> None:
    charts = trends.google_first_day["charts"]
    assert {s["title"] for s in charts["Riwayat"]} == {
        TREND_ZONES[0], TREND_ANGGOTA[0], TREND_OMSET[0]
    }  # fmt: skip
    lines = [s for tab in ("Ringkasan", "Riwayat") for s in charts[tab]]
    lines = [s for s in lines if s["basicChart"]["chartType"] == "LINE"]
    assert len(lines) == 4
    for spec in lines:
        basic = spec["basicChart"]
        for series in basic["series"]:
            assert series["pointStyle"] == {"shape": "CIRCLE", "size": POINT_SIZE}
        # The domain is Riwayat's Tanggal column: dates, shown in the cells' date format.
        [domain] = basic["domains"]
        [rng] = domain["domain"]["sourceRange"]["sources"]
        assert (rng["startColumnIndex"], rng["endColumnIndex"]) == (0, 1)
    riwayat = _google_sheet(trends.google_first_day, "Riwayat")
    cells = riwayat["data"][0]["rowData"][2]["values"][0]  # the first day's Tanggal
    assert cells["userEnteredFormat"]["numberFormat"]["type"] == "DATE"


# --- week on week -----------------------------------------------------------------------------------


def _ringkasan(rows: list[list[Any]]) -> dict[str, tuple[Any, Any]]:
    """Figure label → (Nilai, Perubahan 7 Hari) of Ringkasan rows."""
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Ukuran")
    assert rows[header][:3] == ["Ukuran", "Nilai", WEEK_ON_WEEK_LABEL]
    out = {}
    for row in rows[header + 1 :]:
        row = [*row, None, None, None]
        out[row[0]] = (row[1], None if row[2] in ("", None) else row[2])
    return out


def _local_rows(path: Path, sheet: str) -> list[list[Any]]:
    book = openpyxl.load_workbook(path)
    return [list(r) for r in book[sheet].iter_rows(values_only=True)]


def _riwayat_by_day(rows: list[list[Any]]) -> dict[date, dict[str, Any]]:
    out = {}
    for row in rows:
        if row and hasattr(row[0], "year"):
            day = row[0].date() if hasattr(row[0], "date") else row[0]
            out[day] = dict(zip((c.name for c in RIWAYAT_COLUMNS[1:]), row[1:], strict=False))
    return out


def _close(a: Any, b: Any) -> bool:
    return abs(float(a) - float(b)) < 1e-6 * max(1.0, abs(float(b)))


def test_week_on_week_is_the_change_since_the_day_a_week_before(trends: Trends) -> None:
    ringkasan = _ringkasan(_local_rows(trends.workbook, "Ringkasan"))
    riwayat = _riwayat_by_day(_local_rows(trends.workbook, "Riwayat"))
    assert set(riwayat) == {WEEK_BEFORE, D}
    with HistoryStore(trends.store) as store:
        recorded = {row["as_of"]: row for row in store.city_rows()}
    moved = 0
    for f in (BY_KEY[k] for k in RINGKASAN):
        label = f.label_for(city=True)
        value, change = ringkasan[label]
        then = recorded[WEEK_BEFORE][f.key]
        assert change is not None, label  # a value was recorded a week before: never blank
        assert _close(change, value - then), (label, change, value, then)
        assert _close(change, riwayat[D][f.label] - riwayat[WEEK_BEFORE][f.label]), label
        moved += change != 0
    assert moved, "a week of sales and members moves some figure"


def test_no_value_a_week_before_leaves_the_change_blank_not_zero(trends: Trends) -> None:
    ringkasan = _ringkasan(_local_rows(trends.first_day, "Ringkasan"))
    for f in (BY_KEY[k] for k in RINGKASAN):
        assert ringkasan[f.label_for(city=True)][1] is None, f.label
    # A day six days before is not a week before: still blank.
    nearly = status_book(
        [], city_name="Kota", as_of=D, now=_now(), reporting_window_days=7,
        target=_Target(None, 1.0), history=[riwayat_row(D - timedelta(days=6), _zeros())],
    )  # fmt: skip
    assert all(row[2].value is None for row in nearly.sheet("Ringkasan").rows[: len(RINGKASAN)])


def test_week_on_week_agrees_between_the_workbook_and_google(trends: Trends) -> None:
    local = _ringkasan(_local_rows(trends.workbook, "Ringkasan"))
    google = _ringkasan(trends.google["values"]["Ringkasan"])
    for f in (BY_KEY[k] for k in RINGKASAN):
        label = f.label_for(city=True)
        assert google[label][1] is not None, label
        assert _close(google[label][1], local[label][1]), label
        assert _close(google[label][0], local[label][0]), label


def test_riwayat_rebuilt_from_the_store_matches_the_published_one(trends: Trends) -> None:
    published = _riwayat_by_day(_local_rows(trends.workbook, "Riwayat"))
    with HistoryStore(trends.store) as store:
        for row in store.city_rows():
            rebuilt = riwayat_row(row["as_of"], row)
            for f, value in riwayat_values(rebuilt).items():
                assert _close(published[row["as_of"]][BY_KEY[f].label] or 0, value or 0), f


# --- Riwayat published before its newest columns ------------------------------------------------

OLD_RIWAYAT = RIWAYAT[:-1]  # before Masalah Data (Peringatan) had a column


def _old_riwayat(days: list[date]) -> StatusBook:
    """A Riwayat as an earlier version published it: without the last column, and (as an
    office might) with two columns swapped."""
    keys = list(OLD_RIWAYAT)
    keys[1], keys[2] = keys[2], keys[1]
    columns = [Col("Tanggal", Fmt.DATE), *(Col(BY_KEY[k].label, BY_KEY[k].fmt) for k in keys)]
    rows = [[day, *(100 * n + i for i, _ in enumerate(keys))] for n, day in enumerate(days)]
    return StatusBook([Sheet("Riwayat", columns, rows, note="Satu baris per hari")])


def _expected_old(days: list[date]) -> list[list[Any]]:
    keys = list(OLD_RIWAYAT)
    keys[1], keys[2] = keys[2], keys[1]
    out = []
    for n, day in enumerate(days):
        by_key = {k: 100 * n + i for i, k in enumerate(keys)}
        out.append([day, *(by_key.get(k) for k in RIWAYAT)])
    return out


def test_an_old_shaped_riwayat_is_read_back_by_its_labels_locally(tmp_path: Path) -> None:
    days = [WEEK_BEFORE, D - timedelta(days=1)]
    path = tmp_path / "status-kota.xlsx"
    write_status_workbook(_old_riwayat(days), path)
    history = LocalSink(path).history()
    assert history == _expected_old(days)
    assert all(riwayat_values(row)["peringatan"] is None for row in history)
    # The next book carries the old days on, and the week-on-week of Peringatan is blank
    # (no value a week before) while the others are changes.
    book = status_book(
        [], city_name="Kota", as_of=D, now=_now(), reporting_window_days=7,
        target=_Target(None, 1.0), history=history,
    )  # fmt: skip
    changes = {row[0]: row[2].value for row in book.sheet("Ringkasan").rows[: len(RINGKASAN)]}
    assert changes[BY_KEY["peringatan"].label_for(city=True)] is None
    then = riwayat_values(history[0])
    assert changes["Jumlah KKMP"] == 0 - then["jumlah"]
    assert [row[0] for row in book.sheet("Riwayat").rows] == [*days, D]


def test_an_old_shaped_riwayat_is_read_back_by_its_labels_in_google_mode() -> None:
    days = [WEEK_BEFORE, D - timedelta(days=1)]
    clock = WarpClock()
    with FakeGoogle() as fake:
        fake.clock = clock.wall
        sid = fake.add_spreadsheet(
            "Status KKMP Kota", {"Sheet1": []}, owner=OFFICE,
            shared_with={fake.default_identity: "writer"},
        )  # fmt: skip
        clients = connect_fake(fake, GoogleCity("r" * 30, sid), clock=clock)
        try:
            clients.sink.history()
            clients.sink.publish(_old_riwayat(days))
            assert clients.sink.history() == _expected_old(days)  # from what was written
            fake.edit_values(sid, "Riwayat!A1", [["Satu baris per hari"]], by=OFFICE)
            assert clients.sink.history() == _expected_old(days)  # read back after an edit
        finally:
            clients.close()


def _now() -> Any:
    from datetime import datetime

    from kkmp_sheets.core.wib import WIB

    return datetime(2026, 1, 29, 8, 0, tzinfo=WIB)


def _zeros() -> dict[str, Any]:
    return dict.fromkeys(RIWAYAT, 0)


def _google_sheet(state: dict[str, Any], title: str) -> dict[str, Any]:
    return next(s for s in state["meta"]["sheets"] if s["properties"]["title"] == title)


def test_a_change_is_shown_with_its_sign_in_both_modes(trends: Trends) -> None:
    book = openpyxl.load_workbook(trends.workbook)
    rows = list(book["Ringkasan"].iter_rows())
    header = next(i for i, r in enumerate(rows) if r[0].value == "Ukuran")
    formats = [r[2].number_format for r in rows[header + 1 : header + 1 + len(RINGKASAN)]]
    assert all(f.startswith("+") and ";-" in f for f in formats), formats
    grid = _google_sheet(trends.google, "Ringkasan")["data"][0]["rowData"]
    patterns = [
        row["values"][2]["userEnteredFormat"]["numberFormat"]["pattern"]
        for row in grid[header + 1 : header + 1 + len(RINGKASAN)]
    ]
    assert all(p.startswith("+") and ";-" in p for p in patterns), patterns


def test_a_riwayat_remembered_without_its_header_is_read_in_order() -> None:
    """Google mode remembers what it published; a memory from before the header was kept holds
    the rows alone, in the order of their time, which only ever grew at the end."""
    old = [[WEEK_BEFORE, *range(len(OLD_RIWAYAT))]]
    [row] = riwayat_read_back(old, lambda cell: cell if isinstance(cell, date) else None)
    assert row == [WEEK_BEFORE, *range(len(OLD_RIWAYAT)), None]


# --- Pasokan in Google mode (the unit rules themselves: tests/test_pasokan.py) -------------------


def test_google_pasokan_is_the_workbooks_with_the_same_number_formats(trends: Trends) -> None:
    for tab in ("Pasokan", "Pasokan Kecamatan"):
        local = [r for r in _local_rows(trends.workbook, tab)[1:] if r and r[0] is not None]
        google = trends.google["values"][tab][1:]
        assert len(google) == len(local) > 1, tab
        for a, b in zip(local, google, strict=True):
            b = [*b, *[""] * (len(a) - len(b))]
            assert [v if v is not None else "" for v in a] == pytest.approx(b), tab
    header = trends.google["values"]["Pasokan"][1]
    unit = header.index("Satuan")
    grid = _google_sheet(trends.google, "Pasokan")["data"][0]["rowData"]
    for row, cells in zip(trends.google["values"]["Pasokan"][2:], grid[2:], strict=False):
        pattern = cells["values"][0]["userEnteredFormat"]["numberFormat"]["pattern"]
        whole = float(row[2]).is_integer()
        assert pattern == ("#,##0" if whole else "#,##0.0#"), (row[unit], row[2], pattern)
        if row[unit] not in ("kg", "liter"):
            assert whole, row
