"""User SQL runs sandboxed: each forbidden statement is refused, runaways end with an error."""

import numpy as np
import pytest

from edge.errors import EdgeError

SECOND = 10**9
BASE = 1_600_000_000 * SECOND

FORBIDDEN = [
    "attach database 'other.db' as other",
    "detach database main",
    "vacuum",
    "vacuum into '/tmp/copy-of-data.db'",
    "pragma journal_mode = delete",
    "pragma writable_schema = 1",
    "pragma database_list",
    "select load_extension('/usr/lib/x86_64-linux-gnu/libsqlite3.so')",
    "begin",
    "commit",
    "savepoint s1",
    "create temp table scratch (a integer)",
    "create trigger t_ins after insert on plain when 0 begin select raise(ignore) end",
    "create virtual table docs using fts5(body)",
    "alter table plain add column b integer",
    "drop table v$tag_stat",
    "drop table _tag_meta",
]


@pytest.mark.parametrize("statement", FORBIDDEN)
def test_forbidden_statements_are_refused(historian, statement):
    historian.run("create table if not exists plain (a integer)")
    with pytest.raises(EdgeError) as err:
        historian.run(statement)
    assert err.value.code == 2012, err.value.text
    assert historian.rows("select count(*) from plain") == [(0,)]


def test_pragmas_that_describe_tables_are_allowed(historian):
    historian.run("create table plain (a integer, b varchar(5))")
    assert [r[1] for r in historian.rows("pragma table_info(plain)")] == ["A", "B"]
    assert [r[1] for r in historian.rows("select * from pragma_table_info('plain')")] == ["A", "B"]


def test_the_catalog_is_not_reachable(historian):
    for statement in ("select * from users", "select * from catalog.users", "select * from tag_tables",
                      "select * from main.tags"):
        with pytest.raises(EdgeError) as err:
            historian.run(statement)
        assert err.value.code in (2010, 2025)
    names = {r[0] for r in historian.rows("select name from sqlite_master")}
    assert not names & {"users", "tags", "tag_tables", "ftx_config"}


def test_a_runaway_query_ends_with_a_timeout_and_the_connection_keeps_working(make_historian):
    historian = make_historian(timeout_ms=300)
    with pytest.raises(EdgeError) as err:
        historian.run("with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c")
    assert err.value.code == 2013 and "REQUEST_TIMEOUT_MS" in err.value.text
    assert historian.rows("select 1 + 1") == [(2,)]


def test_a_runaway_scan_of_a_tag_table_ends_with_a_timeout(make_historian):
    historian = make_historian(timeout_ms=300)
    historian.append("TAG", "t", BASE + np.arange(200_000, dtype=np.int64), np.zeros(200_000))
    with pytest.raises(EdgeError) as err:
        historian.run("select count(*) from tag a, tag b where a.value = b.value + 1")
    assert err.value.code == 2013
    assert historian.rows("select count(*) from tag where name = 't'") == [(200_000,)]


def test_a_result_larger_than_http_max_mem_is_refused(make_historian):
    historian = make_historian(max_mem=1 << 20)
    with pytest.raises(EdgeError) as err:
        historian.run("with recursive c(x) as (select 1 union all select x + 1 from c) "
                      "select x, 'padding padding padding padding' from c")
    assert err.value.code == 2014 and "HTTP_MAX_MEM" in err.value.text
    historian.append("TAG", "big", BASE + np.arange(100_000, dtype=np.int64), np.zeros(100_000))
    with pytest.raises(EdgeError) as err:
        historian.run("select * from tag where name = 'big'")
    assert err.value.code == 2014
    with pytest.raises(EdgeError) as err:
        historian.run("select zeroblob(2000000)")
    assert err.value.code == 2014
    assert historian.rows("select count(*) from tag where name = 'big'") == [(100_000,)]
