"""``batchUpdate`` requests on the objects that sit on top of cells: named and protected ranges,
the basic filter, conditional formats, charts, and find/replace. Registered into
``sheets_requests.HANDLERS`` on import."""

from __future__ import annotations

import copy
import re
from typing import Any

from .cells import Cell, Content
from .fieldmask import apply_update
from .sheets_requests import Batch, _drop_nulls, _fields, handles, normalize_format

_NAME = re.compile(r"^[A-Za-z_\\][A-Za-z0-9_.]*$")
_CELL_LIKE = re.compile(r"^[A-Za-z]{1,3}[0-9]+$|^[Rr][0-9]*[Cc][0-9]*$")


def _stored_range(batch: Batch, gr: Any) -> dict[str, Any]:
    """Validate a GridRange and return it as Google stores it (given bounds only)."""
    gr = gr or {}
    sheet, *_ = batch.grid(gr)
    return sheet.gr(
        gr.get("startRowIndex"),
        gr.get("endRowIndex"),
        gr.get("startColumnIndex"),
        gr.get("endColumnIndex"),
    )


# ------------------------------------------------------------------ named ranges


def _check_name(batch: Batch, name: Any, own: dict[str, Any] | None = None) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or _CELL_LIKE.match(name):
        raise batch.fail(f"Invalid name: {name}")
    other = batch.ss.named_range(name)
    if other is not None and other is not own:
        raise batch.fail(f"A named range with the name {name} already exists.")
    return name


def _find_named(batch: Batch, named_range_id: Any) -> dict[str, Any]:
    found = next(
        (n for n in batch.ss.named_ranges if n["namedRangeId"] == str(named_range_id)), None
    )
    if found is None:
        raise batch.fail(f"No named range with id {named_range_id}")
    return found


