"""The fleet's settings, from the environment: every machine of the fleet (workers, beat, the
operator's shell) reads the same names, and a Kubernetes or systemd unit sets them.

    KKMP_FLEET_BROKER          redis://host:6379/0 (the broker, the result store and the locks)
    KKMP_FLEET_INSTANCES       folder of instance configs, as mounted on this machine
    KKMP_FLEET_VISIBILITY      seconds a started cycle may run before Redis hands its message
                               to another worker (must exceed the longest cycle; default 2 h)
    KKMP_FLEET_LOCK_TTL        seconds an instance lock lives without renewal (default 60)
    KKMP_FLEET_RETRY_SECONDS   seconds before a cycle finding its instance busy tries again
    KKMP_FLEET_EVERY_MINUTES   minutes between two cycles of one instance (default 60)
    KKMP_FLEET_RESTORE_SECONDS how often a worker looks for messages of workers that died
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kkmp_sheets.errors import ConfigError

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class FleetSettings:
    broker: str = DEFAULT_BROKER
    instances: Path | None = None
    # The largest kabupaten (852 desa) needs about 15 minutes for a cold Google pass; two hours
    # leave room for a slow day without a second worker starting the same cycle meanwhile.
    visibility_seconds: int = 7200
    lock_ttl_seconds: float = 60.0
    retry_seconds: float = 60.0
    every_minutes: int = 60
    restore_seconds: int = 60

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> FleetSettings:
        env = dict(os.environ if env is None else env)
        folder = env.get("KKMP_FLEET_INSTANCES", "").strip()
        return cls(
            broker=env.get("KKMP_FLEET_BROKER", "").strip() or DEFAULT_BROKER,
            instances=Path(folder) if folder else None,
            visibility_seconds=_number(env, "KKMP_FLEET_VISIBILITY", cls.visibility_seconds, int),
            lock_ttl_seconds=_number(env, "KKMP_FLEET_LOCK_TTL", cls.lock_ttl_seconds, float),
            retry_seconds=_number(env, "KKMP_FLEET_RETRY_SECONDS", cls.retry_seconds, float),
            every_minutes=_number(env, "KKMP_FLEET_EVERY_MINUTES", cls.every_minutes, int),
            restore_seconds=_number(env, "KKMP_FLEET_RESTORE_SECONDS", cls.restore_seconds, int),
        )


def _number(env: dict[str, str], name: str, default: Any, kind: Callable[[str], Any]) -> Any:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a number of seconds/minutes") from None
    if value <= 0:
        raise ConfigError(f"{name}={text!r} must be above 0")
    return value
