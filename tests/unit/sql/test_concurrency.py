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


TAG_DDL = "create tag table {} (name varchar(20) primary key, time datetime basetime, value double summarized)"


class PinnedThreads:
    """Statements run on chosen threads, so each on a chosen connection of the engine."""

    def __init__(self, count: int):
        from concurrent.futures import ThreadPoolExecutor
        self.pools = [ThreadPoolExecutor(1) for _ in range(count)]

    def on(self, thread: int, call, *args):
        return self.pools[thread].submit(call, *args).result(timeout=60)

    def close(self):
        for pool in self.pools:
            pool.shutdown()


def test_tag_table_dropped_and_created_again_after_another_connection_changed_the_schema(historian):
    # Another connection's CREATE TABLE makes SQLite reload this connection's schemas (temp
    # too) and connect its virtual tables again on their next use: by then the tag table
    # behind one of them has been dropped by a third connection.
    threads = PinnedThreads(3)
    run = historian.engine.execute
    try:
        threads.on(1, run, "select * from tag limit 1")
        threads.on(2, run, "create table other (a integer)")
        threads.on(1, run, "select * from other")
        threads.on(0, run, "drop table tag")
        threads.on(1, run, TAG_DDL.format("tag"))
        threads.on(2, run, "insert into tag values ('x', 5, 1.5)")
        assert threads.on(1, historian.rows, "select name, time, value from tag") == [("x", 5, 1.5)]
        threads.on(1, run, "drop table tag")
        assert historian.store.table_names() == []
    finally:
        threads.close()


def test_append_to_a_log_table_that_replaced_a_tag_table_of_its_name(historian):
    # The appending connection last saw M0 as a tag table; its virtual table must not take the rows.
    threads = PinnedThreads(2)
    try:
        threads.on(0, historian.engine.execute, TAG_DDL.format("m0"))
        threads.on(1, historian.engine.execute, "select * from m0")
        threads.on(0, historian.engine.execute, "drop table m0")
        threads.on(0, historian.engine.execute, "create table m0 (name varchar(20), time datetime, value double)")
        result = threads.on(1, historian.engine.append, "m0", {"name": "m0", "values": [["a", 5, 1.0]]})
        assert (result.success, result.failure) == (1, 0)
        assert threads.on(0, historian.rows, "select * from m0") == [("a", 5, 1.0)]
    finally:
        threads.close()


def test_one_of_many_concurrent_creates_or_drops_of_a_name_succeeds(historian):
    from concurrent.futures import ThreadPoolExecutor

    from edge.errors import EdgeError

    def attempt(statement: str) -> int:
        try:
            historian.engine.execute(statement)
            return 0
        except EdgeError as exc:
            return exc.code

    statements = [TAG_DDL.format("race") if i % 2 else "create table race (a integer)" for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(attempt, statements))
        assert sorted(created) == [0] + [2026] * 7
        dropped = list(pool.map(attempt, ["drop table race"] * 8))
    assert sorted(dropped) == [0] + [2025] * 7
    assert "RACE" not in historian.store.table_names()
    assert historian.engine.is_log_table("race") is False
