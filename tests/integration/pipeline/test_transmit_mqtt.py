"""The mqtt transmit against a real Mosquitto broker: QoS 1 messages of columnar records on
the templated topics, and a broker restart in the middle losing nothing."""

from __future__ import annotations

import time

import numpy as np
import pytest

from edge.pipeline.batch import RecordBatch
from edge.pipeline.outbox.sender import TransmitFailure
from edge.pipeline.transmits.mqtt.transmit import MqttTransmit, topic_for
from edge.time.textfields import TEXT
from tests.integration.peers import mosquitto
from tests.unit.pipeline.transmits.transmit_parts import TransmitParts
from tests.waiting import wait_for

T0 = np.datetime64("2024-05-01T00:00:00", "ns").astype(np.int64)


def batch(start: int, count: int, asset: str) -> RecordBatch:
    index = np.arange(start, start + count)
    return RecordBatch(asset, "cycle", {"timestamp": (T0 + index * 10**9).astype("datetime64[ns]"),
                                        "count": index.astype(np.int64),
                                        "label": np.array([f"r{i}" for i in index], dtype=TEXT)}, "timestamp")


@pytest.fixture
def broker(tmp_path):
    reason = mosquitto.available()
    if reason:
        pytest.skip(reason)
    server = mosquitto.MosquittoBroker(tmp_path / "broker").start()
    yield server
    server.stop()


@pytest.fixture
def parts(tmp_path):
    made = TransmitParts(tmp_path / "data")
    yield made
    made.close()



def per_stream(messages, topic: str) -> list[int]:
    """The records of a topic once each (a message seen twice counted once), in order."""
    seen, values = set(), []
    for got_topic, payload in messages:
        if got_topic == topic and payload["batch_id"] not in seen:
            seen.add(payload["batch_id"])
            values.extend(payload["fields"]["count"])
    return values


def config(broker, **options):
    return {"transmit_name": "plant", "transmit_type": "mqtt", "host": "127.0.0.1", "port": broker.port,
            "max_message_records": 200, "timeout": 5, "poll_interval": 0.05, "topic": "edge/{asset}/{stream_type}",
            **options}


def test_records_are_published_on_their_topics_and_leave_only_after_puback(broker, parts):
    subscriber = mosquitto.Subscriber(broker, "edge/#")
    outbox = parts.outboxes.outbox("plant")
    for i in range(3):
        outbox.append(batch(i * 300, 300, "press"), f"p{i}")
        outbox.append(batch(i * 300, 300, "oven"), f"o{i}")
    runtime = parts.runtime(MqttTransmit, config(broker))
    sent = 0
    while sent < 1800:
        sent += runtime.poll().records_out
    assert outbox.status()["records_queued"] == 0
    wait_for(lambda: len(per_stream(subscriber.received(), "edge/oven/cycle")) == 900)
    messages = subscriber.received()
    assert per_stream(messages, "edge/press/cycle") == list(range(900))
    assert per_stream(messages, "edge/oven/cycle") == list(range(900))
    first = next(payload for topic, payload in messages if topic == "edge/press/cycle")
    assert first["batch_id"] == "p0:0-200" and len(first["fields"]["count"]) == 200
    assert first["kinds"] == {"timestamp": "timestamp", "count": "number", "label": "text"}
    assert first["fields"]["label"][:2] == ["r0", "r1"]
    runtime.close()
    subscriber.close()


def test_a_broker_restart_loses_nothing(broker, parts):
    subscriber = mosquitto.Subscriber(broker, "edge/#", client_id="restart-subscriber")
    time.sleep(0.2)  # the subscription stands before anything is published
    outbox = parts.outboxes.outbox("plant")
    runtime = parts.runtime(MqttTransmit, config(broker, timeout=2))
    outbox.append(batch(0, 500, "press"), "a")
    assert runtime.poll().records_out == 500
    broker.stop()
    outbox.append(batch(500, 500, "press"), "b")  # the receivers go on while the broker is down
    with pytest.raises(TransmitFailure):
        runtime.poll()
    assert "broker" in outbox.status()["last_error"]
    assert outbox.status()["records_queued"] == 500
    broker.start()
    outbox.append(batch(1000, 500, "press"), "c")
    deadline = time.monotonic() + 30
    while outbox.status()["records_queued"] and time.monotonic() < deadline:
        try:
            runtime.poll()
        except TransmitFailure:
            time.sleep(0.1)
    assert outbox.status()["records_queued"] == 0
    wait_for(lambda: len(per_stream(subscriber.received(), "edge/press/cycle")) >= 1500)
    assert per_stream(subscriber.received(), "edge/press/cycle") == list(range(1500))
    runtime.close()
    subscriber.close()


def test_a_refused_connection_fails_the_take_and_keeps_it(parts):
    outbox = parts.outboxes.outbox("plant")
    outbox.append(batch(0, 10, "press"), "a")
    with __import__("socket").socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    runtime = parts.runtime(MqttTransmit, {"transmit_name": "plant", "transmit_type": "mqtt", "host": "127.0.0.1",
                                           "port": port, "timeout": 2, "poll_interval": 0.05})
    with pytest.raises(TransmitFailure):
        runtime.poll()
    assert "cannot connect to the broker" in outbox.status()["last_error"]
    assert outbox.status()["records_queued"] == 10


def test_topic_values_cannot_add_topic_levels_or_wildcards():
    assert topic_for("{asset}/{stream_type}", "t", "a/b", "c+#") == "a_b/c__"
    assert topic_for("plant/{transmit_name}/{asset}", "t", "a", "s") == "plant/t/a"
    with pytest.raises(ValueError):
        topic_for("{asset}/{nope}", "t", "a", "s")
