"""The SQL receiver in a real `edge serve`: bad configurations refused by /v1/config/validate at
their json_path; a posted configuration reading PostgreSQL into the historian, listed by
/v1/status, restreamed without a point twice; and kill -9 at random moments while rows are
inserted: every row stored exactly once."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import threading
import time
import urllib.parse

import numpy as np
import pytest

from edge.catalog import Catalog
from edge.store import TagStore
from tests.integration.peers import postgres
from tests.waiting import wait_for

SERVER_CONF = ["TIMEZONE = UTC"]
T0 = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
T0_NS = int(T0.timestamp()) * 10**9


@pytest.fixture(scope="module")
def pg():
    reason = postgres.available()
    if reason:
        pytest.skip(reason)
    server = postgres.PostgresServer().start()
    yield server
    server.remove()


def sql_config(connection, streams, poll_interval=0.2):
    return {"data_receiver": [{"data_receiver_name": "line_db", "protocol": "sql", "poll_interval": poll_interval,
                               "connections": [connection], "streams": streams}],
            "transforms": [], "data_transmit": []}


def id_stream(asset, table, limit=""):
    return {"asset": asset, "stream_type": "cycle", "timestamp_field": "at",
            "query": f"SELECT id, at, v FROM {table} WHERE id > :id ORDER BY id {limit}".rstrip(),
            "state_fields": [{"column_name": "id", "data_type": "integer", "initial_value": 0}]}


def create_table(pg, table):
    pg.connect().cursor().execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, at timestamptz, v double precision)")


def insert(conn, table, first, count):
    conn.cursor().execute(f"INSERT INTO {table} SELECT g, TIMESTAMPTZ '2024-05-01 00:00:00+00' + g * "
                          f"INTERVAL '1 second', g * 0.5 FROM generate_series({first}, {first + count - 1}) g")



def machiot_count(server, tag):
    path = "/machiot/v1/datapoints/raw/TAG/{}/2024-05-01T00:00:00,000/2024-05-03T00:00:00,000/2/0/0".format(
        urllib.parse.quote(tag, safe=":"))
    body = server.client.get(path).json
    return 0 if body["error_code"] != 0 else len(body["data"])


def stream_state(data_dir, asset):
    catalog = Catalog(data_dir / "catalog.db")
    try:
        row = catalog.connection().execute("SELECT state FROM receiver_state WHERE asset = ?", (asset,)).fetchone()
    finally:
        catalog.close()
    return None if row is None else json.loads(row[0])


def stored_times(data_dir, tag):
    catalog = Catalog(data_dir / "catalog.db")
    store = TagStore(catalog, data_dir / "tags")
    try:
        return store.table("TAG").read([tag], 0, np.iinfo(np.int64).max).times
    finally:
        store.close()
        catalog.close()


# -- validation ------------------------------------------------------------------------------------

GOOD = sql_config({"host": "db.local", "username": "r", "password": "s", "database_type": "postgresql",
                   "database_name": "plant"}, [id_stream("press", "cycles", "LIMIT 100")], poll_interval=10)


@pytest.mark.parametrize("change, path, text", [
    (lambda c: c["connections"][0].update(database_type="oracle"), ["connections", 0, "database_type"],
     'unknown database_type "oracle": expected one of postgresql, mysql, sqlite'),
    (lambda c: c["connections"][0].pop("host"), ["connections", 0, "host"],
     "a postgresql connection needs the database server's host"),
    (lambda c: c["connections"][0].update(timezone="Mars/Olympus"), ["connections", 0, "timezone"],
     'unknown time zone "Mars/Olympus": use an IANA name such as "Europe/Berlin" or "UTC"'),
    (lambda c: c["streams"][0].update(query="SELECT * FROM cycles ORDER BY id"),
     ["streams", 0, "state_fields", 0, "column_name"],
     "the query does not name state field \"id\" as :id, so every run would read the same rows: add e.g. "
     "'WHERE id > :id'"),
    (lambda c: c["streams"][0].update(query="SELECT * FROM cycles WHERE id > :id AND at > :since"),
     ["streams", 0, "query"], "the query names :since, which is not one of the stream's state_fields"),
    (lambda c: c["streams"][0]["state_fields"][0].update(data_type="bigint"),
     ["streams", 0, "state_fields", 0, "data_type"],
     'unknown data_type "bigint": expected one of integer, float, string, timestamp'),
    (lambda c: c["streams"][0].update(query="SELECT * FROM cycles WHERE id > :id; DELETE FROM cycles"),
     ["streams", 0, "query"], "the query must be one statement: remove the ';' and what follows"),
    (lambda c: c["streams"][0].update(query="UPDATE cycles SET v = 0 WHERE id > :id"),
     ["streams", 0, "query"], "the query must be a SELECT (or WITH ... SELECT), not UPDATE"),
    (lambda c: c["streams"][0]["state_fields"][0].update(initial_value="zero"),
     ["streams", 0, "state_fields", 0, "initial_value"],
     "initial_value 'zero' is not a valid integer: invalid literal for int() with base 10: 'zero'"),
])
def test_validate_refuses_bad_sql_configurations_at_their_json_path(client, change, path, text):
    config = copy.deepcopy(GOOD)
    change(config["data_receiver"][0])
    response = client.post("/v1/config/validate", config)
    assert response.status == 200
    body = response.json
    assert body["success"] is False and body["response"]["status"] == "failed"
    assert [v for v in body["response"]["violations"] if v["level"] == "error"] == [
        {"description": text, "json_path": ["data_receiver", 0, *path], "level": "error"}]


def test_validate_passes_a_good_sql_configuration(client):
    response = client.post("/v1/config/validate", GOOD)
    assert response.json["response"] == {"status": "passed", "violations": []}


# -- a running server ------------------------------------------------------------------------------

def test_postgresql_into_the_historian_listed_in_status_and_restreamed_once(pg, edge_server_factory):
    create_table(pg, "srv_cycles")
    insert(pg.connect(), "srv_cycles", 1, 13)
    server = edge_server_factory(conf_lines=SERVER_CONF)
    response = server.client.post("/v1/config", body=sql_config(pg.connection, [id_stream("srv", "srv_cycles",
                                                                                           "LIMIT 20")]))
    assert response.json["success"] is True, response.body
    wait_for(lambda: machiot_count(server, "srv:cycle:v") == 13)
    insert(pg.connect(), "srv_cycles", 14, 37)  # read later, in other pages than after the restream
    wait_for(lambda: machiot_count(server, "srv:cycle:v") == 50)
    service = server.client.get("/v1/status").json["response"]["factorytx"]["services"]["line_db"]
    assert service["type"] == "sql" and service["status"] == "running"
    wait_for(lambda: server.client.get("/v1/status").json["response"]["factorytx"]["services"]["line_db"]
             ["records_in"] == 50)
    response = server.client.post("/v1/restream", body={"line_db": [{"asset": "srv", "stream_type": "cycle"}]})
    assert response.json == {"success": True, "response": "Restream has completed successfully"}
    # A fresh receiver thread reads the 50 rows again from initial_value; the historian ledger says
    # the historian has them all.
    wait_for(lambda: server.client.get("/v1/status").json["response"]["factorytx"]["services"]["line_db"]
             ["records_in"] == 50)
    assert machiot_count(server, "srv:cycle:v") == 50
    server.stop()
    assert stream_state(server.data_dir, "srv") == {"state": {"id": 50}, "pending": None}
    catalog = Catalog(server.data_dir / "catalog.db")
    try:
        ledger = catalog.connection().execute("SELECT entry FROM historian_ledger WHERE asset = 'srv'").fetchone()
    finally:
        catalog.close()
    assert json.loads(ledger[0]) == {"taken": {"id": 50}}
    assert np.array_equal(stored_times(server.data_dir, "srv:cycle:v"), T0_NS + np.arange(1, 51) * 10**9)


def test_kill_9_at_random_moments_while_rows_arrive_stores_every_row_once(pg, edge_server_factory):
    create_table(pg, "kill_cycles")
    streams = [id_stream("unpaged", "kill_cycles"), id_stream("paged", "kill_cycles", "LIMIT 25")]
    server = edge_server_factory(conf_lines=SERVER_CONF)
    response = server.client.post("/v1/config", body=sql_config(pg.connection, streams, poll_interval=0.05))
    assert response.json["success"] is True, response.body
    rng = random.Random(12)
    inserted = [0]
    done = threading.Event()

    def inserting():
        conn = pg.connect()
        while not done.is_set() and inserted[0] < 4_000:
            count = rng.randint(1, 60)
            insert(conn, "kill_cycles", inserted[0] + 1, count)
            inserted[0] += count
            time.sleep(rng.uniform(0, 0.05))
        conn.close()

    writer = threading.Thread(target=inserting)
    writer.start()
    try:
        for _ in range(6):
            wait_for(lambda: stream_state(server.data_dir, "unpaged") is not None, timeout=60)
            time.sleep(rng.uniform(0.2, 1.5))
            server.kill()
            server.start()
    finally:
        done.set()
        writer.join(60)
    total = inserted[0]
    for asset in ("unpaged", "paged"):
        wait_for(lambda: (stream_state(server.data_dir, asset) or {}).get("state") == {"id": total}, timeout=180)
    server.stop(timeout=60)  # a pass in progress ends first; on a loaded machine that can take a while
    expected = T0_NS + np.arange(1, total + 1, dtype=np.int64) * 10**9
    for asset in ("unpaged", "paged"):
        times = stored_times(server.data_dir, f"{asset}:cycle:v")
        assert np.array_equal(np.unique(times), expected)  # nothing lost
        assert len(times) == total  # nothing twice
