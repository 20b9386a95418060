"""./build.sh bench transmit [RECORDS] [--request-records N] [--keep DIR]

A backlog of RECORDS (default 1,000,000) CSV rows (a timestamp and 10 numeric columns, as
`bench pipeline` writes them) is read by the localfile receiver's runtime into the historian
and the outbox of a remotedatapost transmit, then drained by the transmit's runtime to the
cloud stand-in of the tests (a real HTTP server in its own process, on loopback, that un-gzips
and parses every request). Measured in the same run:

- the pipeline's CSV rate without transmit (historian only) and with the outbox (historian +
  outbox), rows/s: the rate the transmit must keep up with;
- the drain: records/s, bytes on the wire per record (gzip bodies), bytes queued per record,
  resident memory of this process while draining (sampled; it should stay flat).

Requests carry `max_request_records` records (`--request-records`, default FactoryTX's 2000);
a request waits for its answer before the next goes, so larger requests amortise the round
trip (the stand-in parses every body, as the cloud would).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

from bench.pipeline import COLUMNS, PARSER, MemorySampler, write_files

ROWS_PER_FILE = 10_000


def pipeline_rate(folder: Path, data_dir: Path, with_transmit: bool,
                  transmit: dict) -> tuple[int, float, float, object]:
    """The localfile receiver over `folder` as the scheduler runs it; (rows, seconds, cpu s, parts)."""
    from edge.catalog import Catalog
    from edge.catalog.historian_ledger import HistorianLedger
    from edge.catalog.markers import Markers
    from edge.catalog.receiver_state import ReceiverState
    from edge.pipeline.outbox.outboxes import Outboxes
    from edge.pipeline.receivers.localfile.receiver import LocalFileReceiver
    from edge.pipeline.runtime.context import RECEIVER, ComponentContext
    from edge.pipeline.runtime.ports import Books, ComponentPorts, Historian
    from edge.settings import load_settings
    from edge.store import TagStore

    settings = load_settings(overrides={"DATA_DIR": str(data_dir)})
    data_dir.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(data_dir / "catalog.db")
    store = TagStore(catalog, data_dir / "tags")
    books = Books(Markers(catalog), ReceiverState(catalog), HistorianLedger(catalog), catalog)
    outboxes = Outboxes(data_dir / "outbox", settings.outbox_max_bytes, books.markers, "bench-device")
    ports = ComponentPorts(Historian(store), settings.historian_table, books, outboxes)
    config = {"data_receiver_name": "bench", "protocol": "localfile", "poll_interval": 1,
              "connections": [{"root_path": str(folder)}], "parsers": [PARSER],
              "streams": [{"asset": "line1", "stream_type": "sensors", "file_filter": ["*.csv"]}]}
    full = {"transforms": [], "data_receiver": [config], "data_transmit": [transmit] if with_transmit else []}
    runtime = LocalFileReceiver(ComponentContext(ports, "bench", RECEIVER, config, full, threading.Event()))
    for settler in runtime.settlers:
        settler.settle_seconds = 0.0
    started, cpu = time.perf_counter(), time.process_time()
    result = runtime.poll()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    runtime.close()
    return result.records_out, elapsed, cpu, (catalog, store, outboxes, ports, transmit)


def transmit_config(base_url: str, request_records: int) -> dict:
    from tests.integration.peers.cloud_standin import KEY, KEY_ID

    return {"transmit_name": "cloud", "transmit_type": "remotedatapost", "base_url": base_url,
            "API_key_ID": KEY_ID, "API_key": KEY, "poll_interval": 1, "max_request_records": request_records}


def drain(parts) -> tuple[int, float, float, MemorySampler, int]:
    from edge.pipeline.runtime.context import TRANSMIT, ComponentContext
    from edge.pipeline.transmits.remotedatapost.transmit import RemoteDataPostTransmit

    catalog, store, outboxes, ports, transmit = parts
    outbox = outboxes.outbox("cloud")
    queued_bytes = outbox.status()["bytes_queued"]
    runtime = RemoteDataPostTransmit(ComponentContext(ports, "cloud", TRANSMIT, transmit, {"data_transmit": [transmit]},
                                                      threading.Event()))
    sent = 0
    with MemorySampler(0.05) as memory:
        started, cpu = time.perf_counter(), time.process_time()
        while outbox.status()["records_queued"]:
            sent += runtime.poll().records_out
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    runtime.close()
    return sent, elapsed, cpu, memory, queued_bytes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./build.sh bench transmit")
    parser.add_argument("records", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--request-records", type=int, default=2000, help="max_request_records of the transmit")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="edge-bench-transmit-"))
    repo = Path(__file__).resolve().parent.parent
    cloud = subprocess.Popen([sys.executable, "-m", "tests.integration.peers.cloud_standin"], cwd=repo,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        transmit = transmit_config(f"http://127.0.0.1:{int(cloud.stdout.readline())}", args.request_records)
        base_url = transmit["base_url"]
        files = max(1, args.records // ROWS_PER_FILE)
        folder = work / "in"
        size = write_files(folder, files, min(args.records, ROWS_PER_FILE))
        for part in pipeline_rate(folder, work / "warm-up", False, transmit)[3][2::-1]:  # imports, page cache
            part.close()
        shutil.rmtree(work / "warm-up", ignore_errors=True)
        rows_alone, seconds_alone, cpu_alone, parts = pipeline_rate(folder, work / "alone", False, transmit)
        for part in parts[2::-1]:
            part.close()
        rows, seconds, cpu_pipeline, parts = pipeline_rate(folder, work / "data", True, transmit)
        sent, drained, cpu, memory, queued_bytes = drain(parts)
        with urllib.request.urlopen(base_url + "/stats") as answer:
            stats = json.loads(answer.read())
        assert sent == rows == stats["records"], (sent, rows, stats)
        cloud_cpu = psutil.Process(cloud.pid).cpu_times()
        mib = 1 << 20
        rss = [value for _, value in memory.samples]
        print(f"{files} files, {rows:,} rows x ({COLUMNS} numbers + a timestamp), {size / mib:.1f} MiB of CSV")
        print()
        print(f"{'':46} {'records':>10} {'wall s':>7} {'records/s':>10} {'cpu s':>6} {'per cpu s':>10}")
        for name, count, wall, used in (
                ("pipeline CSV -> historian (no transmit)", rows_alone, seconds_alone, cpu_alone),
                ("pipeline CSV -> historian + outbox", rows, seconds, cpu_pipeline),
                ("transmit: outbox -> cloud stand-in", sent, drained, cpu)):
            print(f"{name:46} {count:>10,} {wall:>7.2f} {count / wall:>10,.0f} {used:>6.2f} {count / used:>10,.0f}")
        print()
        print(f"transmit vs pipeline with outbox: {(sent / drained) / (rows / seconds):.2f}x records/s (wall), "
              f"{(sent / cpu) / (rows / cpu_pipeline):.2f}x records per cpu s; the stand-in used "
              f"{cloud_cpu.user + cloud_cpu.system:.2f} cpu s in its own process; load average "
              f"{psutil.getloadavg()[0]:.1f} on {psutil.cpu_count()} cpus")
        print(f"on the wire: {stats['wire_bytes'] / sent:.1f} bytes/record (gzip JSON, {stats['requests']:,} requests "
              f"of up to {args.request_records:,} records); "
              f"queued: {queued_bytes / sent:.1f} bytes/record; CSV: {size / rows:.1f} bytes/row")
        print(f"resident memory while draining: start {rss[0] / mib:.0f} MiB, peak {max(rss) / mib:.0f} MiB, "
              f"end {rss[-1] / mib:.0f} MiB")
        for part in parts[2::-1]:
            part.close()
        return 0
    finally:
        cloud.stdin.close()
        cloud.wait(10)
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
