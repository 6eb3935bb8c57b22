"""The history store records exactly what the straightforward computation records.

`_record_problems` moves problem lives forward in SQL (a temporary table of today's problems
joined to the open ones). Here the same random histories — problems appearing, staying, going,
coming back, acknowledged, on unreadable workbooks, of cooperatives leaving the registry, days
recorded twice or out of order — are recorded by it and by the plain Python version it
replaced, which reads every open problem and compares keys one by one; every row of every
table must be the same, ids included. `CoopResult`'s counts, kept between reads, are checked
against counting afresh after the append a failed Hasil Pemeriksaan makes.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from kkmp_sheets.core.issue import Issue, Severity
from kkmp_sheets.core.metrics import CoopFigures
from kkmp_sheets.core.results import CycleResult
from kkmp_sheets.store.history import HistoryStore, ProblemKey
from tests.test_history import cycle, result

GALAT_CODES = ("required-missing", "workbook-unreadable")
PERINGATAN_CODES = ("column-duplicate", "tab-too-large")
TABS = ("Penjualan", "Anggota", "")
COLUMNS = ("Harga Satuan", "NIK", "")


class StraightforwardStore(HistoryStore):
    """The problem recording as it was: every open problem loaded and matched in Python."""

    def _record_problems(self, conn: sqlite3.Connection, cycle: CycleResult) -> None:
        day = cycle.as_of.isoformat()
        latest = conn.execute("SELECT MAX(as_of) FROM city_day").fetchone()[0]
        if latest is not None and latest > day:
            return
        previous = conn.execute(
            "SELECT MAX(as_of) FROM city_day WHERE as_of < ?", (day,)
        ).fetchone()[0]
        conn.execute("DELETE FROM problem WHERE first_seen = ?", (day,))
        conn.execute("UPDATE problem SET resolved_on = NULL WHERE resolved_on = ?", (day,))
        seen: dict[ProblemKey, tuple[str, bool]] = {}
        for r in cycle.results:
            for issue in [i for i in r.issues if not i.acknowledged]:
                key = (r.coop.id, issue.code, issue.tab or "", issue.row or 0, issue.column or "")
                seen.setdefault(key, (issue.severity.value, not r.figures.readable))
        readable = {r.coop.id: r.figures.readable for r in cycle.results}
        open_rows = conn.execute(
            "SELECT id, coop_id, code, tab, row, col, read_failure, first_seen, last_seen "
            "FROM problem WHERE resolved_on IS NULL"
        ).fetchall()
        still_open: set[ProblemKey] = set()
        seen_again, resolved = [], []
        for pid, coop_id, code, tab, row, col, read_failure, first_seen, last_seen in open_rows:
            key = (coop_id, code, tab, row, col)
            if key in seen:
                seen_again.append((day, pid))
                still_open.add(key)
            elif coop_id not in readable or (not readable[coop_id] and not read_failure):
                still_open.add(key)
            else:
                if last_seen == day:
                    last_seen = max(previous or first_seen, first_seen)
                resolved.append((day, last_seen, pid))
        conn.executemany("UPDATE problem SET last_seen = ? WHERE id = ?", seen_again)
        conn.executemany("UPDATE problem SET resolved_on = ?, last_seen = ? WHERE id = ?", resolved)
        conn.executemany(
            "INSERT INTO problem (coop_id, code, tab, row, col, severity, read_failure, "
            "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (*key, severity, int(failure), day, day)
                for key, (severity, failure) in seen.items()
                if key not in still_open
            ],
        )


def random_issue(rng: random.Random) -> Issue:
    code = rng.choice(GALAT_CODES if rng.random() < 0.6 else PERINGATAN_CODES)
    return Issue(
        code,
        tab=rng.choice(TABS),
        row=rng.choice((None, 0, *range(2, 9))),
        column=rng.choice(COLUMNS),
        value=rng.choice((None, "x", 3)),
        ticked=rng.random() < 0.25,  # acknowledged when a Peringatan
        severity_override=Severity.PERINGATAN if rng.random() < 0.05 else None,
    )


def random_cycle(rng: random.Random, as_of: date, coops: list[str]) -> CycleResult:
    results = []
    registered = [c for c in coops if rng.random() < 0.9]  # some leave, some come back
    for coop_id in registered:
        readable = rng.random() < 0.8
        issues = [random_issue(rng) for _ in range(rng.randint(0, 7))]
        if not readable:
            issues = [Issue("workbook-unreadable"), *issues[:2]]
        r = result(coop_id, rng.choice(("Hijau", "Kuning", "Merah")), issues=issues)
        if not readable:
            r.figures = CoopFigures(readable=False)
        if rng.random() < 0.1:  # a failed Hasil Pemeriksaan, appended after the counts were read
            assert r.galat >= 0
            r.issues.append(Issue("feedback-not-written", tab="Hasil Pemeriksaan"))
        results.append(r)
    return cycle(as_of, *results)


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {
        "problem": conn.execute("SELECT * FROM problem ORDER BY id").fetchall(),
        "coop_day": conn.execute("SELECT * FROM coop_day ORDER BY as_of, coop_id").fetchall(),
        "city_day": conn.execute(
            "SELECT * FROM city_day ORDER BY as_of"  # recorded_at is the clock: left out below
        ).fetchall(),
    }


def without_clock(rows: list[tuple]) -> list[tuple]:
    return [row[:-1] for row in rows]


@pytest.mark.parametrize("seed", range(12))
def test_problem_lives_and_rows_match_the_straightforward_recording(tmp_path: Path, seed: int):
    rng = random.Random(seed)
    coops = [f"32.{n:02d}" for n in range(rng.randint(3, 12))]
    start = date(2026, 1, 1)
    with (
        HistoryStore(tmp_path / "new.sqlite") as new,
        StraightforwardStore(tmp_path / "old.sqlite") as old,
    ):
        day = start
        for _ in range(14):
            step = rng.random()
            if step < 0.15:
                as_of = day  # the same day recorded again
            elif step < 0.25:
                as_of = day - timedelta(days=rng.randint(1, 3))  # an earlier day
            else:
                day = as_of = day + timedelta(days=rng.randint(1, 2))
            recorded = random_cycle(rng, as_of, coops)
            new.record_cycle(recorded)
            old.record_cycle(recorded)
            got, want = dump(new.conn), dump(old.conn)
            assert got["problem"] == want["problem"], (seed, as_of)
            assert got["coop_day"] == want["coop_day"], (seed, as_of)
            assert without_clock(got["city_day"]) == without_clock(want["city_day"])
        assert dump(new.conn)["problem"], "the histories must record some problems"


def test_counts_follow_an_appended_issue():
    r = result("32.01", issues=[Issue("required-missing"), Issue("column-duplicate")])
    assert (r.galat, r.peringatan, len(r.open_issues)) == (1, 1, 2)
    r.issues.append(Issue("feedback-not-written", tab="Hasil Pemeriksaan"))
    assert (r.galat, r.peringatan, len(r.open_issues)) == (1, 2, 3)
    r.issues = [Issue("column-duplicate", ticked=True)]
    assert (r.galat, r.peringatan, r.open_issues) == (0, 0, [])
