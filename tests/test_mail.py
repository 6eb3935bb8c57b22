"""Digest messages and transports, against a real SMTP server (aiosmtpd) on 127.0.0.1.

`SmtpServer` and `Mailbox` are also used by test_deliveries.py.
"""

from __future__ import annotations

import asyncio
import email
import shutil
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as DEFAULT_POLICY
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from kkmp_sheets.delivery.mail import (
    WIB,
    Archive,
    Digest,
    DigestKey,
    InlineImage,
    OutboxTransport,
    Outcome,
    SmtpTransport,
    build_message,
    message_bytes,
    one_line,
    parse_mailbox,
    period_for,
    slug_of,
)
from kkmp_sheets.errors import ConfigError, OutputError

NOW = datetime(2026, 1, 29, 7, 0, tzinfo=WIB)
# A real 1×1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082"
)
SENDER = "Sudin PPKUKM Jakarta Barat <kkmp-sheets@jakbar.go.id>"
INDONESIAN = "Ringkasan — Kelurahan Kedoya Utara · Rp 1.234.567,89 · “Hijau” ✓"


def city_key(period: str = "2026-01-29") -> DigestKey:
    return DigestKey("city", "kota", period)


def make_digest(
    to: tuple[str, ...] = ("kadis@jakbar.go.id",), key: DigestKey | None = None, **kw: Any
) -> Digest:
    fields: dict[str, Any] = {
        "key": key or city_key(),
        "to": to,
        "subject": f"Ringkasan KKMP Jakarta Barat 29 Januari 2026 — {INDONESIAN}",
        "text": f"Yth. Bapak/Ibu,\n{INDONESIAN}\n.\nBaris yang diawali titik.\n",
        "html": f'<p>{INDONESIAN}</p><img src="cid:zona" alt="Zona per kecamatan">',
        "images": (InlineImage("zona", PNG, "Zona per kecamatan — peta"),),
        "sender": SENDER,
    }
    fields.update(kw)
    return Digest(**fields)


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=DEFAULT_POLICY)
    assert isinstance(msg, EmailMessage)
    assert not msg.defects
    return msg


def lines(part: Any) -> str:
    """A text part's content with the wire's CRLF line ends as \\n."""
    return str(part.get_content()).replace("\r\n", "\n")


# --- a real SMTP server


