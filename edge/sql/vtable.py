"""Tag tables as apsw virtual tables over the store, with their STAT and META views.

`best_index` hands the store what it can answer without a scan: `name = x` (one tag),
`name IN (...)` (all of them at once, through sqlite3_vtab_in), time bounds (`=`, `<`, `<=`,
`>`, `>=`, `BETWEEN`), and LIMIT/OFFSET as a cap on the rows read; all of these are then
exact, so SQLite does not check them again. ORDER BY is consumed where the store reads in
that order anyway: `time` for one tag, `name` and `name, time` for any set of tags. The plan
is spelled out in idxStr, so EXPLAIN QUERY PLAN shows what was pushed down.
At the end, `SnapshotViewModule` serves the small read-only views (V$STMT, the retention views).

Cursors read from the store in chunks (a consistent prefix of each tag, taken at Filter
time), convert a column of a chunk to Python values only when SQLite asks for it, and look
at the deadline between chunks. Each cursor reports the rows it produced to a `ScanLog`.

Rows inserted with INSERT are buffered in the statement and appended to the store as one
batch when SQLite syncs the transaction: an INSERT ... SELECT of many rows is one durable
append, and a failing statement appends nothing.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import apsw
import numpy as np

from edge.sql import errors
from edge.sql.tables import STAT_COLUMNS
from edge.store.ingest import insert_rows
from edge.time.dateformat import parse_times
from edge.sql.types import INTEGER_TYPES, of_store_column, sqlite_declaration

CHUNK_ROWS = 65536
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
NAME_COLUMN, TIME_COLUMN = 0, 1
ASCENDING_INSERTION, DESCENDING_TIME, ASCENDING_TIME = 0, 1, 2

_OPS = {apsw.SQLITE_INDEX_CONSTRAINT_EQ: "=", apsw.SQLITE_INDEX_CONSTRAINT_GT: ">",
        apsw.SQLITE_INDEX_CONSTRAINT_GE: ">=", apsw.SQLITE_INDEX_CONSTRAINT_LT: "<",
        apsw.SQLITE_INDEX_CONSTRAINT_LE: "<="}
_LIMIT, _OFFSET = apsw.SQLITE_INDEX_CONSTRAINT_LIMIT, apsw.SQLITE_INDEX_CONSTRAINT_OFFSET


@dataclasses.dataclass
class Scan:
    table: str
    plan: str
    tags: int
    rows: int = 0


class ScanLog:
    """What the cursors of one connection read: kept for the statement running on it."""

    def __init__(self):
        self.scans: list[Scan] = []

    def start(self, table: str, plan: str, tags: int) -> Scan:
        scan = Scan(table, plan, tags)
        self.scans.append(scan)
        return scan

    def clear(self) -> None:
        self.scans = []


class Context:
    """What the virtual tables of one connection share: the zone, deadline, scan log, and
    `bound`: which of the store's tag tables (by name) this connection's virtual tables read.

    SQLite disconnects every virtual table of a connection when another connection changes
    the main schema (it reloads the temp schema with it), and connects them again on their
    next use, even for DROP TABLE. By then another thread may have dropped the store's table
    or created a new one of the same name; the virtual table must come back as the table its
    temp schema entry was created for, so `Connect` reads `bound`, never the store.
    """

    def __init__(self, zone, sandbox, scan_log: ScanLog):
        self.zone = zone
        self.sandbox = sandbox
        self.scan_log = scan_log
        self.bound: dict[str, object] = {}

    def tag_table(self, args):
        """The TagTable a virtual table of this connection was created for."""
        name = _table_name(args)
        table = self.bound.get(name)
        if table is None:
            raise errors.syntax(f"No virtual table of this connection is bound to tag table {name}")
        return table


def _create_table_sql(columns: list[tuple[str, str]]) -> str:
    return "CREATE TABLE x(" + ", ".join(f'"{name}" {decl}' for name, decl in columns) + ")"


def _table_name(args) -> str:
    if not args:
        raise errors.syntax("The virtual table needs the tag table's name")
    return str(args[0]).strip().strip("'\"").upper()


# The tag table ------------------------------------------------------------------------------

class TagModule:
    """`CREATE VIRTUAL TABLE temp.T USING edge_tag(T)`: the store's table T."""

    def __init__(self, context: Context):
        self.context = context

    def Create(self, connection, modulename, databasename, tablename, *args):
        table = self.context.tag_table(args)
        columns = [(c.name, sqlite_declaration(of_store_column(c.type, c.length))) for c in table.columns]
        return _create_table_sql(columns), TagVirtualTable(self.context, table)

    Connect = Create


