"""`kkmp-sheets serve`: the schedule that runs the service by itself, day after day.

Three jobs, their times in WIB from `[schedule]`:

- **sync**, every `sync_every_minutes`: one cycle (read and snapshot every workbook, check,
  write the status workbook and each Hasil Pemeriksaan), recorded in the history store; then
  the penanggung jawab alerts that this cycle detects; then old snapshots are pruned.
- **daily**, at `daily_digest_at`: the city and kecamatan digests.
- **weekly**, on `weekly_digest_day` at `weekly_digest_at`: the cooperative digests.

A digest job uses the day's latest sync, and runs one first when there is none for today.
Every digest still goes through the delivery ledger, so nothing is sent twice whatever runs
again after a crash.

**The clock.** The loop is `schedule` with a private `Scheduler`. `schedule` reads the wall
clock as naive local time through `datetime.datetime.now()`; while the loop runs, that call
answers from the service's `Clock` in WIB wall time (`_schedule_reads`). So `at("07:00")`
means 07:00 WIB whatever time zone the machine is set to, and tests and simulations run on a
`SimulatedClock` without waiting. Asia/Jakarta has no daylight saving time: WIB wall time never
repeats or skips an hour.

**One boundary catches.** `Service.run_job` is the one place a job's exception is caught: it
is logged with its duration, recorded in `<data dir>/status.json` (written atomically; read by
`kkmp-sheets status`), and mailed to `[mail] operator` at most once per job per hour. The loop
goes on.

**One instance.** `<data dir>/serve.lock` is held with `flock` for the life of the process.
The kernel releases it when the process ends in any way, so a crash or `kill -9` never leaves a
stale lock; a second instance is refused (`ServiceLocked`, exit code 5).

**Stopping.** SIGTERM or SIGINT sets a stop flag that the loop checks between jobs: a running
job finishes (its writes are atomic anyway), the next one does not start. A second signal
stops at once.

**Catching up.** `schedule` runs a job whose time passed while the machine slept once, not once
per missed slot. On start, after downtime: one sync at once when the last successful one is
older than the interval; today's daily digest, late and once, when its time has passed and it
was not sent; the same for this week's cooperative digests.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import schedule

from kkmp_sheets import __version__
from kkmp_sheets.clock import Clock, SystemClock
from kkmp_sheets.config import WEEKDAYS, Config
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.errors import KkmpError
from kkmp_sheets.service.lock import LOCK_FILE, ServiceLock
from kkmp_sheets.service.status import (
    STATUS_FILE,
    JobRun,
    StatusFile,
    job_finished,
    job_started,
    stamp,
)

if TYPE_CHECKING:
    from kkmp_sheets.core.results import CycleResult

log = logging.getLogger(__name__)
MAX_SLEEP_SECONDS = 60.0  # wake at least this often: a clock that jumped is noticed
DAILY_KINDS = ("city", "kecamatan")
WEEKLY_KINDS = ("coop",)
SYNC_KINDS = ("alert",)


# --- the clock -----------------------------------------------------------------------------------


class StopFlag:
    """Set from a signal handler, read by the loop: a plain flag (no lock a handler could block on)."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


