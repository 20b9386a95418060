"""Machbase responses: result sets (columns + data) and status answers, as JSON text.

A result set is printed by `machbase_json` so that doubles carry exactly `scale` decimals
(`8001.000`) and times are formatted in bulk, and its text is built once; status answers are
small dicts.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Sequence

import numpy as np

from edge.time.dateformat import DEFAULT_FORMAT, DateFormat
from edge.time.timezone import TimeZone
from edge.web.machbase import json_body as machbase_json

NO_ERROR = "No Error"

# Machbase's type codes, as its CLI and REST API report them.
TYPE_CODES = {"short": 4, "varchar": 5, "datetime": 6, "integer": 8, "long": 12, "float": 16,
              "double": 20, "ipv4": 32}
# Lengths the tag API reports: printed widths (a varchar column reports its declared size).
DISPLAY_LENGTHS = {"short": 6, "integer": 11, "long": 20, "float": 17, "double": 17,
                   "datetime": 31, "ipv4": 15}
_INTEGER_TYPES = ("short", "integer", "long")
_DECIMAL_TYPES = ("float", "double")
_TEXT_TYPES = ("varchar", "ipv4")


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    type: str
    length: int

    @classmethod
    def of(cls, name: str, type_name: str, length: int | None = None) -> "Column":
        """A column of `type_name` whose length is the display length unless given."""
        return cls(name, type_name, length if length is not None else DISPLAY_LENGTHS[type_name])

    def header(self) -> dict:
        return {"name": self.name, "type": TYPE_CODES[self.type], "length": self.length}


@dataclasses.dataclass(frozen=True)
class Coded:
    """Text values as distinct strings and one code per row: tag names repeat a lot."""
    distinct: Sequence[str | None]
    codes: np.ndarray


@dataclasses.dataclass(frozen=True)
class Nullable:
    """Numbers or times with a mask of the rows that are NULL."""
    values: np.ndarray
    null: np.ndarray


@dataclasses.dataclass(frozen=True)
class OutputOptions:
    """How a request wants values printed: the f, m and s parameters and the TIMEZONE."""
    zone: TimeZone
    date_format: str = DEFAULT_FORMAT
    fetch_mode: int = 0
    scale: int = 3


@functools.lru_cache(maxsize=64)
def _json_date_format(text: str) -> DateFormat:
    # Literal text of a format may hold quotes or backslashes: escaped once, at compile time.
    return DateFormat(text, literal_escape=lambda literal: json.dumps(literal, ensure_ascii=False)[1:-1])


def result_set(columns: Sequence[Column], values: Sequence, options: OutputOptions,
               message: str = "") -> bytes:
    """The JSON text of a Machbase result set; `values[i]` holds column i for every row.

    A column's values: an array (or list) of its type, `Coded` text, or `Nullable` numbers
    or times (NaN doubles print null too).
    """
    rows = _row_count(values)
    prefix, openings = _framing(tuple(columns), options.zone.offset_text(), message, options.fetch_mode)
    pieces: list = []
    for column, column_values, opening in zip(columns, values, openings):
        pieces.append(opening)
        pieces.extend(_column_text(column, column_values, rows, options))
    if columns:
        pieces.append(b"}" if options.fetch_mode == 0 else b"]")
    else:
        rows = 0
    return machbase_json.join_rows(pieces, rows, prefix=prefix, suffix=b"]}")


@functools.lru_cache(maxsize=256)
def _framing(columns: tuple[Column, ...], offset_text: str, message: str, fetch_mode: int) -> tuple[bytes, list]:
    """The text before a result set's rows, and what opens each column's value in a row (its
    key in fetch mode 0): the same for every answer of one shape, so built once."""
    header = {"error_code": 0, "error_message": message, "columns": [c.header() for c in columns],
              "timezone": offset_text}
    prefix = json.dumps(header, ensure_ascii=False)[:-1].encode("utf-8") + b', "data":['
    openings = []
    for i, column in enumerate(columns):
        if fetch_mode == 0:
            key = json.dumps(column.name, ensure_ascii=False).encode("utf-8")
            openings.append((b"{" if i == 0 else b",") + key + b":")
        else:
            openings.append(b"[" if i == 0 else b",")
    return prefix, openings


def status(timezone: TimeZone, message: str = NO_ERROR, **fields) -> dict:
    """A Machbase answer without a result set; `fields` follow in the order given."""
    body = {"error_code": 0, "error_message": message, "timezone": timezone.offset_text()}
    body.update(fields)
    body.setdefault("data", [])
    return body


def _row_count(values: Sequence) -> int:
    if not values:
        return 0
    first = values[0]
    if isinstance(first, Coded):
        return len(first.codes)
    if isinstance(first, Nullable):
        return len(first.values)
    return len(first)


def _column_text(column: Column, values, rows: int, options: OutputOptions) -> list:
    null = None
    if isinstance(values, Nullable):
        values, null = values.values, np.asarray(values.null, dtype=bool)
    if column.type in _TEXT_TYPES:
        if isinstance(values, Coded):
            return [machbase_json.coded_strings(list(values.distinct), values.codes)]
        return [machbase_json.strings(values)]
    values = np.asarray(values)
    if len(values) != rows:
        raise ValueError(f"column {column.name} has {len(values)} rows, expected {rows}")
    if column.type == "datetime":
        texts = _json_date_format(options.date_format).format(np.asarray(values, dtype=np.int64), options.zone)
        if null is None or not null.any():  # the quotes as literals around the column: no copy
            return [b'"', texts, b'"']
        return [machbase_json.with_nulls(machbase_json.fixed_width(texts, quote=True), null)]
    if column.type in _INTEGER_TYPES:
        return machbase_json.integers(np.where(null, 0, values) if null is not None else values, null)
    if column.type in _DECIMAL_TYPES:
        values = np.asarray(values, dtype=np.float64)
        if null is not None:
            values = np.where(null, np.nan, values)
        return machbase_json.decimals(values, options.scale)
    raise ValueError(f"no printer for column type {column.type}")
