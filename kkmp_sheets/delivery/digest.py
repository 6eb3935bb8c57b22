"""What the digests say: one cycle (plus what changed since the last one) → `Digest`s to send.

Four kinds (PRODUCT.md "Emails"), each as plain text and as HTML:

- **city** (`DigestKey("city", "kota", <as_of>)`) to `[mail] officials`: Ringkasan, what changed
  since the previous recorded day, progress toward the target, zones per kecamatan as bars, and
  the trend of the last 30 days;
- **kecamatan** (`"kecamatan:<name>"`, daily) to `[mail.kecamatan] <name>`: their cooperatives only;
- **coop** (`"coop:<id>"`, ISO week `2026-W05`) to the cooperative's Email Pengurus: its own figures
  and open problems with how to fix each — nothing about any other cooperative;
- **alert** (`"pj:<email>"`, daily) to a penanggung jawab, only when one of their cooperatives
  turned Merah or went quiet.

City, kecamatan and coop digests are made even when nobody is configured to receive them: the
outbox keeps them so they can be read.

Figures: every number a digest shows comes from the cycle's one measurement
(`CycleResult.figures`, see `core/figures.py`) — the city and kecamatan roll-ups, the progress
toward the target, each cooperative's own — and reaches the templates as label/value rows made
from the catalogue (`Locale.rows` in `locale.py`), so a digest names and formats a figure as
the status workbook does. Kecamatan are grouped and named by `core/kecamatan.py`, as in the
Kecamatan tab. What the templates see is in `views.py`.

Privacy (UU 27/2022): the views built here carry aggregates, the cooperatives' own names and
problem *positions*. An issue's value reaches a template only through `Issue.public_value`
(masked when personal), only in the cooperative's own digest, and is masked again when it looks
like an identity number. City, kecamatan and alert digests show no values at all.

Templates live in `report_templates/<language>/` (`id`, `en`), with the shared layout and the
macros for zone bars in `report_templates/shared/`; `templates.py` says where that folder is found
(an installed package carries its own copy; `KKMP_REPORT_TEMPLATES` overrides).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from kkmp_sheets.config import Config
from kkmp_sheets.core.figures import (
    ARREARS,
    COOP_DIGEST,
    KECAMATAN_DIGEST,
    KECAMATAN_DIGEST_COOP,
    RINGKASAN,
    CityFigures,
    Target,
    Totals,
    measure,
    pick,
    rollup,
)
from kkmp_sheets.core.kecamatan import name_key
from kkmp_sheets.core.report import CoopResult
from kkmp_sheets.core.results import CycleResult
from kkmp_sheets.core.tables import ZONE_COLORS, ZONE_SERIES_COLORS
from kkmp_sheets.core.zoning import HIJAU, KUNING, MERAH, days_since
from kkmp_sheets.delivery.locale import LOCALES, WIB, ZONES, Locale
from kkmp_sheets.delivery.mail import Attachment, Digest, DigestKey, one_line, parse_mailbox
from kkmp_sheets.delivery.templates import TEMPLATES_ENV as TEMPLATES_ENV
from kkmp_sheets.delivery.templates import templates_dir
from kkmp_sheets.delivery.views import (
    ZONE_RANK_DESC,
    AlertItem,
    Bar,
    ChangesView,
    CoopRow,
    CountRow,
    MerahList,
    Move,
    Quiet,
    coop_row,
    issue_groups,
    kecamatan_row,
    member_of,
    merah_list,
    point_on,
    status_link,
    trend,
    zone_counts,
)
from kkmp_sheets.errors import ConfigError
from kkmp_sheets.store.history import Changes, CityPoint

log = logging.getLogger(__name__)

LANGUAGES = ("id", "en")
KINDS = ("city", "kecamatan", "coop", "alert")
MAX_ISSUE_GROUPS = 25  # per cooperative digest; the Hasil Pemeriksaan tab has them all
MAX_LISTED = 15  # cooperatives listed by name in one section of the city digest


# --- templates -----------------------------------------------------------------------------------


def environment(language: str = "id", templates: str | Path | None = None) -> jinja2.Environment:
    """The jinja2 environment for one language: HTML autoescaped, undefined names an error."""
    if language not in LANGUAGES:
        raise ConfigError(f"[mail] language = {language!r}: expected one of {', '.join(LANGUAGES)}")
    return _environment(templates_dir(templates), language)


@lru_cache(maxsize=8)
def _environment(root: Path, language: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    loc = LOCALES[language]
    env.filters.update(
        rupiah=loc.rupiah,
        number=loc.number,
        percent=loc.percent,
        tanggal=loc.date,
        jam=loc.time,
        waktu=loc.datetime,
        zone=loc.zone,
        textbar=loc.textbar,
        signed=loc.signed,
    )
    env.globals.update(
        lang=language,
        zone_colors=ZONE_SERIES_COLORS,
        zone_light=ZONE_COLORS,
        zones=ZONES,
    )
    return env


# --- rendering -----------------------------------------------------------------------------------


def render_digests(
    cycle: CycleResult,
    changes: Changes,
    cfg: Config,
    *,
    now: datetime,
    series: Sequence[CityPoint | Sequence[Any]] | None = None,
    templates: str | Path | None = None,
    kinds: Collection[str] | None = None,
) -> list[Digest]:
    """Every digest of one cycle: city, one per kecamatan, one per cooperative, and the alerts.

    `kinds` (a subset of `KINDS`) renders only those: the scheduled jobs of `serve` each send
    their own kinds; None renders all.

    `changes` compares the cycle's day with the previous recorded one (`HistoryStore.changes`);
    `series` is the city trend, `(day, aktif, hijau, kuning, merah)` per day
    (`HistoryStore.city_series`); the cycle's own day is added when missing.
    """
    if now.tzinfo is None:
        raise ValueError("`now` must carry a time zone (e.g. datetime.now(WIB))")
    env = environment(cfg.mail.language, templates)
    sender = cfg.mail.sender
    try:
        parse_mailbox(sender)
    except ValueError:
        raise ConfigError(
            f"[mail] sender = {sender!r}: expected an address like kkmp@contoh.go.id"
        ) from None
    wanted = set(KINDS if kinds is None else kinds)
    if wanted - set(KINDS):
        raise ValueError(f"unknown digest kinds {sorted(wanted - set(KINDS))}; expected {KINDS}")
    ctx = _Context(cycle, changes, cfg, now, env)
    digests = [ctx.city(series)] if "city" in wanted else []
    if "kecamatan" in wanted:
        digests += ctx.kecamatan_digests()
    if "coop" in wanted:
        digests += [ctx.coop(result) for result in _by_id(cycle.results)]
    if "alert" in wanted:
        digests += ctx.alerts()
    return digests


class _Context:
    def __init__(
        self,
        cycle: CycleResult,
        changes: Changes,
        cfg: Config,
        now: datetime,
        env: jinja2.Environment,
    ) -> None:
        self.cycle, self.changes, self.cfg, self.env = cycle, changes, cfg, env
        self.now = now.astimezone(WIB)
        self.as_of = cycle.as_of
        self.locale: Locale = LOCALES[cfg.mail.language]
        self.figures = figures_of(cycle, cfg)
        self.rows = {r.coop.id: self.coop_row(r) for r in cycle.results}
        self.subjects = env.get_template(f"{cfg.mail.language}/subjects.j2").module
        self.status = status_link(cycle.status_link or _published_at(cycle.output))

    # --- shared pieces

    def base(self) -> dict[str, Any]:
        return {
            "city": self.cfg.city_name,
            "as_of": self.as_of,
            "now": self.now,
            "rules": self.cfg.zones,
            "max_listed": MAX_LISTED,
            "status": self.status,
        }

    def coop_row(self, result: CoopResult) -> CoopRow:
        values = self.figures.coop(result.coop.id)
        shown = self.locale.rows(pick(KECAMATAN_DIGEST_COOP), values.__getitem__)
        kecamatan = self.figures.kecamatan_of[result.coop.id].name
        return coop_row(result, kecamatan, shown)

    def render(
        self,
        kind: str,
        key: DigestKey,
        to: Iterable[str],
        subject_args: dict[str, Any],
        view: dict[str, Any],
        reply_to: str | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> Digest:
        view = {**self.base(), **view}
        macro = getattr(self.subjects, kind)
        subject = one_line(str(macro(city=self.cfg.city_name, as_of=self.as_of, **subject_args)))
        lang = self.cfg.mail.language
        view["subject"] = subject
        return Digest(
            key=key,
            to=_valid_addresses(to, key),
            subject=subject,
            text=self.env.get_template(f"{lang}/{kind}.txt.j2").render(view),
            html=self.env.get_template(f"{lang}/{kind}.html.j2").render(view),
            sender=self.cfg.mail.sender,
            reply_to=reply_to,
            attachments=attachments,
            view=view,
        )

    def report(self, audience: str) -> tuple[Attachment, ...]:
        """The cycle's Laporan Pimpinan for `audience`, when one was made."""
        path = self.cycle.reports.get(audience)
        if path is None:
            return ()
        try:
            return (Attachment.pdf(path),)
        except (OSError, ValueError) as exc:  # removed or spoilt since: the digest still goes
            log.warning("Laporan Pimpinan %s not attached: %s", path, exc)
            return ()

    def changes_view(self, keep: Callable[[CoopRow], bool] = lambda row: True) -> ChangesView:
        ch = self.changes
        view = ChangesView(first=ch.first, since=ch.since)
        for move in ch.zone_moves:
            row = self.rows.get(move.coop_id)
            if row is not None and keep(row):
                view.moves.append(Move(row, move.from_zone, move.to_zone))
        for source, target in (
            (ch.new_problems, view.new_problems),
            (ch.resolved_problems, view.resolved_problems),
        ):
            for coop_id, count in source.items():
                row = self.rows.get(coop_id)
                if row is not None and count and keep(row):
                    target.append(CountRow(row, count))
            target.sort(key=lambda r: (-r.count, r.coop.kecamatan, r.coop.id))
        for coop_id in ch.gone_quiet:
            row = self.rows.get(coop_id)
            if row is not None and keep(row):
                view.quiet.append(self.quiet(row))
        view.newly_red = [
            self.rows[c] for c in ch.newly_red if c in self.rows and keep(self.rows[c])
        ]
        return view

    def merah(self, rows: Iterable[CoopRow]) -> MerahList:
        return merah_list(
            rows,
            newly_red=set(self.changes.newly_red),
            since=self.changes.merah_since,
            as_of=self.as_of,
            limit=self.cfg.merah_list_limit,
        )

    def quiet(self, row: CoopRow) -> Quiet:
        rules = self.cfg.zones
        stale = days_since(row.data_diperbarui, self.as_of)
        no_sale = days_since(row.transaksi_terakhir, self.as_of)
        return Quiet(
            row,
            stale if stale is not None and stale >= rules.yellow_stale_days else None,
            no_sale if no_sale is not None and no_sale >= rules.red_no_sale_days else None,
        )

    # --- city

    def city(self, series: Sequence[CityPoint | Sequence[Any]] | None) -> Digest:
        s, progress = self.figures.city, self.figures.progress
        widest = max((k.totals.jumlah for k in self.figures.kecamatan), default=0)
        kecamatan = [
            kecamatan_row(k.kecamatan.name, k.totals, widest) for k in self.figures.kecamatan
        ]
        days = trend(series, self.as_of, (s.aktif, s.hijau, s.kuning, s.merah))
        previous = point_on(series, self.changes.since)
        deltas = None
        if previous is not None:
            deltas = {
                "aktif": s.aktif - previous.aktif,
                HIJAU: s.hijau - previous.hijau,
                KUNING: s.kuning - previous.kuning,
                MERAH: s.merah - previous.merah,
            }
        unreadable = [self.rows[r.coop.id] for r in _by_id(self.cycle.unreadable)]
        view = {
            "s": s,
            "summary": self.locale.rows(pick(RINGKASAN), s.get, city=True),
            "bar": _bar(s),
            "deltas": deltas,
            "progress": progress,
            "progress_rows": self.locale.rows(progress.shown, progress.get),
            "changes": self.changes_view(),
            "kecamatan": kecamatan,
            "trend": days,
            "trend_text": days[::-1][::7][::-1],  # the plain-text trend: one line a week
            "unreadable": unreadable,
            "registry_problems": len(self.cycle.registry_issues),
            "merah": self.merah(self.rows.values()),
            "office": True,  # to the office's own officials: local workbooks are linked as files
        }
        key = DigestKey("city", "kota", self.as_of.isoformat())
        counts = zone_counts(_bar(s))
        return self.render(
            "city", key, self.cfg.mail.officials, counts, view, attachments=self.report("kota")
        )

    # --- kecamatan

    def kecamatan_digests(self) -> list[Digest]:
        out = []
        for group in self.figures.kecamatan:
            if not group.kecamatan.named:
                continue  # the rows without a kecamatan have no camat to write to
            name, totals = group.kecamatan.name, group.totals
            rows = sorted(
                (self.rows[i] for i in group.coop_ids),
                key=lambda row: (ZONE_RANK_DESC.get(row.zone, 9), row.kelurahan, row.id),
            )
            bar = _bar(totals)
            view = {
                "kecamatan": name,
                "rows": rows,
                "bar": bar,
                "totals": totals,
                "figures": self.locale.rows(pick(KECAMATAN_DIGEST), totals.get),
                "changes": self.changes_view(member_of(set(group.coop_ids))),
                "merah": self.merah(rows),
                "office": False,  # camat and lurah: outside the office's shared folder
            }
            key = DigestKey("kecamatan", f"kecamatan:{one_line(name)}", self.as_of.isoformat())
            counts = {"kecamatan": name, **zone_counts(bar)}
            to = self.kecamatan_recipients(name, group.kecamatan.spellings)
            report = self.report(f"kecamatan:{group.kecamatan.key}")
            out.append(self.render("kecamatan", key, to, counts, view, attachments=report))
        return out

    def kecamatan_recipients(self, name: str, spellings: Sequence[str] = ()) -> tuple[str, ...]:
        """`[mail.kecamatan]` addresses of a kecamatan, however the config spells its name."""
        configured = self.cfg.mail.kecamatan
        if name in configured:
            return configured[name]
        wanted = {name_key(n) for n in (name, *spellings)}
        for other, addresses in configured.items():
            if name_key(other) in wanted:
                return addresses
        return ()

    # --- cooperative

    def coop(self, result: CoopResult) -> Digest:
        coop, fig = result.coop, result.figures
        values = self.figures.coop(coop.id)
        year, week, _ = self.as_of.isocalendar()
        period = f"{year}-W{week:02d}"
        groups = issue_groups(result.open_issues)  # acknowledged warnings are settled
        shown = groups[:MAX_ISSUE_GROUPS]
        arrears = fig.wajib_bulanan is not None
        view = {
            "coop": coop,
            "row": self.rows[coop.id],
            "fig": fig,
            "figures": self.locale.rows(pick(COOP_DIGEST), values.__getitem__),
            "arrears": arrears,
            "arrears_rows": self.locale.rows(pick(ARREARS), values.__getitem__) if arrears else [],
            "zone": result.zone,
            "week": period,
            "groups": shown,
            "groups_more": sum(g.count for g in groups[MAX_ISSUE_GROUPS:]),
            "galat": values["galat"],
            "peringatan": values["peringatan"],
        }
        key = DigestKey("coop", f"coop:{one_line(coop.id)}", period)
        reply_to = next(iter(_valid_addresses(coop.email_penanggung_jawab, key)), None)
        subject: dict[str, Any] = {"nama": coop.nama, "week": period, "zone": result.zone.name}
        subject["galat"] = values["galat"]
        return self.render("coop", key, coop.email_pengurus, subject, view, reply_to=reply_to)

    # --- penanggung jawab alerts

    def alerts(self) -> list[Digest]:
        flagged = set(self.changes.newly_red) | set(self.changes.gone_quiet)
        if not flagged:
            return []
        red, quiet = set(self.changes.newly_red), set(self.changes.gone_quiet)
        by_pj: dict[str, list[CoopResult]] = defaultdict(list)
        names: dict[str, str] = {}
        addresses: dict[str, str] = {}
        for r in _by_id(self.cycle.results):
            for address in r.coop.email_penanggung_jawab:
                try:
                    addr = parse_mailbox(address).addr_spec
                except ValueError:
                    log.warning("%s: Email Penanggung Jawab is not an address", r.coop.id)
                    continue
                pj = addr.lower()
                addresses.setdefault(pj, addr)
                if all(other is not r for other in by_pj[pj]):  # an address listed twice
                    by_pj[pj].append(r)
                if r.coop.penanggung_jawab:
                    names.setdefault(pj, r.coop.penanggung_jawab)
        out = []
        for pj in sorted(by_pj):
            mine = by_pj[pj]
            items = [
                AlertItem(
                    coop=self.rows[r.coop.id],
                    red=r.coop.id in red,
                    quiet=self.quiet(self.rows[r.coop.id]) if r.coop.id in quiet else None,
                )
                for r in mine
                if r.coop.id in flagged
            ]
            if not items:
                continue
            items.sort(key=lambda i: (not i.red, i.coop.kecamatan, i.coop.id))
            view = {
                "pj_email": pj,
                # WhatsApp addresses of this penanggung jawab: rows that say Tanpa Pesan keep
                # theirs out (the registry's opt-out)
                "pj_phones": tuple(
                    dict.fromkeys(
                        r.coop.telepon_penanggung_jawab
                        for r in mine
                        if r.coop.telepon_penanggung_jawab and not r.coop.tanpa_pesan
                    )
                ),
                "pj_name": names.get(pj, ""),
                "changes_since": self.changes.since,
                "items": items,
                "total": len(mine),
                "bar": _bar(rollup(self.figures.coop(r.coop.id) for r in mine)),
            }
            # Once per day per *set* of flagged cooperatives: a cooperative of the same person
            # that turns Merah later the same day changes the set, so it is alerted too.
            flagged_ids = ",".join(sorted(i.coop.id for i in items))
            fingerprint = hashlib.sha1(flagged_ids.encode()).hexdigest()[:8]
            key = DigestKey("alert", f"pj:{pj}:{fingerprint}", self.as_of.isoformat())
            subject = {"count": len(items), "red": sum(1 for i in items if i.red)}
            out.append(self.render("alert", key, (addresses[pj],), subject, view))
        return out


