"""The WhatsApp and Telegram clients against their local fakes, over real HTTP on 127.0.0.1.

Every classification the delivery ledger relies on (sent / transient / permanent) is provoked
for real: the fake answers in the service's documented shape and the client reads it. Time is a
`SimulatedClock` shared by client and fake: rate limits and the 24-hour window are tested by
moving it, never by sleeping.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from kkmp_sheets.clock import SimulatedClock
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.delivery.channels import (
    Limit,
    Outcome,
    RateLimiter,
    TelegramClient,
    WhatsAppClient,
    split_text,
)
from kkmp_sheets.testing.fake_telegram import FakeTelegram
from kkmp_sheets.testing.fake_whatsapp import FakeWhatsApp

KETUA = "+6281234567890"  # synthetic numbers
PJ = "+6281298765432"
GROUP = -1001234567890
PERSON = 555000111


def _pdf(text: str = "Laporan Pimpinan") -> bytes:
    """A small, well-formed one-page PDF (offsets computed, so real readers open it)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 1, 29, 9, 0, tzinfo=WIB))


@pytest.fixture
def wa(clock: SimulatedClock) -> Iterator[FakeWhatsApp]:
    with FakeWhatsApp(clock=clock) as fake:
        fake.add_template(
            "ringkasan_kota", "id", "Ringkasan {{1}}: {{2}} KKMP, zona merah {{3}}. {{4}}"
        )
        fake.add_template(
            "laporan_pimpinan", "id", "Laporan Pimpinan {{1}} terlampir.", header_document=True
        )
        fake.add_template("pengingat_mingguan", "id", "Halo {{1}}", status="PENDING")
        yield fake


@pytest.fixture
def whatsapp(wa: FakeWhatsApp, clock: SimulatedClock) -> Iterator[WhatsAppClient]:
    client = WhatsAppClient(
        wa.token,
        wa.phone_number_id,
        waba_id=wa.waba_id,
        base_url=f"{wa.base_url}/v21.0",
        clock=clock,
        timeout=(2.0, 2.0),
    )
    yield client
    client.close()


@pytest.fixture
def tg(clock: SimulatedClock) -> Iterator[FakeTelegram]:
    with FakeTelegram(clock=clock) as fake:
        fake.add_chat(GROUP, "supergroup", "Dinas PPKUKM Jakarta Barat")
        fake.add_chat(PERSON, "private", "Penanggung Jawab")
        yield fake


@pytest.fixture
def telegram(tg: FakeTelegram, clock: SimulatedClock) -> Iterator[TelegramClient]:
    client = TelegramClient(tg.token, base_url=tg.base_url, clock=clock, timeout=(2.0, 2.0))
    yield client
    client.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- WhatsApp


def test_whatsapp_template_reaches_the_recipient_rendered(whatsapp, wa):
    result = whatsapp.send_template(
        KETUA, "ringkasan_kota", "id", ["Jakarta Barat", "56", "4", "https://contoh.id/s"]
    )
    assert result.outcome is Outcome.SENT
    assert result.provider_id and result.provider_id.startswith("wamid.")
    (message,) = wa.messages_to(KETUA)
    assert message.id == result.provider_id
    assert message.text == "Ringkasan Jakarta Barat: 56 KKMP, zona merah 4. https://contoh.id/s"
    assert result.data["contacts"] == [{"input": "6281234567890", "wa_id": "6281234567890"}]


def test_whatsapp_free_text_only_inside_the_24_hour_window(whatsapp, wa, clock):
    refused = whatsapp.send_text(KETUA, "Halo")
    assert (refused.outcome, refused.code) == (Outcome.PERMANENT, "131047")
    assert "24 jam" in refused.operator
    wa.customer_replied(KETUA)
    clock.advance(23 * 3600)
    assert whatsapp.send_text(KETUA, "Halo").sent
    clock.advance(2 * 3600)  # 25 hours after the reply
    assert whatsapp.send_text(KETUA, "Halo lagi").code == "131047"
    # a template may start the conversation again
    assert whatsapp.send_template(KETUA, "ringkasan_kota", "id", ["a", "b", "c", "d"]).sent
    assert [m.type for m in wa.messages_to(KETUA)] == ["text", "template"]


