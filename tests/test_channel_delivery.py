"""WhatsApp and Telegram beside email, end to end on the demo city, against the local fakes
over real HTTP: who gets what, once and only once, quiet hours, opt-out, a blocked recipient,
a channel down for an hour, and a crash between the API accepting a message and the ledger
recording it (a real `kill -9` of `run --once`).
"""

from __future__ import annotations

import csv
import email
import email.policy
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from kkmp_sheets import config
from kkmp_sheets.clock import SimulatedClock
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.crashpoints import CRASH_AT, CRASH_LOG
from kkmp_sheets.delivery.channel_delivery import channel_rows, mask_recipient
from kkmp_sheets.delivery.channels import TelegramClient, WhatsAppClient
from kkmp_sheets.delivery.ledger import DeliveryLedger
from kkmp_sheets.demo.city import build_demo_city
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.service.notify import Notified, record_and_notify
from kkmp_sheets.service.wiring import close, make_sink, make_source
from kkmp_sheets.store.history import HistoryStore
from kkmp_sheets.testing.fake_telegram import FakeTelegram
from kkmp_sheets.testing.fake_whatsapp import FakeWhatsApp

AS_OF = date(2026, 1, 29)
MORNING = datetime(2026, 1, 29, 7, 0, tzinfo=WIB)
CITY_CHAT = -1001000000001
KEC_CHAT_BASE = -1001000000100
PJ_PHONES = ("0812-1111-0001", "+62 812 1111 0002", "6281211110003", "812-1111-0004")
TEMPLATES = {  # the approved texts of docs/channels.md, as Meta would hold them
    "kkmp_ringkasan_kota": 9,
    "kkmp_ringkasan_kecamatan": 9,
    "kkmp_pengingat_mingguan": 7,
    "kkmp_peringatan_pj": 5,
}


@dataclass
class City:
    root: Path
    cfg_path: Path
    kecamatan_chats: dict[str, int]
    ketua: dict[str, str]  # coop id → Telepon Ketua (E.164)

    def cfg(self) -> config.Config:
        return config.load(self.cfg_path)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("channels") / "city"
    build_demo_city(root, size=8, as_of=AS_OF)
    return root


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(MORNING)


@pytest.fixture
def fakes(clock: SimulatedClock) -> Iterator[tuple[FakeWhatsApp, FakeTelegram]]:
    with FakeWhatsApp(clock=clock) as wa, FakeTelegram(clock=clock) as tg:
        for name, count in TEMPLATES.items():
            body = " ".join(f"{{{{{i}}}}}." for i in range(1, count + 1))
            wa.add_template(name, "id", "Teks " + body)
        wa.add_template(
            "kkmp_laporan_pimpinan", "id", "Laporan {{1}} periode {{2}}.", header_document=True
        )
        tg.add_chat(CITY_CHAT, "supergroup", "Dinas KUKM")
        yield wa, tg


