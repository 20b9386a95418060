"""Machbase log tables: real SQLite tables in `data.db`.

CREATE TABLE takes Machbase's column types and declares each in SQLite as the Machbase type
followed by its affinity (`edge.sql.types`), names upper-cased as Machbase keeps them. Appends
(POST /machbase with a log table's name) check each row against the column types, as
Machbase does: good rows go in, in one transaction; bad rows are counted in append_failure.
Base64 text appended to a BINARY column is stored decoded. The reasons rows were refused come
back with the counts, for the caller to log.

A number goes in only as what reads back the same: infinity (`1e400` in JSON), an integer
beyond 64 bits, and for an integer column a fraction or a number beyond the type's range fail
their row. INSERT and UPDATE are held to the same by a CHECK constraint on every numeric
column, which CREATE TABLE adds (SQLite would store infinity, which reads back as null, and
keep a number that does not fit an integer column as a double).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import math
from collections.abc import Callable

import apsw

from edge.sql import errors, types
from edge.sql.append_body import append_body
from edge.time.dateformat import parse_times, why_not_a_time
from edge.sql.lexer import IDENT, NUMBER, STRING, WORD, Token, matching_paren, quote_identifier, split_top_level, \
    sql_string
from edge.sql.tables import SqlTable

REASONS_KEPT = 5
_COLUMN_CONSTRAINTS = ("NOT", "NULL", "PRIMARY", "KEY", "UNIQUE", "DEFAULT", "CHECK", "COLLATE", "ASC", "DESC",
                       "CONSTRAINT", "AUTOINCREMENT")
_TABLE_CONSTRAINTS = ("PRIMARY", "UNIQUE", "CHECK", "CONSTRAINT", "FOREIGN")
_INT_LIMITS = {"short": (-(2**15) + 1, 2**15 - 1), "ushort": (0, 2**16 - 2),
               "integer": (-(2**31) + 1, 2**31 - 1), "uinteger": (0, 2**32 - 2),
               "long": (-(2**63) + 1, 2**63 - 1), "ulong": (0, 2**63 - 1)}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclasses.dataclass(frozen=True)
class CreateLogTable:
    name: str
    sql: str
    if_not_exists: bool = False


def parse_create(tokens: list[Token]) -> CreateLogTable:
    """`CREATE TABLE [IF NOT EXISTS] name (col TYPE[(n)] [constraints], ...)` in SQLite terms."""
    position = 2  # CREATE TABLE
    if_not_exists = ""
    if _words(tokens, position, "IF", "NOT", "EXISTS"):
        if_not_exists = "IF NOT EXISTS "
        position += 3
    if position >= len(tokens) or tokens[position].kind not in (WORD, IDENT):
        raise errors.syntax("CREATE TABLE needs a table name")
    name = tokens[position].value.upper()
    if name.startswith("SQLITE_") or name.startswith("V$") or (name.startswith("_") and name.endswith("_META")):
        raise errors.syntax(f"Table name {name} is reserved")
    position += 1
    if position >= len(tokens) or not tokens[position].is_op("("):
        if position < len(tokens) and tokens[position].is_word("AS"):
            raise errors.not_supported("CREATE TABLE ... AS SELECT is not supported; create the table, then INSERT")
        raise errors.syntax("CREATE TABLE needs a column list: (name TYPE, ...)")
    close = matching_paren(tokens, position)
    definitions = []
    for part in split_top_level(tokens[position + 1:close]):
        if not part:
            raise errors.syntax("Empty column definition in CREATE TABLE")
        if part[0].is_word(*_TABLE_CONSTRAINTS):
            definitions.append(_constraint_text(part))
            continue
        definitions.append(_column(part))
    _table_options(tokens[close + 1:])
    return CreateLogTable(name, f"CREATE TABLE {if_not_exists}{quote_identifier(name)} ({', '.join(definitions)})",
                          bool(if_not_exists))


def _words(tokens: list[Token], position: int, *words: str) -> bool:
    return all(position + i < len(tokens) and tokens[position + i].is_word(w) for i, w in enumerate(words))


def _column(part: list[Token]) -> str:
    if part[0].kind not in (WORD, IDENT):
        raise errors.syntax(f"Expected a column name, got {part[0].text!r}")
    name = part[0].value.upper()
    if len(part) < 2 or part[1].kind != WORD:
        raise errors.syntax(f"Column {name} needs a type, e.g. {name} DOUBLE")
    position = 2
    length = None
    if position < len(part) and part[position].is_op("("):
        if position + 2 >= len(part) or part[position + 1].kind != NUMBER or not part[position + 2].is_op(")") \
                or not (part[position + 1].text.isascii() and part[position + 1].text.isdigit()):  # not 1e5, 1.5
            raise errors.syntax(f"Column {name}: expected a length like VARCHAR(20)")
        length = int(part[position + 1].text)
        position += 3
    kind = types.machbase_type(part[1].value, length)
    rest = part[position:]
    for token in rest:
        if token.kind == WORD and token.value not in _COLUMN_CONSTRAINTS:
            raise errors.syntax(f"Column {name}: unexpected {token.text!r}")
    return f"{quote_identifier(name)} {types.sqlite_declaration(kind)}" + \
        ("" if not rest else " " + " ".join(_token_sql(t) for t in rest)) + _value_check(name, kind)


# What a numeric column may hold, for INSERT and UPDATE as for appends. SQLite names a failed
# constraint in its message, so the name says what is wrong.
_DOUBLE_MAX = "1.7976931348623157e308"


def _value_check(name: str, kind: types.MachType) -> str:
    column = quote_identifier(name)
    if kind.name == "datetime":  # int64 ns: a number that is no integer (1.5, 1e30, 1e999) is no time
        return f" CONSTRAINT {quote_identifier(f'{name} must be a time')} CHECK (typeof({column}) <> 'real')"
    if kind.name in types.DECIMAL_TYPES:
        return f" CONSTRAINT {quote_identifier(f'{name} must be a finite number')}" \
               f" CHECK (typeof({column}) <> 'real' OR abs({column}) <= {_DOUBLE_MAX})"
    if kind.name in types.INTEGER_TYPES:
        low, high = _INT_LIMITS[kind.name]
        return f" CONSTRAINT {quote_identifier(f'{name} must be a {kind.name} ({low} to {high})')}" \
               f" CHECK (typeof({column}) <> 'real' AND (typeof({column}) <> 'integer' OR {column} BETWEEN {low} AND {high}))"
    return ""


def _constraint_text(part: list[Token]) -> str:
    return " ".join(_token_sql(t) for t in part)


def _token_sql(token: Token) -> str:
    if token.kind == STRING:
        return sql_string(token.value)
    if token.kind == IDENT:
        return quote_identifier(token.value.upper())
    return token.text


def _table_options(tokens: list[Token]) -> None:
    # Machbase's storage options of a log table: accepted, meaningless for SQLite.
    position = 0
    while position < len(tokens):
        token = tokens[position]
        if token.is_word("TABLESPACE") and position + 1 < len(tokens):
            position += 2
        else:
            raise errors.syntax(f"Unexpected {token.text!r} after the column list of CREATE TABLE")


# Appending -------------------------------------------------------------------------------------

@dataclasses.dataclass
class AppendResult:
    success: int
    failure: int
    reasons: list[str]


def append(conn: apsw.Connection, table: SqlTable, body, zone) -> AppendResult:
    """Checks the rows of an append body against `table` and inserts the good ones."""
    rows, date_format = append_body(body)
    width = len(table.columns)
    good = [isinstance(row, list) and len(row) == width for row in rows]
    reasons = [f"row {i}: expected a list of {width} values" for i, ok in enumerate(good) if not ok][:REASONS_KEPT]
    shaped = [i for i, ok in enumerate(good) if ok]
    cells = list(zip(*(rows[i] for i in shaped))) if shaped else [()] * width
    converted = []
    for (name, kind), column in zip(table.columns, cells):
        values, ok, why = _convert(kind, list(column), zone, date_format or None)
        for position, fine in enumerate(ok):
            if not fine:
                good[shaped[position]] = False
                if len(reasons) < REASONS_KEPT:
                    because = why if isinstance(why, str) else why(column[position])
                    reasons.append(f"row {shaped[position]}: {name} {because}")
        converted.append(values)
    keep = [position for position, i in enumerate(shaped) if good[i]]
    records = [tuple(column[p] for column in converted) for p in keep]
    if records:
        placeholders = ", ".join("?" * width)
        with conn:
            conn.executemany(f"INSERT INTO main.{quote_identifier(table.name)} VALUES ({placeholders})", records)
    return AppendResult(len(records), len(rows) - len(records), reasons)


def _convert(kind: types.MachType, cells: list, zone, date_format: str | None) \
        -> tuple[list, list[bool], str | Callable[[object], str]]:
    """(values for SQLite, ok per cell, why a cell failed: a text, or a function of the cell) of one column."""
    name = kind.name
    if name == "datetime":
        out = [None] * len(cells)
        ok = [c is None or type(c) is int and _INT64_MIN <= c <= _INT64_MAX for c in cells]
        for i, c in enumerate(cells):
            if ok[i]:
                out[i] = c
        texts = [i for i, c in enumerate(cells) if isinstance(c, str)]
        if texts:
            parsed, fine = parse_times([cells[i].strip() for i in texts], zone, date_format)
            for i, value, good in zip(texts, parsed.tolist(), fine.tolist()):
                out[i], ok[i] = (value if good else None), good
        # Said per refused cell: a well-formed time whose year is out of range says so.
        return out, ok, lambda cell: why_not_a_time(str(cell), date_format)
    if name in types.INTEGER_TYPES:
        low, high = _INT_LIMITS[name]
        out = [c if isinstance(c, int) and not isinstance(c, bool) else
               int(c) if isinstance(c, float) and c.is_integer() else c for c in cells]
        ok = [c is None or (isinstance(c, int) and not isinstance(c, bool) and low <= c <= high) for c in out]
        return out, ok, f"must be a {name} ({low} to {high}) or null"
    if name in types.DECIMAL_TYPES:
        # Infinity would read back as null; an integer beyond 64 bits would be kept rounded.
        ok = [c is None or type(c) is float and math.isfinite(c) or type(c) is int and _INT64_MIN <= c <= _INT64_MAX
              for c in cells]
        return [float(c) if ok[i] and c is not None else None for i, c in enumerate(cells)], ok, \
            "must be a finite number, or an integer within 64 bits, or null"
    if name == "binary":
        out, ok = [], []
        for c in cells:
            try:
                out.append(None if c is None else base64.b64decode(c, validate=True))
                ok.append(c is None or isinstance(c, str))
            except (binascii.Error, TypeError, ValueError):
                out.append(None)
                ok.append(False)
        return out, ok, "must be base64 text or null"
    if name in ("ipv4", "ipv6"):
        parse = ipaddress.IPv4Address if name == "ipv4" else ipaddress.IPv6Address
        out, ok = [], []
        for c in cells:
            try:
                out.append(None if c is None else str(parse(c)))
                ok.append(True)
            except (ValueError, TypeError):
                out.append(None)
                ok.append(False)
        return out, ok, f"must be an {name.upper()} address or null"
    limit = kind.length if name == "varchar" else None
    ok = [c is None or (isinstance(c, str) and (limit is None or len(c.encode("utf-8")) <= limit)) for c in cells]
    return cells, ok, f"must be text{'' if limit is None else f' of at most {limit} bytes'} or null"
