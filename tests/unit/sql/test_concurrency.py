"""Queries while appends stream in: each thread has its own connection, each query sees a
consistent prefix (whole batches, never part of one), and nothing blocks for long."""

import threading

import numpy as np

SECOND = 10**9
BASE = 1_600_000_000 * SECOND
BATCH = 1000
BATCHES = 40


def test_queries_see_whole_batches_while_appends_stream_in(historian):
    historian.run("create table events (time datetime, value double)")
    table = historian.store.table("TAG")
    done = threading.Event()
    failures: list[str] = []
    seen: dict[str, list[int]] = {}

    def writer():
        try:
            for i in range(BATCHES):
                times = BASE + (i * BATCH + np.arange(BATCH, dtype=np.int64)) * SECOND
                table.append(np.full(BATCH, "live", dtype=object), times, np.full(BATCH, float(i)))
                rows = [[int(t), float(i)] for t in times[:50].tolist()]
                historian.engine.append("events", {"name": "events", "values": rows})
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            failures.append(f"writer: {exc!r}")
        finally:
            done.set()

    def reader(name: str, sql: str, fast: bool):
        counts = seen.setdefault(name, [])
        try:
            while not done.is_set() or len(counts) < 3:
                counts.append(historian.rows(sql, fast=fast)[0][0])
        except Exception as exc:  # noqa: BLE001
            failures.append(f"{name}: {exc!r}")

    readers = [
        threading.Thread(target=reader, args=("stats", "select count(*) from tag where name = 'live'", True)),
        threading.Thread(target=reader, args=("scan", "select count(*) from tag where name = 'live'", False)),
        threading.Thread(target=reader, args=("range", f"select count(value) from tag where name = 'live' "
                                                        f"and time >= {BASE}", True)),
        threading.Thread(target=reader, args=("log", "select count(*) from events", False)),
    ]
    threads = [threading.Thread(target=writer)] + readers
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    for name in ("stats", "scan", "range"):
        counts = seen[name]
        assert all(c % BATCH == 0 for c in counts), (name, counts)
        assert counts == sorted(counts), name
    assert all(c % 50 == 0 for c in seen["log"]) and seen["log"] == sorted(seen["log"])
    assert historian.rows("select count(*) from tag where name = 'live'") == [(BATCH * BATCHES,)]
    assert historian.rows("select count(*) from events") == [(50 * BATCHES,)]