def make_city(pristine: Path, tmp_path: Path, wa: FakeWhatsApp, tg: FakeTelegram, **extra) -> City:
    root = tmp_path / "city"
    shutil.copytree(pristine, root)
    registry = root / "registry.csv"
    with registry.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    kecamatan = sorted({r["Kecamatan"] for r in rows})
    chats = {name: KEC_CHAT_BASE - i for i, name in enumerate(kecamatan)}
    for chat in chats.values():
        tg.add_chat(chat, "group", "Camat")
    for i, row in enumerate(rows):
        row["Telepon Penanggung Jawab"] = PJ_PHONES[i % len(PJ_PHONES)]
        row.update(extra.get("rows", {}).get(row["ID"], {}))
    with registry.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    quiet = extra.get("quiet_hours", "21:00-06:00")
    muted = extra.get("muted", [])
    kec_lines = "\n".join(f'"{k}" = "{v}"' for k, v in chats.items())
    people = extra.get("people", {})
    people_lines = "\n".join(f'"{k}" = "{v}"' for k, v in people.items())
    coop_channels = '["whatsapp", "telegram"]' if people else '["whatsapp"]'
    for chat in people.values():
        tg.add_chat(int(chat), "private", "Ketua")
    cfg_path = root / "city.toml"
    cfg_path.write_text(
        cfg_path.read_text()
        + f"""
[channels]
quiet_hours = "{quiet}"
city = ["telegram"]
kecamatan = ["telegram"]
coop = {coop_channels}
alert = ["whatsapp"]
muted = {muted!r}

[channels.whatsapp]
base_url = "{wa.base_url}/v21.0"
phone_number_id = "{wa.phone_number_id}"
waba_id = "{wa.waba_id}"
token_env = "TEST_WA_TOKEN"

[channels.telegram]
base_url = "{tg.base_url}"
token_env = "TEST_TG_TOKEN"
city_chat = "{CITY_CHAT}"

[channels.telegram.kecamatan_chats]
{kec_lines}

[channels.telegram.people]
{people_lines}
""".replace("'", '"'),
        encoding="utf-8",
    )
    return City(root, cfg_path, chats, {})


def clients_for(wa: FakeWhatsApp, tg: FakeTelegram, clock: SimulatedClock) -> dict:
    return {
        "whatsapp": WhatsAppClient(
            wa.token,
            wa.phone_number_id,
            waba_id=wa.waba_id,
            base_url=f"{wa.base_url}/v21.0",
            clock=clock,
        ),
        "telegram": TelegramClient(tg.token, base_url=tg.base_url, clock=clock),
    }


def run(city: City, clients: dict, now: datetime, as_of: date = AS_OF) -> Notified:
    """One cycle at `now` (WIB), recorded, its digests and channel messages delivered."""
    cfg = city.cfg()
    source = make_source(cfg)
    sink = make_sink(cfg, source=source)
    try:
        with HistoryStore.for_config(cfg) as store:
            cycle = run_cycle(cfg, source=source, sink=sink, as_of=as_of, now=now, store=store)
    finally:
        close(source, sink)
    return record_and_notify(cycle, cfg, now, clients=clients)


def sent_by_channel(wa: FakeWhatsApp, tg: FakeTelegram) -> Counter[str]:
    return Counter(whatsapp=len(wa.sent), telegram=len(tg.sent))


def ringkasan_values(path: Path) -> dict[str, object]:
    """Label → value of the status workbook's Ringkasan tab, as a spreadsheet program reads it."""
    import python_calamine

    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Ringkasan")
    return {str(r[0]).strip(): r[1] for r in rows.to_python() if len(r) > 1 and r[0]}


def ledger_rows(city: City):
    with DeliveryLedger.for_config(city.cfg()) as ledger:
        return channel_rows(ledger)


def test_demo_city_reaches_every_channel_once(pristine, tmp_path, fakes, clock) -> None:
    wa, tg = fakes
    city = make_city(pristine, tmp_path, wa, tg)
    notified = run(city, clients_for(wa, tg, clock), MORNING)
    report = notified.channel_report
    assert report is not None
    kinds = Counter((m.channel, m.key.kind) for m in notified.channel_messages)
    print("messages by channel and kind:", dict(kinds))
    print("report:", report)
    assert report.sent == len(notified.channel_messages) == len(wa.sent) + len(tg.sent)
    assert kinds[("telegram", "city")] == 2  # the summary and the Laporan Pimpinan PDF
    assert kinds[("telegram", "kecamatan")] >= 2 * len(city.kecamatan_chats) - 1
    assert kinds[("whatsapp", "coop")] >= 6  # most Profils have a valid Telepon Ketua
    city_msgs = tg.messages_to(CITY_CHAT)
    assert len(city_msgs) == 2
    docs = [m for m in city_msgs if getattr(m, "document", None)]
    assert docs, "the Laporan Pimpinan goes to the city group as a document"
    # the zone counts the city group reads are the status workbook's (Ringkasan), not recounted
    ringkasan = ringkasan_values(city.root / "out" / "status-kota.xlsx")
    shown = re.search(
        r"Hijau (\d+) · 🟡 Kuning (\d+) · 🔴 Merah (\d+) dari (\d+)", city_msgs[0].text
    )
    assert shown is not None, city_msgs[0].text
    wanted = ("Zona Hijau", "Zona Kuning", "Zona Merah", "Jumlah KKMP")
    assert [int(x) for x in shown.groups()] == [int(ringkasan[k]) for k in wanted]
    # a second run in the same period sends nothing twice
    before = sent_by_channel(wa, tg)
    again = run(city, clients_for(wa, tg, clock), MORNING + timedelta(hours=2))
    assert sent_by_channel(wa, tg) == before
    assert again.channel_report.sent == 0
    assert again.channel_report.skipped_already_sent == report.sent


