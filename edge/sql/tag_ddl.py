"""Tag-table DDL in Machbase's dialect: CREATE TAG[DATA] TABLE and DROP TABLE.

    DROP TABLE [IF EXISTS] name

    CREATE TAG TABLE [IF NOT EXISTS] name (
        name_col VARCHAR(n) PRIMARY KEY,
        time_col DATETIME BASETIME,
        value_col DOUBLE SUMMARIZED,
        extra_col TYPE[(n)], ...
    ) [METADATA (meta_col TYPE[(n)], ...)] [WITH ROLLUP [(SEC|MIN|HOUR)] [EXTENSION]]
      [PROPERTY = value, ...]

`CREATE TAGDATA TABLE` (Machbase 5's spelling) is the same statement. Keywords and names are
case-insensitive (the store keeps names upper-case). Without SUMMARIZED the first numeric
column after the key columns is the value. WITH ROLLUP and table properties
(TAG_PARTITION_COUNT ...) are accepted and have no effect: this store always keeps sec, min and
hour rollups and sizes its files itself.

Anything else is refused with an error that says what is supported.

`plan` reads the lexer's tokens of one statement (`edge.sql.lexer.single_statement`) into a
plan, `CreateTagTable` or `DropTable`; the engine checks it against the other tables and runs
it with `run(store)`.
"""

from __future__ import annotations

import dataclasses

from edge.sql import errors
from edge.sql.lexer import IDENT, NUMBER, OP, WORD, Token
from edge.store.schema import NUMERIC_TYPES, TYPES, ColumnSpec

# Machbase types a tag table here cannot hold, named so that the error can say so.
_UNSUPPORTED_TYPES = {"ushort", "uinteger", "ulong", "ipv6", "text", "binary", "blob", "clob", "json"}
_TYPE_ALIASES = {"int": "integer", "bigint": "long", "smallint": "short", "real": "float",
                 "char": "varchar", "timestamp": "datetime"}
_DOCUMENTED = ("CREATE TAG TABLE name (name_col VARCHAR(n) PRIMARY KEY, time_col DATETIME BASETIME, "
               "value_col DOUBLE SUMMARIZED[, extra columns]) [METADATA (...)]")
_DROP_FORM = "DROP TABLE [IF EXISTS] name"


@dataclasses.dataclass(frozen=True)
class CreateTagTable:
    name: str
    columns: tuple[ColumnSpec, ...]
    metadata: tuple[ColumnSpec, ...]
    if_not_exists: bool = False

    def run(self, store) -> str:
        """Creates the table in the store; returns what was done, for the log."""
        if self.if_not_exists and self.name.upper() in {n.upper() for n in store.table_names()}:
            return f"table {self.name} exists already"
        store.create_table(self.name, list(self.columns), list(self.metadata))
        return f"created tag table {self.name}"


@dataclasses.dataclass(frozen=True)
class DropTable:
    """DROP TABLE of any table: the engine finds out which kind it names, and runs this plan
    only for a tag table."""
    name: str
    if_exists: bool = False

    def run(self, store) -> str:
        """Drops the tag table from the store; returns what was done, for the log."""
        store.drop_table(self.name)
        return f"dropped table {self.name}"


def is_tag_ddl(tokens: list[Token]) -> bool:
    """Whether the statement is one this module handles (CREATE TAG[DATA] TABLE, DROP TABLE)."""
    words = [t.value for t in tokens[:4] if t.kind == WORD][:2]
    return words[:1] == ["DROP"] or words in (["CREATE", "TAG"], ["CREATE", "TAGDATA"])


