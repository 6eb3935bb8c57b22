"""Once per period: the delivery ledger and deliver(), against a real SMTP server and the outbox.

The crash tests run deliver() in a child process that dies (os._exit) right after the server
accepted the message — the window SMTP cannot close — and check what the next run does.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from test_mail import NOW, PNG, Mailbox, SmtpServer, city_key, make_digest, parse

from kkmp_sheets.delivery.ledger import (
    SCHEMA_VERSION,
    DeliveryLedger,
    DeliveryReport,
    State,
    deliver,
)
from kkmp_sheets.delivery.mail import (
    Digest,
    DigestKey,
    InlineImage,
    OutboxTransport,
    Outcome,
    RecipientResult,
    SendResult,
    Step,
)
from kkmp_sheets.errors import OutputError

LATER = NOW + timedelta(minutes=15)
OFFICIALS = ("kadis@jakbar.go.id", "Sekretaris <sekdis@jakbar.go.id>", "kabid@jakbar.go.id")


@pytest.fixture
def ledger(tmp_path: Path):
    with DeliveryLedger(tmp_path / "data" / "deliveries.sqlite") as opened:
        yield opened


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def officials_digest(**kw: Any) -> Digest:
    return make_digest(to=OFFICIALS, **kw)


def states(ledger: DeliveryLedger, key: DigestKey | None = None) -> dict[str, State]:
    return {d.recipient: d.state for d in ledger.deliveries(key or city_key())}


def copies(server: SmtpServer) -> dict[str, int]:
    """How many messages each recipient got."""
    counts: dict[str, int] = {}
    for received in server.received:
        for rcpt in received.rcpt_tos:
            counts[rcpt] = counts.get(rcpt, 0) + 1
    return counts


# --- the ledger itself


def test_ledger_schema_is_versioned_and_in_wal_mode(tmp_path: Path):
    path = tmp_path / "deliveries.sqlite"
    with DeliveryLedger(path) as ledger:
        assert ledger.schema_version() == SCHEMA_VERSION == 3
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    assert tables == {"deliveries", "messages", "channel_deliveries"}
    with DeliveryLedger(path) as again:  # opening again migrates nothing and keeps the version
        assert again.schema_version() == 3


def test_ledger_from_a_newer_version_is_refused(tmp_path: Path):
    path = tmp_path / "deliveries.sqlite"
    DeliveryLedger(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(OutputError, match="newer"):
        DeliveryLedger(path)


def test_another_sqlite_file_is_not_taken_for_a_ledger(tmp_path: Path):
    path = tmp_path / "history.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE coop_day (as_of TEXT)")
        db.execute("PRAGMA user_version = 1")
    db.close()
    with pytest.raises(OutputError, match="not a kkmp-sheets delivery ledger"):
        DeliveryLedger(path)


def test_a_broken_file_says_what_to_do(tmp_path: Path):
    path = tmp_path / "deliveries.sqlite"
    path.write_bytes(b"bukan basis data " * 200)
    with pytest.raises(OutputError, match="move the file away"):
        DeliveryLedger(path)


def test_ledger_that_cannot_be_opened_is_an_output_error(tmp_path: Path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="delivery ledger"):
        DeliveryLedger(tmp_path / "file" / "deliveries.sqlite")


def test_rows_survive_a_reopen_with_their_history(tmp_path: Path, smtp: SmtpServer):
    path = tmp_path / "deliveries.sqlite"
    smtp.handler.rcpt_replies["kabid@jakbar.go.id"] = "550 5.1.1 no such user"
    with DeliveryLedger(path) as ledger:
        deliver([officials_digest()], smtp.transport(), ledger, now=NOW)
    with DeliveryLedger(path) as ledger:
        rows = {d.recipient: d for d in ledger.deliveries()}
    assert rows["kadis@jakbar.go.id"].state is State.SENT
    assert rows["kadis@jakbar.go.id"].sent_at == "2026-01-29T07:00:00+07:00"
    assert rows["kadis@jakbar.go.id"].attempts == 1
    assert rows["kabid@jakbar.go.id"].state is State.FAILED_PERMANENT
    assert rows["kabid@jakbar.go.id"].last_error == "550 5.1.1 no such user"
    assert rows["kabid@jakbar.go.id"].key == city_key()


# --- once per period over SMTP


def test_first_run_sends_all_and_the_second_sends_nothing(ledger, smtp: SmtpServer):
    kecamatan = make_digest(
        key=DigestKey("kecamatan", "kecamatan:31.73.05", "2026-01-29"), to=("camat@jakbar.go.id",)
    )
    first = deliver([officials_digest(), kecamatan], smtp.transport(), ledger, now=NOW)
    second = deliver([officials_digest(), kecamatan], smtp.transport(), ledger, now=LATER)

    assert first == DeliveryReport(sent=4)
    assert second == DeliveryReport(skipped_already_sent=4)
    assert len(smtp.received) == 2  # one message per digest, with all its recipients
    assert copies(smtp) == {
        "kadis@jakbar.go.id": 1,
        "sekdis@jakbar.go.id": 1,
        "kabid@jakbar.go.id": 1,
        "camat@jakbar.go.id": 1,
    }
    msg = smtp.received[0].message()
    assert msg["Message-ID"] == city_key().message_id()
    assert {p.get_content_type() for p in msg.walk()} >= {"text/plain", "text/html", "image/png"}


def test_a_new_period_is_a_new_digest(ledger, smtp: SmtpServer):
    deliver([officials_digest()], smtp.transport(), ledger, now=NOW)
    tomorrow = officials_digest(key=city_key("2026-01-30"))
    assert deliver([tomorrow], smtp.transport(), ledger, now=NOW + timedelta(days=1)).sent == 3
    assert len(smtp.received) == 2


def test_a_recipient_added_later_gets_it_alone(ledger, smtp: SmtpServer):
    deliver([make_digest(to=("kadis@jakbar.go.id",))], smtp.transport(), ledger, now=NOW)
    grown = make_digest(to=("KADIS@jakbar.go.id", "sekdis@jakbar.go.id"))
    report = deliver([grown], smtp.transport(), ledger, now=LATER)
    assert report == DeliveryReport(sent=1, skipped_already_sent=1)
    assert [r.rcpt_tos for r in smtp.received] == [
        ("kadis@jakbar.go.id",),
        ("sekdis@jakbar.go.id",),
    ]


def test_one_refused_recipient_does_not_block_the_others(ledger, smtp: SmtpServer):
    smtp.handler.rcpt_replies["sekdis@jakbar.go.id"] = "550 5.1.1 <sekdis@jakbar.go.id>: unknown"

    first = deliver([officials_digest()], smtp.transport(), ledger, now=NOW)
    second = deliver([officials_digest()], smtp.transport(), ledger, now=LATER)

    assert first == DeliveryReport(sent=2, failed_permanent=1)
    assert second == DeliveryReport(skipped_already_sent=2, failed_permanent=1)
    assert copies(smtp) == {"kadis@jakbar.go.id": 1, "kabid@jakbar.go.id": 1}
    [failed] = [d for d in ledger.deliveries() if d.state is State.FAILED_PERMANENT]
    assert (failed.recipient, failed.last_error) == (
        "sekdis@jakbar.go.id",
        "550 5.1.1 <sekdis@jakbar.go.id>: unknown",
    )


def test_a_deferred_recipient_is_retried_until_accepted(ledger, smtp: SmtpServer):
    smtp.handler.rcpt_replies["kabid@jakbar.go.id"] = "451 4.7.1 greylisted, try again later"

    first = deliver([officials_digest()], smtp.transport(), ledger, now=NOW)
    assert first == DeliveryReport(sent=2, queued_for_retry=1)
    [row] = [d for d in ledger.deliveries() if d.state is State.QUEUED]
    assert (row.recipient, row.attempts) == ("kabid@jakbar.go.id", 1)
    assert row.last_error == "451 4.7.1 greylisted, try again later"

    del smtp.handler.rcpt_replies["kabid@jakbar.go.id"]
    second = deliver([officials_digest()], smtp.transport(), ledger, now=LATER)
    assert second == DeliveryReport(sent=1, skipped_already_sent=2)
    assert copies(smtp) == dict.fromkeys(
        ["kadis@jakbar.go.id", "sekdis@jakbar.go.id", "kabid@jakbar.go.id"], 1
    )


def test_a_recipient_deferred_too_often_is_given_up(ledger, smtp: SmtpServer):
    smtp.handler.rcpt_replies["kadis@jakbar.go.id"] = "452 4.2.2 mailbox full"
    digest = make_digest()
    reports = [
        deliver([digest], smtp.transport(), ledger, now=NOW + timedelta(hours=i), max_attempts=3)
        for i in range(4)
    ]
    assert [r.queued_for_retry for r in reports] == [1, 1, 0, 0]
    assert [r.failed_permanent for r in reports] == [0, 0, 1, 1]
    [row] = ledger.deliveries()
    assert row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: 452 4.2.2 mailbox full"


def test_a_message_refused_at_data_is_retried_for_everyone(ledger, smtp: SmtpServer):
    smtp.handler.data_reply = "451 4.3.0 local problem, try again"
    assert deliver([officials_digest()], smtp.transport(), ledger, now=NOW).queued_for_retry == 3
    smtp.handler.data_reply = None
    assert deliver([officials_digest()], smtp.transport(), ledger, now=LATER).sent == 3
    assert len(smtp.received) == 1


def test_server_down_queues_and_the_next_run_sends_exactly_once(ledger):
    server = SmtpServer()  # not started yet: connections are refused
    transport = server.transport(timeout=2)

    down = deliver([officials_digest()], transport, ledger, now=NOW)
    assert down == DeliveryReport(queued_for_retry=3)
    assert all(d.attempts == 0 for d in ledger.deliveries())  # an outage uses up no attempt
    assert all("Connection" in (d.last_error or "") for d in ledger.deliveries())
    again_down = deliver([officials_digest()], transport, ledger, now=NOW + timedelta(minutes=5))
    assert again_down == DeliveryReport(queued_for_retry=3)

    server.start()
    try:
        up = deliver([officials_digest()], transport, ledger, now=LATER)
        after = deliver([officials_digest()], transport, ledger, now=LATER + timedelta(hours=1))
    finally:
        server.stop()
    assert up == DeliveryReport(sent=3)
    assert after == DeliveryReport(skipped_already_sent=3)
    assert len(server.received) == 1
    assert copies(server) == dict.fromkeys(
        ["kadis@jakbar.go.id", "sekdis@jakbar.go.id", "kabid@jakbar.go.id"], 1
    )


def test_queued_digests_of_a_past_period_are_sent_from_the_ledger(ledger):
    server = SmtpServer()
    yesterday = officials_digest(key=city_key("2026-01-28"))
    deliver([yesterday], server.transport(timeout=2), ledger, now=NOW - timedelta(days=1))
    assert ledger.message(yesterday.key) is not None

    server.start()
    try:
        # Today's run knows nothing of yesterday's digest: the ledger kept its message.
        report = deliver([], server.transport(), ledger, now=NOW)
    finally:
        server.stop()
    assert report == DeliveryReport(sent=3)
    [received] = server.received
    msg = received.message()
    assert msg["Message-ID"] == yesterday.key.message_id()
    assert msg["Date"] == "Wed, 28 Jan 2026 07:00:00 +0700"  # as composed, not as retried
    assert ledger.message(yesterday.key) is None  # dropped once everyone has it


def test_the_kept_message_is_sent_byte_for_byte(ledger):
    server = SmtpServer()
    deliver([officials_digest()], server.transport(timeout=2), ledger, now=NOW)
    kept = ledger.message(city_key())
    server.start()
    try:
        deliver([], server.transport(), ledger, now=LATER)
    finally:
        server.stop()
    assert kept is not None
    assert server.received[0].data == kept


def test_no_answer_after_the_message_is_uncertain_and_not_resent(ledger):
    server = SmtpServer(Mailbox(data_delay=5.0)).start()
    try:
        first = deliver([make_digest()], server.transport(timeout=1.0), ledger, now=NOW)
        server.handler.data_delay = 0
        second = deliver([make_digest()], server.transport(), ledger, now=LATER)
    finally:
        server.stop()
    assert first == DeliveryReport(uncertain=1)
    assert second == DeliveryReport(uncertain=1)
    assert len(server.received) == 1
    [row] = ledger.uncertain()
    assert (row.state, row.step) == (State.UNCERTAIN, Step.AFTER_DOT)
    assert "no answer after the message" in (row.last_error or "")


def test_smtp_digest_without_recipients_is_only_counted(ledger, smtp: SmtpServer):
    report = deliver([make_digest(to=())], smtp.transport(), ledger, now=NOW)
    assert report == DeliveryReport(no_recipients=1)
    assert ledger.deliveries() == []
    assert smtp.received == []


def test_header_injection_reaches_only_the_intended_recipient(ledger, smtp: SmtpServer):
    evil = "Ringkasan\r\nBcc: evil@x.id\r\nSubject: palsu"
    digest = make_digest(subject=evil, to=(f"{evil} <kadis@jakbar.go.id>",))
    assert deliver([digest], smtp.transport(), ledger, now=NOW) == DeliveryReport(sent=1)
    [received] = smtp.received
    assert received.rcpt_tos == ("kadis@jakbar.go.id",)
    msg = received.message()
    assert msg.get_all("Bcc") is None
    assert len(msg.get_all("Subject")) == 1


def test_the_same_key_twice_is_delivered_once(ledger, smtp: SmtpServer, caplog):
    report = deliver([make_digest(), make_digest()], smtp.transport(), ledger, now=NOW)
    assert report == DeliveryReport(sent=1)
    assert "given twice" in caplog.text


# --- the crash window


CHILD = r"""
import json, os, sys
from datetime import datetime
from pathlib import Path

