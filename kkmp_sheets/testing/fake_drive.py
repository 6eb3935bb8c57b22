"""Drive v3 state: files, folders, permissions, the ``q`` language and listing order.

Access follows Drive: a principal reaches a file it owns, one shared with it (user, its domain,
or anyone) or one inside a folder shared with it. A file the caller cannot reach does not exist
for Drive (404 ``File not found``); the Sheets API answers 403 for it (see ``fake_api``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .api_errors import drive_invalid

FOLDER_MIME = "application/vnd.google-apps.folder"
SHEET_MIME = "application/vnd.google-apps.spreadsheet"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROLE_RANK = {
    "reader": 1,
    "commenter": 2,
    "writer": 3,
    "fileOrganizer": 3,
    "organizer": 4,
    "owner": 5,
}


def rfc3339(seconds: float) -> str:
    """``2023-08-17T10:52:57.123Z`` (milliseconds, UTC), as Drive writes times."""
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str) -> float:
    """Parse RFC 3339 (zone-less means UTC, as in Drive queries) to epoch seconds."""
    moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def permission_id(email: str) -> str:
    """A stable numeric id per principal, like Drive's ``permissionId``."""
    return str(int(hashlib.sha256(email.lower().encode()).hexdigest(), 16))[:20]


def user_json(email: str, caller: str) -> dict[str, Any]:
    return {
        "kind": "drive#user",
        "displayName": email.split("@")[0],
        "me": email.lower() == caller.lower(),
        "permissionId": permission_id(email),
        "emailAddress": email,
    }


@dataclass
class Permission:
    id: str
    type: str  # user | group | domain | anyone
    role: str
    email: str | None = None
    domain: str | None = None

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "drive#permission", "id": self.id, "type": self.type}
        if self.email:
            out["emailAddress"] = self.email
            out["displayName"] = self.email.split("@")[0]
        if self.domain:
            out["domain"] = self.domain
        out["role"] = self.role
        out["deleted"] = False
        out["pendingOwner"] = False
        return out

    def grants(self, identity: str) -> bool:
        if self.type == "anyone":
            return True
        if self.type == "domain":
            return identity.lower().endswith("@" + (self.domain or "").lower())
        return (self.email or "").lower() == identity.lower()


@dataclass
class DriveFile:
    id: str
    name: str
    mime_type: str
    owner: str
    created: float
    modified: float
    version: int = 1
    parents: list[str] = field(default_factory=list)
    permissions: list[Permission] = field(default_factory=list)
    trashed: bool = False
    starred: bool = False
    description: str | None = None
    content: bytes | None = None  # non-native files only
    last_modifier: str = ""

    @property
    def native(self) -> bool:
        return self.mime_type.startswith("application/vnd.google-apps.")

    def owner_permission(self) -> Permission:
        return Permission(permission_id(self.owner), "user", "owner", email=self.owner)


