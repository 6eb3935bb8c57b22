"""Google mode: the status spreadsheet's Tautan cells are links, and the digests link to the
status spreadsheet (deep-linked to its Status KKMP tab) and to each listed Merah cooperative's
own spreadsheet: `run --once` from a config file against the local fake over real HTTP."""

from __future__ import annotations

import email
from datetime import date
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

from kkmp_sheets.cli import main
from kkmp_sheets.clock import WarpClock
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.testing import FakeGoogle
from kkmp_sheets.testing.google_city import config_text, connect_fake, load_city

pytestmark = pytest.mark.slow
AS_OF = date(2026, 1, 29)


def parts(path: Path) -> tuple[str, str]:
    msg = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(msg, EmailMessage)
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content().replace("\r\n", "\n"), html.get_content()


def cell_text(cell: dict[str, Any]) -> str:
    return str((cell.get("userEnteredValue") or {}).get("stringValue", ""))


def test_google_mode_links_the_tautan_cells_and_the_digests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    city = build_demo_city(tmp_path / "kota", size=8, as_of=AS_OF)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with FakeGoogle() as fake:
        gcity = load_city(fake, city.root)
        config = city.root / "city-google.toml"
        config.write_text(config_text(fake, gcity), encoding="utf-8")
        assert main(["run", "--once", "--config", str(config), "--as-of", str(AS_OF)]) == 0
        clients = connect_fake(fake, gcity, clock=WarpClock())
        try:
            reply = clients.api.get_spreadsheet(
                gcity.status_id,
                {
                    "includeGridData": "true",
                    "ranges": "'Status KKMP'",
                    "fields": "sheets(properties(sheetId,title),"
                    "data(rowData(values(userEnteredValue,userEnteredFormat))))",
                },
            )
        finally:
            clients.close()

    [sheet] = reply["sheets"]
    status_url = (
        f"https://docs.google.com/spreadsheets/d/{gcity.status_id}/edit"
        f"#gid={sheet['properties']['sheetId']}"
    )
    rows = [r.get("values") or [] for r in sheet["data"][0]["rowData"]]
    header = [cell_text(c) for c in rows[1]]
    at = {name: header.index(name) for name in ("ID", "Nama Koperasi", "Zona", "Tautan")}
    sheet_url = {
        coop_id: f"https://docs.google.com/spreadsheets/d/{sid}/edit"
        for coop_id, sid in gcity.sheets.items()
    }
    merah: dict[str, str] = {}  # name → its spreadsheet
    for row in rows[2:]:
        coop_id, tautan = cell_text(row[at["ID"]]), row[at["Tautan"]]
        # The Tautan cell shows the URL and is a link to it (a text-format link: no formula,
        # so no argument separator that depends on the spreadsheet's id_ID locale).
        assert cell_text(tautan) == sheet_url[coop_id]
        link = tautan["userEnteredFormat"]["textFormat"]["link"]
        assert link == {"uri": sheet_url[coop_id]}
        if cell_text(row[at["Zona"]]) == "Merah":
            merah[cell_text(row[at["Nama Koperasi"]])] = sheet_url[coop_id]
    assert len(rows) - 2 == len(gcity.sheets)
    assert merah, "the small demo city has Merah cooperatives"

    outbox = city.root / "out" / "outbox"
    city_text, city_html = parts(next(outbox.glob("city_*.eml")))
    for name, url in merah.items():
        assert f'<a href="{url}" style="color:#1a0dab">{name}</a>' in city_html, name
        assert f"     {url}\n" in city_text, name
    for path in [*outbox.glob("city_*.eml"), *outbox.glob("kecamatan_*.eml")]:
        text, html = parts(path)
        assert f"Spreadsheet status kota:\n  {status_url}\n" in text, path.name
        assert f'<a href="{status_url}"' in html, path.name
        assert "file://" not in text + html, path.name
