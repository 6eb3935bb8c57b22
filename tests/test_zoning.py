from datetime import date, datetime

import pytest

from kkmp_sheets.core.metrics import CoopFigures
from kkmp_sheets.core.zoning import ZoneRules, zone

AS_OF = date(2026, 1, 29)


def healthy(**changes) -> CoopFigures:
    fig = CoopFigures(
        status_operasional="Aktif",
        nib="Ada",
        npwp="Ada",
        rekening="Ada",
        anggota_aktif=150,
        transaksi_terakhir=date(2026, 1, 28),
        data_diperbarui=datetime(2026, 1, 28, 10),
    )
    for key, value in changes.items():
        setattr(fig, key, value)
    return fig


@pytest.mark.parametrize(
    ("changes", "galat", "name", "reason_words"),
    [
        ({}, 0, "Hijau", []),
        ({"readable": False}, 0, "Merah", ["tidak bisa dibaca"]),
        ({"status_operasional": "Persiapan"}, 0, "Merah", ["Persiapan"]),
        ({"status_operasional": None}, 0, "Merah", ["belum diisi"]),
        ({"transaksi_terakhir": date(2025, 12, 30)}, 0, "Merah", ["penjualan 30 hari"]),
        ({"transaksi_terakhir": date(2025, 12, 31)}, 0, "Hijau", []),
        ({"transaksi_terakhir": None}, 0, "Merah", ["Belum ada penjualan"]),
        ({"data_diperbarui": datetime(2025, 12, 30, 8)}, 0, "Merah", ["tidak diperbarui 30 hari"]),
        ({"data_diperbarui": datetime(2026, 1, 15, 8)}, 0, "Kuning", ["tidak diperbarui 14 hari"]),
        ({"data_diperbarui": datetime(2026, 1, 16, 8)}, 0, "Hijau", []),
        ({"nib": "Salah Format"}, 0, "Kuning", ["NIB salah format"]),
        (
            {"npwp": "Tidak Ada", "rekening": "Tidak Ada"},
            0,
            "Kuning",
            ["NPWP belum ada", "Rekening bank belum ada"],
        ),
        ({"anggota_aktif": 99}, 0, "Kuning", ["Anggota aktif 99"]),
        ({}, 3, "Kuning", ["3 galat"]),
        (
            {"status_operasional": "Berhenti", "anggota_aktif": 10},
            1,
            "Merah",
            ["Berhenti", "Anggota aktif 10", "1 galat"],
        ),
    ],
)
def test_zones_and_every_reason(changes, galat, name, reason_words):
    result = zone(healthy(**changes), galat, AS_OF, ZoneRules())
    assert result.name == name
    for words in reason_words:
        assert words in result.text
    assert len(result.reasons) == len(reason_words) or name == "Merah"


def test_thresholds_come_from_config():
    rules = ZoneRules(
        min_active_members=20, red_no_sale_days=7, red_stale_days=60, yellow_stale_days=40
    )
    assert zone(healthy(anggota_aktif=25), 0, AS_OF, rules).name == "Hijau"
    assert zone(healthy(transaksi_terakhir=date(2026, 1, 20)), 0, AS_OF, rules).name == "Merah"
