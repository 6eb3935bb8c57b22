"""The summary `run --once` and the demo print after a cycle: the city's main figures, then what
the cycle did (unreadable workbooks, Hasil Pemeriksaan written, time, where the status went).

The figures, their labels and their formats are the catalogue's (`core.figures`), read from the
cycle's one measurement, so that the terminal says what Ringkasan and the city digest say.
"""

from __future__ import annotations

import os
from typing import TextIO

from kkmp_sheets.core import formats
from kkmp_sheets.core.figures import BY_KEY, CLI_SUMMARY, measure, pick
from kkmp_sheets.core.results import CycleResult
from kkmp_sheets.delivery.locale import LOCALES


def summary_lines(cycle: CycleResult) -> list[tuple[str, str]]:
    """(label, value) lines of the summary, in Indonesian."""
    # A cycle made without its figures (a tool, a test) is measured here; its target is not
    # known then, so the progress line is left out rather than shown against the default.
    figures = cycle.figures or measure(cycle.results, as_of=cycle.as_of)
    show = LOCALES["id"]
    n = formats.format_number  # Indonesian: 1.234 and 4,9
    rows = [("Tanggal data", formats.format_date(cycle.as_of))]
    rows += [(r.label, r.text) for r in show.rows(pick(CLI_SUMMARY), figures.city.get, city=True)]
    if cycle.figures is not None:
        needed = BY_KEY["needed"]
        rows.append((needed.label, show.show(needed.fmt, figures.progress.needed)))
    rows += [
        ("Tidak terbaca", formats.format_number(len(cycle.unreadable))),
        (
            "Hasil Pemeriksaan ditulis",
            f"{n(cycle.feedback_written)} (tidak berubah {n(cycle.feedback_unchanged)}, "
            f"gagal {n(len(cycle.feedback_failed))})",
        ),
        ("Waktu", f"{n(cycle.seconds, 1)} detik"),
        ("Status kota", cycle.output),
    ]
    if cycle.reports:
        folder = os.path.dirname(next(iter(cycle.reports.values())))
        made = f"{n(len(cycle.reports))} PDF di {folder}"
        # some pages drawn, some not: both said
        rows.append(
            ("Laporan Pimpinan", f"{made}; {cycle.reports_note}" if cycle.reports_note else made)
        )
    elif cycle.reports_note:
        rows.append(("Laporan Pimpinan", cycle.reports_note))
    return rows


def print_summary(cycle: CycleResult, out: TextIO) -> None:
    rows = summary_lines(cycle)
    n = formats.format_number
    width = max(len(label) for label, _ in rows)
    out.write("\n".join(f"{label:<{width}}  {value}" for label, value in rows) + "\n")
    notified = cycle.notified
    if notified is not None and notified.report is not None:
        r = notified.report
        out.write(
            f"{'Email':<{width}}  {n(len(notified.digests))} digest; terkirim {n(r.sent)}, "
            f"sudah terkirim {n(r.skipped_already_sent)}, antre {n(r.queued_for_retry)}, "
            f"gagal {n(r.failed_permanent)}, tidak pasti {n(r.uncertain)}\n"
        )
    channels = getattr(notified, "channel_report", None)
    if channels is not None:
        c = channels
        out.write(
            f"{'WhatsApp/Telegram':<{width}}  terkirim {n(c.sent)}, sudah terkirim "
            f"{n(c.skipped_already_sent)}, menunggu jam tenang {n(c.waiting_quiet_hours)}, "
            f"antre {n(c.queued_for_retry + c.waiting_retry_after + c.held_back)}, "
            f"gagal {n(c.failed_permanent)}, tidak pasti {n(c.uncertain)}, "
            f"dibisukan {n(c.muted)}\n"
        )
    for coop_id, error in cycle.feedback_failed:
        out.write(f"  ! {coop_id}: Hasil Pemeriksaan tidak ditulis: {error}\n")
