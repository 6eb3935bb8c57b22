"""Google mode of a parent instance: a child's status spreadsheet, aggregate tabs only.

One `values.batchGet` per child names the tabs it reads (Metadata, Ringkasan and, when asked,
the sub-region tab): the parent never asks for a whole spreadsheet, so nothing but those tabs
— no Status KKMP row, no Masalah Data — crosses the wire. A child without the sub-region tab
(a province that does not keep one) answers 400 to the named range: it is asked once more
for the first two only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import requests
from gspread.exceptions import APIError

from kkmp_sheets.core.federation import ChildEntry
from kkmp_sheets.core.metadata import Refused
from kkmp_sheets.google.api import GoogleApi
from kkmp_sheets.google.cells import a1_tab
from kkmp_sheets.google.ids import file_id
from kkmp_sheets.google.source import UNFORMATTED
from kkmp_sheets.sources.federation import Unreachable

log = logging.getLogger(__name__)
REQUIRED_TABS = 2  # Metadata and Ringkasan: always there in a status spreadsheet


class GoogleChildReader:
    def __init__(self, api: GoogleApi) -> None:
        self.api = api

    def read(self, entry: ChildEntry, tabs: Sequence[str]) -> dict[str, list[list[Any]]]:
        sid = file_id(entry.spreadsheet)
        if sid is None:
            raise Refused(f"{entry.spreadsheet!r} bukan ID atau alamat spreadsheet Google")
        try:
            return self._get(sid, tabs)
        except APIError as exc:
            status = exc.response.status_code
            if status == 400 and len(tabs) > REQUIRED_TABS:
                log.info("%s: no %s tab; reading the first two", entry.kode, tabs[2:])
                try:
                    return self._get(sid, tabs[:REQUIRED_TABS])
                except APIError as again:
                    exc, status = again, again.response.status_code
            raise Unreachable(_reason(status, self.api.account_email)) from None
        except requests.exceptions.RequestException as exc:
            raise Unreachable(f"Google tidak terjangkau: {type(exc).__name__}") from None

    def _get(self, sid: str, tabs: Sequence[str]) -> dict[str, list[list[Any]]]:
        reply = self.api.batch_get(sid, [a1_tab(t) for t in tabs], UNFORMATTED)
        ranges = reply.get("valueRanges") or []
        return {tab: r.get("values") or [] for tab, r in zip(tabs, ranges, strict=False)}

    def close(self) -> None:
        self.api.close()


def _reason(status: int, account: str) -> str:
    if status == 403:
        return f"spreadsheet tidak dibagikan ke akun layanan {account}"
    if status == 404:
        return "spreadsheet tidak ada (terhapus, atau ID salah)"
    if status == 400:
        return "spreadsheet tanpa tab Metadata atau Ringkasan (bukan spreadsheet status?)"
    return f"Google menjawab HTTP {status}"
