"""The WhatsApp Business Cloud API client (Meta Graph API): text, template and document
messages, PDF upload, and the list of message templates with their approval status.

Thin on purpose: each method is one documented request
(https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages), its answer
classified by `classify` into a `Result` (see `base`). The access token comes from the caller
(who reads it from the environment) and goes only into the Authorization header.
"""

from __future__ import annotations

from collections.abc import Sequence
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

DEFAULT_BASE_URL = "https://graph.facebook.com/v21.0"
TEXT_LIMIT = 4096  # text.body
CAPTION_LIMIT = 1024  # document.caption

# Graph error code → (outcome, operator message). Codes from Meta's table
# (https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes).
PERMANENT = {
    190: "Token akses WhatsApp tidak berlaku; perbarui token di lingkungan server. / "
    "The WhatsApp access token is invalid or expired.",
    100: "Permintaan ke WhatsApp ditolak (parameter salah). / WhatsApp refused a parameter.",
    131026: "Nomor ini tidak terdaftar di WhatsApp; periksa nomor telepon. / "
    "The number is not on WhatsApp.",
    131047: "Penerima belum membalas dalam 24 jam; pesan bebas hanya boleh dengan template. / "
    "Outside the 24-hour window: only a template may start the conversation.",
    132000: "Jumlah isian template tidak cocok dengan template yang disetujui. / "
    "The template's parameter count does not match.",
    132001: "Template WhatsApp tidak ada atau belum disetujui untuk bahasa ini. / "
    "The template does not exist or is not approved in that language.",
}
TRANSIENT = {
    130429: "Batas kecepatan WhatsApp tercapai; dicoba lagi nanti. / "
    "WhatsApp throughput limit reached.",
    131056: "Terlalu banyak pesan ke nomor yang sama; dicoba lagi nanti. / "
    "Pair rate limit: too many messages to this number.",
    131000: SERVER_FAULT,
    131016: SERVER_FAULT,
    4: "Batas panggilan WhatsApp tercapai; dicoba lagi nanti. / Application request limit.",
    80007: "Batas panggilan WhatsApp tercapai; dicoba lagi nanti. / WABA rate limit.",
}
# How long to wait after a throughput error when the service does not say (seconds): the
# throughput window is a second; the pair rate limit allows about one message in 6 seconds.
BACKOFF = {130429: 1.0, 131056: 6.0, 4: 60.0, 80007: 60.0}


def classify(answer: Answer) -> Result:
    """The `Result` of one Graph API answer."""
    if answer.status < 400 and "error" not in answer.body:
        messages = answer.body.get("messages") or [{}]
        return Result.ok(messages[0].get("id") or answer.body.get("id"), answer.body)
    error = answer.body.get("error")
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    label = str(code if code is not None else answer.status)
    if code in PERMANENT:
        return permanent(label, PERMANENT[code])
    if code in TRANSIENT:
        backoff = BACKOFF.get(code)
        return transient(label, TRANSIENT[code], answer.retry_after or backoff)
    if answer.status == 429 or answer.status >= 500:
        return transient(label, SERVER_FAULT, answer.retry_after)
    if answer.status == 401:
        return permanent(label, PERMANENT[190])
    return permanent(
        label, f"WhatsApp menolak pesan (kode {label}). / WhatsApp refused the message."
    )


def template_param(value: str) -> str:
    """A template variable as Meta accepts it: one line (no new-line or tab, no run of more
    than four spaces: the approved text keeps its own layout), never empty."""
    return " ".join(str(value).split()) or "-"


