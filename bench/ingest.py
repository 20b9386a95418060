"""./build.sh bench ingest: JSON appends to /machiot against InfluxDB 1.x line protocol.

Both servers run on this machine in the same run, each fed by one HTTP client over one
keep-alive connection, with request bodies encoded before the clock starts:

  ingest   100 tags x 10,000 points, in batches of 10,000 points (100 points of every tag),
           in --rounds rounds taking turns (edge, InfluxDB, edge, ...), each into a new table
           or measurement after --settle seconds of rest; the best round of each counts, so
           that a burst of other work on a shared machine does not decide the result
  bulk     one tag of 10M points (one a second) in 100,000-point batches, next to a small
           tag of 10,000 points in the same table or measurement
  queries  on each of the two tags: a 1,000-point raw range from the middle, and the hourly
           average over the whole range (2,779 buckets of the big tag, 4 of the small one),
           each the median of --runs runs over one keep-alive connection per server, the two
           servers taking turns run by run. A run's clock stops when the whole answer has been
           read by a client that does little else (what wrk or ab report: the server's
           latency); the answer is then parsed and its row count checked, every run, off the
           clock. A second row per query times the client's JSON decode too: the two answers
           differ in size (edge's raw range is about 74 KB in fetch mode 0, an object per row
           with its keys; InfluxDB's 29 KB), so that row also weighs the answer format, which
           the Machbase API fixes. A third times the same request through Python's http.client,
           whose own work (0.2-0.45 ms a request here) is added to both servers' times
  floor    before the queries, each server's cheapest request (edge's /health, InfluxDB's
           /ping), taking turns the same way: what the HTTP path alone costs, under every query

InfluxDB comes from ../shared/tools/influxdb-peer (relative to the repository); without it
the edge numbers are printed alone. Options: --tags --points --batch --big (0: no bulk load,
no queries on a big tag) --small (0: none on a small tag) --rounds --runs --keep (leave the
data directories).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np

from bench._measure import LatencyClient, free_port

REPO = Path(__file__).resolve().parent.parent
PEER_TOOL = REPO.parent / "shared" / "tools" / "influxdb-peer"
PASSWORD = "bench-password"
BIG_TAG = "big-tag"
SMALL_TAG = "small-tag"
QUERY_SETTLE_S = 10.0
HOUR = 3600 * 10**9
EPOCH = 1_600_000_000 * 10**9  # 2020-09-13 12:26:40 UTC: points start here, one per second


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./build.sh bench ingest")
    parser.add_argument("--tags", type=int, default=100)
    parser.add_argument("--points", type=int, default=10_000, help="points per tag")
    parser.add_argument("--batch", type=int, default=10_000, help="points per request")
    parser.add_argument("--big", type=int, default=10_000_000, help="points of the big query tag (0: skip)")
    parser.add_argument("--small", type=int, default=10_000, help="points of the small query tag (0: skip)")
    parser.add_argument("--rounds", type=int, default=3, help="ingest rounds per server; the best counts")
    parser.add_argument("--runs", type=int, default=15, help="runs of each query")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds of rest before each measurement "
                        "(both servers finish background work: checkpoints, compactions)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="edge-bench-ingest-"))
    edge = EdgeProcess(work / "edge")
    influx = InfluxPeer(work / "influx")
    rows: list[tuple] = []
    try:
        edge.start()
        if influx.start() is None:
            print(f"bench: InfluxDB peer unavailable ({influx.problem}); measuring edge alone", file=sys.stderr)
        peers = [edge] + ([influx] if influx.available else [])

        batches = list(mixed_batches(args.tags, args.points, args.batch))
        bodies = {peer: [peer.encode(b) for b in batches] for peer in peers}
        total = args.tags * args.points
        print(f"ingest: {total:,} points in {len(batches)} requests, {args.rounds} rounds", file=sys.stderr)
        best = {peer: 0.0 for peer in peers}
        for round_number in range(args.rounds):
            for peer in peers:
                target = peer.new_target(f"round{round_number}")
                time.sleep(args.settle)
                rate = peer.ingest(bodies[peer], total, target)
                print(f"  round {round_number + 1}: {peer.label} {rate:,.0f} points/s", file=sys.stderr)
                best[peer] = max(best[peer], rate)
        rows.append(higher_is_better(f"ingest, {args.tags} tags, {args.batch:,}-point batches, pts/s",
                                     best[edge], best.get(influx)))
        del bodies

        sizes = [(tag, points) for tag, points in ((SMALL_TAG, args.small), (BIG_TAG, args.big)) if points]
        if sizes:
            targets = {peer: peer.new_target("queries") for peer in peers}
        if args.small:
            small = list(tag_batches(SMALL_TAG, args.small, 100_000))
            for peer in peers:
                peer.ingest([peer.encode(b) for b in small], args.small, targets[peer])
        if args.big:
            print(f"bulk: loading {args.big:,} points into one tag", file=sys.stderr)
            big = list(tag_batches(BIG_TAG, args.big, 100_000))
            bulk = {}
            for peer in peers:
                encoded = [peer.encode(b) for b in big]
                time.sleep(args.settle)
                bulk[peer] = peer.ingest(encoded, args.big, targets[peer])
            rows.append(higher_is_better("bulk load, 1 tag, 100,000-point batches, pts/s", bulk[edge],
                                         bulk.get(influx)))
        if sizes:
            # Both servers write a bulk load out in the background (checkpoints, compactions)
            # for some seconds after it is acknowledged: the queries are timed after that.
            time.sleep(max(args.settle, QUERY_SETTLE_S))
        if sizes:
            rows.append(lower_is_better("an empty answer (edge /health, InfluxDB /ping), ms (median)",
                                        *empty_answer_medians(peers, args.runs, edge, influx)))
        for tag, points in sizes:
            middle = EPOCH + (points // 2) * 10**9
            # From the top of the first hour: rollup buckets count when they start inside the range.
            whole = (EPOCH - EPOCH % HOUR, EPOCH + (points - 1) * 10**9)
            raw = interleaved_medians(peers, args.runs, "raw_range", tag, middle, middle + 999 * 10**9, 1000)
            avg = interleaved_medians(peers, args.runs, "hourly_avg", tag, *whole, hours(points))
            for what, medians in ((f"raw range of 1,000 of {points:,} points", raw),
                                  (f"hourly avg over {points:,} points", avg)):
                read, decoded, stdlib = medians
                rows.append(lower_is_better(f"{what}, ms (median)", read[edge], read.get(influx)))
                rows.append(lower_is_better("  the same with the client's JSON decode", decoded[edge],
                                            decoded.get(influx)))
                rows.append(lower_is_better("  the same read through Python's http.client", stdlib[edge],
                                            stdlib.get(influx)))
    finally:
        edge.stop()
        influx.stop()
        if args.keep:
            print(f"bench: data kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_table(rows)
    return 0


def interleaved_medians(peers: list, runs: int, query: str, tag: str, start: int, end: int,
                        expect: int) -> tuple[dict, dict, dict]:
    """Median seconds of `runs` runs of a query on each peer, the peers taking turns run by
    run (on a shared machine both then meet the same load): until the whole answer has been
    read (by `LatencyClient`), that plus the client's JSON decode, and the whole request
    through Python's http.client instead. Every answer is checked, off the clock."""
    paths = {peer: getattr(peer, query + "_path")(tag, start, end) for peer in peers}
    for peer in peers:
        peer.client.reconnect()
        check(peer.rows(peer.client.request("GET", paths[peer])), expect, f"{peer.label} {query}")  # warm-up
        check(peer.rows(peer.latency_get(paths[peer])), expect, f"{peer.label} {query}")
    read: dict = {peer: [] for peer in peers}
    decoded: dict = {peer: [] for peer in peers}
    stdlib: dict = {peer: [] for peer in peers}
    for _ in range(runs):
        for peer in peers:
            began = time.perf_counter()
            answer = peer.latency_get(paths[peer])
            answered = time.perf_counter()
            rows = peer.rows(answer)
            read[peer].append(answered - began)
            decoded[peer].append(time.perf_counter() - began)
            check(rows, expect, f"{peer.label} {query}")
            began = time.perf_counter()
            answer = peer.client.request("GET", paths[peer])
            stdlib[peer].append(time.perf_counter() - began)
            check(peer.rows(answer), expect, f"{peer.label} {query}")
    return tuple({peer: statistics.median(times) for peer, times in found.items()}
                 for found in (read, decoded, stdlib))


