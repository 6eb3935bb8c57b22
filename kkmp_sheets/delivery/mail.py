"""Digest e-mails as MIME messages, and the two ways they leave the service: outbox or SMTP.

Rendering (what a digest says) happens elsewhere; this module turns a rendered `Digest` into a
standards-conforming message and hands it over. Three things decide its shape:

- **Nothing in a digest can forge a header.** Subjects and display names come from data (names
  of cooperatives, kelurahan, staff). Every header is built through `email.headerregistry`, line
  breaks and other control characters in text are folded into spaces, and an address is taken
  only from a strict ASCII `local@domain` — one string gives exactly one mailbox, never a second
  recipient and never a `Bcc:` line.
- **A digest has one identity wherever it goes.** Its Message-ID is derived from the digest's
  key (`<slug@kkmp-sheets>`), so mail clients fold an accidental second copy into the first, and
  the outbox file name is the same slug.
- **A transport says, per recipient, what became of the message.** `SmtpTransport` speaks SMTP
  step by step instead of calling `sendmail()`, because only then can it tell "refused before
  the message was sent" (safe to retry) from "lost while the server was answering the end of the
  message" (the server may have it: `UNCERTAIN`, never retried automatically). It tells the
  caller each `Step` it reaches *before* taking it, so the delivery ledger (`ledger.py`) can
  record it durably: after a crash, a delivery that never reached `AFTER_DOT` certainly was not
  accepted and is sent again.
- **A stalled server costs seconds, not minutes.** Every socket operation has a timeout, and a
  failure of the server itself (refused, timed out, dropped) is flagged in the result, so the
  ledger's circuit breaker can leave the rest queued instead of waiting on each message.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import select
import smtplib
import ssl
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.policy import default as DEFAULT_POLICY
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from kkmp_sheets.core.wib import WIB
from kkmp_sheets.errors import ConfigError, OutputError

log = logging.getLogger(__name__)

MESSAGE_ID_DOMAIN = "kkmp-sheets"
KINDS = ("city", "kecamatan", "coop", "alert", "operator")  # operator: a job of `serve` failed

# A day (2026-01-29), an ISO week (2026-W05) or an hour for an alert batch (2026-01-29T08).
_PERIOD = re.compile(r"\d{4}-(?:\d{2}-\d{2}(?:T\d{2})?|W\d{2})")
# A dot-atom local part and a hostname: what real mailboxes use. No quoted local parts, no
# comments, no non-ASCII (that would need SMTPUTF8), so nothing here can carry a header.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDR_SPEC = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*")
_CID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:@[A-Za-z0-9][A-Za-z0-9._-]*)?")
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SLUG_READABLE_MAX = 80


def one_line(text: str) -> str:
    """`text` with control characters (CR, LF, TAB, NUL, ...) as spaces and runs of space as one."""
    return " ".join(_CONTROL.sub(" ", text).split())


def header_text(text: str) -> str:
    """`text` safe to put in a header: one line, and no RFC 2047 encoded word.

    The email package decodes `=?utf-8?q?...?=` found in a value it is given, and Python before
    3.11.10/3.12.5 then writes a decoded line break out raw ("=?utf-8?q?=0D=0ABcc:...?=" becomes
    a Bcc header). An invisible zero-width space after "=" keeps such text literal.
    """
    return one_line(text).replace("=?", "=\u200b?")


def parse_mailbox(text: str) -> Address:
    """'budi@contoh.id' or 'Budi Santoso <budi@contoh.id>' as one `Address`.

    The address is what stands inside the last angle brackets (or the whole text): it must be a
    plain ASCII `local@domain`, else `ValueError`. The display name is any text, made one line.
    """
    name, addr = "", text.strip()
    if addr.endswith(">") and "<" in addr:
        name, _, addr = addr[:-1].rpartition("<")
    addr = addr.strip()
    if not _ADDR_SPEC.fullmatch(addr):
        raise ValueError(f"not an e-mail address: {addr!r} (expected name@domain)")
    return Address(display_name=header_text(name).strip('"').strip(), addr_spec=addr)


def require_timezone(now: datetime) -> None:
    """Times decide periods and the Date header: a clock without a zone would shift them."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must carry a time zone (e.g. datetime.now(WIB))")


