"""The databases a SQL stream reads, one class per database_type, each over its driver.

A `Source` opens one connection; `read(sql, args)` runs a query with its bind values in a
read-only transaction and hands back a `Result` whose rows are fetched in chunks, so a large
result never sits in memory whole: PostgreSQL through a server-side cursor (DECLARE ...
FETCH), MySQL/MariaDB through an unbuffered cursor, SQLite (a file opened with mode=ro)
through fetchmany. A failure is a `SourceError` saying whether the connection is gone
(`lost`: reconnect with backoff) or only the query failed.

Drivers: pg8000 and PyMySQL, pure Python, so the one binary carries them on every arch
(measured against psycopg 3: see the package README); sqlite3 from the standard library.
They are imported here, inside the receiver, only when a SQL receiver runs.
"""

from __future__ import annotations

import datetime
import pathlib
import ssl
import urllib.parse
import zoneinfo
from collections.abc import Sequence
from typing import Any, Protocol

from edge.pipeline.receivers.sql.querytext import MYSQL, POSTGRESQL, SQLITE

DEFAULT_PORTS = {POSTGRESQL: 5432, MYSQL: 3306}
DATABASE_TYPES = (POSTGRESQL, MYSQL, SQLITE)
TIMEOUT_SECONDS = 120  # connect, and any one read from the server
_CURSOR = "edge_stream_rows"


class SourceError(Exception):
    def __init__(self, message: str, lost: bool):
        super().__init__(message)
        self.lost = lost  # the connection is gone: open a new one (with backoff)


class Result(Protocol):
    columns: list[str]

    def fetch(self, rows: int) -> list[Sequence[Any]]:
        """Up to `rows` more rows; [] at the end."""

    def close(self) -> None:
        """Ends the read (and its transaction); the connection stays open."""


class Source(Protocol):
    dialect: str
    label: str  # for messages: where the database is

    def read(self, sql: str, args: list[Any]) -> Result: ...

    def close(self) -> None: ...


def open_source(connection: dict[str, Any], zone: zoneinfo.ZoneInfo) -> Source:
    """A connected source for the receiver's connection entry, or SourceError(lost=True)."""
    kind = connection.get("database_type")
    if kind == POSTGRESQL:
        return PostgresSource(connection, zone)
    if kind == MYSQL:
        return MySqlSource(connection, zone)
    if kind == SQLITE:
        return SqliteSource(connection)
    raise SourceError(f"unknown database_type {kind!r}", lost=True)


def _tls(connection: dict[str, Any]) -> ssl.SSLContext | None:
    """ssl: true encrypts and checks the server's certificate against the system's CAs."""
    return ssl.create_default_context() if connection.get("ssl") else None


def _server_label(connection: dict[str, Any]) -> str:
    kind = connection["database_type"]
    return f"{kind}://{connection.get('host')}:{connection.get('port') or DEFAULT_PORTS[kind]}/" \
           f"{connection.get('database_name')}"


# -- PostgreSQL ------------------------------------------------------------------------------

class PostgresSource:
    dialect = POSTGRESQL

    def __init__(self, connection: dict[str, Any], zone: zoneinfo.ZoneInfo):
        import pg8000.native  # noqa: PLC0415 - drivers load only where a SQL receiver runs

        self._errors = pg8000.native
        self.label = _server_label(connection)
        try:
            self._conn = pg8000.native.Connection(
                user=connection.get("username") or "", password=connection.get("password"),
                host=connection.get("host") or "localhost", port=connection.get("port") or DEFAULT_PORTS[POSTGRESQL],
                database=connection["database_name"], ssl_context=_tls(connection), timeout=TIMEOUT_SECONDS,
                application_name="edge sql receiver")
            for oid in (_TIMESTAMP, _TIMESTAMPTZ):  # pg8000's own parse (strptime) is half its read time
                self._conn.register_in_adapter(oid, _iso_timestamp(self._conn.pg_types[oid]))
            # Naive timestamps are read and compared in the connection's time zone; nothing is written.
            self._conn.run("SELECT set_config('TimeZone', :zone, false), "
                           "set_config('default_transaction_read_only', 'on', false)", zone=zone.key)
        except Exception as exc:  # noqa: BLE001 - every failure to connect is a connection failure
            raise SourceError(f"cannot connect to {self.label}: {_pg_text(exc)}", lost=True) from exc

    def read(self, sql: str, args: list[Any]) -> Result:
        try:
            self._conn.execute_simple("BEGIN READ ONLY")
            self._conn.execute_unnamed(f"DECLARE {_CURSOR} NO SCROLL CURSOR FOR {sql}", vals=args,
                                       oids=[_pg_type(value) for value in args])
            return _PostgresResult(self)
        except SourceError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self.failure(exc) from exc

    def failure(self, exc: Exception) -> SourceError:
        # pg8000 raises InterfaceError when the socket fails; a DatabaseError is the server's
        # answer, and then the connection is still good if it takes the ROLLBACK.
        lost = not isinstance(exc, self._errors.DatabaseError)
        if not lost:
            try:
                self._conn.execute_simple("ROLLBACK")
            except Exception:  # noqa: BLE001 - then the connection is gone too
                lost = True
        return SourceError(_pg_text(exc), lost)

    def close(self) -> None:
        try:
            self._conn.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


