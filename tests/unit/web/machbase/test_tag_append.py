"""Append bodies: good rows become columns, bad rows are counted, bad bodies are refused."""

import numpy as np
import pytest

from edge.errors import EdgeError
from edge.time.dateformat import parse_time
from edge.time.timezone import TimeZone
from edge.store.schema import ColumnSpec
from edge.web.machbase.tag_append import append_rows

SEOUL = TimeZone("Asia/Seoul")
KEYS = [ColumnSpec("NAME", "varchar", 20, "name"), ColumnSpec("TIME", "datetime", 8, "time"),
        ColumnSpec("VALUE", "double", 8, "value")]
EXTRAS = KEYS + [ColumnSpec("S", "short", 2, "extra"), ColumnSpec("V", "varchar", 3, "extra"),
                 ColumnSpec("IP", "ipv4", 4, "extra"), ColumnSpec("D", "datetime", 8, "extra"),
                 ColumnSpec("F", "float", 4, "extra")]


def test_spec_example_gives_three_rows_in_the_date_format():
    rows = append_rows({"date_format": "YYYY-MM-DD HH24:MI:SS",
                        "values": [["tag1", "1999-01-01 00:00:00", 0], ["tag1", "1999-01-01 00:00:01", 1],
                                   ["tag1", "1999-01-01 00:00:02", 2]]}, KEYS, SEOUL)
    assert (rows.count, rows.failures) == (3, 0)
    assert rows.names.tolist() == ["tag1"] * 3
    assert rows.times.tolist() == [parse_time(f"1999-01-01 00:00:0{i}", SEOUL) for i in range(3)]
    assert rows.values.tolist() == [0.0, 1.0, 2.0]


def test_bad_rows_are_counted_and_the_rest_kept_in_order():
    rows = append_rows({"values": [
        ["t1", "2001-09-09", 1],
        ["t1", "not a time", 2],
        [5, "2001-09-09", 3],
        ["t1", "2001-09-09", "3.5"],
        ["t1", "2001-09-09"],
        ["x" * 21, "2001-09-09", 1],
        ["t2", "2001-09-10", None],
        ["t3", "2001-09-09", True],
        ["", "2001-09-09", 1],
        ["t4", None, 1],
        ["t5", 1_000_000_000_000_000_000, 2.5],
    ]}, KEYS, SEOUL)
    assert rows.failures == 8
    assert rows.names.tolist() == ["t1", "t2", "t5"]
    assert rows.reasons[1] == "row 2: NAME must be a non-empty string of at most 20 bytes, got 5"
    assert rows.times.tolist() == [parse_time("2001-09-09", SEOUL), parse_time("2001-09-10", SEOUL), 10**18]
    assert rows.values[0] == 1 and np.isnan(rows.values[1]) and rows.values[2] == 2.5
    assert rows.reasons[0] == "row 1: TIME 'not a time' is not a time in the date format"
    assert len(rows.reasons) == 5


def test_cells_of_any_json_type_fail_only_their_row():
    rows = append_rows({"values": [["a", "2001-09-09", 1], ["b", ["2001-09-09"], 2], ["c", {"t": 1}, 3],
                                   [["d"], "2001-09-09 00:00:01", 4], [{"e": 1}, "2001-09-09", 5],
                                   ["f", "2001-09-09 00:00:02", [6]], ["g", 1.5, 7], ["h", "2001-09-09", 8, 9],
                                   ["i"], []]}, KEYS, SEOUL)
    assert rows.names.tolist() == ["a"] and rows.failures == 9