def test_whatsapp_number_not_on_whatsapp_is_permanent(whatsapp, wa):
    wa.mark_not_on_whatsapp(PJ)
    result = whatsapp.send_template(PJ, "ringkasan_kota", "id", ["a", "b", "c", "d"])
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "131026")
    assert "tidak terdaftar di WhatsApp" in result.operator
    assert wa.messages_to(PJ) == []


@pytest.mark.parametrize(
    ("name", "language"),
    [("pengingat_mingguan", "id"), ("tidak_ada", "id"), ("ringkasan_kota", "en_US")],
    ids=["pending", "missing", "other-language"],
)
def test_whatsapp_template_not_approved_in_that_language_is_permanent(whatsapp, name, language):
    result = whatsapp.send_template(KETUA, name, language, ["x"])
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "132001")


def test_whatsapp_template_parameter_count_must_match(whatsapp, wa):
    result = whatsapp.send_template(KETUA, "ringkasan_kota", "id", ["only", "three", "here"])
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "132000")
    assert wa.messages_to(KETUA) == []


def test_whatsapp_template_params_are_flattened_to_one_line(whatsapp, wa):
    result = whatsapp.send_template(
        KETUA, "ringkasan_kota", "id", ["Jakarta\nBarat", "56", "  ", "perbaiki:\tNIB      kosong"]
    )
    assert result.sent
    (message,) = wa.messages_to(KETUA)
    assert message.params == ["Jakarta Barat", "56", "-", "perbaiki: NIB kosong"]
    raw = requests.post(
        f"{wa.base_url}/v21.0/{wa.phone_number_id}/messages",
        json={"messaging_product": "whatsapp", "to": PJ, "type": "template",
              "template": {"name": "ringkasan_kota", "language": {"code": "id"},
                           "components": [{"type": "body", "parameters": [
                               {"type": "text", "text": t} for t in ["a\nb", "b", "c", "d"]]}]}},
        headers={"Authorization": f"Bearer {wa.token}"},
        timeout=5,
    )  # fmt: skip
    assert raw.json()["error"]["code"] == 100
    assert "new-line" in raw.json()["error"]["error_data"]["details"]


def test_whatsapp_error_shape_is_the_graph_apis(wa):
    answer = requests.post(
        f"{wa.base_url}/v21.0/{wa.phone_number_id}/messages",
        json={
            "messaging_product": "whatsapp",
            "to": "6281234567890",
            "type": "template",
            "template": {"name": "ringkasan_kota", "language": {"code": "id"}},
        },
        headers={"Authorization": f"Bearer {wa.token}"},
        timeout=5,
    )
    error = answer.json()["error"]
    assert answer.status_code == 400
    assert error["code"] == 132000 and error["type"] == "OAuthException"
    assert error["message"].startswith("(#132000) ")
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert "(0) does not match the expected number of params (4)" in error["error_data"]["details"]
    assert error["fbtrace_id"]


def test_whatsapp_wrong_token_is_permanent(wa, clock):
    client = WhatsAppClient(
        "EAAwrong-token-123", wa.phone_number_id, base_url=wa.base_url + "/v21.0", clock=clock
    )
    result = client.send_template(KETUA, "ringkasan_kota", "id", ["a", "b", "c", "d"])
    client.close()
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "190")
    assert wa.requests[-1][2] == 401


@pytest.mark.parametrize(
    ("code", "status", "retry_after"),
    [(130429, None, 1.0), (131056, None, 6.0), (131000, None, None), (131016, None, None)],
)
def test_whatsapp_throughput_and_server_errors_are_transient(
    whatsapp, wa, code, status, retry_after
):
    wa.fail_next(1, code, status=status)
    result = whatsapp.send_template(KETUA, "ringkasan_kota", "id", ["a", "b", "c", "d"])
    assert (result.outcome, result.code) == (Outcome.TRANSIENT, str(code))
    assert result.retry_after == retry_after
    assert wa.messages_to(KETUA) == []
    # the next attempt goes through
    assert whatsapp.send_template(KETUA, "ringkasan_kota", "id", ["a", "b", "c", "d"]).sent


