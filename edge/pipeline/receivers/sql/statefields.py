"""State fields: the columns whose values in the last row read say where a stream's query goes on.

A stream's state is a JSON object {column: value}, kept in the catalog: integers and floats as
numbers, strings as text, timestamps as ISO 8601 text exactly as the database gave them
(a naive timestamp stays naive, so the next query compares like with like). Before the query
runs, each value becomes what the driver binds (`bind_value`).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import zoneinfo
from collections.abc import Sequence
from typing import Any

from edge.pipeline.receivers.sql.querytext import MYSQL, SQLITE

INTEGER, FLOAT, STRING, TIMESTAMP = "integer", "float", "string", "timestamp"
DATA_TYPES = (INTEGER, FLOAT, STRING, TIMESTAMP)
DEFAULT_INITIAL = {INTEGER: 0, FLOAT: 0.0, STRING: "", TIMESTAMP: "1970-01-01T00:00:00Z"}


@dataclasses.dataclass(frozen=True)
class StateField:
    column: str
    data_type: str
    initial: Any  # JSON value

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> StateField:
        data_type = entry["data_type"]
        initial = entry.get("initial_value", DEFAULT_INITIAL[data_type])
        return cls(entry["column_name"], data_type, state_value(data_type, initial))


def state_fields(stream_entry: dict[str, Any]) -> list[StateField]:
    return [StateField.from_entry(entry) for entry in stream_entry.get("state_fields") or []]


def initial_state(fields: Sequence[StateField]) -> dict[str, Any]:
    return {field.column: field.initial for field in fields}


def initial_value_problem(data_type: str, value: Any) -> str | None:
    """Why `value` cannot be the initial value of a `data_type` state field, or None."""
    try:
        state_value(data_type, value)
    except (TypeError, ValueError, decimal.InvalidOperation) as exc:
        return f"initial_value {value!r} is not a valid {data_type}: {exc}"
    return None


def state_value(data_type: str, value: Any) -> Any:
    """A value read from a row (or configured) as the JSON value kept in the state."""
    if data_type == INTEGER:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("not a whole number")
        return int(value)
    if data_type == FLOAT:
        if isinstance(value, bool):
            raise ValueError("not a number")
        return float(value)
    if data_type == TIMESTAMP:
        if isinstance(value, datetime.datetime | datetime.date):
            return value.isoformat()
        if isinstance(value, str):
            datetime.datetime.fromisoformat(value)  # raises ValueError when it is no timestamp
            return value
        raise ValueError("expected ISO 8601 text such as 2024-03-01T12:00:00Z")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def bind_value(field: StateField, value: Any, dialect: str, zone: zoneinfo.ZoneInfo) -> Any:
    """The state value as the driver binds it. SQLite keeps timestamps as text, so it gets
    the text back; PostgreSQL gets a datetime (a naive one compares with `timestamp` columns as
    it is, an aware one is converted in the session time zone); MySQL's DATETIME has no zone,
    so an aware value becomes the connection's local time."""
    if field.data_type != TIMESTAMP or dialect == SQLITE:
        return value
    moment = datetime.datetime.fromisoformat(value)
    if dialect == MYSQL and moment.tzinfo is not None:
        moment = moment.astimezone(zone).replace(tzinfo=None)
    return moment


def row_state(fields: Sequence[StateField], columns: Sequence[str], row: Sequence[Any],
              previous: dict[str, Any]) -> dict[str, Any]:
    """The state after `row`: its values of the state fields. A NULL keeps the previous value
    (a state of NULL would make `WHERE id > NULL` match nothing for ever)."""
    state = dict(previous)
    for field in fields:
        value = row[columns.index(field.column)]
        if value is not None:
            state[field.column] = state_value(field.data_type, value)
    return state
