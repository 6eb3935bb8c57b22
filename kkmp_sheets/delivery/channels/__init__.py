"""Channels beside email: WhatsApp (Cloud API) and Telegram (Bot API) clients.

`base` holds what they share (the classified `Result`, the rate limiter, splitting long text),
`http` the one HTTP session and the tokens' redaction; `whatsapp` and `telegram` one client
each. See docs/channels.md.
"""

from .base import Limit, Outcome, RateLimiter, Result, split_text
from .telegram import TelegramClient
from .whatsapp import WhatsAppClient

__all__ = [
    "Limit",
    "Outcome",
    "RateLimiter",
    "Result",
    "TelegramClient",
    "WhatsAppClient",
    "split_text",
]
