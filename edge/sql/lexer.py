"""Tokens of a Machbase SQL statement, each with its place in the text.

Machbase takes string literals in single or double quotes (`insert into t values ("a", 1)`),
so a double-quoted token is a string here, not an identifier as in SQLite. Tokens keep their
spans: the translator edits the original text in place, so that SQLite names an unaliased
result column by the expression as the client wrote it.
"""

from __future__ import annotations

import dataclasses
import math
import re

from edge.sql import errors

WORD, STRING, NUMBER, BLOB, PARAM, OP, IDENT = "word", "string", "number", "blob", "param", "op", "ident"

_PATTERN = re.compile(r"""
    (?P<space>\s+|--[^\n]*|/\*.*?\*/)
  | (?P<blob>[xX]'[0-9A-Fa-f]*')
  | (?P<word>[^\W\d][\w$]*)
  | (?P<number>0[xX][0-9A-Fa-f]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<single>'(?:[^']|'')*')
  | (?P<double>"(?:[^"]|"")*")
  | (?P<ident>`(?:[^`]|``)*`|\[[^\]]*\])
  | (?P<param>\?\d*|[:@$][\w]+)
  | (?P<op>\|\||->>|->|<=|>=|<>|!=|==|<<|>>|[-+*/%(),.;=<>&|~])
""", re.VERBOSE | re.DOTALL)


@dataclasses.dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str       # as written
    start: int
    end: int
    value: str      # WORD: upper-case; STRING/IDENT: the decoded text; others: the text

    def is_word(self, *words: str) -> bool:
        return self.kind == WORD and self.value in words

    def is_op(self, *ops: str) -> bool:
        return self.kind == OP and self.text in ops


def tokenize(text: str) -> list[Token]:
    """The statement's tokens (comments and spaces dropped); EdgeError where one cannot start."""
    tokens: list[Token] = []
    position = 0
    length = len(text)
    while position < length:
        match = _PATTERN.match(text, position)
        if match is None:
            snippet = text[position:position + 20]
            if text[position] in "'\"":
                raise errors.syntax(f"Unterminated string starting at offset {position}: {snippet!r}")
            if text.startswith("/*", position):
                raise errors.syntax(f"Unterminated comment starting at offset {position}")
            raise errors.syntax(f"Unexpected character {text[position]!r} at offset {position}")
        kind = match.lastgroup
        raw = match.group(kind)
        position = match.end()
        if kind == "space":
            continue
        if kind == "word":
            tokens.append(Token(WORD, raw, match.start(), position, raw.upper()))
        elif kind == "single":
            tokens.append(Token(STRING, raw, match.start(), position, raw[1:-1].replace("''", "'")))
        elif kind == "double":
            tokens.append(Token(STRING, raw, match.start(), position, raw[1:-1].replace('""', '"')))
        elif kind == "ident":
            inner = raw[1:-1].replace("``", "`") if raw[0] == "`" else raw[1:-1]
            tokens.append(Token(IDENT, raw, match.start(), position, inner))
        else:
            if kind == "number":
                check_number(raw, negated=bool(tokens) and tokens[-1].is_op("-"))
            tokens.append(Token({"blob": BLOB, "number": NUMBER, "param": PARAM, "op": OP}[kind],
                                raw, match.start(), position, raw))
    return tokens


_INT64_MAX_DIGITS = str(2**63 - 1)


def check_number(text: str, negated: bool) -> None:
    """EdgeError for a literal SQLite would take as another number than written: an integer
    beyond 64 bits (kept rounded, as a double) or a number beyond a double's range (infinity,
    which a table keeps as null). Hex literals SQLite checks itself."""
    if text[:2] in ("0x", "0X"):
        return
    if text.isdigit():
        digits = text.lstrip("0")
        limit = _INT64_MAX_DIGITS if not negated else str(2**63)
        # Compared as text: int() of thousands of digits is slow, or refused.
        if len(digits) > len(limit) or len(digits) == len(limit) and digits > limit:
            raise errors.number_out_of_range(text, "integers are 64-bit (-9223372036854775808 to "
                                                   "9223372036854775807); write a larger number as a double "
                                                   "with a decimal point or an exponent (1.5e30)")
    elif math.isinf(float(text)):
        raise errors.number_out_of_range(text, "numbers are 64-bit doubles (at most about 1.8e308 in size)")


