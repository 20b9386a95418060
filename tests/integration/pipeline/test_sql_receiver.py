"""The SQL receiver's runtime against real PostgreSQL and MariaDB servers on loopback: types and
time zones into the historian, pages drained in one poll, bind values never SQL text, the
source never written, failures as markers, and a server stopped and started mid-poll."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from edge.pipeline.receivers.sql.progress import RESOURCE
from edge.pipeline.receivers.sql.receiver import SqlReceiver
from edge.pipeline.runtime.context import RECEIVER, ComponentContext
from tests.integration.peers import mariadb, postgres
from tests.unit.pipeline.receivers.pipeline_parts import PipelineParts
from tests.waiting import wait_for

T0 = dt.datetime(2024, 3, 1, 12, 0, 0)
T0_NS = 1709294400 * 10**9
S = 10**9


@pytest.fixture(scope="module")
def pg():
    reason = postgres.available()
    if reason:
        pytest.skip(reason)
    server = postgres.PostgresServer().start()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def maria():
    reason = mariadb.available()
    if reason:
        pytest.skip(reason)
    server = mariadb.MariaDbServer().start()
    yield server
    server.remove()


@pytest.fixture
def parts(tmp_path):
    parts = PipelineParts(tmp_path / "edge")
    yield parts
    parts.close()


def receiver(parts, connection, streams, name="line_db"):
    cfg = {"data_receiver_name": name, "protocol": "sql", "poll_interval": 1, "connections": [connection],
           "streams": streams}
    context = ComponentContext(parts.ports, name, RECEIVER, cfg,
                               {"data_receiver": [cfg], "transforms": [], "data_transmit": []}, threading.Event())
    runtime = SqlReceiver(context)
    runtime.reconnect_max_seconds = 0.5
    return runtime


def stream(table, query=None, **extra):
    return {"asset": table, "stream_type": "cycle",
            "query": query or f"SELECT * FROM {table} WHERE id > :id ORDER BY id LIMIT 10",
            "state_fields": [{"column_name": "id", "data_type": "integer"}], **extra}



# -- PostgreSQL ----------------------------------------------------------------------------------

def test_postgresql_types_casts_and_pages_into_the_historian(pg, parts):
    conn = pg.connect()
    conn.cursor().execute("CREATE TABLE pg_types (id bigint PRIMARY KEY, at timestamp, at_tz timestamptz, "
                          "v double precision, n numeric(10,3), k integer, on_off boolean, note text)")
    conn.cursor().execute(
        "INSERT INTO pg_types SELECT g, TIMESTAMP '2024-03-01 12:00:00' + g * INTERVAL '1 second', "
        "TIMESTAMPTZ '2024-03-01 12:00:00+00' + g * INTERVAL '1 second', g * 0.5, g * 1.25, g, g % 2 = 0, "
        "'n:' || g FROM generate_series(1, 25) g")
    query = ("SELECT id, at, at_tz::text AS at_text, v, n, k, on_off FROM pg_types "
             "WHERE id > :id AND note <> 'x:y' AND n::float8 >= 0 ORDER BY id LIMIT 10")
    runtime = receiver(parts, pg.connection, [stream("pg_types", query)])
    result = runtime.poll()  # pages of 10, 10 and 5 in one poll
    assert (result.records_in, result.records_out) == (25, 25)
    assert parts.points("pg_types:cycle:v") == [(T0_NS + i * S, i * 0.5) for i in range(1, 26)]
    assert parts.points("pg_types:cycle:n")[:2] == [(T0_NS + S, 1.25), (T0_NS + 2 * S, 2.5)]
    assert parts.points("pg_types:cycle:on_off")[:2] == [(T0_NS + S, 0.0), (T0_NS + 2 * S, 1.0)]
    assert parts.tags() == ["pg_types:cycle:id", "pg_types:cycle:k", "pg_types:cycle:n", "pg_types:cycle:on_off",
                            "pg_types:cycle:v"]
    assert parts.receiver_state.get("line_db", "pg_types", "cycle", RESOURCE) == {"state": {"id": 25},
                                                                                 "pending": None}
    assert parts.markers_of("pg_types", "cycle") == {}
    runtime.close()


def test_postgresql_timestamp_state_and_connection_timezone(pg, parts):
    conn = pg.connect()
    conn.cursor().execute("CREATE TABLE pg_local (at timestamp PRIMARY KEY, v double precision)")
    conn.cursor().execute("INSERT INTO pg_local SELECT TIMESTAMP '2024-03-01 12:00:00' + g * INTERVAL '1 second', g "
                          "FROM generate_series(1, 4) g")
    connection = {**pg.connection, "timezone": "Europe/Berlin"}
    runtime = receiver(parts, connection, [{
        "asset": "pg_local", "stream_type": "cycle", "query": "SELECT * FROM pg_local WHERE at > :at ORDER BY at",
        "state_fields": [{"column_name": "at", "data_type": "timestamp", "initial_value": "2024-03-01T11:00:02Z"}]}])
    runtime.poll()  # 11:00:02Z is 12:00:02 in Berlin: rows 3 and 4
    assert parts.points("pg_local:cycle:v") == [(T0_NS + 3 * S - 3600 * S, 3.0), (T0_NS + 4 * S - 3600 * S, 4.0)]
    state = parts.receiver_state.get("line_db", "pg_local", "cycle", RESOURCE)["state"]
    assert state == {"at": "2024-03-01T12:00:04"}  # as the database gave it: naive
    conn.cursor().execute("INSERT INTO pg_local VALUES (TIMESTAMP '2024-03-01 12:00:05', 5)")
    runtime.poll()
    assert [v for _, v in parts.points("pg_local:cycle:v")] == [3.0, 4.0, 5.0]
    runtime.close()


def test_postgresql_a_value_is_never_sql_and_the_source_is_never_written(pg, parts):
    conn = pg.connect()
    conn.cursor().execute("CREATE TABLE pg_names (name text PRIMARY KEY, at timestamptz, v double precision)")
    conn.cursor().execute("INSERT INTO pg_names VALUES ('a', '2024-03-01 12:00:01+00', 1), "
                          "('b''; DROP TABLE pg_names; --', '2024-03-01 12:00:02+00', 2), "
                          "('c', '2024-03-01 12:00:03+00', 3)")
    names = [{"asset": "pg_names", "stream_type": "cycle", "query": "SELECT * FROM pg_names WHERE name > :name "
              "ORDER BY name LIMIT 1", "state_fields": [{"column_name": "name", "data_type": "string"}]},
             {"asset": "pg_write", "stream_type": "cycle", "query": "SELECT nextval('pg_counter') AS v, now() AS at"}]
    conn.cursor().execute("CREATE SEQUENCE pg_counter")
    runtime = receiver(parts, pg.connection, names)
    runtime.poll()
    assert [v for _, v in parts.points("pg_names:cycle:v")] == [1.0, 2.0, 3.0]
    level, message = parts.markers_of("pg_write", "cycle")["query"]
    assert level == "error" and "read-only transaction" in message
    cursor = conn.cursor()
    cursor.execute("SELECT count(*), (SELECT last_value FROM pg_counter), (SELECT is_called FROM pg_counter) "
                   "FROM pg_names")
    assert cursor.fetchone() == [3, 1, False]
    runtime.close()


def test_postgresql_query_failure_marks_only_its_stream_in_factorytx_words(pg, parts):
    conn = pg.connect()
    conn.cursor().execute("CREATE TABLE pg_good (id bigint PRIMARY KEY, at timestamptz, v double precision)")
    conn.cursor().execute("INSERT INTO pg_good VALUES (1, '2024-03-01 12:00:01+00', 1)")
    runtime = receiver(parts, pg.connection, [stream("pg_missing"), stream("pg_good")])
    runtime.poll()
    level, message = parts.markers_of("pg_missing", "cycle")["query"]
    assert level == "error"
    assert message == ('Query failed: ERROR: relation "pg_missing" does not exist (42P01). '
                       "Current state: {'id': 0}")
    assert parts.points("pg_good:cycle:v") == [(T0_NS + S, 1.0)]
    conn.cursor().execute("CREATE TABLE pg_missing AS SELECT * FROM pg_good")
    runtime.poll()
    assert parts.markers_of("pg_missing", "cycle") == {}
    assert parts.points("pg_missing:cycle:v") == [(T0_NS + S, 1.0)]
    runtime.close()


def test_postgresql_stopped_and_started_mid_poll_raises_and_clears_a_marker_and_loses_nothing(parts):
    reason = postgres.available()
    if reason:
        pytest.skip(reason)
    server = postgres.PostgresServer().start()
    try:
        conn = server.connect()
        conn.cursor().execute("CREATE TABLE pg_flaky (id bigint PRIMARY KEY, at timestamptz, v double precision)")
        conn.cursor().execute("INSERT INTO pg_flaky SELECT g, TIMESTAMPTZ '2024-03-01 12:00:00+00' + g * "
                              "INTERVAL '1 second', g FROM generate_series(1, 3000) g")
        conn.close()
        runtime = receiver(parts, server.connection, [stream("pg_flaky", "SELECT * FROM pg_flaky WHERE id > :id "
                                                                         "ORDER BY id LIMIT 100")])
        runtime.chunk_rows = 10
        seen: list[str] = []
        stop = threading.Event()

        def polls():
            while not stop.is_set():
                runtime.poll()
                markers = parts.markers_of("pg_flaky", "cycle")
                if "connection" in markers:
                    seen.append(markers["connection"][1])
                time.sleep(0.01)

        worker = threading.Thread(target=polls)
        worker.start()
        try:
            wait_for(lambda: len(parts.points("pg_flaky:cycle:v")) > 0)
            server.stop(fast=False)  # killed while the receiver reads its pages
            wait_for(lambda: seen)
            server.start()
            wait_for(lambda: len(parts.points("pg_flaky:cycle:v")) == 3000, timeout=120)
            wait_for(lambda: "connection" not in parts.markers_of("pg_flaky", "cycle"))
        finally:
            stop.set()
            worker.join(60)
        assert seen[0].startswith("Connection failed: ")
        assert parts.points("pg_flaky:cycle:v") == [(T0_NS + i * S, float(i)) for i in range(1, 3001)]
        assert parts.markers_of("pg_flaky", "cycle") == {}
        runtime.close()
    finally:
        server.remove()


def test_postgresql_bad_password_is_a_connection_marker(pg, parts):
    runtime = receiver(parts, {**pg.connection, "password": "wrong"}, [stream("pg_any")])
    runtime.poll()
    level, message = parts.markers_of("pg_any", "cycle")["connection"]
    assert level == "error" and "password authentication failed" in message


# -- MariaDB (database_type mysql) ------------------------------------------------------------------

def test_mariadb_types_and_pages_into_the_historian(maria, parts):
    conn = maria.connect()
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE my_types (id bigint PRIMARY KEY, at datetime(3), v double, n decimal(10,3), "
                       "flag tinyint(1), note varchar(20))")
        cursor.executemany("INSERT INTO my_types VALUES (%s, %s, %s, %s, %s, %s)",
                           [(i, T0 + dt.timedelta(seconds=i), i * 0.5, i * 1.25, i % 2, f"50% :x {i}")
                            for i in range(1, 24)])
    query = "SELECT * FROM my_types WHERE id > :id AND note LIKE '50%' ORDER BY id LIMIT 10"
    runtime = receiver(parts, maria.connection, [stream("my_types", query)])
    assert runtime.poll().records_in == 23
    assert parts.points("my_types:cycle:v") == [(T0_NS + i * S, i * 0.5) for i in range(1, 24)]
    assert parts.points("my_types:cycle:n")[-1] == (T0_NS + 23 * S, 28.75)
    assert parts.receiver_state.get("line_db", "my_types", "cycle", RESOURCE)["state"] == {"id": 23}
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO my_types VALUES (24, %s, 12, 30, 0, '50%% z')", (T0 + dt.timedelta(seconds=24),))
    assert runtime.poll().records_in == 1
    assert len(parts.points("my_types:cycle:v")) == 24
    runtime.close()


def test_mariadb_timestamp_state_in_the_connection_timezone(maria, parts):
    conn = maria.connect()
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE my_local (at datetime PRIMARY KEY, v double)")
        cursor.executemany("INSERT INTO my_local VALUES (%s, %s)",
                           [(T0 + dt.timedelta(seconds=i), i) for i in range(1, 5)])
    runtime = receiver(parts, {**maria.connection, "timezone": "America/New_York"}, [{
        "asset": "my_local", "stream_type": "cycle", "query": "SELECT * FROM my_local WHERE at > :at ORDER BY at",
        "state_fields": [{"column_name": "at", "data_type": "timestamp", "initial_value": "2024-03-01T17:00:02Z"}]}])
    runtime.poll()  # 17:00:02Z is 12:00:02 in New York (UTC-5): rows 3 and 4
    assert parts.points("my_local:cycle:v") == [(T0_NS + 3 * S + 5 * 3600 * S, 3.0),
                                                (T0_NS + 4 * S + 5 * 3600 * S, 4.0)]
    runtime.close()


def test_mariadb_query_failure_marker(maria, parts):
    runtime = receiver(parts, maria.connection, [stream("my_missing")])
    runtime.poll()
    level, message = parts.markers_of("my_missing", "cycle")["query"]
    assert level == "error" and message.startswith("Query failed: (1146) Table 'plant.my_missing' doesn't exist")
    assert message.endswith("Current state: {'id': 0}")
    runtime.close()
