"""Parse + validate of a large Anggota tab: the project against frictionless and vectorised pandas.

    PYTHONPATH=$PWD python bench/bench_parse.py [--rows 200000] [--frictionless-rows N] [--repeat N]

Builds the same synthetic Anggota tab twice (messy: what cooperatives type, see
tests/messy_anggota.py; clean: every cell valid and typed), then, on each, times in this process:
- the project: `parse_workbook` + `validate` (every check the service makes on this tab);
- frictionless 5.x: `Resource.validate` with a Table Schema approximating the same checks;
- vectorised pandas: a DataFrame built from the same rows and the same checks as column
  operations (blanks, formula errors, required cells, IDs and NIK duplicates, NIK length, birth
  date, region and city, the date formats and serials, future and too-early dates, listed values,
  RT/RW, telephone numbers, left before joined).
It prints rows/s for each (rows per CPU second of this process: the wall time is printed too, but
on a shared machine it mostly measures the neighbours) and the ratios project/pandas and
project/frictionless, measured in the same run; only the ratios compare across runs. Each engine
starts from a collected heap. pandas runs without pyarrow here, so its string operations are
Python loops; with pyarrow installed they are faster. Frictionless can be timed on
the first N rows only (`--frictionless-rows`), because it takes minutes on messy rows; its rows/s
is then over those N rows, and the table says so.

What frictionless cannot read, so its counts differ from ours: dates in any format but the one in
the schema (month names, "17-8-25", ISO, spreadsheet serials), listed values in another case or
as synonyms, a NIK's birth date, region and city, a NIK stored as a number, RT/RW as numbers,
leading apostrophes, blanks written as spaces, a dash or a non-breaking space, and formula errors
(they are just text). The generic frictionless reader also rejects short rows (missing cells).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from kkmp_sheets.core import wilayah  # noqa: E402
from kkmp_sheets.core.parse import FORMULA_ERRORS, RawWorkbook, parse_workbook  # noqa: E402
from kkmp_sheets.core.template import CHOICE_SYNONYMS  # noqa: E402
from kkmp_sheets.core.validation import Context, validate  # noqa: E402
from tests.messy_anggota import CITY_KODE, HEADER, anggota_rows  # noqa: E402

AS_OF = date(2026, 1, 29)
SEED = 20260129


# --- the project ------------------------------------------------------------------------------


def project(rows: list[list[Any]]) -> Counter[str]:
    book = parse_workbook(RawWorkbook(tabs={"Anggota": rows}))
    issues = book.issues + validate(book, Context(as_of=AS_OF, city_kode=CITY_KODE))
    return Counter(i.code for i in issues if i.code != "tab-missing")


# --- vectorised pandas ------------------------------------------------------------------------

_MONTHS_EN = {
    "januari": "jan",
    "februari": "feb",
    "pebruari": "feb",
    "maret": "mar",
    "mei": "may",
    "juni": "jun",
    "juli": "jul",
    "agustus": "aug",
    "agu": "aug",
    "ags": "aug",
    "agt": "aug",
    "sept": "sep",
    "oktober": "oct",
    "okt": "oct",
    "nopember": "nov",
    "desember": "dec",
    "des": "dec",
}
_DAY_NAME = r"^[a-z']+,\s*"
_TIME = r"\s+\d{1,2}[:.]\d{2}.*$"


def _text(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(stripped text, blank mask) of an object column."""
    missing = col.isna()
    text = col.astype(str).str.replace("\u200b", "", regex=False).str.strip()
    return text, missing | text.isin(["", "-"])


_MONTH_WORD = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))


def _dates(col: pd.Series, text: pd.Series) -> pd.Series:
    """Day-first dates in the formats people type, serials and date objects; NaT when unreadable.

    Each format is tried only on the cells no earlier one could read, as a pandas user would."""
    types = col.map(type)
    is_date = types.isin([date, datetime, pd.Timestamp])
    out = pd.to_datetime(col.where(is_date), errors="coerce")
    numeric = pd.to_numeric(col.where(types.isin([int, float])), errors="coerce")
    serial = numeric.where((numeric >= 18264) & (numeric < 80001))
    out = out.fillna(pd.Timestamp("1899-12-30") + pd.to_timedelta(np.floor(serial), unit="D"))
    todo = out.isna() & types.isin([str])
    low = text[todo].str.lower().str.replace(_DAY_NAME, "", regex=True)
    low = low.str.replace(_TIME, "", regex=True)
    five = low.str.fullmatch(r"\d{5}")
    days = pd.to_numeric(low.where(five), errors="coerce")
    days = days.where((days >= 18264) & (days < 80001))
    found = pd.Timestamp("1899-12-30") + pd.to_timedelta(days, unit="D")
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"):
        left = found.isna()
        if not left.any():
            break
        found = found.fillna(pd.to_datetime(low[left], format=fmt, errors="coerce"))
    left = found.isna()
    words = low[left].str.replace(_MONTH_WORD, lambda m: _MONTHS_EN[m[0]], regex=True)
    for fmt in ("%d %b %Y", "%d %B %Y"):
        found = found.fillna(pd.to_datetime(words, format=fmt, errors="coerce"))
    return out.fillna(found)


