"""Digests against SMTP servers that fail: delivered once, lost, duplicated or uncertain.

    python bench/bench_smtp_faults.py [--digests 66] [--timeout 1] [--breaker 3] [--kills 3]

For each fault (`kkmp_sheets/testing/smtp_faults.py`, a raw-socket server on 127.0.0.1) the
delivery ledger runs twice against the faulty server, then twice more after it heals; every
(digest, recipient) is then counted by what the server holds and what the ledger says. One
recipient is refused for good by the server in every case (`refused`), the others must arrive
exactly once. The tarpit's first run is timed: it should cost about timeout × breaker, not a
timeout per digest. Then a process delivering one digest is killed (SIGKILL) at each step of
the SMTP dialogue, `--kills` times per step, and the next run must leave nothing stuck.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kkmp_sheets.core.wib import WIB  # noqa: E402
from kkmp_sheets.delivery.ledger import (  # noqa: E402
    DeliveryLedger,
    DeliveryLimits,
    State,
    deliver,
)
from kkmp_sheets.delivery.mail import Digest, DigestKey, SmtpTransport  # noqa: E402
from kkmp_sheets.testing.smtp_faults import Fault, FaultyServer  # noqa: E402

NOW = datetime(2026, 1, 29, 7, 0, tzinfo=WIB)
SENDER = "kkmp-sheets@jakbar.go.id"
REFUSED = "salah@jakbar.go.id"
FAULTS = (
    Fault.REFUSE,
    Fault.DROP_IN_DIALOGUE,
    Fault.DROP_MID_DATA,
    Fault.DROP_AFTER_DOT,
    Fault.STALL_AFTER_DOT,
    Fault.REJECT_ONE,
    Fault.TARPIT,
)


def make_digests(n: int) -> list[Digest]:
    out = []
    for i in range(n):
        to = (f"pengurus{i:03d}@kkmp.id",) + ((REFUSED,) if i == 0 else ())
        out.append(
            Digest(
                key=DigestKey("coop", f"coop:KKMP-{i:04d}", "2026-W05"),
                to=to,
                subject=f"Ringkasan mingguan KKMP {i}",
                text="Ringkasan mingguan koperasi.\n" * 40,
                sender=SENDER,
            )
        )
    return out


def transport(server: FaultyServer, timeout: float) -> SmtpTransport:
    return SmtpTransport("127.0.0.1", server.port, security="none", timeout=timeout)


def one_fault(fault: Fault, n: int, timeout: float, breaker: int) -> dict[str, object]:
    digests = make_digests(n)
    limits = DeliveryLimits(breaker_threshold=breaker)
    with tempfile.TemporaryDirectory() as tmp, FaultyServer(fault, rejected=REFUSED) as server:
        with DeliveryLedger(Path(tmp) / "deliveries.sqlite") as ledger:
            started = time.monotonic()
            first = deliver(digests, transport(server, timeout), ledger, now=NOW, limits=limits)
            first_seconds = time.monotonic() - started
            deliver(digests, transport(server, timeout), ledger, now=NOW, limits=limits)
            server.heal()
            for hours in (1, 2):
                later = NOW + timedelta(hours=hours)
                deliver(digests, transport(server, timeout), ledger, now=later, limits=limits)
            states = {d.recipient: d.state for d in ledger.deliveries()}
        copies = server.copies()
    wanted = [r for d in digests for r in d.recipients() if r != REFUSED]
    return {
        "fault": fault.value,
        "deliveries": len(wanted),
        "delivered_once": sum(copies.get(r) == 1 and states[r] is State.SENT for r in wanted),
        "lost": sum(not copies.get(r) for r in wanted),
        "duplicated": sum(copies.get(r, 0) > 1 for r in wanted),
        "uncertain": sum(states[r] is State.UNCERTAIN for r in wanted),
        "refused": int(states.get(REFUSED) is State.FAILED_PERMANENT),
        "first_run_s": round(first_seconds, 2),
        "first_run_held_back": first.held_back,
    }


CHILD = r"""
import json, sys
from datetime import datetime
from pathlib import Path
from kkmp_sheets.delivery.ledger import DeliveryLedger, deliver
from kkmp_sheets.delivery.mail import Digest, DigestKey, SmtpTransport
spec = json.loads(sys.argv[1])
text = "Ringkasan harian, baris {}.\n"
digest = Digest(key=DigestKey("city", "kota", "2026-01-29"), to=("kadis@jakbar.go.id",),
                subject="Ringkasan", sender="kkmp-sheets@jakbar.go.id",
                text="".join(text.format(i) for i in range(spec["lines"])))
with DeliveryLedger(Path(spec["ledger"])) as ledger:
    deliver([digest], SmtpTransport("127.0.0.1", spec["port"], security="none", timeout=60,
                          dot_grace=spec["grace"]),
            ledger, now=datetime.fromisoformat(spec["now"]))
"""
KILL_POINTS = (Fault.TARPIT, Fault.STALL_RCPT, Fault.STALL_DATA, Fault.STALL_AFTER_DOT)


def one_kill(point: Fault) -> dict[str, object]:
    lines = 200_000 if point is Fault.STALL_DATA else 1
    with tempfile.TemporaryDirectory() as tmp, FaultyServer(point) as server:
        path = Path(tmp) / "deliveries.sqlite"
        spec = {
            "port": server.port,
            "ledger": str(path),
            "now": NOW.isoformat(),
            "lines": lines,
            "grace": 30 if point is Fault.STALL_DATA else 0.1,
        }
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec)], env=env)
        server.reached.wait(60)
        if point is Fault.STALL_DATA:
            time.sleep(0.3)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
        server.heal()
        with DeliveryLedger(path) as ledger:
            [stuck] = ledger.deliveries()
            for _ in range(2):
                deliver([], transport(server, 5), ledger, now=NOW)
            [after] = ledger.deliveries()
        copies = server.copies().get("kadis@jakbar.go.id", 0)
    return {
        "step": stuck.step.value if stuck.step else "-",
        "state": after.state.value,
        "copies": copies,
        "stuck": after.state is State.SENDING,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digests", type=int, default=66)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--breaker", type=int, default=3)
    parser.add_argument("--kills", type=int, default=3, help="kills per step")
    args = parser.parse_args()

    print(f"{args.digests} digests, timeout {args.timeout:g} s, breaker {args.breaker}")
    head = ("fault", "deliveries", "delivered_once", "lost", "duplicated", "uncertain", "refused")
    print(" | ".join(head) + " | first run s | held back")
    for fault in FAULTS:
        row = one_fault(fault, args.digests, args.timeout, args.breaker)
        cells = [str(row[h]) for h in head] + [str(row["first_run_s"])]
        print(" | ".join(cells) + f" | {row['first_run_held_back']}")
    print(f"\nkill -9 while delivering ({args.kills} per step): step → next run")
    for point in KILL_POINTS:
        results = [one_kill(point) for _ in range(args.kills)]
        steps = sorted({str(r["step"]) for r in results})
        outcome = sorted({f"{r['state']}, {r['copies']} copy" for r in results})
        stuck = sum(bool(r["stuck"]) for r in results)
        print(f"{'/'.join(steps)}: {'; '.join(outcome)}; stuck {stuck}/{len(results)}")


if __name__ == "__main__":
    main()
