"""Store-and-forward in a real `edge serve`: files read into the historian and the outbox, sent
to a real HTTP stand-in of the cloud; an outage, kill -9 while sending, the outbox bound, the
status and the config backup."""

from __future__ import annotations

import collections
import datetime as dt
import os
import random
import time
import urllib.parse

import pytest

from tests.integration.peers.cloud_standin import CloudStandIn
from tests.waiting import wait_for

HEADER = "timestamp,temp,count,label\n"
T0 = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
SERVER_CONF = ["TIMEZONE = UTC", "CONFIG_BACKUP_HOURS = 6"]


def rows(start: int, count: int) -> str:
    return "".join(f"{(T0 + dt.timedelta(seconds=i)).strftime('%Y-%m-%d %H:%M:%S')},{i * 0.5},{i},r{i}\n"
                   for i in range(start, start + count))


def write_old(path, text: str) -> None:
    """A file written a while ago: settled at first sight."""
    path.write_text(text)
    os.utime(path, (time.time() - 60, time.time() - 60))


def configuration(folder, transmit: dict) -> dict:
    parse = {"separator": ",", "header": 0,
             "parse_timestamps": [{"field_name": "timestamp", "format": "%Y-%m-%d %H:%M:%S"}]}
    return {
        "data_receiver": [{
            "data_receiver_name": "line_1", "protocol": "localfile", "poll_interval": 0.2,
            "delete_completed": False, "connections": [{"root_path": str(folder)}],
            "parsers": [{"parser_name": "csv_0", "parser_type": "spreadsheet", "filter_stream": ["*"],
                         "options": {"localtz": "UTC", "parse": parse}}],
            "streams": [{"asset": "press", "stream_type": "cycle", "file_filter": ["press*.csv"]},
                        {"asset": "oven", "stream_type": "cycle", "file_filter": ["oven*.csv"]}],
        }],
        "transforms": [{"transform_name": "names", "transform_type": "rename", "filter_stream": ["*"],
                        "renames": {"temp": "temperature"}}],
        "data_transmit": [transmit],
    }



def post_config(server, body) -> None:
    response = server.client.post("/v1/config", body=body)
    assert response.status == 200 and response.json["success"] is True, response.body


def status(server) -> dict:
    return server.client.get("/v1/status").json["response"]


def outbox_status(server) -> dict:
    return status(server)["last_data_transmit"].get("transmits", {}).get("cloud", {})


def stored_count(server) -> int:
    sql = "select count(*) as N from TAG where name = 'press:cycle:count'"
    body = server.client.get("/machbase?q=" + urllib.parse.quote(sql)).json
    return int(body["data"][0]["N"]) if body.get("data") else 0


@pytest.fixture
def cloud():
    standin = CloudStandIn().start()
    yield standin
    standin.stop()


def test_an_outage_does_not_slow_the_receiver_and_everything_arrives_in_order_after(edge_server_factory, tmp_path,
                                                                                      cloud):
    folder = tmp_path / "in"
    folder.mkdir()
    write_old(folder / "press_1.csv", HEADER + rows(0, 3000))
    write_old(folder / "oven_1.csv", HEADER + rows(0, 2000))
    cloud.refuse()
    server = edge_server_factory(conf_lines=SERVER_CONF)
    post_config(server, configuration(folder, cloud.transmit(poll_interval=0.2, max_request_records=700)))
    wait_for(lambda: outbox_status(server).get("records_queued") == 5000)  # all read while the cloud is out
    shown = status(server)
    transmit = shown["last_data_transmit"]["transmits"]["cloud"]
    assert "ConnectionRefusedError" in transmit["last_error"] and transmit["records_sent"] == 0
    assert transmit["oldest_queued_record_time"] == "2024-05-01 00:00:00.000000"
    assert transmit["bytes_queued"] > 0
    assert shown["factorytx"]["services"]["cloud"]["status"] == "running"
    assert shown["factorytx"]["services"]["cloud"]["error_count"] >= 1
    backup = wait_for(lambda: status(server)["backup"]["config"]["error_code"] == "connectivity_error" and
                      status(server)["backup"]["config"])
    assert "failed to reach the cloud" in backup["error_message"]

    cloud.accept()
    wait_for(lambda: len(cloud.stream_records("oven", "cycle", "count")) >= 2000 and
             len(cloud.stream_records("press", "cycle", "count")) >= 3000)
    assert cloud.stream_records("press", "cycle", "count") == list(range(3000))
    assert cloud.stream_records("oven", "cycle", "count") == list(range(2000))
    assert cloud.stream_records("press", "cycle", "temperature")[:3] == [0.0, 0.5, 1.0]  # after the transforms
    assert cloud.stream_records("press", "cycle", "label")[-1] == "r2999"
    transmit = wait_for(lambda: outbox_status(server).get("records_sent") == 5000 and outbox_status(server))
    assert transmit["records_queued"] == 0 and transmit["last_success"] is not None
    sent = status(server)["last_data_transmit"]
    assert sent["transmit_name"] == "cloud" and sent["transmit_type"] == "remotedatapost"


