"""One instance's cycle as a unit of work: `kkmp-sheets run --once`, under the instance's locks.

What a request for a cycle does, in order:

1. It notes when it was first seen (by any worker; a redelivered request keeps its first time).
2. It takes the instance's Redis lock (`lock.py`). Held by another → `busy`: the task tries again
   later, so two cycles of one instance never overlap, on one machine or several.
3. A request is *satisfied* by any cycle of the instance that completed and started after the
   request was first seen: then it ends as `coalesced` without a cycle. So two requests queued
   at once give one cycle, and a request redelivered after its cycle completed gives none.
4. It takes the file lock of the data folder too (a `serve` of the same instance refuses to
   start meanwhile, and the other way round), and writes the lock's fencing number into the data
   folder; a lower number than the one there means this holder is stale, and it stops.
5. It runs `python -m kkmp_sheets run --once --config <instance.toml>` as a child process that the
   kernel kills if this process dies (so no orphan cycle runs on once the lock is gone), and
   stops it (SIGTERM, which the cycle's atomic writes survive) if the lock is lost.
6. On exit code 0, and only while the lock is still its own, it records the completion.

Nothing here makes a second run harmful: the cycle itself is idempotent (the delivery ledger
never sends a digest twice in its period). The locks keep runs from overlapping; coalescing
keeps them from being wasted.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kkmp_sheets import config
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.errors import KkmpError, ServiceLocked
from kkmp_sheets.fleet.instances import Instance
from kkmp_sheets.fleet.lock import InstanceLock, key
from kkmp_sheets.fleet.settings import FleetSettings
from kkmp_sheets.service.lock import LOCK_FILE, ServiceLock

log = logging.getLogger(__name__)
FENCE_FILE = "fleet-fence"
SEEN_DAYS = 7  # a request's first-seen time is kept this long
RUNS_KEPT = 100  # the last runs of each instance kept in Redis, for `fleet status` and audits
STOP_GRACE_SECONDS = 60.0

# Record the completion only while the lock is still ours. KEYS[1] lock, KEYS[2] done hash;
# ARGV[1] our lock value, ARGV[2] the completion as JSON.
_COMPLETE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('set', KEYS[2], ARGV[2])
return 1
"""


@dataclass
class Outcome:
    state: str  # done | coalesced | busy | failed | lost-lock | stale
    kode: str
    owner: str
    request: str
    fence: int | None = None
    started: float | None = None  # Redis time
    finished: float | None = None
    exit_code: int | None = None
    detail: str = ""

    def json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def redis_now(client: Any) -> float:
    """The time on the Redis server: one clock for every machine of the fleet."""
    seconds, micros = client.time()
    return seconds + micros / 1e6


def first_seen(client: Any, request: str) -> float:
    now = redis_now(client)
    name = key("seen", request)
    client.set(name, repr(now), nx=True, ex=SEEN_DAYS * 86400)
    return float(client.get(name) or now)


def last_completed(client: Any, kode: str) -> dict[str, Any] | None:
    text = client.get(key("done", kode))
    return json.loads(text) if text else None


def run_instance(
    client: Any,
    instance: Instance,
    *,
    owner: str,
    request: str,
    settings: FleetSettings,
    as_of: date | None = None,
    mail: bool | None = None,
) -> Outcome:
    """One request for a cycle of `instance` (see the module docstring); never raises for what
    the cycle does: the outcome says it."""
    assert instance.config is not None
    outcome = Outcome("busy", instance.kode, owner, request)
    seen = first_seen(client, request)
    lock = InstanceLock(client, instance.kode, ttl=settings.lock_ttl_seconds, owner=owner)
    if lock.acquire() is None:
        return outcome
    outcome.fence = lock.fence
    try:
        done = last_completed(client, instance.kode)
        if done and done["started"] >= seen:
            outcome.state, outcome.detail = "coalesced", f"by fence {done['fence']}"
            return outcome
        cfg = config.load(instance.config)
        with lock.renewal() as renewal, ServiceLock(cfg.data_dir / LOCK_FILE):
            if not _fence_ok(cfg.data_dir, lock.fence or 0):
                outcome.state = "stale"
                return outcome
            outcome.started = redis_now(client)
            with_mail = _mail_now(cfg) if mail is None else mail
            code = _run_cycle(instance.config, as_of, with_mail, lost=renewal.lost)
            outcome.finished = redis_now(client)
            outcome.exit_code = code
            if renewal.lost.is_set():
                outcome.state = "lost-lock"
            elif code != 0:
                outcome.state = "failed"
            elif _complete(client, lock, outcome):
                outcome.state = "done"
            else:
                outcome.state = "lost-lock"
    except ServiceLocked as exc:
        outcome.detail = str(exc)  # a `serve` of the same data folder runs: busy
    except KkmpError as exc:  # the instance's config cannot be read: said in the run record
        outcome.state, outcome.detail = "failed", str(exc)
    finally:
        lock.release()
        if outcome.state != "busy":
            _log_run(client, outcome)
    return outcome


def _mail_now(cfg: config.Config) -> bool:
    """Digests go out from the first cycle at or after `[schedule] daily_digest_at` (WIB); the
    cycles before it that day check and write, and send nothing yet."""
    return datetime.now(WIB).time() >= cfg.schedule.daily_digest_at


def _fence_ok(data_dir: Path, fence: int) -> bool:
    """Write `fence` into the data folder unless a higher one is there (a newer holder ran).
    Called under the data folder's file lock, so read and write are not interleaved."""
    path = data_dir / FENCE_FILE
    text = path.read_text(encoding="ascii").strip() if path.is_file() else ""
    if text.isdigit() and int(text) > fence:
        log.error("fence %s is below %s in %s: a newer holder ran; stopping", fence, text, path)
        return False
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{fence}\n", encoding="ascii")
    os.replace(tmp, path)
    return True


def _run_cycle(path: Path, as_of: date | None, mail: bool, *, lost: Any) -> int:
    argv = [sys.executable, "-m", "kkmp_sheets", "run", "--once", "--config", str(path)]
    if as_of is not None:
        argv += ["--as-of", as_of.isoformat()]
    if not mail:
        argv.append("--no-mail")
    log.info("cycle: %s", " ".join(argv[1:]))
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    while True:
        try:
            return child.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            if lost.is_set():
                log.error("lock lost: stopping the cycle of %s (pid %s)", path, child.pid)
                child.send_signal(signal.SIGTERM)
                try:
                    return child.wait(timeout=STOP_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    child.kill()
                    return child.wait()


# Looked up here, not in the child: between fork and exec the child of a process with threads
# (the lock's renewal) must not load anything.
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: the kernel sends it SIGKILL when this worker process dies
    (Linux `PR_SET_PDEATHSIG`), so a killed worker leaves no cycle running without its lock."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)


def _complete(client: Any, lock: InstanceLock, outcome: Outcome) -> bool:
    record = {
        "started": outcome.started,
        "finished": outcome.finished,
        "fence": outcome.fence,
        "owner": outcome.owner,
        "request": outcome.request,
    }
    script = client.register_script(_COMPLETE)
    keys = [lock.name, key("done", outcome.kode)]
    return bool(script(keys=keys, args=[lock.value, json.dumps(record)]))


def _log_run(client: Any, outcome: Outcome) -> None:
    name = key("runs", outcome.kode)
    client.rpush(name, outcome.json())
    client.ltrim(name, -RUNS_KEPT, -1)


def runs(client: Any, kode: str) -> list[dict[str, Any]]:
    return [json.loads(r) for r in client.lrange(key("runs", kode), 0, -1)]
