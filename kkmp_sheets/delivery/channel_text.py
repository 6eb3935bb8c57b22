"""The short texts of the WhatsApp and Telegram messages, made from a rendered digest.

A digest's `view` holds what its e-mail templates were given: figures measured once by the
cycle, the cooperatives by name, their zone reasons in words, the status link. The channel
texts pick from it — zone counts, what changed, the one or two things to fix first, a link —
and never compute a figure of their own. They carry aggregates and the names of organisations
only: never a NIK, a member's name, an individual's savings or a phone number.

For each digest there is one `Facts`: the Telegram text is `report_templates/<lang>/
telegram_<kind>.html.j2` rendered from it (HTML escaped, within 4096 characters), and the
WhatsApp template's body variables are its fields in the order of the approved texts in
docs/channels.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kkmp_sheets.delivery.digest import environment
from kkmp_sheets.delivery.locale import LOCALES
from kkmp_sheets.delivery.mail import Digest

TELEGRAM_LIMIT = 4096
FIX_FIRST = 2  # "the one or two things to fix first"
NAMES_LISTED = 5  # cooperatives named in an alert's one line
NOTHING = "tidak ada perubahan"


@dataclass(frozen=True)
class Facts:
    """What a channel message says, every value already a short Indonesian phrase."""

    kind: str
    title: str  # the city, the kecamatan or the cooperative
    when: str  # "29 Januari 2026 07.00" (city, kecamatan), "5/2026" (coop), a date (alert)
    hijau: int = 0
    kuning: int = 0
    merah: int = 0
    total: int = 0
    changed: str = NOTHING
    fix_first: tuple[str, ...] = ()
    link: str = ""
    zone: str = ""  # coop
    galat: int = 0
    peringatan: int = 0
    names: str = ""  # alert: the flagged cooperatives
    reasons: str = ""  # alert: why

    @property
    def fix_text(self) -> str:
        return "; ".join(self.fix_first) or "tidak ada yang mendesak"

    def whatsapp_params(self) -> list[str]:
        """The body variables {{1}}… of the kind's template (docs/channels.md), in order."""
        link = self.link or "-"
        if self.kind in ("city", "kecamatan"):
            counts = [str(n) for n in (self.hijau, self.kuning, self.merah, self.total)]
            return [self.title, self.when, *counts, self.changed, self.fix_text, link]
        if self.kind == "coop":
            galat, peringatan = str(self.galat), str(self.peringatan)
            return [self.title, self.when, self.zone, galat, peringatan, self.fix_text, link]
        if self.kind == "alert":
            return [self.when, str(self.total), self.names, self.reasons, link]
        raise ValueError(f"no channel text for digest kind {self.kind!r}")


def facts_of(digest: Digest, now: datetime, language: str = "id") -> Facts:
    """The `Facts` of one rendered digest (its `view`)."""
    view = digest.view
    if view is None:
        raise ValueError(f"digest {digest.key.slug()} was rendered without its view")
    loc = LOCALES[language]
    kind = digest.key.kind
    link = _link(view)
    if kind in ("city", "kecamatan"):
        bar = view["bar"]
        merah = view["merah"]
        fix = tuple(
            f"{item.coop.nama}: {item.coop.reasons[0] if item.coop.reasons else 'zona Merah'}"
            for item in merah.items[:FIX_FIRST]
        )
        return Facts(
            kind,
            view["city"] if kind == "city" else view["kecamatan"],
            loc.datetime(now),
            bar.hijau,
            bar.kuning,
            bar.merah,
            bar.total,
            changed=_changed(view["changes"]),
            fix_first=fix,
            link=link,
        )
    if kind == "coop":
        year, week = view["week"].split("-W")
        fix = tuple(
            f"{g.message.rstrip('.')} (tab {g.tab}"
            + (f", kolom {g.column}" if g.column else "")
            + f", {g.count} baris)"
            for g in view["groups"][:FIX_FIRST]
        )
        return Facts(
            kind,
            view["coop"].nama,
            f"{int(week)}/{year}",
            zone=loc.zone(view["zone"].name),
            galat=int(view["galat"]),
            peringatan=int(view["peringatan"]),
            fix_first=fix,
            link=view["row"].link or "-",
        )
    if kind == "alert":
        items = view["items"]
        names = [i.coop.nama for i in items[:NAMES_LISTED]]
        if len(items) > NAMES_LISTED:
            names.append(f"dan {len(items) - NAMES_LISTED} lainnya")
        return Facts(
            kind,
            view["pj_name"],
            loc.date(view["as_of"]),
            total=len(items),
            names=", ".join(names),
            reasons=_alert_reasons(items),
            fix_first=tuple(_alert_line(i) for i in items[:FIX_FIRST]),
            link=link,
        )
    raise ValueError(f"no channel text for digest kind {kind!r}")


