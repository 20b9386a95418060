"""Batch keys: an append under a key the table has applied is skipped, across checkpoints,
restarts and kill -9; a failed batch leaves no key; racing appends with one key apply once;
the newest keys are kept."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from edge.errors import EdgeError
from edge.store import batch_keys
from edge.errors import INVALID_VALUE, STORAGE_FAILURE

S = 1_000_000_000


def points(k: int, n: int = 4):
    """Batch k: n points of tags a and b, values tell the batch apart."""
    names = ["a", "b"] * (n // 2)
    times = (np.arange(n, dtype=np.int64) + 100 * k) * S
    return names, times, np.arange(n, dtype=np.float64) + 1000.0 * k


def values_of(table, tag: str) -> list[float]:
    return table.read([tag], -10**18, 10**18, 0).values.tolist()


def saved_keys(store) -> list[str]:
    rows = store.catalog.connection().execute("SELECT batch_key FROM tag_batch_keys ORDER BY seq").fetchall()
    return [key for (key,) in rows]


def test_repeated_key_is_skipped_and_stores_nothing(table):
    assert table.append(*points(1), batch_key="chunk-1") == 4
    # even different points under the same key are the same batch, already applied
    assert table.append(*points(2), batch_key="chunk-1") == 0
    assert values_of(table, "a") == [1000.0, 1002.0]
    assert table.stats("b").count == 2


def test_different_keys_are_both_applied(table):
    assert table.append(*points(1), batch_key="chunk-1") == 4
    assert table.append(*points(1), batch_key="chunk-2") == 4
    assert values_of(table, "a") == [1000.0, 1002.0, 1000.0, 1002.0]


def test_appends_without_key_are_never_deduplicated(table):
    assert table.append(*points(1)) == 4
    assert table.append(*points(1)) == 4
    assert table.stats("a").count == 4


def test_keys_are_per_table(store, table):
    from edge.store import ColumnSpec
    store.create_table("OTHER", [ColumnSpec("NAME", "varchar", 40, "name"), ColumnSpec("TIME", "datetime", 8, "time"),
                                 ColumnSpec("VALUE", "double", 8, "value")])
    other = store.table("OTHER")
    assert table.append(*points(1), batch_key="chunk-1") == 4
    assert other.append(*points(1), batch_key="chunk-1") == 4
    assert other.append(*points(1), batch_key="chunk-1") == 0


@pytest.mark.parametrize("bad_key", ["", "x" * 256, b"bytes", 17, "\ud800"])
def test_malformed_key_is_refused_and_stores_nothing(table, bad_key):
    with pytest.raises(EdgeError) as err:
        table.append(*points(1), batch_key=bad_key)
    assert err.value.code == INVALID_VALUE
    assert table.tag_names() == []


def test_key_survives_close_and_reopen(open_store):
    store = open_store()
    store.table("TAG").append(*points(1), batch_key="chunk-1")
    store.close()
    store = open_store()
    table = store.table("TAG")
    assert table.append(*points(1), batch_key="chunk-1") == 0
    assert values_of(table, "a") == [1000.0, 1002.0]
    assert table.append(*points(2), batch_key="chunk-2") == 4


def test_key_survives_a_checkpoint_in_the_catalog(store, tmp_path):
    table = store.table("TAG")
    table.append(*points(1), batch_key="chunk-1")
    table.checkpoint()
    # the log record is gone: the key now lives in the catalog, written with the checkpoint
    assert list((tmp_path / "tags" / "TAG" / "log").iterdir()) == []
    assert saved_keys(store) == ["chunk-1"]
    assert table.append(*points(1), batch_key="chunk-1") == 0


def test_batch_with_bad_values_records_no_key(table):
    with pytest.raises(EdgeError) as err:
        table.append(["a", "b"], [1, 2], ["one", "two"], batch_key="chunk-1")
    assert err.value.code == INVALID_VALUE
    assert table.append(*points(1), batch_key="chunk-1") == 4
    assert table.append(*points(1), batch_key="chunk-1") == 0
    assert table.stats("a").count == 2


def test_empty_batch_records_no_key(table):
    assert table.append([], np.empty(0, np.int64), [], batch_key="chunk-1") == 0
    assert table.append(*points(1), batch_key="chunk-1") == 4


KILLED_CHILD = textwrap.dedent("""
    import os, signal, sys, numpy as np
    from edge.catalog import Catalog
    from edge.store import TagStore
    S = 1_000_000_000
    data = sys.argv[1]
    store = TagStore(Catalog(os.path.join(data, "catalog.db")), os.path.join(data, "tags"))
    table = store.table("TAG")
    table.append(["a", "b"], np.array([1, 2]) * S, [1.0, 2.0], batch_key="chunk-1")
    table.checkpoint()  # chunk-1's key is in the catalog now, chunk-2's only in the log
    table.append(["a", "b"], np.array([3, 4]) * S, [3.0, 4.0], batch_key="chunk-2")
    print("acknowledged", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_key_survives_kill_9_right_after_the_acknowledged_append(tmp_path, open_store):
    script = tmp_path / "killed.py"
    script.write_text(KILLED_CHILD)
    out = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == -9 and out.stdout == "acknowledged\n", out.stderr
    for _ in range(2):  # after the replay, and again once recovery checkpointed the replayed key
        store = open_store()
        table = store.table("TAG")
        assert table.append(["a", "b"], np.array([1, 2]) * S, [1.0, 2.0], batch_key="chunk-1") == 0
        assert table.append(["a", "b"], np.array([3, 4]) * S, [3.0, 4.0], batch_key="chunk-2") == 0
        assert values_of(table, "a") == [1.0, 3.0]
        assert values_of(table, "b") == [2.0, 4.0]
        store.close()
    assert saved_keys(store) == ["chunk-1", "chunk-2"]


FAILING_CHILD = textwrap.dedent("""
    import json, os, resource, signal, sys, numpy as np
    from edge.catalog import Catalog
    from edge.store import TagStore
    from edge.errors import EdgeError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    data = sys.argv[1]
    store = TagStore(Catalog(os.path.join(data, "catalog.db")), os.path.join(data, "tags"))
    table = store.table("TAG")
    table.append(["a"], [1], [1.0])
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    # the keyed record cannot be written whole: the disk "fills up" half way through it
    resource.setrlimit(resource.RLIMIT_FSIZE, (table.state.wal._offset + 100, hard))
    try:
        table.append(["a"] * 1000, np.arange(1000) + 10, np.ones(1000), batch_key="chunk-1")
        outcome = "stored"
    except EdgeError as err:
        outcome = err.code
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    retried = table.append(["a"] * 1000, np.arange(1000) + 10, np.ones(1000), batch_key="chunk-1")
    repeated = table.append(["a"] * 1000, np.arange(1000) + 10, np.ones(1000), batch_key="chunk-1")
    print(json.dumps([outcome, retried, repeated]), flush=True)
    os._exit(0)  # no close: the next open replays the log, the aborted record included
""")


def test_batch_whose_log_write_fails_records_no_key(tmp_path, open_store):
    script = tmp_path / "failing.py"
    script.write_text(FAILING_CHILD)
    out = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert json.loads(out.stdout) == [STORAGE_FAILURE, 1000, 0], out.stderr
    table = open_store().table("TAG")
    assert table.stats("a").count == 1001
    assert table.append(["a"] * 1000, np.arange(1000) + 10, np.ones(1000), batch_key="chunk-1") == 0


def test_threads_racing_with_one_key_apply_it_once(table):
    threads_per_round, rounds = 6, 15
    results: dict[int, list[int]] = {r: [] for r in range(rounds)}

    def racer(r: int, t: int, barrier: threading.Barrier) -> None:
        barrier.wait()
        names = ["a"] * 10
        times = (np.arange(10, dtype=np.int64) + 100 * r) * S
        results[r].append(table.append(names, times, np.full(10, float(t)), batch_key=f"round-{r}"))

    for r in range(rounds):
        barrier = threading.Barrier(threads_per_round)
        threads = [threading.Thread(target=racer, args=(r, t, barrier)) for t in range(threads_per_round)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results[r]) == [0] * (threads_per_round - 1) + [10]
    got = table.read(["a"], -10**18, 10**18, 0)
    assert len(got.times) == 10 * rounds
    for r in range(rounds):  # each round's rows are one racer's batch, whole
        assert len(set(got.values[10 * r:10 * (r + 1)].tolist())) == 1
        assert got.times[10 * r:10 * (r + 1)].tolist() == ((np.arange(10) + 100 * r) * S).tolist()


def start_racers_in_one_commit_group(table, count: int, key: str, names, times) -> tuple[list, list]:
    """Starts `count` appends of one key while the test holds the table's commit lock (as a
    commit in progress would), so all of them queue up and are committed as one group;
    returns (threads, results) once every batch is queued. Release the lock to commit."""
    results: list = []

    def racer(t: int) -> None:
        try:
            results.append(table.append(names, times, np.full(len(times), float(t)), batch_key=key))
        except EdgeError as err:
            results.append(err.code)

    threads = [threading.Thread(target=racer, args=(t,)) for t in range(count)]
    for thread in threads:
        thread.start()
    while len(table.state.queue) < count:
        time.sleep(0.001)
    return threads, results


def test_one_key_twice_in_one_commit_group_is_applied_once(table):
    times = np.arange(10, dtype=np.int64) * S
    with table.state.commit_lock:
        threads, results = start_racers_in_one_commit_group(table, 4, "chunk-1", ["a"] * 10, times)
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [0, 0, 0, 10]
    assert table.stats("a").count == 10


RACING_FAILING_CHILD = textwrap.dedent("""
    import json, os, resource, signal, sys, numpy as np
    sys.path.insert(0, sys.argv[2])
    from edge.catalog import Catalog
    from edge.store import TagStore
    from test_batch_keys import start_racers_in_one_commit_group
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    store = TagStore(Catalog(os.path.join(sys.argv[1], "catalog.db")), os.path.join(sys.argv[1], "tags"))
    table = store.table("TAG")
    table.append(["a"], [1], [1.0])
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    times = np.arange(1000, dtype=np.int64) + 10
    with table.state.commit_lock:
        threads, results = start_racers_in_one_commit_group(table, 3, "chunk-1", ["a"] * 1000, times)
        resource.setrlimit(resource.RLIMIT_FSIZE, (table.state.wal._offset + 100, hard))
    for thread in threads:
        thread.join(timeout=30)
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    retried = table.append(["a"] * 1000, times, np.ones(1000), batch_key="chunk-1")
    print(json.dumps([sorted(results), retried, table.stats("a").count]), flush=True)
    os._exit(0)
""")


def test_repeats_of_a_failed_batch_in_its_commit_group_fail_with_it(tmp_path):
    # A repeat told "skipped" while its twin failed would lose the chunk: it must fail too.
    script = tmp_path / "racing_failing.py"
    script.write_text(RACING_FAILING_CHILD)
    out = subprocess.run([sys.executable, str(script), str(tmp_path), str(Path(__file__).parent)],
                         capture_output=True, text=True, timeout=60)
    assert json.loads(out.stdout) == [[STORAGE_FAILURE] * 3, 1000, 1001], out.stderr


def test_retention_keeps_the_newest_keys(open_store, monkeypatch):
    monkeypatch.setattr(batch_keys, "KEYS_KEPT", 5)
    monkeypatch.setattr(batch_keys, "CATALOG_SLACK", 2)
    store = open_store()
    table = store.table("TAG")
    for k in range(12):
        table.append(*points(k), batch_key=f"chunk-{k}")
        if k % 3 == 2:
            table.checkpoint()
    # the catalog is cut back to the newest 5 whenever it passes 5 + 2
    assert len(saved_keys(store)) <= 7
    assert saved_keys(store)[-5:] == [f"chunk-{k}" for k in range(7, 12)]
    store.close()
    table = open_store().table("TAG")
    assert [table.append(*points(k), batch_key=f"chunk-{k}") for k in range(7, 12)] == [0] * 5
    assert table.stats("a").count == 2 * 12
    # the oldest are forgotten: sent again, they are applied again
    assert table.append(*points(0), batch_key="chunk-0") == 4
    assert table.stats("a").count == 2 * 13
