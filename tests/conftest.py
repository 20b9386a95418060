"""Shared fixtures: a real `edge serve` process on a free loopback port, and a client for it."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.loopback import free_port

ADMIN_PASSWORD = "test-admin-password"
REPO = Path(__file__).resolve().parent.parent


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)


class Client:
    """A tiny HTTP client for one server, Basic auth as `sys` unless told otherwise."""

    def __init__(self, base_url: str, user: str | None = "sys", password: str = ADMIN_PASSWORD):
        self.base_url = base_url
        self.auth = None
        if user is not None:
            self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def request(self, method: str, path: str, body=None, headers: dict | None = None,
                auth: str | None | bool = True, timeout: float = 30) -> Response:
        data = None
        all_headers = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            data = data.encode() if isinstance(data, str) else data
            all_headers.setdefault("Content-Type", "application/json")
        if auth is True and self.auth:
            all_headers["Authorization"] = self.auth
        elif isinstance(auth, str):
            all_headers["Authorization"] = auth
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return Response(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as err:
            return Response(err.code, err.headers, err.read())

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class EdgeServer:
    """`python -m edge serve` in a child process; start/stop/kill it, read its files."""

    def __init__(self, data_dir: Path, conf_lines: list[str] | None = None, env: dict | None = None):
        self.data_dir = data_dir
        self.port = free_port()
        self.conf_file = data_dir.parent / f"{data_dir.name}.conf"
        conf_lines = list(conf_lines or [])
        if not any(line.startswith("CONFIG_BACKUP_HOURS") for line in conf_lines):
            # Tests save configurations naming the spec's cloud (plant.sightmachine.io): no backup
            # may try to reach it, only loopback is allowed. Backup tests turn it on.
            conf_lines.append("CONFIG_BACKUP_HOURS = 0")
        if not any(line.startswith("LOGIN_ATTEMPTS") for line in conf_lines):
            # Module-wide servers see every wrong password of their module's tests, all from
            # 127.0.0.1, in random order: the limit would refuse whichever test came late.
            # Its own tests turn it on.
            conf_lines.append("LOGIN_ATTEMPTS = 0")
        self.conf_file.write_text("\n".join(conf_lines) + "\n")
        self.env = {**os.environ, "EDGE_ADMIN_PASSWORD": ADMIN_PASSWORD, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = Client(self.url)

    def start(self, timeout: float = 30) -> "EdgeServer":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edge", "serve", "--config", str(self.conf_file), "--data-dir",
             str(self.data_dir), "--http-port", str(self.port), "--bind", "127.0.0.1"],
            cwd=REPO, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors="replace")
                raise RuntimeError(f"edge serve exited with {self.process.returncode}:\n{output}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("edge serve did not open its port in time")

    def stop(self, timeout: float = 20) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return self.process.stdout.read().decode(errors="replace") if self.process else ""


@pytest.fixture
def edge_server_factory(tmp_path):
    """Builds servers in this test's temp folder; every one is stopped at the end."""
    servers: list[EdgeServer] = []

    def make(name: str = "data", conf_lines: list[str] | None = None, env: dict | None = None,
             start: bool = True) -> EdgeServer:
        server = EdgeServer(tmp_path / name, conf_lines, env)
        servers.append(server)
        return server.start() if start else server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def edge_server(tmp_path_factory):
    """One server shared by a test module (start-up is the slow part)."""
    server = EdgeServer(tmp_path_factory.mktemp("edge") / "data").start()
    yield server
    server.stop()


@pytest.fixture
def client(edge_server) -> Client:
    return edge_server.client


@pytest.fixture
def parts(tmp_path):
    """Builds the real catalog and tag store a pipeline runtime works on, in this test's folder."""
    from tests.unit.pipeline.receivers.pipeline_parts import PipelineParts

    made = []

    def make(**settings):
        made.append(PipelineParts(tmp_path / "data", **settings))
        return made[-1]

    yield make
    for item in made:
        item.close()