def empty_answer_medians(peers: list, runs: int, edge, influx) -> tuple[float, float | None]:
    """Median seconds of each server's cheapest request, the two taking turns as the queries
    do: the floor under every query's time, what the HTTP path itself costs."""
    times: dict = {peer: [] for peer in peers}
    for _ in range(runs):
        for peer in peers:
            began = time.perf_counter()
            peer.latency_get(peer.empty_path)
            times[peer].append(time.perf_counter() - began)
    medians = {peer: statistics.median(found) for peer, found in times.items()}
    return medians[edge], medians.get(influx)


def higher_is_better(name: str, edge: float, influx: float | None) -> tuple:
    return name, edge, influx, edge / influx if influx else None


def lower_is_better(name: str, edge_seconds: float, influx_seconds: float | None) -> tuple:
    influx_ms = influx_seconds * 1000 if influx_seconds else None
    return name, edge_seconds * 1000, influx_ms, influx_seconds / edge_seconds if influx_seconds else None


def hours(points: int) -> int:
    return (EPOCH + (points - 1) * 10**9) // HOUR - EPOCH // HOUR + 1


def print_table(rows) -> None:
    print()
    print(f"{'measure':<60} {'edge':>14} {'InfluxDB 1.x':>14} {'edge advantage':>15}")
    print("-" * 106)
    for name, edge_value, influx_value, ratio in rows:
        influx_text = f"{influx_value:>14,.{_decimals(influx_value)}f}" if influx_value is not None else f"{'n/a':>14}"
        ratio_text = f"{ratio:>14.2f}x" if ratio is not None else f"{'n/a':>15}"
        print(f"{name:<60} {edge_value:>14,.{_decimals(edge_value)}f} {influx_text} {ratio_text}")


