"""`check` on WhatsApp and Telegram: each configured channel's credentials, its chats, and for
WhatsApp that every template the config names exists and is APPROVED. Nothing is sent."""

from __future__ import annotations

import os
from collections.abc import Mapping

from kkmp_sheets.config import CHANNEL_KINDS, Config
from kkmp_sheets.delivery.channels import TelegramClient, WhatsAppClient
from kkmp_sheets.onboarding.check.finding import OK, Finding, galat

_CLIENT_TIMEOUT = (5.0, 10.0)


def channel_findings(cfg: Config, env: Mapping[str, str] | None = None) -> list[Finding]:
    env = os.environ if env is None else env
    enabled = cfg.channels.enabled
    out: list[Finding] = []
    if "whatsapp" in enabled:
        out += whatsapp_findings(cfg, env)
    if "telegram" in enabled:
        out += telegram_findings(cfg, env)
    return out


def whatsapp_findings(cfg: Config, env: Mapping[str, str]) -> list[Finding]:
    wa = cfg.channels.whatsapp
    token = env.get(wa.token_env, "")
    if not token:
        return [
            galat(
                f"WhatsApp: no access token in ${wa.token_env}",
                f"export {wa.token_env}=... for the service (never in the config file)",
            )
        ]
    if not wa.waba_id:
        return [
            galat(
                "WhatsApp: [channels.whatsapp] waba_id is empty: the templates cannot be checked",
                "copy the WhatsApp Business Account id from WhatsApp Manager",
            )
        ]
    client = WhatsAppClient(
        token, wa.phone_number_id, waba_id=wa.waba_id, base_url=wa.base_url,
        timeout=_CLIENT_TIMEOUT,
    )  # fmt: skip
    try:
        listed = client.approved_templates()
    finally:
        client.close()
    if not isinstance(listed, dict):
        return [galat(f"WhatsApp: the template list cannot be read: {listed.operator}",
                      f"check ${wa.token_env} and [channels.whatsapp] waba_id")]  # fmt: skip
    kinds = [k for k in CHANNEL_KINDS if "whatsapp" in cfg.channels.routes.get(k, ())]
    out = [Finding(OK, f"WhatsApp: the access token works ({len(listed)} templates listed)")]
    for kind in kinds:
        name, language = wa.template(kind)
        status = listed.get((name, language))
        if status == "APPROVED":
            out.append(Finding(OK, f"WhatsApp template {name} ({language}) for {kind}: APPROVED"))
        elif status is None:
            out.append(
                galat(
                    f"WhatsApp template {name} ({language}) for {kind} does not exist",
                    "submit it in WhatsApp Manager with the text in docs/channels.md, or name "
                    "an approved one in [channels.whatsapp] templates",
                )
            )
        else:
            out.append(
                galat(
                    f"WhatsApp template {name} ({language}) for {kind} is {status}, not APPROVED",
                    "wait for Meta's approval (or fix and resubmit a rejected one); until then "
                    "these messages are refused (132001)",
                )
            )
    return out


def telegram_findings(cfg: Config, env: Mapping[str, str]) -> list[Finding]:
    tg = cfg.channels.telegram
    token = env.get(tg.token_env, "")
    if not token:
        return [
            galat(
                f"Telegram: no bot token in ${tg.token_env}",
                f"export {tg.token_env}=... for the service (never in the config file)",
            )
        ]
    client = TelegramClient(token, base_url=tg.base_url, timeout=_CLIENT_TIMEOUT)
    try:
        me = client.get_me()
        if not me.sent:
            return [galat(f"Telegram: {me.operator}", f"check the bot token in ${tg.token_env}")]
        username = (me.data.get("result") or {}).get("username", "?")
        out = [Finding(OK, f"Telegram: the bot token works (@{username})")]
        chats = {"city_chat": tg.city_chat} if tg.city_chat else {}
        chats |= {f"kecamatan_chats {k}": v for k, v in tg.kecamatan_chats.items()}
        chats |= {f"people {k}": v for k, v in tg.people.items()}
        for where, chat in chats.items():
            found = client.get_chat(chat)
            if found.sent:
                out.append(Finding(OK, f"Telegram chat {where}: the bot can see it"))
            else:
                out.append(
                    galat(
                        f"Telegram chat {where}: {found.operator}",
                        "add the bot to the group (as an admin for a channel), or ask the "
                        "person to start the bot; then copy the chat id",
                    )
                )
        return out
    finally:
        client.close()
