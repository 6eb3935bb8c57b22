"""Google field masks: ``fields=`` partial responses and update masks.

Both APIs accept paths separated by ``.`` or ``/``, comma lists and parenthesised sub-selections:
``kind,nextPageToken,files(id,name)``, ``sheets.properties.tabColorStyle``,
``sheets/data/rowData/values/note``, ``userEnteredFormat(backgroundColor,textFormat)``, ``*``.
A mask is parsed into a tree: ``{"files": {"id": None, "name": None}}`` where ``None`` selects a
whole subtree.
"""

from __future__ import annotations

import copy
from typing import Any

Mask = dict[str, "Mask | None"]


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(text)
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise ValueError(text)
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _merge(into: Mask, key: str, sub: Mask | None) -> None:
    if key in into:
        old = into[key]
        if old is None or sub is None:
            into[key] = None
        else:
            for k, v in sub.items():
                _merge(old, k, v)
    else:
        into[key] = sub


def parse_mask(text: str) -> Mask:
    """Parse a field mask; raises ``ValueError`` on unbalanced parentheses."""
    tree: Mask = {}
    for item in _split_top(text):
        sub: Mask | None = None
        if item.endswith(")"):
            open_at = item.index("(")
            sub = parse_mask(item[open_at + 1 : -1])
            item = item[:open_at]
        segments = [s for s in item.replace("/", ".").split(".") if s]
        if not segments:
            raise ValueError(text)
        node: Mask | None = sub
        for seg in reversed(segments[1:]):
            node = {seg: node}
        _merge(tree, segments[0], node)
    return tree


def apply_mask(obj: Any, mask: Mask | None) -> Any:
    """Keep only the masked parts of ``obj``; objects keep a selected key even if it comes out
    empty (``{"sheets": [{"properties": {}}]}``), absent keys stay absent."""
    if mask is None:
        return obj
    if isinstance(obj, list):
        return [apply_mask(item, mask) for item in obj]
    if not isinstance(obj, dict):
        return obj
    if "*" in mask:
        star = mask["*"]
        return {k: apply_mask(v, mask.get(k, star)) for k, v in obj.items()}
    return {k: apply_mask(obj[k], sub) for k, sub in mask.items() if k in obj}


def mask_mentions(mask: Mask | None, *path: str) -> bool:
    """Whether the mask selects anything at or below ``path`` (``None`` selects everything)."""
    node: Mask | None = mask
    for seg in path:
        if node is None:
            return True
        if "*" in node:
            return True
        if seg not in node:
            return False
        node = node[seg]
    return True


def mask_paths(mask: Mask, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Flatten a mask into leaf paths, for update masks (``gridProperties/rowCount``)."""
    paths: list[tuple[str, ...]] = []
    for key, sub in mask.items():
        if sub is None:
            paths.append((*prefix, key))
        else:
            paths.extend(mask_paths(sub, (*prefix, key)))
    return paths


_MISSING = object()


def apply_update(
    target: dict[str, Any], source: dict[str, Any], paths: list[tuple[str, ...]]
) -> None:
    """Copy the masked fields from ``source`` into ``target``; a masked field that ``source``
    lacks (or sets to null) is reset, i.e. removed. ``("*",)`` replaces every field."""
    for path in paths:
        if path == ("*",):
            target.clear()
            target.update(copy.deepcopy({k: v for k, v in source.items() if v is not None}))
            continue
        src: Any = source
        for seg in path:
            src = src.get(seg, _MISSING) if isinstance(src, dict) else _MISSING
            if src is _MISSING:
                break
        node = target
        for seg in path[:-1]:
            child = node.get(seg)
            if not isinstance(child, dict):
                if src is _MISSING or src is None:
                    node = {}
                    break
                child = node[seg] = {}
            node = child
        if src is _MISSING or src is None:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = copy.deepcopy(src)