def outbox_notices(city: City, words: str) -> list[str]:
    """The bodies of the outbox messages containing `words` (decoded)."""
    outbox = city.root / "out" / "outbox"
    bodies = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        if words in text or words in str(message["Subject"]):
            bodies.append(text)
    return bodies


def test_quiet_hours_hold_messages_until_the_window_opens(pristine, tmp_path, fakes, clock):
    wa, tg = fakes
    city = make_city(pristine, tmp_path, wa, tg)
    night = datetime(2026, 1, 29, 22, 30, tzinfo=WIB)
    held = run(city, clients_for(wa, tg, clock), night)
    assert held.channel_report.sent == 0
    assert held.channel_report.waiting_quiet_hours == len(held.channel_messages) > 0
    assert not wa.sent and not tg.sent
    assert held.report.sent + held.report.no_recipients > 0  # e-mail is not held
    assert {r.state for r in ledger_rows(city)} == {"queued"}
    still_night = datetime(2026, 1, 30, 5, 59, tzinfo=WIB)
    assert run(city, clients_for(wa, tg, clock), still_night).channel_report.sent == 0
    morning = datetime(2026, 1, 30, 6, 0, tzinfo=WIB)
    opened = run(city, clients_for(wa, tg, clock), morning)
    assert opened.channel_report.sent == len(held.channel_messages)
    assert len(wa.sent) + len(tg.sent) == len(held.channel_messages)


def test_opt_out_in_the_registry_and_config_mutes_a_recipient(pristine, tmp_path, fakes, clock):
    wa, tg = fakes
    probe = make_city(pristine, tmp_path / "probe", wa, tg)
    planned = run(probe, {}, MORNING).channel_messages  # no clients: everything stays queued
    ketua = sorted({(m.key.audience, m.recipient) for m in planned if m.channel == "whatsapp"})
    (coop_a, phone_a), (_, phone_b) = ketua[0], ketua[1]
    typed_b = "0" + phone_b[3:7] + "-" + phone_b[7:]  # as a person types it: 0812-…
    city = make_city(
        pristine,
        tmp_path,
        wa,
        tg,
        rows={coop_a.removeprefix("coop:"): {"Tanpa Pesan": "Ya"}},
        muted=[typed_b],
    )
    notified = run(city, clients_for(wa, tg, clock), MORNING)
    muted = {m.recipient for m in notified.channel_messages if m.muted}
    assert muted == {phone_a, phone_b}
    assert notified.channel_report.muted == 2
    assert not wa.messages_to(phone_a) and not wa.messages_to(phone_b)
    assert len(wa.sent) == len(ketua) - 2 > 0


