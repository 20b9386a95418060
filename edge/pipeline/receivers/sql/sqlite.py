"""SQLite files on the box through the standard library's sqlite3, opened read-only."""

from __future__ import annotations

import pathlib
import urllib.parse
from collections.abc import Sequence
from typing import Any

from edge.pipeline.receivers.sql.querytext import SQLITE
from edge.pipeline.receivers.sql.source import Result, SourceError


class SqliteSource:
    """database_name is the file's path; it is opened read-only (mode=ro), never created."""

    dialect = SQLITE

    def __init__(self, connection: dict[str, Any]):
        import sqlite3  # noqa: PLC0415

        self._sqlite3 = sqlite3
        path = pathlib.Path(connection["database_name"]).expanduser().absolute()
        self.label = f"sqlite:{path}"
        uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"
        try:
            self._conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False,
                                         isolation_level=None)
            self._conn.execute("PRAGMA query_only = ON")
            self._conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()  # a missing or bad file fails here
        except Exception as exc:  # noqa: BLE001
            raise SourceError(f"cannot open {self.label}: {exc}", lost=True) from exc

    def read(self, sql: str, args: list[Any]) -> Result:
        try:
            self._conn.execute("BEGIN")  # one snapshot for the whole result (WAL readers see no later write)
            cursor = self._conn.execute(sql, args)
            return _SqliteResult(self, cursor)
        except Exception as exc:  # noqa: BLE001
            raise self.failure(exc) from exc

    def failure(self, exc: Exception) -> SourceError:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        text = str(exc)
        lost = not isinstance(exc, self._sqlite3.DatabaseError) or "unable to open" in text or "disk I/O" in text
        return SourceError(text, lost)

    def close(self) -> None:
        self._conn.close()


class _SqliteResult:
    def __init__(self, source: SqliteSource, cursor):
        self._source = source
        self._cursor = cursor
        self.columns = [column[0] for column in cursor.description or []]

    def fetch(self, rows: int) -> list[Sequence[Any]]:
        try:
            return self._cursor.fetchmany(rows)
        except Exception as exc:  # noqa: BLE001
            raise self._source.failure(exc) from exc

    def close(self) -> None:
        self._cursor.close()
        if self._source._conn.in_transaction:
            self._source._conn.execute("ROLLBACK")
