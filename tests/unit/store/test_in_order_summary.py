"""The in-order shortcut for a batch's stats and hour rollups gives exactly what the general
per-point path gives, and steps aside where it does not apply."""

from __future__ import annotations

import numpy as np
import pytest

from edge.store import in_order
from edge.store import rollups as rollup_math
from edge.store.stats import of_groups

HOUR = 3600 * 10**9


def general(tag_ids, starts, lengths, times, values):
    stats = of_groups(tag_ids, starts, lengths, times, values, True)
    keys = rollup_math.tag_hour_keys(np.repeat(tag_ids, lengths), times)
    return stats, rollup_math.from_points(keys, times, values, grouped=True, times_sorted=True)


def batch(lengths, step_ns, rng, start=1_700_000_000 * 10**9):
    lengths = np.array(lengths, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    times = np.concatenate([start + np.cumsum(rng.integers(0, step_ns, n)) for n in lengths.tolist()])
    values = np.round(rng.normal(0, 3, int(lengths.sum())))  # rounded: ties for min and max
    return np.arange(len(lengths), dtype=np.int64) * 7 + 3, starts, lengths, times.astype(np.int64), values


@pytest.mark.parametrize("lengths, step_ns", [
    ([1000] * 10, 10**9),           # equal groups inside one hour
    ([1000] * 10, 40 * 10**9),      # equal groups crossing several hours
    ([5, 1, 300, 2000, 7], 10**9),  # unequal groups
    ([5, 1, 300, 2000, 7], 30 * 10**9),
    ([1], 10**9),
])
def test_in_order_summary_equals_the_general_path(lengths, step_ns):
    rng = np.random.default_rng(len(lengths) + step_ns % 97)
    args = batch(lengths, step_ns, rng)
    fast_stats, fast_rollups = in_order.summarise(*args)
    slow_stats, slow_rollups = general(*args)
    for name, want in slow_stats.items():
        assert np.array_equal(fast_stats[name], want), name
    assert len(fast_rollups) == len(slow_rollups)
    for field in ("keys", *rollup_math.FIELDS):
        assert np.array_equal(getattr(fast_rollups, field), getattr(slow_rollups, field)), field


def test_in_order_summary_leaves_nulls_and_thin_points_to_the_general_path():
    rng = np.random.default_rng(3)
    tag_ids, starts, lengths, times, values = batch([50, 50], 10**9, rng)
    values[60] = np.nan
    assert in_order.summarise(tag_ids, starts, lengths, times, values) is None
    tag_ids, starts, lengths, times, values = batch([7, 3], 10**9, rng)
    assert in_order.summarise(tag_ids, starts, lengths, times, values) is not None
    values[2] = np.nan
    assert in_order.summarise(tag_ids, starts, lengths, times, values) is None
    sparse = np.arange(10, dtype=np.int64) * 50 * HOUR  # ten points over 450 hours
    assert in_order.summarise(np.array([1]), np.array([0]), np.array([10]), sparse, np.ones(10)) is None
