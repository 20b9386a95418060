"""The Machbase SQL engine: one statement in, an `Outcome` out.

Each thread gets its own connection to `<data-dir>/data.db` (WAL: readers see a consistent
snapshot while appends commit), with the tag tables of the store as virtual tables in its
temp schema, Machbase's functions, and the sandbox. `catalog.db` is never attached to it.

A statement goes to the first of these that takes it:
  1. tag-table DDL (CREATE TAG[DATA] TABLE, DROP TABLE of a tag table): `edge.sql.tag_ddl`
     reads it into a plan that runs once the engine has checked it against the other tables;
  2. log-table DDL (CREATE TABLE): `edge.sql.log_tables`, then SQLite;
  3. tag-table DELETE / TRUNCATE / METADATA statements: `edge.sql.tag_dml`;
  4. a SELECT on one tag table of a shape the store answers directly: `edge.sql.tag_select`;
  5. everything else: translated (`edge.sql.translate`) and run by SQLite, tag tables
     through their virtual tables (`edge.sql.vtable`).
Table DDL (1 and 2, and DROP TABLE of a log table) runs one statement at a time, checked
against the tables as they are then. Before each statement (and each append) the thread's
virtual tables are brought in line with the store's tag tables; log tables are named `main.`
in the SQL the engine writes, so a virtual table of the temp schema never stands in for one.
Every statement is listed in `V$STMT` while it runs (`edge.sql.statements`); each thread's
connection is one session there.

Retention statements (CREATE/DROP RETENTION, ALTER TABLE ... ADD/DROP RETENTION) go to
`edge.sql.retention` first; M$RETENTION and V$RETENTION_JOB are views like V$STMT
(`edge.sql.retention_views`).

User statements (CREATE/ALTER/DROP USER, `edge.sql.user_ddl`) are taken before all of these,
by their first words, so that their text (a password) is never read by anything else. A
reader's statement (`read_only`) may only query: anything but a query is refused here, and
the sandbox refuses every write a query might hide.
"""

from __future__ import annotations

import itertools
import logging
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import apsw

from edge.errors import NOT_SUPPORTED, TABLE_EXISTS, TABLE_NOT_FOUND, EdgeError
from edge.sql import (errors, log_tables, retention, retention_views, statements, tag_ddl, tag_dml, tag_select,
                      tables as sql_tables, user_ddl)
from edge.sql.functions import Functions
from edge.sql.lexer import NUMBER, STRING, WORD, Token, quote_identifier, single_statement, sql_string, tokenize
from edge.sql.results import Outcome, SizeBudget, collect
from edge.sql.sandbox import Sandbox
from edge.sql.select_list import column_reference, expression_type
from edge.sql.tables import SqlTable, Tables
from edge.time.timezone import TimeZone
from edge.sql.translate import Statement
from edge.sql.types import from_decltype
from edge.sql.vtable import Context, MetaModule, ScanLog, SnapshotViewModule, StatModule, TagModule

if TYPE_CHECKING:
    from edge.settings import Settings
    from edge.store import TagStore

log = logging.getLogger("edge.sql")

DATA_FILE = "data.db"
BUSY_TIMEOUT_MS = 10_000
_MODULES = {"edge_tag": TagModule, "edge_tag_stat": StatModule, "edge_tag_meta": MetaModule}
# The first words of the statements `edge.sql.tag_ddl` reads.
_TAG_DDL = (["CREATE", "TAG"], ["CREATE", "TAGDATA"], ["DROP", "TABLE"])
_TABLE_DDL = (*_TAG_DDL, ["CREATE", "TABLE"])
# The first words of the statements a reader may run (the sandbox refuses any write in them).
_QUERIES = frozenset({"SELECT", "WITH", "EXPLAIN", "VALUES", "PRAGMA"})
# Statements whose answer says how many rows they changed (an INSERT's answer is Machbase's
# plain status).
_COUNTED = ("UPDATE", "DELETE", "TRUNCATE")


