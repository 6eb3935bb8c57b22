"""Mail that is neither lost nor stalled: the delivery ledger against SMTP servers that fail.

Each fault is played by a raw-socket server on 127.0.0.1 (`testing/smtp_faults.py`) for two
runs, then the server heals and two more runs follow. Whatever the fault, every digest reaches
each recipient exactly once, none is lost, and only a drop after the final dot leaves anything
'uncertain'. A tarpit costs timeout × breaker threshold, not a timeout per message. A `kill -9`
of a delivering process at each step leaves nothing stuck.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from test_mail import NOW, make_digest

from kkmp_sheets.delivery.ledger import (
    SCHEMA_VERSION,
    DeliveryLedger,
    DeliveryLimits,
    DeliveryReport,
    State,
    deliver,
)
from kkmp_sheets.delivery.mail import Digest, DigestKey, SmtpTransport, Step
from kkmp_sheets.testing.smtp_faults import Fault, FaultyServer

REJECTED = "kabid@jakbar.go.id"


def digests() -> list[Digest]:
    """Four digests, six deliveries: the city digest has three recipients."""
    return [
        make_digest(to=("kadis@jakbar.go.id", "sekdis@jakbar.go.id", REJECTED)),
        make_digest(
            key=DigestKey("kecamatan", "kecamatan:31.73.05", "2026-01-29"),
            to=("camat@jakbar.go.id",),
        ),
        make_digest(
            key=DigestKey("coop", "coop:KKMP-3173051004", "2026-W05"), to=("ketua@kkmp.id",)
        ),
        make_digest(key=DigestKey("alert", "pj:budi@jakbar.go.id", "2026-01-29"), to=("b@x.id",)),
    ]


def transport(server: FaultyServer, timeout: float = 2.0) -> SmtpTransport:
    # A generous look before the final dot: on a busy test machine the server's thread may be
    # slow to notice the message; production uses the default.
    return SmtpTransport(
        "127.0.0.1",
        server.port,
        security="none",
        timeout=timeout,
        dot_grace=0.25,
        local_hostname="kkmp.test",
    )


RECIPIENTS = {
    "kadis@jakbar.go.id",
    "sekdis@jakbar.go.id",
    REJECTED,
    "camat@jakbar.go.id",
    "ketua@kkmp.id",
    "b@x.id",
}


@pytest.mark.parametrize(
    "fault",
    [
        Fault.REFUSE,
        Fault.DROP_IN_DIALOGUE,
        Fault.DROP_MID_DATA,
        Fault.DROP_AFTER_DOT,
        Fault.REJECT_ONE,
    ],
)
def test_every_digest_arrives_once_whatever_the_fault(tmp_path: Path, fault: Fault):
    server = FaultyServer(fault, rejected=REJECTED).start()
    limits = DeliveryLimits(breaker_threshold=10)  # every message meets the fault
    try:
        with DeliveryLedger(tmp_path / "deliveries.sqlite") as ledger:
            faulty = [
                deliver(digests(), transport(server), ledger, now=NOW + timedelta(minutes=m),
                        limits=limits)
                for m in (0, 15)
            ]  # fmt: skip
            after_fault = {d.recipient: d for d in ledger.deliveries()}
            server.heal()
            healed = [
                deliver(digests(), transport(server), ledger, now=NOW + timedelta(hours=h),
                        limits=limits)
                for h in (1, 2)
            ]  # fmt: skip
            final = {d.recipient: d for d in ledger.deliveries()}
    finally:
        server.stop()

    copies = server.copies()
    assert max(copies.values()) == 1  # never duplicated
    rejected = {REJECTED}  # the server refuses this one for good, whatever else it does
    assert set(copies) == RECIPIENTS - rejected  # none lost
    assert final[REJECTED].state is State.FAILED_PERMANENT
    uncertain = {r for r, d in final.items() if d.state is State.UNCERTAIN}
    if fault is Fault.DROP_AFTER_DOT:
        # The server has each message but never said so: uncertain, and not sent again.
        assert uncertain == RECIPIENTS - rejected
        assert all(d.step is Step.AFTER_DOT for r, d in final.items() if r in uncertain)
        assert healed[-1].uncertain == 5
        assert faulty[0].uncertain == 5 and faulty[1].uncertain == 5
    else:
        assert uncertain == set()
        assert {r for r, d in final.items() if d.state is State.SENT} == RECIPIENTS - rejected
        assert healed[1] == DeliveryReport(skipped_already_sent=5, failed_permanent=1)
    if fault in (Fault.REFUSE, Fault.DROP_IN_DIALOGUE, Fault.DROP_MID_DATA):
        # Certainly not accepted: queued again, with the step the attempt reached, and an
        # outage uses up no attempt.
        waiting = [d for r, d in after_fault.items() if r != REJECTED]
        assert faulty[0].queued_for_retry == faulty[1].queued_for_retry >= 5
        assert all(d.state is State.QUEUED and d.attempts == 0 for d in waiting)
        step = {
            Fault.REFUSE: Step.CONNECTING,
            Fault.DROP_IN_DIALOGUE: Step.DIALOGUE,
            Fault.DROP_MID_DATA: Step.DATA,
        }[fault]
        assert {d.step for d in waiting} == {step}
        assert healed[0].sent == 5


def test_a_drop_mid_data_is_retried_not_uncertain(tmp_path: Path):
    server = FaultyServer(Fault.DROP_MID_DATA).start()
    try:
        with DeliveryLedger(tmp_path / "deliveries.sqlite") as ledger:
            report = deliver([make_digest()], transport(server), ledger, now=NOW)
            [row] = ledger.deliveries()
    finally:
        server.stop()
    assert report == DeliveryReport(queued_for_retry=1)
    assert (row.state, row.step) == (State.QUEUED, Step.DATA)
    assert "before the end of the message" in (row.last_error or "")
    assert server.kept == []


@pytest.mark.slow
def test_a_tarpit_costs_timeout_times_threshold_not_a_timeout_per_message(tmp_path: Path):
    many = [
        make_digest(key=DigestKey("coop", f"coop:KKMP-31730510{i:02d}", "2026-W05"))
        for i in range(12)
    ]
    timeout, threshold = 0.5, 3
    server = FaultyServer(Fault.TARPIT).start()
    try:
        with DeliveryLedger(tmp_path / "deliveries.sqlite") as ledger:
            started = time.monotonic()
            stalled = deliver(
                many,
                transport(server, timeout=timeout),
                ledger,
                now=NOW,
                limits=DeliveryLimits(breaker_threshold=threshold),
            )
            took = time.monotonic() - started
            server.heal()
            healed = deliver(many, transport(server), ledger, now=NOW + timedelta(hours=1))
    finally:
        server.stop()
    assert took < timeout * threshold + 3.0, took  # not 12 timeouts
    assert stalled == DeliveryReport(queued_for_retry=threshold, held_back=12 - threshold)
    assert healed == DeliveryReport(sent=12)
    assert server.copies() == {"kadis@jakbar.go.id": 12}


def test_the_deadline_leaves_the_rest_queued(tmp_path: Path):
    ticks = iter(range(100))  # a clock that moves 1 s per look
    server = FaultyServer().start()
    try:
        with DeliveryLedger(tmp_path / "deliveries.sqlite") as ledger:
            report = deliver(
                digests(),
                transport(server),
                ledger,
                now=NOW,
                limits=DeliveryLimits(deadline_seconds=2.5),
                clock=lambda: float(next(ticks)),
            )
    finally:
        server.stop()
    # Started at t=0; looks at t=1 and t=2 send two digests; at t=3 the deadline has passed.
    assert report.held_back == 2
    assert report.sent + report.failed_permanent == 4


def test_no_answer_after_the_dot_trips_the_breaker_and_is_uncertain(tmp_path: Path):
    server = FaultyServer(Fault.STALL_AFTER_DOT).start()
    try:
        with DeliveryLedger(tmp_path / "deliveries.sqlite") as ledger:
            report = deliver(
                digests(),
                transport(server, timeout=0.5),
                ledger,
                now=NOW,
                limits=DeliveryLimits(breaker_threshold=2),
            )
            uncertain = ledger.uncertain()
    finally:
        server.stop()
    assert report.uncertain == 4  # the city digest (three recipients) and the kecamatan one
    assert report.held_back == 2
    assert {d.step for d in uncertain} == {Step.AFTER_DOT}


# --- kill -9 while delivering

CHILD = r"""
import json, sys
from datetime import datetime
from pathlib import Path

