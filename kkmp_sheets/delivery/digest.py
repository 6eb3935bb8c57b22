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

Privacy (UU 27/2022): the views built here carry aggregates, the cooperatives' own names and
problem *positions*. An issue's value reaches a template only through `Issue.public_value`
(masked when personal), only in the cooperative's own digest, and is masked again when it looks
like an identity number. City, kecamatan and alert digests show no values at all.

Templates live in `report_templates/<language>/` (`id`, `en`), with the shared layout and the
macros for zone bars in `report_templates/shared/`. They are found, in this order, at the
`templates` argument, the folder named by the environment variable `KKMP_REPORT_TEMPLATES`, the
`report_templates/` folder next to the package (a source checkout or an editable install), and
`kkmp_sheets/report_templates/` inside the package. A wheel does not carry the repository's
`report_templates/`: an installed service sets `KKMP_REPORT_TEMPLATES` (or copies the folder
into the package); when no folder is found, rendering stops with a `KkmpError` that says so.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

import kkmp_sheets
from kkmp_sheets.config import Config
from kkmp_sheets.core import formats
from kkmp_sheets.core.issue import Issue, Severity, mask_personal
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.report import CoopResult, sorted_issues
from kkmp_sheets.core.results import CycleResult
from kkmp_sheets.core.tables import ZONE_COLORS, ZONE_SERIES_COLORS
from kkmp_sheets.core.template import normalize
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.core.zoning import HIJAU, KUNING, MERAH, days_since
from kkmp_sheets.delivery.mail import Digest, DigestKey, one_line, parse_mailbox
from kkmp_sheets.errors import ConfigError, KkmpError
from kkmp_sheets.store.history import Changes, CityPoint

log = logging.getLogger(__name__)

TEMPLATES_ENV = "KKMP_REPORT_TEMPLATES"
LANGUAGES = ("id", "en")
KINDS = ("city", "kecamatan", "coop", "alert")
ZONES = (HIJAU, KUNING, MERAH)
NO_KECAMATAN = "(tanpa kecamatan)"

TREND_DAYS = 30
TREND_HEIGHT_PX = 96
MAX_ISSUE_GROUPS = 25  # per cooperative digest; the Hasil Pemeriksaan tab has them all
MAX_ROWS_PER_GROUP = 12
MAX_LISTED = 15  # cooperatives listed by name in one section of the city digest
_LONG_DIGITS = re.compile(r"\d[\d .-]{10,}\d")


# --- templates -----------------------------------------------------------------------------------


def templates_dir(explicit: str | Path | None = None) -> Path:
    """The `report_templates/` folder (see the module docstring for the search order)."""
    package = Path(kkmp_sheets.__file__).resolve().parent
    candidates: list[Path] = []
    if explicit is not None:
        candidates.append(Path(explicit))
    elif os.environ.get(TEMPLATES_ENV):
        candidates.append(Path(os.environ[TEMPLATES_ENV]))
    else:
        candidates += [package.parent / "report_templates", package / "report_templates"]
    for path in candidates:
        if (path / "shared" / "layout.html.j2").is_file():
            return path
    searched = ", ".join(str(p) for p in candidates)
    raise KkmpError(
        f"digest templates not found (looked in {searched}): set the environment variable "
        f"{TEMPLATES_ENV} to the report_templates folder of kkmp-sheets"
    )


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


# --- Indonesian / English formats ------------------------------------------------------------------

