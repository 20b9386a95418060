"""The opcua receiver's configuration: NodeId syntax, its checks with json paths, options and defaults."""

import pytest

from edge.pipeline.receivers.opcua.checks import checks
from edge.pipeline.receivers.opcua.nodeids import is_full_node_id, node_id_problem
from edge.pipeline.receivers.opcua.options import options_of


@pytest.mark.parametrize("name", [
    "ns=2;s=Line1.Speed", "i=2258", "ns=0;i=4294967295", "ns=3;g=09087e75-8e5e-499b-954f-f2a9603db28a",
    "ns=1;b=M/RbKBsRVkePCePcx24oRA==", "s=Plain", "ns=2;s=a;b=c", "nsu=urn:plant:line;s=Speed",
    "ns=65535;i=1", "Spraypaint.Drying.Fan.Speed", "Fan speed (rpm)",
])
def test_well_formed_names(name):
    assert node_id_problem(name) is None


@pytest.mark.parametrize("name, problem", [
    ("ns=x;s=Fan", "has 'ns=' without a namespace number"),
    ("ns=2", "has 'ns=' without a namespace number"),
    ("ns=70000;i=1", "has namespace 70000, above 65535"),
    ("i=abc", "has numeric identifier 'abc'"),
    ("i=4294967296", "has numeric identifier '4294967296'"),
    ("ns=2;q=1", "needs an identifier 'i=<number>'"),
    ("ns=2;s=", "has an empty 's=' identifier"),
    ("g=not-a-guid", "has GUID identifier 'not-a-guid'"),
    ("b=***", "has opaque identifier '***', not base64"),
    ("nsu=;s=x", "has 'nsu=' without a namespace URI"),
    ("   ", "is blank"),
])
def test_malformed_names_say_what_is_wrong(name, problem):
    assert node_id_problem(name).startswith(problem)


def test_string_identifiers_are_looked_up_full_node_ids_are_not():
    assert is_full_node_id("ns=2;s=A") and is_full_node_id("i=85")
    assert not is_full_node_id("Line1.Speed") and not is_full_node_id("nsx=2")


def entry(connection=None, tags=None):
    return {"data_receiver_name": "plc", "protocol": "opcua",
            "connections": [connection or {"host": "plc"}],
            "streams": [{"asset": "a", "stream_type": "s", "opcua_tags": tags or [{"name": "i=85"}]},
                        {"asset": "b", "stream_type": "s", "opcua_tags": [{"name": "A", "exportname": "x"},
                                                                          {"name": "B", "exportname": "x"}]}]}


def test_checks_point_at_the_key_at_fault():
    found = [(v.json_path, v.level) for v in checks(entry(
        {"host": "plc", "security_mode": "Sign", "password": "pw"},
        [{"name": "ns=2;i=x", "exportname": "a"}, {"name": "timestamp"}]))]
    assert found == [(("connections", 0, "security_mode"), "error"), (("connections", 0, "password"), "error"),
                     (("streams", 0, "opcua_tags", 0, "name"), "error"),
                     (("streams", 0, "opcua_tags", 1, "name"), "error"),
                     (("streams", 1, "opcua_tags", 1, "exportname"), "error")]


def test_an_exportname_may_repeat_across_streams_and_a_policy_takes_a_mode():
    config = entry({"host": "plc", "security_policy": "Basic256Sha256", "security_mode": "Sign", "username": "u",
                    "password": "p"}, [{"name": "A", "exportname": "x"}])
    config["streams"][1]["opcua_tags"].pop()
    assert checks(config) == []


def test_options_take_the_documented_defaults():
    options = options_of(entry())
    assert options.mode == "poll"
    assert (options.subscription.sampling_interval_ms, options.subscription.queue_size,
            options.subscription.deadband) == (1000.0, 10, None)
    connection = options.connection
    assert (connection.url, connection.timeout, connection.secure) == ("opc.tcp://plc:4840", 3.0, False)
    assert [t.exportname for t in options.tags[0]] == ["i=85"]  # exportname defaults to the name


def test_options_of_a_secure_subscription():
    config = entry({"host": "fe80::1", "port": 4841, "endpoint_path": "ua/server", "security_policy":
                    "Aes128_Sha256_RsaOaep", "username": "u", "password": "p"})
    config.update(mode="subscribe", sampling_interval_ms=50, queue_size=100, deadband=0.5)
    options = options_of(config)
    assert options.connection.url == "opc.tcp://[fe80::1]:4841/ua/server"
    assert (options.connection.secure, options.connection.mode) == (True, "SignAndEncrypt")
    assert (options.mode, options.subscription.deadband) == ("subscribe", 0.5)
