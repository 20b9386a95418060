"""MySQL and MariaDB through PyMySQL: an unbuffered cursor (rows come as they are read) in a
read-only transaction; the session's time_zone is the connection's."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Sequence
from typing import Any

from edge.pipeline.receivers.sql.querytext import MYSQL
from edge.pipeline.receivers.sql.source import DEFAULT_PORTS, TIMEOUT_SECONDS, Result, SourceError, server_label, \
    tls_context

# Client-side error codes meaning the connection is gone (CR_CONN_HOST_ERROR, CR_SERVER_GONE_ERROR,
# CR_SERVER_LOST, CR_CONNECTION_ERROR ...); a server error code is a failed query.
_MYSQL_LOST = {2002, 2003, 2006, 2013, 2014, 2055, 0}


class MySqlSource:
    dialect = MYSQL

    def __init__(self, connection: dict[str, Any], zone: zoneinfo.ZoneInfo):
        import pymysql  # noqa: PLC0415
        import pymysql.cursors  # noqa: PLC0415

        self._pymysql = pymysql
        self.label = server_label(connection)
        offset = datetime.datetime.now(zone).strftime("%z")
        try:
            self._conn = pymysql.connect(
                host=connection.get("host") or "localhost", port=connection.get("port") or DEFAULT_PORTS[MYSQL],
                user=connection.get("username") or "", password=connection.get("password") or "",
                database=connection["database_name"], ssl=tls_context(connection), connect_timeout=30,
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
