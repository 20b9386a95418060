"""What a SQL stream reads from: the contract of a database source, and `open_source`, which
opens the one of the connection's database_type (its own module, over its driver).

A `Source` opens one connection; `read(sql, args)` runs a query with its bind values in a
read-only transaction and hands back a `Result` whose rows are fetched in chunks, so a large
result never sits in memory whole: PostgreSQL through a server-side cursor (DECLARE ...
FETCH), MySQL/MariaDB through an unbuffered cursor, SQLite (a file opened with mode=ro)
through fetchmany. A failure is a `SourceError` saying whether the connection is gone
(`lost`: reconnect with backoff) or only the query failed.

Drivers: pg8000 (`postgres`) and PyMySQL (`mysql`), pure Python, so the one binary carries
them on every arch (measured against psycopg 3: see the package README); sqlite3 (`sqlite`)
from the standard library. Each is imported only when a SQL receiver connects.
"""

from __future__ import annotations

import ssl
import zoneinfo
from collections.abc import Sequence
from typing import Any, Protocol

from edge.pipeline.receivers.sql.querytext import MYSQL, POSTGRESQL, SQLITE

DEFAULT_PORTS = {POSTGRESQL: 5432, MYSQL: 3306}
DATABASE_TYPES = (POSTGRESQL, MYSQL, SQLITE)
TIMEOUT_SECONDS = 120  # connect, and any one read from the server


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
    # Each database's module imports its driver: only the one configured is loaded.
    if kind == POSTGRESQL:
        from edge.pipeline.receivers.sql.postgres import PostgresSource  # noqa: PLC0415

        return PostgresSource(connection, zone)
    if kind == MYSQL:
        from edge.pipeline.receivers.sql.mysql import MySqlSource  # noqa: PLC0415

        return MySqlSource(connection, zone)
    if kind == SQLITE:
        from edge.pipeline.receivers.sql.sqlite import SqliteSource  # noqa: PLC0415

        return SqliteSource(connection)
    raise SourceError(f"unknown database_type {kind!r}", lost=True)


def tls_context(connection: dict[str, Any]) -> ssl.SSLContext | None:
    """ssl: true encrypts and checks the server's certificate and name: against `ssl_ca` (the
    PEM certificates of the CA that signed it, a plant's own) when given, else the system's CAs."""
    if not connection.get("ssl"):
        return None
    return ssl.create_default_context(cadata=connection.get("ssl_ca") or None)


def server_label(connection: dict[str, Any]) -> str:
    kind = connection["database_type"]
    return f"{kind}://{connection.get('host')}:{connection.get('port') or DEFAULT_PORTS[kind]}/" \
           f"{connection.get('database_name')}"
