"""Raw reads: exact rows in every direction, with count and offset, for in-order, out-of-order
and duplicate data, several tags, nanosecond times and extra columns of every type."""

from __future__ import annotations

import numpy as np
import pytest

from edge.errors import EdgeError
from edge.store import ColumnSpec
from edge import errors as store_errors

SPEC_START = int(np.datetime64("2001-09-09T01:00:01", "ns").astype(np.int64))
S = 1_000_000_000


def spec_points(tag: str, offset_s: int, n: int):
    times = SPEC_START + (offset_s + 100 * np.arange(n)) * S
    return [tag] * n, times, 8001 + offset_s + 100 * np.arange(n, dtype=np.float64)


def test_spec_raw_example_gives_the_first_five_points(table):
    table.append(*spec_points("tag-1", 0, 100))
    start = int(np.datetime64("2001-09-09T00:00:00", "ns").astype(np.int64))
    end = int(np.datetime64("2001-09-09T01:20:00", "ns").astype(np.int64))
    result = table.read(["tag-1"], start, end, 0, 5, 0)
    assert result.names.tolist() == ["tag-1"] * 5
    assert result.times.tolist() == (SPEC_START + np.arange(5) * 100 * S).tolist()
    assert result.values.tolist() == [8001.0, 8101.0, 8201.0, 8301.0, 8401.0]


def test_several_tags_are_answered_one_after_another_in_the_order_given(table):
    for i, tag in enumerate(["tag-1", "tag-2", "tag-3"]):
        table.append(*spec_points(tag, i, 30))
    end = SPEC_START + 250 * S
    result = table.read(["tag-3", "tag-1", "tag-2"], SPEC_START - S, end)
    assert result.names.tolist() == ["tag-3"] * 3 + ["tag-1"] * 3 + ["tag-2"] * 3
    assert result.values.tolist() == [8003, 8103, 8203, 8001, 8101, 8201, 8002, 8102, 8202]


@pytest.mark.parametrize("direction", [0, 1, 2])
def test_in_order_tag_honours_direction_count_and_offset(table, reference, direction):
    names, times, values = spec_points("a", 0, 50)
    table.append(names, times, values)
    reference.append(names, times, values)
    lo, hi = int(times[5]), int(times[40])
    for count, offset in [(0, 0), (5, 0), (5, 3), (0, 30), (100, 34), (1, 35), (3, 36)]:
        got = table.read(["a"], lo, hi, direction, count, offset)
        assert (got.names.tolist(), got.times.tolist(), got.values.tolist()) == \
            reference.read(["a"], lo, hi, direction, count, offset)


def test_out_of_order_and_duplicate_times_answer_exactly_in_every_direction(table, reference):
    rng = np.random.default_rng(7)
    tags = ["t0", "t1", "t2"]
    for batch in range(25):
        n = int(rng.integers(1, 60))
        names = rng.choice(tags, n)
        if batch % 3 == 0:
            times = rng.integers(0, 400, n) * S  # late and duplicate times
        else:
            times = (300 + batch * 50 + np.sort(rng.integers(0, 50, n))) * S
        values = rng.integers(-1000, 1000, n).astype(np.float64)
        assert table.append(names, times, values) == n
        reference.append(names, times, values)
    for _ in range(60):
        lo, hi = sorted(int(x) * S for x in rng.integers(-10, 1700, 2))
        direction = int(rng.integers(0, 3))
        count, offset = int(rng.integers(0, 40)), int(rng.integers(0, 40))
        chosen = list(rng.choice(tags, int(rng.integers(1, 4)), replace=False))
        got = table.read(chosen, lo, hi, direction, count, offset)
        assert (got.names.tolist(), got.times.tolist(), got.values.tolist()) == \
            reference.read(chosen, lo, hi, direction, count, offset)


def test_duplicates_keep_insertion_order_ascending_and_reverse_descending(table):
    table.append(["d"] * 4, [5 * S, 3 * S, 5 * S, 3 * S], [1.0, 2.0, 3.0, 4.0])
    assert table.read(["d"], 0, 10 * S, 0).values.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert table.read(["d"], 0, 10 * S, 2).values.tolist() == [2.0, 4.0, 1.0, 3.0]
    assert table.read(["d"], 0, 10 * S, 1).values.tolist() == [3.0, 1.0, 4.0, 2.0]


def test_nanosecond_times_are_kept_and_ranges_are_inclusive(table):
    base = 1_700_000_000_123_456_789
    table.append(["n"] * 3, [base, base + 1, base + 2], [1.0, 2.0, 3.0])
    got = table.read(["n"], base + 1, base + 2)
    assert got.times.tolist() == [base + 1, base + 2]
    assert table.read(["n"], base + 3, base + 10).times.tolist() == []
    assert table.stats("n").min_time == base


