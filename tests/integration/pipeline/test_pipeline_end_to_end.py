"""The pipeline in a real `edge serve`: a configuration posted over HTTP, files dropped in a
folder, data read back through /machiot; restarts, kill -9, restream, stop/start, markers."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
import urllib.parse

import numpy as np

from edge.catalog import Catalog
from edge.store import TagStore
from tests.waiting import wait_for

HEADER = "timestamp,temp,count,label\n"
T0 = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
SERVER_CONF = ["TIMEZONE = UTC"]


def rows(start: int, count: int) -> str:
    return "".join(f"{(T0 + dt.timedelta(seconds=i)).strftime('%Y-%m-%d %H:%M:%S')},{i * 0.5},{i},r{i}\n"
                   for i in range(start, start + count))


def write_old(path, text: str) -> None:
    """A file written a while ago: settled at first sight."""
    path.write_text(text)
    os.utime(path, (time.time() - 60, time.time() - 60))


def configuration(folder, delete_completed=False, poll_interval=0.5):
    return {
        "data_receiver": [{
            "data_receiver_name": "line_1", "protocol": "localfile", "poll_interval": poll_interval,
            "delete_completed": delete_completed,
            "connections": [{"root_path": str(folder)}],
            "parsers": [{"parser_name": "csv_0", "parser_type": "spreadsheet", "filter_stream": ["*"],
                         "options": {"localtz": "UTC", "parse": {
                             "separator": ",", "header": 0,
                             "parse_timestamps": [{"field_name": "timestamp", "format": "%Y-%m-%d %H:%M:%S"}]}}}],
            "streams": [{"asset": "press", "stream_type": "cycle", "file_filter": ["*.csv"]}],
        }],
        "transforms": [{"transform_name": "names", "transform_type": "rename", "filter_stream": ["press:*"],
                        "renames": {"temp": "temperature"}}],
        "data_transmit": [],
    }


def post_config(server, body):
    response = server.client.post("/v1/config", body=body)
    assert response.status == 200 and response.json["success"] is True, response.body


def machiot_points(server, tag: str) -> list[tuple[str, float]]:
    path = "/machiot/v1/datapoints/raw/TAG/{}/2024-05-01T00:00:00,000/2024-05-02T00:00:00,000/2/0/0".format(
        urllib.parse.quote(tag, safe=":"))
    body = server.client.get(path).json
    if "does not exist" in body["error_message"]:
        return []  # no point stored yet
    assert body["error_code"] == 0, body
    return [(row["TIME"], row["VALUE"]) for row in body["data"]]


def expected_machiot(start: int, count: int) -> list[tuple[str, float]]:
    return [((T0 + dt.timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S 000:000:000"), i * 0.5)
            for i in range(start, start + count)]



def stream_markers(server) -> dict[str, tuple[str, str]]:
    streams = server.client.get("/v1/streams").json["response"]
    return {m["category"]: (m["level"], m["message"]) for s in streams for m in s["markers"]}


def stored_points(data_dir, tag: str) -> np.ndarray:
    """Times of `tag`, read from the store on disk (the server stopped)."""
    catalog = Catalog(data_dir / "catalog.db")
    store = TagStore(catalog, data_dir / "tags")
    try:
        return store.table("TAG").read([tag], 0, np.iinfo(np.int64).max).times
    finally:
        store.close()
        catalog.close()


def test_a_posted_configuration_reads_files_into_the_historian(edge_server_factory, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    server = edge_server_factory(conf_lines=SERVER_CONF)
    post_config(server, configuration(folder, delete_completed=True))
    write_old(folder / "a.csv", HEADER + rows(0, 3))
    write_old(folder / "b.csv", HEADER + rows(3, 2) + "2024-05-01 00:00:05,1,2\n2024-05-01 00:00:06,1,2,x,y\n")
    wait_for(lambda: len(machiot_points(server, "press:cycle:count")) == 6)
    assert machiot_points(server, "press:cycle:temperature") == expected_machiot(0, 5) + [
        ("2024-05-01 00:00:05 000:000:000", 1.0)]
    wait_for(lambda: not any(folder.iterdir()))  # delete_completed
    level, message = stream_markers(server)["parse"]
    assert level == "warning" and "b.csv: 1 bad line(s) skipped; line 5: expected 4 fields, saw 5" in message
    status = server.client.get("/v1/status").json["response"]["factorytx"]["services"]["line_1"]
    assert status["records_in"] == 7 and status["records_out"] == 6


def test_a_restarted_server_stores_nothing_twice(edge_server_factory, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    server = edge_server_factory(conf_lines=SERVER_CONF)
    post_config(server, configuration(folder))
    write_old(folder / "a.csv", HEADER + rows(0, 4))
    wait_for(lambda: len(machiot_points(server, "press:cycle:count")) == 4)
    server.stop()
    with open(folder / "a.csv", "a") as handle:
        handle.write(rows(4, 2))
    os.utime(folder / "a.csv", (time.time() - 60, time.time() - 60))
    server.start()
    wait_for(lambda: len(machiot_points(server, "press:cycle:count")) >= 6)
    time.sleep(1.5)  # more passes: still nothing twice
    assert machiot_points(server, "press:cycle:temperature") == expected_machiot(0, 6)


def test_stop_and_start_over_http(edge_server_factory, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    server = edge_server_factory(conf_lines=SERVER_CONF)
    post_config(server, configuration(folder))
    assert server.client.post("/v1/ftx/stop").json["response"] == "stopped"
    write_old(folder / "a.csv", HEADER + rows(0, 2))
    time.sleep(1.5)
    assert machiot_points(server, "press:cycle:count") == []
    assert server.client.post("/v1/ftx/start").json["response"] == "running"
    wait_for(lambda: machiot_points(server, "press:cycle:temperature") == expected_machiot(0, 2))


def test_a_missing_folder_shows_a_connection_marker_until_it_appears(edge_server_factory, tmp_path):
    folder = tmp_path / "mount"
    server = edge_server_factory(conf_lines=SERVER_CONF)
    post_config(server, configuration(folder))
    level, message = wait_for(lambda: stream_markers(server).get("connection"))
    assert level == "error" and "does not exist" in message
    folder.mkdir()
    write_old(folder / "a.csv", HEADER + rows(0, 1))
    wait_for(lambda: "connection" not in stream_markers(server))
    wait_for(lambda: machiot_points(server, "press:cycle:temperature") == expected_machiot(0, 1))


def test_restream_reads_the_files_again_without_duplicating_points(edge_server_factory, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    server = edge_server_factory(conf_lines=SERVER_CONF)
    post_config(server, configuration(folder))
    write_old(folder / "a.csv", HEADER + rows(0, 3))
    wait_for(lambda: len(machiot_points(server, "press:cycle:count")) == 3)
    wait_for(lambda: _state_done(server, 1))
    response = server.client.post("/v1/restream", body={"line_1": [{"asset": "press", "stream_type": "cycle"}]})
    assert response.json == {"success": True, "response": "Restream has completed successfully"}
    # The purge removed what the receiver remembered of a.csv; reading it again brings it back.
    wait_for(lambda: _state_done(server, 1))
    assert machiot_points(server, "press:cycle:temperature") == expected_machiot(0, 3)


def test_kill_9_at_any_moment_loses_and_duplicates_nothing(edge_server_factory, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    files, per_file = 2, 250_000  # three 4 MiB chunks each
    for index in range(files):
        write_old(folder / f"f{index}.csv", HEADER + rows(index * per_file, per_file))
    server = edge_server_factory(conf_lines=SERVER_CONF)
    post_config(server, configuration(folder, poll_interval=0.2))
    rng = random.Random(5)
    kills = 0
    for _ in range(6):  # bounded: kill whenever a file is part read, until everything is read
        progress = wait_for(lambda: _progress(server, files), timeout=60, interval=0.01)
        if progress == "done":
            break
        time.sleep(rng.uniform(0, 0.05))  # before, during or after the chunk's append
        server.kill()
        kills += 1
        server.start()
    assert kills >= 1
    wait_for(lambda: _progress(server, files) == "done", timeout=120)
    server.stop()
    times = stored_points(server.data_dir, "press:cycle:count")
    expected = (np.datetime64("2024-05-01T00:00:00", "ns").astype(np.int64)
                + np.arange(files * per_file, dtype=np.int64) * 10**9)
    assert np.array_equal(np.unique(times), expected)  # nothing lost
    assert len(times) == files * per_file  # nothing twice


def _progress(server, files: int) -> str | None:
    """'partial' while a file is part read, 'done' when every file is, else None."""
    catalog = Catalog(server.data_dir / "catalog.db")
    try:
        states = [json.loads(row[0]) for row in catalog.connection().execute("SELECT state FROM receiver_state")]
    finally:
        catalog.close()
    if any(0 < state["offset"] < state["size"] or state["pending"] for state in states):
        return "partial"
    if states and all(state["done"] for state in states) and len(states) == files:
        return "done"
    return None


def _state_done(server, files: int) -> bool:
    catalog = Catalog(server.data_dir / "catalog.db")
    try:
        rows_ = catalog.connection().execute("SELECT state FROM receiver_state").fetchall()
    finally:
        catalog.close()
    return len(rows_) == files and all('"done": true' in row[0] for row in rows_)
