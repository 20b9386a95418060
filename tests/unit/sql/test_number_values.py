"""Numbers go into tables as they were written, or the statement fails: no infinity (which a
table would read back as null), no integer beyond 64 bits (which SQLite keeps rounded, as a
double), no number an integer column cannot hold; every way of asking for an aggregate then
gives the same answer."""

from __future__ import annotations

import pytest

from edge.errors import CONSTRAINT_FAILED, INVALID_VALUE, TAG_EXISTS, EdgeError
from tests.unit.sql.conftest import BASE, SECOND

TAG_TABLE = "create tag table tt (name varchar(20) primary key, time datetime basetime, value double summarized, " \
            "f float)"
LOG_TABLE = "create table lt (name varchar(20), v double, f float, i long, s short, u ulong, t datetime)"


def refused(historian, sql: str) -> EdgeError:
    with pytest.raises(EdgeError) as err:
        historian.run(sql)
    return err.value


@pytest.mark.parametrize("literal, fragment", [
    ("123456789012345678901234567890", "integers are 64-bit"),
    ("9223372036854775808", "integers are 64-bit"),
    ("1e999", "numbers are 64-bit doubles"),
    ("1.5e309", "numbers are 64-bit doubles"),
])
def test_a_number_literal_sqlite_would_change_fails_any_statement(historian, literal, fragment):
    for sql in (f"select {literal}", f"select * from tag where value > {literal}"):
        error = refused(historian, sql)
        assert error.code == INVALID_VALUE
        assert error.text.startswith(f"Number {literal} is out of range: ") and fragment in error.text


def test_number_literals_at_the_limits_are_taken_as_written(historian):
    assert historian.rows("select 9223372036854775807, -9223372036854775808, 1e308, 00000000000000000000000001, "
                          "123456789012345678901234567890.0, 0x7fffffffffffffff") == \
        [(2**63 - 1, -(2**63), 1e308, 1, 1.2345678901234568e29, 2**63 - 1)]


def test_a_literal_of_thousands_of_digits_is_refused_without_python_internals(historian):
    error = refused(historian, "select " + "7" * 5000)
    assert error.code == INVALID_VALUE
    assert error.text.startswith("Number " + "7" * 37 + "... is out of range: integers are 64-bit")
    assert "sys." not in error.text and "int()" not in error.text


def test_insert_into_a_tag_table_refuses_a_computed_infinity_and_stores_nothing(historian):
    historian.run(TAG_TABLE)
    historian.run(f"insert into tt values ('a', {BASE}, 1.5, 2.5)")
    for values in (f"('b', {BASE}, 1.0, null), ('a', {BASE + SECOND}, 1e308 * 10, null)",
                   f"('a', {BASE + SECOND}, -1e308 * 10, null)"):
        error = refused(historian, f"insert into tt values {values}")
        assert error.code == CONSTRAINT_FAILED and "Table TT: the value must be a finite number or NULL, got" \
            in error.text
    for values in ("'a', 1e30, 1.0, null", "'a', -1e308 * 10, 1.0, null"):  # times beyond int64 ns
        error = refused(historian, f"insert into tt values ({values})")
        assert error.code == CONSTRAINT_FAILED and "Table TT: every row needs a time, got" in error.text
    error = refused(historian, f"insert into tt values ('a', {BASE + SECOND}, 1.0, 1e300)")
    assert error.code == INVALID_VALUE and "Column F must be finite numbers within the range of a float" in error.text
    assert historian.rows("select name, value, f from tt") == [("a", 1.5, 2.5)]


@pytest.mark.parametrize("column, value, fragment", [
    ("v", "1e308 * 10", "V must be a finite number"),
    ("v", "-1e308 * 10", "V must be a finite number"),
    ("f", "1e308 * 10", "F must be a finite number"),
    ("i", "1.5", "I must be a long (-9223372036854775807 to 9223372036854775807)"),
    ("i", "9223372036854775807 * 2", "I must be a long"),
    ("i", "-9223372036854775807 - 1", "I must be a long"),  # Machbase's NULL of a long
    ("s", "40000", "S must be a short (-32767 to 32767)"),
    ("u", "-1", "U must be a ulong (0 to 9223372036854775807)"),
    ("t", "1e308 * 10", "T must be a time"),
    ("t", "1e30", "T must be a time"),  # beyond int64 ns
    ("t", "1.5", "T must be a time"),
])
def test_insert_and_update_of_a_log_table_refuse_what_its_column_cannot_hold(historian, column, value, fragment):
    historian.run(LOG_TABLE)
    historian.run("insert into lt values ('a', 1.5, 2.5, 3, 4, 5, 6)")
    error = refused(historian, f"insert into lt (name, {column}) values ('b', {value})")
    assert error.code == CONSTRAINT_FAILED and error.text.startswith(f"Constraint failed: {fragment}")
    error = refused(historian, f"update lt set {column} = {value}")
    assert error.code == CONSTRAINT_FAILED and error.text.startswith(f"Constraint failed: {fragment}")
    assert historian.rows("select * from lt") == [("a", 1.5, 2.5, 3, 4, 5, 6)]


