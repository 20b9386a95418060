"""Tag tables through SQL: virtual tables over the store with pushdown, and the direct path.

Pushdown is checked by what the cursors read (`engine.scans()`): a query on one tag and a
time range reads exactly the rows it returns, not the tag. Every query the direct path
answers is also run through SQLite and the virtual tables (`fast=False`): same rows.
"""

import numpy as np
import pytest

from edge.errors import EdgeError

SECOND = 10**9
MINUTE = 60 * SECOND
BASE = 1_600_000_000 * SECOND  # 2020-09-13 12:26:40 UTC
POINTS = 7200  # two hours, one point a second


@pytest.fixture
def loaded(historian):
    for offset, name in enumerate(["a", "b", "c"]):
        times = BASE + np.arange(POINTS, dtype=np.int64) * SECOND
        historian.append("TAG", name, times, np.arange(POINTS, dtype=np.float64) + offset * 100000)
    return historian


def both(historian, sql):
    """Rows of `sql` from the direct path and from SQLite; asserts they agree."""
    fast = historian.rows(sql)
    slow = historian.rows(sql, fast=False)
    assert fast == slow, sql
    assert historian.columns(sql) == historian.columns(sql, fast=False), sql
    return fast


def read_rows(historian):
    return sum(scan.rows for scan in historian.engine.scans())


def test_one_tag_and_a_time_range_read_only_the_range(loaded):
    sql = ("select * from tag where name = 'b' and time between '2020-09-13 12:30:00' "
           "and '2020-09-13 12:30:09'")
    rows = loaded.rows(sql, fast=False)
    assert [r[2] for r in rows] == [100000.0 + 200 + i for i in range(10)]
    assert read_rows(loaded) == 10  # the store was asked for the range, not scanned
    scans = loaded.engine.scans()
    assert len(scans) == 1 and scans[0].plan == "name=,time>=,time<=" and scans[0].tags == 1
    assert both(loaded, sql) == rows


def test_time_bounds_of_every_kind_are_pushed_down(loaded):
    for condition, expected in [("time > '2020-09-13 12:30:00' and time < '2020-09-13 12:30:03'", 2),
                                ("time >= '2020-09-13 12:30:00' and time <= '2020-09-13 12:30:03'", 4),
                                ("time = '2020-09-13 12:30:00'", 1),
                                (f"time >= {BASE + 10 * SECOND} and time < {BASE + 15 * SECOND}", 5)]:
        sql = f"select value from tag where name = 'a' and {condition}"
        assert len(loaded.rows(sql, fast=False)) == expected
        assert read_rows(loaded) == expected, condition
        assert len(both(loaded, sql)) == expected


def test_name_in_reads_only_those_tags(loaded):
    sql = f"select name, value from tag where name in ('c', 'a', 'zz') and time < {BASE + 2 * SECOND}"
    rows = loaded.rows(sql, fast=False)
    assert sorted(rows) == [("a", 0.0), ("a", 1.0), ("c", 200000.0), ("c", 200001.0)]
    scans = loaded.engine.scans()
    assert [(s.plan, s.tags, s.rows) for s in scans] == [("name in,time<", 2, 4)]


def test_order_by_time_of_one_tag_is_the_stores_order(loaded):
    sql = f"select time, value from tag where name = 'a' and time < {BASE + 5 * SECOND} order by time desc"
    assert [r[1] for r in both(loaded, sql)] == [4.0, 3.0, 2.0, 1.0, 0.0]
    plan = loaded.rows(f"explain query plan {sql}")
    assert "order time desc" in plan[0][3] and "USE TEMP B-TREE" not in " ".join(r[3] for r in plan)


def test_order_by_name_then_time_over_several_tags(loaded):
    sql = f"select name, value from tag where time < {BASE + 2 * SECOND} order by name desc, time"
    assert both(loaded, sql) == [("c", 200000.0), ("c", 200001.0), ("b", 100000.0), ("b", 100001.0),
                                 ("a", 0.0), ("a", 1.0)]


def test_order_by_time_over_several_tags_merges(loaded):
    sql = f"select name, time from tag where name in ('a', 'b') and time < {BASE + 2 * SECOND} order by time"
    rows = both(loaded, sql)
    assert [r[1] for r in rows] == [BASE, BASE, BASE + SECOND, BASE + SECOND]