class Drive:
    def __init__(self) -> None:
        self.files: dict[str, DriveFile] = {}
        self._roots: dict[str, str] = {}

    def root_id(self, identity: str) -> str:
        key = identity.lower()
        if key not in self._roots:
            self._roots[key] = (
                "0A" + hashlib.sha256(key.encode()).hexdigest()[:17].upper() + "Uk9PVA"
            )
        return self._roots[key]

    def role(self, identity: str, f: DriveFile, depth: int = 0) -> str | None:
        if f.owner.lower() == identity.lower():
            return "owner"
        best: str | None = None
        for perm in f.permissions:
            if perm.grants(identity) and ROLE_RANK[perm.role] > ROLE_RANK.get(best or "", 0):
                best = perm.role
        if depth < 20:
            for parent_id in f.parents:
                parent = self.files.get(parent_id)
                inherited = self.role(identity, parent, depth + 1) if parent else None
                if inherited and ROLE_RANK[inherited] > ROLE_RANK.get(best or "", 0):
                    best = "writer" if inherited == "owner" else inherited
        return best

    def can(self, identity: str, f: DriveFile, need: str = "reader") -> bool:
        role = self.role(identity, f)
        return role is not None and ROLE_RANK[role] >= ROLE_RANK[need]

    def descendants(self, folder_id: str) -> list[DriveFile]:
        out, todo = [], [folder_id]
        while todo:
            current = todo.pop()
            for f in self.files.values():
                if current in f.parents and f not in out:
                    out.append(f)
                    todo.append(f.id)
        return out

    def file_json(self, f: DriveFile, caller: str) -> dict[str, Any]:
        """Every field the fake knows for ``fields=*``; callers mask it down."""
        role = self.role(caller, f) or "reader"
        out: dict[str, Any] = {
            "kind": "drive#file",
            "id": f.id,
            "name": f.name,
            "mimeType": f.mime_type,
            "starred": f.starred,
            "trashed": f.trashed,
            "explicitlyTrashed": f.trashed,
            "parents": list(f.parents),
            "spaces": ["drive"],
            "version": str(f.version),
            "webViewLink": self._link(f),
            "createdTime": rfc3339(f.created),
            "modifiedTime": rfc3339(f.modified),
            "owners": [user_json(f.owner, caller)],
            "lastModifyingUser": user_json(f.last_modifier or f.owner, caller),
            "shared": bool(f.permissions),
            "ownedByMe": role == "owner",
            "capabilities": {
                "canEdit": ROLE_RANK[role] >= ROLE_RANK["writer"],
                "canShare": ROLE_RANK[role] >= ROLE_RANK["writer"],
                "canDelete": role == "owner",
                "canCopy": True,
                "canDownload": True,
            },
            "permissionIds": [p.id for p in [f.owner_permission(), *f.permissions]],
            "quotaBytesUsed": str(len(f.content or b"")),
        }
        if f.description:
            out["description"] = f.description
        if f.content is not None:
            digest = hashlib.md5(f.content, usedforsecurity=False).hexdigest()
            out |= {
                "originalFilename": f.name,
                "fullFileExtension": f.name.rsplit(".", 1)[-1] if "." in f.name else "",
                "fileExtension": f.name.rsplit(".", 1)[-1] if "." in f.name else "",
                "md5Checksum": digest,
                "size": str(len(f.content)),
                "headRevisionId": f"0B{digest[:20]}",
            }
        return out

    @staticmethod
    def _link(f: DriveFile) -> str:
        if f.mime_type == SHEET_MIME:
            return f"https://docs.google.com/spreadsheets/d/{f.id}/edit?usp=drivesdk"
        if f.mime_type == FOLDER_MIME:
            return f"https://drive.google.com/drive/folders/{f.id}"
        return f"https://drive.google.com/file/d/{f.id}/view?usp=drivesdk"

    # ------------------------------------------------------------------ listing

    def listing(self, identity: str, q: str | None, order_by: str | None) -> list[DriveFile]:
        test = compile_query(q, self, identity) if q else (lambda f: True)
        found = [f for f in self.files.values() if self.can(identity, f) and test(f)]
        return sort_files(found, order_by or "modifiedTime desc")


_ORDER_KEYS: dict[str, Callable[[DriveFile], Any]] = {
    "createdTime": lambda f: f.created,
    "modifiedTime": lambda f: f.modified,
    "modifiedByMeTime": lambda f: f.modified,
    "viewedByMeTime": lambda f: f.modified,
    "recency": lambda f: f.modified,
    "name": lambda f: f.name.casefold(),
    "name_natural": lambda f: f.name.casefold(),
    "folder": lambda f: f.mime_type != FOLDER_MIME,
    "starred": lambda f: not f.starred,
    "quotaBytesUsed": lambda f: len(f.content or b""),
}


def sort_files(files: list[DriveFile], order_by: str) -> list[DriveFile]:
    ordered = sorted(files, key=lambda f: f.id)
    for part in reversed([p.strip() for p in order_by.split(",") if p.strip()]):
        words = part.split()
        if (
            words[0] not in _ORDER_KEYS
            or len(words) > 2
            or (len(words) == 2 and words[1] != "desc")
        ):
            raise drive_invalid("Invalid Value", "orderBy")
        ordered.sort(key=_ORDER_KEYS[words[0]], reverse=len(words) == 2)
    return ordered


# ---------------------------------------------------------------------- the q language