@dataclasses.dataclass(frozen=True)
class Plan:
    """What Filter gets, decoded from idxStr: the meaning of each argument, and the order."""
    # "name=", "name in", "time>", "time>=", "time<", "time<=", "time=", "limit", "offset"
    args: tuple[str, ...]
    order: str = ""                 # "", "time", "name", "name,time" (+ " desc" parts)
    name_desc: bool = False
    time_desc: bool = False

    def encode(self) -> str:
        parts = [",".join(self.args) or "scan"]
        if self.order:
            order = []
            for key in self.order.split(","):
                desc = self.name_desc if key == "name" else self.time_desc
                order.append(key + (" desc" if desc else ""))
            parts.append("order " + ",".join(order))
        return ";".join(parts)

    @classmethod
    def decode(cls, text: str | None) -> Plan:
        if not text:
            return cls(())
        parts = text.split(";")
        args = tuple(a for a in parts[0].split(",") if a and a != "scan")
        order, name_desc, time_desc = "", False, False
        if len(parts) > 1 and parts[1].startswith("order "):
            keys = []
            for item in parts[1][6:].split(","):
                key, _, desc = item.partition(" ")
                keys.append(key)
                if key == "name":
                    name_desc = desc == "desc"
                else:
                    time_desc = desc == "desc"
            order = ",".join(keys)
        return cls(args, order, name_desc, time_desc)


class TagVirtualTable:
    def __init__(self, context: Context, table):
        self.context = context
        self.table = table
        self.columns = list(table.columns)
        self._pending: list[tuple] = []
        self._rowid = 0

    # Planning ------------------------------------------------------------------------------

    def BestIndexObject(self, info: apsw.IndexInfo) -> bool:
        usable = [i for i in range(info.nConstraint) if info.get_aConstraint_usable(i)]
        name_index = next((i for i in usable if info.get_aConstraint_iColumn(i) == NAME_COLUMN
                           and info.get_aConstraint_op(i) == apsw.SQLITE_INDEX_CONSTRAINT_EQ), None)
        name_in = name_index is not None and bool(info.get_aConstraintUsage_in(name_index))
        order, name_desc, time_desc = self._order(info, single_tag=name_index is not None and not name_in)
        # A LIMIT caps the rows read only when they come out in the order asked for.
        limit_usable = not info.nOrderBy or bool(order)
        args: list[str] = []
        time_args = 0
        limit = False
        for i in usable:
            column, op = info.get_aConstraint_iColumn(i), info.get_aConstraint_op(i)
            if i == name_index:
                label = "name in" if name_in else "name="
                if name_in:
                    info.set_aConstraintUsage_in(i, True)
            elif column == TIME_COLUMN and op in _OPS:
                label = "time" + _OPS[op]
                time_args += 1
            elif op in (_LIMIT, _OFFSET) and limit_usable:
                label = "limit" if op == _LIMIT else "offset"
                limit = True
            else:
                continue
            args.append(label)
            info.set_aConstraintUsage_argvIndex(i, len(args))
            # LIMIT/OFFSET only cap what is read; SQLite still applies them itself.
            info.set_aConstraintUsage_omit(i, label not in ("limit", "offset"))
        if order:
            info.orderByConsumed = True
        plan = Plan(tuple(args), order, name_desc, time_desc)
        info.idxStr = plan.encode()
        # Cheapest: one tag and a time range; then one tag; then a range over all tags.
        cost = 1e9
        if name_index is not None:
            cost = 1e3
        if time_args:
            cost = cost / 1e3 if name_index is not None else 1e7
        if limit:
            cost = cost / 10
        info.estimatedCost = cost
        info.estimatedRows = int(max(1, cost))
        return True

    def _order(self, info: apsw.IndexInfo, single_tag: bool) -> tuple[str, bool, bool]:
        keys = [(info.get_aOrderBy_iColumn(i), info.get_aOrderBy_desc(i)) for i in range(info.nOrderBy)]
        columns = [c for c, _ in keys]
        if columns == [TIME_COLUMN] and single_tag:
            return "time", False, keys[0][1]
        if columns == [NAME_COLUMN]:
            return "name", keys[0][1], False
        if columns == [NAME_COLUMN, TIME_COLUMN]:
            return "name,time", keys[0][1], keys[1][1]
        return "", False, False

    def Open(self):
        return TagCursor(self)

    # Writing -------------------------------------------------------------------------------

    def UpdateInsertRow(self, rowid, fields):
        if rowid is not None:
            raise errors.not_supported("A tag table row has no rowid to set")
        self._pending.append(tuple(fields))
        self._rowid += 1
        return self._rowid

    def UpdateDeleteRow(self, rowid):
        raise errors.not_supported(f"Rows of tag table {self.table.name} are deleted with "
                                   f"DELETE FROM {self.table.name} [WHERE name = '...'] [AND time < ...]")

    def UpdateChangeRow(self, row, newrowid, fields):
        raise errors.not_supported(f"Rows of tag table {self.table.name} cannot be updated; "
                                   f"metadata is updated with UPDATE {self.table.name} METADATA SET ...")

    def Begin(self):
        self._pending = []

    def Sync(self):
        pending, self._pending = self._pending, []
        if pending:
            append_rows(self.table, pending, self.context.zone)

    def Commit(self):
        self._pending = []

    def Rollback(self):
        self._pending = []

    def Disconnect(self):
        pass

    Destroy = Disconnect


