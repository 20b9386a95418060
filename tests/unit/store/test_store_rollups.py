"""Rollups and aggregates: the spec's calculated example, and every level against a brute-force
computation after in-order appends, out-of-order appends, deletes, checkpoints and a reopen."""

from __future__ import annotations

import numpy as np
import pytest

from edge.errors import EdgeError
from edge import errors as store_errors
from tests.unit.store.conftest import assert_same_rollups

S = 1_000_000_000
SPEC_START = int(np.datetime64("2001-09-09T01:00:01", "ns").astype(np.int64))
QUERY_START = int(np.datetime64("2001-09-09T00:00:00", "ns").astype(np.int64))
QUERY_END = int(np.datetime64("2001-09-09T01:20:00", "ns").astype(np.int64))


def check_every_level(table, reference, rollup_dict, tags, start, end) -> None:
    for level, multiple in [("sec", 1), ("sec", 7), ("min", 1), ("min", 5), ("hour", 1), ("hour", 3)]:
        got = rollup_dict(table.rollup(tags, start, end, level, multiple))
        assert_same_rollups(got, reference.rollup(tags, start, end, level, multiple))


def test_spec_calculated_example_sums_five_minute_buckets(table):
    n = 200
    table.append(["tag-1"] * n, SPEC_START + np.arange(n) * 100 * S, 8001 + 100 * np.arange(n, dtype=np.float64))
    times, results = table.aggregate(["tag-1"], QUERY_START, QUERY_END, "min", 5, ["sum", "min", "max"])
    starts = [int(np.datetime64(f"2001-09-09T01:{m:02d}:00", "ns").astype(np.int64)) for m in (0, 5, 10, 15, 20)]
    assert times.tolist() == starts
    assert results["sum"].tolist() == [24303, 25203, 26103, 27003, 9201]
    assert results["min"].tolist() == [8001, 8301, 8601, 8901, 9201]
    assert results["max"].tolist() == [8201, 8501, 8801, 9101, 9201]
    times, results = table.aggregate(["tag-1"], QUERY_START, QUERY_END, "min", 5, ["count", "avg"], count=2)
    assert times.tolist() == starts[:2]
    assert results["count"].tolist() == [3, 3]
    assert results["avg"].tolist() == [24303 / 3, 25203 / 3]


def test_rollups_match_brute_force_after_in_order_and_late_appends(table, reference, rollup_dict):
    rng = np.random.default_rng(11)
    tags = ["a", "b", "c"]
    for batch in range(30):
        n = int(rng.integers(1, 300))
        names = rng.choice(tags, n)
        if batch % 4 == 3:
            times = rng.integers(0, 6 * 3600, n) * S + rng.integers(0, S, n)  # late, anywhere
        else:
            times = np.sort(batch * 700 * S + rng.integers(0, 700 * S, n))
        values = rng.normal(0, 100, n).round(3)
        table.append(names, times, values)
        reference.append(names, times, values)
        if batch == 15:
            table.checkpoint()  # half the hour deltas in the catalog, half pending
    for _ in range(4):
        start, end = sorted(int(x) for x in rng.integers(-S, 6 * 3600 * S, 2))
        check_every_level(table, reference, rollup_dict, ["a"], start, end)
        check_every_level(table, reference, rollup_dict, ["a", "c", "b"], start, end)


def test_rollups_follow_deletes_and_survive_a_reopen(open_store, reference, rollup_dict):
    store = open_store()
    table = store.table("tag")
    rng = np.random.default_rng(5)
    for batch in range(12):
        n = 400
        names = rng.choice(["p", "q"], n)
        times = rng.integers(0, 5 * 3600, n) * S if batch % 3 == 0 else np.sort(rng.integers(0, 5 * 3600, n)) * S
        values = rng.integers(0, 50, n).astype(np.float64)
        table.append(names, times, values)
        reference.append(names, times, values)
    cut = 2 * 3600 * S + 1234 * S
    assert table.delete_before(cut, ["p"]) == reference.delete_before(cut, ["p"])
    table.append(["p", "q"], [S, 7 * S], [1.0, 2.0])  # late data after the delete
    reference.append(["p", "q"], [S, 7 * S], [1.0, 2.0])
    check_every_level(table, reference, rollup_dict, ["p", "q"], 0, 6 * 3600 * S)
    store.close()
    table = open_store().table("TAG")
    check_every_level(table, reference, rollup_dict, ["p"], 0, 6 * 3600 * S)
    check_every_level(table, reference, rollup_dict, ["q", "p"], 0, 6 * 3600 * S)


def test_null_values_are_stored_but_left_out_of_rollups(table, reference, rollup_dict):
    values = [1.0, np.nan, 3.0, np.nan]
    table.append(["z"] * 4, [1 * S, 2 * S, 3 * S, 4 * S], values)
    reference.append(["z"] * 4, [1 * S, 2 * S, 3 * S, 4 * S], values)
    assert np.isnan(table.read(["z"], 0, 10 * S).values).tolist() == [False, True, False, True]
    check_every_level(table, reference, rollup_dict, ["z"], 0, 10 * S)


def test_hourly_aggregate_of_a_long_range_uses_the_hour_rollups(table):
    hours = 48
    times = np.arange(hours * 60) * 60 * S  # one point a minute
    table.append(["h"] * len(times), times, np.ones(len(times)))
    starts, results = table.aggregate(["h"], 0, hours * 3600 * S, "hour", 6, ["count", "sum"])
    assert starts.tolist() == [i * 6 * 3600 * S for i in range(hours // 6)]
    assert results["count"].tolist() == [360.0] * (hours // 6)


@pytest.mark.parametrize("args", [
    ("day", 1, ["sum"]), ("min", 0, ["sum"]), ("min", 1, ["median"]), ("min", 1, []),
])
def test_bad_aggregate_arguments_are_refused(table, args):
    level, multiple, functions = args
    with pytest.raises(EdgeError) as err:
        table.aggregate(["a"], 0, 10, level, multiple, functions)
    assert err.value.code == store_errors.INVALID_ARGUMENT
