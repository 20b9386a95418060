"""What user SQL may do on a connection, and for how long.

The user connection holds only `data.db` (log tables) and, in its temp schema, the virtual
tables over the tag store; `catalog.db` is never attached to it, and the authorizer keeps it
that way: no ATTACH (which VACUUM needs too), no extension loading, no PRAGMA beyond a few
that only describe tables, no temp objects, triggers or virtual tables of the user's own, no
transaction control (each request is one statement, committed or rolled back whole).

A reader's statement (`read_only`) may in addition only read: the authorizer refuses every
insert, update, delete and schema change, virtual (tag) tables included, whatever words the
statement starts with.

Every user statement runs against a deadline (REQUEST_TIMEOUT_MS): SQLite's progress handler
interrupts the virtual machine, and the Python parts (virtual-table cursors, the tag-query
fast path) call `check_deadline` between chunks.
"""

from __future__ import annotations

import contextlib
import time

import apsw

from edge.errors import EdgeError
from edge.sql import errors

# Virtual-machine steps between two looks at the clock (a few hundred microseconds of work).
PROGRESS_STEPS = 20_000
MAX_STATEMENT_CHARS = 1 << 20

READ_ONLY_PRAGMAS = frozenset({"table_info", "table_xinfo", "table_list", "index_list", "index_info",
                               "index_xinfo", "foreign_key_list", "collation_list"})
FORBIDDEN_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer"})
_DENIED_ACTIONS = {
    apsw.SQLITE_ATTACH: "ATTACH (and VACUUM) is not permitted",
    apsw.SQLITE_DETACH: "DETACH is not permitted",
    apsw.SQLITE_TRANSACTION: "Transaction control is not permitted: each request runs as one transaction",
    apsw.SQLITE_SAVEPOINT: "Savepoints are not permitted: each request runs as one transaction",
    apsw.SQLITE_CREATE_TEMP_INDEX: "Temporary objects are not permitted",
    apsw.SQLITE_CREATE_TEMP_TABLE: "Temporary objects are not permitted",
    apsw.SQLITE_CREATE_TEMP_TRIGGER: "Temporary objects are not permitted",
    apsw.SQLITE_CREATE_TEMP_VIEW: "Temporary objects are not permitted",
    apsw.SQLITE_DROP_TEMP_INDEX: "Temporary objects are not permitted",
    apsw.SQLITE_DROP_TEMP_TABLE: "Dropping this table is not permitted",
    apsw.SQLITE_DROP_TEMP_TRIGGER: "Temporary objects are not permitted",
    apsw.SQLITE_DROP_TEMP_VIEW: "Temporary objects are not permitted",
    apsw.SQLITE_CREATE_VTABLE: "Creating virtual tables is not permitted",
    apsw.SQLITE_DROP_VTABLE: "Dropping this table is not permitted",
    apsw.SQLITE_CREATE_TRIGGER: "Triggers are not permitted",
    apsw.SQLITE_DROP_TRIGGER: "Triggers are not permitted",
    apsw.SQLITE_ALTER_TABLE: "ALTER TABLE is not supported; create the table anew",
}
# What a read-only statement may not do (besides the above).
_WRITE_ACTIONS = {
    apsw.SQLITE_INSERT: "INSERT", apsw.SQLITE_UPDATE: "UPDATE", apsw.SQLITE_DELETE: "DELETE",
    apsw.SQLITE_CREATE_TABLE: "CREATE TABLE", apsw.SQLITE_CREATE_INDEX: "CREATE INDEX",
    apsw.SQLITE_CREATE_VIEW: "CREATE VIEW", apsw.SQLITE_DROP_TABLE: "DROP TABLE",
    apsw.SQLITE_DROP_INDEX: "DROP INDEX", apsw.SQLITE_DROP_VIEW: "DROP VIEW",
    apsw.SQLITE_ALTER_TABLE: "ALTER TABLE", apsw.SQLITE_REINDEX: "REINDEX", apsw.SQLITE_ANALYZE: "ANALYZE",
}


class Sandbox:
    """The authorizer, deadline and limits of one connection (used by one thread at a time)."""

    def __init__(self, conn: apsw.Connection, timeout_ms: int, max_value_bytes: int):
        self.timeout_ms = timeout_ms
        self._deadline: float | None = None
        self._trusted = False
        self.read_only = False
        self.timed_out = False
        self.denied: str | EdgeError | None = None
        conn.config(apsw.SQLITE_DBCONFIG_DEFENSIVE, 1)
        conn.config(apsw.SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0)
        conn.config(apsw.SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0)
        conn.limit(apsw.SQLITE_LIMIT_ATTACHED, 0)
        conn.limit(apsw.SQLITE_LIMIT_LENGTH, max(1 << 20, min(max_value_bytes, 1_000_000_000)))
        conn.limit(apsw.SQLITE_LIMIT_SQL_LENGTH, MAX_STATEMENT_CHARS)
        conn.authorizer = self._authorize
        conn.set_progress_handler(self._progress, PROGRESS_STEPS)

    # Modes ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def user_statement(self, read_only: bool = False):
        """Runs the body as the user's: authorized, and stopped at the deadline; `read_only`
        (a reader's statement) refuses every write."""
        self._deadline = time.monotonic() + self.timeout_ms / 1000
        self.timed_out = False
        self.denied = None
        self.read_only = read_only
        try:
            yield self
        finally:
            self._deadline = None
            self.read_only = False

    @contextlib.contextmanager
    def trusted(self):
        """Runs the body as the engine's own work (creating the tag virtual tables ...)."""
        previous = self._trusted
        self._trusted = True
        try:
            yield
        finally:
            self._trusted = previous

    # Deadline ------------------------------------------------------------------------------

    def expired(self) -> bool:
        return self._deadline is not None and time.monotonic() > self._deadline

    def check_deadline(self) -> None:
        """EdgeError once the statement has run past REQUEST_TIMEOUT_MS (Python-side work)."""
        if self.expired():
            self.timed_out = True
            raise errors.timeout(self.timeout_ms)

    def _progress(self) -> bool:
        if self.expired():
            self.timed_out = True
            return True  # SQLite interrupts the statement
        return False

    # Authorizer ----------------------------------------------------------------------------

    def _authorize(self, action: int, one, two, database, trigger_or_view) -> int:
        if self._trusted:
            return apsw.SQLITE_OK
        if self.read_only and action in _WRITE_ACTIONS:
            if self.denied is None:
                self.denied = errors.forbidden(f"{_WRITE_ACTIONS[action]} needs the admin role; "
                                               f"this user may only query")
            return apsw.SQLITE_DENY
        reason = _DENIED_ACTIONS.get(action)
        if action == apsw.SQLITE_PRAGMA:
            if str(one).lower() in READ_ONLY_PRAGMAS:
                return apsw.SQLITE_OK
            reason = f"PRAGMA {one} is not permitted"
        elif action == apsw.SQLITE_FUNCTION and str(two).lower() in FORBIDDEN_FUNCTIONS:
            reason = f"The function {two} is not permitted"
        elif action == apsw.SQLITE_DROP_TABLE and database == "temp":
            reason = "Dropping this table is not permitted"
        if reason is None:
            return apsw.SQLITE_OK
        if self.denied is None:
            self.denied = reason
        return apsw.SQLITE_DENY
