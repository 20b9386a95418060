"""The outer select list of a query, and the Machbase type each item yields.

SQLite reports a declared type only for a result column that reads a table column; for an
expression it reports nothing, and its values alone cannot tell a datetime (int64 ns) from a
long. The select list can: `TO_DATE(...)`, `ROLLUP(...)`, `MIN(time)` are datetimes, `COUNT`
is a long, `FIRST(time, value)` has the type of `value`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from edge.sql import types
from edge.sql.functions import DATETIME_FUNCTIONS, TEXT_FUNCTIONS
from edge.sql.lexer import IDENT, NUMBER, STRING, WORD, Token, matching_paren, next_top_level, split_top_level
from edge.sql.types import MachType

ColumnTypes = Callable[[str], MachType | None]

_LIST_END = ("FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "INTERSECT", "EXCEPT", "WINDOW")
# Words after which a trailing word is part of the expression, not an alias.
_NOT_BEFORE_ALIAS = {"IS", "NOT", "AND", "OR", "THEN", "ELSE", "WHEN", "CASE", "LIKE", "GLOB", "IN", "BETWEEN",
                     "ESCAPE", "COLLATE", "DISTINCT", "ALL", "SELECT", "AS"}
_NOT_ALIAS = {"NULL", "END", "TRUE", "FALSE", "CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP", "DESC", "ASC"}


@dataclasses.dataclass(frozen=True)
class SelectItem:
    expression: list[Token]
    alias: str | None

    @property
    def is_star(self) -> bool:
        e = self.expression
        return (len(e) == 1 and e[0].is_op("*")) or (len(e) == 3 and e[1].is_op(".") and e[2].is_op("*"))

    def text(self, statement: str) -> str:
        return statement[self.expression[0].start:self.expression[-1].end]


def outer_select(tokens: list[Token]) -> tuple[int, int] | None:
    """(first, end) token indices of the outer SELECT's item list, or None if there is none."""
    select = next_top_level(tokens, ("SELECT",))
    if select == len(tokens):
        return None
    start = select + 1
    if start < len(tokens) and tokens[start].is_word("DISTINCT", "ALL"):
        start += 1
    return start, next_top_level(tokens, _LIST_END, start)


def select_items(tokens: list[Token]) -> list[SelectItem] | None:
    span = outer_select(tokens)
    if span is None or span[0] >= span[1]:
        return None
    return [_item(part) for part in split_top_level(tokens[span[0]:span[1]]) if part]


def _item(part: list[Token]) -> SelectItem:
    if len(part) >= 3 and part[-2].is_word("AS") and part[-1].kind in (WORD, IDENT, STRING):
        return SelectItem(part[:-2], part[-1].value)
    if len(part) >= 2 and part[-1].kind in (WORD, IDENT) and part[-1].value not in _NOT_ALIAS:
        before = part[-2]
        if before.is_op(")") or before.kind in (STRING, NUMBER, IDENT) or \
                (before.kind == WORD and before.value not in _NOT_BEFORE_ALIAS):
            return SelectItem(part[:-1], part[-1].value)
    return SelectItem(part, None)


def column_reference(expression: list[Token]) -> str | None:
    """The column name if `expression` is just a (possibly qualified) column."""
    if len(expression) == 1 and expression[0].kind in (WORD, IDENT):
        return expression[0].value.upper()
    if len(expression) == 3 and expression[1].is_op(".") and expression[2].kind in (WORD, IDENT):
        return expression[2].value.upper()
    return None


def function_call(expression: list[Token]) -> tuple[str, list[list[Token]]] | None:
    """(NAME, argument token lists) if `expression` is exactly one function call."""
    if len(expression) >= 3 and expression[0].kind == WORD and expression[1].is_op("("):
        if matching_paren(expression, 1) == len(expression) - 1:
            inner = expression[2:-1]
            return expression[0].value, ([p for p in split_top_level(inner)] if inner else [])
    return None


def expression_type(expression: list[Token], column_types: ColumnTypes) -> MachType | None:
    """The Machbase type `expression` yields, when its shape says; None to go by the values."""
    column = column_reference(expression)
    if column is not None:
        found = column_types(column)
        if found is not None:
            return found
        if column in ("SYSDATE", "NOW"):
            return types.DATETIME
        return None
    if len(expression) >= 3 and expression[0].is_op("(") and matching_paren(expression, 0) == len(expression) - 1:
        return expression_type(expression[1:-1], column_types)
    call = function_call(expression)
    if call is None:
        return None
    name, args = call
    if name == "COUNT":
        return types.LONG
    if name in DATETIME_FUNCTIONS:
        return types.DATETIME
    if name in TEXT_FUNCTIONS:
        return types.varchar()
    if name == "AVG":
        return types.DOUBLE
    if name in ("MIN", "MAX") and len(args) == 1:
        return expression_type(args[0], column_types)
    if name in ("FIRST", "LAST") and len(args) == 2:
        return expression_type(args[1], column_types)
    if name in ("SUM", "TOTAL") and len(args) == 1:
        inner = expression_type(args[0], column_types)
        if inner is not None and inner.name in types.INTEGER_TYPES and name == "SUM":
            return types.LONG
        return types.DOUBLE if inner is not None else None
    return None
