"""Per-tag statistics and delete-before: stats kept per append and recomputed after deletes,
deleted rows gone from reads and from the disk."""

from __future__ import annotations

import numpy as np

S = 1_000_000_000


def fill(table, reference, seed=3, batches=20, tags=("a", "b")):
    rng = np.random.default_rng(seed)
    for batch in range(batches):
        n = int(rng.integers(1, 200))
        names = rng.choice(list(tags), n)
        if batch % 4 == 1:
            times = rng.integers(0, 3000, n) * S  # late and duplicate
        else:
            times = (batch * 150 + np.sort(rng.integers(0, 150, n))) * S
        values = rng.integers(-20, 20, n).astype(np.float64)  # many equal values: ties matter
        table.append(names, times, values)
        reference.append(names, times, values)


def test_stats_match_brute_force_with_late_and_duplicate_points(table, reference, stats_dict):
    fill(table, reference)
    for tag in ("a", "b"):
        assert stats_dict(table.stats(tag)) == reference.stats(tag)
    assert table.stats("unknown") is None


def test_stats_ignore_null_values_for_min_and_max(table, reference, stats_dict):
    table.append(["n"] * 3, [3 * S, 1 * S, 2 * S], [np.nan, 5.0, np.nan])
    reference.append(["n"] * 3, [3 * S, 1 * S, 2 * S], [np.nan, 5.0, np.nan])
    got = table.stats("n")
    assert got.min_value == got.max_value == 5.0 and got.min_value_time == S
    assert got.last[0] == 3 * S and got.last[1] is None
    table.append(["only-null"], [S], [np.nan])
    assert table.stats("only-null").min_value is None and table.stats("only-null").count == 1


def test_delete_before_removes_rows_recomputes_stats_and_frees_space(table, reference, stats_dict, tmp_path):
    fill(table, reference, seed=9, batches=30)
    table.checkpoint()
    before = table.disksize()
    cut = 1700 * S
    deleted = table.delete_before(cut)
    assert deleted == reference.delete_before(cut) > 0
    for tag in ("a", "b"):
        assert stats_dict(table.stats(tag)) == reference.stats(tag)
        for direction in (0, 1, 2):
            got = table.read([tag], 0, 10_000 * S, direction)
            assert (got.names.tolist(), got.times.tolist(), got.values.tolist()) == \
                reference.read([tag], 0, 10_000 * S, direction)
    assert table.disksize() < before
    files = sorted(p.name for p in (tmp_path / "tags" / "TAG").iterdir() if p.is_file())
    assert all(".g1." in name for name in files), files  # the old generation is gone


def test_delete_of_some_tags_leaves_the_others_alone(table, reference, stats_dict):
    fill(table, reference, seed=4, tags=("a", "b", "c"))
    cut = 1500 * S
    assert table.delete_before(cut, ["a", "c", "nope"]) == reference.delete_before(cut, ["a", "c"])
    for tag in ("a", "b", "c"):
        assert stats_dict(table.stats(tag)) == reference.stats(tag)
    assert table.delete_before(0) == 0


def test_a_tag_emptied_by_a_delete_takes_new_data(table, reference, stats_dict):
    table.append(["e"] * 3, [S, 2 * S, 3 * S], [1.0, 2.0, 3.0])
    assert table.delete_before(10 * S) == 3
    assert table.stats("e").count == 0
    assert len(table.read(["e"], 0, 100 * S)) == 0
    table.append(["e"] * 2, [5 * S, 4 * S], [5.0, 4.0])
    assert table.read(["e"], 0, 100 * S, 2).values.tolist() == [4.0, 5.0]
    assert table.stats("e").count == 2 and table.stats("e").first == (4 * S, 4.0)


def test_many_late_batches_are_merged_into_few_runs_with_the_same_answers(table, reference):
    rng = np.random.default_rng(21)
    for _ in range(40):
        times = rng.integers(0, 10_000, 50) * S
        values = rng.integers(0, 9, 50).astype(np.float64)
        table.append(["late"] * 50, times, values)
        reference.append(["late"] * 50, times, values)
    # The housekeeping thread may have merged some runs already; what is left is merged here.
    # 40 late batches made up to 40 runs: few left proves they were merged.
    table.compact_runs()
    assert len(table.state.by_name["late"].runs) <= 8
    for direction in (0, 1, 2):
        got = table.read(["late"], 2000 * S, 8000 * S, direction, 100, 7)
        assert (got.times.tolist(), got.values.tolist()) == \
            tuple(reference.read(["late"], 2000 * S, 8000 * S, direction, 100, 7)[1:])
