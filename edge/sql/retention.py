"""Retention statements in Machbase's dialect (the policies themselves: `edge.store.retention`):

    CREATE RETENTION policy DURATION n DAY|MONTH INTERVAL m DAY|HOUR
    DROP RETENTION policy                  (refused while a table uses it)
    ALTER TABLE table ADD RETENTION policy
    ALTER TABLE table DROP RETENTION

A policy applies to tag tables; naming a log table is refused. The engine sends a statement
here when `matches` says it is one of these (by its first words); `plan` reads it and the
plan runs against the store's `Retention`.
"""

from __future__ import annotations

import dataclasses

from edge.sql import errors
from edge.sql.lexer import IDENT, NUMBER, STRING, WORD, Token

FORMS = ("CREATE RETENTION policy DURATION n DAY|MONTH INTERVAL m DAY|HOUR, DROP RETENTION policy, "
         "ALTER TABLE table ADD RETENTION policy, ALTER TABLE table DROP RETENTION")


def matches(tokens: list[Token]) -> bool:
    """Whether the statement is one of the retention forms."""
    if len(tokens) >= 2 and tokens[0].is_word("CREATE", "DROP") and tokens[1].is_word("RETENTION"):
        return True
    return len(tokens) >= 5 and tokens[0].is_word("ALTER") and tokens[1].is_word("TABLE") \
        and tokens[3].is_word("ADD", "DROP") and tokens[4].is_word("RETENTION")


@dataclasses.dataclass(frozen=True)
class RetentionStatement:
    verb: str  # CREATE, DROP, ADD (to a table) or REMOVE (from a table)
    policy: str | None = None
    table: str | None = None
    duration: tuple[int, str] | None = None
    interval: tuple[int, str] | None = None

    def run(self, retention, is_tag_table) -> str:
        """Does it; returns what was done, for the log. `is_tag_table(name)` tells a tag table
        from a log table (retention applies to tag tables)."""
        if self.table is not None and not is_tag_table(self.table):
            raise errors.not_supported(f"Retention applies to tag tables; {self.table} is not one")
        if self.verb == "CREATE":
            retention.create_policy(self.policy, *self.duration, *self.interval)
            return f"created retention {self.policy}"
        if self.verb == "DROP":
            retention.drop_policy(self.policy)
            return f"dropped retention {self.policy}"
        if self.verb == "ADD":
            retention.attach(self.table, self.policy)
            return f"table {self.table}: retention {self.policy}"
        retention.detach(self.table)
        return f"table {self.table}: retention dropped"


def plan(tokens: list[Token]) -> RetentionStatement:
    if tokens[0].is_word("CREATE"):
        return _create(tokens[2:])
    if tokens[0].is_word("DROP"):
        _expect_end(tokens, 3)
        return RetentionStatement("DROP", policy=_name(tokens, 2, "the policy name"))
    table = _name(tokens, 2, "the table name")
    if tokens[3].is_word("ADD"):
        _expect_end(tokens, 6)
        return RetentionStatement("ADD", policy=_name(tokens, 5, "the policy name"), table=table)
    _expect_end(tokens, 5)
    return RetentionStatement("REMOVE", table=table)


def _create(rest: list[Token]) -> RetentionStatement:
    if len(rest) != 7 or not rest[1].is_word("DURATION") or not rest[4].is_word("INTERVAL"):
        raise _malformed("CREATE RETENTION takes: policy DURATION n DAY|MONTH INTERVAL m DAY|HOUR")
    name = _name(rest, 0, "the policy name")
    duration = (_count(rest[2], "DURATION"), _unit(rest[3], "DURATION", ("DAY", "MONTH")))
    interval = (_count(rest[5], "INTERVAL"), _unit(rest[6], "INTERVAL", ("DAY", "HOUR")))
    return RetentionStatement("CREATE", policy=name, duration=duration, interval=interval)


def _name(tokens: list[Token], index: int, what: str) -> str:
    if len(tokens) <= index or tokens[index].kind not in (WORD, IDENT, STRING):
        raise _malformed(f"{what} is missing")
    token = tokens[index]
    return token.value.upper() if token.kind == WORD else token.value.strip().upper()


def _count(token: Token, what: str) -> int:
    if token.kind != NUMBER or not token.text.isdigit():
        raise _malformed(f"{what} takes a whole number, got {token.text}")
    return int(token.text)


def _unit(token: Token, what: str, allowed: tuple[str, ...]) -> str:
    if not token.is_word(*allowed):
        raise _malformed(f"{what} takes {' or '.join(allowed)}, got {token.text}")
    return token.value


def _expect_end(tokens: list[Token], length: int) -> None:
    if len(tokens) != length:
        raise _malformed(f"unexpected {tokens[length].text!r}" if len(tokens) > length else "the statement is cut short")


def _malformed(why: str):
    return errors.syntax(f"Malformed retention statement: {why}. Forms: {FORMS}")
