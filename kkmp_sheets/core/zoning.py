"""Merah / Kuning / Hijau, with every reason in words (PRODUCT.md "Zones").

Merah: not operating (Status Operasional is not Aktif), no sale in the last N days, the sheet
could not be read, or not updated for N days. Kuning: operating but papers (NIB, NPWP, bank
account) missing or malformed, too few active members, any Galat, or not updated recently.
Hijau: everything else. Every threshold comes from the config (`ZoneRules`).

Alasan Zona lists *all* reasons that apply, Merah ones first, so that an official sees
everything standing between a cooperative and Hijau at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from kkmp_sheets.core.metrics import ADA, SALAH_FORMAT, CoopFigures

MERAH, KUNING, HIJAU = "Merah", "Kuning", "Hijau"


@dataclass(frozen=True)
class ZoneRules:
    """The thresholds of the zones (`[zones]` in the config, which builds this)."""

    min_active_members: int = 100
    red_no_sale_days: int = 30
    red_stale_days: int = 30
    yellow_stale_days: int = 14


@dataclass(frozen=True)
class Zone:
    name: str
    reasons: tuple[str, ...]

    @property
    def text(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "Semua syarat terpenuhi"


def days_since(moment: datetime | date | None, as_of: date) -> int | None:
    if moment is None:
        return None
    day = moment.date() if isinstance(moment, datetime) else moment
    return (as_of - day).days


def zone(fig: CoopFigures, galat: int, as_of: date, rules: ZoneRules) -> Zone:
    red: list[str] = []
    yellow: list[str] = []
    if not fig.readable:
        return Zone(MERAH, ("Spreadsheet tidak bisa dibaca",))

    status = fig.status_operasional
    if status != "Aktif":
        red.append(f"Status Operasional {status}" if status else "Status Operasional belum diisi")
    last_sale = days_since(fig.transaksi_terakhir, as_of)
    if last_sale is None:
        red.append("Belum ada penjualan tercatat")
    elif last_sale >= rules.red_no_sale_days:
        red.append(
            f"Tidak ada penjualan {rules.red_no_sale_days} hari terakhir (terakhir {last_sale} hari lalu)"
        )
    stale = days_since(fig.data_diperbarui, as_of)
    if stale is not None and stale >= rules.red_stale_days:
        red.append(f"Data tidak diperbarui {stale} hari")
    elif stale is not None and stale >= rules.yellow_stale_days:
        yellow.append(f"Data tidak diperbarui {stale} hari")

    for label, state in (("NIB", fig.nib), ("NPWP", fig.npwp), ("Rekening bank", fig.rekening)):
        if state != ADA:
            yellow.append(f"{label} {'salah format' if state == SALAH_FORMAT else 'belum ada'}")
    if fig.anggota_aktif < rules.min_active_members:
        yellow.append(f"Anggota aktif {fig.anggota_aktif} (< {rules.min_active_members})")
    if galat:
        yellow.append(f"{galat} galat data")

    if red:
        return Zone(MERAH, tuple(red + yellow))
    if yellow:
        return Zone(KUNING, tuple(yellow))
    return Zone(HIJAU, ())
