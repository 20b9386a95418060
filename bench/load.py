"""./build.sh bench load [--seconds 60] [--connections 64]: a live server under mixed load.

A Python load generator: --connections client threads, each with its own keep-alive
connection, for --seconds, each thread picking at random (seeded) among

  append   100 points (10 tags x 10 ticks) to /machiot/v1/datapoints/raw      (--append-share)
  raw      the last 100 points of one tag (/machiot raw, direction 1, count 100)
  avg      the minute averages of one tag over its whole range (/machiot calculated)
  sql      SELECT count(*) of one tag by SQL (/machbase)

against `edge serve` started for the run on a free loopback port (HTTP_THREADS 8, its
default). Printed: requests/s, p50/p99 latency per kind and overall, errors (any non-2xx
answer, error_code, append_failure or transport failure; target 0), the points each
append acknowledged against those read back at the end (they must match), and the
server's resident memory at the end. Python's own client threads cost CPU on the same
machine: the numbers are a floor of what the server does.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.ingest import EdgeProcess, machbase_times

TAGS = [f"load-{i:03d}" for i in range(200)]
EPOCH = 1_600_000_000 * 10**9


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./build.sh bench load")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--append-share", type=float, default=0.5, help="share of requests that append")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="edge-bench-load-"))
    edge = EdgeProcess(work / "edge")
    try:
        edge.start()
        seed_points(edge)
        load = Load(edge, args)
        load.run()
        stored = count_points(edge)
        rss = resident_mb(edge.process.pid)
    finally:
        edge.stop()
        shutil.rmtree(work, ignore_errors=True)
    load.print_table(stored, rss)
    return 0 if load.errors == 0 and stored == load.acknowledged + SEEDED else 1


SEEDED = len(TAGS) * 100


def seed_points(edge: EdgeProcess) -> None:
    """100 points of every tag first, so that every query has data."""
    rows = [[tag, t, float(k)] for tag in TAGS
            for k, t in enumerate(machbase_times([EPOCH + k * 10**9 for k in range(100)]))]
    answer = json.loads(edge.client.request("POST", "/machiot/v1/datapoints/raw/TAG", json.dumps({"values": rows}).encode()))
    assert answer["append_success"] == SEEDED, answer


class Load:
    def __init__(self, edge: EdgeProcess, args):
        self.edge = edge
        self.args = args
        self.latencies: dict[str, list[float]] = {k: [] for k in ("append", "raw", "avg", "sql")}
        self.errors = 0
        self.first_errors: list[str] = []
        self.acknowledged = 0
        self.lock = threading.Lock()
        self.elapsed = 0.0
        self.tick = 1000  # appended points start after the seeded ones, one tick a second

    def run(self) -> None:
        deadline = time.monotonic() + self.args.seconds
        threads = [threading.Thread(target=self.client, args=(i, deadline)) for i in range(self.args.connections)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.elapsed = time.perf_counter() - began

    def next_ticks(self, count: int) -> int:
        with self.lock:
            first = self.tick
            self.tick += count
        return first

    def client(self, number: int, deadline: float) -> None:
        rng = random.Random(self.args.seed * 1000 + number)
        connection = http.client.HTTPConnection("127.0.0.1", self.edge.port, timeout=60)
        headers = dict(self.edge.headers)
        local = {k: [] for k in self.latencies}
        errors, acknowledged, problems = 0, 0, []
        while time.monotonic() < deadline:
            kind = "append" if rng.random() < self.args.append_share else rng.choice(("raw", "avg", "sql"))
            method, path, body, expect = self.request(kind, rng)
            began = time.perf_counter()
            try:
                connection.request(method, path, body=body,
                                   headers={**headers, "Content-Type": "application/json"} if body else headers)
                response = connection.getresponse()
                data = response.read()
                elapsed = time.perf_counter() - began
                answer = json.loads(data)
                bad = response.status >= 300 or answer.get("error_code") or answer.get("append_failure")
                if not bad and kind == "append":
                    if answer.get("append_success") != expect:
                        bad = True
                    else:
                        acknowledged += expect
            except (OSError, http.client.HTTPException, ValueError) as exc:
                elapsed = time.perf_counter() - began
                data, bad = repr(exc).encode(), True
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.edge.port, timeout=60)
            local[kind].append(elapsed)
            if bad:
                errors += 1
                if len(problems) < 3:
                    problems.append(f"{kind}: {data[:200]!r}")
        connection.close()
        with self.lock:
            for kind, values in local.items():
                self.latencies[kind] += values
            self.errors += errors
            self.acknowledged += acknowledged
            self.first_errors += problems

    def request(self, kind: str, rng: random.Random) -> tuple[str, str, bytes | None, int]:
        tag = rng.choice(TAGS)
        if kind == "append":
            first = self.next_ticks(10)
            tags = rng.sample(TAGS, 10)
            times = machbase_times([EPOCH + (first + k) * 10**9 for k in range(10)])
            rows = [[t, when, rng.random() * 100] for when in times for t in tags]
            return "POST", "/machiot/v1/datapoints/raw/TAG", json.dumps({"values": rows}).encode(), len(rows)
        if kind == "raw":
            start, end = (urllib.parse.quote(t) for t in machbase_times([EPOCH, EPOCH + 10**6 * 10**9]))
            return "GET", f"/machiot/v1/datapoints/raw/TAG/{tag}/{start}/{end}/1/100/0", None, 0
        if kind == "avg":
            start, end = (urllib.parse.quote(t) for t in machbase_times([EPOCH, EPOCH + 10**6 * 10**9]))
            return "GET", f"/machiot/v1/datapoints/calculated/TAG/{tag}/{start}/{end}/avg/0/min/1", None, 0
        query = urllib.parse.quote(f"select count(*) from tag where name = '{tag}'")
        return "GET", f"/machbase?q={query}", None, 0

    def print_table(self, stored: int, rss_mb: float) -> None:
        every = [x for values in self.latencies.values() for x in values]
        print()
        print(f"load: {self.args.connections} connections, {self.elapsed:.1f} s, "
              f"{self.args.append_share:.0%} appends of 100 points")
        print(f"{'requests':<10} {'count':>9} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}")
        print("-" * 50)
        for kind, values in list(self.latencies.items()) + [("all", every)]:
            if values:
                print(f"{kind:<10} {len(values):>9,} {len(values) / self.elapsed:>9,.0f} "
                      f"{percentile(values, 50) * 1e3:>9.1f} {percentile(values, 99) * 1e3:>9.1f}")
        print("-" * 50)
        print(f"errors: {self.errors} (target 0)")
        for problem in self.first_errors[:5]:
            print(f"  {problem}", file=sys.stderr)
        print(f"points acknowledged {self.acknowledged + SEEDED:,}, stored {stored:,}"
              f"{'' if stored == self.acknowledged + SEEDED else '  MISMATCH'}")
        print(f"server resident memory at the end: {rss_mb:,.0f} MB")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def count_points(edge: EdgeProcess) -> int:
    query = urllib.parse.quote("select count(*) from tag")
    edge.client.reconnect()  # the server closed the seeding connection while it sat idle
    answer = json.loads(edge.client.request("GET", f"/machbase?q={query}"))
    row = answer["data"][0]
    return int(next(iter(row.values())) if isinstance(row, dict) else row[0])


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
