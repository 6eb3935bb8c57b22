"""What the `kkmp-sheets fleet ...` commands do; the command line only parses and prints."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kkmp_sheets.core import formats
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.errors import UsageError
from kkmp_sheets.fleet import instances, schedule
from kkmp_sheets.fleet.settings import FleetSettings


def pick(folder: Path | None, regions: str | None) -> list[instances.Instance]:
    if folder is not None:
        return instances.from_folder(folder)
    if regions is not None:
        return instances.from_regions(regions)
    raise UsageError("name the instances: --instances DIR, or --regions [CODE] for the plan")


def schedule_text(
    folder: Path | None, regions: str | None, every: int | None, as_json: bool
) -> str:
    fleet = pick(folder, regions)
    rows = schedule.entries(fleet, every_minutes=every or FleetSettings.from_env().every_minutes)
    if as_json:
        return schedule.as_json(rows)
    lines = [f"{'kode':<8} {'cron (WIB)':<22} {'desa':>6}  name"]
    lines += [
        f"{e.kode:<8} {e.cron:<22} {formats.format_number(e.desa):>6}  {i.name}"
        for e, i in zip(rows, fleet, strict=True)
    ]
    starts = schedule.per_minute(rows).values()
    lines.append(
        f"\n{formats.format_number(len(rows))} instances; at most {max(starts, default=0)} "
        f"start in the same minute"
    )
    return "\n".join(lines) + "\n"


def k8s_text(folder: Path, out: Path, image: str, namespace: str, every: int | None) -> str:
    from kkmp_sheets.fleet import k8s

    fleet = instances.from_folder(folder)
    every = every or FleetSettings.from_env().every_minutes
    written = k8s.write_all(fleet, out, image=image, namespace=namespace, every_minutes=every)
    return (
        f"{len(written)} manifests written to {out} (one PersistentVolumeClaim and CronJob each)\n"
    )


def status_text(folder: Path, behind_hours: float | None, as_json: bool, with_redis: bool) -> str:
    from kkmp_sheets.fleet import status

    settings = FleetSettings.from_env()
    behind = timedelta(hours=behind_hours or 2 * settings.every_minutes / 60)
    client = _redis(settings) if with_redis else None
    found = status.rows(
        instances.from_folder(folder), now=datetime.now(WIB), behind_after=behind, redis=client
    )
    return status.as_json(found) if as_json else status.as_text(found, behind)


def enqueue_text(folder: Path, codes: list[str], every: bool) -> str:
    from kkmp_sheets.fleet.app import app
    from kkmp_sheets.fleet.enqueue import enqueue

    settings = FleetSettings.from_env()
    fleet = instances.from_folder(folder)
    wanted = [i.kode for i in fleet] if every else [instances.find(folder, c).kode for c in codes]
    if not wanted:
        raise UsageError("name the region codes to run, or --all")
    client = _redis(settings)
    ids = {kode: enqueue(client, app, kode) for kode in wanted}
    return json.dumps(ids, indent=1) + "\n"


def _redis(settings: FleetSettings) -> Any:
    import redis

    return redis.Redis.from_url(settings.broker, socket_connect_timeout=5)
