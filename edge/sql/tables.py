"""The tables a statement can name, as the SQL engine sees them.

  - log tables: real SQLite tables in `data.db`, their Machbase types read back from the
    declared types (see `edge.sql.types`);
  - tag tables of the store, each with two companions: `V$<TABLE>_STAT` (per-tag statistics)
    and `_<TABLE>_META` (tags and their metadata columns).
The translator uses this to know which columns hold datetimes, the result printer to type
expressions over them, the fast path to recognise a tag table.
"""

from __future__ import annotations

import dataclasses

import apsw

from edge.sql import types
from edge.sql.types import MachType

LOG, TAG, STAT, META = "log", "tag", "stat", "meta"

STAT_COLUMNS = ("ROW_COUNT", "MIN_TIME", "MAX_TIME", "MIN_VALUE", "MIN_VALUE_TIME", "MAX_VALUE",
                "MAX_VALUE_TIME", "RECENT_ROW_TIME")
_STAT_TYPES = {"ROW_COUNT": types.LONG, "MIN_VALUE": types.DOUBLE, "MAX_VALUE": types.DOUBLE}


@dataclasses.dataclass(frozen=True)
class SqlTable:
    name: str                                   # upper-case
    kind: str                                   # LOG, TAG, STAT or META
    columns: tuple[tuple[str, MachType], ...]   # upper-case names, in table order
    source: str | None = None                   # the tag table behind STAT and META views

    def column_type(self, name: str) -> MachType | None:
        wanted = name.upper()
        for column, kind in self.columns:
            if column == wanted:
                return kind
        return None

    def datetime_columns(self) -> set[str]:
        return {name for name, kind in self.columns if kind.name == "datetime"}


def stat_view_name(table: str) -> str:
    return f"V${table.upper()}_STAT"


def meta_view_name(table: str) -> str:
    return f"_{table.upper()}_META"


def tag_tables(table) -> list[SqlTable]:
    """The tag table of the store (`TagTable`) and its STAT and META companions."""
    columns = tuple((c.name, types.of_store_column(c.type, c.length)) for c in table.columns)
    name_column = next(c for c in table.columns if c.role == "name")
    name_type = types.of_store_column("varchar", name_column.length)
    stat = ((name_column.name, name_type),) + tuple((c, _STAT_TYPES.get(c, types.DATETIME)) for c in STAT_COLUMNS)
    meta = ((name_column.name, name_type),) + tuple(
        (c.name, types.of_store_column(c.type, c.length)) for c in table.metadata_columns)
    return [SqlTable(table.name, TAG, columns),
            SqlTable(stat_view_name(table.name), STAT, stat, table.name),
            SqlTable(meta_view_name(table.name), META, meta, table.name)]


def log_tables(conn: apsw.Connection) -> list[SqlTable]:
    """The log tables (and views) of `data.db`, with their columns' Machbase types."""
    found = []
    names = conn.execute("SELECT name, type FROM main.sqlite_schema WHERE type IN ('table', 'view') "
                         "AND name NOT LIKE 'sqlite_%'").fetchall()
    for name, _ in names:
        columns = []
        for row in conn.execute("SELECT name, type FROM pragma_table_info(?, 'main')", (name,)):
            kind = types.from_decltype(row[1]) or types.varchar()
            columns.append((str(row[0]).upper(), kind))
        found.append(SqlTable(str(name).upper(), LOG, tuple(columns)))
    return found


class Tables:
    """Every table by upper-case name, and the store's tag tables behind them; one snapshot
    per statement."""

    def __init__(self, tables: list[SqlTable], store_tables: dict | None = None):
        self.by_name = {t.name: t for t in tables}
        self._store_tables = store_tables or {}

    def get(self, name: str) -> SqlTable | None:
        return self.by_name.get(name.upper())

    def tag_table(self, name: str):
        """The store's TagTable of a tag table (or of a STAT/META view), or None."""
        table = self.get(name)
        if table is None:
            return None
        return self._store_tables.get(table.source or table.name)

    def referenced(self, words: set[str]) -> list[SqlTable]:
        """The tables among `words` (upper-case identifiers of a statement)."""
        return [t for name, t in self.by_name.items() if name in words]