@handles("addNamedRange")
def add_named_range(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    given = body.get("namedRange") or {}
    name = _check_name(batch, given.get("name"))
    rid = str(given.get("namedRangeId") or batch.rng.randrange(10**8, 2**31 - 1))
    if any(n["namedRangeId"] == rid for n in batch.ss.named_ranges):
        raise batch.fail(f"A named range with id {rid} already exists.")
    stored = {"namedRangeId": rid, "name": name, "range": _stored_range(batch, given.get("range"))}
    batch.ss.named_ranges.append(stored)
    return {"addNamedRange": {"namedRange": copy.deepcopy(stored)}}


@handles("deleteNamedRange")
def delete_named_range(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    batch.ss.named_ranges.remove(_find_named(batch, body.get("namedRangeId")))
    return {}


@handles("updateNamedRange")
def update_named_range(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    given = body.get("namedRange") or {}
    stored = _find_named(batch, given.get("namedRangeId"))
    paths = _fields(batch, body)
    new = copy.deepcopy(stored)
    apply_update(new, given, paths)
    new["namedRangeId"] = stored["namedRangeId"]
    new["name"] = _check_name(batch, new.get("name"), own=stored)
    new["range"] = _stored_range(batch, new.get("range"))
    stored.clear()
    stored.update(new)
    return {}


# ------------------------------------------------------------------ protected ranges


def _editors(batch: Batch, given: Any, *, stored: bool) -> dict[str, Any]:
    given = given or {}
    users = [u for u in given.get("users") or [] if u]
    if stored and batch.identity not in users:
        users.insert(0, batch.identity)
    out: dict[str, Any] = {}
    if users:
        out["users"] = users
    for key in ("groups", "domainUsersCanEdit"):
        if given.get(key):
            out[key] = copy.deepcopy(given[key])
    return out


def _protected(batch: Batch, given: dict[str, Any], pid: int, *, stored: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"protectedRangeId": pid}
    if given.get("namedRangeId"):
        named = _find_named(batch, given["namedRangeId"])
        out["namedRangeId"] = named["namedRangeId"]
        out["range"] = copy.deepcopy(named["range"])
    else:
        out["range"] = _stored_range(batch, given.get("range"))
    if given.get("description"):
        out["description"] = given["description"]
    if given.get("warningOnly"):
        out["warningOnly"] = True
    if given.get("unprotectedRanges"):
        out["unprotectedRanges"] = [_stored_range(batch, r) for r in given["unprotectedRanges"]]
    out["requestingUserCanEdit"] = True
    out["editors"] = _editors(batch, given.get("editors"), stored=stored)
    return out


def _find_protected(batch: Batch, pid: Any) -> tuple[Any, dict[str, Any]]:
    for sheet in batch.ss.sheets:
        for item in sheet.protected:
            if item["protectedRangeId"] == int(pid or 0):
                return sheet, item
    raise batch.fail(f"No protected range with id: {pid}")


@handles("addProtectedRange")
def add_protected_range(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    given = body.get("protectedRange") or {}
    if given.get("warningOnly") and (given.get("editors") or {}).get("users"):
        raise batch.fail("Editors cannot be set on a protected range that only shows a warning.")
    taken = {p["protectedRangeId"] for s in batch.ss.sheets for p in s.protected}
    pid = int(given.get("protectedRangeId") or batch.new_id(taken))
    stored = _protected(batch, given, pid, stored=True)
    sheet = batch.sheet(stored["range"].get("sheetId", 0))
    sheet.protected.append(stored)
    return {"addProtectedRange": {"protectedRange": _protected(batch, given, pid, stored=False)}}


@handles("updateProtectedRange")
def update_protected_range(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    given = body.get("protectedRange") or {}
    sheet, stored = _find_protected(batch, given.get("protectedRangeId"))
    new = copy.deepcopy(stored)
    apply_update(new, given, _fields(batch, body))
    new = _protected(batch, new, stored["protectedRangeId"], stored=True)
    sheet.protected[sheet.protected.index(stored)] = new
    return {}


@handles("deleteProtectedRange")
def delete_protected_range(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet, stored = _find_protected(batch, body.get("protectedRangeId"))
    sheet.protected.remove(stored)
    return {}


# ------------------------------------------------------------------ filters, rules, charts


@handles("setBasicFilter")
def set_basic_filter(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    given = _drop_nulls(body.get("filter") or {})
    sheet, r0, r1, c0, c1 = batch.grid(given.get("range"))
    stored = dict(given)
    stored["range"] = sheet.gr(r0, r1, c0, c1)
    sheet.basic_filter = stored
    return {}


@handles("clearBasicFilter")
def clear_basic_filter(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    batch.sheet(body.get("sheetId", 0)).basic_filter = None
    return {}


def _rule(batch: Batch, rule: Any) -> tuple[Any, dict[str, Any]]:
    rule = _drop_nulls(rule or {})
    ranges = rule.get("ranges") or []
    if not ranges or ("booleanRule" in rule) == ("gradientRule" in rule):
        raise batch.fail(
            "A conditional format rule needs ranges and exactly one of booleanRule or gradientRule."
        )
    stored = [_stored_range(batch, r) for r in ranges]
    sheet_ids = {r.get("sheetId", 0) for r in stored}
    if len(sheet_ids) != 1:
        raise batch.fail("All ranges of a conditional format rule must be on the same sheet.")
    rule["ranges"] = stored
    if "booleanRule" in rule and "format" in rule["booleanRule"]:
        rule["booleanRule"]["format"] = normalize_format(rule["booleanRule"]["format"])
    return batch.sheet(sheet_ids.pop()), rule


@handles("addConditionalFormatRule")
def add_conditional_format_rule(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet, rule = _rule(batch, body.get("rule"))
    index = int(body.get("index", 0))
    if index < 0 or index > len(sheet.conditional):
        raise batch.fail(f"Invalid index {index} for a new conditional format rule.")
    sheet.conditional.insert(index, rule)
    return {}


@handles("updateConditionalFormatRule")
def update_conditional_format_rule(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet = batch.sheet(body.get("sheetId", 0))
    index = int(body.get("index", 0))
    if not 0 <= index < len(sheet.conditional):
        raise batch.fail(f"No conditional format on sheet {sheet.sheet_id} at index {index}")
    old = sheet.conditional[index]
    if "rule" in body:
        _, rule = _rule(batch, body["rule"])
        sheet.conditional[index] = rule
        return {"updateConditionalFormatRule": {"newRule": rule, "oldRule": old, "newIndex": index}}
    new_index = int(body.get("newIndex", index))
    sheet.conditional.insert(new_index, sheet.conditional.pop(index))
    return {
        "updateConditionalFormatRule": {"newRule": old, "newIndex": new_index, "oldIndex": index}
    }


@handles("deleteConditionalFormatRule")
def delete_conditional_format_rule(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet = batch.sheet(body.get("sheetId", 0))
    index = int(body.get("index", 0))
    if not 0 <= index < len(sheet.conditional):
        raise batch.fail(f"No conditional format on sheet {sheet.sheet_id} at index {index}")
    return {"deleteConditionalFormatRule": {"rule": sheet.conditional.pop(index)}}


def _check_sources(batch: Batch, node: Any) -> None:
    if isinstance(node, dict):
        for source in node.get("sources") or []:
            _stored_range(batch, source)
        for key, value in node.items():
            if key != "sources":
                _check_sources(batch, value)
    elif isinstance(node, list):
        for item in node:
            _check_sources(batch, item)


@handles("addChart")
def add_chart(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    chart = _drop_nulls(body.get("chart") or {})
    spec = chart.get("spec")
    if not spec:
        raise batch.fail("A chart needs a spec.")
    position = chart.get("position") or {}
    if position.get("newSheet"):
        from .api_errors import unimplemented

        raise unimplemented("addChart on a new sheet")
    anchor = (position.get("overlayPosition") or {}).get("anchorCell") or {}
    sheet = batch.sheet(anchor.get("sheetId", position.get("sheetId", 0)))
    _check_sources(batch, spec)
    taken = {c["chartId"] for s in batch.ss.sheets for c in s.charts}
    stored = {
        "chartId": int(chart.get("chartId") or batch.new_id(taken)),
        "spec": spec,
        "position": position or {"sheetId": sheet.sheet_id},
    }
    sheet.charts.append(stored)
    return {"addChart": {"chart": copy.deepcopy(stored)}}


@handles("deleteEmbeddedObject")
def delete_embedded_object(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    object_id = int(body.get("objectId", 0))
    for sheet in batch.ss.sheets:
        for chart in sheet.charts:
            if chart["chartId"] == object_id:
                sheet.charts.remove(chart)
                return {}
    raise batch.fail(f"No object with id: {object_id}")


@handles("findReplace")
def find_replace(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    find = body.get("find")
    if not find:
        raise batch.fail("find must not be empty.")
    replacement = str(body.get("replacement") or "")
    if body.get("searchByRegex"):
        pattern = re.compile(find, 0 if body.get("matchCase") else re.IGNORECASE)
    else:
        escaped = re.escape(find)
        pattern = re.compile(escaped, 0 if body.get("matchCase") else re.IGNORECASE)
        replacement = replacement.replace("\\", "\\\\")
    if body.get("range"):
        sheet, r0, r1, c0, c1 = batch.grid(body["range"])
        scopes = [(sheet, r0, r1, c0, c1)]
    elif body.get("allSheets"):
        scopes = [(s, 0, s.rows, 0, s.cols) for s in batch.ss.sheets]
    else:
        sheet = batch.sheet(body.get("sheetId", 0))
        scopes = [(sheet, 0, sheet.rows, 0, sheet.cols)]
    counts = {"valuesChanged": 0, "formulasChanged": 0, "occurrencesChanged": 0}
    rows, sheets = set(), set()
    for sheet, r0, r1, c0, c1 in scopes:
        for (r, c), cell in list(sheet.cells.items()):
            if not (r0 <= r < r1 and c0 <= c < c1):
                continue
            is_formula = cell.formula is not None
            if is_formula and not body.get("includeFormulas"):
                continue
            text = cell.formula if is_formula else cell.value
            if not isinstance(text, str):
                continue
            if body.get("matchEntireCell"):
                hits = 1 if pattern.fullmatch(text) else 0
                new = pattern.sub(replacement, text) if hits else text
            else:
                new, hits = pattern.subn(replacement, text)
            if not hits:
                continue
            content = Content(formula=new) if is_formula else Content(new or None)
            sheet.put(
                r,
                c,
                Cell(
                    content.value, content.formula, None, None, cell.note, cell.fmt, cell.validation
                ),
            )
            counts["formulasChanged" if is_formula else "valuesChanged"] += 1
            counts["occurrencesChanged"] += hits
            rows.add((sheet.sheet_id, r))
            sheets.add(sheet.sheet_id)
    counts["rowsChanged"] = len(rows)
    counts["sheetsChanged"] = len(sheets)
    return {"findReplace": {k: v for k, v in counts.items() if v}}
