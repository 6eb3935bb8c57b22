"""Runs that never poison history, through the command line: registry errors write nothing, a day
after tomorrow is refused (or run unrecorded), every completed cycle is recorded, and the small
things a user meets (a closed pipe, Indonesian numbers, log times in WIB)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import python_calamine

from kkmp_sheets import config
from kkmp_sheets.cli import main
from kkmp_sheets.core.metrics import coop_figures
from kkmp_sheets.core.parse import parse_workbook
from kkmp_sheets.core.registry import read_registry, registry_error
from kkmp_sheets.demo import DemoCity, build_demo_city
from kkmp_sheets.service.cycle import _riwayat, check_one
from kkmp_sheets.sources.local import LocalSource

AS_OF = date(2026, 1, 29)
WIB = ZoneInfo("Asia/Jakarta")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    return build_demo_city(tmp_path_factory.mktemp("runs") / "demo", size=3, as_of=AS_OF)


@pytest.fixture
def city(demo: DemoCity, tmp_path: Path) -> Path:
    """A fresh copy of the small demo city (no outputs yet); returns its config path."""
    root = tmp_path / "kota"
    shutil.copytree(demo.root, root, ignore=shutil.ignore_patterns("out"))
    return root / "city.toml"


def run(cfg: Path, *extra: str, as_of: date | None = AS_OF) -> int:
    args = ["run", "--once", "--config", str(cfg), *extra]
    return main([*args, "--as-of", as_of.isoformat()] if as_of else args)


def files(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under `root` (bar the registry, edited on purpose): content hash and mtime."""
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "registry.csv"
    }


def rewrite_registry(cfg: Path, edit) -> None:
    path = cfg.parent / "registry.csv"
    with path.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(edit(rows))


def store_rows(cfg: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(cfg.parent / "out" / "data" / "history.sqlite") as conn:
        return conn.execute(sql).fetchall()


def riwayat_days(cfg: Path) -> list[str]:
    book = python_calamine.CalamineWorkbook.from_path(str(cfg.parent / "out" / "status-kota.xlsx"))
    rows = book.get_sheet_by_name("Riwayat").to_python(skip_empty_area=False)
    return [r[0].isoformat()[:10] for r in rows if r and isinstance(r[0], date)]


def today_wib() -> date:
    return datetime.now(WIB).date()


# --- a registry the cycle cannot use ----------------------------------------------------------


def without_column(name: str):
    def edit(rows: list[list[str]]) -> list[list[str]]:
        at = rows[0].index(name)
        return [r[:at] + r[at + 1 :] for r in rows]

    return edit


def with_id_of_row(target: int, source: int):
    """Give registry row `target` (the row number the official sees) the ID of row `source`."""

    def edit(rows: list[list[str]]) -> list[list[str]]:
        rows[target - 1][0] = rows[source - 1][0]
        return rows

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (without_column("Spreadsheet"), "no column Spreadsheet: add the column"),
        (without_column("Kecamatan"), "no column Kecamatan: add the column"),
        (with_id_of_row(4, 2), "ID KKMP-3173011001 is on rows 2 and 4"),
    ],
    ids=["no-spreadsheet-column", "no-kecamatan-column", "duplicate-id"],
)
def test_a_registry_error_exits_4_and_writes_nothing(city, capsys, edit, message):
    assert run(city) == 0  # a good day first: its outputs and history must survive
    capsys.readouterr()
    before = files(city.parent)
    assert any(name.endswith("history.sqlite") for name in before)
    assert any(name.endswith(".eml") for name in before)
    rewrite_registry(city, edit)

    assert run(city, as_of=AS_OF + timedelta(days=1)) == 4
    err = capsys.readouterr().err
    assert message in err and "Nothing was written" in err
    assert err.count("\n") == 1  # one message
    # Status workbook (and its Riwayat), Hasil Pemeriksaan in every workbook, the outbox, the
    # history store and the delivery ledger: byte for byte and untouched.
    assert files(city.parent) == before
    assert riwayat_days(city) == [AS_OF.isoformat()]


def test_a_registry_error_on_a_first_run_creates_nothing(city, capsys):
    rewrite_registry(city, without_column("Spreadsheet"))
    before = files(city.parent)
    assert run(city) == 4
    assert files(city.parent) == before
    assert not (city.parent / "out").exists()


@pytest.mark.parametrize(
    ("edit", "finding"),
    [
        (without_column("Spreadsheet"), r"GALAT +registry: no column Spreadsheet"),
        (with_id_of_row(4, 2), r"GALAT +registry row 4: ID KKMP-3173011001 is also on row 2"),
    ],
)
def test_check_reports_the_same_registry_error_as_a_galat(city, capsys, edit, finding):
    rewrite_registry(city, edit)
    assert main(["check", "--config", str(city)]) == 7
    assert re.search(finding, capsys.readouterr().out)


