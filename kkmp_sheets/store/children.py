"""A parent instance's memory of its children: each child's last good reading.

A child that cannot be read this cycle (its spreadsheet unshared, Google down, the file
missing) keeps the figures of its last good reading in the parent's view, marked as such;
this small SQLite file in the `[data]` folder holds them. What it holds is what the parent
read of the child's aggregate tabs (Metadata, Ringkasan figures, sub-region rows): no
personal data.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kkmp_sheets.core.federation import ChildFigures
from kkmp_sheets.core.figures import Totals
from kkmp_sheets.core.metadata import read_metadata
from kkmp_sheets.store.sqlite import Database, open_database, transaction

APPLICATION_ID = 0x4B4B4D46  # "KKMF": refused when another file of the service is opened as it
CHILDREN = Database(
    name="federation children store",
    file="federation-children.sqlite",
    application_id=APPLICATION_ID,
    migrations=(
        (
            1,
            (
                """
                CREATE TABLE last_good (
                    kode TEXT PRIMARY KEY,
                    as_of TEXT NOT NULL,      -- the child's data date
                    read_at TEXT NOT NULL,    -- when the parent read it (ISO, WIB)
                    body TEXT NOT NULL        -- JSON: metadata rows, totals, sub-region rows
                )
                """,
            ),
        ),
    ),
    if_damaged="a new one is started (children without a reading this cycle show no figures)",
)


class ChildrenStore:
    def __init__(self, path: Path) -> None:
        self.conn = open_database(path, CHILDREN)

    @classmethod
    def in_folder(cls, folder: Path) -> ChildrenStore:
        return cls(Path(folder) / CHILDREN.file)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ChildrenStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def remember(self, kode: str, figures: ChildFigures, read_at: datetime) -> None:
        body = {
            "meta": figures.meta.rows(),
            "totals": {k: v for k, v in vars(figures.totals).items()},
            "sub_header": list(figures.sub_header),
            "sub_rows": [list(r) for r in figures.sub_rows],
        }
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO last_good (kode, as_of, read_at, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kode) DO UPDATE SET as_of = excluded.as_of, "
                "read_at = excluded.read_at, body = excluded.body",
                (
                    kode,
                    figures.meta.tanggal_data.isoformat(),
                    read_at.isoformat(timespec="seconds"),
                    json.dumps(body, default=_plain, ensure_ascii=False),
                ),
            )

    def last_good(self, kode: str) -> ChildFigures | None:
        row = self.conn.execute("SELECT body FROM last_good WHERE kode = ?", (kode,)).fetchone()
        if row is None:
            return None
        body: dict[str, Any] = json.loads(row[0])
        return ChildFigures(
            read_metadata(body["meta"]),
            Totals(**body["totals"]),
            tuple(body["sub_header"]),
            tuple(tuple(r) for r in body["sub_rows"]),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")
