"""./build.sh bench modbus [--registers N] [--seconds S] [--rounds N] [--stored N] [--streams N]

A pymodbus TCP server (tests/integration/peers/modbus_server.py, a child process so it does not
share this interpreter) with 10,000 holding registers. Reading all of them once is one poll:

- planned: the modbus receiver's read plan (`plan.plan_reads`: 125 registers per request) and
  its decoding, on its client;
- naive: the same client reading one register per request, as a loop over the configured
  registers without planning would;
- receiver: the receiver's whole poll as the scheduler runs it (planned reads, decoding, one
  record per stream stored in the historian of a fresh data directory) for the first --stored
  registers (default all 10,000) spread over --streams streams: each register is a tag, which
  the tag store writes and reads within its open-file budget.

The machine is shared, so the three ways run back to back in each of --rounds rounds, each for
--seconds (at least one poll), against the same server; the table gives the median and range
of polls per second over the rounds, requests per poll, and the planned/naive ratio of each
round.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench._measure import free_port

REPO = Path(__file__).resolve().parent.parent


def start_server(port: int, size: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "tests.integration.peers.modbus_server", "--port", str(port),
                                "--size", str(size)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        raise RuntimeError("the modbus server did not start")
    return process


def registers(count: int, streams: int) -> list[dict]:
    per = -(-count // streams)
    return [{"asset": f"rack_{s}", "stream_type": "registers", "registers": [
        {"exportname": f"r{a}", "table": "holding", "address": a} for a in range(s * per, min(count, (s + 1) * per))]}
        for s in range(streams)]


def timed_polls(poll, seconds: float) -> tuple[int, float]:
    """(polls, seconds taken) of calling poll() until `seconds` have passed (at least once)."""
    began = time.perf_counter()
    polls = 0
    while True:
        poll()
        polls += 1
        elapsed = time.perf_counter() - began
        if elapsed >= seconds:
            return polls, elapsed


def client_polls(port: int, count: int, seconds: float, planned: bool) -> tuple[int, float, int]:
    from edge.pipeline.receivers.modbus.decode import Point, decoders_for
    from edge.pipeline.receivers.modbus.plan import Span, naive_reads, plan_reads
    from edge.pipeline.receivers.modbus.receiver import ModbusClient

    points = [Point(0, f"r{a}", Span(1, "holding", a, 1), "uint16") for a in range(count)]
    spans = [p.span for p in points]
    requests = plan_reads(spans) if planned else naive_reads(spans)
    decoders = decoders_for(requests, points)
    client = ModbusClient({"transport": "tcp", "host": "127.0.0.1", "port": port, "timeout": 5})
    values: dict[str, int] = {}

    def poll():
        for decoder in decoders:
            for point, value in decoder.decode(client.read(decoder.request)):
                values[point.field] = value

    try:
        polls, elapsed = timed_polls(poll, seconds)
    finally:
        client.close()
    assert values["r1"] == 1 and len(values) == count, "the server's registers hold their address"
    return polls, elapsed, len(requests)


def receiver_polls(port: int, count: int, streams: int, seconds: float, data_dir: Path) -> tuple[int, float, int]:
    from edge.catalog import Catalog
    from edge.catalog.historian_ledger import HistorianLedger
    from edge.catalog.markers import Markers
    from edge.catalog.receiver_state import ReceiverState
    from edge.pipeline.receivers.modbus.receiver import ModbusReceiver
    from edge.pipeline.runtime.context import RECEIVER, ComponentContext
    from edge.pipeline.runtime.ports import Books, ComponentPorts, Historian
    from edge.settings import load_settings
    from edge.store import TagStore

    settings = load_settings(overrides={"DATA_DIR": str(data_dir)})
    catalog = Catalog(data_dir / "catalog.db")
    store = TagStore(catalog, data_dir / "tags")
    ports = ComponentPorts(Historian(store), settings.historian_table,
                           Books(Markers(catalog), ReceiverState(catalog), HistorianLedger(catalog), catalog))
    config = {"data_receiver_name": "bench", "protocol": "modbus", "poll_interval": 1,
              "connections": [{"host": "127.0.0.1", "port": port, "timeout": 5}],
              "streams": registers(count, streams)}
    runtime = ModbusReceiver(ComponentContext(ports, "bench", RECEIVER, config, {"transforms": []},
                                              threading.Event()))
    stored = []
    try:
        polls, elapsed = timed_polls(lambda: stored.append(runtime.poll().records_out), seconds)
        requests = len(runtime.requests)
    finally:
        runtime.close()
        store.close()
        catalog.close()
    assert all(n == streams for n in stored), f"every poll stores one record per stream, got {set(stored)}"
    return polls, elapsed, requests


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./build.sh bench modbus", description=__doc__.splitlines()[0])
    parser.add_argument("--registers", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=3.0, help="time each way is measured for, per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all three ways, back to back")
    parser.add_argument("--stored", type=int, default=10_000, help="registers the receiver row reads and stores")
    parser.add_argument("--streams", type=int, default=10, help="streams the receiver row spreads them on")
    args = parser.parse_args(argv)
    names = ("planned reads (receiver's plan + decode)", "naive: one request per register",
             f"receiver poll: {args.stored} stored, {args.streams} streams")
    rates: dict[str, list[float]] = {name: [] for name in names}
    ratios: list[float] = []
    requests: dict[str, int] = {}
    port = free_port()
    server = start_server(port, args.registers)
    try:
        for _ in range(args.rounds):
            results = [client_polls(port, args.registers, args.seconds, True),
                       client_polls(port, args.registers, args.seconds, False)]
            with tempfile.TemporaryDirectory(prefix="edge-bench-modbus-") as folder:
                results.append(receiver_polls(port, args.stored, args.streams, args.seconds, Path(folder)))
            for name, (polls, elapsed, count) in zip(names, results):
                rates[name].append(polls / elapsed)
                requests[name] = count
            ratios.append(rates[names[0]][-1] / rates[names[1]][-1])
    finally:
        server.kill()
        server.wait()
    print(f"{args.registers} holding registers on a pymodbus TCP server (loopback); {args.rounds} round(s), "
          f"each way ~{args.seconds:g} s (at least one poll) per round")
    print(f"{'way':44} {'polls/s median':>15} {'range':>17} {'requests/poll':>14} {'ms/poll':>9}")
    for name in names:
        median = statistics.median(rates[name])
        span = f"{min(rates[name]):.2f}-{max(rates[name]):.2f}"
        print(f"{name:44} {median:>15.2f} {span:>17} {requests[name]:>14} {1e3 / median:>9.1f}")
    print(f"planned reads poll {statistics.median(ratios):.0f}x as often as the naive loop "
          f"(per round: {', '.join(f'{r:.0f}x' for r in ratios)})")
    return 0
