"""The scheduled service: WIB times on any machine, catch-up, failures, the lock, signals, crashes."""

from __future__ import annotations

import asyncio
import email
import itertools
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import python_calamine
from aiosmtpd.controller import Controller

from kkmp_sheets import config
from kkmp_sheets.cli import main
from kkmp_sheets.clock import SimulatedClock
from kkmp_sheets.core.template import FEEDBACK_TAB
from kkmp_sheets.demo import DemoCity, build_demo_city
from kkmp_sheets.errors import ConfigError, KkmpError, ServiceLocked
from kkmp_sheets.service.lock import LOCK_FILE, ServiceLock
from kkmp_sheets.service.serve import Service
from kkmp_sheets.service.status import STATUS_FILE, JobRun, StatusFile

WIB = ZoneInfo("Asia/Jakarta")
ROOT = Path(__file__).resolve().parents[1]
DRIVER = Path(__file__).resolve().parent / "serve_driver.py"


def at(day: int, hour: int, minute: int = 0, month: int = 1) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=WIB)


def write_config(folder: Path, extra: str = "", mail: str = "") -> config.Config:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "city.toml"
    path.write_text(
        '[city]\nname = "Kota Uji"\nkode_wilayah = "31.73"\n'
        '[source]\nkind = "local"\nregistry = "registry.csv"\n'
        '[output]\nkind = "local"\n'
        + (mail or '[mail]\nkind = "outbox"\noperator = "it@dinas.example"\n')
        + extra,
        encoding="utf-8",
    )
    return config.load(path)


class Recorder(Service):
    """The real loop, wrapper and catch-up, with jobs that only note when they ran."""

    def __init__(self, cfg: config.Config, clock: SimulatedClock, **kw) -> None:
        super().__init__(cfg, clock=clock, on_job=self.runs.append)
        self.calls: list[tuple[str, datetime]] = []
        self.fail: set[str] = set(kw.get("fail", ()))
        self.during: dict[str, object] = dict(kw.get("during", {}))

    runs: list[JobRun]

    def _call(self, name: str) -> str:
        self.calls.append((name, self.clock.now()))
        action = self.during.pop(name, None)
        if callable(action):
            action()
        if name in self.fail:
            raise KkmpError(f"registry {self.cfg.registry} not found (a test)")
        return f"{name} done"

    def sync(self) -> str:
        return self._call("sync")

    def daily_digest(self) -> str:
        return self._call("daily")

    def weekly_digest(self) -> str:
        return self._call("weekly")


def recorder(cfg: config.Config, start: datetime, **kw) -> Recorder:
    Recorder.runs = []
    return Recorder(cfg, SimulatedClock(start), **kw)


def times(service: Recorder, job: str) -> list[datetime]:
    return [when for name, when in service.calls if name == job]