def _ids(col: pd.Series, text: pd.Series) -> pd.Series:
    numeric = pd.to_numeric(col.where(col.map(type).isin([int, float])), errors="coerce")
    whole = numeric.where(numeric == np.floor(numeric))
    as_text = text.str.removeprefix("'").str.strip()
    return as_text.where(whole.isna(), whole.astype("Int64").astype(str))


def pandas_checks(rows: list[list[Any]]) -> Counter[str]:
    width = len(HEADER)
    padded = [r if len(r) == width else [*r[:width], *[None] * (width - len(r))] for r in rows[2:]]
    frame = pd.DataFrame(padded, dtype=object)
    frame.columns = HEADER
    texts: dict[str, pd.Series] = {}
    blanks: dict[str, pd.Series] = {}
    for name in HEADER:
        texts[name], blanks[name] = _text(frame[name])
    keep = ~pd.concat(blanks, axis=1).all(axis=1)
    frame = frame[keep]
    texts = {k: v[keep] for k, v in texts.items()}
    blanks = {k: v[keep] for k, v in blanks.items()}
    found: Counter[str] = Counter()
    errors = {k: texts[k].isin(FORMULA_ERRORS) for k in HEADER}
    for name in HEADER:
        found["formula-error"] += int(errors[name].sum())
    for name in ("No Anggota", "Nama", "NIK", "Tanggal Masuk"):
        found["required-missing"] += int(blanks[name].sum())

    ids = _ids(frame["No Anggota"], texts["No Anggota"])
    ids_ok = ~blanks["No Anggota"] & ~errors["No Anggota"]
    found["member-id-duplicate"] += int((ids[ids_ok].duplicated()).sum())
    for name in ("RT", "RW"):
        bad = frame[name].map(type).isin([bool, date])
        found["value-unreadable"] += int(bad.sum())
        _ids(frame[name], texts[name])

    nik = frame["NIK"]
    present = ~blanks["NIK"] & ~errors["NIK"]
    as_number = present & nik.map(type).isin([int, float])
    found["nik-as-number"] += int(as_number.sum())
    digits = texts["NIK"].str.removeprefix("'").str.replace(r"[\s.\-]", "", regex=True)
    digits = digits.where(~as_number, pd.to_numeric(nik.where(as_number)).map("{:.0f}".format))
    ok16 = present & digits.str.fullmatch(r"\d{16}")
    found["nik-length"] += int((present & ~ok16).sum())
    good = digits[ok16]
    day = good.str[6:8].astype(int)
    born = pd.to_datetime(
        pd.DataFrame(
            {
                "year": 1900 + good.str[10:12].astype(int),
                "month": good.str[8:10].astype(int),
                "day": day.where(day <= 40, day - 40),
            }
        ),
        errors="coerce",
    )
    found["nik-birthdate"] += int(born.isna().sum())
    known = good.str[:6].isin(wilayah.kecamatan_codes())
    found["nik-region-unknown"] += int((~known).sum())
    found["nik-outside-city"] += int(
        (known & ~good.str.startswith(CITY_KODE.replace(".", ""))).sum()
    )
    found["nik-duplicate"] += int(good.duplicated().sum())

    limit, start = pd.Timestamp(AS_OF), pd.Timestamp("2000-01-01")
    joined = None
    for name in ("Tanggal Masuk", "Tanggal Keluar"):
        when = _dates(frame[name], texts[name])
        found["value-unreadable"] += int((when.isna() & ~blanks[name] & ~errors[name]).sum())
        found["future-date"] += int((when > limit).sum())
        found["date-before-start"] += int((when < start).sum())
        if joined is None:
            joined = when
        else:
            found["member-left-before-join"] += int((when < joined).sum())

    for name, options in (("Jenis Kelamin", ("L", "P")), ("Status", ("Aktif", "Keluar"))):
        keys = texts[name].str.lower().str.replace(r"[^0-9a-z]+", "", regex=True)
        table = {o.lower(): o for o in options} | {
            k: v for k, v in CHOICE_SYNONYMS.items() if v in options
        }
        unknown = keys.map(table).isna() & ~blanks[name] & ~errors[name]
        found["choice-unknown"] += int(unknown.sum())

    phone = texts["Telepon"].str.replace(r"[\s().\-]", "", regex=True).str.removesuffix(".0")
    national = phone.str.replace(r"^(\+62|62|0)", "", regex=True)
    mobile = national.str.fullmatch(r"8\d{8,11}")
    landline = national.str.fullmatch(r"[2-79]\d{6,10}")
    bad_phone = ~(mobile | landline) & ~blanks["Telepon"] & ~errors["Telepon"]
    found["phone-format"] += int(bad_phone.sum())
    return found


