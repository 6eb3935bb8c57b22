"""The Telegram Bot API client: getMe, getChat, sendMessage and sendDocument.

Each method is one documented request (https://core.telegram.org/bots/api), its answer
classified by `classify` into a `Result` (see `base`). The bot token is part of every URL
(``/bot<token>/method``): `http` keeps it out of log lines, and no exception of the HTTP
library reaches a caller.
"""

from __future__ import annotations

from typing import Any

import requests

from kkmp_sheets.clock import Clock

from .base import (
    SERVER_FAULT,
    Limit,
    Outcome,
    RateLimiter,
    Result,
    permanent,
    split_text,
    transient,
)
from .http import DEFAULT_TIMEOUT, Answer, Http, register_secret

DEFAULT_BASE_URL = "https://api.telegram.org"
TEXT_LIMIT = 4096  # characters after entity parsing
CAPTION_LIMIT = 1024

BLOCKED = "Penerima memblokir bot Telegram. / The user blocked the bot."
NO_CHAT = (
    "Chat Telegram tidak ditemukan; periksa chat_id dan pastikan bot sudah ditambahkan. / "
    "Chat not found: check the chat id and that the bot was added."
)
BAD_TOKEN = "Token bot Telegram tidak berlaku; perbarui di lingkungan server. / Invalid bot token."
FLOOD = "Batas kecepatan Telegram tercapai; dicoba lagi nanti. / Telegram flood limit."


def classify(answer: Answer) -> Result:
    """The `Result` of one Bot API answer."""
    body = answer.body
    if answer.status < 400 and body.get("ok") is True:
        result = body.get("result")
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return Result.ok(None if message_id is None else str(message_id), body)
    code = int(body.get("error_code") or answer.status)
    description = str(body.get("description") or "")
    lowered = description.lower()
    if code == 429:
        parameters = body.get("parameters") or {}
        retry_after = parameters.get("retry_after") or answer.retry_after
        return transient("429", FLOOD, float(retry_after) if retry_after else None)
    if code >= 500:
        return transient(str(code), SERVER_FAULT, answer.retry_after)
    if code == 401 or (code == 404 and not description.startswith("Bad Request")):
        return permanent(str(code), BAD_TOKEN)  # the Bot API answers 404 to a malformed token
    if code == 403:
        if "blocked" in lowered:
            return permanent("403", BLOCKED)
        return permanent(
            "403",
            f"Bot tidak boleh menulis ke chat ini ({description}). / Forbidden: {description}",
        )
    if "chat not found" in lowered:
        return permanent("400", NO_CHAT)
    return permanent(
        str(code), f"Telegram menolak pesan ({description}). / Telegram refused: {description}"
    )


class TelegramClient:
    """One bot. Chat ids are numbers (-100… for groups and channels) or "@channelname"."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        clock: Clock | None = None,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        overall_per_second: int = 30,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        if not token:
            raise ValueError("a Telegram bot token is required")
        register_secret(token)
        # The flood limits of the Bot FAQ: about one message per second to a chat, 20 per
        # minute to a group, 30 per second overall.
        self.per_chat_interval = per_chat_interval
        self.group_per_minute = group_per_minute
        self.overall_per_second = overall_per_second
        self.limiter = RateLimiter(clock)
        self._http = Http(f"{base_url.rstrip('/')}/bot{token}", timeout=timeout, session=session)

    def __repr__(self) -> str:
        return f"TelegramClient({self._http!r})"

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, **kwargs: Any) -> Result:
        answer = self._http.call("POST", method, **kwargs)
        return answer if isinstance(answer, Result) else classify(answer)

    # ------------------------------------------------------------------ checking

    def get_me(self) -> Result:
        """The bot itself: a sent result means the token works (``data["result"]["username"]``)."""
        return self._call("getMe")

    def get_chat(self, chat_id: int | str) -> Result:
        return self._call("getChat", json={"chat_id": chat_id})

    # ------------------------------------------------------------------ sending

    def send_message(
        self, chat_id: int | str, text: str, *, parse_mode: str | None = "HTML"
    ) -> Result:
        """One message (at most 4096 characters after entity parsing); link previews off, so
        that a digest's link to the sheet does not fill the chat with a card."""
        payload: dict[str, Any] = {
            "chat_id": chat_id,
            "text": text,
            "link_preview_options": {"is_disabled": True},
        }
        if parse_mode:
            payload["parse_mode"] = parse_mode
        return self._send(chat_id, "sendMessage", json=payload)

    def send_messages(
        self, chat_id: int | str, text: str, *, parse_mode: str | None = None
    ) -> list[Result]:
        """A long text in parts cut at line ends; stops at the first part not sent. Plain text
        by default: a cut could fall inside an HTML tag."""
        results: list[Result] = []
        for part in split_text(text, TEXT_LIMIT):
            results.append(self.send_message(chat_id, part, parse_mode=parse_mode))
            if not results[-1].sent:
                break
        return results

    def send_document(
        self,
        chat_id: int | str,
        data: bytes,
        filename: str,
        *,
        caption: str | None = None,
        mime_type: str = "application/pdf",
    ) -> Result:
        if caption is not None and len(caption) > CAPTION_LIMIT:
            raise ValueError(f"a caption has at most {CAPTION_LIMIT} characters")
        fields: dict[str, Any] = {"chat_id": str(chat_id)}
        if caption:
            fields["caption"] = caption
        files = {"document": (filename, data, mime_type)}
        return self._send(chat_id, "sendDocument", data=fields, files=files)

    def _send(self, chat_id: int | str, method: str, **kwargs: Any) -> Result:
        self.limiter.acquire(self._limits(chat_id))
        result = self._call(method, **kwargs)
        if result.outcome is Outcome.TRANSIENT and result.code == "429" and result.retry_after:
            self.limiter.hold(f"chat:{chat_id}", result.retry_after)
        return result

    def _limits(self, chat_id: int | str) -> list[Limit]:
        limits = [
            Limit("all", self.overall_per_second, 1.0),
            Limit(f"chat:{chat_id}", 1, self.per_chat_interval),
        ]
        if str(chat_id).startswith(("-", "@")):  # groups, supergroups and channels
            limits.append(Limit(f"group:{chat_id}", self.group_per_minute, 60.0))
        return limits