class _ThreadState:
    """One thread's connection and what belongs to it."""

    def __init__(self, engine: SqlEngine):
        self.conn = apsw.Connection(str(engine.path), statementcachesize=0)
        self.conn.set_busy_timeout(min(BUSY_TIMEOUT_MS, engine.timeout_ms))
        self.conn.execute("PRAGMA journal_mode=WAL")
        # FULL: an append is on disk before it is acknowledged.
        self.conn.execute("PRAGMA synchronous=FULL")
        self.sandbox = Sandbox(self.conn, engine.timeout_ms, engine.max_result_bytes)
        self.scan_log = ScanLog()
        engine.functions.register(self.conn)
        self.context = Context(engine.zone, self.sandbox, self.scan_log)
        for name, module in _MODULES.items():
            self.conn.create_module(name, module(self.context), use_bestindex_object=True)
        self.session = engine.next_session()
        self.running: statements.RunningStatement | None = None  # the statement it runs now
        views = {statements.VIEW_NAME: (statements.declarations(), engine.statements.rows),
                 **retention_views.snapshot_views(engine.store.retention)}
        self.conn.create_module("edge_views", SnapshotViewModule(views, self.sandbox))
        with self.sandbox.trusted():
            for view in views:
                self.conn.execute(f"CREATE VIRTUAL TABLE temp.{quote_identifier(view)} USING edge_views({view})")
        self.virtual = self.context.bound  # tag table name -> the TagTable its vtables read