_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True)
class Locale:
    """How numbers, money, dates and times read in one language (times always in WIB)."""

    code: str
    zone_names: dict[str, str]
    letters: dict[str, str]  # one letter per zone for plain-text bars

    def number(self, x: float | None, decimals: int = 0) -> str:
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return "–"
        text = formats.format_number(float(x), decimals)
        return text if self.code == "id" else text.translate(_SWAP)

    def rupiah(self, x: float | None) -> str:
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return "–"
        text = formats.format_rupiah(round(float(x)))
        return text if self.code == "id" else text.translate(_SWAP)

    def percent(self, fraction: float | None, decimals: int = 0) -> str:
        if fraction is None or (isinstance(fraction, float) and not math.isfinite(fraction)):
            return "–"
        return self.number(fraction * 100, decimals) + "%"

    def signed(self, x: int) -> str:
        return f"+{self.number(x)}" if x > 0 else self.number(x) if x < 0 else "±0"

    def date(self, d: date | datetime | None) -> str:
        if d is None:
            return "–"
        if isinstance(d, datetime):
            d = _wib(d).date()
        if self.code == "id":
            return formats.format_date(d)
        return f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}"

    def time(self, moment: datetime) -> str:
        local = _wib(moment)
        sep = "." if self.code == "id" else ":"
        return f"{local:%H}{sep}{local:%M} WIB"

    def datetime(self, moment: datetime | None) -> str:
        if moment is None:
            return "–"
        return f"{self.date(moment)} {self.time(moment)}"

    def zone(self, name: str) -> str:
        return self.zone_names.get(name, name)

    def textbar(self, counts: Sequence[int], width: int = 20, scale: int | None = None) -> str:
        """`HHHHHKKKKMMM`: one letter per zone (Hijau, Kuning, Merah), `width` for `scale` coops."""
        total = scale or sum(counts) or 1
        cells = _shares(counts, round(width * sum(counts) / total))
        return "".join(self.letters[z] * n for z, n in zip(ZONES, cells, strict=True))


_SWAP = str.maketrans(",.", ".,")
LOCALES = {
    "id": Locale("id", {}, {HIJAU: "H", KUNING: "K", MERAH: "M"}),
    "en": Locale(
        "en",
        {HIJAU: "Green", KUNING: "Yellow", MERAH: "Red"},
        {HIJAU: "G", KUNING: "Y", MERAH: "R"},
    ),
}


def _wib(moment: datetime) -> datetime:
    return moment.astimezone(WIB) if moment.tzinfo is not None else moment


def _shares(counts: Sequence[int], total: int) -> list[int]:
    """Split `total` in proportion to `counts`, summing exactly (largest remainder)."""
    whole = sum(counts)
    if whole <= 0 or total <= 0:
        return [0] * len(counts)
    raw = [c * total / whole for c in counts]
    out = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


# --- views: what templates see --------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """A stacked zone bar: counts, and cell widths in percent of the bar (summing to 100)."""

    hijau: int
    kuning: int
    merah: int
    scale_pct: int = 100  # width of the whole bar, relative to the longest bar shown with it

    @property
    def total(self) -> int:
        return self.hijau + self.kuning + self.merah

    @property
    def counts(self) -> tuple[int, int, int]:
        return (self.hijau, self.kuning, self.merah)

    @property
    def cells(self) -> list[tuple[str, int, int]]:
        """(zone, count, width %) for each zone with a count."""
        widths = _shares(self.counts, 100)
        return [(z, n, w) for z, n, w in zip(ZONES, self.counts, widths, strict=True) if n and w]


@dataclass(frozen=True)
class KecamatanRow:
    name: str
    jumlah: int
    aktif: int
    galat: int
    bar: Bar


@dataclass(frozen=True)
class CoopRow:
    id: str
    nama: str
    kelurahan: str
    kecamatan: str
    zone: str
    reasons: tuple[str, ...]
    readable: bool
    status_operasional: str | None
    anggota_aktif: int
    omset: float
    transaksi: int
    transaksi_terakhir: date | None
    data_diperbarui: datetime | None
    galat: int
    peringatan: int
    penanggung_jawab: str
    link: str  # a web link, or "" (a local path is no use in an e-mail)


@dataclass(frozen=True)
class Quiet:
    """Why a cooperative counts as gone quiet: days since its last update / last sale."""

    coop: CoopRow
    stale_days: int | None
    no_sale_days: int | None


@dataclass(frozen=True)
class CountRow:
    coop: CoopRow
    count: int


@dataclass(frozen=True)
class Move:
    coop: CoopRow
    from_zone: str
    to_zone: str

    @property
    def worse(self) -> bool:
        return _ZONE_RANK.get(self.to_zone, 0) > _ZONE_RANK.get(self.from_zone, 0)


@dataclass
class ChangesView:
    first: bool
    since: date | None
    moves: list[Move] = field(default_factory=list)
    new_problems: list[CountRow] = field(default_factory=list)
    resolved_problems: list[CountRow] = field(default_factory=list)
    quiet: list[Quiet] = field(default_factory=list)
    newly_red: list[CoopRow] = field(default_factory=list)

    @property
    def new_total(self) -> int:
        return sum(r.count for r in self.new_problems)

    @property
    def resolved_total(self) -> int:
        return sum(r.count for r in self.resolved_problems)

    @property
    def empty(self) -> bool:
        return not (self.moves or self.new_problems or self.resolved_problems or self.quiet)


