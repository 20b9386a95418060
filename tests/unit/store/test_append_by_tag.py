"""append_by_tag (points handed over grouped by tag) stores exactly what append stores: the
same rows, stats and rollups, the same batch-key idempotency, and a log record whose shared
time arrays replay after an exit without close."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from edge.errors import EdgeError
from edge.errors import INVALID_VALUE
from tests.unit.store.conftest import assert_same_rollups

S = 1_000_000_000
HOUR = 3600 * S


def batches(rng, count: int):
    """Batches of 3 tags, shared and own times, crossing hours, some out of order."""
    for k in range(count):
        shared = (k * 2000 + np.arange(1000, dtype=np.int64) * 2) * S  # 1,000 points over 2,000 s
        if k % 4 == 3:
            shared = shared[::-1].copy()  # a late batch, descending
        own = np.sort(rng.integers(0, 10 * HOUR, 37)).astype(np.int64)
        yield (["a", "b", "c"], [shared, shared, own],
               [rng.normal(size=1000), np.round(rng.normal(size=1000)), rng.normal(size=37)])


def test_append_by_tag_stores_what_append_stores(open_store, rollup_dict, stats_dict):
    store = open_store()
    store.create_table("grouped", [_column("NAME", "varchar", 40, "name"), _column("TIME", "datetime", 8, "time"),
                                   _column("VALUE", "double", 8, "value")])
    plain, grouped = store.table("TAG"), store.table("grouped")
    rng = np.random.default_rng(5)
    for tags, times, values in batches(rng, 12):
        names = np.repeat(np.array(tags), [len(t) for t in times])
        assert plain.append(names, np.concatenate(times), np.concatenate(values)) == 2037
        assert grouped.append_by_tag(tags, times, values) == 2037
    for tag in "abc":
        for direction in (0, 2):
            want = plain.read([tag], -10**18, 10**18, direction)
            got = grouped.read([tag], -10**18, 10**18, direction)
            assert got.times.tolist() == want.times.tolist() and got.values.tolist() == want.values.tolist()
        assert stats_dict(grouped.stats(tag)) == stats_dict(plain.stats(tag))
        for level in ("sec", "min", "hour"):
            assert_same_rollups(rollup_dict(grouped.rollup([tag], 0, 10**18, level)),
                                rollup_dict(plain.rollup([tag], 0, 10**18, level)))


def _column(name, kind, length, role):
    from edge.store import ColumnSpec
    return ColumnSpec(name, kind, length, role)


def test_append_by_tag_merges_a_tag_named_twice_in_the_order_given(table):
    t = np.arange(3, dtype=np.int64) * S
    assert table.append_by_tag(["a", "b", "a"], [t, t, t + 10 * S], [[1.0, 2, 3], [4.0, 5, 6], [7.0, 8, 9]]) == 9
    assert table.read(["a"], 0, 10**18, 0).values.tolist() == [1, 2, 3, 7, 8, 9]
    assert table.append_by_tag(["a", "b"], [t[:0], t], [[], [0.0, 0, 0]]) == 3  # an empty group stores nothing
    assert table.stats("a").count == 6


@pytest.mark.parametrize("tags, times, values", [
    (["a"], [np.array([1.5, 2.5])], [[1.0, 2.0]]),             # times not integers
    (["a"], [np.array([1, 2])], [[1.0]]),                      # one value short
    (["a", "b"], [np.array([1])], [[1.0]]),                    # fewer arrays than tags
    ([""], [np.array([1])], [[1.0]]),                          # no tag name
    (["a"], [np.array([1])], [["x"]]),                         # not a number
])
def test_append_by_tag_refuses_malformed_input_and_stores_nothing(table, tags, times, values):
    with pytest.raises(EdgeError) as caught:
        table.append_by_tag(tags, times, values)
    assert caught.value.code == INVALID_VALUE
    assert table.tag_names() == []


def test_append_by_tag_with_a_key_applies_once(table):
    t = np.arange(4, dtype=np.int64) * S
    assert table.append_by_tag(["a", "b"], [t, t], [np.ones(4), np.zeros(4)], batch_key="chunk-1") == 8
    assert table.append_by_tag(["a", "b"], [t, t], [np.ones(4), np.zeros(4)], batch_key="chunk-1") == 0
    assert table.stats("a").count == 4 and table.stats("b").count == 4


CHILD = textwrap.dedent("""
    import os, sys, numpy as np
    from edge.catalog import Catalog
    from edge.store import TagStore
    data = sys.argv[1]
    store = TagStore(Catalog(os.path.join(data, "catalog.db")), os.path.join(data, "tags"))
    table = store.table("TAG")
    for k in range(5):
        shared = (np.arange(100, dtype=np.int64) + 100 * k) * 1_000_000_000
        own = shared[::7].copy()
        table.append_by_tag(["a", "b", "c"], [shared, shared, own],
                            [np.full(100, k + 0.5), np.arange(100.0) + k, np.full(len(own), -k)],
                            batch_key=f"chunk-{k}" if k % 2 else None)
    print("acknowledged", flush=True)
    os._exit(0)  # no close: the next open replays the log
""")


def test_shared_time_records_replay_after_an_exit_without_close(tmp_path, open_store):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert out.stdout == "acknowledged\n", out.stderr
    table = open_store().table("TAG")
    times = (np.arange(500, dtype=np.int64)) * S
    assert table.read(["a"], 0, 10**18, 0).times.tolist() == times.tolist()
    assert table.read(["b"], 0, 10**18, 0).times.tolist() == times.tolist()
    assert table.read(["b"], 0, 10**18, 0).values.tolist() == [float(i % 100 + i // 100) for i in range(500)]
    assert table.read(["c"], 0, 10**18, 0).times.tolist() == np.concatenate(
        [((np.arange(100) + 100 * k) * S)[::7] for k in range(5)]).tolist()
    assert table.append_by_tag(["a"], [times[:1]], [[9.0]], batch_key="chunk-3") == 0  # its key came back too
