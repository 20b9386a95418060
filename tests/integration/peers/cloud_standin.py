"""A stand-in for the Sight Machine cloud: a real HTTP server on loopback speaking the wire
format of `edge.pipeline.transmits.remotedatapost.wire`.

It checks the API key headers (401 when they are wrong), un-gzips and keeps every batch it is
sent and every configuration backed up, and can be told to misbehave: refuse connections
(`refuse()`: the port is closed until `accept()`), answer a status, redirect, hang past the
client's timeout, cut its answer short, answer without `"success": true`, or echo a wrong
sha256 (`misbehave(mode, times)`). `keep=False` only counts (for the benchmark).

Run alone for the benchmark: `python -m tests.integration.peers.cloud_standin` prints its port
and serves until stdin closes; GET /stats answers the counts as JSON.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import socket
import sys
import threading
import time
from typing import Any

import orjson

from edge.pipeline.transmits.remotedatapost import wire

KEY_ID = "edge-test@sightmachine_ftx.com"
KEY = "standin-key-123"

OK, STATUS, REDIRECT, HANG, CUT, NO_SUCCESS, BAD_CHECKSUM = ("ok", "status", "redirect", "hang", "cut",
                                                              "no_success", "bad_checksum")


class CloudStandIn:
    def __init__(self, keep: bool = True, port: int = 0):
        self.keep = keep
        self.port = port
        self.lock = threading.Lock()
        self.batches: list[dict[str, Any]] = []  # every batch received, in order (repeats too)
        self.requests = 0  # record requests answered with success
        self.records = 0  # records in those
        self.wire_bytes = 0  # gzip bodies of those
        self.backups: list[dict[str, Any]] = []  # {"device_id", "config", "sha256"}
        self.devices: set[str] = set()
        self._mode = OK
        self._mode_times = 0
        self._mode_after = 0
        self._status = 500
        self.hang_seconds = 5.0
        self.delay_seconds = 0.0  # before each good answer to a records request: a slow cloud
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def transmit(self, name: str = "cloud", **options) -> dict[str, Any]:
        """A remotedatapost entry for this stand-in."""
        return {"transmit_name": name, "transmit_type": "remotedatapost", "base_url": self.base_url,
                "API_key_ID": KEY_ID, "API_key": KEY, **options}

    def start(self) -> CloudStandIn:
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def refuse(self) -> None:
        """Closes the port: connections are refused until `accept()`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accept(self) -> None:
        self.start()

    stop = refuse

    def misbehave(self, mode: str, times: int = 10**9, status: int = 500, after: int = 0) -> None:
        """The next `times` requests get `mode` instead of a good answer (after `after` good ones)."""
        with self.lock:
            self._mode, self._mode_times, self._status, self._mode_after = mode, times, status, after

    def behave(self) -> None:
        self.misbehave(OK, 0)

    def stream_records(self, asset: str, stream_type: str, field: str) -> list[Any]:
        """The values of `field` of every record received of a stream, in arrival order."""
        values = []
        with self.lock:
            for batch in self.batches:
                if batch["asset"] == asset and batch["stream_type"] == stream_type:
                    values.extend(batch["fields"][field])
        return values

    def _next_mode(self) -> tuple[str, int]:
        with self.lock:
            if self._mode_after > 0:
                self._mode_after -= 1
            elif self._mode_times > 0:
                self._mode_times -= 1
                return self._mode, self._status
            return OK, 200


class _Handler(http.server.BaseHTTPRequestHandler):
    standin: CloudStandIn
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm holds the body
        # for the client's delayed ACK (40 ms a request on loopback).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args) -> None:
        pass

    def do_GET(self):
        if self.path == "/stats":
            s = self.standin
            self._answer(200, {"success": True, "requests": s.requests, "records": s.records,
                               "wire_bytes": s.wire_bytes})
        else:
            self._answer(404, {"success": False})

    def do_POST(self):
        body = self._body()
        if body is None:
            return
        if self.path != wire.RECORDS_PATH:
            self._answer(404, {"success": False, "error": "no such path"})
            return
        mode, status = self.standin._next_mode()
        if mode != OK:
            self._misbehave(mode, status)
        else:
            if self.standin.delay_seconds:
                time.sleep(self.standin.delay_seconds)
            document = orjson.loads(gzip.decompress(body))
            standin = self.standin
            with standin.lock:
                standin.requests += 1
                standin.wire_bytes += len(body)
                standin.devices.add(document["device_id"])
                for batch in document["batches"]:
                    standin.records += len(next(iter(batch["fields"].values()), []))
                    if standin.keep:
                        standin.batches.append(batch)
            self._answer(200, {"success": True})

    def do_PUT(self):
        body = self._body()
        if body is None:
            return
        prefix = wire.CONFIG_PATH.split("{", 1)[0]
        if not self.path.startswith(prefix):
            self._answer(404, {"success": False})
            return
        mode, status = self.standin._next_mode()
        if mode not in (OK, BAD_CHECKSUM):
            self._misbehave(mode, status)
            return
        config = gzip.decompress(body)
        digest = hashlib.sha256(config).hexdigest()
        with self.standin.lock:
            self.standin.backups.append({"device_id": self.path[len(prefix):].strip("/"),
                                         "config": json.loads(config), "sha256": self.headers.get(wire.SHA_HEADER)})
        self._answer(200, {"success": True, "sha256": "0" * 64 if mode == BAD_CHECKSUM else digest})

    def _body(self) -> bytes | None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get(wire.KEY_ID_HEADER) != KEY_ID or self.headers.get(wire.KEY_HEADER) != KEY:
            self._answer(401, {"success": False, "error": "bad API key"})
            return None
        return body

    def _misbehave(self, mode: str, status: int) -> None:
        if mode == STATUS:
            self._answer(status, {"success": False, "error": f"told to answer {status}"})
        elif mode == REDIRECT:
            self.send_response(302)
            self.send_header("Location", "https://elsewhere.example/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == HANG:
            time.sleep(self.standin.hang_seconds)
            self.close_connection = True
        elif mode == CUT:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b'{"succ')
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        elif mode == NO_SUCCESS:
            self._answer(200, {"success": False, "error": "not today"})

    def _answer(self, status: int, document: dict) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main() -> None:
    standin = CloudStandIn(keep=False).start()
    print(standin.port, flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin
    standin.stop()


if __name__ == "__main__":
    main()
