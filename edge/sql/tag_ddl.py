"""Tag-table DDL in Machbase's dialect: CREATE TAG[DATA] TABLE and DROP TABLE.

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
"""

from __future__ import annotations

import dataclasses
import re

from edge.errors import NOT_SUPPORTED, SYNTAX_ERROR, EdgeError
from edge.store.schema import NUMERIC_TYPES, TYPES, ColumnSpec

# Machbase types a tag table here cannot hold, named so that the error can say so.
_UNSUPPORTED_TYPES = {"ushort", "uinteger", "ulong", "ipv6", "text", "binary", "blob", "clob", "json"}
_TYPE_ALIASES = {"int": "integer", "bigint": "long", "smallint": "short", "real": "float",
                 "char": "varchar", "timestamp": "datetime"}
_TOKEN = re.compile(r"""\s*(?:(?P<word>[A-Za-z_][A-Za-z0-9_$]*)|(?P<number>\d+)|(?P<quoted>'(?:[^']|'')*')"""
                    r"""|(?P<punct>[(),=;])|(?P<other>\S))""")
_DOCUMENTED = ("CREATE TAG TABLE name (name_col VARCHAR(n) PRIMARY KEY, time_col DATETIME BASETIME, "
               "value_col DOUBLE SUMMARIZED[, extra columns]) [METADATA (...)]")


@dataclasses.dataclass(frozen=True)
class CreateTagTable:
    name: str
    columns: tuple[ColumnSpec, ...]
    metadata: tuple[ColumnSpec, ...]
    if_not_exists: bool = False


@dataclasses.dataclass(frozen=True)
class DropTable:
    name: str


def is_tag_ddl(statement: str) -> bool:
    """Whether `statement` is one this module handles (CREATE TAG[DATA] TABLE, DROP TABLE)."""
    words = re.findall(r"[A-Za-z_]+", statement[:64])[:3]
    upper = [w.upper() for w in words]
    return upper[:1] == ["DROP"] or upper[:2] in (["CREATE", "TAG"], ["CREATE", "TAGDATA"])


def parse_tag_ddl(statement: str) -> CreateTagTable | DropTable:
    """The statement as a value; EdgeError (SYNTAX_ERROR) saying where it went wrong, or
    NOT_SUPPORTED for a statement that is not tag-table DDL."""
    if isinstance(statement, str) and statement.strip() and not is_tag_ddl(statement):
        words = [w.upper() for w in re.findall(r"[A-Za-z_]+", statement[:64])[:2]]
        what = " ".join(words if words[:1] == ["CREATE"] else words[:1]) or repr(statement.strip()[:20])
        raise EdgeError(NOT_SUPPORTED, f"{what} statements are not supported here: expected {_DOCUMENTED} "
                                       f"or DROP TABLE name")
    tokens = _Tokens(statement)
    if tokens.word() == "DROP":
        tokens.expect_word("TABLE")
        name = tokens.identifier("table name")
        tokens.end()
        return DropTable(name)
    tokens.word()  # TAG or TAGDATA, as is_tag_ddl saw
    tokens.expect_word("TABLE")
    if_not_exists = False
    if tokens.peek_word() == "IF":
        tokens.word()
        tokens.expect_word("NOT")
        tokens.expect_word("EXISTS")
        if_not_exists = True
    name = tokens.identifier("table name")
    columns = _column_list(tokens, metadata=False)
    metadata: tuple[ColumnSpec, ...] = ()
    while not tokens.at_end():
        word = tokens.word()
        if word == "METADATA" and not metadata:
            metadata = _column_list(tokens, metadata=True)
        elif word == "WITH":
            _rollup_clause(tokens)
        else:
            _property(tokens, word)
    return CreateTagTable(name, _assign_roles(columns), metadata, if_not_exists)


