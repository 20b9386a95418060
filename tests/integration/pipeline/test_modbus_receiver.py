"""The modbus receiver against a real pymodbus server: Modbus TCP on loopback, Modbus RTU over a socat pty pair."""

from __future__ import annotations

import datetime as dt
import struct
import threading
import time

import pytest

from edge.pipeline.receivers.modbus.receiver import ModbusReceiver
from edge.pipeline.runtime.context import RECEIVER, ComponentContext
from tests.integration.peers import socat_pty
from tests.integration.peers.modbus_server import COUNTER, ModbusPeer
from tests.waiting import poll_until, wait_for


def words(fmt: str, value) -> list[int]:
    raw = struct.pack(">" + fmt, value)
    return [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]


@pytest.fixture(scope="module")
def peer():
    """One TCP server for the module with two units; each test uses its own addresses."""
    server = ModbusPeer(units=(1, 2), size=1000).start()
    yield server
    server.stop()


def modbus_config(connection: dict, streams: list, name="meters") -> dict:
    return {"data_receiver_name": name, "protocol": "modbus", "poll_interval": 1, "connections": [connection],
            "streams": streams}


def tcp(peer, **options) -> dict:
    return {"transport": "tcp", "host": "127.0.0.1", "port": peer.port, "timeout": 2, **options}


def start(parts, config) -> ModbusReceiver:
    context = ComponentContext(parts.ports, config["data_receiver_name"], RECEIVER, config,
                               {"data_receiver": [config], "transforms": [], "data_transmit": []}, threading.Event())
    return ModbusReceiver(context)



def values(app, tag) -> list[float]:
    return [v for _, v in app.points(tag)]


def test_values_of_every_type_land_in_the_historian_one_record_per_poll(parts, peer):
    peer.set_registers("input", 10, words("f", 230.5))
    peer.set_registers("holding", 20, list(reversed(words("i", -70000))))  # CDAB
    peer.set_registers("holding", 22, [(-125) & 0xFFFF, 0b1010, 0x4142, 0x4300, *words("d", 1.25)])
    peer.set_registers("holding", 40, words("I", 3_000_000_000))
    peer.set_bits("coil", 5, [True, False])
    peer.set_bits("discrete", 7, [True])
    peer.set_registers("holding", 100, [4321], unit=2)
    app = parts()
    runtime = start(app, modbus_config(tcp(peer), [
        {"asset": "meter", "stream_type": "energy", "registers": [
            {"exportname": "reads", "table": "holding", "address": COUNTER},
            {"exportname": "volts", "table": "input", "address": 10, "data_type": "float32"},
            {"exportname": "kwh", "table": "holding", "address": 20, "data_type": "int32", "word_order": "little"},
            {"exportname": "temp", "table": "holding", "address": 22, "data_type": "int16", "scale": 0.1,
             "offset": 40},
            {"exportname": "alarm", "table": "holding", "address": 23, "data_type": "bool", "bit": 1},
            {"exportname": "quiet", "table": "holding", "address": 23, "data_type": "bool", "bit": 2},
            {"exportname": "name", "table": "holding", "address": 24, "data_type": "string", "count": 2},
            {"exportname": "ratio", "table": "holding", "address": 26, "data_type": "float64"},
            {"exportname": "total", "table": "holding", "address": 40, "data_type": "uint32"},
            {"exportname": "running", "table": "coil", "address": 5},
            {"exportname": "door", "table": "coil", "address": 6},
            {"exportname": "breaker", "table": "discrete", "address": 7}]},
        {"asset": "meter_2", "stream_type": "energy", "unit_id": 2, "registers": [
            {"exportname": "watts", "table": "holding", "address": 100}]},
    ]))
    try:
        assert runtime.poll().records_in == 2
        time.sleep(0.002)  # two polls, two record times
        assert runtime.poll().records_in == 2
        # the plan: unit 1 coil, discrete, holding 0 and 20-29 (gap 1-19 is too long), holding 40, input; unit 2
        assert [(r.unit, r.table, r.address, r.count) for r in runtime.requests] == [
            (1, "coil", 5, 2), (1, "discrete", 7, 1), (1, "holding", 0, 1), (1, "holding", 20, 10),
            (1, "holding", 40, 2), (1, "input", 10, 2), (2, "holding", 100, 1)]
    finally:
        runtime.close()
    assert values(app, "meter:energy:volts") == [230.5, 230.5]
    assert values(app, "meter:energy:kwh") == [-70000.0] * 2
    assert values(app, "meter:energy:temp") == [pytest.approx(27.5)] * 2
    assert values(app, "meter:energy:alarm") == [1.0, 1.0] and values(app, "meter:energy:quiet") == [0.0, 0.0]
    assert values(app, "meter:energy:ratio") == [1.25] * 2
    assert values(app, "meter:energy:total") == [3e9] * 2
    assert values(app, "meter:energy:running") == [1.0] * 2 and values(app, "meter:energy:door") == [0.0] * 2
    assert values(app, "meter:energy:breaker") == [1.0] * 2
    assert values(app, "meter_2:energy:watts") == [4321.0] * 2
    reads = values(app, "meter:energy:reads")
    assert reads[1] > reads[0]  # the counter register moves between polls
    assert "meter:energy:name" not in app.tags()  # text travels with the record, the historian keeps numbers
    assert app.markers_of("meter", "energy") == {}
    times = [t for t, _ in app.points("meter:energy:volts")]
    assert times[0] < times[1] and [t for t, _ in app.points("meter_2:energy:watts")] == times


