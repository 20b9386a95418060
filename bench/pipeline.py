"""./build.sh bench pipeline [--files N] [--rows N] [--rounds N] [--keep DIR]

1 million CSV rows (a timestamp and 10 numeric columns) in 100 files, from a local folder to
the historian through the localfile receiver's runtime (parse, transform, store, state), as
the scheduler runs it, against a baseline measured in the same run: Python's csv module just
reading the same files (no conversion, nothing stored). Resident memory is sampled while the
files stream through, to show it stays flat.

The machine is shared, so the measurement is repeated: each round runs the csv baseline, the
parser alone and the pipeline end to end (into a fresh data directory) back to back, and the
table gives the range over the rounds; the end-to-end/csv ratios compare runs of one round.
CPU seconds are the whole process's (every thread), wall seconds the elapsed time.

One untimed end-to-end run comes first. The first run in a process pays once for what an
appliance pays once at start-up: imports, and memory the process (and the page cache it
writes through) has never used, which on these virtual machines costs about 3 ms/MiB to
touch the first time; timed, it made round 1 20-40% slower than the rest.
"""

from __future__ import annotations

import argparse
import csv
import gc
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

COLUMNS = 10


def write_files(folder: Path, files: int, rows: int) -> int:
    """CSV files of `rows` rows each; returns their total size in bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    start = np.datetime64("2024-01-01T00:00:00", "ms")
    total = 0
    for index in range(files):
        times = start + (index * rows + np.arange(rows)) * np.timedelta64(100, "ms")
        stamps = np.datetime_as_string(times, unit="ms")
        values = np.round(rng.normal(500.0, 150.0, size=(rows, COLUMNS)), 3)
        lines = ["timestamp," + ",".join(f"sensor_{c}" for c in range(COLUMNS))]
        body = np.char.add(np.char.add(stamps.astype(str), ","),
                           [",".join(f"{v:.3f}" for v in row) for row in values])
        lines.extend(body.tolist())
        path = folder / f"part_{index:04d}.csv"
        path.write_text("\n".join(lines) + "\n")
        total += path.stat().st_size
    return total


PARSER = {"parser_name": "csv", "parser_type": "spreadsheet", "filter_stream": ["*"],
          "options": {"parse": {"parse_timestamps": [{"field_name": "timestamp", "format": "%Y-%m-%dT%H:%M:%S.%f"}]}}}


def parse_only(folder: Path) -> tuple[int, float, float]:
    """The spreadsheet parser alone over the same files, chunked as the receiver reads them."""
    from edge.system.allocator import keep_freed_memory
    from edge.pipeline.parsers.spreadsheet.parser import SpreadsheetParser
    from edge.pipeline.parsing import Position
    from edge.pipeline.receivers.filecore.receiver import CHUNK_BYTES

    keep_freed_memory()  # as the app does at start-up
    parser = SpreadsheetParser(PARSER)
    rows = 0
    started, cpu = time.perf_counter(), time.process_time()
    for path in sorted(folder.glob("*.csv")):
        with open(path, "rb") as handle:
            position, offset, carry = Position(), 0, b""
            while True:
                block = handle.read(CHUNK_BYTES)
                window = carry + block
                if not window:
                    break
                cut = parser.record_end(window, offset == 0, not block)
                chunk = parser.parse(window[:cut], position, offset == 0)
                position, offset, carry = chunk.position, offset + cut, window[cut:]
                rows += chunk.rows
                if not block:
                    break
    return rows, time.perf_counter() - started, time.process_time() - cpu


def csv_baseline(folder: Path) -> tuple[int, float, float]:
    rows = 0
    started, cpu = time.perf_counter(), time.process_time()
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="") as handle:
            for _ in csv.reader(handle):
                rows += 1
    return rows - len(list(folder.glob("*.csv"))), time.perf_counter() - started, time.process_time() - cpu


class MemorySampler:
    def __init__(self, interval: float = 0.02):
        self.process = psutil.Process()
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._interval = interval

    def _run(self):
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), self.process.memory_info().rss))
            self._stop.wait(self._interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def pipeline_run(folder: Path, data_dir: Path) -> tuple[int, float, float, MemorySampler, list[float]]:
    from edge.catalog import Catalog
    from edge.catalog.historian_ledger import HistorianLedger
    from edge.catalog.markers import Markers
    from edge.catalog.receiver_state import ReceiverState
    from edge.pipeline.receivers.localfile.receiver import LocalFileReceiver
    from edge.pipeline.runtime.context import RECEIVER, ComponentContext
    from edge.pipeline.runtime.ports import Books, ComponentPorts, Historian
    from edge.settings import load_settings
    from edge.store import TagStore

    settings = load_settings(overrides={"DATA_DIR": str(data_dir)})
    catalog = Catalog(data_dir / "catalog.db")
    store = TagStore(catalog, data_dir / "tags")
    ports = ComponentPorts(Historian(store), settings.historian_table,
                           Books(Markers(catalog), ReceiverState(catalog), HistorianLedger(catalog), catalog))

    config = {
        "data_receiver_name": "bench", "protocol": "localfile", "poll_interval": 1,
        "connections": [{"root_path": str(folder)}],
        "parsers": [PARSER],
        "streams": [{"asset": "line1", "stream_type": "sensors", "file_filter": ["*.csv"]}],
    }
    context = ComponentContext(ports, "bench", RECEIVER, config, {"transforms": []}, threading.Event())
    runtime = LocalFileReceiver(context)
    for settler in runtime.settlers:
        settler.settle_seconds = 0.0
    progress: list[float] = []  # RSS after each file
    sink = runtime.sink
    deliver = sink.deliver
    process = psutil.Process()

    def counting(batch, key, warn):
        stored = deliver(batch, key, warn)
        progress.append(process.memory_info().rss)
        return stored

    sink.deliver = counting
    try:
        with MemorySampler() as memory:
            started, cpu = time.perf_counter(), time.process_time()
            result = runtime.poll()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        stored = sum(store.table("TAG").stats(f"line1:sensors:sensor_{c}").count for c in range(COLUMNS))
        assert stored == result.records_out * COLUMNS, (stored, result)
    finally:
        runtime.close()
        store.close()
        catalog.close()
    return result.records_out, elapsed, cpu, memory, progress


def _span(values: list[float], fmt: str) -> str:
    low, high = min(values), max(values)
    return format(low, fmt) if format(low, fmt) == format(high, fmt) else f"{low:{fmt}}-{high:{fmt}}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./build.sh bench pipeline")
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--rows", type=int, default=10_000, help="rows per file")
    parser.add_argument("--rounds", type=int, default=5, help="csv, parser, end to end: this many times")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="edge-bench-pipeline-"))
    names = ("csv module, just reading (baseline)", "edge spreadsheet parser alone",
             "edge localfile -> historian, end to end")
    try:
        folder = work / "in"
        size = write_files(folder, args.files, args.rows)
        csv_baseline(folder)  # warm the page cache for all
        pipeline_run(folder, work / "warm-up")  # see the module docstring
        shutil.rmtree(work / "warm-up", ignore_errors=True)
        rounds = []  # per round: [(rows, wall, cpu)] for the three runs
        memory = progress = None
        for number in range(args.rounds):
            csv_run, parse_run = csv_baseline(folder), parse_only(folder)
            gc.collect()
            data = work / f"data{number}"
            rows, seconds, cpu, memory, progress = pipeline_run(folder, data)
            shutil.rmtree(data, ignore_errors=True)
            rounds.append([csv_run, parse_run, (rows, seconds, cpu)])
        mib = 1 << 20
        rows = rounds[-1][2][0]
        print(f"{args.files} files, {rows:,} rows x {COLUMNS} numeric columns, {size / mib:.1f} MiB of CSV; "
              f"{args.rounds} rounds")
        print()
        print(f"{'':40} {'wall s':>11} {'rows/s (wall)':>21} {'cpu s':>11} {'rows per cpu s':>21}")
        for index, name in enumerate(names):
            runs = [r[index] for r in rounds]
            print(f"{name:40} {_span([w for _, w, _ in runs], '.2f'):>11} "
                  f"{_span([n / w for n, w, _ in runs], ',.0f'):>21} {_span([c for _, _, c in runs], '.2f'):>11} "
                  f"{_span([n / c for n, _, c in runs], ',.0f'):>21}")
        print()
        wall_ratio = [r[0][1] / r[2][1] for r in rounds]
        cpu_ratio = [r[0][2] / r[2][2] for r in rounds]
        print(f"end to end vs csv, same round (rows/s): wall {_span(wall_ratio, '.2f')}x "
              f"(median {statistics.median(wall_ratio):.2f}x, faster in {sum(r > 1 for r in wall_ratio)} "
              f"of {len(rounds)}), cpu {_span(cpu_ratio, '.2f')}x")
        for number, r in enumerate(rounds, start=1):
            print(f"  round {number}: wall csv {r[0][1]:.2f} / parser {r[1][1]:.2f} / end to end {r[2][1]:.2f} s; "
                  f"cpu {r[0][2]:.2f} / {r[1][2]:.2f} / {r[2][2]:.2f} s")
        rss = [value for _, value in memory.samples]
        tenth = progress[len(progress) // 10] if progress else 0
        print(f"resident memory (last round): before {rss[0] / mib:.0f} MiB, after 10% of the files {tenth / mib:.0f} MiB, "
              f"after 100% {progress[-1] / mib:.0f} MiB, peak {max(rss) / mib:.0f} MiB")
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
