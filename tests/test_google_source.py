"""GoogleSource against the local fake over real HTTP, with unmodified gspread."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import ANGGOTA_HEADER, PENJUALAN_HEADER, PROFIL_ROWS, SIMPANAN_HEADER, STOK_HEADER

from kkmp_sheets.clock import WarpClock
from kkmp_sheets.core.parse import parse_workbook
from kkmp_sheets.core.registry import Coop, read_registry
from kkmp_sheets.core.report_card import FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS
from kkmp_sheets.core.template import FEEDBACK_TAB
from kkmp_sheets.errors import SourceError
from kkmp_sheets.google.source import (
    FEEDBACK_SHEET_ID,
    FeedbackNotWritten,
    GoogleSource,
)
from kkmp_sheets.sources.base import ReadFailure
from kkmp_sheets.testing import XLSX_MIME, FakeGoogle
from kkmp_sheets.testing.google_city import GoogleCity, connect_fake

WIB = dt.timezone(dt.timedelta(hours=7))
PENGURUS = "pengurus@kedoyaselatan.example"
EDITED = dt.datetime(2026, 1, 20, 3, 0, tzinfo=dt.UTC)


def tabs(**extra: list[list[Any]]) -> dict[str, list[list[Any]]]:
    book = {
        "Profil": [list(r) for r in PROFIL_ROWS],
        "Anggota": [
            [],
            ["", *ANGGOTA_HEADER],  # leading blank row and column: rows stay anchored at A1
            ["", "A-001", "Siti", "3173054708900001", "P", dt.date(2025, 12, 1), "Aktif"],
            ["", "A-002", "=1+1", 3173051708900002, "L", "01/12/2025", True],
        ],
        "Simpanan": [SIMPANAN_HEADER, [dt.date(2025, 12, 1), "A-001", "Pokok", 100000]],
        "Stok": [STOK_HEADER, ["B01", "Beras", "Beras", "kg", 12.5, "Rp 12.000"]],
        "Penjualan": [PENJUALAN_HEADER, [dt.date(2026, 1, 20), "N1", "B01", 2, 13000, 26000]],
    }
    book.update(extra)
    return book


@dataclass
class Setup:
    fake: FakeGoogle
    source: GoogleSource
    clock: WarpClock
    registry_id: str

    def coop(self, sid: str, coop_id: str = "K1") -> Coop:
        return Coop(coop_id, "KKMP Kedoya Selatan", "Kedoya Selatan", "Kebon Jeruk", None, sid)

    def sheets_requests(self) -> Counter[str]:
        return Counter({k: v for k, v in self.fake.counts.items() if k.startswith("sheets.")})


@pytest.fixture
def setup() -> Iterator[Setup]:
    clock = WarpClock()
    with FakeGoogle() as fake:
        fake.clock = clock.wall
        registry = fake.add_spreadsheet(
            "Daftar",
            {
                "Catatan": [["lihat tab berikut"]],
                "Daftar KKMP": [
                    ["ID", "Nama Koperasi", "Kelurahan", "Kecamatan", "Spreadsheet"],
                    ["K1", "KKMP Kedoya Selatan", "Kedoya Selatan", "Kebon Jeruk", "x" * 30],
                ],
            },
            owner="dinas@jakbar.example",
            shared_with={fake.default_identity: "reader"},
        )
        clients = connect_fake(fake, GoogleCity(registry, "s" * 30), clock=clock)
        try:
            yield Setup(fake, clients.source, clock, registry)
        finally:
            clients.close()


def add_coop(setup: Setup, book: dict[str, list[list[Any]]] | None = None, **kwargs: Any) -> str:
    kwargs.setdefault("shared_with", {setup.fake.default_identity: "writer"})
    return setup.fake.add_spreadsheet(
        "KKMP Kedoya Selatan",
        book or tabs(),
        owner=PENGURUS,
        modified_time=EDITED,
        locale="id_ID",
        **kwargs,
    )


# ---------------------------------------------------------------------- ids and registry


def test_registry_from_the_daftar_kkmp_tab_read_again_only_when_edited(setup: Setup) -> None:
    rows = setup.source.registry_rows()
    coops, issues = read_registry(rows)
    assert [c.id for c in coops] == ["K1"] and issues == []
    assert setup.sheets_requests() == Counter({"sheets.spreadsheets.get": 1})

    setup.fake.reset_counts()
    assert setup.source.registry_rows() == rows
    assert setup.fake.counts == Counter({"drive.files.list": 1})  # unchanged: no Sheets request

    setup.fake.edit_values(
        setup.registry_id, "'Daftar KKMP'!B2", [["KKMP Baru"]], by="dinas@x.example"
    )
    setup.fake.reset_counts()
    assert read_registry(setup.source.registry_rows())[0][0].nama == "KKMP Baru"
    assert setup.sheets_requests() == Counter({"sheets.spreadsheets.get": 1})


def test_registry_not_shared_says_whom_to_share_with(setup: Setup) -> None:
    setup.fake.unshare(setup.registry_id, setup.fake.default_identity)
    with pytest.raises(SourceError, match=f"share it with {setup.fake.default_identity}"):
        setup.source.registry_rows()


# ---------------------------------------------------------------------- reading


def test_cold_read_is_one_request_and_keeps_types(setup: Setup) -> None:
    sid = add_coop(setup)
    setup.source.refresh_listing()
    setup.fake.reset_counts()

    raw = setup.source.read(setup.coop(sid))

    assert setup.fake.counts == Counter({"sheets.spreadsheets.get": 1})
    assert list(raw.tabs) == ["Profil", "Anggota", "Simpanan", "Stok", "Penjualan"]
    anggota = raw.tabs["Anggota"]
    assert anggota[0] == [] and anggota[1][:2] == ["", "No Anggota"]  # anchored at A1
    assert anggota[2] == ["", "A-001", "Siti", "3173054708900001", "P", 45992, "Aktif"]
    assert anggota[3] == ["", "A-002", "=1+1", 3173051708900002, "L", "01/12/2025", True]
    assert raw.tabs["Stok"][1][4:] == [12.5, "Rp 12.000"]
    assert raw.modified == EDITED.astimezone(WIB)
    assert raw.version == setup.fake.file_info(sid)["version"]
    parsed = parse_workbook(raw)
    assert [r["no_anggota"] for r in parsed.tables["Anggota"].records] == ["A-001", "A-002"]
    assert parsed.tables["Anggota"].records[0]["tanggal_masuk"] == dt.date(2025, 12, 1)


def test_warm_read_is_one_batch_get_of_every_tab(setup: Setup) -> None:
    sid = add_coop(setup)
    coop = setup.coop(sid)
    setup.source.refresh_listing()
    first = setup.source.read(coop)
    setup.source.write_feedback(coop, [["Hasil"]], FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS)
    setup.fake.edit_values(sid, "Stok!E2", [[20]], by=PENGURUS)
    setup.source.refresh_listing()
    setup.fake.reset_counts()

    second = setup.source.read(coop)

    assert setup.fake.counts == Counter({"sheets.values.batchGet": 1})
    request = setup.fake.requests[0]
    assert request.query["valueRenderOption"] == ["UNFORMATTED_VALUE"]
    assert request.query["dateTimeRenderOption"] == ["SERIAL_NUMBER"]
    assert request.query["ranges"][-1] == f"'{FEEDBACK_TAB}'!A1:I"  # Tingkat … Kunci
    assert second.tabs["Stok"][1][4] == 20
    assert {k: v for k, v in second.tabs.items() if k != "Stok"} == {
        k: v for k, v in first.tabs.items() if k != "Stok"
    }


def test_a_renamed_tab_falls_back_to_reading_every_tab(setup: Setup) -> None:
    sid = add_coop(setup)
    coop = setup.coop(sid)
    setup.source.refresh_listing()
    setup.source.read(coop)
    setup.source.write_feedback(coop, [["Hasil"]], FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS)
    sheet_id = next(
        s["properties"]["sheetId"]
        for s in setup.source.api.get_spreadsheet(sid, {"fields": "sheets.properties"})["sheets"]
        if s["properties"]["title"] == "Stok"
    )
    setup.source.api.batch_update(
        sid,
        [
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "title": "Persediaan"},
                    "fields": "title",
                }
            }
        ],
    )
    setup.fake.reset_counts()

    raw = setup.source.read(coop)

    assert setup.fake.counts == Counter({"sheets.values.batchGet": 1, "sheets.spreadsheets.get": 1})
    assert "Persediaan" in raw.tabs and "Stok" not in raw.tabs


def test_a_workbook_missing_a_tab_is_read_whole_so_a_new_tab_is_seen(setup: Setup) -> None:
    book = tabs()
    del book["Stok"]
    sid = add_coop(setup, book)
    coop = setup.coop(sid)
    setup.source.refresh_listing()
    assert "tab-missing" in {i.code for i in parse_workbook(setup.source.read(coop)).issues}
    setup.source.write_feedback(coop, [["Hasil"]], FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS)
    setup.source.api.batch_update(sid, [{"addSheet": {"properties": {"title": "Stok"}}}])
    setup.fake.reset_counts()

    raw = setup.source.read(coop)

    assert "Stok" in raw.tabs
    assert setup.fake.counts == Counter({"sheets.spreadsheets.get": 1})


def test_formula_errors_read_as_their_text(setup: Setup) -> None:
    sid = add_coop(setup)
    setup.fake.edit_values(sid, "Stok!F2", [["=1/0"]], by=PENGURUS)
    setup.source.refresh_listing()
    raw = setup.source.read(setup.coop(sid))
    assert raw.tabs["Stok"][1][5] == "#DIV/0!"
    assert "formula-error" in {i.code for i in parse_workbook(raw).issues}


# ---------------------------------------------------------------------- change detection


def test_unchanged_until_a_human_edits_and_our_write_is_not_an_edit(setup: Setup) -> None:
    sid = add_coop(setup)
    coop = setup.coop(sid)
    setup.source.refresh_listing()
    raw = setup.source.read(coop)
    recorded = raw.version
    setup.source.refresh_listing()
    assert setup.source.unchanged(coop, recorded)

    setup.clock.sleep(3600)
    assert setup.source.write_feedback(coop, [["Hasil"]], FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS)
    setup.source.refresh_listing()
    state = setup.source.changes([coop])["K1"]
    assert state.version != recorded and state.last_modifier_is_me
    assert setup.source.unchanged(coop, recorded)  # only our own write since

    setup.fake.edit_values(sid, "Stok!E2", [[3]], by=PENGURUS)
    setup.source.refresh_listing()
    assert not setup.source.unchanged(coop, setup.source.version(coop))
    again = setup.source.read(coop)
    assert again.modified is not None and again.modified > raw.modified  # type: ignore[operator]
    assert again.modified.utcoffset() == dt.timedelta(hours=7)


def test_data_diperbarui_is_the_last_human_edit_not_our_write(setup: Setup) -> None:
    sid = add_coop(setup)
    coop = setup.coop(sid)
    setup.source.refresh_listing()
    setup.source.read(coop)
    setup.clock.sleep(86_400)
    setup.source.write_feedback(coop, [["Hasil"]], FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS)
    setup.source.refresh_listing()
    # A read after our write (e.g. the snapshot was lost) keeps the human time.
    assert setup.source.read(coop).modified == EDITED.astimezone(WIB)


def test_one_drive_listing_per_thousand_files(setup: Setup) -> None:
    for n in range(1003):
        setup.fake.add_spreadsheet(f"k{n}", shared_with={setup.fake.default_identity: "reader"})
    setup.fake.reset_counts()
    listing = setup.source.refresh_listing()
    assert listing is not None and len(listing) == 1004
    assert setup.fake.counts == Counter({"drive.files.list": 2})
    assert setup.fake.requests[0].query["pageSize"] == ["1000"]


# ---------------------------------------------------------------------- failures


def test_not_shared_names_the_service_account_and_is_not_asked_again(setup: Setup) -> None:
    sid = add_coop(setup, shared_with={})
    coop = setup.coop(sid)
    setup.source.refresh_listing()
    with pytest.raises(ReadFailure) as failure:
        setup.source.read(coop)
    assert failure.value.code == "workbook-no-access"
    assert failure.value.expected == setup.fake.default_identity
    assert failure.value.detail == "tidak dibagikan ke akun layanan"

    setup.source.refresh_listing()
    setup.fake.reset_counts()
    with pytest.raises(ReadFailure, match="workbook-no-access"):
        setup.source.read(coop)
    assert setup.fake.counts == Counter()  # still not listed: same answer, no request

    setup.fake.share(sid, setup.fake.default_identity, "writer")
    setup.source.refresh_listing()
    assert setup.source.read(coop).tabs


def test_a_remembered_failure_with_a_code_no_longer_known_is_asked_again(setup: Setup) -> None:
    """A state file from an older version may remember a code since renamed: the workbook is
    asked again (and today's answer given), rather than the cycle failing on the old code."""
    sid = add_coop(setup, shared_with={})
    coop = setup.coop(sid)
    setup.source.refresh_listing()
    with pytest.raises(ReadFailure, match="workbook-no-access"):
        setup.source.read(coop)
    setup.source.state.update(f"sheet:{sid}", failure={"code": "workbook-hidden", "detail": ""})
    setup.fake.reset_counts()
    with pytest.raises(ReadFailure, match="workbook-no-access"):
        setup.source.read(coop)
    assert setup.sheets_requests()  # asked again


def test_deleted_is_missing(setup: Setup) -> None:
    sid = add_coop(setup)
    setup.fake.delete_file(sid)
    setup.source.refresh_listing()
    with pytest.raises(ReadFailure, match="workbook-missing"):
        setup.source.read(setup.coop(sid))


def test_uploaded_xlsx_is_not_native_without_a_sheets_request(setup: Setup) -> None:
    fid = setup.fake.add_file(
        "kkmp.xlsx", b"PK\x03\x04", XLSX_MIME, shared_with={setup.fake.default_identity: "writer"}
    )
    setup.source.refresh_listing()
    setup.fake.reset_counts()
    with pytest.raises(ReadFailure, match="workbook-not-native"):
        setup.source.read(setup.coop(fid))
    assert setup.fake.counts == Counter()


def test_uploaded_xlsx_not_listed_is_not_native_too(setup: Setup) -> None:
    fid = setup.fake.add_file(
        "kkmp.xlsx", b"PK\x03\x04", XLSX_MIME, shared_with={setup.fake.default_identity: "writer"}
    )
    setup.source.listing = None  # e.g. the listing failed this cycle
    with pytest.raises(ReadFailure, match="workbook-not-native"):
        setup.source.read(setup.coop(fid))


def test_google_down_is_unavailable_after_bounded_retries(setup: Setup) -> None:
    sid = add_coop(setup)
    setup.source.refresh_listing()
    setup.fake.fail_next(50, 503)
    with pytest.raises(ReadFailure) as failure:
        setup.source.read(setup.coop(sid))
    assert failure.value.code == "workbook-unavailable"
    assert "503" in failure.value.detail
    assert setup.source.api.stats.sent["sheets.read"] == 5  # max_attempts


def test_a_failed_listing_means_reading_everything(setup: Setup) -> None:
    sid = add_coop(setup)
    setup.fake.fail_next(50, 500, path_contains="/drive/v3/files")
    assert setup.source.refresh_listing() is None
    assert setup.source.read(setup.coop(sid)).tabs
    assert not setup.source.unchanged(setup.coop(sid), "1")


# ---------------------------------------------------------------------- Hasil Pemeriksaan


# The report card's top block (title, zone, check, fix first ×3, how to tick), the header row,
# then one problem: the layout of core/report.py's `feedback_rows`.
TOP = [
    ["Hasil Pemeriksaan — KKMP Kedoya Selatan"],
    ["Zona", "Kuning", "Alasan", "1 galat data"],
    ["Diperiksa", "29 Jan 2026, 09.00 WIB", None, None, "Data per", "29 Jan 2026 — 1 galat", "x"],
    ["Perbaiki dulu", "1. Galat — Anggota baris 4"],
    [None],
    [None],
    ["Sudah dicek?", "Tulis Ya"],
    ["Tingkat", "Tab", "Baris", "Kolom", "Nilai", "Masalah", "Saran", "Sudah Dicek", "Kunci"],
]
PROBLEM = FEEDBACK_HEADER_ROW  # the index of the first problem row
FEEDBACK = [
    *TOP,
    ["Galat", "Anggota", 4, "NIK", "=1+1", "NIK tersimpan sebagai angka", "Format kolom NIK"],
]


def test_feedback_replaces_only_its_tab_and_is_not_rewritten_unchanged(setup: Setup) -> None:
    sid = add_coop(setup)
    coop = setup.coop(sid)
    setup.source.refresh_listing()
    before = {t: setup.fake.get_values(sid, t) for t in setup.fake.tabs(sid)}
    setup.fake.reset_counts()

    assert setup.source.write_feedback(coop, FEEDBACK, FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS)
    assert not setup.source.write_feedback(coop, FEEDBACK, FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS)

    assert setup.fake.counts == Counter({"sheets.spreadsheets.batchUpdate": 1})
    assert setup.fake.tabs(sid) == [*before, FEEDBACK_TAB]
    assert {t: setup.fake.get_values(sid, t) for t in before} == before
    written = setup.fake.get_values(sid, FEEDBACK_TAB, render="FORMULA")
    assert written[PROBLEM] == [
        "Galat",
        "Anggota",
        4,
        "NIK",
        "=1+1",
        "NIK tersimpan sebagai angka",
        "Format kolom NIK",
    ]
    meta = setup.source.api.get_spreadsheet(sid, {"fields": "sheets.properties"})["sheets"][-1]
    assert meta["properties"]["sheetId"] == FEEDBACK_SHEET_ID
    assert meta["properties"]["gridProperties"]["frozenRowCount"] == FEEDBACK_HEADER_ROW


def test_feedback_shrinks_and_survives_a_deleted_tab(setup: Setup) -> None:
    sid = add_coop(setup)
    coop = setup.coop(sid)
    setup.source.refresh_listing()
    setup.source.write_feedback(
        coop, FEEDBACK + [FEEDBACK[PROBLEM]] * 5, FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS
    )
    assert setup.source.write_feedback(coop, FEEDBACK, FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS)
    assert len(setup.fake.get_values(sid, FEEDBACK_TAB)) == len(FEEDBACK)

    setup.source.api.batch_update(sid, [{"deleteSheet": {"sheetId": FEEDBACK_SHEET_ID}}])
    setup.source.api.batch_update(
        sid, [{"addSheet": {"properties": {"sheetId": 77, "title": FEEDBACK_TAB}}}]
    )
    changed = [*TOP, ["Peringatan", "Stok", 2, "Harga Beli", "", "x", "y"]]
    assert setup.source.write_feedback(coop, changed, FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS)
    assert setup.fake.get_values(sid, FEEDBACK_TAB)[PROBLEM][0] == "Peringatan"


def test_feedback_on_a_read_only_share_is_refused_without_a_request(setup: Setup) -> None:
    sid = add_coop(setup, shared_with={setup.fake.default_identity: "reader"})
    setup.source.refresh_listing()
    setup.fake.reset_counts()
    with pytest.raises(FeedbackNotWritten, match="as Editor"):
        setup.source.write_feedback(setup.coop(sid), FEEDBACK, FEEDBACK_HEADER_ROW, FEEDBACK_WIDTHS)
    assert setup.fake.counts == Counter()