def test_limit_caps_what_is_read(loaded):
    rows = loaded.rows("select * from tag limit 2", fast=False)
    assert [r[2] for r in rows] == [0.0, 1.0]
    assert read_rows(loaded) <= 3
    assert both(loaded, "select * from tag where name = 'b' order by time desc limit 3 offset 1") == [
        ("b", BASE + (POINTS - 2 - i) * SECOND, 100000.0 + POINTS - 2 - i) for i in range(3)]
    assert both(loaded, "select value from tag where name = 'c' limit 2, 2") == [(200002.0,), (200003.0,)]


def test_whole_tag_aggregates_come_from_stats(loaded):
    sql = "select count(*), min(value), max(value), min(time), max(time) from tag where name = 'b'"
    assert both(loaded, sql) == [(POINTS, 100000.0, 100000.0 + POINTS - 1, BASE, BASE + (POINTS - 1) * SECOND)]
    assert loaded.columns(sql) == [("COUNT(*)", 12, 8), ("MIN(VALUE)", 20, 8), ("MAX(VALUE)", 20, 8),
                                   ("MIN(TIME)", 6, 8), ("MAX(TIME)", 6, 8)]


def test_range_aggregates_are_exact_on_ragged_edges(loaded):
    sql = ("select count(*), sum(value), avg(value), min(value), max(value), first(time, value), "
           f"last(time, value) from tag where name = 'a' and time >= {BASE + 17 * SECOND} "
           f"and time <= {BASE + 6000 * SECOND + 3}")
    values = np.arange(17, 6001, dtype=np.float64)
    assert both(loaded, sql) == [(len(values), values.sum(), values.mean(), 17.0, 6000.0, 17.0, 6000.0)]


def test_rollup_minutes_average_matches_sqlite(loaded):
    sql = ("select rollup('min', 1, time) as m, avg(value), count(*) from tag where name = 'a' "
           "and time >= '2020-09-13 12:30:00' and time < '2020-09-13 13:30:00' group by m order by m")
    rows = both(loaded, sql)
    assert len(rows) == 60
    assert rows[0] == (BASE + 200 * SECOND, float(np.mean(np.arange(200, 260))), 60)
    assert loaded.columns(sql) == [("M", 6, 8), ("AVG(VALUE)", 20, 8), ("COUNT(*)", 12, 8)]


def test_rollup_by_name_and_order_desc(loaded):
    sql = ("select name, rollup('hour', 1, time) h, max(value) from tag where name in ('a', 'b') "
           "group by name, h order by name desc, h")
    rows = both(loaded, sql)
    assert [r[0] for r in rows] == ["b", "b", "b", "a", "a", "a"]
    assert rows[0] == ("b", BASE - (26 * 60 + 40) * SECOND, 100000.0 + 1999)


def test_group_by_name_with_first_last(loaded):
    sql = "select name, count(value), first(time, value), last(time, value) from tag group by name"
    assert both(loaded, sql) == [("a", POINTS, 0.0, POINTS - 1.0), ("b", POINTS, 100000.0, 100000.0 + POINTS - 1),
                                 ("c", POINTS, 200000.0, 200000.0 + POINTS - 1)]


def test_no_rows_still_give_one_aggregate_row(loaded):
    sql = "select count(*), avg(value) from tag where name = 'nobody'"
    assert both(loaded, sql) == [(0, None)]


def test_null_values_send_aggregates_through_sqlite(historian):
    historian.append("TAG", "n", [BASE, BASE + SECOND, BASE + 2 * SECOND], [1.0, np.nan, 3.0])
    sql = f"select count(*), count(value), avg(value) from tag where name = 'n' and time >= {BASE + SECOND}"
    assert both(historian, sql) == [(2, 1, 3.0)]
    assert both(historian, "select rollup('sec', 1, time) s, count(*) from tag group by s") == [
        (BASE, 1), (BASE + SECOND, 1), (BASE + 2 * SECOND, 1)]
    assert historian.rows("select * from tag where name = 'n'")[1] == ("n", BASE + SECOND, None)


def test_out_of_order_points_read_in_time_order(historian):
    historian.append("TAG", "late", [BASE + 5, BASE + 1, BASE + 3], [5.0, 1.0, 3.0])
    historian.append("TAG", "late", [BASE + 2, BASE + 4], [2.0, 4.0])
    assert both(historian, "select value from tag where name = 'late' order by time") == \
        [(1.0,), (2.0,), (3.0,), (4.0,), (5.0,)]
    assert both(historian, "select value from tag where name = 'late'") == [(5.0,), (1.0,), (3.0,), (2.0,), (4.0,)]