def test_extra_columns_are_checked_by_type_and_keep_nulls():
    rows = append_rows({"values": [
        ["a", "2001-09-09", 1, 5, "abc", "10.0.0.1", "2001-09-09 01:02:03", 1.5],
        ["a", "2001-09-09", 2, None, None, None, None, None],
        ["a", "2001-09-09", 3, 40000, "abc", "10.0.0.1", None, 1],
        ["a", "2001-09-09", 4, 1, "abcd", "10.0.0.1", None, 1],
        ["a", "2001-09-09", 5, 1, "abc", "10.0.0", None, 1],
        ["a", "2001-09-09", 6, 1, "abc", None, "when?", 1],
        ["a", "2001-09-09", 7, 1.5, "abc", None, None, "1"],
    ]}, EXTRAS, SEOUL)
    assert rows.failures == 5
    assert rows.values.tolist() == [1, 2]
    assert rows.extras["S"].tolist() == [5, None]
    assert rows.extras["V"].tolist() == ["abc", None]
    assert rows.extras["IP"].tolist() == ["10.0.0.1", None]
    assert rows.extras["D"].tolist() == [parse_time("2001-09-09 01:02:03", SEOUL), None]
    assert rows.extras["F"][0] == 1.5 and np.isnan(rows.extras["F"][1])


def test_names_count_utf8_bytes_against_the_varchar_length():
    rows = append_rows({"values": [["가" * 6, "2001-09-09", 1], ["가" * 7, "2001-09-09", 1]]}, KEYS, SEOUL)
    assert rows.names.tolist() == ["가" * 6] and rows.failures == 1


def test_empty_values_append_nothing():
    rows = append_rows({"values": []}, KEYS, SEOUL)
    assert (rows.count, rows.failures) == (0, 0)


@pytest.mark.parametrize("body, fragment", [
    ([["t", "2001-09-09", 1]], "JSON object"),
    ({"rows": []}, '"values"'),
    ({"values": {"t": 1}}, '"values"'),
    ({"values": [["t", "2001-09-09", 1], "t,2001-09-09,1"]}, "must be a list"),
    ({"values": [], "date_format": 5}, "date_format"),
])
def test_malformed_bodies_are_refused_whole(body, fragment):
    with pytest.raises(EdgeError) as err:
        append_rows(body, KEYS, SEOUL)
    assert fragment in err.value.text


def test_ten_thousand_interleaved_rows_come_out_grouped_by_tag_in_order():
    body = {"values": [[f"tag-{i % 100}", f"2001-09-09 01:{i // 60 % 60:02d}:{i % 60:02d} 000:000:{i % 1000:03d}",
                        i * 0.5] for i in range(10_000)]}
    rows = append_rows(body, KEYS, SEOUL)
    assert rows.count == 10_000 and rows.failures == 0
    assert rows.names.dtype.kind == "U"
    assert rows.names[:100].tolist() == ["tag-0"] * 100 and rows.names[-1] == "tag-99"
    assert rows.values[:3].tolist() == [0, 50, 100]  # rows 0, 100, 200: tag-0's, in the order given
    assert (np.diff(rows.times[:10]) == 100 * 10**9 + 100).all()


def test_names_repeating_in_a_cycle_keep_their_checks_and_group_by_tag():
    cycle = ["a", "b", "x" * 21]
    body = {"values": [[cycle[i % 3], f"2001-09-09 00:00:{i:02d}", i] for i in range(9)]}
    rows = append_rows(body, KEYS, SEOUL)
    assert rows.failures == 3
    assert rows.names.tolist() == ["a", "a", "a", "b", "b", "b"]
    assert rows.values.tolist() == [0, 3, 6, 1, 4, 7]


@pytest.mark.parametrize("names, grouped", [
    (["a", "b", "a", "c"], ["a", "a", "b", "c"]),  # a cycle that breaks off
    (["a", "b", "a"], ["a", "a", "b"]),  # a cycle cut short
    (["s", "s", "s"], ["s", "s", "s"]),  # one tag
])
def test_names_that_almost_repeat_group_by_tag_in_order(names, grouped):
    rows = append_rows({"values": [[name, "2001-09-09", i] for i, name in enumerate(names)]}, KEYS, SEOUL)
    assert rows.failures == 0
    assert rows.names.tolist() == grouped
    assert rows.values.tolist() == sorted(range(len(names)), key=lambda i: names[i])
