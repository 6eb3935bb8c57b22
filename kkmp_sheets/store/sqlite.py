"""Opening the service's SQLite files: one way for the history store and the delivery ledger.

Each file is described by a `Database`: its name in messages, its `PRAGMA application_id` and
its migrations. `open_database` then:

- opens it in autocommit mode (transactions are explicit: `transaction`), with a 30 s busy
  timeout and WAL, so that a reader (a digest, the CLI) never blocks the cycle that writes;
- refuses a file that belongs to something else (another application_id, or none on a file
  that already has a schema): the history store and the ledger live side by side in the same
  folder, and opening one as the other must fail, not migrate it;
- refuses a file written by a newer version (its `user_version` is past the last migration);
- runs each migration not yet applied, once, in its own transaction, re-reading the version
  under the write lock (another process may have just migrated).

Every failure is an `OutputError` that says what to do.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kkmp_sheets.errors import OutputError

log = logging.getLogger(__name__)

Migration = tuple[int, tuple[str, ...]]  # (schema version, its statements)


@dataclass(frozen=True)
class Database:
    name: str  # in messages: "history store", "delivery ledger"
    file: str  # its file name in the [data] dir
    application_id: int
    # Numbered 1, 2, …, append-only: never edit a released step, add a new one.
    migrations: tuple[Migration, ...]
    # What to do with a file that is not a usable database (said after "move the file away").
    if_damaged: str
    pragmas: tuple[str, ...] = ()  # more, e.g. "synchronous = FULL"

    @property
    def version(self) -> int:
        return self.migrations[-1][0]


def open_database(path: Path, db: Database) -> sqlite3.Connection:
    """The file at `path`, created and migrated as needed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    except (OSError, sqlite3.Error) as exc:
        raise OutputError(
            f"the {db.name} {path} cannot be opened ({exc}): check that the folder ([data] dir "
            "in the config) exists and is writable"
        ) from None
    try:
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA journal_mode = WAL")
        for pragma in db.pragmas:
            conn.execute(f"PRAGMA {pragma}")
        _migrate(conn, path, db)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise OutputError(
            f"the {db.name} {path} is not a usable SQLite database ({exc}): move the file away "
            f"({db.if_damaged}) or restore it from a backup"
        ) from None
    except BaseException:
        conn.close()
        raise
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error): one writer at a time, all or nothing.

    Inside a transaction already open (a cycle storing a batch of cooperatives at once, one
    commit for all), a savepoint: all or nothing within it, committed with the batch."""
    if conn.in_transaction:
        conn.execute("SAVEPOINT nested")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK TO nested")
            conn.execute("RELEASE nested")
            raise
        conn.execute("RELEASE nested")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _migrate(conn: sqlite3.Connection, path: Path, db: Database) -> None:
    version = schema_version(conn)
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if app_id != db.application_id and (app_id, version) != (0, 0):
        raise OutputError(
            f"{path} is not a kkmp-sheets {db.name} (another SQLite file?): give the {db.name} "
            f"its own file, {db.file} in the [data] dir"
        )
    if version > db.version:
        raise OutputError(
            f"the {db.name} {path} has schema version {version}, newer than this kkmp-sheets "
            f"understands ({db.version}): upgrade kkmp-sheets"
        )
    for number, statements in db.migrations:
        with transaction(conn):
            if schema_version(conn) >= number:
                continue
            for sql in statements:
                conn.execute(sql)
            conn.execute(f"PRAGMA application_id = {db.application_id}")
            conn.execute(f"PRAGMA user_version = {int(number)}")
            log.info("%s %s: migrated to schema version %d", db.name, path, number)
