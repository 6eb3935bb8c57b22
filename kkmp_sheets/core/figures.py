"""The figure catalogue: every figure an output shows, defined once.

Each `Figure` has a stable key, its Indonesian label (the contract's column names), an English
label for the `en` digests, a unit, a display format, how it is read for one cooperative (from
its `CoopFigures` and result) and how it rolls up to a kecamatan and the city. `measure` reads
every cooperative once, groups them by kecamatan (`core.kecamatan`), rolls each group and the
city up and works out the progress toward the target; the status workbook, the digests, Hasil
Pemeriksaan and the CLI summary all read that one `CityFigures` and compute nothing themselves.

The per-cooperative computations from the workbook (Anggota Aktif, Omset 30 Hari, …) are
`metrics.coop_figures`; `docs/figures.md` is generated from this catalogue (`figures_doc`) and
checked against it by a test.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Any, Protocol

from kkmp_sheets.core.kecamatan import Kecamatan, display_order, group_kecamatan
from kkmp_sheets.core.metrics import CoopFigures
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.tables import CellValue, Fmt
from kkmp_sheets.core.zoning import HIJAU, KUNING, MERAH, Zone

BELUM_DIISI, TIDAK_TERBACA = "Belum diisi", "Tidak terbaca"
YA, TIDAK = "Ya", "Tidak"


class Measured(Protocol):
    """What a figure reads of one cooperative (`core.report.CoopResult` is one)."""

    coop: Coop
    figures: CoopFigures
    zone: Zone

    @property
    def galat(self) -> int: ...
    @property
    def peringatan(self) -> int: ...


@dataclass(frozen=True)
class Window:
    """What a reading depends on besides the cooperative: the day D and the reporting window."""

    as_of: date
    reporting_window_days: int = 7


class Rollup(StrEnum):
    """How the cooperatives' values of a figure make a kecamatan's or the city's."""

    COUNT = "count"  # every cooperative counts 1
    COUNT_IF = "count_if"  # the cooperatives whose value is true
    SUM = "sum"  # the sum of the values
    SHARE = "share"  # the cooperatives whose value is true, as a share of Jumlah KKMP
    TARGET = "target"  # from the city's roll-up and the configured target (`target_progress`)
    NONE = "none"  # shown per cooperative only


ROLLUP_WORDS = {
    Rollup.COUNT: "number of cooperatives",
    Rollup.COUNT_IF: "number of cooperatives for which it holds",
    Rollup.SUM: "sum over the cooperatives",
    Rollup.SHARE: "cooperatives for which it holds ÷ Jumlah KKMP (blank when there are none)",
    Rollup.TARGET: "city only, from the city roll-up and `[city] target_*` (`target_progress`)",
    Rollup.NONE: "not rolled up (per cooperative only)",
}

Reader = Callable[[Measured, Window], Any]


