"""WhatsApp and Telegram messages beside the e-mail digests, once and only once.

`plan()` turns the rendered digests into channel messages: who receives what on which channel
(`[channels]` in the config), the text or template parameters (`channel_text.py`), the
Laporan Pimpinan PDF as a message of its own, and who is muted. `deliver_channels()` keeps them
in the same delivery ledger as the e-mails (table `channel_deliveries`, one row per kind,
audience, period, channel and recipient) and sends what is due:

    queued ──► sending ──► sent (provider's message id kept)
       ▲          │  ├───► failed_permanent   (131026, 132001, 403 blocked, 400 chat not found,
       │          │  │                         or a transient failure too many times)
       └──────────┘  └───► uncertain          (the process died during the call)
    (transient: 429, 130429, 131056, 5xx, timeout: again at the next run, after retry_after)

The row is committed 'sending' before the API is called and 'sent' with the provider's id
right after. Neither API takes an idempotency key nor can be asked "did you get this?", so a
row found 'sending' after a crash may or may not have gone out. It becomes 'uncertain', is
reported to the operator once, and is **not sent again by itself** (at most once): a possibly
missing message the operator can check with the recipient beats a group receiving everything
twice. `kkmp-sheets deliveries --resend c<ID>` sends it again, `--mark-delivered c<ID>` closes it.

Quiet hours (`[channels] quiet_hours`, WIB) hold every channel message in the ledger, queued,
until the window opens; e-mail is not held. A permanent failure or an uncertain row is told to
the operator once; it never holds up other recipients or the e-mails.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from kkmp_sheets import crashpoints
from kkmp_sheets.core import formats
from kkmp_sheets.core.kecamatan import name_key
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.delivery.channel_text import Facts, facts_of, laporan_params, telegram_text
from kkmp_sheets.delivery.channels.base import Outcome, Result
from kkmp_sheets.delivery.channels.telegram import TelegramClient
from kkmp_sheets.delivery.channels.whatsapp import WhatsAppClient
from kkmp_sheets.delivery.ledger import DeliveryLedger
from kkmp_sheets.delivery.mail import Digest, DigestKey, require_timezone

if TYPE_CHECKING:
    from kkmp_sheets.clock import Clock
    from kkmp_sheets.config import ChannelSettings, Config

log = logging.getLogger(__name__)

LAPORAN = "#laporan"  # audience suffix of the message carrying the Laporan Pimpinan PDF
BREAKER_THRESHOLD = 3  # transient failures in a row after which a channel waits for the next run
_COLUMNS = (
    "id, kind, audience, period, channel, recipient, state, attempts, last_error, not_before,"
    " provider_id, payload, queued_at, updated_at, sent_at, reported_at"
)


@dataclass(frozen=True)
class Payload:
    """What one channel message sends: a Telegram text or document, or a WhatsApp template
    (with the PDF in its DOCUMENT header when `document_name` is set)."""

    text: str = ""  # Telegram: the message, or a document's caption
    template: str = ""  # WhatsApp
    language: str = ""
    params: tuple[str, ...] = ()
    document_name: str = ""  # the PDF travels in the row's `document` column

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Payload:
        data = json.loads(text)
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["params"] = tuple(values.get("params", ()))
        return cls(**values)


@dataclass(frozen=True)
class ChannelMessage:
    key: DigestKey
    channel: str  # "whatsapp" | "telegram"
    recipient: str  # E.164 (WhatsApp) or chat id (Telegram)
    payload: Payload
    document: bytes | None = None
    muted: bool = False  # opted out: planned, shown by --dry-run, never queued

    def shown_recipient(self) -> str:
        return mask_recipient(self.channel, self.recipient)

    def preview(self) -> str:
        """What the recipient sees, for `digest --dry-run` and the docs."""
        p = self.payload
        if self.channel == "telegram":
            if p.document_name:
                return f"[dokumen {p.document_name}] {p.text}"
            return p.text
        body = " | ".join(f"{{{{{i}}}}}={v}" for i, v in enumerate(p.params, 1))
        doc = f" [dokumen {p.document_name}]" if p.document_name else ""
        return f"template {p.template}:{p.language}{doc} {body}"


@dataclass(frozen=True)
class Row:
    id: int
    key: DigestKey
    channel: str
    recipient: str
    state: str
    attempts: int
    last_error: str | None
    not_before: str | None
    provider_id: str | None
    payload: Payload
    queued_at: str
    updated_at: str
    sent_at: str | None
    reported_at: str | None


@dataclass
class ChannelReport:
    """What one `deliver_channels()` did, per message (each in one bucket)."""

    sent: int = 0
    skipped_already_sent: int = 0
    queued_for_retry: int = 0
    failed_permanent: int = 0
    uncertain: int = 0
    waiting_quiet_hours: int = 0
    waiting_retry_after: int = 0
    held_back: int = 0  # not tried: the channel failed too often this run, or has no token
    muted: int = 0
    by_channel: Counter[str] = field(default_factory=Counter)  # sent, per channel

    def __str__(self) -> str:
        parts = [
            f"{f.name}={getattr(self, f.name)}" for f in fields(self) if f.name != "by_channel"
        ]
        return " ".join(parts)


# --- who receives what ----------------------------------------------------------------------


def plan(digests: Iterable[Digest], cfg: Config, now: datetime) -> list[ChannelMessage]:
    """Every channel message of these digests (muted ones flagged), in a stable order."""
    settings = cfg.channels
    if not settings.routes:
        return []
    muted = _muted(settings)
    out: list[ChannelMessage] = []
    for digest in digests:
        kind = digest.key.kind
        channels = settings.routes.get(kind, ())
        if not channels or digest.view is None:
            continue
        facts = facts_of(digest, now)
        for channel in channels:
            for recipient, opted_out in _recipients(digest, channel, settings):
                off = opted_out or recipient in muted
                out.extend(_messages(digest, facts, channel, recipient, off, settings))
    return out


def _recipients(digest: Digest, channel: str, settings: ChannelSettings) -> list[tuple[str, bool]]:
    """(address, opted out in the registry) for one digest on one channel."""
    view, kind, tg = digest.view or {}, digest.key.kind, settings.telegram
    if channel == "telegram":
        if kind == "city":
            chats = [tg.city_chat] if tg.city_chat else []
        elif kind == "kecamatan":
            chats = [_by_name(tg.kecamatan_chats, view["kecamatan"])]
        elif kind == "coop":
            chats = [tg.people.get(view["coop"].id, "")]
        else:
            chats = [_by_name(tg.people, view["pj_email"])]
        opted = kind == "coop" and view["coop"].tanpa_pesan
        return [(c, opted) for c in chats if c]
    if kind == "coop":
        phone = view["fig"].telepon_ketua
        return [(phone, view["coop"].tanpa_pesan)] if phone else []
    if kind == "alert":
        return [(p, False) for p in view["pj_phones"]]
    return []


def _messages(
    digest: Digest,
    facts: Facts,
    channel: str,
    recipient: str,
    muted: bool,
    settings: ChannelSettings,
) -> list[ChannelMessage]:
    if channel == "telegram":
        payload = Payload(text=telegram_text(facts))
    else:
        name, language = settings.whatsapp.template(digest.key.kind)
        payload = Payload(template=name, language=language, params=tuple(facts.whatsapp_params()))
    out = [ChannelMessage(digest.key, channel, recipient, payload, muted=muted)]
    for pdf in digest.attachments[:1]:  # the Laporan Pimpinan (city, kecamatan)
        key = DigestKey(digest.key.kind, digest.key.audience + LAPORAN, digest.key.period)
        params = laporan_params(digest)
        if channel == "telegram":
            caption = f"Laporan Pimpinan KKMP {params[0]}, {params[1]}"
            doc = Payload(text=caption, document_name=pdf.filename)
        else:
            name, language = settings.whatsapp.template("laporan")
            doc = Payload(
                template=name, language=language, params=tuple(params), document_name=pdf.filename
            )
        out.append(ChannelMessage(key, channel, recipient, doc, pdf.data, muted=muted))
    return out


def _by_name(table: Mapping[str, str], name: str) -> str:
    if name in table:
        return table[name]
    wanted = name_key(name)
    return next((chat for other, chat in table.items() if name_key(other) == wanted), "")


def _muted(settings: ChannelSettings) -> set[str]:
    """`[channels] muted` as addresses: phone numbers as people type them become E.164."""
    out: set[str] = set()
    for entry in settings.muted:
        out.add(entry)
        try:
            phone = formats.parse_phone(entry)
        except formats.FormatError:
            continue
        if phone:
            out.add(phone)
    return out


def mask_recipient(channel: str, recipient: str) -> str:
    """+6281234567890 → +62812*****890; a private Telegram chat 123456789 → 12*****89; groups
    and channels (-100…, @name) are shown whole: they are not a person's."""
    if channel == "telegram" and recipient.startswith(("-", "@")):
        return recipient
    keep_head = 6 if recipient.startswith("+") else 2
    if len(recipient) <= keep_head + 3:
        return "*" * len(recipient)
    return recipient[:keep_head] + "*" * (len(recipient) - keep_head - 3) + recipient[-3:]


