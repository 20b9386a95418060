"""Durability: reopening after a clean close and after an exit without one, a batch whose log
write fails, and a writer killed with SIGKILL at random moments (every acknowledged point
present exactly once, nothing else but the batch in flight)."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np

S = 1_000_000_000
TAGS = 20
POINTS = 50  # per tag and batch

# The child appends deterministic batches; batch k is a function of k alone.
CHILD = textwrap.dedent("""
    import os, sys, numpy as np
    import edge.store.tag_store, edge.store.table.checkpoint
    from edge.catalog import Catalog
    from edge.store import TagStore
    TAGS, POINTS, S = {tags}, {points}, 1_000_000_000
    # checkpoints and run merges all the time, so the kills land in them too
    edge.store.tag_store.HOUSEKEEPING_INTERVAL_S = 0.02
    edge.store.table.checkpoint.CHECKPOINT_INTERVAL_S = 0.05

    def batch(k):
        names = np.repeat(np.array([f"tag-{{i}}" for i in range(TAGS)]), POINTS)
        step = np.tile(np.arange(POINTS), TAGS)
        if k % 5 == 4:
            times = (k * POINTS + step[::-1] - 3 * POINTS) * S   # late, descending
        else:
            times = (k * POINTS + step) * S
        values = k * 1000.0 + np.arange(TAGS * POINTS)
        return names, times.astype(np.int64), values

    if __name__ == "__main__":
        data, start, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        store = TagStore(Catalog(os.path.join(data, "catalog.db")), os.path.join(data, "tags"))
        table = store.table("TAG")
        print("ready", flush=True)
        for k in range(start, stop):
            table.append(*batch(k))
            print(k, flush=True)
        os._exit(0)  # no close: the next open replays the log
""").format(tags=TAGS, points=POINTS)


def child_batch(k):
    names = np.repeat(np.array([f"tag-{i}" for i in range(TAGS)]), POINTS)
    step = np.tile(np.arange(POINTS), TAGS)
    times = (k * POINTS + step[::-1] - 3 * POINTS) * S if k % 5 == 4 else (k * POINTS + step) * S
    return names, times.astype(np.int64), k * 1000.0 + np.arange(TAGS * POINTS)


def expected(batches: int, tag: int):
    times = np.concatenate([child_batch(k)[1][tag * POINTS:(tag + 1) * POINTS] for k in range(batches)])
    values = np.concatenate([child_batch(k)[2][tag * POINTS:(tag + 1) * POINTS] for k in range(batches)])
    return times, values


def run_child(tmp_path, start: int, stop: int, kill_after: float | None) -> int:
    """Runs the appending child (killed with SIGKILL after `kill_after` s); returns how many
    batches it had acknowledged (printed) by then."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path), str(start), str(stop)],
                            stdout=subprocess.PIPE)
    fd = proc.stdout.fileno()
    output = b""
    deadline = None
    while True:
        ready, _, _ = select.select([fd], [], [], 0.01)
        if ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            output += chunk
            if deadline is None and b"ready" in output and kill_after is not None:
                deadline = time.monotonic() + kill_after
        if deadline is not None and time.monotonic() >= deadline:
            proc.send_signal(signal.SIGKILL)
            deadline = float("inf")
    proc.wait(timeout=30)
    acked = [int(line) for line in output.decode().split("\n")[:-1] if line.strip().isdigit()]
    return acked[-1] + 1 if acked else start


