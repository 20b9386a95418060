"""./build.sh bench line_protocol: InfluxDB line protocol into edge's /write and into InfluxDB 1.x.

The very same bodies go to both servers, in the same run, over one keep-alive connection
each: Telegraf-like lines (a measurement, two tags, --fields float and integer fields, a
timestamp in seconds; --long-floats: floats of up to 17 digits), --lines lines per request,
--requests requests per round, in --rounds rounds taking turns (edge, InfluxDB, ...), each
into a new table or measurement; the best round of each counts. A second row sends the
bodies gzip-compressed, as Telegraf does by default (content_encoding = "gzip").

InfluxDB comes from ../shared/tools/influxdb-peer; without it edge is measured alone.
Target: edge at least 1.5x InfluxDB's points per second.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import EdgeProcess, InfluxPeer, higher_is_better, print_table

EPOCH_S = 1_600_000_000


def bodies(requests: int, lines: int, fields: int, hosts: int = 50, long_floats: bool = False) -> list[bytes]:
    """Request bodies with `{m}` where the measurement goes; each line one host's tick.
    `long_floats`: float fields as a double's shortest repr of up to 17 digits (what
    Telegraf writes for cpu usage), not a few digits."""
    out = []
    tick = 0
    for _ in range(requests):
        text = []
        for i in range(lines):
            host = i % hosts
            if host == 0:
                tick += 1
            values = ",".join(f"f{k}={_float(tick, k, host, long_floats)!r}" if k % 2 == 0 else f"i{k}={tick + k}i"
                              for k in range(fields))
            text.append(f"{{m}},host=h{host:03d},site=plant1 {values} {EPOCH_S + tick}")
        out.append("\n".join(text).encode())
    return out


def _float(tick: int, field: int, host: int, long: bool) -> float:
    if long:
        return (tick * 7919 + field * 104729 + host * 1299709) % 100_003 / 1000.3
    return tick * 0.25 + field + host


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./build.sh bench line_protocol")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--lines", type=int, default=5000, help="lines per request")
    parser.add_argument("--fields", type=int, default=4, help="fields per line")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--long-floats", action="store_true",
                        help="floats of up to 17 digits, as Telegraf writes cpu usage, not a few")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="edge-bench-lp-"))
    edge = EdgeProcess(work / "edge")
    influx = InfluxPeer(work / "influx")
    plain = bodies(args.requests, args.lines, args.fields, long_floats=args.long_floats)
    packed = [gzip.compress(b, 1) for b in plain]
    points = args.requests * args.lines * args.fields
    rows = []
    try:
        edge.start()
        if influx.start() is None:
            print(f"bench: InfluxDB peer unavailable ({influx.problem}); measuring edge alone", file=sys.stderr)
        peers = [edge] + ([influx] if influx.available else [])
        for label, sent, encoding in (("plain", plain, None), ("gzip", packed, "gzip")):
            best = {peer: 0.0 for peer in peers}
            for round_number in range(args.rounds):
                for peer in peers:
                    target = peer.new_target(f"lp_{label}{round_number}")
                    time.sleep(args.settle)
                    rate = send_all(peer, sent, target, encoding, points)
                    print(f"  {label} round {round_number + 1}: {peer.label} {rate:,.0f} points/s", file=sys.stderr)
                    best[peer] = max(best[peer], rate)
            kind = "long floats, " if args.long_floats else ""
            rows.append(higher_is_better(f"line protocol {label}, {kind}{args.lines:,} lines x {args.fields} fields, pts/s",
                                         best[edge], best.get(influx)))
    finally:
        edge.stop()
        influx.stop()
        shutil.rmtree(work, ignore_errors=True)
    print_table(rows)
    return 0


def send_all(peer, sent: list[bytes], target: str, encoding: str | None, points: int) -> float:
    """Points per second writing every body into `target` (the measurement for both: the
    bodies' `{m}` is replaced before the clock starts; gzip bodies are packed again)."""
    if encoding == "gzip":
        ready = [gzip.compress(gzip.decompress(b).replace(b"{m}", target.encode()), 1) for b in sent]
    else:
        ready = [b.replace(b"{m}", target.encode()) for b in sent]
    db = "bench" if isinstance(peer, InfluxPeer) else target
    client = peer.client
    client.reconnect()
    if encoding:
        client.headers = {**client.headers, "Content-Encoding": encoding}
    began = time.perf_counter()
    try:
        for body in ready:
            client.request("POST", f"/write?db={db}&precision=s", body, content_type="text/plain")
    finally:
        client.headers = {k: v for k, v in client.headers.items() if k != "Content-Encoding"}
    return points / (time.perf_counter() - began)
