"""After a cycle: remember it, then tell people — once.

Order matters: the previous recorded day is looked up *before* this cycle is recorded, so "what
changed" compares with the last day that was actually seen; the digests are rendered from that,
and handed to the delivery ledger, which sends each (digest, recipient) at most once per period.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kkmp_sheets.config import Config
from kkmp_sheets.deliveries import DeliveryLedger, DeliveryReport, deliver
from kkmp_sheets.digest import render_digests
from kkmp_sheets.history import HistoryStore
from kkmp_sheets.mail import Digest, OutboxTransport, SmtpTransport, Transport, build_message
from kkmp_sheets.pipeline import CycleResult

log = logging.getLogger(__name__)


@dataclass
class Notified:
    digests: list[Digest]
    report: DeliveryReport | None  # None on a dry run


def make_transport(cfg: Config) -> Transport:
    if cfg.mail_kind == "outbox":
        return OutboxTransport(cfg.outbox_dir)
    password = os.environ.get(cfg.mail.password_env, "") if cfg.mail.username else None
    return SmtpTransport(
        cfg.mail.host,
        cfg.mail.port,
        security=cfg.mail.security,
        username=cfg.mail.username or None,
        password=password,
    )


def digests_for(cycle: CycleResult, cfg: Config, now: datetime, *, record: bool) -> list[Digest]:
    """Render every digest of a cycle; with `record`, the cycle is stored in the history first."""
    with HistoryStore.for_config(cfg) as store:
        since = store.previous_day(cycle.as_of)
        if record:
            store.record_cycle(cycle)
        changes = store.changes(cycle.as_of, since, rules=cfg.zones)
        series = store.city_series(cycle.as_of)
    return render_digests(cycle, changes, cfg, now=now, series=series)


def record_and_notify(
    cycle: CycleResult, cfg: Config, now: datetime, transport: Transport | None = None
) -> Notified:
    digests = digests_for(cycle, cfg, now, record=True)
    with DeliveryLedger.for_config(cfg) as ledger:
        report = deliver(digests, transport or make_transport(cfg), ledger, now=now)
    log.info("digests: %d rendered; %s", len(digests), report)
    return Notified(digests, report)


def dry_run(cycle: CycleResult, cfg: Config, now: datetime, folder: Path) -> Notified:
    """What would be sent, to whom, written as .eml into `folder`; nothing sent or recorded."""
    digests = digests_for(cycle, cfg, now, record=False)
    transport = OutboxTransport(folder)
    for digest in digests:
        transport.send(build_message(digest, now=now), digest.recipients())
    return Notified(digests, None)
