"""The delivery ledger: each digest goes to each recipient once per period.

PRODUCT.md promises that a digest goes out once per period — "not twice after a crash or
restart, and not lost when the mail server is down". The ledger (one SQLite file, WAL, durable
commits) keeps one row per (digest key, recipient) moving through

    queued ──► sending ──► sent
       ▲          │  ├───► failed_permanent   (5xx refusal, or too many deferrals)
       └──────────┘  └───► uncertain          (lost after the final dot: the operator decides)
        (not sent: server down, 4xx, dropped before the final dot)

and `deliver()` follows one rule: **commit the intent ('sending') and each step of the SMTP
dialogue before taking it, and 'sent' right after the server accepts.** The step (connecting,
dialogue, data, after_dot) is what lets a restart tell "certainly not accepted" from "maybe":
a row a dead process left at 'sending' before `after_dot` never had its final dot sent, so the
server cannot have accepted it, and it is queued again; at `after_dot` it becomes 'uncertain'.

The one window this cannot close is a crash after the final dot and before 'sent' was committed
(or a connection lost while the server was answering the end of the message). SMTP has no
idempotency key, so the server cannot be asked whether it already has the message. Such a row
is 'uncertain', reported to the operator once (`service/notify.py`) and *not* sent again: a
possible missing digest the operator can check is better than officials receiving everything
twice. The deterministic Message-ID makes a copy that does arrive twice fold into one in most
mail clients. `kkmp-sheets deliveries --resend/--mark-delivered` settles such a row. The outbox
has no such window: its file appears atomically, so after a crash the file says what happened.

A mail server that is down or stalled must not hold up the cycle: every SMTP operation has a
timeout, one `deliver()` has a deadline, and a circuit breaker stops after a few consecutive
server failures (refused, timed out, dropped); what was not tried stays queued.

Everything that provably did not go out (connection refused, TLS or login failure, 4xx,
a refusal before the message was sent) stays 'queued' with its error and is retried by the next
`deliver()` — including digests of earlier periods, whose message is kept in the ledger until
every recipient has it. A server that cannot be reached never uses up a recipient's attempts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as DEFAULT_POLICY
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from kkmp_sheets.core.wib import WIB
from kkmp_sheets.delivery.mail import (
    Archive,
    Digest,
    DigestKey,
    Outcome,
    RecipientResult,
    SendResult,
    Step,
    Transport,
    build_message,
    message_bytes,
    require_timezone,
)
from kkmp_sheets.errors import KkmpError, OutputError
from kkmp_sheets.store.sqlite import Database, Migration, open_database, schema_version, transaction

if TYPE_CHECKING:
    from kkmp_sheets.config import Config

log = logging.getLogger(__name__)

LEDGER_FILE = "deliveries.sqlite"
# Held (flock) while one process delivers, so that a 'sending' row found by the holder can only
# have been left by a process that died: never by one still talking to the server.
LOCK_FILE = "deliveries.lock"
# PRAGMA application_id of a delivery ledger ("KKMD"), so that another SQLite file of the
# service (the history store) is refused rather than taken for a migrated ledger.
APPLICATION_ID = 0x4B4B4D44
DEFAULT_MAX_ATTEMPTS = 20
# The recipient of a digest nobody is to receive: the outbox still writes it once (PRODUCT.md).
NO_RECIPIENT = ""


class State(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED_PERMANENT = "failed_permanent"
    UNCERTAIN = "uncertain"  # lost after the final dot: the server may have it


# Numbered, append-only (see store/sqlite.py). Never edit a released step: add a new one.
_MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        (
            """
            CREATE TABLE deliveries (
                kind TEXT NOT NULL,
                audience TEXT NOT NULL,
                period TEXT NOT NULL,
                -- envelope address as first given; '' = the digest itself (outbox, nobody to send to)
                recipient TEXT NOT NULL COLLATE NOCASE,
                state TEXT NOT NULL
                    CHECK (state IN ('queued', 'sending', 'sent', 'failed_permanent')),
                -- times it reached the server (or the outbox); an unreachable server does not count
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                queued_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                sent_at TEXT,
                PRIMARY KEY (kind, audience, period, recipient)
            )
            """,
            "CREATE INDEX deliveries_by_state ON deliveries (state)",
            """
            CREATE TABLE messages (
                kind TEXT NOT NULL,
                audience TEXT NOT NULL,
                period TEXT NOT NULL,
                message BLOB NOT NULL,
                PRIMARY KEY (kind, audience, period)
            )
            """,
        ),
    ),
    (
        # A stable id for the operator, the SMTP step reached, 'uncertain' as its own state, and
        # when an uncertain row was reported. A row left 'sending' by an older version has no
        # step: it may have been accepted, so it becomes 'uncertain' rather than sent again.
        2,
        (
            """
            CREATE TABLE deliveries_v2 (
                id INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,
                audience TEXT NOT NULL,
                period TEXT NOT NULL,
                recipient TEXT NOT NULL COLLATE NOCASE,
                state TEXT NOT NULL CHECK (state IN
                    ('queued', 'sending', 'sent', 'failed_permanent', 'uncertain')),
                -- how far the last attempt got; only 'after_dot' can mean "accepted"
                step TEXT CHECK (step IN ('connecting', 'dialogue', 'data', 'after_dot')),
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                queued_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                sent_at TEXT,
                reported_at TEXT,  -- an uncertain row told to the operator
                UNIQUE (kind, audience, period, recipient)
            )
            """,
            """
            INSERT INTO deliveries_v2 (kind, audience, period, recipient, state, attempts,
                last_error, queued_at, updated_at, sent_at)
            SELECT kind, audience, period, recipient,
                CASE state WHEN 'sending' THEN 'uncertain' ELSE state END, attempts,
                CASE state WHEN 'sending' THEN coalesce(last_error,
                    'the service stopped while sending it; whether it arrived is unknown')
                    ELSE last_error END,
                queued_at, updated_at, sent_at
            FROM deliveries ORDER BY queued_at, kind, audience, period, recipient
            """,
            "DROP TABLE deliveries",
            "ALTER TABLE deliveries_v2 RENAME TO deliveries",
            "CREATE INDEX deliveries_by_state ON deliveries (state)",
        ),
    ),
    (
        # WhatsApp and Telegram messages (issue 12): one row per (kind, audience, period,
        # channel, recipient) beside the e-mail rows, with the message itself (text or template
        # parameters, and the PDF), when it may go (quiet hours, a service's retry_after), and
        # the provider's message id once accepted. See delivery/channel_delivery.py.
        3,
        (
            """
            CREATE TABLE channel_deliveries (
                id INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,
                audience TEXT NOT NULL,
                period TEXT NOT NULL,
                channel TEXT NOT NULL CHECK (channel IN ('whatsapp', 'telegram')),
                recipient TEXT NOT NULL,  -- E.164 number or Telegram chat id
                state TEXT NOT NULL CHECK (state IN
                    ('queued', 'sending', 'sent', 'failed_permanent', 'uncertain')),
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                not_before TEXT,  -- WIB ISO time before which it is not sent
                provider_id TEXT,  -- wamid.… or Telegram message_id, once accepted
                payload TEXT NOT NULL,  -- JSON: what to send (channel_delivery.Payload)
                document BLOB,  -- the Laporan Pimpinan PDF, when it goes along
                queued_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                sent_at TEXT,
                reported_at TEXT,  -- an uncertain or refused row told to the operator
                UNIQUE (kind, audience, period, channel, recipient)
            )
            """,
            "CREATE INDEX channel_deliveries_by_state ON channel_deliveries (state)",
        ),
    ),
)
SCHEMA_VERSION = _MIGRATIONS[-1][0]
LEDGER = Database(
    name="delivery ledger",
    file=LEDGER_FILE,
    application_id=APPLICATION_ID,
    migrations=_MIGRATIONS,
    if_damaged="a new one is started, and digests of the current period go out again",
    pragmas=("synchronous = FULL",),  # 'sending' must survive a power cut
)
_KEY = "kind = ? AND audience = ? AND period = ?"
_MARK_SENT = "state = 'sent', sent_at = ?1, updated_at = ?1"
_COLUMNS = (
    "kind, audience, period, recipient, state, attempts, last_error, queued_at, updated_at,"
    " sent_at, step, id, reported_at"
)
DEFAULT_DEADLINE_SECONDS = 600.0
DEFAULT_BREAKER_THRESHOLD = 3


@dataclass(frozen=True)
class DeliveryLimits:
    """How long one `deliver()` may take, and after how many consecutive server failures
    (refused, timed out, dropped) the server is taken as down for the rest of it."""

    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS
    breaker_threshold: int = DEFAULT_BREAKER_THRESHOLD

    def __post_init__(self) -> None:
        if self.deadline_seconds <= 0:
            raise ValueError("deadline_seconds must be above 0")
        if self.breaker_threshold < 1:
            raise ValueError("breaker_threshold must be at least 1")


@dataclass(frozen=True)
class Delivery:
    """One row of the ledger: a digest to one recipient. Times are ISO 8601 in WIB."""

    key: DigestKey
    recipient: str
    state: State
    attempts: int
    last_error: str | None
    queued_at: str
    updated_at: str
    sent_at: str | None
    step: Step | None = None  # how far the last attempt got
    id: int = 0  # stable, for the operator (`kkmp-sheets deliveries --resend ID`)
    reported_at: str | None = None


@dataclass(frozen=True)
class DeliveryReport:
    """What one `deliver()` call did, counted per (digest, recipient), each in one bucket."""

    sent: int = 0
    skipped_already_sent: int = 0
    queued_for_retry: int = 0
    failed_permanent: int = 0
    uncertain: int = 0
    no_recipients: int = 0  # digests with nobody to send to (SMTP only; the outbox writes them)
    held_back: int = 0  # not tried this time: the server is down (breaker) or the deadline passed

    def __str__(self) -> str:
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


def _stamp(now: datetime) -> str:
    return now.astimezone(WIB).isoformat(timespec="seconds")


class DeliveryLedger:
    """The SQLite file recording every delivery. Use as a context manager, or call `close()`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = open_database(self.path, LEDGER)

    @classmethod
    def for_config(cls, cfg: Config) -> DeliveryLedger:
        return cls(cfg.data_dir / LEDGER_FILE)

    def __enter__(self) -> DeliveryLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One committed unit of work; a ledger that cannot be written stops the service."""
        try:
            with transaction(self._db) as db:
                yield db
        except sqlite3.Error as exc:
            raise OutputError(f"The delivery ledger {self.path} cannot be written: {exc}") from exc

    def write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One committed unit of work, for the channel rows (`channel_delivery.py`)."""
        return self._transaction()

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._db.execute(sql, tuple(args)))

    def schema_version(self) -> int:
        return schema_version(self._db)

    # --- reading

    def deliveries(self, key: DigestKey | None = None) -> list[Delivery]:
        """Rows of one digest, or all, oldest first."""
        where, args = (f"WHERE {_KEY}", astuple(key)) if key is not None else ("", ())
        return self._select(where, args)

    def _select(self, where: str, args: Sequence[Any] = ()) -> list[Delivery]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM deliveries {where} ORDER BY queued_at, id", tuple(args)
        )
        return [_delivery(row) for row in rows]

    def uncertain(self) -> list[Delivery]:
        """Rows that may or may not have reached the server: the operator's to check."""
        return self._select("WHERE state = 'uncertain'")

    def pending(self) -> list[Delivery]:
        """Everything not (known to be) delivered: queued, in flight, failed, uncertain."""
        return self._select("WHERE state != 'sent'")

    def get(self, delivery_id: int) -> Delivery | None:
        found = self._select("WHERE id = ?", (delivery_id,))
        return found[0] if found else None

    def unreported_uncertain(self) -> list[Delivery]:
        """Uncertain rows the operator has not been told of yet."""
        return self._select("WHERE state = 'uncertain' AND reported_at IS NULL")

    def mark_reported(self, ids: Iterable[int], *, now: datetime) -> None:
        with self._transaction() as db:
            db.executemany(
                "UPDATE deliveries SET reported_at = ? WHERE id = ?",
                [(_stamp(now), i) for i in ids],
            )

    def states(self, key: DigestKey) -> dict[str, State]:
        """Recipient (lower-case) → state, for one digest."""
        rows = self._db.execute(
            f"SELECT recipient, state FROM deliveries WHERE {_KEY}", astuple(key)
        )
        return {recipient.lower(): State(state) for recipient, state in rows}

    def queued_keys(self) -> list[DigestKey]:
        rows = self._db.execute(
            "SELECT kind, audience, period FROM deliveries WHERE state = 'queued'"
            " GROUP BY kind, audience, period ORDER BY min(queued_at)"
        )
        return [DigestKey(*row) for row in rows]

    def message(self, key: DigestKey) -> bytes | None:
        row = self._db.execute(f"SELECT message FROM messages WHERE {_KEY}", astuple(key))
        found = row.fetchone()
        return None if found is None else bytes(found[0])

    # --- writing

    def enqueue(
        self, key: DigestKey, recipients: Sequence[str], message: bytes, *, now: datetime
    ) -> None:
        """Queue `recipients` not yet known for `key`, and keep `message` as the one to send."""
        stamp = _stamp(now)
        with self._transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO deliveries (kind, audience, period, recipient, state,"
                " queued_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)",
                [(*astuple(key), r, stamp, stamp) for r in recipients],
            )
            db.execute(
                "INSERT INTO messages (kind, audience, period, message) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO UPDATE SET message = excluded.message",
                (*astuple(key), message),
            )

    def claim(self, key: DigestKey, *, now: datetime) -> list[str]:
        """Mark the queued recipients of `key` 'sending', step 'connecting' (committed), and
        return them.

        Two processes cannot claim the same row: the write lock is taken before reading.
        """
        with self._transaction() as db:
            recipients = [
                r
                for (r,) in db.execute(
                    f"SELECT recipient FROM deliveries WHERE {_KEY} AND state = 'queued'",
                    astuple(key),
                )
            ]
            db.execute(
                f"UPDATE deliveries SET state = 'sending', step = 'connecting', updated_at = ?"
                f" WHERE {_KEY} AND state = 'queued'",
                (_stamp(now), *astuple(key)),
            )
        return recipients

    def advance(self, key: DigestKey, step: Step, *, now: datetime) -> None:
        """Record (durably) that the delivery of `key` now under way is about to take `step`."""
        self._update(
            f"step = '{Step(step).value}', updated_at = ?1",
            "state = 'sending'",
            (_stamp(now), *astuple(key)),
        )

    def recover(self, *, now: datetime) -> tuple[int, int]:
        """Settle the rows a process that died left 'sending', by the step they reached.

        Before the final dot the server cannot have accepted the message: queued again. From
        `after_dot` on it may have: 'uncertain'. Call only while holding the delivery lock, so
        that no live process is sending them. Returns (queued again, uncertain).
        """
        stamp = _stamp(now)
        with self._transaction() as db:
            uncertain = db.execute(
                "UPDATE deliveries SET state = 'uncertain', updated_at = ?, last_error ="
                " 'the service stopped after sending the whole message, before the server"
                " answered; whether it arrived is unknown'"
                " WHERE state = 'sending' AND (step = 'after_dot' OR step IS NULL)",
                (stamp,),
            ).rowcount
            again = db.execute(
                "UPDATE deliveries SET state = 'queued', updated_at = ?, last_error ="
                " 'the service stopped before the message was sent completely (step ' ||"
                " step || '); it is sent again' WHERE state = 'sending'",
                (stamp,),
            ).rowcount
        return again, uncertain

    @contextmanager
    def exclusive(self) -> Iterator[bool]:
        """Hold the delivery lock while inside; yields False when another process holds it."""
        if sys.platform == "win32":  # no flock: one process at a time is the operator's care
            yield True
            return
        import fcntl

        fd = os.open(self.path.parent / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing releases the lock (and a kill releases it too)

    def record(
        self,
        key: DigestKey,
        outcomes: Mapping[str, RecipientResult],
        *,
        now: datetime,
        max_attempts: int,
    ) -> dict[str, State]:
        """Store what the server said about each claimed recipient; return their new states."""
        stamp = _stamp(now)
        states = {}
        with self._transaction() as db:
            for recipient, result in outcomes.items():
                attempts = self._attempts(key, recipient) + int(result.attempted)
                state, error = _next_state(result, attempts, max_attempts)
                if state is State.SENDING:
                    state = State.UNCERTAIN
                db.execute(
                    "UPDATE deliveries SET state = ?, attempts = ?, last_error = ?,"
                    " updated_at = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END"
                    f" WHERE {_KEY} AND recipient = ?",
                    (state, attempts, error, stamp, state, stamp, *astuple(key), recipient),
                )
                states[recipient] = state
        return states

    def _attempts(self, key: DigestKey, recipient: str) -> int:
        row = self._db.execute(
            f"SELECT attempts FROM deliveries WHERE {_KEY} AND recipient = ?",
            (*astuple(key), recipient),
        ).fetchone()
        return int(row[0])

    def release(self, key: DigestKey, recipients: Sequence[str], *, now: datetime) -> None:
        """Put claimed rows back to 'queued': the transport failed before sending anything."""
        with self._transaction() as db:
            db.executemany(
                "UPDATE deliveries SET state = 'queued', updated_at = ?"
                f" WHERE {_KEY} AND recipient = ? AND state = 'sending'",
                [(_stamp(now), *astuple(key), r) for r in recipients],
            )

    def settle(self, key: DigestKey, *, delivered: bool, now: datetime) -> int:
        """All 'sending' rows of `key` → 'sent' or back to 'queued'; returns how many."""
        change = _MARK_SENT if delivered else "state = 'queued', updated_at = ?1"
        return self._update(change, "state = 'sending'", (_stamp(now), *astuple(key)))

    def resolve(self, key: DigestKey, recipient: str, *, delivered: bool, now: datetime) -> None:
        """The operator's verdict on one row (an uncertain one, or a refusal fixed since).

        `delivered=True` marks it sent; `False` queues it again with its attempts reset.
        """
        change = _MARK_SENT if delivered else _REQUEUE
        if not self._update(change, "recipient = ?5", (_stamp(now), *astuple(key), recipient)):
            raise KeyError(f"no delivery of {key} to {recipient!r}")

    def resolve_id(self, delivery_id: int, *, delivered: bool, now: datetime) -> Delivery:
        """`resolve` by the row's id; a row in flight ('sending') is left alone (ValueError)."""
        row = self.get(delivery_id)
        if row is None:
            raise KeyError(f"no delivery with id {delivery_id}")
        if row.state is State.SENDING:
            raise ValueError(f"delivery {delivery_id} is being sent right now; try again later")
        if not delivered and self.message(row.key) is None:
            raise ValueError(
                f"delivery {delivery_id} cannot be sent again: its message is no longer kept "
                "(every recipient had it). It goes out again only if its digest is made again."
            )
        self.resolve(row.key, row.recipient, delivered=delivered, now=now)
        return row

    def _update(self, change: str, condition: str, args: tuple[str, ...]) -> int:
        """UPDATE rows of one key (?2..?4) meeting `condition`; ?1 is the time stamp."""
        with self._transaction() as db:
            return db.execute(
                f"UPDATE deliveries SET {change} WHERE kind = ?2 AND audience = ?3"
                f" AND period = ?4 AND {condition}",
                args,
            ).rowcount

    def forget_delivered_messages(self) -> None:
        """Drop kept messages once every recipient has theirs (failed ones keep it for a retry)."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM messages WHERE NOT EXISTS (SELECT 1 FROM deliveries d"
                " WHERE d.kind = messages.kind AND d.audience = messages.audience"
                " AND d.period = messages.period AND d.state != 'sent')"
            )


# Queued again by the operator: a fresh start, told again should it turn uncertain again.
_REQUEUE = "state = 'queued', attempts = 0, step = NULL, reported_at = NULL, updated_at = ?1"


def _delivery(row: tuple[Any, ...]) -> Delivery:
    kind, audience, period, recipient, state, attempts, last_error, queued_at, updated_at = row[:9]
    sent_at, step, row_id, reported_at = row[9:]
    return Delivery(
        DigestKey(kind, audience, period),
        recipient,
        State(state),
        attempts,
        last_error,
        queued_at,
        updated_at,
        sent_at,
        step=None if step is None else Step(step),
        id=row_id,
        reported_at=reported_at,
    )


def _next_state(
    result: RecipientResult, attempts: int, max_attempts: int
) -> tuple[State, str | None]:
    """The row's next state and last_error for one recipient's result."""
    if result.outcome is Outcome.ACCEPTED:
        return State.SENT, None
    if result.outcome is Outcome.PERMANENT:
        return State.FAILED_PERMANENT, result.reply
    if result.outcome is Outcome.UNCERTAIN:
        return State.SENDING, result.reply
    if result.attempted and attempts >= max_attempts:
        return State.FAILED_PERMANENT, f"gave up after {attempts} attempts: {result.reply}"
    return State.QUEUED, result.reply


# --- delivering

_BUCKET = {
    State.SENT: "sent",
    State.QUEUED: "queued_for_retry",
    State.FAILED_PERMANENT: "failed_permanent",
    State.SENDING: "uncertain",
    State.UNCERTAIN: "uncertain",
}
_EARLIER = {**_BUCKET, State.SENT: "skipped_already_sent"}


def deliver(
    digests: Iterable[Digest],
    transport: Transport,
    ledger: DeliveryLedger,
    *,
    now: datetime,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    limits: DeliveryLimits | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> DeliveryReport:
    """Send every digest to every recipient who does not have it yet, then retry what is queued.

    Queued deliveries of earlier calls (other periods too) are retried from the ledger, and rows
    a process that died left 'sending' are settled first (by their step, or by the outbox
    file). Problems with the mail server never raise: they are counted in the report and stay
    queued. A recipient the server keeps deferring (4xx) is given up after `max_attempts`
    deferrals. `limits` bounds the whole call (deadline, circuit breaker); `clock` measures it.
    """
    require_timezone(now)
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    limits = limits or DeliveryLimits()
    archive = transport if isinstance(transport, Archive) else None
    tally: Counter[str] = Counter()
    unique = list(_unique(digests))
    with ledger.exclusive() as ours:
        if not ours:
            log.warning(
                "another kkmp-sheets process is delivering digests from %s: this run only "
                "queues its own, for the next run",
                ledger.path,
            )
            for digest in unique:
                _offer(digest, ledger, archive, tally, now)
            tally["held_back"] += sum(d.state is State.QUEUED for d in ledger.pending())
        else:
            _recover(ledger, archive, now)
            for digest in unique:
                _offer(digest, ledger, archive, tally, now)
            _send_queued(transport, archive, ledger, tally, now, max_attempts, limits, clock)
            ledger.forget_delivered_messages()
    report = DeliveryReport(**tally)
    log.info("digest deliveries: %s", report)
    return report


def _unique(digests: Iterable[Digest]) -> Iterator[Digest]:
    seen: set[DigestKey] = set()
    for digest in digests:
        if digest.key in seen:
            log.warning("digest %s given twice; the second is ignored", _label(digest.key))
            continue
        seen.add(digest.key)
        yield digest


def _recover(ledger: DeliveryLedger, archive: Archive | None, now: datetime) -> None:
    """Settle what a process that died left 'sending' (we hold the lock: nobody else sends)."""
    stuck = sorted(
        {d.key for d in ledger.pending() if d.state is State.SENDING}, key=lambda k: k.slug()
    )
    if not stuck:
        return
    if archive is not None:
        for key in stuck:
            _settle_from_archive(key, archive, ledger, now)
        return
    again, uncertain = ledger.recover(now=now)
    log.warning(
        "a previous run stopped while sending %d digest(s): %d deliveries never got their final "
        "dot and are sent again; %d may have arrived and are left uncertain for the operator "
        "(kkmp-sheets deliveries)",
        len(stuck),
        again,
        uncertain,
    )


def _offer(
    digest: Digest,
    ledger: DeliveryLedger,
    archive: Archive | None,
    tally: Counter[str],
    now: datetime,
) -> None:
    """Queue the recipients of `digest` who are new; count those decided earlier."""
    key = digest.key
    recipients = digest.recipients() or ((NO_RECIPIENT,) if archive else ())
    if not recipients:
        log.info("digest %s has no recipients: nothing to send", _label(key))
        tally["no_recipients"] += 1
        return
    known = ledger.states(key)
    for recipient in recipients:
        state = known.get(recipient.lower())
        if state is not None and state is not State.QUEUED:
            tally[_EARLIER[state]] += 1
    if any(known.get(r.lower(), State.QUEUED) is State.QUEUED for r in recipients):
        message = message_bytes(build_message(digest, now=now))
        ledger.enqueue(key, [r for r in recipients if r.lower() not in known], message, now=now)


def _settle_from_archive(
    key: DigestKey, archive: Archive, ledger: DeliveryLedger, now: datetime
) -> None:
    """After a crash, the outbox file (written atomically) tells whether the digest got out."""
    delivered = archive.holds(key)
    count = ledger.settle(key, delivered=delivered, now=now)
    log.info(
        "digest %s: %d interrupted deliveries settled as %s",
        _label(key),
        count,
        "written" if delivered else "not written, queued again",
    )


def _send_queued(
    transport: Transport,
    archive: Archive | None,
    ledger: DeliveryLedger,
    tally: Counter[str],
    now: datetime,
    max_attempts: int,
    limits: DeliveryLimits,
    clock: Callable[[], float],
) -> None:
    """Send each queued digest, oldest first, until done, the deadline or the breaker."""
    started = clock()
    failures = 0  # consecutive messages the server itself failed
    keys = ledger.queued_keys()
    for index, key in enumerate(keys):
        reason = _stop_reason(failures, clock() - started, limits)
        if reason:
            waiting = sum(list(ledger.states(k).values()).count(State.QUEUED) for k in keys[index:])
            tally["held_back"] += waiting
            log.warning("%d deliveries stay queued for the next run: %s", waiting, reason)
            return
        result = _send(key, transport, archive, ledger, tally, now, max_attempts)
        if result is not None:
            failures = failures + 1 if result.server_failed else 0


def _stop_reason(failures: int, elapsed: float, limits: DeliveryLimits) -> str | None:
    if failures >= limits.breaker_threshold:
        return (
            f"the mail server failed {failures} times in a row (refused, no answer in time, or "
            "dropped the connection), so it is taken as down"
        )
    if elapsed >= limits.deadline_seconds:
        return f"this run's delivery time ([mail] deadline_seconds = {limits.deadline_seconds:g})"
    return None


def _send(
    key: DigestKey,
    transport: Transport,
    archive: Archive | None,
    ledger: DeliveryLedger,
    tally: Counter[str],
    now: datetime,
    max_attempts: int,
) -> SendResult | None:
    message = ledger.message(key)
    if message is None:  # only after an operator re-queued a row whose message was dropped
        log.warning("digest %s is queued but its message is gone; it waits", _label(key))
        tally["queued_for_retry"] += list(ledger.states(key).values()).count(State.QUEUED)
        return None
    claimed = ledger.claim(key, now=now)
    if not claimed:
        return None
    msg = cast(EmailMessage, BytesParser(policy=DEFAULT_POLICY).parsebytes(message))
    envelope = [r for r in claimed if r != NO_RECIPIENT]

    def on_step(step: Step) -> None:
        if step is not Step.CONNECTING:  # the claim recorded that one
            ledger.advance(key, step, now=now)

    try:
        result = transport.send(msg, envelope, on_step)
    except KkmpError:
        ledger.release(key, claimed, now=now)
        raise
    outcomes = {r: result.results.get(r, _MISSING) for r in envelope}
    if NO_RECIPIENT in claimed:
        outcomes[NO_RECIPIENT] = _ARCHIVED if archive else _NOBODY
    states = ledger.record(key, outcomes, now=now, max_attempts=max_attempts)
    tally.update(_BUCKET[state] for state in states.values())
    _log_outcomes(key, outcomes, states)
    return result


# A transport that forgets a recipient may still have sent to it: never send it again blindly.
_MISSING = RecipientResult(Outcome.UNCERTAIN, "the transport reported nothing for this recipient")
_ARCHIVED = RecipientResult(Outcome.ACCEPTED, "written to the outbox")
_NOBODY = RecipientResult(Outcome.PERMANENT, "nobody to send it to")


def _log_outcomes(
    key: DigestKey, outcomes: Mapping[str, RecipientResult], states: Mapping[str, State]
) -> None:
    for recipient, result in outcomes.items():
        log.debug("digest %s to %s: %s %s", _label(key), recipient, states[recipient], result.reply)
    problems = Counter(s for s in states.values() if s is not State.SENT)
    if problems:
        example = next(r.reply for r in outcomes.values() if r.outcome is not Outcome.ACCEPTED)
        log.warning(
            "digest %s: %d sent, %s; e.g. %s",
            _label(key),
            len(states) - sum(problems.values()),
            ", ".join(f"{n} {_BUCKET[s]}" for s, n in problems.items()),
            mask_addresses(example),
        )


def mask_addresses(text: str) -> str:
    """Addresses shortened to their first letter (budi@contoh.id → b***@contoh.id) for logs."""
    return re.sub(r"([A-Za-z0-9])[A-Za-z0-9._%+-]*@", r"\1***@", text)


def _label(key: DigestKey) -> str:
    return mask_addresses(f"{key.kind} {key.audience} {key.period}")