def append_rows(table, rows: list[tuple], zone) -> int:
    """Appends rows given in table column order (name, time, value, extras...) as one batch."""
    return table.append_batch(insert_rows(table.schema, rows, zone))


class TagCursor:
    def __init__(self, vt: TagVirtualTable):
        self.vt = vt
        self.chunks = iter(())
        self.chunk = None
        self.columns: list = []
        self.row = 0
        self.size = 0
        self.rowid = 0
        self.eof = True
        self.scan = None

    def Filter(self, indexnum, indexname, constraintargs):
        plan = Plan.decode(indexname)
        vt = self.vt
        tags, lo, hi, cap = _arguments(plan, constraintargs or (), vt.table, vt.context.zone)
        direction = ASCENDING_INSERTION
        if "time" in plan.order:
            direction = DESCENDING_TIME if plan.time_desc else ASCENDING_TIME
        if "name" in plan.order:
            tags = sorted(tags, reverse=plan.name_desc)
        self.scan = vt.context.scan_log.start(vt.table.name, plan.encode(), len(tags))
        self.chunks = _chunks(vt.table, tags, lo, hi, direction, cap, vt.context.sandbox)
        self.rowid = 0
        self._next_chunk()

    def _next_chunk(self) -> None:
        self.chunk = next(self.chunks, None)
        if self.chunk is None:
            self.eof = True
            return
        self.size = len(self.chunk.times)
        self.scan.rows += self.size
        self.columns = [None] * len(self.vt.columns)
        self.row = 0
        self.eof = self.size == 0

    def Eof(self):
        return self.eof

    def Next(self):
        self.row += 1
        self.rowid += 1
        if self.row >= self.size:
            self._next_chunk()

    def Rowid(self):
        return self.rowid

    def Column(self, number):
        if number < 0:
            return self.rowid
        values = self.columns[number]
        if values is None:
            values = self.columns[number] = _python_values(self.chunk, number, self.vt.columns[number])
        return values[self.row]

    def Close(self):
        self.chunk = None
        self.chunks = iter(())


def _python_values(chunk, number: int, spec) -> list:
    if number == NAME_COLUMN:
        return chunk.names.tolist()
    if number == TIME_COLUMN:
        return chunk.times.tolist()
    if number == 2:
        values = chunk.values
        nulls = np.isnan(values)
        if spec.type in INTEGER_TYPES:  # the store keeps every value as a double
            values = np.where(nulls, 0, values).astype(np.int64)
        if not nulls.any():
            return values.tolist()
        out = values.astype(object)
        out[nulls] = None
        return out.tolist()
    return _extra_values(chunk.extras[spec.name])


def _extra_values(array) -> list:
    if isinstance(array, np.ma.MaskedArray):
        return array.tolist()  # masked entries become None
    return list(array)


def _arguments(plan: Plan, args, table, zone) -> tuple[list[str], int, int, int]:
    """(tags, first time, last time, most rows to read) from Filter's arguments."""
    tags = None
    lo, hi = INT64_MIN, INT64_MAX
    limit, offset = None, 0
    for label, value in zip(plan.args, args):
        if label == "name=":
            tags = [value] if isinstance(value, str) else []
        elif label == "name in":
            tags = sorted(v for v in value if isinstance(v, str))
        elif label.startswith("time"):
            lo, hi = _narrow(label[4:], value, lo, hi, zone)
        elif label == "limit":
            limit = int(value) if isinstance(value, (int, float)) and value >= 0 else None
        elif label == "offset":
            offset = int(value) if isinstance(value, (int, float)) and value > 0 else 0
    known = table.tag_names()
    if tags is None:
        tags = known
    else:
        present = set(known)
        tags = [t for t in tags if t in present]
    cap = INT64_MAX if limit is None else limit + offset
    return tags, lo, hi, cap