# --- frictionless -----------------------------------------------------------------------------


def frictionless_checks(rows: list[list[Any]]) -> Counter[str]:
    from frictionless import Resource, Schema

    string = "string"
    schema = Schema.from_descriptor(
        {
            "missingValues": ["", "-"],
            "fields": [
                {
                    "name": "No Anggota",
                    "type": string,
                    "constraints": {"required": True, "unique": True},
                },
                {"name": "Nama", "type": string, "constraints": {"required": True}},
                {
                    "name": "NIK",
                    "type": string,
                    "constraints": {"required": True, "unique": True, "pattern": "[0-9]{16}"},
                },
                {"name": "Jenis Kelamin", "type": string, "constraints": {"enum": ["L", "P"]}},
                {
                    "name": "Tanggal Masuk",
                    "type": "date",
                    "format": "%d/%m/%Y",
                    # Bounds are written in the field's own format.
                    "constraints": {
                        "required": True,
                        "maximum": AS_OF.strftime("%d/%m/%Y"),
                        "minimum": "01/01/2000",
                    },
                },
                {"name": "RT", "type": string},
                {"name": "RW", "type": string},
                {
                    "name": "Telepon",
                    "type": string,
                    "constraints": {"pattern": r"(\+62 ?|62|0)?8[0-9 -]{8,14}"},
                },
                {"name": "Status", "type": string, "constraints": {"enum": ["Aktif", "Keluar"]}},
                {"name": "Tanggal Keluar", "type": "date", "format": "%d/%m/%Y"},
                {"name": "Catatan", "type": string},
            ],
        }
    )
    resource = Resource(data=[HEADER, *rows[2:]], schema=schema)
    report = resource.validate(limit_errors=10**9)
    return Counter(error.type for task in report.tasks for error in task.errors)


# --- the run ----------------------------------------------------------------------------------


def timed(fn: Any, rows: list[list[Any]]) -> tuple[float, float, Counter[str]]:
    """(CPU seconds, wall seconds, problems) of one engine, started from a collected heap."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    found = fn(rows)
    return time.process_time() - cpu, time.perf_counter() - wall, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--frictionless-rows", type=int, default=None, help="default: all")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of every engine, taken in turn; each engine's fastest round is reported "
        "(on a shared machine the neighbours only ever add time)",
    )
    args = parser.parse_args()
    n = args.rows
    nf = min(args.frictionless_rows or n, n)
    print(
        f"Anggota tab, {n:,} rows; frictionless over the first {nf:,}; as of {AS_OF}; "
        f"fastest of {args.repeat} round(s), engines in turn"
    )
    wilayah.kecamatan_codes()  # the region list loads once per process, not per workbook
    results: dict[str, dict[str, float]] = {}
    for variant in ("messy", "clean"):
        rows = anggota_rows(n, SEED, clean=variant == "clean")
        took: dict[str, float] = {}
        wall: dict[str, float] = {}
        counts: dict[str, Counter[str]] = {}
        for _ in range(args.repeat):
            for name, fn, part in (
                ("project", project, rows),
                ("pandas", pandas_checks, rows),
                ("frictionless", frictionless_checks, rows[: nf + 2]),
            ):
                cpu, elapsed, counts[name] = timed(fn, part)
                if cpu < took.get(name, float("inf")):
                    took[name], wall[name] = cpu, elapsed
        rate = {k: (nf if k == "frictionless" else n) / v for k, v in took.items()}
        results[variant] = rate
        print(f"\n{variant} rows")
        print(f"  {'engine':<14}{'CPU s':>8}{'wall s':>8}{'rows/s':>10}{'problems':>10}")
        for k in ("project", "pandas", "frictionless"):
            total = sum(counts[k].values())
            print(f"  {k:<14}{took[k]:>8.2f}{wall[k]:>8.2f}{rate[k]:>10,.0f}{total:>10,}")
        print(f"  project/pandas       {rate['project'] / rate['pandas']:.2f}")
        print(f"  project/frictionless {rate['project'] / rate['frictionless']:.2f}")
        print(f"  project problems:      {dict(counts['project'].most_common())}")
        print(f"  pandas problems:       {dict((+counts['pandas']).most_common())}")
        print(f"  frictionless problems: {dict(counts['frictionless'].most_common())}")
    goal = results["messy"]["project"]
    print(
        f"\ngoal: messy >= 120,000 rows/s and >= 2x pandas: {goal:,.0f} rows/s, "
        f"{goal / results['messy']['pandas']:.2f}x pandas"
    )


if __name__ == "__main__":
    main()
