"""The SQL receiver end to end on SQLite files (the servers are in tests/integration): rows in
chunks and pages into the historian, state kept, exactly once across an interrupted batch,
markers raised and cleared, restream, time zones, the source never written."""

from __future__ import annotations

import datetime
import sqlite3
import threading
import time

import pytest

from edge.pipeline.receivers.sql.progress import RESOURCE
from edge.pipeline.receivers.sql.receiver import SqlReceiver
from edge.pipeline.runtime.context import RECEIVER, ComponentContext
from tests.unit.pipeline.receivers.pipeline_parts import PipelineParts

T0 = datetime.datetime(2024, 3, 1, 12, 0, 0)
T0_NS = 1709294400 * 10**9
S = 10**9


@pytest.fixture
def parts(tmp_path):
    parts = PipelineParts(tmp_path / "edge")
    yield parts
    parts.close()


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "line.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE readings (id INTEGER PRIMARY KEY, ts TEXT, temp REAL, note TEXT)")
    return path


def insert(path, first, count, note="ok"):
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO readings VALUES (?, ?, ?, ?)",
                         [(i, (T0 + datetime.timedelta(seconds=i)).isoformat(" "), i / 2, note)
                          for i in range(first, first + count)])


def config(path, query="SELECT * FROM readings WHERE id > :id ORDER BY id LIMIT 5", streams=None, **connection):
    return {"data_receiver_name": "line_db", "protocol": "sql", "poll_interval": 1,
            "connections": [{"database_type": "sqlite", "database_name": str(path), **connection}],
            "streams": streams or [{"asset": "press", "stream_type": "cycle", "query": query, "timestamp_field": "ts",
                                    "state_fields": [{"column_name": "id", "data_type": "integer"}]}]}


def receiver(parts, cfg, transforms=()):
    context = ComponentContext(parts.ports, cfg["data_receiver_name"], RECEIVER, cfg,
                               {"data_receiver": [cfg], "transforms": list(transforms), "data_transmit": []},
                               threading.Event())
    runtime = SqlReceiver(context)
    runtime.reconnect_max_seconds = 0.2
    return runtime


def temps(parts, asset="press", stream_type="cycle"):
    return parts.points(f"{asset}:{stream_type}:temp")


def expected(first, last):
    return [(T0_NS + i * S, i / 2) for i in range(first, last + 1)]


def state_of(parts):
    return parts.receiver_state.get("line_db", "press", "cycle", RESOURCE)


def test_rows_go_to_the_historian_in_pages_and_chunks_within_one_poll(parts, db):
    insert(db, 1, 23)
    runtime = receiver(parts, config(db))
    runtime.chunk_rows = 2  # pages of 5 in chunks of 2, 2 and 1
    result = runtime.poll()
    assert (result.records_in, result.records_out) == (23, 23)
    assert temps(parts) == expected(1, 23)
    assert parts.tags() == ["press:cycle:id", "press:cycle:temp"]
    assert state_of(parts) == {"state": {"id": 23}, "pending": None}
    insert(db, 24, 3)
    assert runtime.poll().records_in == 3
    assert runtime.poll().records_in == 0
    assert temps(parts) == expected(1, 26)
    runtime.close()


def test_an_interrupted_batch_is_stored_once_and_later_rows_are_not_lost(parts, db):
    """A crash after the historian took a chunk but before the state moved: the next run
    replays that chunk under its key (skipped) and goes on with the rows after it, though the
    query (no LIMIT) now returns more rows than the first time."""
    insert(db, 1, 6)
    query = "SELECT * FROM readings WHERE id > :id ORDER BY id"
    runtime = receiver(parts, config(db, query))
    runtime.chunk_rows = 4
    store = runtime.records.store

    def store_then_crash(*args, **kwargs):
        store(*args, **kwargs)
        raise SystemExit("killed after the historian took the batch")

    runtime.records.store = store_then_crash
    with pytest.raises(SystemExit):
        runtime.poll()
    assert temps(parts) == expected(1, 4)
    intent = state_of(parts)["pending"]
    assert (intent["before"], intent["rows"], intent["after"]) == ({"id": 0}, 4, {"id": 4})
    insert(db, 7, 5)  # rows arriving while the receiver is down
    again = receiver(parts, config(db, query))
    again.chunk_rows = 4
    assert again.poll().records_in == 11
    assert temps(parts) == expected(1, 11)
    assert state_of(parts) == {"state": {"id": 11}, "pending": None}


def test_a_stream_without_state_stores_an_unchanged_result_once_and_a_changed_one_again(parts, db):
    insert(db, 1, 3)
    cfg = config(db, streams=[{"asset": "press", "stream_type": "cycle", "timestamp_field": "ts",
                               "query": "SELECT * FROM readings ORDER BY id"}])
    runtime = receiver(parts, cfg)
    runtime.poll()
    runtime.poll()
    assert temps(parts) == expected(1, 3)
    insert(db, 4, 1)
    runtime.poll()  # a snapshot query: a new result is a new batch, whole
    assert temps(parts) == sorted(expected(1, 3) * 2 + expected(4, 4))


def test_a_failing_query_marks_its_stream_only_and_clears_when_it_works(parts, db):
    insert(db, 1, 3)
    streams = [{"asset": "press", "stream_type": "cycle", "timestamp_field": "ts",
                "query": "SELECT * FROM readings WHERE id > :id ORDER BY id",
                "state_fields": [{"column_name": "id", "data_type": "integer"}]},
               {"asset": "oven", "stream_type": "cycle", "timestamp_field": "ts",
                "query": "SELECT * FROM oven WHERE id > :id ORDER BY id",
                "state_fields": [{"column_name": "id", "data_type": "integer"}]}]
    runtime = receiver(parts, config(db, streams=streams))
    runtime.poll()
    assert temps(parts) == expected(1, 3)
    level, message = parts.markers_of("oven", "cycle")["query"]
    assert level == "error"
    assert message == "Query failed: no such table: oven. Current state: {'id': 0}"
    assert parts.markers_of("press", "cycle") == {}
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE oven AS SELECT * FROM readings")
    runtime.poll()
    assert parts.markers_of("oven", "cycle") == {}
    assert temps(parts, "oven") == expected(1, 3)