class SqlEngine:
    def __init__(self, store: TagStore, settings: Settings, users: user_ddl.UserBook | None = None):
        """Machbase SQL on <DATA_DIR>/data.db and the tag tables of `store`, answering in
        TIMEZONE, within REQUEST_TIMEOUT_MS and HTTP_MAX_MEM; user statements change `users`."""
        self.store = store
        self.users = users
        self.path = Path(settings.data_dir) / DATA_FILE
        self.zone = TimeZone(settings.timezone)
        self.functions = Functions(self.zone)
        self.timeout_ms = settings.request_timeout_ms
        self.max_result_bytes = settings.http_max_mem
        self._local = threading.local()
        self.statements = statements.RunningStatements()
        self._sessions = itertools.count(1)
        self._states: list[_ThreadState] = []
        self._lock = threading.Lock()
        self._ddl_lock = threading.Lock()
        self._log_tables: tuple[int, list[SqlTable]] | None = None
        # TagTable -> its SqlTables (the table and its STAT and META views)
        self._tag_sql_tables: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._closed = False
        # Creates data.db and fails early if it cannot. The read makes SQLite create the WAL's
        # -wal and -shm files now, while there is room, and this first connection keeps them:
        # a thread opening its connection later, when the disk is full, needs them to exist.
        self._state().conn.execute("SELECT count(*) FROM main.sqlite_schema").fetchall()

    # Connections ---------------------------------------------------------------------------

    def _state(self) -> _ThreadState:
        state = getattr(self._local, "state", None)
        if state is None:
            if self._closed:
                raise EdgeError(NOT_SUPPORTED, "The SQL engine is shutting down", 503)
            state = _ThreadState(self)
            self._local.state = state
            with self._lock:
                self._states.append(state)
        return state

    def next_session(self) -> int:
        """A new session id (SESS_ID in V$STMT) for a thread's connection."""
        with self._lock:
            return next(self._sessions)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            states, self._states = self._states, []
        for state in states:
            try:
                state.conn.close()
            except apsw.Error as exc:  # a request may still be using it; the process is ending
                log.warning("closing a data.db connection: %s", exc)

    def scans(self) -> list:
        """What the tag-table cursors of this thread read during its last statement."""
        return list(self._state().scan_log.scans)

    def _sync_virtual_tables(self, state: _ThreadState) -> None:
        """Creates (or drops) the temp virtual tables so they match the store's tag tables.
        A table stays in `state.virtual` until its virtual tables are dropped: SQLite may
        connect them again for the DROP (see `edge.sql.vtable.Context`)."""
        current = {}
        for name in self.store.table_names():
            try:
                current[name] = self.store.table(name)
            except EdgeError:
                continue  # dropped meanwhile
        if all(state.virtual.get(name) is table for name, table in current.items()) \
                and len(state.virtual) == len(current):
            return
        with state.sandbox.trusted():
            for name in list(state.virtual):
                if current.get(name) is not state.virtual[name]:
                    for view in (name, sql_tables.stat_view_name(name), sql_tables.meta_view_name(name)):
                        state.conn.execute(f"DROP TABLE IF EXISTS temp.{quote_identifier(view)}")
                    del state.virtual[name]
            for name, table in current.items():
                if name in state.virtual:
                    continue
                state.virtual[name] = table
                views = ((name, "edge_tag"), (sql_tables.stat_view_name(name), "edge_tag_stat"),
                         (sql_tables.meta_view_name(name), "edge_tag_meta"))
                try:
                    for view, module in views:
                        state.conn.execute(f"CREATE VIRTUAL TABLE temp.{quote_identifier(view)} "
                                           f"USING {module}({name})")
                except apsw.Error:  # none of them then, and the next statement tries again
                    for view, _ in views:
                        state.conn.execute(f"DROP TABLE IF EXISTS temp.{quote_identifier(view)}")
                    del state.virtual[name]
                    raise

    def _tables(self, state: _ThreadState) -> Tables:
        with state.sandbox.trusted():
            version = state.conn.execute("PRAGMA main.schema_version").fetchone()[0]
            cached = self._log_tables
            if cached is None or cached[0] != version:
                cached = (version, sql_tables.log_tables(state.conn))
                self._log_tables = cached
        found = list(cached[1]) + [statements.sql_table()] + retention_views.sql_tables()
        store_tables = {}
        for name in self.store.table_names():
            try:
                table = self.store.table(name)
            except EdgeError:
                continue  # dropped meanwhile
            with self._lock:
                described = self._tag_sql_tables.get(table)
            if described is None:  # a table's columns never change: described once
                described = sql_tables.tag_tables(table)
                with self._lock:
                    self._tag_sql_tables[table] = described
            found.extend(described)
            store_tables[table.name] = table
        return Tables(found, store_tables)

    # Statements ----------------------------------------------------------------------------

    def execute(self, text: str, fast: bool = True, read_only: bool = False) -> Outcome:
        """Runs one statement. `fast=False` sends tag-table SELECTs through SQLite even when
        the store could answer them directly (the tests compare both); `read_only` (a
        reader's statement) refuses anything that is not a query."""
        if not isinstance(text, str) or not text.strip():
            raise errors.syntax("The statement is empty")
        if user_ddl.is_user_statement(text):
            return self._user_statement(text, read_only)
        tokens = single_statement(tokenize(text))
        state = self._state()
        state.scan_log.clear()
        running_statement = self.statements.running(state.session, text.strip())
        with state.sandbox.user_statement(read_only), running_statement as running:
            state.running = running
            try:
                return self._dispatch(state, text, tokens, fast)
            except apsw.InterruptError:
                if state.sandbox.timed_out:
                    raise errors.timeout(self.timeout_ms) from None
                raise errors.syntax("The statement was interrupted") from None
            except apsw.Error as exc:
                if state.sandbox.timed_out:
                    raise errors.timeout(self.timeout_ms) from None
                raise errors.from_sqlite(exc, state.sandbox.denied) from None

    def _dispatch(self, state: _ThreadState, text: str, tokens: list[Token], fast: bool) -> Outcome:
        self._sync_virtual_tables(state)
        words = [t.value for t in tokens[:4] if t.kind == WORD]
        head = tokens[0].value if tokens[0].kind == WORD else ""
        if state.sandbox.read_only and head not in _QUERIES:
            raise errors.forbidden(f"{head or 'This statement'} needs the admin role; this user may only query")
        if retention.matches(tokens):
            with self._ddl_lock:  # it checks that the table exists, as DDL does
                return self._retention(retention.plan(tokens), self._tables(state))
        if words[:2] in _TABLE_DDL:
            # One at a time, checked against the tables as they are once it holds the lock: two
            # threads creating (or dropping) one name must not both find it free (or there).
            with self._ddl_lock:
                return self._table_ddl(state, tokens, words, self._tables(state))
        tables = self._tables(state)
        statement = Statement(text, tokens, tables)
        dml = tag_dml.plan(statement)
        if dml is not None:
            return dml.run(self._evaluate(state, statement, dml.operands, dml.times))
        if fast and head == "SELECT":
            query = tag_select.plan(statement)
            if query is not None:
                budget = SizeBudget(self.max_result_bytes)
                result = query.run(self._evaluate(state, statement, query.operands()), budget,
                                   state.sandbox.check_deadline)
                if result is not None:
                    return Outcome(result=result)
        sql = _log_table_forms(tokens, tables) or statement.sqlite()
        return self._run_sqlite(state, statement, sql, head in _COUNTED)

    def _table_ddl(self, state: _ThreadState, tokens: list[Token], words: list[str], tables: Tables) -> Outcome:
        """CREATE TAG[DATA] TABLE, DROP TABLE (of any kind), CREATE TABLE (a log table)."""
        if words[:2] in _TAG_DDL:
            ddl = tag_ddl.plan(tokens)
            if isinstance(ddl, tag_ddl.DropTable):
                return self._drop_table(state, ddl, tables)
            return self._create_tag_table(ddl, tables)
        create = log_tables.parse_create(tokens)
        found = tables.get(create.name)
        if found is not None and (found.kind != sql_tables.LOG or not create.if_not_exists):
            raise EdgeError(TABLE_EXISTS, f"Table {create.name} already exists.")
        state.conn.execute(create.sql)
        return Outcome()

    def _user_statement(self, text: str, read_only: bool) -> Outcome:
        if read_only:
            raise errors.forbidden("CREATE, ALTER and DROP USER need the admin role")
        if self.users is None:
            raise errors.not_supported("This engine manages no users")
        log.info("sql: %s", user_ddl.plan(text).run(self.users))
        return Outcome()

    def _retention(self, statement: retention.RetentionStatement, tables: Tables) -> Outcome:
        def is_tag_table(name: str) -> bool:
            found = tables.get(name)
            if found is None:
                raise EdgeError(TABLE_NOT_FOUND, f"Table {name} does not exist.", 404)
            return found.kind == sql_tables.TAG

        log.info("sql: %s", statement.run(self.store.retention, is_tag_table))
        return Outcome()

    def _create_tag_table(self, ddl: tag_ddl.CreateTagTable, tables: Tables) -> Outcome:
        found = tables.get(ddl.name)
        if found is not None and found.kind != sql_tables.TAG:
            raise EdgeError(TABLE_EXISTS, f"Table {ddl.name} already exists.")
        log.info("sql: %s", ddl.run(self.store))
        return Outcome()

    def _drop_table(self, state: _ThreadState, ddl: tag_ddl.DropTable, tables: Tables) -> Outcome:
        found = tables.get(ddl.name)
        if found is None:
            if ddl.if_exists:
                return Outcome()
            raise EdgeError(TABLE_NOT_FOUND, f"Table {ddl.name} does not exist.", 404)
        if found.kind == sql_tables.TAG:
            log.info("sql: %s", ddl.run(self.store))
            self._sync_virtual_tables(state)
            return Outcome()
        if found.kind == statements.SYSTEM:
            raise errors.not_permitted(f"{found.name} is a view of the engine and cannot be dropped")
        if found.kind != sql_tables.LOG:
            raise errors.not_permitted(f"{found.name} belongs to tag table {found.source} and cannot be dropped")
        state.conn.execute(f"DROP TABLE main.{quote_identifier(found.name)}")
        return Outcome()

    def _evaluate(self, state: _ThreadState, statement: Statement, operands: list[tuple[Token, ...]],
                  times: frozenset[int] = frozenset()) -> list:
        """The values of constant expressions of the statement, computed by SQLite."""
        if not operands:
            return []
        parts = []
        for i, operand in enumerate(operands):
            if i in times and len(operand) == 1 and operand[0].kind == STRING:
                parts.append(f"TO_DATE({sql_string(operand[0].value)})")
            else:
                parts.append(statement.sqlite(operand[0].start, operand[-1].end))
        return list(state.conn.execute("SELECT " + ", ".join(parts)).fetchone())

    def _run_sqlite(self, state: _ThreadState, statement: Statement, sql: str, counted: bool) -> Outcome:
        cursor = state.conn.cursor()
        described: list = []

        def keep_description(cur, text, bindings):
            described.append(cur.description)
            return True

        cursor.exec_trace = keep_description
        cursor.execute(sql)
        description = described[0] if described else ()
        if not description:
            return Outcome(effect_rows=state.conn.changes() if counted else None)
        names, hints = _describe(statement, description)
        budget = SizeBudget(self.max_result_bytes)
        return Outcome(result=collect(state.running.fetching(cursor), names, hints, budget,
                                      state.sandbox.check_deadline))

    # Appends -------------------------------------------------------------------------------

    def is_log_table(self, name: str) -> bool:
        state = self._state()
        found = self._tables(state).get(str(name).strip())
        return found is not None and found.kind == sql_tables.LOG

    def append(self, name: str, body: dict) -> log_tables.AppendResult:
        """POST /machbase into a log table: the good rows inserted, the bad ones counted."""
        state = self._state()
        with state.sandbox.user_statement():
            self._sync_virtual_tables(state)  # no virtual table of a dropped tag table hides the log table
            found = self._tables(state).get(str(name).strip())
            if found is None or found.kind != sql_tables.LOG:
                missing = str(name).strip().upper()
                raise EdgeError(TABLE_NOT_FOUND, f"Table {missing} does not exist.", 404)
            try:
                with state.sandbox.trusted():
                    return log_tables.append(state.conn, found, body, self.zone)
            except apsw.Error as exc:
                raise errors.from_sqlite(exc) from None


