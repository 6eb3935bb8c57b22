"""The fleet's timetable: one entry per instance, staggered so that 514 instances do not start
together.

Each instance runs every `every_minutes` (a divisor of 60, or a whole number of hours dividing
24). Instance `i` of `n`, in region-code order, starts `floor(i * every / n)` minutes into each
period: with 514 instances hourly, eight or nine start in any one minute, and a worker pool sized
for that never has a queue at the top of the hour. The same minute and hour fields serve Celery
beat (`crontab`, in WIB) and the Kubernetes CronJobs (`schedule` with `timeZone: Asia/Jakarta`),
so either engine runs an instance at the same times.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from kkmp_sheets.errors import ConfigError
from kkmp_sheets.fleet.instances import Instance

TASK = "kkmp_sheets.fleet.run_cycle"


@dataclass(frozen=True)
class Entry:
    name: str
    kode: str
    minute: str
    hour: str
    task: str
    args: tuple[str, ...]
    desa: int

    @property
    def cron(self) -> str:
        return f"{self.minute} {self.hour} * * *"


def check_every(every_minutes: int) -> None:
    if (every_minutes <= 60 and 60 % every_minutes == 0) or (
        every_minutes % 60 == 0 and 24 % (every_minutes // 60) == 0
    ):
        return
    raise ConfigError(
        f"every {every_minutes} minutes does not divide the day evenly: use a divisor of 60 "
        "(15, 20, 30, 60) or whole hours that divide 24 (120, 180, 360, ...)"
    )


def entries(fleet: list[Instance], *, every_minutes: int = 60) -> list[Entry]:
    check_every(every_minutes)
    n = len(fleet)
    out = []
    for i, instance in enumerate(fleet):
        offset = i * every_minutes // n if n else 0
        minute, hour = _fields(offset, every_minutes)
        out.append(
            Entry(
                name=f"cycle-{instance.slug}",
                kode=instance.kode,
                minute=minute,
                hour=hour,
                task=TASK,
                args=(instance.kode,),
                desa=instance.desa,
            )
        )
    return out


def _fields(offset: int, every: int) -> tuple[str, str]:
    if every <= 60:
        return ",".join(str(m) for m in range(offset, 60, every)), "*"
    hours = every // 60
    return str(offset % 60), f"{offset // 60}-23/{hours}"


def as_json(rows: list[Entry]) -> str:
    """The schedule as JSON, one object per instance (what `fleet schedule` prints)."""
    items = []
    for e in rows:
        item = asdict(e)
        item["cron"] = e.cron
        item["args"] = list(e.args)
        items.append(item)
    return json.dumps(items, indent=1, ensure_ascii=False) + "\n"


def per_minute(rows: list[Entry]) -> dict[int, int]:
    """How many instances start in each minute of the hour (to see the stagger)."""
    counts: dict[int, int] = {}
    for e in rows:
        if e.hour != "*" and "/" not in e.hour:
            continue
        for m in e.minute.split(","):
            counts[int(m)] = counts.get(int(m), 0) + 1
    return dict(sorted(counts.items()))