def plan(tokens: list[Token]) -> CreateTagTable | DropTable:
    """The statement as a plan; EdgeError (SYNTAX_ERROR) saying where it went wrong, or
    NOT_SUPPORTED for a statement that is not tag-table DDL."""
    if not is_tag_ddl(tokens):
        words = [t.value for t in tokens if t.kind == WORD][:2]
        what = " ".join(words if words[:1] == ["CREATE"] else words[:1]) or \
            repr(" ".join(t.text for t in tokens)[:20])
        raise errors.not_supported(f"{what} statements are not supported here: expected {_DOCUMENTED} "
                                   f"or DROP TABLE name")
    cursor = _Cursor(tokens)
    if cursor.word() == "DROP":
        return _drop_table(tokens)
    cursor.word()  # TAG or TAGDATA, as is_tag_ddl saw
    cursor.expect_word("TABLE")
    if_not_exists = False
    if cursor.peek_word() == "IF":
        cursor.word()
        cursor.expect_word("NOT")
        cursor.expect_word("EXISTS")
        if_not_exists = True
    name = cursor.identifier("table name")
    columns = _column_list(cursor, metadata=False)
    metadata: tuple[ColumnSpec, ...] = ()
    while not cursor.at_end():
        word = cursor.word()
        if word == "METADATA" and not metadata:
            metadata = _column_list(cursor, metadata=True)
        elif word == "WITH":
            _rollup_clause(cursor)
        else:
            _property(cursor, word)
    return CreateTagTable(name, _assign_roles(columns), metadata, if_not_exists)


# Parsing ------------------------------------------------------------------------------------

def _drop_table(tokens: list[Token]) -> DropTable:
    if_exists = len(tokens) > 4 and tokens[2].is_word("IF") and tokens[3].is_word("EXISTS")
    at = 4 if if_exists else 2
    if len(tokens) < 2 or not tokens[1].is_word("TABLE"):
        wrong = tokens[1] if len(tokens) > 1 else None
    elif at >= len(tokens):
        wrong = None
    elif tokens[at].kind not in (WORD, IDENT):
        wrong = tokens[at]
    elif at + 1 < len(tokens):
        wrong = tokens[at + 1]
    else:
        return DropTable(tokens[at].value.upper(), if_exists)
    raise errors.syntax(f"Expected {_DROP_FORM}" + ("" if wrong is None else f", got {wrong.text!r}"))


@dataclasses.dataclass
class _Column:
    name: str
    type: str
    length: int
    flags: set


def _column_list(cursor: _Cursor, metadata: bool) -> tuple:
    cursor.expect("(")
    columns = []
    while True:
        columns.append(_column(cursor, metadata))
        if cursor.accept(")"):
            break
        cursor.expect(",")
    if metadata:
        return tuple(ColumnSpec(c.name, c.type, c.length, "metadata") for c in columns)
    return tuple(columns)


def _column(cursor: _Cursor, metadata: bool) -> _Column:
    name = cursor.identifier("column name")
    type_word = cursor.word().lower()
    type_name = _TYPE_ALIASES.get(type_word, type_word)
    if type_name in _UNSUPPORTED_TYPES:
        raise errors.not_supported(f"Column {name}: type {type_word.upper()} is not supported in tag tables; "
                                   f"use one of {', '.join(t.upper() for t in TYPES)}")
    if type_name not in TYPES:
        raise errors.syntax(f"Column {name}: unknown type {type_word.upper()}")
    length = 0
    if cursor.accept("("):
        if type_name != "varchar":
            raise errors.syntax(f"Column {name}: only VARCHAR takes a length")
        length = cursor.number("VARCHAR length")
        cursor.expect(")")
    elif type_name == "varchar":
        raise errors.syntax(f"Column {name}: VARCHAR needs a length, e.g. VARCHAR(20)")
    flags = set()
    while cursor.peek_word() in ("PRIMARY", "BASETIME", "SUMMARIZED", "NOT", "NULL"):
        word = cursor.word()
        if word == "PRIMARY":
            cursor.expect_word("KEY")
            flags.add("PRIMARY KEY")
        elif word == "NOT":
            cursor.expect_word("NULL")
        elif word != "NULL":
            flags.add(word)
    if metadata and flags:
        raise errors.syntax(f"Metadata column {name} cannot be {' or '.join(sorted(flags))}")
    return _Column(name, type_name, length, flags)


