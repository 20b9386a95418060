"""Machbase's SQL functions: times in and out, truncation, buckets, FIRST/LAST."""

import pytest

from edge.errors import EdgeError

SECOND = 10**9
BASE = 1_600_000_000 * SECOND  # 2020-09-13 12:26:40 UTC


def one(historian, sql):
    return historian.rows(sql)[0]


def test_to_date_reads_machbase_forms_and_formats(historian):
    assert one(historian, "select to_date('2020-09-13 12:26:40')") == (BASE,)
    assert one(historian, "select to_date('2020-09-13 12:26:40 123:456:789')") == (BASE + 123_456_789,)
    assert one(historian, "select to_date('13/09/2020', 'DD/MM/YYYY')") == (BASE - (12 * 3600 + 26 * 60 + 40) * SECOND,)


def test_to_date_of_nonsense_is_an_error_naming_the_text(historian):
    with pytest.raises(EdgeError) as err:
        historian.run("select to_date('yesterday')")
    assert "yesterday" in err.value.text


def test_times_follow_the_timezone(make_historian):
    seoul = make_historian(timezone="Asia/Seoul")
    assert seoul.rows("select to_date('2020-09-13 21:26:40')") == [(BASE,)]
    assert seoul.rows(f"select to_char({BASE}, 'YYYY-MM-DD HH24:MI')") == [("2020-09-13 21:26",)]
    assert seoul.rows(f"select date_trunc('day', {BASE})") == [(BASE - (21 * 3600 + 26 * 60 + 40) * SECOND,)]


def test_to_char_prints_times_and_other_values(historian):
    assert one(historian, f"select to_char({BASE + 5_000_000}, 'YYYY-MM-DD HH24:MI:SS mmm')") == \
        ("2020-09-13 12:26:40 005",)
    assert one(historian, "select to_char(12.5), to_char(7)") == ("12.5", "7")


def test_date_trunc_units_and_counts(historian):
    assert one(historian, f"select date_trunc('minute', {BASE})") == (BASE - 40 * SECOND,)
    assert one(historian, f"select date_trunc('second', {BASE + 7 * SECOND}, 5)") == (BASE + 5 * SECOND,)
    assert one(historian, f"select to_char(date_trunc('month', {BASE}), 'YYYY-MM-DD HH24:MI:SS')") == \
        ("2020-09-01 00:00:00",)
    assert one(historian, f"select to_char(date_trunc('year', {BASE}), 'YYYY-MM-DD')") == ("2020-01-01",)


def test_date_bin_and_rollup_make_epoch_aligned_buckets(historian):
    assert one(historian, f"select rollup('min', 1, {BASE})") == (BASE - 40 * SECOND,)
    assert one(historian, f"select rollup('sec', 10, {BASE + 14 * SECOND})") == (BASE + 10 * SECOND,)
    assert one(historian, f"select date_bin('hour', 1, {BASE}, {BASE - 60 * SECOND})") == (BASE - 60 * SECOND,)
    with pytest.raises(EdgeError):
        historian.run(f"select rollup('fortnight', 1, {BASE})")


def test_first_and_last_pick_by_time_not_by_order(historian):
    historian.run("create table readings (time datetime, value double)")
    historian.run(f"insert into readings values ({BASE + 2}, 20), ({BASE}, 0), ({BASE + 1}, 10), ({BASE + 2}, 21)")
    assert historian.rows("select first(time, value), last(time, value) from readings") == [(0.0, 21.0)]


def test_unix_time_conversions_and_hex(historian):
    assert one(historian, "select from_unixtime(1600000000), unix_timestamp(to_date('2020-09-13 12:26:40'))") == \
        (BASE, 1_600_000_000)
    assert one(historian, "select to_hex(x'00ff10')") == ("00FF10",)


@pytest.mark.parametrize("call, usage", [
    ("to_date()", "TO_DATE takes (text [, format])"),
    ("to_char(1, 'YYYY', 2)", "TO_CHAR takes (value [, format])"),
    (f"date_trunc('day', {BASE}, 1, 2)", "DATE_TRUNC takes (unit, time [, count])"),
    ("date_bin('hour', 1)", "DATE_BIN takes (unit, size, time [, origin])"),
    ("rollup('min')", "ROLLUP takes (unit, size, time [, origin])"),
])
def test_a_call_with_the_wrong_number_of_arguments_says_how_to_call(historian, call, usage):
    with pytest.raises(EdgeError) as err:
        historian.run(f"select {call}")
    assert err.value.code == 2010
    assert usage in err.value.text


def test_to_char_with_a_null_format_is_refused_not_printed_plainly(historian):
    with pytest.raises(EdgeError) as err:
        historian.run(f"select to_char({BASE}, NULL)")
    assert "format must be text" in err.value.text


@pytest.mark.parametrize("sql, message", [
    ("select date_trunc('hour', 1e300)", "DATE_TRUNC: the time must be a datetime (or text such as "
                                         "'2024-01-01 08:00:00'), got a number beyond the datetime range"),
    ("select date_trunc('hour', -9223372036854775807)", "DATE_TRUNC: the time is beyond the range of int64"),
    ("select date_trunc('hour', 'abc')", "TO_DATE cannot read 'abc' as a time"),
    ("select date_bin('hour', 1, 1e300)", "DATE_BIN: the time must be a datetime"),
    ("select rollup('min', 1, -1e300)", "ROLLUP: the time must be a datetime"),
    ("select to_char(1e300, 'YYYY')", "TO_CHAR: the time must be a datetime"),
    ("select from_unixtime(1e300)", "FROM_UNIXTIME needs the seconds since 1970 of a time from 1677 to 2262"),
    ("select from_unixtime(10000000000000)", "FROM_UNIXTIME needs the seconds since 1970 of a time from 1677"),
    ("select from_unixtime('abc')", "FROM_UNIXTIME needs the seconds since 1970"),
    ("select unix_timestamp('abc')", "TO_DATE cannot read 'abc' as a time"),
])
def test_a_time_beyond_int64_or_not_a_number_is_refused_with_a_clear_error(historian, sql, message):
    with pytest.raises(EdgeError) as err:
        historian.run(sql)
    assert err.value.code == 2132 and err.value.text.startswith(message)
    assert "int()" not in err.value.text and "float" not in err.value.text


def test_time_functions_take_a_time_as_text_or_a_whole_number_of_ns(historian):
    assert historian.rows("select date_trunc('hour', '2020-01-01 05:30:00'), unix_timestamp(1.5e18), "
                          "from_unixtime(1.5), rollup('sec', 1, 2500000000.7)") == \
        [(1577854800 * 10**9, 1_500_000_000, 1_500_000_000, 2 * 10**9)]