@contextmanager
def _schedule_reads(clock: Clock) -> Iterator[None]:
    """While inside, `schedule` reads the time from `clock`, as naive WIB wall time."""

    class WibDatetime(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            moment = clock.now()
            if tz is not None:
                return moment.astimezone(tz)
            return moment.astimezone(WIB).replace(tzinfo=None)

    module = vars(schedule)
    real = module["datetime"]
    shim = types.SimpleNamespace(**{k: v for k, v in vars(real).items() if not k.startswith("__")})
    shim.datetime = WibDatetime
    module["datetime"] = shim
    try:
        yield
    finally:
        module["datetime"] = real


def _naive_wib(moment: datetime) -> datetime:
    return moment.astimezone(WIB).replace(tzinfo=None)


def _aware_wib(naive: datetime) -> datetime:
    return naive.replace(tzinfo=WIB)


# --- the service ---------------------------------------------------------------------------------


class Service:
    """The scheduled service for one config. `run()` until stopped (or `until`, in simulations)."""

    def __init__(
        self,
        cfg: Config,
        *,
        clock: Clock | None = None,
        on_job: Callable[[JobRun], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.clock: Clock = clock or SystemClock()
        self.on_job = on_job
        self.status = StatusFile(cfg.data_dir / STATUS_FILE)
        self.stop = StopFlag()
        self.scheduler = schedule.Scheduler()
        self.last_cycle: CycleResult | None = None  # of the latest successful sync
        self._catching_up = False

    # --- the loop

    def run(self, *, until: datetime | None = None) -> None:
        """Hold the lock, catch up, then run jobs as they fall due until stopped."""
        lock = ServiceLock(self.cfg.data_dir / LOCK_FILE)
        with lock, self._signals(), _schedule_reads(self.clock):
            self._started()
            try:
                self._plan()
                self.catch_up()
                while not self.stop.is_set():
                    now = self.clock.now()
                    if until is not None and now >= until:
                        break
                    self.scheduler.run_pending()
                    self._record_next_runs()
                    idle = self.scheduler.idle_seconds
                    wait = MAX_SLEEP_SECONDS if idle is None else max(0.0, idle)
                    wait = min(wait, MAX_SLEEP_SECONDS)
                    if until is not None:
                        wait = min(wait, max(0.0, (until - now).total_seconds()))
                    if wait > 0:
                        self.clock.sleep(wait, self.stop)
            finally:
                self._stopped()

    def _plan(self) -> None:
        s = self.cfg.schedule
        every = s.sync_every_minutes
        sync = self.scheduler.every(every).minutes.do(self.run_job, "sync", self.sync)
        sync.tag("sync")
        last = self.status.last_success("sync")
        now = self.clock.now()
        if last is not None and now - timedelta(minutes=every) < last <= now:
            sync.next_run = _naive_wib(last + timedelta(minutes=every))  # keep the rhythm
        daily = self.scheduler.every().day.at(f"{s.daily_digest_at:%H:%M}")
        daily.do(self.run_job, "daily", self.daily_digest).tag("daily")
        weekly = getattr(self.scheduler.every(), s.weekly_digest_day)
        weekly.at(f"{s.weekly_digest_at:%H:%M}").do(self.run_job, "weekly", self.weekly_digest).tag(
            "weekly"
        )
        log.info(
            "schedule: sync every %d min, daily digests at %s WIB, cooperative digests on %s "
            "at %s WIB",
            every,
            f"{s.daily_digest_at:%H:%M}",
            s.weekly_digest_day,
            f"{s.weekly_digest_at:%H:%M}",
        )

    def catch_up(self) -> None:
        """After downtime: one sync, and the digests whose time passed while nobody sent them."""
        self._catching_up = True
        try:
            now = self.clock.now()
            last = self.status.last_success("sync")
            interval = timedelta(minutes=self.cfg.schedule.sync_every_minutes)
            if last is None or not now - interval < last <= now:
                self.run_job("sync", self.sync)
            # Done means the whole job finished (status.json). The ledger alone cannot say so: a
            # crash may fall between the city digest and the kecamatan ones. Running it again
            # sends only what is missing; the ledger never sends anything twice.
            daily = self._daily_slot(now.date())
            if now >= daily and not self._done_since("daily", daily):
                self.run_job("daily", self.daily_digest)
            slot = self._weekly_slot(now)
            if now >= slot and not self._done_since("weekly", slot):
                self.run_job("weekly", self.weekly_digest)
        finally:
            self._catching_up = False

    def _daily_slot(self, day: date) -> datetime:
        return datetime.combine(day, self.cfg.schedule.daily_digest_at, WIB)

    def _weekly_slot(self, now: datetime) -> datetime:
        """This ISO week's slot of the cooperative digests."""
        today = now.astimezone(WIB).date()
        day = today - timedelta(days=today.weekday())
        day += timedelta(days=WEEKDAYS.index(self.cfg.schedule.weekly_digest_day))
        return datetime.combine(day, self.cfg.schedule.weekly_digest_at, WIB)

    def _done_since(self, job: str, slot: datetime) -> bool:
        last = self.status.last_success(job)
        return last is not None and last >= slot

    # --- the one wrapper

    def run_job(self, name: str, job: Callable[[], str]) -> None:
        """Run one job: logged, timed, its outcome in status.json; a failure goes to the
        operator and never out of here (the loop goes on)."""
        if self.stop.is_set():
            log.info("%s: not started, the service is stopping", name)
            return
        started = self.clock.now()
        began = time.perf_counter()
        late = self._catching_up
        self.status.update(lambda d: job_started(d, name, started))
        log.info("%s: started%s", name, " (catching up)" if late else "")
        try:
            message = job()
        except Exception as exc:
            seconds = time.perf_counter() - began
            # A KkmpError says what to fix; anything else is a bug: keep its traceback.
            log.error(
                "%s: failed after %.1f s: %s",
                name,
                seconds,
                exc,
                exc_info=not isinstance(exc, KkmpError),
            )
            outcome = JobRun(name, started, seconds, False, _one_line(exc), late)
            self.status.update(lambda d: job_finished(d, outcome, self.clock.now()))
            self._tell_operator(outcome)
        else:
            seconds = time.perf_counter() - began
            log.info("%s: done in %.1f s: %s", name, seconds, message)
            outcome = JobRun(name, started, seconds, True, message, late)
            self.status.update(lambda d: job_finished(d, outcome, self.clock.now()))
        if self.on_job is not None:
            self.on_job(outcome)

    def _tell_operator(self, run: JobRun) -> None:
        from kkmp_sheets.service.notify import notify_operator

        now = self.clock.now()
        subject = f"kkmp-sheets: the {run.job} job failed ({self.cfg.city_name})"
        text = (
            f"The {run.job} job of kkmp-sheets for {self.cfg.city_name} failed at "
            f"{run.started:%Y-%m-%d %H:%M} WIB after {run.seconds:.1f} s:\n\n"
            f"    {run.message}\n\n"
            f"The service keeps running and tries again at the next scheduled time.\n"
            f"Where to look: `kkmp-sheets status --config {self.cfg.path}` and the log "
            f"(journalctl -u kkmp-sheets).\n"
            f"This notice is sent at most once an hour for each job.\n"
        )
        try:
            report = notify_operator(self.cfg, run.job, subject, text, now)
            log.info("operator notice for %s: %s", run.job, report)
        except Exception as exc:  # telling must never stop the loop either
            log.error("could not tell the operator that %s failed: %s", run.job, exc)

    # --- the jobs

    def sync(self) -> str:
        """One cycle, recorded; then the alerts it detects; then snapshot retention."""
        if self.cfg.source_kind == "federation":  # a province or the nation
            from kkmp_sheets.service.federation import federation_job

            return federation_job(self.cfg, self.clock.now(), SYNC_KINDS)
        from kkmp_sheets.service.cycle import run_cycle
        from kkmp_sheets.service.notify import record_and_notify
        from kkmp_sheets.service.wiring import close, make_sink, make_source
        from kkmp_sheets.store.history import HistoryStore

        now = self.clock.now()
        cfg = self.cfg
        source = make_source(cfg)
        sink = make_sink(cfg, source=source)  # Google mode: the sink uses the source's listing
        try:
            with HistoryStore.for_config(cfg) as store:
                cycle = run_cycle(
                    cfg, source=source, sink=sink, as_of=now.date(), now=now, store=store
                )
                pruned = store.prune(cfg.snapshot_days, now=now)
        finally:
            close(source, sink)  # Google mode: its HTTP sessions and state file
        notified = record_and_notify(cycle, cfg, self.clock.now(), kinds=SYNC_KINDS)
        self.last_cycle = cycle  # recorded: the digest jobs may use it
        s = cycle.summary
        held = sum(1 for r in cycle.results if any(i.code == "likely-deletion" for i in r.issues))
        parts = [
            f"{s.jumlah} cooperatives ({s.hijau} Hijau, {s.kuning} Kuning, {s.merah} Merah)",
            f"{len(cycle.unreadable)} unreadable",
            f"{held} held (likely deletion)",
            f"{len(notified.digests)} alerts",
        ]
        if pruned.snapshots:
            parts.append(str(pruned))
        return "; ".join(parts)

    def daily_digest(self) -> str:
        return self._digests("daily", DAILY_KINDS)

    def weekly_digest(self) -> str:
        return self._digests("weekly", WEEKLY_KINDS)

    def _digests(self, job: str, kinds: tuple[str, ...]) -> str:
        from kkmp_sheets.service.notify import record_and_notify

        if self.cfg.source_kind == "federation":  # its own cycle, then its digest
            from kkmp_sheets.service.federation import federation_job

            return federation_job(self.cfg, self.clock.now(), kinds)
        today = self.clock.now().date()
        if self.last_cycle is None or self.last_cycle.as_of != today:
            log.info("%s: no sync yet today; running one first", job)
            self.run_job("sync", self.sync)
        cycle = self.last_cycle
        if cycle is None or cycle.as_of != today:
            raise KkmpError(f"no cycle for {today}: the sync before the digests failed")
        notified = record_and_notify(cycle, self.cfg, self.clock.now(), record=False, kinds=kinds)
        report = notified.report
        return (
            f"{len(notified.digests)} digests ({', '.join(kinds)}); sent {report.sent}, "
            f"already sent {report.skipped_already_sent}, queued {report.queued_for_retry}, "
            f"failed {report.failed_permanent}, uncertain {report.uncertain}"
            if report is not None
            else f"{len(notified.digests)} digests"
        )

    # --- status and signals

    def _started(self) -> None:
        now = self.clock.now()

        def change(d: dict[str, Any]) -> None:
            for job in d.get("jobs", {}).values():
                if job.get("running_since"):  # the previous process died inside this job
                    job["last_outcome"] = "interrupted"
                    job["last_message"] = "the service stopped during this run"
                    job["running_since"] = None
            d["service"] = {
                "state": "running",
                "pid": os.getpid(),
                "version": __version__,
                "config": str(self.cfg.path),
                "city": self.cfg.city_name,
                "started_at": stamp(now),
                "stopped_at": None,
            }
            jobs = d.setdefault("jobs", {})
            for name, when in self._describe().items():
                jobs.setdefault(name, {})["schedule"] = when

        self.status.update(change)
        log.info("kkmp-sheets %s serving %s (pid %d)", __version__, self.cfg.path, os.getpid())

    def _stopped(self) -> None:
        def change(d: dict[str, Any]) -> None:
            d.setdefault("service", {}).update(state="stopped", stopped_at=stamp(now))
            for job in d.get("jobs", {}).values():
                job["next_run"] = None

        now = self.clock.now()
        self.status.update(change)
        log.info("stopped")

    def _describe(self) -> dict[str, str]:
        s = self.cfg.schedule
        return {
            "sync": f"every {s.sync_every_minutes} min",
            "daily": f"daily {s.daily_digest_at:%H:%M} WIB",
            "weekly": f"{s.weekly_digest_day} {s.weekly_digest_at:%H:%M} WIB",
        }

    def _record_next_runs(self) -> None:
        nexts = {}
        for job in self.scheduler.get_jobs():
            name = next(iter(job.tags), None)
            if name and job.next_run is not None:
                nexts[name] = stamp(_aware_wib(job.next_run))
        known = self.status.read().get("jobs", {})
        if all(known.get(name, {}).get("next_run") == when for name, when in nexts.items()):
            return  # nothing new: no write

        def change(d: dict[str, Any]) -> None:
            for name, when in nexts.items():
                d.setdefault("jobs", {}).setdefault(name, {})["next_run"] = when

        self.status.update(change)

    @contextmanager
    def _signals(self) -> Iterator[None]:
        """SIGTERM/SIGINT: stop between jobs; another one later: stop now (KeyboardInterrupt).

        A repeat within a second is the same request (`timeout`, for one, signals both the
        process and its group)."""
        if not _in_main_thread():
            yield
            return
        first: list[float] = []

        def handle(signum: int, frame: types.FrameType | None) -> None:
            if first and time.monotonic() - first[0] > 1.0:
                raise KeyboardInterrupt
            if first:
                return
            first.append(time.monotonic())
            self.stop.set()
            log.warning("%s received: stopping after the current job", signal.Signals(signum).name)

        previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, KkmpError) else f"{type(exc).__name__}: {text}"