@pytest.fixture(params=["UTC", "America/Sao_Paulo"])
def machine_tz(request, monkeypatch):
    """The machine's own time zone is not WIB (and one of them has daylight saving time)."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


# --- when jobs fire ------------------------------------------------------------------------------


def test_jobs_fire_at_their_wib_times_whatever_the_machine_time_zone(tmp_path, machine_tz):
    assert time.strftime("%Z") != "WIB"
    cfg = write_config(
        tmp_path,
        '[schedule]\nsync_every_minutes = 120\ndaily_digest_at = "07:00"\n'
        'weekly_digest_day = "monday"\nweekly_digest_at = "07:30"\n',
    )
    service = recorder(cfg, at(29, 5, 0))  # a Thursday, 05:00 WIB
    service.run(until=at(3, 8, 0, month=2))

    daily = times(service, "daily")
    assert daily == [at(d, 7, 0) for d in (29, 30, 31)] + [at(d, 7, 0, 2) for d in (1, 2, 3)]
    assert all(t.tzinfo == WIB and t.utcoffset() == timedelta(hours=7) for t in daily)
    # This week's cooperative digests were due on Monday: sent once on start, then next Monday.
    assert times(service, "weekly") == [at(29, 5, 0), at(2, 7, 30, 2)]
    syncs = times(service, "sync")
    assert syncs[0] == at(29, 5, 0)
    assert {b - a for a, b in itertools.pairwise(syncs)} == {timedelta(hours=2)}
    # When a sync and the daily digests fall due together, the sync runs first.
    assert service.calls.index(("sync", at(29, 7, 0))) < service.calls.index(("daily", daily[0]))
    catch_up = [r.job for r in service.runs if r.catch_up]
    assert catch_up == ["sync", "weekly"]


def test_after_three_days_down_one_sync_and_one_late_daily_digest(tmp_path, machine_tz):
    cfg = write_config(tmp_path, "[schedule]\nsync_every_minutes = 60\n")
    StatusFile(cfg.data_dir / STATUS_FILE).write(
        {
            "service": {"state": "running", "started_at": at(20, 6, 0).isoformat()},
            "jobs": {
                "sync": {"last_success": at(26, 10, 0).isoformat(), "running_since": None},
                "daily": {"last_success": at(26, 7, 0).isoformat()},
                "weekly": {"last_success": at(26, 7, 0).isoformat()},  # Monday's were sent
            },
        }
    )
    service = recorder(cfg, at(29, 10, 15))  # Thursday 10:15: three days later
    service.run(until=at(29, 12, 30))
    assert service.calls[:2] == [("sync", at(29, 10, 15)), ("daily", at(29, 10, 15))]
    assert [r.job for r in service.runs if r.catch_up] == ["sync", "daily"]
    assert times(service, "sync") == [at(29, 10, 15), at(29, 11, 15), at(29, 12, 15)]
    assert times(service, "daily") == [at(29, 10, 15)]  # once, late; not again today
    assert times(service, "weekly") == []
    jobs = StatusFile(cfg.data_dir / STATUS_FILE).read()["jobs"]
    assert jobs["daily"]["last_success"] == at(29, 10, 15).isoformat()


def test_a_machine_asleep_for_days_runs_each_overdue_job_once(tmp_path):
    class SleepyClock(SimulatedClock):
        """The lid closes after the 08:00 sync, and opens three days later."""

        slept = False

        def sleep(self, seconds, stop=None):
            if not self.slept and self.now() >= at(29, 8, 0):
                self.slept = True
                self.advance(timedelta(days=3).total_seconds())
            else:
                super().sleep(seconds, stop)

    cfg = write_config(tmp_path, "[schedule]\nsync_every_minutes = 30\n")
    Recorder.runs = []
    service = Recorder(cfg, SleepyClock(at(29, 6, 0)))
    service.run(until=at(1, 8, 15, month=2))
    gap = [c for c in service.calls if c[1] > at(29, 8, 0)]
    assert gap == [("sync", at(1, 8, 0, 2)), ("daily", at(1, 8, 0, 2))]  # one each, not 3 days'


def test_a_recent_sync_keeps_its_rhythm_after_a_restart(tmp_path):
    cfg = write_config(tmp_path, "[schedule]\nsync_every_minutes = 60\n")
    StatusFile(cfg.data_dir / STATUS_FILE).write(
        {"jobs": {"sync": {"last_success": at(29, 9, 40).isoformat()}}}
    )
    service = recorder(cfg, at(29, 6, 0) + timedelta(hours=4))  # 10:00, 20 minutes later
    service.run(until=at(29, 11, 0))
    assert times(service, "sync") == [at(29, 10, 40)]
    assert times(service, "daily") == [at(29, 10, 0)]  # today's 07:00 was not sent: sent now


# --- one boundary catches ------------------------------------------------------------------------


def test_a_failing_job_is_reported_and_the_loop_goes_on(tmp_path, caplog):
    cfg = write_config(tmp_path, "[schedule]\nsync_every_minutes = 15\n")
    service = recorder(cfg, at(29, 6, 0), fail={"sync"})
    service.run(until=at(29, 8, 10))
    syncs = times(service, "sync")
    assert len(syncs) == 9 and times(service, "daily") == [at(29, 7, 0)]
    jobs = StatusFile(cfg.data_dir / STATUS_FILE).read()["jobs"]
    assert jobs["sync"]["last_outcome"] == "failed" and jobs["sync"]["failures"] == 9
    assert "not found (a test)" in jobs["sync"]["last_message"]
    assert jobs["daily"]["last_outcome"] == "ok"
    notices = sorted((tmp_path / "out" / "outbox").glob("operator_*.eml"))
    assert len(notices) == 3  # at most one an hour: 06, 07 and 08 o'clock
    msg = email.message_from_bytes(notices[0].read_bytes())
    assert msg["To"] == "it@dinas.example" and "sync job failed" in msg["Subject"]
    assert "failed at 2026-01-29 06:00 WIB" in msg.get_payload(decode=True).decode()
    assert "sync: failed after" in caplog.text


def test_status_command_tells_when_each_job_ran(tmp_path, capsys):
    cfg = write_config(tmp_path, "[schedule]\nsync_every_minutes = 30\n")
    assert main(["status", "--config", str(cfg.path)]) == 0
    assert "has never run" in capsys.readouterr().out
    recorder(cfg, at(29, 6, 45)).run(until=at(29, 7, 20))
    assert main(["status", "--config", str(cfg.path)]) == 0
    out = capsys.readouterr().out
    assert "not running (stopped 2026-01-29 07:20 WIB)" in out
    assert "sync    every 30 min      2026-01-29 07:15  ok" in out
    assert "daily   daily 07:00 WIB   2026-01-29 07:00  ok" in out
    assert main(["status", "--config", str(cfg.path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["jobs"]["sync"]["runs"] == 2  # 06:45, 07:15


# --- one instance; signals -----------------------------------------------------------------------


def test_a_second_instance_is_refused(tmp_path, capsys):
    cfg = write_config(tmp_path)
    lock = cfg.data_dir / LOCK_FILE
    with ServiceLock(lock):
        assert ServiceLock.holder(lock) == os.getpid()
        with pytest.raises(ServiceLocked, match=f"pid {os.getpid()}"), ServiceLock(lock):
            pass
        assert main(["serve", "--config", str(cfg.path)]) == 5
        assert "already runs with the data folder" in capsys.readouterr().err
        assert main(["status", "--config", str(cfg.path)]) == 0
        assert f"running (pid {os.getpid()}" in capsys.readouterr().out
    assert ServiceLock.holder(lock) is None
    with ServiceLock(lock):  # released: free again
        pass


def test_a_killed_holder_leaves_no_stuck_lock(tmp_path):
    lock = tmp_path / "data" / LOCK_FILE
    code = (
        "import sys, time\nfrom pathlib import Path\nfrom kkmp_sheets.service.lock import ServiceLock\n"
        f"with ServiceLock(Path({str(lock)!r})):\n    print('held', flush=True)\n    time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert ServiceLock.holder(lock) == holder.pid
        with pytest.raises(ServiceLocked), ServiceLock(lock):
            pass
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs
        holder.wait(timeout=10)
        holder.stdout.close()
    assert ServiceLock.holder(lock) is None
    with ServiceLock(lock):
        assert ServiceLock.holder(lock) == os.getpid()


def test_sigterm_stops_between_jobs(tmp_path):
    cfg = write_config(tmp_path, "[schedule]\nsync_every_minutes = 5\n")
    before = signal.getsignal(signal.SIGTERM)
    finished = []

    def terminate() -> None:  # arrives in the middle of the sync, which must still finish
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        finished.append(True)

    service = recorder(cfg, at(29, 6, 0), during={"sync": terminate})
    service.run(until=at(29, 9, 0))
    assert finished == [True]
    assert [name for name, _ in service.calls] == ["sync"]  # the weekly catch-up never started
    status = StatusFile(cfg.data_dir / STATUS_FILE).read()
    assert status["jobs"]["sync"]["last_outcome"] == "ok"
    assert status["service"]["state"] == "stopped"
    assert signal.getsignal(signal.SIGTERM) is before


# --- the real jobs -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_city(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    return build_demo_city(tmp_path_factory.mktemp("layanan") / "kota", size=5)


def test_real_jobs_on_a_demo_city(small_city, tmp_path, capsys):
    cfg = config.load(small_city.config_path)
    runs: list[JobRun] = []
    service = Service(cfg, clock=SimulatedClock(at(29, 6, 40)), on_job=runs.append)
    service.run(until=at(29, 8, 0))
    assert [(r.job, f"{r.started:%H:%M}", r.ok) for r in runs] == [
        ("sync", "06:40", True),
        ("weekly", "06:40", True),
        ("daily", "07:00", True),
        ("sync", "07:40", True),
    ]
    outbox = Counter(p.name.split("_")[0] for p in cfg.outbox_dir.glob("*.eml"))
    assert outbox["city"] == 1 and outbox["coop"] == 5 and outbox["kecamatan"] >= 1
    assert "operator" not in outbox
    assert main(["status", "--config", str(cfg.path)]) == 0
    shown = capsys.readouterr().out + (cfg.data_dir / STATUS_FILE).read_text(encoding="utf-8")
    assert "5 cooperatives" in shown
    assert not [s for nik, name in small_city.people for s in (nik, name) if s in shown]


def test_serve_from_the_command_line_stops_cleanly_on_sigterm(small_city, tmp_path):
    root = tmp_path / "kota"
    _copy_city(small_city, root)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kkmp_sheets", "serve", "--config", str(root / "city.toml")],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    status = StatusFile(root / "out" / "data" / STATUS_FILE)
    try:
        _wait_for(lambda: status.read().get("jobs", {}).get("sync", {}).get("runs"), proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "SIGTERM received: stopping after the current job" in err
    assert status.read()["service"]["state"] == "stopped"


# --- kill -9 in the middle of a cycle, then start again --------------------------------------


@dataclass
class Mailbox:
    received: list[tuple[str, str]] = field(default_factory=list)  # (Message-ID, recipient)

    async def handle_DATA(self, server, session, envelope):
        message_id = email.message_from_bytes(envelope.original_content)["Message-ID"]
        self.received.extend((message_id, rcpt.lower()) for rcpt in envelope.rcpt_tos)
        await asyncio.sleep(0)
        return "250 2.0.0 Message accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _copy_city(city: DemoCity, root: Path) -> None:
    import shutil

    shutil.copytree(city.root, root, ignore=shutil.ignore_patterns("out"))


def _wait_for(condition, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the service ended early ({proc.returncode})")
        time.sleep(0.02)
    raise AssertionError("timed out")


def _data_tabs(path: Path) -> dict[str, list]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {
        n: book.get_sheet_by_name(n).to_python(skip_empty_area=False)
        for n in book.sheet_names
        if n != FEEDBACK_TAB
    }


@pytest.mark.slow
def test_kill_9_during_cycles_then_restart(small_city, tmp_path):
    root = tmp_path / "kota"
    _copy_city(small_city, root)
    handler = Mailbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    cfg_path = root / "city.toml"
    cfg_path.write_text(
        cfg_path.read_text(encoding="utf-8").replace(
            '[mail]\nkind = "outbox"             # or "smtp"\ndir = "out/outbox"\n',
            f'[mail]\nkind = "smtp"\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            'sender = "kkmp@dinas.example"\nofficials = ["kadis@dinas.example"]\n'
            'operator = "it@dinas.example"\n'
            '[schedule]\nsync_every_minutes = 10\ndaily_digest_at = "07:00"\n',
        ),
        encoding="utf-8",
    )
    assert "smtp" in cfg_path.read_text(encoding="utf-8")
    before = {p: _data_tabs(p) for p in small_city.workbooks}
    data = root / "out" / "data"
    status = StatusFile(data / STATUS_FILE)
    start = at(29, 6, 57)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def serve(begin: datetime, until: datetime) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, str(DRIVER), str(cfg_path), begin.isoformat(), until.isoformat()],
            stderr=subprocess.DEVNULL,
            env=env,
        )

    def busy(proc: subprocess.Popen) -> bool:
        """This process (not a killed one before it) has a job running."""
        now = status.read()
        jobs = now.get("jobs", {}).values()
        return now.get("service", {}).get("pid") == proc.pid and any(
            j.get("running_since") for j in jobs
        )

    kills = (0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.1, 2.5)  # seconds into a job: spread over a cycle
    try:
        for i, delay in enumerate(kills):
            proc = serve(start + timedelta(minutes=2 * i), start + timedelta(hours=2))
            try:
                _wait_for(lambda p=proc: busy(p), proc)
                time.sleep(delay)
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
            # Killed wherever it was: the status workbook is the old one or the new one.
            out = root / "out" / "status-kota.xlsx"
            if out.exists():
                assert "Riwayat" in python_calamine.CalamineWorkbook.from_path(str(out)).sheet_names

        last = serve(start + timedelta(minutes=2 * len(kills)), start + timedelta(hours=2))
        assert last.wait(timeout=240) == 0
    finally:
        controller.stop()

    copies = Counter(handler.received)
    assert copies and max(copies.values()) == 1, [k for k, n in copies.items() if n > 1]
    with sqlite3.connect(data / "deliveries.sqlite") as ledger:
        uncertain = ledger.execute(
            "SELECT kind, audience FROM deliveries WHERE state = 'sending'"
        ).fetchall()
        sent = ledger.execute(
            "SELECT COUNT(*) FROM deliveries WHERE kind = 'city' AND state = 'sent'"
        ).fetchone()[0]
    ledger.close()
    city_mail = [k for k in copies if k[1] == "kadis@dinas.example"]
    assert (
        len(city_mail) + len([u for u in uncertain if u[0] == "city"])
        == 1
        == sent + len([u for u in uncertain if u[0] == "city"])
    )
    for name in ("history.sqlite", "deliveries.sqlite"):
        conn = sqlite3.connect(data / name)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            conn.close()
    assert (
        "Riwayat"
        in python_calamine.CalamineWorkbook.from_path(
            str(root / "out" / "status-kota.xlsx")
        ).sheet_names
    )
    for path in small_city.workbooks:  # the cooperatives' own data never changed
        assert _data_tabs(root / path.relative_to(small_city.root)) == before[path]
    jobs = status.read()["jobs"]
    assert {jobs[j]["last_outcome"] for j in ("sync", "daily", "weekly")} == {"ok"}


def test_riwayat_comes_from_the_store_when_the_status_workbook_is_lost(small_city, tmp_path):
    root = tmp_path / "kota"
    _copy_city(small_city, root)
    cfg = config.load(root / "city.toml")
    for day in (27, 28):
        Service(cfg, clock=SimulatedClock(at(day, 9, 0))).sync()
    (root / "out" / "status-kota.xlsx").unlink()  # deleted, or a half-restored backup
    Service(cfg, clock=SimulatedClock(at(29, 9, 0))).sync()
    book = python_calamine.CalamineWorkbook.from_path(str(root / "out" / "status-kota.xlsx"))
    rows = book.get_sheet_by_name("Riwayat").to_python()[2:]
    assert [r[0] for r in rows] == [at(d, 0).date() for d in (27, 28, 29)]


# --- the service's config ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("[schedule]\nsync_every_minutes = 0\n", "[schedule] sync_every_minutes = 0"),
        ('[schedule]\ndaily_digest_at = "7 pagi"\n', "HH:MM"),
        ('[schedule]\nweekly_digest_at = "24:00"\n', "[schedule] weekly_digest_at"),
        ('[schedule]\nweekly_digest_day = "senin"\n', "'monday' or 'tuesday'"),
        ("[protection]\nmax_drop_share = 1.5\n", "[protection] max_drop_share = 1.5"),
        ("[protection]\nmin_rows = -1\n", "[protection] min_rows = -1"),
        ("[history]\nsnapshot_days = 0\n", "[history] snapshot_days = 0"),
        ("[history]\nsnapshot_day = 30\n", "did you mean 'snapshot_days'"),
    ],
)
def test_service_settings_are_checked(tmp_path, section, problem):
    with pytest.raises(ConfigError, match=re.escape(problem)):
        write_config(tmp_path, section)


def test_service_settings_read_as_given(tmp_path):
    cfg = write_config(
        tmp_path,
        '[schedule]\nsync_every_minutes = 20\ndaily_digest_at = "6:30"\n'
        'weekly_digest_day = "friday"\nweekly_digest_at = "16.00"\n'
        "[protection]\nmax_drop_share = 0.3\nmin_rows = 50\n[history]\nsnapshot_days = 30\n",
    )
    s = cfg.schedule
    assert (s.sync_every_minutes, s.daily_digest_at, s.weekly_digest_day, s.weekly_digest_at) == (
        20,
        dtime(6, 30),
        "friday",
        dtime(16, 0),
    )
    assert (cfg.protection.max_drop_share, cfg.protection.min_rows, cfg.snapshot_days) == (
        0.3,
        50,
        30,
    )
    with pytest.raises(ConfigError, match="operator"):
        write_config(tmp_path / "x", mail='[mail]\nkind = "outbox"\noperator = "it-dinas"\n')
