"""Sheets API v4 endpoints of the fake (``/v4/spreadsheets...``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from . import sheets_grid, sheets_objects  # noqa: F401  (register their request handlers)
from .api_errors import (
    ApiError,
    bad_field,
    invalid,
    not_found,
    not_supported_document,
    permission_denied,
    unimplemented,
)
from .calls import Call, Response, json_response
from .fake_drive import SHEET_MIME
from .fake_sheets import (
    Sheet,
    Spreadsheet,
    append_values,
    clear_values,
    read_values,
    write_values,
)
from .fieldmask import Mask, apply_mask, mask_mentions, parse_mask
from .sheets_json import sheet_properties_json, spreadsheet_json
from .sheets_requests import Batch, apply_batch

_ENUMS = {
    "majorDimension": (
        "major_dimension",
        "Dimension",
        ("ROWS", "COLUMNS", "DIMENSION_UNSPECIFIED"),
    ),
    "valueRenderOption": (
        "value_render_option",
        "ValueRenderOption",
        ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"),
    ),
    "responseValueRenderOption": (
        "response_value_render_option",
        "ValueRenderOption",
        ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"),
    ),
    "dateTimeRenderOption": (
        "date_time_render_option",
        "DateTimeRenderOption",
        ("SERIAL_NUMBER", "FORMATTED_STRING"),
    ),
    "responseDateTimeRenderOption": (
        "response_date_time_render_option",
        "DateTimeRenderOption",
        ("SERIAL_NUMBER", "FORMATTED_STRING"),
    ),
    "valueInputOption": ("value_input_option", "ValueInputOption", ("RAW", "USER_ENTERED")),
    "insertDataOption": ("insert_data_option", "InsertDataOption", ("OVERWRITE", "INSERT_ROWS")),
}


def _enum(value: Any, name: str, default: str) -> str:
    if value in (None, ""):
        return default
    field, proto, allowed = _ENUMS[name]
    if value not in allowed:
        raise invalid(
            f"Invalid value at '{field}' (type.googleapis.com/google.apps.sheets.v4.{proto}), "
            f'"{value}"'
        )
    return "ROWS" if value == "DIMENSION_UNSPECIFIED" else str(value)


def _option(call: Call, name: str, default: str) -> str:
    return _enum(call.param(name), name, default)


def _open(call: Call, need: str = "reader") -> Spreadsheet:
    """The spreadsheet in the path, with Google's answers for absent, private and non-native."""
    sid = call.groups[0]
    app = call.app
    f = app.drive.files.get(sid)
    if f is None:
        raise not_found()
    if not app.drive.can(call.identity, f):
        raise permission_denied()
    if f.mime_type != SHEET_MIME:
        raise not_supported_document()
    if need != "reader" and not app.drive.can(call.identity, f, need):
        raise permission_denied()
    return app.sheets[sid]


def _values(body: dict[str, Any]) -> Any:
    values = body.get("values")
    return [] if values is None else values


def _commit(call: Call, work: Spreadsheet) -> None:
    call.app.sheets[work.id] = work
    f = call.app.drive.files[work.id]
    call.app.touch(f, call.identity)
    f.name = work.title


SPREADSHEET_FIELDS = frozenset(
    {
        "spreadsheetId",
        "properties",
        "sheets",
        "namedRanges",
        "spreadsheetUrl",
        "developerMetadata",
        "dataSources",
        "dataSourceSchedules",
    }
)


def _mask(call: Call) -> Mask | None:
    """The ``fields`` mask of a spreadsheet response; unknown top-level fields are a 400."""
    fields = call.param("fields")
    if not fields:
        return None
    try:
        mask = parse_mask(fields)
    except ValueError:
        raise invalid(f"Invalid field mask: {fields}") from None
    for name in mask:
        if name != "*" and name not in SPREADSHEET_FIELDS:
            raise invalid(f"Cannot find matching fields for path '{name}'.")
    return mask


def _masked(call: Call, obj: dict[str, Any]) -> Response:
    mask = _mask(call)
    return json_response(apply_mask(obj, mask) if mask else obj)


def get_spreadsheet(call: Call) -> Response:
    ss = _open(call)
    mask = _mask(call)
    grid = call.flag("includeGridData") or bool(mask and mask_mentions(mask, "sheets", "data"))
    ranges = call.params("ranges")
    obj = spreadsheet_json(ss, grid=grid, ranges=ranges)
    return json_response(apply_mask(obj, mask) if mask else obj)


