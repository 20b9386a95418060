"""HTTP Basic authentication: `user:password` and Machbase's `user@host:password`.

A password check costs tens of milliseconds (scrypt) by design, so a header that verified is
remembered for a while by its keyed digest; a client appending many batches pays once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict

from edge.catalog.users import Users

CACHE_SECONDS = 300
CACHE_SIZE = 256


class AuthResult:
    OK = "ok"
    MISSING = "missing"
    BAD = "bad"


def parse_basic(header: str) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` value; the `@host` part is ignored."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        text = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = text.partition(":")
    if not sep:
        return None
    user = user.split("@", 1)[0]
    return user, password


class Authenticator:
    def __init__(self, users: Users, enabled: bool):
        self.enabled = enabled
        self._users = users
        self._key = secrets.token_bytes(32)
        self._verified: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, header: str | None) -> str:
        if not self.enabled:
            return AuthResult.OK
        if not header:
            return AuthResult.MISSING
        digest = hmac.new(self._key, header.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            expires = self._verified.get(digest)
            if expires is not None and expires > now:
                return AuthResult.OK
        credentials = parse_basic(header)
        if credentials is None or not self._users.verify(*credentials):
            return AuthResult.BAD
        with self._lock:
            self._verified[digest] = now + CACHE_SECONDS
            self._verified.move_to_end(digest)
            while len(self._verified) > CACHE_SIZE:
                self._verified.popitem(last=False)
        return AuthResult.OK
