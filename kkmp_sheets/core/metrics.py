"""The figures of one cooperative, exactly as PRODUCT.md "Figures, defined" states them.

From its typed tables, in plain Python so that the definitions read like the contract. How each
figure is labelled, shown and rolled up to kecamatan and city is the catalogue's
(`core/figures.py`). Pure: no I/O, no clock; `as_of` is the day D in Asia/Jakarta.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from kkmp_sheets.core import formats
from kkmp_sheets.core.parse import ParsedWorkbook
from kkmp_sheets.core.template import ANGGOTA, PENJUALAN, SIMPANAN, STOK, WAJIB_DUE_DAY

ADA, TIDAK_ADA, SALAH_FORMAT = "Ada", "Tidak Ada", "Salah Format"
NO_UNIT = "unit"  # the unit of a Stok row without Satuan (Pasokan keeps it on a row of its own)


@dataclass
class CoopFigures:
    readable: bool = True
    status_operasional: str | None = None
    nib: str = TIDAK_ADA
    npwp: str = TIDAK_ADA
    rekening: str = TIDAK_ADA
    siap_pembiayaan: bool = False
    anggota_aktif: int = 0
    anggota_baru: int = 0
    simpanan_pokok: float = 0.0
    simpanan_wajib: float = 0.0
    simpanan_sukarela: float = 0.0
    nilai_stok: float = 0.0
    omset: float = 0.0
    transaksi: int = 0
    transaksi_terakhir: date | None = None
    data_diperbarui: datetime | None = None
    # Simpanan wajib arrears (only when the Profil states the monthly amount): how many active
    # members paid less than `months_due` × the monthly amount, and the sum they owe.
    wajib_bulanan: float | None = None
    anggota_menunggak: int = 0
    tunggakan_wajib: float = 0.0
    # (kategori, base unit) → [quantity in base unit, value in Rp, below-minimum item count]
    pasokan: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    # The Profil's Titik Lokasi (not personal: where the cooperative is), for the map.
    lintang: float | None = None
    bujur: float | None = None
    lokasi_tab: str | None = None  # where the user sees it: the Profil tab as named, and its row
    lokasi_row: int | None = None
    # The Profil's Telepon Ketua (E.164), only as the address of the weekly WhatsApp nudge:
    # never shown in an output, a text or a log.
    telepon_ketua: str | None = None

    @property
    def titik_lokasi(self) -> tuple[float, float] | None:
        if self.lintang is None or self.bujur is None:
            return None
        return self.lintang, self.bujur


def coop_figures(
    book: ParsedWorkbook,
    as_of: date,
    *,
    window_days: int = 30,
    modified: datetime | None = None,
    wajib_due_day: int = WAJIB_DUE_DAY,
) -> CoopFigures:
    """Figures of one readable cooperative as of D. `wajib_due_day`: the day of the month from
    which that month's simpanan wajib is owed (`[simpanan] due_day`)."""
    window_start = as_of - timedelta(days=window_days)  # the window is (D−30, D]
    fig = CoopFigures(data_diperbarui=modified)
    _profil_figures(book, fig)

    active: set[str] = set()
    joined_on: dict[str, date | None] = {}
    if (anggota := book.tables.get(ANGGOTA.name)) is not None:
        new: set[str] = set()
        for rec in anggota.records:
            member_id = rec["no_anggota"]
            if not member_id or rec["status"] == "Keluar":
                continue
            joined = rec["tanggal_masuk"]
            if joined is not None and joined > as_of:
                continue
            # A missing or unreadable Tanggal Masuk still counts (and is reported by parse).
            active.add(member_id)
            joined_on.setdefault(member_id, joined)
            if joined is not None and window_start < joined <= as_of:
                new.add(member_id)
        fig.anggota_aktif, fig.anggota_baru = len(active), len(new)

    wajib_paid: dict[str, float] = defaultdict(float)
    if (simpanan := book.tables.get(SIMPANAN.name)) is not None:
        sums = {"Pokok": 0.0, "Wajib": 0.0, "Sukarela": 0.0}
        for rec in simpanan.records:
            day, kind, amount = rec["tanggal"], rec["jenis"], rec["jumlah"]
            # A negative amount is a Galat: certainly wrong, so no figure uses it.
            if day is None or kind is None or amount is None or amount < 0 or day > as_of:
                continue
            sums[kind] += amount
            if kind == "Wajib" and rec["no_anggota"]:
                wajib_paid[rec["no_anggota"]] += amount
        fig.simpanan_pokok, fig.simpanan_wajib, fig.simpanan_sukarela = (
            sums["Pokok"],
            sums["Wajib"],
            sums["Sukarela"],
        )
        monthly = book.profil.values.get("simpanan_wajib_bulanan")
        if monthly and monthly > 0:
            fig.wajib_bulanan = monthly
            _wajib_arrears(fig, monthly, joined_on, wajib_paid, as_of, wajib_due_day)

    if (stok := book.tables.get(STOK.name)) is not None:
        for rec in stok.records:
            qty, cost = rec["jumlah_stok"], rec["harga_beli"]
            if qty is not None and cost is not None and qty >= 0 and cost >= 0:
                fig.nilai_stok += qty * cost
            if qty is not None and qty >= 0:
                category = rec["kategori"] or "Lainnya"
                factor, unit = base_unit(rec["satuan"], rec["nama_barang"])
                slot = fig.pasokan.setdefault((category, unit), [0.0, 0.0, 0.0])
                slot[0] += qty * factor
                # the same rows as Nilai Stok, so Pasokan's values add up to it
                slot[1] += qty * cost if cost is not None and cost >= 0 else 0.0
                minimum = rec["stok_minimum"]
                if minimum is not None and qty < minimum:
                    slot[2] += 1

    if (penjualan := book.tables.get(PENJUALAN.name)) is not None:
        notas: set[str] = set()
        lone = 0
        for rec in penjualan.records:
            day = rec["tanggal"]
            if day is None or day > as_of:
                continue
            if fig.transaksi_terakhir is None or day > fig.transaksi_terakhir:
                fig.transaksi_terakhir = day
            if not window_start < day <= as_of:
                continue
            fig.omset += line_value(rec["jumlah"], rec["harga_satuan"], rec["total"])
            if rec["no_nota"]:
                notas.add(rec["no_nota"])
            else:
                lone += 1  # a row without No Nota counts as a transaction of its own
        fig.transaksi = len(notas) + lone
    return fig


