"""The SQL receiver's configuration rules a JSON schema cannot state (run by /v1/config/validate
on an entry its schema accepts; json paths are relative to the entry). A value still holding a
template placeholder ("<Please input ...>") is left to the placeholder warning."""

from __future__ import annotations

import ssl
import zoneinfo
from typing import Any

from edge.pipeline.config.advice import PLACEHOLDER
from edge.pipeline.config.violations import Violation, error, quoted
from edge.pipeline.receivers.sql.querytext import POSTGRESQL, SQLITE, QueryTextError, scan
from edge.pipeline.receivers.sql.source import DATABASE_TYPES
from edge.pipeline.receivers.sql.statefields import DATA_TYPES, initial_value_problem


def sql_checks(entry: dict[str, Any]) -> list[Violation]:
    found: list[Violation] = []
    dialect = POSTGRESQL
    for index, connection in enumerate(entry.get("connections") or []):
        found += _connection_violations(connection, ("connections", index))
        if connection.get("database_type") in DATABASE_TYPES:
            dialect = connection["database_type"]
    for index, stream in enumerate(entry.get("streams") or []):
        found += _stream_violations(stream, ("streams", index), dialect)
    return found


def _connection_violations(connection: dict[str, Any], path: tuple) -> list[Violation]:
    found = []
    kind = connection.get("database_type")
    if _placeholder(kind):
        pass
    elif kind not in DATABASE_TYPES:
        found.append(error(path + ("database_type",), f"unknown database_type {quoted(kind)}: expected one of "
                                                      f"{', '.join(DATABASE_TYPES)}"))
    elif kind != SQLITE and not connection.get("host"):
        found.append(error(path + ("host",), f"a {kind} connection needs the database server's host"))
    found += _ca_violations(connection, path)
    zone = connection.get("timezone")
    if zone is not None:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            found.append(error(path + ("timezone",), f"unknown time zone {quoted(zone)}: use an IANA name such as "
                                                     '"Europe/Berlin" or "UTC"'))
    return found


def _ca_violations(connection: dict[str, Any], path: tuple) -> list[Violation]:
    """ssl_ca must be PEM certificates, and is only read with ssl: true."""
    ca = connection.get("ssl_ca")
    if not ca or _placeholder(ca):
        return []
    if not connection.get("ssl"):
        return [error(path + ("ssl_ca",), "ssl_ca is only used with \"ssl\": true; set it, or leave ssl_ca out")]
    if "-----BEGIN CERTIFICATE-----" not in ca:
        return [error(path + ("ssl_ca",), "ssl_ca must hold PEM certificates (-----BEGIN CERTIFICATE----- ...)")]
    try:
        ssl.create_default_context(cadata=ca)
    except (ssl.SSLError, ValueError) as exc:
        return [error(path + ("ssl_ca",), f"ssl_ca is not a certificate this box can read: {exc}")]
    return []


def _stream_violations(stream: dict[str, Any], path: tuple, dialect: str) -> list[Violation]:
    found = []
    if _placeholder(stream.get("query")):
        return []
    try:
        query = scan(stream.get("query", ""), dialect)
    except QueryTextError as exc:
        return [error(path + ("query",), str(exc))]
    problem = query.statement_problem()
    if problem:
        found.append(error(path + ("query",), problem))
    fields = stream.get("state_fields") or []
    columns = []
    for index, field in enumerate(fields):
        where = path + ("state_fields", index)
        column, data_type = field.get("column_name"), field.get("data_type")
        columns.append(column)
        if _placeholder(column) or _placeholder(data_type):
            continue
        if data_type not in DATA_TYPES:
            found.append(error(where + ("data_type",), f"unknown data_type {quoted(data_type)}: expected one of "
                                                       f"{', '.join(DATA_TYPES)}"))
        elif "initial_value" in field:
            value_problem = initial_value_problem(data_type, field["initial_value"])
            if value_problem:
                found.append(error(where + ("initial_value",), value_problem))
        if column in columns[:-1]:
            found.append(error(where + ("column_name",), f"state field {quoted(column)} is listed twice"))
        elif column not in query.names:
            found.append(error(where + ("column_name",),
                               f"the query does not name state field {quoted(column)} as :{column}, so every run "
                               f"would read the same rows: add e.g. 'WHERE {column} > :{column}'"))
    for name in query.names:
        if name not in columns:
            found.append(error(path + ("query",), f"the query names :{name}, which is not one of the stream's "
                                                  "state_fields"))
    return found


def _placeholder(value: Any) -> bool:
    return isinstance(value, str) and PLACEHOLDER.search(value) is not None
