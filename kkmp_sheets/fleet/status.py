"""Which instances are behind: each instance's own history store says when its last cycle was
recorded, whoever ran it (a Celery worker, a CronJob, `serve`, a person). That is the one honest
answer: a queue can be empty and a worker idle while an instance never completes.

Run it where the instances' data folders are mounted (a worker machine, or a pod with the
volumes). With the broker reachable it adds, from Redis, who holds each instance's lock now and
how its last run ended.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from kkmp_sheets import config
from kkmp_sheets.core import formats
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.fleet.instances import Instance
from kkmp_sheets.store.history import HISTORY_FILE, HistoryStore


@dataclass
class Row:
    kode: str
    name: str
    state: str  # ok | behind | never
    last_cycle: str  # WIB, or ""
    data_date: str
    jumlah: int | None = None
    merah: int | None = None
    lock: str = ""  # who holds the Redis lock now
    last_run: str = ""  # how the last fleet run ended


def rows(
    fleet: list[Instance], *, now: datetime, behind_after: timedelta, redis: Any = None
) -> list[Row]:
    out = []
    for instance in fleet:
        assert instance.config is not None
        cfg = config.load(instance.config)
        path = cfg.data_dir / HISTORY_FILE
        last = None
        if path.is_file():
            with HistoryStore(path) as store:
                last = store.last_recorded()
        if last is None:
            row = Row(instance.kode, instance.name, "never", "", "")
        else:
            day, at, city = last
            late = now - at > behind_after
            row = Row(
                instance.kode,
                instance.name,
                "behind" if late else "ok",
                f"{at.astimezone(WIB):%Y-%m-%d %H:%M}",
                day.isoformat(),
                city.get("jumlah"),
                city.get("merah"),
            )
        if redis is not None:
            _add_redis(row, redis)
        out.append(row)
    order = {"never": 0, "behind": 1, "ok": 2}
    return sorted(out, key=lambda r: (order[r.state], r.last_cycle, r.kode))


def _add_redis(row: Row, redis: Any) -> None:
    from kkmp_sheets.fleet.lock import holder, key

    held = holder(redis, row.kode)
    row.lock = held.owner if held else ""
    last = redis.lindex(key("runs", row.kode), -1)
    if last:
        run = json.loads(last)
        row.last_run = run["state"] + (
            f" (exit {run['exit_code']})" if run.get("exit_code") else ""
        )


def as_text(found: list[Row], behind_after: timedelta) -> str:
    n = formats.format_number
    hours = behind_after.total_seconds() / 3600
    lines = [
        f"{'kode':<8} {'state':<7} {'last cycle (WIB)':<17} {'data':<10} {'KKMP':>6} "
        f"{'Merah':>6}  name"
    ]
    for r in found:
        figures = f"{n(r.jumlah) if r.jumlah is not None else '':>6} "
        figures += f"{n(r.merah) if r.merah is not None else '':>6}"
        extra = "".join(f"  [{x}]" for x in (r.lock and f"running: {r.lock}", r.last_run) if x)
        lines.append(
            f"{r.kode:<8} {r.state:<7} {r.last_cycle:<17} {r.data_date:<10} {figures}  {r.name}"
            + extra
        )
    late = sum(r.state != "ok" for r in found)
    lines.append(
        f"\n{n(len(found))} instances; {n(late)} behind or never run "
        f"(behind: no cycle recorded for {hours:g} hours)"
    )
    return "\n".join(lines) + "\n"


def as_json(found: list[Row]) -> str:
    return json.dumps([asdict(r) for r in found], indent=1, ensure_ascii=False) + "\n"