def test_a_blocked_recipient_among_good_ones(pristine, tmp_path, fakes, clock):
    wa, tg = fakes
    probe = make_city(pristine, tmp_path / "probe", wa, tg)
    phones = sorted(
        {m.recipient for m in run(probe, {}, MORNING).channel_messages if m.channel == "whatsapp"}
    )
    wa.mark_not_on_whatsapp(phones[0])  # 131026: permanent
    tg.fail_next(1, 400, "Bad Request: chat not found", method="sendMessage")
    coops = sorted(
        m.key.audience.removeprefix("coop:")
        for m in run(probe, {}, MORNING).channel_messages
        if m.key.kind == "coop"
    )
    people = {coops[0]: "5550001", coops[1]: "5550002"}  # the Ketua's private chats with the bot
    city = make_city(pristine, tmp_path / "people", wa, tg, people=people)
    tg.block(5550001)  # 403 "Forbidden: bot was blocked by the user"
    notified = run(city, clients_for(wa, tg, clock), MORNING)
    report = notified.channel_report
    assert report.failed_permanent == 3
    assert report.sent == len(notified.channel_messages) - 3
    assert len(tg.messages_to(5550002)) == 1 and not tg.messages_to(5550001)
    assert notified.report.sent >= 1  # the e-mails went out all the same
    refused = [r for r in ledger_rows(city) if r.state == "failed_permanent"]
    assert {r.last_error.split(":")[0] for r in refused} == {"131026", "400", "403"}
    told = outbox_notices(city, "WhatsApp/Telegram messages were not delivered")
    assert len(told) == 1
    notice = told[0]
    assert phones[0] not in notice and mask_recipient("whatsapp", phones[0]) in notice
    run(city, clients_for(wa, tg, clock), MORNING + timedelta(hours=1))
    assert len(outbox_notices(city, "WhatsApp/Telegram messages were not delivered")) == 1
    assert len(wa.messages_to(phones[0])) == 0


def test_a_channel_down_for_an_hour_then_back(pristine, tmp_path, fakes, clock):
    wa, tg = fakes
    city = make_city(pristine, tmp_path, wa, tg)
    tg.fail_bare(10_000, 502)  # Telegram down: every request a proxy's 502 page
    down = run(city, clients_for(wa, tg, clock), MORNING)
    tg_planned = sum(1 for m in down.channel_messages if m.channel == "telegram")
    assert tg_planned > 3
    assert down.channel_report.queued_for_retry == 3  # then the breaker holds the rest
    assert down.channel_report.held_back == tg_planned - 3
    assert not tg.sent and len(wa.sent) == len(down.channel_messages) - tg_planned
    for minutes in (15, 30, 45):  # serve's sync every 15 minutes, still down
        run(city, clients_for(wa, tg, clock), MORNING + timedelta(minutes=minutes))
    assert not tg.sent
    tg.clear_faults()
    clock.advance(3600)
    back = run(city, clients_for(wa, tg, clock), MORNING + timedelta(hours=1))
    assert back.channel_report.sent == tg_planned
    assert len(tg.sent) == tg_planned  # each once
    rows = ledger_rows(city)
    assert {r.state for r in rows} == {"sent"}
    assert max(r.attempts for r in rows) == 5  # four failed tries, then sent: within bounds


def test_no_channels_configured_changes_nothing(pristine, tmp_path) -> None:
    root = tmp_path / "city"
    shutil.copytree(pristine, root)
    cfg = config.load(root / "city.toml")
    assert not cfg.channels.routes
    source, sink = make_source(cfg), make_sink(cfg, source=make_source(cfg))
    with HistoryStore.for_config(cfg) as store:
        cycle = run_cycle(cfg, source=source, sink=sink, as_of=AS_OF, now=MORNING, store=store)
    notified = record_and_notify(cycle, cfg, MORNING)
    assert notified.channel_messages == [] and notified.channel_report is None
    with DeliveryLedger.for_config(cfg) as ledger:
        assert channel_rows(ledger) == []