class WhatsAppClient:
    """One business phone number (and its WhatsApp Business Account, for templates)."""

    def __init__(
        self,
        token: str,
        phone_number_id: str,
        *,
        waba_id: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        messages_per_second: float = 20.0,
        pair_interval: float = 6.0,
        clock: Clock | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        if not token:
            raise ValueError("a WhatsApp access token is required")
        register_secret(token)
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        self.messages_per_second = messages_per_second
        self.pair_interval = pair_interval
        self.limiter = RateLimiter(clock)
        self._http = Http(
            base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            session=session,
        )

    def __repr__(self) -> str:
        return f"WhatsAppClient({self._http.base_url!r}, phone_number_id={self.phone_number_id!r})"

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ sending

    def send_text(self, to: str, body: str, *, preview_url: bool = False) -> Result:
        """A free-form text: only inside the 24-hour window the recipient opened by replying."""
        if len(body) > TEXT_LIMIT:
            raise ValueError(f"a WhatsApp text has at most {TEXT_LIMIT} characters: split it")
        text = {"body": body, "preview_url": preview_url}
        return self._message(to, {"type": "text", "text": text})

    def send_texts(self, to: str, body: str) -> list[Result]:
        """A long text in parts cut at line ends; stops at the first part not sent."""
        results: list[Result] = []
        for part in split_text(body, TEXT_LIMIT):
            results.append(self.send_text(to, part))
            if not results[-1].sent:
                break
        return results

    def send_template(
        self,
        to: str,
        name: str,
        language: str,
        params: Sequence[str] = (),
        *,
        document: dict[str, str] | None = None,
    ) -> Result:
        """An approved template with its body variables {{1}}… in order; `document`
        (``{"id": media_id, "filename": …}`` or ``{"link": …}``) fills a DOCUMENT header."""
        components: list[dict[str, Any]] = []
        if document is not None:
            components.append(
                {"type": "header", "parameters": [{"type": "document", "document": document}]}
            )
        if params:
            texts = [template_param(p) for p in params]
            components.append(
                {"type": "body", "parameters": [{"type": "text", "text": t} for t in texts]}
            )
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if components:
            template["components"] = components
        return self._message(to, {"type": "template", "template": template})

    def upload_pdf(self, data: bytes, filename: str) -> Result:
        """Upload a PDF; a sent result carries the media id as `provider_id`."""
        answer = self._http.call(
            "POST",
            f"{self.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": "application/pdf"},
            files={"file": (filename, data, "application/pdf")},
        )
        return answer if isinstance(answer, Result) else classify(answer)

    def send_document(
        self,
        to: str,
        *,
        media_id: str | None = None,
        link: str | None = None,
        filename: str,
        caption: str | None = None,
    ) -> Result:
        if (media_id is None) == (link is None):
            raise ValueError("give exactly one of media_id and link")
        if caption is not None and len(caption) > CAPTION_LIMIT:
            raise ValueError(f"a document caption has at most {CAPTION_LIMIT} characters")
        document: dict[str, str] = {"filename": filename}
        document.update({"id": media_id} if media_id is not None else {"link": link or ""})
        if caption:
            document["caption"] = caption
        return self._message(to, {"type": "document", "document": document})

    def send_pdf(self, to: str, data: bytes, filename: str, caption: str | None = None) -> Result:
        """Upload a PDF and send it as a document (inside the 24-hour window)."""
        uploaded = self.upload_pdf(data, filename)
        if not uploaded.sent or uploaded.provider_id is None:
            return uploaded
        return self.send_document(
            to, media_id=uploaded.provider_id, filename=filename, caption=caption
        )

    def _message(self, to: str, payload: dict[str, Any]) -> Result:
        number = to.removeprefix("+")
        self.limiter.acquire(
            [
                Limit("all", max(1, round(self.messages_per_second)), 1.0),
                Limit(f"to:{number}", 1, self.pair_interval),
            ]
        )
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": number}
        answer = self._http.call("POST", f"{self.phone_number_id}/messages", json=body | payload)
        result = answer if isinstance(answer, Result) else classify(answer)
        if result.outcome is Outcome.TRANSIENT and result.retry_after:
            scope = f"to:{number}" if result.code == "131056" else "all"
            self.limiter.hold(scope, result.retry_after)
        return result

    # ------------------------------------------------------------------ templates

    def templates(self) -> Result:
        """Every template of the business account (all pages), as ``data["templates"]``."""
        if not self.waba_id:
            raise ValueError("listing templates needs the WhatsApp Business Account id")
        found: list[dict[str, Any]] = []
        params: dict[str, str] = {"limit": "100", "fields": "name,language,status,components"}
        while True:
            answer = self._http.call("GET", f"{self.waba_id}/message_templates", params=params)
            if isinstance(answer, Result):
                return answer
            if answer.status >= 400 or "error" in answer.body:
                return classify(answer)
            found.extend(answer.body.get("data") or [])
            paging = answer.body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return Result.ok(None, {"templates": found})
            params = params | {"after": after}

    def approved_templates(self) -> dict[tuple[str, str], str] | Result:
        """{(name, language): status} of every template (APPROVED, PENDING, REJECTED…), or the
        failed `Result` when the list could not be read."""
        listed = self.templates()
        if not listed.sent:
            return listed
        return {(t["name"], t["language"]): t["status"] for t in listed.data["templates"]}
