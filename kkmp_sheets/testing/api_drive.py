"""Drive API v3 endpoints of the fake (``/drive/v3/files...``, ``/upload/drive/...``)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from typing import Any

from .api_errors import (
    ApiError,
    drive_file_not_found,
    drive_insufficient_permissions,
    drive_invalid,
    unimplemented,
)
from .calls import Call, Response, json_response
from .fake_drive import FOLDER_MIME, ROLE_RANK, SHEET_MIME, XLSX_MIME, DriveFile, rfc3339
from .fake_sheets import plain_rows
from .fieldmask import Mask, apply_mask, parse_mask
from .xlsx_import import ImportedTab, read_csv, read_xlsx

_FILE_FIELD_NAMES = """
appProperties capabilities contentHints contentRestrictions copyRequiresWriterPermission
createdTime description downloadRestrictions driveId explicitlyTrashed exportLinks
fileExtension folderColorRgb fullFileExtension hasAugmentedPermissions hasThumbnail
headRevisionId iconLink id imageMediaMetadata inheritedPermissionsDisabled isAppAuthorized
kind labelInfo lastModifyingUser linkShareMetadata md5Checksum mimeType modifiedByMe
modifiedByMeTime modifiedTime name originalFilename ownedByMe owners parents permissionIds
permissions properties quotaBytesUsed resourceKey sha1Checksum sha256Checksum shared
sharedWithMeTime sharingUser shortcutDetails size spaces starred teamDriveId thumbnailLink
thumbnailVersion trashed trashedTime trashingUser version videoMediaMetadata viewedByMe
viewedByMeTime viewersCanCopyContent webContentLink webViewLink writersCanShare
"""
FILE_FIELDS = frozenset(_FILE_FIELD_NAMES.split())
DEFAULT_FILE_FIELDS = "kind,id,name,mimeType"
CSV_MIME, TSV_MIME = "text/csv", "text/tab-separated-values"


def _mask(
    call: Call, default: str, allowed: frozenset[str] | None = None, inner: str | None = None
) -> Mask:
    text = call.param("fields") or default
    if text.strip() == "*":
        return {"*": None}
    try:
        mask = parse_mask(text)
    except ValueError:
        raise drive_invalid(f"Invalid field selection {text}", "fields") from None
    check = mask.get(inner) if inner else mask
    if allowed and isinstance(check, dict):
        for name in check:
            if name != "*" and name not in allowed:
                raise drive_invalid(f"Invalid field selection {name}", "fields")
    return mask


def _file_obj(call: Call, f: DriveFile) -> dict[str, Any]:
    obj = call.app.drive.file_json(f, call.identity)
    if call.app.drive.can(call.identity, f, "writer"):
        obj["permissions"] = [p.json() for p in [f.owner_permission(), *f.permissions]]
    return obj


def _respond_file(call: Call, f: DriveFile) -> Response:
    mask = _mask(call, DEFAULT_FILE_FIELDS, FILE_FIELDS)
    return json_response(apply_mask(_file_obj(call, f), mask))


def _find(call: Call, file_id: str, need: str = "reader") -> DriveFile:
    f = call.app.drive.files.get(file_id)
    if f is None or not call.app.drive.can(call.identity, f):
        raise drive_file_not_found(file_id)
    if need != "reader" and not call.app.drive.can(call.identity, f, need):
        raise drive_insufficient_permissions()
    return f


def _parents(call: Call, given: Any) -> list[str]:
    if not given:
        return [call.app.drive.root_id(call.identity)]
    parents = []
    for pid in given:
        if pid == "root":
            parents.append(call.app.drive.root_id(call.identity))
            continue
        parent = call.app.drive.files.get(pid)
        if parent is None or not call.app.drive.can(call.identity, parent):
            raise drive_file_not_found(pid)
        if not call.app.drive.can(call.identity, parent, "writer"):
            raise drive_insufficient_permissions()
        parents.append(pid)
    return parents


# ------------------------------------------------------------------ files


def list_files(call: Call) -> Response:
    page_size = call.param("pageSize") or "100"
    if not page_size.isdigit() or not 1 <= int(page_size) <= 1000:
        raise drive_invalid(
            f"Invalid value '{page_size}'. Values must be within the range: [1, 1000]", "pageSize"
        )
    q, order = call.param("q"), call.param("orderBy")
    found = call.app.drive.listing(call.identity, q, order)
    fingerprint = hashlib.sha256(f"{call.identity}|{q}|{order}".encode()).hexdigest()[:16]
    offset = 0
    token = call.param("pageToken")
    if token:
        try:
            state = json.loads(base64.urlsafe_b64decode(token.encode()))
            offset = int(state["o"])
            if state["k"] != fingerprint:
                raise ValueError(token)
        except (ValueError, KeyError, TypeError):
            raise drive_invalid("Invalid Value", "pageToken") from None
    page = found[offset : offset + int(page_size)]
    out: dict[str, Any] = {"kind": "drive#fileList"}
    if offset + int(page_size) < len(found):
        state = {"o": offset + int(page_size), "k": fingerprint}
        out["nextPageToken"] = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
    out["incompleteSearch"] = False
    out["files"] = [_file_obj(call, f) for f in page]
    mask = _mask(call, "kind,nextPageToken,incompleteSearch,files(" + DEFAULT_FILE_FIELDS + ")")
    if "files" in mask and isinstance(mask["files"], dict):
        for name in mask["files"]:
            if name != "*" and name not in FILE_FIELDS:
                raise drive_invalid(f"Invalid field selection {name}", "fields")
    return json_response(apply_mask(out, mask))


def _create(
    call: Call, meta: dict[str, Any], media: bytes | None, media_type: str | None
) -> DriveFile:
    app = call.app
    mime = meta.get("mimeType") or media_type or "application/octet-stream"
    name = meta.get("name") or ("Untitled spreadsheet" if mime == SHEET_MIME else "Untitled")
    parents = _parents(call, meta.get("parents"))
    if mime == SHEET_MIME:
        tabs = _import(media, media_type, name) if media else None
        f, _ = app.add_spreadsheet_file(name, call.identity, tabs, parents=parents)
    elif mime.startswith("application/vnd.google-apps.") and mime != FOLDER_MIME:
        raise unimplemented(f"Creating {mime} files")
    else:
        content = None if mime == FOLDER_MIME else (media or b"")
        f = app.add_file(name, mime, call.identity, parents=parents, content=content)
    if meta.get("description"):
        f.description = str(meta["description"])
    f.starred = bool(meta.get("starred"))
    return f


def _import(media: bytes | None, media_type: str | None, name: str) -> list[ImportedTab]:
    if media is None:
        return []
    if media_type and media_type.split(";")[0].strip() in (CSV_MIME, "text/plain"):
        return [read_csv(media, name)]
    try:
        return read_xlsx(media)
    except Exception as exc:  # calamine raises several error types for unreadable input
        raise ApiError(
            400, "The provided file could not be converted.", reason="badContent"
        ) from exc


def create_file(call: Call) -> Response:
    return _respond_file(call, _create(call, call.json(), None, None))


def _multipart(body: bytes, content_type: str) -> list[tuple[dict[str, str], bytes]]:
    """Split a ``multipart/related`` body into (headers, payload) parts, bytes intact."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise ApiError(400, "Multipart upload without a boundary.", reason="badContent")
    parts = []
    for chunk in body.split(b"--" + match.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.removeprefix(b"\n")
        head, sep, payload = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, _, payload = chunk.partition(b"\n\n")
        payload = payload[:-2] if payload.endswith(b"\r\n") else payload.removesuffix(b"\n")
        headers = {}
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("content-transfer-encoding", "").lower() == "base64":
            payload = base64.b64decode(payload)
        parts.append((headers, payload))
    return parts


def _media(call: Call) -> tuple[dict[str, Any], bytes | None, str | None]:
    upload = call.param("uploadType") or "media"
    content_type = call.headers.get("content-type") or "application/octet-stream"
    if upload == "media":
        return {}, call.body, content_type
    if upload != "multipart":
        raise unimplemented(f"uploadType={upload}")
    parts = _multipart(call.body, content_type)
    if len(parts) != 2:
        raise ApiError(400, "Multipart upload needs a metadata part and a media part.")
    try:
        meta = json.loads(parts[0][1] or b"{}")
    except ValueError:
        raise ApiError(400, "Invalid JSON in the metadata part.", reason="parseError") from None
    media_type = parts[1][0].get("content-type", "application/octet-stream").split(";")[0]
    return meta if isinstance(meta, dict) else {}, parts[1][1], media_type


def upload_file(call: Call) -> Response:
    meta, media, media_type = _media(call)
    return _respond_file(call, _create(call, meta, media, media_type))


def upload_update(call: Call) -> Response:
    f = _find(call, call.groups[0], "writer")
    meta, media, media_type = _media(call)
    if meta.get("name"):
        _rename(call, f, str(meta["name"]))
    _replace_content(call, f, media, media_type)
    return _respond_file(call, f)


def _replace_content(call: Call, f: DriveFile, media: bytes | None, media_type: str | None) -> None:
    app = call.app
    if f.mime_type == SHEET_MIME:
        tabs = _import(media, media_type, f.name)
        ss = app.sheets[f.id]
        work = ss.clone()
        if not tabs:
            raise ApiError(400, "The provided file could not be converted.", reason="badContent")
        work.sheets = app.build_sheets(work, tabs, "USER_ENTERED")
        app.sheets[f.id] = work
    elif f.native:
        raise unimplemented(f"Uploading content into {f.mime_type}")
    else:
        f.content = media or b""
    app.touch(f, call.identity)


def upload_v2_convert(call: Call) -> Response:
    """gspread's ``import_csv``: replace a spreadsheet's content with one CSV sheet."""
    f = _find(call, call.groups[0], "writer")
    if f.mime_type != SHEET_MIME:
        raise unimplemented("Drive v2 upload into a non-spreadsheet")
    tab = read_csv(call.body, f.name)
    app = call.app
    work = app.sheets[f.id].clone()
    work.sheets = app.build_sheets(work, [tab], "USER_ENTERED")
    work.props["timeZone"] = "America/Los_Angeles"  # what Google's conversion leaves behind
    app.sheets[f.id] = work
    app.touch(f, call.identity)
    return json_response(
        {
            "kind": "drive#file",
            "id": f.id,
            "title": f.name,
            "mimeType": f.mime_type,
            "createdDate": rfc3339(f.created),
            "modifiedDate": rfc3339(f.modified),
            "version": str(f.version),
            "ownerNames": [f.owner],
            "lastModifyingUserName": call.identity,
            "editable": True,
        }
    )


def get_file(call: Call) -> Response:
    f = _find(call, call.groups[0])
    if call.param("alt") == "media":
        if f.content is None:
            raise ApiError(
                403,
                "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
                reason="fileNotDownloadable",
                location="alt",
            )
        return Response(200, f.content, f.mime_type)
    return _respond_file(call, f)


def _rename(call: Call, f: DriveFile, name: str) -> None:
    f.name = name
    ss = call.app.sheets.get(f.id)
    if ss is not None:
        work = ss.clone()
        work.props["title"] = name
        call.app.sheets[f.id] = work


def update_file(call: Call) -> Response:
    f = _find(call, call.groups[0], "writer")
    body = call.json()
    changed = False
    if body.get("name") and body["name"] != f.name:
        _rename(call, f, str(body["name"]))
        changed = True
    for key in ("description", "starred", "trashed"):
        if key in body:
            setattr(f, key, body[key])
            changed = True
    remove = [p for p in (call.param("removeParents") or "").split(",") if p]
    add = (
        _parents(call, [p for p in (call.param("addParents") or "").split(",") if p])
        if call.param("addParents")
        else []
    )
    if remove or add:
        f.parents = [p for p in f.parents if p not in remove] + [
            p for p in add if p not in f.parents
        ]
        changed = True
    if changed:
        call.app.touch(f, call.identity)
    return _respond_file(call, f)


def delete_file(call: Call) -> Response:
    f = _find(call, call.groups[0])
    if call.app.drive.role(call.identity, f) != "owner":
        raise drive_insufficient_permissions()
    call.app.delete_file(f)
    return Response(204, b"", "text/html")


def copy_file(call: Call) -> Response:
    source = _find(call, call.groups[0])
    body = call.json()
    app = call.app
    name = body.get("name") or f"Copy of {source.name}"
    given = body.get("parents")
    parents = (
        _parents(call, given)
        if given
        else [
            p
            for p in source.parents
            if p in app.drive.files and app.drive.can(call.identity, app.drive.files[p], "writer")
        ]
    )
    f = app.add_file(
        name, source.mime_type, call.identity, parents=parents or None, content=source.content
    )
    if source.id in app.sheets:
        dup = app.sheets[source.id].clone()
        dup.id = f.id
        dup.props["title"] = name
        app.sheets[f.id] = dup
    return _respond_file(call, f)


def export_file(call: Call) -> Response:
    f = _find(call, call.groups[0])
    if f.mime_type != SHEET_MIME:
        raise ApiError(403, "Export only supports Docs Editors files.", reason="fileNotExportable")
    wanted = call.param("mimeType")
    if not wanted:
        raise ApiError(400, "Required parameter: mimeType", reason="required", location="mimeType")
    ss = call.app.sheets[f.id]
    if wanted in (CSV_MIME, TSV_MIME):
        out = io.StringIO()
        writer = csv.writer(
            out, delimiter="," if wanted == CSV_MIME else "\t", lineterminator="\r\n"
        )
        rows = plain_rows(ss, ss.sheets[0])
        width = max((len(r) for r in rows), default=0)
        writer.writerows([list(r) + [""] * (width - len(r)) for r in rows])
        return Response(
            200, out.getvalue().removesuffix("\r\n").encode(), f"{wanted}; charset=UTF-8"
        )
    if wanted == XLSX_MIME:
        return Response(200, _xlsx_bytes(ss), XLSX_MIME)
    raise ApiError(
        400, "The requested conversion is not supported.", reason="badRequest", location="convertTo"
    )


def _xlsx_bytes(ss: Any) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for sheet in ss.sheets:
        target = book.create_sheet(sheet.title[:31])
        for row in plain_rows(ss, sheet, "UNFORMATTED_VALUE"):
            target.append([None if v == "" else v for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ permissions, comments


def create_permission(call: Call) -> Response:
    f = _find(call, call.groups[0], "writer")
    body = call.json()
    kind, role = body.get("type"), body.get("role")
    if kind not in ("user", "group", "domain", "anyone"):
        raise drive_invalid("The permission type field is required.", "permission.type")
    if role not in ROLE_RANK or role == "owner":
        raise drive_invalid("The permission role field is required.", "permission.role")
    target = body.get("domain") if kind == "domain" else body.get("emailAddress")
    if kind in ("user", "group", "domain") and not target:
        raise drive_invalid(
            "The permission emailAddress field is required.", "permission.emailAddress"
        )
    perm = call.app.share(f, str(target or ""), role, kind)
    return json_response(apply_mask(perm.json(), _mask(call, "kind,id,type,role")))


def list_permissions(call: Call) -> Response:
    f = _find(call, call.groups[0])
    perms = [p.json() for p in [f.owner_permission(), *f.permissions]]
    obj = {"kind": "drive#permissionList", "permissions": perms}
    return json_response(apply_mask(obj, _mask(call, "kind,permissions(kind,id,type,role)")))


def _permission(call: Call, f: DriveFile) -> Any:
    pid = call.groups[1]
    found = next((p for p in f.permissions if p.id == pid), None)
    if found is None and f.owner_permission().id != pid:
        raise ApiError(
            404, f"Permission not found: {pid}.", reason="notFound", location="permissionId"
        )
    return found


def get_permission(call: Call) -> Response:
    f = _find(call, call.groups[0])
    found = _permission(call, f) or f.owner_permission()
    return json_response(apply_mask(found.json(), _mask(call, "kind,id,type,role")))


def delete_permission(call: Call) -> Response:
    f = _find(call, call.groups[0], "writer")
    found = _permission(call, f)
    if found is None:
        raise ApiError(403, "The owner of a file cannot be removed.", reason="cannotRemoveOwner")
    f.permissions.remove(found)
    return Response(204, b"", "text/html")


def list_comments(call: Call) -> Response:
    _find(call, call.groups[0])
    return json_response(
        apply_mask({"kind": "drive#commentList", "comments": []}, _mask(call, "*"))
    )


_ID = r"([^/]+)"
ROUTES = [
    ("GET", r"^/drive/v3/files/?$", "drive.files.list", list_files),
    ("POST", r"^/drive/v3/files/?$", "drive.files.create", create_file),
    ("POST", r"^/upload/drive/v3/files/?$", "drive.files.create", upload_file),
    ("PATCH", rf"^/upload/drive/v3/files/{_ID}$", "drive.files.update", upload_update),
    ("PUT", rf"^/upload/drive/v2/files/{_ID}$", "drive.files.update", upload_v2_convert),
    ("GET", rf"^/drive/v3/files/{_ID}/export$", "drive.files.export", export_file),
    ("POST", rf"^/drive/v3/files/{_ID}/copy$", "drive.files.copy", copy_file),
    ("GET", rf"^/drive/v3/files/{_ID}/comments$", "drive.comments.list", list_comments),
    ("GET", rf"^/drive/v3/files/{_ID}/permissions$", "drive.permissions.list", list_permissions),
    (
        "POST",
        rf"^/drive/v3/files/{_ID}/permissions$",
        "drive.permissions.create",
        create_permission,
    ),
    ("GET", rf"^/drive/v3/files/{_ID}/permissions/{_ID}$", "drive.permissions.get", get_permission),
    (
        "DELETE",
        rf"^/drive/v3/files/{_ID}/permissions/{_ID}$",
        "drive.permissions.delete",
        delete_permission,
    ),
    ("GET", rf"^/drive/v3/files/{_ID}$", "drive.files.get", get_file),
    ("PATCH", rf"^/drive/v3/files/{_ID}$", "drive.files.update", update_file),
    ("DELETE", rf"^/drive/v3/files/{_ID}$", "drive.files.delete", delete_file),
]
