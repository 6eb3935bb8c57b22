"""A local fake of the WhatsApp Business Cloud API (Meta Graph API), over real HTTP.

Endpoints (``{v}`` any version such as ``v21.0``):

- ``POST /{v}/{phone-number-id}/messages``: ``text``, ``template`` and ``document`` messages;
- ``POST /{v}/{phone-number-id}/media``: a multipart upload (a PDF), answering its media id;
- ``GET /{v}/{waba-id}/message_templates``: the templates with their approval status, paged.

Shapes follow Meta's reference: the send answer
``{"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}], "messages": [{"id"}]}``
(https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages), the Graph error
``{"error": {"message", "type", "code", "error_data": {"messaging_product", "details"},
"error_subcode"?, "fbtrace_id"}}`` and its codes
(https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes),
the template list ``{"data": [...], "paging": {"cursors": {"before", "after"}, "next"?}}``
(https://developers.facebook.com/docs/graph-api/reference/whats-app-business-account/message_templates).

What it reproduces: bearer-token auth (401, code 190); request validation (code 100); a number
not on WhatsApp (131026); a template missing or not approved in that language (132001); a
template's parameter count (132000); the 24-hour customer-service window for free-form messages
(131047); the throughput limit (130429) and the pair rate limit (131056) on the test's clock;
scripted faults (any code, 5xx, slow answers).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kkmp_sheets.clock import Clock

from .calls import Response, json_response
from .fake_channel import BadForm, FakeChannel, RateWindows, ScriptedFault, Upload, read_form

TEXT_LIMIT = 4096  # text.body
CAPTION_LIMIT = 1024  # document.caption
WINDOW = timedelta(hours=24)  # the customer-service window

# code → (HTTP status, message title, details). Titles are those of Meta's error-code table;
# the Graph API puts "(#code) title" in `message`.
ERRORS: dict[int, tuple[int, str, str]] = {
    100: (400, "Invalid parameter", "The parameter is invalid."),
    190: (401, "Invalid OAuth access token - Cannot parse access token", ""),
    130429: (
        400,
        "Rate limit hit",
        "Cloud API message throughput has been reached.",
    ),
    131000: (500, "Something went wrong", "Message failed to send due to an unknown error."),
    131016: (503, "Service unavailable", "A service is temporarily unavailable."),
    131026: (
        400,
        "Message Undeliverable",
        "Message failed to send because the recipient is not a WhatsApp user or has not accepted "
        "the latest terms of service.",
    ),
    131047: (
        400,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.",
    ),
    131056: (
        400,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
    ),
    132000: (
        400,
        "Number of parameters does not match the expected number of params",
        "The number of parameters provided does not match the template.",
    ),
    132001: (
        404,
        "Template name does not exist in the translation",
        "The template does not exist in the language given, or is not approved.",
    ),
}


class GraphError(Exception):
    def __init__(self, code: int, details: str | None = None, *, subcode: int | None = None):
        status, title, default = ERRORS.get(code, (400, "Error", ""))
        self.status = status
        self.code = code
        self.title = title
        self.details = default if details is None else details
        self.subcode = subcode
        super().__init__(f"({code}) {title}")

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": f"(#{self.code}) {self.title}" if self.code != 190 else self.title,
            "type": "OAuthException",
            "code": self.code,
        }
        if self.details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = "A" + secrets.token_hex(10)
        return {"error": error}


_VARIABLE = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass
class Template:
    name: str
    language: str
    body: str
    status: str = "APPROVED"  # APPROVED | PENDING | REJECTED
    category: str = "UTILITY"
    header_document: bool = False  # a DOCUMENT header: the message carries a PDF
    id: str = field(default_factory=lambda: str(10**15 + secrets.randbelow(10**15)))

    @property
    def variables(self) -> int:
        return len(set(_VARIABLE.findall(self.body)))

    def components(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        if self.header_document:
            parts.append({"type": "HEADER", "format": "DOCUMENT"})
        parts.append({"type": "BODY", "text": self.body})
        return parts

    def render(self, params: list[str]) -> str:
        return _VARIABLE.sub(lambda m: params[int(m.group(1)) - 1], self.body)


@dataclass
class Media:
    id: str
    filename: str
    mime_type: str
    data: bytes


@dataclass
class SentMessage:
    """A message the fake accepted, as a test inspects it."""

    id: str
    to: str
    type: str  # text | template | document
    text: str = ""  # the text body, or the template rendered with its parameters
    template: str | None = None
    language: str | None = None
    params: list[str] = field(default_factory=list)
    document: Media | None = None
    link: str | None = None
    filename: str | None = None
    caption: str | None = None
    at: float = 0.0


class FakeWhatsApp(FakeChannel):
    """The fake's public face: start/stop, templates, recipients, faults, what was received."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Clock | None = None,
        token: str | None = None,
        phone_number_id: str = "109876543210987",
        waba_id: str = "102030405060708",
        messages_per_second: int = 80,
        pair_interval: float = 6.0,
    ) -> None:
        super().__init__(host, port, clock)
        self.token = token or f"EAAfake{secrets.token_hex(16)}"
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        # Cloud API throughput: 80 messages per second by default; the pair rate limit lets
        # about one message to the same user every 6 seconds.
        self.messages_per_second = messages_per_second
        self.pair_interval = pair_interval
        self.templates: list[Template] = []
        self.media: dict[str, Media] = {}
        self.sent: list[SentMessage] = []
        self.not_on_whatsapp: set[str] = set()
        self.replied: dict[str, datetime] = {}
        self._windows = RateWindows()

    # ------------------------------------------------------------------ set-up

    def add_template(
        self,
        name: str,
        language: str,
        body: str,
        *,
        status: str = "APPROVED",
        header_document: bool = False,
    ) -> Template:
        template = Template(name, language, body, status, header_document=header_document)
        with self.lock:
            self.templates.append(template)
        return template

    def set_status(self, name: str, language: str, status: str) -> None:
        with self.lock:
            for template in self.templates:
                if (template.name, template.language) == (name, language):
                    template.status = status

    def mark_not_on_whatsapp(self, number: str) -> None:
        with self.lock:
            self.not_on_whatsapp.add(_digits(number))

    def customer_replied(self, number: str, at: datetime | None = None) -> None:
        """The recipient wrote to the business at ``at`` (default: now on the clock)."""
        with self.lock:
            self.replied[_digits(number)] = at or self.clock.now()

    def fail_next(
        self,
        n: int = 1,
        code: int = 131000,
        *,
        details: str | None = None,
        status: int | None = None,
        path_contains: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """The next ``n`` requests answer this Graph error (``status`` overrides its HTTP
        status: a 502 from a proxy, say); ``delay`` holds the answer that many real seconds."""
        error = GraphError(code, details)
        self._script(ScriptedFault(n, path_contains, status or error.status, error.body(), delay))

    def slow_next(self, seconds: float, n: int = 1) -> None:
        """The next ``n`` requests take ``seconds`` (real time) and then succeed."""
        self._script(ScriptedFault(n, None, 0, {}, seconds))

    # ------------------------------------------------------------------ inspection

    def messages_to(self, number: str) -> list[SentMessage]:
        with self.lock:
            return [m for m in self.sent if m.to == _digits(number)]

    # ------------------------------------------------------------------ serving

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        split = urlsplit(target)
        path = split.path
        try:
            fault = self._take_fault(path)
            if fault is not None:
                self._delay(fault.delay)
                if fault.status:
                    return self._record(method, path, fault.response())
            self._authorise(headers, split.query)
            response = self._route(method, path, split.query, headers, body)
        except GraphError as error:
            response = json_response(error.body(), error.status)
        return self._record(method, path, response)

    def _record(self, method: str, path: str, response: Response) -> Response:
        with self.lock:
            self.requests.append((method, path, response.status))
        return response

    def _authorise(self, headers: Mapping[str, str], query: str) -> None:
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer":
            token = (parse_qs(query).get("access_token") or [""])[0]
        if not secrets.compare_digest(token.strip().encode(), self.token.encode()):
            raise GraphError(190, "")

    def _route(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Response:
        parts = path.strip("/").split("/")
        if len(parts) != 3 or not re.fullmatch(r"v\d+\.\d+", parts[0]):
            raise GraphError(100, f"Unknown path components: {path}")
        _, node, edge = parts
        if method == "GET" and edge == "message_templates" and node == self.waba_id:
            return self._templates(parse_qs(query))
        if method == "POST" and edge in ("messages", "media"):
            if node != self.phone_number_id:
                raise GraphError(
                    100,
                    f"Unsupported post request. Object with ID '{node}' does not exist, cannot "
                    "be loaded due to missing permissions, or does not support this operation.",
                    subcode=33,
                )
            try:
                fields, files = read_form(headers, body)
            except BadForm as error:
                raise GraphError(100, str(error)) from None
            if edge == "media":
                return self._upload(fields, files)
            return self._message(fields)
        raise GraphError(100, f"Unsupported {method} request.")

    # ------------------------------------------------------------------ endpoints

    def _templates(self, query: dict[str, list[str]]) -> Response:
        limit = int((query.get("limit") or ["25"])[0])
        after = (query.get("after") or [""])[0]
        with self.lock:
            templates = list(self.templates)
        start = int(after) if after.isdigit() else 0
        page = templates[start : start + limit]
        data = [
            {
                "name": t.name,
                "language": t.language,
                "status": t.status,
                "category": t.category,
                "id": t.id,
                "components": t.components(),
            }
            for t in page
        ]
        paging: dict[str, Any] = {
            "cursors": {"before": str(start), "after": str(start + len(page))}
        }
        if start + len(page) < len(templates):
            paging["next"] = (
                f"{self.base_url}/v21.0/{self.waba_id}/message_templates"
                f"?limit={limit}&after={start + len(page)}"
            )
        return json_response({"data": data, "paging": paging})

    def _upload(self, fields: dict[str, Any], files: dict[str, Upload]) -> Response:
        if fields.get("messaging_product") != "whatsapp":
            raise GraphError(100, "The parameter messaging_product is required.")
        upload = files.get("file")
        if upload is None or not upload.data:
            raise GraphError(100, "The parameter file is required.")
        mime = fields.get("type") or upload.content_type
        if mime != "application/pdf":
            raise GraphError(100, f"Param file must be a file with one of the types: {mime!r}")
        media = Media(str(10**15 + secrets.randbelow(10**15)), upload.filename, mime, upload.data)
        with self.lock:
            self.media[media.id] = media
        return json_response({"id": media.id})

    def _message(self, payload: dict[str, Any]) -> Response:
        if payload.get("messaging_product") != "whatsapp":
            raise GraphError(100, "The parameter messaging_product is required.")
        to = _digits(str(payload.get("to") or ""))
        if not to:
            raise GraphError(100, "The parameter to is required.")
        kind = payload.get("type", "text")
        if kind == "text":
            message = self._text(to, payload.get("text"))
        elif kind == "template":
            message = self._template(to, payload.get("template"))
        elif kind == "document":
            message = self._document(to, payload.get("document"))
        else:
            raise GraphError(100, f"Param type must be one of {{text, template, document}}: {kind}")
        with self.lock:
            if to in self.not_on_whatsapp:
                raise GraphError(131026)
            if kind != "template" and not self._in_window(to):
                raise GraphError(131047)
            self._charge(to)
            message.at = self.now()
            self.sent.append(message)
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": str(payload["to"]), "wa_id": to}],
            "messages": [{"id": message.id}],
        }
        return json_response(answer)

    def _text(self, to: str, text: Any) -> SentMessage:
        if not isinstance(text, dict) or not isinstance(text.get("body"), str) or not text["body"]:
            raise GraphError(100, "The parameter text['body'] is required.")
        if len(text["body"]) > TEXT_LIMIT:
            raise GraphError(
                100, f"Param text['body'] must be at most {TEXT_LIMIT} characters long."
            )
        return SentMessage(_wamid(), to, "text", text=text["body"])

    def _template(self, to: str, spec: Any) -> SentMessage:
        if not isinstance(spec, dict) or not spec.get("name"):
            raise GraphError(100, "The parameter template['name'] is required.")
        language = (spec.get("language") or {}).get("code")
        if not language:
            raise GraphError(100, "The parameter template['language']['code'] is required.")
        with self.lock:
            found = [t for t in self.templates if (t.name, t.language) == (spec["name"], language)]
        template = found[0] if found else None
        if template is None or template.status != "APPROVED":
            raise GraphError(132001, f"template name ({spec['name']}) does not exist in {language}")
        body: list[str] = []
        document: Media | None = None
        link: str | None = None
        for component in spec.get("components") or []:
            params = component.get("parameters") or []
            kind = str(component.get("type", "")).lower()
            if kind == "body":
                for param in params:
                    if param.get("type") != "text" or not isinstance(param.get("text"), str):
                        raise GraphError(100, "Body parameters must be of type text.")
                    text = param["text"]
                    # Meta refuses a parameter that would break the approved layout (see
                    # https://github.com/netflie/whatsapp-cloud-api/issues/201).
                    if not text.strip():
                        raise GraphError(100, "Param text cannot be empty.")
                    if re.search(r"[\n\t]| {5,}", text):
                        raise GraphError(
                            100,
                            "Param text cannot have new-line/tab characters or more than 4 "
                            "consecutive spaces",
                        )
                    body.append(text)
            elif kind == "header" and template.header_document:
                doc = params[0].get("document") if params else None
                if not isinstance(doc, dict):
                    raise GraphError(132000, "header: a document parameter is expected")
                document, link = self._media_ref(doc)
            else:
                raise GraphError(132000, f"{kind}: the template has no parameters there")
        if len(body) != template.variables:
            raise GraphError(
                132000,
                f"body: number of localizable_params ({len(body)}) does not match the expected "
                f"number of params ({template.variables})",
            )
        if template.header_document and document is None and link is None:
            raise GraphError(132000, "header: a document parameter is expected")
        return SentMessage(
            _wamid(),
            to,
            "template",
            text=template.render(body),
            template=template.name,
            language=language,
            params=body,
            document=document,
            link=link,
        )

    def _document(self, to: str, spec: Any) -> SentMessage:
        if not isinstance(spec, dict):
            raise GraphError(100, "The parameter document is required.")
        caption = spec.get("caption")
        if caption is not None and len(str(caption)) > CAPTION_LIMIT:
            raise GraphError(100, f"Param document['caption'] must be at most {CAPTION_LIMIT}.")
        media, link = self._media_ref(spec)
        return SentMessage(
            _wamid(),
            to,
            "document",
            document=media,
            link=link,
            filename=spec.get("filename") or (media.filename if media else None),
            caption=caption,
        )

    def _media_ref(self, spec: dict[str, Any]) -> tuple[Media | None, str | None]:
        if spec.get("id"):
            with self.lock:
                media = self.media.get(str(spec["id"]))
            if media is None:
                raise GraphError(100, f"Invalid media id: {spec['id']}")
            return media, None
        if isinstance(spec.get("link"), str) and spec["link"].startswith(("http://", "https://")):
            return None, spec["link"]
        raise GraphError(100, "Either document['id'] or document['link'] is required.")

    # ------------------------------------------------------------------ limits

    def _in_window(self, to: str) -> bool:
        last = self.replied.get(to)
        return last is not None and self.clock.now() - last < WINDOW

    def _charge(self, to: str) -> None:
        now = self.now()
        if self._windows.wait_for("all", self.messages_per_second, 1.0, now) > 0:
            raise GraphError(130429)
        if self._windows.wait_for(f"pair:{to}", 1, self.pair_interval, now) > 0:
            raise GraphError(131056)
        self._windows.record("all", now)
        self._windows.record(f"pair:{to}", now)


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _wamid() -> str:
    return "wamid.HBgN" + secrets.token_urlsafe(24)
