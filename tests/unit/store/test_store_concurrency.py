"""Concurrent writers share commits (group commit) and readers see consistent prefixes."""

from __future__ import annotations

import threading

import numpy as np


def test_concurrent_writers_each_get_whole_batches(table):
    writers, batches, size = 4, 40, 50
    errors = []

    def write(w):
        try:
            for b in range(batches):
                # every batch is one run of consecutive values, so a torn batch would show
                base = (w * batches + b) * size
                table.append([f"w{w}"] * size + ["shared"] * size, np.arange(2 * size) + base * 10,
                             np.concatenate([np.arange(base, base + size)] * 2).astype(np.float64))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    shared = table.read(["shared"], -10**18, 10**18, 0).values.reshape(-1, size)
    assert len(shared) == writers * batches
    assert all((row == row[0] + np.arange(size)).all() for row in shared)
    for w in range(writers):
        mine = table.read([f"w{w}"], -10**18, 10**18, 0).values
        assert mine.tolist() == list(range(w * batches * size, (w + 1) * batches * size))


def test_readers_see_a_growing_consistent_prefix_while_a_writer_appends(table):
    stop = threading.Event()
    seen, problems = {0: [], 1: []}, []

    def read(reader):
        while not stop.is_set():
            got = table.read(["c"], -10**18, 10**18, 2).values
            if got.tolist() != list(range(len(got))):
                problems.append(len(got))
            stats = table.stats("c")
            hourly = table.aggregate(["c"], 0, 10**15, "hour", 1, ["count"])[1]["count"]
            if stats is not None and (stats.count % 100 or hourly.sum() % 100):
                problems.append(("partial batch", stats.count, hourly.sum()))
            seen[reader].append(len(got))

    readers = [threading.Thread(target=read, args=(r,)) for r in range(2)]
    for thread in readers:
        thread.start()
    for b in range(150):
        table.append(["c"] * 100, np.arange(b * 100, (b + 1) * 100) * 1_000_000, np.arange(b * 100, (b + 1) * 100))
    stop.set()
    for thread in readers:
        thread.join()
    assert problems == []
    for lengths in seen.values():
        assert lengths == sorted(lengths) and len(lengths) > 1  # each reader saw the prefix grow
    assert len(table.read(["c"], -10**18, 10**18).values) == 15_000
