"""./build.sh bench opcua [--items N] [--hz F] [--seconds S] [--poll S]

1,000 OPC UA variables changing 10 times a second on an asyncua server (the test plant, in a
process of its own), received by subscription for `--seconds` (default 60):

- edge: the opcua receiver's runtime in subscribe mode (sampling 100 ms), driven as the
  scheduler drives it (a pass every `--poll` s), every change stored in the historian of a
  fresh data directory;
- bare: a plain asyncua client on the same items (same sampling, same queue), counting the
  changes it receives and nothing more, measured in the same run right after.

For each: changes the server made vs changes received (stored, for edge), throughput, the lag
from a change's source timestamp to when it was received (bare) or stored in the historian
(edge), p50 and p99, and the CPU share of this process (all its threads; the server's process
is not counted) over the ticking and a 3 s drain.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

DRAIN_SECONDS = 3.0
logging.getLogger("asyncua").setLevel(logging.CRITICAL)  # a closing client logs its publish loop ending


@dataclasses.dataclass
class Outcome:
    changed: int
    received: int
    lags_ms: np.ndarray
    cpu_seconds: float
    wall_seconds: float


class Plant:
    """The test plant's server in a child process, told when to tick."""

    def __init__(self, items: int, hz: float):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.peers.opcua_server", "--items", str(items), "--hz", str(hz)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
        self.port = int(self.process.stdout.readline())

    def tick(self) -> None:
        self.process.stdin.write("tick\n")
        self.process.stdin.flush()

    def stop(self) -> int:
        """Stops the ticking; the changes it made."""
        self.process.stdin.write("stop\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(30)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_edge(plant: Plant, items: int, seconds: float, poll: float, folder: Path) -> Outcome:
    from edge.catalog import Catalog
    from edge.catalog.historian_ledger import HistorianLedger
    from edge.catalog.markers import Markers
    from edge.catalog.receiver_state import ReceiverState
    from edge.pipeline.receivers.opcua.receiver import OpcuaReceiver
    from edge.pipeline.runtime.context import RECEIVER, ComponentContext
    from edge.pipeline.runtime.ports import Books, ComponentPorts, Historian
    from edge.store import TagStore

    catalog = Catalog(folder / "catalog.db")
    store = TagStore(catalog, folder / "tags")
    ports = ComponentPorts(Historian(store), "TAG", Books(Markers(catalog), ReceiverState(catalog),
                                                         HistorianLedger(catalog), catalog), data_dir=folder)
    config = {"data_receiver_name": "plc", "protocol": "opcua", "mode": "subscribe", "poll_interval": poll,
              "sampling_interval_ms": 100, "queue_size": 10,
              "connections": [{"host": "127.0.0.1", "port": plant.port, "timeout": 10}],
              "streams": [{"asset": "plant", "stream_type": "bench",
                           "opcua_tags": [{"name": f"Bench.{i}", "exportname": f"c{i}"} for i in range(items)]}]}
    stop = threading.Event()
    runtime = OpcuaReceiver(ComponentContext(ports, "plc", RECEIVER, config,
                                             {"data_receiver": [config], "transforms": [], "data_transmit": []}, stop))
    lags: list[np.ndarray] = []

    class LagSink:  # beside the historian: when each change (a value of a record) was stored
        def deliver(self, batch, key, warn):
            now = time.time_ns()
            lag = (now - batch.fields["timestamp"].view(np.int64)) / 1e6
            values = np.stack([v for k, v in batch.fields.items() if k != "timestamp"])
            lags.append(np.repeat(lag, np.isfinite(values).sum(axis=0)))
            return len(batch)

    runtime.records.sinks.append(LagSink())
    deadline = time.monotonic() + 60
    while sum(len(lag) for lag in lags) < items and time.monotonic() < deadline:  # the current values stored
        runtime.poll()
        time.sleep(poll)
    lags.clear()
    cpu, began = cpu_seconds(), time.monotonic()
    plant.tick()
    end = began + seconds
    changed = None
    while True:
        now = time.monotonic()
        if changed is None and now >= end:
            changed = plant.stop()
        if changed is not None and now >= end + DRAIN_SECONDS:
            break
        runtime.poll()
        time.sleep(max(0.0, poll - (time.monotonic() - now)))
    stored = np.concatenate(lags) if lags else np.zeros(0)
    outcome = Outcome(changed, len(stored), stored, cpu_seconds() - cpu, time.monotonic() - began)
    stop.set()
    runtime.close()
    store.close()
    catalog.close()
    return outcome


def run_bare(plant: Plant, items: int, seconds: float) -> Outcome:
    from asyncua import Client, ua
    from asyncua.common.subscription import DataChangeEvent, OverflowPolicy

    received: list[int] = []  # lag of each change, ns
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    # The same timeouts as the edge receiver's (its connection's timeout: 10 s).
    client = Client(f"opc.tcp://127.0.0.1:{plant.port}/", timeout=10, watchdog_intervall=10)

    async def subscribe():
        await client.connect()
        ns = await client.get_namespace_index("urn:edge:test-plant")
        subscription = await client.create_subscription(100, handler=None, queue_maxsize=200_000,
                                                        overflow=OverflowPolicy.DISCONNECT)
        requests = []
        for i in range(items):
            parameters = ua.MonitoringParameters(ClientHandle=i + 1, SamplingInterval=100, QueueSize=10,
                                                 DiscardOldest=True)
            requests.append(ua.MonitoredItemCreateRequest(
                ItemToMonitor=ua.ReadValueId(NodeId=ua.NodeId(f"Bench.{i}", ns), AttributeId=ua.AttributeIds.Value),
                MonitoringMode=ua.MonitoringMode.Reporting, RequestedParameters=parameters))
        await subscription.create_monitored_items(requests)
        for _ in range(items):  # the current values first
            await subscription.next_event(10)
        return asyncio.get_running_loop().create_task(count(subscription))

    async def count(subscription):
        async for event in subscription:
            if isinstance(event, DataChangeEvent):
                stamp = event.data.monitored_item.Value.SourceTimestamp
                received.append(time.time_ns() - int(stamp.timestamp() * 1e9))

    async def finish(counting):
        counting.cancel()
        await client.disconnect()

    counting = asyncio.run_coroutine_threadsafe(subscribe(), loop).result(120)
    cpu, began = cpu_seconds(), time.monotonic()
    plant.tick()
    time.sleep(seconds)
    changed = plant.stop()
    time.sleep(DRAIN_SECONDS)
    count_now = len(received)
    outcome = Outcome(changed, count_now, np.array(received[:count_now]) / 1e6, cpu_seconds() - cpu,
                      time.monotonic() - began)
    asyncio.run_coroutine_threadsafe(finish(counting), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    return outcome


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./build.sh bench opcua")
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--hz", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between the receiver's passes")
    args = parser.parse_args(argv)
    plant = Plant(args.items, args.hz)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-opcua-") as folder:
            edge = run_edge(plant, args.items, args.seconds, args.poll, Path(folder))
        bare = run_bare(plant, args.items, args.seconds)
    finally:
        plant.close()
    print(f"OPC UA subscription: {args.items} items changing at {args.hz:g} Hz for {args.seconds:g} s "
          f"(+{DRAIN_SECONDS:g} s drain); edge passes every {args.poll:g} s")
    print(f"{'client':<26}{'changed':>10}{'received':>10}{'share':>8}{'per s':>9}{'lag p50':>10}{'lag p99':>10}"
          f"{'CPU':>7}")
    for name, outcome in (("edge (stored in historian)", edge), ("bare asyncua client", bare)):
        lags = outcome.lags_ms if len(outcome.lags_ms) else np.zeros(1)
        print(f"{name:<26}{outcome.changed:>10}{outcome.received:>10}"
              f"{outcome.received / max(outcome.changed, 1):>8.1%}{outcome.received / args.seconds:>9.0f}"
              f"{np.percentile(lags, 50):>8.0f}ms{np.percentile(lags, 99):>8.0f}ms"
              f"{outcome.cpu_seconds / outcome.wall_seconds:>7.0%}")
    print(f"edge / bare throughput: {edge.received / max(bare.received, 1):.2f}x")
    return 0
