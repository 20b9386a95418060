"""Browser sessions of the web UI: a login gives a cookie; the cookie stands for the user.

Sessions live in memory (a restart logs everybody out) and expire after SESSION_IDLE_SECONDS
without a request. Each remembers the password hash the user logged in with, so a changed
password, a removed user or a changed role counts from the next request, as with Basic.

A request made with the cookie that may change something (any method but GET/HEAD/OPTIONS)
must carry the session's CSRF token in the X-CSRF-Token header: another site can make the
browser send the cookie (SameSite=Strict already stops most of that), never read the token.
"""

from __future__ import annotations

import dataclasses
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from http.cookies import CookieError, SimpleCookie

from edge.catalog.users import Users
from edge.errors import FTX_FORBIDDEN, EdgeError
from edge.web.auth import MISSING, AuthResult, Verdict
from edge.web.login_throttle import LoginThrottle, Throttled

COOKIE = "edge_session"
CSRF_HEADER = "HTTP_X_CSRF_TOKEN"
SESSION_IDLE_SECONDS = 8 * 3600
MAX_SESSIONS = 1000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclasses.dataclass
class Session:
    user: str
    role: str  # at login, for the page to show; each request uses the role the user has then
    password_hash: str
    csrf_token: str
    expires: float


class Sessions:
    def __init__(self, users: Users, idle_seconds: float = SESSION_IDLE_SECONDS,
                 throttle: LoginThrottle | None = None):
        self._users = users
        self._throttle = throttle or LoginThrottle(0)
        self._idle = idle_seconds
        self._open: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def log_in(self, name: str, password: str, address: str | None = None) -> tuple[str, Session] | None:
        """A new session for a user whose password verifies: (cookie value, session), or None.
        Raises Throttled when `address` has tried too many wrong passwords."""
        wait = self._throttle.retry_after(address)
        if wait:
            raise Throttled(address, wait)
        found = self._users.verify(name, password)
        if found is None:
            self._throttle.failed(address)
            return None
        token = secrets.token_urlsafe(32)
        session = Session(found.name, found.role, found.password_hash, secrets.token_urlsafe(32), time.monotonic() + self._idle)
        with self._lock:
            self._open[token] = session
            while len(self._open) > MAX_SESSIONS:  # the least recently used goes first
                self._open.popitem(last=False)
        return token, session

    def log_out(self, token: str | None) -> None:
        with self._lock:
            self._open.pop(token or "", None)

    def session_of(self, environ: dict) -> tuple[str, Session] | None:
        """The live session the request's cookie names, kept alive by this request."""
        token = cookie_token(environ)
        if token is None:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._open.get(token)
            if session is None:
                return None
            if session.expires <= now:
                del self._open[token]
                return None
            session.expires = now + self._idle
            self._open.move_to_end(token)
        return token, session

    def check(self, environ: dict) -> Verdict:
        """The verdict for a request without an Authorization header: MISSING without a cookie
        (or an expired one), OK with the user's current role. Raises 403 when a state-changing
        request lacks the session's CSRF token."""
        found = self.session_of(environ)
        if found is None:
            return MISSING
        token, session = found
        current = self._users.credential(session.user)
        if current is None or not hmac.compare_digest(current.password_hash, session.password_hash):
            self.log_out(token)
            return MISSING
        if environ.get("REQUEST_METHOD", "GET").upper() not in SAFE_METHODS:
            given = environ.get(CSRF_HEADER, "")
            if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), session.csrf_token.encode()):
                raise EdgeError(FTX_FORBIDDEN, "This request changes something and came with the session cookie "
                                               "but without its CSRF token (header X-CSRF-Token)", 403)
        return Verdict(AuthResult.OK, current.name, current.role)


def cookie_token(environ: dict) -> str | None:
    raw = environ.get("HTTP_COOKIE")
    if not raw:
        return None
    try:
        morsel = SimpleCookie(raw).get(COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel is not None and morsel.value else None


def session_cookie(token: str, secure: bool) -> str:
    """Set-Cookie value: the browser's scripts cannot read it and other sites cannot send it."""
    return f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")


def expired_cookie() -> str:
    return f"{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