def telegram_text(facts: Facts, language: str = "id") -> str:
    """The Telegram message (parse_mode HTML): escaped, cut to the Bot API's limit."""
    env = environment(language)
    text = env.get_template(f"{language}/telegram_{facts.kind}.html.j2").render(f=facts)
    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    if len(text) > TELEGRAM_LIMIT:  # never reached with FIX_FIRST and NAMES_LISTED; kept safe
        text = text[: TELEGRAM_LIMIT - 1].rsplit("\n", 1)[0]
    return text


def laporan_params(digest: Digest, language: str = "id") -> list[str]:
    """Body variables of the Laporan Pimpinan template: whose report, which period."""
    view = digest.view or {}
    title = view["kecamatan"] if digest.key.kind == "kecamatan" else view.get("city", "")
    as_of = view.get("as_of")
    period = LOCALES[language].date(as_of) if as_of is not None else digest.key.period
    return [str(title), period]


def _link(view: Mapping[str, Any]) -> str:
    status = view.get("status")
    if status is None:
        return ""
    if not status.local:
        return status.url
    # Local mode: a path only the office's own people can open (city digest, alerts); camat
    # and lurah outside the office get no link, as in their e-mail.
    return f"{status.text} (folder bersama dinas)" if view.get("office", True) else ""


def _changed(changes: Any) -> str:
    if changes.first:
        return "laporan pertama"
    parts = []
    red = len(changes.newly_red)
    if red:
        parts.append(f"{red} KKMP pindah ke Merah")
    better = sum(1 for m in changes.moves if not m.worse)
    if better:
        parts.append(f"{better} KKMP zonanya membaik")
    if changes.new_total:
        parts.append(f"{changes.new_total} masalah data baru")
    if changes.resolved_total:
        parts.append(f"{changes.resolved_total} masalah selesai")
    if changes.quiet:
        parts.append(f"{len(changes.quiet)} KKMP berhenti memperbarui")
    return ", ".join(parts) or NOTHING


def _alert_line(item: Any) -> str:
    why = []
    if item.red:
        why.append("zona Merah" + (f" ({item.coop.reasons[0]})" if item.coop.reasons else ""))
    if item.quiet is not None:
        if item.quiet.stale_days is not None:
            why.append(f"data tidak diperbarui {item.quiet.stale_days} hari")
        if item.quiet.no_sale_days is not None:
            why.append(f"tidak ada penjualan {item.quiet.no_sale_days} hari")
    return f"{item.coop.nama}: {', '.join(why) or 'perlu perhatian'}"


def _alert_reasons(items: Sequence[Any]) -> str:
    red = sum(1 for i in items if i.red)
    quiet = sum(1 for i in items if i.quiet is not None)
    parts = []
    if red:
        parts.append(f"{red} pindah ke zona Merah")
    if quiet:
        parts.append(f"{quiet} berhenti memperbarui data")
    return "; ".join(parts) or "perlu perhatian"
