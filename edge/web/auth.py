"""HTTP Basic authentication: `user:password` and Machbase's `user@host:password`.

A password check costs tens of milliseconds (scrypt) by design, so a header that verified is
remembered for a while by its keyed digest, with the password hash it verified against; a
client appending many batches pays once. Each request still looks the user up (one indexed
read): a password changed, a user removed or a role changed - by SQL or by `edge user` in
another process - counts from the next request.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict

from edge.catalog.users import ADMIN, Users
from edge.web.login_throttle import LoginThrottle

CACHE_SECONDS = 300
CACHE_SIZE = 256


class AuthResult:
    OK = "ok"
    MISSING = "missing"
    BAD = "bad"
    THROTTLED = "throttled"  # too many wrong passwords from the caller's address: not checked


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The outcome of a check and, when it is OK, who called and with what role."""
    outcome: str
    user: str | None = None
    role: str | None = None
    retry_after: int = 0  # THROTTLED: seconds until the address may try again


MISSING = Verdict(AuthResult.MISSING)
BAD = Verdict(AuthResult.BAD)
# With HTTP_AUTH = 0 everyone may do everything, as before roles existed.
ANYONE = Verdict(AuthResult.OK, None, ADMIN)


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
    def __init__(self, users: Users, enabled: bool, throttle: LoginThrottle | None = None):
        self.enabled = enabled
        self._users = users
        self._throttle = throttle or LoginThrottle(0)
        self._key = secrets.token_bytes(32)
        # header digest -> (expiry, the password hash it verified against)
        self._verified: OrderedDict[bytes, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, header: str | None, address: str | None = None) -> Verdict:
        """The verdict on an Authorization value sent from `address` (the client's IP)."""
        if not self.enabled:
            return ANYONE
        if not header:
            return MISSING
        credentials = parse_basic(header)
        if credentials is None:
            return BAD
        name, password = credentials
        # Keyed BLAKE2b is a MAC in one C call (HMAC-SHA256 builds Python objects: 3x the time).
        digest = hashlib.blake2b(header.encode("utf-8", "surrogateescape"), key=self._key, digest_size=32).digest()
        now = time.monotonic()
        with self._lock:
            remembered = self._verified.get(digest)
        if remembered is not None and remembered[0] > now:
            current = self._users.credential(name)
            if current is not None and hmac.compare_digest(current.password_hash, remembered[1]):
                return Verdict(AuthResult.OK, current.name, current.role)
        wait = self._throttle.retry_after(address)
        if wait:
            return Verdict(AuthResult.THROTTLED, retry_after=wait)
        found = self._users.verify(name, password)
        if found is None:
            self._throttle.failed(address)
            return BAD
        with self._lock:
            self._verified[digest] = (now + CACHE_SECONDS, found.password_hash)
            self._verified.move_to_end(digest)
            while len(self._verified) > CACHE_SIZE:
                self._verified.popitem(last=False)
        return Verdict(AuthResult.OK, found.name, found.role)