def _narrow(op: str, value, lo: int, hi: int, zone) -> tuple[int, int]:
    """The time range after one more bound; an empty range (lo > hi) when nothing can match."""
    if isinstance(value, str):
        parsed, ok = parse_times([value.strip()], zone)
        value = int(parsed[0]) if ok[0] else None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or \
            (isinstance(value, float) and not math.isfinite(value)):
        return 1, 0
    if op == ">":
        lo = max(lo, math.floor(value) + 1)
    elif op == ">=":
        lo = max(lo, math.ceil(value))
    elif op == "<":
        hi = min(hi, math.ceil(value) - 1)
    elif op == "<=":
        hi = min(hi, math.floor(value))
    else:
        if value != math.floor(value):
            return 1, 0
        lo, hi = max(lo, int(value)), min(hi, int(value))
    return max(lo, INT64_MIN), min(hi, INT64_MAX)


def _chunks(table, tags: list[str], lo: int, hi: int, direction: int, cap: int, sandbox):
    """ReadResults of at most CHUNK_ROWS rows, tag after tag, `cap` rows in all."""
    if lo > hi:
        return
    left = cap
    for tag in tags:
        offset = 0
        while left > 0:
            sandbox.check_deadline()
            want = min(CHUNK_ROWS, left)
            chunk = table.read([tag], lo, hi, direction, count=want, offset=offset)
            got = len(chunk.times)
            if got:
                yield chunk
            left -= got
            offset += got
            if got < want:
                break


# The STAT view -------------------------------------------------------------------------------

class _ByNameModule:
    """A module whose view has one row per tag: the table's name column, then `data_columns`."""

    def __init__(self, context: Context):
        self.context = context

    def Create(self, connection, modulename, databasename, tablename, *args):
        table = self.context.tag_table(args)
        name_column = next(c for c in table.columns if c.role == "name")
        columns = [(name_column.name, f"VARCHAR({name_column.length})"), *self.data_columns(table)]
        return _create_table_sql(columns), self.view(table)

    Connect = Create

    def data_columns(self, table) -> list[tuple[str, str]]:
        raise NotImplementedError

    def view(self, table) -> _ByNameTable:
        raise NotImplementedError


class StatModule(_ByNameModule):
    """`V$<TABLE>_STAT`: one row per tag from the store's per-tag statistics."""

    def data_columns(self, table) -> list[tuple[str, str]]:
        return [(c, "LONG INTEGER" if c == "ROW_COUNT" else "DOUBLE" if c.endswith("_VALUE")
                 else "DATETIME INTEGER") for c in STAT_COLUMNS]

    def view(self, table) -> _ByNameTable:
        return StatVirtualTable(self.context, table)


class _ByNameTable:
    """A read-only view with one row per tag: name = / IN are answered from the tag list.
    Subclasses give `row_for(tag)` (None for a tag that has gone) and `view_name()`."""

    def __init__(self, context: Context, table):
        self.context = context
        self.table = table

    def BestIndexObject(self, info: apsw.IndexInfo) -> bool:
        args = []
        for i in range(info.nConstraint):
            if not info.get_aConstraint_usable(i) or args:
                continue
            if info.get_aConstraint_iColumn(i) == NAME_COLUMN and \
                    info.get_aConstraint_op(i) == apsw.SQLITE_INDEX_CONSTRAINT_EQ:
                label = "name in" if info.get_aConstraintUsage_in(i) else "name="
                if label == "name in":
                    info.set_aConstraintUsage_in(i, True)
                args.append(label)
                info.set_aConstraintUsage_argvIndex(i, 1)
                info.set_aConstraintUsage_omit(i, True)
        info.idxStr = ",".join(args) or "scan"
        info.estimatedCost = 10.0 if args else 1e4
        return True

    def Open(self):
        return _RowsCursor(self)

    def UpdateInsertRow(self, rowid, fields):
        raise errors.not_supported(f"{self.view_name()} is read-only")

    def UpdateDeleteRow(self, rowid):
        raise errors.not_supported(f"{self.view_name()} is read-only")

    def UpdateChangeRow(self, row, newrowid, fields):
        raise errors.not_supported(f"{self.view_name()} is read-only")

    def view_name(self) -> str:
        return self.table.name

    def Disconnect(self):
        pass

    Destroy = Disconnect


