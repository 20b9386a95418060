"""The faults of the SQL engine as `EdgeError`s, and the one place an SQLite exception becomes one.

Codes come from the catalogue (`edge.errors`); each text says what to do. Every failure of a
statement reaches the client as error_code/error_message.
"""

from __future__ import annotations

import apsw

from edge.errors import (BUSY, CONSTRAINT_FAILED, INVALID_VALUE, MB_FORBIDDEN, NOT_PERMITTED, NOT_SUPPORTED,
                         RESULT_TOO_LARGE, STORAGE_FAILURE, SYNTAX_ERROR, TABLE_EXISTS, TABLE_NOT_FOUND, TIMEOUT,
                         EdgeError)


def syntax(text: str) -> EdgeError:
    return EdgeError(SYNTAX_ERROR, text)


def not_supported(text: str) -> EdgeError:
    return EdgeError(NOT_SUPPORTED, text)


def not_permitted(text: str) -> EdgeError:
    return EdgeError(NOT_PERMITTED, text, 403)


def number_out_of_range(text: str, why: str) -> EdgeError:
    shown = text if len(text) <= 40 else text[:37] + "..."
    return EdgeError(INVALID_VALUE, f"Number {shown} is out of range: {why}")


def forbidden(text: str) -> EdgeError:
    """A statement the caller's role may not run (a reader's that writes)."""
    return EdgeError(MB_FORBIDDEN, text, 403)


def timeout(limit_ms: int) -> EdgeError:
    return EdgeError(TIMEOUT, f"The statement ran longer than REQUEST_TIMEOUT_MS ({limit_ms} ms) and was stopped")


def too_large(limit_bytes: int) -> EdgeError:
    return EdgeError(RESULT_TOO_LARGE, f"The result would exceed HTTP_MAX_MEM ({limit_bytes} bytes); "
                                       f"narrow it with WHERE or LIMIT")


def from_sqlite(exc: apsw.Error, denied: str | EdgeError | None = None) -> EdgeError:
    """The EdgeError a client sees for an SQLite failure (never a traceback).

    `denied`: what the sandbox refused during this statement, which explains an AuthError
    (an EdgeError when it refused for the caller's role: that is the answer).
    """
    if isinstance(denied, EdgeError):
        return denied
    text = str(exc).split(": ", 1)[1] if ": " in str(exc) and str(exc).split(": ", 1)[0].endswith("Error") \
        else str(exc)
    if denied is not None or isinstance(exc, apsw.AuthError):
        return not_permitted(denied or f"Not permitted: {text}")
    if isinstance(exc, apsw.ConstraintError):
        # A log table's value checks are named by what they require (edge.sql.log_tables).
        return EdgeError(CONSTRAINT_FAILED, f"Constraint failed: {text.removeprefix('CHECK constraint failed: ')}")
    if isinstance(exc, (apsw.BusyError, apsw.LockedError)):
        return EdgeError(BUSY, "The log-table database is busy with another writer; try again", 503)
    if isinstance(exc, apsw.FullError):
        return EdgeError(STORAGE_FAILURE, "The disk of the data directory is full; nothing of the statement was "
                                          "kept. Free space and try again.", 507)
    if isinstance(exc, apsw.TooBigError):
        return EdgeError(RESULT_TOO_LARGE, f"A value is too large: {text}")
    if text.startswith("no such table"):
        return EdgeError(TABLE_NOT_FOUND, f"Table {text.split(':', 1)[1].strip().upper()} does not exist.", 404)
    if text.startswith("table ") and text.endswith("already exists"):
        return EdgeError(TABLE_EXISTS, f"Table {text[6:-15].strip().upper()} already exists.")
    return syntax(text)