class _PostgresResult:
    def __init__(self, source: PostgresSource):
        self._source = source
        self.columns: list[str] = []
        self._first = self._fetch(1)  # reads the column names (and the first row)

    def _fetch(self, rows: int) -> list[Sequence[Any]]:
        try:
            context = self._source._conn.execute_simple(f"FETCH FORWARD {int(rows)} FROM {_CURSOR}")
        except Exception as exc:  # noqa: BLE001
            raise self._source.failure(exc) from exc
        if not self.columns and context.columns:
            self.columns = [column["name"] for column in context.columns]
        return context.rows or []

    def fetch(self, rows: int) -> list[Sequence[Any]]:
        if self._first:
            first, self._first = self._first, []
            return first + (self._fetch(rows - 1) if rows > 1 else [])
        return self._fetch(rows)

    def close(self) -> None:
        try:
            self._source._conn.execute_simple("ROLLBACK")
        except Exception as exc:  # noqa: BLE001
            raise self._source.failure(exc) from exc


_TIMESTAMP, _TIMESTAMPTZ = 1114, 1184


def _iso_timestamp(fallback):
    """A reader of PostgreSQL's ISO timestamp text by datetime.fromisoformat, `fallback` (the
    driver's) for what it cannot read: infinity, BC dates."""
    def read(text: str):
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError:
            return fallback(text)
    return read


def _pg_type(value: Any) -> int:
    """The parameter's type for the server: an aware datetime is a timestamptz (so a `timestamp`
    column is compared in the session's time zone instead of the offset being dropped), a naive
    one a timestamp; anything else the server infers from where it is used (0)."""
    if isinstance(value, datetime.datetime):
        return _TIMESTAMPTZ if value.tzinfo is not None else _TIMESTAMP
    return 0


def _pg_text(exc: Exception) -> str:
    """pg8000 puts the server's error fields in a dict: its message (M) is what people read."""
    if exc.args and isinstance(exc.args[0], dict):
        fields = exc.args[0]
        return f"{fields.get('S', 'ERROR')}: {fields.get('M', '')} ({fields.get('C', '')})"
    return f"{type(exc).__name__}: {exc}"


# -- MySQL / MariaDB --------------------------------------------------------------------------

# Client-side error codes meaning the connection is gone (CR_CONN_HOST_ERROR, CR_SERVER_GONE_ERROR,
# CR_SERVER_LOST, CR_CONNECTION_ERROR ...); a server error code is a failed query.
_MYSQL_LOST = {2002, 2003, 2006, 2013, 2014, 2055, 0}


class MySqlSource:
    dialect = MYSQL

    def __init__(self, connection: dict[str, Any], zone: zoneinfo.ZoneInfo):
        import pymysql  # noqa: PLC0415
        import pymysql.cursors  # noqa: PLC0415

        self._pymysql = pymysql
        self.label = _server_label(connection)
        offset = datetime.datetime.now(zone).strftime("%z")
        try:
            self._conn = pymysql.connect(
                host=connection.get("host") or "localhost", port=connection.get("port") or DEFAULT_PORTS[MYSQL],
                user=connection.get("username") or "", password=connection.get("password") or "",
                database=connection["database_name"], ssl=_tls(connection), connect_timeout=30,
                read_timeout=TIMEOUT_SECONDS, charset="utf8mb4", cursorclass=pymysql.cursors.SSCursor,
                # TIMESTAMP columns come back in this offset (the server may not know zone names).
                init_command=f"SET time_zone = '{offset[:3]}:{offset[3:]}'")
        except Exception as exc:  # noqa: BLE001
            raise SourceError(f"cannot connect to {self.label}: {_mysql_text(exc)}", lost=True) from exc

    def read(self, sql: str, args: list[Any]) -> Result:
        try:
            cursor = self._conn.cursor()
            cursor.execute("START TRANSACTION READ ONLY")
            cursor.execute(sql, args)
            return _MySqlResult(self, cursor)
        except Exception as exc:  # noqa: BLE001
            raise self.failure(exc) from exc

    def failure(self, exc: Exception) -> SourceError:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        lost = not isinstance(exc, self._pymysql.MySQLError) or code in _MYSQL_LOST or not self._conn.open
        if not lost:
            try:
                self._conn.rollback()
            except Exception:  # noqa: BLE001
                lost = True
        return SourceError(_mysql_text(exc), lost)

    def close(self) -> None:
        try:
            self._conn.close()
        except Exception:  # noqa: BLE001
            pass


class _MySqlResult:
    def __init__(self, source: MySqlSource, cursor):
        self._source = source
        self._cursor = cursor
        self.columns = [column[0] for column in cursor.description or []]

    def fetch(self, rows: int) -> list[Sequence[Any]]:
        try:
            return list(self._cursor.fetchmany(rows))
        except Exception as exc:  # noqa: BLE001
            raise self._source.failure(exc) from exc

    def close(self) -> None:
        try:
            self._cursor.close()  # reads what is left of an unbuffered result
            self._source._conn.rollback()
        except Exception as exc:  # noqa: BLE001
            raise self._source.failure(exc) from exc


def _mysql_text(exc: Exception) -> str:
    if len(exc.args) >= 2:
        return f"({exc.args[0]}) {exc.args[1]}"
    return f"{type(exc).__name__}: {exc}"


# -- SQLite -------------------------------------------------------------------------------------

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