@dataclass(frozen=True)
class AlertItem:
    coop: CoopRow
    red: bool  # turned Merah since the previous recorded day
    quiet: Quiet | None  # went quiet since then (None: did not)


@dataclass(frozen=True)
class TrendBar:
    day: date
    aktif: int
    hijau_px: int
    kuning_px: int
    merah_px: int
    counts: tuple[int, int, int]


@dataclass(frozen=True)
class Progress:
    aktif: int
    jumlah: int
    share: float  # aktif / jumlah
    target_share: float
    target_count: int
    needed: int
    target_date: date | None
    days_left: int | None

    @property
    def bar_pct(self) -> int:
        """How far toward the target count, 0–100."""
        if self.target_count <= 0:
            return 100
        return max(0, min(100, round(100 * self.aktif / self.target_count)))


@dataclass(frozen=True)
class IssueRow:
    row: int | None
    value: str  # masked where personal; "" when there is nothing to show


@dataclass
class IssueGroup:
    """One kind of problem in one column of one tab, with every row it occurs in."""

    severity: str
    tab: str
    column: str
    message: str
    fix: str
    rows: list[IssueRow] = field(default_factory=list)
    more: int = 0  # rows not listed

    @property
    def count(self) -> int:
        return len(self.rows) + self.more


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
        self.rows = {r.coop.id: coop_row(r) for r in cycle.results}
        self.subjects = env.get_template(f"{cfg.mail.language}/subjects.j2").module
        self.kecamatan_names = _kecamatan_names(r.coop.kecamatan for r in cycle.results)

    # --- shared pieces

    def base(self) -> dict[str, Any]:
        return {
            "city": self.cfg.city_name,
            "as_of": self.as_of,
            "now": self.now,
            "rules": self.cfg.zones,
            "max_listed": MAX_LISTED,
        }

    def render(
        self,
        kind: str,
        key: DigestKey,
        to: Iterable[str],
        subject_args: dict[str, Any],
        view: dict[str, Any],
        reply_to: str | None = None,
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
        )

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

    def quiet(self, row: CoopRow) -> Quiet:
        rules = self.cfg.zones
        stale = days_since(row.data_diperbarui, self.as_of)
        no_sale = days_since(row.transaksi_terakhir, self.as_of)
        return Quiet(
            row,
            stale if stale is not None and stale >= rules.yellow_stale_days else None,
            no_sale if no_sale is not None and no_sale >= rules.red_no_sale_days else None,
        )

    def kecamatan_of(self, coop: Coop) -> str:
        return self.kecamatan_names.get(normalize(coop.kecamatan), NO_KECAMATAN)

    # --- city

    def city(self, series: Sequence[CityPoint | Sequence[Any]] | None) -> Digest:
        s = self.cycle.summary
        groups: dict[str, list[CoopResult]] = defaultdict(list)
        for r in self.cycle.results:
            groups[self.kecamatan_of(r.coop)].append(r)
        widest = max((len(g) for g in groups.values()), default=0)
        kecamatan = [
            _kecamatan_row(name, groups[name], widest)
            for name in sorted(groups, key=lambda n: (n == NO_KECAMATAN, n.casefold()))
        ]
        trend = _trend(series, self.as_of, (s.aktif, s.hijau, s.kuning, s.merah))
        previous = _point_on(series, self.changes.since)
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
            "bar": Bar(s.hijau, s.kuning, s.merah),
            "deltas": deltas,
            "progress": self.progress(),
            "changes": self.changes_view(),
            "kecamatan": kecamatan,
            "trend": trend,
            "trend_text": trend[::-1][::7][::-1],  # the plain-text trend: one line a week
            "unreadable": unreadable,
            "registry_problems": len(self.cycle.registry_issues),
        }
        key = DigestKey("city", "kota", self.as_of.isoformat())
        counts = _zone_counts(Bar(s.hijau, s.kuning, s.merah))
        return self.render("city", key, self.cfg.mail.officials, counts, view)

    def progress(self) -> Progress:
        s, cfg = self.cycle.summary, self.cfg
        target_count = math.ceil(round(cfg.target_active_share * s.jumlah, 6))
        days_left = None
        if cfg.target_date is not None:
            days_left = max((cfg.target_date - self.as_of).days, 0)
        return Progress(
            aktif=s.aktif,
            jumlah=s.jumlah,
            share=s.aktif / s.jumlah if s.jumlah else 0.0,
            target_share=cfg.target_active_share,
            target_count=target_count,
            needed=max(target_count - s.aktif, 0),
            target_date=cfg.target_date,
            days_left=days_left,
        )

    # --- kecamatan

    def kecamatan_digests(self) -> list[Digest]:
        groups: dict[str, list[CoopResult]] = defaultdict(list)
        for r in self.cycle.results:
            if r.coop.kecamatan.strip():
                groups[self.kecamatan_of(r.coop)].append(r)
        out = []
        for name in sorted(groups, key=str.casefold):
            results = groups[name]
            ids = {r.coop.id for r in results}
            rows = sorted(
                (self.rows[r.coop.id] for r in results),
                key=lambda row: (_ZONE_RANK_DESC.get(row.zone, 9), row.kelurahan, row.id),
            )
            bar = Bar(*(sum(1 for row in rows if row.zone == z) for z in ZONES))
            view = {
                "kecamatan": name,
                "rows": rows,
                "bar": bar,
                "aktif": sum(1 for r in results if _is_active(r)),
                "anggota_aktif": sum(r.figures.anggota_aktif for r in results),
                "omset": sum(r.figures.omset for r in results),
                "changes": self.changes_view(_member_of(ids)),
            }
            key = DigestKey("kecamatan", f"kecamatan:{one_line(name)}", self.as_of.isoformat())
            counts = {"kecamatan": name, **_zone_counts(bar)}
            out.append(self.render("kecamatan", key, self.kecamatan_recipients(name), counts, view))
        return out

    def kecamatan_recipients(self, name: str) -> tuple[str, ...]:
        configured = self.cfg.mail.kecamatan
        if name in configured:
            return configured[name]
        wanted = _kecamatan_key(name)
        for other, addresses in configured.items():
            if _kecamatan_key(other) == wanted:
                return addresses
        return ()

    # --- cooperative

    def coop(self, result: CoopResult) -> Digest:
        coop, fig = result.coop, result.figures
        year, week, _ = self.as_of.isocalendar()
        period = f"{year}-W{week:02d}"
        groups = issue_groups(result.issues)
        shown = groups[:MAX_ISSUE_GROUPS]
        view = {
            "coop": coop,
            "row": self.rows[coop.id],
            "fig": fig,
            "zone": result.zone,
            "week": period,
            "groups": shown,
            "groups_more": sum(g.count for g in groups[MAX_ISSUE_GROUPS:]),
            "galat": result.galat,
            "peringatan": result.peringatan,
            "arrears": fig.wajib_bulanan is not None,
        }
        key = DigestKey("coop", f"coop:{one_line(coop.id)}", period)
        reply_to = next(iter(_valid_addresses(coop.email_penanggung_jawab, key)), None)
        subject: dict[str, Any] = {"nama": coop.nama, "week": period, "zone": result.zone.name}
        subject["galat"] = result.galat
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
                "pj_name": names.get(pj, ""),
                "changes_since": self.changes.since,
                "items": items,
                "total": len(mine),
                "bar": Bar(*(sum(1 for r in mine if r.zone.name == z) for z in ZONES)),
            }
            # Once per day per *set* of flagged cooperatives: a cooperative of the same person
            # that turns Merah later the same day changes the set, so it is alerted too.
            flagged_ids = ",".join(sorted(i.coop.id for i in items))
            fingerprint = hashlib.sha1(flagged_ids.encode()).hexdigest()[:8]
            key = DigestKey("alert", f"pj:{pj}:{fingerprint}", self.as_of.isoformat())
            subject = {"count": len(items), "red": sum(1 for i in items if i.red)}
            out.append(self.render("alert", key, (addresses[pj],), subject, view))
        return out


