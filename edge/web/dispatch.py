"""The WSGI entry: picks the API by path prefix, then enforces body size and auth for it,
and decodes the path and query string as UTF-8 (`request_text`).

Done here, before Bottle, so that every API (and every unknown path) refuses a huge body,
missing credentials or text that is not UTF-8 in its own envelope, and nothing of the request
body is read first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import bottle

from edge.errors import EdgeError
from edge.web import access
from edge.web.auth import Authenticator, AuthResult, Verdict
from edge.web.envelope import FTX, JSON_TYPE, Flavour, error_bytes
from edge.web.health import HEALTH_PATH, answer_health
from edge.web.login_throttle import refusal_text
from edge.web.request_text import decode_request, shown_path
from edge.web.ui.sessions import Sessions

log = logging.getLogger("edge.web")


class Mount:
    def __init__(self, prefixes: Iterable[str], app: bottle.Bottle, flavour: Flavour, queries: bool = False,
                 credentials: Callable[[dict], str | None] | None = None,
                 public: Callable[[str, str], bool] | None = None):
        self.prefixes = tuple(prefixes)
        self.app = app
        self.flavour = flavour
        self.queries = queries  # its reads run in the query share of the workers (edge.web.lanes)
        # An API whose clients send credentials in other forms (InfluxDB's) turns them into
        # the Authorization value the authenticator reads.
        self.credentials = credentials or (lambda environ: environ.get("HTTP_AUTHORIZATION"))
        # (method, path) -> whether it needs no credentials (the web UI's page shell and login,
        # InfluxDB's /ping)
        self.public = public

    def matches(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.prefixes)


class Dispatcher:
    def __init__(self, mounts: list[Mount], authenticator: Authenticator, max_request_size: int,
                 sessions: Sessions | None = None):
        self._mounts = mounts
        self._auth = authenticator
        self._sessions = sessions  # the web UI's cookie sessions, used when no Authorization header came
        self._max_request_size = max_request_size
        self._fallback = FTX
        # Prefixes of one path segment (all of them, so far): a path's mount is the one of its
        # first segment, found in a dict instead of trying every prefix, twice a request.
        self._by_head: dict[str, Mount] | None = None
        if all("/" not in p[1:] for m in mounts for p in m.prefixes):
            self._by_head = {}
            for mount in mounts:
                for prefix in mount.prefixes:
                    self._by_head.setdefault(prefix, mount)

    @property
    def mounts(self) -> tuple[Mount, ...]:
        return tuple(self._mounts)

    def mount_for(self, path: str) -> Mount | None:
        if self._by_head is None:
            return next((m for m in self._mounts if m.matches(path)), None)
        end = path.find("/", 1)
        return self._by_head.get(path if end < 0 else path[:end])

    def flavour_for(self, path: str) -> Flavour:
        mount = self.mount_for(path)
        return mount.flavour if mount else self._fallback

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        status_seen = []

        def recording_start_response(status, headers, exc_info=None):
            status_seen.append(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        try:
            return self._dispatch(environ, recording_start_response)
        finally:
            if log.isEnabledFor(logging.INFO):
                # One access line per request. Made and handled here rather than by log.info,
                # which would first walk the stack for a file and line no line prints.
                log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, "%s %s %s %s %.1fms", (
                    environ.get("REMOTE_ADDR", "-"), environ.get("REQUEST_METHOD"), shown_path(environ),
                    status_seen[0] if status_seen else "-", (time.perf_counter() - started) * 1000), None))

    def _dispatch(self, environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        if path == HEALTH_PATH:  # for a supervisor: no credentials, and it tells only "up"
            return answer_health(environ, start_response)
        mount = self.mount_for(path)
        flavour = mount.flavour if mount else self._fallback

        length = environ.get("CONTENT_LENGTH") or "0"
        try:
            too_large = int(length) > self._max_request_size
        except ValueError:
            return self._refuse(start_response, flavour, 400, flavour.bad_request, "Bad Content-Length header")
        if too_large:
            return self._refuse(start_response, flavour, 413, flavour.too_large,
                                f"Request body larger than MAX_REQUEST_SIZE ({self._max_request_size} bytes)")

        method = environ.get("REQUEST_METHOD", "GET")
        public = mount is not None and mount.public is not None and mount.public(method, path)
        if public:
            verdict = Verdict(AuthResult.OK)
        else:
            verdict = self._auth.check(mount.credentials(environ) if mount else environ.get("HTTP_AUTHORIZATION"),
                                       environ.get("REMOTE_ADDR"))
        # The web UI's pages ask with X-Requested-With: a Basic challenge would make the browser
        # open its own password dialog over the page's login form.
        challenge = "HTTP_X_REQUESTED_WITH" not in environ
        if verdict.outcome == AuthResult.MISSING and self._sessions is not None:
            try:
                verdict = self._sessions.check(environ)
            except EdgeError as err:  # a state-changing request with the cookie but no CSRF token
                return self._refuse(start_response, flavour, err.status, flavour.forbidden, err.text)
        if verdict.outcome == AuthResult.MISSING:
            return self._refuse(start_response, flavour, 401, flavour.no_auth_header,
                                "There is No Authorization Header.", challenge=challenge)
        if verdict.outcome == AuthResult.THROTTLED:
            return self._refuse(start_response, flavour, 429, flavour.too_many_attempts,
                                refusal_text(environ.get("REMOTE_ADDR"), verdict.retry_after),
                                retry_after=verdict.retry_after)
        if verdict.outcome == AuthResult.BAD:
            return self._refuse(start_response, flavour, 401, flavour.bad_credentials,
                                "Invalid user name or password.", challenge=challenge)

        if mount is None:
            return self._refuse(start_response, flavour, 404, flavour.not_found, "No such endpoint")
        try:
            decode_request(environ, flavour.bad_request)
        except EdgeError as err:
            return self._refuse(start_response, flavour, err.status, err.code, err.text)
        environ[access.ROLE_KEY] = verdict.role
        environ[access.USER_KEY] = verdict.user
        if public:  # the page shell, its files, login: nothing there depends on a role
            return mount.app(environ, start_response)
        if not access.permits(verdict.role, method, path):
            return self._refuse(start_response, flavour, 403, flavour.forbidden,
                                f"User {verdict.user} has the role {verdict.role}, which may only query and "
                                f"read status; {method} {shown_path(environ)} needs the admin role")
        return mount.app(environ, start_response)

    @staticmethod
    def _refuse(start_response, flavour: Flavour, status: int, code: int, text: str, challenge: bool = False,
                retry_after: int = 0):
        body = error_bytes(flavour, EdgeError(code, text, status))
        headers = [("Content-Type", JSON_TYPE), ("Content-Length", str(len(body)))]
        if challenge:
            headers.append(("WWW-Authenticate", 'Basic realm="edge"'))
        if retry_after:
            headers.append(("Retry-After", str(retry_after)))
        start_response(f"{status} {bottle.HTTP_CODES.get(status, '')}", headers)
        return [body]
