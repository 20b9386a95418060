"""A stream's query as text: its `:name` bind parameters, what kind of statement it is, its LIMIT.

The query names state fields as `:column` (FactoryTX's style). Each driver wants its own
placeholders, so the text is scanned once, outside string literals, quoted identifiers,
comments and PostgreSQL dollar quotes, and a `:name` there (not the second colon of a `::`
cast, nor `:=`) becomes the driver's placeholder, the value passed apart: a value never
becomes SQL text.
"""

from __future__ import annotations

import dataclasses
import re

POSTGRESQL, MYSQL, SQLITE = "postgresql", "mysql", "sqlite"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_LIMIT = re.compile(r"\blimit\s+(\d+)(\s+offset\s+\d+)?\s*$", re.IGNORECASE)
# Words that make a statement write (a SELECT ... INTO, a data-modifying CTE, FOR UPDATE locks):
# refused by validation; the read-only transaction the receiver runs in refuses them anyway.
_WRITING = {"insert", "update", "delete", "merge", "into", "create", "drop", "alter", "truncate", "grant",
            "revoke", "copy", "vacuum", "attach"}


class QueryTextError(ValueError):
    """The query cannot be scanned (an unterminated literal or comment)."""


@dataclasses.dataclass(frozen=True)
class Parameter:
    name: str
    start: int  # index of the ':'
    end: int  # index after the name


@dataclasses.dataclass(frozen=True)
class QueryText:
    text: str  # the query without a trailing ';'
    parameters: tuple[Parameter, ...]
    code: str  # the text with literals, quoted names and comments blanked out (same length)
    semicolons: tuple[int, ...]  # positions of ';' outside literals (statement separators)

    @property
    def names(self) -> list[str]:
        """The parameter names in order of first use."""
        return list(dict.fromkeys(p.name for p in self.parameters))

    def for_driver(self, dialect: str, values: dict[str, object]) -> tuple[str, list[object]]:
        """The text with the driver's placeholders and the values in their order: `$n` for
        pg8000 (one per name), `%s` for PyMySQL (every other '%' doubled), `?` for sqlite3."""
        parts: list[str] = []
        args: list[object] = []
        numbers: dict[str, int] = {}
        at = 0
        for parameter in self.parameters:
            parts.append(self._plain(dialect, self.text[at:parameter.start]))
            if dialect == POSTGRESQL:
                if parameter.name not in numbers:
                    args.append(values[parameter.name])
                    numbers[parameter.name] = len(args)
                parts.append(f"${numbers[parameter.name]}")
            else:
                args.append(values[parameter.name])
                parts.append("%s" if dialect == MYSQL else "?")
            at = parameter.end
        parts.append(self._plain(dialect, self.text[at:]))
        return "".join(parts), args

    @staticmethod
    def _plain(dialect: str, text: str) -> str:
        return text.replace("%", "%%") if dialect == MYSQL else text

    def statement_problem(self) -> str | None:
        """Why the text is not exactly one SELECT (a WITH ... SELECT is one), or None."""
        if self.semicolons:
            return "the query must be one statement: remove the ';' and what follows"
        words = [(m.group().lower(), self._depth_at(m.start())) for m in _WORD.finditer(self.code)]
        if not words:
            return "the query is empty"
        first = words[0][0]
        if first not in ("select", "with"):
            return f"the query must be a SELECT (or WITH ... SELECT), not {first.upper()}"
        top = [word for word, depth in words if depth == 0]
        writing = next((w for w, _ in words if w in _WRITING), None)
        if writing is not None:
            return f"the query must only read: {writing.upper()} is not allowed"
        if first == "with" and "select" not in top:
            return "a WITH query must end in a SELECT"
        return None

    def _depth_at(self, index: int) -> int:
        prefix = self.code[:index]
        return prefix.count("(") - prefix.count(")")

    @property
    def limit(self) -> int | None:
        """The row limit of the query's last clause (`LIMIT n`), if it ends in one: a result
        that long is a full page, and there may be more."""
        match = _LIMIT.search(self.code.rstrip())
        return int(match.group(1)) if match else None


def scan(text: str, dialect: str = POSTGRESQL) -> QueryText:
    """Scans `text` in `dialect`'s lexical rules (backslash escapes in MySQL's strings,
    dollar quotes in PostgreSQL's, backquoted names in MySQL's and SQLite's)."""
    code = list(text)
    parameters: list[Parameter] = []
    semicolons: list[int] = []
    i, n = 0, len(text)

    def blank(start: int, end: int) -> None:
        for k in range(start, end):
            if code[k] not in "\n":
                code[k] = " "

    while i < n:
        ch = text[i]
        if ch in "'\"`":
            end = _quoted_end(text, i, ch, backslash=(dialect == MYSQL and ch != "`")
                              or (ch == "'" and dialect == POSTGRESQL and i > 0 and text[i - 1] in "eE"))
            blank(i, end)
            i = end
        elif text.startswith("--", i) or (ch == "#" and dialect == MYSQL):
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise QueryTextError("the query has a /* comment without its */")
            blank(i, end + 2)
            i = end + 2
        elif ch == "$" and dialect == POSTGRESQL and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            tag = _DOLLAR_TAG.match(text, i)
            if tag is None:
                i += 1
                continue
            close = text.find(tag.group(), tag.end())
            if close < 0:
                raise QueryTextError(f"the query has a {tag.group()} quote without its end")
            blank(i, close + len(tag.group()))
            i = close + len(tag.group())
        elif ch == ":":
            if text.startswith("::", i):
                i += 2
                continue
            name = _NAME.match(text, i + 1)
            if name is not None and (i == 0 or text[i - 1] != ":"):
                parameters.append(Parameter(name.group(), i, name.end()))
                i = name.end()
            else:
                i += 1
        elif ch == ";":
            semicolons.append(i)
            i += 1
        else:
            i += 1
    code_text = "".join(code)
    # A trailing ';' (and blanks or comments after it) is not a second statement.
    if semicolons and not code_text[semicolons[-1] + 1:].strip():
        cut = semicolons.pop()
        text, code_text = text[:cut], code_text[:cut]
    return QueryText(text, tuple(parameters), code_text, tuple(semicolons))


def _quoted_end(text: str, start: int, quote: str, backslash: bool) -> int:
    """The index after the literal or quoted name opening at `start`; a doubled quote inside
    is one quote character."""
    i = start + 1
    while i < len(text):
        ch = text[i]
        if backslash and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if text.startswith(quote * 2, i):
                i += 2
                continue
            return i + 1
        i += 1
    what = "identifier" if quote in '"`' else "string literal"
    raise QueryTextError(f"the query has a quoted {what} without its closing {quote}")