def test_whatsapp_a_proxy_5xx_without_a_graph_body_is_transient(whatsapp, wa):
    wa.fail_bare(1, 502)
    result = whatsapp.send_template(KETUA, "ringkasan_kota", "id", ["a", "b", "c", "d"])
    assert (result.outcome, result.code) == (Outcome.TRANSIENT, "502")


def test_whatsapp_timeout_and_unreachable_are_transient(wa, clock):
    client = WhatsAppClient(
        wa.token, wa.phone_number_id, base_url=wa.base_url + "/v21.0", clock=clock,
        timeout=(1.0, 0.3),
    )  # fmt: skip
    wa.slow_next(1.5)
    late = client.send_template(KETUA, "ringkasan_kota", "id", ["a", "b", "c", "d"])
    client.close()
    assert (late.outcome, late.code) == (Outcome.TRANSIENT, "timeout")
    down = WhatsAppClient(
        wa.token, wa.phone_number_id, base_url=f"http://127.0.0.1:{_closed_port()}/v21.0",
        clock=clock,
    )  # fmt: skip
    gone = down.send_template(KETUA, "ringkasan_kota", "id", ["a", "b", "c", "d"])
    down.close()
    assert (gone.outcome, gone.code) == (Outcome.TRANSIENT, "connection")


def test_whatsapp_pdf_round_trip(whatsapp, wa):
    pdfplumber = pytest.importorskip("pdfplumber")
    pdf = _pdf()
    wa.customer_replied(PJ)
    result = whatsapp.send_pdf(PJ, pdf, "laporan-pimpinan-2026-01.pdf", caption="Laporan Januari")
    assert result.sent
    (message,) = wa.messages_to(PJ)
    assert message.type == "document" and message.caption == "Laporan Januari"
    assert message.filename == "laporan-pimpinan-2026-01.pdf"
    assert message.document is not None and message.document.data == pdf
    with pdfplumber.open(io.BytesIO(message.document.data)) as opened:
        assert "Laporan Pimpinan" in opened.pages[0].extract_text()


def test_whatsapp_pdf_in_a_template_header_outside_the_window(whatsapp, wa):
    pdf = _pdf()
    uploaded = whatsapp.upload_pdf(pdf, "laporan.pdf")
    assert uploaded.sent and uploaded.provider_id
    # a bare document cannot start the conversation: it is a free-form message
    refused = whatsapp.send_document(KETUA, media_id=uploaded.provider_id, filename="laporan.pdf")
    assert (refused.outcome, refused.code) == (Outcome.PERMANENT, "131047")
    result = whatsapp.send_template(
        KETUA, "laporan_pimpinan", "id", ["Januari 2026"],
        document={"id": uploaded.provider_id, "filename": "laporan.pdf"},
    )  # fmt: skip
    assert result.sent
    (message,) = wa.messages_to(KETUA)
    assert message.document is not None and message.document.data == pdf
    assert message.text == "Laporan Pimpinan Januari 2026 terlampir."


def test_whatsapp_template_list_pages_and_statuses(whatsapp, wa):
    for n in range(130):  # more than one page of 100
        wa.add_template(f"lain_{n:03d}", "id", "Teks {{1}}", status="REJECTED")
    listed = whatsapp.approved_templates()
    assert isinstance(listed, dict)
    assert len(listed) == 133
    assert listed[("ringkasan_kota", "id")] == "APPROVED"
    assert listed[("pengingat_mingguan", "id")] == "PENDING"
    assert listed[("lain_129", "id")] == "REJECTED"
    pages = [r for r in wa.requests if r[1].endswith("/message_templates")]
    assert len(pages) == 2