def figures_of(cycle: CycleResult, cfg: Config) -> CityFigures:
    """The cycle's figures as measured once by the cycle; a cycle made without them (a tool, a
    test) is measured here by the same function, with the config's window and target."""
    if cycle.figures is not None:
        return cycle.figures
    return measure(
        cycle.results,
        as_of=cycle.as_of,
        reporting_window_days=cfg.reporting_window_days,
        target=Target(cfg.target_date, cfg.target_active_share),
    )


def _published_at(output: str) -> str:
    """A cycle made without `status_link` (a tool, a test): its `output`, when it is a URL or
    an absolute path (a dry run's "(tidak ditulis)" is neither)."""
    if output.startswith(("https://", "http://")):
        return output
    return Path(output).as_uri() if Path(output).is_absolute() else ""


def _bar(totals: Totals) -> Bar:
    return Bar(totals.hijau, totals.kuning, totals.merah)


def _valid_addresses(addresses: Iterable[str], key: DigestKey) -> tuple[str, ...]:
    out = []
    for address in addresses:
        try:
            parse_mailbox(address)
        except ValueError:
            log.warning("digest %s: a recipient is not an e-mail address; left out", key.slug())
            continue
        out.append(address.strip())
    return tuple(out)


def _by_id(results: Iterable[CoopResult]) -> list[CoopResult]:
    return sorted(results, key=lambda r: r.coop.id)