def test_a_log_table_takes_every_number_its_columns_hold(historian):
    historian.run(LOG_TABLE)
    historian.run("insert into lt values ('a', -1.7976931348623157e308, 3.5, 9223372036854775807, -32767, 0, "
                  "-9223372036854775807)")
    historian.run("insert into lt values ('b', 123456789012345678901234567890.0, null, -9223372036854775807, "
                  "32767, 9223372036854775807, '2020-01-01 00:00:00')")
    historian.run("insert into lt values ('c', 2.0, 1, 7.0, '12', null, null)")  # 7.0 and '12' are integers
    assert historian.rows("select * from lt") == [
        ("a", -1.7976931348623157e308, 3.5, 2**63 - 1, -32767, 0, -(2**63) + 1),
        ("b", 1.2345678901234568e29, None, -(2**63) + 1, 32767, 2**63 - 1, 1577836800 * SECOND),
        ("c", 2.0, 1.0, 7, 12, None, None)]


def test_append_to_a_log_table_counts_infinity_and_integers_beyond_64_bits_as_failures(historian):
    historian.run(LOG_TABLE)
    rows = [["a", 1.5, None, 1, None, None, None],
            ["b", float("inf"), None, None, None, None, None],
            ["c", None, float("-inf"), None, None, None, None],
            ["d", 123456789012345678901234567890, None, None, None, None, None],
            ["e", None, None, 123456789012345678901234567890, None, None, None],
            ["f", None, None, None, None, None, 2**64],
            ["g", 2**63 - 1, 1e300, -(2**63) + 1, None, None, -(2**63)]]
    result = historian.engine.append("lt", {"values": rows})
    assert (result.success, result.failure) == (2, 5)
    assert result.reasons == ["row 1: V must be a finite number, or an integer within 64 bits, or null",
                              "row 3: V must be a finite number, or an integer within 64 bits, or null",
                              "row 2: F must be a finite number, or an integer within 64 bits, or null",
                              "row 4: I must be a long (-9223372036854775807 to 9223372036854775807) or null",
                              "row 5: T is not a time in the date format"]
    assert historian.rows("select name, v, f, i, t from lt") == [("a", 1.5, None, 1, None),
                                                                 ("g", 2.0**63, 1e300, -(2**63) + 1, -(2**63))]


def test_every_way_to_ask_for_an_aggregate_agrees_after_infinities_were_refused(historian):
    historian.run(TAG_TABLE)
    historian.append("TT", "a", [BASE, BASE + SECOND], [5.0, -2.0])
    historian.run(f"insert into tt values ('b', {BASE}, 7.5, null)")
    for sql in (f"insert into tt values ('a', {BASE + 2 * SECOND}, 1e308 * 10, null)",
                f"insert into tt values ('b', {BASE + 2 * SECOND}, -1e999, null)"):
        refused(historian, sql)
    expected = (7.5, -2.0, 10.5, 3)
    sql = "select max(value), min(value), sum(value), count(value) from tt"
    assert historian.rows(sql) == [expected]
    assert historian.rows(sql, fast=False) == [expected]
    assert historian.rows("select max(value) + 0, min(value) + 0, sum(value) + 0, count(*) from tt") == [expected]
    assert historian.rows("select min(value) from tt where name = 'a'") == \
        historian.rows("select min(value) + 0 from tt where name = 'a'") == [(-2.0,)]


def test_tag_metadata_refuses_infinity_and_keeps_what_it_is_given(historian):
    historian.run("create tag table tm (name varchar(20) primary key, time datetime basetime, value double summarized) "
                  "metadata (md double, mf float, ml long)")
    historian.run("insert into tm metadata values ('a', 1.5, 2.5, 3)")
    for sql in ("insert into tm metadata values ('b', 1e308 * 10, null, null)",
                "insert into tm metadata values ('b', null, -1e308 * 10, null)"):
        error = refused(historian, sql)
        assert error.code == TAG_EXISTS and "a value does not fit its column (0 registered)" in error.text
    error = refused(historian, "update tm metadata set md = 1e308 * 10 where name = 'a'")
    assert error.code == INVALID_VALUE and error.text == "Column MD: invalid double value inf (not a finite number)."
    historian.run("insert into tm metadata values ('c', 123456789012345678901234567890.0, 1e300, -9223372036854775807)")
    assert historian.rows("select * from _tm_meta") == [("a", 1.5, 2.5, 3),
                                                        ("c", 1.2345678901234568e29, 1e300, -(2**63) + 1)]


@pytest.mark.parametrize("text", ["99999999999999999999", "9" * 5000])
def test_a_time_written_as_digits_beyond_64_bits_fails_without_python_internals(historian, text):
    for sql in (f"insert into tag values ('a', '{text}', 1)", f"select * from tag where time > '{text}'"):
        error = refused(historian, sql)
        assert error.code == INVALID_VALUE and error.text.startswith("Number 9999") and "integers are 64-bit" \
            in error.text and "sys." not in error.text


def test_a_time_of_digits_and_other_signs_is_read_as_text(historian):
    for text in ("--5", "²", "1-2"):
        error = refused(historian, f"insert into tag values ('a', '{text}', 1)")
        assert error.code == 2132 and error.text.startswith(f"TO_DATE cannot read '{text}' as a time")
    historian.run("insert into tag values ('a', '-5', 1)")
    assert historian.rows("select time, value from tag") == [(-5, 1.0)]