def test_an_exception_response_marks_the_stream_and_the_others_keep_polling(parts, peer):
    peer.set_registers("holding", 300, [11, 12])
    peer.set_registers("holding", 400, [40])
    peer.fail("holding", 301, 4)
    app = parts()
    runtime = start(app, modbus_config(tcp(peer), [
        {"asset": "press", "stream_type": "a", "registers": [
            {"exportname": "x", "table": "holding", "address": 300},
            {"exportname": "y", "table": "holding", "address": 301}]},
        {"asset": "press", "stream_type": "b", "registers": [{"exportname": "z", "table": "holding", "address": 400}]},
    ]))
    try:
        runtime.poll()
        level, message = app.markers_of("press", "a")["modbus"]
        assert level == "error"
        assert message == ("2 value(s) not read: x (holding 300), y (holding 301): unit 1 holding 300-301: "
                           "Modbus exception 4 (server device failure)")
        assert values(app, "press:b:z") == [40.0] and app.markers_of("press", "b") == {}
        assert app.points("press:a:x") == []
        peer.fail("holding", 301, None)
        runtime.poll()
    finally:
        runtime.close()
    assert "modbus" not in app.markers_of("press", "a")
    assert values(app, "press:a:x") == [11.0] and values(app, "press:a:y") == [12.0]
    assert values(app, "press:b:z") == [40.0, 40.0]


def test_a_request_refused_for_an_address_in_its_gap_is_split_at_its_gaps(parts, peer):
    peer.set_registers("holding", 500, [5, 0, 0, 0, 0, 6])
    peer.fail("holding", 502, 2)  # the device has no register 502
    app = parts()
    runtime = start(app, modbus_config(tcp(peer), [{"asset": "line", "stream_type": "gap", "registers": [
        {"exportname": "first", "table": "holding", "address": 500},
        {"exportname": "second", "table": "holding", "address": 505}]}]))
    try:
        assert [(r.address, r.count) for r in runtime.requests] == [(500, 6)]
        runtime.poll()
        assert [(r.address, r.count) for r in runtime.requests] == [(500, 1), (505, 1)]
    finally:
        runtime.close()
        peer.fail("holding", 502, None)
    assert values(app, "line:gap:first") == [5.0] and values(app, "line:gap:second") == [6.0]
    assert app.markers_of("line", "gap") == {}


