"""`<data dir>/status.json`: the service and each job's last run, and `kkmp-sheets status`.

`serve` records every job's start and end here (`StatusFile`, written atomically); `status`
reads it, and the lock (`lock.py`) to tell whether the service runs.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kkmp_sheets.config import Config
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.errors import KkmpError
from kkmp_sheets.service.lock import LOCK_FILE, ServiceLock

log = logging.getLogger(__name__)
STATUS_FILE = "status.json"
JOBS = ("sync", "daily", "weekly")


@dataclass(frozen=True)
class JobRun:
    """One run of a job, as `on_job` observers and the log see it."""

    job: str
    started: datetime  # service clock, WIB
    seconds: float  # real time it took
    ok: bool
    message: str
    catch_up: bool = False


class StatusFile:
    """`<data dir>/status.json`: the service and each job's last run, for `kkmp-sheets status`.

    Written whole to a temporary file and moved into place, so a reader (or a crash) never sees
    half of it. Only times, outcomes, counts and the operator-facing error text: no cell value.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("status file %s unreadable (%s); starting a new one", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".status.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, indent=2)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def update(self, change: Callable[[dict[str, Any]], None]) -> None:
        data = self.read()
        change(data)
        try:
            self.write(data)
        except OSError as exc:  # the status is for the operator; it never stops a job
            log.warning("status file %s not written: %s", self.path, exc)

    def last_success(self, job: str) -> datetime | None:
        text = self.read().get("jobs", {}).get(job, {}).get("last_success")
        return _parse_time(text)


def stamp(moment: datetime | None) -> str | None:
    return moment.astimezone(WIB).isoformat(timespec="seconds") if moment else None


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def job_started(d: dict[str, Any], name: str, at: datetime) -> None:
    job = d.setdefault("jobs", {}).setdefault(name, {})
    job["running_since"] = stamp(at)
    job["last_started"] = stamp(at)


def job_finished(d: dict[str, Any], run: JobRun, at: datetime) -> None:
    job = d.setdefault("jobs", {}).setdefault(run.job, {})
    job.update(
        running_since=None,
        last_finished=stamp(at),
        last_outcome="ok" if run.ok else "failed",
        last_seconds=round(run.seconds, 2),
        last_message=run.message,
        runs=int(job.get("runs", 0)) + 1,
    )
    if run.ok:
        job["last_success"] = stamp(at)
    else:
        job["last_failure"] = stamp(at)
        job["failures"] = int(job.get("failures", 0)) + 1


def status_text(cfg: Config) -> str:
    """What `kkmp-sheets status` prints: is it running, and each job's last and next run."""
    for path in (cfg.data_dir / STATUS_FILE, cfg.data_dir / LOCK_FILE):
        if path.exists() and not os.access(path, os.R_OK):
            raise KkmpError(
                f"{path} cannot be read by this user: run the command as the service's user, "
                "e.g. sudo -u kkmp kkmp-sheets status --config ..."
            )
    data = StatusFile(cfg.data_dir / STATUS_FILE).read()
    holder = ServiceLock.holder(cfg.data_dir / LOCK_FILE)
    service = data.get("service", {})
    if holder is not None:
        since = _short(service.get("started_at"))
        pid = f"pid {holder}, " if holder > 0 else ""
        state = f"running ({pid}since {since} WIB)"
    elif not data:
        state = "has never run with this config"
    elif service.get("state") == "running":
        state = (
            f"not running: it stopped without a clean shutdown (crash, kill or power cut) "
            f"after starting at {_short(service.get('started_at'))} WIB"
        )
    else:
        state = f"not running (stopped {_short(service.get('stopped_at'))} WIB)"
    lines = [f"kkmp-sheets serve for {cfg.city_name}: {state}", ""]
    header = ("job", "schedule", "last run (WIB)", "result", "took", "next run (WIB)")
    table = [header]
    jobs = data.get("jobs", {})
    for name in JOBS:
        job = jobs.get(name, {})
        result = "running" if job.get("running_since") else job.get("last_outcome") or "–"
        took = (
            f"{job['last_seconds']:.1f} s"
            if isinstance(job.get("last_seconds"), float | int)
            else ""
        )
        table.append(
            (
                name,
                job.get("schedule", ""),
                _short(job.get("last_started")),
                result,
                took,
                _short(job.get("next_run")) if holder is not None else "–",
            )
        )
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    lines += [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    messages = [(name, jobs[name]) for name in JOBS if jobs.get(name, {}).get("last_message")]
    if messages:
        lines += ["", "last messages:"]
        for name, job in messages:
            failed = (
                f" (last failure {_short(job.get('last_failure'))})" if job.get("failures") else ""
            )
            lines.append(f"  {name:<7} {job['last_message']}{failed}")
    return "\n".join(lines) + "\n"


def _short(text: object) -> str:
    moment = _parse_time(text)
    return f"{moment.astimezone(WIB):%Y-%m-%d %H:%M}" if moment else "never"