def test_whatsapp_template_list_with_a_wrong_token_is_the_failed_result(wa, clock):
    client = WhatsAppClient(
        "EAAwrong-token-456", wa.phone_number_id, waba_id=wa.waba_id,
        base_url=wa.base_url + "/v21.0", clock=clock,
    )  # fmt: skip
    listed = client.approved_templates()
    client.close()
    assert not isinstance(listed, dict) and listed.code == "190"


def test_whatsapp_text_limits(whatsapp, wa):
    with pytest.raises(ValueError, match="4096"):
        whatsapp.send_text(KETUA, "x" * 4097)
    wa.customer_replied(KETUA)
    long = "\n".join(f"Baris {n}: " + "isi " * 20 for n in range(200))
    results = whatsapp.send_texts(KETUA, long)
    assert len(results) > 1 and all(r.sent for r in results)
    received = [m.text for m in wa.messages_to(KETUA)]
    assert all(len(text) <= 4096 for text in received)
    assert "\n".join(received) == long
    # the fake itself refuses an over-long body (code 100)
    answer = requests.post(
        f"{wa.base_url}/v21.0/{wa.phone_number_id}/messages",
        json={"messaging_product": "whatsapp", "to": "628111", "type": "text",
              "text": {"body": "x" * 4097}},
        headers={"Authorization": f"Bearer {wa.token}"},
        timeout=5,
    )  # fmt: skip
    assert answer.json()["error"]["code"] == 100


def test_whatsapp_burst_stays_within_throughput_and_pair_limits(wa, clock):
    wa.messages_per_second = 5
    client = WhatsAppClient(
        wa.token, wa.phone_number_id, base_url=wa.base_url + "/v21.0", clock=clock,
        messages_per_second=5,
    )  # fmt: skip
    numbers = [f"+62812000{n:05d}" for n in range(20)]
    results = [
        client.send_template(to, "ringkasan_kota", "id", ["a", "b", "c", "d"])
        for to in numbers + numbers[:3]  # three recipients twice: the pair limit
    ]
    client.close()
    assert [r.code for r in results if not r.sent] == []
    assert len(wa.sent) == 23
    assert client.limiter.waited >= 6.0 - 1e-9  # it waited, on the clock, not in real time


def test_whatsapp_fake_enforces_throughput_against_a_greedy_client(wa, clock):
    wa.messages_per_second = 5
    client = WhatsAppClient(
        wa.token, wa.phone_number_id, base_url=wa.base_url + "/v21.0", clock=clock,
        messages_per_second=100,
    )  # fmt: skip
    results = [
        client.send_template(f"+62812000{n:05d}", "ringkasan_kota", "id", ["a", "b", "c", "d"])
        for n in range(8)
    ]
    client.close()
    assert {r.code for r in results if not r.sent} == {"130429"}
    assert all(r.outcome is Outcome.TRANSIENT for r in results if not r.sent)


# --------------------------------------------------------------------------- Telegram


def test_telegram_get_me_and_get_chat(telegram):
    me = telegram.get_me()
    assert me.sent and me.data["result"]["is_bot"] is True
    chat = telegram.get_chat(GROUP)
    assert chat.sent and chat.data["result"]["type"] == "supergroup"
    assert telegram.get_chat(-42).code == "400"


def test_telegram_message_reaches_the_group(telegram, tg):
    result = telegram.send_message(GROUP, "<b>Ringkasan</b> Jakarta Barat &amp; sekitarnya")
    assert result.sent and result.provider_id == "1"
    (message,) = tg.messages_to(GROUP)
    assert message.parse_mode == "HTML" and message.preview_disabled
    assert result.data["result"]["text"] == "Ringkasan Jakarta Barat & sekitarnya"


