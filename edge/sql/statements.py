"""The statements running right now, behind the `V$STMT` view.

`SqlEngine.execute` registers each statement as it starts and removes it when it ends, however
it ends; `V$STMT` (`edge.sql.vtable.SnapshotViewModule`) lists a snapshot taken when it is read,
so a `SELECT * FROM v$stmt` lists itself, as Machbase's does. Each server thread has its own
connection to data.db, and that connection is the session.

The columns are those the Machbase REST API documentation shows for `select * from v$stmt`:
  ID           the statement's number (counted from 0 by the engine, wrapping within INTEGER)
  SESS_ID      the session (connection) it runs on
  STATE        `Execute` while it runs, `Fetch` once SQLite is handing over its result rows
  RECORD_SIZE  the result rows gathered so far
  QUERY        its text as sent (the first 32767 characters)
and START_TIME, when it began, a hidden column: named in a select list or a condition it is
there, `SELECT *` keeps the documentation's five.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterable, Iterator

from edge.sql import types
from edge.sql.tables import SqlTable

VIEW_NAME = "V$STMT"
SYSTEM = "system"  # the kind of the engine's own views in `edge.sql.tables.Tables`
EXECUTE, FETCH = "Execute", "Fetch"
STATE_LENGTH = 64
MAX_ID = 2**31 - 1  # ID is a Machbase INTEGER
# (name, type, hidden from SELECT *)
COLUMNS: tuple[tuple[str, types.MachType, bool], ...] = (
    ("ID", types.MachType("integer", types.LENGTHS["integer"]), False),
    ("SESS_ID", types.MachType("integer", types.LENGTHS["integer"]), False),
    ("STATE", types.varchar(STATE_LENGTH), False),
    ("RECORD_SIZE", types.MachType("integer", types.LENGTHS["integer"]), False),
    ("QUERY", types.varchar(types.MAX_VARCHAR), False),
    ("START_TIME", types.DATETIME, True),
)


@dataclasses.dataclass
class RunningStatement:
    """One statement while it runs. Only the thread running it changes `state` and `rows`."""
    id: int
    session: int
    query: str
    start_time: int  # ns since the epoch
    state: str = EXECUTE
    rows: int = 0

    def row(self) -> tuple:
        """Its V$STMT row, in COLUMNS order."""
        return (self.id, self.session, self.state, self.rows, self.query, self.start_time)

    def fetching(self, rows: Iterable) -> Iterator:
        """`rows` passed through, counted into RECORD_SIZE, with the state `Fetch`."""
        self.state = FETCH
        for row in rows:
            self.rows += 1
            yield row


class RunningStatements:
    """The registry of running statements, shared by every thread of one engine."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running: dict[int, RunningStatement] = {}
        self._next_id = 0

    @contextlib.contextmanager
    def running(self, session: int, query: str):
        """Lists the statement for as long as the body runs; yields its RunningStatement."""
        with self._lock:
            number = self._next_id
            while number in self._running:  # wrapped round onto one still running
                number = (number + 1) % (MAX_ID + 1)
            self._next_id = (number + 1) % (MAX_ID + 1)
            statement = RunningStatement(number, session, query[:types.MAX_VARCHAR], time.time_ns())
            self._running[number] = statement
        try:
            yield statement
        finally:
            with self._lock:
                del self._running[number]

    def rows(self) -> list[tuple]:
        """The V$STMT rows of the statements running now, oldest first."""
        with self._lock:
            listed = list(self._running.values())
        return [s.row() for s in sorted(listed, key=lambda s: (s.start_time, s.id))]


def sql_table() -> SqlTable:
    """V$STMT as the translator and the result printer see it (START_TIME a datetime)."""
    return SqlTable(VIEW_NAME, SYSTEM, tuple((name, kind) for name, kind, _ in COLUMNS))


def declarations() -> list[tuple[str, str]]:
    """The view's columns as its virtual table declares them to SQLite."""
    return [(name, types.sqlite_declaration(kind) + (" HIDDEN" if hidden else "")) for name, kind, hidden in COLUMNS]
