"""Drive v3: what the service asks of Drive, over the guarded client (`google.api`).

- `FileState`: one file as Drive lists it (version, modification time, last modifier, whether
  we may edit it) — what change detection (`google.source`), the sink and `check` read.
- `Drive`: the calls that make and share files (`provision`), and the listing of a folder.

Every listing goes through `GoogleApi.list_files`, the one paginator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gspread.urls import DRIVE_FILES_API_V3_URL

from kkmp_sheets.core.wib import WIB
from kkmp_sheets.google.api import SHEET_MIME, XLSX_MIME, GoogleApi

# What change detection needs of every spreadsheet the service account sees.
LIST_FIELDS = (
    "id,mimeType,version,modifiedTime,lastModifyingUser(me,emailAddress),capabilities(canEdit)"
)
LIST_QUERY = f"(mimeType = '{SHEET_MIME}' or mimeType = '{XLSX_MIME}') and trashed = false"


@dataclass(frozen=True)
class FileState:
    """One file as Drive lists it."""

    id: str
    mime_type: str
    version: str
    modified_time: datetime | None  # WIB
    last_modifier_is_me: bool
    can_edit: bool = True

    @property
    def native(self) -> bool:
        return self.mime_type == SHEET_MIME


def file_state(item: dict[str, Any]) -> FileState:
    """A `files` item of a Drive answer as a `FileState`."""
    modified = item.get("modifiedTime")
    return FileState(
        id=item["id"],
        mime_type=item.get("mimeType", ""),
        version=str(item.get("version", "")),
        modified_time=(
            datetime.fromisoformat(modified.replace("Z", "+00:00")).astimezone(WIB)
            if modified
            else None
        ),
        last_modifier_is_me=bool((item.get("lastModifyingUser") or {}).get("me")),
        can_edit=bool((item.get("capabilities") or {}).get("canEdit", True)),
    )


def listing(api: GoogleApi) -> dict[str, FileState]:
    """Every spreadsheet (and uploaded .xlsx) the service account sees, by ID."""
    return {item["id"]: file_state(item) for item in api.list_files(LIST_QUERY, LIST_FIELDS)}


class Drive:
    """The few Drive v3 calls that make and share files (over the guarded client)."""

    def __init__(self, api: GoogleApi) -> None:
        self.api = api

    def _post(self, path: str, params: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        query: dict[str, Any] = {"supportsAllDrives": True, **params}
        url = f"{DRIVE_FILES_API_V3_URL}{path}"
        reply = self.api.http.request("post", url, params=query, json=body)
        return dict(reply.json()) if reply.content else {}

    def create_spreadsheet(self, name: str, folder: str) -> str:
        body = {"name": name, "mimeType": SHEET_MIME, "parents": [folder]}
        return str(self._post("", {"fields": "id"}, body)["id"])

    def copy(self, file_id: str, name: str, folder: str) -> str:
        body = {"name": name, "parents": [folder]}
        return str(self._post(f"/{file_id}/copy", {"fields": "id"}, body)["id"])

    def share(self, file_id: str, email: str, role: str, notify: bool) -> None:
        body = {"type": "user", "role": role, "emailAddress": email}
        params = {"sendNotificationEmail": notify, "fields": "id"}
        self._post(f"/{file_id}/permissions", params, body)

    def get(self, file_id: str, fields: str) -> dict[str, Any]:
        return self.api.get_file(file_id, fields)

    def spreadsheets_in(self, folder: str) -> dict[str, str]:
        """Spreadsheet name → ID, for the spreadsheets directly in `folder` (a Shared Drive's
        too: `corpora=allDrives`, as the default corpus leaves out files others made there)."""
        query = f"'{folder}' in parents and trashed = false and mimeType = '{SHEET_MIME}'"
        files = self.api.list_files(query, "id,name", corpora="allDrives")
        return {f["name"]: f["id"] for f in files}
