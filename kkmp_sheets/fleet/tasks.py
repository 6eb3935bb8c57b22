"""The one task of the fleet: a cycle of one instance (`runner.run_instance`)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import redis
from celery import Task

from kkmp_sheets.errors import ConfigError, KkmpError
from kkmp_sheets.fleet import instances
from kkmp_sheets.fleet.app import app
from kkmp_sheets.fleet.runner import run_instance
from kkmp_sheets.fleet.settings import FleetSettings

log = logging.getLogger(__name__)
TASK = "kkmp_sheets.fleet.run_cycle"


class CycleFailed(KkmpError):
    """The cycle ran and did not complete (its exit code, or its lock was lost)."""


@cache
def _redis(url: str) -> Any:
    return redis.Redis.from_url(url)


@app.task(bind=True, name=TASK, max_retries=None)
def run_cycle(
    self: Task, instance: str, as_of: str | None = None, mail: bool | None = None
) -> dict[str, Any]:
    """A cycle of `instance`: its region code (found in KKMP_FLEET_INSTANCES) or its config path.
    `as_of` (YYYY-MM-DD) is for tests and catching up; `mail` None follows the digest time."""
    settings = FleetSettings.from_env()
    if settings.instances is None and not instance.endswith(".toml"):
        raise ConfigError("KKMP_FLEET_INSTANCES is not set: the worker cannot find instances")
    found = instances.find(settings.instances or Path("."), instance)
    outcome = run_instance(
        _redis(settings.broker),
        found,
        owner=f"{self.request.hostname}/{self.request.id}",
        request=str(self.request.id),
        settings=settings,
        as_of=date.fromisoformat(as_of) if as_of else None,
        mail=mail,
    )
    log.info("%s %s: %s", found.kode, outcome.state, outcome.detail or outcome.exit_code)
    if outcome.state == "busy":
        raise self.retry(countdown=settings.retry_seconds)
    if outcome.state not in ("done", "coalesced"):
        raise CycleFailed(outcome.json())
    return asdict(outcome)
