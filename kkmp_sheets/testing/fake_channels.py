"""Run the WhatsApp and Telegram fakes standalone, to point a local service at them::

    python -m kkmp_sheets.testing.fake_channels --whatsapp-port 8091 --telegram-port 8092 \\
        --chat -1001234567890 --template kkmp_ringkasan_kota:id:9

It prints the base URLs and the tokens as environment lines, then serves until interrupted, and
on the way out prints what each fake received (recipient, kind, text) without the tokens.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from .fake_telegram import FakeTelegram
from .fake_whatsapp import FakeWhatsApp


def _template(spec: str) -> tuple[str, str, int]:
    name, language, count = spec.split(":")
    return name, language, int(count)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--whatsapp-port", type=int, default=0)
    parser.add_argument("--telegram-port", type=int, default=0)
    parser.add_argument("--chat", type=int, action="append", default=[], help="a Telegram chat id")
    parser.add_argument(
        "--template",
        type=_template,
        action="append",
        default=[],
        help="an approved WhatsApp template, name:language:variables",
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with (
        FakeWhatsApp(port=args.whatsapp_port) as wa,
        FakeTelegram(port=args.telegram_port) as tg,
    ):
        for name, language, count in args.template:
            body = "Pesan " + " ".join(f"isian {{{{{n}}}}}." for n in range(1, count + 1))
            wa.add_template(name, language, body)
        for chat in args.chat:
            tg.add_chat(chat, "supergroup" if chat < 0 else "private", f"Chat {chat}")
        print(f"KKMP_WHATSAPP_BASE_URL={wa.base_url}/v21.0")
        print(f"KKMP_WHATSAPP_TOKEN={wa.token}")
        print(f"KKMP_WHATSAPP_PHONE_NUMBER_ID={wa.phone_number_id}")
        print(f"KKMP_WHATSAPP_WABA_ID={wa.waba_id}")
        print(f"KKMP_TELEGRAM_BASE_URL={tg.base_url}")
        print(f"KKMP_TELEGRAM_TOKEN={tg.token}", flush=True)
        stop.wait()
        for message in wa.sent:
            print(f"whatsapp +{message.to} {message.type}: {message.text or message.filename}")
        for bot_message in tg.sent:
            shown = bot_message.text or (bot_message.document and bot_message.document.file_name)
            print(f"telegram {bot_message.chat_id}: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
