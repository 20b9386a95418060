"""The Sight Machine cloud's wire format, as this appliance speaks it (the one place it is).

Public FactoryTX material names the remotedatapost options but not its requests, so the
format below is this appliance's own; the README's "transmits" chapter documents it.

Every request carries the API key headers `X-SM-API-Key-ID: <API_key_ID>` and
`X-SM-API-Key: <API_key>` and the device id `X-Edge-Device-ID` (stable per data directory).

- Records: `POST {base_url}/v1/edge-device/records/`, `Content-Type: application/json`,
  `Content-Encoding: gzip`; the body is `{"device_id", "transmit_name", "batches": [piece...]}`
  with pieces as `edge.pipeline.outbox.encoding` describes (columnar, each with a stable
  `batch_id`). The cloud answers 2xx with `{"success": true}` once it keeps every batch.
- Configuration backup: `PUT {base_url}/v1/edge-device/config/<device id>/`, the
  configuration as gzip-compressed JSON, with `X-Content-SHA256: <sha256 of the uncompressed
  JSON>`; the cloud answers 2xx with `{"success": true, "sha256": "<sha256 of what it got>"}`.

Anything else fails: a connection refused, reset or cut, no answer within `timeout` seconds
(`connectivity_error`), a redirect (not followed; `connectivity_error`, check base_url),
401 or 403 (`auth_error`), another status or a body without `"success": true`
(`unexpected_error`), a backup whose echoed sha256 differs (`checksum_error`).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import socket
import urllib.parse
from typing import Any

from edge.pipeline.outbox.encoding import dumps

AUTH_ERROR = "auth_error"
CHECKSUM_ERROR = "checksum_error"
CONNECTIVITY_ERROR = "connectivity_error"
UNEXPECTED_ERROR = "unexpected_error"

RECORDS_PATH = "/v1/edge-device/records/"
CONFIG_PATH = "/v1/edge-device/config/{device_id}/"
KEY_ID_HEADER = "X-SM-API-Key-ID"
KEY_HEADER = "X-SM-API-Key"
DEVICE_HEADER = "X-Edge-Device-ID"
SHA_HEADER = "X-Content-SHA256"
MAX_ANSWER_BYTES = 1024 * 1024
# Records bodies are compressed by ISA-L (isal), which writes the same gzip format as zlib: on
# the benchmark's records its level 2 writes 40.3 bytes a record for 0.4 CPU microseconds,
# against zlib's 42.4 bytes for 1.7 (level 1) or 39.5 for 3.5 (level 3); compression was most of
# a request's CPU. (README, transmits chapter, has the whole table.)
RECORDS_GZIP_LEVEL = 2


class CloudError(Exception):
    """A request the cloud did not confirm; `code` is one of the backup error codes."""

    def __init__(self, code: str, text: str):
        super().__init__(text)
        self.code = code
        self.text = text


class CloudClient:
    """Requests to one cloud tenant over one kept-alive connection (reopened after a failure)."""

    def __init__(self, base_url: str, key_id: str, key: str, device_id: str, timeout: float):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be http(s)://host..., got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._headers = {KEY_ID_HEADER: key_id, KEY_HEADER: key, DEVICE_HEADER: device_id}
        self.device_id = device_id
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def records_body(self, transmit_name: str, batches: list[dict[str, Any]]) -> bytes:
        """The gzip body of a records request carrying `batches` (any thread may make it)."""
        from isal import igzip  # the component's compression library, imported when used

        return igzip.compress(dumps({"device_id": self.device_id, "transmit_name": transmit_name,
                                     "batches": batches}), compresslevel=RECORDS_GZIP_LEVEL)

    def post_records(self, body: bytes) -> int:
        """Sends a `records_body`; returns the bytes put on the wire."""
        self._request("POST", RECORDS_PATH, body, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
        return len(body)

    def put_config(self, config_json: bytes) -> None:
        """Backs up the configuration (JSON bytes); CloudError unless the cloud echoes its sha256."""
        digest = hashlib.sha256(config_json).hexdigest()
        answer = self._request("PUT", CONFIG_PATH.format(device_id=self.device_id), gzip.compress(config_json),
                               {"Content-Type": "application/json", "Content-Encoding": "gzip",
                                SHA_HEADER: digest})
        echoed = answer.get("sha256")
        if echoed != digest:
            raise CloudError(CHECKSUM_ERROR, f"PUT {self._url(CONFIG_PATH.format(device_id=self.device_id))}: the "
                                             f"cloud kept a configuration with sha256 {echoed!r}, not {digest}")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _url(self, path: str) -> str:
        return self.base_url + path

    def _request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        url = self._url(path)
        try:
            connection = self._connect()
            connection.request(method, self._prefix + path, body=body, headers={**self._headers, **headers})
            response = connection.getresponse()
            answer = response.read(MAX_ANSWER_BYTES)
            if response.length and len(answer) < MAX_ANSWER_BYTES:  # the connection closed mid-answer
                raise http.client.IncompleteRead(answer, response.length)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise CloudError(CONNECTIVITY_ERROR, f"{method} {url}: failed to reach the cloud: "
                                                 f"{type(exc).__name__}: {exc}. Check base_url, the proxy settings "
                                                 "and the network") from None
        status = response.status
        if response.will_close:
            self.close()
        if status in (401, 403):
            raise CloudError(AUTH_ERROR, f"{method} {url}: the cloud refused the API key (HTTP {status}); check "
                                         "API_key and API_key_ID")
        if 300 <= status < 400:
            self.close()
            raise CloudError(CONNECTIVITY_ERROR, f"{method} {url}: the cloud answered with a redirect (HTTP {status} "
                                                 f"to {response.getheader('Location')!r}), which is not followed; "
                                                 "check base_url")
        if not 200 <= status < 300:
            raise CloudError(UNEXPECTED_ERROR, f"{method} {url}: the cloud answered HTTP {status}: "
                                               f"{answer[:200].decode('utf-8', 'replace')}")
        try:
            parsed = json.loads(answer)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or parsed.get("success") is not True:
            raise CloudError(UNEXPECTED_ERROR, f"{method} {url}: the cloud's answer does not say success: "
                                               f"{answer[:200].decode('utf-8', 'replace')}")
        return parsed

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            connection = kind(self._host, self._port, timeout=self.timeout)
            connection.connect()
            # A request goes out as headers then body: without this, Nagle's algorithm holds the
            # body's tail for the server's delayed ACK (up to 40 ms a request).
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._connection = connection
        return self._connection
