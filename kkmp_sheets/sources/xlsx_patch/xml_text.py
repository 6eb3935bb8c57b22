"""Editing XML parts as text: find one element, append children to it, escape values.

The shared parts (workbook.xml, its relationships, [Content_Types].xml, styles.xml) are edited by
inserting text, never by re-serialising a parsed tree: ElementTree would rename namespace prefixes
and break `mc:Ignorable`, and every byte not meant to change stays as it was.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from kkmp_sheets.sources.xlsx_patch.ooxml import _ATTRS, PatchError
from kkmp_sheets.sources.xlsx_patch.package import _Package

# --------------------------------------------------------------------------------------------
# Bytes and namespace prefixes


def _decode_bytes(package: _Package, part: str, data: bytes) -> str:
    # The parts this package edits are UTF-8 in every producer seen; anything else is refused
    # rather than risk re-encoding it wrongly. A BOM is kept as the character U+FEFF.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PatchError(f"{package.path}: {part} is not UTF-8; cannot edit it safely") from None


def _encode(text: str) -> bytes:
    return text.encode("utf-8")


def _root_prefix_for(data: bytes, namespace: str) -> str | None:
    """The prefix the root element binds to `namespace`, or None (also for a default binding)."""
    for event, item in ET.iterparse(io.BytesIO(data), events=("start-ns", "start")):
        if event == "start":
            break
        prefix, uri = item
        # A default namespace cannot qualify attributes, so only a real prefix will do.
        if uri == namespace and prefix:
            return str(prefix)
    return None


def _find_root_prefix(text: str) -> str:
    match = re.compile(r"<(?![?!])(?P<prefix>[A-Za-z_][\w.\-]*:)?[A-Za-z_]").search(text)
    return (match.group("prefix") or "") if match else ""


def _child_prefix(text: str, container: str, root_prefix: str, where: str) -> str:
    span = _find_element(text, container, where)
    return span.prefix if span is not None else root_prefix


# --------------------------------------------------------------------------------------------
# Text surgery on XML parts


@dataclass(frozen=True)
class _Span:
    prefix: str  # "" or "x:"
    start: int  # of the start tag
    start_end: int  # just after the start tag
    close: int  # start of the close tag (== start_end for an empty element)
    end: int  # just after the element
    empty: bool  # written as <name .../>


def _find_element(text: str, local: str, where: str) -> _Span | None:
    """The one element called `local` (any prefix) in `text`, or None; raise when ambiguous."""
    pattern = re.compile(rf"<(?P<prefix>[A-Za-z_][\w.\-]*:)?{re.escape(local)}(?={_ATTRS}/?>)")
    matches = list(pattern.finditer(text))
    if not matches:
        return None
    if len(matches) > 1:
        raise PatchError(f"{where}: unexpected structure ({len(matches)} <{local}> elements)")
    match = matches[0]
    prefix = match.group("prefix") or ""
    tag = re.compile(_ATTRS + r"(?P<empty>/)?>").match(text, match.end())
    if tag is None:  # excluded by the lookahead; keeps the type checker honest
        raise PatchError(f"{where}: unexpected structure around <{local}>")
    if tag.group("empty"):
        return _Span(prefix, match.start(), tag.end(), tag.end(), tag.end(), True)
    close = re.compile(rf"</{re.escape(prefix)}{re.escape(local)}\s*>").search(text, tag.end())
    if close is None:
        raise PatchError(f"{where}: <{local}> is not closed")
    return _Span(prefix, match.start(), tag.end(), close.start(), close.end(), False)


def _container(text: str, local: str, package: _Package, part: str) -> _Span:
    span = _find_element(text, local, f"{package.path}: {part}")
    if span is None:
        raise PatchError(f"{package.path}: is damaged ({part} has no <{local}>)")
    return span


def _append_children(
    text: str,
    local: str,
    children: list[str],
    package: _Package,
    part: str,
    *,
    count: int | None,
    create_after: Sequence[str] = (),
    root_prefix: str = "",
) -> str:
    """Append `children` at the end of element `local`, updating its `count` attribute.

    When the element is absent it is created after the last of `create_after` that exists (its
    schema predecessors), or as the first child of the root.
    """
    where = f"{package.path}: {part}"
    span = _find_element(text, local, where)
    body = "".join(children)
    if span is None:
        attrs = f' count="{count}"' if count is not None else ""
        new = f"<{root_prefix}{local}{attrs}>{body}</{root_prefix}{local}>"
        position = _creation_point(text, create_after, where)
        return text[:position] + new + text[position:]
    start_tag = text[span.start : span.start_end]
    if count is not None:
        start_tag = _set_count(start_tag, count)
    if span.empty:
        start_tag = start_tag[: -len("/>")].rstrip() + ">"
        closing = f"</{span.prefix}{local}>"
        return text[: span.start] + start_tag + body + closing + text[span.end :]
    return (
        text[: span.start]
        + start_tag
        + text[span.start_end : span.close]
        + body
        + text[span.close :]
    )


def _append_element(
    text: str, container: str, local: str, attributes: dict[str, str], package: _Package, part: str
) -> str:
    """`text` with `<local .../>` appended to its one `<container>`, under the container's prefix."""
    prefix = _container(text, container, package, part).prefix
    element = _element(prefix, local, attributes)
    return _append_children(text, container, [element], package, part, count=None)


def _set_count(start_tag: str, count: int) -> str:
    # Only an existing count is updated: producers that omit it are left without one.
    return re.sub(
        r"""(\scount\s*=\s*)(["'])\d*\2""", rf"\g<1>\g<2>{count}\g<2>", start_tag, count=1
    )


def _creation_point(text: str, predecessors: Sequence[str], where: str) -> int:
    for local in reversed(predecessors):
        span = _find_element(text, local, where)
        if span is not None:
            return span.end
    root = re.compile(r"<(?![?!])[^\s/>]+" + _ATTRS + ">").search(text)
    if root is None:
        raise PatchError(f"{where}: has no root element")
    return root.end()


def _element(prefix: str, local: str, attributes: dict[str, str], children: str = "") -> str:
    attrs = "".join(f' {name}="{_escape_attr(value)}"' for name, value in attributes.items())
    if not children:
        return f"<{prefix}{local}{attrs}/>"
    return f"<{prefix}{local}{attrs}>{children}</{prefix}{local}>"


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(text: str) -> str:
    return (
        _escape_text(text)
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )
