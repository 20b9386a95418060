"""SELECTs on one tag table answered from the store directly, without SQLite in between.

The shapes historian clients send most, answered with numpy from the store's reads, rollups
and stats, the result built column by column:

    SELECT cols | * FROM tag WHERE name ... AND time ... [ORDER BY name|time ...] [LIMIT ...]
    SELECT aggregates FROM tag WHERE ... [GROUP BY name]
    SELECT ROLLUP('min', 1, time) m, [name,] aggregates FROM tag WHERE ... GROUP BY m [, name]

with WHERE a conjunction of `name = x`, `name IN (...)` and time bounds (constants), and the
aggregates COUNT(*), COUNT(col), SUM, AVG, MIN, MAX of value, MIN/MAX of time, FIRST/LAST
(time, value). `plan` recognises a statement or answers None; `TagSelect.run` answers None
when the data needs what the rollups cannot give (NULL values among the rows aggregated).
Either way the caller runs the statement through SQLite and the virtual tables instead, which
gives the same rows: the tests hold both paths to that.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from edge.sql import tag_aggregates, types
from edge.sql.conditions import Predicate, parse_conjunction
from edge.sql.functions import NS, ROLLUP_UNITS
from edge.sql.lexer import IDENT, NUMBER, STRING, WORD, Token, split_top_level, top_level_positions
from edge.sql.results import CodedText, ResultColumn, ResultSet, SizeBudget
from edge.sql.select_list import SelectItem, column_reference, expression_type, function_call
from edge.sql.tables import TAG
from edge.sql.translate import Statement

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Aggregates a NULL value among the rows changes beyond what rollups (which skip NULLs) know.
_NULL_SENSITIVE = ("count_rows", "min_time", "max_time", "first", "last")
_TIME_OPS = ("=", "<", "<=", ">", ">=", "between")
# JSON bytes a raw row costs, about, per column.
COLUMN_BYTES = 32
_CLAUSES = ("WHERE", "GROUP", "ORDER", "LIMIT", "HAVING", "UNION", "INTERSECT", "EXCEPT", "WINDOW", "JOIN",
            "INNER", "LEFT", "RIGHT", "CROSS", "NATURAL", "FULL", "OFFSET")


@dataclasses.dataclass(frozen=True)
class Output:
    """One result column: what it computes and how it is named and typed."""
    name: str
    type: types.MachType
    kind: str            # "column", "rollup" or an aggregate: count_rows, count_value, sum, avg,
                         # min_value, max_value, min_time, max_time, first, last
    column: str | None = None


@dataclasses.dataclass
class TagSelect:
    table: object
    outputs: list[Output]
    predicates: list[Predicate]
    aggregate: bool
    by_name: bool = False
    rollup_width: int | None = None
    order: list[tuple[str, bool]] = dataclasses.field(default_factory=list)  # ("name"|"time"|"rollup", desc)
    limit: tuple[Token, ...] | None = None
    offset: tuple[Token, ...] | None = None

    def operands(self) -> list[tuple[Token, ...]]:
        """Every constant to evaluate (`run` takes their values in this order)."""
        found = [operand for p in self.predicates for operand in p.operands]
        found += [operand for operand in (self.limit, self.offset) if operand is not None]
        return found

    @property
    def name_column(self) -> str:
        return next(c.name for c in self.table.columns if c.role == "name")

    @property
    def time_column(self) -> str:
        return next(c.name for c in self.table.columns if c.role == "time")

    @property
    def value_column(self) -> str:
        return next(c.name for c in self.table.columns if c.role == "value")

    # Running -------------------------------------------------------------------------------

    def run(self, values: list, budget: SizeBudget, check_deadline) -> ResultSet | None:
        """The result, given the evaluated operands; None when SQLite has to do it instead."""
        scope = self._scope(values)
        if scope is None:
            return None
        tags, first, last, limit, offset = scope
        if self.aggregate:
            return self._aggregate(tags, first, last, limit, offset, budget, check_deadline)
        return self._raw(tags, first, last, limit, offset, budget, check_deadline)

    def _scope(self, values: list):
        position = 0
        tags = None
        first, last = INT64_MIN, INT64_MAX
        for p in self.predicates:
            got = values[position:position + len(p.operands)]
            position += len(p.operands)
            if p.column == self.name_column:
                if p.op not in ("=", "in"):
                    return None
                names = [v for v in got if isinstance(v, str)]
                if len(names) != len(got) and any(isinstance(v, (bytes, int, float)) for v in got):
                    return None  # comparing a name with a number: SQLite's affinity rules decide
                tags = set(names) if tags is None else tags & set(names)
            else:
                if any(not isinstance(v, int) or isinstance(v, bool) for v in got):
                    return None  # NULL, text or a fraction of a nanosecond: SQLite decides
                if p.op == "between":
                    first, last = max(first, got[0]), min(last, got[1])
                elif p.op == "=":
                    first, last = max(first, got[0]), min(last, got[0])
                elif p.op == ">":
                    first = max(first, got[0] + 1)
                elif p.op == ">=":
                    first = max(first, got[0])
                elif p.op == "<":
                    last = min(last, got[0] - 1)
                elif p.op == "<=":
                    last = min(last, got[0])
        limit = offset = None
        if self.limit is not None:
            limit = values[position]
            position += 1
            if not isinstance(limit, int) or isinstance(limit, bool):
                return None
            if limit < 0:
                limit = None
        if self.offset is not None:
            offset = values[position]
            if not isinstance(offset, int) or isinstance(offset, bool):
                return None
        known = self.table.tag_names()
        if tags is None:
            chosen = list(known)
        else:
            present = set(known)
            chosen = sorted(t for t in tags if t in present)
        return chosen, first, last, limit, max(0, offset or 0)

    def _raw(self, tags, first, last, limit, offset, budget: SizeBudget, check_deadline) -> ResultSet:
        order = [key for key, _ in self.order]
        direction = 0
        if "time" in order:
            direction = 1 if dict(self.order)["time"] else 2
        if "name" in order:
            tags = sorted(tags, reverse=dict(self.order)["name"])
        merge = order == ["time"] and len(tags) > 1
        row_bytes = COLUMN_BYTES * len(self.outputs)
        wanted = None if limit is None else limit + offset
        affordable = budget.rows_affordable(row_bytes) + offset
        pieces = []
        got = 0
        for tag in tags:
            check_deadline()
            need = wanted if merge else (None if wanted is None else wanted - got)
            if need is not None and need <= 0:
                break
            count = affordable + 1 if need is None else min(need, affordable + 1)
            piece = self.table.read([tag], first, last, direction, count=count)
            if len(piece.times):
                pieces.append((tag, piece))
                got += len(piece.times)
            if got > affordable and not merge:
                break
        codes = np.repeat(np.arange(len(pieces), dtype=np.int64), [len(p.times) for _, p in pieces])
        times = _concat([p.times for _, p in pieces], np.int64)
        order_rows = None
        if merge:
            order_rows = np.argsort(times, kind="stable")
            if direction == 1:
                order_rows = np.argsort(-times, kind="stable")
        stop = None if limit is None else offset + limit
        if order_rows is not None:
            order_rows = order_rows[offset:stop]
            pick = order_rows
        else:
            pick = slice(offset, stop)
        total = len(times[pick])
        budget.spend(total * row_bytes)
        columns, values = [], []
        for output in self.outputs:
            columns.append(ResultColumn(output.name, output.type))
            if output.column == self.name_column:
                values.append(CodedText([t for t, _ in pieces], codes[pick]))
            elif output.column == self.time_column:
                values.append(times[pick])
            elif output.column == self.value_column:
                values.append(_typed_values(_concat([p.values for _, p in pieces], np.float64)[pick], output.type))
            else:
                parts = [p.extras[output.column] for _, p in pieces]
                values.append(_extra_column(parts, output.type)[pick])
        return ResultSet(columns, values)

    def _aggregate(self, tags, first, last, limit, offset, budget: SizeBudget, check_deadline):
        kinds = {o.kind for o in self.outputs}
        groups = [[t] for t in sorted(tags)] if self.by_name else [tags]
        whole = first == INT64_MIN and last == INT64_MAX and self.rollup_width is None
        stats_only = whole and kinds <= {"column", "count_rows", "min_time", "max_time", "min_value",
                                         "max_value", "first", "last"}
        null_sensitive = self.by_name or self.rollup_width is not None or bool(kinds & set(_NULL_SENSITIVE))
        names: list[str | None] = []
        parts: list[dict] = []
        for group in groups:
            check_deadline()
            label = group[0] if self.by_name else None
            if stats_only:
                found = _stats_fields(tag_aggregates.whole_tag_stats(self.table, group))
                if not (self.by_name and found["count"][0] == 0):
                    names.append(label)
                    parts.append(found)
                continue
            r = tag_aggregates.range_rollups(self.table, group, first, last, self.rollup_width, check_deadline)
            if null_sensitive and tag_aggregates.has_rows_beyond(self.table, group, first, last, int(r.count.sum())):
                return None  # NULL values in range: the rollups cannot stand for the rows
            if not len(r):
                if not (self.by_name or self.rollup_width is not None):
                    names.append(label)
                    parts.append(_stats_fields({"count": 0}))
                continue
            names.extend([label] * len(r))
            parts.append(_rollup_fields(r))
        fields = {key: _concat([p[key] for p in parts], dtype) for key, dtype in _FIELDS.items()}
        return self._assemble(names, fields, limit, offset, budget)

    def _assemble(self, names: list, fields: dict, limit, offset, budget: SizeBudget) -> ResultSet:
        order = self._output_order(names, fields["key"])
        stop = None if limit is None else offset + limit
        order = order[offset:stop]
        budget.spend(len(order) * COLUMN_BYTES * len(self.outputs))
        picked = {key: array[order] for key, array in fields.items()}
        columns, values = [], []
        distinct = sorted(set(n for n in names if n is not None))
        for output in self.outputs:
            columns.append(ResultColumn(output.name, output.type))
            if output.kind == "rollup":
                values.append(picked["key"])
            elif output.kind == "column":
                codes = np.searchsorted(np.array(distinct, dtype=object), np.array(names, dtype=object)[order]) \
                    if len(order) else np.zeros(0, dtype=np.int64)
                values.append(CodedText(distinct, codes.astype(np.int64)))
            else:
                values.append(_aggregate_values(output, picked))
        return ResultSet(columns, values)

    def _output_order(self, names: list, keys: np.ndarray) -> np.ndarray:
        """Rows in the ORDER BY order, else by the group keys (as SQLite's GROUP BY gives them)."""
        n = len(keys)
        order = self.order or ([("name", False)] if self.by_name else []) + \
            ([("rollup", False)] if self.rollup_width is not None else [])
        rows = np.arange(n, dtype=np.int64)
        for key, desc in reversed(order):
            column = (_ranks(names) if key == "name" else keys)[rows]
            rows = rows[np.argsort(-column if desc else column, kind="stable")]
        return rows


def _ranks(names: list) -> np.ndarray:
    if not names or names[0] is None:
        return np.zeros(len(names), dtype=np.int64)
    distinct, ranks = np.unique(np.array(names, dtype=object), return_inverse=True)
    return ranks.astype(np.int64)


def _concat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _typed_values(values: np.ndarray, kind: types.MachType):
    """The value column as its declared type: integers (NULL masked) or float64 (NaN NULL)."""
    if kind.name in types.INTEGER_TYPES:
        nulls = np.isnan(values)
        data = np.where(nulls, 0, values).astype(np.int64)
        return np.ma.MaskedArray(data, mask=nulls) if nulls.any() else data
    return values


def _extra_column(parts: list, kind: types.MachType):
    if not parts:
        return np.zeros(0, dtype=object if kind.name in types.TEXT_TYPES else np.float64)
    if isinstance(parts[0], np.ma.MaskedArray):
        joined = np.ma.concatenate(parts)
        if kind.name in types.DECIMAL_TYPES:
            return np.ma.filled(joined.astype(np.float64), np.nan)
        data = np.ma.getdata(joined).astype(np.int64)
        mask = np.ma.getmaskarray(joined)
        return np.ma.MaskedArray(data, mask=mask) if mask.any() else data
    return np.concatenate(parts)


# Aggregate fields, one array each: count, key (bucket start), sum/min/max/first_value/
# last_value (float64, NaN for none), first_time/last_time (int64, meaningful where count > 0
# or `has_times`).
_FIELDS = {"key": np.int64, "count": np.int64, "sum": np.float64, "min": np.float64, "max": np.float64,
           "first_value": np.float64, "last_value": np.float64, "first_time": np.int64, "last_time": np.int64,
           "has_times": bool}


def _stats_fields(found: dict) -> dict:
    def number(value):
        return np.array([np.nan if value is None else value], dtype=np.float64)

    count = found.get("count", 0)
    return {"key": np.zeros(1, dtype=np.int64), "count": np.array([count], dtype=np.int64),
            "sum": number(None), "min": number(found.get("min_value")), "max": number(found.get("max_value")),
            "first_value": number(found.get("first")), "last_value": number(found.get("last")),
            "first_time": np.array([found.get("min_time") or 0], dtype=np.int64),
            "last_time": np.array([found.get("max_time") or 0], dtype=np.int64),
            "has_times": np.array([count > 0], dtype=bool)}


def _rollup_fields(r) -> dict:
    return {"key": r.keys, "count": r.count, "sum": r.sum, "min": r.min, "max": r.max,
            "first_value": r.first_value, "last_value": r.last_value, "first_time": r.first_time,
            "last_time": r.last_time, "has_times": r.count > 0}


def _aggregate_values(output: Output, fields: dict):
    count = fields["count"]
    kind = output.kind
    if kind in ("count_rows", "count_value"):
        return count.astype(np.int64)
    empty = count == 0
    if kind in ("min_time", "max_time"):
        times = fields["first_time" if kind == "min_time" else "last_time"]
        missing = ~fields["has_times"]
        return np.ma.MaskedArray(times, mask=missing) if missing.any() else times
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "avg":
            numbers = np.where(empty, np.nan, fields["sum"] / np.where(empty, 1, count))
        else:
            source = {"sum": "sum", "min_value": "min", "max_value": "max", "first": "first_value",
                      "last": "last_value"}[kind]
            numbers = fields[source]
            if kind == "sum":
                numbers = np.where(empty, np.nan, numbers)
    if output.type.name in types.DECIMAL_TYPES:
        return numbers.astype(np.float64)
    missing = np.isnan(numbers)
    data = np.where(missing, 0, numbers).astype(np.int64)
    return np.ma.MaskedArray(data, mask=missing) if missing.any() else data


# Recognising the statement ---------------------------------------------------------------------

def plan(statement: Statement) -> TagSelect | None:
    """The statement as a TagSelect if it has one of the shapes above, else None."""
    tokens = statement.tokens
    if not tokens or not tokens[0].is_word("SELECT") or (len(tokens) > 1 and tokens[1].is_word("DISTINCT")):
        return None
    froms = top_level_positions(tokens, "FROM")
    if len(froms) != 1:
        return None
    items = statement.select_list
    if not items:
        return None
    position = froms[0] + 1
    if position >= len(tokens) or tokens[position].kind not in (WORD, IDENT):
        return None
    sql_table = statement.tables.get(tokens[position].value)
    if sql_table is None or sql_table.kind != TAG:
        return None
    qualifiers = {sql_table.name}
    position += 1
    if position < len(tokens) and tokens[position].is_word("AS"):
        position += 1
    if position < len(tokens) and tokens[position].kind in (WORD, IDENT) and tokens[position].value not in _CLAUSES:
        qualifiers.add(tokens[position].value.upper())
        position += 1
    clauses = _clauses(tokens, position)
    if clauses is None:
        return None
    table = statement.tables.tag_table(sql_table.name)
    if table is None:
        return None
    return _build(statement, table, sql_table, items, clauses, qualifiers)


def _clauses(tokens: list[Token], position: int) -> dict | None:
    """{"WHERE": tokens, "GROUP": ..., "ORDER": ..., "LIMIT": ...} after FROM; None if other."""
    found: dict[str, list[Token]] = {}
    order = ("WHERE", "GROUP", "ORDER", "LIMIT")
    current = None
    depth = 0
    for token in tokens[position:]:
        if token.is_op("("):
            depth += 1
        elif token.is_op(")"):
            depth -= 1
        if depth == 0 and token.kind == WORD and token.value in _CLAUSES and token.value != "OFFSET":
            if token.value not in order or token.value in found:
                return None
            if current is not None and order.index(token.value) < order.index(current):
                return None
            current = token.value
            found[current] = []
            continue
        if current is None:
            return None  # a join, a second table, or anything else after the table
        found[current].append(token)
    for key in ("GROUP", "ORDER"):
        if key in found:
            if not found[key] or not found[key][0].is_word("BY"):
                return None
            found[key] = found[key][1:]
    return found


def _build(statement: Statement, table, sql_table, items: list[SelectItem], clauses: dict,
           qualifiers: set[str]) -> TagSelect | None:
    columns = {name for name, _ in sql_table.columns}
    roles = {c.role: c.name for c in table.columns}
    name_col, time_col, value_col = roles["name"], roles["time"], roles["value"]
    outputs: list[Output] = []
    rollup_item = None
    for index, item in enumerate(items):
        if item.is_star:
            if len(item.expression) == 3 and item.expression[0].value.upper() not in qualifiers:
                return None
            outputs += [Output(name, kind, "column", name) for name, kind in sql_table.columns]
            continue
        output = _output(statement, item, columns, qualifiers, name_col, time_col, value_col)
        if output is None:
            return None
        if output.kind == "rollup":
            if rollup_item is not None:
                return None
            rollup_item = (index, item)
        outputs.append(output)
    aggregate = any(o.kind != "column" for o in outputs)
    query = TagSelect(table, outputs, [], aggregate)
    where = clauses.get("WHERE")
    if where is not None:
        predicates = parse_conjunction(where, columns, qualifiers)
        if predicates is None or any(p.column not in (name_col, time_col) for p in predicates):
            return None
        if any(p.op not in (("=", "in") if p.column == name_col else _TIME_OPS) for p in predicates):
            return None
        query.predicates = predicates
    if rollup_item is not None:
        query.rollup_width = _rollup_width(rollup_item[1])
        if query.rollup_width is None:
            return None
    keys = _group_keys(clauses.get("GROUP"), items, rollup_item, columns, qualifiers, name_col)
    if keys is None:
        return None
    if not aggregate:
        if keys:
            return None
    else:
        query.by_name = "name" in keys
        if ("rollup" in keys) != (rollup_item is not None):
            return None
        for output in outputs:
            if output.kind == "column" and (output.column != name_col or not query.by_name):
                return None
    order = _order_keys(clauses.get("ORDER"), items, outputs, rollup_item, columns, qualifiers, name_col, time_col)
    if order is None:
        return None
    if aggregate and any(key not in keys for key, _ in order):
        return None
    if not aggregate and [k for k, _ in order] not in ([], ["time"], ["name"], ["name", "time"]):
        return None
    query.order = order
    limit = clauses.get("LIMIT")
    if limit is not None:
        parsed = _limit(limit)
        if parsed is None:
            return None
        query.limit, query.offset = parsed
    return query


def _output(statement: Statement, item: SelectItem, columns: set[str], qualifiers: set[str],
            name_col: str, time_col: str, value_col: str) -> Output | None:
    expression = item.expression
    reference = _column(expression, columns, qualifiers)
    kind = expression_type(expression, statement.column_type)
    if reference is not None:
        return Output((item.alias or reference).upper(), kind, "column", reference)
    name = (item.alias or item.text(statement.text)).upper()
    call = function_call(expression)
    if call is None or kind is None:
        return None
    function, args = call
    arg_columns = [_column(a, columns, qualifiers) for a in args]
    if function == "ROLLUP":
        if len(args) == 3 and arg_columns[2] == time_col:
            return Output(name, kind, "rollup")
        return None
    if function == "COUNT" and len(args) == 1:
        if len(args[0]) == 1 and args[0][0].is_op("*"):
            return Output(name, kind, "count_rows")
        if arg_columns[0] in (name_col, time_col):
            return Output(name, kind, "count_rows")
        if arg_columns[0] == value_col:
            return Output(name, kind, "count_value")
        return None
    if function in ("SUM", "AVG") and arg_columns == [value_col]:
        return Output(name, kind, function.lower())
    if function in ("MIN", "MAX") and len(args) == 1:
        if arg_columns[0] == value_col:
            return Output(name, kind, function.lower() + "_value")
        if arg_columns[0] == time_col:
            return Output(name, kind, function.lower() + "_time")
        return None
    if function in ("FIRST", "LAST") and arg_columns == [time_col, value_col]:
        return Output(name, kind, function.lower())
    return None


def _column(expression, columns: set[str], qualifiers: set[str]) -> str | None:
    reference = column_reference(list(expression))
    if reference is None or reference not in columns:
        return None
    if len(expression) == 3 and expression[0].value.upper() not in qualifiers:
        return None
    return reference


def _small_whole(text: str) -> bool:
    """Digits of a whole number that fits int64 with room (longer ones are left to SQLite,
    which reads them as doubles, and to the checks that refuse those)."""
    return text.isdigit() and len(text) <= 18


def _rollup_width(item: SelectItem) -> int | None:
    _, args = function_call(item.expression)
    unit, size = args[0], args[1]
    if len(unit) != 1 or unit[0].kind != STRING or len(size) != 1 or size[0].kind != NUMBER:
        return None
    key = unit[0].value.strip().lower()
    if key not in ROLLUP_UNITS or not _small_whole(size[0].text) or int(size[0].text) < 1:
        return None
    return NS[key] * int(size[0].text)


def _resolve(expression: list[Token], items: list[SelectItem], rollup_item, columns: set[str],
             qualifiers: set[str], name_col: str, time_col: str | None) -> str | None:
    """A GROUP BY / ORDER BY key as "name", "time" or "rollup" (by column, alias, ordinal or
    the rollup expression itself), or None."""
    if len(expression) == 1 and expression[0].kind == NUMBER and _small_whole(expression[0].text):
        index = int(expression[0].text) - 1
        if not 0 <= index < len(items) or items[index].is_star:
            return None
        if rollup_item is not None and index == rollup_item[0]:
            return "rollup"
        expression = items[index].expression
    if len(expression) == 1 and expression[0].kind in (WORD, IDENT):
        alias = expression[0].value.upper()
        for index, item in enumerate(items):
            if item.alias is not None and item.alias.upper() == alias:
                if rollup_item is not None and index == rollup_item[0]:
                    return "rollup"
                if alias not in columns:
                    expression = item.expression
                break
    reference = _column(expression, columns, qualifiers)
    if reference == name_col:
        return "name"
    if reference is not None and reference == time_col:
        return "time"
    if rollup_item is not None and [t.value for t in expression] == [t.value for t in rollup_item[1].expression]:
        return "rollup"
    return None


def _group_keys(tokens, items, rollup_item, columns, qualifiers, name_col) -> list[str] | None:
    if tokens is None:
        return []
    keys = []
    for part in split_top_level(tokens):
        key = _resolve(part, items, rollup_item, columns, qualifiers, name_col, None)
        if key is None or key in keys:
            return None
        keys.append(key)
    return keys


def _order_keys(tokens, items, outputs, rollup_item, columns, qualifiers, name_col, time_col):
    if tokens is None:
        return []
    keys = []
    for part in split_top_level(tokens):
        desc = False
        if part and part[-1].is_word("ASC", "DESC"):
            desc = part[-1].value == "DESC"
            part = part[:-1]
        if not part:
            return None
        key = _resolve(part, items, rollup_item, columns, qualifiers, name_col, time_col)
        if key is None or key in [k for k, _ in keys]:
            return None
        keys.append((key, desc))
    return keys


def _limit(tokens: list[Token]) -> tuple[tuple[Token, ...], tuple[Token, ...] | None] | None:
    offsets = top_level_positions(tokens, "OFFSET")
    if offsets:
        limit, offset = tokens[:offsets[0]], tokens[offsets[0] + 1:]
    else:
        parts = split_top_level(tokens)
        if len(parts) == 2:
            offset, limit = parts  # LIMIT offset, count
        elif len(parts) == 1:
            limit, offset = parts[0], None
        else:
            return None
    if not limit or (offset is not None and not offset):
        return None
    return tuple(limit), (tuple(offset) if offset is not None else None)
