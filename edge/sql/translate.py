"""Machbase's SQL dialect to SQLite's, by editing the statement's text at token boundaries.

  - `"text"` is a string literal in Machbase: it becomes `'text'`.
  - A string compared with, or inserted into, a datetime column is a time in Machbase
    (`time > '2020-01-01 00:00:00'`, `insert into t values ("a", "1999-01-01 00:00:00", 0)`):
    it becomes `TO_DATE('...')`, int64 ns like every stored time. So does each string of a
    `BETWEEN` or `IN` on a datetime column, and `SET col = '...'`.
  - `SYSDATE` and `NOW` without parentheses are calls.
  - `TO_CHAR(datetime)` without a format prints in the default format.
Which columns hold datetimes comes from the tables the statement names (`edge.sql.tables`).
"""

from __future__ import annotations

import functools

from edge.time.dateformat import DEFAULT_FORMAT
from edge.sql.lexer import IDENT, STRING, WORD, Edits, Token, matching_paren, split_top_level, sql_string
from edge.sql.select_list import SelectItem, expression_type, select_items
from edge.sql.tables import SqlTable, Tables
from edge.sql.types import MachType

COMPARISONS = ("=", "==", "!=", "<>", "<", "<=", ">", ">=")


class Statement:
    """A tokenized statement with the tables it names; `sqlite()` is its SQLite text."""

    def __init__(self, text: str, tokens: list[Token], tables: Tables):
        self.text = text
        self.tokens = tokens
        self.tables = tables
        words = {t.value.upper() for t in tokens if t.kind in (WORD, IDENT)}
        self.referenced: list[SqlTable] = tables.referenced(words)
        self.datetime_columns = set().union(*(t.datetime_columns() for t in self.referenced))
        self.all_columns = {name for t in self.referenced for name, _ in t.columns}
        self._edits: Edits | None = None

    def column_type(self, name: str) -> MachType | None:
        """The type of a column of the named tables (the first table that has it)."""
        for table in self.referenced:
            found = table.column_type(name)
            if found is not None:
                return found
        return None

    @functools.cached_property
    def select_list(self) -> list[SelectItem] | None:
        """The outer SELECT's items (None if there is no select list), read once for the
        direct path and for naming SQLite's result columns."""
        return select_items(self.tokens)

    def sqlite(self, start: int = 0, end: int | None = None) -> str:
        """The statement in SQLite's dialect, or the translation of the span [start, end)."""
        return self.edits().apply(start, end)

    def edits(self) -> Edits:
        if self._edits is None:
            self._edits = self._build_edits()
        return self._edits

    def _build_edits(self) -> Edits:
        edits = Edits(self.text)
        tokens = self.tokens
        for token in tokens:
            if token.kind == STRING and token.text.startswith('"'):
                edits.replace(token, sql_string(token.value))
        self._time_literals(edits)
        self._insert_values(edits)
        for i, token in enumerate(tokens):
            if token.is_word("SYSDATE", "NOW") and token.value not in self.all_columns \
                    and not _followed_by(tokens, i, "(") and not (i and tokens[i - 1].is_op(".")):
                edits.insert_after(token, "()")
            elif token.is_word("TO_CHAR") and _followed_by(tokens, i, "("):
                close = matching_paren(tokens, i + 1)
                args = split_top_level(tokens[i + 2:close]) if close > i + 2 else []
                if len(args) == 1 and args[0] and \
                        getattr(expression_type(args[0], self.column_type), "name", None) == "datetime":
                    edits.insert_before(tokens[close], ", " + sql_string(DEFAULT_FORMAT))
        return edits

    # Times written as strings ------------------------------------------------------------------

    def _datetime_reference_end(self, i: int) -> int | None:
        """If a column reference naming a datetime column starts at token i, its last index."""
        tokens = self.tokens
        if i >= len(tokens) or tokens[i].kind not in (WORD, IDENT):
            return None
        if i + 2 < len(tokens) and tokens[i + 1].is_op(".") and tokens[i + 2].kind in (WORD, IDENT):
            i += 2
        if tokens[i].value.upper() not in self.datetime_columns or _followed_by(tokens, i, "(", "."):
            return None
        return i

    def _time_literals(self, edits: Edits) -> None:
        tokens = self.tokens
        n = len(tokens)
        for i in range(n):
            end = self._datetime_reference_end(i)
            if end is not None and not (i and tokens[i - 1].is_op(".")):
                j = end + 1
                if j + 1 < n and tokens[j].is_op(*COMPARISONS):
                    _as_time(edits, tokens[j + 1])
                    continue
                if j < n and tokens[j].is_word("NOT"):
                    j += 1
                if j + 3 < n and tokens[j].is_word("BETWEEN") and tokens[j + 2].is_word("AND"):
                    _as_time(edits, tokens[j + 1])
                    _as_time(edits, tokens[j + 3])
                elif j + 1 < n and tokens[j].is_word("IN") and tokens[j + 1].is_op("("):
                    close = matching_paren(tokens, j + 1)
                    for part in split_top_level(tokens[j + 2:close]):
                        if len(part) == 1:
                            _as_time(edits, part[0])
            elif tokens[i].kind == STRING and i + 2 < n and tokens[i + 1].is_op(*COMPARISONS) \
                    and self._datetime_reference_end(i + 2) is not None:
                _as_time(edits, tokens[i])

    def _insert_values(self, edits: Edits) -> None:
        """`INSERT INTO t [(cols)] VALUES (...), ...`: strings bound for datetime columns."""
        tokens = self.tokens
        if not tokens or not tokens[0].is_word("INSERT"):
            return
        into = next((i for i, t in enumerate(tokens[:6]) if t.is_word("INTO")), None)
        if into is None or into + 1 >= len(tokens):
            return
        position = into + 1
        if position + 2 < len(tokens) and tokens[position + 1].is_op("."):
            position += 2
        table = self.tables.get(tokens[position].value)
        if table is None:
            return
        position += 1
        names = [name for name, _ in table.columns]
        if position < len(tokens) and tokens[position].is_op("("):
            close = matching_paren(tokens, position)
            names = [part[0].value.upper() for part in split_top_level(tokens[position + 1:close]) if part]
            position = close + 1
        if position >= len(tokens) or not tokens[position].is_word("VALUES"):
            return
        kinds = [table.column_type(name) for name in names]
        position += 1
        while position < len(tokens) and tokens[position].is_op("("):
            close = matching_paren(tokens, position)
            for kind, part in zip(kinds, split_top_level(tokens[position + 1:close])):
                if kind is not None and kind.name == "datetime" and len(part) == 1:
                    _as_time(edits, part[0])
            position = close + 1
            if position < len(tokens) and tokens[position].is_op(","):
                position += 1


def _followed_by(tokens: list[Token], i: int, *ops: str) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1].is_op(*ops)


def _as_time(edits: Edits, token: Token) -> None:
    """A string literal standing for a time: TO_DATE('...'), or the integer it spells (ns)."""
    if token.kind != STRING:
        return
    text = token.value.strip()
    if text.lstrip("-").isdigit() and len(text) <= 20:  # longer: TO_DATE refuses it in plain words
        edits.replace(token, str(int(text)))
    else:
        edits.replace(token, f"TO_DATE({sql_string(token.value)})")
