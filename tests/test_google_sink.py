"""GoogleSink: the whole status spreadsheet in one atomic batchUpdate, on the local fake."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest

from kkmp_sheets.clock import WarpClock
from kkmp_sheets.core.report import RIWAYAT_COLUMNS, riwayat_values
from kkmp_sheets.core.tables import Cell, Chart, ChartKind, Col, Fmt, Sheet, StatusBook
from kkmp_sheets.errors import OutputError
from kkmp_sheets.google.sink import GoogleSink, fingerprint
from kkmp_sheets.google.status_batch import build_requests
from kkmp_sheets.outputs.style import HEADER_BG, ZONE_COLORS
from kkmp_sheets.testing import FakeGoogle
from kkmp_sheets.testing.google_city import GoogleCity, GoogleClients, connect_fake

OFFICE = "dinas@jakbar.example"
URL = "https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUvWxYz01234/edit"


def book(members: int = 120, note_time: str = "08.30", name: str = "=1+1") -> StatusBook:
    note = f"Kota Contoh — data per 29 Jan 2026, diperbarui 29-01-2026 {note_time} WIB"
    return StatusBook(
        [
            Sheet(
                "Ringkasan",
                [Col("Ukuran", width=30), Col("Nilai", width=22)],
                rows=[
                    ["Jumlah KKMP", Cell(2, Fmt.INT)],
                    ["Omset 30 Hari", Cell(1_250_000.5, Fmt.RUPIAH)],
                    ["Kelengkapan Laporan", Cell(0.5, Fmt.PERCENT)],
                    ["Diperbarui (WIB)", Cell(datetime(2026, 1, 29, 8, 30), Fmt.DATETIME)],
                ],
                note=note,
            ),
            Sheet(
                "Status KKMP",
                [
                    Col("ID"),
                    Col("Nama Koperasi"),
                    Col("Zona", Fmt.ZONE),
                    Col("Anggota Aktif", Fmt.INT),
                    Col("Nilai Stok", Fmt.RUPIAH),
                    Col("Transaksi Terakhir", Fmt.DATE),
                    Col("NIB"),
                    Col("Tautan", Fmt.LINK),
                ],
                rows=[
                    ["K1", name, "Merah", members, 2_500_000, date(2026, 1, 20), "0123", URL],
                    ["K2", "'007", "Hijau", 5, None, None, 1234567890123456789, "x.xlsx"],
                ],
                note=note,
            ),
            Sheet(
                "Kecamatan",
                [
                    Col("Kecamatan"),
                    Col("Hijau", Fmt.INT),
                    Col("Kuning", Fmt.INT),
                    Col("Merah", Fmt.INT),
                ],
                rows=[["Cengkareng", 1, 0, 1], ["Kembangan", 0, 0, 0]],
                note=note,
            ),
            Sheet(
                "Riwayat",
                [Col("Tanggal", Fmt.DATE), Col("KKMP Aktif", Fmt.INT)],
                rows=[[date(2026, 1, 28), 1], [date(2026, 1, 29), 2]],
            ),
        ],
        [
            Chart(
                "Zona KKMP per Kecamatan", "Kecamatan", "Kecamatan", ("Hijau", "Kuning", "Merah")
            ),
            Chart(
                "KKMP Aktif",
                "Riwayat",
                "Tanggal",
                ("KKMP Aktif",),
                kind=ChartKind.LINE,
                anchor="D24",
                colors=("#1A73E8",),
            ),
        ],
    )


@dataclass
class Setup:
    fake: FakeGoogle
    clients: GoogleClients
    sid: str

    @property
    def sink(self) -> GoogleSink:
        return self.clients.sink

    def meta(self, fields: str) -> dict[str, Any]:
        return self.clients.api.get_spreadsheet(self.sid, {"fields": fields})

    def sheet(
        self, title: str, fields: str = "properties,charts,conditionalFormats,basicFilter"
    ) -> dict[str, Any]:
        sheets = self.meta(f"sheets({fields})")["sheets"]
        return next(s for s in sheets if s.get("properties", {}).get("title") == title)


@pytest.fixture
def setup() -> Iterator[Setup]:
    clock = WarpClock()
    with FakeGoogle() as fake:
        fake.clock = clock.wall
        sid = fake.add_spreadsheet(
            "Status KKMP Kota",
            {"Sheet1": [], "Catatan Dinas": [["milik dinas"]]},
            owner=OFFICE,
            shared_with={fake.default_identity: "writer"},
        )
        clients = connect_fake(fake, GoogleCity("r" * 30, sid), clock=clock)
        try:
            yield Setup(fake, clients, sid)
        finally:
            clients.close()


def publish(setup: Setup, status: StatusBook) -> str:
    setup.sink.history()
    return setup.sink.publish(status)


def test_one_batch_update_writes_every_tab_in_order(setup: Setup) -> None:
    url = publish(setup, book())

    assert url == f"https://docs.google.com/spreadsheets/d/{setup.sid}/edit"
    assert setup.fake.counts["sheets.spreadsheets.batchUpdate"] == 1
    assert setup.fake.tabs(setup.sid) == [
        "Ringkasan",
        "Status KKMP",
        "Kecamatan",
        "Riwayat",
        "Sheet1",
        "Catatan Dinas",
    ]
    assert setup.fake.get_values(setup.sid, "Catatan Dinas") == [["milik dinas"]]  # left alone
    props = setup.meta("properties(locale,timeZone)")["properties"]
    assert props == {"locale": "id_ID", "timeZone": "Asia/Jakarta"}


def test_values_are_raw_text_and_numbers_are_numbers(setup: Setup) -> None:
    publish(setup, book())

    rows = setup.fake.get_values(setup.sid, "Status KKMP", render="FORMULA")
    assert rows[1] == [
        "ID",
        "Nama Koperasi",
        "Zona",
        "Anggota Aktif",
        "Nilai Stok",
        "Transaksi Terakhir",
        "NIB",
        "Tautan",
    ]
    assert rows[2] == ["K1", "=1+1", "Merah", 120, 2500000, 46042, "0123", URL]
    assert rows[3] == ["K2", "'007", "Hijau", 5, "", "", "1234567890123456789", "x.xlsx"]
    ringkasan = setup.fake.get_values(setup.sid, "Ringkasan")
    assert ringkasan[2:5] == [
        ["Jumlah KKMP", 2],
        ["Omset 30 Hari", 1250000.5],
        ["Kelengkapan Laporan", 0.5],
    ]
    assert ringkasan[5][1] == pytest.approx(46051 + 8.5 / 24)


def test_formats_zone_colours_filter_frozen_header_and_widths(setup: Setup) -> None:
    publish(setup, book())
    reply = setup.clients.api.get_spreadsheet(
        setup.sid,
        {
            "includeGridData": "true",
            "ranges": "'Status KKMP'!A2:H3",
            "fields": "sheets(data(rowData(values(userEnteredFormat)),columnMetadata(pixelSize)))",
        },
    )
    data = reply["sheets"][0]["data"][0]
    header, k1 = (row["values"] for row in data["rowData"])
    assert header[0]["userEnteredFormat"]["textFormat"] == {"bold": True}
    assert header[0]["userEnteredFormat"]["backgroundColorStyle"]["rgbColor"][
        "red"
    ] == pytest.approx(int(HEADER_BG[1:3], 16) / 255, abs=0.01)
    formats = [v.get("userEnteredFormat", {}).get("numberFormat") for v in k1]
    assert formats[3] == {"type": "NUMBER", "pattern": "#,##0"}
    assert formats[4] == {"type": "CURRENCY", "pattern": '"Rp"#,##0'}
    assert formats[5] == {"type": "DATE", "pattern": "d mmm yyyy"}
    assert k1[7]["userEnteredFormat"]["textFormat"]["link"] == {"uri": URL}
    assert all(c.get("pixelSize", 0) > 40 for c in data["columnMetadata"][:8])

    status = setup.sheet("Status KKMP")
    assert status["properties"]["gridProperties"] == {
        "rowCount": 4,
        "columnCount": 8,
        "frozenRowCount": 2,
    }
    assert status["basicFilter"]["range"] == {
        "sheetId": status["properties"]["sheetId"],
        "startRowIndex": 1,
        "endRowIndex": 4,
        "startColumnIndex": 0,
        "endColumnIndex": 8,
    }
    rules = {
        r["booleanRule"]["condition"]["values"][0]["userEnteredValue"]: r["booleanRule"]["format"]
        for r in status["conditionalFormats"]
    }
    assert set(rules) == set(ZONE_COLORS)
    assert rules["Merah"]["backgroundColor"]["red"] == pytest.approx(0xF4 / 255, abs=0.01)
    ringkasan = setup.fake.get_values(setup.sid, "Ringkasan", render="FORMULA")
    assert ringkasan[0] == ["Kota Contoh — data per 29 Jan 2026, diperbarui 29-01-2026 08.30 WIB"]


def test_native_charts_are_drawn_once(setup: Setup) -> None:
    publish(setup, book())
    publish(setup, book(members=130))

    charts = setup.sheet("Ringkasan")["charts"]
    assert sorted(c["spec"]["title"] for c in charts) == ["KKMP Aktif", "Zona KKMP per Kecamatan"]
    column = next(c for c in charts if c["spec"]["title"] == "Zona KKMP per Kecamatan")
    basic = column["spec"]["basicChart"]
    assert (basic["chartType"], basic["stackedType"], len(basic["series"])) == (
        "COLUMN",
        "STACKED",
        3,
    )
    kecamatan = setup.sheet("Kecamatan")["properties"]["sheetId"]
    assert basic["domains"][0]["domain"]["sourceRange"]["sources"][0] == {
        "sheetId": kecamatan,
        "startRowIndex": 1,
        "endRowIndex": 4,
        "startColumnIndex": 0,
        "endColumnIndex": 1,
    }
    anchor = column["position"]["overlayPosition"]["anchorCell"]
    assert (anchor["rowIndex"], anchor["columnIndex"]) == (1, 3)  # D2
    assert len(setup.sheet("Status KKMP")["conditionalFormats"]) == 3  # not piling up


def test_unchanged_results_are_not_rewritten(setup: Setup) -> None:
    publish(setup, book())
    setup.fake.reset_counts()

    publish(setup, book(note_time="09.30"))  # only "diperbarui" moved
    assert setup.fake.counts == Counter({"drive.files.get": 1})

    publish(setup, book(members=121))
    assert setup.fake.counts == Counter(
        {"drive.files.get": 2, "sheets.spreadsheets.batchUpdate": 1}
    )  # no metadata read: nobody else wrote since
    assert setup.fake.get_values(setup.sid, "Status KKMP")[2][3] == 121
    assert fingerprint(book()) == fingerprint(book(note_time="10.00"))
    assert fingerprint(book()) != fingerprint(book(members=1))


def test_a_human_edit_is_undone_and_their_tabs_kept(setup: Setup) -> None:
    publish(setup, book())
    setup.fake.edit_values(setup.sid, "'Status KKMP'!B3", [["diubah"]], by=OFFICE)
    setup.fake.reset_counts()

    publish(setup, book())  # same book, but someone else wrote: look and write again

    assert setup.fake.counts == Counter(
        {
            "drive.files.get": 1,
            "sheets.values.batchGet": 1,  # Riwayat read back
            "sheets.spreadsheets.get": 1,  # layout
            "sheets.spreadsheets.batchUpdate": 1,
        }
    )
    assert setup.fake.get_values(setup.sid, "Status KKMP")[2][1] == "=1+1"


def test_history_comes_from_what_was_written_or_is_read_back(setup: Setup) -> None:
    assert setup.sink.history() == []
    setup.sink.publish(book())
    # Read back by header label: the toy Riwayat has only KKMP Aktif, the other figures blank.
    assert aktif(setup.sink.history()) == [(date(2026, 1, 28), 1), (date(2026, 1, 29), 2)]
    setup.fake.edit_values(setup.sid, "Riwayat!B2", [[5]], by=OFFICE)
    assert aktif(setup.sink.history()) == [(date(2026, 1, 28), 5), (date(2026, 1, 29), 2)]


def aktif(rows: list[list]) -> list[tuple[date, object]]:
    """(day, KKMP Aktif) of Riwayat rows as read back; every other figure must be blank."""
    for row in rows:
        assert len(row) == len(RIWAYAT_COLUMNS)
        assert [v for k, v in riwayat_values(row).items() if k != "aktif"] == [None] * (
            len(row) - 2
        )
    return [(row[0], riwayat_values(row)["aktif"]) for row in rows]


def test_shrinking_leaves_nothing_old(setup: Setup) -> None:
    publish(setup, book())
    small = book()
    small.sheets[1].rows = small.sheets[1].rows[:1]
    publish(setup, small)
    assert len(setup.fake.get_values(setup.sid, "Status KKMP")) == 3
    assert setup.sheet("Status KKMP")["properties"]["gridProperties"]["rowCount"] == 3


def test_not_shared_or_read_only_says_what_to_do(setup: Setup) -> None:
    setup.fake.share(setup.sid, setup.fake.default_identity, "reader")
    with pytest.raises(OutputError, match=r"read-only .* share it as Editor"):
        publish(setup, book())
    setup.fake.unshare(setup.sid, setup.fake.default_identity)
    with pytest.raises(OutputError, match=f"not shared with {setup.fake.default_identity}"):
        publish(setup, book())


def test_a_batch_refused_leaves_the_status_as_it_was(setup: Setup) -> None:
    publish(setup, book())
    before = setup.fake.get_values(setup.sid, "Status KKMP")
    setup.fake.fail_next(10, 500, path_contains=":batchUpdate")
    with pytest.raises(OutputError, match="previous status stays"):
        publish(setup, book(members=999))
    assert setup.fake.get_values(setup.sid, "Status KKMP") == before


def test_an_address_that_is_not_a_spreadsheet_is_refused(setup: Setup) -> None:
    with pytest.raises(OutputError, match="not a Google spreadsheet ID or URL"):
        GoogleSink(setup.clients.api, "out/status.xlsx")


def test_a_book_over_googles_request_limit_is_refused_before_sending(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kkmp_sheets.google.api as google_api

    publish(setup, book())
    before = setup.fake.get_values(setup.sid, "Status KKMP")
    monkeypatch.setattr(google_api, "MAX_BODY", 2_000)
    setup.fake.reset_counts()
    with pytest.raises(OutputError, match="too large for one atomic write"):
        publish(setup, book(members=7))
    assert setup.fake.counts["sheets.spreadsheets.batchUpdate"] == 0
    assert setup.fake.get_values(setup.sid, "Status KKMP") == before


def test_long_text_columns_wrap_below_the_header() -> None:
    """A wrapped column (Nama Koperasi, Alasan Zona) wraps in Sheets too; the others do not."""
    sheet = Sheet(
        "Status KKMP",
        [Col("ID"), Col("Alasan Zona", width=32, wrap=True)],
        rows=[["KKMP-1", "Tidak ada penjualan 30 hari terakhir; Data tidak diperbarui 44 hari"]],
        note="Diperbarui",
    )
    requests, _ = build_requests(StatusBook([sheet]), {}, [])
    wrapped = [
        r["repeatCell"]["range"]
        for r in requests
        if r.get("repeatCell", {}).get("fields")
        == "userEnteredFormat(wrapStrategy,verticalAlignment)"
    ]
    assert len(wrapped) == 1
    assert (wrapped[0]["startColumnIndex"], wrapped[0]["endColumnIndex"]) == (1, 2)
    assert wrapped[0]["startRowIndex"] == 2  # below the note and the header
