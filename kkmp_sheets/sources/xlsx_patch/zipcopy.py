"""Writing the new zip, with every unchanged entry copied as its stored (still compressed) bytes.

`zipfile` cannot copy an entry without decompressing and compressing it again, which could change
bytes nobody meant to touch. This writer copies entries as they are, in the same order and under
the same name, and compresses only the entries that are replaced or added.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from kkmp_sheets.sources.xlsx_patch.ooxml import PatchError
from kkmp_sheets.sources.xlsx_patch.package import _ZIP_MAGIC, _Changes, _Package

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END_OF_CENTRAL = struct.Struct("<4sHHHHIIH")
_DEFLATED, _STORED = zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED
# Bits worth keeping from the original general-purpose flags: deflate level hint, UTF-8 names.
# The data-descriptor bit is dropped because sizes are written in the local header.
_KEPT_FLAGS = 0x0806


@dataclass(frozen=True)
class _Member:
    name: bytes
    flags: int
    method: int
    date_time: tuple[int, int, int, int, int, int]
    crc: int
    size: int
    payload: bytes  # as stored in the zip (compressed unless method is STORED)
    made_by: int
    external_attr: int
    internal_attr: int
    comment: bytes

    @classmethod
    def keeping(
        cls, info: zipfile.ZipInfo, *, flags: int, method: int, crc: int, size: int, payload: bytes
    ) -> _Member:
        """An entry under `info`'s name that keeps its date, attributes and comment."""
        return cls(
            name=_stored_name(info),
            flags=flags,
            method=method,
            date_time=info.date_time,
            crc=crc,
            size=size,
            payload=payload,
            made_by=_made_by(info),
            external_attr=info.external_attr,
            internal_attr=info.internal_attr,
            comment=info.comment,
        )


def _write_zip(package: _Package, changes: _Changes) -> bytes:
    members: list[_Member] = []
    for info in package.infos:
        if info.filename in changes.dropped:
            continue
        new_data = changes.replaced.get(info.filename)
        if new_data is None:
            members.append(_copied_member(package, info))
        else:
            members.append(_replaced_member(info, new_data))
    template = package.info(package.workbook_part)
    for name, data in changes.added.items():
        members.append(_added_member(template, name, data))
    return _assemble(package, members)


def _stored_name(info: zipfile.ZipInfo) -> bytes:
    return info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")


def _made_by(info: zipfile.ZipInfo) -> int:
    return (info.create_system << 8) | info.create_version


def _copied_member(package: _Package, info: zipfile.ZipInfo) -> _Member:
    offset = info.header_offset
    header = package.blob[offset : offset + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size or header[:4] != _ZIP_MAGIC:
        raise PatchError(f"{package.path}: is damaged (bad zip entry {info.filename})")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + _LOCAL_HEADER.size + name_length + extra_length
    payload = package.blob[start : start + info.compress_size]
    if len(payload) != info.compress_size:
        raise PatchError(f"{package.path}: is damaged (zip entry {info.filename} is truncated)")
    return _Member.keeping(
        info,
        flags=info.flag_bits & _KEPT_FLAGS,
        method=info.compress_type,
        crc=info.CRC,
        size=info.file_size,
        payload=payload,
    )


def _replaced_member(info: zipfile.ZipInfo, data: bytes) -> _Member:
    """New content under an existing entry's name, keeping that entry's metadata."""
    method = _STORED if info.compress_type == _STORED else _DEFLATED
    return _Member.keeping(
        info,
        flags=info.flag_bits & 0x800,
        method=method,
        crc=zlib.crc32(data),
        size=len(data),
        payload=_compress(data, method),
    )


def _added_member(template: zipfile.ZipInfo, name: str, data: bytes) -> _Member:
    """A new entry, dated and attributed like the workbook part so the package looks uniform."""
    return _Member(
        name=name.encode("utf-8"),
        flags=0 if name.isascii() else 0x800,
        method=_DEFLATED,
        date_time=template.date_time,
        crc=zlib.crc32(data),
        size=len(data),
        payload=_compress(data, _DEFLATED),
        made_by=_made_by(template),
        external_attr=template.external_attr,
        internal_attr=0,
        comment=b"",
    )


def _compress(data: bytes, method: int) -> bytes:
    if method == _STORED:
        return data
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate, as zip stores it
    return compressor.compress(data) + compressor.flush()


def _dos_date_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    dos_date = (max(year - 1980, 0) << 9) | (month << 5) | day
    dos_time = (hour << 11) | (minute << 5) | (second // 2)
    return dos_date, dos_time


def _assemble(package: _Package, members: list[_Member]) -> bytes:
    out = io.BytesIO()
    central: list[bytes] = []
    for member in members:
        offset = out.tell()
        dos_date, dos_time = _dos_date_time(member.date_time)
        # From "version needed" to "extra field length", the central directory's record of an
        # entry repeats its local header: version 2.0, no extra field.
        shared = (
            20,
            member.flags,
            member.method,
            dos_time,
            dos_date,
            member.crc,
            len(member.payload),
            member.size,
            len(member.name),
            0,
        )
        out.write(_LOCAL_HEADER.pack(b"PK\x03\x04", *shared))
        out.write(member.name)
        out.write(member.payload)
        central.append(
            _CENTRAL_HEADER.pack(
                b"PK\x01\x02",
                member.made_by,
                *shared,
                len(member.comment),
                0,
                member.internal_attr,
                member.external_attr,
                offset,
            )
            + member.name
            + member.comment
        )
    directory = b"".join(central)
    directory_offset = out.tell()
    if directory_offset + len(directory) >= 0xFFFFFFFF or len(members) >= 0xFFFF:
        raise PatchError(f"{package.path}: the workbook is too large to update (over 4 GB)")
    comment = package.zip.comment
    out.write(directory)
    out.write(
        _END_OF_CENTRAL.pack(
            b"PK\x05\x06",
            0,
            0,
            len(members),
            len(members),
            len(directory),
            directory_offset,
            len(comment),
        )
    )
    out.write(comment)
    return out.getvalue()
