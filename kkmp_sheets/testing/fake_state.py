"""The fake's state: Drive files and spreadsheets, its clock and ids (no HTTP here).

``FakeApp`` (``fake_api``) extends it with identities, quotas, faults and routing; endpoints
(``api_sheets``, ``api_drive``) read and change it through ``Call.app``.
"""

from __future__ import annotations

import random
import string
import threading
import time
from collections.abc import Callable
from typing import Any

from .cells import content_from_python, parse_user_entered
from .fake_drive import FOLDER_MIME, SHEET_MIME, Drive, DriveFile, Permission, permission_id
from .fake_sheets import DEFAULT_COLS, DEFAULT_ROWS, Sheet, Spreadsheet
from .xlsx_import import ImportedTab

_ID_ALPHABET = string.ascii_letters + string.digits + "-_"


class FakeState:
    def __init__(self, *, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.drive = Drive()
        self.sheets: dict[str, Spreadsheet] = {}
        self.clock: Callable[[], float] = time.time
        self.offset = 0.0
        self.rng = random.Random(seed)
        self._last_stamp = 0

    # ------------------------------------------------------------------ time and ids

    def now(self) -> float:
        return self.clock() + self.offset

    def stamp(self) -> float:
        """A modification time, strictly increasing so that every write is visible."""
        millis = max(int(self.now() * 1000), self._last_stamp + 1)
        self._last_stamp = millis
        return millis / 1000

    def new_sheet_id(self, taken: set[int]) -> int:
        while True:
            candidate = self.rng.randrange(1, 2**31 - 1)
            if candidate not in taken:
                return candidate

    def new_file_id(self) -> str:
        while True:
            candidate = "1" + "".join(self.rng.choice(_ID_ALPHABET) for _ in range(43))
            if candidate not in self.drive.files:
                return candidate

    # ------------------------------------------------------------------ state helpers

    def add_file(
        self,
        name: str,
        mime_type: str,
        owner: str,
        *,
        parents: list[str] | None = None,
        file_id: str | None = None,
        created: float | None = None,
        modified: float | None = None,
        content: bytes | None = None,
    ) -> DriveFile:
        fid = file_id or self.new_file_id()
        if fid in self.drive.files:
            raise ValueError(f"a file with id {fid!r} already exists")
        moment = self.stamp() if created is None else created
        f = DriveFile(
            fid,
            name,
            mime_type,
            owner,
            created=moment,
            modified=moment if modified is None else modified,
            parents=list(parents) if parents else [self.drive.root_id(owner)],
            content=content,
            last_modifier=owner,
        )
        self.drive.files[fid] = f
        return f

    def add_spreadsheet_file(
        self,
        name: str,
        owner: str,
        tabs: list[ImportedTab] | None = None,
        *,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
        value_input: str = "RAW",
        **file_args: Any,
    ) -> tuple[DriveFile, Spreadsheet]:
        f = self.add_file(name, SHEET_MIME, owner, **file_args)
        ss = Spreadsheet.new(f.id, name, locale, time_zone)
        if tabs:
            ss.sheets = self.build_sheets(ss, tabs, value_input)
        self.sheets[f.id] = ss
        return f, ss

    def build_sheets(
        self, ss: Spreadsheet, tabs: list[ImportedTab], value_input: str
    ) -> list[Sheet]:
        """Sheets from imported tabs (the first gets sheetId 0, like a new spreadsheet)."""
        sheets: list[Sheet] = []
        for tab in tabs:
            sheet_id = self.new_sheet_id({s.sheet_id for s in sheets} | {0}) if sheets else 0
            sheets.append(self._build_sheet(ss, sheet_id, tab, value_input))
        if sheets and all(s.hidden for s in sheets):
            sheets[0].props.pop("hidden", None)
        for i, sheet in enumerate(sheets):
            sheet.props["index"] = i
        return sheets

    def _build_sheet(
        self, ss: Spreadsheet, sheet_id: int, tab: ImportedTab, value_input: str
    ) -> Sheet:
        height = len(tab.rows)
        width = max((len(r) for r in tab.rows), default=0)
        sheet = Sheet.new(sheet_id, tab.title, max(DEFAULT_ROWS, height), max(DEFAULT_COLS, width))
        for r, row in enumerate(tab.rows):
            for c, value in enumerate(row):
                if value_input == "USER_ENTERED" and isinstance(value, str):
                    content = parse_user_entered(value, ss.locale)
                else:
                    content = content_from_python(value, ss.locale)
                if content is not None and (content.value is not None or content.formula):
                    sheet.put(r, c, sheet.get(r, c).with_content(content))
        sheet.merges = list(tab.merges)
        if tab.hidden:
            sheet.props["hidden"] = True
        return sheet

    def share(
        self, f: DriveFile, email: str, role: str = "reader", kind: str = "user"
    ) -> Permission:
        if kind == "anyone":
            perm = Permission("anyoneWithLink", "anyone", role)
        elif kind == "domain":
            perm = Permission(permission_id("domain:" + email), "domain", role, domain=email)
        else:
            perm = Permission(permission_id(email), kind, role, email=email)
        f.permissions = [p for p in f.permissions if p.id != perm.id] + [perm]
        return perm

    def touch(self, f: DriveFile, identity: str) -> None:
        """Record a write: Drive ``version`` +1, ``modifiedTime`` now, last modifier."""
        f.version += 1
        f.modified = self.stamp()
        f.last_modifier = identity

    def delete_file(self, f: DriveFile) -> None:
        for child in [f, *self.drive.descendants(f.id)] if f.mime_type == FOLDER_MIME else [f]:
            self.drive.files.pop(child.id, None)
            self.sheets.pop(child.id, None)
