"""The digests one level up: a province's (or the nation's) daily digest, and the alert to the
operator of each child instance that is behind.

- **wilayah** (`DigestKey("city", "wilayah:<kode>", <day>)`) to `[mail] officials`: the
  parent's Ringkasan, one line per child (zones, active, freshness), and by name the children
  that are Merah-heavy (at least `MERAH_HEAVY` of their cooperatives Merah) or behind;
- **child alert** (`DigestKey("alert", "anak:<kode>", <day>)`) to the child's Email Operator,
  when its status spreadsheet is stale, unreadable or refused: what the parent saw and what to
  do. Both go through the delivery ledger like every digest: once a day each.

Every figure comes from the federation's roll-up (`core/federation.py`) and is named and
formatted by the catalogue (`Locale.rows`); nothing here is about a cooperative or a person.
Templates: `report_templates/id/federation.*.j2`, `child_alert.*.j2` (Indonesian; an `en`
instance gets them too until they are translated).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import jinja2

from kkmp_sheets.config import Config
from kkmp_sheets.core.federation import (
    CHILD_NOUN,
    TERKINI,
    ChildRow,
    Federation,
)
from kkmp_sheets.core.figures import RINGKASAN, Target, pick, target_progress
from kkmp_sheets.delivery.digest import environment
from kkmp_sheets.delivery.locale import LOCALES, WIB
from kkmp_sheets.delivery.mail import Digest, DigestKey, one_line, period_for
from kkmp_sheets.delivery.views import Bar

MERAH_HEAVY = 0.5  # a child with at least this share of its cooperatives Merah is named
TEMPLATE_LANGUAGE = "id"


def merah_heavy(child: ChildRow) -> bool:
    if not child.counted or child.figures is None:
        return False
    t = child.figures.totals
    return t.jumlah > 0 and t.merah / t.jumlah >= MERAH_HEAVY


def federation_digests(fed: Federation, cfg: Config, *, now: datetime) -> list[Digest]:
    env = environment(cfg.mail.language)
    locale = LOCALES[cfg.mail.language]
    now = now.astimezone(WIB)
    noun = CHILD_NOUN[fed.level]
    progress = target_progress(
        fed.totals, Target(cfg.target_date, cfg.target_active_share), fed.as_of
    )
    children = [_child_view(c) for c in sorted(fed.children, key=lambda c: c.entry.kode)]
    base: dict[str, Any] = {
        "city": fed.name,
        "as_of": fed.as_of,
        "now": now,
        "noun": noun,
    }
    view = {
        **base,
        "s": fed.totals,
        "summary": locale.rows(pick(RINGKASAN), fed.totals.get, city=True),
        "progress_rows": locale.rows(progress.shown, progress.get),
        "bar": Bar(fed.totals.hijau, fed.totals.kuning, fed.totals.merah),
        "children": children,
        "heavy": [c for c in children if c["heavy"]],
        "behind": [c for c in children if c["state"] != TERKINI],
        "merah_heavy_pct": round(MERAH_HEAVY * 100),
    }
    subject = one_line(
        f"[KKMP {fed.name}] Ringkasan {locale.date(fed.as_of)}: {fed.totals.hijau} Hijau, "
        f"{fed.totals.kuning} Kuning, {fed.totals.merah} Merah; {len(view['behind'])} {noun} "
        "perlu dicek"
    )
    digests = [
        _render(
            env,
            "federation",
            DigestKey("city", f"wilayah:{fed.kode}", period_for("city", now)),
            cfg.mail.officials,
            subject,
            view,
            cfg,
        )
    ]
    for child, shown in zip(
        sorted(fed.children, key=lambda c: c.entry.kode), children, strict=True
    ):
        if child.state == TERKINI:
            continue
        subject = one_line(
            f"[KKMP {fed.name}] {child.name}: {child.state} di laporan {locale.date(fed.as_of)}"
        )
        key = DigestKey("alert", f"anak:{child.entry.kode}", period_for("alert", now))
        to = (child.entry.email,) if "@" in child.entry.email else ()
        digests.append(_render(env, "child_alert", key, to, subject, {**base, "c": shown}, cfg))
    return digests


def _child_view(child: ChildRow) -> dict[str, Any]:
    t = child.figures.totals if child.counted and child.figures is not None else None
    meta = child.figures.meta if child.figures is not None else None
    return {
        "kode": child.entry.kode,
        "name": child.name,
        "state": child.state,
        "reason": child.reason,
        "spreadsheet": child.entry.spreadsheet,
        "t": t,
        "bar": Bar(t.hijau, t.kuning, t.merah) if t else None,
        "tanggal_data": meta.tanggal_data if meta else None,
        "waktu_siklus": meta.waktu_siklus if meta else None,
        "heavy": merah_heavy(child),
    }


def _render(
    env: jinja2.Environment,
    kind: str,
    key: DigestKey,
    to: Iterable[str],
    subject: str,
    view: dict[str, Any],
    cfg: Config,
) -> Digest:
    view = {**view, "subject": subject}
    return Digest(
        key=key,
        to=tuple(to),
        subject=subject,
        text=env.get_template(f"{TEMPLATE_LANGUAGE}/{kind}.txt.j2").render(view),
        html=env.get_template(f"{TEMPLATE_LANGUAGE}/{kind}.html.j2").render(view),
        sender=cfg.mail.sender,
    )