def _decimals(value: float) -> int:
    return 2 if abs(value) < 1 else 1  # a fraction of a millisecond keeps two figures


# Workloads ----------------------------------------------------------------------------------

class Batch:
    """One request's points: tag names, int64 ns times, values."""

    def __init__(self, names: list[str], times: list[int], values: list[float]):
        self.names = names
        self.times = times
        self.values = values


def mixed_batches(tags: int, points: int, size: int):
    """Time-major: every tick carries a point of every tag, as a collector sends them."""
    names = [f"tag-{i:03d}" for i in range(tags)]
    per_batch_ticks = max(1, size // tags)
    for tick0 in range(0, points, per_batch_ticks):
        ticks = range(tick0, min(points, tick0 + per_batch_ticks))
        yield Batch([n for _ in ticks for n in names],
                    [EPOCH + t * 10**9 for t in ticks for _ in names],
                    [t * 0.5 + i for t in ticks for i in range(tags)])


def tag_batches(tag: str, points: int, size: int):
    for first in range(0, points, size):
        count = min(size, points - first)
        yield Batch([tag] * count, [EPOCH + (first + k) * 10**9 for k in range(count)],
                    [float((first + k) % 1000) for k in range(count)])


def machbase_times(ns: list[int]) -> list[str]:
    """Whole-second times as the tag API prints them by default ("YYYY-MM-DD HH24:MI:SS
    mmm:uuu:nnn"), in UTC: both servers run with TIMEZONE = UTC."""
    seconds = np.array(ns, dtype=np.int64).astype("datetime64[ns]").astype("datetime64[s]")
    text = np.strings.replace(np.datetime_as_string(seconds, unit="s"), "T", " ")
    return np.strings.add(text, " 000:000:000").tolist()


def iso_time(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns // 10**9, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def check(rows: list, expect: int, what: str) -> None:
    if len(rows) != expect:
        raise RuntimeError(f"{what}: expected {expect} rows, got {len(rows)}")


# Servers ------------------------------------------------------------------------------------

class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, port: int, headers: dict | None = None):
        self.port = port
        self.headers = headers or {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def reconnect(self) -> None:
        """A fresh connection: the server closes one left idle (while bodies were encoded)."""
        self.connection.close()
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"):
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = content_type
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path[:80]} -> {response.status}: {data[:300]!r}")
        return data


class Peer:
    label = "peer"
    client: Client
    latency: LatencyClient
    target = ""

    def latency_get(self, path: str) -> bytes:
        status, body = self.latency.get(path)
        if status >= 300:
            raise RuntimeError(f"GET {path[:80]} -> {status}: {body[:300]!r}")
        return body

    def addressed(self, bodies: list[bytes], target: str) -> list[bytes]:
        """The bodies as sent to `target` (done before the clock starts)."""
        return bodies

    def ingest(self, bodies: list[bytes], points: int, target: str) -> float:
        """Points per second sending `bodies` into `target`, one request after the other."""
        bodies = self.addressed(bodies, target)
        self.client.reconnect()
        began = time.perf_counter()
        for body in bodies:
            self.send(body, target)
        return points / (time.perf_counter() - began)


class EdgeProcess(Peer):
    label = "edge"
    empty_path = "/health"  # the least a request can cost: no credentials, no work, a 16-byte answer

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        token = base64.b64encode(f"sys:{PASSWORD}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}

    def start(self) -> None:
        conf = self.data_dir.parent / "edge.conf"
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text("TIMEZONE = UTC\n")
        env = {**os.environ, "EDGE_ADMIN_PASSWORD": PASSWORD}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edge", "serve", "--config", str(conf), "--data-dir", str(self.data_dir),
             "--http-port", str(self.port), "--bind", "127.0.0.1"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)
        self.client = Client(self.port, self.headers)
        self.latency = LatencyClient(self.port, self.headers)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def new_target(self, suffix: str) -> str:
        """A new tag table for one measurement."""
        table = f"BENCH_{suffix}".upper()
        self.client.reconnect()  # the server closes a connection idle past REQUEST_TIMEOUT_MS
        self.client.request("GET", "/machbase?" + urllib.parse.urlencode(
            {"q": f"create tag table {table} (name varchar(40) primary key, time datetime basetime, "
                  f"value double summarized)"}))
        self.target = table
        return table

    def encode(self, batch: Batch) -> bytes:
        rows = [[n, t, v] for n, t, v in zip(batch.names, machbase_times(batch.times), batch.values)]
        return json.dumps({"values": rows}).encode()

    def send(self, body: bytes, target: str) -> None:
        answer = json.loads(self.client.request("POST", f"/machiot/v1/datapoints/raw/{target}", body))
        if answer.get("error_code") or answer.get("append_failure"):
            raise RuntimeError(f"edge refused an append: {answer}")

    def raw_range_path(self, tag: str, start: int, end: int) -> str:
        times = machbase_times([start, end])
        return f"/machiot/v1/datapoints/raw/{self.target}/{tag}/{quote(times[0])}/{quote(times[1])}/2/0/0"

    def hourly_avg_path(self, tag: str, start: int, end: int) -> str:
        times = machbase_times([start, end])
        return (f"/machiot/v1/datapoints/calculated/{self.target}/{tag}/{quote(times[0])}/"
                f"{quote(times[1])}/avg/0/hour/1")

    def rows(self, answer: bytes) -> list:
        return json.loads(answer)["data"]


class InfluxPeer(Peer):
    label = "InfluxDB"
    empty_path = "/ping"  # 204, no body

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.started = False
        self.available = False
        self.problem = ""

    def start(self) -> str | None:
        if not PEER_TOOL.exists():
            self.problem = f"{PEER_TOOL} not found"
            return None
        try:
            out = subprocess.run([str(PEER_TOOL), "start", str(self.directory), str(self.port)], check=True,
                                 capture_output=True, text=True, timeout=600).stdout
        except (subprocess.SubprocessError, OSError) as exc:
            self.problem = f"influxdb-peer start failed: {exc}"
            return None
        self.started = True
        self.client = Client(self.port)
        self.latency = LatencyClient(self.port)
        try:
            self.client.request("GET", "/ping")
        except (OSError, RuntimeError) as exc:
            self.problem = f"InfluxDB did not answer: {exc}"
            return None
        self.available = True
        return out.strip().splitlines()[-1] if out.strip() else f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.started:
            subprocess.run([str(PEER_TOOL), "stop", str(self.directory)], check=False, capture_output=True)

    def new_target(self, suffix: str) -> str:
        """A new measurement (InfluxDB creates it on the first write)."""
        self.target = f"bench_{suffix}"
        return self.target

    def encode(self, batch: Batch) -> bytes:
        # The measurement name is filled in per round: "{m}" stays a placeholder until sent.
        lines = [f"{{m}},sensor={n} value={v!r} {t}" for n, t, v in zip(batch.names, batch.times, batch.values)]
        return "\n".join(lines).encode()

    def addressed(self, bodies: list[bytes], target: str) -> list[bytes]:
        return [body.replace(b"{m}", target.encode()) for body in bodies]

    def send(self, body: bytes, target: str) -> None:
        self.client.request("POST", "/write?db=bench&precision=ns", body, content_type="text/plain")

    def _query_path(self, text: str) -> str:
        return "/query?" + urllib.parse.urlencode({"db": "bench", "q": text})

    def rows(self, answer: bytes) -> list:
        series = json.loads(answer)["results"][0].get("series", [])
        return series[0]["values"] if series else []

    def raw_range_path(self, tag: str, start: int, end: int) -> str:
        return self._query_path(f"SELECT value FROM {self.target} WHERE sensor='{tag}' "
                                f"AND time >= '{iso_time(start)}' AND time <= '{iso_time(end)}'")

    def hourly_avg_path(self, tag: str, start: int, end: int) -> str:
        return self._query_path(f"SELECT mean(value) FROM {self.target} WHERE sensor='{tag}' "
                                f"AND time >= '{iso_time(start)}' AND time <= '{iso_time(end)}' "
                                f"GROUP BY time(1h) fill(none)")


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"edge serve exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("edge serve did not open its port in time")
