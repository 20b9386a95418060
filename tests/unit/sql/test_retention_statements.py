"""Retention statements and views through the SQL engine; the data read back after a run."""

import time

import pytest

from edge.errors import (NOT_SUPPORTED, RETENTION_EXISTS, RETENTION_IN_USE, RETENTION_NOT_FOUND, SYNTAX_ERROR,
                         TABLE_NOT_FOUND, EdgeError)
from edge.store.retention import DAY_NS, HOUR_NS

NOW = time.time_ns()


def fails(historian, sql: str) -> EdgeError:
    with pytest.raises(EdgeError) as err:
        historian.run(sql)
    return err.value


def test_create_attach_view_run_and_read_back(historian):
    historian.run("CREATE RETENTION keep_week DURATION 7 DAY INTERVAL 1 HOUR")
    historian.run("create retention keep_year duration 12 month interval 1 day")
    assert historian.rows("SELECT * FROM m$retention ORDER BY policy_name") == [
        (1, "KEEP_WEEK", 7 * 86400, 3600), (1, "KEEP_YEAR", 12 * 30 * 86400, 86400)]
    historian.run("ALTER TABLE tag ADD RETENTION keep_week")
    jobs = historian.rows("SELECT * FROM v$retention_job")
    assert len(jobs) == 1 and jobs[0][:4] == ("SYS", "TAG", "KEEP_WEEK", "WAITING") and jobs[0][4] is None
    times = [NOW - d * DAY_NS for d in (30, 8, 6, 0)]
    historian.append("TAG", "sensor", times, [1.0, 2.0, 3.0, 4.0])
    historian.store.retention.run_due(time.time_ns() + HOUR_NS + 10**9)  # an interval after it was added
    assert [r[0] for r in historian.rows("SELECT value FROM tag WHERE name = 'sensor' ORDER BY time")] == [3.0, 4.0]
    assert historian.rows("SELECT row_count FROM v$tag_stat WHERE name = 'sensor'") == [(2,)]
    deleted = historian.rows("SELECT deleted_rows, state, error FROM v$retention_job WHERE table_name = 'TAG'")
    assert deleted == [(2, "WAITING", None)]
    assert historian.rows("SELECT last_deleted_time IS NOT NULL FROM v$retention_job") == [(1,)]


def test_drop_retention_is_refused_while_a_table_uses_it(historian):
    historian.run("CREATE RETENTION p DURATION 1 DAY INTERVAL 1 HOUR")
    historian.run("ALTER TABLE tag ADD RETENTION p")
    assert fails(historian, "DROP RETENTION p").code == RETENTION_IN_USE
    historian.run("ALTER TABLE tag DROP RETENTION")
    historian.run("DROP RETENTION p")
    assert historian.rows("SELECT * FROM m$retention") == []
    assert historian.rows("SELECT * FROM v$retention_job") == []


@pytest.mark.parametrize("sql, code", [
    ("CREATE RETENTION p DURATION 1 HOUR INTERVAL 1 HOUR", SYNTAX_ERROR),
    ("CREATE RETENTION p DURATION 1 DAY INTERVAL 1 MONTH", SYNTAX_ERROR),
    ("CREATE RETENTION p DURATION 1.5 DAY INTERVAL 1 HOUR", SYNTAX_ERROR),
    ("CREATE RETENTION p DURATION 1 DAY", SYNTAX_ERROR),
    ("CREATE RETENTION p DURATION 1 DAY INTERVAL 1 HOUR extra", SYNTAX_ERROR),
    ("DROP RETENTION nosuch", RETENTION_NOT_FOUND),
    ("ALTER TABLE tag ADD RETENTION nosuch", RETENTION_NOT_FOUND),
    ("ALTER TABLE nosuch ADD RETENTION p0", TABLE_NOT_FOUND),
    ("ALTER TABLE log1 ADD RETENTION p0", NOT_SUPPORTED),
    ("CREATE RETENTION p0 DURATION 2 DAY INTERVAL 1 HOUR", RETENTION_EXISTS),
])
def test_bad_statements_answer_a_clear_error_and_change_nothing(historian, sql, code):
    historian.run("CREATE RETENTION p0 DURATION 1 DAY INTERVAL 1 HOUR")
    historian.run("CREATE TABLE log1 (v INTEGER)")
    err = fails(historian, sql)
    assert err.code == code, err.text
    assert historian.rows("SELECT policy_name FROM m$retention") == [("P0",)]
    assert historian.rows("SELECT * FROM v$retention_job") == []


def test_views_are_read_only(historian):
    historian.run("CREATE RETENTION p DURATION 1 DAY INTERVAL 1 HOUR")
    assert fails(historian, "DROP TABLE v$retention_job").code != 0
    with pytest.raises(EdgeError):
        historian.run("DELETE FROM m$retention")
    assert historian.rows("SELECT policy_name FROM m$retention") == [("P",)]