@dataclass(frozen=True)
class Figure:
    key: str  # stable: a field of `Totals` / `Progress`, a column of the history store
    label: str  # Indonesian, as the contract names the column
    label_en: str
    unit: str
    fmt: Fmt
    rollup: Rollup
    definition: str  # for one cooperative (or, for TARGET, for the city), in the contract's words
    read: Reader | None = None  # the value for one cooperative (None for TARGET)
    _: KW_ONLY
    city_label: str = ""  # how Ringkasan names the city's total, when not `label`
    city_label_en: str = ""

    def label_for(self, language: str = "id", *, city: bool = False) -> str:
        if language == "en":
            return (self.city_label_en if city else "") or self.label_en
        return (self.city_label if city else "") or self.label

    @property
    def labels(self) -> tuple[str, ...]:
        """Every Indonesian name the figure is shown under."""
        return tuple(dict.fromkeys(x for x in (self.label, self.city_label) if x))

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Pickled by its key (its reader is a lambda): a catalogue figure sent to another
        process (the Laporan's drawing workers) is the same catalogue entry there."""
        return _catalogue_figure, (self.key,)


def _fig(name: str) -> Reader:
    return lambda r, w: getattr(r.figures, name)


def _is_active(r: Measured, w: Window) -> bool:
    return r.figures.readable and r.figures.status_operasional == "Aktif"


def _reported(r: Measured, w: Window) -> bool:
    moment = r.figures.data_diperbarui
    if not r.figures.readable or moment is None:
        return False
    return 0 <= (w.as_of - moment.date()).days < w.reporting_window_days


def _status(r: Measured, w: Window) -> str:
    if not r.figures.readable:
        return TIDAK_TERBACA
    return r.figures.status_operasional or BELUM_DIISI


def _in_zone(name: str) -> Reader:
    return lambda r, w: r.zone.name == name


def _siap(r: Measured, w: Window) -> str:
    return YA if r.figures.siap_pembiayaan else TIDAK


_WINDOW = "in (D−30, D]"
FIGURES: tuple[Figure, ...] = (
    Figure("jumlah", "Jumlah KKMP", "Cooperatives", "KKMP", Fmt.INT, Rollup.COUNT,
           "Every registry row, readable or not.", lambda r, w: 1),
    Figure("aktif", "KKMP Aktif", "Operating (Aktif)", "KKMP", Fmt.INT, Rollup.COUNT_IF,
           "The workbook was read and its Status Operasional is `Aktif`.", _is_active),
    Figure("hijau", "Hijau", "Green", "KKMP", Fmt.INT, Rollup.COUNT_IF,
           "Its Zona is Hijau.", _in_zone(HIJAU),
           city_label="Zona Hijau", city_label_en="Green zone"),
    Figure("kuning", "Kuning", "Yellow", "KKMP", Fmt.INT, Rollup.COUNT_IF,
           "Its Zona is Kuning.", _in_zone(KUNING),
           city_label="Zona Kuning", city_label_en="Yellow zone"),
    Figure("merah", "Merah", "Red", "KKMP", Fmt.INT, Rollup.COUNT_IF,
           "Its Zona is Merah.", _in_zone(MERAH),
           city_label="Zona Merah", city_label_en="Red zone"),
    Figure("zona", "Zona", "Zone", "zona", Fmt.ZONE, Rollup.NONE,
           "Merah, Kuning or Hijau by the zone rules (PRODUCT.md \"Zones\").",
           lambda r, w: r.zone.name),
    Figure("status_operasional", "Status Operasional", "Status Operasional", "teks", Fmt.TEXT,
           Rollup.NONE, f"The Profil's Status Operasional; `{BELUM_DIISI}` when empty, "
           f"`{TIDAK_TERBACA}` when the workbook could not be read.", _status),
    Figure("nib", "NIB", "NIB", "teks", Fmt.TEXT, Rollup.NONE,
           "`Ada` / `Tidak Ada` / `Salah Format` (typed but not 13 digits).", _fig("nib")),
    Figure("npwp", "NPWP", "NPWP", "teks", Fmt.TEXT, Rollup.NONE,
           "`Ada` / `Tidak Ada` / `Salah Format` (typed but not 15 or 16 digits).",
           _fig("npwp")),
    Figure("rekening", "Rekening", "Bank account", "teks", Fmt.TEXT, Rollup.NONE,
           "`Ada` when both Nama Bank and Nomor Rekening are filled in, else `Tidak Ada`.",
           _fig("rekening")),
    Figure("siap_pembiayaan", "Siap Pembiayaan", "Ready for financing", "teks", Fmt.TEXT,
           Rollup.NONE, "`Ya` when SK AHU, Nomor Induk Koperasi, NPWP, NIB and the bank account "
           "are all present and well-formed (PMK 49/2025), else `Tidak`.", _siap),
    Figure("anggota_aktif", "Anggota Aktif", "Active members", "anggota", Fmt.INT, Rollup.SUM,
           "Distinct No Anggota whose Status is not `Keluar` and Tanggal Masuk ≤ D (a missing "
           "or unreadable Tanggal Masuk still counts).", _fig("anggota_aktif")),
    Figure("anggota_baru", "Anggota Baru 30 Hari", "New members, last 30 days", "anggota",
           Fmt.INT, Rollup.SUM, f"Of the Anggota Aktif, those with Tanggal Masuk {_WINDOW}.",
           _fig("anggota_baru")),
    Figure("simpanan_pokok", "Simpanan Pokok", "Simpanan pokok (initial savings)", "Rp",
           Fmt.RUPIAH, Rollup.SUM, "Σ Jumlah of Simpanan rows with Jenis `Pokok`, Tanggal ≤ D.",
           _fig("simpanan_pokok")),
    Figure("simpanan_wajib", "Simpanan Wajib", "Simpanan wajib (monthly savings)", "Rp",
           Fmt.RUPIAH, Rollup.SUM, "Σ Jumlah of Simpanan rows with Jenis `Wajib`, Tanggal ≤ D.",
           _fig("simpanan_wajib")),
    Figure("simpanan_sukarela", "Simpanan Sukarela", "Simpanan sukarela (voluntary savings)",
           "Rp", Fmt.RUPIAH, Rollup.SUM,
           "Σ Jumlah of Simpanan rows with Jenis `Sukarela`, Tanggal ≤ D.",
           _fig("simpanan_sukarela")),
    Figure("nilai_stok", "Nilai Stok", "Stock value", "Rp", Fmt.RUPIAH, Rollup.SUM,
           "Σ Jumlah Stok × Harga Beli over Stok rows where both are valid.",
           _fig("nilai_stok")),
    Figure("omset", "Omset 30 Hari", "Sales, last 30 days", "Rp", Fmt.RUPIAH, Rollup.SUM,
           f"Σ line value over Penjualan rows with Tanggal {_WINDOW}; line value = Jumlah × "
           "Harga Satuan, or Total when either is unusable.", _fig("omset")),
    Figure("transaksi", "Transaksi 30 Hari", "Transactions, last 30 days", "transaksi",
           Fmt.INT, Rollup.SUM, f"Distinct No Nota with Tanggal {_WINDOW} (a row without No "
           "Nota counts alone).", _fig("transaksi")),
    Figure("transaksi_terakhir", "Transaksi Terakhir", "Last sale", "tanggal", Fmt.DATE,
           Rollup.NONE, "The latest Penjualan Tanggal ≤ D.", _fig("transaksi_terakhir")),
    Figure("galat", "Galat", "Errors", "masalah", Fmt.INT, Rollup.SUM,
           "Problems of level Galat in its Hasil Pemeriksaan.", lambda r, w: r.galat,
           city_label="Masalah Data (Galat)", city_label_en="Data problems (errors)"),
    Figure("peringatan", "Peringatan", "Warnings", "masalah", Fmt.INT, Rollup.SUM,
           "Problems of level Peringatan in its Hasil Pemeriksaan, but those staff acknowledged.",
           lambda r, w: r.peringatan,
           city_label="Masalah Data (Peringatan)",
           city_label_en="Data problems (warnings)"),
    Figure("data_diperbarui", "Data Diperbarui", "Data updated", "waktu (WIB)", Fmt.DATETIME,
           Rollup.NONE, "When its data tabs last changed (Drive's modification time, or the "
           "file's); never moved by the service's own write.", _fig("data_diperbarui")),
    Figure("kelengkapan", "Kelengkapan Laporan", "Reporting completeness", "%", Fmt.PERCENT,
           Rollup.SHARE, "The workbook was read and Data Diperbarui is within the reporting "
           "window (`[city] reporting_window_days`, default 7) before D.", _reported),
    Figure("wajib_bulanan", "Simpanan Wajib per Bulan", "Simpanan wajib per month", "Rp",
           Fmt.RUPIAH, Rollup.NONE, "The Profil's Simpanan Wajib per Bulan (Rp).",
           _fig("wajib_bulanan")),
    Figure("anggota_menunggak", "Anggota Menunggak", "Members in arrears", "anggota", Fmt.INT,
           Rollup.NONE, "Active members who paid less simpanan wajib than they owe by D "
           "(only when the Profil states the monthly amount).", _fig("anggota_menunggak")),
    Figure("tunggakan_wajib", "Tunggakan Simpanan Wajib", "Simpanan wajib in arrears", "Rp",
           Fmt.RUPIAH, Rollup.NONE, "What those members owe together.",
           _fig("tunggakan_wajib")),
    # Progress toward the target: the city's, from its roll-up (`target_progress`).
    Figure("target_share", "Target KKMP Aktif", "Target share operating", "%", Fmt.PERCENT,
           Rollup.TARGET, "`[city] target_active_share`."),
    Figure("capaian", "Capaian KKMP Aktif", "Share operating", "%", Fmt.PERCENT, Rollup.TARGET,
           "KKMP Aktif ÷ Jumlah KKMP (blank when there are none)."),
    Figure("target_count", "Target Jumlah KKMP Aktif", "Cooperatives targeted", "KKMP",
           Fmt.INT, Rollup.TARGET, "The smallest whole number of cooperatives that reaches "
           "the target share of Jumlah KKMP."),
    Figure("needed", "KKMP yang Masih Harus Aktif", "Still needed", "KKMP", Fmt.INT,
           Rollup.TARGET, "Target Jumlah KKMP Aktif − KKMP Aktif, never below 0."),
    Figure("target_date", "Batas Target", "Target date", "tanggal", Fmt.DATE, Rollup.TARGET,
           "`[city] target_date` (shown only when set)."),
    Figure("days_left", "Sisa Hari", "Days left", "hari", Fmt.INT, Rollup.TARGET,
           "Days from D to Batas Target, never below 0 (shown only when it is set)."),
)  # fmt: skip

BY_KEY: dict[str, Figure] = {f.key: f for f in FIGURES}


def _catalogue_figure(key: str) -> Figure:
    return BY_KEY[key]


ROLLED = tuple(f for f in FIGURES if f.rollup in (Rollup.COUNT, Rollup.COUNT_IF, Rollup.SUM))
SHARES = tuple(f for f in FIGURES if f.rollup is Rollup.SHARE)
PER_COOP = tuple(f for f in FIGURES if f.read is not None)

# --- which figures each output shows, in its order -----------------------------------------------

RINGKASAN = (
    "jumlah", "aktif", "hijau", "kuning", "merah", "anggota_aktif", "simpanan_pokok",
    "simpanan_wajib", "simpanan_sukarela", "omset", "nilai_stok", "kelengkapan", "galat",
    "peringatan",
)  # fmt: skip
KECAMATAN_TAB = (
    "jumlah", "aktif", "hijau", "kuning", "merah", "anggota_aktif", "anggota_baru",
    "simpanan_pokok", "simpanan_wajib", "simpanan_sukarela", "nilai_stok", "omset", "transaksi",
    "kelengkapan", "galat", "peringatan",
)  # fmt: skip
# Riwayat's columns. New ones go at the end: a Riwayat published before them is read back by
# its header labels (`report.riwayat_read_back`), and a column it lacks is blank.
RIWAYAT = (
    "jumlah", "aktif", "hijau", "kuning", "merah", "anggota_aktif", "simpanan_pokok",
    "simpanan_wajib", "simpanan_sukarela", "omset", "nilai_stok", "kelengkapan", "galat",
    "peringatan",
)  # fmt: skip
LAPORAN = (
    "jumlah", "aktif", "hijau", "kuning", "merah", "anggota_aktif", "omset", "kelengkapan",
    "galat", "peringatan",
)  # fmt: skip
PROGRESS = ("target_share", "capaian", "target_count", "needed", "target_date", "days_left")
COOP_DIGEST = (
    "status_operasional", "anggota_aktif", "anggota_baru", "simpanan_pokok", "simpanan_wajib",
    "simpanan_sukarela", "nilai_stok", "omset", "transaksi", "transaksi_terakhir",
    "data_diperbarui", "nib", "npwp", "rekening", "siap_pembiayaan",
)  # fmt: skip
ARREARS = ("wajib_bulanan", "anggota_menunggak", "tunggakan_wajib")
KECAMATAN_DIGEST = (
    "jumlah", "aktif", "anggota_aktif", "simpanan_pokok", "simpanan_wajib", "simpanan_sukarela",
    "omset", "nilai_stok", "kelengkapan", "galat", "peringatan",
)  # fmt: skip
KECAMATAN_DIGEST_COOP = (
    "anggota_aktif", "omset", "transaksi_terakhir", "data_diperbarui", "galat", "peringatan",
)  # fmt: skip
CLI_SUMMARY = (
    "jumlah", "aktif", "hijau", "kuning", "merah", "anggota_aktif", "omset", "galat", "peringatan",
)  # fmt: skip


def pick(keys: Iterable[str]) -> tuple[Figure, ...]:
    return tuple(BY_KEY[k] for k in keys)


# --- roll-ups ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Totals:
    """One group's figures — the city's or one kecamatan's — one field per rolled-up figure."""

    jumlah: int
    aktif: int
    hijau: int
    kuning: int
    merah: int
    anggota_aktif: int
    anggota_baru: int = 0
    simpanan_pokok: float
    simpanan_wajib: float
    simpanan_sukarela: float
    nilai_stok: float
    omset: float
    transaksi: int = 0
    kelengkapan: float | None
    galat: int
    peringatan: int

    def get(self, key: str) -> Any:
        return getattr(self, key)


def rollup(values: Iterable[Mapping[str, Any]]) -> Totals:
    """The roll-up of some cooperatives' values (`CityFigures.per_coop`), by each figure's rule."""
    rows = list(values)
    out: dict[str, Any] = {}
    for f in ROLLED:
        if f.rollup is Rollup.SUM:
            out[f.key] = sum(row[f.key] or 0 for row in rows)
        else:  # COUNT (each value is 1) and COUNT_IF (each value is a bool)
            out[f.key] = sum(1 for row in rows if row[f.key])
    for f in SHARES:
        out[f.key] = sum(1 for row in rows if row[f.key]) / len(rows) if rows else None
    return Totals(**out)


def rollup_totals(groups: Iterable[Totals]) -> Totals:
    """The roll-up of groups already rolled up (the kabupaten/kota of a province, the provinces
    of the nation), by each figure's rule: counts and sums add up; a share is weighted by each
    group's Jumlah KKMP, so that it equals the share over all their cooperatives."""
    groups = list(groups)
    out: dict[str, Any] = {f.key: sum(g.get(f.key) or 0 for g in groups) for f in ROLLED}
    jumlah = out["jumlah"]
    for f in SHARES:
        held = sum(round((g.get(f.key) or 0) * g.jumlah) for g in groups)
        out[f.key] = held / jumlah if jumlah else None
    return Totals(**out)


# --- the target ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    date: date | None
    share: float  # of Jumlah KKMP, 0–1


def target_count(share: float, jumlah: int) -> int:
    """The smallest whole number of cooperatives that reaches `share` of `jumlah`.

    Exact for the share as written in the config (`0.85` is 17/20, not the binary float just
    above or below it): 85 % of 10 is 8,5, so 9; 70 % of 10 is exactly 7.
    """
    exact = Fraction(str(share)) * jumlah
    return -(-exact.numerator // exact.denominator)  # ceiling


@dataclass(frozen=True)
class Progress:
    """Progress toward the target: the same numbers in Ringkasan, the city digest and the CLI."""

    aktif: int
    jumlah: int
    target_share: float
    target_count: int
    needed: int
    target_date: date | None
    days_left: int | None

    @property
    def capaian(self) -> float | None:
        return self.aktif / self.jumlah if self.jumlah else None

    @property
    def bar_pct(self) -> int:
        """How far toward the target count, 0–100."""
        if self.target_count <= 0:
            return 100
        return max(0, min(100, round(100 * self.aktif / self.target_count)))

    def get(self, key: str) -> Any:
        return getattr(self, key)

    @property
    def shown(self) -> tuple[Figure, ...]:
        """The PROGRESS figures to show: the date ones only when a target date is set."""
        dated = self.target_date is not None
        return tuple(
            f for f in pick(PROGRESS) if dated or f.key not in ("target_date", "days_left")
        )


def target_progress(city: Totals, target: Target, as_of: date) -> Progress:
    count = target_count(target.share, city.jumlah)
    days_left = max((target.date - as_of).days, 0) if target.date is not None else None
    return Progress(
        aktif=city.aktif,
        jumlah=city.jumlah,
        target_share=target.share,
        target_count=count,
        needed=max(count - city.aktif, 0),
        target_date=target.date,
        days_left=days_left,
    )


# --- one cycle's figures -------------------------------------------------------------------------


@dataclass(frozen=True)
class KecamatanFigures:
    kecamatan: Kecamatan
    totals: Totals
    coop_ids: tuple[str, ...]


@dataclass(frozen=True)
class CityFigures:
    """Every figure of one cycle, computed once: per cooperative, per kecamatan, for the city."""

    window: Window
    per_coop: Mapping[str, Mapping[str, Any]]  # coop id → figure key → value
    kecamatan_of: Mapping[str, Kecamatan]  # coop id → its kecamatan
    kecamatan: tuple[KecamatanFigures, ...]  # in display order
    city: Totals
    progress: Progress

    def coop(self, coop_id: str) -> Mapping[str, Any]:
        return self.per_coop[coop_id]

    def of_kecamatan(self, key: str) -> KecamatanFigures:
        """The group with this `Kecamatan.key`."""
        for group in self.kecamatan:
            if group.kecamatan.key == key:
                return group
        raise KeyError(key)


def coop_values(result: Measured, window: Window) -> dict[str, Any]:
    """Every per-cooperative figure of one cooperative, by key."""
    return {f.key: f.read(result, window) for f in PER_COOP if f.read is not None}


def measure(
    results: Iterable[Measured],
    *,
    as_of: date,
    reporting_window_days: int = 7,
    target: Target = Target(None, 1.0),
) -> CityFigures:
    results = list(results)
    window = Window(as_of, reporting_window_days)
    per_coop = {r.coop.id: coop_values(r, window) for r in results}
    kecamatan_of = group_kecamatan(r.coop for r in results)
    members: dict[str, list[str]] = defaultdict(list)
    for r in results:
        members[kecamatan_of[r.coop.id].key].append(r.coop.id)
    kecamatan = tuple(
        KecamatanFigures(k, rollup(per_coop[i] for i in members[k.key]), tuple(members[k.key]))
        for k in display_order(kecamatan_of.values())
    )
    city = rollup(per_coop.values())
    return CityFigures(
        window, per_coop, kecamatan_of, kecamatan, city, target_progress(city, target, as_of)
    )


def cell_value(value: Any) -> CellValue:
    """A figure's value as a status-workbook cell: booleans as Ya/Tidak, times without zone."""
    if isinstance(value, bool):
        return YA if value else TIDAK
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


# --- week on week --------------------------------------------------------------------------------

WEEK_DAYS = 7
WEEK_ON_WEEK_LABEL = "Perubahan 7 Hari"
WEEK_ON_WEEK_LABEL_EN = "Change over 7 days"
WEEK_ON_WEEK_DEFINITION = (
    f"For each figure of Ringkasan: its value on D minus its value recorded for the day exactly "
    f"{WEEK_DAYS} days before D (D−{WEEK_DAYS}), from the city's recorded days (the history "
    "store, and the Riwayat rows already published that the store does not have). Blank — not "
    f"0 — when no value was recorded for D−{WEEK_DAYS} (the first week, a day the service did "
    "not run, or a Riwayat written before the figure had a column); a nearer or farther day "
    "never stands in for it, so the change always spans one week. A share (Kelengkapan "
    "Laporan) changes by the difference of the two shares, in percentage points; amounts in "
    "rupiah by the difference in rupiah. Shown in the figure's own format with its sign "
    "(`+47`, `-Rp117.460.000`, `0`)."
)


def week_ago(as_of: date) -> date:
    """The day whose recorded value a week-on-week change compares with."""
    return as_of - timedelta(days=WEEK_DAYS)


def week_on_week(now: Any, then: Any) -> Any:
    """The change of one figure over the week: `now − then`, None when either is unknown."""
    if now is None or then is None or isinstance(now, bool) or isinstance(then, bool):
        return None
    if not isinstance(now, int | float) or not isinstance(then, int | float):
        return None
    return now - then