@pytest.mark.parametrize(
    ("chat", "code", "words"),
    [(-42, "400", "tidak ditemukan"), (PERSON, "403", "memblokir")],
    ids=["chat-not-found", "blocked"],
)
def test_telegram_unknown_or_blocking_chat_is_permanent(telegram, tg, chat, code, words):
    tg.block(PERSON)
    result = telegram.send_message(chat, "Halo")
    assert (result.outcome, result.code) == (Outcome.PERMANENT, code)
    assert words in result.operator


def test_telegram_wrong_token_is_permanent(tg, clock):
    client = TelegramClient("123456:wrong-token-abc", base_url=tg.base_url, clock=clock)
    result = client.send_message(GROUP, "Halo")
    client.close()
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "401")


def test_telegram_too_long_is_refused_by_the_fake(telegram, tg):
    result = telegram.send_message(GROUP, "x" * 4097, parse_mode=None)
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "400")
    assert "too long" in result.operator
    # entities do not count: 4096 visible characters in bold fit
    assert telegram.send_message(GROUP, "<b>" + "x" * 4096 + "</b>").sent


def test_telegram_429_carries_retry_after_and_holds_the_chat(telegram, tg, clock):
    tg.fail_next(1, 429, "Too Many Requests: retry after 7", retry_after=7)
    result = telegram.send_message(GROUP, "Halo")
    assert (result.outcome, result.retry_after) == (Outcome.TRANSIENT, 7.0)
    before = clock.monotonic()
    assert telegram.send_message(GROUP, "Halo").sent
    assert clock.monotonic() - before >= 7.0  # the client waited what the service asked


@pytest.mark.parametrize("status", [500, 502, 503])
def test_telegram_server_errors_and_timeouts_are_transient(telegram, tg, clock, status):
    tg.fail_next(1, status, "Internal Server Error")
    assert telegram.send_message(GROUP, "Halo").outcome is Outcome.TRANSIENT
    tg.fail_bare(1, status)
    assert telegram.send_message(GROUP, "Halo").code == str(status)
    slow = TelegramClient(tg.token, base_url=tg.base_url, clock=clock, timeout=(1.0, 0.3))
    tg.slow_next(1.5)
    late = slow.send_message(GROUP, "Halo")
    slow.close()
    assert (late.outcome, late.code) == (Outcome.TRANSIENT, "timeout")


def test_telegram_burst_of_50_to_one_chat_stays_within_the_limits(telegram, tg, clock):
    start = clock.monotonic()
    results = [telegram.send_message(PERSON, f"Pesan {n}") for n in range(50)]
    assert all(r.sent for r in results)
    assert tg.rate_limited == 0
    times = [m.at for m in tg.messages_to(PERSON)]
    assert len(times) == 50
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1.0 - 1e-6
    assert clock.monotonic() - start == pytest.approx(49.0)  # simulated, not slept


def test_telegram_burst_to_a_group_keeps_20_per_minute(telegram, tg, clock):
    start = clock.monotonic()
    assert all(telegram.send_message(GROUP, f"Pesan {n}").sent for n in range(50))
    assert tg.rate_limited == 0
    assert clock.monotonic() - start >= 120.0  # 50 messages at 20 a minute


def test_telegram_fake_enforces_its_limits_against_a_greedy_client(tg, clock):
    greedy = TelegramClient(tg.token, base_url=tg.base_url, clock=clock, per_chat_interval=0.0)
    results = [greedy.send_message(PERSON, f"Pesan {n}") for n in range(3)]
    greedy.close()
    assert results[0].sent
    assert results[1].outcome is Outcome.TRANSIENT and results[1].retry_after == 1.0
    assert tg.rate_limited >= 1


def test_telegram_pdf_round_trip(telegram, tg):
    pdf = _pdf("Laporan Telegram")
    result = telegram.send_document(GROUP, pdf, "laporan.pdf", caption="Laporan Pimpinan Januari")
    assert result.sent
    (message,) = tg.messages_to(GROUP)
    assert message.document is not None and message.document.data == pdf
    assert message.document.file_name == "laporan.pdf"
    assert message.caption == "Laporan Pimpinan Januari"
    assert result.data["result"]["document"]["file_size"] == len(pdf)
    with pytest.raises(ValueError, match="1024"):
        telegram.send_document(GROUP, pdf, "laporan.pdf", caption="x" * 1025)


