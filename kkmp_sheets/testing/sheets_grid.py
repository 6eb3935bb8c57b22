"""``batchUpdate`` requests on the grid: inserting, deleting and sizing rows and columns,
dimension groups, merges, sorting, copy/cut and paste. Registered into
``sheets_requests.HANDLERS`` on import."""

from __future__ import annotations

import copy
import functools
from typing import Any

from .api_errors import invalid, unimplemented
from .cells import Cell, Content, FormulaErr, formatted
from .fake_sheets import Evaluator, Sheet, insert_rows
from .fieldmask import apply_update
from .sheets_requests import Batch, _fields, handles

# ------------------------------------------------------------------ dimensions


def _shift(sheet: Sheet, dimension: str, at: int, count: int) -> None:
    """Insert (count > 0) or delete (count < 0) ``abs(count)`` rows/columns at ``at``."""
    axis = 0 if dimension == "ROWS" else 1
    if count > 0 and axis == 0:
        insert_rows(sheet, at, count)
        return
    moved: dict[tuple[int, int], Cell] = {}
    for key, cell in sheet.cells.items():
        pos = key[axis]
        if count < 0 and at <= pos < at - count:
            continue
        new_pos = pos + count if pos >= at else pos
        moved[(new_pos, key[1]) if axis == 0 else (key[0], new_pos)] = cell
    sheet.cells = moved
    merges = []
    for m in sheet.merges:
        lo, hi = (m[0], m[1]) if axis == 0 else (m[2], m[3])
        if count < 0 and lo < at - count and hi > at:
            continue
        if lo >= at:
            lo, hi = lo + count, hi + count
        elif hi > at and count > 0:
            hi += count  # inserted inside the merge: it grows
        merges.append((lo, hi, m[2], m[3]) if axis == 0 else (m[0], m[1], lo, hi))
    sheet.merges = merges
    meta = sheet.dim_meta[dimension]
    sheet.dim_meta[dimension] = {
        (i + count if i >= at else i): v
        for i, v in meta.items()
        if not (count < 0 and at <= i < at - count)
    }
    size_key = "rowCount" if axis == 0 else "columnCount"
    sheet.props["gridProperties"][size_key] += count