@pytest.fixture
def live_fakes() -> Iterator[tuple[FakeWhatsApp, FakeTelegram]]:
    """The fakes on the real clock: `run --once` in a subprocess waits in real time. Their
    per-chat and per-number limits are half the clients' own, so that a request the machine
    delayed (the client spaces them when it sends, the fake when they arrive) is not taken
    for a burst: that would be a transient 429, retried by the next run, not what is tested."""
    with FakeWhatsApp(pair_interval=3.0) as wa, FakeTelegram(per_chat_interval=0.5) as tg:
        for name, count in TEMPLATES.items():
            wa.add_template(
                name, "id", "Teks " + " ".join(f"{{{{{i}}}}}." for i in range(1, count + 1))
            )
        wa.add_template(
            "kkmp_laporan_pimpinan", "id", "Laporan {{1}} periode {{2}}.", header_document=True
        )
        tg.add_chat(CITY_CHAT, "supergroup", "Dinas KUKM")
        yield wa, tg


def run_once(city: City, wa: FakeWhatsApp, tg: FakeTelegram, **env: str):
    return kkmp(city, wa, tg, "run", "--once", "--as-of", AS_OF.isoformat(), **env)


def kkmp(city: City, wa: FakeWhatsApp, tg: FakeTelegram, *args: str, **env: str):
    """`kkmp-sheets <args> --config <city>` in a process of its own, the tokens in its env."""
    environ = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "TEST_WA_TOKEN": wa.token,
        "TEST_TG_TOKEN": tg.token,
        **env,
    }
    command = [sys.executable, "-m", "kkmp_sheets", *args, "--config", str(city.cfg_path)]
    return subprocess.run(
        command,
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )


def arrived(wa: FakeWhatsApp, tg: FakeTelegram, expected: int) -> int:
    """Messages the fakes hold, once their server threads have recorded every request the
    finished subprocess made (a thread may still be recording when the process has exited);
    waits at most a few seconds for `expected`."""
    deadline = time.monotonic() + 5
    while len(wa.sent) + len(tg.sent) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(wa.sent) + len(tg.sent)


def test_kill_9_after_the_api_accepted_and_before_the_ledger_recorded(
    pristine, tmp_path, live_fakes
) -> None:
    """The one window no ledger can close: the message is out, the process dies before
    recording it. After the restart it is 'uncertain', told to the operator once, and not sent
    again; everything else goes out once."""
    wa, tg = live_fakes
    city = make_city(pristine, tmp_path, wa, tg, quiet_hours="")  # real clock: any hour
    probe = make_city(pristine, tmp_path / "probe", wa, tg, quiet_hours="")
    points = tmp_path / "points.log"
    assert run_once(probe, wa, tg, **{CRASH_LOG: str(points)}).returncode == 0
    names = [line.split(" ", 1) for line in points.read_text().splitlines()]
    at = next(int(n) for n, name in names if name == "channel-sent-before-record")
    probe_rows = ledger_rows(probe)
    planned = len(probe_rows)
    assert arrived(wa, tg, planned) == planned
    wa.sent.clear(), tg.sent.clear()

    killed = run_once(city, wa, tg, **{CRASH_AT: str(at)})
    assert killed.returncode == -9
    assert arrived(wa, tg, 1) == 1  # the API accepted the first message
    first = (tg.sent or wa.sent)[0]
    assert [r.state for r in ledger_rows(city)][:1] == ["sending"]

    healthy = run_once(city, wa, tg)
    assert healthy.returncode == 0, healthy.stderr[-2000:]
    rows = ledger_rows(city)
    states = Counter(r.state for r in rows)
    assert states == Counter(sent=planned - 1, uncertain=1)
    assert arrived(wa, tg, planned) == planned  # the uncertain one was not sent again
    told = outbox_notices(city, "WhatsApp/Telegram messages were not delivered")
    assert len(told) == 1 and "uncertain" in told[0]

    again = run_once(city, wa, tg)
    assert again.returncode == 0
    line = next(x for x in again.stdout.splitlines() if x.startswith("WhatsApp/Telegram"))
    assert f"terkirim 0, sudah terkirim {planned - 1}," in line and "tidak pasti 1" in line
    assert arrived(wa, tg, planned + 1) == planned  # a second run --once sends nothing
    assert len(outbox_notices(city, "WhatsApp/Telegram messages were not delivered")) == 1
    uncertain = next(r for r in rows if r.state == "uncertain")
    print("crash: first message", first, "left", uncertain.state, uncertain.last_error)

    # The operator checked with the recipient: it did not arrive. On their word it goes again.
    listed = kkmp(city, wa, tg, "deliveries")
    assert listed.returncode == 0 and f"c{uncertain.id}" in listed.stdout, listed.stdout
    resent = kkmp(city, wa, tg, "deliveries", "--resend", f"c{uncertain.id}")
    assert resent.returncode == 0, resent.stderr[-2000:]
    assert "It is now: sent" in resent.stdout, resent.stdout
    assert arrived(wa, tg, planned + 1) == planned + 1  # that one message, once more
    assert Counter(r.state for r in ledger_rows(city)) == Counter(sent=planned)
    assert arrived(wa, tg, planned + 2) == planned + 1  # and nothing else