# --- quiet hours ----------------------------------------------------------------------------


def in_quiet_hours(quiet: tuple[time, time] | None, now: datetime) -> bool:
    if quiet is None:
        return False
    start, end = quiet
    t = now.astimezone(WIB).time()
    return start <= t or t < end if start > end else start <= t < end


def quiet_ends(quiet: tuple[time, time], now: datetime) -> datetime:
    """When the quiet hours `now` falls in end (WIB)."""
    local = now.astimezone(WIB)
    end = local.replace(hour=quiet[1].hour, minute=quiet[1].minute, second=0, microsecond=0)
    return end if end > local else end + timedelta(days=1)


# --- clients --------------------------------------------------------------------------------


def make_clients(
    cfg: Config, clock: Clock | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A client per configured channel whose token is in the environment (never the file)."""
    env = os.environ if env is None else env
    settings = cfg.channels
    out: dict[str, WhatsAppClient | TelegramClient] = {}
    if "whatsapp" in settings.enabled and env.get(settings.whatsapp.token_env):
        wa = settings.whatsapp
        out["whatsapp"] = WhatsAppClient(
            env[wa.token_env],
            wa.phone_number_id,
            waba_id=wa.waba_id or None,
            base_url=wa.base_url,
            messages_per_second=wa.messages_per_second,
            clock=clock,
        )
    if "telegram" in settings.enabled and env.get(settings.telegram.token_env):
        out["telegram"] = TelegramClient(
            env[settings.telegram.token_env], base_url=settings.telegram.base_url, clock=clock
        )
    return out


# --- the ledger's channel rows ----------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.astimezone(WIB).isoformat(timespec="seconds")


def _row(values: Sequence[Any]) -> Row:
    (row_id, kind, audience, period, channel, recipient, state, attempts, error) = values[:9]
    not_before, provider_id, payload, queued_at, updated_at, sent_at, reported_at = values[9:]
    return Row(
        row_id,
        DigestKey(kind, audience, period),
        channel,
        recipient,
        state,
        attempts,
        error,
        not_before,
        provider_id,
        Payload.from_json(payload),
        queued_at,
        updated_at,
        sent_at,
        reported_at,
    )


def channel_rows(ledger: DeliveryLedger, where: str = "", args: Sequence[Any] = ()) -> list[Row]:
    sql = f"SELECT {_COLUMNS} FROM channel_deliveries {where} ORDER BY id"
    return [_row(values) for values in ledger.read(sql, args)]


def pending_rows(ledger: DeliveryLedger) -> list[Row]:
    return channel_rows(ledger, "WHERE state != 'sent'")


def unreported_problems(ledger: DeliveryLedger) -> list[Row]:
    """Refused or uncertain rows the operator has not been told of yet."""
    return channel_rows(
        ledger, "WHERE state IN ('failed_permanent', 'uncertain') AND reported_at IS NULL"
    )


def mark_reported(ledger: DeliveryLedger, ids: Iterable[int], now: datetime) -> None:
    with ledger.write() as db:
        db.executemany(
            "UPDATE channel_deliveries SET reported_at = ? WHERE id = ?",
            [(_stamp(now), i) for i in ids],
        )


def resolve(ledger: DeliveryLedger, row_id: int, *, delivered: bool, now: datetime) -> Row:
    """The operator's verdict on a channel row: delivered, or queued again from scratch."""
    found = channel_rows(ledger, "WHERE id = ?", (row_id,))
    if not found:
        raise KeyError(f"no channel delivery with id {row_id}")
    if found[0].state == "sending":
        raise ValueError(f"channel delivery c{row_id} is being sent right now; try again later")
    change = (
        "state = 'sent', sent_at = ?1, updated_at = ?1"
        if delivered
        else "state = 'queued', attempts = 0, not_before = NULL, reported_at = NULL,"
        " updated_at = ?1"
    )
    with ledger.write() as db:
        db.execute(f"UPDATE channel_deliveries SET {change} WHERE id = ?2", (_stamp(now), row_id))
    return found[0]


def _enqueue(ledger: DeliveryLedger, messages: Sequence[ChannelMessage], now: datetime) -> None:
    stamp = _stamp(now)
    with ledger.write() as db:
        db.executemany(
            "INSERT OR IGNORE INTO channel_deliveries (kind, audience, period, channel,"
            " recipient, state, payload, document, queued_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
            [
                (
                    m.key.kind,
                    m.key.audience,
                    m.key.period,
                    m.channel,
                    m.recipient,
                    m.payload.to_json(),
                    m.document,
                    stamp,
                    stamp,
                )
                for m in messages
            ],
        )


def _recover(ledger: DeliveryLedger, now: datetime) -> int:
    """Rows a process that died left 'sending': the API may have accepted them. At most once:
    they become 'uncertain' for the operator, never sent again by themselves."""
    with ledger.write() as db:
        return db.execute(
            "UPDATE channel_deliveries SET state = 'uncertain', updated_at = ?, last_error ="
            " 'the service stopped while the API was being called; whether the message arrived"
            " is unknown (neither API can be asked)' WHERE state = 'sending'",
            (_stamp(now),),
        ).rowcount


def _document(ledger: DeliveryLedger, row_id: int) -> bytes | None:
    found = ledger.read("SELECT document FROM channel_deliveries WHERE id = ?", (row_id,))
    return None if not found or found[0][0] is None else bytes(found[0][0])


# --- delivering -----------------------------------------------------------------------------


def deliver_channels(
    messages: Sequence[ChannelMessage],
    clients: Mapping[str, Any],
    ledger: DeliveryLedger,
    settings: ChannelSettings,
    *,
    now: datetime,
) -> ChannelReport:
    """Queue the new messages, then send every queued one that is due (not in quiet hours,
    past its service's retry_after). Never raises for what a service answers."""
    require_timezone(now)
    report = ChannelReport(muted=sum(1 for m in messages if m.muted))
    wanted = [m for m in messages if not m.muted]
    with ledger.exclusive() as ours:
        if ours:
            stuck = _recover(ledger, now)
            if stuck:
                log.warning(
                    "a previous run stopped while sending %d WhatsApp/Telegram message(s): they "
                    "are left uncertain for the operator and not sent again (kkmp-sheets "
                    "deliveries)",
                    stuck,
                )
        known = {
            (r.key, r.channel, r.recipient): r.state
            for r in channel_rows(ledger)
            if r.state != "queued"
        }
        for m in wanted:
            state = known.get((m.key, m.channel, m.recipient))
            if state == "sent":
                report.skipped_already_sent += 1
            elif state in ("failed_permanent", "uncertain"):
                setattr(report, state, getattr(report, state) + 1)
        _enqueue(ledger, wanted, now)
        queued = channel_rows(ledger, "WHERE state = 'queued'")
        if not ours:
            report.held_back += len(queued)
            return report
        if in_quiet_hours(settings.quiet_hours, now):
            report.waiting_quiet_hours += len(queued)
            if queued and settings.quiet_hours is not None:
                log.info(
                    "%d WhatsApp/Telegram message(s) wait for the end of quiet hours (%s WIB)",
                    len(queued),
                    quiet_ends(settings.quiet_hours, now).strftime("%H:%M"),
                )
            return report
        _send_due(queued, clients, ledger, settings, now, report)
    log.info("channel deliveries: %s", report)
    return report


def _send_due(
    queued: Sequence[Row],
    clients: Mapping[str, Any],
    ledger: DeliveryLedger,
    settings: ChannelSettings,
    now: datetime,
    report: ChannelReport,
) -> None:
    stamp = _stamp(now)
    failures: Counter[str] = Counter()  # transient failures in a row, per channel
    for row in queued:
        client = clients.get(row.channel)
        if row.not_before and row.not_before > stamp:
            report.waiting_retry_after += 1
            continue
        if client is None or failures[row.channel] >= BREAKER_THRESHOLD:
            report.held_back += 1
            continue
        with ledger.write() as db:  # the intent, durable before the API is called
            db.execute(
                "UPDATE channel_deliveries SET state = 'sending', updated_at = ? WHERE id = ?"
                " AND state = 'queued'",
                (stamp, row.id),
            )
        crashpoints.reached("channel-before-send")
        result = _send(client, row, _document(ledger, row.id))
        crashpoints.reached("channel-sent-before-record")
        state = _record(ledger, row, result, settings.max_attempts, now)
        if state == "sent":
            report.sent += 1
            report.by_channel[row.channel] += 1
            failures[row.channel] = 0
        elif state == "queued":
            report.queued_for_retry += 1
            failures[row.channel] += 1
        else:
            report.failed_permanent += 1
            log.warning(
                "%s message %s to %s refused: %s",
                row.channel,
                row.key.kind,
                mask_recipient(row.channel, row.recipient),
                result.operator,
            )


def _send(client: Any, row: Row, document: bytes | None) -> Result:
    p = row.payload
    if row.channel == "telegram":
        if p.document_name and document is not None:
            return client.send_document(row.recipient, document, p.document_name, caption=p.text)
        return client.send_message(row.recipient, p.text)
    header = None
    if p.document_name and document is not None:
        uploaded = client.upload_pdf(document, p.document_name)
        if not uploaded.sent or not uploaded.provider_id:
            return uploaded  # nothing went to the recipient: the ledger retries or refuses
        header = {"id": uploaded.provider_id, "filename": p.document_name}
    return client.send_template(row.recipient, p.template, p.language, p.params, document=header)


def _record(
    ledger: DeliveryLedger, row: Row, result: Result, max_attempts: int, now: datetime
) -> str:
    attempts = row.attempts + 1
    not_before = None
    if result.outcome is Outcome.SENT:
        state, error = "sent", None
    elif result.outcome is Outcome.PERMANENT:
        state, error = "failed_permanent", f"{result.code}: {result.operator}"
    elif attempts >= max_attempts:
        state, error = "failed_permanent", f"gave up after {attempts} attempts: {result.operator}"
    else:
        state, error = "queued", f"{result.code}: {result.operator}"
        if result.retry_after:
            not_before = _stamp(now + timedelta(seconds=result.retry_after))
    stamp = _stamp(now)
    with ledger.write() as db:
        db.execute(
            "UPDATE channel_deliveries SET state = ?, attempts = ?, last_error = ?,"
            " not_before = ?, provider_id = ?, updated_at = ?,"
            " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
            (state, attempts, error, not_before, result.provider_id, stamp, state, stamp, row.id),
        )
    return state