def execute_tag_ddl(store, statement: str) -> str:
    """Runs a tag-table DDL statement against the store; returns what was done, for the log."""
    parsed = parse_tag_ddl(statement)
    if isinstance(parsed, DropTable):
        store.drop_table(parsed.name)
        return f"dropped table {parsed.name}"
    if parsed.if_not_exists and parsed.name.upper() in {n.upper() for n in store.table_names()}:
        return f"table {parsed.name} exists already"
    store.create_table(parsed.name, list(parsed.columns), list(parsed.metadata))
    return f"created tag table {parsed.name}"


# Parsing ------------------------------------------------------------------------------------

@dataclasses.dataclass
class _Column:
    name: str
    type: str
    length: int
    flags: set


def _column_list(tokens: "_Tokens", metadata: bool) -> tuple:
    tokens.expect("(")
    columns = []
    while True:
        columns.append(_column(tokens, metadata))
        if tokens.accept(")"):
            break
        tokens.expect(",")
    if metadata:
        return tuple(ColumnSpec(c.name, c.type, c.length, "metadata") for c in columns)
    return tuple(columns)


def _column(tokens: "_Tokens", metadata: bool) -> _Column:
    name = tokens.identifier("column name")
    type_word = tokens.word().lower()
    type_name = _TYPE_ALIASES.get(type_word, type_word)
    if type_name in _UNSUPPORTED_TYPES:
        raise EdgeError(NOT_SUPPORTED, f"Column {name}: type {type_word.upper()} is not supported in tag tables; "
                                       f"use one of {', '.join(t.upper() for t in TYPES)}")
    if type_name not in TYPES:
        raise EdgeError(SYNTAX_ERROR, f"Column {name}: unknown type {type_word.upper()}")
    length = 0
    if tokens.accept("("):
        if type_name != "varchar":
            raise EdgeError(SYNTAX_ERROR, f"Column {name}: only VARCHAR takes a length")
        length = tokens.number("VARCHAR length")
        tokens.expect(")")
    elif type_name == "varchar":
        raise EdgeError(SYNTAX_ERROR, f"Column {name}: VARCHAR needs a length, e.g. VARCHAR(20)")
    flags = set()
    while tokens.peek_word() in ("PRIMARY", "BASETIME", "SUMMARIZED", "NOT", "NULL"):
        word = tokens.word()
        if word == "PRIMARY":
            tokens.expect_word("KEY")
            flags.add("PRIMARY KEY")
        elif word == "NOT":
            tokens.expect_word("NULL")
        elif word != "NULL":
            flags.add(word)
    if metadata and flags:
        raise EdgeError(SYNTAX_ERROR, f"Metadata column {name} cannot be {' or '.join(sorted(flags))}")
    return _Column(name, type_name, length, flags)


def _assign_roles(columns: tuple[_Column, ...]) -> tuple[ColumnSpec, ...]:
    def only(flag: str, what: str) -> _Column | None:
        marked = [c for c in columns if flag in c.flags]
        if len(marked) > 1:
            raise EdgeError(SYNTAX_ERROR, f"Only one column can be {flag}: {', '.join(c.name for c in marked)}")
        if not marked and what:
            raise EdgeError(SYNTAX_ERROR, f"A tag table needs a {what} column marked {flag}: {_DOCUMENTED}")
        return marked[0] if marked else None

    name = only("PRIMARY KEY", "tag name")
    time = only("BASETIME", "time")
    value = only("SUMMARIZED", "")
    if value is None:
        value = next((c for c in columns if c is not name and c is not time and c.type in NUMERIC_TYPES), None)
        if value is None:
            raise EdgeError(SYNTAX_ERROR, f"A tag table needs a numeric value column marked SUMMARIZED: {_DOCUMENTED}")
    for column, role, wanted in ((name, "PRIMARY KEY", "varchar"), (time, "BASETIME", "datetime")):
        if column.type != wanted:
            raise EdgeError(SYNTAX_ERROR, f"The {role} column {column.name} must be {wanted.upper()}")
    if value.type not in NUMERIC_TYPES:
        raise EdgeError(SYNTAX_ERROR, f"The SUMMARIZED column {value.name} must be numeric")
    roles = {id(name): "name", id(time): "time", id(value): "value"}
    return tuple(ColumnSpec(c.name, c.type, c.length, roles.get(id(c), "extra")) for c in columns)


