"""The opcua receiver through a real `edge serve`: validation rules with their json paths, and a
posted configuration whose values reach /machiot, with the client certificate made in the
server's data directory and the password kept when the configuration is posted back masked."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509

from edge.pipeline.receivers.opcua.certificate import CERTIFICATE_FILE, FOLDER
from tests.integration.peers.opcua_server import PlantServer
from tests.integration.pipeline.test_pipeline_end_to_end import machiot_points, post_config, wait_for

MASK = "********"
T0 = dt.datetime(2024, 5, 1, 8, 0, 0, tzinfo=dt.timezone.utc)


def opcua_config(host="127.0.0.1", port=4840, tags=None, **connection):
    return {
        "data_receiver": [{
            "data_receiver_name": "plc", "protocol": "opcua", "poll_interval": 0.5,
            "connections": [{"host": host, "port": port, **connection}],
            "streams": [{"asset": "paint", "stream_type": "fan",
                         "opcua_tags": tags or [{"name": "ns=2;s=Fan.Speed", "exportname": "speed"}]}],
        }],
        "transforms": [],
        "data_transmit": [],
    }


def errors(client, config):
    body = client.post("/v1/config/validate", config).json
    return [(v["json_path"], v["description"]) for v in body["response"]["violations"] if v["level"] == "error"]


def test_validate_names_malformed_node_ids_duplicate_fields_and_a_mode_without_policy(client):
    tags = [{"name": "ns=x;s=Fan", "exportname": "a"}, {"name": "i=abc", "exportname": "b"},
            {"name": "ns=2;q=1", "exportname": "c"}, {"name": "ns=2;g=not-a-guid", "exportname": "d"},
            {"name": "Fan.Speed", "exportname": "speed"}, {"name": "ns=2;s=Fan.Rpm", "exportname": "speed"},
            {"name": "i=2258", "exportname": "timestamp"}]
    found = errors(client, opcua_config(tags=tags, security_mode="Sign"))
    tag = ["data_receiver", 0, "streams", 0, "opcua_tags"]
    assert found == [
        (["data_receiver", 0, "connections", 0, "security_mode"],
         'security_mode "Sign" needs a security_policy (Basic256Sha256 or Aes128_Sha256_RsaOaep).'),
        (tag + [0, "name"], "The NodeId \"ns=x;s=Fan\" has 'ns=' without a namespace number followed by ';' and "
                            "an identifier."),
        (tag + [1, "name"], 'The NodeId "i=abc" has numeric identifier \'abc\', not a whole number from 0 to '
                            '4294967295.'),
        (tag + [2, "name"], "The NodeId \"ns=2;q=1\" needs an identifier 'i=<number>', 's=<text>', 'g=<guid>' or "
                            "'b=<base64>' after the namespace."),
        (tag + [3, "name"], "The NodeId \"ns=2;g=not-a-guid\" has GUID identifier 'not-a-guid', not a GUID like "
                            "09087e75-8e5e-499b-954f-f2a9603db28a."),
        (tag + [5, "exportname"], 'The field name "speed" is already taken by opcua_tags[4] of this stream; '
                                  "exportnames must differ within a stream."),
        (tag + [6, "exportname"], 'The field name "timestamp" holds each record\'s time; give the tag another '
                                  "exportname."),
    ]
    policy_none = opcua_config(security_policy="None", security_mode="SignAndEncrypt")
    assert [path for path, _ in errors(client, policy_none)] == [
        ["data_receiver", 0, "connections", 0, "security_mode"]]
    unknown_policy = opcua_config(security_policy="Basic128Rsa15")
    assert [path for path, _ in errors(client, unknown_policy)] == [
        ["data_receiver", 0, "connections", 0, "security_policy"]]


def test_validate_passes_a_full_secure_subscribe_configuration(client):
    config = opcua_config(security_policy="Aes128_Sha256_RsaOaep", security_mode="Sign", username="edge",
                          password="pw", endpoint_path="/ua", timeout=2)
    config["data_receiver"][0].update(mode="subscribe", poll_interval=1, sampling_interval_ms=100, queue_size=50, deadband=0.5)
    body = client.post("/v1/config/validate", config).json
    assert body["response"] == {"violations": [], "status": "passed"}


@pytest.fixture(scope="module")
def secure_plant(tmp_path_factory):
    server = PlantServer(folder=tmp_path_factory.mktemp("opcua-server"), secure=True,
                         users={"operator": "plant-pw"}).start()
    yield server
    server.close()


def test_a_served_receiver_makes_its_certificate_in_the_data_dir_and_keeps_its_masked_password(
        edge_server_factory, secure_plant):
    server = edge_server_factory(conf_lines=["TIMEZONE = UTC"])
    secure_plant.write("Spraypaint.Drying.Fan.Speed", 1450.0, source=T0)
    config = opcua_config(port=secure_plant.port, tags=[{"name": "Spraypaint.Drying.Fan.Speed", "exportname": "rpm"}],
                          security_policy="Basic256Sha256", endpoint_path="/", username="operator",
                          password="plant-pw")
    post_config(server, config)
    certificate = server.data_dir / FOLDER / CERTIFICATE_FILE

    def written():  # whole, not just created
        try:
            return x509.load_der_x509_certificate(certificate.read_bytes()) is not None
        except (OSError, ValueError):
            return False
    wait_for(written)
    secure_plant.trust(certificate)
    assert wait_for(lambda: machiot_points(server, "paint:fan:rpm")) == [("2024-05-01 08:00:00 000:000:000", 1450.0)]
    # Shown masked; posted back masked, the receiver restarts with the stored password and logs in.
    shown = server.client.get("/v1/config").json["response"]
    assert shown["data_receiver"][0]["connections"][0]["password"] == MASK
    post_config(server, shown)
    secure_plant.write("Spraypaint.Drying.Fan.Speed", 1500.0, source=T0 + dt.timedelta(seconds=1))
    wait_for(lambda: len(machiot_points(server, "paint:fan:rpm")) == 2)
    # Pointed at another host, the mask stands for no stored password.
    shown["data_receiver"][0]["connections"][0]["host"] = "10.9.9.9"
    assert [p for p, _ in errors(server.client, shown)] == [["data_receiver", 0, "connections", 0, "password"]]
