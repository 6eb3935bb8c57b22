"""A local fake of the Telegram Bot API, over real HTTP.

Endpoints, as ``/bot<token>/<method>`` with parameters in the query string, a urlencoded or JSON
body, or ``multipart/form-data`` for files (https://core.telegram.org/bots/api#making-requests):

- ``getMe``, ``getChat``: the bot and a chat;
- ``sendMessage``: ``chat_id``, ``text`` (at most 4096 characters after entity parsing),
  ``parse_mode`` (``HTML``), ``disable_web_page_preview`` / ``link_preview_options``;
- ``sendDocument``: ``chat_id``, ``document`` (a file part, or a ``file_id`` sent before),
  ``caption`` (at most 1024 characters after entity parsing).

Answers are ``{"ok": true, "result": ...}``; errors ``{"ok": false, "error_code", "description"}``
with ``parameters.retry_after`` on 429 (https://core.telegram.org/bots/api#responseparameters).
Reproduced: a wrong token (401 "Unauthorized"), an unknown chat (400 "Bad Request: chat not
found"), a user who blocked the bot (403 "Forbidden: bot was blocked by the user"), too long
texts and captions, HTML that does not parse, and the flood limits of the Bot FAQ
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): about one
message per second to a chat, 20 per minute to a group, 30 per second overall, on the test's
clock; scripted faults (any error, 5xx, slow answers).
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kkmp_sheets.clock import Clock

from .calls import Response, json_response
from .fake_channel import BadForm, FakeChannel, RateWindows, ScriptedFault, Upload, read_form

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# The HTML tags the Bot API accepts in parse_mode HTML.
_HTML_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "tg-spoiler", "span", "blockquote", "tg-emoji",
}  # fmt: skip


class BotError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        self.code = code
        self.description = description
        self.retry_after = retry_after
        super().__init__(f"{code} {description}")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def too_many_requests(retry_after: int) -> BotError:
    return BotError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


@dataclass
class Chat:
    id: int
    type: str = "private"  # private | group | supergroup | channel
    title: str | None = None
    first_name: str | None = None
    blocked: bool = False  # the user blocked the bot (private chats)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title:
            out["title"] = self.title
        if self.first_name:
            out["first_name"] = self.first_name
        return out

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup", "channel")


@dataclass
class Document:
    file_id: str
    file_name: str
    mime_type: str
    data: bytes


@dataclass
class BotMessage:
    """A message the fake accepted, as a test inspects it."""

    message_id: int
    chat_id: int
    text: str | None = None  # as sent (with its HTML)
    parse_mode: str | None = None
    document: Document | None = None
    caption: str | None = None
    preview_disabled: bool = False
    at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class FakeTelegram(FakeChannel):
    """The fake's public face: start/stop, chats, faults, what was received."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Clock | None = None,
        token: str | None = None,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        overall_per_second: int = 30,
    ) -> None:
        super().__init__(host, port, clock)
        self.bot_id = 7000000000 + secrets.randbelow(10**8)
        self.token = token or f"{self.bot_id}:AA{secrets.token_urlsafe(24)}"
        self.username = "kkmp_dinas_bot"
        self.per_chat_interval = per_chat_interval
        self.group_per_minute = group_per_minute
        self.overall_per_second = overall_per_second
        self.chats: dict[int, Chat] = {}
        self.sent: list[BotMessage] = []
        self.files: dict[str, Document] = {}
        self.rate_limited = 0  # 429s answered for flood limits (not scripted ones)
        self._windows = RateWindows()
        self._next_message_id = 1

    # ------------------------------------------------------------------ set-up

    def add_chat(self, chat_id: int, kind: str = "private", title: str | None = None) -> Chat:
        chat = Chat(chat_id, kind, title=title if kind != "private" else None)
        if kind == "private":
            chat.first_name = title or "Pengguna"
        with self.lock:
            self.chats[chat_id] = chat
        return chat

    def block(self, chat_id: int) -> None:
        """The user of this private chat blocked the bot."""
        with self.lock:
            self.chats[chat_id].blocked = True

    def fail_next(
        self,
        n: int = 1,
        error_code: int = 500,
        description: str = "Internal Server Error",
        *,
        retry_after: int | None = None,
        method: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """The next ``n`` requests (to ``method`` when given) answer this error."""
        error = BotError(error_code, description, retry_after)
        self._script(ScriptedFault(n, method, error_code, error.body(), delay))

    def slow_next(self, seconds: float, n: int = 1) -> None:
        """The next ``n`` requests take ``seconds`` (real time) and then succeed."""
        self._script(ScriptedFault(n, None, 0, {}, seconds))

    def hide(self, line: str) -> str:
        """`line` without the bot token (the server's request log: URLs carry the token)."""
        return line.replace(self.token, "<token>")

    # ------------------------------------------------------------------ inspection

    def messages_to(self, chat_id: int) -> list[BotMessage]:
        with self.lock:
            return [m for m in self.sent if m.chat_id == chat_id]

    # ------------------------------------------------------------------ serving

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        split = urlsplit(target)
        match = re.fullmatch(r"/bot([^/]*)/(\w+)", split.path)
        hidden = re.sub(r"^/bot[^/]*", "/bot<token>", split.path)  # never keep a token
        try:
            if match is None:
                raise BotError(404, "Not Found")
            token, api_method = match.groups()
            fault = self._take_fault(api_method)
            if fault is not None:
                self._delay(fault.delay)
                if fault.status:
                    return self._record(method, hidden, fault.response())
            if not secrets.compare_digest(token.encode(), self.token.encode()):
                raise BotError(401, "Unauthorized")
            try:
                fields, files = read_form(headers, body)
            except BadForm as error:
                raise BotError(400, f"Bad Request: {error}") from None
            for key, values in parse_qs(split.query).items():
                fields.setdefault(key, values[-1])
            response = json_response({"ok": True, "result": self._call(api_method, fields, files)})
        except BotError as error:
            response = json_response(error.body(), error.code)
        return self._record(method, hidden, response)

    def _record(self, method: str, path: str, response: Response) -> Response:
        with self.lock:
            self.requests.append((method, path, response.status))
        return response

    def _call(self, api_method: str, fields: dict[str, Any], files: dict[str, Upload]) -> Any:
        if api_method == "getMe":
            return {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": "KKMP Dinas",
                "username": self.username,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if api_method == "getChat":
            return self._chat(fields).as_json()
        if api_method == "sendMessage":
            return self._send_message(fields)
        if api_method == "sendDocument":
            return self._send_document(fields, files)
        raise BotError(404, "Not Found")

    def _chat(self, fields: dict[str, Any]) -> Chat:
        raw = fields.get("chat_id")
        if raw in (None, ""):
            raise BotError(400, "Bad Request: chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise BotError(400, "Bad Request: chat not found") from None
        with self.lock:
            chat = self.chats.get(chat_id)
        if chat is None:
            raise BotError(400, "Bad Request: chat not found")
        return chat

    def _writable(self, fields: dict[str, Any]) -> Chat:
        chat = self._chat(fields)
        if chat.blocked:
            raise BotError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _send_message(self, fields: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable(fields)
        text = fields.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BotError(400, "Bad Request: message text is empty")
        parse_mode = fields.get("parse_mode") or None
        if len(_visible(text, parse_mode)) > TEXT_LIMIT:
            raise BotError(400, "Bad Request: message is too long")
        preview = _flag(fields.get("disable_web_page_preview"))
        options = fields.get("link_preview_options")
        if isinstance(options, str):
            try:
                options = json.loads(options)
            except ValueError:
                raise BotError(400, "Bad Request: can't parse link preview options") from None
        if isinstance(options, dict):
            preview = preview or bool(options.get("is_disabled"))
        message = BotMessage(0, chat.id, text=text, parse_mode=parse_mode, preview_disabled=preview)
        self._accept(chat, message)
        return self._as_json(chat, message) | {"text": _visible(text, parse_mode)}

    def _send_document(self, fields: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        chat = self._writable(fields)
        caption = fields.get("caption") or None
        parse_mode = fields.get("parse_mode") or None
        if caption is not None and len(_visible(caption, parse_mode)) > CAPTION_LIMIT:
            raise BotError(400, "Bad Request: message caption is too long")
        upload = files.get("document")
        if upload is not None:
            if not upload.data:
                raise BotError(400, "Bad Request: file must be non-empty")
            document = Document(
                "BQAC" + secrets.token_urlsafe(30),
                upload.filename,
                upload.content_type,
                upload.data,
            )
        else:
            ref = fields.get("document")
            with self.lock:
                known = self.files.get(ref) if isinstance(ref, str) else None
            if known is None:
                raise BotError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            document = known
        message = BotMessage(0, chat.id, document=document, caption=caption, parse_mode=parse_mode)
        self._accept(chat, message)
        with self.lock:
            self.files[document.file_id] = document
        answer = self._as_json(chat, message)
        answer["document"] = {
            "file_name": document.file_name,
            "mime_type": document.mime_type,
            "file_id": document.file_id,
            "file_unique_id": document.file_id[-16:],
            "file_size": len(document.data),
        }
        if caption:
            answer["caption"] = _visible(caption, parse_mode)
        return answer

    def _accept(self, chat: Chat, message: BotMessage) -> None:
        with self.lock:
            now = self.now()
            waits = [
                self._windows.wait_for("all", self.overall_per_second, 1.0, now),
                self._windows.wait_for(f"chat:{chat.id}", 1, self.per_chat_interval, now),
            ]
            if chat.is_group:
                waits.append(
                    self._windows.wait_for(f"group:{chat.id}", self.group_per_minute, 60.0, now)
                )
            wait = max(waits)
            if wait > 0:
                self.rate_limited += 1
                raise too_many_requests(max(1, math.ceil(wait)))
            for key in ("all", f"chat:{chat.id}", f"group:{chat.id}"):
                self._windows.record(key, now)
            message.message_id = self._next_message_id
            self._next_message_id += 1
            message.at = now
            self.sent.append(message)

    def _as_json(self, chat: Chat, message: BotMessage) -> dict[str, Any]:
        return {
            "message_id": message.message_id,
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "KKMP Dinas",
                     "username": self.username},
            "chat": chat.as_json(),
            "date": int(self.clock.now().timestamp()),
        }  # fmt: skip


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


class _Entities(HTMLParser):
    """The visible text of a Bot API HTML message; refuses tags the API does not know."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise BotError(
                400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"'
            )
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise BotError(400, f'Bad Request: can\'t parse entities: Unmatched end tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _visible(text: str, parse_mode: str | None) -> str:
    if (parse_mode or "").upper() != "HTML":
        return text
    parser = _Entities()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise BotError(400, "Bad Request: can't parse entities: Unclosed start tag")
    return unescape("".join(parser.text))
