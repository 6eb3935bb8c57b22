"""`kkmp-sheets deliveries`: what has not (certainly) been delivered, and the operator's verdict.

Lists the ledger's rows that are queued, in flight, failed or uncertain, with how far the last
attempt got; `--resend ID` queues one again and delivers what is queued, `--mark-delivered ID`
records that it arrived. Addresses are shown masked (b***@contoh.id), as in the logs.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from kkmp_sheets.config import Config
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.delivery import channel_delivery
from kkmp_sheets.delivery.ledger import (
    LEDGER_FILE,
    Delivery,
    DeliveryLedger,
    DeliveryReport,
    deliver,
    mask_addresses,
)
from kkmp_sheets.errors import NotFound, UsageError
from kkmp_sheets.service.notify import delivery_limits, make_transport, notify_channels

_COLUMNS = ("ID", "KIND", "AUDIENCE", "PERIOD", "RECIPIENT", "STATE", "STEP", "TRIES", "LAST ERROR")
_ERROR_WIDTH = 90


def pending_rows(cfg: Config) -> list[dict[str, Any]]:
    """The rows not delivered, as plain values with addresses masked."""
    if not (cfg.data_dir / LEDGER_FILE).is_file():
        return []
    with DeliveryLedger.for_config(cfg) as ledger:
        rows = [_row(d) for d in ledger.pending()]
        return rows + [_channel_row(r) for r in channel_delivery.pending_rows(ledger)]


def _channel_row(r: channel_delivery.Row) -> dict[str, Any]:
    """A WhatsApp/Telegram row, its ID written c12 (a table of its own in the ledger)."""
    return {
        "id": f"c{r.id}",
        "kind": r.key.kind,
        "audience": mask_addresses(r.key.audience),
        "period": r.key.period,
        "recipient": f"{r.channel}:{channel_delivery.mask_recipient(r.channel, r.recipient)}",
        "state": r.state,
        "step": None,
        "attempts": r.attempts,
        "last_error": r.last_error or "",
        "updated_at": r.updated_at,
        "reported_at": r.reported_at,
    }


def _row(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "kind": d.key.kind,
        "audience": mask_addresses(d.key.audience),
        "period": d.key.period,
        "recipient": mask_addresses(d.recipient) or "(outbox)",
        "state": d.state.value,
        "step": d.step.value if d.step else None,
        "attempts": d.attempts,
        "last_error": mask_addresses(d.last_error or ""),
        "updated_at": d.updated_at,
        "reported_at": d.reported_at,
    }


def pending_json(cfg: Config) -> str:
    return json.dumps(pending_rows(cfg), ensure_ascii=False, indent=2) + "\n"


def pending_text(cfg: Config) -> str:
    rows = pending_rows(cfg)
    if not rows:
        return "Every digest was delivered: nothing is queued, failed or uncertain.\n"
    table = [list(_COLUMNS)] + [
        [
            str(r["id"]),
            r["kind"],
            r["audience"],
            r["period"],
            r["recipient"],
            r["state"],
            r["step"] or "-",
            str(r["attempts"]),
            _cut(r["last_error"]) or "-",
        ]
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(_COLUMNS) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=False)) for line in table]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    hint = [
        "",
        f"{len(rows)} not delivered: {summary}.",
        "queued: goes out with the next cycle. uncertain: the connection was lost after the whole "
        "message was sent; check whether it arrived, then --mark-delivered ID or --resend ID.",
    ]
    return "\n".join(line.rstrip() for line in lines + hint) + "\n"


def _cut(text: str) -> str:
    return text if len(text) <= _ERROR_WIDTH else text[: _ERROR_WIDTH - 1] + "…"


def _channel_verdict(cfg: Config, text_id: str, *, delivered: bool, now: datetime) -> str:
    row_id = int(text_id[1:])
    with DeliveryLedger.for_config(cfg) as ledger:
        try:
            row = channel_delivery.resolve(ledger, row_id, delivered=delivered, now=now)
        except KeyError:
            raise NotFound(
                f"no WhatsApp/Telegram delivery with ID {text_id}: `kkmp-sheets deliveries "
                "--config FILE` lists the IDs"
            ) from None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    label = (
        f"{row.channel} {row.key.kind} {row.key.period} to "
        f"{channel_delivery.mask_recipient(row.channel, row.recipient)}"
    )
    if delivered:
        return f"Delivery {text_id} ({label}) is recorded as delivered; it is not sent again.\n"
    _, report = notify_channels([], cfg, now)
    with DeliveryLedger.for_config(cfg) as ledger:
        after = channel_delivery.channel_rows(ledger, "WHERE id = ?", (row_id,))
    state = after[0].state if after else "unknown"
    return (
        f"Delivery {text_id} ({label}) was queued again and sent with whatever else was "
        f"queued: {report}. It is now: {state}.\n"
    )


def mark_delivered(cfg: Config, delivery_id: int | str, now: datetime | None = None) -> str:
    now = now or datetime.now(WIB)
    if isinstance(delivery_id, str):
        return _channel_verdict(cfg, delivery_id, delivered=True, now=now)
    with DeliveryLedger.for_config(cfg) as ledger:
        row = _resolve(ledger, delivery_id, delivered=True, now=now)
    return f"Delivery {row.id} ({_label(row)}) is recorded as delivered; it is not sent again.\n"


def resend(cfg: Config, delivery_id: int | str, now: datetime | None = None) -> str:
    """Queue one delivery again, then deliver everything queued (the deadline and the breaker
    apply); the report says what became of it."""
    now = now or datetime.now(WIB)
    if isinstance(delivery_id, str):
        return _channel_verdict(cfg, delivery_id, delivered=False, now=now)
    with DeliveryLedger.for_config(cfg) as ledger:
        row = _resolve(ledger, delivery_id, delivered=False, now=now)
        report = deliver([], make_transport(cfg), ledger, now=now, limits=delivery_limits(cfg))
        after = ledger.get(delivery_id)
    state = after.state.value if after else "unknown"
    return (
        f"Delivery {row.id} ({_label(row)}) was queued again and sent with whatever else was "
        f"queued: {_summary(report)}. It is now: {state}.\n"
    )


def _resolve(ledger: DeliveryLedger, delivery_id: int, *, delivered: bool, now: datetime):
    try:
        return ledger.resolve_id(delivery_id, delivered=delivered, now=now)
    except KeyError:
        raise NotFound(
            f"no delivery with ID {delivery_id}: `kkmp-sheets deliveries --config FILE` lists "
            "the IDs"
        ) from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _label(d: Delivery) -> str:
    return (
        f"{d.key.kind} {mask_addresses(d.key.audience)} {d.key.period} to "
        f"{mask_addresses(d.recipient) or 'the outbox'}"
    )


def _summary(report: DeliveryReport) -> str:
    return ", ".join(f"{k} {v}" for k, v in vars(report).items() if v) or "nothing to send"
