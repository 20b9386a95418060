"""Who may call what: one table of route classes and what a reader may do with each.

An admin may call everything. A reader (a SCADA or HMI account) may query and read status:
the first rule below that matches the request's method and path says whether it may, may
not, or - for `/machbase`, where a GET can be an INSERT - whether the statement decides: the
route refuses a reader's append, and the SQL engine runs a reader's statement read-only.
"""

from __future__ import annotations

import dataclasses

from edge.catalog.users import ADMIN, READER

ALLOWED = "allowed"
DENIED = "denied"
BY_STATEMENT = "by statement"
READ_METHODS = frozenset({"GET", "HEAD"})
# The WSGI environ key under which the dispatcher hands the caller's role to the routes.
ROLE_KEY = "edge.role"
USER_KEY = "edge.user"  # and the caller's name (None when HTTP_AUTH = 0)


@dataclasses.dataclass(frozen=True)
class RouteClass:
    path: str                     # the path, or a prefix of paths below it ("" is every path)
    methods: frozenset[str] | None  # None: any method
    reader: str                   # ALLOWED, DENIED or BY_STATEMENT
    why: str

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return not self.path or path == self.path or path.startswith(self.path + "/")


RULES: tuple[RouteClass, ...] = (
    RouteClass("/v1/config/validate", frozenset({"POST"}), ALLOWED, "validation saves nothing"),
    RouteClass("/ui/logout", frozenset({"POST"}), ALLOWED, "ending one's own web UI session"),
    RouteClass("/machbase", frozenset({"GET", "POST"}), BY_STATEMENT,
               "a query is allowed; an append, or a statement that writes, is refused"),
    RouteClass("", READ_METHODS, ALLOWED,
               "queries, status, streams, config (secrets masked), meta, templates, logs"),
    RouteClass("", None, DENIED,
               "appends, tag edits and deletes, config saves, pipeline control, restream"),
)


def reader_access(method: str, path: str) -> str:
    """What the rules say about a reader's request: ALLOWED, DENIED or BY_STATEMENT."""
    return next(rule.reader for rule in RULES if rule.matches(method.upper(), path))


def permits(role: str | None, method: str, path: str) -> bool:
    """Whether the dispatcher lets the request through (BY_STATEMENT: the route decides)."""
    return role == ADMIN or reader_access(method, path) != DENIED


def may_write(environ: dict) -> bool:
    """Whether the caller of this request may change data (a route whose answer depends on the
    statement asks this). A request that came without a role is treated as a reader's."""
    return environ.get(ROLE_KEY, READER) == ADMIN
