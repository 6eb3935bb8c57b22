"""Replay real Google API traffic (gspread's recorded cassettes) against the local fake.

Each cassette is a sequence of requests gspread's own test suite sent to the real Sheets v4 and
Drive v3 APIs, with Google's responses. We send every request, over HTTP, to a fresh fake
(ids mapped from the recording to the fake's as they are created), then compare status codes and
response *shapes*: the same keys recursively, the same JSON types, the same list lengths, and
equal values where they are deterministic (``values``, ranges, titles, counts, grid sizes,
error status and message). Ids, timestamps, tokens and URLs are not compared.

Files the recording touches but never creates (the test account's other spreadsheets, a private
file owned by someone else) are created in the fake from what the recording shows of them.

The cassettes live outside the repository (``../shared/conformance/``); the tests skip when they
are absent. ``python tests/test_conformance.py`` prints the per-cassette figures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from kkmp_sheets.testing import FakeGoogle, QuotaConfig
from kkmp_sheets.testing.fake_drive import parse_time

CONFORMANCE = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"
CASSETTES = CONFORMANCE / "gspread-cassettes"
IDENTITY = "gspread-recorder@example-project.iam.gserviceaccount.com"
STRANGER = "someone-else@example.com"
TOKEN = "conformance-token"

#: Keys whose values must be equal, not just of the same type.
_EXACT_KEYS = """
range updatedRange clearedRange clearedRanges tableRange majorDimension values title name
status message code updatedRows updatedColumns updatedCells totalUpdatedRows
totalUpdatedColumns totalUpdatedCells totalUpdatedSheets rowCount columnCount index hidden
sheetType locale timeZone note formattedValue mimeType kind depth dimension startIndex
endIndex startRowIndex endRowIndex startColumnIndex endColumnIndex frozenRowCount
frozenColumnCount hideGridlines warningOnly requestingUserCanEdit horizontalAlignment
fontSize bold userEnteredValue stringValue numberValue boolValue formulaValue
"""
EXACT = frozenset(_EXACT_KEYS.split())
#: Keys holding ids the fake generates: mapped recording → fake, never compared.
STRING_IDS = frozenset({"id", "spreadsheetId", "namedRangeId"})
NUMBER_IDS = frozenset({"sheetId", "protectedRangeId", "chartId"})
#: Interactions compared on status only: (method, URL fragment, why).
STATUS_ONLY = [
    ("PUT", "/upload/drive/v2/files/", "the Drive v2 file resource (import_csv) is not modeled"),
]
FILE_ID = re.compile(r"/(?:spreadsheets|files)/([A-Za-z0-9_-]{10,})")


def cassette_paths() -> list[Path]:
    return sorted(CASSETTES.glob("*.json")) if CASSETTES.is_dir() else []


@dataclass
class Outcome:
    name: str
    total: int = 0
    matched: int = 0
    status_only: int = 0
    failures: list[str] = field(default_factory=list)


def _body(interaction: dict[str, Any]) -> Any:
    text = interaction["response"]["body"]["string"]
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def compare(recorded: Any, actual: Any, path: str = "") -> Iterator[str]:
    """Differences in shape (and in the values of ``EXACT`` keys) between two JSON values."""
    key = path.rsplit(".", 1)[-1].split("[")[0]
    if key in EXACT and recorded != actual:
        if not (_kind(recorded) == _kind(actual) == "number" and recorded == actual):
            yield f"{path or '<body>'}: {recorded!r} != {actual!r}"
        return
    if _kind(recorded) != _kind(actual):
        yield f"{path or '<body>'}: {_kind(recorded)} != {_kind(actual)}"
        return
    if isinstance(recorded, dict):
        missing = sorted(set(recorded) - set(actual))
        extra = sorted(set(actual) - set(recorded))
        if missing or extra:
            yield f"{path or '<body>'}: keys missing {missing} extra {extra}"
        for name in sorted(set(recorded) & set(actual)):
            yield from compare(recorded[name], actual[name], f"{path}.{name}" if path else name)
    elif isinstance(recorded, list):
        if len(recorded) != len(actual):
            yield f"{path}: {len(recorded)} items != {len(actual)}"
        for i, (a, b) in enumerate(zip(recorded, actual, strict=False)):
            yield from compare(a, b, f"{path}[{i}]")


class Replay:
    """One cassette against one fake: id mapping, seeding of pre-existing files, comparison."""

    def __init__(self, fake: FakeGoogle, interactions: list[dict[str, Any]]) -> None:
        self.fake = fake
        self.interactions = interactions
        self.ids: dict[str, str] = {}
        self.numbers: dict[int, int] = {}
        self.created = self._created_ids()
        self.seeded: set[str] = set()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {TOKEN}"

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ ids

    def _created_ids(self) -> set[str]:
        created = set()
        for item in self.interactions:
            req, body = item["request"], _body(item)
            path = req["uri"].split("?")[0]
            creating = req["method"] == "POST" and (
                path.endswith("/drive/v3/files")
                or path.endswith("/copy")
                or path.endswith("/v4/spreadsheets")
            )
            if creating and isinstance(body, dict):
                created.add(body.get("id") or body.get("spreadsheetId"))
        return created

    def learn(self, recorded: Any, actual: Any) -> None:
        if isinstance(recorded, dict) and isinstance(actual, dict):
            for key, value in recorded.items():
                if key not in actual:
                    continue
                other = actual[key]
                if key in STRING_IDS and isinstance(value, str) and isinstance(other, str):
                    if value != other:
                        self.ids[value] = other
                elif key in NUMBER_IDS and isinstance(value, int) and isinstance(other, int):
                    if value != other:
                        self.numbers[value] = other
                else:
                    self.learn(value, other)
        elif isinstance(recorded, list) and isinstance(actual, list):
            for a, b in zip(recorded, actual, strict=False):
                self.learn(a, b)

    def map_text(self, text: str) -> str:
        for old, new in self.ids.items():
            if old in text:
                text = text.replace(old, new)
        return text

    def map_json(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self.map_json(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.map_json(v, key) for v in value]
        if isinstance(value, str):
            return self.map_text(value)
        if key in NUMBER_IDS and isinstance(value, int) and not isinstance(value, bool):
            return self.numbers.get(value, value)
        return value

    def map_uri(self, uri: str) -> str:
        uri = uri.replace("https://sheets.googleapis.com", self.fake.base_url)
        uri = uri.replace("https://www.googleapis.com", self.fake.base_url)
        uri = re.sub(
            r"/sheets/(\d+):copyTo",
            lambda m: f"/sheets/{self.numbers.get(int(m.group(1)), int(m.group(1)))}:copyTo",
            uri,
        )
        return self.map_text(uri)

    # ------------------------------------------------------------------ pre-existing files

    def seed_for(self, item: dict[str, Any]) -> None:
        """Create the files this interaction refers to that the recording never created."""
        wanted = set(FILE_ID.findall(item["request"]["uri"].split("?")[0]))
        body = _body(item)
        if isinstance(body, dict) and isinstance(body.get("files"), list):
            wanted |= {f["id"] for f in body["files"] if isinstance(f, dict) and "id" in f}
        for file_id in sorted(wanted - self.created - self.seeded):
            self.seeded.add(file_id)
            self._seed(file_id)

    def _seed(self, file_id: str) -> None:
        name, times, meta, status = None, {}, None, None
        for item in self.interactions:
            uri, body = item["request"]["uri"], _body(item)
            code = item["response"]["status"]["code"]
            if file_id in uri and status is None:
                status = code
            if isinstance(body, dict):
                entries = body.get("files") if isinstance(body.get("files"), list) else [body]
                for entry in entries:
                    if isinstance(entry, dict) and entry.get("id") == file_id:
                        name = name or entry.get("name")
                        times = times or {
                            k: entry[k] for k in ("createdTime", "modifiedTime") if k in entry
                        }
                if body.get("spreadsheetId") == file_id and "sheets" in body and meta is None:
                    meta = body
        if status == 404 and name is None:
            return  # the recording shows it does not exist
        props = (meta or {}).get("properties", {})
        sheets = (meta or {}).get("sheets") or [{"properties": {"sheetId": 0, "title": "Sheet1"}}]
        owner = STRANGER if status == 403 else IDENTITY
        self.fake.add_spreadsheet(
            name or props.get("title") or "Untitled spreadsheet",
            {s["properties"]["title"]: [] for s in sheets},
            file_id=file_id,
            owner=owner,
            locale=props.get("locale", "en_US"),
            time_zone=props.get("timeZone", "Etc/GMT"),
            created_time=parse_time(times["createdTime"]) if "createdTime" in times else None,
            modified_time=parse_time(times["modifiedTime"]) if "modifiedTime" in times else None,
        )
        if owner == IDENTITY:
            ss = self.fake.app.sheets[file_id]
            for sheet, given in zip(ss.sheets, sheets, strict=True):
                grid = given["properties"].get("gridProperties") or {}
                sheet.props["sheetId"] = given["properties"].get("sheetId", 0)
                sheet.set_grid(grid.get("rowCount", 1000), grid.get("columnCount", 26))

    # ------------------------------------------------------------------ replay

    def send(self, item: dict[str, Any]) -> requests.Response:
        req = item["request"]
        headers = {}
        for key, values in (req.get("headers") or {}).items():
            if key.lower() == "content-type":
                headers["Content-Type"] = values[0]
        body = req.get("body")
        data: bytes | None = None
        if body is not None:
            try:
                data = json.dumps(self.map_json(json.loads(body))).encode()
            except ValueError:
                data = body.encode() if isinstance(body, str) else body
        return self.session.request(
            req["method"], self.map_uri(req["uri"]), data=data, headers=headers, timeout=30
        )

    def run(self, name: str) -> Outcome:
        outcome = Outcome(name, total=len(self.interactions))
        for n, item in enumerate(self.interactions):
            self.seed_for(item)
            response = self.send(item)
            expected = item["response"]["status"]["code"]
            recorded = _body(item)
            try:
                actual: Any = response.json() if response.content else None
            except ValueError:
                actual = response.text
            self.learn(recorded, actual)
            where = f"[{n}] {item['request']['method']} {item['request']['uri'][:110]}"
            if response.status_code != expected:
                outcome.failures.append(
                    f"{where}: status {expected} != {response.status_code} {str(actual)[:300]}"
                )
                continue
            method, uri = item["request"]["method"], item["request"]["uri"]
            if any(method == m and fragment in uri for m, fragment, _ in STATUS_ONLY):
                outcome.status_only += 1
                continue
            diffs = list(compare(recorded, actual))
            if diffs:
                outcome.failures.append(f"{where}: " + "; ".join(diffs[:5]))
            else:
                outcome.matched += 1
        return outcome


def replay(path: Path) -> Outcome:
    interactions = json.loads(path.read_text(encoding="utf-8"))["interactions"]
    with FakeGoogle(quota=QuotaConfig.unlimited(), default_identity=IDENTITY) as fake:
        fake.add_identity(IDENTITY, TOKEN)
        runner = Replay(fake, interactions)
        try:
            return runner.run(path.stem)
        finally:
            runner.close()


_RESULTS: dict[str, Outcome] = {}


@pytest.mark.skipif(
    not CASSETTES.is_dir(), reason=f"recorded Google traffic not found at {CASSETTES}"
)
@pytest.mark.parametrize("path", cassette_paths(), ids=lambda p: p.stem)
def test_cassette(path: Path) -> None:
    outcome = replay(path)
    _RESULTS[path.stem] = outcome
    assert not outcome.failures, "\n".join(outcome.failures[:10])


@pytest.mark.skipif(
    not CASSETTES.is_dir(), reason=f"recorded Google traffic not found at {CASSETTES}"
)
def test_conformance_totals() -> None:
    outcomes = [_RESULTS.get(p.stem) or replay(p) for p in cassette_paths()]
    total = sum(o.total for o in outcomes)
    reproduced = sum(o.matched + o.status_only for o in outcomes)
    passing = sum(1 for o in outcomes if not o.failures)
    summary = f"{passing}/{len(outcomes)} cassettes, {reproduced}/{total} interactions reproduced"
    print(summary)
    assert len(outcomes) >= 100, f"only {len(outcomes)} cassettes found"
    assert reproduced / total >= 0.97, summary


def _main() -> None:
    outcomes = [replay(p) for p in cassette_paths()]
    for o in outcomes:
        mark = "ok " if not o.failures else "FAIL"
        print(f"{mark} {o.name}: {o.matched + o.status_only}/{o.total}")
        for failure in o.failures[:4]:
            print("      ", failure[:400])
    total = sum(o.total for o in outcomes)
    reproduced = sum(o.matched + o.status_only for o in outcomes)
    status_only = sum(o.status_only for o in outcomes)
    passing = sum(1 for o in outcomes if not o.failures)
    print(
        f"\n{passing}/{len(outcomes)} cassettes pass; {reproduced}/{total} interactions reproduced "
        f"({status_only} compared on status only)"
    )


if __name__ == "__main__":
    _main()
