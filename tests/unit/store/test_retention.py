"""Retention policies applied by the store: values, stats, rollups and files after a run."""

import threading
import time

import numpy as np
import pytest

from edge.errors import RETENTION_EXISTS, RETENTION_IN_USE, RETENTION_NOT_FOUND, EdgeError
from edge.store.retention import DAY_NS, HOUR_NS
from tests.unit.store.conftest import Reference

NOW = (time.time_ns() // HOUR_NS) * HOUR_NS  # the data sits around the real now: housekeeping


def ten_days(table, reference, tags=("a", "b"), per_hour=6):
    """Points every 10 minutes over the last 10 days for each tag; tag "fresh" has only the last day."""
    times = NOW - 10 * DAY_NS + np.arange(10 * 24 * per_hour, dtype=np.int64) * (HOUR_NS // per_hour)
    for i, tag in enumerate(tags):
        values = np.arange(len(times), dtype=np.float64) + 1000 * i
        table.append([tag] * len(times), times, values)
        reference.append([tag] * len(times), times, values)
    recent = times[times >= NOW - DAY_NS]
    table.append(["fresh"] * len(recent), recent, np.ones(len(recent)))
    reference.append(["fresh"] * len(recent), recent, np.ones(len(recent)))
    return times


def test_policy_deletes_rows_older_than_duration_and_keeps_values_stats_rollups(store):
    table, reference = store.table("TAG"), Reference()
    ten_days(table, reference)
    table.checkpoint()
    size_before = table.disksize()
    store.retention.create_policy("keep3", 3, "DAY", 1, "HOUR")
    store.retention.attach("tag", "keep3")
    assert store.retention.run_due(NOW) == 0  # not due: an interval has not passed since it was added
    run_at = time.time_ns() + HOUR_NS + 1
    deleted = store.retention.run_due(run_at)
    cutoff = run_at - 3 * DAY_NS
    assert deleted == reference.delete_before(cutoff)
    for tag in ("a", "b", "fresh"):
        got = table.read([tag], 0, NOW + DAY_NS, direction=2)
        names, times, values = reference.read([tag], 0, NOW + DAY_NS, direction=2)
        assert got.times.tolist() == times and got.values.tolist() == values
        assert got.times.min() >= cutoff
        stats, expected = table.stats(tag), reference.stats(tag)
        assert (stats.count, stats.min_time, stats.max_time, stats.min_value, stats.max_value) == \
            (expected["count"], expected["min_time"], expected["max_time"], expected["min_value"], expected["max_value"])
        rollups = table.rollup([tag], 0, NOW + DAY_NS, "hour")
        want = reference.rollup([tag], 0, NOW + DAY_NS, "hour", 1)
        assert rollups.keys.tolist() == list(want)
        assert rollups.count.tolist() == [b["count"] for b in want.values()]
        assert np.allclose(rollups.sum, [b["sum"] for b in want.values()])
    assert table.disksize() < size_before * 0.45
    job = store.retention.jobs()[0]
    assert (job.table, job.policy.name, job.state, job.last_cutoff, job.last_deleted_rows) == \
        ("TAG", "KEEP3", "WAITING", cutoff, deleted)


def test_retention_survives_reopen_and_old_files_are_gone(open_store, tmp_path):
    store = open_store()
    table, reference = store.table("TAG"), Reference()
    ten_days(table, reference, tags=("a",))
    store.retention.create_policy("p", 2, "DAY", 1, "DAY")
    store.retention.attach("TAG", "p")
    store.retention.run_now("TAG", NOW)
    reference.delete_before(NOW - 2 * DAY_NS)
    files = sorted(p.name for p in (tmp_path / "tags" / "TAG").glob("*") if p.is_file())
    store.close()
    store = open_store()
    got = store.table("TAG").read(["a"], 0, NOW + DAY_NS, direction=2)
    assert got.times.tolist() == reference.read(["a"], 0, NOW + DAY_NS, direction=2)[1]
    assert [j.policy.name for j in store.retention.jobs()] == ["P"]
    assert sorted(p.name for p in (tmp_path / "tags" / "TAG").glob("*") if p.is_file()) == files
    # Tag "a" (id 0, whose old rows went) has only files of generation 1; "fresh" (id 1) kept its first.
    assert files == ["0.g1.t", "0.g1.v", "1.g0.t", "1.g0.v"]


def test_a_month_is_thirty_days(store):
    table, reference = store.table("TAG"), Reference()
    times = NOW - np.array([40, 31, 29, 1], dtype=np.int64) * DAY_NS
    table.append(["m"] * 4, times, np.arange(4.0))
    store.retention.create_policy("month", 1, "MONTH", 1, "HOUR")
    store.retention.attach("TAG", "month")
    assert store.retention.run_now("TAG", NOW) == 2
    assert table.read(["m"], 0, NOW, direction=2).values.tolist() == [2.0, 3.0]


def test_readers_during_a_run_see_the_tag_before_or_after_never_half(store):
    table = store.table("TAG")
    times = NOW - 10 * DAY_NS + np.arange(200_000, dtype=np.int64) * (10 * DAY_NS // 200_000)
    table.append(["r"] * len(times), times, np.ones(len(times)))
    store.retention.create_policy("p", 5, "DAY", 1, "HOUR")
    store.retention.attach("TAG", "p")
    cutoff = NOW - 5 * DAY_NS
    after = int(np.count_nonzero(times >= cutoff))
    seen, done = set(), threading.Event()

    def read():
        while not done.is_set():
            got = table.read(["r"], 0, NOW)
            stats = table.stats("r")
            seen.add(len(got))
            assert stats.count in (len(times), after)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        store.retention.run_now("TAG", NOW)
    finally:
        done.set()
        reader.join(30)
    assert seen <= {len(times), after}
    assert len(table.read(["r"], 0, NOW)) == after


def test_policy_rules_and_errors(store):
    r = store.retention
    r.create_policy("p1", 1, "day", 1, "hour")
    with pytest.raises(EdgeError) as err:
        r.create_policy("P1", 2, "DAY", 1, "HOUR")
    assert err.value.code == RETENTION_EXISTS
    for bad in [(1, "HOUR", 1, "HOUR"), (1, "DAY", 1, "MONTH"), (0, "DAY", 1, "HOUR"), (1, "DAY", 0, "DAY")]:
        with pytest.raises(EdgeError):
            r.create_policy("bad", *bad)
    with pytest.raises(EdgeError) as err:
        r.attach("TAG", "nosuch")
    assert err.value.code == RETENTION_NOT_FOUND
    with pytest.raises(EdgeError):
        r.attach("NOTABLE", "p1")
    r.attach("TAG", "p1")
    with pytest.raises(EdgeError):
        r.attach("TAG", "p1")  # one policy per table
    with pytest.raises(EdgeError) as err:
        r.drop_policy("p1")
    assert err.value.code == RETENTION_IN_USE and "TAG" in err.value.text
    r.detach("TAG")
    with pytest.raises(EdgeError):
        r.detach("TAG")
    r.drop_policy("p1")
    assert r.policies() == []


def test_dropping_the_table_ends_its_job(store):
    from edge.store.schema import ColumnSpec
    store.create_table("T2", [ColumnSpec("NAME", "varchar", 20, "name"), ColumnSpec("TIME", "datetime", 8, "time"),
                              ColumnSpec("VALUE", "double", 8, "value")])
    store.retention.create_policy("p", 1, "DAY", 1, "HOUR")
    store.retention.attach("T2", "p")
    store.drop_table("T2")
    assert store.retention.jobs() == []
    store.retention.drop_policy("p")