def test_insert_through_sql_is_one_append(historian):
    historian.run("insert into tag values ('ins', '2020-09-13 12:26:40', 1.5), ('ins', '2020-09-13 12:26:41', null)")
    historian.run("insert into tag select 'copy', time, value * 2 from tag where name = 'ins'")
    assert historian.rows("select * from tag where name in ('ins', 'copy') order by name, time") == [
        ("copy", BASE, 3.0), ("copy", BASE + SECOND, None), ("ins", BASE, 1.5), ("ins", BASE + SECOND, None)]
    stats = historian.store.table("TAG").stats("ins")
    assert stats.count == 2


def test_a_failing_insert_appends_nothing(historian):
    with pytest.raises(EdgeError):
        historian.run("insert into tag values ('ok', '2020-09-13 12:26:40', 1), ('bad', 'not a time', 2)")
    assert historian.store.table("TAG").stats("ok") is None


def test_update_and_row_deletes_are_refused_with_the_way_to_do_it(loaded):
    with pytest.raises(EdgeError) as err:
        loaded.run("update tag set value = 0 where name = 'a'")
    assert "METADATA" in err.value.text
    with pytest.raises(EdgeError) as err:
        loaded.run("delete from tag where value > 3")
    assert "time <" in err.value.text


def test_delete_oldest_data_of_a_tag(loaded):
    deleted = loaded.run("delete from tag where name = 'a' and time < '2020-09-13 12:30:00'")
    assert deleted.effect_rows == 200
    assert loaded.rows("select row_count, min_time from v$tag_stat where name = 'a'") == [(POINTS - 200,
                                                                                           BASE + 200 * SECOND)]
    assert loaded.run(f"delete from tag before {BASE + 300 * SECOND}").effect_rows == 100 + 300 + 300
    assert loaded.run("delete from tag where name in ('b', 'c') and time <= " + str(BASE + 300 * SECOND)) \
        .effect_rows == 2


def test_stat_view(loaded):
    loaded.append("TAG", "a", [BASE + 10**13], [-5.0])
    rows = loaded.rows("select * from v$tag_stat where name = 'a'")
    assert rows == [("a", POINTS + 1, BASE, BASE + 10**13, -5.0, BASE + 10**13, POINTS - 1.0,
                     BASE + (POINTS - 1) * SECOND, BASE + 10**13)]
    assert [c[0] for c in loaded.columns("select * from v$tag_stat")] == [
        "NAME", "ROW_COUNT", "MIN_TIME", "MAX_TIME", "MIN_VALUE", "MIN_VALUE_TIME", "MAX_VALUE", "MAX_VALUE_TIME",
        "RECENT_ROW_TIME"]
    assert loaded.rows("select name from v$tag_stat where name in ('c', 'b')") == [("b",), ("c",)]
    assert loaded.engine.scans()[0].plan == "name in"


def test_tagdata_table_with_extras_and_metadata(historian):
    historian.run("create tagdata table sensors (name varchar(20) primary key, time datetime basetime, "
                  "value double summarized, status integer, note varchar(10)) metadata (site varchar(16))")
    historian.run("insert into sensors metadata values ('s1', 'plant-a')")
    historian.run("insert into sensors metadata (name) values ('s2')")
    historian.run("update sensors metadata set site = 'plant-b' where name = 's2'")
    assert historian.rows("select * from _sensors_meta order by name") == [("s1", "plant-a"), ("s2", "plant-b")]
    historian.run("insert into sensors values ('s1', '2020-09-13 12:26:40', 1.5, 7, 'ok'), "
                  "('s1', '2020-09-13 12:26:41', 2.5, null, null)")
    sql = "select * from sensors where name = 's1'"
    assert both(historian, sql) == [("s1", BASE, 1.5, 7, "ok"), ("s1", BASE + SECOND, 2.5, None, None)]
    assert historian.columns(sql) == [("NAME", 5, 20), ("TIME", 6, 8), ("VALUE", 20, 8), ("STATUS", 8, 4),
                                      ("NOTE", 5, 10)]
    with pytest.raises(EdgeError) as err:
        historian.run("delete from sensors metadata where name = 's1'")
    assert err.value.code == 2324
    historian.run("delete from sensors metadata where name = 's2'")
    assert historian.rows("select name from _sensors_meta") == [("s1",)]
    historian.run("drop table sensors")
    with pytest.raises(EdgeError):
        historian.run("select * from sensors")


def test_joins_and_subqueries_run_through_sqlite(loaded):
    loaded.run("create table limits (name varchar(20), high double)")
    loaded.run("insert into limits values ('a', 7197), ('b', 107198)")
    sql = ("select t.name, count(*) from tag t join limits l on t.name = l.name "
           "where t.value > l.high group by t.name order by t.name")
    assert loaded.rows(sql) == [("a", 2), ("b", 1)]
    assert loaded.rows("select count(*) from (select * from tag where name = 'c' limit 10)") == [(10,)]


