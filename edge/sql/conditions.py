"""A WHERE clause read as a conjunction of simple predicates on a table's columns.

`name = 'a' AND time BETWEEN '2020-01-01' AND TO_DATE('...') AND value > 3` reads as three
predicates, each a column, an operator and operand expressions (tokens, evaluated later by
SQLite as constants). Anything else (OR, NOT, a function of a column, a column on both sides)
is not a plain conjunction: `parse_conjunction` answers None and the caller lets SQLite run
the statement as written.
"""

from __future__ import annotations

import dataclasses

from edge.sql.lexer import IDENT, WORD, Token, matching_paren, split_top_level

COMPARISONS = ("=", "==", "<", "<=", ">", ">=")
_MIRRORED = {"=": "=", "==": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclasses.dataclass(frozen=True)
class Predicate:
    column: str                     # upper-case column name
    op: str                         # "=", "<", "<=", ">", ">=", "in", "between"
    operands: tuple[tuple[Token, ...], ...]


class _Reader:
    def __init__(self, tokens: list[Token], columns: set[str], qualifiers: set[str]):
        self.tokens = tokens
        self.columns = columns
        self.qualifiers = qualifiers
        self.position = 0

    def at_end(self) -> bool:
        return self.position >= len(self.tokens)

    def peek(self, offset: int = 0) -> Token | None:
        i = self.position + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def column(self) -> str | None:
        """A column reference at the cursor (consumed), or None (nothing consumed)."""
        t = self.peek()
        if t is None or t.kind not in (WORD, IDENT):
            return None
        after = self.peek(1)
        if after is not None and after.is_op(".") and t.value.upper() in self.qualifiers:
            name = self.peek(2)
            if name is not None and name.kind in (WORD, IDENT) and name.value.upper() in self.columns \
                    and not _is_call(self.tokens, self.position + 2):
                self.position += 3
                return name.value.upper()
            return None
        if t.value.upper() in self.columns and not _is_call(self.tokens, self.position):
            self.position += 1
            return t.value.upper()
        return None

    def operand(self) -> tuple[Token, ...] | None:
        """Tokens up to the next top-level AND (or the end); None if empty or not constant."""
        start = self.position
        depth = 0
        while not self.at_end():
            t = self.peek()
            if t.is_op("("):
                depth += 1
            elif t.is_op(")"):
                depth -= 1
                if depth < 0:
                    return None
            elif depth == 0 and t.kind == WORD and t.value in ("AND", "OR", "BETWEEN", "IN", "IS", "NOT", "LIKE"):
                break
            elif depth == 0 and t.is_op(*COMPARISONS, "!=", "<>"):
                break
            self.position += 1
        part = tuple(self.tokens[start:self.position])
        if not part or self._mentions_column(part):
            return None
        return part

    def _mentions_column(self, part: tuple[Token, ...]) -> bool:
        for i, t in enumerate(part):
            if t.kind in (WORD, IDENT) and t.value.upper() in self.columns and not _is_call(list(part), i):
                return True
        return False


def _is_call(tokens: list[Token], i: int) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1].is_op("(")


def parse_conjunction(tokens: list[Token], columns: set[str], qualifiers: set[str]) -> list[Predicate] | None:
    """The predicates of `tokens` (a WHERE clause without the WHERE), or None if it is not a
    conjunction of `column op constant`, `column BETWEEN c AND c`, `column IN (c, ...)`."""
    reader = _Reader(tokens, columns, qualifiers)
    found: list[Predicate] = []
    while True:
        predicate = _predicate(reader)
        if predicate is None:
            return None
        found.append(predicate)
        if reader.at_end():
            return found
        if not reader.peek().is_word("AND"):
            return None
        reader.position += 1


def _predicate(reader: _Reader) -> Predicate | None:
    column = reader.column()
    if column is not None:
        t = reader.peek()
        if t is None:
            return None
        if t.is_op(*COMPARISONS):
            reader.position += 1
            operand = reader.operand()
            return None if operand is None else Predicate(column, "=" if t.text == "==" else t.text, (operand,))
        if t.is_word("BETWEEN"):
            reader.position += 1
            low = reader.operand()
            if low is None or reader.peek() is None or not reader.peek().is_word("AND"):
                return None
            reader.position += 1
            high = reader.operand()
            return None if high is None else Predicate(column, "between", (low, high))
        if t.is_word("IN") and reader.peek(1) is not None and reader.peek(1).is_op("("):
            close = matching_paren(reader.tokens, reader.position + 1)
            parts = split_top_level(reader.tokens[reader.position + 2:close])
            reader.position = close + 1
            if not parts or any(not p or reader._mentions_column(tuple(p)) for p in parts):
                return None
            return Predicate(column, "in", tuple(tuple(p) for p in parts))
        return None
    operand = reader.operand()
    t = reader.peek()
    if operand is None or t is None or not t.is_op(*COMPARISONS):
        return None
    reader.position += 1
    column = reader.column()
    if column is None:
        return None
    return Predicate(column, _MIRRORED[t.text], (operand,))
