"""An `Issue` refuses a code the catalogue does not have, where it is made."""

from __future__ import annotations

import pytest

from kkmp_sheets.core.issue import CATALOG, Issue, Severity, require_code
from kkmp_sheets.sources.base import ReadFailure


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_every_catalogued_code_makes_an_issue_that_reads(code: str):
    issue = Issue(code, tab="Anggota", row=4, column="NIK", expected="x", detail="y")
    assert issue.severity in (Severity.GALAT, Severity.PERINGATAN)
    assert issue.message and issue.fix  # every placeholder of the entry is one Issue fills


@pytest.mark.parametrize(
    ("code", "hint"),
    [("nik-lenght", "did you mean 'nik-length'?"), ("tidak-ada", ""), ("", "")],
)
def test_an_unknown_code_fails_when_the_issue_is_made(code: str, hint: str):
    with pytest.raises(ValueError, match="unknown issue code") as caught:
        Issue(code, tab="Anggota", row=4)
    message = str(caught.value)
    assert repr(code) in message and "CATALOG" in message
    assert hint in message


def test_a_read_failure_with_an_unknown_code_fails_where_it_is_raised():
    with pytest.raises(ValueError, match="'workbook-gone'"):
        ReadFailure("workbook-gone", detail="x")
    assert ReadFailure("workbook-missing").code == "workbook-missing"


def test_require_code_returns_a_known_code():
    assert require_code("tab-missing") == "tab-missing"


def test_an_issue_at_another_row_is_the_same_issue_there():
    issue = Issue(
        "nik-length", tab="Anggota", row=4, column="NIK", value="317301", personal=True,
        expected="16 digit", detail="6", severity_override=Severity.PERINGATAN, key="k1",
    )  # fmt: skip
    moved = issue.at_row(9)
    assert moved == Issue(**{**issue.__dict__, "row": 9})
    assert (moved.row, issue.row) == (9, 4)  # the original is left as it was
    assert hash(moved) == hash(Issue(**{**issue.__dict__, "row": 9}))
