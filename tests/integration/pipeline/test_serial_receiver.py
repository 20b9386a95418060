"""The serial receiver against a device simulator writing lines into a socat pty pair."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from edge.pipeline.receivers.serial.receiver import SerialReceiver
from edge.pipeline.runtime.context import RECEIVER, ComponentContext
from tests.integration.peers import socat_pty
from tests.waiting import poll_until, wait_for

SCALE = r"^(?P<status>ST|US),GS,\s*(?P<weight>[-\d.]+)\s*kg$"


@pytest.fixture
def pair(tmp_path):
    reason = socat_pty.available()
    if reason:
        pytest.skip(reason)
    pair = socat_pty.PtyPair(tmp_path / "line").start()
    yield pair
    pair.stop()


@pytest.fixture
def device(pair):
    device = socat_pty.Device(pair)
    yield device
    device.close()


def serial_config(pair, streams, **connection) -> dict:
    return {"data_receiver_name": "scales", "protocol": "serial", "poll_interval": 1,
            "connections": [{"port": pair.receiver_end, "baudrate": 115200, "timeout": 0.2, **connection}],
            "streams": streams}


def start(parts, config, transforms=()) -> SerialReceiver:
    context = ComponentContext(parts.ports, config["data_receiver_name"], RECEIVER, config,
                               {"data_receiver": [config], "transforms": list(transforms), "data_transmit": []},
                               threading.Event())
    return SerialReceiver(context)


def wait_open(runtime, timeout: float = 30.0):
    wait_for(lambda: all(r.is_open for r in runtime.readers.values()), timeout, interval=0.02, what="port opened")


def ns(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()) * 10**9


def test_lines_become_records_at_their_receive_time_and_noise_is_reported(parts, pair, device):
    app = parts()
    runtime = start(app, serial_config(pair, [{"asset": "scale", "stream_type": "weight", "terminator": "\n",
                                               "pattern": SCALE}]))
    try:
        wait_open(runtime)
        before = time.time_ns()
        device.lines("ST,GS,   12.34 kg", "\x00\x7f#noise!", "US,GS,  -0.5 kg")
        poll_until(runtime, lambda: len(app.points("scale:weight:weight")) == 2)
        after = time.time_ns()
    finally:
        runtime.close()
    points = app.points("scale:weight:weight")
    assert sorted(value for _, value in points) == [-0.5, 12.34]  # lines of one read share its time
    assert all(before <= at <= after for at, _ in points)
    assert app.tags() == ["scale:weight:weight"]  # status is text: passed on, not a tag
    level, message = app.markers_of("scale", "weight")["parse"]
    assert level == "warning"
    assert message.startswith(f"{pair.receiver_end}: 1 line(s) matched no stream, e.g. ")


def test_separated_fields_take_their_time_from_a_field_and_bad_values_are_reported(parts, pair, device):
    app = parts()
    stream = {"asset": "gauge", "stream_type": "bore", "terminator": "\r", "separator": ";",
              "field_names": ["time", "part", "diameter", "ok"], "timestamp_field": "time",
              "timestamp_format": "%d.%m.%Y %H:%M:%S", "localtz": "Europe/Berlin"}
    runtime = start(app, serial_config(pair, [stream]))
    try:
        wait_open(runtime)
        device.lines("01.03.2024 08:15:02;P-1;24.998;1", "01.03.2024 08:15:07;P-2;ERR;0",
                     "31.02.2024 08:15:09;P-3;25.001;1", "01.03.2024 08:15:12;P-4;25;1", terminator="\r")
        poll_until(runtime, lambda: len(app.points("gauge:bore:ok")) == 3)
    finally:
        runtime.close()
    at = ns("2024-03-01 07:15:02")  # Berlin is UTC+1 in March
    assert app.points("gauge:bore:diameter") == [(at, 24.998), (at + 10 * 10**9, 25.0)]
    assert app.points("gauge:bore:ok") == [(at, 1.0), (at + 5 * 10**9, 0.0), (at + 10 * 10**9, 1.0)]
    level, message = app.markers_of("gauge", "bore")["parse"]
    assert level == "warning"
    assert "1 line(s) dropped: time not readable" in message and "'31.02.2024 08:15:09' not readable" in message
    assert "1 value(s) that are not numbers left out" in message and "'ERR' in diameter is not a number" in message


def test_streams_of_one_port_take_the_lines_that_match_them_first(parts, pair, device):
    app = parts()
    runtime = start(app, serial_config(pair, [
        {"asset": "scale", "stream_type": "weight", "pattern": SCALE},
        {"asset": "scale", "stream_type": "tare", "pattern": r"^TARE\s+(?P<tare>[\d.]+)$"},
        {"asset": "scale", "stream_type": "raw", "separator": " ", "field_names": ["code", "value"]},
    ]))
    try:
        wait_open(runtime)
        device.lines("ST,GS, 1.5 kg", "TARE 0.25", "A7   3", "ST,GS, 2.5 kg")
        poll_until(runtime, lambda: len(app.points("scale:weight:weight")) == 2 and app.points("scale:raw:value"))
    finally:
        runtime.close()
    assert [v for _, v in app.points("scale:weight:weight")] == [1.5, 2.5]
    assert [v for _, v in app.points("scale:tare:tare")] == [0.25]
    assert [v for _, v in app.points("scale:raw:value")] == [3.0]
    assert all("parse" not in app.markers_of("scale", s) for s in ("weight", "tare", "raw"))


def test_an_unplugged_port_raises_a_connection_marker_cleared_when_it_is_back(parts, pair, device):
    app = parts()
    runtime = start(app, serial_config(pair, [{"asset": "scale", "stream_type": "weight", "pattern": SCALE}]))
    try:
        wait_open(runtime)
        device.lines("ST,GS, 1 kg")
        poll_until(runtime, lambda: len(app.points("scale:weight:weight")) == 1)
        device.close()
        pair.stop()  # the adapter is pulled
        poll_until(runtime, lambda: "connection" in app.markers_of("scale", "weight"))
        level, message = app.markers_of("scale", "weight")["connection"]
        assert level == "error" and pair.receiver_end in message
        pair.start()  # and plugged in again
        poll_until(runtime, lambda: "connection" not in app.markers_of("scale", "weight"))
        wait_open(runtime)
        replugged = socat_pty.Device(pair)
        try:
            replugged.lines("ST,GS, 2 kg")
            poll_until(runtime, lambda: len(app.points("scale:weight:weight")) == 2)
        finally:
            replugged.close()
    finally:
        runtime.close()
    assert [v for _, v in app.points("scale:weight:weight")] == [1.0, 2.0]


def test_a_port_that_does_not_exist_is_a_connection_marker(parts, tmp_path):
    app = parts()
    config = {"data_receiver_name": "scales", "protocol": "serial",
              "connections": [{"port": str(tmp_path / "ttyUSB9")}],
              "streams": [{"asset": "scale", "stream_type": "weight", "pattern": SCALE}]}
    runtime = start(app, config)
    try:
        poll_until(runtime, lambda: "connection" in app.markers_of("scale", "weight"))
    finally:
        runtime.close()
    assert app.markers_of("scale", "weight")["connection"][1].startswith(f"cannot open {tmp_path / 'ttyUSB9'}: ")


def test_a_posted_configuration_reads_the_port_into_the_historian_of_a_running_server(edge_server_factory, pair,
                                                                                      device):
    server = edge_server_factory(conf_lines=["TIMEZONE = UTC"])
    config = {"data_receiver": [serial_config(pair, [{"asset": "scale", "stream_type": "weight", "pattern": SCALE}])],
              "transforms": [], "data_transmit": []}
    config["data_receiver"][0]["poll_interval"] = 0.2
    response = server.client.post("/v1/config", body=config)
    assert response.status == 200 and response.json["success"] is True, response.body
    today = dt.datetime.now(dt.timezone.utc).date()
    path = f"/machiot/v1/datapoints/raw/TAG/scale:weight:weight/{today - dt.timedelta(days=1)}/" \
           f"{today + dt.timedelta(days=1)}/2/0/0"

    def stored():
        device.lines("ST,GS, 7.25 kg")  # until the receiver has the port open and has stored one
        body = server.client.get(path).json
        return body if body["error_code"] == 0 and body["data"] else None
    body = wait_for(stored, 30, interval=0.3, what="a line stored")
    assert {row["VALUE"] for row in body["data"]} == {7.25}
