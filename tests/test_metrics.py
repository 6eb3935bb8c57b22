from datetime import date, datetime

import pytest

from kkmp_sheets.core.metrics import base_unit, coop_figures, months_due
from kkmp_sheets.core.parse import parse_workbook
from tests.conftest import AS_OF, PROFIL_ROWS, make_book, member


def figures(**tabs):
    return coop_figures(parse_workbook(make_book(**tabs)), AS_OF)


def test_active_members_count_distinct_ids_not_left_and_joined_by_d():
    fig = figures(
        anggota=[
            member("A-001", 1, joined="01/12/2025"),
            member("A-002", 2, joined="15/01/2026"),  # new: in (D-30, D]
            member("A-003", 3, joined="30/12/2025"),  # exactly D-30: not new
            member("A-004", 4, joined="01/02/2026"),  # after D: not yet a member
            member("A-005", 5, status="Keluar"),
            member("A-006", 6, joined="tanggal?"),  # unreadable Tanggal Masuk still counts
            member("A-001", 7),  # duplicate id counts once
        ]
    )
    assert fig.anggota_aktif == 4
    assert fig.anggota_baru == 1


def test_savings_sum_by_kind_up_to_d_and_skip_negative():
    fig = figures(
        anggota=[member("A-001", 1)],
        simpanan=[
            ["01/12/2025", "A-001", "Pokok", "Rp 100.000"],
            ["01/01/2026", "A-001", "Wajib", "10rb"],
            ["29/01/2026", "A-001", "Sukarela", "1,5 jt"],
            ["30/01/2026", "A-001", "Wajib", 10000],
            ["02/01/2026", "A-001", "Wajib", -5000],
        ],
    )
    assert (fig.simpanan_pokok, fig.simpanan_wajib, fig.simpanan_sukarela) == (
        100000,
        10000,
        1500000,
    )


def test_wajib_arrears_use_the_profil_monthly_amount():
    # Joined December, as-of January: two months due of Rp10.000, one paid.
    fig = figures(
        anggota=[member("A-001", 1, joined="01/12/2025"), member("A-002", 2, joined="01/12/2025")],
        simpanan=[
            ["01/12/2025", "A-001", "Wajib", 10000],
            ["01/01/2026", "A-001", "Wajib", 10000],
            ["01/12/2025", "A-002", "Wajib", 10000],
        ],
    )
    assert fig.wajib_bulanan == 10000
    assert (fig.anggota_menunggak, fig.tunggakan_wajib) == (1, 10000)


@pytest.mark.parametrize(
    ("joined", "as_of", "due_day", "months"),
    [
        # D's own month is owed only from its due day: on 1 February nobody owes February yet.
        (date(2026, 1, 5), date(2026, 2, 1), 10, 1),
        (date(2026, 1, 5), date(2026, 2, 9), 10, 1),
        (date(2026, 1, 5), date(2026, 2, 10), 10, 2),
        (date(2026, 1, 5), date(2026, 2, 28), 10, 2),
        # Joined on 31 December, as of 9 January: December is owed, January not yet.
        (date(2025, 12, 31), date(2026, 1, 9), 10, 1),
        (date(2025, 12, 31), date(2026, 1, 10), 10, 2),
        # Year boundary: November and December 2025, and January 2026 from its due day.
        (date(2025, 11, 20), date(2026, 1, 9), 10, 2),
        (date(2025, 11, 20), date(2026, 1, 31), 10, 3),
        # Joined in D's month: that month is owed from the due day (the month of joining counts).
        (date(2026, 1, 2), date(2026, 1, 9), 10, 0),
        (date(2026, 1, 2), date(2026, 1, 10), 10, 1),
        (date(2026, 1, 31), date(2026, 1, 29), 10, 0),  # not a member yet
        # due_day 1: D's month is owed from its first day; due_day 28: from the 28th.
        (date(2026, 1, 5), date(2026, 2, 1), 1, 2),
        (date(2026, 1, 5), date(2026, 2, 27), 28, 1),
        (date(2026, 1, 5), date(2026, 2, 28), 28, 2),
        (date(2024, 12, 1), date(2026, 1, 1), 1, 14),
        (date(2024, 12, 1), date(2025, 12, 31), 28, 13),
    ],
)
def test_months_due(joined, as_of, due_day, months):
    assert months_due(joined, as_of, due_day) == months


def arrears(as_of, paid, *, joined="05/01/2026", due_day=10):
    """(members in arrears, sum owed) of one member paying Rp10.000 a month."""
    fig = coop_figures(
        parse_workbook(
            make_book(
                anggota=[member("A-001", 1, joined=joined)],
                simpanan=[[day, "A-001", "Wajib", amount] for day, amount in paid],
            )
        ),
        as_of,
        wajib_due_day=due_day,
    )
    return fig.anggota_menunggak, fig.tunggakan_wajib


def test_wajib_owed_for_the_month_of_d_only_from_its_due_day():
    january_paid = [("07/01/2026", 10000)]
    assert arrears(date(2026, 2, 1), january_paid) == (0, 0)
    assert arrears(date(2026, 2, 9), january_paid) == (0, 0)
    assert arrears(date(2026, 2, 10), january_paid) == (1, 10000)
    assert arrears(date(2026, 2, 1), january_paid, due_day=1) == (1, 10000)
    assert arrears(date(2026, 2, 27), january_paid, due_day=28) == (0, 0)
    assert arrears(date(2026, 2, 28), january_paid, due_day=28) == (1, 10000)