def test_registry_error_names_every_column_and_every_row():
    rows = [
        ["ID", "Nama Koperasi", "Kelurahan"],
        ["K1", "A", "Kapuk"],
        ["K2", "B", "Duri"],
        ["K1", "C", "Kedoya"],
        ["K2", "D", "Meruya"],
        ["K1", "E", "Kembangan"],
    ]
    _, issues = read_registry(rows)
    assert registry_error(issues) == (
        "no columns Kecamatan and Spreadsheet; ID K1 is on rows 2, 4 and 6; ID K2 is on rows 3 "
        "and 5: add the columns, and give every cooperative its own ID"
    )
    assert registry_error(read_registry([["apa"], ["ini"]])[1]).startswith("no header row")
    fine = [
        ["ID", "Nama Koperasi", "Kelurahan", "Kecamatan", "Spreadsheet"],
        ["K1", "A", "Kapuk", "Cengkareng", ""],  # a row's own gap is reported, not fatal
    ]
    assert registry_error(read_registry(fine)[1]) is None


# --- a day after tomorrow -----------------------------------------------------------------------


def test_as_of_after_tomorrow_is_refused_with_exit_2_and_writes_nothing(city, capsys):
    future = today_wib() + timedelta(days=2)
    for command in (
        ["run", "--once", "--config", str(city)],
        ["digest", "--dry-run", "--config", str(city)],
        ["demo", str(city.parent / "another")],
    ):
        assert main([*command, "--as-of", future.isoformat()]) == 2
        err = capsys.readouterr().err
        assert f"--as-of {future.isoformat()} is after tomorrow" in err and "--allow-future" in err
    assert not (city.parent / "out").exists()
    assert not (city.parent / "another").exists()


def test_tomorrow_is_still_a_day_that_is_recorded(city, capsys):
    tomorrow = today_wib() + timedelta(days=1)
    assert run(city, "--no-mail", as_of=tomorrow) == 0
    assert store_rows(city, "SELECT as_of FROM city_day") == [(tomorrow.isoformat(),)]


def test_allow_future_runs_but_records_nothing(city, capsys):
    assert run(city) == 0
    capsys.readouterr()
    data = city.parent / "out" / "data"
    ledger = (data / "deliveries.sqlite").read_bytes()
    outbox = sorted(p.name for p in (city.parent / "out" / "outbox").iterdir())
    snapshots = store_rows(city, "SELECT COUNT(*) FROM snapshot")
    future = today_wib() + timedelta(days=40)

    assert run(city, "--allow-future", as_of=future) == 0
    out = capsys.readouterr().out
    assert "tidak dicatat di riwayat" in out
    # The cycle ran: the status workbook is for that day ...
    assert riwayat_days(city) == [AS_OF.isoformat()]  # ... but its Riwayat has no row for it
    assert store_rows(city, "SELECT as_of FROM city_day") == [(AS_OF.isoformat(),)]
    assert store_rows(city, "SELECT DISTINCT as_of FROM coop_day") == [(AS_OF.isoformat(),)]
    assert store_rows(city, "SELECT COUNT(*) FROM snapshot") == snapshots
    # No digest: the ledger would count that day's (and week's) digests as delivered.
    assert (data / "deliveries.sqlite").read_bytes() == ledger
    assert sorted(p.name for p in (city.parent / "out" / "outbox").iterdir()) == outbox

    # The next real day carries nothing of it.
    assert run(city, "--no-mail", as_of=AS_OF + timedelta(days=1)) == 0
    assert riwayat_days(city) == [AS_OF.isoformat(), (AS_OF + timedelta(days=1)).isoformat()]


def test_allow_future_digest_dry_run_and_demo(city, tmp_path, capsys):
    future = (today_wib() + timedelta(days=3)).isoformat()
    assert (
        main(["digest", "--dry-run", "--config", str(city), "--as-of", future, "--allow-future"])
        == 0
    )
    assert "(tidak dikirim)" in capsys.readouterr().out
    root = tmp_path / "demo-masa-depan"
    assert main(["demo", str(root), "--size", "2", "--as-of", future, "--allow-future"]) == 0
    assert "tidak dicatat di riwayat" in capsys.readouterr().out
    with sqlite3.connect(root / "out" / "data" / "history.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM city_day").fetchone() == (0,)


class _Published:
    def __init__(self, rows):
        self.rows = rows

    def history(self):
        return [list(r) for r in self.rows]


