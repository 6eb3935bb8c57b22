"""The fleet on a real engine: Redis and two Celery workers on loopback, 30 instances' cycles, one
worker killed (SIGKILL, with its whole process group, as when its machine dies) in the middle of
a cycle.

What must hold afterwards: every instance completed exactly once for the day (one `done` run,
one recorded day in its history store, no digest twice in its outbox); the killed worker's cycle
was redone by the other worker; no two runs of one instance overlapped; and two requests for one
instance queued at once gave one cycle (the second waited for the lock, then found itself
satisfied) or two cycles one after the other, never two at once.

The instances are small demo cities (3 cooperatives each) so that the test stays short; every
third one is in Google mode, on the local Google fake over real HTTP, the others in local mode.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import pytest

from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.fleet import instances
from kkmp_sheets.fleet.enqueue import enqueue
from kkmp_sheets.fleet.lock import Holder, InstanceLock, holder
from kkmp_sheets.fleet.runner import _fence_ok
from kkmp_sheets.store.history import HistoryStore
from kkmp_sheets.testing import FakeGoogle, QuotaConfig
from kkmp_sheets.testing.google_city import load_city

pytestmark = pytest.mark.slow
redis = pytest.importorskip("redis", reason="the fleet extra (redis, celery) is not installed")
celery = pytest.importorskip("celery", reason="the fleet extra (redis, celery) is not installed")
REDIS_SERVER = shutil.which("redis-server")
if REDIS_SERVER is None:
    pytest.skip(
        "redis-server is not installed (apt-get install redis-server)", allow_module_level=True
    )

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 1, 29)
N_INSTANCES = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        for _ in range(100):
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        server.terminate()
        server.wait(10)


def _build(args: tuple[Path, str]) -> str:
    root, kode = args
    city = build_demo_city(root / kode, kode=kode, size=3, as_of=AS_OF)
    with city.config_path.open("a", encoding="utf-8") as fh:
        fh.write("\n[performance]\nworkers = 1\n")  # small cities: no pool of readers
    return kode


GOOGLE_CONFIG = """\
[city]
name = "{name}"
kode_wilayah = "{kode}"

[source]
kind = "google"
registry = "{registry}"

[output]
kind = "google"
spreadsheet = "{status}"

[mail]
kind = "outbox"
dir = "out/outbox"

