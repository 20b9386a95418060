"""User statements in Machbase's dialect, for admins:

    CREATE USER name IDENTIFIED BY password [ROLE admin|reader]
    ALTER USER name IDENTIFIED BY password [ROLE admin|reader]
    ALTER USER name ROLE admin|reader
    DROP USER name

Machbase's CREATE USER makes a normal user, which here is a `reader` (queries and status);
`ROLE admin` makes an admin. The password is a quoted string ('pw' or "pw") or a bare word,
taken as written. Names are case-insensitive. The last admin can be neither dropped nor
demoted (`edge.catalog.users`).

The statement holds a password, so nothing here ever shows its text: errors name the part that
is wrong, the log says what was done. The engine sends a statement here by its first two words
(`is_user_statement`) before anything else reads it, so the statement is never logged,
tokenized by the general path or listed while it runs.

The engine is given a users port (`UserBook`, which `edge.catalog.users.Users` is) and runs
the plan against it with `run(users)`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Protocol

from edge.errors import EdgeError
from edge.sql import errors
from edge.sql.lexer import IDENT, NUMBER, STRING, WORD, Token, single_statement, tokenize

_HEAD = re.compile(r"\s*(CREATE|ALTER|DROP)\s+USER(?![\w$])", re.IGNORECASE)
_ROLES = ("ADMIN", "READER")
FORMS = ("CREATE USER name IDENTIFIED BY 'password' [ROLE admin|reader], "
         "ALTER USER name IDENTIFIED BY 'password' [ROLE admin|reader], ALTER USER name ROLE admin|reader, "
         "DROP USER name")


class UserBook(Protocol):
    """What the engine needs of the users (the port `edge.app` passes in)."""

    def create(self, name: str, password: str, role: str): ...

    def set_password(self, name: str, password: str) -> None: ...

    def set_role(self, name: str, role: str) -> None: ...

    def remove(self, name: str) -> None: ...


def is_user_statement(text: str) -> bool:
    """Whether `text` starts with CREATE USER, ALTER USER or DROP USER."""
    return _HEAD.match(text) is not None


@dataclasses.dataclass(frozen=True)
class UserStatement:
    verb: str                     # CREATE, ALTER or DROP
    name: str
    password: str | None = dataclasses.field(default=None, repr=False)
    role: str | None = None

    def run(self, users: UserBook) -> str:
        """Does it; returns what was done, for the log (never the password)."""
        if self.verb == "CREATE":
            users.create(self.name, self.password, self.role or "reader")
            return f"created user {self.name} ({self.role or 'reader'})"
        if self.verb == "DROP":
            users.remove(self.name)
            return f"dropped user {self.name}"
        done = []
        if self.password is not None:
            users.set_password(self.name, self.password)
            done.append("password")
        if self.role is not None:
            users.set_role(self.name, self.role)
            done.append(f"role {self.role}")
        return f"changed user {self.name}: {', '.join(done)}"


def plan(text: str) -> UserStatement:
    """The statement read into a plan; EdgeError (never showing the text) if it is not one of FORMS."""
    try:
        tokens = single_statement(tokenize(text))
    except EdgeError:
        raise _malformed("it does not parse") from None
    verb = tokens[0].value
    rest = tokens[2:]
    if not rest:
        raise _malformed("the user name is missing")
    name = _name(rest[0])
    rest = rest[1:]
    if verb == "DROP":
        if rest:
            raise _malformed("DROP USER takes only the name")
        return UserStatement("DROP", name)
    password = role = None
    if len(rest) >= 2 and rest[0].is_word("IDENTIFIED") and rest[1].is_word("BY"):
        if len(rest) < 3:
            raise _malformed("the password after IDENTIFIED BY is missing")
        password = _password(rest[2])
        rest = rest[3:]
    elif verb == "CREATE":
        raise _malformed("CREATE USER needs IDENTIFIED BY 'password'")
    if rest and rest[0].is_word("ROLE"):
        if len(rest) != 2:
            raise _malformed("ROLE takes one of admin, reader")
        role = _role(rest[1])
        rest = rest[2:]
    if rest:
        raise _malformed("unexpected words after the " + ("role" if role else "password" if password else "name"))
    if password is None and role is None:
        raise _malformed("ALTER USER needs IDENTIFIED BY 'password' or ROLE")
    return UserStatement(verb, name, password, role)


def _name(token: Token) -> str:
    if token.kind == WORD:
        return token.text
    if token.kind == IDENT:
        return token.value
    raise _malformed("the user name must be a name, not a quoted string or a number")


def _password(token: Token) -> str:
    if token.kind == STRING:
        return token.value
    if token.kind in (WORD, NUMBER):
        return token.text
    raise _malformed("the password must be a quoted string or a word")


def _role(token: Token) -> str:
    value = token.value.upper() if token.kind in (WORD, STRING) else ""
    if value not in _ROLES:
        raise _malformed("ROLE takes one of admin, reader")
    return value.lower()


def _malformed(what: str) -> EdgeError:
    return errors.syntax(f"Malformed user statement: {what} (the text is not shown, as it may hold a "
                         f"password). The forms: {FORMS}")