def test_check_verifies_tokens_chats_and_approved_templates(pristine, tmp_path, fakes) -> None:
    from kkmp_sheets.onboarding.check.channels import channel_findings

    wa, tg = fakes
    city = make_city(pristine, tmp_path, wa, tg)
    cfg = city.cfg()
    env = {"TEST_WA_TOKEN": wa.token, "TEST_TG_TOKEN": tg.token}
    lines = [f.line() for f in channel_findings(cfg, env)]
    assert all(line.startswith("OK") for line in lines), lines
    assert any("kkmp_pengingat_mingguan (id) for coop: APPROVED" in line for line in lines)
    assert sum("Telegram chat" in line for line in lines) == 1 + len(city.kecamatan_chats)

    wa.set_status("kkmp_pengingat_mingguan", "id", "PENDING")
    tg.chats.pop(CITY_CHAT)
    lines = [f.line() for f in channel_findings(cfg, env)]
    bad = [line for line in lines if line.startswith("GALAT")]
    assert len(bad) == 2, lines
    assert any("kkmp_pengingat_mingguan" in line and "PENDING" in line for line in bad)
    assert any("city_chat" in line and "tidak ditemukan" in line for line in bad)

    wrong = {"TEST_WA_TOKEN": "EAAwrong", "TEST_TG_TOKEN": "123:wrong"}
    lines = [f.line() for f in channel_findings(cfg, wrong)]
    assert [line.split()[0] for line in lines] == ["GALAT", "GALAT"], lines
    assert not any(token in "\n".join(lines) for token in ("EAAwrong", "123:wrong"))
    assert [f.level for f in channel_findings(cfg, {})] == ["GALAT", "GALAT"]


def test_penanggung_jawab_alert_goes_to_the_registry_phone(pristine, tmp_path, fakes, clock):
    """A month without updates turns cooperatives Merah: each penanggung jawab gets one
    WhatsApp alert at the registry's Telepon Penanggung Jawab (typed in four ways)."""
    wa, tg = fakes
    city = make_city(pristine, tmp_path, wa, tg)
    run(city, clients_for(wa, tg, clock), MORNING)
    later = AS_OF + timedelta(days=31)
    at = MORNING + timedelta(days=31)
    clock.advance(31 * 86400)
    notified = run(city, clients_for(wa, tg, clock), at, as_of=later)
    alerts = [m for m in notified.channel_messages if m.key.kind == "alert"]
    assert alerts, "cooperatives that went quiet for a month alert their penanggung jawab"
    expected = {"+6281211110001", "+6281211110002", "+6281211110003", "+6281211110004"}
    assert {m.recipient for m in alerts} <= expected
    per_phone = Counter(m.recipient for m in alerts)  # test phones are shared by some PJs
    for phone, count in per_phone.items():
        assert len(wa.messages_to(phone)) == count, phone
    examples = {}
    for m in notified.channel_messages:
        examples.setdefault((m.channel, m.key.kind, bool(m.payload.document_name)), m.preview())
    for key, text in sorted(examples.items()):
        print(f"--- {key}\n{text}\n")
    people = build_people(pristine)
    assert len(people) > 50  # the members the Anggota tabs list under Nama and NIK
    for m in notified.channel_messages:
        shown = m.preview()
        assert not any(name in shown or nik in shown for name, nik in people)
        assert m.recipient not in shown