def single_statement(tokens: list[Token]) -> list[Token]:
    """The tokens without a trailing `;`; EdgeError if there is more than one statement."""
    while tokens and tokens[-1].is_op(";"):
        tokens = tokens[:-1]
    for token in tokens:
        if token.is_op(";"):
            raise errors.syntax("Give one statement per request (found a ';' inside the text)")
    if not tokens:
        raise errors.syntax("The statement is empty")
    return tokens


def sql_string(value: str) -> str:
    """An SQLite string literal holding `value`."""
    return "'" + value.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def matching_paren(tokens: list[Token], open_index: int) -> int:
    """Index of the `)` closing the `(` at `open_index`; EdgeError if it is never closed."""
    depth = 0
    for i in range(open_index, len(tokens)):
        if tokens[i].is_op("("):
            depth += 1
        elif tokens[i].is_op(")"):
            depth -= 1
            if depth == 0:
                return i
    raise errors.syntax("A '(' is never closed")


def split_top_level(tokens: list[Token], separator: str = ",") -> list[list[Token]]:
    """`tokens` cut at `separator` where it is outside any parentheses."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.is_op("("):
            depth += 1
        elif token.is_op(")"):
            depth -= 1
        if depth == 0 and token.is_op(separator):
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def next_top_level(tokens: list[Token], words: tuple[str, ...], start: int = 0) -> int:
    """Index of the first of the keywords `words` at or after `start` that stands outside any
    parentheses opened from `start` on; len(tokens) if there is none."""
    depth = 0
    for i in range(start, len(tokens)):
        token = tokens[i]
        if token.is_op("("):
            depth += 1
        elif token.is_op(")"):
            depth -= 1
        elif depth == 0 and token.kind == WORD and token.value in words:
            return i
    return len(tokens)


def top_level_positions(tokens: list[Token], *words: str) -> list[int]:
    """Indices of the keywords `words` that stand outside any parentheses."""
    found = []
    position = next_top_level(tokens, words)
    while position < len(tokens):
        found.append(position)
        position = next_top_level(tokens, words, position + 1)
    return found


class Edits:
    """Changes to the original text at token boundaries, applied in one pass: a token may be
    replaced (the last replacement wins) and text inserted before or after a token."""

    def __init__(self, text: str):
        self.text = text
        self._replace: dict[int, tuple[int, str]] = {}
        self._before: dict[int, list[str]] = {}
        self._after: dict[int, list[str]] = {}

    def replace(self, token: Token, replacement: str) -> None:
        self._replace[token.start] = (token.end, replacement)

    def insert_before(self, token: Token, text: str) -> None:
        self._before.setdefault(token.start, []).append(text)

    def insert_after(self, token: Token, text: str) -> None:
        self._after.setdefault(token.end, []).append(text)

    def apply(self, start: int = 0, end: int | None = None) -> str:
        """The edited text, or the edited text of the span [start, end) of the original."""
        end = len(self.text) if end is None else end
        out = []
        position = start
        points = sorted(p for p in set(self._replace) | set(self._before) | set(self._after) if start <= p <= end)
        for point in points:
            out.append(self.text[position:point])
            position = point
            if point > start:
                out.extend(self._after.get(point, ()))  # belongs to a token ending here
            if point < end:
                out.extend(self._before.get(point, ()))  # belongs to a token starting here
                if point in self._replace:
                    stop, replacement = self._replace[point]
                    out.append(replacement)
                    position = stop
        out.append(self.text[position:end])
        return "".join(out)