def _rollup_clause(tokens: "_Tokens") -> None:
    tokens.expect_word("ROLLUP")
    if tokens.accept("("):
        level = tokens.word()
        if level not in ("SEC", "MIN", "HOUR"):
            raise EdgeError(SYNTAX_ERROR, f"WITH ROLLUP takes SEC, MIN or HOUR, got {level}")
        tokens.expect(")")
    if tokens.peek_word() == "EXTENSION":
        tokens.word()


def _property(tokens: "_Tokens", word: str) -> None:
    # Table properties (TAG_PARTITION_COUNT = 4, ...): tuning knobs of Machbase's own files.
    if not tokens.accept("="):
        raise EdgeError(SYNTAX_ERROR, f"Unexpected {word} after the column list")
    tokens.value(f"value of {word}")
    tokens.accept(",")


class _Tokens:
    """The statement's tokens with the little cursor API the grammar above needs."""

    def __init__(self, text: str):
        if not isinstance(text, str) or not text.strip():
            raise EdgeError(SYNTAX_ERROR, "The statement is empty")
        self.text = text
        self.items: list[tuple[str, str]] = []
        for match in _TOKEN.finditer(text.rstrip().rstrip(";")):
            kind = match.lastgroup
            if kind == "other":
                raise EdgeError(SYNTAX_ERROR, f"Unexpected character {match.group(kind)!r} at offset {match.start(kind)}")
            self.items.append((kind, match.group(kind)))
        self.position = 0

    def _next(self, what: str) -> tuple[str, str]:
        if self.position >= len(self.items):
            raise EdgeError(SYNTAX_ERROR, f"The statement ends where {what} was expected")
        item = self.items[self.position]
        self.position += 1
        return item

    def at_end(self) -> bool:
        return self.position >= len(self.items)

    def end(self) -> None:
        if not self.at_end():
            raise EdgeError(SYNTAX_ERROR, f"Unexpected {self.items[self.position][1]!r} at the end of the statement")

    def peek_word(self) -> str | None:
        if self.at_end() or self.items[self.position][0] != "word":
            return None
        return self.items[self.position][1].upper()

    def word(self) -> str:
        kind, text = self._next("a keyword")
        if kind != "word":
            raise EdgeError(SYNTAX_ERROR, f"Expected a keyword, got {text!r}")
        return text.upper()

    def expect_word(self, wanted: str) -> None:
        kind, text = self._next(wanted)
        if kind != "word" or text.upper() != wanted:
            raise EdgeError(SYNTAX_ERROR, f"Expected {wanted}, got {text!r}")

    def identifier(self, what: str) -> str:
        kind, text = self._next(what)
        if kind != "word":
            raise EdgeError(SYNTAX_ERROR, f"Expected a {what}, got {text!r}")
        return text.upper()

    def number(self, what: str) -> int:
        kind, text = self._next(what)
        if kind != "number":
            raise EdgeError(SYNTAX_ERROR, f"Expected a {what}, got {text!r}")
        return int(text)

    def value(self, what: str) -> str:
        kind, text = self._next(what)
        if kind == "punct":
            raise EdgeError(SYNTAX_ERROR, f"Expected a {what}, got {text!r}")
        return text

    def expect(self, punct: str) -> None:
        kind, text = self._next(repr(punct))
        if text != punct:
            raise EdgeError(SYNTAX_ERROR, f"Expected {punct!r}, got {text!r}")

    def accept(self, punct: str) -> bool:
        if not self.at_end() and self.items[self.position] == ("punct", punct):
            self.position += 1
            return True
        return False