def _wajib_arrears(
    fig: CoopFigures,
    monthly: float,
    joined_on: dict[str, date | None],
    paid: dict[str, float],
    as_of: date,
    due_day: int,
) -> None:
    """Members who paid less simpanan wajib than the months due so far require.

    Payments are compared as one running total (every Wajib payment up to D), so a partial
    payment carries forward and an overpayment counts toward later months."""
    for member_id, joined in joined_on.items():
        if joined is None:
            continue
        owed = monthly * months_due(joined, as_of, due_day) - paid.get(member_id, 0.0)
        if owed > 0.5:  # rounding, not arrears
            fig.anggota_menunggak += 1
            fig.tunggakan_wajib += owed


def months_due(joined: date, as_of: date, due_day: int = WAJIB_DUE_DAY) -> int:
    """Monthly dues owed as of D by a member who joined on `joined` (docs/simpanan.md).

    One for each month from the month of joining through the month before D; D's own month
    only once D has reached its due day. So on 1 February nobody owes February yet."""
    if joined > as_of:
        return 0
    before = (as_of.year - joined.year) * 12 + (as_of.month - joined.month)
    return before + (1 if as_of.day >= due_day else 0)


def line_value(qty: float | None, price: float | None, total: float | None) -> float:
    """Jumlah × Harga Satuan; when either is unusable, Total; else nothing."""
    if qty is not None and price is not None and qty >= 0 and price >= 0:
        return qty * price
    return total if total is not None and total >= 0 else 0.0


def _profil_figures(book: ParsedWorkbook, fig: CoopFigures) -> None:
    profil = book.profil
    values = profil.values

    def state(key: str) -> str:
        # Typed but unreadable (e.g. a 12-digit NIB) is "Salah Format"; blank is "Tidak Ada".
        if values.get(key) is not None:
            return ADA
        return SALAH_FORMAT if not formats.is_blank(profil.raw.get(key)) else TIDAK_ADA

    fig.status_operasional = values.get("status_operasional")
    fig.telepon_ketua = values.get("telepon_ketua")
    point = values.get("titik_lokasi")
    if point is not None:
        fig.lintang, fig.bujur = point
        fig.lokasi_tab, fig.lokasi_row = profil.tab, profil.rows.get("titik_lokasi")
    fig.nib = state("nib")
    fig.npwp = state("npwp")
    bank, account = values.get("nama_bank"), values.get("nomor_rekening")
    fig.rekening = ADA if bank and account else TIDAK_ADA
    fig.siap_pembiayaan = (
        state("nomor_sk_ahu") == ADA
        and state("nomor_induk_koperasi") == ADA
        and fig.npwp == ADA
        and fig.nib == ADA
        and fig.rekening == ADA
    )


# --- units for Pasokan --------------------------------------------------------------------------

_QTY_UNIT = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(kg|kilo|gr|gram|g|liter|ltr|lt|l|ml)\b", re.IGNORECASE
)
_UNIT_NAMES = {
    "kg": ("kg", 1.0),
    "kilo": ("kg", 1.0),
    "kilogram": ("kg", 1.0),
    "gr": ("kg", 0.001),
    "gram": ("kg", 0.001),
    "g": ("kg", 0.001),
    "liter": ("liter", 1.0),
    "ltr": ("liter", 1.0),
    "lt": ("liter", 1.0),
    "l": ("liter", 1.0),
    "ml": ("liter", 0.001),
}


def base_unit(satuan: str | None, nama: str | None) -> tuple[float, str]:
    """How many base units (kg, liter, ...) one `satuan` holds: `karung 5 kg` → (5, "kg").

    Supply planners think in kg of rice and litres of oil, not in sacks of varied size; a unit
    we cannot convert is kept as written (lower-case), so nothing is silently mixed.
    """
    text = (satuan or "").strip().lower()
    if text in _UNIT_NAMES:
        unit, factor = _UNIT_NAMES[text]
        return factor, unit
    for source in (text, (nama or "").lower()):
        match = _QTY_UNIT.search(source)
        if match:
            unit, factor = _UNIT_NAMES[match.group(2).lower()]
            return float(match.group(1).replace(",", ".")) * factor, unit
    return 1.0, text or NO_UNIT
