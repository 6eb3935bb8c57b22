"""`parse_phone`'s quick reading of the common shapes gives exactly what `phonenumbers` gives.

The reference below is `parse_phone` as it was before `formats.phone_plan`: every number went
through `phonenumbers.parse` and `is_valid_number`. Both are compared on every shape people
type, on digit strings of every length behind every prefix, and on the messy Anggota column.
"""

from __future__ import annotations

import random
from typing import Any

import phonenumbers
import pytest

from kkmp_sheets.core import formats
from kkmp_sheets.core.formats import phone_plan
from kkmp_sheets.core.formats.identifiers import _PHONE_PUNCTUATION, _id_text
from kkmp_sheets.core.formats.text import _is_digits
from tests.messy_anggota import anggota_rows


def reference_phone(value: object) -> str | None:
    """`parse_phone` before the quick reading: "error" where it raised."""
    try:
        text = _id_text(value, formats.identifiers._PHONE_ERR)
    except formats.FormatError:
        return "error"
    if text is None:
        return None
    text = _PHONE_PUNCTUATION.sub("", text)
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not _is_digits(digits):
        return "error"
    if not plus and digits.startswith("00"):
        digits, plus = digits[2:], True
    plus = plus or digits.startswith("62")
    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, "ID")
    except phonenumbers.NumberParseException:
        return "error"
    if number.country_code != 62 or not phonenumbers.is_valid_number(number):
        return "error"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def project_phone(value: object) -> str | None:
    try:
        return formats.parse_phone(value)
    except formats.FormatError:
        return "error"


PREFIXES = [
    "", "0", "08", "8", "62", "+62", "+620", "+628", "620", "628", "00", "0062", "00620",
    "021", "0021", "+6221", "2", "1", "9", "061", "0809", "0800", "800", "1500", "0177",
    "+1", "+44", "+6", "6", "0000", "+", "008", "0089", "009", "07", "04", "0361",
]  # fmt: skip


def cases(seed: int) -> list[Any]:
    rng = random.Random(seed)
    out: list[Any] = []
    for prefix in PREFIXES:
        for length in range(0, 19):
            for _ in range(6):
                tail = "".join(rng.choice("0123456789") for _ in range(length))
                out.append(prefix + tail)
                out.append(f" {prefix}-{tail[:3]} {tail[3:]} ")
    out += [f"08{d}{rng.randrange(10**9):09d}" for d in "0123456789" for _ in range(50)]
    out += [8_123_456_789, 812_345_678_901.0, 628123456789, 21_5551234, 0, 1.5, True]
    # Marks around and between the digits: the short way for dashes and spaces, and the cells
    # it must leave to the general reading.
    out += [
        "-", " - ", "--", "- -", "+", "+-", "++628123456789", "+ 62 812 3456 7890",
        "+-62-812-3456-7890", "-08123456789", "0812-3456-7890-", "0812--3456  7890",
        "'0812-3456-7890", "0812'3456", "(022) 555-1234", "0812.3456.7890", "0812\t3456\t7890",
        "0812\x1c3456\x1f7890", "0812\n34567890", " \u00a00812-3456-7890", "０８１２３４５６７８９",
        "0812-3456-789O", "#N/A", "0812 3456 7890 / 0813 1111 2222", "62-812-3456-7890",
    ]  # fmt: skip
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_quick_reading_agrees_with_the_library(seed: int) -> None:
    for value in cases(seed):
        assert project_phone(value) == reference_phone(value), value


def test_messy_telephone_column_agrees() -> None:
    rows = anggota_rows(20_000, 7)
    column = rows[1].index("Telepon")
    for row in rows[2:]:
        if column < len(row):
            assert project_phone(row[column]) == reference_phone(row[column]), row[column]


def test_the_quick_reading_is_taken_for_the_common_shapes() -> None:
    """Guards the speed: a library update that breaks the plan's assumptions shows here."""
    assert phone_plan.national_number("08123456789", False) == "8123456789"
    assert phone_plan.national_number("628123456789", True) == "8123456789"
    assert phone_plan.national_number("8123456789", False) == "8123456789"
    assert phone_plan.is_valid("8123456789")
