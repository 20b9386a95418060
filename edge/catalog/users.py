"""Users of the HTTP APIs: a name, a role and an scrypt password hash.

Two roles: `admin` may do everything, `reader` may query and read status (a SCADA or HMI
account). There is always at least one admin: the last one can be neither removed nor demoted.
Names are case-insensitive (kept in lower case), so Machbase's `SYS@host` logs in as `sys`.
Every change runs in an immediate transaction, so `edge user ...` may change the catalog of a
running server (WAL) without two writers both removing "the other" admin.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import re
import secrets

from edge.catalog.database import Catalog, utc_timestamp
from edge.errors import INVALID_USER, LAST_ADMIN, USER_EXISTS, USER_NOT_FOUND, EdgeError

ADMIN_USER = "sys"
ADMIN = "admin"
READER = "reader"
ROLES = (ADMIN, READER)
# Letters, digits and `_`, starting with a letter: never `:` or `@`, which Basic auth and
# Machbase's `user@host` use as separators.
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
MAX_PASSWORD_CHARS = 1024
# scrypt with N=2^14, r=8, p=1: ~16 MiB and tens of ms per check, cheap for us, dear for a guesser.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def user_name(name: str) -> str:
    """The stored form of a user name (lower case), or EdgeError if it cannot be one."""
    if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
        shown = name if isinstance(name, str) and len(name) <= 40 else "given"
        raise EdgeError(INVALID_USER, f"The user name {shown!r} is not valid: 1 to 32 letters, digits or _, "
                                      f"starting with a letter")
    return name.lower()


def check_role(role: str) -> str:
    if role not in ROLES:
        raise EdgeError(INVALID_USER, f"The role {role!r} is not valid: admin or reader")
    return role


def check_password(password: str) -> str:
    """The password if it can be one; the error never shows it."""
    if not isinstance(password, str) or not password:
        raise EdgeError(INVALID_USER, "The password is empty")
    if len(password) > MAX_PASSWORD_CHARS:
        raise EdgeError(INVALID_USER, f"The password is longer than {MAX_PASSWORD_CHARS} characters")
    if "\r" in password or "\n" in password or "\0" in password:
        raise EdgeError(INVALID_USER, "The password holds a line break or NUL, which no client can send")
    return password


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: str


@dataclasses.dataclass(frozen=True)
class Credential:
    """What a login is checked against: the name, the role, the stored hash."""
    name: str
    role: str
    password_hash: str


class Users:
    def __init__(self, catalog: Catalog):
        self._catalog = catalog

    # Reading ---------------------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        return self.credential(name) is not None

    def credential(self, name: str) -> Credential | None:
        """The user's name, role and hash (one indexed lookup: cheap, unlike a password check)."""
        if not isinstance(name, str):
            return None
        row = self._catalog.connection().execute(
            "SELECT name, role, password_hash FROM users WHERE name = ?", (name.lower(),)).fetchone()
        return Credential(*row) if row is not None else None

    def list(self) -> list[User]:
        rows = self._catalog.connection().execute("SELECT name, role, created_at FROM users ORDER BY name")
        return [User(*row) for row in rows]

    def admin_count(self) -> int:
        return self._catalog.connection().execute("SELECT count(*) FROM users WHERE role = ?",
                                                  (ADMIN,)).fetchone()[0]

    def verify(self, name: str, password: str) -> Credential | None:
        """The user's credential if `password` is theirs, else None (same work either way)."""
        found = self.credential(name)
        if found is None:
            # Spend the same work as for a real user so timing does not tell names apart.
            password_matches(password, _DUMMY_HASH)
            return None
        return found if password_matches(password, found.password_hash) else None

    # Changing --------------------------------------------------------------------------------

    def create(self, name: str, password: str, role: str = READER) -> User:
        name, role, password = user_name(name), check_role(role), check_password(password)
        password_hash = hash_password(password)  # outside the transaction: it takes a while
        with self._writing() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is not None:
                raise EdgeError(USER_EXISTS, f"User {name} already exists.")
            created_at = utc_timestamp()
            conn.execute("INSERT INTO users (name, password_hash, created_at, role) VALUES (?, ?, ?, ?)",
                         (name, password_hash, created_at, role))
        return User(name, role, created_at)

    def set_password(self, name: str, password: str) -> None:
        name, password = user_name(name), check_password(password)
        password_hash = hash_password(password)
        with self._writing() as conn:
            self._role_of(conn, name)
            conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name))

    def set_role(self, name: str, role: str) -> None:
        name, role = user_name(name), check_role(role)
        with self._writing() as conn:
            if self._role_of(conn, name) == ADMIN and role != ADMIN:
                self._keep_an_admin(conn, name, "demoted")
            conn.execute("UPDATE users SET role = ? WHERE name = ?", (role, name))

    def remove(self, name: str) -> None:
        name = user_name(name)
        with self._writing() as conn:
            if self._role_of(conn, name) == ADMIN:
                self._keep_an_admin(conn, name, "removed")
            conn.execute("DELETE FROM users WHERE name = ?", (name,))

    @contextlib.contextmanager
    def _writing(self):
        """An immediate transaction: the checks below see what no other writer can change."""
        conn = self._catalog.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @staticmethod
    def _role_of(conn, name: str) -> str:
        row = conn.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise EdgeError(USER_NOT_FOUND, f"User {name} does not exist.", 404)
        return row[0]

    @staticmethod
    def _keep_an_admin(conn, name: str, change: str) -> None:
        admins = conn.execute("SELECT count(*) FROM users WHERE role = ?", (ADMIN,)).fetchone()[0]
        if admins <= 1:
            raise EdgeError(LAST_ADMIN, f"User {name} is the last admin and cannot be {change}; "
                                        f"make another admin first", 409)


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
