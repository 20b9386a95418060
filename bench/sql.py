"""./build.sh bench sql: SQL over a tag of 10M points, against InfluxDB 1.x and plain SQLite.

One tag `big`, one point a second (10M points: 116 days), the same data in three places:
  edge tag     the tag table TAG, queried with SQL through /machbase (the store behind it)
  edge SQLite  a log table PLAIN (name, time, value) in edge's data.db with an index on
               (name, time), queried with the same SQL through the same /machbase
  InfluxDB     measurement m, tag `name`, field `value`, queried with InfluxQL over HTTP
Queries (median of several runs, milliseconds, each over HTTP on loopback, one keep-alive
connection per server; timed until the whole answer is read, parsed once untimed to check it):
  range    the 1,000 points of a random 1,000 s range (SELECT * ... BETWEEN)
  whole    count, min and max of value over the whole tag
  rollup   one day of 1-minute averages: ROLLUP('min', 1, time) ... GROUP BY
On the plain table the minute bucket is SQLite's own integer arithmetic, (time / 60e9) * 60e9,
not a function written in Python. The same queries also run in process (no HTTP, no JSON)
through edge's SQL engine, and on the plain SQLite table through apsw directly.
Options: --points N (default 10,000,000) --runs N --dir PATH --keep --no-influx.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np

from bench._measure import free_port, median_ms

SECOND = 10**9
DAY = 86400 * SECOND
EPOCH = 1_600_041_600 * SECOND  # 2020-09-14 00:00:00 UTC
PASSWORD = "bench-password"
REPO = Path(__file__).resolve().parent.parent
INFLUX_PEER = REPO.parent / "shared" / "tools" / "influxdb-peer"
LOAD_BATCH = 200_000


def point_batches(points: int):
    rng = np.random.default_rng(7)
    for start in range(0, points, LOAD_BATCH):
        n = min(LOAD_BATCH, points - start)
        yield EPOCH + np.arange(start, start + n, dtype=np.int64) * SECOND, np.round(rng.normal(50, 10, n), 3)


class Queries:
    """The three queries for one place, given the range start of run i."""

    def __init__(self, points: int, runs: int):
        rng = np.random.default_rng(11)
        self.starts = [int(EPOCH + s * SECOND) for s in rng.integers(0, points - 1000, runs)]
        days = max(1, points * SECOND // DAY)
        self.day = EPOCH + (days // 2) * DAY

    def sql(self, table: str, i: int) -> dict:
        start = self.starts[i % len(self.starts)]
        # On the plain table the minute is SQLite's own arithmetic, not a Python function.
        minute = "rollup('min', 1, time)" if table == "tag" else f"(time / {60 * SECOND}) * {60 * SECOND}"
        return {
            "range": f"select * from {table} where name = 'big' and time between {start} and {start + 999 * SECOND}",
            "whole": f"select count(*), min(value), max(value) from {table} where name = 'big'",
            "rollup": (f"select {minute} m, avg(value) from {table} where name = 'big' "
                       f"and time >= {self.day} and time < {self.day + DAY} group by m order by m"),
        }

    def influxql(self, i: int) -> dict:
        start = self.starts[i % len(self.starts)]
        return {
            "range": (f"SELECT value FROM m WHERE \"name\" = 'big' AND time >= {start} "
                      f"AND time <= {start + 999 * SECOND}"),
            "whole": "SELECT count(value), min(value), max(value) FROM m WHERE \"name\" = 'big'",
            "rollup": (f"SELECT mean(value) FROM m WHERE \"name\" = 'big' AND time >= {self.day} "
                       f"AND time < {self.day + DAY} GROUP BY time(1m)"),
        }


RUNS = {"range": 1.0, "whole": 0.1, "rollup": 0.4}  # share of --runs per query (whole scans are slow)
EXPECTED_ROWS = {"range": 1000, "whole": 1, "rollup": 1440}


def runs_of(kind: str, runs: int) -> int:
    return max(3, int(runs * RUNS[kind]))


# ---- loading -----------------------------------------------------------------------------------

def load_edge(data: Path, points: int) -> None:
    """The tag `big` into the store, the same rows into log table PLAIN with its index."""
    import apsw

    from edge.catalog import Catalog
    from edge.settings import load_settings
    from edge.sql.engine import SqlEngine
    from edge.store import TagStore

    settings = load_settings(None, {"DATA_DIR": str(data), "TIMEZONE": "UTC", "REQUEST_TIMEOUT_MS": "600000"})
    data.mkdir(parents=True)
    catalog = Catalog(data / "catalog.db")
    store = TagStore(catalog, data / "tags")
    engine = SqlEngine(store, settings)
    engine.execute("create table plain (name varchar(20), time datetime, value double)")
    table = store.table("TAG")
    conn = apsw.Connection(str(data / "data.db"))
    conn.execute("PRAGMA journal_mode=WAL")
    for times, values in point_batches(points):
        table.append(np.full(len(times), "big", dtype=object), times, values)
        with conn:
            conn.executemany("INSERT INTO PLAIN VALUES ('big', ?, ?)", zip(times.tolist(), values.tolist()))
    conn.close()
    engine.execute("create index plain_name_time on plain (name, time)")
    engine.close()
    store.close()
    catalog.close()


def load_influx(url: str, points: int) -> None:
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=600)
    for times, values in point_batches(points):
        for start in range(0, len(times), 10_000):
            body = "\n".join(f"m,name=big value={v} {t}" for t, v in
                             zip(times[start:start + 10_000].tolist(), values[start:start + 10_000].tolist()))
            conn.request("POST", "/write?db=bench&precision=n", body.encode())
            response = conn.getresponse()
            response.read()
            if response.status != 204:
                raise RuntimeError(f"InfluxDB refused a write: {response.status}")
    conn.close()


# ---- measuring -----------------------------------------------------------------------------------

def in_process(data: Path, queries: Queries, runs: int) -> dict:
    import apsw

    from edge.catalog import Catalog
    from edge.settings import load_settings
    from edge.sql.engine import SqlEngine
    from edge.store import TagStore

    settings = load_settings(None, {"DATA_DIR": str(data), "TIMEZONE": "UTC", "REQUEST_TIMEOUT_MS": "600000"})
    catalog = Catalog(data / "catalog.db")
    store = TagStore(catalog, data / "tags")
    engine = SqlEngine(store, settings)
    conn = apsw.Connection(str(data / "data.db"))
    out = {}
    try:
        for kind in RUNS:
            n = runs_of(kind, runs)
            check = engine.execute(queries.sql("tag", 0)[kind]).result.rows
            assert check == EXPECTED_ROWS[kind], (kind, check)
            out[("tag", kind)] = median_ms(lambda i: engine.execute(queries.sql("tag", i)[kind]), n)
            out[("engine-plain", kind)] = median_ms(lambda i: engine.execute(queries.sql("plain", i)[kind]), n)
            out[("apsw-plain", kind)] = median_ms(lambda i: conn.execute(queries.sql("plain", i)[kind]).fetchall(), n)
    finally:
        conn.close()
        engine.close()
        store.close()
        catalog.close()
    return out


class EdgeServer:
    def __init__(self, data: Path):
        self.port = free_port()
        conf = data.parent / "edge.conf"
        conf.write_text("REQUEST_TIMEOUT_MS = 600000\nTIMEZONE = UTC\n")
        env = {**os.environ, "EDGE_ADMIN_PASSWORD": PASSWORD}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edge", "serve", "--config", str(conf), "--data-dir", str(data),
             "--http-port", str(self.port), "--bind", "127.0.0.1"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("edge serve did not open its port")
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        self.auth = "Basic " + base64.b64encode(f"sys@localhost:{PASSWORD}".encode()).decode()

    def fetch(self, sql: str) -> bytes:
        """The response body (timed: the server's work and the transfer, not the client's parsing)."""
        self.conn.request("GET", "/machbase?" + urllib.parse.urlencode({"q": sql}),
                          headers={"Authorization": self.auth})
        return self.conn.getresponse().read()

    def query(self, sql: str) -> dict:
        body = json.loads(self.fetch(sql))
        if body.get("error_code"):
            raise RuntimeError(f"edge answered {body}")
        return body

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def over_http(data: Path, queries: Queries, runs: int) -> dict:
    server = EdgeServer(data)
    out = {}
    try:
        for kind in RUNS:
            n = runs_of(kind, runs)
            for table in ("tag", "plain"):
                rows = len(server.query(queries.sql(table, 0)[kind])["data"])
                assert rows == EXPECTED_ROWS[kind], (table, kind, rows)
                out[(table, kind)] = median_ms(lambda i: server.fetch(queries.sql(table, i)[kind]), n)
    finally:
        server.stop()
    return out


def influx(work: Path, points: int, queries: Queries, runs: int) -> dict:
    port = free_port()
    folder = work / "influx"
    started = subprocess.run([str(INFLUX_PEER), "start", str(folder), str(port)], capture_output=True, text=True)
    if started.returncode != 0:
        raise RuntimeError(f"influxdb-peer failed: {started.stderr}")
    url = started.stdout.strip().splitlines()[-1]
    out = {}
    try:
        began = time.perf_counter()
        load_influx(url, points)
        print(f"  InfluxDB loaded in {time.perf_counter() - began:.0f} s", flush=True)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

        def fetch(text: str) -> bytes:
            conn.request("GET", "/query?" + urllib.parse.urlencode({"db": "bench", "q": text, "epoch": "ns"}))
            return conn.getresponse().read()

        def query(text: str) -> dict:
            body = json.loads(fetch(text))
            if "results" not in body or "error" in body["results"][0]:
                raise RuntimeError(f"InfluxDB answered {body}")
            return body

        for kind in RUNS:
            series = query(queries.influxql(0)[kind])["results"][0].get("series", [{}])[0]
            got = len([v for v in series.get("values", []) if v[1] is not None])
            assert got == EXPECTED_ROWS[kind], (kind, got)
            out[kind] = median_ms(lambda i: fetch(queries.influxql(i)[kind]), runs_of(kind, runs))
        conn.close()
    finally:
        subprocess.run([str(INFLUX_PEER), "stop", str(folder)], capture_output=True)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./build.sh bench sql")
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the data (default: a temp dir)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-influx", action="store_true", help="skip InfluxDB (it is installed on first use)")
    args = parser.parse_args(argv)
    if args.points < 2 * 86400:
        parser.error("--points must cover two days at least (172800)")
    work = Path(tempfile.mkdtemp(prefix="edge-bench-sql-", dir=args.dir))
    queries = Queries(args.points, args.runs)
    try:
        print(f"sql: 1 tag x {args.points:,} points (one a second) in {work}", flush=True)
        began = time.perf_counter()
        load_edge(work / "edge", args.points)
        print(f"  edge loaded (tag + plain SQLite table with index) in {time.perf_counter() - began:.0f} s", flush=True)
        local = in_process(work / "edge", queries, args.runs)
        remote = over_http(work / "edge", queries, args.runs)
        peer = {} if args.no_influx else influx(work, args.points, queries, args.runs)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print("median ms; HTTP: /machbase or InfluxDB /query on loopback, JSON out")
    header = f"{'query':<42}{'edge tag':>10}{'edge SQLite':>13}{'InfluxDB':>10}"
    print(header)
    print("-" * len(header))
    titles = {"range": "1,000-row time range (SELECT *)", "whole": "count/min/max over the whole tag",
              "rollup": "ROLLUP('min', 1, time) avg over a day"}
    for kind, title in titles.items():
        influx_ms = f"{peer[kind]:>10.2f}" if kind in peer else f"{'-':>10}"
        print(f"{title:<42}{remote[('tag', kind)]:>10.2f}{remote[('plain', kind)]:>13.2f}{influx_ms}")
    print()
    print("median ms in process (no HTTP): edge's SQL engine on each table, and apsw on the plain table")
    header = f"{'query':<42}{'engine tag':>12}{'engine SQLite':>15}{'apsw SQLite':>13}"
    print(header)
    print("-" * len(header))
    for kind, title in titles.items():
        print(f"{title:<42}{local[('tag', kind)]:>12.3f}{local[('engine-plain', kind)]:>15.3f}"
              f"{local[('apsw-plain', kind)]:>13.3f}")
    return 0
