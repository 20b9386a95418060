"""The mqtt runtime: publishes the transmit's outbox to an MQTT broker, QoS 1.

One message is one piece of a queued batch (at most max_message_records records, columnar
JSON as `edge.pipeline.outbox.encoding` describes, with its stable batch_id) on the topic
made from the template. A take is sent as its messages, then every PUBACK is awaited; a
missing one (broker down, restarted, slow past `timeout`) fails the take, the client is
dropped and the whole take is published again by the next try (a subscriber may see a
message twice, never miss one). paho-mqtt is imported here only, when an mqtt transmit runs.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from edge.pipeline.outbox.encoding import dumps
from edge.pipeline.outbox.outbox import Take
from edge.pipeline.outbox.sender import OutboxSender, TransmitFailure
from edge.pipeline.runtime.context import ComponentContext

DEFAULT_TOPIC = "{asset}/{stream_type}"
DEFAULT_MESSAGE_RECORDS = 1000
DEFAULT_TIMEOUT = 30.0
_TOPIC_UNSAFE = re.compile(r"[+#/\x00]")
# CONNACK reason codes that mean the broker refused the credentials (3.1.1 and 5).
_AUTH_REFUSALS = {4, 5, 134, 135}


def topic_for(template: str, transmit_name: str, asset: str, stream_type: str) -> str:
    """The topic of a stream's messages; ValueError for a template naming other fields."""
    try:
        return template.format_map({"asset": _TOPIC_UNSAFE.sub("_", asset),
                                    "stream_type": _TOPIC_UNSAFE.sub("_", stream_type),
                                    "transmit_name": _TOPIC_UNSAFE.sub("_", transmit_name)})
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"topic {template!r} may use only {{asset}}, {{stream_type}} and {{transmit_name}}: "
                         f"{exc}") from None


class MqttTransmit(OutboxSender):
    def __init__(self, context: ComponentContext):
        super().__init__(context)
        config = context.config
        self.host = config["host"]
        self.tls = bool(config.get("tls", False))
        self.port = int(config.get("port") or (8883 if self.tls else 1883))
        self.timeout = float(config.get("timeout") or DEFAULT_TIMEOUT)
        self.keepalive = int(config.get("keepalive") or 60)
        self.topic = config.get("topic") or DEFAULT_TOPIC
        topic_for(self.topic, context.name, "a", "s")  # a bad template fails here, not on every send
        self.client_id = config.get("client_id") or f"edge-{context.outboxes.device_id[:12]}-{context.name}"
        self.max_records = int(config.get("max_message_records") or DEFAULT_MESSAGE_RECORDS)
        self._client: Any = None

    def send(self, take: Take) -> None:
        client = self._connected()
        deadline = time.monotonic() + self.timeout
        messages = []
        for piece in take.pieces:
            topic = topic_for(self.topic, self.context.name, piece["asset"], piece["stream_type"])
            info = client.publish(topic, dumps(piece), qos=1)
            if info.rc != 0:
                self._drop_client()
                raise TransmitFailure(f"cannot publish to {self.host}:{self.port}: MQTT error {info.rc}")
            messages.append(info)
        for info in messages:
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            except (RuntimeError, ValueError):
                pass
            if not info.is_published():
                self._drop_client()
                raise TransmitFailure(f"the broker {self.host}:{self.port} did not acknowledge every message within "
                                      f"{self.timeout:g} s")

    def close(self) -> None:
        self._drop_client()

    def _connected(self) -> Any:
        if self._client is not None and self._client.is_connected():
            return self._client
        self._drop_client()
        import paho.mqtt.client as mqtt  # lazily: only an mqtt transmit loads it

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=True)
        config = self.context.config
        if config.get("username"):
            client.username_pw_set(config["username"], config.get("password"))
        if self.tls:
            client.tls_set(ca_certs=config.get("ca_certs"))
        answered = threading.Event()
        outcome: dict[str, Any] = {}

        def on_connect(_client, _userdata, _flags, reason_code, _properties):
            outcome["reason"] = reason_code
            answered.set()

        client.on_connect = on_connect
        client.connect_timeout = self.timeout
        try:
            client.connect(self.host, self.port, self.keepalive)
        except (OSError, ValueError) as exc:
            raise TransmitFailure(f"cannot connect to the broker {self.host}:{self.port}: {exc}") from None
        client.loop_start()
        self._client = client
        if not answered.wait(self.timeout):
            self._drop_client()
            raise TransmitFailure(f"the broker {self.host}:{self.port} did not answer the connection within "
                                  f"{self.timeout:g} s")
        reason = outcome["reason"]
        if reason.is_failure:
            self._drop_client()
            raise TransmitFailure(f"the broker {self.host}:{self.port} refused the connection: {reason}",
                                  auth=reason.value in _AUTH_REFUSALS)
        return client

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.disconnect()
            except Exception:  # already gone: nothing to tell the broker
                pass
            client.loop_stop()