@dataclass
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    def message(self) -> EmailMessage:
        return parse(self.data)


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it accepts and refuses on request."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address → refusal
    data_reply: str | None = None  # refuse the message itself
    data_delay: float = 0.0  # keep the message, but answer this late

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.rcpt_replies.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.received.append(
            Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content)
        )
        await asyncio.sleep(self.data_delay)  # the message is kept; only the answer is late
        return "250 2.0.0 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """aiosmtpd on 127.0.0.1 that can be stopped and started again on the same port."""

    def __init__(self, handler: Mailbox | None = None, **smtp_kwargs: Any) -> None:
        self.handler = handler or Mailbox()
        self.port = free_port()
        self._kwargs = smtp_kwargs
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> SmtpServer:
        self._controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            server_hostname="smtp.test",
            **self._kwargs,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def transport(self, **kw: Any) -> SmtpTransport:
        options: dict[str, Any] = {"security": "none", "timeout": 5, "local_hostname": "kkmp.test"}
        options.update(kw)
        return SmtpTransport("127.0.0.1", self.port, **options)


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def accept_user(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"kkmp", b"rahasia")
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


# --- keys, periods, addresses


def test_slug_is_deterministic_and_safe():
    key = DigestKey("kecamatan", "kecamatan:31.73.01", "2026-01-29")
    assert key.slug() == DigestKey("kecamatan", "kecamatan:31.73.01", "2026-01-29").slug()
    assert key.slug().startswith("kecamatan_kecamatan-31-73-01_2026-01-29_")
    assert key.message_id() == f"<{key.slug()}@kkmp-sheets>"
    for audience in ("pj:Budi.Santoso+x@contoh.go.id", "coop:KKMP-3173011001", "kota / ✓ ..\\"):
        slug = DigestKey("alert", audience, "2026-01-29T08").slug()
        assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_"), slug
        assert len(slug) <= 100


def test_slugs_differ_when_readable_parts_collide():
    # Same readable part, and equal on a case-insensitive file system: the hash tells them apart.
    keys = [DigestKey("alert", a, "2026-01-29T08") for a in ("pj:budi@x", "pj:budi.x", "pj:BUDI@x")]
    assert len({k.slug().lower() for k in keys}) == 3


@pytest.mark.parametrize(
    ("kind", "audience", "period"),
    [
        ("weekly", "kota", "2026-01-29"),
        ("city", "", "2026-01-29"),
        ("city", "kota\r\nBcc: evil@x", "2026-01-29"),
        ("city", "kota", "29-01-2026"),
        ("coop", "coop:KKMP-1", "2026-5"),
        ("alert", "pj:budi@x", "2026-01-29 08"),
    ],
)
def test_digest_key_rejects_bad_parts(kind, audience, period):
    with pytest.raises(ValueError):
        DigestKey(kind, audience, period)


@pytest.mark.parametrize(
    ("kind", "at", "period"),
    [
        ("city", datetime(2026, 1, 29, 7, tzinfo=WIB), "2026-01-29"),
        ("kecamatan", datetime(2026, 1, 28, 17, 30, tzinfo=UTC), "2026-01-29"),  # 00:30 WIB
        ("coop", datetime(2026, 1, 29, tzinfo=WIB), "2026-W05"),
        ("coop", datetime(2026, 1, 1, tzinfo=WIB), "2026-W01"),
        ("coop", datetime(2027, 1, 1, tzinfo=WIB), "2026-W53"),  # ISO year, not calendar year
        ("alert", datetime(2026, 1, 29, 8, 59, tzinfo=WIB), "2026-01-29"),
    ],
)
def test_period_for(kind, at, period):
    assert period_for(kind, at) == period
    DigestKey(kind, "x", period)  # and it is a valid period


def test_period_for_needs_a_time_zone():
    with pytest.raises(ValueError, match="time zone"):
        period_for("city", datetime(2026, 1, 29))


@pytest.mark.parametrize(
    ("text", "name", "addr"),
    [
        ("kadis@jakbar.go.id", "", "kadis@jakbar.go.id"),
        ("  Ibu Sari <sari.w+kkmp@contoh.id> ", "Ibu Sari", "sari.w+kkmp@contoh.id"),
        ('"Pak Budi, S.E." <budi@contoh.id>', "Pak Budi, S.E.", "budi@contoh.id"),
        ("Budi\r\nBcc: evil@x <budi@contoh.id>", "Budi Bcc: evil@x", "budi@contoh.id"),
        ("kkmp-sheets@localhost", "", "kkmp-sheets@localhost"),
    ],
)
def test_parse_mailbox(text, name, addr):
    mailbox = parse_mailbox(text)
    assert (mailbox.display_name, mailbox.addr_spec) == (name, addr)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "budi",
        "budi@",
        "budi@contoh.id\r\nBcc: evil@x",
        "budi@contoh.id, evil@x",
        "Budi <budi@contoh.id\r\nBcc: evil@x>",
        "büdi@contoh.id",
        '"budi"@contoh.id',
        "budi@contoh..id",
    ],
)
def test_parse_mailbox_rejects_anything_but_one_plain_address(text):
    with pytest.raises(ValueError):
        parse_mailbox(text)


def test_one_line():
    assert one_line(" a\r\nb\tc\x00d\u2028e  f ") == "a b c d e f"


# --- digests and messages


def test_digest_checks_itself():
    with pytest.raises(ValueError, match="not an e-mail address"):
        make_digest(to=("kadis@jakbar.go.id", "bukan alamat"))
    with pytest.raises(ValueError, match="need an HTML part"):
        make_digest(html=None)
    with pytest.raises(ValueError, match="never shows"):
        make_digest(html="<p>tanpa gambar</p>")
    with pytest.raises(ValueError, match="empty subject"):
        make_digest(subject=" \r\n ")
    with pytest.raises(ValueError, match="not a PNG"):
        InlineImage("zona", b"GIF89a", "x")
    with pytest.raises(ValueError, match="cid"):
        InlineImage("zona>\r\nBcc: x", PNG, "x")


def test_recipients_are_unique_case_insensitively():
    digest = make_digest(to=("a@contoh.id", "Ani <A@Contoh.id>", "b@contoh.id"))
    assert digest.recipients() == ("a@contoh.id", "b@contoh.id")
    msg = build_message(digest, now=NOW)
    assert [a.addr_spec for a in msg["To"].addresses] == ["a@contoh.id", "b@contoh.id"]


def test_message_structure_round_trips():
    msg = parse(message_bytes(build_message(make_digest(), now=NOW)))

    assert msg.get_content_type() == "multipart/alternative"
    text, related = msg.get_payload()
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, image = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == "<zona>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == PNG
    assert image["Content-Description"] == "Zona per kecamatan — peta"

    assert INDONESIAN in text.get_content()
    assert "\n.\nBaris yang diawali titik." in lines(text)
    assert INDONESIAN in html.get_content()
    assert msg["Subject"] == f"Ringkasan KKMP Jakarta Barat 29 Januari 2026 — {INDONESIAN}"
    assert msg["From"].addresses[0].display_name == "Sudin PPKUKM Jakarta Barat"
    assert msg["Date"] == "Thu, 29 Jan 2026 07:00:00 +0700"
    assert msg["Message-ID"] == city_key().message_id()
    assert msg["Auto-Submitted"] == "auto-generated"


def test_message_is_seven_bit_with_crlf_and_the_same_every_time():
    digest = make_digest()
    data = message_bytes(build_message(digest, now=NOW))
    assert max(data) < 128
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    again = parse(message_bytes(build_message(digest, now=NOW)))
    assert again["Message-ID"] == parse(data)["Message-ID"]
    assert slug_of(again) == digest.key.slug()


def test_date_is_in_wib_whatever_the_clock_zone():
    msg = build_message(make_digest(), now=datetime(2026, 1, 29, 0, 30, tzinfo=UTC))
    assert msg["Date"] == "Thu, 29 Jan 2026 07:30:00 +0700"
    with pytest.raises(ValueError, match="time zone"):
        build_message(make_digest(), now=datetime(2026, 1, 29, 7))


def test_text_only_and_reply_to():
    digest = make_digest(html=None, images=(), reply_to="Operator <ops@jakbar.go.id>")
    msg = parse(message_bytes(build_message(digest, now=NOW)))
    assert msg.get_content_type() == "text/plain"
    assert msg["Reply-To"].addresses[0].addr_spec == "ops@jakbar.go.id"


def test_no_recipients_means_no_to_header():
    msg = build_message(make_digest(to=()), now=NOW)
    assert msg["To"] is None


INJECTIONS = [
    "Laporan\r\nBcc: evil@x",
    "Laporan\nBcc: evil@x",
    "Laporan\rBcc: evil@x",
    "Laporan\r\n\r\nBody palsu",
    "Laporan\u2028Bcc: evil@x",
    "Laporan =?utf-8?q?=0D=0ABcc:_evil@x?=",
    "Laporan\x00\x0bBcc: evil@x",
]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_header_injection_in_subject_and_names_is_harmless_text(evil):
    digest = make_digest(
        subject=evil,
        to=(f"{evil} <kadis@jakbar.go.id>", "camat@jakbar.go.id"),
        sender=f"{evil} <kkmp-sheets@jakbar.go.id>",
        reply_to=f"{evil} <ops@jakbar.go.id>",
    )
    data = message_bytes(build_message(digest, now=NOW))
    msg = parse(data)

    assert msg.get_all("Bcc") is None
    assert len(msg.get_all("Subject")) == 1
    assert len(msg.get_all("To")) == 1
    assert [a.addr_spec for a in msg["To"].addresses] == [
        "kadis@jakbar.go.id",
        "camat@jakbar.go.id",
    ]
    assert [a.addr_spec for a in msg["From"].addresses] == ["kkmp-sheets@jakbar.go.id"]
    assert [a.addr_spec for a in msg["Reply-To"].addresses] == ["ops@jakbar.go.id"]
    assert msg["Subject"].startswith("Laporan ")
    assert "evil@x" in msg["Subject"] or "Body palsu" in msg["Subject"]  # kept, as plain text
    assert not any(line.lower().startswith(b"bcc:") for line in data.split(b"\r\n"))
    assert msg.get_content_type() == "multipart/alternative"  # the body is where it should be


# --- the outbox


def test_outbox_writes_the_message_atomically(tmp_path: Path):
    outbox = OutboxTransport(tmp_path / "out" / "outbox")
    digest = make_digest(to=("kadis@jakbar.go.id", "camat@jakbar.go.id"))
    msg = build_message(digest, now=NOW)

    result = outbox.send(msg, digest.recipients())

    assert result.accepted == digest.recipients()
    files = list(outbox.dir.iterdir())
    assert files == [outbox.path_for(digest.key)]  # no temporary file left behind
    assert files[0].read_bytes() == message_bytes(msg)
    assert isinstance(outbox, Archive)
    assert outbox.holds(digest.key)
    assert not outbox.holds(city_key("2026-01-30"))


def test_outbox_writes_a_digest_nobody_receives(tmp_path: Path):
    outbox = OutboxTransport(tmp_path)
    digest = make_digest(to=())
    result = outbox.send(build_message(digest, now=NOW), ())
    assert result.results == {}
    assert parse(outbox.path_for(digest.key).read_bytes())["To"] is None


def test_outbox_that_cannot_be_written_is_an_output_error(tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    outbox = OutboxTransport(blocker / "outbox")
    with pytest.raises(OutputError, match="outbox"):
        outbox.send(build_message(make_digest(), now=NOW), ("kadis@jakbar.go.id",))


# --- SMTP


def send(transport: SmtpTransport, digest: Digest):
    return transport.send(build_message(digest, now=NOW), digest.recipients())


def test_smtp_delivers_a_well_formed_message(smtp: SmtpServer):
    digest = make_digest(to=("kadis@jakbar.go.id", "Camat <camat@jakbar.go.id>"))

    result = send(smtp.transport(), digest)

    assert result.accepted == ("kadis@jakbar.go.id", "camat@jakbar.go.id")
    assert result.results["kadis@jakbar.go.id"].reply.startswith("250")
    [received] = smtp.received
    assert received.mail_from == "kkmp-sheets@jakbar.go.id"
    assert received.rcpt_tos == ("kadis@jakbar.go.id", "camat@jakbar.go.id")
    msg = received.message()
    assert msg["Message-ID"] == digest.key.message_id()
    assert INDONESIAN in msg.get_body(("plain",)).get_content()
    assert INDONESIAN in msg.get_body(("html",)).get_content()
    [image] = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert image.get_content() == PNG
    # The line starting with a dot survived SMTP's dot-stuffing.
    assert "\n.\nBaris yang diawali titik." in lines(msg.get_body(("plain",)))


def test_smtp_header_injection_reaches_nobody_else(smtp: SmtpServer):
    evil = "Laporan\r\nBcc: evil@x.id"
    digest = make_digest(subject=evil, to=(f"{evil} <kadis@jakbar.go.id>",))
    send(smtp.transport(), digest)
    [received] = smtp.received
    assert received.rcpt_tos == ("kadis@jakbar.go.id",)
    assert received.message().get_all("Bcc") is None


def test_smtp_one_refused_recipient_does_not_block_the_others(smtp: SmtpServer):
    smtp.handler.rcpt_replies["hilang@jakbar.go.id"] = (
        "550 5.1.1 <hilang@jakbar.go.id>: no such user"
    )
    smtp.handler.rcpt_replies["penuh@jakbar.go.id"] = "452 4.2.2 mailbox full"
    digest = make_digest(to=("kadis@jakbar.go.id", "hilang@jakbar.go.id", "penuh@jakbar.go.id"))

    result = send(smtp.transport(), digest)

    assert result.accepted == ("kadis@jakbar.go.id",)
    assert result.permanent == ("hilang@jakbar.go.id",)
    assert result.results["hilang@jakbar.go.id"].reply == (
        "550 5.1.1 <hilang@jakbar.go.id>: no such user"
    )
    assert result.temporary == ("penuh@jakbar.go.id",)
    assert result.results["penuh@jakbar.go.id"].attempted
    [received] = smtp.received
    assert received.rcpt_tos == ("kadis@jakbar.go.id",)


def test_smtp_server_closing_is_not_held_against_the_recipient(smtp: SmtpServer):
    smtp.handler.rcpt_replies["kadis@jakbar.go.id"] = "421 4.3.2 shutting down"
    [outcome] = send(smtp.transport(), make_digest()).results.values()
    assert (outcome.outcome, outcome.attempted) == (Outcome.TEMPORARY, False)


def test_smtp_all_recipients_refused_sends_nothing(smtp: SmtpServer):
    smtp.handler.rcpt_replies["kadis@jakbar.go.id"] = "550 no"
    result = send(smtp.transport(), make_digest())
    assert result.permanent == ("kadis@jakbar.go.id",)
    assert smtp.received == []


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [("451 4.3.0 try again later", Outcome.TEMPORARY), ("554 5.6.0 spam", Outcome.PERMANENT)],
)
def test_smtp_message_refused_at_data(smtp: SmtpServer, reply, outcome):
    smtp.handler.data_reply = reply
    result = send(smtp.transport(), make_digest(to=("a@contoh.id", "b@contoh.id")))
    assert {r.outcome for r in result.results.values()} == {outcome}
    assert result.results["a@contoh.id"].reply == reply
    assert smtp.received == []


def test_smtp_server_down_is_temporary_and_no_attempt():
    server = SmtpServer()  # never started: the port refuses connections
    result = send(server.transport(timeout=2), make_digest())
    [(recipient, outcome)] = result.results.items()
    assert recipient == "kadis@jakbar.go.id"
    assert outcome.outcome is Outcome.TEMPORARY
    assert not outcome.attempted
    assert "Connection" in outcome.reply


def test_smtp_no_answer_after_the_message_is_uncertain():
    server = SmtpServer(Mailbox(data_delay=5.0)).start()
    try:
        result = send(server.transport(timeout=1.0), make_digest())
        assert result.uncertain == ("kadis@jakbar.go.id",)
        assert "no answer after the message" in result.results["kadis@jakbar.go.id"].reply
    finally:
        server.stop()
    assert len(server.received) == 1  # the server has it all the same: never send it again


def test_smtp_with_no_recipients_does_not_connect():
    result = SmtpServer().transport().send(build_message(make_digest(to=()), now=NOW), ())
    assert result.results == {}


def test_smtp_starttls_with_login(certificate):
    server = SmtpServer(
        tls_context=server_tls(certificate),
        require_starttls=True,
        auth_required=True,
        authenticator=accept_user,
    ).start()
    try:
        transport = server.transport(
            security="starttls",
            ssl_context=trusting(certificate),
            username="kkmp",
            password="rahasia",
        )
        result = send(transport, make_digest())
    finally:
        server.stop()
    assert result.accepted == ("kadis@jakbar.go.id",)
    assert len(server.received) == 1


def test_smtp_wrong_password_is_not_sent_and_not_an_attempt(certificate):
    server = SmtpServer(
        tls_context=server_tls(certificate), auth_required=True, authenticator=accept_user
    ).start()
    try:
        transport = server.transport(
            security="starttls", ssl_context=trusting(certificate), username="kkmp", password="x"
        )
        result = send(transport, make_digest())
    finally:
        server.stop()
    [outcome] = result.results.values()
    assert (outcome.outcome, outcome.attempted) == (Outcome.TEMPORARY, False)
    assert outcome.reply.startswith("535")
    assert server.received == []


def test_smtp_implicit_tls(certificate):
    server = SmtpServer(ssl_context=server_tls(certificate)).start()
    try:
        transport = server.transport(security="ssl", ssl_context=trusting(certificate))
        result = send(transport, make_digest())
    finally:
        server.stop()
    assert result.accepted == ("kadis@jakbar.go.id",)
    assert len(server.received) == 1


def test_smtp_untrusted_certificate_is_not_used(certificate):
    server = SmtpServer(tls_context=server_tls(certificate)).start()
    try:
        # The default context trusts the system's CAs only, not this self-signed certificate.
        result = send(server.transport(security="starttls"), make_digest())
    finally:
        server.stop()
    [outcome] = result.results.values()
    assert outcome.outcome is Outcome.TEMPORARY
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.reply
    assert server.received == []


def test_smtp_starttls_never_falls_back_to_clear_text(smtp: SmtpServer):
    result = send(smtp.transport(security="starttls"), make_digest())  # server offers no TLS
    [outcome] = result.results.values()
    assert outcome.outcome is Outcome.TEMPORARY
    assert "STARTTLS" in outcome.reply
    assert smtp.received == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"security": "tls"}, "security"),
        ({"username": "kkmp"}, "password is empty"),
        ({"security": "none", "username": "kkmp", "password": "p"}, "clear text"),
    ],
)
def test_smtp_settings_are_checked(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SmtpTransport("smtp.contoh.id", **kwargs)


def test_smtp_default_ports_and_password_never_shown():
    transport = SmtpTransport("smtp.contoh.id", security="ssl", username="u", password="rahasia")
    assert transport.port == 465
    assert SmtpTransport("smtp.contoh.id").port == 587
    assert "rahasia" not in repr(transport)
