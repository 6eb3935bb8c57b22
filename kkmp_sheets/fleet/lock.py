"""One cycle of an instance at a time, across machines: a lock in Redis with a TTL, renewed while
the cycle runs, and a fencing number.

The file lock of `service/lock.py` (`flock` on `<data dir>/serve.lock`) only sees one machine,
and only a filesystem whose locks work; workers on several machines share Redis, so the lock is
kept there as well. `SET NX PX` alone would not do: a holder that stalls (a long pause, a lost
network) past the TTL would go on writing beside the next holder. So:

- **TTL and renewal.** The key lives `ttl` seconds; a thread of the holder renews it every third
  of that while the cycle runs. A holder killed with its machine stops renewing, and the lock
  frees itself within `ttl`: no stale lock waits for a person.
- **Lost lock.** When a renewal finds the key gone or someone else's, the holder is told
  (`Renewal.lost`) and stops its cycle (`runner.py`).
- **Fencing.** Each acquisition takes the next number of a per-instance counter
  (`INCR`), part of the lock's value. The runner writes it into the instance's data folder
  before the cycle starts and refuses to start below a number already there, and records a
  completion only while its value is still the lock's: a stale holder that wakes up late can
  neither start over a newer cycle nor claim one.

Every check-and-change is one Lua script, so it is atomic in Redis.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
PREFIX = "kkmp:fleet"

# KEYS[1] lock, KEYS[2] fence counter; ARGV[1] owner, ARGV[2] ttl ms.
_ACQUIRE = """
if redis.call('exists', KEYS[1]) == 1 then return false end
local fence = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], fence .. ' ' .. ARGV[1], 'PX', ARGV[2])
return fence
"""
# KEYS[1] lock; ARGV[1] the holder's value, ARGV[2] ttl ms.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def key(kind: str, kode: str) -> str:
    return f"{PREFIX}:{kind}:{kode}"


@dataclass(frozen=True)
class Holder:
    fence: int
    owner: str


class InstanceLock:
    """The Redis lock of one instance (region code `kode`), for one `owner` (a worker's name
    and task id, for the operator who looks at who holds it)."""

    def __init__(self, client: Any, kode: str, *, ttl: float, owner: str) -> None:
        self.client = client
        self.kode = kode
        self.ttl_ms = max(1, int(ttl * 1000))
        self.owner = owner
        self.fence: int | None = None
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @property
    def name(self) -> str:
        return key("lock", self.kode)

    @property
    def value(self) -> str:
        return f"{self.fence} {self.owner}"

    def acquire(self) -> int | None:
        """Take the lock: its fencing number, or None when another holder has it."""
        fence = self._acquire(
            keys=[self.name, key("fence", self.kode)], args=[self.owner, self.ttl_ms]
        )
        self.fence = int(fence) if fence is not None else None
        return self.fence

    def renew(self) -> bool:
        """Extend the TTL while the lock is still ours; False when it is not any more."""
        return self.fence is not None and bool(
            self._renew(keys=[self.name], args=[self.value, self.ttl_ms])
        )

    def held(self) -> bool:
        return self.fence is not None and _text(self.client.get(self.name)) == self.value

    def release(self) -> bool:
        if self.fence is None:
            return False
        done = bool(self._release(keys=[self.name], args=[self.value]))
        self.fence = None
        return done

    def renewal(self) -> Renewal:
        return Renewal(self)


def holder(client: Any, kode: str) -> Holder | None:
    """Who holds the lock of `kode` now, or None."""
    text = _text(client.get(key("lock", kode)))
    if not text:
        return None
    fence, _, owner = text.partition(" ")
    return Holder(int(fence), owner)


class Renewal:
    """While inside, a daemon thread renews the lock every third of its TTL. `lost` is set when
    a renewal finds the lock gone or taken, or Redis has not answered for a whole TTL."""

    def __init__(self, lock: InstanceLock) -> None:
        self.lock = lock
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"renew-{lock.kode}", daemon=True)

    def __enter__(self) -> Renewal:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        period = self.lock.ttl_ms / 3000
        unanswered = 0.0
        while not self._stop.wait(period):
            try:
                if not self.lock.renew():
                    log.error("lock of %s lost (fence %s)", self.lock.kode, self.lock.fence)
                    self.lost.set()
                    return
                unanswered = 0.0
            except Exception as exc:  # Redis unreachable: the lock may expire meanwhile
                unanswered += period
                log.warning("renewing the lock of %s failed: %s", self.lock.kode, exc)
                if unanswered * 1000 >= self.lock.ttl_ms:
                    self.lost.set()
                    return


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)
