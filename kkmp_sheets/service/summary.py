"""The summary of one cycle that `run`, `demo` and the Google demo print (in Indonesian)."""

from __future__ import annotations

from typing import TextIO

from kkmp_sheets.core import formats


def print_summary(cycle, out: TextIO) -> None:  # cycle: CycleResult
    s = cycle.summary
    rows = [
        ("Tanggal data", formats.format_date(cycle.as_of)),
        ("Jumlah KKMP", formats.format_number(s.jumlah)),
        ("KKMP Aktif", formats.format_number(s.aktif)),
        ("Zona Hijau / Kuning / Merah", f"{s.hijau} / {s.kuning} / {s.merah}"),
        ("Tidak terbaca", formats.format_number(len(cycle.unreadable))),
        ("Anggota Aktif", formats.format_number(s.anggota_aktif)),
        ("Omset 30 Hari", formats.format_rupiah(s.omset)),
        ("Masalah data", f"{s.galat} galat, {s.peringatan} peringatan"),
        (
            "Hasil Pemeriksaan ditulis",
            f"{cycle.feedback_written} (tidak berubah {cycle.feedback_unchanged}, "
            f"gagal {len(cycle.feedback_failed)})",
        ),
        ("Waktu", f"{cycle.seconds:.1f} detik"),
        ("Status kota", cycle.output),
    ]
    width = max(len(label) for label, _ in rows)
    out.write("\n".join(f"{label:<{width}}  {value}" for label, value in rows) + "\n")
    notified = getattr(cycle, "notified", None)
    if notified is not None and notified.report is not None:
        r = notified.report
        out.write(
            f"{'Email':<{width}}  {len(notified.digests)} digest; terkirim {r.sent}, "
            f"sudah terkirim {r.skipped_already_sent}, antre {r.queued_for_retry}, "
            f"gagal {r.failed_permanent}, tidak pasti {r.uncertain}\n"
        )
    for coop_id, error in cycle.feedback_failed:
        out.write(f"  ! {coop_id}: Hasil Pemeriksaan tidak ditulis: {error}\n")
