"""Registering the tab in the package: workbook.xml, its relationships, the content types.

A new tab gets a free part name, a `<Relationship/>`, an `<Override/>` content type and a
`<sheet/>` as the last child of `<sheets>`, so that the `localSheetId` of defined names stay
valid. The tab's autofilter range name (`_xlnm._FilterDatabase`, which LibreOffice needs to show
the filter) is set or dropped. `_check_workbook_edit` re-reads the edited workbook.xml to prove
that nothing else in it changed.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from kkmp_sheets.core.a1 import column_letters
from kkmp_sheets.sources.xlsx_patch.ooxml import (
    _ATTRS,
    CT_WORKSHEET,
    NS_MAIN,
    NS_PKG_REL,
    NS_REL,
    RT_WORKSHEET,
    PatchError,
)
from kkmp_sheets.sources.xlsx_patch.package import _Changes, _Package, _relative_target
from kkmp_sheets.sources.xlsx_patch.xml_text import (
    _append_children,
    _append_element,
    _container,
    _decode_bytes,
    _element,
    _encode,
    _escape_text,
    _root_prefix_for,
)


@dataclass(frozen=True)
class _NewSheet:
    name: str
    sheet_id: int
    rel_id: str


def _plan_new_sheet(package: _Package, title: str, changes: _Changes) -> tuple[str, _NewSheet]:
    """The part name of a new tab, registered in the relationships and content types."""
    folder = posixpath.dirname(package.workbook_part)
    part = _free_part_name(package, changes, folder, "worksheets/sheet")
    rel_id = _add_relationship(package, changes, RT_WORKSHEET, part)
    _add_content_type(package, changes, part, CT_WORKSHEET)
    sheet_id = max((s.sheet_id for s in package.sheets), default=0) + 1
    return part, _NewSheet(title, sheet_id, rel_id)


def _free_part_name(package: _Package, changes: _Changes, folder: str, stem: str) -> str:
    """A part name that no zip entry and no content-type override uses (case-insensitively)."""
    taken = {name.lower() for name in changes.added}
    for number in range(1, len(package.infos) + len(taken) + 2):
        part = posixpath.join(folder, f"{stem}{number}.xml")
        lower = part.lower()
        if not package.has(part) and lower not in package.content_type_overrides | taken:
            return part
    raise AssertionError("unreachable: there are more names than entries")


def _add_relationship(package: _Package, changes: _Changes, rel_type: str, part: str) -> str:
    used = {rel.id for rel in package.workbook_rels} | changes.relationship_ids
    number = len(used) + 1
    while f"rId{number}" in used:
        number += 1
    rel_id = f"rId{number}"
    changes.relationship_ids.add(rel_id)
    target = _relative_target(package.workbook_part, part)
    rels_part = package.workbook_rels_part
    if package.has(rels_part):
        rels_part = package.info(rels_part).filename
        text = _decode(package, rels_part, changes)
    else:  # cannot really happen (the sheets need it) but costs nothing to handle
        text = f'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="{NS_PKG_REL}"/>'
    attributes = {"Id": rel_id, "Type": rel_type, "Target": target}
    text = _append_element(text, "Relationships", "Relationship", attributes, package, rels_part)
    _store(package, changes, rels_part, text)
    return rel_id


def _add_content_type(package: _Package, changes: _Changes, part: str, content_type: str) -> None:
    name = package.info("[Content_Types].xml").filename
    text = _decode(package, name, changes)
    attributes = {"PartName": "/" + part, "ContentType": content_type}
    text = _append_element(text, "Types", "Override", attributes, package, name)
    _store(package, changes, name, text)


def _insert_sheet_element(package: _Package, text: str, sheet: _NewSheet) -> str:
    """workbook.xml with one more `<sheet/>` as the last child of `<sheets>`, by text insertion."""
    rel_prefix = _root_prefix_for(_encode(text), NS_REL)
    attributes = {"name": sheet.name, "sheetId": str(sheet.sheet_id)}
    if rel_prefix is None:
        # Declared locally: the root does not bind the relationships namespace to a prefix.
        attributes["xmlns:r"] = NS_REL
        rel_prefix = "r"
    attributes[f"{rel_prefix}:id"] = sheet.rel_id
    return _append_element(text, "sheets", "sheet", attributes, package, package.workbook_part)


# Excel's name for the range an autofilter covers. LibreOffice only shows the filter buttons when
# this sheet-scoped name exists; Excel writes it too.
_FILTER_NAME = "_xlnm._FilterDatabase"
_PRINT_TITLES = "_xlnm.Print_Titles"  # the rows repeated at the top of every printed page
_OWN_NAMES = (_FILTER_NAME, _PRINT_TITLES)  # the names of the tab the package sets
_DEFINED_NAME = re.compile(
    r"<(?P<prefix>(?:[A-Za-z_][\w.\-]*:)?)definedName(?P<attrs>"
    + _ATTRS
    + r")(?:/>|>(?P<body>.*?)</(?P=prefix)definedName\s*>)",
    re.DOTALL,
)
_ATTRIBUTE = re.compile(r"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _set_filter_name(
    package: _Package,
    text: str,
    sheet_index: int,
    sheet_name: str,
    filter_range: tuple[int, int, int, int] | None,
) -> str:
    """workbook.xml with the tab's filter range name set to `filter_range` (dropped if None)."""
    value = None
    if filter_range is not None:
        top, left, bottom, right = filter_range
        first, last = f"${column_letters(left - 1)}${top}", f"${column_letters(right - 1)}${bottom}"
        quoted = "'" + sheet_name.replace("'", "''") + "'"
        value = _escape_text(f"{quoted}!{first}:{last}")
    return _set_defined_name(package, text, sheet_index, _FILTER_NAME, value, hidden=True)


