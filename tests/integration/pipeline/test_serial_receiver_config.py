"""The serial receiver's template, /v1/meta entry and validation rules on a real server."""

from __future__ import annotations

import copy
import json
from pathlib import Path

TEMPLATE = json.loads((Path(__file__).resolve().parents[3] / "edge" / "pipeline" / "receivers" / "serial"
                       / "template.json").read_text())
STREAMS = ["data_receiver", 0, "streams"]


def receiver(*streams, connections=None) -> dict:
    return {"data_receiver_name": "scales", "protocol": "serial",
            "connections": connections or [{"port": "/dev/ttyUSB0"}, {"port": "/dev/ttyUSB1", "baudrate": 19200}],
            "streams": list(streams) or [
                {"asset": "scale", "stream_type": "weight", "pattern": r"(?P<status>ST|US),GS,\s*(?P<weight>[-\d.]+)"},
                {"asset": "gauge", "stream_type": "bore", "port": "/dev/ttyUSB1", "separator": ";",
                 "field_names": ["time", "diameter"], "timestamp_field": "time", "timestamp_format": "%H:%M:%S"}]}


def violations(client, entry) -> list[tuple[str, list, str]]:
    config = {"data_receiver": [entry], "transforms": [], "data_transmit": []}
    response = client.post("/v1/config/validate", config)
    assert response.status == 200
    return [(v["level"], v["json_path"], v["description"]) for v in response.json["response"]["violations"]]


def stream(**fields) -> dict:
    return {"asset": "a", "stream_type": "s", **fields}


def test_the_template_is_served_and_passes_once_its_port_is_filled(client):
    assert client.get("/v1/config/templates/serial").json == {"success": True, "response": TEMPLATE["configuration"]}
    config = copy.deepcopy(TEMPLATE["configuration"])
    config["data_receiver"][0]["connections"][0]["port"] = "/dev/ttyUSB0"
    config["data_transmit"] = []
    assert client.post("/v1/config/validate", config).json["response"] == {"violations": [], "status": "passed"}


def test_meta_describes_the_receiver_and_its_streams(client):
    body = client.get("/v1/meta/data_receiver?subtype=serial").json["response"]
    assert body["schema"]["path"] == "edge/pipeline/receivers/serial/schema.json"
    assert body["new_template"]["schema"]["data_receiver_name"] == "serial_<<index>>"
    asset = client.get("/v1/meta/data_receiver_asset?subtype=serial").json["response"]
    assert asset["new_template"]["schema"]["asset"] == "scale_1"


def test_a_valid_receiver_has_no_violation(client):
    assert violations(client, receiver()) == []


def test_a_stream_needs_a_pattern_or_a_separator_with_field_names(client):
    found = violations(client, receiver(stream(), stream(stream_type="b", pattern="x", separator=","),
                                        stream(stream_type="c", separator=","),
                                        stream(stream_type="d", pattern="(?P<a>x", field_names=["a"]),
                                        stream(stream_type="e", pattern="(x)")))
    assert [(path, text) for _, path, text in found] == [
        (STREAMS + [0, "pattern"], "'pattern' or 'separator' (with field_names) is required."),
        (STREAMS + [1, "separator"], "Give either pattern or separator (with field_names), not both."),
        (STREAMS + [2, "field_names"], "separator needs field_names: the names of the fields in line order."),
        (STREAMS + [3, "field_names"], "field_names go with separator; a pattern names its fields with named groups "
                                       "(?P<name>...)."),
        (STREAMS + [4, "pattern"], "pattern has no named group (?P<name>...), so its lines would have no fields."),
    ]
    [(_, path, text)] = violations(client, receiver(stream(pattern="(?P<a>x")))
    assert path == STREAMS + [0, "pattern"] and text.startswith("pattern is not a regular expression: missing )")


def test_time_options_are_checked_against_the_fields(client):
    found = violations(client, receiver(
        stream(separator=",", field_names=["t", "v"], timestamp_field="time"),
        stream(stream_type="b", separator=",", field_names=["timestamp", "v"]),
        stream(stream_type="c", separator=",", field_names=["t", "v"], timestamp_format="%H:%M")))
    assert [path for _, path, _ in found] == [STREAMS + [0, "timestamp_field"], STREAMS + [1, "timestamp_field"],
                                              STREAMS + [2, "timestamp_format"]]
    assert found[0][2] == 'timestamp_field "time" is not one of the stream\'s fields ("t", "v").'
    bad_layout = stream(separator=",", field_names=["t", "v"], timestamp_field="t", timestamp_format="%Q")
    assert [path for _, path, _ in violations(client, receiver(bad_layout))] == [STREAMS + [0, "timestamp_format"]]


def test_ports_and_terminators_must_agree(client):
    found = violations(client, receiver(stream(pattern="(?P<a>x)", port="/dev/ttyS9"),
                                        stream(stream_type="b", pattern="(?P<a>x)", terminator="\r"),
                                        connections=[{"port": "/dev/ttyUSB0"}, {"port": "/dev/ttyUSB0"}]))
    assert [(path, text) for _, path, text in found] == [
        (["data_receiver", 0, "connections", 1, "port"], 'Port "/dev/ttyUSB0" is configured twice (first at '
                                                         'connections[0]).'),
        (STREAMS + [0, "port"], 'Port "/dev/ttyS9" is not among the connections ("/dev/ttyUSB0").'),
    ]
    found = violations(client, receiver(stream(pattern="(?P<a>x)"),
                                        stream(stream_type="b", pattern="(?P<a>y)", terminator="\r")))
    assert found == [("error", STREAMS + [1, "terminator"], 'Streams of one port share its terminator: streams[0] '
                                                            'ends lines on /dev/ttyUSB0 with "\\n".')]
