"""V$STMT: the statements running right now, as the Machbase REST API documentation's auth
example shows them (`select * from v$stmt`)."""

from __future__ import annotations

import threading
import time

import pytest

from edge.errors import EdgeError
from edge.sql.statements import MAX_ID, RunningStatements

SPEC_COLUMNS = [("ID", 8, 4), ("SESS_ID", 8, 4), ("STATE", 5, 64), ("RECORD_SIZE", 8, 4), ("QUERY", 5, 32767)]
SLOW = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"


def test_select_star_from_v_stmt_lists_itself_with_the_spec_columns(historian):
    assert historian.columns("select * from v$stmt") == SPEC_COLUMNS
    [(number, session, state, record_size, query)] = historian.rows("select * from v$stmt")
    assert (state, record_size, query) == ("Execute", 0, "select * from v$stmt")
    assert number >= 0 and session >= 1


def test_a_finished_statement_is_no_longer_listed(historian):
    historian.run("create table log1 (v integer)")
    historian.run("insert into log1 values (1)")
    assert historian.rows("select query from V$STMT") == [("select query from V$STMT",)]
    assert historian.rows("select count(*) from v$stmt") == [(1,)]


def test_a_failed_statement_is_no_longer_listed(historian):
    with pytest.raises(EdgeError):
        historian.run("select * from no_such_table")
    assert historian.rows("select query from v$stmt") == [("select query from v$stmt",)]


def test_v_stmt_answers_where_order_by_and_its_hidden_start_time(historian):
    before = time.time_ns()
    rows = historian.rows("select query, state, start_time from v$stmt where state = 'Execute' "
                          "and query like '%start_time%' order by id desc")
    after = time.time_ns()
    [(query, state, start_time)] = rows
    assert query.startswith("select query, state, start_time") and state == "Execute"
    assert before <= start_time <= after
    assert historian.columns("select start_time from v$stmt")[0] == ("START_TIME", 6, 8)
    assert historian.rows("select count(*) from v$stmt where state = 'Fetch'") == [(0,)]
    assert historian.rows("select count(*) from v$stmt where start_time > '2000-01-01 00:00:00'") == [(1,)]


def test_record_size_counts_the_rows_already_handed_over(historian):
    rows = historian.rows("with recursive c(x) as (select 1 union all select x + 1 from c where x < 4) "
                          "select x, (select state || ' ' || record_size from v$stmt where x = x) from c")
    assert rows == [(1, "Execute 0"), (2, "Fetch 1"), (3, "Fetch 2"), (4, "Fetch 3")]


def test_a_concurrent_slow_query_is_listed_by_another_session(make_historian):
    historian = make_historian(timeout_ms=4000)
    outcome: dict = {}

    def slow():
        try:
            historian.run(SLOW)
        except EdgeError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=slow)
    thread.start()
    seen = []
    # Bounded by the slow query's REQUEST_TIMEOUT_MS: it ends, and so does the loop.
    while thread.is_alive() and not seen:
        seen = historian.rows("select id, sess_id, state, query from v$stmt where query like 'with recursive%'")
    thread.join(30)
    assert not thread.is_alive()
    assert outcome["error"].code == 2013  # the slow query ran into its deadline
    [(number, session, state, query)] = seen
    assert (state, query) == ("Execute", SLOW)
    mine = historian.rows("select sess_id from v$stmt")
    assert mine[0][0] != session
    # Once it has ended it is gone.
    assert historian.rows("select query from v$stmt") == [("select query from v$stmt",)]


@pytest.mark.parametrize("statement, text", [
    ("insert into v$stmt values (1, 1, 'x', 0, 'q')", "V$STMT is read-only"),
    ("delete from v$stmt", "V$STMT is read-only"),
    ("update v$stmt set state = 'x'", "V$STMT is read-only"),
    ("drop table v$stmt", "V$STMT is a view of the engine and cannot be dropped"),
    ("create table v$stmt (a integer)", "V$STMT"),
    ("create tag table v$stmt (name varchar(20) primary key, time datetime basetime, value double summarized)",
     "V$STMT"),
])
def test_v_stmt_cannot_be_changed(historian, statement, text):
    with pytest.raises(EdgeError) as caught:
        historian.run(statement)
    assert text in caught.value.text
    assert historian.columns("select * from v$stmt") == SPEC_COLUMNS


def test_registry_numbers_wrap_round_without_reusing_a_running_id():
    statements = RunningStatements()
    statements._next_id = MAX_ID
    with statements.running(1, "first") as first, statements.running(2, "second") as second:
        assert (first.id, second.id) == (MAX_ID, 0)
        statements._next_id = MAX_ID
        with statements.running(3, "third") as third:
            assert third.id == 1
            assert [row[4] for row in statements.rows()] == ["first", "second", "third"]
    assert statements.rows() == []


def test_registry_lists_statements_of_many_threads_at_once():
    statements = RunningStatements()
    inside = threading.Barrier(9)
    release = threading.Event()

    def run(n: int):
        with statements.running(n, f"statement {n}"):
            inside.wait(10)
            release.wait(10)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    inside.wait(10)
    listed = statements.rows()
    release.set()
    for thread in threads:
        thread.join(10)
    assert sorted(row[4] for row in listed) == [f"statement {n}" for n in range(8)]
    assert len({row[0] for row in listed}) == 8
    assert statements.rows() == []