def test_kill_9_while_sending_loses_nothing(edge_server_factory, tmp_path, cloud):
    folder = tmp_path / "in"
    folder.mkdir()
    total = 40_000
    write_old(folder / "press_1.csv", HEADER + rows(0, total // 2))
    write_old(folder / "press_2.csv", HEADER + rows(total // 2, total // 2))
    cloud.delay_seconds = 0.02  # a cloud slow enough that sending is under way at each kill
    server = edge_server_factory(conf_lines=SERVER_CONF)
    limit = 500
    post_config(server, configuration(folder, cloud.transmit(poll_interval=0.2, max_request_records=limit)))
    rng = random.Random(7)
    kills = 0
    for _ in range(5):  # bounded: kill while records are being sent, until all are
        seen = cloud.records
        if seen >= total:
            break
        wait_for(lambda: cloud.records >= min(total, seen + 2000), timeout=60, interval=0.01)
        time.sleep(rng.uniform(0, 0.05))
        server.kill()
        kills += 1
        server.start()
    assert kills >= 1
    wait_for(lambda: len(set(cloud.stream_records("press", "cycle", "count"))) == total, timeout=120)
    received = cloud.stream_records("press", "cycle", "count")
    assert sorted(set(received)) == list(range(total))  # every record at least once
    repeats = len(received) - total
    assert repeats <= kills * limit  # only what was in flight at a kill came again
    for value, times in collections.Counter(received).items():
        assert times <= 1 + kills
    server.stop()


def test_the_outbox_bound_drops_the_oldest_records_with_a_marker(edge_server_factory, tmp_path, cloud):
    folder = tmp_path / "in"
    folder.mkdir()
    total, per_file = 60_000, 10_000  # a batch (~0.5 MB queued) per file: the oldest go whole
    for index in range(total // per_file):
        write_old(folder / f"press_{index}.csv", HEADER + rows(index * per_file, per_file))
    cloud.refuse()
    server = edge_server_factory(conf_lines=SERVER_CONF + ["OUTBOX_MAX_BYTES = 1048576"])
    post_config(server, configuration(folder, cloud.transmit(poll_interval=0.2, max_request_records=5000)))
    wait_for(lambda: stored_count(server) == total)  # the historian has everything
    transmit = wait_for(lambda: outbox_status(server).get("records_dropped") and outbox_status(server))
    assert transmit["bytes_queued"] <= 1048576 + 131072
    streams = {s["stream"]: s for s in server.client.get("/v1/streams").json["response"]}
    marker = next(m for m in streams["press:cycle"]["markers"] if m["category"] == "outbox")
    assert marker["component"] == "cloud" and marker["component_type"] == "Transmit" and marker["level"] == "error"
    assert "unsent record(s) of this stream were dropped" in marker["message"]
    assert "recorded from 2024-05-01 00:00:00" in marker["message"]
    dropped = transmit["records_dropped"]
    cloud.accept()
    wait_for(lambda: outbox_status(server).get("records_queued") == 0)
    received = cloud.stream_records("press", "cycle", "count")
    assert received == list(range(dropped, total))  # the newest, in order; the oldest went


def test_the_configuration_is_backed_up_under_a_stable_device_id(edge_server_factory, tmp_path, cloud):
    folder = tmp_path / "in"
    folder.mkdir()
    server = edge_server_factory(conf_lines=SERVER_CONF)
    post_config(server, configuration(folder, cloud.transmit()))
    backup = wait_for(lambda: status(server)["backup"]["config"]["last_success"] and
                      status(server)["backup"]["config"])
    assert backup["error_code"] is None and backup["error_message"] is None
    first = cloud.backups[-1]
    assert first["config"]["data_transmit"][0]["API_key"] == "********"  # secrets stay on the box
    assert first["config"]["data_receiver"][0]["data_receiver_name"] == "line_1"
    server.stop()
    server.start()
    changed = configuration(folder, cloud.transmit(poll_interval=5))
    post_config(server, changed)
    wait_for(lambda: any(b["config"]["data_transmit"][0].get("poll_interval") == 5 for b in cloud.backups))
    assert {b["device_id"] for b in cloud.backups} == {first["device_id"]}
    cloud.misbehave("status", status=401)
    post_config(server, configuration(folder, cloud.transmit(poll_interval=6)))
    backup = wait_for(lambda: status(server)["backup"]["config"]["error_code"] == "auth_error" and
                      status(server)["backup"]["config"])
    assert backup["last_success"] is not None and "check API_key and API_key_ID" in backup["error_message"]