[google]
base_url = "{base_url}"
# one fake, one identity for all: the quota of each instance's own project is not the point here
reads_per_minute_per_user = 100000
writes_per_minute_per_user = 100000
requests_per_minute_per_project = 100000
"""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle(quota=QuotaConfig.unlimited()) as google:
        yield google


@pytest.fixture(scope="module")
def fleet_dir(tmp_path_factory: pytest.TempPathFactory, fake: FakeGoogle) -> Path:
    """30 small cities; every third in Google mode on the fake (its registry, workbooks and
    status spreadsheet in the fake's Drive), the others in local mode."""
    folder = tmp_path_factory.mktemp("instances")
    every = instances.from_regions()
    codes = [r.kode for r in every[:: len(every) // N_INSTANCES]][:N_INSTANCES]
    with Pool(2) as pool:
        pool.map(_build, [(folder, k) for k in codes])
    for kode in codes[1::3]:
        gcity = load_city(fake, folder / kode)
        (folder / kode / "city.toml").write_text(
            GOOGLE_CONFIG.format(
                name=instances.find(folder, kode).name,
                kode=kode,
                registry=gcity.registry_id,
                status=gcity.status_id,
                base_url=fake.base_url,
            ),
            encoding="utf-8",
        )
        shutil.rmtree(folder / kode / "workbooks")  # in Google mode they live in Drive only
    return folder


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL the worker and every process of its group (its pool child, the cycle)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


def start_worker(name: str, env: dict[str, str], logs: Path) -> Worker:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "kkmp_sheets.fleet.app",
                "worker",
                "--concurrency",
                "1",
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Worker(name, process, log)


def wait_ready(worker: Worker, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if b" ready." in worker.log.read_bytes():
            return
        assert worker.process.poll() is None, worker.log.read_text()
        time.sleep(0.1)
    raise AssertionError(f"worker {worker.name} not ready:\n{worker.log.read_text()}")


@dataclass
class Story:
    codes: list[str]
    pair: str  # the instance asked for twice at once
    killed: str = ""  # the instance whose cycle died with worker a
    outbox_at_kill: int = 0
    seconds: float = 0.0
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def story(
    broker: str, fleet_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Story]:
    logs = tmp_path_factory.mktemp("logs")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        "KKMP_FLEET_BROKER": broker,
        "KKMP_FLEET_INSTANCES": str(fleet_dir),
        "KKMP_FLEET_VISIBILITY": "20",  # above the longest cycle here (~14 s on a busy machine)
        "KKMP_FLEET_RESTORE_SECONDS": "1",
        "KKMP_FLEET_LOCK_TTL": "3",
        "KKMP_FLEET_RETRY_SECONDS": "1",
    }
    client = redis.Redis.from_url(broker)
    sender = celery.Celery(broker=broker)
    codes = sorted(p.name for p in fleet_dir.iterdir() if (p / "city.toml").is_file())
    story = Story(codes, pair=codes[0])
    workers = [start_worker(n, env, logs) for n in ("a", "b")]
    started = time.monotonic()
    try:
        for w in workers:
            wait_ready(w)
        for kode in [story.pair, *codes]:  # the first twice at once: one cycle at a time
            enqueue(client, sender, kode, as_of=AS_OF.isoformat(), mail=True)
        # Worker a dies once two thirds of the instances are done: both workers have shared the
        # work until then, and its cycle at that moment is one that must be redone.
        story.killed, story.outbox_at_kill = kill_mid_cycle(
            client, workers[0], fleet_dir, after=2 * N_INSTANCES // 3
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            story.done = {k: d for k in codes if (d := _done(client, k))}
            if len(story.done) == len(codes):
                break
            time.sleep(0.3)
        time.sleep(1.5)  # the last runs' log lines, and any late duplicate, would land now
        story.seconds = time.monotonic() - started
        story.runs = {
            k: [json.loads(r) for r in client.lrange(f"kkmp:fleet:runs:{k}", 0, -1)] for k in codes
        }
    finally:
        for w in workers:
            w.kill()
            story.logs[w.name] = w.log.read_text(errors="replace")
        client.close()
        sender.close()
    yield story


def _done(client: Any, kode: str) -> dict[str, Any] | None:
    text = client.get(f"kkmp:fleet:done:{kode}")
    return json.loads(text) if text else None


def kill_mid_cycle(client: Any, worker: Worker, fleet_dir: Path, *, after: int) -> tuple[str, int]:
    """Once `after` instances are done, kill `worker` in the middle of a cycle it runs: at the
    moment its first digest lands in the outbox (between two deliveries: the hardest moment for
    "never twice"), or, if two cycles end before that moment is caught, one second into the
    next. Returns that instance and how many digests its outbox held at the kill."""
    end = time.monotonic() + 180
    missed = 0
    while time.monotonic() < end:
        if len(list(client.scan_iter("kkmp:fleet:done:*"))) < after:
            time.sleep(0.2)
            continue
        for name in client.scan_iter("kkmp:fleet:lock:*"):
            value = (client.get(name) or b"").decode()
            if f" {worker.name}@" not in value:
                continue
            kode = name.decode().rsplit(":", 1)[1]
            outbox = fleet_dir / kode / "out" / "outbox"
            started = time.monotonic()
            while (client.get(name) or b"").decode() == value:
                landed = len(list(outbox.glob("*.eml"))) if outbox.is_dir() else 0
                if landed or (missed >= 2 and time.monotonic() - started > 1.0):
                    worker.kill()
                    return kode, landed
                time.sleep(0.005)
            missed += 1
        time.sleep(0.05)
    raise AssertionError(f"worker {worker.name} never held a lock:\n{worker.log.read_text()}")


def test_every_instance_completed_once(story: Story) -> None:
    assert len(story.done) == N_INSTANCES, sorted(set(story.codes) - set(story.done))
    for kode in story.codes:
        states = Counter(r["state"] for r in story.runs[kode])
        assert states["done"] == 1, (kode, story.runs[kode])
        assert set(states) <= {"done", "coalesced"}, (kode, story.runs[kode])


def test_each_history_store_recorded_the_day_once(story: Story, fleet_dir: Path) -> None:
    for kode in story.codes:
        with HistoryStore(fleet_dir / kode / "out" / "data" / "history.sqlite") as store:
            assert store.days() == [AS_OF], kode


def test_no_digest_twice_in_any_outbox(story: Story, fleet_dir: Path) -> None:
    for kode in story.codes:
        names = [p.name for p in (fleet_dir / kode / "out" / "outbox").glob("*.eml")]
        keys = Counter(n.rsplit("_", 1)[0] for n in names)  # kind_audience_period
        assert keys and max(keys.values()) == 1, (kode, keys)
        kinds = Counter(k.split("_", 1)[0] for k in keys)
        assert kinds["city"] == 1 and kinds["coop"] == 3, (kode, kinds)


def test_google_instances_wrote_their_status_spreadsheet(
    story: Story, fleet_dir: Path, fake: FakeGoogle
) -> None:
    google = [k for k in story.codes if not (fleet_dir / k / "workbooks").exists()]
    assert len(google) == N_INSTANCES // 3
    for kode in google:
        text = (fleet_dir / kode / "city.toml").read_text(encoding="utf-8")
        status = text.split('spreadsheet = "', 1)[1].split('"', 1)[0]
        assert "Ringkasan" in fake.tabs(status), kode


def test_the_killed_workers_cycle_was_redone_by_the_other(story: Story) -> None:
    assert story.killed, "no cycle was killed"
    done = story.done[story.killed]
    assert done["owner"].startswith("b@"), done
    runs = story.runs[story.killed]
    # the killed run never reported: the only run of this instance is the redo
    assert [r["owner"].split("@")[0] for r in runs if r["state"] == "done"] == ["b"], runs
    assert "a@" not in " ".join(r["owner"] for r in runs), runs


def test_runs_of_one_instance_never_overlap(story: Story) -> None:
    for kode in story.codes:
        spans = sorted(
            (r["started"], r["finished"]) for r in story.runs[kode] if r["started"] is not None
        )
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start, (kode, spans)


def test_two_requests_at_once_give_one_cycle_at_a_time(story: Story) -> None:
    runs = story.runs[story.pair]
    states = Counter(r["state"] for r in runs)
    # Both were queued before either cycle started: one ran, the other waited for the lock
    # (retrying while busy), then found itself satisfied by that cycle. (A request's message may
    # also be delivered twice here, when it waits unacknowledged longer than the test's short
    # visibility timeout; that delivery is coalesced the same way.)
    assert states["done"] == 1 and states["coalesced"] >= 1, runs
    assert set(states) == {"done", "coalesced"}, runs
    assert len({r["request"] for r in runs}) == 2, runs
    fences = [r["fence"] for r in runs]
    assert fences == sorted(fences) and len(set(fences)) == len(fences), runs


def test_the_whole_run_is_quick(story: Story) -> None:
    cycles = [r["finished"] - r["started"] for v in story.runs.values() for r in v if r["finished"]]
    states = Counter(r["state"] for v in story.runs.values() for r in v)
    print(
        f"\nfleet: {N_INSTANCES} instances, 2 workers, worker a killed during {story.killed} "
        f"(its outbox held {story.outbox_at_kill} digests then); all done in {story.seconds:.1f} s;"
        f" runs {dict(states)}; a cycle took {min(cycles):.1f}-{max(cycles):.1f} s "
        f"(mean {sum(cycles) / len(cycles):.1f})"
    )
    assert story.seconds < 240  # about 60 s on an idle 2-core machine


# --- the instance lock on its own, on the same Redis ---------------------------------------------


@pytest.fixture
def client(broker: str) -> Iterator[Any]:
    c = redis.Redis.from_url(broker.rsplit("/", 1)[0] + "/1")  # a database of its own
    c.flushdb()
    yield c
    c.close()


def test_the_lock_excludes_a_second_holder_and_fences_each_one(client: Any) -> None:
    first = InstanceLock(client, "31.73", ttl=5, owner="a@host/1")
    second = InstanceLock(client, "31.73", ttl=5, owner="b@host/2")
    assert first.acquire() == 1
    assert second.acquire() is None and holder(client, "31.73") == Holder(1, "a@host/1")
    assert not second.release()  # a non-holder cannot free it
    assert first.held() and first.release() and not first.held()
    assert second.acquire() == 2  # every holder a higher number


def test_a_dead_holders_lock_frees_itself_and_a_renewed_one_does_not(client: Any) -> None:
    dead = InstanceLock(client, "36.74", ttl=0.6, owner="dead")
    assert dead.acquire() is not None  # never renewed, as when its machine died
    alive = InstanceLock(client, "31.71", ttl=0.6, owner="alive")
    assert alive.acquire() is not None
    with alive.renewal() as renewal:
        time.sleep(1.5)
        assert not renewal.lost.is_set() and alive.held()
    assert holder(client, "36.74") is None  # expired within its TTL
    assert InstanceLock(client, "36.74", ttl=5, owner="next").acquire() == 2


def test_a_holder_whose_lock_was_taken_is_told(client: Any) -> None:
    lock = InstanceLock(client, "32.73", ttl=0.9, owner="slow")
    lock.acquire()
    with lock.renewal() as renewal:
        client.set("kkmp:fleet:lock:32.73", "99 someone-else")  # e.g. it stalled past its TTL
        assert renewal.lost.wait(2)


def test_a_stale_fence_does_not_start_a_cycle(tmp_path: Path) -> None:
    assert _fence_ok(tmp_path, 7)
    assert not _fence_ok(tmp_path, 6)  # a newer holder (7) has run in this data folder
    assert _fence_ok(tmp_path, 8)
