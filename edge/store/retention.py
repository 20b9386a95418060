"""Retention: Machbase's policies that delete a tag table's old rows, and the job applying them.

A policy keeps the rows of the last DURATION (n DAY or MONTH; a month is 30 days, as
Machbase counts it) and is applied every INTERVAL (m DAY or HOUR) to each tag table that
uses it: the rows with a time before `now - duration` are deleted. A table uses one policy
at most; a policy in use cannot be dropped. Policies and their tables live in the catalog
(`retention_policies`, `tag_table_retention`); the housekeeping thread of the store calls
`run_due` and runs each table whose interval has passed since its last run (or since the
policy was added).

A run deletes through `TagTable.delete_before`, limited to the tags whose oldest point is
before the cutoff (from their stats, without reading their files). A tag's points live in
one set of column files (not one per time range), so a tag that loses rows is rewritten
with the rows it keeps into files of its next generation and its old files are deleted
whole: the space returns at once. Its stats and hour rollups are recomputed with it and the
switch is one catalog transaction under the table's locks, so a reader sees the tag before
the run or after it, never half-deleted, and a crash leaves one or the other.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable

from edge.catalog import Catalog
from edge.errors import RETENTION_EXISTS, RETENTION_IN_USE, RETENTION_NOT_FOUND, EdgeError
from edge.store import errors

log = logging.getLogger("edge.store")

HOUR_NS = 3600 * 10**9
DAY_NS = 24 * HOUR_NS
UNITS_NS = {"HOUR": HOUR_NS, "DAY": DAY_NS, "MONTH": 30 * DAY_NS}
DURATION_UNITS = ("DAY", "MONTH")
INTERVAL_UNITS = ("DAY", "HOUR")
MAX_COUNT = 100_000  # days, months or hours: far beyond any use, and far within int64 ns
NAME_BYTES = 40
WAITING, RUNNING = "WAITING", "RUNNING"
# How often the housekeeping thread reads the jobs from the catalog when none is due: a change
# made through this store is seen at once; one made by another process (`edge sql`) within this.
RECHECK_NS = 60 * 10**9


@dataclasses.dataclass(frozen=True)
class Policy:
    name: str
    duration_value: int
    duration_unit: str
    interval_value: int
    interval_unit: str

    @property
    def duration_ns(self) -> int:
        return self.duration_value * UNITS_NS[self.duration_unit]

    @property
    def interval_ns(self) -> int:
        return self.interval_value * UNITS_NS[self.interval_unit]


@dataclasses.dataclass(frozen=True)
class Job:
    """A tag table under a policy, and what its last run did."""
    table: str
    policy: Policy
    state: str  # WAITING or RUNNING
    added_at: int  # ns
    last_run: int | None  # ns: when the last run ended
    last_cutoff: int | None  # ns: rows before this time were deleted by it
    last_deleted_rows: int
    last_error: str | None

    @property
    def next_run(self) -> int:
        return (self.last_run if self.last_run is not None else self.added_at) + self.policy.interval_ns


class Retention:
    """The policies of one store and their job (the store's `retention`)."""

    def __init__(self, catalog: Catalog, table: Callable[[str], object], table_names: Callable[[], list[str]]):
        self._catalog = catalog
        self._table = table  # name -> TagTable (EdgeError for an unknown one)
        self._table_names = table_names
        self._running: set[str] = set()
        self._lock = threading.Lock()  # one run at a time (housekeeping, or a caller of run_now)
        # ns: when `run_due` reads the jobs again (0: at its next call); the first time a minute
        # after start-up, which a job that fell due while the server was down can wait.
        self._next_check = time.time_ns() + RECHECK_NS

    # Policies --------------------------------------------------------------------------------

    def create_policy(self, name: str, duration_value: int, duration_unit: str, interval_value: int,
                      interval_unit: str) -> Policy:
        policy = Policy(_policy_name(name), int(duration_value), duration_unit.upper(), int(interval_value),
                        interval_unit.upper())
        if policy.duration_unit not in DURATION_UNITS:
            raise errors.invalid_argument(f"DURATION takes DAY or MONTH, got {duration_unit}")
        if policy.interval_unit not in INTERVAL_UNITS:
            raise errors.invalid_argument(f"INTERVAL takes DAY or HOUR, got {interval_unit}")
        for what, value in (("DURATION", policy.duration_value), ("INTERVAL", policy.interval_value)):
            if not 1 <= value <= MAX_COUNT:
                raise errors.invalid_argument(f"{what} takes a whole number from 1 to {MAX_COUNT}, got {value}")
        conn = self._catalog.connection()
        with conn:
            if conn.execute("SELECT 1 FROM retention_policies WHERE name = ?", (policy.name,)).fetchone():
                raise EdgeError(RETENTION_EXISTS, f"Retention policy {policy.name} already exists.")
            conn.execute("INSERT INTO retention_policies (name, duration_value, duration_unit, interval_value, "
                         "interval_unit, created_at) VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%d %H:%M:%f', 'now'))",
                         (policy.name, policy.duration_value, policy.duration_unit, policy.interval_value,
                          policy.interval_unit))
        return policy

    def drop_policy(self, name: str) -> None:
        """Removes a policy; refused while a table uses it (as Machbase refuses it)."""
        upper = _policy_name(name)
        conn = self._catalog.connection()
        with conn:
            self._policy(conn, upper)
            users = [row[0] for row in conn.execute(
                "SELECT t.name FROM tag_table_retention r JOIN tag_tables t USING (table_id) WHERE r.policy = ? "
                "ORDER BY t.name", (upper,))]
            if users:
                raise EdgeError(RETENTION_IN_USE, f"Retention policy {upper} is used by table(s) {', '.join(users)}; "
                                                  f"ALTER TABLE ... DROP RETENTION first.")
            conn.execute("DELETE FROM retention_policies WHERE name = ?", (upper,))

    def policies(self) -> list[Policy]:
        rows = self._catalog.connection().execute(
            "SELECT name, duration_value, duration_unit, interval_value, interval_unit FROM retention_policies "
            "ORDER BY name").fetchall()
        return [Policy(*row) for row in rows]

    # Tables ----------------------------------------------------------------------------------

    def attach(self, table_name: str, policy_name: str, now_ns: int | None = None) -> None:
        """ALTER TABLE t ADD RETENTION p: the first run comes one interval from now."""
        table = self._table(table_name)
        upper = _policy_name(policy_name)
        conn = self._catalog.connection()
        with conn:
            self._policy(conn, upper)
            found = conn.execute("SELECT policy FROM tag_table_retention WHERE table_id = ?",
                                 (table.table_id,)).fetchone()
            if found:
                raise errors.invalid_argument(f"Table {table.name} already has the retention policy {found[0]}; "
                                              f"ALTER TABLE {table.name} DROP RETENTION first.")
            conn.execute("INSERT INTO tag_table_retention (table_id, policy, added_at) VALUES (?, ?, ?)",
                         (table.table_id, upper, time.time_ns() if now_ns is None else int(now_ns)))
        self._next_check = 0

    def detach(self, table_name: str) -> None:
        """ALTER TABLE t DROP RETENTION."""
        table = self._table(table_name)
        conn = self._catalog.connection()
        with conn:
            conn.execute("DELETE FROM tag_table_retention WHERE table_id = ?", (table.table_id,))
            if not conn.changes():
                raise errors.invalid_argument(f"Table {table.name} has no retention policy.")

    def jobs(self) -> list[Job]:
        """Every table under a policy, by table name."""
        rows = self._catalog.connection().execute(
            "SELECT t.name, p.name, p.duration_value, p.duration_unit, p.interval_value, p.interval_unit, "
            "r.added_at, r.last_run, r.last_cutoff, r.last_deleted_rows, r.last_error "
            "FROM tag_table_retention r JOIN tag_tables t USING (table_id) "
            "JOIN retention_policies p ON p.name = r.policy ORDER BY t.name").fetchall()
        running = set(self._running)
        return [Job(row[0], Policy(*row[1:6]), RUNNING if row[0] in running else WAITING, *row[6:]) for row in rows]

    # Runs ------------------------------------------------------------------------------------

    def run_due(self, now_ns: int | None = None) -> int:
        """Runs every job whose interval has passed (the housekeeping thread calls this);
        returns the rows deleted."""
        now = time.time_ns() if now_ns is None else int(now_ns)
        if now < self._next_check:
            return 0
        self._next_check = now + RECHECK_NS  # also when reading the jobs fails: a minute later
        deleted = 0
        jobs = self.jobs()
        for job in jobs:
            if job.next_run <= now:
                deleted += self._run(job, now)
        upcoming = [job.next_run for job in self.jobs()] if deleted or jobs else []
        self._next_check = min(upcoming + [now + RECHECK_NS])
        return deleted

    def run_now(self, table_name: str, now_ns: int | None = None) -> int:
        """Runs the job of one table now, due or not; returns the rows deleted."""
        upper = str(table_name).strip().upper()
        job = next((j for j in self.jobs() if j.table == upper), None)
        if job is None:
            raise errors.invalid_argument(f"Table {upper} has no retention policy.")
        return self._run(job, time.time_ns() if now_ns is None else int(now_ns))

    def _run(self, job: Job, now: int) -> int:
        cutoff = now - job.policy.duration_ns
        deleted, problem = 0, None
        with self._lock:
            self._running.add(job.table)
            try:
                table = self._table(job.table)
                old = [name for name in table.tag_names() if _older_than(table.stats(name), cutoff)]
                if old:
                    deleted = table.delete_before(cutoff, old)
            except EdgeError as err:
                problem = err.text
            except OSError as err:
                problem = str(err)
            finally:
                self._running.discard(job.table)
        if problem:
            log.warning("retention of %s (policy %s) failed: %s", job.table, job.policy.name, problem)
        elif deleted:
            log.info("retention of %s (policy %s): %d row(s) before %d deleted", job.table, job.policy.name,
                     deleted, cutoff)
        conn = self._catalog.connection()
        with conn:
            conn.execute("UPDATE tag_table_retention SET last_run = ?, last_cutoff = ?, last_deleted_rows = ?, "
                         "last_error = ? WHERE table_id = (SELECT table_id FROM tag_tables WHERE name = ?)",
                         (time.time_ns(), cutoff if problem is None else job.last_cutoff, deleted, problem,
                          job.table))
        return deleted

    def _policy(self, conn, name: str) -> None:
        if not conn.execute("SELECT 1 FROM retention_policies WHERE name = ?", (name,)).fetchone():
            raise EdgeError(RETENTION_NOT_FOUND, f"Retention policy {name} does not exist.", 404)


def _older_than(stats, cutoff: int) -> bool:
    return stats is not None and stats.count > 0 and stats.min_time is not None and stats.min_time < cutoff


def _policy_name(name: str) -> str:
    text = str(name).strip().strip('"').upper()
    if not text or len(text.encode("utf-8")) > NAME_BYTES:
        raise errors.invalid_argument(f"A retention policy name is 1 to {NAME_BYTES} bytes, got {name!r}")
    return text