_QTOKEN = re.compile(
    r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<op>!=|<=|>=|=|<|>|\(|\))"""
    r"""|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"""
)
Pred = Callable[[DriveFile], bool]


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


class _Query:
    def __init__(self, text: str, drive: Drive, identity: str) -> None:
        self.drive = drive
        self.identity = identity
        self.toks: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if not text[pos:].strip():
                break
            m = _QTOKEN.match(text, pos)
            if not m:
                raise drive_invalid("Invalid Value", "q")
            kind = m.lastgroup or ""
            self.toks.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise drive_invalid("Invalid Value", "q")
        self.i += 1
        return tok

    def word(self, value: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "word" and tok[1].lower() == value:
            self.i += 1
            return True
        return False

    def parse(self) -> Pred:
        pred = self.disjunction()
        if self.peek() is not None:
            raise drive_invalid("Invalid Value", "q")
        return pred

    def disjunction(self) -> Pred:
        parts = [self.conjunction()]
        while self.word("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda f: any(p(f) for p in parts))

    def conjunction(self) -> Pred:
        parts = [self.negation()]
        while self.word("and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else (lambda f: all(p(f) for p in parts))

    def negation(self) -> Pred:
        if self.word("not"):
            inner = self.negation()
            return lambda f: not inner(f)
        if self.peek() == ("op", "("):
            self.i += 1
            inner = self.disjunction()
            if self.take() != ("op", ")"):
                raise drive_invalid("Invalid Value", "q")
            return inner
        return self.term()

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return _unquote(text)
        if kind == "word" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise drive_invalid("Invalid Value", "q")

    def term(self) -> Pred:
        first = self.peek()
        if first and first[0] == "str":
            value = self.value()
            if not self.word("in"):
                raise drive_invalid("Invalid Value", "q")
            return self.membership(self.take()[1], value)
        kind, name = self.take()
        if kind != "word":
            raise drive_invalid("Invalid Value", "q")
        if self.word("in"):
            return self.membership(name, self.value())
        if name == "sharedWithMe":
            return lambda f: f.owner.lower() != self.identity.lower()
        if self.word("contains"):
            return self.compare(name, "contains", self.value())
        op = self.take()
        if op[0] != "op" or op[1] in ("(", ")"):
            raise drive_invalid("Invalid Value", "q")
        return self.compare(name, op[1], self.value())

    def membership(self, name: str, value: Any) -> Pred:
        value = str(value)
        if name == "parents":
            target = self.drive.root_id(self.identity) if value == "root" else value
            return lambda f: target in f.parents
        if name in ("owners", "writers", "readers"):
            need = {"owners": "owner", "writers": "writer", "readers": "reader"}[name]
            who = self.identity if value == "me" else value
            return lambda f: self.drive.can(who, f, need)
        raise drive_invalid("Invalid Value", "q")

    def compare(self, name: str, op: str, value: Any) -> Pred:
        getters: dict[str, Callable[[DriveFile], Any]] = {
            "name": lambda f: f.name,
            "fullText": lambda f: f"{f.name} {f.description or ''}",
            "mimeType": lambda f: f.mime_type,
            "trashed": lambda f: f.trashed,
            "starred": lambda f: f.starred,
            "modifiedTime": lambda f: f.modified,
            "createdTime": lambda f: f.created,
            "viewedByMeTime": lambda f: f.modified,
        }
        if name not in getters:
            raise drive_invalid("Invalid Value", "q")
        get = getters[name]
        if name.endswith("Time"):
            if not isinstance(value, str):
                raise drive_invalid("Invalid Value", "q")
            try:
                value = parse_time(value)
            except ValueError:
                raise drive_invalid("Invalid Value", "q") from None
        if op == "contains":
            needle = str(value).casefold()
            return lambda f: needle in str(get(f)).casefold()
        ops: dict[str, Callable[[Any, Any], bool]] = {
            "=": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }
        if op not in ops or (op not in ("=", "!=") and not name.endswith("Time")):
            raise drive_invalid("Invalid Value", "q")
        check = ops[op]
        return lambda f: check(get(f), value)


def compile_query(q: str, drive: Drive, identity: str) -> Pred:
    """Compile a Drive ``q`` expression (and/or/not, parentheses, ``'x' in parents``,
    ``name = 'x'``, ``name contains 'x'``, ``mimeType != 'x'``, ``modifiedTime > '...'``,
    ``trashed = false``, ``sharedWithMe``). Unknown syntax is Drive's 400 ``Invalid Value``."""
    return _Query(q, drive, identity).parse()
