"""Synthetic Anggota tabs as cooperatives really type them, for equivalence tests and bench/.

`anggota_rows(n, seed)` gives a header row and `n` data rows mixing every kind of cell a reader
meets: blanks ("", "  ", "-", a non-breaking space, NaN), text dates in several formats, spreadsheet
serials as floats and ints, date and datetime objects, formula errors, NIKs that are malformed,
stored as numbers, duplicated or outside the city, listed values in odd case or unknown, RT/RW as
ints, floats and text, and the occasional blank or short row. With `clean=True` every cell is
valid and typed as a well-kept workbook gives it. Every NIK is synthetic (never a real person's).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from kkmp_sheets.core.formats import compose_nik

HEADER = [
    "No Anggota",
    "Nama",
    "NIK",
    "Jenis Kelamin",
    "Tanggal Masuk",
    "RT",
    "RW",
    "Telepon",
    "Status",
    "Tanggal Keluar",
    "Catatan",  # an extra column: ignored by contract
]
# Kecamatan of Kota Bandung (32.73) and of other places (a NIK outside the city), and a code that
# does not exist.
CITY_KECAMATAN = ("327301", "327302", "327303", "327305", "327306", "327307")
OTHER_KECAMATAN = ("317305", "320101")
UNKNOWN_KECAMATAN = "329999"
CITY_KODE = "32.73"

_FIRST = ("Siti", "Budi", "Dewi", "Agus", "Nur", "Rina", "Joko", "Sri", "Ahmad", "Putri", "Wahyu")
_LAST = ("Aminah", "Santoso", "Lestari", "Hidayat", "Rahmawati", "Saputra", "Wulandari", "Nugroho")
_MONTH_WORDS = ("Januari", "Feb", "Maret", "Apr", "Mei", "Juni", "Juli", "Agu", "Sept", "Okt")
_BLANKS = ("", "  ", "-", "\u00a0", None, " \u200b")
_ERRORS = ("#REF!", "#N/A", "#VALUE!", " #DIV/0! ", "#NAME?")
_EPOCH = date(1899, 12, 30)


def _pick(rng: random.Random, weighted: list[tuple[float, Any]]) -> Any:
    """One of `weighted` (weight, maker) pairs; a maker is called with `rng`."""
    total = sum(w for w, _ in weighted)
    roll = rng.random() * total
    for weight, maker in weighted:
        roll -= weight
        if roll <= 0:
            return maker(rng) if callable(maker) else maker
    last = weighted[-1][1]
    return last(rng) if callable(last) else last


def _day(rng: random.Random) -> date:
    return date(2018, 1, 1) + timedelta(days=rng.randrange(3000))  # a few run past AS_OF


def _date_text(rng: random.Random, day: date) -> Any:
    return _pick(
        rng,
        [
            (30, f"{day.day:02d}/{day.month:02d}/{day.year}"),
            (6, f"{day.day}-{day.month}-{day.year % 100:02d}"),
            (5, day.isoformat()),
            (4, f"{day.day} {_MONTH_WORDS[(day.month - 1) % 10]} {day.year}"),
            (2, f"Senin, {day.day} Agustus {day.year}"),
            (2, f" {day.day:02d}.{day.month:02d}.{day.year} 10:00 "),
            (8, float((day - _EPOCH).days)),
            (2, float((day - _EPOCH).days) + 0.5),
            (2, (day - _EPOCH).days),
            (10, datetime(day.year, day.month, day.day)),
            (5, day),
            (1, str((day - _EPOCH).days)),
        ],
    )


def _messy_date(rng: random.Random) -> Any:
    return _pick(
        rng,
        [
            (80, lambda r: _date_text(r, _day(r))),
            (5, lambda r: r.choice(_BLANKS)),
            (2, lambda r: r.choice(("2025", "31/02/2025", "17/13/2024", "kemarin", "13-Agu"))),
            (1, lambda r: r.choice((2025, -0.0, 0.0, 17082025, True, 1e300))),
            (1, lambda r: r.choice(_ERRORS)),
            (1, date(1999, 12, 31)),
        ],
    )


def _nik_for(rng: random.Random, serial: int) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
    return compose_nik(
        rng.choice(CITY_KECAMATAN), born, female=rng.random() < 0.5, serial=serial % 9999 + 1
    )


def _messy_nik(rng: random.Random, serial: int, seen: list[str]) -> Any:
    good = _nik_for(rng, serial)
    return _pick(
        rng,
        [
            (70, good),
            (4, lambda r: r.choice(seen) if seen else good),  # duplicated in the tab
            (3, lambda r: f"{good[:4]} {good[4:8]} {good[8:12]} {good[12:]}"),
            (2, lambda r: f"'{good}"),
            (2, lambda r: good[:-1]),  # 15 digits
            (2, lambda r: float(good)),  # stored as a number
            (1, lambda r: int(good)),
            (1, "3,27301E+15"),
            (1, lambda r: good[:6] + "991390" + good[12:]),  # impossible birth date
            (1, lambda r: UNKNOWN_KECAMATAN + good[6:]),
            (2, lambda r: r.choice(OTHER_KECAMATAN) + good[6:]),
            (1, lambda r: good[:8] + "x" + good[9:]),
            (3, lambda r: r.choice(_BLANKS)),
            (1, lambda r: r.choice(_ERRORS)),
        ],
    )


def _messy_id(rng: random.Random, n: int, ids: list[Any]) -> Any:
    return _pick(
        rng,
        [
            (80, f"A-{n:05d}"),
            (5, lambda r: r.choice(ids) if ids else "A-0"),  # duplicated
            (3, float(n)),
            (3, n),
            (2, f"'{n:03d}"),
            (1, 12.5),
            (1, True),
            (2, lambda r: r.choice(_BLANKS)),
            (1, lambda r: r.choice(_ERRORS)),
        ],
    )


def _messy_rt(rng: random.Random) -> Any:
    k = rng.randrange(1, 15)
    return _pick(
        rng,
        [
            (30, f"{k:03d}"),
            (15, float(k)),
            (15, k),
            (10, str(k)),
            (4, f" 0{k} "),
            (2, f"RT {k}"),
            (1, k + 0.5),
            (1, -0.0),
            (1, lambda r: r.choice((True, False, date(2025, 1, 1), float("nan")))),
            (10, lambda r: r.choice(_BLANKS)),
            (1, lambda r: r.choice(_ERRORS)),
        ],
    )


# Allocated Indonesian mobile prefixes (Telkomsel, Indosat, XL, Axis, Smartfren, Tri): a clean
# number is valid under the numbering plan the Telepon check uses, as a real member's is.
_MOBILE_PREFIXES = (
    "11", "12", "13", "21", "22", "23", "51", "52", "53", "14", "15", "16", "55", "56", "57",
    "58", "17", "18", "19", "59", "77", "78", "31", "32", "33", "38", "95", "96", "97", "98",
    "99", "81", "82", "83", "87", "88", "89",
)  # fmt: skip


def _messy_phone(rng: random.Random) -> Any:
    digits = "8" + "".join(rng.choice("0123456789") for _ in range(rng.randrange(8, 11)))
    return _pick(
        rng,
        [
            (30, f"0{digits[:3]}-{digits[3:7]}-{digits[7:]}"),
            (10, f"+62 {digits}"),
            (5, int(digits)),
            (3, float(digits)),
            (3, "12345"),
            (2, "(022) 5551234"),
            (25, lambda r: r.choice(_BLANKS)),
            (1, "tidak ada"),
        ],
    )


def _messy_choice(rng: random.Random, options: list[tuple[float, Any]]) -> Any:
    return _pick(rng, [*options, (6, lambda r: r.choice(_BLANKS)), (1, "#N/A")])


def anggota_rows(n: int, seed: int, *, clean: bool = False) -> list[list[Any]]:
    """A title row, the header and `n` member rows (see the module docstring)."""
    rng = random.Random(seed)
    rows: list[list[Any]] = [["DAFTAR ANGGOTA"], list(HEADER)]
    seen_niks: list[str] = []
    ids: list[Any] = []
    for i in range(1, n + 1):
        if clean:
            joined = _day(rng)
            joined = min(joined, date(2025, 12, 31))
            nik = _nik_for(rng, i)
            row: list[Any] = [
                f"A-{i:05d}",
                f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                nik,
                "P" if int(nik[6:8]) > 40 else "L",
                datetime(joined.year, joined.month, joined.day),
                f"{rng.randrange(1, 15):03d}",
                f"{rng.randrange(1, 9):03d}",
                f"08{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**7, 10**8)}",
                "Aktif",
                "",
                "",
            ]
            rows.append(row)
            continue
        if rng.random() < 0.01:
            rows.append(rng.choice(([], ["", None, "  "], [None] * 11)))
            continue
        member_id = _messy_id(rng, i, ids)
        ids.append(member_id)
        nik = _messy_nik(rng, i, seen_niks)
        if isinstance(nik, str) and len(seen_niks) < 500:
            seen_niks.append(nik)
        left = _pick(rng, [(85, lambda r: r.choice(_BLANKS)), (15, _messy_date)])
        row = [
            member_id,
            _pick(
                rng,
                [
                    (95, lambda r: f"{r.choice(_FIRST)} {r.choice(_LAST)}"),
                    (4, lambda r: r.choice(_BLANKS)),
                    (1, lambda r: r.choice(_ERRORS)),
                ],
            ),
            nik,
            _messy_choice(
                rng,
                [(40, "L"), (40, "P"), (5, "l"), (3, " Perempuan "), (3, "Laki-laki"), (1, "X")],
            ),
            _messy_date(rng),
            _messy_rt(rng),
            _messy_rt(rng),
            _messy_phone(rng),
            _messy_choice(
                rng,
                [(70, "Aktif"), (5, "aktif"), (5, "KELUAR"), (2, "Aktip"), (1, "pindah"), (1, 1)],
            ),
            left,
            rng.choice(("", "", "", "lunas", None)),
        ]
        if rng.random() < 0.02:
            row = row[: rng.randrange(1, len(row))]  # a short row (Google drops trailing blanks)
        rows.append(row)
    return rows