# --- building blocks ----------------------------------------------------------------------------


def coop_row(result: CoopResult) -> CoopRow:
    coop, fig = result.coop, result.figures
    return CoopRow(
        id=coop.id,
        nama=coop.nama,
        kelurahan=coop.kelurahan,
        kecamatan=coop.kecamatan,
        zone=result.zone.name,
        reasons=result.zone.reasons,
        readable=fig.readable,
        status_operasional=fig.status_operasional,
        anggota_aktif=fig.anggota_aktif,
        omset=fig.omset,
        transaksi=fig.transaksi,
        transaksi_terakhir=fig.transaksi_terakhir,
        data_diperbarui=fig.data_diperbarui,
        galat=result.galat,
        peringatan=result.peringatan,
        penanggung_jawab=coop.penanggung_jawab,
        link=result.link if result.link.startswith(("https://", "http://")) else "",
    )


def issue_groups(issues: Sequence[Issue]) -> list[IssueGroup]:
    """Problems grouped by (severity, tab, column, message, fix), Galat first, rows in order."""
    groups: dict[tuple[str, str, str, str, str], IssueGroup] = {}
    for issue in sorted_issues(list(issues)):
        key = (issue.severity.value, issue.tab, issue.column, issue.message, issue.fix)
        group = groups.get(key)
        if group is None:
            group = groups[key] = IssueGroup(*key)
        if len(group.rows) < MAX_ROWS_PER_GROUP:
            group.rows.append(IssueRow(issue.row, safe_value(issue)))
        else:
            group.more += 1
    order = {Severity.GALAT.value: 0, Severity.PERINGATAN.value: 1}
    return sorted(groups.values(), key=lambda g: order.get(g.severity, 9))  # stable: tab order