def build_people(pristine: Path) -> list[tuple[str, str]]:
    """(nama, nik) of the demo's members, read back from the workbooks' Anggota tabs."""
    import python_calamine

    out = []
    for path in sorted((pristine / "workbooks").glob("*.xlsx")):
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        if "Anggota" not in book.sheet_names:
            continue
        rows = book.get_sheet_by_name("Anggota").to_python()
        header = [str(c).strip().lower() for c in rows[0]] if rows else []
        if "nama" in header and "nik" in header:
            i, j = header.index("nama"), header.index("nik")
            out += [(str(r[i]), str(r[j])) for r in rows[1:] if len(r) > max(i, j) and r[i]]
    return out


def test_digest_dry_run_lists_every_channel_message_masked(
    pristine, tmp_path, fakes, capsys
) -> None:
    from kkmp_sheets.cli import main

    wa, tg = fakes
    city = make_city(pristine, tmp_path, wa, tg, muted=["-1001000000100"])
    args = ["digest", "--dry-run", "--config", str(city.cfg_path), "--as-of", AS_OF.isoformat()]
    assert main(args) == 0
    out = capsys.readouterr().out
    channel_part = out.split("WhatsApp/Telegram (tidak dikirim; nomor disamarkan):")[1]
    lines = [
        line for line in channel_part.splitlines() if line.startswith(("whatsapp", "telegram"))
    ]
    assert sum(line.startswith("whatsapp  coop") for line in lines) >= 6
    assert sum(line.startswith("telegram  kecamatan") for line in lines) == len(
        city.kecamatan_chats
    )
    assert any(str(CITY_CHAT) in line and "city" in line for line in lines)
    assert any("-1001000000100" in line and "[dibisukan]" in line for line in lines)
    assert not any("+62" in line and "*" not in line for line in lines)  # numbers masked
    assert not re.search(r"\+62\d{9,}", out)  # no full number anywhere, texts included
    assert not wa.sent and not tg.sent
    assert ledger_rows(city) == []


def test_registry_phone_and_opt_out_columns() -> None:
    from kkmp_sheets.core.registry import read_registry

    header = [
        "ID",
        "Nama Koperasi",
        "Kelurahan",
        "Kecamatan",
        "Spreadsheet",
        "HP PJ",
        "Tanpa Pesan",
    ]
    rows = [
        header,
        ["K1", "KKMP A", "Kel A", "Kec", "a.xlsx", "0812-3456-7890", "Ya"],
        ["K2", "KKMP B", "Kel B", "Kec", "b.xlsx", "0840-1234-567 (WA)", ""],
        ["K3", "KKMP C", "Kel C", "Kec", "c.xlsx", 81234567891.0, "tidak"],
    ]
    coops, issues = read_registry(rows)
    assert [c.telepon_penanggung_jawab for c in coops] == [
        "+6281234567890",
        None,
        "+6281234567891",
    ]
    assert [c.tanpa_pesan for c in coops] == [True, False, False]
    (issue,) = issues
    assert (issue.code, issue.row, issue.column) == ("phone-format", 3, "Telepon Penanggung Jawab")
    assert issue.value is None  # a phone number is personal: row and column find it
