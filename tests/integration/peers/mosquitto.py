"""A real Mosquitto broker on a free loopback port, and a subscriber that keeps what it gets.

The broker keeps its state in a temp folder (`persistence true`), so a restart (`restart()`)
keeps the subscriber's session and the QoS 1 messages queued for it: a test can restart the
broker under a publishing transmit and still count every message.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from tests.loopback import free_port


def _mosquitto() -> str | None:
    return shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto",) if os.path.exists(p)), None)


def available() -> str | None:
    if _mosquitto() is None:
        return "mosquitto is not installed (tests/peers/install.sh installs it)"
    return None


class MosquittoBroker:
    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> MosquittoBroker:
        self.root.mkdir(parents=True, exist_ok=True)
        conf = self.root / "mosquitto.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                        f"persistence_location {self.root}/\nautosave_interval 1\n"
                        "max_queued_messages 1000000\nlog_type error\n"
                        + ("user root\n" if os.geteuid() == 0 else ""))
        self.process = subprocess.Popen([_mosquitto(), "-c", str(conf)], stdout=subprocess.DEVNULL,
                                        stderr=open(self.root / "mosquitto.log", "ab"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {(self.root / 'mosquitto.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not open its port")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


class Subscriber:
    """Subscribes (QoS 1, persistent session) to `topic` and keeps every message: (topic, JSON)."""

    def __init__(self, broker: MosquittoBroker, topic: str = "#", client_id: str = "edge-test-subscriber"):
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self._client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(0.1, 1)
        self._client.connect("127.0.0.1", broker.port, keepalive=10)
        self._client.loop_start()

    def _on_message(self, _client, _userdata, message) -> None:
        with self._lock:
            self.messages.append((message.topic, json.loads(message.payload)))

    def received(self) -> list[tuple[str, Any]]:
        with self._lock:
            return list(self.messages)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
