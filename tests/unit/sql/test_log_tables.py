"""Log tables: real SQLite tables in data.db with Machbase's types, statements and appends."""

import base64

import apsw
import pytest

from edge.errors import EdgeError

SECOND = 10**9
Y1999 = 915148800 * SECOND  # 1999-01-01 00:00:00 UTC


def test_spec_create_insert_select_drop(historian):
    assert historian.run("create table test_table (name varchar(20), time datetime, value double)").result is None
    historian.run('insert into test_table values ("test", "1999-01-01 00:00:00", 0)')
    assert historian.columns("select * from test_table") == [("NAME", 5, 20), ("TIME", 6, 8), ("VALUE", 20, 8)]
    assert historian.rows("select * from test_table") == [("test", Y1999, 0.0)]
    historian.run("drop table test_table")
    with pytest.raises(EdgeError) as err:
        historian.run("select * from test_table")
    assert err.value.code == 2025


def test_every_machbase_type_reports_its_code_and_length(historian):
    historian.run("create table every (c1 short, c2 integer, c3 long, c4 float, c5 double, c6 varchar(7), "
                  "c7 datetime, c8 ipv4, c9 ipv6, c10 text, c11 binary, c12 ushort, c13 uinteger, c14 ulong)")
    historian.run("insert into every values (1, 2, 3, 4.5, 5.5, 'seven', '2000-01-01', '10.0.0.1', '::1', "
                  "'text', x'0102', 12, 13, 14)")
    assert historian.columns("select * from every") == [
        ("C1", 4, 2), ("C2", 8, 4), ("C3", 12, 8), ("C4", 16, 4), ("C5", 20, 8), ("C6", 5, 7), ("C7", 6, 8),
        ("C8", 32, 4), ("C9", 36, 16), ("C10", 49, 67108864), ("C11", 57, 67108864), ("C12", 104, 2),
        ("C13", 108, 4), ("C14", 112, 8)]
    row = historian.rows("select * from every")[0]
    assert row[:8] == (1, 2, 3, 4.5, 5.5, "seven", 946684800 * SECOND, "10.0.0.1")
    assert row[8:11] == ("::1", "text", base64.b64encode(b"\x01\x02").decode())


def test_nulls_come_back_as_none_in_every_type(historian):
    historian.run("create table nulls (c1 short, c2 double, c3 varchar(5), c4 datetime, c5 binary, c6 text)")
    historian.run("insert into nulls values (null, null, null, null, null, null)")
    assert historian.rows("select * from nulls") == [(None,) * 6]
    assert [c[1] for c in historian.columns("select * from nulls")] == [4, 20, 5, 6, 57, 49]


def test_empty_result_keeps_its_columns(historian):
    historian.run("create table empty (name varchar(20), time datetime)")
    result = historian.run("select * from empty where name = 'nobody'").result
    assert result.rows == 0
    assert [(c.name, c.type.code) for c in result.columns] == [("NAME", 5), ("TIME", 6)]


def test_names_are_kept_upper_case_and_case_insensitive(historian):
    historian.run("create table MixedCase (Some_Col integer)")
    historian.run("insert into mixedcase values (1)")
    assert historian.columns("select some_col, count(*), some_col + 1 from MIXEDCASE") == \
        [("SOME_COL", 8, 4), ("COUNT(*)", 12, 8), ("SOME_COL + 1", 12, 8)]


def test_where_on_times_written_as_strings(historian):
    historian.run("create table events (time datetime, what varchar(10))")
    historian.run("insert into events values ('2020-01-01 00:00:00', 'a'), ('2020-01-02 00:00:00', 'b'), "
                  "('2020-01-03 00:00:00', 'c')")
    assert historian.rows("select what from events where time >= '2020-01-02' order by time") == [("b",), ("c",)]
    assert historian.rows("select what from events where time between '2020-01-01 12:00:00' and "
                          "'2020-01-02 00:00:00'") == [("b",)]


def test_update_delete_and_effect_rows(historian):
    historian.run("create table t (k integer, v double)")
    historian.run("insert into t values (1, 1.0), (2, 2.0), (3, 3.0)")
    assert historian.run("update t set v = v * 10 where k >= 2").effect_rows == 2
    assert historian.run("delete from t where k = 1").effect_rows == 1
    assert historian.rows("select * from t order by k") == [(2, 20.0), (3, 30.0)]


def test_machbase_delete_oldest_and_except_rows(historian):
    historian.run("create table t (k integer)")
    historian.run("insert into t values (1), (2), (3), (4), (5)")
    assert historian.run("delete from t oldest 2 rows").effect_rows == 2
    assert historian.run("delete from t except 1 rows").effect_rows == 2
    assert historian.rows("select k from t") == [(5,)]
    historian.run("truncate table t")
    assert historian.rows("select count(*) from t") == [(0,)]


def test_create_table_refuses_bad_definitions_and_duplicates(historian):
    for bad in ("create table t (a varchar)", "create table t (a blobby)", "create table t (a integer(4))",
                "create table t as select 1", "create table tag (a integer)"):
        with pytest.raises(EdgeError):
            historian.run(bad)
    historian.run("create table t (a integer)")
    with pytest.raises(EdgeError) as err:
        historian.run("create table t (a integer)")
    assert err.value.code == 2026
    historian.run("create table if not exists t (a integer)")


def test_append_checks_each_row_and_keeps_the_good_ones(historian):
    historian.run("create table test_table (name varchar(20), time datetime, value double)")
    body = {"name": "test_table", "date_format": "YYYY-MM-DD",
            "values": [["test", "1999-01-01 00:00:01", 1], ["test", "1999-01-01 00:00:02", 2],
                       ["test", "1999-01-01 00:00:03", 3], ["x" * 21, "1999-01-01", 4], ["test", "never", 5],
                       ["test", "1999-01-01", "five"], ["too", "short"], [None, None, None]]}
    result = historian.engine.append("test_table", body)
    assert (result.success, result.failure) == (4, 4)
    assert historian.rows("select value from test_table order by value") == [(None,), (1.0,), (2.0,), (3.0,)]


def test_binary_append_is_stored_decoded_and_read_back_as_base64(historian):
    payload = bytes(range(256))
    historian.run("create table blobs (v1 binary)")
    result = historian.engine.append("blobs", {"name": "blobs", "values": [[base64.b64encode(payload).decode()],
                                                                            ["not base64!"]]})
    assert (result.success, result.failure) == (1, 1)
    assert historian.rows("select v1 from blobs") == [(base64.b64encode(payload).decode(),)]
    assert historian.rows("select to_hex(v1) from blobs") == [(payload.hex().upper(),)]
    conn = apsw.Connection(str(historian.engine.path))
    assert conn.execute("select v1 from blobs").fetchone()[0] == payload
    conn.close()


def test_append_to_unknown_table_is_an_error(historian):
    with pytest.raises(EdgeError) as err:
        historian.engine.append("nowhere", {"name": "nowhere", "values": []})
    assert err.value.code == 2025


def test_syntax_errors_come_back_as_edge_errors(historian):
    with pytest.raises(EdgeError) as err:
        historian.run("selec * from nothing")
    assert err.value.code == 2010 and "syntax error" in err.value.text


@pytest.mark.parametrize("length", ["1e5", "1.5", "0x10"])
def test_a_varchar_length_that_is_no_whole_number_is_a_syntax_error(historian, length):
    with pytest.raises(EdgeError) as err:
        historian.run(f"create table odd (a varchar({length}))")
    assert err.value.code == 2010 and err.value.text == "Column A: expected a length like VARCHAR(20)"
