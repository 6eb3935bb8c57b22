"""Digests: which are made, for whom, what they say, and what they never say."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import struct
import subprocess
from dataclasses import replace
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kkmp_sheets.cli import main
from kkmp_sheets.config import Config, MailSettings
from kkmp_sheets.core.figures import measure
from kkmp_sheets.core.issue import Issue
from kkmp_sheets.core.metrics import ADA, TIDAK_ADA, CoopFigures
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.core.report import CoopResult
from kkmp_sheets.core.zoning import Zone
from kkmp_sheets.delivery import digest
from kkmp_sheets.delivery.digest import LOCALES, render_digests
from kkmp_sheets.delivery.mail import Digest, build_message
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.errors import ConfigError, KkmpError
from kkmp_sheets.service.cycle import CycleResult
from kkmp_sheets.store.history import Changes, CityPoint, HistoryStore, ZoneMove

WIB = ZoneInfo("Asia/Jakarta")
AS_OF = date(2026, 1, 29)  # a Thursday of ISO week 2026-W05
NOW = datetime(2026, 1, 29, 8, 30, tzinfo=WIB)
CITY = "Kota Administrasi Jakarta Barat"
# Synthetic personal values: never a real person's.
NIKS = ("3173054108900007", "3173011212850003")
NAMES = ("Siti Contohwati", "Budi Percobaan")


def coop_result(
    coop_id: str,
    nama: str,
    kecamatan: str,
    zone: str = "Hijau",
    *,
    issues: list[Issue] | None = None,
    pengurus: tuple[str, ...] | None = None,
    pj: tuple[str, str] = ("Rina Petugas", "rina@dinas.contoh.go.id"),
    **figures: Any,
) -> CoopResult:
    coop = Coop(
        id=coop_id,
        nama=nama,
        kelurahan=f"Kelurahan {coop_id}",
        kecamatan=kecamatan,
        kode_wilayah=None,
        spreadsheet=f"{coop_id}.xlsx",
        email_pengurus=(f"pengurus.{coop_id.lower()}@contoh.id",) if pengurus is None else pengurus,
        penanggung_jawab=pj[0],
        email_penanggung_jawab=(pj[1],) if pj[1] else (),
    )
    values: dict[str, Any] = {
        "status_operasional": "Aktif",
        "nib": ADA,
        "npwp": ADA,
        "rekening": ADA,
        "anggota_aktif": 140,
        "anggota_baru": 6,
        "simpanan_pokok": 1_250_000.0,
        "simpanan_wajib": 700_000.0,
        "omset": 12_500_000.0,
        "transaksi": 55,
        "transaksi_terakhir": AS_OF - timedelta(days=2),
        "data_diperbarui": datetime(2026, 1, 28, 16, 5, tzinfo=WIB),
    }
    values.update(figures)
    reasons = {
        "Hijau": (),
        "Kuning": ("NPWP belum ada",),
        "Merah": ("Belum ada penjualan tercatat",),
    }
    return CoopResult(
        coop,
        CoopFigures(**values),
        Zone(zone, reasons[zone]),
        list(issues or []),
        link=f"https://docs.google.com/spreadsheets/d/{coop_id}",
    )


def make_cycle(*results: CoopResult, as_of: date = AS_OF) -> CycleResult:
    """A cycle without its measured figures: the digests measure them with the config's target."""
    summary = measure(results, as_of=as_of).city
    return CycleResult(list(results), [], summary, as_of, "status-kota.xlsx", 0.5)


def personal_issues() -> list[Issue]:
    return [
        Issue("nik-length", tab="Anggota", row=4, column="NIK", value=NIKS[0], personal=True,
              detail="15"),
        Issue("nik-duplicate", tab="Anggota", row=7, column="NIK", value=NIKS[1], personal=True,
              detail="3"),
        Issue("required-missing", tab="Anggota", row=8, column="Tanggal Masuk", value=NAMES[0],
              personal=True),
        Issue("phone-format", tab="Anggota", row=9, column="Telepon", value=NAMES[1],
              personal=True),
        # Mislabelled as not personal: a NIK-like value is still never shown whole.
        Issue("member-unknown", tab="Simpanan", row=12, column="No Anggota", value=NIKS[1]),
    ]  # fmt: skip


