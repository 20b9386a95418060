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
