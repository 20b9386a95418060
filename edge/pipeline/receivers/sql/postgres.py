"""PostgreSQL through pg8000: a read-only session in the connection's time zone, each query's
rows read through a server-side cursor (DECLARE ... FETCH FORWARD), so a result of any size
is read a chunk at a time."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Sequence
from typing import Any

from edge.pipeline.receivers.sql.querytext import POSTGRESQL
from edge.pipeline.receivers.sql.source import DEFAULT_PORTS, TIMEOUT_SECONDS, Result, SourceError, server_label, \
    tls_context

_CURSOR = "edge_stream_rows"


class PostgresSource:
    dialect = POSTGRESQL

    def __init__(self, connection: dict[str, Any], zone: zoneinfo.ZoneInfo):
        import pg8000.native  # noqa: PLC0415 - drivers load only where a SQL receiver runs

        self._errors = pg8000.native
        self.label = server_label(connection)
        try:
            self._conn = pg8000.native.Connection(
                user=connection.get("username") or "", password=connection.get("password"),
                host=connection.get("host") or "localhost", port=connection.get("port") or DEFAULT_PORTS[POSTGRESQL],
                database=connection["database_name"], ssl_context=tls_context(connection), timeout=TIMEOUT_SECONDS,
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