def create_spreadsheet(call: Call) -> Response:
    body = call.json()
    props = body.get("properties") or {}
    sheets = body.get("sheets") or []
    if any(given.get("data") for given in sheets):
        raise unimplemented("spreadsheets.create with grid data")
    titles = [(given.get("properties") or {}).get("title") for given in sheets]
    duplicate = next((t for t in titles if t and titles.count(t) > 1), None)
    if duplicate:
        raise invalid(
            f'A sheet with the name "{duplicate}" already exists. Please enter another name.'
        )
    app = call.app
    _, ss = app.add_spreadsheet_file(
        props.get("title") or "Untitled spreadsheet",
        call.identity,
        locale=props.get("locale") or "en_US",
        time_zone=props.get("timeZone") or "Etc/GMT",
    )
    if sheets:
        created: list[Sheet] = []
        for i, given in enumerate(sheets):
            sp = given.get("properties") or {}
            grid = sp.get("gridProperties") or {}
            taken = {s.sheet_id for s in created}
            sheet = Sheet.new(
                int(sp.get("sheetId", 0 if i == 0 else app.new_sheet_id(taken))),
                sp.get("title") or f"Sheet{i + 1}",
                int(grid.get("rowCount", 1000)),
                int(grid.get("columnCount", 26)),
            )
            if sp.get("hidden"):
                sheet.props["hidden"] = True
            created.append(sheet)
        ss.sheets = created
        ss.reindex()
    return _masked(call, spreadsheet_json(ss))


def batch_update(call: Call) -> Response:
    ss = _open(call, "writer")
    body = call.json()
    work = ss.clone()
    batch = Batch(work, call.identity, call.app.rng)
    replies = apply_batch(batch, body.get("requests"))
    _commit(call, work)
    out: dict[str, Any] = {"spreadsheetId": ss.id, "replies": replies}
    if body.get("includeSpreadsheetInResponse"):
        out["updatedSpreadsheet"] = spreadsheet_json(
            work, grid=bool(body.get("responseIncludeGridData")), ranges=body.get("responseRanges")
        )
    return json_response(out)


def get_values(call: Call) -> Response:
    ss = _open(call)
    text = unquote(call.groups[1])
    return json_response(
        read_values(
            ss,
            text,
            _option(call, "majorDimension", "ROWS"),
            _option(call, "valueRenderOption", "FORMATTED_VALUE"),
            _option(call, "dateTimeRenderOption", "SERIAL_NUMBER"),
        )
    )


def batch_get_values(call: Call) -> Response:
    ss = _open(call)
    major = _option(call, "majorDimension", "ROWS")
    render = _option(call, "valueRenderOption", "FORMATTED_VALUE")
    dates = _option(call, "dateTimeRenderOption", "SERIAL_NUMBER")
    ranges = call.params("ranges")
    out: dict[str, Any] = {"spreadsheetId": ss.id}
    if ranges:
        out["valueRanges"] = [read_values(ss, text, major, render, dates) for text in ranges]
    return json_response(out)


def _updated_data(
    call: Call, work: Spreadsheet, response: dict[str, Any], major: str, options: dict[str, Any]
) -> None:
    render = _enum(
        options.get("responseValueRenderOption"), "responseValueRenderOption", "FORMATTED_VALUE"
    )
    dates = _enum(
        options.get("responseDateTimeRenderOption"), "responseDateTimeRenderOption", "SERIAL_NUMBER"
    )
    response["updatedData"] = read_values(work, response["updatedRange"], major, render, dates)


def update_values(call: Call) -> Response:
    ss = _open(call, "writer")
    text = unquote(call.groups[1])
    body = call.json()
    major = _enum(body.get("majorDimension"), "majorDimension", "ROWS")
    option = _option(call, "valueInputOption", "")
    work = ss.clone()
    response, _, _ = write_values(work, text, _values(body), major, option)
    if call.flag("includeValuesInResponse"):
        _updated_data(call, work, response, major, {k: call.param(k) for k in _ENUMS})
    _commit(call, work)
    return json_response(response)


def batch_update_values(call: Call) -> Response:
    ss = _open(call, "writer")
    body = call.json()
    option = _enum(body.get("valueInputOption"), "valueInputOption", "")
    work = ss.clone()
    responses = []
    rows: set[tuple[int, int]] = set()
    cols: set[tuple[int, int]] = set()
    cells = 0
    for i, value_range in enumerate(body.get("data") or []):
        if not isinstance(value_range, dict):
            raise bad_field(f"data[{i}]", value_range, "google.apps.sheets.v4.ValueRange")
        major = _enum(value_range.get("majorDimension"), "majorDimension", "ROWS")
        response, sheet, stats = write_values(
            work,
            str(value_range.get("range", "")),
            _values(value_range),
            major,
            option,
            where=f"data[{i}]",
        )
        if body.get("includeValuesInResponse"):
            _updated_data(call, work, response, major, body)
        responses.append(response)
        rows |= {(sheet.sheet_id, r) for r in stats[0]}
        cols |= {(sheet.sheet_id, c) for c in stats[1]}
        cells += stats[2]
    out: dict[str, Any] = {"spreadsheetId": ss.id}
    totals = (
        ("totalUpdatedRows", len(rows)),
        ("totalUpdatedColumns", len(cols)),
        ("totalUpdatedCells", cells),
        ("totalUpdatedSheets", len({s for s, _ in rows})),
    )
    out |= {k: v for k, v in totals if v}
    if responses:
        out["responses"] = responses
        _commit(call, work)
    return json_response(out)