from kkmp_sheets.delivery.ledger import DeliveryLedger, deliver
from kkmp_sheets.delivery.mail import Digest, DigestKey, OutboxTransport, SmtpTransport

spec = json.loads(sys.argv[1])
digest = Digest(key=DigestKey(*spec["key"]), **spec["digest"])
if spec["outbox"]:
    real = OutboxTransport(Path(spec["outbox"]))
else:
    real = SmtpTransport("127.0.0.1", spec["port"], security="none", timeout=5,
                         local_hostname="kkmp.test")


class DieAroundSend:
    def send(self, msg, recipients, on_step=lambda step: None):
        if spec["die"] == "after":
            result = real.send(msg, recipients, on_step)
            assert result.accepted, result
        os._exit(97)  # no cleanup, no commit: as if the power went off


with DeliveryLedger(Path(spec["ledger"])) as ledger:
    deliver([digest], DieAroundSend(), ledger, now=datetime.fromisoformat(spec["now"]))
sys.exit(0)  # not reached
"""

CRASHING_DIGEST = {
    "to": ["kadis@jakbar.go.id"],
    "subject": "Ringkasan KKMP Jakarta Barat — 29 Januari 2026",
    "text": "Ringkasan harian.",
    "sender": "kkmp-sheets@jakbar.go.id",
}


def run_and_crash(ledger_path: Path, die: str, *, port: int = 0, outbox: Path | None = None):
    spec = {
        "key": ["city", "kota", "2026-01-29"],
        "digest": CRASHING_DIGEST,
        "port": port,
        "outbox": str(outbox) if outbox else "",
        "ledger": str(ledger_path),
        "die": die,
        "now": NOW.isoformat(),
    }
    child = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 97, child.stderr


def crashing_digest() -> Digest:
    return Digest(key=city_key(), **{**CRASHING_DIGEST, "to": tuple(CRASHING_DIGEST["to"])})


def test_crash_after_the_server_accepted_is_never_resent(tmp_path: Path, smtp: SmtpServer):
    path = tmp_path / "deliveries.sqlite"
    run_and_crash(path, "after", port=smtp.port)
    assert len(smtp.received) == 1  # the server has it; the child died before 'sent'

    with DeliveryLedger(path) as ledger:
        assert states(ledger) == {"kadis@jakbar.go.id": State.SENDING}
        [row] = ledger.deliveries()
        assert row.step is Step.AFTER_DOT  # the real transport recorded it before the dot
        restart = deliver([crashing_digest()], smtp.transport(), ledger, now=LATER)
        again = deliver([crashing_digest()], smtp.transport(), ledger, now=LATER)
        assert restart == again == DeliveryReport(uncertain=1)
        assert len(smtp.received) == 1  # exactly one copy

        # The operator checked: it arrived.
        ledger.resolve(city_key(), "kadis@jakbar.go.id", delivered=True, now=LATER)
        settled = deliver([crashing_digest()], smtp.transport(), ledger, now=LATER)
    assert settled == DeliveryReport(skipped_already_sent=1)
    assert len(smtp.received) == 1


def test_crash_before_connecting_is_sent_again_once(tmp_path: Path, smtp):
    path = tmp_path / "deliveries.sqlite"
    run_and_crash(path, "before", port=smtp.port)
    assert smtp.received == []
    with DeliveryLedger(path) as ledger:
        [row] = ledger.deliveries()
        assert (row.state, row.step) == (State.SENDING, Step.CONNECTING)
        # The step says the final dot was never sent: the server cannot have it.
        assert deliver([crashing_digest()], smtp.transport(), ledger, now=LATER).sent == 1
        assert deliver([crashing_digest()], smtp.transport(), ledger, now=LATER) == (
            DeliveryReport(skipped_already_sent=1)
        )
    assert len(smtp.received) == 1


def test_resolve_an_unknown_row_is_an_error(ledger):
    with pytest.raises(KeyError):
        ledger.resolve(city_key(), "siapa@contoh.id", delivered=True, now=NOW)


def test_outbox_crash_after_writing_is_settled_by_the_file(tmp_path: Path):
    path, outbox = tmp_path / "deliveries.sqlite", tmp_path / "outbox"
    run_and_crash(path, "after", outbox=outbox)
    [written] = list(outbox.glob("*.eml"))
    before = written.stat().st_mtime_ns

    with DeliveryLedger(path) as ledger:
        report = deliver([crashing_digest()], OutboxTransport(outbox), ledger, now=LATER)
        assert report == DeliveryReport(skipped_already_sent=1)
        assert states(ledger) == {"kadis@jakbar.go.id": State.SENT}
    assert written.stat().st_mtime_ns == before  # not written again


def test_outbox_crash_before_writing_is_written_once(tmp_path: Path):
    path, outbox = tmp_path / "deliveries.sqlite", tmp_path / "outbox"
    run_and_crash(path, "before", outbox=outbox)
    assert not outbox.exists()

    with DeliveryLedger(path) as ledger:
        report = deliver([crashing_digest()], OutboxTransport(outbox), ledger, now=LATER)
        assert report == DeliveryReport(sent=1)
    assert [p.name for p in outbox.iterdir()] == [f"{city_key().slug()}.eml"]


# --- the outbox


def test_outbox_run_once_writes_every_digest_once(ledger, tmp_path: Path):
    outbox = OutboxTransport(tmp_path / "outbox")
    coop = make_digest(key=DigestKey("coop", "coop:KKMP-3173051004", "2026-W05"), to=())
    city = officials_digest()

    first = deliver([city, coop], outbox, ledger, now=NOW)
    written = {p.name: p.stat().st_mtime_ns for p in outbox.dir.iterdir()}
    second = deliver([city, coop], outbox, ledger, now=LATER)

    assert first == DeliveryReport(sent=4)  # three officials, and the digest nobody receives
    assert second == DeliveryReport(skipped_already_sent=4)
    assert written == {p.name: p.stat().st_mtime_ns for p in outbox.dir.iterdir()}
    assert set(written) == {f"{city.key.slug()}.eml", f"{coop.key.slug()}.eml"}
    msg: EmailMessage = parse((outbox.dir / f"{coop.key.slug()}.eml").read_bytes())
    assert msg["To"] is None
    assert states(ledger, coop.key) == {"": State.SENT}


def test_unwritable_outbox_raises_and_loses_nothing(ledger, tmp_path: Path):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    with pytest.raises(OutputError):
        deliver([officials_digest()], OutboxTransport(blocker / "outbox"), ledger, now=NOW)
    assert set(states(ledger).values()) == {State.QUEUED}

    report = deliver([], OutboxTransport(tmp_path / "outbox"), ledger, now=LATER)
    assert report == DeliveryReport(sent=3)


# --- transports that misbehave, and logs


class Scripted:
    """A transport answering from a script, to pin down how results map to rows."""

    def __init__(self, outcomes: dict[str, RecipientResult]) -> None:
        self.outcomes = outcomes
        self.sent: list[tuple[str, ...]] = []

    def send(self, msg: EmailMessage, recipients, on_step=None) -> SendResult:
        self.sent.append(tuple(recipients))
        return SendResult({r: self.outcomes[r] for r in recipients if r in self.outcomes})


def test_a_recipient_the_transport_forgot_is_not_resent(ledger):
    transport = Scripted({"kadis@jakbar.go.id": RecipientResult(Outcome.ACCEPTED, "250 ok")})
    first = deliver([officials_digest()], transport, ledger, now=NOW)
    second = deliver([officials_digest()], transport, ledger, now=LATER)
    assert first == DeliveryReport(sent=1, uncertain=2)
    assert second == DeliveryReport(skipped_already_sent=1, uncertain=2)
    assert len(transport.sent) == 1


def test_logs_carry_no_body_and_addresses_only_at_debug(ledger, smtp: SmtpServer, caplog):
    smtp.handler.rcpt_replies["kabid@jakbar.go.id"] = "550 5.1.1 <kabid@jakbar.go.id>: unknown"
    body = "RAHASIA-ISI-DIGEST"
    digest = make_digest(
        key=DigestKey("alert", "pj:budi.santoso@jakbar.go.id", "2026-01-29T08"),
        to=("kadis@jakbar.go.id", "kabid@jakbar.go.id"),
        text=body,
        html=f"<p>{body}</p><img src='cid:zona'>",
        images=(InlineImage("zona", PNG, "peta"),),
    )
    with caplog.at_level(logging.DEBUG, logger="kkmp_sheets"):
        deliver([digest], smtp.transport(), ledger, now=NOW)

    assert body not in caplog.text
    assert "kabid@jakbar.go.id" in caplog.text  # at DEBUG, addresses are fine
    loud = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "1 failed_permanent" in loud
    for address in ("kadis@", "kabid@", "budi.santoso@"):
        assert address not in loud
    assert "b***@jakbar.go.id" in loud


def test_deliver_needs_an_aware_clock_and_a_sane_limit(ledger, smtp: SmtpServer):
    with pytest.raises(ValueError, match="time zone"):
        deliver([], smtp.transport(), ledger, now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="max_attempts"):
        deliver([], smtp.transport(), ledger, now=NOW, max_attempts=0)
