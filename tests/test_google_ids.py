"""One rule for a Google file ID in what people paste (registry cells and config values)."""

from __future__ import annotations

import pytest

from kkmp_sheets.google.ids import file_id

SHEET = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd"  # 44 characters, like a spreadsheet's
FOLDER = "1AbCdEfGhIjKlMnOpQrStUvWxYz012345"  # 33, like a folder's
SHARED_DRIVE = "0AbCdEfGhIjKlUk9PVA"  # 19, like a Shared Drive's


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SHEET, SHEET),
        (f"  {SHEET}\n", SHEET),
        (f"https://docs.google.com/spreadsheets/d/{SHEET}/edit#gid=0", SHEET),
        (f"https://docs.google.com/spreadsheets/d/{SHEET}", SHEET),
        (f"https://drive.google.com/file/d/{FOLDER}/view?usp=sharing", FOLDER),
        (f"https://drive.google.com/open?id={SHEET}", SHEET),
        (f"https://drive.google.com/drive/folders/{FOLDER}", FOLDER),
        (f"https://drive.google.com/drive/u/0/folders/{SHARED_DRIVE}?usp=sharing", SHARED_DRIVE),
        (FOLDER, FOLDER),
        (SHARED_DRIVE, SHARED_DRIVE),
        (SHARED_DRIVE[:-1], None),  # 18 characters: a typo or a local name
        ("KKMP-CENGKARENG-TIMUR", "KKMP-CENGKARENG-TIMUR"),  # looks like an ID: Google decides
        ("workbooks/kkmp.xlsx", None),
        ("https://docs.google.com/spreadsheets/", None),
        ("", None),
    ],
)
def test_file_id_from_an_id_or_an_address(text: str, expected: str | None) -> None:
    assert file_id(text) == expected
