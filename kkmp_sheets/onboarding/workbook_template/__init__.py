"""The cooperative workbook template that `kkmp-sheets provision` hands to a cooperative.

`design.py` decides once how every tab and column is presented (see its docstring); two
writers render that design: `xlsx.py` (an .xlsx file) and `sheets.py` (one Sheets
`batchUpdate`). The names below are the ones the rest of the service uses.
"""

from __future__ import annotations

from kkmp_sheets.onboarding.workbook_template.design import (
    DATA_ROWS,
    DATE_FORMAT,
    EXAMPLES,
    EXCEL_MONEY,
    EXTRA_COLUMNS,
    GENERAL_RULES,
    GUIDE_BG,
    GUIDE_TAB,
    GUIDE_WIDTHS,
    HINTS,
    PROFIL_WIDTHS,
    SHEETS_MONEY,
    TAB_PURPOSE,
    TEXT_KINDS,
    Design,
    Look,
    ProfilRow,
    Rule,
    TabDesign,
    TableData,
    cell_value,
    design,
    example_rows,
    guide_rows,
    look,
    profil_values,
)
from kkmp_sheets.onboarding.workbook_template.sheets import (
    SHEET_IDS,
    profil_fill_requests,
    sheets_requests,
)
from kkmp_sheets.onboarding.workbook_template.xlsx import write_xlsx

__all__ = [
    "DATA_ROWS",
    "DATE_FORMAT",
    "EXAMPLES",
    "EXCEL_MONEY",
    "EXTRA_COLUMNS",
    "GENERAL_RULES",
    "GUIDE_BG",
    "GUIDE_TAB",
    "GUIDE_WIDTHS",
    "HINTS",
    "PROFIL_WIDTHS",
    "SHEETS_MONEY",
    "SHEET_IDS",
    "TAB_PURPOSE",
    "TEXT_KINDS",
    "Design",
    "Look",
    "ProfilRow",
    "Rule",
    "TabDesign",
    "TableData",
    "cell_value",
    "design",
    "example_rows",
    "guide_rows",
    "look",
    "profil_fill_requests",
    "profil_values",
    "sheets_requests",
    "write_xlsx",
]