def append(call: Call) -> Response:
    ss = _open(call, "writer")
    text = unquote(call.groups[1])
    body = call.json()
    major = _enum(body.get("majorDimension"), "majorDimension", "ROWS")
    work = ss.clone()
    response = append_values(
        work,
        text,
        _values(body),
        major,
        _option(call, "valueInputOption", ""),
        _option(call, "insertDataOption", "OVERWRITE"),
    )
    if call.flag("includeValuesInResponse"):
        _updated_data(call, work, response["updates"], major, {k: call.param(k) for k in _ENUMS})
    _commit(call, work)
    return json_response(response)


def clear(call: Call) -> Response:
    ss = _open(call, "writer")
    work = ss.clone()
    cleared = clear_values(work, unquote(call.groups[1]))
    _commit(call, work)
    return json_response({"spreadsheetId": ss.id, "clearedRange": cleared})


def batch_clear(call: Call) -> Response:
    ss = _open(call, "writer")
    body = call.json()
    work = ss.clone()
    cleared = [
        clear_values(work, str(text), prefix=f"Invalid ranges[{i}]: ")
        for i, text in enumerate(body.get("ranges") or [])
    ]
    out: dict[str, Any] = {"spreadsheetId": ss.id}
    if cleared:
        out["clearedRanges"] = cleared
        _commit(call, work)
    return json_response(out)


def copy_to(call: Call) -> Response:
    source = _open(call)
    sheet = source.sheet_by_id(int(call.groups[1]))
    if sheet is None:
        raise ApiError(404, f"No grid with id: {call.groups[1]}")
    body = call.json()
    target_id = str(body.get("destinationSpreadsheetId") or "")
    target_call = Call(
        call.app, call.method, call.query, call.headers, b"", call.identity, (target_id,)
    )
    target = _open(target_call, "writer")
    work = target.clone()
    dup = sheet.clone()
    dup.props["sheetId"] = call.app.new_sheet_id({s.sheet_id for s in work.sheets})
    title, n = f"Copy of {sheet.title}", 2
    while work.sheet_by_title(title):
        title, n = f"Copy of {sheet.title} {n}", n + 1
    dup.props["title"] = title
    dup.protected = []
    work.sheets.append(dup)
    work.reindex()
    _commit(target_call, work)
    return json_response(sheet_properties_json(dup))


_ID = r"([^/:]+)"
ROUTES = [
    ("GET", rf"^/v4/spreadsheets/{_ID}$", "sheets.spreadsheets.get", get_spreadsheet),
    ("POST", r"^/v4/spreadsheets/?$", "sheets.spreadsheets.create", create_spreadsheet),
    (
        "POST",
        rf"^/v4/spreadsheets/{_ID}:batchUpdate$",
        "sheets.spreadsheets.batchUpdate",
        batch_update,
    ),
    (
        "GET",
        rf"^/v4/spreadsheets/{_ID}/values:batchGet$",
        "sheets.values.batchGet",
        batch_get_values,
    ),
    (
        "POST",
        rf"^/v4/spreadsheets/{_ID}/values:batchUpdate$",
        "sheets.values.batchUpdate",
        batch_update_values,
    ),
    (
        "POST",
        rf"^/v4/spreadsheets/{_ID}/values:batchClear$",
        "sheets.values.batchClear",
        batch_clear,
    ),
    ("POST", rf"^/v4/spreadsheets/{_ID}/values/(.+):append$", "sheets.values.append", append),
    ("POST", rf"^/v4/spreadsheets/{_ID}/values/(.+):clear$", "sheets.values.clear", clear),
    ("GET", rf"^/v4/spreadsheets/{_ID}/values/(.+)$", "sheets.values.get", get_values),
    ("PUT", rf"^/v4/spreadsheets/{_ID}/values/(.+)$", "sheets.values.update", update_values),
    ("POST", rf"^/v4/spreadsheets/{_ID}/sheets/(\d+):copyTo$", "sheets.sheets.copyTo", copy_to),
]
