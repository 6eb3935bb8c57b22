"""Kemendagri region codes and names (Kepmendagri 2025), shipped with the package.

`data/wilayah.csv.gz` is the MIT-licensed cahyadsn/wilayah list (see `data/wilayah.LICENSE`):
provinces (`31`), kabupaten/kota (`31.73`), kecamatan (`31.73.01`) and desa/kelurahan
(`31.73.01.1001`; a last part starting with `1` is a kelurahan, `2` a desa). It is loaded once,
on first use (about 0.1 s).
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Region:
    kode: str  # dotted, e.g. "31.73.01.1001"
    nama: str

    @property
    def level(self) -> int:
        """1 province, 2 kabupaten/kota, 3 kecamatan, 4 desa/kelurahan."""
        return self.kode.count(".") + 1

    @property
    def is_kelurahan(self) -> bool:
        return self.level == 4 and self.kode.rsplit(".", 1)[1].startswith("1")


@cache
def _regions() -> dict[str, Region]:
    raw = resources.files("kkmp_sheets").joinpath("data/wilayah.csv.gz").read_bytes()
    text = gzip.decompress(raw).decode("utf-8")
    reader = csv.DictReader(io.StringIO(text))
    return {row["kode"]: Region(row["kode"], row["nama"]) for row in reader}


@cache
def kecamatan_codes() -> frozenset[str]:
    """Every kecamatan code as the 6 digits a NIK starts with (`317301`)."""
    return frozenset(k.replace(".", "") for k in _regions() if k.count(".") == 2)


def get(kode: str) -> Region | None:
    """The region with this dotted code, or None."""
    return _regions().get(dotted(kode))


def name(kode: str) -> str | None:
    region = get(kode)
    return region.nama if region else None


def kecamatan_exists(six_digits: str) -> bool:
    """Whether `317301` (the first 6 digits of a NIK) is a kecamatan code in the list."""
    return six_digits in kecamatan_codes()


def children(kode: str) -> list[Region]:
    """Direct children of a region, in code order (kecamatan of a city, kelurahan of a kecamatan)."""
    prefix = dotted(kode) + "."
    depth = prefix.count(".")
    return [r for k, r in _regions().items() if k.startswith(prefix) and k.count(".") == depth]


def villages(kode: str) -> list[Region]:
    """Every desa/kelurahan under a region (province, city or kecamatan), in code order."""
    prefix = dotted(kode) + "."
    return [r for k, r in _regions().items() if k.startswith(prefix) and k.count(".") == 3]


def dotted(kode: str) -> str:
    """`3173011001` → `31.73.01.1001`; dotted codes pass through; anything else is returned stripped."""
    text = str(kode).strip()
    digits = text.replace(".", "")
    if not digits.isdigit() or "." in text:
        return text
    parts = [digits[:2], digits[2:4], digits[4:6], digits[6:]]
    return ".".join(p for p in parts if p)