def _set_print_titles(
    package: _Package, text: str, sheet_index: int, sheet_name: str, title_row: int | None
) -> str:
    """workbook.xml with the tab's print titles (row `title_row` repeated on every printed
    page) set, or dropped when None."""
    value = None
    if title_row is not None:
        quoted = "'" + sheet_name.replace("'", "''") + "'"
        value = _escape_text(f"{quoted}!${title_row}:${title_row}")
    return _set_defined_name(package, text, sheet_index, _PRINT_TITLES, value, hidden=False)


def _set_defined_name(
    package: _Package, text: str, sheet_index: int, name: str, value: str | None, *, hidden: bool
) -> str:
    """workbook.xml with the tab's defined name `name` set to `value` (dropped if None)."""
    for match in _DEFINED_NAME.finditer(text):
        attrs = {key: a or b for key, a, b in _ATTRIBUTE.findall(match.group("attrs"))}
        if attrs.get("name") != name or attrs.get("localSheetId") != str(sheet_index):
            continue
        if value is None:
            return text[: match.start()] + text[match.end() :]
        if match.group("body") is None:  # written as <definedName .../>: give it a body
            tag = match.group("prefix") + "definedName"
            element = f"<{tag}{match.group('attrs').rstrip()}>{value}</{tag}>"
            return text[: match.start()] + element + text[match.end() :]
        return text[: match.start("body")] + value + text[match.end("body") :]
    if value is None:
        return text
    prefix = _container(text, "sheets", package, package.workbook_part).prefix
    attributes = {"name": name, "localSheetId": str(sheet_index)}
    if hidden:
        attributes["hidden"] = "1"
    element = _element(prefix, "definedName", attributes, value)
    return _append_children(
        text,
        "definedNames",
        [element],
        package,
        package.workbook_part,
        count=None,
        create_after=("sheets", "functionGroups", "externalReferences"),
        root_prefix=prefix,
    )


def _check_workbook_edit(
    package: _Package, old: bytes, new: bytes, new_sheet: _NewSheet | None, sheet_index: int
) -> None:
    """Re-read the edited workbook.xml: only the new `<sheet/>` and the tab's filter name differ."""

    def fail(detail: str) -> PatchError:
        return PatchError(
            f"{package.path}: internal check failed while editing workbook.xml ({detail})"
        )

    try:
        old_root, new_root = ET.fromstring(old), ET.fromstring(new)
    except ET.ParseError as error:
        raise fail(str(error)) from None
    old_sheets, new_sheets = _sheet_entries(old_root), _sheet_entries(new_root)
    if new_sheet is not None:
        old_sheets.append((new_sheet.name, str(new_sheet.sheet_id), new_sheet.rel_id))
    if new_sheets != old_sheets:
        raise fail("the list of tabs")

    def others(root: ET.Element) -> list[_Tree]:
        return [
            _tree(el)
            for el in root.iterfind(f"{{{NS_MAIN}}}definedNames/{{{NS_MAIN}}}definedName")
            if el.get("name") not in _OWN_NAMES or el.get("localSheetId") != str(sheet_index)
        ]

    if others(old_root) != others(new_root):
        raise fail("defined names")
    skip = {f"{{{NS_MAIN}}}sheets", f"{{{NS_MAIN}}}definedNames"}
    old_rest = [_tree(el) for el in old_root if el.tag not in skip]
    new_rest = [_tree(el) for el in new_root if el.tag not in skip]
    if old_rest != new_rest or old_root.attrib != new_root.attrib:
        raise fail("other workbook settings")


def _sheet_entries(root: ET.Element) -> list[tuple[str | None, str | None, str | None]]:
    return [
        (el.get("name"), el.get("sheetId"), el.get(f"{{{NS_REL}}}id"))
        for el in root.iterfind(f"{{{NS_MAIN}}}sheets/{{{NS_MAIN}}}sheet")
    ]


_Tree = tuple[str, tuple[tuple[str, str], ...], str, tuple["_Tree", ...]]


def _tree(el: ET.Element) -> _Tree:
    """An element with its text, for comparing two versions of a part."""
    children = tuple(_tree(child) for child in el)
    return (el.tag, tuple(sorted(el.attrib.items())), (el.text or "").strip(), children)


def _store(package: _Package, changes: _Changes, part: str, text: str) -> None:
    data = _encode(text)
    if part in changes.added or not package.has(part):
        changes.added[part] = data
    else:
        changes.replaced[part] = data


def _decode(package: _Package, part: str, changes: _Changes) -> str:
    """A part's text, including edits already planned in this write."""
    data = changes.replaced.get(part)
    if data is None:
        data = changes.added.get(part)
    if data is None:
        data = package.read(part)
    return _decode_bytes(package, part, data)
