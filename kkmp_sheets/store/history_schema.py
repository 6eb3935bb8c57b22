"""The history store's schema (`history.sqlite`): numbered, append-only migrations.

What each table holds is described in `history.py` (figures, problem lives) and `snapshots.py`
(workbook snapshots); `store/sqlite.py` applies the steps not yet applied when a store opens.
"""

from __future__ import annotations

from kkmp_sheets.store.sqlite import Database, Migration

HISTORY_FILE = "history.sqlite"
# PRAGMA application_id of a history store ("KKMH"): another SQLite file of the service (the
# delivery ledger) has its own user_version, so opening the wrong file is refused, not migrated.
APPLICATION_ID = 0x4B4B4D48

# Numbered, append-only. Never edit a released step: add a new one.
MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        (
            """
            CREATE TABLE coop_day (
                as_of TEXT NOT NULL,
                coop_id TEXT NOT NULL,
                nama TEXT NOT NULL DEFAULT '',
                kelurahan TEXT NOT NULL DEFAULT '',
                kecamatan TEXT NOT NULL DEFAULT '',
                zone TEXT NOT NULL,
                reasons TEXT NOT NULL DEFAULT '',
                readable INTEGER NOT NULL,
                status_operasional TEXT,
                anggota_aktif INTEGER NOT NULL,
                anggota_baru INTEGER NOT NULL,
                simpanan_pokok REAL NOT NULL,
                simpanan_wajib REAL NOT NULL,
                simpanan_sukarela REAL NOT NULL,
                nilai_stok REAL NOT NULL,
                omset REAL NOT NULL,
                transaksi INTEGER NOT NULL,
                transaksi_terakhir TEXT,
                data_diperbarui TEXT,
                galat INTEGER NOT NULL,
                peringatan INTEGER NOT NULL,
                PRIMARY KEY (as_of, coop_id)
            )
            """,
            "CREATE INDEX coop_day_coop ON coop_day (coop_id, as_of)",
            """
            CREATE TABLE city_day (
                as_of TEXT PRIMARY KEY,
                jumlah INTEGER NOT NULL,
                aktif INTEGER NOT NULL,
                hijau INTEGER NOT NULL,
                kuning INTEGER NOT NULL,
                merah INTEGER NOT NULL,
                anggota_aktif INTEGER NOT NULL,
                simpanan_pokok REAL NOT NULL,
                simpanan_wajib REAL NOT NULL,
                simpanan_sukarela REAL NOT NULL,
                omset REAL NOT NULL,
                nilai_stok REAL NOT NULL,
                kelengkapan REAL,
                galat INTEGER NOT NULL,
                peringatan INTEGER NOT NULL,
                recorded_at TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE problem (
                id INTEGER PRIMARY KEY,
                coop_id TEXT NOT NULL,
                code TEXT NOT NULL,
                tab TEXT NOT NULL,
                row INTEGER NOT NULL,          -- 0: not tied to a row
                col TEXT NOT NULL,
                severity TEXT NOT NULL,
                read_failure INTEGER NOT NULL, -- seen while the workbook could not be read
                first_seen TEXT NOT NULL,
                last_seen TEXT NOT NULL,
                resolved_on TEXT
            )
            """,
            # At most one open life per problem.
            """
            CREATE UNIQUE INDEX problem_open ON problem (coop_id, code, tab, row, col)
                WHERE resolved_on IS NULL
            """,
            "CREATE INDEX problem_coop ON problem (coop_id, first_seen)",
        ),
    ),
    (
        2,
        (
            # Snapshots of every workbook read (snapshots.py): tab contents stored once each,
            # by SHA-256, zlib-compressed JSON; a workbook content is its list of tabs.
            """
            CREATE TABLE blob (
                hash TEXT PRIMARY KEY,      -- SHA-256 of the uncompressed JSON
                data BLOB NOT NULL,         -- zlib(JSON rows of one tab)
                size INTEGER NOT NULL       -- uncompressed bytes
            )
            """,
            """
            CREATE TABLE content (
                hash TEXT NOT NULL,         -- SHA-256 of the [[title, blob hash], ...] list
                position INTEGER NOT NULL,
                tab TEXT NOT NULL,
                blob TEXT NOT NULL REFERENCES blob (hash),
                rows INTEGER NOT NULL,
                PRIMARY KEY (hash, position)
            )
            """,
            "CREATE INDEX content_blob ON content (blob)",
            """
            CREATE TABLE snapshot (
                id INTEGER PRIMARY KEY,
                coop_id TEXT NOT NULL,
                taken_at TEXT NOT NULL,     -- first read with this content (ISO, WIB)
                seen_at TEXT NOT NULL,      -- last read with it
                hash TEXT NOT NULL,         -- content hash
                version TEXT,               -- the source's revision, when it has one
                modified TEXT               -- the workbook's own modification time, as read
            )
            """,
            "CREATE INDEX snapshot_coop ON snapshot (coop_id, taken_at)",
            "CREATE INDEX snapshot_hash ON snapshot (hash)",
            # The last accepted and the latest reading of each cooperative (protection.py).
            """
            CREATE TABLE guard (
                coop_id TEXT PRIMARY KEY,
                good_day TEXT NOT NULL,         -- the accepted reading: the cycle's day,
                good_at TEXT NOT NULL,          -- when it was read,
                good_hash TEXT NOT NULL,        -- its snapshot content,
                good_anggota INTEGER NOT NULL,  -- active members
                good_stok INTEGER NOT NULL,     -- stock items (rows of the Stok tab)
                seen_day TEXT NOT NULL,         -- the latest reading, accepted or held
                seen_at TEXT NOT NULL,
                seen_hash TEXT NOT NULL,
                seen_anggota INTEGER NOT NULL,
                seen_stok INTEGER NOT NULL,
                held_since TEXT,                -- first day of the current held drop, or NULL
                confirmed_at TEXT               -- when an official last confirmed a drop as real
            )
            """,
        ),
    ),
    (
        3,
        (
            # The result cache (results_cache.py): each cooperative's last result, reused while
            # neither its workbook nor the inputs of its check changed.
            """
            CREATE TABLE result_cache (
                coop_id TEXT PRIMARY KEY,
                inputs TEXT NOT NULL,       -- digest of what the check depends on besides data
                version TEXT NOT NULL,      -- the workbook's version it was computed from
                content TEXT NOT NULL,      -- its snapshot content hash
                payload BLOB NOT NULL       -- zlib(JSON): issues, figures, NIK fingerprints
            )
            """,
            # The Hasil Pemeriksaan rows last written into each workbook, and the workbook's
            # version right after: equal rows into that same version need no write.
            """
            CREATE TABLE feedback_written (
                coop_id TEXT PRIMARY KEY,
                rows_hash TEXT NOT NULL,
                version TEXT NOT NULL
            )
            """,
            # The key of the NIK fingerprints (keyed hashes): made once per store.
            """
            CREATE TABLE cache_key (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                secret BLOB NOT NULL
            )
            """,
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


HISTORY = Database(
    name="history store",
    file=HISTORY_FILE,
    application_id=APPLICATION_ID,
    migrations=MIGRATIONS,
    if_damaged="a new one is started",
    # WAL with synchronous = NORMAL: a commit survives a crash of the service but is flushed to
    # disk at the next checkpoint, not at every commit. A cycle commits per cooperative (its
    # snapshot, the guard's reading): flushing each was thousands of fsyncs a province cycle,
    # the most variable part of its time. A power cut may take back the last seconds of it,
    # which the next cycle records again (nothing here decides a delivery: the ledger is FULL).
    pragmas=("foreign_keys = ON", "synchronous = NORMAL"),
)
