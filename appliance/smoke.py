"""Smoke test of a built edge: start it as systemd would, call the APIs, stop it, report numbers.

    python3 appliance/smoke.py [--data-dir DIR] [--config FILE] [--runs N] [--] COMMAND...

COMMAND runs the program (`dist/edge`, `dist/edge.dist/edge.bin`, or `chroot --userspec=edge:edge
ROOT /usr/bin/edge` from check-rootfs.sh); `serve --data-dir ... --http-port ... --bind
127.0.0.1` is appended. The program gets what systemd gives a Type=notify unit with WatchdogSec:
NOTIFY_SOCKET (an abstract socket, so it also reaches into a chroot), WATCHDOG_USEC and
WATCHDOG_PID. Checked: READY=1 arrives; GET /v1/config, POST /v1/config/validate, GET /v1/status
answer as the spec says; a request without credentials is refused; every component's schema
and template is served (data files inside the binary); /machiot appends and queries tag data
when that API is there; WATCHDOG=1 arrives; SIGTERM gives STOPPING=1 and exit status 0;
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
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
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


def run_once(command: list[str], data_dir: str, config: str | None, api_checks: bool) -> dict:
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
            result["machiot"] = check_machiot(api)
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
        results = [run_once(args.command, data_dir, args.config, api_checks=(n == 0 and not args.no_api_checks))
                   for n in range(args.runs)]
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
