"""The cell formats the tab needs, appended to the END of the lists in `xl/styles.xml`.

A bold font (the workbook's default font, made bold), two date formats and four cell formats are
added at most once per workbook, and reused when already there, so every existing style index
keeps its meaning. A package without a style sheet gets a minimal one: without it dates would
read back as plain numbers.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from kkmp_sheets.sources.xlsx_patch.ooxml import CT_STYLES, NS_MAIN, RT_STYLES, PatchError
from kkmp_sheets.sources.xlsx_patch.package import _Changes, _Package
from kkmp_sheets.sources.xlsx_patch.package_edits import (
    _add_content_type,
    _add_relationship,
    _free_part_name,
)
from kkmp_sheets.sources.xlsx_patch.xml_text import (
    _append_children,
    _child_prefix,
    _decode_bytes,
    _element,
    _encode,
    _find_root_prefix,
)

DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"


@dataclass(frozen=True)
class _StyleIds:
    header: int
    wrap: int
    date: int
    datetime: int
    # The writer's named looks (see `Look`): name → cell format, in the order asked.
    looks: tuple[tuple[str, int], ...] = ()

    def look(self, name: str | None) -> int | None:
        return dict(self.looks).get(name) if name else None

    @property
    def plain_numbers(self) -> frozenset[int]:
        """Formats under which a number reads as a plain number (no date format)."""
        return frozenset({0, self.header, *(xf for _, xf in self.looks)})


@dataclass(frozen=True)
class Look:
    """How a kind of cell looks: a solid fill, bold, a font colour, italic (colours `#RRGGBB`),
    wrapped or on one line, a font size in points (None: the default font's). Cells sit at the
    top of their row, like the other data cells."""

    fill: str | None = None
    bold: bool = False
    color: str | None = None
    italic: bool = False
    wrap: bool = True
    size: int | None = None


# A style-sheet element as plain data, to compare what we need with what a workbook has.
_Node = tuple[str, tuple[tuple[str, str], ...], tuple["_Node", ...]]

_STYLESHEET_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs")

_MINIMAL_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{NS_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _plan_styles(
    package: _Package, changes: _Changes, looks: Mapping[str, Look] | None = None
) -> _StyleIds:
    part = package.related_part(RT_STYLES)
    if part is None:
        # Every producer writes a style sheet, but a bare package need not have one; dates
        # would read as plain numbers without it, so give the workbook a minimal one.
        folder = posixpath.dirname(package.workbook_part)
        part = posixpath.join(folder, "styles.xml")
        if package.has(part) or part.lower() in package.content_type_overrides:
            part = _free_part_name(package, changes, folder, "styles")
        _add_relationship(package, changes, RT_STYLES, part)
        _add_content_type(package, changes, part, CT_STYLES)
        text, ids = _extend_styles(_MINIMAL_STYLES, package, part, looks or {})
        changes.added[part] = _encode(text)
        return ids
    original = _decode_bytes(package, part, package.read(part))
    text, ids = _extend_styles(original, package, part, looks or {})
    if text != original:
        changes.replaced[part] = _encode(text)
    return ids


# The style sheets already planned by this process: (style sheet, part, looks) → the edited
# text and the cell formats. The workbooks of one city mostly come from one template, so their
# style sheets are the same text and planning each again (parse, compare, serialise, check) was
# a fifth of a write. Only a plan that succeeded is kept (a refusal names its own workbook); the
# plan depends on nothing else (the package only names the workbook in messages).
_PLANNED: dict[tuple[str, str, tuple[tuple[str, Look], ...]], tuple[str, _StyleIds]] = {}
_PLANNED_MAX = 16  # distinct style sheets kept; a city has one or a few


def _extend_styles(
    text: str, package: _Package, part: str, looks: Mapping[str, Look]
) -> tuple[str, _StyleIds]:
    key = (text, part, tuple(looks.items()))
    planned = _PLANNED.get(key)
    if planned is None:
        planned = _plan_style_text(text, package, part, looks)
        if len(_PLANNED) >= _PLANNED_MAX:
            _PLANNED.pop(next(iter(_PLANNED)))
        _PLANNED[key] = planned
    return planned


def _plan_style_text(
    text: str, package: _Package, part: str, looks: Mapping[str, Look]
) -> tuple[str, _StyleIds]:
    where = f"{package.path}: {part}"
    try:
        root = ET.fromstring(_encode(text))
    except ET.ParseError as error:
        raise PatchError(f"{where} is not valid XML ({error})") from None
    if root.tag != f"{{{NS_MAIN}}}styleSheet":
        raise PatchError(f"{where}: not a style sheet")
    fonts = _children(root, "fonts", "font")
    xfs = _children(root, "cellXfs", "xf")
    if not fonts or not xfs:
        raise PatchError(f"{where}: the style sheet has no fonts or no cell formats")
    root_prefix = _find_root_prefix(text)

    number_formats = _children(root, "numFmts", "numFmt")
    formats = {el.get("formatCode", ""): _int(el.get("numFmtId")) for el in number_formats}
    new_formats: list[_Node] = []
    next_format = max([163, *formats.values()]) + 1  # 0..163 are Excel's built-in formats

    def format_id(code: str) -> int:
        nonlocal next_format
        if code not in formats:
            formats[code] = next_format
            attrs = (("formatCode", code), ("numFmtId", str(next_format)))
            new_formats.append(("numFmt", attrs, ()))
            next_format += 1
        return formats[code]

    date_fmt, datetime_fmt = format_id(DATE_FORMAT), format_id(DATETIME_FORMAT)

    font_nodes = [_font_key(_node(el)) for el in fonts]
    new_fonts: list[_Node] = []

    def font_id(font: _Node) -> int:
        wanted = _font_key(font)
        if wanted in font_nodes:
            return font_nodes.index(wanted)
        font_nodes.append(wanted)
        new_fonts.append(font)
        return len(font_nodes) - 1

    bold_id = font_id(_bold_font(fonts[0]))

    fill_els = _children(root, "fills", "fill")
    fill_nodes = [_node(el) for el in fill_els]
    new_fills: list[_Node] = []

    def fill_id(color: str | None) -> int:
        if color is None:
            return 0
        fill = _solid_fill(color)
        if fill not in fill_nodes:
            fill_nodes.append(fill)
            new_fills.append(fill)
        return fill_nodes.index(fill)

    top_wrap = ("alignment", (("vertical", "top"), ("wrapText", "1")), ())
    top = ("alignment", (("vertical", "top"),), ())
    wanted = {
        "header": _xf(numfmt=0, font=bold_id, alignment=top_wrap),
        "wrap": _xf(numfmt=0, font=0, alignment=top_wrap),
        "date": _xf(numfmt=date_fmt, font=0, alignment=top),
        "datetime": _xf(numfmt=datetime_fmt, font=0, alignment=top),
    }
    for name, look in looks.items():
        plain = not (look.bold or look.italic or look.color or look.size)
        font = 0 if plain else font_id(_font_variant(fonts[0], look))
        wanted[f"look:{name}"] = _xf(
            numfmt=0, font=font, alignment=top_wrap if look.wrap else top, fill=fill_id(look.fill)
        )
    xf_nodes = [_node(el) for el in xfs]
    new_xfs: list[_Node] = []
    ids: dict[str, int] = {}
    for role, xf in wanted.items():
        if xf in xf_nodes:
            ids[role] = xf_nodes.index(xf)
        elif xf in new_xfs:
            ids[role] = len(xfs) + new_xfs.index(xf)
        else:
            ids[role] = len(xfs) + len(new_xfs)
            new_xfs.append(xf)

    edits = [
        ("cellXfs", new_xfs, len(xfs) + len(new_xfs)),
        ("fills", new_fills, len(fill_els) + len(new_fills)),
        ("fonts", new_fonts, len(fonts) + len(new_fonts)),
        ("numFmts", new_formats, len(number_formats) + len(new_formats)),
    ]
    for local, nodes, count in edits:  # later elements first, so earlier offsets stay valid
        if nodes:
            prefix = _child_prefix(text, local, root_prefix, where)
            children = [_serialise(prefix, node) for node in nodes]
            order = _STYLESHEET_ORDER[: _STYLESHEET_ORDER.index(local)]
            text = _append_children(
                text,
                local,
                children,
                package,
                part,
                count=count,
                create_after=order,
                root_prefix=root_prefix,
            )
    _check_styles_grew(root, text, where)
    named = tuple(
        (name[len("look:") :], xf) for name, xf in ids.items() if name.startswith("look:")
    )
    basic = {k: v for k, v in ids.items() if not k.startswith("look:")}
    return text, _StyleIds(**basic, looks=named)


def _int(text: str | None) -> int:
    try:
        return int(text or "0")
    except ValueError:
        return 0


def _children(root: ET.Element, container: str, child: str) -> list[ET.Element]:
    return root.findall(f"{{{NS_MAIN}}}{container}/{{{NS_MAIN}}}{child}")


def _node(el: ET.Element) -> _Node:
    local = el.tag.rsplit("}", 1)[-1]
    return (local, tuple(sorted(el.attrib.items())), tuple(_node(child) for child in el))


def _font_key(font: _Node) -> _Node:
    # The children of <font> may come in any order.
    return (font[0], font[1], tuple(sorted(font[2])))


def _bold_font(default_font: ET.Element) -> _Node:
    """The workbook's default font (size, face, colour, theme scheme), made bold."""
    children = tuple(
        _node(child)
        for child in default_font
        if child.tag.startswith(f"{{{NS_MAIN}}}") and child.tag != f"{{{NS_MAIN}}}b"
    )
    # Only plain attributes: a namespaced one could not be written back without its prefix.
    children = tuple(
        (local, tuple((k, v) for k, v in attrs if not k.startswith("{")), grandchildren)
        for local, attrs, grandchildren in children
    )
    return ("font", (), (("b", (), ()), *children))


def _font_variant(default_font: ET.Element, look: Look) -> _Node:
    """The workbook's default font with the look's bold, italic and colour."""
    base = _bold_font(default_font)[2][1:]  # its children, without the <b/> added there
    kept = tuple(child for child in base if child[0] not in ("b", "i", "color"))
    if look.size:
        kept = tuple(
            ("sz", (("val", str(look.size)),), ()) if child[0] == "sz" else child for child in kept
        )
    marks: tuple[_Node, ...] = ()
    if look.bold:
        marks += (("b", (), ()),)
    if look.italic:
        marks += (("i", (), ()),)
    if look.color:
        # <color> goes after <sz> (the schema's order: b, i, ..., sz, color, name, ...).
        at = next((n + 1 for n, child in enumerate(kept) if child[0] == "sz"), 0)
        color = ("color", (("rgb", _argb(look.color)),), ())
        kept = (*kept[:at], color, *kept[at:])
    return ("font", (), (*marks, *kept))


def _solid_fill(color: str) -> _Node:
    return (
        "fill",
        (),
        (
            (
                "patternFill",
                (("patternType", "solid"),),
                (("fgColor", (("rgb", _argb(color)),), ()), ("bgColor", (("indexed", "64"),), ())),
            ),
        ),
    )


def _argb(color: str) -> str:
    return "FF" + color.lstrip("#").upper()


def _xf(*, numfmt: int, font: int, alignment: _Node, fill: int = 0) -> _Node:
    attrs = {
        "numFmtId": str(numfmt),
        "fontId": str(font),
        "fillId": str(fill),
        "borderId": "0",
        "xfId": "0",
        "applyAlignment": "1",
    }
    if font:
        attrs["applyFont"] = "1"
    if fill:
        attrs["applyFill"] = "1"
    if numfmt:
        attrs["applyNumberFormat"] = "1"
    return ("xf", tuple(sorted(attrs.items())), (alignment,))


def _serialise(prefix: str, node: _Node) -> str:
    local, attrs, children = node
    # Attribute order means nothing to XML; Excel's own order just makes the part easier to read.
    ordered = sorted(attrs, key=lambda item: _ATTR_ORDER.get(item[0], len(_ATTR_ORDER)))
    inner = "".join(_serialise(prefix, child) for child in children)
    return _element(prefix, local, dict(ordered), inner)


_ATTR_ORDER = {
    name: index
    for index, name in enumerate(
        (
            "numFmtId",
            "formatCode",
            "fontId",
            "fillId",
            "borderId",
            "xfId",
            "applyNumberFormat",
            "applyFont",
            "applyFill",
            "applyAlignment",
            "vertical",
            "wrapText",
        )
    )
}


def _check_styles_grew(old_root: ET.Element, new_text: str, where: str) -> None:
    """Every list entry that existed keeps its place; the text surgery is re-checked by parsing."""
    try:
        new_root = ET.fromstring(_encode(new_text))
    except ET.ParseError:
        raise PatchError(f"{where}: internal check failed (edited styles are not XML)") from None
    for container, child in (
        ("numFmts", "numFmt"),
        ("fonts", "font"),
        ("fills", "fill"),
        ("cellXfs", "xf"),
    ):
        old = [_node(el) for el in _children(old_root, container, child)]
        new = [_node(el) for el in _children(new_root, container, child)]
        count = new_root.find(f"{{{NS_MAIN}}}{container}")
        declared = count.get("count") if count is not None else None
        if new[: len(old)] != old or (declared is not None and int(declared) != len(new)):
            raise PatchError(f"{where}: internal check failed while adding cell formats")