@handles("insertDimension")
def insert_dimension(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    rng = body.get("range") or {}
    sheet = batch.sheet(rng.get("sheetId", 0))
    dimension = rng.get("dimension")
    size = sheet.rows if dimension == "ROWS" else sheet.cols
    start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", 0))
    if dimension not in ("ROWS", "COLUMNS") or start < 0 or end <= start or start > size:
        raise batch.fail("Invalid dimension range.")
    if body.get("inheritFromBefore") and start == 0:
        raise batch.fail("Cannot inherit from before when inserting at the start.")
    _shift(sheet, dimension, start, end - start)
    return {}


@handles("deleteDimension")
def delete_dimension(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet, dimension, start, end = batch.dimension(body.get("range"))
    size = sheet.rows if dimension == "ROWS" else sheet.cols
    if end - start >= size:
        noun = "rows" if dimension == "ROWS" else "columns"
        raise batch.fail(f"You can't delete all the {noun} on the sheet.")
    _shift(sheet, dimension, start, start - end)
    return {}


@handles("appendDimension")
def append_dimension(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet = batch.sheet(body.get("sheetId", 0))
    length = int(body.get("length", 0))
    if length < 1 or body.get("dimension") not in ("ROWS", "COLUMNS"):
        raise batch.fail("Invalid appendDimension: length must be positive.")
    key = "rowCount" if body["dimension"] == "ROWS" else "columnCount"
    sheet.props["gridProperties"][key] += length
    return {}


@handles("updateDimensionProperties")
def update_dimension_properties(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet, dimension, start, end = batch.dimension(body.get("range"))
    paths = _fields(batch, body)
    props = body.get("properties") or {}
    for i in range(start, end):
        meta = sheet.dim_meta[dimension].setdefault(i, {})
        apply_update(meta, props, paths)
        if not meta:
            del sheet.dim_meta[dimension][i]
    return {}


@handles("autoResizeDimensions")
def auto_resize_dimensions(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    if "dimensions" not in body:
        raise unimplemented("autoResizeDimensions on data source sheets")
    sheet, dimension, start, end = batch.dimension(body["dimensions"])
    ev = Evaluator(batch.ss)
    sizes: dict[int, int] = {}
    for (r, c), cell in sheet.cells.items():
        pos = r if dimension == "ROWS" else c
        if not (start <= pos < end) or not cell.has_content:
            continue
        text = formatted(cell, ev.value(sheet, r, c), batch.ss.locale)
        lines = text.split("\n")
        need = 21 * len(lines) if dimension == "ROWS" else 7 * max(len(x) for x in lines) + 12
        sizes[pos] = max(sizes.get(pos, 0), need)
    for pos, size in sizes.items():
        sheet.dim_meta[dimension].setdefault(pos, {})["pixelSize"] = size
    return {}


def _groups_json(sheet: Sheet, dimension: str) -> dict[str, Any]:
    groups = copy.deepcopy(sheet.groups[dimension])
    return {"dimensionGroups": groups} if groups else {}


@handles("addDimensionGroup")
def add_dimension_group(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet, dimension, start, end = batch.dimension(body.get("range"))
    groups = sheet.groups[dimension]
    depth = 1 + sum(
        1 for g in groups if g["range"]["startIndex"] <= start and end <= g["range"]["endIndex"]
    )
    rng: dict[str, Any] = {"dimension": dimension, "startIndex": start, "endIndex": end}
    if sheet.sheet_id:
        rng = {"sheetId": sheet.sheet_id} | rng
    groups.append({"range": rng, "depth": depth})
    groups.sort(key=lambda g: (g["depth"], g["range"]["startIndex"]))
    control = "rowGroupControlAfter" if dimension == "ROWS" else "columnGroupControlAfter"
    sheet.props["gridProperties"][control] = True
    return {"addDimensionGroup": _groups_json(sheet, dimension)}


@handles("deleteDimensionGroup")
def delete_dimension_group(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet, dimension, start, end = batch.dimension(body.get("range"))
    groups = sheet.groups[dimension]
    match = [
        g for g in groups if g["range"]["startIndex"] == start and g["range"]["endIndex"] == end
    ]
    if not match:
        raise batch.fail("No dimension group found in the given range.")
    deepest = max(match, key=lambda g: g["depth"])
    groups.remove(deepest)
    return {"deleteDimensionGroup": _groups_json(sheet, dimension)}


# ------------------------------------------------------------------ merges, sorting, copying


@handles("mergeCells")
def merge_cells(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet, r0, r1, c0, c1 = batch.grid(body.get("range"))
    kind = body.get("mergeType", "MERGE_ALL")
    if kind == "MERGE_ALL":
        pieces = [(r0, r1, c0, c1)]
    elif kind == "MERGE_COLUMNS":
        pieces = [(r0, r1, c, c + 1) for c in range(c0, c1)]
    elif kind == "MERGE_ROWS":
        pieces = [(r, r + 1, c0, c1) for r in range(r0, r1)]
    else:
        raise batch.fail(f"Invalid merge type: {kind}")
    kept = []
    for m in sheet.merges:
        inside = r0 <= m[0] and m[1] <= r1 and c0 <= m[2] and m[3] <= c1
        overlaps = m[0] < r1 and r0 < m[1] and m[2] < c1 and c0 < m[3]
        if overlaps and not inside:
            raise batch.fail("You can't merge cells that partially overlap another merge.")
        if not inside:
            kept.append(m)
    for p in pieces:
        if (p[1] - p[0]) * (p[3] - p[2]) < 2:
            continue
        kept.append(p)
        for (r, c), cell in list(sheet.cells.items()):
            if (
                p[0] <= r < p[1]
                and p[2] <= c < p[3]
                and (r, c) != (p[0], p[2])
                and cell.has_content
            ):
                sheet.put(r, c, cell.with_content(Content()))
    sheet.merges = kept
    return {}


@handles("unmergeCells")
def unmerge_cells(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet, r0, r1, c0, c1 = batch.grid(body.get("range"))
    sheet.merges = [
        m for m in sheet.merges if not (m[0] < r1 and r0 < m[1] and m[2] < c1 and c0 < m[3])
    ]
    return {}


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None or value == "":
        return (4, 0)
    if isinstance(value, FormulaErr):
        return (3, value.code)
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value).casefold())


@handles("sortRange")
def sort_range(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    sheet, r0, r1, c0, c1 = batch.grid(body.get("range"))
    specs = body.get("sortSpecs") or []
    ev = Evaluator(batch.ss)
    rows = [
        ({c: sheet.cells[(r, c)] for c in range(c0, c1) if (r, c) in sheet.cells}, r)
        for r in range(r0, r1)
    ]

    def compare(a: tuple[dict[int, Cell], int], b: tuple[dict[int, Cell], int]) -> int:
        for spec in specs:
            col = int(spec.get("dimensionIndex", 0))
            ka = _sort_key(ev.value(sheet, a[1], col))
            kb = _sort_key(ev.value(sheet, b[1], col))
            if ka == kb:
                continue
            if 4 in (ka[0], kb[0]):
                return -1 if kb[0] == 4 else 1
            result = -1 if ka < kb else 1
            return -result if spec.get("sortOrder") == "DESCENDING" else result
        return 0

    ordered = sorted(rows, key=functools.cmp_to_key(compare))
    for r, c in [k for k in sheet.cells if r0 <= k[0] < r1 and c0 <= k[1] < c1]:
        del sheet.cells[(r, c)]
    for i, (cells, _) in enumerate(ordered):
        for c, cell in cells.items():
            sheet.cells[(r0 + i, c)] = cell
    return {}


def _paste(cell: Cell | None, target: Cell, paste_type: str, effective: Any) -> Cell:
    source = cell or Cell()
    if paste_type == "PASTE_NORMAL":
        return source
    if paste_type == "PASTE_VALUES":
        value = None if isinstance(effective, FormulaErr) else effective
        return Cell(
            value, None, source.display, source.kind, target.note, target.fmt, target.validation
        )
    if paste_type == "PASTE_FORMULA":
        return target.with_content(
            Content(source.value, source.formula, source.display, source.kind)
        )
    if paste_type == "PASTE_FORMAT":
        return Cell(
            target.value,
            target.formula,
            target.display,
            target.kind,
            target.note,
            source.fmt,
            target.validation,
        )
    if paste_type == "PASTE_DATA_VALIDATION":
        return Cell(
            target.value,
            target.formula,
            target.display,
            target.kind,
            target.note,
            target.fmt,
            source.validation,
        )
    if paste_type == "PASTE_NO_BORDERS":
        fmt = {k: v for k, v in (source.fmt or {}).items() if k != "borders"} or None
        return Cell(
            source.value,
            source.formula,
            source.display,
            source.kind,
            source.note,
            fmt,
            source.validation,
        )
    raise invalid(f"Unsupported paste type: {paste_type}")


@handles("copyPaste")
def copy_paste(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    src, sr0, sr1, sc0, sc1 = batch.grid(body.get("source"))
    dst, dr0, dr1, dc0, dc1 = batch.grid(body.get("destination"))
    paste_type = body.get("pasteType", "PASTE_NORMAL")
    transpose = body.get("pasteOrientation") == "TRANSPOSE"
    ev = Evaluator(batch.ss)
    hs, ws = sr1 - sr0, sc1 - sc0
    h, w = (ws, hs) if transpose else (hs, ws)
    rows = dr1 - dr0 if (dr1 - dr0) % h == 0 else h
    cols = dc1 - dc0 if (dc1 - dc0) % w == 0 else w
    if dr0 + rows > dst.rows or dc0 + cols > dst.cols:
        raise batch.fail("The paste would exceed the grid limits of the destination sheet.")
    snapshot = {
        (r, c): (src.cells.get((r, c)), ev.value(src, r, c))
        for r in range(sr0, sr1)
        for c in range(sc0, sc1)
    }
    for i in range(rows):
        for j in range(cols):
            a, b = (j % hs, i % ws) if transpose else (i % hs, j % ws)
            cell, effective = snapshot[(sr0 + a, sc0 + b)]
            dst.put(
                dr0 + i, dc0 + j, _paste(cell, dst.get(dr0 + i, dc0 + j), paste_type, effective)
            )
    return {}


@handles("cutPaste")
def cut_paste(batch: Batch, body: dict[str, Any]) -> dict[str, Any]:
    src, sr0, sr1, sc0, sc1 = batch.grid(body.get("source"))
    dest = body.get("destination") or {}
    dst = batch.sheet(dest.get("sheetId", 0))
    dr0, dc0 = int(dest.get("rowIndex", 0)), int(dest.get("columnIndex", 0))
    if dr0 + (sr1 - sr0) > dst.rows or dc0 + (sc1 - sc0) > dst.cols:
        raise batch.fail("The paste would exceed the grid limits of the destination sheet.")
    paste_type = body.get("pasteType", "PASTE_NORMAL")
    ev = Evaluator(batch.ss)
    moved = {
        (r - sr0, c - sc0): (cell, ev.value(src, r, c))
        for (r, c), cell in list(src.cells.items())
        if sr0 <= r < sr1 and sc0 <= c < sc1
    }
    for r in range(sr0, sr1):
        for c in range(sc0, sc1):
            src.cells.pop((r, c), None)
    for (i, j), (cell, effective) in moved.items():
        dst.put(dr0 + i, dc0 + j, _paste(cell, dst.get(dr0 + i, dc0 + j), paste_type, effective))
    return {}
