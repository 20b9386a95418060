"""Schema migrations of the catalog, numbered; `PRAGMA user_version` holds the applied number.

Append a new entry to change the schema; never edit one that has shipped.
"""

from __future__ import annotations

import apsw

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, """
        -- Every saved FactoryTX configuration; the newest revision is the one in force.
        CREATE TABLE ftx_config (
            revision INTEGER PRIMARY KEY AUTOINCREMENT,
            body TEXT NOT NULL,
            saved_at TEXT NOT NULL,
            source TEXT NOT NULL
        );
        CREATE TABLE users (
            name TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        -- One row per (component, stream, category): a repeat updates it and counts.
        CREATE TABLE markers (
            component TEXT NOT NULL,
            component_type TEXT NOT NULL,
            asset TEXT NOT NULL,
            stream_type TEXT NOT NULL,
            category TEXT NOT NULL,
            level TEXT NOT NULL,
            message TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            timestamp TEXT NOT NULL,
            occurrences INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (component, asset, stream_type, category)
        );
        -- What a receiver remembers per stream and resource (a file, a query cursor...).
        CREATE TABLE receiver_state (
            receiver TEXT NOT NULL,
            asset TEXT NOT NULL,
            stream_type TEXT NOT NULL,
            resource TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (receiver, asset, stream_type, resource)
        );
        CREATE TABLE backup_status (
            feature TEXT PRIMARY KEY,
            last_success TEXT,
            error_code TEXT,
            error_message TEXT
        );
        -- Small facts that must survive a restart, e.g. whether the pipeline should run.
        CREATE TABLE runtime_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
    """),
    (2, """
        -- Tag tables of the historian (edge.store): definition and the log sequence number up
        -- to which the column files are durable (records after it are replayed at start-up).
        CREATE TABLE tag_tables (
            table_id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            columns TEXT NOT NULL,           -- JSON [{name, type, length, role}]
            metadata_columns TEXT NOT NULL,  -- JSON, same shape
            checkpoint_seq INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        -- One row per tag: its metadata, where its column files stand as of the last
        -- checkpoint (generation, committed rows, sorted runs) and its statistics then.
        CREATE TABLE tags (
            table_id INTEGER NOT NULL REFERENCES tag_tables (table_id) ON DELETE CASCADE,
            tag_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            generation INTEGER NOT NULL DEFAULT 0,
            committed_rows INTEGER NOT NULL DEFAULT 0,
            runs TEXT NOT NULL DEFAULT '[]',
            row_count INTEGER NOT NULL DEFAULT 0,
            first_time INTEGER, first_value REAL,
            last_time INTEGER, last_value REAL,
            min_value REAL, min_value_time INTEGER,
            max_value REAL, max_value_time INTEGER,
            recent_time INTEGER,
            PRIMARY KEY (table_id, tag_id),
            UNIQUE (table_id, name)
        );
        -- The hour level of each tag's rollups (finer levels are derived from the raw data).
        CREATE TABLE tag_rollup_hours (
            table_id INTEGER NOT NULL REFERENCES tag_tables (table_id) ON DELETE CASCADE,
            tag_id INTEGER NOT NULL,
            hour INTEGER NOT NULL,           -- hours since the epoch, UTC
            row_count INTEGER NOT NULL,
            value_sum REAL NOT NULL, value_sumsq REAL NOT NULL,
            value_min REAL NOT NULL, value_max REAL NOT NULL,
            first_time INTEGER NOT NULL, first_value REAL NOT NULL,
            last_time INTEGER NOT NULL, last_value REAL NOT NULL,
            PRIMARY KEY (table_id, tag_id, hour)
        ) WITHOUT ROWID;
        -- Machbase's default tag table exists from the first start.
        INSERT INTO tag_tables (name, columns, metadata_columns, created_at) VALUES ('TAG',
            '[{"name": "NAME", "type": "varchar", "length": 80, "role": "name"}, '
            || '{"name": "TIME", "type": "datetime", "length": 8, "role": "time"}, '
            || '{"name": "VALUE", "type": "double", "length": 8, "role": "value"}]',
            '[]', strftime('%Y-%m-%d %H:%M:%f', 'now'));
    """),
    (3, """
        -- Batch keys a tag table has applied (edge.store.batch_keys): a keyed append whose key
        -- is here is skipped. Written by the checkpoint that retires the batch's log record,
        -- in the same transaction as the committed lengths; the newest ones per table are kept.
        CREATE TABLE tag_batch_keys (
            table_id INTEGER NOT NULL REFERENCES tag_tables (table_id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,            -- the batch's log sequence number
            batch_key TEXT NOT NULL,
            PRIMARY KEY (table_id, seq)
        ) WITHOUT ROWID;
    """),
    (4, """
        -- What the historian has taken of each file a file receiver reads (the file's identity,
        -- how far its records were handed over, the chunk being stored), per receiver, stream
        -- and file. Apart from receiver_state, which a restream purges: reading a file again
        -- must not store its records twice (edge.catalog.historian_ledger).
        CREATE TABLE historian_ledger (
            receiver TEXT NOT NULL,
            asset TEXT NOT NULL,
            stream_type TEXT NOT NULL,
            resource TEXT NOT NULL,
            entry TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (receiver, asset, stream_type, resource)
        ) WITHOUT ROWID;
    """),
    (5, """
        -- A user's role (edge.catalog.users): admin may do everything, reader only query and
        -- read status. The users made before roles existed (sys) were admins.
        ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'reader'));
    """),
    (6, """
        -- Retention policies (edge.store.retention, Machbase's CREATE RETENTION): rows older
        -- than the duration are deleted every interval from the tag tables that use the policy.
        CREATE TABLE retention_policies (
            name TEXT PRIMARY KEY,
            duration_value INTEGER NOT NULL,
            duration_unit TEXT NOT NULL CHECK (duration_unit IN ('DAY', 'MONTH')),
            interval_value INTEGER NOT NULL,
            interval_unit TEXT NOT NULL CHECK (interval_unit IN ('DAY', 'HOUR')),
            created_at TEXT NOT NULL
        );
        -- The policy of a tag table (one at most) and what its last run did; times in ns.
        CREATE TABLE tag_table_retention (
            table_id INTEGER PRIMARY KEY REFERENCES tag_tables (table_id) ON DELETE CASCADE,
            policy TEXT NOT NULL REFERENCES retention_policies (name),
            added_at INTEGER NOT NULL,
            last_run INTEGER,                -- when the last run ended
            last_cutoff INTEGER,             -- rows before this time were deleted by it
            last_deleted_rows INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
    """),
)


def migrate(conn: apsw.Connection) -> int:
    """Applies every migration newer than the file's version, each in its own transaction."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    newest = MIGRATIONS[-1][0]
    if current > newest:
        raise RuntimeError(f"catalog schema version {current} is newer than this program ({newest})")
    for version, script in MIGRATIONS:
        if version <= current:
            continue
        with conn:
            conn.execute(script)
            conn.execute(f"PRAGMA user_version = {int(version)}")
    return newest