def test_riwayat_drops_days_after_tomorrow_an_earlier_version_published():
    now = datetime(2026, 1, 29, 9, 0, tzinfo=WIB)
    rows = [[date(2026, 1, 28), 3], [date(2026, 1, 30), 3], [date(2026, 3, 1), 0]]
    assert _riwayat(_Published(rows), None, now) == rows[:2]


# --- every completed cycle is recorded ---------------------------------------------------------


def test_run_without_mail_is_recorded_and_status_reports_it(city, capsys):
    assert main(["status", "--config", str(city)]) == 0
    assert "last cycle: none recorded yet" in capsys.readouterr().out

    assert run(city, "--no-mail") == 0
    capsys.readouterr()
    assert store_rows(city, "SELECT as_of, jumlah FROM city_day") == [(AS_OF.isoformat(), 3)]
    assert not (city.parent / "out" / "outbox").exists()  # no mail: nothing sent
    assert main(["status", "--config", str(city)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("last cycle:"))
    assert f"data of {AS_OF.isoformat()}: 3 cooperatives" in line
    recorded = datetime.strptime(line.split("recorded ")[1][:16], "%Y-%m-%d %H:%M")
    assert abs(recorded.replace(tzinfo=WIB) - datetime.now(WIB)) < timedelta(minutes=5)

    # Mail later the same day still compares with the day before, and records the day once.
    assert run(city) == 0
    assert store_rows(city, "SELECT COUNT(*) FROM city_day") == [(1,)]
    assert any((city.parent / "out" / "outbox").glob("*.eml"))


# --- the simpanan due day reaches the cycle ----------------------------------------------------


def test_the_configured_due_day_reaches_the_cooperative_figures(city):
    cfg = config.load(city)
    source = LocalSource(cfg.registry)
    coop = read_registry(source.registry_rows())[0][0]
    parsed = parse_workbook(source.read(coop))
    day = date(2026, 1, 15)
    owed = {}
    for due_day in (1, 10, 28):
        got = check_one(coop, source, replace(cfg, wajib_due_day=due_day), day).figures
        want = coop_figures(parsed, day, window_days=cfg.window_days, wajib_due_day=due_day)
        assert (got.anggota_menunggak, got.tunggakan_wajib) == (
            want.anggota_menunggak,
            want.tunggakan_wajib,
        )
        owed[due_day] = got.tunggakan_wajib
    # On the 15th, January is owed with due day 1 or 10, not yet with due day 28.
    assert owed[1] == owed[10] > owed[28]


# --- small things a user meets -----------------------------------------------------------------


def cli(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **kwargs.pop("env", {})}
    return subprocess.Popen([sys.executable, "-m", "kkmp_sheets", *args], env=env, **kwargs)


def test_a_reader_that_stops_early_gets_no_traceback(city):
    data = city.parent / "out" / "data"
    data.mkdir(parents=True)
    # A status.json longer than any pipe buffer, so that the writer meets the closed pipe.
    jobs = {f"job{i}": {"last_message": "x" * 200} for i in range(2000)}
    (data / "status.json").write_text(json.dumps({"jobs": jobs}, indent=1), encoding="utf-8")

    shell = f"{sys.executable} -m kkmp_sheets status --json --config {city} | head -1"
    piped = subprocess.run(
        ["sh", "-c", shell],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert piped.stdout == "{\n"
    assert piped.stderr == ""

    # The reader closed before anything was written: the exit code a shell gives SIGPIPE.
    read_end, write_end = os.pipe()
    proc = cli("status", "--json", "--config", str(city), stdout=write_end, stderr=subprocess.PIPE)
    os.close(write_end)
    os.close(read_end)
    err = proc.communicate(timeout=120)[1].decode()
    assert proc.returncode == 128 + signal.SIGPIPE
    assert err == ""


def test_the_summary_prints_numbers_the_indonesian_way(city, capsys):
    assert run(city, "--no-mail") == 0
    out = capsys.readouterr().out
    assert re.search(r"^Waktu\s+\d+,\d detik$", out, re.MULTILINE), out
    anggota = re.search(r"^Anggota Aktif\s+(\S+)$", out, re.MULTILINE).group(1)
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*", anggota)


def test_serve_logs_carry_their_time_zone(city):
    # The machine's zone is UTC; the log still says WIB, and its clock is WIB's.
    proc = cli("serve", "--config", str(city), stderr=subprocess.PIPE, text=True, env={"TZ": "UTC"})
    try:
        deadline = time.monotonic() + 120
        line = ""
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if "schedule:" in line or not line:
                break
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    match = re.match(
        r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) WIB INFO kkmp_sheets\.service\.serve: ", line
    )
    assert match, line + rest
    logged = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=WIB)
    assert abs(logged - datetime.now(WIB)) < timedelta(minutes=5)
    assert proc.returncode == 0
