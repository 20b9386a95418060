"""The modbus receiver's template, /v1/meta entry and validation rules on a real server."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

TEMPLATE = json.loads((Path(__file__).resolve().parents[3] / "edge" / "pipeline" / "receivers" / "modbus"
                       / "template.json").read_text())


def receiver(**changes) -> dict:
    entry = {"data_receiver_name": "meters", "protocol": "modbus", "poll_interval": 5,
             "connections": [{"transport": "tcp", "host": "10.0.0.30", "unit_id": 1}],
             "streams": [{"asset": "meter", "stream_type": "energy", "registers": [
                 {"exportname": "volts", "table": "input", "address": 0, "data_type": "float32"},
                 {"exportname": "kwh", "table": "holding", "address": 100, "data_type": "uint32", "scale": 0.1},
                 {"exportname": "alarm", "table": "holding", "address": 102, "data_type": "bool", "bit": 0},
                 {"exportname": "trip", "table": "holding", "address": 102, "data_type": "bool", "bit": 1},
                 {"exportname": "on", "table": "coil", "address": 0}]}]}
    entry.update(changes)
    return entry


def violations(client, entry) -> list[tuple[str, list, str]]:
    config = {"data_receiver": [entry], "transforms": [], "data_transmit": []}
    response = client.post("/v1/config/validate", config)
    assert response.status == 200
    return [(v["level"], v["json_path"], v["description"]) for v in response.json["response"]["violations"]]


def errors_at(client, entry) -> list[list]:
    return [path for level, path, _ in violations(client, entry) if level == "error"]


def test_the_template_is_served_and_passes_once_its_host_is_filled(client):
    response = client.get("/v1/config/templates/modbus")
    assert response.json == {"success": True, "response": TEMPLATE["configuration"]}
    assert client.get("/v1/config/templates/Modbus").json["response"] == TEMPLATE["configuration"]
    config = copy.deepcopy(TEMPLATE["configuration"])
    config["data_receiver"][0]["connections"][0]["host"] = "10.0.0.30"
    config["data_transmit"] = []
    assert client.post("/v1/config/validate", config).json["response"] == {"violations": [], "status": "passed"}


def test_meta_describes_the_receiver_and_its_streams(client):
    body = client.get("/v1/meta/data_receiver?subtype=modbus").json["response"]
    assert body["schema"]["path"] == "edge/pipeline/receivers/modbus/schema.json"
    assert body["new_template"]["schema"]["protocol"] == "modbus"
    asset = client.get("/v1/meta/data_receiver_asset?subtype=modbus").json["response"]
    assert asset["schema"]["schema"]["required"] == ["asset", "stream_type", "registers"]
    subtypes = client.get("/v1/meta").json["response"]["objects"][0]["subtypes"]
    assert {"name": "Modbus TCP / RTU", "id": "modbus"} in subtypes


def test_a_valid_receiver_has_no_violation(client):
    assert violations(client, receiver()) == []
    rtu = receiver(connections=[{"transport": "rtu", "serial_port": "/dev/ttyUSB0", "parity": "N", "unit_id": 247}])
    assert violations(client, rtu) == []


def test_overlapping_registers_are_an_error_at_the_later_address(client):
    entry = receiver()
    entry["streams"][0]["registers"].append({"exportname": "kwh_low", "table": "holding", "address": 101})
    entry["streams"][0]["registers"].append({"exportname": "alarm_again", "table": "holding", "address": 102,
                                             "data_type": "bool", "bit": 1})
    found = violations(client, entry)
    assert found == [
        ("error", ["data_receiver", 0, "streams", 0, "registers", 5, "address"],
         "kwh_low (holding 101, unit 1) overlaps registers[1] (kwh) of this stream."),
        ("error", ["data_receiver", 0, "streams", 0, "registers", 6, "address"],
         "alarm_again (holding 102, unit 1) overlaps registers[3] (trip) of this stream."),
    ]


def test_addresses_past_65535_are_an_error(client):
    entry = receiver()
    entry["streams"][0]["registers"][0]["address"] = 65534  # a float32 needs 65534 and 65535: fits
    entry["streams"][0]["registers"][1]["address"] = 65535  # a uint32 would need 65536
    entry["streams"][0]["registers"][4]["address"] = 65536
    found = violations(client, entry)
    assert [(path, text) for _, path, text in found] == [
        (["data_receiver", 0, "streams", 0, "registers", 4, "address"], "'address' must be at most 65535; got 65536."),
    ]  # the schema's error stops the checks; without it they find the uint32
    del entry["streams"][0]["registers"][4]
    assert violations(client, entry) == [
        ("error", ["data_receiver", 0, "streams", 0, "registers", 1, "address"],
         "A uint32 at address 65535 takes addresses up to 65536, past the last Modbus address 65535.")]


def test_a_data_type_that_does_not_fit_its_table_is_an_error(client):
    entry = receiver()
    entry["streams"][0]["registers"][4]["data_type"] = "float32"
    assert violations(client, entry) == [
        ("error", ["data_receiver", 0, "streams", 0, "registers", 4, "data_type"],
         'data_type "float32" does not fit table "coil": coils and discrete inputs hold single bits, read as bool.')]


def test_options_of_other_data_types_are_errors(client):
    entry = receiver()
    registers = entry["streams"][0]["registers"]
    registers[0]["count"] = 2
    registers[4]["bit"] = 1
    registers[2]["scale"] = 2
    registers.append({"exportname": "volts", "table": "input", "address": 50})
    registers.append({"exportname": "timestamp", "table": "input", "address": 60})
    assert errors_at(client, entry) == [
        ["data_receiver", 0, "streams", 0, "registers", 0, "count"],
        ["data_receiver", 0, "streams", 0, "registers", 2, "scale"],
        ["data_receiver", 0, "streams", 0, "registers", 4, "bit"],
        ["data_receiver", 0, "streams", 0, "registers", 5, "exportname"],
        ["data_receiver", 0, "streams", 0, "registers", 6, "exportname"],
    ]


@pytest.mark.parametrize("where", ["connection", "stream"])
@pytest.mark.parametrize("unit", [-1, 248])
def test_unit_ids_outside_0_to_247_are_errors(client, where, unit):
    entry = receiver()
    if where == "connection":
        entry["connections"][0]["unit_id"] = unit
        path = ["data_receiver", 0, "connections", 0, "unit_id"]
    else:
        entry["streams"][0]["unit_id"] = unit
        path = ["data_receiver", 0, "streams", 0, "unit_id"]
    bound = "at least 0" if unit < 0 else "at most 247"
    assert violations(client, entry) == [("error", path, f"'unit_id' must be {bound}; got {unit}.")]


def test_each_transport_needs_its_address(client):
    assert violations(client, receiver(connections=[{"transport": "tcp"}])) == [
        ("error", ["data_receiver", 0, "connections", 0, "host"], "'host' is required.")]
    assert violations(client, receiver(connections=[{"transport": "rtu", "host": "x"}])) == [
        ("error", ["data_receiver", 0, "connections", 0, "serial_port"], "'serial_port' is required.")]