def test_wajib_member_joining_on_31_december_owes_december_on_9_january():
    assert arrears(date(2026, 1, 9), [], joined="31/12/2025") == (1, 10000)
    assert arrears(date(2026, 1, 9), [("31/12/2025", 10000)], joined="31/12/2025") == (0, 0)
    assert arrears(date(2026, 1, 10), [("31/12/2025", 10000)], joined="31/12/2025") == (1, 10000)


def test_wajib_across_the_year_boundary():
    paid = [("15/11/2025", 10000), ("15/12/2025", 10000)]
    assert arrears(date(2026, 1, 9), paid, joined="10/11/2025") == (0, 0)
    assert arrears(date(2026, 1, 10), paid, joined="10/11/2025") == (1, 10000)
    # A payment dated after D does not count yet.
    late = [*paid, ("12/01/2026", 10000)]
    assert arrears(date(2026, 1, 11), late, joined="10/11/2025") == (1, 10000)
    assert arrears(date(2026, 1, 12), late, joined="10/11/2025") == (0, 0)


def test_wajib_partial_payment_carries_forward():
    # January paid in two halves, the second one in February: whole by then.
    halves = [("07/01/2026", 5000), ("03/02/2026", 5000)]
    assert arrears(date(2026, 1, 20), halves[:1]) == (1, 5000)
    assert arrears(date(2026, 2, 5), halves) == (0, 0)
    # Only Rp7.500 of January and February's Rp20.000: Rp12.500 owed.
    assert arrears(date(2026, 2, 10), [("07/01/2026", 7500)]) == (1, 12500)


def test_wajib_overpayment_covers_later_months():
    # Three months paid at once in January: nothing owed through March, April owed from its 10th.
    ahead = [("07/01/2026", 30000)]
    assert arrears(date(2026, 3, 31), ahead) == (0, 0)
    assert arrears(date(2026, 4, 9), ahead) == (0, 0)
    assert arrears(date(2026, 4, 10), ahead) == (1, 10000)


def test_stock_value_only_where_quantity_and_cost_are_valid():
    fig = figures(
        stok=[
            ["B01", "Beras SPHP 5 kg", "Beras", "karung 5 kg", 10, 62500],
            ["B02", "Minyakita 1 L", "Minyak Goreng", "botol 1 L", 24, None],
            ["B03", "Gula", "Gula", "kg", -2, 16000],
        ]
    )
    assert fig.nilai_stok == 625000
    assert fig.pasokan[("Beras", "kg")][0] == 50
    assert fig.pasokan[("Minyak Goreng", "liter")][0] == 24


def test_sales_window_line_value_and_transactions():
    fig = figures(
        stok=[["B01", "Gula", "Gula", "kg", 10, 16000]],
        penjualan=[
            ["29/01/2026", "N-1", "B01", 2, 17500, 35000],
            ["29/01/2026", "N-1", "B01", 1, 17500, None],
            ["15/01/2026", "", "B01", None, 17500, 35000],  # Jumlah unusable → Total
            ["15/01/2026", "", "B01", 1, 17500, None],  # no nota: a transaction of its own
            ["30/12/2025", "N-0", "B01", 1, 17500, None],  # exactly D-30: outside the window
            ["05/02/2026", "N-9", "B01", 1, 17500, None],  # after D
        ],
    )
    assert fig.omset == 35000 + 17500 + 35000 + 17500
    assert fig.transaksi == 3
    assert fig.transaksi_terakhir == date(2026, 1, 29)


def test_legal_states_and_financing_readiness():
    assert figures().siap_pembiayaan is True
    rows = [list(r) for r in PROFIL_ROWS]
    rows[10][1] = "12345"  # NIB malformed
    fig = coop_figures(parse_workbook(make_book(profil=rows)), AS_OF)
    assert (fig.nib, fig.npwp, fig.rekening, fig.siap_pembiayaan) == (
        "Salah Format",
        "Ada",
        "Ada",
        False,
    )
    rows = [r for r in PROFIL_ROWS if r and r[0] != "NPWP"]
    assert coop_figures(parse_workbook(make_book(profil=rows)), AS_OF).npwp == "Tidak Ada"


@pytest.mark.parametrize(
    ("satuan", "nama", "expected"),
    [
        ("kg", "Gula", (1.0, "kg")),
        ("karung 5 kg", "Beras", (5.0, "kg")),
        ("pcs", "Beras SPHP 5kg", (5.0, "kg")),
        ("botol", "Minyakita 1 L", (1.0, "liter")),
        ("tabung", "LPG 3 kg", (3.0, "kg")),
        ("butir", "Telur", (1.0, "butir")),
        ("sachet 250 gr", "Kopi", (0.25, "kg")),
    ],
)
def test_base_units(satuan, nama, expected):
    assert base_unit(satuan, nama) == expected


def test_data_diperbarui_passes_through():
    moment = datetime(2026, 1, 20, 9, 0)
    assert (
        coop_figures(parse_workbook(make_book()), AS_OF, modified=moment).data_diperbarui == moment
    )