def test_names_as_list_or_interleaved_array_are_grouped_per_tag(table):
    table.append(["x", "y", "x", "y"], [1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0])
    table.append(np.array(["y", "x", "y", "x"]), [5, 6, 7, 8], [5.0, 6.0, 7.0, 8.0])
    assert table.read(["x"], 0, 10).values.tolist() == [1.0, 3.0, 6.0, 8.0]
    assert table.read(["y"], 0, 10).values.tolist() == [2.0, 4.0, 5.0, 7.0]
    assert table.tag_names() == ["x", "y"]


def test_unknown_tags_give_no_rows_and_bad_arguments_are_refused(table):
    table.append(["a"], [1], [1.0])
    assert len(table.read(["nope"], 0, 10)) == 0
    assert table.read(["nope", "a"], 0, 10).names.tolist() == ["a"]
    with pytest.raises(EdgeError) as err:
        table.read(["a"], 0, 10, direction=3)
    assert err.value.code == store_errors.INVALID_ARGUMENT


def test_extra_columns_of_every_type_round_trip_with_nulls(store):
    store.create_table("plant", [
        ColumnSpec("name", "varchar", 20, "name"), ColumnSpec("time", "datetime", 8, "time"),
        ColumnSpec("value", "double", 8, "value"), ColumnSpec("s", "short", 0, "extra"),
        ColumnSpec("i", "integer", 0, "extra"), ColumnSpec("l", "long", 0, "extra"),
        ColumnSpec("f", "float", 0, "extra"), ColumnSpec("d", "double", 0, "extra"),
        ColumnSpec("v", "varchar", 5, "extra"), ColumnSpec("dt", "datetime", 0, "extra"),
        ColumnSpec("ip", "ipv4", 0, "extra")])
    table = store.table("PLANT")
    extras = {
        "s": np.ma.array([1, -32767, 7], mask=[False, False, True]),
        "I": np.array([2, None, -2147483647], dtype=object),
        "l": np.array([9_000_000_000_000_000_000, 0, -1], dtype=np.int64),
        "f": np.array([1.5, np.nan, -2.25], dtype=np.float32),
        "d": [0.1, None, 1e300],
        "v": ["abc", None, "héllo"[:4]],
        "dt": np.array([1_000_000_000_123, None, 0], dtype=object),
        "ip": ["10.0.0.1", None, "255.255.255.255"],
    }
    table.append(["m", "m", "m"], [1, 2, 3], [1.0, 2.0, 3.0], extras)
    got = table.read(["m"], 0, 10, 1).extras
    assert got["S"].tolist() == [None, -32767, 1]
    assert got["I"].tolist() == [-2147483647, None, 2]
    assert got["L"].tolist() == [-1, 0, 9_000_000_000_000_000_000]
    assert got["F"].tolist() == [-2.25, None, 1.5]
    assert got["D"].tolist() == [1e300, None, 0.1]
    assert got["V"].tolist() == ["héll", None, "abc"]
    assert got["DT"].tolist() == [0, None, 1_000_000_000_123]
    assert got["IP"].tolist() == ["255.255.255.255", None, "10.0.0.1"]
    # a missing column is null throughout
    table.append(["m"], [4], [4.0], {"v": ["z"]})
    last = table.read(["m"], 4, 4).extras
    assert last["V"].tolist() == ["z"] and last["S"].tolist() == [None] and last["IP"].tolist() == [None]


@pytest.mark.parametrize("extras, code", [
    ({"s": [40000]}, store_errors.INVALID_VALUE),
    ({"v": ["toolong"]}, store_errors.INVALID_VALUE),
    ({"ip": ["10.0.0"]}, store_errors.INVALID_VALUE),
    ({"nope": [1]}, store_errors.COLUMN_NOT_FOUND),
])
def test_bad_extra_values_refuse_the_whole_batch(store, extras, code):
    store.create_table("x", [ColumnSpec("name", "varchar", 20, "name"), ColumnSpec("time", "datetime", 8, "time"),
                             ColumnSpec("value", "double", 8, "value"), ColumnSpec("s", "short", 0, "extra"),
                             ColumnSpec("v", "varchar", 3, "extra"), ColumnSpec("ip", "ipv4", 0, "extra")])
    table = store.table("x")
    with pytest.raises(EdgeError) as err:
        table.append(["new"], [1], [1.0], extras)
    assert err.value.code == code
    assert table.tag_names() == []
    assert table.stats("new") is None
