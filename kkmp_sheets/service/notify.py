"""After a cycle: remember it, then tell people — once.

Order matters: the previous recorded day is looked up *before* this cycle is recorded, so "what
changed" compares with the last day that was actually seen; the digests are rendered from that,
and handed to the delivery ledger, which sends each (digest, recipient) at most once per period.
Deliveries that may or may not have arrived (the connection was lost after the whole message
was sent) are then told to the operator, once each.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kkmp_sheets.config import Config
from kkmp_sheets.core.results import CycleResult
from kkmp_sheets.delivery import channel_delivery
from kkmp_sheets.delivery.channel_delivery import (
    ChannelMessage,
    ChannelReport,
    deliver_channels,
    make_clients,
)
from kkmp_sheets.delivery.digest import render_digests
from kkmp_sheets.delivery.ledger import (
    Delivery,
    DeliveryLedger,
    DeliveryLimits,
    DeliveryReport,
    deliver,
    mask_addresses,
)
from kkmp_sheets.delivery.mail import (
    Digest,
    DigestKey,
    OutboxTransport,
    SmtpTransport,
    Transport,
    build_message,
    one_line,
    period_for,
)
from kkmp_sheets.store.history import HistoryStore

log = logging.getLogger(__name__)


@dataclass
class Notified:
    digests: list[Digest]
    report: DeliveryReport | None  # None on a dry run
    # WhatsApp/Telegram ([channels]): what was planned, and what became of it (None: dry run,
    # or no channel configured)
    channel_messages: list[ChannelMessage] = field(default_factory=list)
    channel_report: ChannelReport | None = None


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
        timeout=cfg.mail.timeout_seconds,
    )


def delivery_limits(cfg: Config) -> DeliveryLimits:
    return DeliveryLimits(
        deadline_seconds=cfg.mail.deadline_seconds, breaker_threshold=cfg.mail.breaker_threshold
    )


def digests_for(
    cycle: CycleResult,
    cfg: Config,
    now: datetime,
    *,
    record: bool,
    kinds: Collection[str] | None = None,
) -> list[Digest]:
    """Render the digests of a cycle (only `kinds`, when given); with `record`, the cycle is
    stored in the history first. Without it, a cycle recorded earlier compares the same way."""
    with HistoryStore.for_config(cfg) as store:
        since = store.previous_day(cycle.as_of)
        if record:
            store.record_cycle(cycle)
        changes = store.changes(cycle.as_of, since, rules=cfg.zones)
        series = store.city_series(cycle.as_of)
    return render_digests(cycle, changes, cfg, now=now, series=series, kinds=kinds)


def record_and_notify(
    cycle: CycleResult,
    cfg: Config,
    now: datetime,
    transport: Transport | None = None,
    *,
    record: bool = True,
    kinds: Collection[str] | None = None,
    clients: Mapping[str, Any] | None = None,
) -> Notified:
    """Record the cycle (unless `record` is False: it already was), then deliver its digests
    (only `kinds`, when given) and whatever earlier deliveries still wait in the ledger."""
    digests = digests_for(cycle, cfg, now, record=record, kinds=kinds)
    transport = transport or make_transport(cfg)
    with DeliveryLedger.for_config(cfg) as ledger:
        report = deliver(digests, transport, ledger, now=now, limits=delivery_limits(cfg))
    log.info("digests: %d rendered; %s", len(digests), report)
    notified = Notified(digests, report)
    if cfg.channels.routes:  # no [channels]: e-mail only, exactly as before
        notified.channel_messages, notified.channel_report = notify_channels(
            digests, cfg, now, clients
        )
        report_channel_problems(cfg, now, transport)
    report_uncertain(cfg, now, transport)
    return notified


def notify_channels(
    digests: list[Digest], cfg: Config, now: datetime, clients: Mapping[str, Any] | None = None
) -> tuple[list[ChannelMessage], ChannelReport]:
    """The WhatsApp/Telegram messages of these digests through the same ledger; e-mail has
    already gone, so nothing here can hold it up."""
    messages = channel_delivery.plan(digests, cfg, now)
    own = clients is None
    clients = make_clients(cfg) if clients is None else clients
    missing = [c for c in cfg.channels.enabled if c not in clients]
    if missing:
        log.warning(
            "no token for %s in the environment (%s): its messages stay queued",
            ", ".join(missing),
            ", ".join(_token_env(cfg, c) for c in missing),
        )
    try:
        with DeliveryLedger.for_config(cfg) as ledger:
            report = deliver_channels(messages, clients, ledger, cfg.channels, now=now)
    finally:
        if own:
            for client in clients.values():
                client.close()
    return messages, report


def _token_env(cfg: Config, channel: str) -> str:
    settings = cfg.channels.whatsapp if channel == "whatsapp" else cfg.channels.telegram
    return settings.token_env


def dry_run(cycle: CycleResult, cfg: Config, now: datetime, folder: Path) -> Notified:
    """What would be sent, to whom, written as .eml into `folder`; nothing sent or recorded."""
    digests = digests_for(cycle, cfg, now, record=False)
    transport = OutboxTransport(folder)
    for digest in digests:
        transport.send(build_message(digest, now=now), digest.recipients())
    return Notified(digests, None, channel_delivery.plan(digests, cfg, now))


def notify_operator(
    cfg: Config,
    job: str,
    subject: str,
    text: str,
    now: datetime,
    transport: Transport | None = None,
) -> DeliveryReport:
    """Tell `[mail] operator` that a job of the service failed: at most once per job per hour.

    It goes through the delivery ledger like a digest (key kind "operator"), so a job failing
    every few minutes sends one message an hour, and a mail server that is down keeps it
    queued. In outbox mode it is written even without an operator address, so it can be read.
    """
    to = (cfg.mail.operator,) if cfg.mail.operator.strip() else ()
    notice = Digest(
        key=DigestKey("operator", f"job:{one_line(job)}", period_for("operator", now)),
        to=to,
        subject=one_line(subject),
        text=text,
        sender=cfg.mail.sender,
    )
    with DeliveryLedger.for_config(cfg) as ledger:
        transport = transport or make_transport(cfg)
        return deliver([notice], transport, ledger, now=now, limits=delivery_limits(cfg))


def report_uncertain(cfg: Config, now: datetime, transport: Transport | None = None) -> int:
    """Tell the operator, once, of each delivery that may or may not have arrived.

    Returns how many were told. A notice to the operator that itself became uncertain is not
    reported again by mail (that could go on while the server keeps failing); it is listed by
    `kkmp-sheets deliveries` like every other.
    """
    with DeliveryLedger.for_config(cfg) as ledger:
        fresh = ledger.unreported_uncertain()
        quiet = [d.id for d in fresh if d.key.kind == "operator"]
        if quiet:
            ledger.mark_reported(quiet, now=now)
    told = [d for d in fresh if d.key.kind != "operator"]
    if not told:
        return 0
    notify_operator(
        cfg,
        f"uncertain deliveries {told[0].id}-{told[-1].id}",
        f"kkmp-sheets: {len(told)} digest deliveries may not have arrived",
        uncertain_text(told, cfg),
        now,
        transport,
    )
    with DeliveryLedger.for_config(cfg) as ledger:  # the notice is in the ledger now: told once
        ledger.mark_reported([d.id for d in told], now=now)
    log.warning("%d uncertain deliveries reported to the operator", len(told))
    return len(told)


def report_channel_problems(cfg: Config, now: datetime, transport: Transport | None = None) -> int:
    """Tell the operator, once, of each WhatsApp/Telegram message refused for good or left
    uncertain by a crash. Returns how many were told."""
    with DeliveryLedger.for_config(cfg) as ledger:
        told = channel_delivery.unreported_problems(ledger)
    if not told:
        return 0
    notify_operator(
        cfg,
        f"channel deliveries c{told[0].id}-c{told[-1].id}",
        f"kkmp-sheets: {len(told)} WhatsApp/Telegram messages were not delivered",
        channel_problem_text(told, cfg),
        now,
        transport,
    )
    with DeliveryLedger.for_config(cfg) as ledger:
        channel_delivery.mark_reported(ledger, [r.id for r in told], now)
    log.warning("%d WhatsApp/Telegram delivery problems reported to the operator", len(told))
    return len(told)


def channel_problem_text(rows: list[channel_delivery.Row], cfg: Config) -> str:
    lines = [
        "These WhatsApp/Telegram messages did not (certainly) arrive. Refused ones will not go",
        "through as things stand (fix the number, the chat or the template first); uncertain",
        "ones were being sent when the service stopped, and are not sent again by themselves.",
        "Other recipients and the e-mails were not held up.",
        "",
    ]
    for r in rows:
        shown = channel_delivery.mask_recipient(r.channel, r.recipient)
        lines.append(
            f"  c{r.id} {r.state} {r.channel} {r.key.kind} {mask_addresses(r.key.audience)} "
            f"{r.key.period} to {shown}: {r.last_error or ''}"
        )
    lines += [
        "",
        "After checking or fixing, either:",
        f"  kkmp-sheets deliveries --config {cfg.path} --mark-delivered cID",
        f"  kkmp-sheets deliveries --config {cfg.path} --resend cID",
    ]
    return "\n".join(lines) + "\n"


def uncertain_text(rows: list[Delivery], cfg: Config) -> str:
    lines = [
        "The connection to the mail server was lost after these digests were sent in full and",
        "before the server confirmed them. They may have arrived, or not; they are not sent",
        "again by themselves, so that nobody receives a digest twice.",
        "",
    ]
    for d in rows:
        lines.append(
            f"  #{d.id} {d.key.kind} {mask_addresses(d.key.audience)} {d.key.period} to "
            f"{mask_addresses(d.recipient)}: {mask_addresses(d.last_error or '')}"
        )
    lines += [
        "",
        "Ask the recipient (or look in the mail server's log) whether it arrived, then either:",
        f"  kkmp-sheets deliveries --config {cfg.path} --mark-delivered ID",
        f"  kkmp-sheets deliveries --config {cfg.path} --resend ID",
    ]
    return "\n".join(lines) + "\n"
