"""Kubernetes CronJobs, one per instance: the same cycles as the Celery fleet, on a cluster.

For each instance, one YAML file with two objects:

- a **PersistentVolumeClaim** `kkmp-<kode>-data`, the instance's folder: its config, in local
  mode the registry and workbooks, and `[data] dir` (history store, delivery ledger, snapshots).
  The volume is mounted at `/srv/kkmp/instance`, the config file at its top (`city.toml`, or the
  name it has in the instances folder), so its relative paths resolve inside the volume;
- a **CronJob** `kkmp-<kode>` running `kkmp-sheets run --once` at the instance's minutes of the
  fleet schedule (`schedule.py`, `timeZone: Asia/Jakarta`), `concurrencyPolicy: Forbid` (a cycle
  still running when the next is due makes the next wait its turn, never overlap; Kubernetes'
  per-CronJob guard is this engine's instance lock), `startingDeadlineSeconds` half a period (a
  slot missed by more is skipped, the next one comes), and a Job deadline above the longest cycle.

Secrets are never in a manifest: the Secret `kkmp-<kode>-secrets` (made by the operator with
`kubectl create secret generic`, keys `google-key.json` and `smtp-password`) is mounted read-only
as files; `GOOGLE_APPLICATION_CREDENTIALS` names the key file and `KKMP_SMTP_PASSWORD_FILE` the
password file, which the image's entrypoint reads into `KKMP_SMTP_PASSWORD` (docs/deploy/).

**Resources**, from the cycle benchmark (bench/results/after-cycle.txt: the cycle's peak RSS is
68 MB for 56 cooperatives, 90 MB for 600, 287 MB for 6,000; each workbook reader process peaks at
about 66 MB): memory = 64 MB + 0.037 MB per cooperative + 66 MB per reader, plus a quarter for
headroom, rounded up to 32 MB, requested; twice that is the limit. The number of cooperatives is
the desa/kelurahan count of the region list. Readers are `[performance] workers`: a local-mode
instance must set it, since a container sees every core of its node, not its CPU limit (Google
mode reads over HTTP, without readers).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kkmp_sheets import __version__, config
from kkmp_sheets.errors import ConfigError
from kkmp_sheets.fleet.instances import Instance
from kkmp_sheets.fleet.schedule import Entry, entries

MOUNT = "/srv/kkmp/instance"
SECRETS = "/var/run/secrets/kkmp"
UID = 10001  # the image's `kkmp` user (docs/deploy/Containerfile)
JOB_DEADLINE_SECONDS = 7200  # the longest cycle is about 15 minutes; a stuck one ends here
BASE_MB, PER_COOP_MB, PER_READER_MB = 64, 0.037, 66
DEFAULT_IMAGE = f"kkmp-sheets:{__version__}"


@dataclass(frozen=True)
class Sizing:
    readers: int
    memory_mb: int  # requested; the limit is twice this
    cpu_milli: int  # requested; the limit is one core per reader (at least one)

    @property
    def cpu_limit_milli(self) -> int:
        return 1000 * max(1, self.readers)


def sizing(coops: int, readers: int) -> Sizing:
    peak = BASE_MB + PER_COOP_MB * coops + PER_READER_MB * readers
    memory = 32 * math.ceil(peak * 1.25 / 32)
    return Sizing(readers, memory, 250 * max(1, readers))


def readers_of(path: Path) -> int:
    """Reader processes the instance's cycle starts: 0 in Google mode; in local mode the value
    of `[performance] workers`, which must be set (see the module docstring)."""
    cfg = config.load(path)
    if cfg.source_kind == "google":
        return 0
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    workers = raw.get("performance", {}).get("workers", 0)
    if not workers:
        raise ConfigError(
            f"{path}: set [performance] workers (e.g. 2) for a container: left at 0 it starts "
            "one reader per core of the node, which the memory limit does not allow for"
        )
    return int(workers)


def manifests(
    instance: Instance, entry: Entry, *, image: str, namespace: str, every: int
) -> list[dict[str, Any]]:
    """The instance's volume claim and CronJob."""
    assert instance.config is not None
    name = f"kkmp-{instance.slug}"
    size = sizing(instance.desa, readers_of(instance.config))
    labels = {
        "app.kubernetes.io/name": "kkmp-sheets",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/version": __version__,
        "kkmp-sheets/kode-wilayah": instance.kode,
    }
    meta = {"name": name, "namespace": namespace, "labels": labels}
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {**meta, "name": f"{name}-data"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": f"{_storage_gib(instance.desa)}Gi"}},
        },
    }
    container = {
        "name": "cycle",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["kkmp-sheets", "run", "--once", "--config", f"{MOUNT}/{instance.config.name}"],
        "env": [
            {"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": f"{SECRETS}/google-key.json"},
            {"name": "KKMP_SMTP_PASSWORD_FILE", "value": f"{SECRETS}/smtp-password"},
            {"name": "TZ", "value": "Asia/Jakarta"},
        ],
        "resources": {
            "requests": {"memory": f"{size.memory_mb}Mi", "cpu": f"{size.cpu_milli}m"},
            "limits": {"memory": f"{2 * size.memory_mb}Mi", "cpu": f"{size.cpu_limit_milli}m"},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "instance", "mountPath": MOUNT},
            {"name": "secrets", "mountPath": SECRETS, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    pod = {
        "metadata": {"labels": labels},
        "spec": {
            "restartPolicy": "Never",  # a failed cycle is retried by the next slot, not at once
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": UID,
                "runAsGroup": UID,
                "fsGroup": UID,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": [
                {"name": "instance", "persistentVolumeClaim": {"claimName": f"{name}-data"}},
                {
                    "name": "secrets",
                    "secret": {"secretName": f"{name}-secrets", "defaultMode": 0o440},
                },
                {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
            ],
        },
    }
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": meta,
        "spec": {
            "schedule": entry.cron,
            "timeZone": "Asia/Jakarta",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": every * 60 // 2,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": labels},
                "spec": {
                    "backoffLimit": 0,
                    "activeDeadlineSeconds": JOB_DEADLINE_SECONDS,
                    "template": pod,
                },
            },
        },
    }
    return [claim, cron]


def _plain_dumper(yaml: Any) -> Any:
    """A safe dumper that writes shared dicts (the labels) out in full: no `&id001` anchors for
    an operator to decode."""

    class Plain(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return Plain


def _storage_gib(coops: int) -> int:
    """The data folder's size: the snapshots of 90 days dominate; 1 GiB per 250 cooperatives,
    at least 1 (a starting point; `kkmp-sheets history` and the folder's size tell the truth)."""
    return max(1, math.ceil(coops / 250))


def write_all(
    fleet: list[Instance],
    out: Path,
    *,
    image: str = DEFAULT_IMAGE,
    namespace: str = "kkmp",
    every_minutes: int = 60,
) -> list[Path]:
    """One `<kode>.yaml` per instance in `out`; the paths written."""
    import yaml  # in the fleet extra

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for instance, entry in zip(fleet, entries(fleet, every_minutes=every_minutes), strict=True):
        docs = manifests(instance, entry, image=image, namespace=namespace, every=every_minutes)
        path = out / f"{instance.slug}.yaml"
        path.write_text(
            f"# kkmp-sheets {instance.kode} {instance.name}: generated by "
            "`kkmp-sheets fleet k8s`; edit the instance config, then generate again.\n"
            + yaml.dump_all(docs, Dumper=_plain_dumper(yaml), sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        written.append(path)
    return written
