"""Statements that change a tag table other than INSERT (which goes through its virtual table):

    DELETE FROM tag [WHERE name = x | name IN (...)] [AND time < t | time <= t]
    DELETE FROM tag BEFORE t                      (every tag)
    TRUNCATE TABLE tag
    INSERT INTO tag METADATA [(cols)] VALUES (...), ...   register tags with their metadata
    UPDATE tag METADATA SET col = v, ... WHERE name = x
    DELETE FROM tag METADATA WHERE name = x       (a tag without data)

The store deletes the oldest data of tags (time < t), as Machbase does; other deletes are
refused with a message saying what is possible. Operands are constants that SQLite evaluates
(`TO_DATE('...')`, '2020-01-01' ...); `plan` returns the statement's operands and a function
that runs it once they are known.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from edge.errors import TAG_EXISTS, EdgeError
from edge.sql import errors
from edge.sql.conditions import parse_conjunction
from edge.sql.lexer import IDENT, WORD, Token, matching_paren, split_top_level
from edge.sql.results import Outcome
from edge.sql.tables import TAG
from edge.sql.translate import Statement
from edge.store import errors as store_errors

INT64_MAX = 2**63 - 1
_DELETE_FORMS = ("DELETE FROM {t} [WHERE name = '...' | name IN (...)] [AND time < ...], "
                 "DELETE FROM {t} BEFORE <time>, DELETE FROM {t} METADATA WHERE name = '...'")


@dataclasses.dataclass
class TagDml:
    operands: list[tuple[Token, ...]]
    run: Callable[[list], Outcome]
    times: frozenset[int] = frozenset()  # operands that stand for a time ('2020-01-01' is one)


def plan(statement: Statement) -> TagDml | None:
    """The tag-table statement, or None if `statement` is not one (SQLite runs it)."""
    tokens = statement.tokens
    head = tokens[0].value if tokens[0].kind == WORD else ""
    if head == "DELETE" and len(tokens) >= 3 and tokens[1].is_word("FROM"):
        table = _tag_table(statement, tokens[2])
        if table is None:
            return None
        if len(tokens) > 3 and tokens[3].is_word("METADATA"):
            return _delete_metadata(statement, table, tokens[4:])
        return _delete(statement, table, tokens[3:])
    if head == "TRUNCATE" and len(tokens) == 3 and tokens[1].is_word("TABLE"):
        table = _tag_table(statement, tokens[2])
        if table is None:
            return None
        return TagDml([], lambda values: Outcome(effect_rows=table.delete_before(INT64_MAX)))
    if head == "INSERT" and len(tokens) >= 4 and tokens[1].is_word("INTO") and tokens[3].is_word("METADATA"):
        table = _tag_table(statement, tokens[2])
        if table is None:
            raise errors.not_supported(f"{tokens[2].value.upper()} is not a tag table: METADATA is a tag table's")
        return _insert_metadata(table, tokens[4:])
    if head == "UPDATE" and len(tokens) >= 3 and tokens[2].is_word("METADATA"):
        table = _tag_table(statement, tokens[1])
        if table is None:
            raise errors.not_supported(f"{tokens[1].value.upper()} is not a tag table: METADATA is a tag table's")
        return _update_metadata(statement, table, tokens[3:])
    return None


def _tag_table(statement: Statement, token: Token):
    if token.kind not in (WORD, IDENT):
        return None
    found = statement.tables.get(token.value)
    if found is None or found.kind != TAG:
        return None
    return statement.tables.tag_table(found.name)


def _name_column(table) -> str:
    return next(c.name for c in table.columns if c.role == "name")


def _time_column(table) -> str:
    return next(c.name for c in table.columns if c.role == "time")


def _delete(statement: Statement, table, rest: list[Token]) -> TagDml:
    forms = _DELETE_FORMS.format(t=table.name)
    if not rest:
        return TagDml([], lambda values: Outcome(effect_rows=table.delete_before(INT64_MAX)))
    if rest[0].is_word("BEFORE"):
        operand = tuple(rest[1:])
        if not operand:
            raise errors.syntax(f"DELETE ... BEFORE needs a time; expected {forms}")
        return TagDml([operand], lambda values: Outcome(effect_rows=table.delete_before(_time(values[0]))),
                      frozenset({0}))
    if not rest[0].is_word("WHERE"):
        raise errors.not_supported(f"Unsupported DELETE on tag table {table.name}; expected {forms}")
    name_col, time_col = _name_column(table), _time_column(table)
    predicates = parse_conjunction(rest[1:], {name_col, time_col}, {table.name})
    if predicates is None:
        raise errors.not_supported(f"Unsupported DELETE condition on tag table {table.name}; expected {forms}")
    operands, shape = [], []
    for p in predicates:
        if p.column == name_col and p.op in ("=", "in"):
            shape.append(("tags", len(p.operands)))
        elif p.column == time_col and p.op in ("<", "<="):
            shape.append((p.op, 1))
        else:
            raise errors.not_supported(f"Tag data is deleted oldest first: a condition on {p.column} "
                                       f"{p.op.upper()} is not possible; expected {forms}")
        operands.extend(p.operands)

    def run(values: list) -> Outcome:
        tags: set[str] | None = None
        before = INT64_MAX
        position = 0
        for kind, count in shape:
            got = values[position:position + count]
            position += count
            if kind == "tags":
                names = {v for v in got if isinstance(v, str)}
                tags = names if tags is None else tags & names
            else:
                moment = _time(got[0])
                before = min(before, moment if kind == "<" else moment + 1)
        if tags is not None and not tags:
            return Outcome(effect_rows=0)
        chosen = None if tags is None else sorted(tags)
        return Outcome(effect_rows=table.delete_before(before, chosen))

    return TagDml(operands, run)


def _time(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise errors.syntax(f"Expected a time, e.g. TO_DATE('2020-01-01 00:00:00'), got {value!r}")
    return value


def _names_of(predicates, name_col: str, what: str, table) -> list[tuple[Token, ...]]:
    if predicates is None or len(predicates) != 1 or predicates[0].column != name_col or predicates[0].op != "=":
        raise errors.not_supported(f"{what} on {table.name} needs WHERE {name_col} = '...'")
    return list(predicates[0].operands)


def _delete_metadata(statement: Statement, table, rest: list[Token]) -> TagDml:
    name_col = _name_column(table)
    if not rest or not rest[0].is_word("WHERE"):
        raise errors.not_supported(f"DELETE FROM {table.name} METADATA needs WHERE {name_col} = '...'")
    operands = _names_of(parse_conjunction(rest[1:], {name_col}, {table.name}), name_col, "DELETE ... METADATA", table)

    def run(values: list) -> Outcome:
        return Outcome(effect_rows=table.delete_tag(_tag_name(values[0])))

    return TagDml(operands, run)


def _tag_name(value) -> str:
    if not isinstance(value, str):
        raise errors.syntax(f"A tag name is text, got {value!r}")
    return value


def _insert_metadata(table, rest: list[Token]) -> TagDml:
    name_col = _name_column(table)
    columns = [name_col] + [c.name for c in table.metadata_columns]
    position = 0
    if rest and rest[0].is_op("("):
        close = matching_paren(rest, 0)
        columns = [part[0].value.upper() for part in split_top_level(rest[1:close])
                   if len(part) == 1 and part[0].kind in (WORD, IDENT)]
        position = close + 1
    if position >= len(rest) or not rest[position].is_word("VALUES"):
        raise errors.syntax(f"Expected INSERT INTO {table.name} METADATA [(columns)] VALUES (...)")
    position += 1
    rows: list[list[tuple[Token, ...]]] = []
    while position < len(rest) and rest[position].is_op("("):
        close = matching_paren(rest, position)
        parts = [tuple(p) for p in split_top_level(rest[position + 1:close])]
        if len(parts) > len(columns) or any(not p for p in parts):
            raise errors.syntax(f"A METADATA row has more values than columns ({', '.join(columns)})")
        rows.append(parts)
        position = close + 1
        if position < len(rest) and rest[position].is_op(","):
            position += 1
    if position != len(rest) or not rows:
        raise errors.syntax(f"Expected INSERT INTO {table.name} METADATA [(columns)] VALUES (...)")
    operands = [p for row in rows for p in row]

    def run(values: list) -> Outcome:
        records, position = [], 0
        for row in rows:
            got = values[position:position + len(row)]
            position += len(row)
            records.append(dict(zip(columns, got)))
        registered, failed = table.add_tags(records)
        if failed:
            raise EdgeError(TAG_EXISTS,
                            f"{failed} of {len(records)} tag(s) not registered in {table.name}: the name exists "
                            f"already or a value does not fit its column ({registered} registered)")
        return Outcome()

    return TagDml(operands, run)


def _update_metadata(statement: Statement, table, rest: list[Token]) -> TagDml:
    name_col = _name_column(table)
    if not rest or not rest[0].is_word("SET"):
        raise errors.syntax(f"Expected UPDATE {table.name} METADATA SET col = value WHERE {name_col} = '...'")
    wheres = [i for i, t in enumerate(rest) if t.is_word("WHERE")]
    if not wheres:
        raise errors.not_supported(f"UPDATE {table.name} METADATA needs WHERE {name_col} = '...'")
    assignments = []
    for part in split_top_level(rest[1:wheres[0]]):
        if len(part) < 3 or part[0].kind not in (WORD, IDENT) or not part[1].is_op("="):
            raise errors.syntax("Expected SET column = value[, column = value]")
        assignments.append((part[0].value.upper(), tuple(part[2:])))
    metadata = {c.name for c in table.metadata_columns}
    for column, _ in assignments:
        if column not in metadata:
            raise store_errors.column_not_found(table.name, column)
    names = _names_of(parse_conjunction(rest[wheres[0] + 1:], {name_col}, {table.name}), name_col,
                      "UPDATE ... METADATA", table)
    operands = [value for _, value in assignments] + names

    def run(values: list) -> Outcome:
        changes = dict(zip((c for c, _ in assignments), values[:len(assignments)]))
        return Outcome(effect_rows=table.update_tag(_tag_name(values[len(assignments)]), changes))

    return TagDml(operands, run)