def period_for(kind: str, at: datetime) -> str:
    """The period a digest of `kind` made at `at` belongs to, in WIB (PRODUCT.md "Emails").

    City and kecamatan digests and alerts are daily (an alert's audience also names the set of
    cooperatives it flags, so a new one the same day is a new alert), cooperative digests weekly
    (ISO week); notices to the operator are batched per hour.
    """
    require_timezone(at)
    local = at.astimezone(WIB)
    if kind in ("city", "kecamatan", "alert"):
        return local.date().isoformat()
    if kind == "coop":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "operator":
        return local.strftime("%Y-%m-%dT%H")
    raise ValueError(f"unknown digest kind {kind!r}; expected one of {', '.join(KINDS)}")


def _slug_part(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


@dataclass(frozen=True)
class DigestKey:
    """What makes a digest "the same digest": kind, audience and period.

    `audience` names who it is for ("kota", "kecamatan:31.73.01", "coop:KKMP-3173011001",
    "pj:budi@contoh.id"); `period` is a day, an ISO week or an hour (see `period_for`).
    """

    kind: str
    audience: str
    period: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown digest kind {self.kind!r}; expected one of {KINDS}")
        if not self.audience or one_line(self.audience) != self.audience:
            raise ValueError(f"digest audience {self.audience!r} must be one non-empty line")
        if not _PERIOD.fullmatch(self.period):
            raise ValueError(
                f"digest period {self.period!r}: expected a day (2026-01-29), an ISO week "
                "(2026-W05) or an hour (2026-01-29T08)"
            )

    def slug(self) -> str:
        """A name safe for files and Message-IDs: readable, lower-case, and unique per key.

        The readable part alone could collide ("pj:Budi@x" and "pj:budi.x"; case-insensitive
        file systems), so a short hash of the exact key follows it.
        """
        readable = "_".join(_slug_part(p) for p in (self.kind, self.audience, self.period))
        exact = "\x1f".join((self.kind, self.audience, self.period)).encode()
        return f"{readable[:_SLUG_READABLE_MAX]}_{hashlib.sha256(exact).hexdigest()[:12]}"

    def message_id(self) -> str:
        return f"<{self.slug()}@{MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True)
class InlineImage:
    """A PNG shown inside the HTML part, referenced there as `<img src="cid:{cid}" alt=...>`."""

    cid: str
    png: bytes
    alt: str

    def __post_init__(self) -> None:
        if not _CID.fullmatch(self.cid):
            raise ValueError(f"image cid {self.cid!r}: use letters, digits, '.', '_', '-'")
        if not self.png.startswith(_PNG_SIGNATURE):
            raise ValueError(f"image {self.cid!r} is not a PNG")


@dataclass(frozen=True)
class Attachment:
    """A file carried by the message (the Laporan Pimpinan PDF), by value: the bytes are in the
    message the ledger keeps, so a resend after a crash sends exactly what was queued."""

    filename: str
    data: bytes
    mime: str = "application/pdf"

    def __post_init__(self) -> None:
        if not _FILENAME.fullmatch(self.filename):
            raise ValueError(
                f"attachment name {self.filename!r}: use letters, digits, '.', '_', '-'"
            )
        if "/" not in self.mime or one_line(self.mime) != self.mime:
            raise ValueError(f"attachment {self.filename!r}: {self.mime!r} is not a MIME type")
        if self.mime == "application/pdf" and not self.data.startswith(b"%PDF-"):
            raise ValueError(f"attachment {self.filename!r} is not a PDF")

    @classmethod
    def pdf(cls, path: str | os.PathLike[str]) -> Attachment:
        """The PDF at `path`, read now."""
        return cls(Path(path).name, Path(path).read_bytes())


@dataclass(frozen=True, kw_only=True)
class Digest:
    """One rendered digest, ready to send. Checked on construction so sending cannot fail on it.

    `to`, `sender` and `reply_to` take 'addr@domain' or 'Display Name <addr@domain>' (see
    `parse_mailbox`). An empty `to` is allowed: the outbox still writes the digest.
    """

    key: DigestKey
    to: tuple[str, ...]
    subject: str
    text: str
    sender: str
    html: str | None = None
    images: tuple[InlineImage, ...] = ()
    reply_to: str | None = None
    attachments: tuple[Attachment, ...] = ()
    # What the templates were given (figures already measured, names, links): the WhatsApp
    # and Telegram texts are made from it (`delivery/channel_text.py`), never recomputed.
    view: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", tuple(self.to))
        object.__setattr__(self, "images", tuple(self.images))
        object.__setattr__(self, "attachments", tuple(self.attachments))
        for text in (*self.to, self.sender, *filter(None, [self.reply_to])):
            parse_mailbox(text)
        if not one_line(self.subject):
            raise ValueError(f"digest {self.key.slug()} has an empty subject")
        self._check_images()

    def _check_images(self) -> None:
        if self.images and self.html is None:
            raise ValueError(f"digest {self.key.slug()}: inline images need an HTML part")
        cids = [image.cid for image in self.images]
        if len(set(cids)) != len(cids):
            raise ValueError(f"digest {self.key.slug()}: two images share a cid")
        missing = [cid for cid in cids if f"cid:{cid}" not in (self.html or "")]
        if missing:
            raise ValueError(f"digest {self.key.slug()}: the HTML never shows image(s) {missing}")

    def mailboxes(self) -> tuple[Address, ...]:
        """`to`, each address once (case-insensitively), in the order given."""
        seen: dict[str, Address] = {}
        for text in self.to:
            mailbox = parse_mailbox(text)
            seen.setdefault(mailbox.addr_spec.lower(), mailbox)
        return tuple(seen.values())

    def recipients(self) -> tuple[str, ...]:
        """The envelope addresses."""
        return tuple(mailbox.addr_spec for mailbox in self.mailboxes())


def build_message(d: Digest, *, now: datetime) -> EmailMessage:
    """The MIME message for `d`: text, or text + HTML alternatives with related inline images;
    with attachments, that body and the files in a multipart/mixed (each base64, named).

    Bodies are quoted-printable UTF-8 and headers RFC 2047-encoded, so the message is 7-bit
    clean and any server accepts it. `Date` is `now` in WIB.
    """
    require_timezone(now)
    msg = EmailMessage(policy=DEFAULT_POLICY)
    msg["From"] = parse_mailbox(d.sender)
    if d.to:
        msg["To"] = d.mailboxes()
    if d.reply_to is not None:
        msg["Reply-To"] = parse_mailbox(d.reply_to)
    msg["Subject"] = header_text(d.subject)
    msg["Date"] = now.astimezone(WIB)
    msg["Message-ID"] = d.key.message_id()
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    msg.set_content(d.text, cte="quoted-printable")
    if d.html is not None:
        msg.add_alternative(d.html, subtype="html", cte="quoted-printable")
        _attach_images(_last_part(msg), d.images)
    for attachment in d.attachments:
        maintype, subtype = attachment.mime.split("/", 1)
        msg.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    _check_headers(msg)
    return msg


def _check_headers(msg: MIMEPart) -> None:
    """Last guard: no header value, as the email package understood it, spans two lines."""
    for part in msg.walk():
        for name, value in part.items():
            if re.search(r"[\r\n]", str(value)):
                raise ValueError(f"header {name} would span lines: {str(value)!r}")


def _last_part(msg: MIMEPart) -> MIMEPart:
    return list(msg.iter_parts())[-1]


def _attach_images(html_part: MIMEPart, images: Sequence[InlineImage]) -> None:
    for image in images:
        html_part.add_related(
            image.png,
            "image",
            "png",
            cid=f"<{image.cid}>",
            disposition="inline",
            filename=f"{image.cid.partition('@')[0]}.png",
        )
        _last_part(html_part)["Content-Description"] = header_text(image.alt)


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as it travels over SMTP (CRLF line ends); the outbox stores the same bytes."""
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def slug_of(msg: EmailMessage) -> str:
    """The digest slug inside a Message-ID made by `build_message`."""
    # A long Message-ID read back from stored bytes is folded: strip the leading white space.
    message_id = str(msg["Message-ID"] or "").strip()
    match = re.fullmatch(rf"<([a-z0-9_-]+)@{MESSAGE_ID_DOMAIN}>", message_id)
    if match is None:
        raise ValueError(f"not a digest message: Message-ID {msg['Message-ID']!r}")
    return match.group(1)


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # the server (or the outbox) took it
    TEMPORARY = "temporary"  # it did not go out; try again later
    PERMANENT = "permanent"  # refused for good (5xx): do not try again
    UNCERTAIN = "uncertain"  # the connection broke after the whole message was sent


@dataclass(frozen=True)
class RecipientResult:
    outcome: Outcome
    reply: str = ""  # the server's reply or the error, for the ledger and the operator
    # The server got as far as this recipient (RCPT, DATA or the outbox write). A server that
    # could not be reached, or refused us before any recipient, never uses up a retry.
    attempted: bool = True


class Step(StrEnum):
    """How far an SMTP delivery got. Only from AFTER_DOT on can the server have the message."""

    CONNECTING = "connecting"  # opening the connection, greeting, TLS, login
    DIALOGUE = "dialogue"  # MAIL FROM / RCPT TO / DATA
    DATA = "data"  # the message itself is being sent; without the final dot it is not accepted
    AFTER_DOT = "after_dot"  # the final dot is (being) sent: the server may have accepted it


# Told each step before it is taken; the ledger commits it, so it must not be skipped.
StepHook = Callable[[Step], None]


def _no_hook(step: Step) -> None:
    return None


@dataclass(frozen=True)
class SendResult:
    """What became of one message, per recipient (the strings given to `send`).

    `server_failed`: the server itself failed (could not be reached, stopped answering within
    the timeout, dropped the connection): the signal for the caller's circuit breaker.
    """

    results: Mapping[str, RecipientResult] = field(default_factory=dict)
    server_failed: bool = False

    @classmethod
    def same_for_all(cls, recipients: Iterable[str], result: RecipientResult) -> SendResult:
        return cls({r: result for r in recipients})

    def _with(self, outcome: Outcome) -> tuple[str, ...]:
        return tuple(r for r, res in self.results.items() if res.outcome is outcome)

    @property
    def accepted(self) -> tuple[str, ...]:
        return self._with(Outcome.ACCEPTED)

    @property
    def temporary(self) -> tuple[str, ...]:
        return self._with(Outcome.TEMPORARY)

    @property
    def permanent(self) -> tuple[str, ...]:
        return self._with(Outcome.PERMANENT)

    @property
    def uncertain(self) -> tuple[str, ...]:
        return self._with(Outcome.UNCERTAIN)


class Transport(Protocol):
    """Hands one message to its recipients.

    `send` reports problems with the mail server or a recipient in the `SendResult`; it raises
    only when the service itself cannot work (a `KkmpError`, e.g. an unwritable outbox or a
    ledger that cannot record a step), and then only when nothing was delivered. A transport
    that talks to a server calls `on_step` before each `Step` (a file transport need not).
    """

    def send(
        self, msg: EmailMessage, recipients: Sequence[str], on_step: StepHook = _no_hook
    ) -> SendResult: ...


@runtime_checkable
class Archive(Protocol):
    """A transport that keeps each digest where it can look for it (the outbox).

    It can answer "did that message get out?" after a crash, which SMTP cannot.
    """

    def holds(self, key: DigestKey) -> bool: ...


class OutboxTransport:
    """Writes each digest to `<dir>/<slug>.eml`, for offline offices, demos and review.

    The file appears whole or not at all (temporary file, fsync, `os.replace`), so its existence
    proves delivery. A digest with no recipients is written too, so it can be read.
    """

    def __init__(self, dir: Path) -> None:
        self.dir = Path(dir)

    def __repr__(self) -> str:
        return f"OutboxTransport({str(self.dir)!r})"

    def path_for(self, key: DigestKey) -> Path:
        return self.dir / f"{key.slug()}.eml"

    def holds(self, key: DigestKey) -> bool:
        return self.path_for(key).is_file()

    def send(
        self, msg: EmailMessage, recipients: Sequence[str], on_step: StepHook = _no_hook
    ) -> SendResult:
        path = self.dir / f"{slug_of(msg)}.eml"
        try:
            _write_atomically(path, message_bytes(msg))
        except OSError as exc:
            raise OutputError(
                f"Cannot write the digest {path}: {exc.strerror or exc}. Make sure the outbox "
                "folder ([mail] dir) can be created and written by the service."
            ) from exc
        log.debug("wrote %s", path)
        return SendResult.same_for_all(recipients, RecipientResult(Outcome.ACCEPTED, path.name))


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable before the ledger says 'sent' (POSIX only)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


SECURITIES = ("starttls", "ssl", "none")
_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class SmtpTransport:
    """Sends through an SMTP server, one connection per message.

    `security`: "starttls" (port 587; refuses to go on in clear text if the server does not offer
    STARTTLS), "ssl" (implicit TLS, port 465) or "none" (a local relay, port 25; no password then).
    The certificate is verified with `ssl_context` (default: the system's CAs).
    The password is given by the caller, who reads it from the environment; it is never shown.
    `timeout` bounds every socket operation (connecting, each reply, each write), so a server
    that accepts the connection and never answers costs that long, not forever.
    `dot_grace`: how long to watch, before the final dot, for a server that dropped the
    connection (or answered) while the message was being sent; such a server certainly did not
    accept it, so it is retried rather than left uncertain. Writes into the socket succeed even
    after the peer is gone, so without this look a drop mid-DATA would surface only after the dot.
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        dot_grace: float = 0.1,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if security not in SECURITIES:
            raise ConfigError(f"[mail] security = {security!r}: use one of {', '.join(SECURITIES)}")
        if username and not password:
            raise ConfigError("[mail] username is set but the SMTP password is empty")
        if username and security == "none":
            raise ConfigError(
                '[mail] security = "none" would send the SMTP password in clear text: '
                'use "starttls" or "ssl", or a relay that needs no login'
            )
        if timeout <= 0:
            raise ConfigError(f"[mail] timeout_seconds = {timeout}: expected a number above 0")
        self.host = host
        self.port = port or _DEFAULT_PORTS[security]
        self.security = security
        self.username = username
        self._password = password
        self.timeout = timeout
        self.dot_grace = dot_grace
        self.local_hostname = local_hostname
        self._context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:
        return f"SmtpTransport({self.host!r}, {self.port}, security={self.security!r})"

    def send(
        self, msg: EmailMessage, recipients: Sequence[str], on_step: StepHook = _no_hook
    ) -> SendResult:
        if not recipients:
            return SendResult()
        data = message_bytes(msg)
        results: dict[str, RecipientResult] = {}
        client: smtplib.SMTP | None = None
        server_failed = False
        try:
            on_step(Step.CONNECTING)
            client = self._open()
            on_step(Step.DIALOGUE)
            accepted = _envelope(client, _envelope_sender(msg), recipients, results)
            if accepted:
                server_failed = _data(client, data, accepted, results, on_step, self.dot_grace)
        except (smtplib.SMTPException, OSError) as exc:
            # Whatever failed here failed before the final dot: retry it later.
            if client is not None:
                client.close()
            server_failed = True
            not_sent = RecipientResult(Outcome.TEMPORARY, _describe(exc), attempted=False)
            for recipient in recipients:
                results.setdefault(recipient, not_sent)
        except BaseException:
            if client is not None:  # e.g. the ledger could not record a step: no QUIT mid-DATA
                client.close()
            raise
        finally:
            if client is not None:
                _quit(client)
        closing = any(r.reply.startswith("421") for r in results.values())
        return SendResult(results, server_failed=server_failed or closing)

    def _open(self) -> smtplib.SMTP:
        client: smtplib.SMTP
        if self.security == "ssl":
            client = smtplib.SMTP_SSL(
                local_hostname=self.local_hostname, timeout=self.timeout, context=self._context
            )
        else:
            client = smtplib.SMTP(local_hostname=self.local_hostname, timeout=self.timeout)
        # smtplib checks the certificate against `_host`, which only its connecting __init__
        # sets; connecting separately is what lets us close the socket if the greeting fails.
        client._host = self.host  # type: ignore[attr-defined]
        try:
            self._handshake(client)
        except BaseException:
            client.close()
            raise
        return client

    def _handshake(self, client: smtplib.SMTP) -> None:
        code, reply = client.connect(self.host, self.port)
        if code != 220:
            raise smtplib.SMTPConnectError(code, reply)
        client.ehlo()
        if self.security == "starttls":
            client.starttls(context=self._context)
            client.ehlo()
        if self.username:
            client.login(self.username, self._password or "")


def _envelope_sender(msg: EmailMessage) -> str:
    return str(msg["From"].addresses[0].addr_spec)


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return one_line(f"{code} {text}")


def _by_code(code: int, text: bytes | str) -> RecipientResult:
    if 200 <= code < 300:
        return RecipientResult(Outcome.ACCEPTED, _reply(code, text))
    if 500 <= code < 600:
        return RecipientResult(Outcome.PERMANENT, _reply(code, text))
    # 421: the server is closing the session, which says nothing about this recipient.
    return RecipientResult(Outcome.TEMPORARY, _reply(code, text), attempted=code != 421)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, TimeoutError):
        return "TimeoutError: the mail server did not answer in time"
    return one_line(f"{type(exc).__name__}: {exc}")


def _envelope(
    client: smtplib.SMTP,
    sender: str,
    recipients: Sequence[str],
    results: dict[str, RecipientResult],
) -> list[str]:
    """MAIL FROM and one RCPT TO per recipient; records refusals, returns who was accepted."""
    code, reply = client.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    accepted = []
    for recipient in recipients:
        code, reply = client.rcpt(recipient)
        result = _by_code(code, reply)
        if result.outcome is Outcome.ACCEPTED:
            accepted.append(recipient)
        else:
            results[recipient] = result
            log.debug("RCPT %s refused: %s", recipient, result.reply)
    return accepted


def _data(
    client: smtplib.SMTP,
    data: bytes,
    accepted: list[str],
    results: dict[str, RecipientResult],
    on_step: StepHook,
    dot_grace: float,
) -> bool:
    """DATA for the recipients the server accepted; True when the server failed after the dot.

    Until the final dot has been sent nothing has been delivered, so errors up to then propagate
    and become TEMPORARY. Once the dot is on the wire, a broken connection or a timeout leaves
    the server possibly holding the message: UNCERTAIN.
    """
    code, reply = client.docmd("DATA")
    if code != 354:
        refused = _by_code(code, reply)
        if refused.outcome is Outcome.ACCEPTED:  # any other "yes" than 354 is no go-ahead
            refused = RecipientResult(Outcome.TEMPORARY, refused.reply)
        results.update(dict.fromkeys(accepted, refused))
        return False
    on_step(Step.DATA)
    client.send(_dot_stuffed(data))  # the message, without the final dot
    early = _early_word(client, dot_grace)
    if early is not None:
        raise smtplib.SMTPServerDisconnected(
            f"the server left before the end of the message, which it cannot have accepted: {early}"
        )
    on_step(Step.AFTER_DOT)  # committed before the dot: a crash before it is a certain "not sent"
    try:
        client.send(b".\r\n")
        code, reply = client.getreply()
    except (smtplib.SMTPException, OSError) as exc:
        client.close()  # the session is in an unknown state: no QUIT, no second wait
        lost = RecipientResult(Outcome.UNCERTAIN, f"no answer after the message: {_describe(exc)}")
        results.update(dict.fromkeys(accepted, lost))
        return True
    results.update(dict.fromkeys(accepted, _by_code(code, reply)))
    return False


def _early_word(client: smtplib.SMTP, grace: float) -> str | None:
    """What the server did while the message was still incomplete: closed, reset, or answered.

    A well-behaved server says nothing until the final dot, so anything readable now means it
    gave up on the message (a crash, a size limit). None when it is still listening.
    """
    sock = client.sock
    if sock is None or grace <= 0:
        return None
    readable, _, _ = select.select([sock], [], [], grace)
    if not readable:
        return None
    timeout = sock.gettimeout()
    sock.settimeout(0)
    try:
        chunk = sock.recv(512)
    except (ssl.SSLWantReadError, BlockingIOError):
        return None  # TLS housekeeping (a session ticket), not a word from the server
    except OSError as exc:
        return _describe(exc)
    finally:
        if client.sock is not None and sock.fileno() != -1:
            sock.settimeout(timeout)
    return one_line(chunk.decode("utf-8", "replace")) or "the connection was closed"


def _dot_stuffed(data: bytes) -> bytes:
    """The message as DATA carries it (lines starting with '.' doubled), up to the final dot."""
    body = re.sub(rb"(?m)^\.", b"..", data)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body


def _quit(client: smtplib.SMTP) -> None:
    """Say goodbye; whatever happens now cannot change what the server already accepted."""
    if client.sock is None:  # already closed after an error
        return
    try:
        client.quit()
    except (smtplib.SMTPException, OSError) as exc:
        log.debug("QUIT failed (ignored): %s", exc)
    finally:
        client.close()
