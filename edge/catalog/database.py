"""The catalog: one SQLite file (apsw, WAL) for configuration, users, markers and state.

Each thread gets its own connection; SQLite's WAL lets readers run beside the one writer, and
the busy timeout makes a writer wait for another instead of failing.
"""

from __future__ import annotations

import datetime as _dt
import threading
import weakref
from pathlib import Path

import apsw

from edge.catalog.migrations import migrate

BUSY_TIMEOUT_MS = 10_000


def utc_timestamp(moment: _dt.datetime | None = None) -> str:
    """The catalog's and FactoryTX's time text: UTC `YYYY-MM-DD HH:MM:SS.ffffff`."""
    moment = moment or _dt.datetime.now(_dt.timezone.utc)
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


class Catalog:
    """Opens `path`, brings its schema to the newest version, hands out per-thread connections."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._open: weakref.WeakSet = weakref.WeakSet()
        self._lock = threading.Lock()
        migrate(self.connection())

    def connection(self) -> apsw.Connection:
        """This thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = apsw.Connection(str(self.path))
            conn.set_busy_timeout(BUSY_TIMEOUT_MS)
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before we acknowledge what it recorded.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._lock:
                self._open.add(conn)
        return conn

    @property
    def schema_version(self) -> int:
        return self.connection().execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            for conn in list(self._open):
                conn.close()
            self._open = weakref.WeakSet()
        self._local = threading.local()
