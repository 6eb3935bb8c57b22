"""The status workbook's native charts, drawn from the cells of one sheet."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from kkmp_sheets.core.tables import Chart, ChartKind, Sheet
from kkmp_sheets.outputs.style import DATES, NUMERIC
from kkmp_sheets.outputs.xlsx_cells import NUM_FORMATS, clean

log = logging.getLogger(__name__)


@dataclass
class Placed:
    """Where a `Sheet` landed, so charts can point at its cells."""

    worksheet: Any
    name: str
    sheet: Sheet
    header_row: int


def add_chart(workbook: Any, spec: Chart, placed: dict[str, Placed]) -> None:
    """A native chart over the data sheet's rows; skipped (not an error) when it cannot be drawn."""
    data, target = placed.get(spec.data_sheet), placed.get(spec.place_on)
    if data is None or target is None:
        log.warning(
            "Chart %r skipped: sheet %r or %r is not in the book",
            spec.title,
            spec.data_sheet,
            spec.place_on,
        )
        return
    if not data.sheet.rows:
        log.info("Chart %r skipped: sheet %r has no rows", spec.title, spec.data_sheet)
        return
    names = [col.name for col in data.sheet.columns]
    missing = [name for name in (spec.category_col, *spec.series_cols) if name not in names]
    if missing or not spec.series_cols:
        log.warning(
            "Chart %r skipped: sheet %r lacks column(s) %s (or no series named)",
            spec.title,
            spec.data_sheet,
            ", ".join(missing),
        )
        return

    chart = workbook.add_chart(
        {"type": "column", "subtype": "stacked"}
        if spec.kind == ChartKind.STACKED_COLUMN
        else {"type": "line"}
    )
    first, last = data.header_row + 1, data.header_row + len(data.sheet.rows)
    category = names.index(spec.category_col)
    for number, series_col in enumerate(spec.series_cols):
        column = names.index(series_col)
        series: dict[str, Any] = {
            "name": [data.name, data.header_row, column],
            "categories": [data.name, first, category, last, category],
            "values": [data.name, first, column, last, column],
        }
        if number < len(spec.colors):
            series.update(_series_style(spec.kind, spec.colors[number]))
        chart.add_series(series)

    chart.set_title({"name": clean(spec.title), "name_font": {"size": 12}})
    chart.set_legend({"position": "bottom"})
    chart.set_y_axis(_value_axis(data.sheet, spec.series_cols[0]))
    if data.sheet.columns[category].fmt in DATES:
        chart.set_x_axis({"date_axis": True, "num_format": "[$-421]d mmm"})
        _days_as_base_unit(chart)
    # Wide enough that every kecamatan/day keeps a readable slot.
    chart.set_size({"width": min(max(480, 40 * len(data.sheet.rows)), 1200), "height": 320})
    target.worksheet.insert_chart(spec.anchor, chart)


def _series_style(kind: ChartKind, color: str) -> dict[str, Any]:
    if kind == ChartKind.LINE:
        # A marker on every point: on the first day a line has one point and no segment, so
        # without a marker the chart would look empty.
        marker = {"type": "circle", "size": 6, "fill": {"color": color}, "border": {"color": color}}
        return {"line": {"color": color, "width": 2.25}, "marker": marker}
    return {"fill": {"color": color}, "border": {"color": "#FFFFFF"}}


def _days_as_base_unit(chart: Any) -> None:
    """Give the date axis a base unit of days (`<c:baseTimeUnit val="days"/>`).

    xlsxwriter writes a date axis without a base unit, which leaves it to the reader to infer
    from the spacing of the dates. With a single day there is no spacing: LibreOffice then
    picks months and labels the axis with the start of the month, so 29 January 2026 read
    "1 Jan". The element follows `c:lblOffset` in a `c:dateAx` (ECMA-376 §21.2.2.39); the
    value axis has no `c:lblOffset`, so only the date axis gets it.
    """
    write_label_offset = chart._write_label_offset

    def with_base_unit(value: Any) -> None:
        write_label_offset(value)
        chart._xml_empty_tag("c:baseTimeUnit", [("val", "days")])

    chart._write_label_offset = with_base_unit


def _value_axis(sheet: Sheet, series_col: str) -> dict[str, Any]:
    """Axis numbers shown like the first series' cells (Rp, %, thousands)."""
    axis: dict[str, Any] = {"major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}}
    fmt = next((col.fmt for col in sheet.columns if col.name == series_col), None)
    if fmt in NUMERIC:
        axis["num_format"] = NUM_FORMATS[fmt]
    return axis