def _assign_roles(columns: tuple[_Column, ...]) -> tuple[ColumnSpec, ...]:
    def only(flag: str, what: str) -> _Column | None:
        marked = [c for c in columns if flag in c.flags]
        if len(marked) > 1:
            raise errors.syntax(f"Only one column can be {flag}: {', '.join(c.name for c in marked)}")
        if not marked and what:
            raise errors.syntax(f"A tag table needs a {what} column marked {flag}: {_DOCUMENTED}")
        return marked[0] if marked else None

    name = only("PRIMARY KEY", "tag name")
    time = only("BASETIME", "time")
    value = only("SUMMARIZED", "")
    if value is None:
        value = next((c for c in columns if c is not name and c is not time and c.type in NUMERIC_TYPES), None)
        if value is None:
            raise errors.syntax(f"A tag table needs a numeric value column marked SUMMARIZED: {_DOCUMENTED}")
    for column, role, wanted in ((name, "PRIMARY KEY", "varchar"), (time, "BASETIME", "datetime")):
        if column.type != wanted:
            raise errors.syntax(f"The {role} column {column.name} must be {wanted.upper()}")
    if value.type not in NUMERIC_TYPES:
        raise errors.syntax(f"The SUMMARIZED column {value.name} must be numeric")
    roles = {id(name): "name", id(time): "time", id(value): "value"}
    return tuple(ColumnSpec(c.name, c.type, c.length, roles.get(id(c), "extra")) for c in columns)


def _rollup_clause(cursor: _Cursor) -> None:
    cursor.expect_word("ROLLUP")
    if cursor.accept("("):
        level = cursor.word()
        if level not in ("SEC", "MIN", "HOUR"):
            raise errors.syntax(f"WITH ROLLUP takes SEC, MIN or HOUR, got {level}")
        cursor.expect(")")
    if cursor.peek_word() == "EXTENSION":
        cursor.word()


def _property(cursor: _Cursor, word: str) -> None:
    # Table properties (TAG_PARTITION_COUNT = 4, ...): tuning knobs of Machbase's own files.
    if not cursor.accept("="):
        raise errors.syntax(f"Unexpected {word} after the column list")
    cursor.value(f"value of {word}")
    cursor.accept(",")


class _Cursor:
    """A cursor over the statement's tokens with the little API the grammar above needs."""

    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.position = 0

    def _next(self, what: str) -> Token:
        if self.position >= len(self.tokens):
            raise errors.syntax(f"The statement ends where {what} was expected")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def at_end(self) -> bool:
        return self.position >= len(self.tokens)

    def peek_word(self) -> str | None:
        if self.at_end() or self.tokens[self.position].kind != WORD:
            return None
        return self.tokens[self.position].value

    def word(self) -> str:
        token = self._next("a keyword")
        if token.kind != WORD:
            raise errors.syntax(f"Expected a keyword, got {token.text!r}")
        return token.value

    def expect_word(self, wanted: str) -> None:
        token = self._next(wanted)
        if not token.is_word(wanted):
            raise errors.syntax(f"Expected {wanted}, got {token.text!r}")

    def identifier(self, what: str) -> str:
        token = self._next(what)
        if token.kind != WORD:
            raise errors.syntax(f"Expected a {what}, got {token.text!r}")
        return token.value

    def number(self, what: str) -> int:
        token = self._next(what)
        if token.kind != NUMBER or not token.text.isdigit():
            raise errors.syntax(f"Expected a {what}, got {token.text!r}")
        if len(token.text) > 18:
            raise errors.syntax(f"The {what} {token.text[:18]}... is far too large")
        return int(token.text)

    def value(self, what: str) -> str:
        token = self._next(what)
        if token.kind == OP:
            raise errors.syntax(f"Expected a {what}, got {token.text!r}")
        return token.text

    def expect(self, punct: str) -> None:
        token = self._next(repr(punct))
        if not token.is_op(punct):
            raise errors.syntax(f"Expected {punct!r}, got {token.text!r}")

    def accept(self, punct: str) -> bool:
        if not self.at_end() and self.tokens[self.position].is_op(punct):
            self.position += 1
            return True
        return False