class StatVirtualTable(_ByNameTable):
    def row_for(self, tag: str) -> tuple | None:
        stats = self.table.stats(tag)
        if stats is None:
            return None
        empty = stats.count == 0
        return (tag, stats.count,
                None if empty else stats.min_time, None if empty else stats.max_time,
                stats.min_value, stats.min_value_time, stats.max_value, stats.max_value_time,
                None if empty else stats.recent_row_time)

    def view_name(self) -> str:
        return f"V${self.table.name}_STAT"


class MetaModule(_ByNameModule):
    """`_<TABLE>_META`: one row per tag, its name and metadata columns."""

    def data_columns(self, table) -> list[tuple[str, str]]:
        return [(c.name, sqlite_declaration(of_store_column(c.type, c.length))) for c in table.metadata_columns]

    def view(self, table) -> _ByNameTable:
        return MetaVirtualTable(self.context, table)


class MetaVirtualTable(_ByNameTable):
    def row_for(self, tag: str) -> tuple | None:
        info = self.table.tag_info(tag)
        if info is None:
            return None
        return (tag, *(info.get(c.name) for c in self.table.metadata_columns))

    def view_name(self) -> str:
        return f"_{self.table.name}_META"


class _ListCursor:
    """A cursor over rows a `Filter` collected in a list: what every view's cursor shares."""

    rows: list[tuple]
    position: int

    def Eof(self):
        return self.position >= len(self.rows)

    def Next(self):
        self.position += 1

    def Rowid(self):
        return self.position

    def Column(self, number):
        if number < 0:
            return self.position
        return self.rows[self.position][number]

    def Close(self):
        self.rows = []


class _RowsCursor(_ListCursor):
    def __init__(self, vt: _ByNameTable):
        self.vt = vt
        self.rows: list[tuple] = []
        self.position = 0

    def Filter(self, indexnum, indexname, constraintargs):
        self.vt.context.sandbox.check_deadline()
        known = self.vt.table.tag_names()
        if indexname == "name=":
            value = constraintargs[0]
            tags = [value] if isinstance(value, str) and value in set(known) else []
        elif indexname == "name in":
            present = set(known)
            tags = sorted(v for v in constraintargs[0] if isinstance(v, str) and v in present)
        else:
            tags = known
        rows = (self.vt.row_for(tag) for tag in tags)
        self.rows = [row for row in rows if row is not None]
        self.position = 0
        self.vt.context.scan_log.start(self.vt.view_name(), indexname or "scan", len(tags)).rows = len(self.rows)


# Snapshot views: V$STMT, M$RETENTION, V$RETENTION_JOB ------------------------------------------

class SnapshotViewModule:
    """`CREATE VIRTUAL TABLE temp."<view>" USING edge_views(<view>)`: a read-only view whose
    rows are a snapshot taken when it is scanned (the statements running now, the retention
    policies and jobs). SQLite applies WHERE and ORDER BY to the few rows itself.
    `views`: view name -> (its column declarations, a function giving its rows)."""

    def __init__(self, views: dict[str, tuple[list[tuple[str, str]], Callable[[], list[tuple]]]], sandbox):
        self.views = views
        self.sandbox = sandbox

    def Create(self, connection, modulename, databasename, tablename, *args):
        view = str(args[0]).strip("'\"").upper() if args else ""
        if view not in self.views:
            raise errors.syntax(f"No view named {view}")
        return _create_table_sql(self.views[view][0]), _SnapshotView(self, view)

    Connect = Create


class _SnapshotView:
    def __init__(self, module: SnapshotViewModule, view: str):
        self.module = module
        self.view = view

    def BestIndex(self, constraints, orderbys):
        return None  # a scan of a snapshot; nothing to push down

    def Open(self):
        return _SnapshotCursor(self)

    def UpdateInsertRow(self, rowid, fields):
        raise errors.not_supported(f"{self.view} is read-only")

    def UpdateDeleteRow(self, rowid):
        raise errors.not_supported(f"{self.view} is read-only")

    def UpdateChangeRow(self, row, newrowid, fields):
        raise errors.not_supported(f"{self.view} is read-only")

    def Disconnect(self):
        pass

    Destroy = Disconnect


class _SnapshotCursor(_ListCursor):
    def __init__(self, view: _SnapshotView):
        self.view = view
        self.rows: list[tuple] = []
        self.position = 0

    def Filter(self, indexnum, indexname, constraintargs):
        self.view.module.sandbox.check_deadline()
        self.rows = self.view.module.views[self.view.view][1]()
        self.position = 0
