"""The Metadata tab: what a status spreadsheet is, for the program that reads it one level up.

Every status spreadsheet (a city's, a province's, the nation's) ends with a small `Metadata`
tab of `Kunci | Nilai` rows, all text, so that a parent instance (`core/federation.py`) knows
what it reads before it reads a figure: which region and level, which data date, when the
cycle ran, and in which version of this layout. docs/federation.md describes the keys.

Versioning (`schema_version` = "MAJOR.MINOR"): a minor version only adds keys, so a reader
reads any minor of its own major (a key it does not know is ignored; a key added after its
own minor may be missing and has a default). A major version changes or removes what a key
or a tab means: a reader refuses another major, with the reason, rather than guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from kkmp_sheets.core.tables import Col, Print, Sheet
from kkmp_sheets.core.wib import WIB

METADATA_TAB = "Metadata"
HEADER = ("Kunci", "Nilai")
SCHEMA_MAJOR, SCHEMA_MINOR = 1, 0
SCHEMA_VERSION = f"{SCHEMA_MAJOR}.{SCHEMA_MINOR}"
PROGRAM = "kkmp-sheets"

NATIONAL_KODE = "00"  # Indonesia: the national instance's `[city] kode_wilayah`
KOTA, PROVINSI, NASIONAL = "kota/kabupaten", "provinsi", "nasional"
LEVELS = (KOTA, PROVINSI, NASIONAL)

# The keys of schema 1.0, in the order written. `REQUIRED` must be present for a parent to use
# the spreadsheet at all.
KEYS = (
    "schema_version", "program", "program_version", "kode_wilayah", "level", "nama",
    "tanggal_data", "waktu_siklus", "jumlah_kkmp", "jumlah_anak", "tab_anak",
    "jendela_laporan_hari",
)  # fmt: skip
REQUIRED = ("schema_version", "kode_wilayah", "level", "tanggal_data", "waktu_siklus")
# When the cycle that wrote the spreadsheet ran: a Google sink leaves it out of its "has the
# book changed?" fingerprint, as it does Ringkasan's Diperbarui, so that an unchanged result is
# not rewritten every cycle (the cell then keeps the time of the last cycle that changed it).
CYCLE_TIME_KEY = "waktu_siklus"


def level_of(kode: str) -> str:
    """The level of an instance by its region code: `00` the nation, `32` a province, `32.73`
    a kabupaten/kota."""
    if kode == NATIONAL_KODE:
        return NASIONAL
    return PROVINSI if "." not in kode else KOTA


def child_level(level: str) -> str:
    """The level of the instances a parent of `level` reads."""
    return {NASIONAL: PROVINSI, PROVINSI: KOTA}.get(level, "")


def inside(child_kode: str, parent_kode: str) -> bool:
    """Whether a region lies within the parent's (`32.73` within `32`; everything within 00)."""
    if parent_kode == NATIONAL_KODE:
        return child_kode != NATIONAL_KODE
    return child_kode.startswith(parent_kode + ".")


@dataclass(frozen=True)
class Metadata:
    kode_wilayah: str
    level: str
    nama: str
    tanggal_data: date
    waktu_siklus: datetime  # in WIB
    schema_version: str = SCHEMA_VERSION
    program: str = PROGRAM
    program_version: str = ""
    jumlah_kkmp: int | None = None
    jumlah_anak: int = 0  # child instances (0 for a kabupaten/kota)
    tab_anak: str = "Kecamatan"  # the tab with one row per sub-region
    jendela_laporan_hari: int | None = None
    ignored: tuple[str, ...] = field(default=(), compare=False)  # keys of a newer minor

    def rows(self) -> list[list[str]]:
        values = {
            "schema_version": self.schema_version,
            "program": self.program,
            "program_version": self.program_version,
            "kode_wilayah": self.kode_wilayah,
            "level": self.level,
            "nama": self.nama,
            "tanggal_data": self.tanggal_data.isoformat(),
            "waktu_siklus": self.waktu_siklus.astimezone(WIB).isoformat(timespec="seconds"),
            "jumlah_kkmp": "" if self.jumlah_kkmp is None else str(self.jumlah_kkmp),
            "jumlah_anak": str(self.jumlah_anak),
            "tab_anak": self.tab_anak,
            "jendela_laporan_hari": (
                "" if self.jendela_laporan_hari is None else str(self.jendela_laporan_hari)
            ),
        }
        return [[key, values[key]] for key in KEYS]


class Refused(ValueError):
    """A status spreadsheet a parent cannot use; the message says why, in Indonesian."""


def read_metadata(rows: Sequence[Sequence[object]]) -> Metadata:
    """The Metadata of a status spreadsheet from its tab's rows (header anywhere above the
    keys); `Refused` with the reason when it is missing, of another major version or lacks a
    required key."""
    pairs: dict[str, str] = {}
    for row in rows:
        if len(row) < 2 or row[0] in (None, ""):
            continue
        key = str(row[0]).strip()
        if key in HEADER:
            continue
        pairs[key] = _text(row[1])
    if not pairs:
        raise Refused(f"tab {METADATA_TAB} tidak ada atau kosong (versi kkmp-sheets lama?)")
    version = pairs.get("schema_version", "")
    try:
        major, minor = (int(part) for part in version.split(".", 1))
    except ValueError:
        raise Refused(f"schema_version {version!r} tidak terbaca (harus MAYOR.MINOR)") from None
    if major != SCHEMA_MAJOR:
        raise Refused(
            f"skema Metadata versi {version}, sedangkan layanan ini membaca versi "
            f"{SCHEMA_MAJOR}.x; samakan versi kkmp-sheets induk dan anak"
        )
    missing = [key for key in REQUIRED if not pairs.get(key)]
    if missing:
        raise Refused(f"Metadata tanpa {', '.join(missing)}")
    try:
        tanggal = date.fromisoformat(pairs["tanggal_data"][:10])
        waktu = datetime.fromisoformat(pairs["waktu_siklus"])
    except ValueError:
        raise Refused("tanggal_data atau waktu_siklus di Metadata tidak terbaca") from None
    if waktu.tzinfo is None:
        waktu = waktu.replace(tzinfo=WIB)
    level = pairs["level"]
    if level not in LEVELS:
        raise Refused(f"level {level!r} di Metadata tidak dikenal ({', '.join(LEVELS)})")
    return Metadata(
        kode_wilayah=pairs["kode_wilayah"],
        level=level,
        nama=pairs.get("nama", ""),
        tanggal_data=tanggal,
        waktu_siklus=waktu.astimezone(WIB),
        schema_version=version,
        program=pairs.get("program", PROGRAM),
        program_version=pairs.get("program_version", ""),
        jumlah_kkmp=_int(pairs.get("jumlah_kkmp")),
        jumlah_anak=_int(pairs.get("jumlah_anak")) or 0,
        tab_anak=pairs.get("tab_anak") or "Kecamatan",
        jendela_laporan_hari=_int(pairs.get("jendela_laporan_hari")),
        ignored=tuple(k for k in pairs if k not in KEYS) if minor > SCHEMA_MINOR else (),
    )


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a spreadsheet that turned "56" into 56.0
    return "" if value is None else str(value).strip()


def _int(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def metadata_sheet(meta: Metadata, footer: str = "") -> Sheet:
    """The tab itself: text only (a reader must not get 1.0 back as the number 1), last in the
    book; on paper with the same footer as the other tabs."""
    return Sheet(
        METADATA_TAB,
        [Col(HEADER[0], width=22), Col(HEADER[1], width=34)],
        [[key, value] for key, value in meta.rows()],
        print_setup=Print(footer=footer),
    )
