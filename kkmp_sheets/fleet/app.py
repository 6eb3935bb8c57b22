"""The Celery app of the fleet: Redis is the broker; every setting comes from the environment
(`settings.py`), so workers and beat on every machine start the same way:

    KKMP_FLEET_BROKER=redis://queue.dinas.example:6379/0 KKMP_FLEET_INSTANCES=/srv/kkmp/instances \\
        celery -A kkmp_sheets.fleet.app worker --concurrency 2 -n kkmp@%h
    ... celery -A kkmp_sheets.fleet.app beat        (on one machine only)

A cycle's message is acknowledged only after the cycle ends (`acks_late`), and given back to the
queue when the process running it dies (`reject_on_worker_lost`); a worker takes one message at
a time (`prefetch_multiplier` 1), so nothing waits behind a long cycle on a worker that is busy.
When a whole machine is lost, Redis hands its unacknowledged message to another worker once the
visibility timeout has passed; the timeout is above the longest cycle, so a cycle that is merely
slow is never started twice (and were it so, the instance lock would make the second wait).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import beat_init

from kkmp_sheets.core.wib import WIB
from kkmp_sheets.errors import KkmpError
from kkmp_sheets.fleet import instances, schedule
from kkmp_sheets.fleet.settings import FleetSettings

log = logging.getLogger(__name__)
settings = FleetSettings.from_env()

app = Celery("kkmp_sheets.fleet", broker=settings.broker, include=["kkmp_sheets.fleet.tasks"])
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,  # outcomes are kept per instance in Redis by the runner
    task_serializer="json",
    accept_content=["json"],
    timezone=WIB.key,  # crontab hours and minutes are WIB
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        "visibility_timeout": settings.visibility_seconds,
        "unacked_restore_interval": settings.restore_seconds,
        "unacked_restore_throttle": 1,
    },
    worker_hijack_root_logger=False,
)


def beat_schedule(fleet: list[instances.Instance]) -> dict[str, dict[str, object]]:
    """The `beat_schedule` entries (with `crontab` objects) for these instances."""
    out: dict[str, dict[str, object]] = {}
    for entry in schedule.entries(fleet, every_minutes=settings.every_minutes):
        out[entry.name] = {
            "task": entry.task,
            "schedule": crontab(minute=entry.minute, hour=entry.hour),
            "args": entry.args,
        }
    return out


@beat_init.connect
def load_timetable(sender: Any, **_: Any) -> None:
    """When beat starts (and only then: a worker does not need the timetable, and one broken
    config must not keep workers from starting), the timetable of KKMP_FLEET_INSTANCES replaces
    the stored one: instances added are scheduled, instances removed are dropped."""
    if settings.instances is None or not settings.instances.is_dir():
        raise SystemExit(f"beat: KKMP_FLEET_INSTANCES is not a folder ({settings.instances})")
    try:
        timetable = beat_schedule(instances.from_folder(settings.instances))
    except KkmpError as exc:
        raise SystemExit(f"beat: {exc}") from None
    sender.scheduler.merge_inplace(timetable)
    log.info("beat: %d instances scheduled from %s", len(timetable), settings.instances)