from kkmp_sheets.delivery.ledger import DeliveryLedger, deliver
from kkmp_sheets.delivery.mail import Digest, DigestKey, SmtpTransport

spec = json.loads(sys.argv[1])
text = "".join(spec["line"].format(i) for i in range(spec["lines"]))
digest = Digest(key=DigestKey(*spec["key"]), text=text, **spec["digest"])
# For the kill mid-message, a long look before the dot: should the whole message fit in the
# socket buffers, the child still waits at step 'data' (the stalled server neither reads nor
# closes) when it is killed.
transport = SmtpTransport("127.0.0.1", spec["port"], security="none", timeout=60,
                          dot_grace=spec["grace"], local_hostname="kkmp.test")
with DeliveryLedger(Path(spec["ledger"])) as ledger:
    deliver([digest], transport, ledger, now=datetime.fromisoformat(spec["now"]))
"""

KILLED = {
    "key": ["city", "kota", "2026-01-29"],
    "subject": "Ringkasan KKMP Jakarta Barat — 29 Januari 2026",
    "sender": "kkmp-sheets@jakbar.go.id",
    "to": ["kadis@jakbar.go.id", "sekdis@jakbar.go.id"],
}
# Large enough that a server that stops reading makes the sender block mid-message.
BIG_TEXT = "Ringkasan harian, baris {}.\n"


def killed_digest(text: str) -> Digest:
    spec = {k: v for k, v in KILLED.items() if k != "key"}
    return Digest(key=DigestKey(*KILLED["key"]), text=text, **{**spec, "to": tuple(spec["to"])})


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "step", "then"),
    [
        (Fault.TARPIT, Step.CONNECTING, State.SENT),
        (Fault.STALL_RCPT, Step.DIALOGUE, State.SENT),
        (Fault.STALL_DATA, Step.DATA, State.SENT),
        (Fault.STALL_AFTER_DOT, Step.AFTER_DOT, State.UNCERTAIN),
    ],
)
def test_kill_9_while_delivering_leaves_nothing_stuck(tmp_path: Path, fault, step, then):
    path = tmp_path / "deliveries.sqlite"
    lines = 200_000 if fault is Fault.STALL_DATA else 1
    text = "".join(BIG_TEXT.format(i) for i in range(lines))
    server = FaultyServer(fault).start()
    try:
        spec = {"key": KILLED["key"], "digest": {k: v for k, v in KILLED.items() if k != "key"},
                "line": BIG_TEXT, "lines": lines, "port": server.port, "ledger": str(path),
                "grace": 30 if fault is Fault.STALL_DATA else 0.1,
                "now": NOW.isoformat()}  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec)], env=env)
        try:
            assert server.reached.wait(60), "the child never got to the stalling point"
            if step is Step.DATA:
                time.sleep(0.3)  # let it block in the middle of the message
            os.kill(child.pid, signal.SIGKILL)
            assert child.wait(30) == -signal.SIGKILL
        finally:
            if child.poll() is None:
                child.kill()
        with DeliveryLedger(path) as ledger:
            stuck = ledger.deliveries()
            assert {(d.state, d.step) for d in stuck} == {(State.SENDING, step)}
            server.heal()
            first = deliver([killed_digest(text)], transport(server), ledger, now=NOW)
            second = deliver([killed_digest(text)], transport(server), ledger, now=NOW)
            final = {d.state for d in ledger.deliveries()}
    finally:
        server.stop()
    assert final == {then}
    assert server.copies() == {"kadis@jakbar.go.id": 1, "sekdis@jakbar.go.id": 1}
    if then is State.SENT:
        assert first == DeliveryReport(sent=2)
        assert second == DeliveryReport(skipped_already_sent=2)
    else:
        assert first == second == DeliveryReport(uncertain=2)


# --- the operator's side: the ledger's migration, the deliveries command, the notice


def test_a_version_1_ledger_keeps_its_rows_and_its_stuck_ones_become_uncertain(tmp_path: Path):
    import sqlite3

    from kkmp_sheets.delivery import ledger as ledger_module

    path = tmp_path / "deliveries.sqlite"
    db = sqlite3.connect(path)
    for sql in ledger_module._MIGRATIONS[0][1]:
        db.execute(sql)
    db.execute(f"PRAGMA application_id = {ledger_module.APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    stamp = "2026-01-28T07:00:00+07:00"
    rows = [("kadis@jakbar.go.id", "sent"), ("sekdis@jakbar.go.id", "sending")]
    db.executemany(
        "INSERT INTO deliveries (kind, audience, period, recipient, state, attempts, queued_at,"
        " updated_at) VALUES ('city', 'kota', '2026-01-28', ?, ?, 1, ?, ?)",
        [(r, state, stamp, stamp) for r, state in rows],
    )
    db.commit()
    db.close()
    with DeliveryLedger(path) as ledger:
        found = {d.recipient: d for d in ledger.deliveries()}
        assert ledger.schema_version() == SCHEMA_VERSION  # migrated to the latest
    assert found["kadis@jakbar.go.id"].state is State.SENT
    stuck = found["sekdis@jakbar.go.id"]
    assert (stuck.state, stuck.step, stuck.attempts) == (State.UNCERTAIN, None, 1)
    assert "unknown" in (stuck.last_error or "")
    assert {d.id for d in found.values()} == {1, 2}


def test_a_second_process_delivering_only_queues(tmp_path: Path):
    server = FaultyServer().start()
    try:
        with DeliveryLedger(tmp_path / "deliveries.sqlite") as ledger:
            with DeliveryLedger(tmp_path / "deliveries.sqlite") as other, other.exclusive() as ours:
                assert ours
                busy = deliver(digests(), transport(server), ledger, now=NOW)
            assert server.kept == []
            assert busy == DeliveryReport(held_back=6)
            free = deliver([], transport(server), ledger, now=NOW)
    finally:
        server.stop()
    assert free == DeliveryReport(sent=6)  # this server refuses nobody
    assert len(server.copies()) == 6


def smtp_city(tmp_path: Path, port: int, **mail: object) -> Path:
    registry = tmp_path / "registry.csv"
    registry.write_text(
        "ID,Nama Koperasi,Kelurahan,Kecamatan,Kode Wilayah,Spreadsheet,Email Pengurus,"
        "Penanggung Jawab,Email Penanggung Jawab\n",
        encoding="utf-8",
    )
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in mail.items())
    path = tmp_path / "city.toml"
    path.write_text(
        '[city]\nname = "Kota Administrasi Jakarta Barat"\nkode_wilayah = "31.73"\n'
        '[source]\nkind = "local"\nregistry = "registry.csv"\n'
        '[output]\nkind = "local"\npath = "out/status-kota.xlsx"\n'
        f'[mail]\nkind = "smtp"\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f'operator = "it@jakbar.go.id"\nsender = "kkmp-sheets@jakbar.go.id"\n{extra}',
        encoding="utf-8",
    )
    return path


def test_deliveries_command_lists_resends_and_marks(tmp_path: Path, capsys):
    from kkmp_sheets import config
    from kkmp_sheets.cli import main
    from kkmp_sheets.service.notify import report_uncertain

    server = FaultyServer(Fault.DROP_AFTER_DOT, rejected=REJECTED).start()
    try:
        path = smtp_city(tmp_path, server.port, timeout_seconds=2, breaker_threshold=10)
        cfg = config.load(path)
        assert (cfg.mail.timeout_seconds, cfg.mail.breaker_threshold) == (2.0, 10)
        with DeliveryLedger.for_config(cfg) as ledger:
            deliver(digests()[:2], transport(server), ledger, now=NOW)
        server.heal()

        assert main(["deliveries", "--config", str(path)]) == 0
        listed = capsys.readouterr().out
        assert "3 uncertain" in listed and "1 failed_permanent" in listed
        assert "after_dot" in listed and "k***@jakbar.go.id" in listed
        assert "kadis@" not in listed and "kabid@" not in listed  # masked

        assert main(["deliveries", "--config", str(path), "--json"]) == 0
        rows = {(r["recipient"], r["state"]): r for r in json.loads(capsys.readouterr().out)}
        assert set(rows) == {
            ("k***@jakbar.go.id", "uncertain"),  # kadis
            ("s***@jakbar.go.id", "uncertain"),
            ("k***@jakbar.go.id", "failed_permanent"),  # kabid, refused
            ("c***@jakbar.go.id", "uncertain"),
        }
        kadis = rows["k***@jakbar.go.id", "uncertain"]["id"]
        camat = rows["c***@jakbar.go.id", "uncertain"]["id"]

        # The operator is told once, whatever the number of runs.
        assert report_uncertain(cfg, NOW) == 3
        assert report_uncertain(cfg, NOW + timedelta(hours=1)) == 0
        [notice] = [k for k in server.kept if k.rcpt_tos == ("it@jakbar.go.id",)]
        assert b"--mark-delivered" in notice.data and b"kadis@" not in notice.data

        assert main(["deliveries", "--config", str(path), "--mark-delivered", str(kadis)]) == 0
        assert main(["deliveries", "--config", str(path), "--resend", str(camat)]) == 0
        out = capsys.readouterr().out
        assert "recorded as delivered" in out and "It is now: sent" in out
        assert main(["deliveries", "--config", str(path), "--resend", "999"]) == 6
        assert "no delivery with ID 999" in capsys.readouterr().err
    finally:
        server.stop()
    copies = server.copies()
    assert copies["kadis@jakbar.go.id"] == 1  # marked, never resent
    assert copies["camat@jakbar.go.id"] == 2  # the operator asked for a second copy


def test_deliveries_command_with_nothing_waiting(tmp_path: Path, capsys):
    from kkmp_sheets.cli import main

    path = smtp_city(tmp_path, 25)
    assert main(["deliveries", "--config", str(path)]) == 0
    assert "Every digest was delivered" in capsys.readouterr().out


def test_mail_limits_are_checked_in_the_config(tmp_path: Path):
    from kkmp_sheets import config
    from kkmp_sheets.errors import ConfigError

    with pytest.raises(ConfigError, match="timeout_seconds = 0"):
        config.load(smtp_city(tmp_path, 25, timeout_seconds=0))