def test_tag_and_log_tables_cannot_share_a_name(historian):
    historian.run("create table plain (a integer)")
    with pytest.raises(EdgeError) as err:
        historian.run("create tag table plain (name varchar(20) primary key, time datetime basetime, "
                      "value double summarized)")
    assert err.value.code == 2026


def test_an_integer_value_column_reads_as_integers_on_both_paths(historian):
    historian.run("create tag table counters (name varchar(20) primary key, time datetime basetime, "
                  "value long summarized)")
    historian.run("insert into counters values ('c', 1, 5), ('c', 2, null), ('c', 3, 7)")
    sql = "select * from counters where name = 'c'"
    assert both(historian, sql) == [("c", 1, 5), ("c", 2, None), ("c", 3, 7)]
    assert historian.columns(sql)[2] == ("VALUE", 12, 8)
    assert both(historian, "select sum(value), min(value), max(value) from counters where name = 'c'") == [(12, 5, 7)]


def test_limit_with_an_order_the_store_does_not_give_is_left_to_sqlite(loaded):
    assert both(loaded, "select value from tag order by value desc limit 2") == \
        [(200000.0 + POINTS - 1,), (200000.0 + POINTS - 2,)]


def test_direct_path_and_sqlite_agree_on_many_queries(historian):
    """Queries drawn from the shapes the direct path takes, over out-of-order, duplicate and
    NULL data; each answer is compared with SQLite's over the virtual table."""
    rng = np.random.default_rng(5)
    a_times = BASE + rng.permutation(3000).astype(np.int64) * SECOND // 2  # out of order, half seconds
    historian.append("TAG", "a", a_times, rng.integers(0, 100, 3000).astype(np.float64))
    historian.append("TAG", "a", a_times[:50], np.full(50, 7.0))  # duplicate times
    historian.append("TAG", "b", BASE + np.arange(2500, dtype=np.int64) * SECOND, np.arange(2500.0))
    c_values = rng.integers(0, 10, 1000).astype(np.float64)
    c_values[::97] = np.nan
    historian.append("TAG", "c", BASE + np.arange(1000, dtype=np.int64) * 3 * SECOND, c_values)
    names = ["name = 'a'", "name = 'b'", "name in ('a', 'b')", "name in ('b', 'c')", "name = 'c'", None]
    times = [None, f"time >= {BASE + 100 * SECOND}",
             f"time between {BASE + 61 * SECOND + 7} and {BASE + 1234 * SECOND}",
             f"time < {BASE + 999 * SECOND}", f"time > {BASE + 5 * SECOND} and time <= {BASE + 2000 * SECOND}"]
    aggregates = ["count(*)", "count(value)", "sum(value)", "avg(value)", "min(value)", "max(value)", "min(time)",
                  "max(time)", "first(time, value)", "last(time, value)"]
    for trial in range(80):
        where = [c for c in (names[rng.integers(len(names))], times[rng.integers(len(times))]) if c]
        where_sql = f" where {' and '.join(where)}" if where else ""
        shape = trial % 4
        if shape == 0:
            order = ["", " order by time", " order by time desc", " order by name, time", " order by name desc"][
                rng.integers(5)]
            limit = ["", " limit 7", " limit 5 offset 3"][rng.integers(3)]
            sql = f"select * from tag{where_sql}{order}{limit}"
            fast, slow = historian.rows(sql), historian.rows(sql, fast=False)
            if order in (" order by time", " order by time desc") and not where_sql.startswith(" where name ="):
                if limit:
                    continue  # ties between tags may be cut differently
                fast, slow = sorted(fast), sorted(slow)
            assert fast == slow, sql
            continue
        picked = [aggregates[i] for i in rng.choice(len(aggregates), 3, replace=False)]
        if shape == 1:
            sql = f"select {', '.join(picked)} from tag{where_sql}"
        elif shape == 2:
            sql = f"select name, {', '.join(picked)} from tag{where_sql} group by name"
        else:
            unit = ["'sec', 30", "'min', 1", "'min', 5", "'hour', 1"][rng.integers(4)]
            sql = f"select rollup({unit}, time) r, {', '.join(picked)} from tag{where_sql} group by r order by r"
        assert both(historian, sql) is not None, sql


def test_time_in_a_list_is_filtered(loaded):
    sql = f"select value from tag where name = 'a' and time in ({BASE + 3 * SECOND}, '2020-09-13 12:26:45')"
    assert both(loaded, sql) == [(3.0,), (5.0,)]
