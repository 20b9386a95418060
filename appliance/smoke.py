"""Smoke test of a built edge: start it as systemd would, call the APIs, stop it, report numbers.

    python3 appliance/smoke.py [--data-dir DIR] [--config FILE] [--runs N] [--] COMMAND...

COMMAND runs the program (`dist/edge`, `dist/edge.dist/edge.bin`, or `chroot --userspec=edge:edge
ROOT /usr/bin/edge` from check-rootfs.sh); `serve --data-dir ... --http-port ... --bind
127.0.0.1` is appended. The program gets what systemd gives a Type=notify unit with WatchdogSec:
NOTIFY_SOCKET (an abstract socket, so it also reaches into a chroot), WATCHDOG_USEC and
WATCHDOG_PID. Checked: READY=1 arrives; GET /v1/config, POST /v1/config/validate, GET /v1/status
answer as the spec says; a request without credentials is refused; every component's schema
and template is served (data files inside the binary); /machiot appends and queries tag data
when that API is there; the web UI's and /docs' static files are served byte for byte as in the
checkout, and /openapi.json answers; with --pipeline, a configuration using every protocol
library the components import lazily runs (see check_pipeline); WATCHDOG=1 arrives; SIGTERM
gives STOPPING=1 and exit status 0;
`version` prints what the source prints. Printed: seconds from start to READY=1
and resident memory when idle (summed over the process and its children, which counts the
onefile parent too). Only the standard library: it runs on any host with python3.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shlex
import signal
import socket
import socketserver
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "smoke-admin-password"
WATCHDOG_USEC = 2_000_000  # the program pings every second
READY_TIMEOUT = 180.0  # a first onefile start unpacks 100 MB first
STOP_TIMEOUT = 45.0  # TimeoutStopSec of systemd/edge.service


class SmokeFailure(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NotifyListener:
    """The systemd side of sd_notify: an abstract unix datagram socket collecting states."""

    def __init__(self):
        self.name = f"@edge-smoke-{os.getpid()}-{time.monotonic_ns()}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name[1:])
        self.messages: list[tuple[float, str]] = []

    def wait_for(self, state: str, timeout: float, process: subprocess.Popen | None = None) -> float:
        """Monotonic time at which a datagram holding line `state` arrived."""
        for at, message in self.messages:
            if state in message.splitlines():
                return at
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise SmokeFailure(f"the program exited with status {process.returncode} before {state}")
            self.sock.settimeout(min(0.2, max(0.01, deadline - time.monotonic())))
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            at = time.monotonic()
            self.messages.append((at, data.decode("utf-8", "replace")))
            if state in data.decode("utf-8", "replace").splitlines():
                return at
        raise SmokeFailure(f"no {state} within {timeout:.0f} s")

    def count(self, state: str) -> int:
        return sum(state in message.splitlines() for _, message in self.messages)

    def close(self):
        self.sock.close()


class Api:
    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.auth = "Basic " + base64.b64encode(f"sys:{PASSWORD}".encode()).decode()

    def raw(self, path: str) -> tuple[int, str, bytes]:
        """Status, Content-Type and body of an anonymous GET (the UI's files are public)."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=30) as response:
                return response.status, response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers.get("Content-Type", ""), err.read()

    def call(self, method: str, path: str, body=None, auth: bool = True) -> tuple[int, object]:
        headers = {"Authorization": self.auth} if auth else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")


def expect(condition: bool, what: str, got) -> None:
    if not condition:
        raise SmokeFailure(f"{what}; got {str(got)[:400]}")
    print(f"  ok  {what}")


def source_version() -> str:
    """What `edge version` prints from source: the checkout's venv if there is one, else pyproject."""
    python = REPO / ".venv" / "bin" / "python"
    if python.exists():
        out = subprocess.run([str(python), "-m", "edge", "version"], cwd=REPO, capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.strip()
    with open(REPO / "pyproject.toml", "rb") as handle:
        return f"edge {tomllib.load(handle)['project']['version']}"


def check_ftx(api: Api) -> None:
    status, body = api.call("GET", "/v1/config")
    expect(status == 200 and isinstance(body, dict) and body.get("success") is True,
           "GET /v1/config answers success", (status, body))
    config = body["response"]
    status, body = api.call("POST", "/v1/config/validate", config)
    expect(status == 200 and isinstance(body, dict) and body.get("success") is True,
           "POST /v1/config/validate passes the current config", (status, body))
    status, body = api.call("POST", "/v1/config/validate", {"data_receiver": "not a list"})
    expect(status == 200 and isinstance(body, dict) and body.get("success") is False,
           "POST /v1/config/validate reports a bad config", (status, body))
    status, body = api.call("GET", "/v1/status")
    expect(status == 200 and isinstance(body, dict) and body.get("success") is True
           and isinstance(body.get("response"), dict), "GET /v1/status answers success", (status, body))
    status, body = api.call("GET", "/v1/status", auth=False)
    expect(status == 401, "GET /v1/status without credentials is refused", (status, body))
    # The components' schema.json and template.json are read from inside the binary.
    status, body = api.call("GET", "/v1/meta")
    expect(status == 200 and isinstance(body, dict) and body.get("success") is True, "GET /v1/meta", (status, body))
    described = 0
    for item in body["response"]["objects"]:
        for subtype in [s["id"] for s in item.get("subtypes", [])] or [None]:
            query = f"?subtype={urllib.parse.quote(subtype)}" if subtype else ""
            s, b = api.call("GET", f"/v1/meta/{item['id']}{query}")
            if s != 200 or not isinstance(b, dict) or not b.get("response", {}).get("schema", {}).get("schema"):
                raise SmokeFailure(f"GET /v1/meta/{item['id']}{query}: {s} {str(b)[:300]}")
            described += 1
    print(f"  ok  GET /v1/meta/...: {described} component schemas (schema.json packed in the binary)")
    status, body = api.call("GET", "/v1/config/templates")
    expect(status == 200 and isinstance(body, dict) and body.get("success") is True and body.get("response"),
           "GET /v1/config/templates (template.json packed in the binary)", (status, body))


def check_web(api: Api) -> None:
    """Every static file of the UI and of /docs is packed in the binary and served unchanged."""
    status, kind, body = api.raw("/")
    index = (REPO / "edge/web/ui/static/index.html").read_bytes()
    expect(status == 200 and kind.startswith("text/html") and body == index, "GET / serves the UI page", (status, kind))
    status, kind, body = api.raw("/docs")
    docs = (REPO / "edge/web/openapi/static/docs.html").read_bytes()
    expect(status == 200 and kind.startswith("text/html") and body == docs, "GET /docs serves the API page",
           (status, kind))
    served = 0
    for folder, prefix in (("edge/web/ui/static", "/ui/static/"), ("edge/web/openapi/static", "/docs/")):
        for file in sorted((REPO / folder).iterdir()):
            status, kind, body = api.raw(prefix + file.name)
            if status != 200 or body != file.read_bytes():
                raise SmokeFailure(f"GET {prefix}{file.name}: {status} {kind}, {len(body)} bytes, "
                                   f"not the checkout's {file.stat().st_size}")
            served += 1
    print(f"  ok  GET /ui/static/... and /docs/...: {served} files as in the checkout (uPlot, scripts, styles)")
    status, kind, body = api.raw("/ui/static/uPlot.iife.min.js")
    expect(kind.startswith("text/javascript") or "javascript" in kind, "uPlot is served as JavaScript", kind)
    status, body = api.call("GET", "/openapi.json")
    expect(status == 200 and isinstance(body, dict) and str(body.get("openapi", "")).startswith("3")
           and "/v1/config" in body.get("paths", {}), "GET /openapi.json answers the API description",
           (status, str(body)[:200]))


class ModbusDevice(socketserver.ThreadingTCPServer):
    """A Modbus TCP device on loopback answering function 3 (read holding registers) with
    register n = 1000 + n: enough for the binary's pymodbus to poll it for real."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _ModbusRequest)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def __exit__(self, *exc_info):
        self.shutdown()
        super().__exit__(*exc_info)


class _ModbusRequest(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(30)
        try:
            while header := self._exactly(7):
                transaction, _protocol, length, unit = struct.unpack(">HHHB", header)
                pdu = self._exactly(length - 1)
                if len(pdu) == 5 and pdu[0] == 3:
                    address, count = struct.unpack(">HH", pdu[1:])
                    answer = bytes([3, 2 * count]) + b"".join(struct.pack(">H", 1000 + address + n)
                                                              for n in range(count))
                else:
                    answer = bytes([pdu[0] | 0x80, 1])  # exception 1: illegal function
                self.request.sendall(struct.pack(">HHHB", transaction, 0, len(answer) + 1, unit) + answer)
        except OSError:
            pass

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.request.recv(size - len(data))
            if not chunk:
                return b""
            data += chunk
        return data


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    return free_port()


def pipeline_config(work: Path, modbus_port: int) -> dict:
    """One receiver or transmit per protocol library the components import lazily. SQLite and
    Modbus run for real; the others point at a closed loopback port, so their error text, which
    only the library can produce, shows it was imported and ran."""
    refused = closed_port()
    state = [{"column_name": "id", "data_type": "integer", "initial_value": 0}]

    def sql(name, connection, asset, query):
        return {"data_receiver_name": name, "protocol": "sql", "poll_interval": 1, "connections": [connection],
                "streams": [{"asset": asset, "stream_type": "cycle", "timestamp_field": "at", "query": query,
                             "state_fields": state}]}

    server = {"host": "127.0.0.1", "port": refused, "username": "smoke", "password": "smoke", "database_name": "d"}
    return {
        "data_receiver": [
            sql("smoke_sqlite", {"database_type": "sqlite", "database_name": str(work / "line.db")}, "smoke",
                "SELECT id, at, v FROM cycles WHERE id > :id ORDER BY id"),
            sql("smoke_postgresql", {**server, "database_type": "postgresql"}, "pg",
                "SELECT id, at FROM t WHERE id > :id"),
            sql("smoke_mysql", {**server, "database_type": "mysql"}, "my", "SELECT id, at FROM t WHERE id > :id"),
            {"data_receiver_name": "smoke_modbus", "protocol": "modbus", "poll_interval": 1,
             "connections": [{"transport": "tcp", "host": "127.0.0.1", "port": modbus_port, "unit_id": 1,
                              "timeout": 5}],
             "streams": [{"asset": "mb", "stream_type": "tank",
                          "registers": [{"exportname": "level", "table": "holding", "address": 7}]}]},
            # A security policy makes the receiver create its client certificate (cryptography).
            {"data_receiver_name": "smoke_opcua", "protocol": "opcua", "poll_interval": 1,
             "connections": [{"host": "127.0.0.1", "port": refused, "timeout": 2,
                              "security_policy": "Basic256Sha256"}],
             "streams": [{"asset": "ua", "stream_type": "cycle",
                          "opcua_tags": [{"name": "ns=2;i=2", "exportname": "speed"}]}]},
            {"data_receiver_name": "smoke_serial", "protocol": "serial", "poll_interval": 1,
             "connections": [{"port": str(work / "no-such-tty"), "baudrate": 9600}],
             "streams": [{"asset": "scale", "stream_type": "weight", "terminator": "\r\n",
                          "pattern": "(?P<weight>[-\\d.]+)"}]},
        ],
        "transforms": [],
        "data_transmit": [{"transmit_name": "smoke_mqtt", "transmit_type": "mqtt", "host": "127.0.0.1",
                           "port": refused, "timeout": 2, "poll_interval": 1}],
    }


# What each component's last error must say: text of the library itself, or of the component
# after the library's call failed; never an ImportError.
LIBRARY_ERRORS = {
    "smoke_postgresql": ("pg8000", "InterfaceError: Can't create a connection"),
    "smoke_mysql": ("PyMySQL", "(2003) Can't connect to MySQL server"),
    "smoke_opcua": ("asyncua", "cannot connect to opc.tcp://127.0.0.1"),
    "smoke_serial": ("pyserial", "could not open port"),
    "smoke_mqtt": ("paho-mqtt", "cannot connect to the broker 127.0.0.1"),
}


def historian_values(api: Api, tag: str, since: str, until: str) -> list:
    path = f"/machiot/datapoints/raw/TAG/{urllib.parse.quote(tag, safe=':')}/{since}/{until}/0/0/0"
    status, body = api.call("GET", path)
    if status != 200 or machbase_error(body) != 0:
        return []
    return [row.get("VALUE") for row in body.get("data", [])]


def check_pipeline(api: Api, data_dir: str) -> None:
    """Posts pipeline_config, waits for its outcome, then puts the previous configuration back."""
    status, body = api.call("GET", "/v1/config")
    previous = body["response"]
    with tempfile.TemporaryDirectory(prefix="edge-smoke-pipeline-") as work, ModbusDevice() as device:
        work = Path(work)
        os.chmod(work, 0o755)  # the program may run as another user
        with sqlite3.connect(work / "line.db") as db:
            db.execute("CREATE TABLE cycles (id INTEGER PRIMARY KEY, at TEXT, v REAL)")
            db.executemany("INSERT INTO cycles VALUES (?, ?, ?)",
                           [(n, f"2001-09-09T01:00:{n:02d}Z", n * 0.5) for n in range(1, 6)])
        db.close()
        config = pipeline_config(work, device.port)
        status, body = api.call("POST", "/v1/config", config)
        expect(status == 200 and isinstance(body, dict) and body.get("success") is True,
               "POST /v1/config with sql (sqlite, postgresql, mysql), modbus, opcua, serial receivers "
               "and an mqtt transmit", (status, body))
        now = datetime.now(timezone.utc)
        around = [(now + timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%S,000") for d in (-1, 1)]
        pending = {"sqlite rows in /machiot", "modbus registers in /machiot", "opcua client certificate",
                   *LIBRARY_ERRORS}
        services: dict = {}
        deadline = time.monotonic() + 120
        while pending and time.monotonic() < deadline:
            if "sqlite rows in /machiot" in pending and historian_values(
                    api, "smoke:cycle:v", "2001-09-09T00:00:00,000", "2001-09-09T02:00:00,000") == [
                    0.5, 1, 1.5, 2, 2.5]:
                pending.discard("sqlite rows in /machiot")
                print("  ok  the SQL receiver read 5 rows of a SQLite file (sqlite3) into /machiot")
            if "modbus registers in /machiot" in pending and 1007 in historian_values(api, "mb:tank:level", *around):
                pending.discard("modbus registers in /machiot")
                print("  ok  the Modbus receiver polled a Modbus TCP device (pymodbus) into /machiot")
            certificate = Path(data_dir) / "opcua" / "client-certificate.der"
            if "opcua client certificate" in pending and certificate.is_file() and certificate.stat().st_size:
                pending.discard("opcua client certificate")
                print("  ok  the OPC UA receiver made its client certificate (asyncua.crypto, cryptography)")
            status, body = api.call("GET", "/v1/status")
            services = body["response"]["factorytx"]["services"] if status == 200 else {}
            for name, (library, text) in LIBRARY_ERRORS.items():
                error = str(services.get(name, {}).get("last_error") or "")
                if name in pending and text in error:
                    pending.discard(name)
                    print(f"  ok  {name}: {library} ran: {error[:110]}")
            time.sleep(0.5)
        status, body = api.call("POST", "/v1/config", previous)
        expect(status == 200 and isinstance(body, dict) and body.get("success") is True,
               "POST /v1/config puts the previous configuration back", (status, body))
    if pending:
        errors = {name: s.get("last_error") for name, s in services.items()}
        raise SmokeFailure(f"not seen within 120 s: {', '.join(sorted(pending))}; last errors {errors}")


def machbase_error(body) -> int | None:
    """error_code of a Machbase envelope; None when the answer is not one (API not there)."""
    if isinstance(body, dict) and "error_code" in body:
        return body["error_code"]
    return None


def check_machiot(api: Api) -> bool:
    """Appends three points to tag table `tag` and reads them back; False when /machiot is absent."""
    tag = f"smoke-{os.getpid()}-{int(time.time())}"
    append = {"date_format": "YYYY-MM-DD HH24:MI:SS",
              "values": [[tag, "2001-09-09 01:00:00", 0], [tag, "2001-09-09 01:00:01", 1.5],
                         [tag, "2001-09-09 01:00:02", 2]]}
    status, body = api.call("POST", "/machiot/datapoints/raw/tag", append)
    if machbase_error(body) is None:
        print(f"  --  /machiot is not there yet ({status}): append and query skipped")
        return False
    if body["error_code"] != 0:
        # A fresh data directory may have no tag table: make the one of Machbase's examples.
        sql = ("create tag table tag (name varchar(40) primary key, time datetime basetime, "
               "value double summarized)")
        s, b = api.call("GET", "/machbase?" + urllib.parse.urlencode({"q": sql}))
        expect(machbase_error(b) == 0, "/machbase creates tag table `tag`", (s, b))
        status, body = api.call("POST", "/machiot/datapoints/raw/tag", append)
    expect(status == 200 and body.get("error_code") == 0 and body.get("append_success") == 3
           and body.get("append_failure") == 0, "POST /machiot/datapoints/raw/tag appends 3 points", (status, body))
    path = f"/machiot/datapoints/raw/tag/{tag}/2001-09-09T00:00:00,000/2001-09-09T02:00:00,000/0/0/0"
    status, body = api.call("GET", path)
    values = [row.get("VALUE") for row in body.get("data", [])] if isinstance(body, dict) else None
    expect(status == 200 and machbase_error(body) == 0 and values == [0, 1.5, 2],
           "GET /machiot/datapoints/raw/tag/... returns them", (status, body))
    return True


def resident_kib(pid: int) -> tuple[int, int]:
    """VmRSS and RssAnon of `pid` and all its descendants, in KiB.

    RssAnon is the program's own memory; the rest of VmRSS is mapped files (the binary's code
    and constants, shared libraries), which the kernel can drop and read again."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    total, anonymous, todo = 0, 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                elif line.startswith("RssAnon:"):
                    anonymous += int(line.split()[1])
        except OSError:
            pass
    return total, anonymous


def run_once(command: list[str], data_dir: str, config: str | None, api_checks: bool, pipeline: bool) -> dict:
    port = free_port()
    listener = NotifyListener()
    serve = [*command, "serve", "--data-dir", data_dir, "--http-port", str(port), "--bind", "127.0.0.1"]
    if config:
        serve += ["--config", config]
    env = dict(os.environ, EDGE_ADMIN_PASSWORD=PASSWORD, NOTIFY_SOCKET=listener.name,
               WATCHDOG_USEC=str(WATCHDOG_USEC))
    # WATCHDOG_PID is the pid systemd started, known only after the fork: the shell sets it and
    # execs, keeping the pid.
    wrapped = ["/bin/sh", "-c", 'WATCHDOG_PID=$$ exec "$@"', "edge-smoke", *serve]
    started = time.monotonic()
    process = subprocess.Popen(wrapped, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    result: dict = {}
    try:
        ready_at = listener.wait_for("READY=1", READY_TIMEOUT, process)
        result["ready_s"] = ready_at - started
        print(f"  ok  READY=1 after {result['ready_s']:.2f} s (port {port})")
        if api_checks:
            api = Api(port)
            check_ftx(api)
            check_web(api)
            result["machiot"] = check_machiot(api)
            if pipeline:
                check_pipeline(api, data_dir)
        listener.wait_for("WATCHDOG=1", 3 * WATCHDOG_USEC / 1e6, process)
        print("  ok  WATCHDOG=1 pings arrive")
        time.sleep(2)  # idle: no request in flight
        result["rss_kib"], result["anon_kib"] = resident_kib(process.pid)
        process.send_signal(signal.SIGTERM)
        listener.wait_for("STOPPING=1", STOP_TIMEOUT)
        code = process.wait(timeout=STOP_TIMEOUT)
        stderr = process.stderr.read().decode("utf-8", "replace")
        expect(code == 0, "SIGTERM: STOPPING=1 and exit status 0", (code, stderr[-2000:]))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        listener.close()
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smoke", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data-dir", help="data directory (default: a new temporary one)")
    parser.add_argument("--config", help="edge.conf to start with")
    parser.add_argument("--runs", type=int, default=1, help="starts to time; API checks on the first")
    parser.add_argument("--no-api-checks", action="store_true", help="only start, watchdog, stop: for timing")
    parser.add_argument("--pipeline", action="store_true",
                        help="also run a configuration using every protocol library (needs the program to see "
                             "this host's temporary folder and data directory, so not in a chroot)")
    parser.add_argument("command", nargs="+", help="how to run the program, e.g. dist/edge")
    args = parser.parse_args(argv)
    print(f"smoke: {shlex.join(args.command)}")
    temporary = None
    data_dir = args.data_dir
    if data_dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="edge-smoke-")
        data_dir = temporary.name
    try:
        # Serving first: the first start of a onefile binary is the one that unpacks it.
        results = [run_once(args.command, data_dir, args.config, api_checks=(n == 0 and not args.no_api_checks),
                            pipeline=args.pipeline) for n in range(args.runs)]
        version = subprocess.run([*args.command, "version"], capture_output=True, text=True, timeout=READY_TIMEOUT)
        expected = source_version()
        expect(version.returncode == 0 and version.stdout.strip() == expected,
               f"`version` prints {expected!r} as from source", (version.returncode, version.stdout, version.stderr))
    except (SmokeFailure, subprocess.TimeoutExpired) as exc:
        print(f"smoke: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if temporary is not None:
            temporary.cleanup()
    print(f"\n{'start':>6} {'READY=1 after (s)':>18} {'RSS idle (MiB)':>15} {'of it anonymous':>16}")
    for n, result in enumerate(results, 1):
        print(f"{n:>6} {result['ready_s']:>18.2f} {result['rss_kib'] / 1024:>15.1f} {result['anon_kib'] / 1024:>16.1f}")
    if args.no_api_checks:
        print("smoke: passed (start, watchdog and stop only)")
    else:
        print("smoke: passed" + ("" if results[0].get("machiot") else " (without /machiot: not there yet)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
