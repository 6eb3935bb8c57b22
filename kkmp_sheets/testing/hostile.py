"""A corpus of hostile and broken cooperative workbooks, for tests and `bench/bench_hostile.py`.

Each case is a file that someone could put in the registry, on purpose or by accident: zip
bombs, sheets that declare or fill the whole grid, a million-row Anggota tab, XML entity
attacks, files that are not workbooks at all, and text that tends to break programs. The
service must read each under its limits, report it on that cooperative's own row, and go on
with every other cooperative. All data is synthetic.

    write_case(name, folder, base=<a clean workbook>, secret=<a file XXE tries to read>)

`CASES` names every case with what the cycle should make of it: an issue code of the
catalogue, or `None` when the workbook is read (and its data problems, if any, reported).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"


@dataclass(frozen=True)
class Case:
    name: str
    doc: str
    outcome: (
        str | tuple[str | None, ...] | None
    )  # issue code(s) expected on its row; None: it is read
    suffix: str = ".xlsx"


CASES: dict[str, Case] = {
    c.name: c
    for c in (
        Case(
            "dimension-whole-grid",
            "a real workbook whose sheets declare <dimension ref=A1:XFD1048576>",
            "workbook-too-large",
        ),
        Case("bomb-shared-strings", "a 1 GB string in sharedStrings.xml", "workbook-too-large"),
        Case("bomb-inline-strings", "a 1 GB inline string in a sheet", "workbook-too-large"),
        Case("bomb-styles", "a 1 GB styles.xml", "workbook-too-large"),
        Case("bomb-media", "a 1 GB picture in xl/media", "workbook-too-large"),
        Case(
            "shared-strings-count",
            "a shared-string table announcing four billion entries",
            "workbook-too-large",
        ),
        Case(
            "sparse-corners",
            "cells in A1 and XFD1048576 and no <dimension>: the whole grid, found only by reading",
            ("workbook-too-large", "workbook-read-stopped", "workbook-unreadable"),
        ),
        Case(
            "million-rows",
            "an Anggota tab of 1,000,000 rows (no <dimension>)",
            ("workbook-too-large", "workbook-read-stopped"),
        ),
        Case(
            "columns-16384",
            "an Anggota tab filled across all 16,384 columns",
            "workbook-too-large",
        ),
        Case(
            "xxe",
            "external entities in every part, pointing at a local file",
            ("workbook-unreadable", None),  # refused or read, never expanded
        ),
        Case("billion-laughs", "nested entities in every part", ("workbook-unreadable", None)),
        Case("encrypted", "a password-protected (OLE container) workbook", "workbook-unreadable"),
        Case("renamed-csv", "CSV text saved under an .xlsx name", "workbook-unreadable"),
        Case(
            "renamed-xls",
            "an .xlsx saved under an .xls name",
            ("workbook-unreadable", None),
            ".xls",
        ),
        Case(
            "renamed-ods",
            "an .xlsx saved under an .ods name",
            ("workbook-unreadable", None),
            ".ods",
        ),
        Case("truncated", "the first half of a real workbook", "workbook-unreadable"),
        Case("empty", "a file of zero bytes", "workbook-unreadable"),
        Case("control-characters", "control characters in tab names and cells", None),
        Case("rtl-emoji", "right-to-left text, bidi overrides and emoji in tabs and cells", None),
    )
}


def write_case(name: str, folder: Path, *, base: Path, secret: Path, bomb_mb: int = 1024) -> Path:
    """Write case `name` into `folder` and return its path. `base`: a clean cooperative
    workbook some cases start from; `secret`: a file the XXE case tries to read; `bomb_mb`: the
    inflated size of each zip bomb."""
    case = CASES[name]
    path = Path(folder) / f"{name}{case.suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    _WRITERS[name](path, base, secret, bomb_mb)
    return path


# --- the writers -----------------------------------------------------------------------------


def _dimension_whole_grid(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    def whole_grid(xml: bytes) -> bytes:
        if b"<dimension" in xml:
            return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', xml)
        return re.sub(
            rb"<(sheetViews|sheetFormatPr|cols|sheetData)\b",
            b'<dimension ref="A1:XFD1048576"/><\\1',
            xml,
            count=1,
        )

    _rewrite(base, path, lambda name: whole_grid if _is_sheet(name) else None)


def _bomb_shared_strings(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    head = f'<sst xmlns="{_MAIN}" count="1" uniqueCount="1"><si><t>'.encode()
    _workbook(
        path,
        {"Anggota": _rows([["No Anggota", "Nama"], [1, ("s", 0)]])},
        shared=_concat([head], _filler(bomb_mb), [b"</t></si></sst>"]),
    )


def _bomb_inline_strings(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    rows = _concat(
        [b'<row r="1"><c r="A1" t="inlineStr"><is><t>'],
        _filler(bomb_mb),
        [b"</t></is></c></row>"],
    )
    _workbook(path, {"Anggota": rows})


def _bomb_styles(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    styles = _concat(
        [f'<styleSheet xmlns="{_MAIN}"><!-- '.encode()], _filler(bomb_mb), [b" --></styleSheet>"]
    )
    _workbook(path, {"Anggota": _rows([["No Anggota"], [1]])}, parts={"xl/styles.xml": styles})


def _bomb_media(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    _workbook(
        path,
        {"Anggota": _rows([["No Anggota"], [1]])},
        parts={"xl/media/image1.png": _filler(bomb_mb, byte=b"\0")},
    )


def _shared_strings_count(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    shared = (
        f'<sst xmlns="{_MAIN}" count="4000000000" uniqueCount="4000000000"><si><t>x</t></si></sst>'
    )
    _workbook(path, {"Anggota": _rows([["No Anggota"], [("s", 0)]])}, shared=[shared.encode()])


def _sparse_corners(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    rows = [
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>No Anggota</t></is></c></row>',
        b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
    ]
    _workbook(path, {"Anggota": rows})


def _million_rows(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    def rows() -> Iterator[bytes]:
        yield _row(1, ["No Anggota", "Nama", "NIK", "Tanggal Masuk"])
        batch = []
        for n in range(2, 1_000_002):
            batch.append(
                f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>A-{n:07d}</t></is></c>'
                f'<c r="B{n}" t="inlineStr"><is><t>Anggota {n}</t></is></c>'
                f'<c r="C{n}" t="inlineStr"><is><t>317301{n:010d}</t></is></c>'
                f'<c r="D{n}"><v>45000</v></c></row>'
            )
            if len(batch) == 10_000:
                yield "".join(batch).encode()
                batch = []
        yield "".join(batch).encode()

    _workbook(path, {"Anggota": rows()})


def _columns_16384(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    wide: list[list[Cell]] = [[f"Kolom {n}" for n in range(1, 16_385)]]
    wide += [list(range(16_384)) for _ in range(3)]
    _workbook(path, {"Anggota": _rows(wide)})


def _xxe(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    doctype = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    _entity_workbook(path, doctype, "&xxe;")


def _billion_laughs(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    _entity_workbook(path, f"<!DOCTYPE x [{''.join(entities)}]>", "&lol9;")


def _entity_workbook(path: Path, doctype: str, reference: str) -> None:
    """Tabs Profil and Anggota whose every part carries `doctype` and uses `reference`."""
    declaration = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
    prefix = (declaration + doctype).encode()
    shared = [
        prefix,
        f'<sst xmlns="{_MAIN}" count="1" uniqueCount="1"><si><t>{reference}</t></si></sst>'.encode(),
    ]
    anggota = [
        _row(1, ["No Anggota", "Nama", "NIK", "Tanggal Masuk"]),
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>{reference}</t></is></c>'
        f'<c r="B2" t="s"><v>0</v></c></row>'.encode(),
    ]
    profil = [
        _row(1, ["Data", "Isi"]),
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>Nama Koperasi</t></is></c><c r="B2" t="inlineStr"><is><t>{reference}</t></is></c></row>'.encode(),
    ]
    _workbook(path, {"Profil": profil, "Anggota": anggota}, shared=shared, prefix=prefix)


def _encrypted(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    # What Excel writes for a password-protected workbook: an OLE compound file, not a zip.
    header = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16) + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    path.write_bytes(header + bytes(512 - len(header)) + b"EncryptedPackage" * 64)


def _renamed_csv(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    path.write_text("No Anggota,Nama\nA-1,Anggota Satu\n", encoding="utf-8")


def _copy(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    path.write_bytes(base.read_bytes())


def _truncated(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    blob = base.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])


def _empty(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    path.write_bytes(b"")


def _control_characters(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    odd = "A_x0007_B_x001F_C\tD"  # the escapes Excel writes for control characters
    _workbook(
        path,
        {
            "Profil": _rows([["Data", "Isi"], ["Nama Koperasi", odd], ["Kelurahan", "a_x0000_b"]]),
            "Anggota_x0001_": _rows([["No Anggota", "Nama"], [odd, odd]]),
        },
    )


def _rtl_emoji(path: Path, base: Path, secret: Path, bomb_mb: int) -> None:
    rtl = "\u202eاتحاد تعاوني 🧺\u202c"
    _workbook(
        path,
        {
            "Profil": _rows([["Data", "Isi"], ["Nama Koperasi", rtl], ["Kelurahan", "עברית 🏠"]]),
            "Anggota 👥": _rows([["No Anggota", "Nama"], ["🆔1", rtl], ["\u200f2", "😀" * 50]]),
        },
    )


_Writer = Callable[[Path, Path, Path, int], None]
_WRITERS: dict[str, _Writer] = {
    "dimension-whole-grid": _dimension_whole_grid,
    "bomb-shared-strings": _bomb_shared_strings,
    "bomb-inline-strings": _bomb_inline_strings,
    "bomb-styles": _bomb_styles,
    "bomb-media": _bomb_media,
    "shared-strings-count": _shared_strings_count,
    "sparse-corners": _sparse_corners,
    "million-rows": _million_rows,
    "columns-16384": _columns_16384,
    "xxe": _xxe,
    "billion-laughs": _billion_laughs,
    "encrypted": _encrypted,
    "renamed-csv": _renamed_csv,
    "renamed-xls": _copy,
    "renamed-ods": _copy,
    "truncated": _truncated,
    "empty": _empty,
    "control-characters": _control_characters,
    "rtl-emoji": _rtl_emoji,
}
assert set(_WRITERS) == set(CASES)


# --- a minimal .xlsx writer that streams its parts (a bomb is never held in memory) ----------

Cell = object  # a number, text, or ("s", index) for a shared string


def _workbook(
    path: Path,
    sheets: dict[str, Iterable[bytes]],
    *,
    shared: Iterable[bytes] | None = None,
    parts: dict[str, Iterable[bytes]] | None = None,
    prefix: bytes = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
) -> None:
    names = list(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(names) + 1)
    )
    if shared is not None:
        overrides += (
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        )
    content_types = (
        f'<Types xmlns="{_PKG}/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        f'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>'
    )
    rels = (
        f'<Relationships xmlns="{_PKG}/relationships"><Relationship Id="rId1" Type="{_REL}/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    sheet_list = "".join(
        f'<sheet name="{_escape(n)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, n in enumerate(names, start=1)
    )
    workbook = (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{sheet_list}</sheets></workbook>'
    )
    book_rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(names) + 1)
    )
    if shared is not None:
        book_rels += (
            f'<Relationship Id="rId{len(names) + 1}" Type="{_REL}/sharedStrings" '
            'Target="sharedStrings.xml"/>'
        )
    book_rels = f'<Relationships xmlns="{_PKG}/relationships">{book_rels}</Relationships>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("xl/workbook.xml", prefix + workbook.encode())
        archive.writestr("xl/_rels/workbook.xml.rels", book_rels)
        for i, name in enumerate(names, start=1):
            body: Iterable[bytes] = _concat(
                [prefix, f'<worksheet xmlns="{_MAIN}"><sheetData>'.encode()],
                sheets[name],
                [b"</sheetData></worksheet>"],
            )
            _stream(archive, f"xl/worksheets/sheet{i}.xml", body)
        if shared is not None:
            first = [] if _starts_with_declaration(shared) else [prefix]
            _stream(archive, "xl/sharedStrings.xml", _concat(first, shared))
        for part, body in (parts or {}).items():
            _stream(archive, part, body)


def _starts_with_declaration(chunks: Iterable[bytes]) -> bool:
    return isinstance(chunks, list) and bool(chunks) and chunks[0].startswith(b"<?xml")


def _stream(archive: zipfile.ZipFile, name: str, chunks: Iterable[bytes]) -> None:
    with archive.open(name, "w", force_zip64=True) as part:
        for chunk in chunks:
            part.write(chunk)


def _rows(rows: list[list[Cell]]) -> list[bytes]:
    return [_row(n, row) for n, row in enumerate(rows, start=1)]


def _row(number: int, cells: list[Cell]) -> bytes:
    out = [f'<row r="{number}">']
    for col, value in enumerate(cells, start=1):
        ref = f"{_column(col)}{number}"
        if isinstance(value, tuple):
            out.append(f'<c r="{ref}" t="s"><v>{value[1]}</v></c>')
        elif isinstance(value, int | float):
            out.append(f'<c r="{ref}"><v>{value}</v></c>')
        else:
            out.append(f'<c r="{ref}" t="inlineStr"><is><t>{_escape(str(value))}</t></is></c>')
    out.append("</row>")
    return "".join(out).encode()


def _column(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _filler(megabytes: int, byte: bytes = b"A") -> Iterator[bytes]:
    chunk = byte * MB
    for _ in range(megabytes):
        yield chunk


def _concat(*parts: Iterable[bytes]) -> Iterator[bytes]:
    for part in parts:
        yield from part


def _is_sheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml")


def _rewrite(
    source: Path, target: Path, edit: Callable[[str], Callable[[bytes], bytes] | None]
) -> None:
    """Copy the zip `source` to `target`, passing each part through `edit(name)` when given."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            change = edit(info.filename)
            new.writestr(info.filename, change(data) if change else data)