def city_results() -> list[CoopResult]:
    return [
        coop_result("KKMP-001", "KKMP Duri Kepa", "Kebon Jeruk", "Hijau",
                    wajib_bulanan=10_000.0, anggota_menunggak=3, tunggakan_wajib=90_000.0),
        coop_result("KKMP-002", "KKMP Kedoya Selatan", "KEBON JERUK", "Merah",
                    issues=personal_issues(), transaksi_terakhir=None,
                    status_operasional="Persiapan",
                    data_diperbarui=datetime(2026, 1, 9, 7, 0, tzinfo=WIB),
                    pj=("Andi Petugas", "andi@dinas.contoh.go.id")),
        coop_result("KKMP-003", "KKMP Kapuk", "Cengkareng", "Kuning", npwp=TIDAK_ADA,
                    issues=[Issue("required-missing", tab="Penjualan", row=30,
                                  column="Harga Satuan")]),
    ]  # fmt: skip


def make_config(**mail: Any) -> Config:
    settings = MailSettings(
        sender="KKMP Jakarta Barat <kkmp@dinas.contoh.go.id>",
        officials=("kadis@dinas.contoh.go.id", "sekdis@dinas.contoh.go.id"),
        kecamatan={"Kebon Jeruk": ("camat.kebonjeruk@contoh.go.id",)},
    )
    return Config(
        path=Path("/nonexistent/city.toml"),
        city_name=CITY,
        city_kode="31.73",
        source_kind="local",
        registry="registry.csv",
        output_kind="local",
        output_path=Path("out/status-kota.xlsx"),
        mail_kind="outbox",
        outbox_dir=Path("out/outbox"),
        mail=replace(settings, **mail),
        target_date=date(2026, 6, 30),
        target_active_share=0.9,
    )


def changes_for_city() -> Changes:
    return Changes(
        as_of=AS_OF,
        since=AS_OF - timedelta(days=1),
        zone_moves=[ZoneMove("KKMP-002", "KKMP Kedoya Selatan", "KEBON JERUK", "Kuning", "Merah")],
        new_problems={"KKMP-002": 4},
        resolved_problems={"KKMP-003": 1},
        gone_quiet=["KKMP-002"],
        newly_red=["KKMP-002"],
    )


