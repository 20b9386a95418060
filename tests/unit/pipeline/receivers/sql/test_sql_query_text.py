"""A stream's query as text: its :name parameters found outside literals and comments, each
driver's placeholders with the values apart, one SELECT only, the LIMIT of a page."""

import pytest

from edge.pipeline.receivers.sql.querytext import MYSQL, POSTGRESQL, SQLITE, QueryTextError, scan


def test_parameters_skip_casts_literals_comments_and_quoted_names():
    query = scan("SELECT id::text, ':no' AS a, \"x:no\" FROM t -- :no\n"
                 "WHERE id > :id /* :no */ AND at > :at AND $q$ :no $q$ <> '' AND id >= :id ORDER BY id")
    assert query.names == ["id", "at"]
    assert [p.name for p in query.parameters] == ["id", "at", "id"]


def test_each_driver_gets_its_placeholders_and_the_values_apart():
    query = scan("SELECT * FROM t WHERE id > :id AND name LIKE 'a%' AND id < :id + 10 AND at > :at")
    values = {"id": 5, "at": "2024-03-01"}
    assert query.for_driver(POSTGRESQL, values) == (
        "SELECT * FROM t WHERE id > $1 AND name LIKE 'a%' AND id < $1 + 10 AND at > $2", [5, "2024-03-01"])
    assert query.for_driver(MYSQL, values) == (
        "SELECT * FROM t WHERE id > %s AND name LIKE 'a%%' AND id < %s + 10 AND at > %s", [5, 5, "2024-03-01"])
    assert query.for_driver(SQLITE, values) == (
        "SELECT * FROM t WHERE id > ? AND name LIKE 'a%' AND id < ? + 10 AND at > ?", [5, 5, "2024-03-01"])


def test_a_value_that_looks_like_sql_stays_a_value():
    text, args = scan("SELECT * FROM t WHERE name > :name").for_driver(SQLITE, {"name": "x'; DROP TABLE t; --"})
    assert text == "SELECT * FROM t WHERE name > ?" and args == ["x'; DROP TABLE t; --"]


def test_mysql_backslash_escapes_and_hash_comments():
    query = scan("SELECT * FROM t WHERE a = 'it\\'s :no' AND b > :b # :no", MYSQL)
    assert query.names == ["b"]
    assert scan("SELECT * FROM t WHERE a = 'x\\' AND b > :b", POSTGRESQL).names == ["b"]  # 'x\' is a whole literal
    assert scan("SELECT * FROM t WHERE a = E'x\\' :no' AND b > :b", POSTGRESQL).names == ["b"]


@pytest.mark.parametrize("text", ["SELECT 'open", "SELECT /* open", "SELECT $a$ open", 'SELECT "open'])
def test_unterminated_literals_are_errors(text):
    with pytest.raises(QueryTextError):
        scan(text)


@pytest.mark.parametrize("text, problem", [
    ("SELECT * FROM t", None),
    ("select * from t;", None),
    ("WITH recent AS (SELECT * FROM t WHERE id > :id) SELECT * FROM recent", None),
    ("SELECT * FROM t WHERE note = 'insert; delete'", None),
    ("SELECT 1; SELECT 2", "the query must be one statement: remove the ';' and what follows"),
    ("DELETE FROM t", "the query must be a SELECT (or WITH ... SELECT), not DELETE"),
    ("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone", "the query must only read: DELETE is not allowed"),
    ("SELECT * INTO copy_t FROM t", "the query must only read: INTO is not allowed"),
    ("   ", "the query is empty"),
])
def test_only_one_select_is_a_query(text, problem):
    assert scan(text).statement_problem() == problem


def test_the_limit_of_a_page():
    assert scan("SELECT * FROM t WHERE id > :id ORDER BY id LIMIT 100").limit == 100
    assert scan("SELECT * FROM t ORDER BY id limit 5 offset 10;").limit == 5
    assert scan("SELECT * FROM (SELECT * FROM t LIMIT 5) s").limit is None
    assert scan("SELECT * FROM t WHERE note = 'LIMIT 5'").limit is None