def test_a_stopped_server_raises_a_connection_marker_cleared_when_it_is_back(parts):
    server = ModbusPeer(size=10).start()
    server.set_registers("holding", 1, [7])
    app = parts()
    runtime = start(app, modbus_config(tcp(server, timeout=1), [
        {"asset": "drive", "stream_type": "state", "registers": [{"exportname": "speed", "table": "holding",
                                                                  "address": 1}]}]))
    try:
        runtime.poll()
        server.stop()
        assert runtime.poll().records_in == 0
        level, message = app.markers_of("drive", "state")["connection"]
        assert level == "error" and message.startswith(f"127.0.0.1:{server.port}: ")
        server.set_registers("holding", 1, [8])
        server.start()
        poll_until(runtime, lambda: len(app.points("drive:state:speed")) == 2)
    finally:
        runtime.close()
        server.stop()
    assert "connection" not in app.markers_of("drive", "state")
    assert values(app, "drive:state:speed") == [7.0, 8.0]


def test_modbus_rtu_over_a_serial_line_and_a_unit_that_does_not_answer(parts, tmp_path):
    reason = socat_pty.available()
    if reason:
        pytest.skip(reason)
    pair = socat_pty.PtyPair(tmp_path / "rs485").start()
    server = ModbusPeer(units=(1,), size=100, serial_port=pair.device_end, baudrate=115200)
    server.set_registers("input", 3, words("f", -12.5))
    server.start()
    app = parts()
    connection = {"transport": "rtu", "serial_port": pair.receiver_end, "baudrate": 115200, "parity": "N",
                  "timeout": 0.5}
    runtime = start(app, modbus_config(connection, [
        {"asset": "flow", "stream_type": "meter", "registers": [
            {"exportname": "rate", "table": "input", "address": 3, "data_type": "float32"}]},
        {"asset": "absent", "stream_type": "meter", "unit_id": 9, "registers": [
            {"exportname": "rate", "table": "input", "address": 3, "data_type": "float32"},
            {"exportname": "total", "table": "holding", "address": 3}]},
    ]))
    try:
        poll_until(runtime, lambda: len(app.points("flow:meter:rate")) == 1)
    finally:
        runtime.close()
        server.stop()
        pair.stop()
    assert values(app, "flow:meter:rate") == [-12.5]
    assert app.markers_of("flow", "meter") == {}
    level, message = app.markers_of("absent", "meter")["modbus"]
    assert level == "error" and message.startswith("2 value(s) not read: ")
    assert "unit 9 holding 3: no answer within 0.5 s" in message
    assert "unit 9 input 3-4: unit 9 did not answer in this pass" in message


def test_a_posted_configuration_polls_the_device_into_the_historian_of_a_running_server(edge_server_factory, peer):
    peer.set_registers("holding", 700, words("f", 98.5))
    server = edge_server_factory(conf_lines=["TIMEZONE = UTC"])
    config = {"data_receiver": [modbus_config(tcp(peer), [{"asset": "pump", "stream_type": "flow", "registers": [
        {"exportname": "rate", "table": "holding", "address": 700, "data_type": "float32"}]}])],
              "transforms": [], "data_transmit": []}
    config["data_receiver"][0]["poll_interval"] = 0.2
    response = server.client.post("/v1/config", body=config)
    assert response.status == 200 and response.json["success"] is True, response.body
    today = dt.datetime.now(dt.timezone.utc).date()
    days = f"{today - dt.timedelta(days=1)}/{today + dt.timedelta(days=1)}"
    path = f"/machiot/v1/datapoints/raw/TAG/pump:flow:rate/{days}/2/0/0"

    def two_points():
        body = server.client.get(path).json
        return body if body["error_code"] == 0 and len(body["data"]) >= 2 else None
    body = wait_for(two_points, 30, interval=0.2, what="two points polled")
    assert {row["VALUE"] for row in body["data"]} == {98.5}
