"""The retention views of the engine, as Machbase names them:

  M$RETENTION       the policies: POLICY_NAME, DURATION and INTERVAL (in seconds, a month
                    counted as 30 days), and the units as written (hidden columns
                    DURATION_UNIT, INTERVAL_UNIT... named in a select list they are there)
  V$RETENTION_JOB   each tag table under a policy: USER_NAME (the engine's one owner, SYS),
                    TABLE_NAME, POLICY_NAME, STATE (WAITING, or RUNNING while a run
                    deletes), LAST_DELETED_TIME (rows before it were deleted by the last
                    run; null before the first); hidden: LAST_RUN_TIME, NEXT_RUN_TIME,
                    DELETED_ROWS (by the last run), ERROR (of the last run, if it failed)

Both read the store's `Retention` when scanned; SQLite applies WHERE and ORDER BY itself.
"""

from __future__ import annotations

from edge.sql import types
from edge.sql.statements import SYSTEM
from edge.sql.tables import SqlTable

OWNER = "SYS"
_INT = types.MachType("integer", types.LENGTHS["integer"])
_NAME = types.varchar(40)
# (view, ((column, type, hidden), ...))
POLICIES = ("M$RETENTION", (
    ("USER_ID", _INT, False), ("POLICY_NAME", _NAME, False), ("DURATION", types.LONG, False),
    ("INTERVAL", types.LONG, False), ("DURATION_VALUE", _INT, True), ("DURATION_UNIT", types.varchar(8), True),
    ("INTERVAL_VALUE", _INT, True), ("INTERVAL_UNIT", types.varchar(8), True)))
JOBS = ("V$RETENTION_JOB", (
    ("USER_NAME", _NAME, False), ("TABLE_NAME", _NAME, False), ("POLICY_NAME", _NAME, False),
    ("STATE", types.varchar(16), False), ("LAST_DELETED_TIME", types.DATETIME, False),
    ("LAST_RUN_TIME", types.DATETIME, True), ("NEXT_RUN_TIME", types.DATETIME, True),
    ("DELETED_ROWS", types.LONG, True), ("ERROR", types.varchar(types.MAX_VARCHAR), True)))
VIEWS = (POLICIES, JOBS)


def policy_rows(retention) -> list[tuple]:
    return [(1, p.name, p.duration_ns // 10**9, p.interval_ns // 10**9, p.duration_value, p.duration_unit,
             p.interval_value, p.interval_unit) for p in retention.policies()]


def job_rows(retention) -> list[tuple]:
    return [(OWNER, j.table, j.policy.name, j.state, j.last_cutoff, j.last_run, j.next_run, j.last_deleted_rows,
             j.last_error) for j in retention.jobs()]


ROWS = {POLICIES[0]: policy_rows, JOBS[0]: job_rows}


def sql_tables() -> list[SqlTable]:
    """The views as the translator and the result printer see them."""
    return [SqlTable(name, SYSTEM, tuple((c, kind) for c, kind, _ in columns)) for name, columns in VIEWS]


def snapshot_views(retention) -> dict:
    """The views as `edge.sql.vtable.SnapshotViewModule` serves them, over the store's `Retention`."""
    return {name: (declarations(name), lambda rows=ROWS[name]: rows(retention)) for name, _ in VIEWS}


def declarations(view: str) -> list[tuple[str, str]]:
    """A view's columns as its virtual table declares them to SQLite."""
    columns = dict(VIEWS)[view]
    # HIDDEN first: after a type with a length, VARCHAR(40) HIDDEN, SQLite would not read it.
    return [(name, ("HIDDEN " if hidden else "") + types.sqlite_declaration(kind)) for name, kind, hidden in columns]

