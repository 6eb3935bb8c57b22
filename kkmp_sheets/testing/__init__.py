"""Test support: local fakes of the Google Sheets v4 and Drive v3 APIs, the WhatsApp Cloud API
and the Telegram Bot API, over real HTTP.

``FakeGoogle`` is the entry point for Google (see ``fake_google``); ``FakeWhatsApp`` and
``FakeTelegram`` for the message channels (see docs/channels.md). Names are imported lazily so that
``python -m kkmp_sheets.testing.fake_google`` does not import its own module twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fake_api import DEFAULT_IDENTITY, QuotaConfig, RequestRecord
    from .fake_drive import FOLDER_MIME, SHEET_MIME, XLSX_MIME
    from .fake_google import FakeGoogle, StaticTokenCredentials
    from .fake_telegram import FakeTelegram
    from .fake_whatsapp import FakeWhatsApp

__all__ = [
    "DEFAULT_IDENTITY",
    "FOLDER_MIME",
    "SHEET_MIME",
    "XLSX_MIME",
    "FakeGoogle",
    "FakeTelegram",
    "FakeWhatsApp",
    "QuotaConfig",
    "RequestRecord",
    "StaticTokenCredentials",
]

_HOMES = {
    "DEFAULT_IDENTITY": "fake_api",
    "QuotaConfig": "fake_api",
    "RequestRecord": "fake_api",
    "FOLDER_MIME": "fake_drive",
    "SHEET_MIME": "fake_drive",
    "XLSX_MIME": "fake_drive",
    "FakeGoogle": "fake_google",
    "FakeTelegram": "fake_telegram",
    "FakeWhatsApp": "fake_whatsapp",
    "StaticTokenCredentials": "fake_google",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
