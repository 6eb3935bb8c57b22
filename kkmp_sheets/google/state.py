"""What Google mode remembers between cycles, so that an unchanged spreadsheet costs no request.

One small SQLite file in the data folder (`google-state.sqlite`), a JSON value per key:

- `sheet:<spreadsheet id>`: what the last read of a cooperative spreadsheet found — its Drive
  `version` then, the last *human* modification time (Data Diperbarui), its tab titles (so the
  next read is one `values:batchGet` without a metadata read), the Hasil Pemeriksaan tab's
  `sheetId` and a hash of its rows (so an unchanged result is not written again), and the last
  read failure (so a spreadsheet still not shared is not asked again until Drive lists it).
- `registry`: the registry rows and the version they were read at.
- `status:<spreadsheet id>`: the city status spreadsheet as last written: a fingerprint of its
  contents, the Riwayat rows, and its layout (sheet ids, chart ids, rule counts).

Losing the file costs one cold cycle, nothing else. It holds no cell of a cooperative's data
tabs (those are in the history store's snapshots), only titles, hashes and times.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

FILENAME = "google-state.sqlite"


class GoogleState:
    def __init__(self, path: str | Path = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._conn:
            if str(path) != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("CREATE TABLE IF NOT EXISTS memo (key TEXT PRIMARY KEY, value TEXT)")
        self._cache: dict[str, dict[str, Any] | None] = {}

    @classmethod
    def in_folder(cls, folder: Path) -> GoogleState:
        return cls(Path(folder) / FILENAME)

    def get(self, key: str) -> dict[str, Any] | None:
        if key not in self._cache:
            with self._lock:
                row = self._conn.execute("SELECT value FROM memo WHERE key = ?", (key,)).fetchone()
            self._cache[key] = json.loads(row[0], object_hook=_decode) if row else None
        value = self._cache[key]
        return dict(value) if value is not None else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        text = json.dumps(value, default=_encode, ensure_ascii=False, separators=(",", ":"))
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO memo (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, text),
            )
        self._cache[key] = json.loads(text, object_hook=_decode)

    def update(self, key: str, **changes: Any) -> dict[str, Any]:
        value = self.get(key) or {}
        value.update(changes)
        self.put(key, value)
        return value

    def delete(self, key: str) -> None:
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM memo WHERE key = ?", (key,))
        self._cache.pop(key, None)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    raise TypeError(f"cannot store {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$dt" in obj:
            return datetime.fromisoformat(obj["$dt"])
        if "$d" in obj:
            return date.fromisoformat(obj["$d"])
    return obj