def test_a_missing_database_file_is_a_connection_marker_until_it_appears(parts, tmp_path):
    path = tmp_path / "later.db"
    runtime = receiver(parts, config(path))
    runtime.poll()
    level, message = parts.markers_of("press", "cycle")["connection"]
    assert level == "error" and "cannot open" in message and "Reconnecting in" in message
    assert not path.exists()  # opened read-only: never created
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE readings (id INTEGER PRIMARY KEY, ts TEXT, temp REAL, note TEXT)")
    insert(path, 1, 2)
    deadline = time.monotonic() + 30
    while "connection" in parts.markers_of("press", "cycle") and time.monotonic() < deadline:
        time.sleep(0.05)
        runtime.poll()
    assert parts.markers_of("press", "cycle") == {}
    assert temps(parts) == expected(1, 2)


def test_the_source_is_never_written(parts, db):
    insert(db, 1, 2)
    before = db.read_bytes()
    cfg = config(db, streams=[{"asset": "press", "stream_type": "cycle",
                               "query": "WITH x AS (SELECT 1) SELECT * FROM readings; DELETE FROM readings"}])
    runtime = receiver(parts, cfg)
    runtime.poll()
    assert "query" in parts.markers_of("press", "cycle")
    assert db.read_bytes() == before


def test_restream_starts_from_the_initial_value_and_stores_each_point_once(parts, db):
    insert(db, 1, 12)
    runtime = receiver(parts, config(db))
    runtime.poll()
    assert temps(parts) == expected(1, 12)
    assert parts.receiver_state.purge_stream("line_db", "press", "cycle") == 1  # what POST /v1/restream does
    assert receiver(parts, config(db)).poll().records_in == 12
    assert temps(parts) == expected(1, 12)
    assert state_of(parts)["state"] == {"id": 12}


def test_naive_times_are_local_times_of_the_connection_timezone(parts, db):
    insert(db, 1, 1)
    runtime = receiver(parts, config(db, timezone="Europe/Berlin"))
    runtime.poll()
    assert temps(parts) == [(T0_NS + S - 3600 * S, 0.5)]  # 12:00:01 in Berlin (UTC+1 in March) is 11:00:01 UTC


def test_timestamp_and_string_state_fields(parts, db):
    insert(db, 1, 4)
    cfg = config(db, streams=[{"asset": "press", "stream_type": "cycle",
                               "query": "SELECT ts, temp FROM readings WHERE ts > :ts ORDER BY ts LIMIT 3",
                               "state_fields": [{"column_name": "ts", "data_type": "timestamp",
                                                 "initial_value": "2024-03-01 12:00:01"}]}])
    runtime = receiver(parts, cfg)
    runtime.poll()
    assert temps(parts) == expected(2, 4)  # SQLite has no time type: the timestamp state field is the time
    assert state_of(parts)["state"] == {"ts": "2024-03-01 12:00:04"}


def test_restream_of_rows_that_came_one_poll_at_a_time_stores_each_point_once(parts, db):
    """The first time rows 1-3, 4-8 and 9-12 came in three polls; after the restream they come
    back cut otherwise (pages of 5), under other batch keys: the historian ledger, which the
    restream leaves, says the historian has rows up to id 12, so they go to no historian again."""
    query = "SELECT * FROM readings WHERE id > :id ORDER BY id LIMIT 5"
    runtime = receiver(parts, config(db, query))
    for first, count in ((1, 3), (4, 5), (9, 4)):
        insert(db, first, count)
        runtime.poll()
    assert temps(parts) == expected(1, 12)
    parts.receiver_state.purge_stream("line_db", "press", "cycle")
    insert(db, 13, 4)  # and new rows since
    again = receiver(parts, config(db, query))
    again.chunk_rows = 3
    assert again.poll().records_in == 16
    assert temps(parts) == expected(1, 16)
    assert parts.ports.books.historian_ledger.for_stream("line_db", "press", "cycle") == {RESOURCE: {"taken": {"id": 16}}}


def test_an_interrupted_batch_after_a_restream_keeps_its_way_past_the_historian(parts, db):
    insert(db, 1, 6)
    query = "SELECT * FROM readings WHERE id > :id ORDER BY id"
    receiver(parts, config(db, query)).poll()
    parts.receiver_state.purge_stream("line_db", "press", "cycle")
    insert(db, 7, 2)
    runtime = receiver(parts, config(db, query))
    runtime.chunk_rows = 4
    store = runtime.records.store
    calls = []

    def store_then_crash(*args, **kwargs):
        calls.append(kwargs.get("historian"))
        stored = store(*args, **kwargs)
        if len(calls) == 2:
            raise SystemExit("killed")
        return stored

    runtime.records.store = store_then_crash
    with pytest.raises(SystemExit):
        runtime.poll()
    assert calls == [False, False]  # rows 1-4, then 5-6: the historian had them
    assert state_of(parts)["pending"]["historian"] is False
    again = receiver(parts, config(db, query))
    assert again.poll().records_in == 4  # 5-6 replayed past the historian, then 7-8 into it
    assert temps(parts) == expected(1, 8)
