"""Users of the HTTP APIs, with scrypt password hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from edge.catalog.database import Catalog, utc_timestamp

ADMIN_USER = "sys"
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


class Users:
    def __init__(self, catalog: Catalog):
        self._catalog = catalog

    def exists(self, name: str) -> bool:
        row = self._catalog.connection().execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone()
        return row is not None

    def create(self, name: str, password: str) -> None:
        self._catalog.connection().execute(
            "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
            (name, hash_password(password), utc_timestamp()))

    def verify(self, name: str, password: str) -> bool:
        row = self._catalog.connection().execute(
            "SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
        if row is None:
            # Spend the same work as for a real user so timing does not tell names apart.
            password_matches(password, _DUMMY_HASH)
            return False
        return password_matches(password, row[0])


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
