"""Errors as values, and the one catalogue of the codes a client can see.

Raised where the fault is found (`EdgeError(code, text)`); turned into the API's envelope in
one place in `edge.web`. Every code is defined here once, with its name and a default message
(the text of an `EdgeError` raised without one); modules import the codes they raise from
here. Defining a number twice fails at import.

Machbase codes (/machbase, /machiot) follow Machbase's numbering where Machbase has one
(2025 no such table, 2132 bad time, 2324 tag has data, 3118 no Authorization header ...);
the rest are ours, in the same ranges. FactoryTX codes (/v1) are the HTTP status they come
with, as in the FactoryTX API.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ErrorCode:
    """One entry of the catalogue."""
    code: int
    name: str
    message: str
    api: str  # "machbase" or "factorytx"


CATALOGUE: dict[int, ErrorCode] = {}


def _define(code: int, name: str, message: str, api: str) -> int:
    if code in CATALOGUE:
        raise RuntimeError(f"error code {code} defined twice: {CATALOGUE[code].name} and {name}")
    CATALOGUE[code] = ErrorCode(code, name, message, api)
    return code


def _machbase(code: int, name: str, message: str) -> int:
    return _define(code, name, message, "machbase")


def _factorytx(code: int, name: str, message: str) -> int:
    return _define(code, name, message, "factorytx")


# Machbase: the SQL engine ---------------------------------------------------------------------
SYNTAX_ERROR = _machbase(2010, "SYNTAX_ERROR", "The statement does not parse, or names something unknown")
NOT_SUPPORTED = _machbase(2011, "NOT_SUPPORTED", "This engine does not run that statement or clause")
NOT_PERMITTED = _machbase(2012, "NOT_PERMITTED", "Not permitted")
TIMEOUT = _machbase(2013, "TIMEOUT", "The statement ran longer than REQUEST_TIMEOUT_MS and was stopped")
RESULT_TOO_LARGE = _machbase(2014, "RESULT_TOO_LARGE", "The result would exceed HTTP_MAX_MEM")
CONSTRAINT_FAILED = _machbase(2015, "CONSTRAINT_FAILED", "Constraint failed")
BUSY = _machbase(2016, "BUSY", "The log-table database is busy with another writer; try again")

# Machbase: tables, columns, tags, values ------------------------------------------------------
TABLE_NOT_FOUND = _machbase(2025, "TABLE_NOT_FOUND", "Table does not exist.")
TABLE_EXISTS = _machbase(2026, "TABLE_EXISTS", "Table already exists.")
COLUMN_NOT_FOUND = _machbase(2037, "COLUMN_NOT_FOUND", "Column does not exist.")
INVALID_TABLE_DEFINITION = _machbase(2061, "INVALID_TABLE_DEFINITION", "Invalid table definition.")
INVALID_VALUE = _machbase(2100, "INVALID_VALUE", "Invalid value.")
# A request parameter or store argument that cannot be used (Count, Direction, TagNames ...).
INVALID_ARGUMENT = _machbase(2101, "INVALID_ARGUMENT", "Invalid argument.")
BAD_TIME = _machbase(2132, "BAD_TIME", "The text does not match the date format.")
TAG_NOT_FOUND = _machbase(2320, "TAG_NOT_FOUND", "Tag does not exist.")
TAG_EXISTS = _machbase(2321, "TAG_EXISTS", "Tag already exists.")
TAG_HAS_DATA = _machbase(2324, "TAG_HAS_DATA", "Cannot delete tagmeta. there exist data with deleted_tag key.")
# The disk refused a write (full, read-only, failing); nothing of the batch was kept.
# Users (CREATE/ALTER/DROP USER, `edge user ...`).
USER_EXISTS = _machbase(2210, "USER_EXISTS", "User already exists.")
USER_NOT_FOUND = _machbase(2211, "USER_NOT_FOUND", "User does not exist.")
LAST_ADMIN = _machbase(2212, "LAST_ADMIN", "The last admin cannot be removed or demoted.")
INVALID_USER = _machbase(2213, "INVALID_USER", "Invalid user name, password or role.")
# Retention policies (CREATE/DROP RETENTION, ALTER TABLE ... ADD/DROP RETENTION).
RETENTION_EXISTS = _machbase(2240, "RETENTION_EXISTS", "Retention policy already exists.")
RETENTION_NOT_FOUND = _machbase(2241, "RETENTION_NOT_FOUND", "Retention policy does not exist.")
RETENTION_IN_USE = _machbase(2242, "RETENTION_IN_USE", "Retention policy is used by a table.")
STORAGE_FAILURE = _machbase(2900, "STORAGE_FAILURE", "Storage failure, nothing of the request was kept")

# Machbase: the HTTP envelope ------------------------------------------------------------------
# A request that cannot be used: malformed JSON, a body not of the append shape, no statement.
MB_BAD_REQUEST = _machbase(3000, "MB_BAD_REQUEST", "Bad request")
MB_NOT_FOUND = _machbase(3001, "MB_NOT_FOUND", "Not found")
MB_TOO_LARGE = _machbase(3002, "MB_TOO_LARGE", "Request body too large")
MB_NO_AUTH_HEADER = _machbase(3118, "MB_NO_AUTH_HEADER", "Authorization header is missing")
MB_BAD_CREDENTIALS = _machbase(3119, "MB_BAD_CREDENTIALS", "Invalid user name or password")
# Too many wrong passwords from the caller's address: refused without checking (HTTP 429).
MB_TOO_MANY_ATTEMPTS = _machbase(3120, "MB_TOO_MANY_ATTEMPTS", "Too many wrong passwords; try again later")
# The connection itself, answered before (or instead of) a route: too slow, too many.
MB_REQUEST_TIMEOUT = _machbase(3010, "MB_REQUEST_TIMEOUT", "The request did not arrive within REQUEST_TIMEOUT_MS")
MB_UNAVAILABLE = _machbase(3011, "MB_UNAVAILABLE", "Too many connections; try again later")
# The caller's role does not permit the request (a reader appending, changing tables ...).
MB_FORBIDDEN = _machbase(3125, "MB_FORBIDDEN", "The user's role does not permit this request")
MB_INTERNAL = _machbase(3999, "MB_INTERNAL", "Internal error; see factorytx_web.log")

# FactoryTX: the code is the HTTP status ------------------------------------------------------
FTX_BAD_REQUEST = _factorytx(400, "FTX_BAD_REQUEST", "Bad request")
FTX_UNAUTHORIZED = _factorytx(401, "FTX_UNAUTHORIZED", "Unauthorized")
# The caller's role does not permit the request (a reader saving config, starting the pipeline ...).
FTX_FORBIDDEN = _factorytx(403, "FTX_FORBIDDEN", "Forbidden")
FTX_NOT_FOUND = _factorytx(404, "FTX_NOT_FOUND", "Not found")
FTX_METHOD_NOT_ALLOWED = _factorytx(405, "FTX_METHOD_NOT_ALLOWED", "Method not allowed")
FTX_TOO_LARGE = _factorytx(413, "FTX_TOO_LARGE", "Request body too large")
FTX_REQUEST_TIMEOUT = _factorytx(408, "FTX_REQUEST_TIMEOUT", "The request did not arrive within REQUEST_TIMEOUT_MS")
FTX_TOO_MANY_ATTEMPTS = _factorytx(429, "FTX_TOO_MANY_ATTEMPTS", "Too many wrong passwords; try again later")
FTX_HEADERS_TOO_LARGE = _factorytx(431, "FTX_HEADERS_TOO_LARGE", "Request line and headers too large")
FTX_NOT_IMPLEMENTED = _factorytx(501, "FTX_NOT_IMPLEMENTED", "Not implemented")
FTX_UNAVAILABLE = _factorytx(503, "FTX_UNAVAILABLE", "Too many connections; try again later")
# The disk of the data directory had no room for what the request writes.
FTX_INSUFFICIENT_STORAGE = _factorytx(507, "FTX_INSUFFICIENT_STORAGE", "The disk of the data directory is full")
# The server could not do what was asked (pipeline control, restream, anything unexpected).
FTX_INTERNAL = _factorytx(500, "FTX_INTERNAL", "Internal error; see factorytx_web.log")


class EdgeError(Exception):
    """A fault the client should see: `code` and `text` go into the envelope as they are.

    `text` defaults to the code's message in the catalogue. `status` is the HTTP status the
    web layer answers with. FactoryTX answers most failures with 200 and `success: false`,
    Machbase with an `error_code`; the web layer decides how to render, the raiser only says
    what went wrong.
    """

    def __init__(self, code: int, text: str | None = None, status: int = 400):
        if text is None:
            entry = CATALOGUE.get(code)
            text = entry.message if entry is not None else f"Error {code}"
        super().__init__(text)
        self.code = code
        self.text = text
        self.status = status

    def __repr__(self) -> str:
        return f"EdgeError({self.code}, {self.text!r}, status={self.status})"
