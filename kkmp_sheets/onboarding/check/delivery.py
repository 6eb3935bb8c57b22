"""`check` on delivery: the outbox or SMTP server, and the digest templates."""

from __future__ import annotations

import os
import smtplib
import ssl

from kkmp_sheets.config import Config
from kkmp_sheets.errors import ConfigError
from kkmp_sheets.onboarding.check.finding import (
    OK,
    SMTP_TIMEOUT,
    Finding,
    galat,
    peringatan,
    writable,
)

# --- mail -------------------------------------------------------------------------------------------


def mail_findings(cfg: Config, timeout: float = SMTP_TIMEOUT) -> list[Finding]:
    out: list[Finding] = []
    if cfg.mail_kind == "outbox":
        out.append(writable(cfg.outbox_dir, "mail outbox", "[mail] dir"))
    else:
        out.append(smtp_finding(cfg, timeout))
    if not cfg.mail.officials:
        out.append(
            peringatan(
                "[mail] officials is empty: the daily city digest goes to nobody",
                'list the officials: officials = ["kadis@contoh.go.id"]',
            )
        )
    return out


def smtp_finding(cfg: Config, timeout: float = SMTP_TIMEOUT) -> Finding:
    """Connect, EHLO, STARTTLS (or SSL), login; send nothing."""
    from kkmp_sheets.delivery.mail import SmtpTransport

    mail = cfg.mail
    password = os.environ.get(mail.password_env, "") if mail.username else None
    where = f"SMTP {mail.host}:{mail.port or '(default port)'} ({mail.security})"
    try:
        transport = SmtpTransport(
            mail.host,
            mail.port,
            security=mail.security,
            username=mail.username or None,
            password=password,
            timeout=timeout,
        )
    except ConfigError as exc:
        fix = f"export {mail.password_env}=... for the service" if mail.username else "fix [mail]"
        return galat(f"{where}: {exc}", fix)
    where = f"SMTP {transport.host}:{transport.port} ({transport.security})"
    try:
        client = transport._open()  # connect, EHLO, STARTTLS, login: what every send does first
    except smtplib.SMTPAuthenticationError as exc:
        return galat(
            f"{where}: login refused ({exc.smtp_code})",
            f"check [mail] username and the password in ${mail.password_env}",
        )
    except smtplib.SMTPNotSupportedError:
        return galat(
            f"{where}: the server does not offer STARTTLS",
            'use security = "ssl" (port 465), or "none" only for a relay on this machine',
        )
    except ssl.SSLError as exc:
        return galat(
            f"{where}: TLS failed ({exc.reason or exc})",
            "check the host name matches the server's certificate",
        )
    except (smtplib.SMTPException, OSError) as exc:
        return galat(
            f"{where}: cannot connect ({type(exc).__name__}: {exc})",
            "check [mail] host and port, and that the firewall lets this machine reach it",
        )
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
    login = f", logged in as {mail.username}" if mail.username else ""
    return Finding(OK, f"{where}: connected{login} (no message sent)")


# --- digest templates -------------------------------------------------------------------------------


def template_findings(cfg: Config) -> list[Finding]:
    """The digest templates are found and each one the configured language uses compiles."""
    from kkmp_sheets.delivery import digest, templates
    from kkmp_sheets.errors import KkmpError

    language = cfg.mail.language
    fix = (
        f"reinstall kkmp-sheets (a wheel carries its templates), or set {templates.TEMPLATES_ENV} "
        "to a folder laid out like the project's report_templates/"
    )
    try:
        root = templates.templates_dir()
        env = digest.environment(language, root)
    except KkmpError as exc:
        return [galat(f"digest templates: {exc}", fix)]
    problems = templates.template_problems(env, root, language, digest.KINDS)
    if problems:
        return [
            galat(
                f"digest template {root / name}: {problem}",
                f"correct it (compare with the project's report_templates/{name}), or {fix}",
            )
            for name, problem in problems
        ]
    kinds = ", ".join(digest.KINDS)
    return [Finding(OK, f"digest templates ({language}, {kinds}): every one compiles, in {root}")]