# --------------------------------------------------------------------------- secrets


def test_tokens_appear_in_no_log_line_repr_or_result(wa, tg, clock, caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    wa_client = WhatsAppClient(wa.token, wa.phone_number_id, waba_id=wa.waba_id,
                               base_url=wa.base_url + "/v21.0", clock=clock, timeout=(1.0, 0.3))  # fmt: skip
    tg_client = TelegramClient(tg.token, base_url=tg.base_url, clock=clock, timeout=(1.0, 0.3))
    down = TelegramClient(tg.token, base_url=f"http://127.0.0.1:{_closed_port()}", clock=clock)
    tg.slow_next(1.0)
    results = [
        wa_client.send_template(KETUA, "ringkasan_kota", "id", ["a", "b", "c", "d"]),
        wa_client.send_text(KETUA, "Halo"),  # 131047
        wa_client.approved_templates(),
        tg_client.send_message(GROUP, "Halo"),  # times out
        tg_client.send_message(GROUP, "Halo"),
        tg_client.send_message(-42, "Halo"),
        down.send_message(GROUP, "Halo"),  # connection refused: the URL holds the token
    ]
    seen += [repr(r) + str(r) for r in results]
    seen += [repr(wa_client), repr(tg_client), repr(down), str(vars(tg_client))]
    for client in (wa_client, tg_client, down):
        client.close()
    assert [getattr(r, "code", "") for r in results[3:]] == ["timeout", "", "400", "connection"]
    text = caplog.text + "\n".join(seen)
    assert wa.token not in text and tg.token not in text
    assert tg.token.split(":")[1] not in text  # not even the secret half
    assert "/bot<token>/sendMessage" in caplog.text  # urllib3 did log the request line, hidden


def test_a_failed_send_raises_nothing_that_names_the_token(tg, clock):
    client = TelegramClient(tg.token, base_url=f"http://127.0.0.1:{_closed_port()}", clock=clock)
    try:
        result = client.send_document(GROUP, b"%PDF-1.4", "a.pdf")
    finally:
        client.close()
    assert tg.token not in repr(result)
    with pytest.raises(ValueError) as info:
        TelegramClient("", base_url=tg.base_url)
    assert "token" in str(info.value)


# --------------------------------------------------------------------------- helpers


def test_rate_limiter_waits_on_the_clock_not_in_real_time(clock):
    limiter = RateLimiter(clock)
    for _ in range(5):
        limiter.acquire([Limit("chat:1", 1, 1.0), Limit("all", 30, 1.0)])
    assert clock.monotonic() == pytest.approx(4.0)
    limiter.hold("chat:1", 10.0)
    limiter.acquire([Limit("chat:1", 1, 1.0)])
    assert clock.monotonic() == pytest.approx(14.0)


@settings(max_examples=200)
@given(
    st.lists(st.text(alphabet="ab c", max_size=60), max_size=30).map("\n".join),
    st.integers(min_value=10, max_value=80),
)
def test_split_text_keeps_every_line_within_the_limit(text, limit):
    parts = split_text(text, limit)
    assert all(len(part) <= limit for part in parts)
    if all(len(line) <= limit for line in text.split("\n")) and text.strip():
        # nothing but the line breaks at the cuts is lost: the lines come back in order
        rejoined = "\n".join(parts).split("\n")
        assert [line for line in rejoined if line.strip()] == [
            line for line in text.split("\n") if line.strip()
        ]


def test_split_text_cuts_at_line_ends():
    lines = [f"Baris {n:02d} " + "x" * 30 for n in range(10)]
    parts = split_text("\n".join(lines), 100)
    assert all(part.split("\n")[0].startswith("Baris") for part in parts)
    assert "\n".join(parts) == "\n".join(lines)


def test_the_fakes_listen_on_loopback_only():
    with pytest.raises(ValueError, match="loopback"):
        FakeTelegram(host="0.0.0.0")
    with FakeWhatsApp() as fake:
        assert fake.base_url.startswith("http://127.0.0.1:")


def test_window_uses_the_test_clock(wa, whatsapp, clock):
    wa.customer_replied(KETUA, at=clock.now() - timedelta(hours=24, seconds=1))
    assert whatsapp.send_text(KETUA, "Halo").code == "131047"


# --------------------------------------------------------------------------- the documented templates

_DOC = Path(__file__).resolve().parents[1] / "docs" / "channels.md"


def _documented_templates() -> dict[str, str]:
    text = _DOC.read_text(encoding="utf-8")
    found = re.findall(r"### `(kkmp_\w+)`[^\n]*\n(?:.*?\n)*?```\n(.*?)```", text, re.S)
    return {name: body.strip() for name, body in found}


def test_the_documented_templates_keep_metas_rules():
    templates = _documented_templates()
    assert set(templates) == {
        "kkmp_ringkasan_kota",
        "kkmp_ringkasan_kecamatan",
        "kkmp_pengingat_mingguan",
        "kkmp_peringatan_pj",
        "kkmp_laporan_pimpinan",
    }
    for name, body in templates.items():
        numbers = [int(n) for n in re.findall(r"\{\{(\d+)\}\}", body)]
        assert numbers == list(range(1, len(numbers) + 1)), name  # {{1}}… in order, once each
        assert not re.match(r"\s*\{\{", body) and not re.search(r"\}\}\s*$", body), name
        assert not re.search(r"\}\}\s*\{\{", body), name  # never two side by side
        assert len(body) <= 1024, name
        assert not re.search(r"NIK|nama anggota", body, re.I), name


def test_the_documented_templates_send_through_the_fake(wa, whatsapp):
    for name, body in _documented_templates().items():
        wa.add_template(name, "id", body, header_document=name == "kkmp_laporan_pimpinan")
    uploaded = whatsapp.upload_pdf(_pdf(), "laporan.pdf")
    for n, (name, body) in enumerate(_documented_templates().items()):
        count = len(set(re.findall(r"\{\{(\d+)\}\}", body)))
        document = {"id": uploaded.provider_id or "", "filename": "laporan.pdf"}
        result = whatsapp.send_template(
            f"+62812555{n:05d}",
            name,
            "id",
            [f"nilai {i}" for i in range(1, count + 1)],
            document=document if name == "kkmp_laporan_pimpinan" else None,
        )
        assert result.sent, (name, result)


def test_the_fakes_run_standalone_for_a_local_service():
    import os
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "kkmp_sheets.testing.fake_channels", "--chat", str(GROUP),
         "--template", "kkmp_ringkasan_kota:id:2"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        env = dict(process.stdout.readline().strip().split("=", 1) for _ in range(6))
        wa_client = WhatsAppClient(
            env["KKMP_WHATSAPP_TOKEN"],
            env["KKMP_WHATSAPP_PHONE_NUMBER_ID"],
            waba_id=env["KKMP_WHATSAPP_WABA_ID"],
            base_url=env["KKMP_WHATSAPP_BASE_URL"],
        )
        tg_client = TelegramClient(
            env["KKMP_TELEGRAM_TOKEN"], base_url=env["KKMP_TELEGRAM_BASE_URL"]
        )
        assert wa_client.approved_templates() == {("kkmp_ringkasan_kota", "id"): "APPROVED"}
        assert wa_client.send_template(KETUA, "kkmp_ringkasan_kota", "id", ["a", "b"]).sent
        assert tg_client.send_message(GROUP, "Ringkasan hari ini").sent
        wa_client.close()
        tg_client.close()
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "whatsapp +6281234567890 template: Pesan isian a. isian b." in out
    assert f"telegram {GROUP}: Ringkasan hari ini" in out
    assert env["KKMP_TELEGRAM_TOKEN"] not in out