def verify(open_store, acked: int) -> int:
    """Every tag holds exactly batches 0..n-1, n = acked or acked + 1 (the batch in flight)."""
    store = open_store()
    table = store.table("TAG")
    counts = {table.stats(f"tag-{i}").count if table.stats(f"tag-{i}") else 0 for i in range(TAGS)}
    assert len(counts) == 1, counts  # all tags of a batch or none: batches are atomic
    batches = counts.pop() // POINTS
    assert batches in (acked, acked + 1), (batches, acked)
    for tag in (0, 7, TAGS - 1):
        want_times, want_values = expected(batches, tag)
        got = table.read([f"tag-{tag}"], -10**18, 10**18, 0)
        assert got.times.tolist() == want_times.tolist()
        assert got.values.tolist() == want_values.tolist()
        ordered = table.read([f"tag-{tag}"], -10**18, 10**18, 2)
        assert ordered.times.tolist() == sorted(want_times.tolist())
        if batches:
            hourly = table.aggregate([f"tag-{tag}"], -10**18, 10**18, "hour", 1, ["count", "sum"])[1]
            assert hourly["count"].sum() == len(want_times)
            assert hourly["sum"].sum() == want_values.sum()
    store.close()
    return batches


def test_reopen_after_close_gives_the_same_answers(open_store):
    store = open_store()
    table = store.table("TAG")
    table.append(["a", "b", "a"], [3 * S, 1 * S, 2 * S], [1.0, 2.0, 3.0])
    table.add_tags([{"NAME": "c"}])
    before = (table.read(["a", "b"], 0, 10 * S, 2), table.stats("a"), table.tag_names())
    store.close()
    table = open_store().table("tag")
    after = (table.read(["a", "b"], 0, 10 * S, 2), table.stats("a"), table.tag_names())
    assert after[0].times.tolist() == before[0].times.tolist()
    assert after[0].values.tolist() == before[0].values.tolist()
    assert after[1:] == before[1:]


def test_exit_without_close_is_recovered_from_the_log(tmp_path, open_store):
    acked = run_child(tmp_path, 0, 12, kill_after=None)
    assert acked == 12
    assert verify(open_store, acked) == 12
    # recovery checkpointed and cleaned up: no log segment is left behind
    assert list((tmp_path / "tags" / "TAG" / "log").iterdir()) == []


def test_writer_killed_at_random_moments_loses_no_acknowledged_point(tmp_path, open_store):
    rng = random.Random(1234)
    batches = 0
    for _ in range(4):
        acked = run_child(tmp_path, batches, batches + 100_000, kill_after=rng.uniform(0.2, 1.0))
        assert acked > batches or acked == batches
        batches = verify(open_store, acked)


FAILING_CHILD = textwrap.dedent("""
    import json, os, resource, signal, sys, numpy as np
    from edge.catalog import Catalog
    from edge.store import TagStore
    from edge.errors import EdgeError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    data = sys.argv[1]
    store = TagStore(Catalog(os.path.join(data, "catalog.db")), os.path.join(data, "tags"))
    table = store.table("TAG")
    table.append(["kept"] * 3, [1, 2, 3], [1.0, 2.0, 3.0])
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    # the next log record cannot be written whole: the disk "fills up" half way through it
    resource.setrlimit(resource.RLIMIT_FSIZE, (table.state.wal._offset + 100, hard))
    try:
        table.append(["kept", "lost"] * 500, np.arange(1000) + 10, np.ones(1000))
        outcome = "stored"
    except EdgeError as err:
        outcome = err.code
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    after = (table.stats("kept").count, table.tag_names())
    table.append(["kept"], [5000], [7.0])
    print(json.dumps([outcome, after[0], after[1], table.stats("kept").count]), flush=True)
    os._exit(0)
""")


def test_batch_whose_log_write_fails_leaves_nothing_behind(tmp_path, open_store):
    script = tmp_path / "failing.py"
    script.write_text(FAILING_CHILD)
    out = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=60)
    outcome, count_after_failure, names_after_failure, count_after_retry = json.loads(out.stdout)
    from edge.errors import STORAGE_FAILURE
    assert outcome == STORAGE_FAILURE
    assert (count_after_failure, names_after_failure) == (3, ["kept"])
    assert count_after_retry == 4
    table = open_store().table("TAG")
    assert table.tag_names() == ["kept"]
    assert table.read(["kept"], 0, 10**12).values.tolist() == [1.0, 2.0, 3.0, 7.0]
    assert not list((tmp_path / "tags" / "TAG").glob("1.g0.*"))  # the would-be tag left no file