def series() -> list[CityPoint]:
    return [
        CityPoint(AS_OF - timedelta(days=d), 1, 1, 2 - min(d, 2) // 2, min(d, 2) // 2)
        for d in range(29, 0, -1)
    ]


def render(**kwargs: Any) -> list[Digest]:
    args: dict[str, Any] = {
        "cycle": make_cycle(*city_results()),
        "changes": changes_for_city(),
        "cfg": make_config(),
        "now": NOW,
        "series": series(),
    }
    args.update(kwargs)
    return render_digests(args.pop("cycle"), args.pop("changes"), args.pop("cfg"), **args)


def by_key(digests: list[Digest]) -> dict[tuple[str, str, str], Digest]:
    """Digests by key; an alert's audience without the fingerprint of its flagged set."""

    def audience(d: Digest) -> str:
        return d.key.audience.rsplit(":", 1)[0] if d.key.kind == "alert" else d.key.audience

    return {(d.key.kind, audience(d), d.key.period): d for d in digests}


def everything(d: Digest) -> str:
    return "\n".join([d.subject, d.text, d.html or ""])


# --- which digests, for whom ---------------------------------------------------------------------


def test_one_digest_per_audience_with_the_right_keys_and_recipients():
    digests = render()
    keys = by_key(digests)
    assert len(digests) == len(keys) == 1 + 2 + 3 + 1
    assert set(keys) == {
        ("city", "kota", "2026-01-29"),
        ("kecamatan", "kecamatan:Cengkareng", "2026-01-29"),
        ("kecamatan", "kecamatan:Kebon Jeruk", "2026-01-29"),
        ("coop", "coop:KKMP-001", "2026-W05"),
        ("coop", "coop:KKMP-002", "2026-W05"),
        ("coop", "coop:KKMP-003", "2026-W05"),
        ("alert", "pj:andi@dinas.contoh.go.id", "2026-01-29"),
    }
    assert keys["city", "kota", "2026-01-29"].to == (
        "kadis@dinas.contoh.go.id",
        "sekdis@dinas.contoh.go.id",
    )
    assert keys["kecamatan", "kecamatan:Kebon Jeruk", "2026-01-29"].to == (
        "camat.kebonjeruk@contoh.go.id",
    )
    assert keys["kecamatan", "kecamatan:Cengkareng", "2026-01-29"].to == ()
    coop = keys["coop", "coop:KKMP-001", "2026-W05"]
    assert coop.to == ("pengurus.kkmp-001@contoh.id",)
    assert coop.reply_to == "rina@dinas.contoh.go.id"
    assert keys["alert", "pj:andi@dinas.contoh.go.id", "2026-01-29"].to == (
        "andi@dinas.contoh.go.id",
    )
    for d in digests:
        assert d.sender == "KKMP Jakarta Barat <kkmp@dinas.contoh.go.id>"
        assert d.html is not None and d.text.strip()
        build_message(d, now=NOW)  # a sendable message


def test_digests_are_made_even_without_recipients():
    cfg = make_config(officials=(), kecamatan={})
    results = [coop_result("KKMP-009", "KKMP Sepi", "Tambora", pengurus=(), pj=("", ""))]
    digests = render(cycle=make_cycle(*results), cfg=cfg, changes=Changes(AS_OF, None))
    assert [(d.key.kind, d.to) for d in digests] == [("city", ()), ("kecamatan", ()), ("coop", ())]


def test_addresses_that_are_not_addresses_are_left_out():
    results = [coop_result("KKMP-001", "KKMP Duri Kepa", "Kebon Jeruk",
                           pengurus=("ketua@", "bendahara@contoh.id"))]  # fmt: skip
    digests = by_key(render(cycle=make_cycle(*results), changes=Changes(AS_OF, None)))
    assert digests["coop", "coop:KKMP-001", "2026-W05"].to == ("bendahara@contoh.id",)


def test_a_bad_sender_is_a_config_error():
    with pytest.raises(ConfigError, match=r"\[mail\] sender"):
        render(cfg=make_config(sender="kkmp at dinas"))


def test_no_alert_when_nothing_turned_red_or_quiet():
    digests = render(changes=replace(changes_for_city(), newly_red=[], gone_quiet=[]))
    assert [d for d in digests if d.key.kind == "alert"] == []


def test_kecamatan_spellings_are_one_kecamatan_and_digests_keep_to_their_own():
    keys = by_key(render())
    kebon_jeruk = keys["kecamatan", "kecamatan:Kebon Jeruk", "2026-01-29"]
    assert "KKMP Duri Kepa" in kebon_jeruk.html and "KKMP Kedoya Selatan" in kebon_jeruk.html
    assert "KKMP Kapuk" not in everything(kebon_jeruk)
    assert "Pindah zona" in kebon_jeruk.text  # KKMP-002 moved
    cengkareng = keys["kecamatan", "kecamatan:Cengkareng", "2026-01-29"]
    assert "KKMP Kapuk" in cengkareng.text
    assert "Duri Kepa" not in everything(cengkareng) and "Kedoya" not in everything(cengkareng)


# --- what they say -------------------------------------------------------------------------------


def test_city_digest_subject_summary_changes_and_bars():
    city = by_key(render())["city", "kota", "2026-01-29"]
    assert city.subject == f"[KKMP {CITY}] Ringkasan 29 Januari 2026: 1 Hijau, 1 Kuning, 1 Merah"
    text = city.text
    assert "Data per 29 Januari 2026, dibuat 29 Januari 2026 08.30 WIB" in text
    assert "Rp37.500.000" in text  # omset: 3 × Rp12.500.000
    # KEBON JERUK and Kebon Jeruk are one kecamatan, shown under one name everywhere
    assert "KKMP Kedoya Selatan (Kebon Jeruk): Kuning -> Merah" in text
    assert "4 baru di 1 KKMP; 1 selesai diperbaiki di 1 KKMP" in text
    assert "KKMP Kedoya Selatan (Kebon Jeruk): data tidak diperbarui 20 hari" in text
    assert "tidak ada penjualan" not in text  # no sale at all is not "gone quiet"
    assert "Masih perlu 1 KKMP lagi dalam 152 hari" in text
    assert "Kebon Jeruk" in text and "Cengkareng" in text
    html = city.html or ""
    assert "Zona per kecamatan" in html and "background:#1E8E3E" in html
    assert "Tren 30 hari tercatat" in html
    assert "<script" not in html and "<link" not in html and "<style" not in html


def test_only_fixed_problems_read_as_such():
    changes = replace(changes_for_city(), new_problems={}, resolved_problems={"KKMP-003": 2})
    city = by_key(render(changes=changes))["city", "kota", "2026-01-29"]
    assert "Masalah data: 2 selesai diperbaiki di 1 KKMP." in city.text
    assert "baru di" not in city.text


def test_first_city_digest_says_changes_come_later():
    city = by_key(render(changes=Changes(AS_OF, None), series=None))["city", "kota", "2026-01-29"]
    assert "Ini ringkasan pertama" in city.text
    assert "TREN" not in city.text  # one day is not a trend


def test_coop_digest_shows_only_its_own_cooperative():
    keys = by_key(render())
    own = keys["coop", "coop:KKMP-002", "2026-W05"]
    content = everything(own)
    assert "KKMP Kedoya Selatan" in content
    for other in ("KKMP-001", "Duri Kepa", "KKMP-003", "Kapuk", "Cengkareng", "rina@"):
        assert other not in content
    assert "Galat" in own.text and "Cara memperbaiki" in own.text
    assert "Baris: 4 (3173********0007)" in own.text  # masked via public_value
    assert "SIMPANAN WAJIB" not in own.text  # no monthly amount in its Profil


def test_coop_digest_shows_wajib_arrears_when_the_monthly_amount_is_known():
    own = by_key(render())["coop", "coop:KKMP-001", "2026-W05"]
    assert "  Simpanan Wajib per Bulan Rp10.000\n" in own.text
    assert "  Anggota Menunggak        3\n" in own.text
    assert "  Tunggakan Simpanan Wajib Rp90.000\n" in own.text
    assert "Anggota yang menunggak belum membayar simpanan wajib" in own.text
    assert ">Tunggakan Simpanan Wajib</td>" in (own.html or "")


def test_alert_names_what_happened():
    alert = by_key(render())["alert", "pj:andi@dinas.contoh.go.id", "2026-01-29"]
    assert alert.subject == f"[KKMP {CITY}] Perlu perhatian: 1 KKMP menjadi Merah (29 Januari 2026)"
    assert "KKMP Kedoya Selatan" in alert.text and "Menjadi Merah" in alert.text
    assert "Duri Kepa" not in everything(alert)  # Rina's cooperative, not Andi's


def test_english_digests():
    digests = by_key(render(cfg=make_config(language="en")))
    city = digests["city", "kota", "2026-01-29"]
    assert city.subject == f"[KKMP {CITY}] Summary 29 January 2026: 1 green, 1 yellow, 1 red"
    assert "Data as of 29 January 2026, made 29 January 2026 08:30 WIB" in city.text
    assert "Rp37,500,000" in city.text
    assert 'lang="en"' in (city.html or "")
    coop = digests["coop", "coop:KKMP-001", "2026-W05"]
    assert coop.subject.startswith(f"[KKMP {CITY}] Weekly report KKMP Duri Kepa (2026-W05)")
    assert (
        "Members in arrears" in coop.text
        and "members in arrears have not paid all the simpanan wajib already due" in coop.text
    )
    alert = digests["alert", "pj:andi@dinas.contoh.go.id", "2026-01-29"]
    assert "Turned red" in alert.text
    for d in digests.values():
        assert_well_formed(d.html or "")


def test_filters_read_like_indonesian_and_english():
    ind, eng = LOCALES["id"], LOCALES["en"]
    assert ind.rupiah(1_250_000) == "Rp1.250.000" and eng.rupiah(1_250_000) == "Rp1,250,000"
    assert ind.rupiah(1_250_000.4) == "Rp1.250.000"
    assert ind.number(1250) == "1.250" and eng.number(1250) == "1,250"
    # a share has one decimal, as in the status workbook (`0.0%`)
    assert ind.percent(0.857) == "85,7%" and ind.percent(0.857, 0) == "86%"
    assert eng.percent(0.857) == "85.7%"
    assert ind.date(date(2026, 1, 17)) == "17 Januari 2026"
    assert eng.date(date(2026, 1, 17)) == "17 January 2026"
    moment = datetime(2026, 1, 17, 1, 30, tzinfo=ZoneInfo("UTC"))
    assert ind.time(moment) == "08.30 WIB" and eng.time(moment) == "08:30 WIB"
    assert ind.datetime(moment) == "17 Januari 2026 08.30 WIB"
    assert ind.date(None) == "–" and ind.rupiah(None) == "–"
    assert ind.textbar((2, 1, 1), 8) == "HHHHKKMM"
    assert eng.textbar((1, 0, 1), 4, scale=4) == "GR"


# --- which ones are Merah, and where to look ------------------------------------------------------

STATUS_URL = "https://docs.google.com/spreadsheets/d/1StatusKota/edit#gid=1001"


def merah_names(text: str) -> list[str]:
    """The Merah list of a plain-text digest, in order: "  1. <nama> (Kelurahan …"."""
    return re.findall(r"^  \d+\. (.+?) \(Kelurahan ", text, flags=re.MULTILINE)


def test_city_and_kecamatan_digests_name_each_merah_cooperative_with_its_reasons():
    keys = by_key(render())
    city = keys["city", "kota", "2026-01-29"]
    assert "KKMP MERAH (1)" in city.text
    assert merah_names(city.text) == ["KKMP Kedoya Selatan"]
    assert (
        "  1. KKMP Kedoya Selatan (Kelurahan Kelurahan KKMP-002, Kecamatan Kebon Jeruk) - baru\n"
        "     Alasan: Belum ada penjualan tercatat\n"
        "     https://docs.google.com/spreadsheets/d/KKMP-002\n"
    ) in city.text
    html = city.html or ""
    assert "KKMP Merah (1)</h2>" in html
    assert '<a href="https://docs.google.com/spreadsheets/d/KKMP-002"' in html
    assert "<div>Alasan: Belum ada penjualan tercatat</div>" in html
    kebon_jeruk = keys["kecamatan", "kecamatan:Kebon Jeruk", "2026-01-29"]
    assert merah_names(kebon_jeruk.text) == ["KKMP Kedoya Selatan"]
    assert "Alasan: Belum ada penjualan tercatat" in kebon_jeruk.text
    cengkareng = keys["kecamatan", "kecamatan:Cengkareng", "2026-01-29"]
    assert "KKMP MERAH (0)\n  Tidak ada KKMP Merah." in cengkareng.text
    assert "Tidak ada KKMP Merah." in (cengkareng.html or "")


def test_merah_list_order_and_limit():
    """Newly Merah first, then the longest Merah (earliest first recorded day of the current run;
    one not recorded counts from today), then kecamatan and name; `merah_list_limit` shown."""
    results = [
        coop_result("K-A", "KKMP Angke", "Tambora", "Merah"),
        coop_result("K-B", "KKMP Sukabumi", "Kebon Jeruk", "Merah"),
        coop_result("K-C", "KKMP Cengkareng", "Cengkareng", "Merah"),
        coop_result("K-D", "KKMP Duri", "Cengkareng", "Merah"),
        coop_result("K-E", "KKMP Empang", "Cengkareng", "Merah"),
        coop_result("K-F", "KKMP Hijau", "Cengkareng", "Hijau"),
    ]
    changes = Changes(
        AS_OF,
        AS_OF - timedelta(days=1),
        newly_red=["K-B"],
        merah_since={
            "K-A": AS_OF - timedelta(days=10),
            "K-B": AS_OF,
            "K-C": AS_OF - timedelta(days=3),
            "K-D": AS_OF - timedelta(days=3),
        },
    )
    cfg = replace(make_config(), merah_list_limit=3)
    keys = by_key(render(cycle=make_cycle(*results), changes=changes, cfg=cfg))
    city = keys["city", "kota", "2026-01-29"]
    assert merah_names(city.text) == ["KKMP Sukabumi", "KKMP Angke", "KKMP Cengkareng"]
    assert "KKMP MERAH (5)" in city.text
    assert "  dan 2 KKMP Merah lainnya: semuanya ada di tab Status KKMP" in city.text
    assert "Tercatat Merah sejak 19 Januari 2026" in city.text  # K-A
    assert "dan 2 KKMP Merah lainnya" in (city.html or "")
    everyone = replace(cfg, merah_list_limit=10)
    keys = by_key(render(cycle=make_cycle(*results), changes=changes, cfg=everyone))
    city = keys["city", "kota", "2026-01-29"]
    assert merah_names(city.text) == [
        "KKMP Sukabumi", "KKMP Angke", "KKMP Cengkareng", "KKMP Duri", "KKMP Empang",
    ]  # fmt: skip
    assert "lainnya" not in city.text.split("KKMP MERAH")[1].split("RINGKASAN")[0]
    cengkareng = keys["kecamatan", "kecamatan:Cengkareng", "2026-01-29"]
    assert merah_names(cengkareng.text) == ["KKMP Cengkareng", "KKMP Duri", "KKMP Empang"]


def test_digests_link_to_the_status_spreadsheet_in_google_mode():
    cycle = replace(make_cycle(*city_results()), status_link=STATUS_URL)
    keys = by_key(render(cycle=cycle))
    for key in (("city", "kota"), ("kecamatan", "kecamatan:Kebon Jeruk")):
        d = keys[(*key, "2026-01-29")]
        assert f"Spreadsheet status kota:\n  {STATUS_URL}\n" in d.text
        assert f'<a href="{STATUS_URL}"' in (d.html or "")
        assert "Buka spreadsheet status kota</a>" in (d.html or "")


def test_digests_link_to_the_status_workbook_file_in_local_mode(tmp_path: Path):
    """The file as a link (file://) and as its path, since mail clients may block file links;
    local cooperative workbooks are linked only in digests that stay inside the office."""
    status = tmp_path / "kota" / "out" / "status-kota.xlsx"
    workbooks = tmp_path / "kota" / "workbooks"
    results = [replace(r, link=str(workbooks / f"{r.coop.id}.xlsx")) for r in city_results()]
    cycle = replace(make_cycle(*results), status_link=status.as_uri())
    keys = by_key(render(cycle=cycle))
    merah_file = workbooks / "KKMP-002.xlsx"
    for key in (("city", "kota"), ("kecamatan", "kecamatan:Kebon Jeruk")):
        d = keys[(*key, "2026-01-29")]
        assert f"  {status}\n  {status.as_uri()}\n" in d.text
        assert f'<a href="{status.as_uri()}"' in (d.html or "")
        assert f"Berkas: {status}" in (d.html or "")
    city = keys["city", "kota", "2026-01-29"]
    assert f"     Berkas: {merah_file}\n" in city.text
    assert f'<a href="{merah_file.as_uri()}"' in (city.html or "")
    alert = keys["alert", "pj:andi@dinas.contoh.go.id", "2026-01-29"]
    assert f"  Berkas: {merah_file}\n" in alert.text
    assert f'<a href="{merah_file.as_uri()}"' in (alert.html or "")
    # Camat, lurah and pengurus are outside the office's shared folder: no workbook paths.
    for d in digests_of(keys, "kecamatan", "coop"):
        assert str(workbooks) not in everything(d), d.key


def digests_of(keys: dict[tuple[str, str, str], Digest], *kinds: str) -> list[Digest]:
    return [d for (kind, _, _), d in keys.items() if kind in kinds]


def test_a_cycle_published_nowhere_links_to_nothing():
    keys = by_key(render())  # the cycle's output is "status-kota.xlsx": no place to open
    city = keys["city", "kota", "2026-01-29"]
    assert "Spreadsheet status kota" not in city.text
    assert "Buka spreadsheet status kota" not in (city.html or "")


def test_a_dry_run_shows_the_link_a_real_run_carries(tmp_path: Path, capsys: Any):
    """`digest --dry-run` writes no status workbook, yet previews the digests as they go out."""
    city = build_demo_city(tmp_path / "kota", size=3, as_of=AS_OF)
    out = tmp_path / "pratinjau"
    args = ["digest", "--dry-run", "--config", str(city.config_path), "--as-of", str(AS_OF)]
    assert main([*args, "--out", str(out)]) == 0
    status = city.root / "out" / "status-kota.xlsx"
    assert not status.exists()
    [eml] = out.glob("city_*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert f"  {status}\n  {status.as_uri()}\n" in text


def test_merah_since_is_the_start_of_the_current_run(tmp_path: Path):
    merah, kuning = Zone("Merah", ("Belum ada penjualan tercatat",)), Zone("Kuning", ("x",))
    days = {0: merah, 1: kuning, 2: merah, 4: merah}  # not recorded on day 3
    start = AS_OF - timedelta(days=4)
    with HistoryStore(tmp_path / "history.sqlite") as store:
        for offset, zone in days.items():
            results = [replace(r, zone=zone) for r in city_results()[:1]]
            store.record_cycle(make_cycle(*results, as_of=start + timedelta(days=offset)))
        assert store.merah_since(AS_OF) == {"KKMP-001": start + timedelta(days=2)}
        assert store.merah_since(start + timedelta(days=1)) == {}  # Kuning that day
        changes = store.changes(AS_OF, store.previous_day(AS_OF))
    assert changes.merah_since == {"KKMP-001": start + timedelta(days=2)}


# --- what they never say -------------------------------------------------------------------------


def test_no_nik_member_name_or_individual_saving_in_any_digest():
    results = city_results()
    results[0].issues.append(
        Issue("negative-value", tab="Simpanan", row=3, column="Jumlah", value=-123_456.0,
              personal=True)
    )  # fmt: skip
    for language in ("id", "en"):
        digests = render(cycle=make_cycle(*results), cfg=make_config(language=language))
        assert digests
        for d in digests:
            content = everything(d)
            for secret in (*NIKS, *NAMES, "123456", "123.456", "123,456"):
                assert secret not in content, (d.key, secret)


def test_html_is_well_formed_and_escapes_names():
    hostile = "<script>alert(1)</script>"
    results = [
        coop_result("KKMP-001", hostile, "Tambora & <Sekitar>", "Merah", issues=personal_issues()),
        coop_result("KKMP-002", "KKMP Biasa", "Tambora & <Sekitar>", "Hijau"),
    ]
    changes = Changes(AS_OF, AS_OF - timedelta(days=1),
                      zone_moves=[ZoneMove("KKMP-001", hostile, "x", "Hijau", "Merah")],
                      newly_red=["KKMP-001"])  # fmt: skip
    digests = render(cycle=make_cycle(*results), changes=changes)
    assert {d.key.kind for d in digests} == {"city", "kecamatan", "coop", "alert"}
    for d in digests:
        html = d.html or ""
        assert_well_formed(html)
        assert "<script>" not in html
        assert "<Sekitar>" not in html
    coop = by_key(digests)["coop", "coop:KKMP-001", "2026-W05"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (coop.html or "")
    assert hostile in coop.text  # plain text needs no escaping


# --- templates -----------------------------------------------------------------------------------


def test_missing_templates_say_where_they_were_looked_for(tmp_path: Path):
    with pytest.raises(KkmpError, match="KKMP_REPORT_TEMPLATES"):
        render(templates=tmp_path)


def test_templates_folder_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    copy = tmp_path / "templates"
    shutil.copytree(digest.templates_dir(), copy)
    (copy / "id" / "subjects.j2").write_text(
        (copy / "id" / "subjects.j2").read_text().replace("Ringkasan", "Rangkuman")
    )
    monkeypatch.setenv(digest.TEMPLATES_ENV, str(copy))
    assert digest.templates_dir() == copy
    assert "Rangkuman" in render()[0].subject


def test_series_and_history_store_feed_the_city_digest(tmp_path: Path):
    day1 = make_cycle(
        *[replace(r, zone=Zone("Kuning", ("NPWP belum ada",))) for r in city_results()],
        as_of=AS_OF - timedelta(days=1),
    )
    with HistoryStore(tmp_path / "history.sqlite") as store:
        store.record_cycle(day1)
        today = make_cycle(*city_results())
        store.record_cycle(today)
        since = store.previous_day(AS_OF)
        changes = store.changes(AS_OF, since)
        trend = store.city_series(AS_OF)
    city = render(cycle=today, changes=changes, series=trend)[0]
    assert "KKMP Duri Kepa (Kebon Jeruk): Kuning -> Hijau" in city.text
    assert "Hijau                        1 (+1)" in city.text
    assert "TREN 2 HARI TERCATAT" in city.text


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_city_digest_renders_in_a_browser(tmp_path: Path):
    cycle = replace(make_cycle(*city_results()), status_link=STATUS_URL)
    html = by_key(render(cycle=cycle))["city", "kota", "2026-01-29"].html or ""
    page = tmp_path / "city.html"
    page.write_text(html, encoding="utf-8")
    png = tmp_path / "city.png"
    chromium = [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    subprocess.run(
        [*chromium, f"--screenshot={png}", "--window-size=800,1400", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=False,
    )
    # The page as the browser parsed it: the Merah list and both links survived.
    dom = subprocess.run(
        [*chromium, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    assert "KKMP Merah (1)</h2>" in dom
    assert re.search(
        r"<li[^>]*><b><a href=\"https://docs.google.com/spreadsheets/d/KKMP-002\"", dom
    )
    assert f'href="{STATUS_URL}"' in dom
    assert png.is_file(), "chromium wrote no screenshot"
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (800, 1400)
    assert len(data) > 20_000  # a blank page compresses to a few kB


# --- helpers -------------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.problems.append("a <script> element")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def assert_well_formed(html: str) -> None:
    parser = _Balance()
    parser.feed(html)
    parser.close()
    assert parser.problems == []
    assert parser.stack == []
    assert html.lstrip().startswith("<!DOCTYPE html>")


def test_a_second_cooperative_turning_red_the_same_day_is_alerted_too():
    from dataclasses import replace

    results = city_results()
    one = next(i for i, r in enumerate(results) if r.coop.id == "KKMP-001")
    andi = ("andi@dinas.contoh.go.id",)
    results[one] = replace(
        results[one], coop=replace(results[one].coop, email_penanggung_jawab=andi)
    )

    def alert_keys(newly_red: list[str]) -> list:
        changes = Changes(AS_OF, AS_OF - timedelta(days=1), newly_red=newly_red)
        digests = render(cycle=make_cycle(*results), changes=changes)
        return [d.key for d in digests if d.key.kind == "alert" and "andi@" in d.key.audience]

    morning, afternoon = alert_keys(["KKMP-002"]), alert_keys(["KKMP-002", "KKMP-001"])
    assert len(morning) == len(afternoon) == 1
    assert morning[0] != afternoon[0]  # a new key: the ledger sends it
    assert morning[0].period == afternoon[0].period
    assert alert_keys(["KKMP-002"]) == morning  # the same set again: the same key, not resent