def safe_value(issue: Issue) -> str:
    """The value as a digest may show it: `Issue.public_value`, masked again if it looks like an
    identity number (defence in depth: a NIK is never shown whole, even if mislabelled)."""
    text = issue.public_value
    if not issue.personal and _LONG_DIGITS.search(text):
        text = mask_personal(text)
    return text if len(text) <= 40 else text[:39] + "…"


def _kecamatan_key(name: str) -> str:
    key = normalize(name)
    return key.removeprefix("kecamatan").removeprefix("kec") or key


def _kecamatan_names(names: Iterable[str]) -> dict[str, str]:
    """Registry spellings of one kecamatan (`Kebon Jeruk`, `KEBON JERUK`) → the most common one."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for name in names:
        if name.strip():
            seen[normalize(name)][" ".join(name.split())] += 1
    return {key: spellings.most_common(1)[0][0] for key, spellings in seen.items()}


def _kecamatan_row(name: str, results: list[CoopResult], widest: int) -> KecamatanRow:
    counts = [sum(1 for r in results if r.zone.name == z) for z in ZONES]
    scale = round(100 * len(results) / widest) if widest else 100
    return KecamatanRow(
        name=name,
        jumlah=len(results),
        aktif=sum(1 for r in results if _is_active(r)),
        galat=sum(r.galat for r in results),
        bar=Bar(counts[0], counts[1], counts[2], scale_pct=max(scale, 1)),
    )


def _member_of(ids: set[str]) -> Callable[[CoopRow], bool]:
    return lambda row: row.id in ids


def _zone_counts(bar: Bar) -> dict[str, int]:
    return {"hijau": bar.hijau, "kuning": bar.kuning, "merah": bar.merah}


def _is_active(r: CoopResult) -> bool:
    return r.figures.readable and r.figures.status_operasional == "Aktif"


def _as_point(p: CityPoint | Sequence[Any]) -> CityPoint:
    day = p[0] if isinstance(p[0], date) else date.fromisoformat(str(p[0]))
    return CityPoint(day, int(p[1]), int(p[2]), int(p[3]), int(p[4]))


def _point_on(
    series: Sequence[CityPoint | Sequence[Any]] | None, day: date | None
) -> CityPoint | None:
    if not series or day is None:
        return None
    for p in series:
        point = _as_point(p)
        if point.day == day:
            return point
    return None


def _trend(
    series: Sequence[CityPoint | Sequence[Any]] | None,
    as_of: date,
    today: tuple[int, int, int, int],
) -> list[TrendBar]:
    points = {p.day: p for p in map(_as_point, series or ()) if p.day <= as_of}
    points[as_of] = CityPoint(as_of, *today)
    days = sorted(points)[-TREND_DAYS:]
    tallest = max((sum(points[d][2:5]) for d in days), default=0) or 1
    bars = []
    for d in days:
        p = points[d]
        counts = (p.hijau, p.kuning, p.merah)
        px = [max(1, round(TREND_HEIGHT_PX * n / tallest)) if n else 0 for n in counts]
        bars.append(TrendBar(d, p.aktif, px[0], px[1], px[2], counts))
    return bars


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


_ZONE_RANK = {HIJAU: 0, KUNING: 1, MERAH: 2}
_ZONE_RANK_DESC = {MERAH: 0, KUNING: 1, HIJAU: 2}
