"""Hasil Pemeriksaan written by writer processes (`sources/feedback_writers.py`): a write that
fails in a worker (read-only file, open in a spreadsheet program, saved by staff meanwhile) is
reported on its own cooperative only, and every other workbook is written.

That the writes of 1, 2 and 3 workers leave the very same workbooks is `test_pool.py`'s."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import python_calamine

from kkmp_sheets import config
from kkmp_sheets.core.template import FEEDBACK_TAB
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.service.cycle import load_registry, run_cycle
from kkmp_sheets.service.wiring import make_sink, make_source
from kkmp_sheets.sources.xlsx_patch.staging import STAGING_FOLDER
from kkmp_sheets.store.history import HistoryStore
from kkmp_sheets.store.results_cache import last_feedback

NOW = datetime(2026, 1, 28, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def _tabs(path: Path) -> list[str]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names


def _keep_saving(path: Path, stop: threading.Event) -> None:
    """Staff saving the workbook again and again: its change time moves all the while."""
    info = path.stat()
    step = 0
    while not stop.is_set():
        step += 1
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + step))


def test_a_failing_write_in_a_worker_is_reported_on_its_cooperative_only(tmp_path: Path) -> None:
    city = build_demo_city(tmp_path / "city", size=8).root
    cfg = replace(config.load(city / "city.toml"), workers=2)
    source = make_source(cfg)
    registry = load_registry(cfg, source)
    books = {coop.id: source.locate(coop) for coop in registry[0]}
    ids = list(books)
    read_only, locked, saved = ids[1], ids[3], ids[6]
    books[read_only].chmod(0o444)
    lock = books[locked].with_name(f".~lock.{books[locked].name}#")
    lock.write_text("staff,PC,01.01.2026", encoding="utf-8")
    stop = threading.Event()
    saver = threading.Thread(target=_keep_saving, args=(books[saved], stop), daemon=True)
    saver.start()
    try:
        with HistoryStore.for_config(cfg) as store:
            cycle = run_cycle(
                cfg,
                source=source,
                sink=make_sink(cfg),
                as_of=NOW.date(),
                now=NOW,
                store=store,
                registry=registry,
            )
            written_rows = {coop: last_feedback(store.conn, coop) for coop in ids}
    finally:
        stop.set()
        saver.join()
        source.close()

    expected = {
        read_only: "feedback-read-only",
        locked: "feedback-open-elsewhere",
        saved: "feedback-changed",
    }
    readable = {r.coop.id for r in cycle.results if r.figures.readable}
    assert set(expected) <= readable
    for result in cycle.results:
        if result.coop.id not in readable:
            continue
        codes = {issue.code for issue in result.issues if issue.code.startswith("feedback-")}
        coop = result.coop.id
        if coop in expected:
            assert codes == {expected[coop]}, (coop, codes)
            assert written_rows[coop] is None, coop  # nothing booked for a failed write
            assert FEEDBACK_TAB not in _tabs(books[coop]), coop
        else:
            assert codes == set(), (coop, codes)
            assert written_rows[coop] is not None, coop
            assert FEEDBACK_TAB in _tabs(books[coop]), coop
    assert sorted(coop for coop, _ in cycle.feedback_failed) == sorted(expected)
    assert cycle.feedback_written == len(readable) - len(expected)
    # Nothing left behind: beside the workbooks (but staff's lock file) or in the staging folder.
    beside = {p.name for p in books[ids[0]].parent.iterdir()} - {p.name for p in books.values()}
    assert beside == {lock.name}
    staging = cfg.data_dir / STAGING_FOLDER
    assert not staging.exists() or list(staging.iterdir()) == []
