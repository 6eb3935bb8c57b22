"""The Laporan Pimpinan: one A4 page per city and kecamatan, in the digests, never personal data.

The demo city runs `run --once` twice, a week apart (so the page has a day to compare with and
a trend), as an operator runs it; the PDFs are read back with pdfplumber, the digests from the
outbox, and a digest goes through a real aiosmtpd on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import email
import io
import json
import logging
import re
import sys
from dataclasses import replace
from datetime import date, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pdfplumber
import pytest
from test_mail import NOW, SmtpServer

from kkmp_sheets import config
from kkmp_sheets.cli import main
from kkmp_sheets.core.figures import BY_KEY, Target
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.delivery.digest import environment
from kkmp_sheets.delivery.ledger import DeliveryLedger, deliver
from kkmp_sheets.delivery.mail import Attachment, Digest, DigestKey
from kkmp_sheets.demo import DemoCity, build_demo_city
from kkmp_sheets.outputs import laporan
from kkmp_sheets.outputs.laporan import MerahRow, Recorded, Unplaced

AS_OF, WEEK_BEFORE = date(2026, 1, 29), date(2026, 1, 22)
A4 = (595.3, 841.9)  # points


def run(city: DemoCity, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*args, "--config", str(city.config_path)])
    return code, out.getvalue()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    built = build_demo_city(tmp_path_factory.mktemp("laporan") / "demo", as_of=AS_OF)
    for day in (WEEK_BEFORE, AS_OF):
        code, out = run(built, "run", "--once", "--as-of", day.isoformat())
        assert code == 0, out
    return built


def folder(city: DemoCity) -> Path:
    return city.root / "out" / "laporan"


def pdf_text(path: Path) -> tuple[int, tuple[float, float], str]:
    with pdfplumber.open(path) as pdf:
        page = pdf.pages[0]
        return len(pdf.pages), (float(page.width), float(page.height)), page.extract_text()


def test_one_a4_page_for_the_city_and_each_kecamatan(city: DemoCity):
    names = sorted({c.kecamatan for c in city.coops})
    files = sorted(p.name for p in folder(city).glob("*.pdf"))
    expected = [laporan.file_name(None)] + [laporan.file_name(n) for n in names]
    assert files == sorted(expected)
    for path in folder(city).glob("*.pdf"):
        pages, size, text = pdf_text(path)
        assert pages == 1, path.name
        assert size == pytest.approx(A4, abs=1), path.name
        assert "Laporan Pimpinan KKMP" in text and "29 Januari 2026" in text


def test_the_page_says_what_changed_since_last_week(city: DemoCity):
    _, _, text = pdf_text(folder(city) / laporan.file_name(None))
    assert "perubahan dibanding 22 Januari 2026" in text
    assert "Lima perubahan terbesar sejak 22 Januari 2026".upper() in text.upper()
    assert "KKMP zona Merah".upper() in text.upper()
    assert "Tidak dipetakan" in text  # the demo leaves a few Titik Lokasi empty or unreadable


def test_no_nik_or_member_name_reaches_any_page(city: DemoCity):
    texts = [pdf_text(p)[2] for p in folder(city).glob("*.pdf")]
    raw = [p.read_bytes() for p in folder(city).glob("*.pdf")]
    assert city.people
    for nik, nama in city.people:
        for text in texts:
            assert nik not in text and nama not in text, (nik, nama)
        for data in raw:
            assert nik.encode() not in data


def test_the_city_and_kecamatan_digests_carry_their_pdf(city: DemoCity):
    outbox = city.root / "out" / "outbox"
    carried = {}
    for path in outbox.glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        assert isinstance(msg, EmailMessage)
        pdfs = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
        kind = path.name.split("_", 1)[0]
        if kind in ("city", "kecamatan"):
            [part] = pdfs  # the week before's digests carried that day's report
            if "2026-01-29" in path.name:
                carried[part.get_filename()] = part.get_content()
        else:
            assert pdfs == [], path.name  # cooperative digests and alerts carry none
    on_disk = {p.name: p.read_bytes() for p in folder(city).glob("*.pdf")}
    assert carried == on_disk


def test_a_pdf_arrives_over_smtp_as_application_pdf_and_opens(tmp_path: Path, city: DemoCity):
    path = folder(city) / laporan.file_name(None)
    digest = Digest(
        key=DigestKey("city", "kota", "2026-01-29"),
        to=("kadis@jakbar.go.id",),
        subject="Ringkasan KKMP",
        text="Laporan terlampir.",
        html="<p>Laporan terlampir.</p>",
        sender="kkmp@jakbar.go.id",
        attachments=(Attachment.pdf(path),),
    )
    server = SmtpServer().start()
    try:
        with DeliveryLedger(tmp_path / "deliveries.sqlite") as ledger:
            report = deliver([digest], server.transport(), ledger, now=NOW)
        assert report.sent == 1
        [got] = server.received
    finally:
        server.stop()
    msg = got.message()
    [part] = list(msg.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    assert part.get_filename() == path.name
    assert part["Content-Transfer-Encoding"] == "base64"
    (tmp_path / "got.pdf").write_bytes(part.get_content())
    assert pdf_text(tmp_path / "got.pdf")[0] == 1
    assert msg.get_body(("plain",)).get_content().strip() == "Laporan terlampir."


def test_a_resend_after_the_server_was_down_sends_the_same_message(tmp_path: Path):
    pdf = tmp_path / "laporan-pimpinan-kota.pdf"
    pdf.write_bytes(b"%PDF-1.7\n% the first version\n%%EOF\n")
    digest = Digest(
        key=DigestKey("city", "kota", "2026-01-29"),
        to=("kadis@jakbar.go.id",),
        subject="Ringkasan KKMP",
        text="Laporan terlampir.",
        sender="kkmp@jakbar.go.id",
        attachments=(Attachment.pdf(pdf),),
    )
    server = SmtpServer()  # not started: the connection is refused
    with DeliveryLedger(tmp_path / "deliveries.sqlite") as ledger:
        first = deliver([digest], server.transport(timeout=2), ledger, now=NOW)
        assert first.sent == 0 and first.queued_for_retry == 1
        kept = ledger.message(digest.key)
        pdf.write_bytes(b"%PDF-1.7\n% rewritten by a later cycle\n%%EOF\n")  # the file moves on
        server.start()
        try:
            second = deliver([], server.transport(), ledger, now=NOW)
            [got] = server.received
        finally:
            server.stop()
    assert second.sent == 1
    assert kept is not None and b"the first version" not in kept  # base64 inside the message
    [part] = list(got.message().iter_attachments())
    assert part.get_content() == b"%PDF-1.7\n% the first version\n%%EOF\n"


def test_an_attachment_must_be_what_it_says():
    with pytest.raises(ValueError, match="not a PDF"):
        Attachment("laporan.pdf", b"<html>")
    with pytest.raises(ValueError, match="attachment name"):
        Attachment("../etc/passwd", b"%PDF-1.7")


# --- the page's content, without the cycle -------------------------------------------------------


@pytest.fixture(scope="module")
def checked(city: DemoCity):
    """The cycle of AS_OF, checked again without writing anything."""
    from kkmp_sheets.cli import run_once

    cfg = config.load(city.config_path)
    return cfg, run_once(replace(cfg, laporan=False), AS_OF, mail=False, write=False)


@pytest.fixture(scope="module")
def views(checked):
    cfg, cycle = checked
    return laporan.build_views(
        cycle.results,
        cycle.figures,
        Recorded(),
        city_name=cfg.city_name,
        target=Target(cfg.target_date, cfg.target_active_share),
        now=datetime(2026, 1, 29, 7, 0, tzinfo=WIB),
    )


def test_many_merah_still_fit_one_page_with_the_rest_counted(tmp_path: Path, views):
    crowded = replace(
        views[0],
        merah=[
            MerahRow(
                f"Koperasi Kelurahan Merah Putih Nomor {i}",
                "Cengkareng",
                "Kapuk",
                "Status Operasional Berhenti; Belum ada penjualan tercatat; " * 3,
            )
            for i in range(240)
        ],
        unplaced=[Unplaced(f"KKMP Tanpa Titik {i}", "Titik Lokasi belum diisi") for i in range(90)],
    )
    path = tmp_path / "crowded.pdf"
    path.write_bytes(laporan.render_pdf(crowded, environment("id")))
    pages, _, text = pdf_text(path)
    assert pages == 1
    shown = len(set(re.findall(r"Merah Putih Nomor (\d+)", text)))
    assert 0 < shown < 240
    assert f"dan {240 - shown} lainnya" in text
    assert "lainnya" in text.split("Tidak dipetakan")[1]


def test_the_largest_changes_put_zone_moves_first(checked):
    _, cycle = checked
    figures = cycle.figures
    mover, halved, nudged, still = sorted(
        (r for r in cycle.results if figures.coop(r.coop.id)["omset"]), key=lambda r: r.coop.id
    )[:4]
    now = {r.coop.id: figures.coop(r.coop.id) for r in (mover, halved, nudged, still)}
    other = {"Merah": "Hijau", "Kuning": "Merah", "Hijau": "Kuning"}

    def then(r, **changed):
        row = {"zone": now[r.coop.id]["zona"], "omset": now[r.coop.id]["omset"],
               "anggota_aktif": now[r.coop.id]["anggota_aktif"]}  # fmt: skip
        return {**row, **changed}

    recorded = Recorded(
        since=WEEK_BEFORE,
        coops_then={
            mover.coop.id: then(mover, zone=other[now[mover.coop.id]["zona"]]),
            halved.coop.id: then(halved, omset=now[halved.coop.id]["omset"] * 2),
            nudged.coop.id: then(nudged, anggota_aktif=now[nudged.coop.id]["anggota_aktif"] + 1),
            still.coop.id: then(still),
        },
    )
    changes = laporan.largest_changes(cycle.results, figures, recorded)
    assert [c.nama for c in changes] == [mover.coop.nama, halved.coop.nama, nudged.coop.nama]
    assert changes[0].what == "Zona" and changes[0].after == now[mover.coop.id]["zona"]
    assert changes[1].what == "Omset 30 Hari" and changes[1].share == pytest.approx(0.5)
    assert changes[2].what == "Anggota Aktif"


def test_without_weasyprint_the_cycle_completes_and_says_so(
    city: DemoCity, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    before = {p.name: p.stat().st_mtime_ns for p in folder(city).glob("*.pdf")}
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # `import weasyprint` fails
    with caplog.at_level(logging.WARNING):
        code, out = run(city, "run", "--once", "--as-of", AS_OF.isoformat(), "--no-mail")
    assert code == 0, out
    assert "Laporan Pimpinan" in out and "tidak dibuat" in out and "WeasyPrint" in out
    notes = [r for r in caplog.records if "Laporan Pimpinan not made" in r.getMessage()]
    assert len(notes) == 1
    assert {p.name: p.stat().st_mtime_ns for p in folder(city).glob("*.pdf")} == before


def test_report_on_demand_writes_one_kecamatan_and_nothing_else(city: DemoCity):
    status = city.root / "out" / "status-kota.xlsx"
    touched = {p: p.stat().st_mtime_ns for p in (status, *city.workbooks)}
    name = sorted({c.kecamatan for c in city.coops})[0]
    target = folder(city) / laporan.file_name(name)
    target.unlink()
    code, out = run(city, "report", "--as-of", AS_OF.isoformat(), "--kecamatan", name.upper())
    assert code == 0, out
    assert out.strip() == str(target)
    assert pdf_text(target)[0] == 1
    assert {p: p.stat().st_mtime_ns for p in touched} == touched  # nothing else was written


def test_report_for_an_unknown_kecamatan_names_the_known_ones(city: DemoCity, capsys):
    code, _ = run(city, "report", "--as-of", AS_OF.isoformat(), "--kecamatan", "Atlantis")
    assert code != 0
    err = capsys.readouterr().err
    assert "Atlantis" in err
    for name in {c.kecamatan for c in city.coops}:
        assert name in err


def test_an_unchanged_page_is_not_drawn_again(city: DemoCity):
    before = {p.name: p.read_bytes() for p in folder(city).glob("*.pdf")}
    code, out = run(city, "run", "--once", "--as-of", AS_OF.isoformat(), "--no-mail")
    assert code == 0, out
    assert {p.name: p.read_bytes() for p in folder(city).glob("*.pdf")} == before


def test_the_figures_shown_are_the_catalogues():
    assert set(laporan.LAPORAN) <= set(BY_KEY)


def test_a_point_outside_the_city_is_a_warning_where_the_user_sees_it(tmp_path: Path):
    import openpyxl

    from kkmp_sheets.core.template import PROFIL, normalize

    small = build_demo_city(tmp_path / "kota", size=8, as_of=AS_OF)
    labels = {normalize(n) for n in (PROFIL.field("titik_lokasi").label, "Koordinat", "Lokasi")}
    moved = None
    for path in small.workbooks:
        book = openpyxl.load_workbook(path)
        sheet = next(ws for ws in book.worksheets if normalize(ws.title) in PROFIL.match_keys)
        for row in sheet.iter_rows():
            if normalize(row[0].value) in labels and row[1].value:
                row[1].value = "6.16500, 106.76000"  # the minus sign forgotten
                moved = (path, sheet.title, row[0].row)
                break
        if moved:
            book.save(path)
            break
    assert moved is not None
    code, out = run(small, "run", "--once", "--no-mail", "--as-of", AS_OF.isoformat())
    assert code == 0, out
    path, tab, row = moved
    book = openpyxl.load_workbook(path, read_only=True)
    rows = [list(r) for r in book["Hasil Pemeriksaan"].iter_rows(values_only=True)]
    [found] = [r for r in rows if r and any("di luar wilayah kota" in str(c) for c in r)]
    assert tab in found and row in found and "Titik Lokasi" in found
    assert "km dari pusat titik koperasi kota" in " ".join(map(str, found))
    _, _, text = pdf_text(small.root / "out" / "laporan" / laporan.file_name(None))
    assert "di luar wilayah kota" in text


# --- drawing only what changed, on both cores ----------------------------------------------------


def test_one_and_two_workers_draw_the_same_pages(tmp_path: Path, views, monkeypatch):
    import functools

    from kkmp_sheets.outputs import laporan_draw

    monkeypatch.setattr(laporan_draw, "POOL_FROM", 2)  # four pages: drawn by the pool
    pools = []
    real_pool = laporan_draw.ProcessPoolExecutor

    def counted_pool(*args, **kwargs):
        pools.append(args[0])
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(laporan_draw, "ProcessPoolExecutor", counted_pool)
    drawn = {}
    for workers in (1, 2):
        target = tmp_path / f"workers-{workers}"
        laporan.write_reports(
            views[:4], environment("id"), target, workers=workers,
            env_factory=functools.partial(environment, "id"),
        )  # fmt: skip
        pages = {p.name: pdf_text(p) for p in sorted(target.glob("*.pdf"))}
        drawn[workers] = pages, (target / laporan.KEYS_FILE).read_text()
    assert pools == [2]  # one worker drew in this process, two drew in a pool
    assert len(drawn[1][0]) == 4
    assert drawn[1] == drawn[2]
    assert all(pages == 1 for pages, _, _ in drawn[1][0].values())


def test_an_unchanged_cycle_imports_neither_weasyprint_nor_matplotlib(city: DemoCity):
    import subprocess

    code = (
        "import sys\n"
        "from kkmp_sheets.cli import main\n"
        f"code = main(['run', '--once', '--no-mail', '--as-of', '{AS_OF.isoformat()}', "
        f"'--config', {str(city.config_path)!r}])\n"
        "assert code == 0, code\n"
        "print(sorted(m for m in ('weasyprint', 'matplotlib') if m in sys.modules))\n"
    )
    before = {p.name: p.read_bytes() for p in folder(city).glob("*.pdf")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert {p.name: p.read_bytes() for p in folder(city).glob("*.pdf")} == before


def test_a_page_that_fails_does_not_lose_the_others(
    tmp_path: Path, views, monkeypatch: pytest.MonkeyPatch
):
    from kkmp_sheets.outputs import laporan_draw

    real = laporan_draw.render_pdf
    broken = views[1].file_name

    def render(view, env):
        if view.file_name == broken:
            raise RuntimeError("kertas habis")
        return real(view, env)

    monkeypatch.setattr(laporan_draw, "render_pdf", render)
    with pytest.raises(laporan.ReportsIncomplete) as failed:
        laporan.write_reports(views[:3], environment("id"), tmp_path)
    assert set(failed.value.failed) == {broken}
    assert sorted(p.name for p in failed.value.written.values()) == sorted(
        v.file_name for v in (views[0], views[2])
    )
    assert sorted(p.name for p in tmp_path.glob("*.pdf")) == sorted(
        v.file_name for v in (views[0], views[2])
    )
    keys = json.loads((tmp_path / laporan.KEYS_FILE).read_text())
    assert broken not in keys and len(keys) == 2
    monkeypatch.setattr(laporan_draw, "render_pdf", real)
    assert laporan.write_reports(views[:3], environment("id"), tmp_path)  # drawn the next time
    assert (tmp_path / broken).is_file()


def test_kecamatan_of_the_same_name_get_their_own_file(views):
    same = [
        replace(views[1], audience=f"kecamatan:{key}", kecamatan="Banjaran",
                file_name=laporan.file_name("Banjaran"))
        for key in ("32.04.13", "32.10.22")
    ]  # fmt: skip
    named = laporan._distinct_file_names([views[0], *same, views[2]])
    assert [v.file_name for v in named] == [
        views[0].file_name,
        "laporan-pimpinan-banjaran-32-04-13.pdf",
        "laporan-pimpinan-banjaran-32-10-22.pdf",
        views[2].file_name,
    ]
