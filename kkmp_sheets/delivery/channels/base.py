"""What every channel client shares: the classified result of a send, the client-side rate
limiter and splitting a long text at line boundaries.

A send never raises for what the service answers: it returns a `Result` that says whether the
message went out (`SENT`, with the provider's id), may go out later (`TRANSIENT`, with the wait
the service asked for when it gave one), or never will as things stand (`PERMANENT`), with a
short message for the operator in Indonesian and English. The delivery ledger decides what to
do with it; the client does not retry on its own.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kkmp_sheets.clock import Clock, SystemClock


class Outcome(StrEnum):
    SENT = "sent"
    TRANSIENT = "transient"  # retry later (after `retry_after` when the service said so)
    PERMANENT = "permanent"  # record, report once, do not retry


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    provider_id: str | None = None  # the message id (or media id, for an upload)
    retry_after: float | None = None  # seconds, when the service said how long to wait
    code: str = ""  # the service's own code: "131026", "429", "timeout"…
    operator: str = ""  # for the operator: "Indonesian. / English."
    data: dict[str, Any] = field(default_factory=dict, repr=False)  # the answer's payload

    @property
    def sent(self) -> bool:
        return self.outcome is Outcome.SENT

    @classmethod
    def ok(cls, provider_id: str | None, data: dict[str, Any] | None = None) -> Result:
        return cls(Outcome.SENT, provider_id, data=data or {})


def transient(code: str, operator: str, retry_after: float | None = None) -> Result:
    return Result(Outcome.TRANSIENT, retry_after=retry_after, code=code, operator=operator)


def permanent(code: str, operator: str) -> Result:
    return Result(Outcome.PERMANENT, code=code, operator=operator)


# Failures of the connection itself: the same words for both channels.
TIMEOUT = "Layanan tidak menjawab tepat waktu; dicoba lagi nanti. / The service timed out."
UNREACHABLE = "Layanan tidak dapat dihubungi; dicoba lagi nanti. / The service is unreachable."
SERVER_FAULT = "Layanan sedang gangguan; dicoba lagi nanti. / The service had a fault."


@dataclass(frozen=True)
class Limit:
    """At most `count` messages per `seconds` within one scope (a chat, a number, all)."""

    scope: str
    count: int
    seconds: float


class RateLimiter:
    """Client-side sliding windows, so that a burst never provokes the service's own limit.

    `acquire(limits)` waits (on the injected clock: tests pass a `SimulatedClock`, whose sleep
    only moves it on) until one more message fits in every given window, then counts it. One
    lock keeps concurrent senders from slipping into the same opening.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._events: dict[str, deque[float]] = {}
        self._held: dict[str, float] = {}  # scope → not before this time (a service's 429)
        self.waited = 0.0  # seconds spent waiting so far

    def acquire(self, limits: Iterable[Limit]) -> None:
        limits = list(limits)
        with self._lock:
            while True:
                now = self.clock.monotonic()
                wait = max((self._wait(limit, now) for limit in limits), default=0.0)
                if wait <= 0:
                    break
                self.waited += wait
                self.clock.sleep(wait)
            for limit in limits:
                self._events.setdefault(limit.scope, deque()).append(now)

    def hold(self, scope: str, seconds: float) -> None:
        """The service asked to wait `seconds` before writing to `scope` again."""
        with self._lock:
            until = self.clock.monotonic() + seconds
            self._held[scope] = max(self._held.get(scope, 0.0), until)

    def _wait(self, limit: Limit, now: float) -> float:
        held = self._held.get(limit.scope, 0.0) - now
        events = self._events.setdefault(limit.scope, deque())
        while events and events[0] <= now - limit.seconds:
            events.popleft()
        window = 0.0
        if len(events) >= limit.count:
            window = events[len(events) - limit.count] + limit.seconds - now
        return max(held, window)


def split_text(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, cut at line ends where possible.

    Lines are kept whole and in order; a single line longer than `limit` is cut at its last
    space within the limit (or hard, when it has none). Joining the parts with "\\n" gives the
    text back, except for the line breaks and spaces the cuts fell on.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in _short_lines(text.split("\n"), limit):
        extra = len(line) + (1 if current else 0)
        if current and size + extra > limit:
            parts.append("\n".join(current))
            current, size = [], 0
            extra = len(line)
        current.append(line)
        size += extra
    if current:
        parts.append("\n".join(current))
    return [part for part in parts if part.strip()] or ([text] if text.strip() else [])


def _short_lines(lines: list[str], limit: int) -> Iterable[str]:
    for line in lines:
        while len(line) > limit:
            cut = line.rfind(" ", 1, limit + 1)
            if cut <= 0:
                yield line[:limit]
                line = line[limit:]
            else:
                yield line[:cut]
                line = line[cut + 1 :]
        yield line