def _describe(statement: Statement, description) -> tuple[list[str], list]:
    """Each result column's name and Machbase type. The type is the declared one, else what
    the select item's expression says; an expression column is named as the client wrote it
    (SQLite would name it by the translated text, `TO_CHAR(time, 'YYYY...')`)."""
    names = [d[0] for d in description]
    hints = [from_decltype(d[1]) for d in description]
    if statement.tokens[0].is_word("EXPLAIN"):
        return names, hints
    items = statement.select_list
    if not items:
        return names, hints
    stars = [i for i, item in enumerate(items) if item.is_star]
    if not stars and len(items) == len(hints):
        mapping = list(range(len(items)))
    elif len(stars) == 1 and len(items) - 1 <= len(hints):
        before, after = stars[0], len(items) - stars[0] - 1
        mapping = list(range(before)) + [None] * (len(hints) - before - after) + \
            list(range(before + 1, len(items)))
    else:
        return names, hints
    for column, index in enumerate(mapping):
        if index is None:
            continue
        item = items[index]
        if hints[column] is None:
            hints[column] = expression_type(item.expression, statement.column_type)
        if item.alias is None and column_reference(item.expression) is None:
            names[column] = item.text(statement.text)
    return names, hints


def _log_table_forms(tokens: list[Token], tables: Tables) -> str | None:
    """Machbase's log-table deletes in SQLite: DELETE FROM t OLDEST|EXCEPT n ROWS, TRUNCATE."""
    if len(tokens) == 3 and tokens[0].is_word("TRUNCATE") and tokens[1].is_word("TABLE"):
        found = tables.get(tokens[2].value)
        if found is not None and found.kind == sql_tables.LOG:
            return f"DELETE FROM main.{quote_identifier(found.name)}"
        return None
    if len(tokens) == 6 and tokens[0].is_word("DELETE") and tokens[1].is_word("FROM") \
            and tokens[3].is_word("OLDEST", "EXCEPT") and tokens[4].kind == NUMBER and tokens[5].is_word("ROWS"):
        found = tables.get(tokens[2].value)
        if found is None or found.kind != sql_tables.LOG:
            return None
        name = "main." + quote_identifier(found.name)
        count = float(tokens[4].text)
        if not count < 2.0 ** 63:  # also a literal of so many digits that it reads as infinity
            raise errors.syntax(f"{tokens[3].value} takes a row count below 2^63, got {tokens[4].text[:20]}")
        count = int(count)
        if tokens[3].value == "OLDEST":
            return f"DELETE FROM {name} WHERE rowid IN (SELECT rowid FROM {name} ORDER BY rowid LIMIT {count})"
        return f"DELETE FROM {name} WHERE rowid NOT IN (SELECT rowid FROM {name} ORDER BY rowid DESC LIMIT {count})"
    return None
