"""The local Google fake, driven by unmodified gspread over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gspread
import openpyxl
import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import AuthorizedSession
from gspread.exceptions import APIError

from kkmp_sheets.google.http import GoogleApiAdapter, make_session
from kkmp_sheets.testing import XLSX_MIME, FakeGoogle, QuotaConfig, StaticTokenCredentials
from kkmp_sheets.testing.fake_clock import FakeWarpClock

SHEETS = "https://sheets.googleapis.com/v4/spreadsheets"
DRIVE = "https://www.googleapis.com/drive/v3/files"
SHEET_MIME = "application/vnd.google-apps.spreadsheet"
UNFORMATTED = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"}
KADER = "kader@sukamaju.desa.id"


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as running:
        yield running


@pytest.fixture
def session(fake: FakeGoogle) -> Iterator[AuthorizedSession]:
    http = make_session(AnonymousCredentials(), fake.base_url, timeout=10)
    yield http
    http.close()


@pytest.fixture
def gc(session: AuthorizedSession) -> gspread.Client:
    return gspread.Client(auth=AnonymousCredentials(), session=session)


@contextmanager
def client_as(fake: FakeGoogle, email: str) -> Iterator[gspread.Client]:
    credentials = StaticTokenCredentials(fake.add_identity(email))
    http = make_session(credentials, fake.base_url, timeout=10)
    try:
        yield gspread.Client(auth=credentials, session=http)
    finally:
        http.close()


def koperasi(fake: FakeGoogle, **kwargs: Any) -> str:
    return fake.add_spreadsheet(
        "KDMP Sukamaju",
        {
            "Profil": [
                ["Nama koperasi", "KDMP Sukamaju"],
                ["Tanggal berdiri", dt.date(2025, 7, 21)],
            ],
            "Anggota": [
                ["NIK", "Nama", "Simpanan pokok", "Aktif"],
                ["3201010101010001", "Siti Aminah", 100000, True],
                ["3201010101010002", "Budi", 1234.5, False, None],
                [None, None, None, None],
                ["001", "", None, None],
            ],
            "Kas Harian": [],
        },
        locale="id_ID",
        time_zone="Asia/Jakarta",
        **kwargs,
    )


def drive_file(session: AuthorizedSession, file_id: str, fields: str) -> dict[str, Any]:
    response = session.get(f"{DRIVE}/{file_id}", params={"fields": fields})
    assert response.status_code == 200, response.text
    return dict(response.json())


# ---------------------------------------------------------------------- reading


def test_open_by_key_lists_worksheets_and_properties(fake: FakeGoogle, gc: gspread.Client) -> None:
    sheet = gc.open_by_key(koperasi(fake))

    assert sheet.title == "KDMP Sukamaju"
    assert [ws.title for ws in sheet.worksheets()] == ["Profil", "Anggota", "Kas Harian"]
    assert (sheet.locale, sheet.timezone) == ("id_ID", "Asia/Jakarta")
    assert (sheet.sheet1.id, sheet.sheet1.row_count, sheet.sheet1.col_count) == (0, 1000, 26)


def test_batch_get_unformatted_with_serial_dates(fake: FakeGoogle, gc: gspread.Client) -> None:
    sheet = gc.open_by_key(koperasi(fake))
    fake.reset_counts()

    reply = sheet.values_batch_get(["Profil", "Anggota", "Kas Harian"], params=UNFORMATTED)

    profil, anggota, kas = reply["valueRanges"]
    assert profil == {
        "range": "Profil!A1:Z1000",
        "majorDimension": "ROWS",
        "values": [["Nama koperasi", "KDMP Sukamaju"], ["Tanggal berdiri", 45859]],
    }
    assert anggota["values"] == [
        ["NIK", "Nama", "Simpanan pokok", "Aktif"],
        ["3201010101010001", "Siti Aminah", 100000, True],
        ["3201010101010002", "Budi", 1234.5, False],
        [],
        ["001"],
    ]
    assert kas == {"range": "'Kas Harian'!A1:Z1000", "majorDimension": "ROWS"}
    assert fake.counts == Counter({"sheets.values.batchGet": 1})


def test_formatted_values_and_column_major(fake: FakeGoogle, gc: gspread.Client) -> None:
    sheet = gc.open_by_key(koperasi(fake))
    params = {"majorDimension": "COLUMNS", "valueRenderOption": "FORMATTED_VALUE"}

    reply = sheet.values_batch_get(["Anggota!C1:D3", "Profil!B2"], params=params)

    assert reply["valueRanges"][0]["values"] == [
        ["Simpanan pokok", "100000", "1234.5"],
        ["Aktif", "TRUE", "FALSE"],
    ]
    assert reply["valueRanges"][1] == {
        "range": "Profil!B2",
        "majorDimension": "COLUMNS",
        "values": [["21/07/2025"]],
    }


# ---------------------------------------------------------------------- writing


def test_raw_keeps_text_and_user_entered_parses_it(fake: FakeGoogle, gc: gspread.Client) -> None:
    ws = gc.open_by_key(fake.add_spreadsheet("en_US", {"Sheet1": []})).sheet1
    typed = [["=1+1", "1,234.5", "2024-01-31", "'007", 42]]

    ws.update(typed, "A1", value_input_option="RAW")
    ws.update(typed, "A2", value_input_option="USER_ENTERED")

    assert ws.get("A1:E2", value_render_option="UNFORMATTED_VALUE") == [
        ["=1+1", "1,234.5", "2024-01-31", "'007", 42],
        [2, 1234.5, 45322, "007", 42],
    ]
    assert ws.get("A2:E2", value_render_option="FORMULA") == [["=1+1", 1234.5, 45322, "007", 42]]
    assert ws.get("A2:E2") == [["2", "1,234.5", "2024-01-31", "007", "42"]]


def test_user_entered_numbers_follow_the_spreadsheet_locale(
    fake: FakeGoogle, gc: gspread.Client
) -> None:
    ws = gc.open_by_key(koperasi(fake)).worksheet("Kas Harian")  # id_ID: 1.234,56

    ws.update([["1.234,56", "12.500", "21/07/2025"]], "A1", value_input_option="USER_ENTERED")

    assert ws.get("A1:C1", value_render_option="UNFORMATTED_VALUE") == [[1234.56, 12500, 45859]]


def test_update_response_shape(fake: FakeGoogle, gc: gspread.Client) -> None:
    ws = gc.open_by_key(koperasi(fake)).worksheet("Kas Harian")

    reply = ws.update([["Tanggal", "Uraian"], [1, None, "x"]], "B2")

    assert {k: v for k, v in reply.items() if k != "spreadsheetId"} == {
        "updatedRange": "'Kas Harian'!B2:D3",
        "updatedRows": 2,
        "updatedColumns": 3,
        "updatedCells": 4,
    }


def test_writes_beyond_the_grid_are_rejected(fake: FakeGoogle, gc: gspread.Client) -> None:
    sheet = gc.open_by_key(koperasi(fake))
    ws = sheet.add_worksheet("Kecil", rows=5, cols=3)

    with pytest.raises(APIError) as outside:
        ws.update([["x"]], "A6")
    with pytest.raises(APIError) as overflow:
        ws.update([["a"], ["b"], ["c"]], "A4")

    assert outside.value.error == {
        "code": 400,
        "message": "Range (Kecil!A6) exceeds grid limits. Max rows: 5, max columns: 3",
        "status": "INVALID_ARGUMENT",
    }
    assert overflow.value.error["message"] == (
        "Requested writing within range ['Kecil'!A4], but tried writing to row [6]"
    )
    assert fake.get_values(sheet.id, "Kecil") == []


def test_append_finds_the_table_and_grows_the_grid(fake: FakeGoogle, gc: gspread.Client) -> None:
    sheet = gc.open_by_key(koperasi(fake))
    ws = sheet.add_worksheet("Log", rows=2, cols=3)
    ws.update([["Waktu", "Kejadian"]], "A1")

    first = ws.append_row(["08:00", "buka"])
    second = ws.append_row(["09:00", "setor"])

    assert first["tableRange"] == "Log!A1:B1" and first["updates"]["updatedRange"] == "Log!A2:B2"
    assert second["updates"]["updatedRange"] == "Log!A3:B3"
    assert sheet.worksheet("Log").row_count == 3


def test_batch_update_is_atomic(
    fake: FakeGoogle, gc: gspread.Client, session: AuthorizedSession
) -> None:
    sid = koperasi(fake)
    sheet = gc.open_by_key(sid)
    version = drive_file(session, sid, "version")["version"]
    requests_ = [
        {"addSheet": {"properties": {"sheetId": 77, "title": "Status"}}},
        {
            "updateCells": {
                "start": {"sheetId": 77},
                "rows": [{"values": [{"userEnteredValue": {"stringValue": "Zona"}}]}],
                "fields": "userEnteredValue",
            }
        },
        {"deleteSheet": {"sheetId": 999}},
    ]

    with pytest.raises(APIError) as failure:
        sheet.batch_update({"requests": requests_})

    assert failure.value.error == {
        "code": 400,
        "message": "Invalid requests[2].deleteSheet: No grid with id: 999",
        "status": "INVALID_ARGUMENT",
    }
    assert fake.tabs(sid) == ["Profil", "Anggota", "Kas Harian"]
    assert drive_file(session, sid, "version")["version"] == version


def test_batch_update_builds_a_status_sheet_in_one_write(
    fake: FakeGoogle, gc: gspread.Client, session: AuthorizedSession
) -> None:
    sid = fake.add_spreadsheet("Status Kota", {"Sheet1": []})
    version = int(drive_file(session, sid, "version")["version"])
    cell = {"userEnteredValue": {"numberValue": 3}}
    grid = {
        "sheetId": 5,
        "startRowIndex": 0,
        "endRowIndex": 2,
        "startColumnIndex": 0,
        "endColumnIndex": 2,
    }
    body = {
        "requests": [
            {"addSheet": {"properties": {"sheetId": 5, "title": "Ringkasan", "gridProperties": {"rowCount": 20, "columnCount": 5}}}},
            {"updateCells": {"start": {"sheetId": 5}, "rows": [{"values": [{"userEnteredValue": {"stringValue": "Kecamatan"}}, cell]}], "fields": "userEnteredValue"}},
            {"repeatCell": {"range": {"sheetId": 5, "endRowIndex": 1}, "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}}, "fields": "userEnteredFormat.textFormat.bold"}},
            {"updateDimensionProperties": {"range": {"sheetId": 5, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 1}, "properties": {"pixelSize": 180}, "fields": "pixelSize"}},
            {"autoResizeDimensions": {"dimensions": {"sheetId": 5, "dimension": "COLUMNS", "startIndex": 1, "endIndex": 2}}},
            {"setBasicFilter": {"filter": {"range": grid}}},
            {"addConditionalFormatRule": {"rule": {"ranges": [grid], "booleanRule": {"condition": {"type": "NUMBER_GREATER", "values": [{"userEnteredValue": "2"}]}, "format": {"backgroundColor": {"red": 1}}}}, "index": 0}},
            {"mergeCells": {"range": {"sheetId": 5, "startRowIndex": 3, "endRowIndex": 4, "startColumnIndex": 0, "endColumnIndex": 3}, "mergeType": "MERGE_ALL"}},
            {"addProtectedRange": {"protectedRange": {"range": grid, "warningOnly": True}}},
            {"setDataValidation": {"range": {"sheetId": 5, "startRowIndex": 5, "endRowIndex": 6}, "rule": {"condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": "Hijau"}]}}}},
            {"addChart": {"chart": {"spec": {"title": "Zona", "basicChart": {"chartType": "COLUMN", "domains": [{"domain": {"sourceRange": {"sources": [grid]}}}]}}, "position": {"overlayPosition": {"anchorCell": {"sheetId": 5}}}}}},
            {"updateSheetProperties": {"properties": {"sheetId": 5, "gridProperties": {"frozenRowCount": 1}}, "fields": "gridProperties.frozenRowCount"}},
            {"updateSpreadsheetProperties": {"properties": {"locale": "id_ID"}, "fields": "locale"}},
        ]
    }  # fmt: skip

    reply = gc.open_by_key(sid).batch_update(body)

    replies = reply["replies"]
    assert len(replies) == len(body["requests"])
    assert replies[0]["addSheet"]["properties"] == {
        "sheetId": 5,
        "title": "Ringkasan",
        "index": 1,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": 20, "columnCount": 5},
    }
    assert isinstance(replies[8]["addProtectedRange"]["protectedRange"]["protectedRangeId"], int)
    assert isinstance(replies[10]["addChart"]["chart"]["chartId"], int)
    assert [r for i, r in enumerate(replies) if i not in (0, 8, 10)] == [{}] * 10
    assert fake.get_values(sid, "Ringkasan") == [["Kecamatan", 3]]
    assert int(drive_file(session, sid, "version")["version"]) == version + 1
    meta = session.get(
        f"{SHEETS}/{sid}", params={"fields": "sheets(properties,merges,basicFilter)"}
    ).json()
    ringkasan = meta["sheets"][1]
    assert ringkasan["properties"]["gridProperties"]["frozenRowCount"] == 1
    assert ringkasan["merges"] == [
        {
            "sheetId": 5,
            "startRowIndex": 3,
            "endRowIndex": 4,
            "startColumnIndex": 0,
            "endColumnIndex": 3,
        }
    ]


def test_add_and_delete_worksheet(fake: FakeGoogle, gc: gspread.Client) -> None:
    sheet = gc.open_by_key(fake.add_spreadsheet("Satu tab", {"Sheet1": []}))

    ws = sheet.add_worksheet("Hasil Pemeriksaan", rows=50, cols=8)
    assert [w.title for w in sheet.worksheets()] == ["Sheet1", "Hasil Pemeriksaan"]
    assert (ws.row_count, ws.col_count, ws.index) == (50, 8, 1)
    sheet.del_worksheet(ws)
    assert [w.title for w in sheet.worksheets()] == ["Sheet1"]

    with pytest.raises(APIError) as last:
        sheet.del_worksheet(sheet.sheet1)
    assert last.value.error["message"] == (
        "Invalid requests[0].deleteSheet: You can't remove all the sheets in a document."
    )


def test_a1_quoting_of_sheet_names(fake: FakeGoogle, gc: gspread.Client) -> None:
    sid = fake.add_spreadsheet(
        "Nama", {"Kas 'Desa'": [["x"]], "D3": [["y"]], "Rekap_2025": [["z"]]}
    )
    sheet = gc.open_by_key(sid)

    ranges = [
        r["range"]
        for r in sheet.values_batch_get(["'Kas ''Desa'''", "'D3'", "Rekap_2025!A1:B"])[
            "valueRanges"
        ]
    ]

    assert ranges == ["'Kas ''Desa'''!A1:Z1000", "'D3'!A1:Z1000", "Rekap_2025!A1:B1000"]


# ---------------------------------------------------------------------- Drive


def test_drive_list_pages_and_filters_on_modified_time(
    fake: FakeGoogle, session: AuthorizedSession
) -> None:
    folder = fake.add_folder("Kota Demo")
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    ids = [
        fake.add_spreadsheet(
            f"Koperasi {i:02d}", parent=folder, modified_time=start + dt.timedelta(hours=i)
        )
        for i in range(25)
    ]
    fake.add_spreadsheet("Di luar folder")
    fake.add_file("lampiran.xlsx", b"PK", XLSX_MIME, parent=folder)
    fake.trash_file(fake.add_spreadsheet("Dibuang", parent=folder))
    query = f"'{folder}' in parents and mimeType = '{SHEET_MIME}' and trashed = false"
    fake.reset_counts()

    pages, token = [], None
    while True:
        params = {
            "q": query,
            "pageSize": 10,
            "fields": "nextPageToken,files(id,name,modifiedTime,version)",
        }
        params |= {"pageToken": token} if token else {}
        reply = session.get(DRIVE, params=params, timeout=10).json()
        pages.append(reply["files"])
        token = reply.get("nextPageToken")
        if not token:
            break

    assert [len(p) for p in pages] == [10, 10, 5]
    assert [f["id"] for p in pages for f in p] == ids[::-1]  # newest first
    assert set(pages[0][0]) == {"id", "name", "modifiedTime", "version"}
    assert fake.counts["drive.files.list"] == 3

    since = f"{query} and modifiedTime > '2025-01-01T20:00:00'"
    changed = session.get(DRIVE, params={"q": since, "fields": "files(name)"}).json()["files"]
    assert [f["name"] for f in changed] == [
        "Koperasi 24",
        "Koperasi 23",
        "Koperasi 22",
        "Koperasi 21",
    ]

    too_big = session.get(DRIVE, params={"pageSize": 1001})
    bad_query = session.get(DRIVE, params={"q": "name === 'x'"})
    assert (too_big.status_code, bad_query.status_code) == (400, 400)
    assert bad_query.json()["error"]["errors"][0]["location"] == "q"


def test_every_write_bumps_version_and_modified_time(
    fake: FakeGoogle, gc: gspread.Client, session: AuthorizedSession
) -> None:
    sid = koperasi(fake)
    fields = "version,modifiedTime,lastModifyingUser(emailAddress)"
    before = drive_file(session, sid, fields)
    ws = gc.open_by_key(sid).worksheet("Anggota")
    ws.get_all_values()
    assert drive_file(session, sid, fields) == before  # reads change nothing

    fake.advance(5)
    ws.update([["Hasil"]], "F1")
    after_write = drive_file(session, sid, fields)
    fake.advance(5)
    fake.edit_values(sid, "Anggota!B3", [["Budi Santoso"]], by=KADER)
    after_edit = drive_file(session, sid, fields)

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", after_write["modifiedTime"])
    assert int(after_write["version"]) == int(before["version"]) + 1
    assert int(after_edit["version"]) == int(before["version"]) + 2
    assert before["modifiedTime"] < after_write["modifiedTime"] < after_edit["modifiedTime"]
    assert after_write["lastModifyingUser"]["emailAddress"] == fake.default_identity
    assert after_edit["lastModifyingUser"]["emailAddress"] == KADER


def test_drive_create_copy_and_share(fake: FakeGoogle, session: AuthorizedSession) -> None:
    folder = fake.add_folder("Output")
    created = session.post(
        DRIVE, json={"name": "Status Kota", "mimeType": SHEET_MIME, "parents": [folder]}
    )
    assert created.status_code == 200
    assert set(created.json()) == {"kind", "id", "name", "mimeType"}
    sid = created.json()["id"]
    fake.edit_values(sid, "Sheet1!A1", [["Zona"]])

    copied = session.post(f"{DRIVE}/{sid}/copy", json={}).json()
    shared = session.post(
        f"{DRIVE}/{sid}/permissions", json={"type": "user", "role": "writer", "emailAddress": KADER}
    )
    listing = session.get(
        f"{DRIVE}/{sid}/permissions", params={"fields": "permissions(role,emailAddress)"}
    )

    assert copied["name"] == "Copy of Status Kota"
    assert fake.get_values(copied["id"], "Sheet1") == [["Zona"]]
    assert shared.json()["role"] == "writer"
    assert listing.json()["permissions"] == [
        {"role": "owner", "emailAddress": fake.default_identity},
        {"role": "writer", "emailAddress": KADER},
    ]
    with client_as(fake, KADER) as kader:
        kader.open_by_key(sid).sheet1.update([["diubah kader"]], "A2")
    assert fake.get_values(sid, "Sheet1") == [["Zona"], ["diubah kader"]]


def test_spreadsheets_create(fake: FakeGoogle, session: AuthorizedSession) -> None:
    body = {
        "properties": {"title": "Status Kota", "locale": "id_ID"},
        "sheets": [{"properties": {"title": "Ringkasan"}}],
    }

    reply = session.post(SHEETS, json=body).json()

    assert reply["properties"]["title"] == "Status Kota"
    assert [s["properties"]["title"] for s in reply["sheets"]] == ["Ringkasan"]
    assert drive_file(session, reply["spreadsheetId"], "name,mimeType") == {
        "name": "Status Kota",
        "mimeType": SHEET_MIME,
    }


def _multipart(meta: dict[str, Any], media: bytes, media_type: str) -> tuple[bytes, str]:
    boundary = "kkmp-sheets-boundary"
    head = f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
    head += json.dumps(meta) + f"\r\n--{boundary}\r\nContent-Type: {media_type}\r\n\r\n"
    body = head.encode() + media + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/related; boundary={boundary}"


def test_upload_xlsx_converted_or_kept(
    fake: FakeGoogle, session: AuthorizedSession, tmp_path: Path
) -> None:
    path = tmp_path / "kdmp.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Anggota"
    book.active.append(["Nama", "Simpanan"])
    book.active.append(["Siti", 100000])
    book.save(path)
    url = "https://www.googleapis.com/upload/drive/v3/files"

    replies = []
    for meta in ({"name": "KDMP", "mimeType": SHEET_MIME}, {"name": "KDMP.xlsx"}):
        body, content_type = _multipart(meta, path.read_bytes(), XLSX_MIME)
        reply = session.post(
            url,
            params={"uploadType": "multipart"},
            data=body,
            headers={"Content-Type": content_type},
        )
        assert reply.status_code == 200, reply.text
        replies.append(reply.json())
    converted, kept = replies

    assert converted["mimeType"] == SHEET_MIME
    assert fake.get_values(converted["id"], "Anggota") == [["Nama", "Simpanan"], ["Siti", 100000]]
    assert kept["mimeType"] == XLSX_MIME
    assert (
        session.get(f"{DRIVE}/{kept['id']}", params={"alt": "media"}).content == path.read_bytes()
    )


def test_export_as_csv(fake: FakeGoogle, session: AuthorizedSession) -> None:
    sid = fake.add_spreadsheet(
        "Rekap", {"Sheet1": [["Desa", "Anggota"], ["Suka, Maju", 120], ["Mekar"]]}
    )

    reply = session.get(f"{DRIVE}/{sid}/export", params={"mimeType": "text/csv"})

    assert reply.text == 'Desa,Anggota\r\n"Suka, Maju",120\r\nMekar,'


def test_formulas_are_evaluated_on_read(fake: FakeGoogle, gc: gspread.Client) -> None:
    ws = gc.open_by_key(fake.add_spreadsheet("Rumus", {"Sheet1": [[None], [5], [7]]})).sheet1

    ws.update([["=SUM(A2:A3)", "=A2*2", "=1/0", "=FOO(1)", '=A2&" orang"']], "A1", raw=False)

    assert ws.get("A1:E1", value_render_option="UNFORMATTED_VALUE") == [
        [12, 10, "#DIV/0!", "#NAME?", "5 orang"]
    ]


def test_bad_ranges_and_field_masks(fake: FakeGoogle, session: AuthorizedSession) -> None:
    sid = koperasi(fake)

    unknown_tab = session.get(f"{SHEETS}/{sid}/values/Nope!A1")
    too_far = session.get(f"{SHEETS}/{sid}/values/Profil!A1:B1001")
    masked = session.get(f"{SHEETS}/{sid}", params={"fields": "sheets.properties.title"})
    bad_mask = session.get(f"{SHEETS}/{sid}", params={"fields": "sheetz"})

    assert unknown_tab.json()["error"]["message"] == "Unable to parse range: Nope!A1"
    assert too_far.json()["error"]["message"] == (
        "Range (Profil!A1:B1001) exceeds grid limits. Max rows: 1000, max columns: 26"
    )
    assert masked.json() == {
        "sheets": [
            {"properties": {"title": "Profil"}},
            {"properties": {"title": "Anggota"}},
            {"properties": {"title": "Kas Harian"}},
        ]
    }
    assert bad_mask.status_code == 400


# ---------------------------------------------------------------------- access and errors


def test_not_shared_is_403_and_deleted_is_404(
    fake: FakeGoogle, gc: gspread.Client, session: AuthorizedSession
) -> None:
    sid = koperasi(fake, owner=KADER)

    with pytest.raises(PermissionError):
        gc.open_by_key(sid)
    private = session.get(f"{SHEETS}/{sid}")
    hidden = session.get(f"{DRIVE}/{sid}")
    assert private.status_code == 403
    assert private.json() == {
        "error": {
            "code": 403,
            "message": "The caller does not have permission",
            "status": "PERMISSION_DENIED",
        }
    }
    assert hidden.status_code == 404
    assert hidden.json()["error"]["message"] == f"File not found: {sid}."

    fake.share(sid, fake.default_identity, "reader")
    sheet = gc.open_by_key(sid)
    with pytest.raises(APIError) as read_only:
        sheet.sheet1.update([["x"]], "A1")
    assert read_only.value.error["status"] == "PERMISSION_DENIED"

    fake.delete_file(sid)
    with pytest.raises(gspread.SpreadsheetNotFound):
        gc.open_by_key(sid)
    assert session.get(f"{SHEETS}/{sid}/values/A1").json() == {
        "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
    }


def test_uploaded_xlsx_is_not_a_google_sheet(
    fake: FakeGoogle, session: AuthorizedSession, tmp_path: Path
) -> None:
    path = tmp_path / "koperasi.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Nama", "Simpanan"])
    book.save(path)
    fid = fake.load_xlsx(path, native=False)

    via_sheets = session.get(f"{SHEETS}/{fid}/values:batchGet", params={"ranges": "A1"})
    metadata = drive_file(session, fid, "name,mimeType,size")
    download = session.get(f"{DRIVE}/{fid}", params={"alt": "media"})

    assert via_sheets.status_code == 400
    assert via_sheets.json() == {
        "error": {
            "code": 400,
            "message": "This operation is not supported for this document",
            "status": "FAILED_PRECONDITION",
        }
    }
    assert metadata == {
        "name": "koperasi.xlsx",
        "mimeType": XLSX_MIME,
        "size": str(path.stat().st_size),
    }
    assert download.content == path.read_bytes()


def test_load_xlsx_as_native_spreadsheet(
    fake: FakeGoogle, gc: gspread.Client, tmp_path: Path
) -> None:
    path = tmp_path / "kdmp.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Anggota"
    book.active["B3"] = "NIK"
    book.active["C3"] = "Tanggal masuk"
    book.active["B4"] = "3201010101010001"
    book.active["C4"] = dt.date(2025, 8, 1)
    book.active["D4"] = 150000.0
    book.active["E4"] = 0.25
    book.create_sheet("Catatan").sheet_state = "hidden"
    book.save(path)

    sid = fake.load_xlsx(path, name="KDMP Sukamaju", modified_time="2025-09-01T00:00:00Z")

    sheet = gc.open_by_key(sid)
    assert [(w.title, w.isSheetHidden) for w in sheet.worksheets(exclude_hidden=False)] == [
        ("Anggota", False),
        ("Catatan", True),
    ]
    values = sheet.values_batch_get(["Anggota"], params=UNFORMATTED)["valueRanges"][0]["values"]
    assert values == [
        [],
        [],
        ["", "NIK", "Tanggal masuk"],
        ["", "3201010101010001", 45870, 150000, 0.25],
    ]
    assert fake.file_info(sid)["modifiedTime"] == "2025-09-01T00:00:00.000Z"


def test_unknown_token_is_401(fake: FakeGoogle) -> None:
    sid = koperasi(fake)
    with requests.Session() as http:
        http.headers["Authorization"] = "Bearer not-a-token"
        reply = http.get(f"{fake.base_url}/v4/spreadsheets/{sid}")
    assert reply.status_code == 401
    assert reply.json()["error"]["status"] == "UNAUTHENTICATED"


def test_unsupported_endpoints_answer_501(fake: FakeGoogle, session: AuthorizedSession) -> None:
    sid = koperasi(fake)

    endpoint = session.post(f"{SHEETS}/{sid}/values:batchGetByDataFilter", json={})
    request_kind = session.post(
        f"{SHEETS}/{sid}:batchUpdate", json={"requests": [{"addBanding": {}}]}
    )
    invented = session.post(
        f"{SHEETS}/{sid}:batchUpdate", json={"requests": [{"makeItPretty": {}}]}
    )

    assert (endpoint.status_code, endpoint.json()["error"]["status"]) == (501, "UNIMPLEMENTED")
    assert (request_kind.status_code, request_kind.json()["error"]["status"]) == (
        501,
        "UNIMPLEMENTED",
    )
    assert (invented.status_code, invented.json()["error"]["status"]) == (400, "INVALID_ARGUMENT")


# ---------------------------------------------------------------------- quota, faults, accounting


def test_read_quota_per_user_resets_with_the_clock(
    fake: FakeGoogle, session: AuthorizedSession
) -> None:
    sid = koperasi(fake)
    url = f"{SHEETS}/{sid}/values:batchGet"
    for _ in range(60):
        assert session.get(url, params={"ranges": "Profil"}).status_code == 200

    limited = session.get(url, params={"ranges": "Profil"})
    write = session.put(
        f"{SHEETS}/{sid}/values/Profil!C1",
        params={"valueInputOption": "RAW"},
        json={"values": [[1]]},
    )
    drive = session.get(f"{DRIVE}/{sid}")

    assert limited.status_code == 429
    error = limited.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert error["message"] == (
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' "
        "of service 'sheets.googleapis.com' for consumer 'project_number:123456789012'."
    )
    assert error["details"][0]["metadata"]["quota_limit"] == "ReadRequestsPerMinutePerUser"
    assert (write.status_code, drive.status_code) == (200, 200)  # separate buckets

    fake.advance(60)
    assert session.get(url, params={"ranges": "Profil"}).status_code == 200


def test_project_quota_is_shared_by_all_users(fake: FakeGoogle, gc: gspread.Client) -> None:
    sid = koperasi(fake, shared_with=[KADER])
    fake.quota = QuotaConfig(read_per_user=5, read_per_project=8)
    with client_as(fake, KADER) as kader:
        mine, theirs = gc.open_by_key(sid), kader.open_by_key(sid)  # 1 read each
        for _ in range(4):
            mine.values_batch_get(["Profil"])
        with pytest.raises(APIError) as per_user:
            mine.values_batch_get(["Profil"])
        theirs.values_batch_get(["Profil"])
        theirs.values_batch_get(["Profil"])
        with pytest.raises(APIError) as per_project:
            theirs.values_batch_get(["Profil"])

    assert "'Read requests per minute per user'" in per_user.value.error["message"]
    assert "'Read requests per minute'" in per_project.value.error["message"]


def test_injected_failures(fake: FakeGoogle, gc: gspread.Client) -> None:
    sheet = gc.open_by_key(koperasi(fake))
    fake.fail_next(1, 503, path_contains="values:batchGet")
    fake.fail_next(2, 500)

    with pytest.raises(APIError) as unavailable:
        sheet.values_batch_get(["Profil"])
    codes = []
    for _ in range(2):
        with pytest.raises(APIError) as internal:
            sheet.worksheets()
        codes.append(internal.value.error["status"])
    fake.fail_next(1, 502)
    with pytest.raises(APIError) as gateway:
        sheet.worksheets()

    assert unavailable.value.error == {
        "code": 503,
        "message": "The service is currently unavailable.",
        "status": "UNAVAILABLE",
    }
    assert codes == ["INTERNAL", "INTERNAL"]
    assert gateway.value.response.status_code == 502
    assert "That's an error" in gateway.value.response.text  # Google's HTML page, not JSON
    assert [w.title for w in sheet.worksheets()] == ["Profil", "Anggota", "Kas Harian"]


def test_latency_and_client_timeouts(fake: FakeGoogle) -> None:
    sid = koperasi(fake)
    http = make_session(AnonymousCredentials(), fake.base_url, timeout=0.3)
    try:
        client = gspread.Client(auth=AnonymousCredentials(), session=http)
        fake.latency = 0.1
        started = time.monotonic()
        client.open_by_key(sid)
        assert time.monotonic() - started >= 0.1

        fake.latency = 0
        fake.slow_next(1.0)
        with pytest.raises(requests.exceptions.ReadTimeout):
            client.open_by_key(sid)  # gspread passes timeout=None; the session's default applies
        client.open_by_key(sid)
    finally:
        http.close()


def test_handling_time_leaves_the_latency_out(fake: FakeGoogle, gc: gspread.Client) -> None:
    # A benchmark takes the fake's own work out of its clock and of the client's CPU; the
    # latency stands for Google's time and must stay in, so it is not part of the handling.
    sid = koperasi(fake)
    before = fake.handling()
    fake.latency = 1.0
    started = time.monotonic()
    gc.open_by_key(sid).values_batch_get(["Profil", "Anggota"], params=UNFORMATTED)
    spent = time.monotonic() - started
    fake.latency = 0
    after = fake.handling()

    assert after.requests - before.requests == 2
    assert spent >= 2.0  # both requests waited out the latency
    assert 0 < after.seconds - before.seconds < 1.0  # without it, this would be >= 2 s
    assert after.cpu > before.cpu


def test_counts_and_request_log(fake: FakeGoogle, gc: gspread.Client) -> None:
    sid = koperasi(fake)
    fake.reset_counts()

    gc.open_by_key(sid).values_batch_get(["Profil", "Anggota"], params=UNFORMATTED)
    gc.list_spreadsheet_files()

    assert fake.counts == Counter(
        {"sheets.spreadsheets.get": 1, "sheets.values.batchGet": 1, "drive.files.list": 1}
    )
    log = fake.requests
    assert [(r.method, r.kind, r.status, r.identity) for r in log][1] == (
        "GET",
        "sheets.values.batchGet",
        200,
        fake.default_identity,
    )
    assert log[1].query["ranges"] == ["Profil", "Anggota"]
    fake.reset_counts()
    assert fake.counts == Counter() and fake.requests == []


# ---------------------------------------------------------------------- plumbing


def test_adapter_rewrites_only_google_api_hosts() -> None:
    adapter = GoogleApiAdapter("http://127.0.0.1:8089/", timeout=5)
    untouched = GoogleApiAdapter(None)

    assert (
        adapter.rewrite(f"{SHEETS}/x/values/A1")
        == "http://127.0.0.1:8089/v4/spreadsheets/x/values/A1"
    )
    assert adapter.rewrite(f"{DRIVE}?q=x") == "http://127.0.0.1:8089/drive/v3/files?q=x"
    assert (
        adapter.rewrite("https://oauth2.googleapis.com/token")
        == "https://oauth2.googleapis.com/token"
    )
    assert untouched.rewrite(f"{SHEETS}/x") == f"{SHEETS}/x"


def test_standalone_server_loads_a_folder_of_workbooks(tmp_path: Path) -> None:
    for name in ("KDMP Sukamaju", "KDMP Mekarsari"):
        book = openpyxl.Workbook()
        book.active.title = "Profil"
        book.active.append(["Nama koperasi", name])
        book.save(tmp_path / f"{name}.xlsx")
    command = [sys.executable, "-m", "kkmp_sheets.testing.fake_google", "--port", "0"]
    command += ["--load-xlsx-dir", str(tmp_path), "--folder-name", "Kota Demo"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        watchdog = threading.Timer(60, proc.kill)  # never hang the suite on a stuck server
        watchdog.start()
        try:
            assert proc.stdout is not None
            banner = proc.stdout.readline()
            lines = [proc.stdout.readline().strip().split("\t") for _ in range(3)]
            base_url = re.search(r"http://127\.0\.0\.1:\d+", banner)
            assert base_url, banner + (proc.stderr.read() if proc.stderr else "")
            folder = lines[0][0]
            with requests.Session() as http:
                listing = http.get(
                    f"{base_url.group(0)}/drive/v3/files",
                    params={"q": f"'{folder}' in parents", "fields": "files(id,name)"},
                    timeout=10,
                ).json()
                first = http.get(
                    f"{base_url.group(0)}/v4/spreadsheets/{lines[1][0]}/values/Profil", timeout=10
                ).json()
        finally:
            watchdog.cancel()
            proc.terminate()
            proc.wait(timeout=10)
    assert sorted(f["name"] for f in listing["files"]) == ["KDMP Mekarsari", "KDMP Sukamaju"]
    assert first["values"] == [["Nama koperasi", lines[1][1]]]
    assert proc.returncode == 0


def test_warp_clock_stands_still_while_the_fake_works(fake: FakeGoogle) -> None:
    # The benchmark's quota windows must age on Google's time: the fake's own work (here a
    # request held open by hand) does not move the clock, its latency wait and the client's
    # time do.
    clock = FakeWarpClock(fake)
    meter = fake.app.meter
    start = clock.monotonic()
    meter.start()
    time.sleep(0.3)  # the fake "working"
    assert clock.monotonic() - start < 0.25  # 0.3 if the work counted
    meter.pause()  # the latency: Google's time
    time.sleep(0.3)
    meter.resume()
    time.sleep(0.3)
    meter.end()
    during = clock.monotonic() - start
    assert 0.3 <= during < 0.75  # 0.9 if the work counted
    time.sleep(0.2)  # the client's own time
    assert clock.monotonic() - start >= during + 0.2
    clock.sleep(60)  # a quota wait, skipped
    assert clock.monotonic() - start >= during + 60.2
