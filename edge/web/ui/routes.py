"""The web UI: its page at `/`, its static files, login and logout, and the one read the
/v1 API lacks (the configuration's revision history).

The pages are plain HTML and JavaScript over the same APIs a script would call; the routes here
only serve them and keep the browser's session. JSON answers are in the FactoryTX envelope.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from importlib import resources

import bottle

from edge.errors import FTX_BAD_REQUEST, FTX_NOT_FOUND, FTX_TOO_MANY_ATTEMPTS, FTX_UNAUTHORIZED, EdgeError
from edge.web import access
from edge.web.envelope import FTX, JSON_TYPE, encode, ftx_success, read_json_body
from edge.web.login_throttle import Throttled
from edge.web.request_text import decimal_integer
from edge.web.ui.sessions import Sessions, cookie_token, expired_cookie, session_cookie

log = logging.getLogger("edge.web.ui")

STATIC = resources.files("edge.web.ui") / "static"
MAX_REVISIONS = 200
# Paths anyone may fetch: the page shell and its files hold no data; login must be reachable.
PUBLIC = (("GET", "/"), ("HEAD", "/"), ("POST", "/ui/login"))
PUBLIC_PREFIX = "/ui/static/"


def is_public(method: str, path: str) -> bool:
    return (method, path) in PUBLIC or (method in ("GET", "HEAD") and path.startswith(PUBLIC_PREFIX))


def static_file(folder, name: str) -> bottle.HTTPResponse:
    """A file of a package folder (works from the wheel and the Nuitka binary alike); names
    with a path separator or a leading dot are refused rather than resolved."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return json_error(EdgeError(FTX_NOT_FOUND, "No such file", 404))
    item = folder / name
    if not item.is_file():
        return json_error(EdgeError(FTX_NOT_FOUND, "No such file", 404))
    body = item.read_bytes()
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind.endswith("javascript"):
        kind += "; charset=utf-8"
    # Revalidated at each use, so a new version of the program is seen at once; unchanged files
    # cost a 304 (a tablet on a slow plant network reloads the pages often).
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"Content-Type": kind, "Cache-Control": "no-cache", "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if bottle.request.environ.get("HTTP_IF_NONE_MATCH") == etag:
        return bottle.HTTPResponse(b"", 304, headers)
    return bottle.HTTPResponse(body, 200, headers)


def page_file(folder, name: str) -> bottle.HTTPResponse:
    """An HTML page of ours: only our own scripts and styles run in it, and no other site may
    frame it (clickjacking of the pipeline buttons)."""
    response = static_file(folder, name)
    response.set_header("X-Frame-Options", "DENY")
    response.set_header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                                   "img-src 'self' data:; frame-ancestors 'none'")
    return response


def json_answer(body, status: int = 200, headers: dict | None = None) -> bottle.HTTPResponse:
    return bottle.HTTPResponse(encode(body), status, {"Content-Type": JSON_TYPE, "Cache-Control": "no-store",
                                                      **(headers or {})})


def json_error(err: EdgeError) -> bottle.HTTPResponse:
    return json_answer(FTX.render(err), err.status)


def plain_app() -> bottle.Bottle:
    """A Bottle app for pages and files whose unknown paths, wrong methods and crashes answer in
    the FactoryTX envelope (its JSON routes build their answers themselves)."""
    app = bottle.Bottle(catchall=True)
    app.config["json.enable"] = False

    def on_error(status: int, code: int, text: str):
        def handler(error: bottle.HTTPError):
            if status == 500 and error.exception is not None:
                log.error("%s %s failed: %r\n%s", bottle.request.method, bottle.request.path, error.exception,
                          error.traceback)
            bottle.response.content_type = JSON_TYPE
            bottle.response.status = status
            return encode(FTX.render(EdgeError(code, text, status)))
        return handler

    app.error_handler[404] = on_error(404, FTX_NOT_FOUND, "No such endpoint")
    app.error_handler[405] = on_error(405, FTX.method_not_allowed, "Method not allowed on this endpoint")
    app.error_handler[500] = on_error(500, FTX.internal, "Internal error; see factorytx_web.log")
    return app


def install(web: bottle.Bottle, sessions: Sessions, configuration, store, zone_name: str) -> None:
    """`configuration` is the FtxConfiguration (its revisions), `store` the tag store (its tables),
    `zone_name` the TIMEZONE setting (the Historian page shows times on its clock)."""

    @web.route("/", method=["GET", "HEAD"])
    def index():
        return page_file(STATIC, "index.html")

    @web.route("/ui/static/<name>", method=["GET", "HEAD"])
    def static(name: str):
        return static_file(STATIC, name)

    @web.post("/ui/login")
    def log_in():
        try:
            body = read_json_body(FTX_BAD_REQUEST)
        except EdgeError as err:
            return json_error(err)
        if not isinstance(body, dict) or not isinstance(body.get("user"), str) \
                or not isinstance(body.get("password"), str):
            return json_error(EdgeError(FTX_BAD_REQUEST, 'Log in with {"user": name, "password": password}'))
        try:
            opened = sessions.log_in(body["user"].split("@", 1)[0], body["password"],
                                     bottle.request.environ.get("REMOTE_ADDR"))
        except Throttled as refused:
            return json_answer(FTX.render(EdgeError(FTX_TOO_MANY_ATTEMPTS, str(refused), 429)), 429,
                               headers={"Retry-After": str(refused.retry_after)})
        if opened is None:
            return json_error(EdgeError(FTX_UNAUTHORIZED, "Invalid user name or password.", 401))
        token, session = opened
        secure = bottle.request.environ.get("wsgi.url_scheme") == "https"
        return json_answer(ftx_success({"user": session.user, "role": session.role,
                                        "csrf_token": session.csrf_token}),
                           headers={"Set-Cookie": session_cookie(token, secure)})

    @web.post("/ui/logout")
    def log_out():
        sessions.log_out(cookie_token(bottle.request.environ))
        return json_answer(ftx_success("Logged out"), headers={"Set-Cookie": expired_cookie()})

    @web.get("/ui/session")
    def who_am_i():
        environ = bottle.request.environ
        found = sessions.session_of(environ)
        return json_answer(ftx_success({
            "user": environ.get(access.USER_KEY),
            "role": environ.get(access.ROLE_KEY),
            "csrf_token": found[1].csrf_token if found else None,
        }))

    @web.get("/ui/config/revisions")
    def revisions():
        try:
            limit = decimal_integer(bottle.request.query.get("limit", "50"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_REVISIONS:
            return json_error(EdgeError(FTX_BAD_REQUEST, f"limit must be an integer between 1 and {MAX_REVISIONS}"))
        shown = [{"revision": r.revision, "saved_at": r.saved_at, "source": r.source, "body": r.body}
                 for r in configuration.revisions(limit)]
        return json_answer(ftx_success(shown))

    @web.get("/ui/historian/tables")
    def tag_tables():
        # The tag API has no list of tables; the Historian page starts from one. The page reads
        # the tag API in UTC (tz=UTC: no hour is ambiguous) and shows times in TIMEZONE by name,
        # so that each time gets its own offset across a daylight-saving change.
        return json_answer(ftx_success({"tables": sorted(store.table_names()), "zone": zone_name}))

