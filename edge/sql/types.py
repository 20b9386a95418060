"""Machbase column types: their codes and lengths, and how a log table declares them in SQLite.

A log-table column is declared in SQLite with a type text that starts with the Machbase type
and carries the SQLite affinity word after it (`DATETIME INTEGER`, `BINARY BLOB`,
`VARCHAR(20)`). SQLite keeps that text as the column's declared type and reports it for every
result column that reads the column, through views and subqueries too, so a result knows its
Machbase type and length without a side table.
"""

from __future__ import annotations

import dataclasses
import re

from edge.sql import errors

# Machbase's type codes, as its CLI and REST API report them.
CODES = {"short": 4, "varchar": 5, "datetime": 6, "integer": 8, "long": 12, "float": 16, "double": 20,
         "ipv4": 32, "ipv6": 36, "text": 49, "binary": 57,
         "ushort": 104, "uinteger": 108, "ulong": 112}
# The lengths /machbase reports: storage sizes (varchar: its declared size).
LENGTHS = {"short": 2, "ushort": 2, "integer": 4, "uinteger": 4, "long": 8, "ulong": 8, "float": 4,
           "double": 8, "datetime": 8, "ipv4": 4, "ipv6": 16, "text": 67108864, "binary": 67108864}
MAX_VARCHAR = 32767
# Length reported for text computed by an expression (TO_CHAR ...), whose size is not declared.
EXPRESSION_VARCHAR = 32767

INTEGER_TYPES = ("short", "ushort", "integer", "uinteger", "long", "ulong")
DECIMAL_TYPES = ("float", "double")
NUMERIC_TYPES = INTEGER_TYPES + DECIMAL_TYPES
TEXT_TYPES = ("varchar", "text", "ipv4", "ipv6")

ALIASES = {"int": "integer", "bigint": "long", "smallint": "short", "real": "float", "char": "varchar",
           "timestamp": "datetime", "blob": "binary", "clob": "text", "string": "varchar"}
_AFFINITY = {"short": "SHORT INTEGER", "ushort": "USHORT INTEGER", "integer": "INTEGER",
             "uinteger": "UINTEGER", "long": "LONG INTEGER", "ulong": "ULONG INTEGER", "float": "FLOAT",
             "double": "DOUBLE", "datetime": "DATETIME INTEGER", "ipv4": "IPV4 TEXT", "ipv6": "IPV6 TEXT",
             "text": "TEXT", "binary": "BINARY BLOB"}
# Declared types SQLite itself reports (rowid, CAST, plain SQLite DDL) read as the nearest type.
_SQLITE_NAMES = {"numeric": "double", "decimal": "double", "boolean": "integer", "bool": "integer"}
_DECLTYPE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(\s*(\d+)\s*(?:,\s*\d+\s*)?\))?")


@dataclasses.dataclass(frozen=True)
class MachType:
    name: str
    length: int

    @property
    def code(self) -> int:
        return CODES[self.name]


def machbase_type(word: str, length: int | None = None) -> MachType:
    """The Machbase type a DDL type word names; EdgeError for an unknown one."""
    name = ALIASES.get(word.lower(), word.lower())
    if name not in CODES:
        raise errors.syntax(f"Unknown column type {word.upper()}; expected one of "
                            f"{', '.join(t.upper() for t in CODES)}")
    if name == "varchar":
        if length is None:
            raise errors.syntax("VARCHAR needs a length, e.g. VARCHAR(20)")
        if not 1 <= length <= MAX_VARCHAR:
            raise errors.syntax(f"VARCHAR length must be 1..{MAX_VARCHAR}, got {length}")
        return MachType(name, length)
    if length is not None:
        raise errors.syntax(f"Only VARCHAR takes a length, not {word.upper()}")
    return MachType(name, LENGTHS[name])


def sqlite_declaration(kind: MachType) -> str:
    """The declared type of a log-table column in SQLite (Machbase type first, then affinity)."""
    if kind.name == "varchar":
        return f"VARCHAR({kind.length})"
    return _AFFINITY[kind.name]


def from_decltype(decltype: str | None) -> MachType | None:
    """The Machbase type of a result column from SQLite's declared type, or None if unknown."""
    if not decltype:
        return None
    match = _DECLTYPE.match(decltype)
    if match is None:
        return None
    word = match.group(1).lower()
    name = ALIASES.get(word, _SQLITE_NAMES.get(word, word))
    if name not in CODES:
        return None
    if name == "varchar":
        return MachType(name, int(match.group(2)) if match.group(2) else EXPRESSION_VARCHAR)
    return MachType(name, LENGTHS[name])


def of_store_column(kind: str, length: int) -> MachType:
    """The Machbase type of a tag-table column of the store (`ColumnSpec.type`, `.length`)."""
    if kind == "varchar":
        return MachType("varchar", length)
    return MachType(kind, LENGTHS[kind])


def varchar(length: int = EXPRESSION_VARCHAR) -> MachType:
    return MachType("varchar", length)


DATETIME = MachType("datetime", 8)
LONG = MachType("long", 8)
DOUBLE = MachType("double", 8)
BINARY = MachType("binary", LENGTHS["binary"])
