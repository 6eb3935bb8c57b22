"""Column letters: one definition shared by the xlsx patcher, Google and the local fake."""

from __future__ import annotations

import openpyxl.utils
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kkmp_sheets.core.a1 import column_index, column_letters


@pytest.mark.parametrize(
    ("index", "letters"),
    [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"), (701, "ZZ"), (702, "AAA"),
     (16383, "XFD")],
)  # fmt: skip
def test_known_columns(index: int, letters: str) -> None:
    assert column_letters(index) == letters
    assert column_index(letters) == index
    assert column_index(letters.lower()) == index


@given(st.integers(min_value=0, max_value=18_277))  # openpyxl stops at ZZZ
@settings(deadline=None)
def test_agrees_with_openpyxl_and_round_trips(index: int) -> None:
    letters = column_letters(index)
    assert letters == openpyxl.utils.get_column_letter(index + 1)
    assert column_index(letters) == index


@pytest.mark.parametrize("bad", ["", "A1", "Ä", "-"])
def test_refuses_what_is_not_column_letters(bad: str) -> None:
    with pytest.raises(ValueError, match="column letters"):
        column_index(bad)
    with pytest.raises(ValueError, match="0 or more"):
        column_letters(-1)
