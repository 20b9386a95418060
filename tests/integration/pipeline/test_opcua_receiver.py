"""The opcua receiver against a real asyncua server on loopback (tests/integration/peers/opcua_server)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from asyncua import ua

from edge.pipeline.receivers.opcua.certificate import CERTIFICATE_FILE, FOLDER, thumbprint
from edge.pipeline.receivers.opcua.receiver import OpcuaReceiver
from edge.pipeline.runtime.context import RECEIVER, ComponentContext
from tests.integration.peers.opcua_server import PlantServer
from tests.waiting import poll_until

T0 = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
T0_NS = int(T0.timestamp()) * 10**9
SECOND = 10**9


@pytest.fixture(scope="module")
def plant():
    server = PlantServer().start()
    yield server
    server.close()


class CapturedBatches:
    """A sink beside the historian that keeps what it is given (texts and arrays included)."""

    def __init__(self):
        self.batches = []

    def deliver(self, batch, batch_key, warn):
        self.batches.append(batch)
        return len(batch)

    def records(self):
        rows = []
        for batch in self.batches:
            for i in range(len(batch)):
                rows.append({k: v[i].item() if hasattr(v[i], "item") else v[i] for k, v in batch.fields.items()})
        return rows


def opcua_config(plant, tags, mode="poll", name="plc", **options):
    return {"data_receiver_name": name, "protocol": "opcua", "mode": mode, "poll_interval": 1,
            "connections": [dict(plant.connection, **options.pop("connection", {}))],
            "streams": [{"asset": "line", "stream_type": "cycle",
                         "opcua_tags": [{"name": n, "exportname": e} for n, e in tags]}], **options}


def start(parts, config, data_dir):
    context = ComponentContext(dataclasses.replace(parts.ports, data_dir=data_dir), config["data_receiver_name"],
                               RECEIVER, config, {"data_receiver": [config], "transforms": [], "data_transmit": []},
                               threading.Event())
    runtime = OpcuaReceiver(context)
    runtime.link.backoff_cap = 1.0  # tests wait seconds, not half a minute
    runtime.link.retry_seconds = 0.5
    captured = CapturedBatches()
    runtime.records.sinks.append(captured)
    return runtime, captured



def test_poll_reads_every_tag_into_one_record_at_the_newest_source_time(plant, parts, tmp_path):
    app = parts()
    plant.write("Line1.Sine", 0.5, source=T0)
    plant.write("Line1.Running", True, source=T0 + dt.timedelta(seconds=2))
    plant.write("Line1.Recipe", "recipe-7", source=T0 + dt.timedelta(seconds=1))
    plant.write("Line1.Profile", [1.0, 2.5, 4.0], source=T0)
    config = opcua_config(plant, [(plant.node_id("Line1.Sine"), "sine"), ("Line1.Running", "running"),
                                  ("Line1.Recipe", "recipe"), ("Line1.Profile", "profile")])
    runtime, captured = start(app, config, tmp_path)
    try:
        assert runtime.poll().records_out == 1
        assert runtime.poll().records_out == 0  # nothing changed: nothing stored again
        plant.write("Line1.Sine", 0.75, source=None, server_time=T0 + dt.timedelta(seconds=5))
        assert runtime.poll().records_out == 1
    finally:
        runtime.close()
    newest = T0_NS + 2 * SECOND
    assert app.points("line:cycle:sine") == [(newest, 0.5), (T0_NS + 5 * SECOND, 0.75)]
    assert app.points("line:cycle:running") == [(newest, 1.0), (T0_NS + 5 * SECOND, 1.0)]
    assert app.tags() == ["line:cycle:running", "line:cycle:sine"]  # texts and arrays stay in the records
    first = captured.records()[0]
    assert (first["recipe"], first["profile"]) == ("recipe-7", "[1.0, 2.5, 4.0]")
    assert app.markers_of("line", "cycle") == {}


def test_subscribe_stores_every_change_at_its_source_time_once_across_restarts(plant, parts, tmp_path):
    app = parts()
    plant.write("Spraypaint.Drying.Fan.Speed", 1000.0, source=T0)
    config = opcua_config(plant, [("Spraypaint.Drying.Fan.Speed", "fan")], mode="subscribe",
                          sampling_interval_ms=20, queue_size=100)
    runtime, _ = start(app, config, tmp_path)
    expected = [(T0_NS, 1000.0)] + [(T0_NS + (i + 1) * SECOND, 1000.0 + i) for i in range(1, 21)]
    try:
        poll_until(runtime, lambda: app.points("line:cycle:fan") == expected[:1], "the current value")
        for i in range(1, 21):  # faster than the receiver's passes: all of them queue
            plant.write("Spraypaint.Drying.Fan.Speed", 1000.0 + i, source=T0 + dt.timedelta(seconds=i + 1))
        poll_until(runtime, lambda: len(app.points("line:cycle:fan")) == 21, "every change")
    finally:
        runtime.close()
    assert app.points("line:cycle:fan") == expected
    # Started again, the server sends the current value first again: it is no news, not stored
    # twice; the change after it is.
    runtime, captured = start(app, config, tmp_path)
    try:
        poll_until(runtime, lambda: runtime.link.status().connected, "connected")
        plant.write("Spraypaint.Drying.Fan.Speed", 2000.0, source=T0 + dt.timedelta(seconds=30))
        poll_until(runtime, lambda: len(app.points("line:cycle:fan")) == 22, "the change after the restart")
    finally:
        runtime.close()
    assert app.points("line:cycle:fan") == expected + [(T0_NS + 30 * SECOND, 2000.0)]
    assert [r["fan"] for r in captured.records()] == [2000.0]


def test_bad_values_are_not_stored_and_marked_uncertain_ones_are_stored(plant, parts, tmp_path, caplog):
    app = parts()
    plant.write("Line1.Sensor", 21.5, source=T0)
    runtime, _ = start(app, opcua_config(plant, [("Line1.Sensor", "sensor")]), tmp_path)
    try:
        runtime.poll()
        plant.write("Line1.Sensor", 99.0, source=T0 + dt.timedelta(seconds=1), status=ua.StatusCodes.BadSensorFailure)
        runtime.poll()
        level, message = app.markers_of("line", "cycle")["quality"]
        assert level == "warning" and message == "Bad values not stored: sensor (Line1.Sensor): BadSensorFailure"
        plant.write("Line1.Sensor", 22.0, source=T0 + dt.timedelta(seconds=2),
                    status=ua.StatusCodes.UncertainLastUsableValue)
        runtime.poll()
    finally:
        runtime.close()
    assert app.points("line:cycle:sensor") == [(T0_NS, 21.5), (T0_NS + 2 * SECOND, 22.0)]
    assert "quality" not in app.markers_of("line", "cycle")
    assert "sensor (Line1.Sensor) is UncertainLastUsableValue" in caplog.text


def test_a_missing_tag_is_marked_the_others_flow_and_it_is_found_once_added(plant, parts, tmp_path):
    app = parts()
    plant.write("Line1.Sine", 0.25, source=T0)
    config = opcua_config(plant, [("Line1.Sine", "sine"), ("Line1.Extra", "extra"), ("ns=2;i=999999", "gone")])
    runtime, _ = start(app, config, tmp_path)
    try:
        runtime.poll()
        assert app.markers_of("line", "cycle")["node"] == (
            "error", "not found on the server: Line1.Extra (extra), ns=2;i=999999 (gone)")
        assert app.points("line:cycle:sine") == [(T0_NS, 0.25)]
        plant.add("Line1.Extra", 7.5)
        plant.write("Line1.Extra", 7.5, source=T0 + dt.timedelta(seconds=3))
        poll_until(runtime, lambda: app.points("line:cycle:extra") == [(T0_NS + 3 * SECOND, 7.5)], "the added tag")
        assert app.markers_of("line", "cycle")["node"][1] == "not found on the server: ns=2;i=999999 (gone)"
        plant.remove("Line1.Extra")
        runtime.poll()
        assert app.markers_of("line", "cycle")["quality"][1] == \
            "Bad values not stored: extra (Line1.Extra): BadNodeIdUnknown"
    finally:
        runtime.close()


def test_subscribe_survives_a_server_restart_losing_no_change_while_connected(parts, tmp_path):
    app = parts()
    plant = PlantServer().start()
    config = opcua_config(plant, [("Line1.Counter", "count")], mode="subscribe", sampling_interval_ms=20,
                          queue_size=100)
    runtime, _ = start(app, config, tmp_path)
    try:
        poll_until(runtime, lambda: runtime.link.status().connected, "connected")
        plant.start_ticking(20)
        poll_until(runtime, lambda: len(app.points("line:cycle:count")) >= 10, "changes before the restart")
        plant.stop()
        poll_until(runtime, lambda: "connection" in app.markers_of("line", "cycle"), "the connection marker")
        before = plant.values["Line1.Counter"].Value.Value
        plant.start()
        plant.start_ticking(20)
        poll_until(runtime, lambda: "connection" not in app.markers_of("line", "cycle"), "the marker cleared")
        poll_until(runtime, lambda: max(v for _, v in app.points("line:cycle:count")) >= before + 10,
                   "changes after the restart")
        plant.stop_ticking()
        last = plant.read("Line1.Counter").Value.Value
        poll_until(runtime, lambda: max(v for _, v in app.points("line:cycle:count")) == last, "the last change")
        assert plant.session_count() == 1
    finally:
        runtime.close()
        assert plant.session_count() == 0  # close() deleted the subscription with its session
        plant.close()
    values = [int(v) for _, v in app.points("line:cycle:count")]
    assert len(values) == len(set(values))  # nothing twice
    # Every change the server published while the receiver was connected is there: the values
    # run without a gap but one, across the restart (what the server had not yet sent when it
    # went down, and what it made before the receiver was back), up to the last.
    gaps = [i for i in range(1, len(values)) if values[i] != values[i - 1] + 1]
    assert len(gaps) <= 1
    if gaps:
        assert values[gaps[0] - 1] <= before < values[gaps[0]]
    assert values[-1] == last


@pytest.fixture(scope="module")
def secure_plant(tmp_path_factory):
    server = PlantServer(folder=tmp_path_factory.mktemp("opcua-server"), secure=True,
                         users={"operator": "plant-pw"}).start()
    yield server
    server.close()


@pytest.mark.parametrize("policy", ["Basic256Sha256", "Aes128_Sha256_RsaOaep"])
def test_a_secure_channel_with_a_user_connects_once_the_server_trusts_the_certificate(secure_plant, parts, tmp_path,
                                                                                     policy):
    app = parts()
    secure_plant.write("Line1.Sine", 0.125, source=T0)
    config = opcua_config(secure_plant, [("Line1.Sine", "sine")], connection={
        "security_policy": policy, "security_mode": "SignAndEncrypt", "username": "operator",
        "password": "plant-pw"})
    runtime, _ = start(app, config, tmp_path)
    certificate = tmp_path / FOLDER / CERTIFICATE_FILE
    try:
        runtime.poll()
        level, message = app.markers_of("line", "cycle")["connection"]
        print_ = thumbprint(certificate.read_bytes())
        assert level == "error" and "BadCertificateUntrusted" in message
        assert f"the server must trust the client certificate {certificate} (SHA-1 thumbprint {print_})" in message
        assert (certificate.parent / "client-key.pem").stat().st_mode & 0o777 == 0o600
        secure_plant.trust(certificate)
        poll_until(runtime, lambda: app.points("line:cycle:sine") == [(T0_NS, 0.125)], "values over the channel")
        assert "connection" not in app.markers_of("line", "cycle")
    finally:
        runtime.close()


def test_a_wrong_password_raises_a_connection_marker_and_retries_calmly(secure_plant, parts, tmp_path):
    app = parts()
    config = opcua_config(secure_plant, [("Line1.Sine", "sine")],
                          connection={"username": "operator", "password": "wrong"})
    runtime, _ = start(app, config, tmp_path)
    try:
        for _ in range(3):
            assert runtime.poll().records_in == 0
        level, message = app.markers_of("line", "cycle")["connection"]
        assert level == "error" and message.startswith(f"cannot connect to {secure_plant.url}: ")
        assert "BadUserAccessDenied" in message or "BadIdentityTokenRejected" in message
    finally:
        runtime.close()
