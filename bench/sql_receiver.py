"""./build.sh bench sql_receiver [--rows N] [--rounds N]

1 million rows (an id, a timestamptz and 10 float columns) in a real PostgreSQL 15 on
loopback (the test peer, started here), read by the SQL receiver's runtime end to end (query,
fetch in chunks, batches, state, intents, historian) next to plain driver loops that only
fetch the same rows through the same kind of server-side cursor (DECLARE ... FETCH FORWARD
10000): pg8000 (the receiver's driver) and, when it is installed, psycopg 3 (named cursor,
fetchmany 10000) for the choice of driver.

Each run is its own child process, so its resident memory is its own: the table gives the
RSS at the start of the run and its peak while rows stream through (flat means the peak does
not grow with the row count). Rounds alternate the runs; the table gives the range.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

COLUMNS = 10
CHUNK = 10_000
QUERY = "SELECT * FROM bench_rows WHERE id > :id ORDER BY id"
PLAIN = "SELECT * FROM bench_rows WHERE id > 0 ORDER BY id"


class PeakRss:
    """Samples this process's resident memory every 20 ms."""

    def __init__(self):
        import psutil

        self._process = psutil.Process()
        self.start = self._process.memory_info().rss
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# -- the runs (each in a child process) -----------------------------------------------------------

def run_pg8000(connection: dict, _work: Path) -> int:
    import pg8000.native

    conn = pg8000.native.Connection(user=connection["username"], password=connection["password"],
                                    host=connection["host"], port=connection["port"],
                                    database=connection["database_name"])
    rows = 0
    conn.run("BEGIN READ ONLY")
    conn.run(f"DECLARE c NO SCROLL CURSOR FOR {PLAIN}")
    while True:
        chunk = conn.run(f"FETCH FORWARD {CHUNK} FROM c")
        if not chunk:
            break
        rows += len(chunk)
    conn.run("ROLLBACK")
    conn.close()
    return rows


def run_psycopg(connection: dict, _work: Path) -> int:
    import psycopg

    conn = psycopg.connect(host=connection["host"], port=connection["port"], user=connection["username"],
                           password=connection["password"], dbname=connection["database_name"])
    rows = 0
    with conn.transaction(), conn.cursor(name="c") as cursor:
        cursor.execute(PLAIN)
        while True:
            chunk = cursor.fetchmany(CHUNK)
            if not chunk:
                break
            rows += len(chunk)
    conn.close()
    return rows


def run_receiver(connection: dict, work: Path) -> int:
    from edge.catalog import Catalog
    from edge.catalog.historian_ledger import HistorianLedger
    from edge.catalog.markers import Markers
    from edge.catalog.receiver_state import ReceiverState
    from edge.pipeline.receivers.sql.receiver import SqlReceiver
    from edge.pipeline.runtime.context import RECEIVER, ComponentContext
    from edge.pipeline.runtime.ports import Books, ComponentPorts, Historian
    from edge.settings import load_settings
    from edge.store import TagStore
    from edge.system.allocator import keep_freed_memory

    keep_freed_memory()  # as the app does at start-up
    data_dir = work / "data"
    settings = load_settings(overrides={"DATA_DIR": str(data_dir)})
    catalog = Catalog(data_dir / "catalog.db")
    store = TagStore(catalog, data_dir / "tags")
    ports = ComponentPorts(Historian(store), settings.historian_table,
                           Books(Markers(catalog), ReceiverState(catalog), HistorianLedger(catalog), catalog))
    config = {"data_receiver_name": "bench", "protocol": "sql", "poll_interval": 1, "connections": [connection],
              "streams": [{"asset": "line1", "stream_type": "sensors", "query": QUERY,
                           "state_fields": [{"column_name": "id", "data_type": "integer"}]}]}
    context = ComponentContext(ports, "bench", RECEIVER, config, {"transforms": []}, threading.Event())
    runtime = SqlReceiver(context)
    try:
        result = runtime.poll()
        stored = sum(store.table("TAG").stats(f"line1:sensors:c{c}").count for c in range(COLUMNS))
        assert stored == result.records_out * COLUMNS, (stored, result)
        assert not ports.books.markers.for_stream("line1", "sensors")
    finally:
        runtime.close()
        store.close()
        catalog.close()
    return result.records_out


RUNS = {"pg8000": run_pg8000, "psycopg": run_psycopg, "receiver": run_receiver}
NAMES = {"pg8000": "pg8000 fetch loop (baseline, the receiver's driver)",
         "psycopg": "psycopg 3 fetch loop (binary wheel)",
         "receiver": "edge SQL receiver -> historian, end to end"}


def child(run: str, connection: dict, work: Path) -> None:
    """One run, measured; prints its figures as JSON on the last line."""
    if run == "receiver":  # imports and the store's first files are not part of the figure
        import edge.pipeline.receivers.sql.receiver  # noqa: F401
    with PeakRss() as memory:
        started, cpu = time.perf_counter(), time.process_time()
        rows = RUNS[run](connection, work)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"rows": rows, "wall": wall, "cpu": cpu, "rss_start": memory.start, "rss_peak": memory.peak}))


def measure(run: str, connection: dict, work: Path) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    output = subprocess.run([sys.executable, "-m", "bench", "sql_receiver", "--child", run, "--connection",
                             json.dumps(connection), "--work", str(work)], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent.parent, env={**os.environ})
    if output.returncode != 0:
        raise RuntimeError(f"{run} failed:\n{output.stdout[-2000:]}\n{output.stderr[-4000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def _span(values, fmt: str) -> str:
    low, high = min(values), max(values)
    return format(low, fmt) if format(low, fmt) == format(high, fmt) else f"{low:{fmt}}-{high:{fmt}}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./build.sh bench sql_receiver")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=sorted(RUNS), help=argparse.SUPPRESS)
    parser.add_argument("--connection", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, json.loads(args.connection), args.work)
        return 0

    from tests.integration.peers import postgres

    reason = postgres.available()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 1
    server = postgres.PostgresServer().start()
    work = Path(tempfile.mkdtemp(prefix="edge-bench-sql-"))
    try:
        columns = ", ".join(f"c{c} double precision" for c in range(COLUMNS))
        values = ", ".join(f"round((random() * 1000)::numeric, 3)::float8" for _ in range(COLUMNS))
        server.psql(f"CREATE TABLE bench_rows (id bigint PRIMARY KEY, at timestamptz, {columns})")
        server.psql(f"INSERT INTO bench_rows SELECT g, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * "
                    f"INTERVAL '100 milliseconds', {values} FROM generate_series(1, {args.rows}) g")
        server.psql("VACUUM ANALYZE bench_rows")
        runs = ["pg8000", "receiver"]
        try:
            import psycopg  # noqa: F401

            runs.insert(1, "psycopg")
        except ImportError:
            print("psycopg is not installed: its row is left out (pip install 'psycopg[binary]' to compare)")
        measure("pg8000", server.connection, work / "warm-up")  # the table into the server's cache
        results: dict[str, list[dict]] = {run: [] for run in runs}
        for _ in range(args.rounds):
            for run in runs:
                figures = measure(run, server.connection, work / run)
                assert figures["rows"] == args.rows, figures
                results[run].append(figures)
        print(f"\n{args.rows:,} rows x {COLUMNS} float columns (+ id, timestamptz) from PostgreSQL 15 on loopback, "
              f"{args.rounds} rounds (range)\n")
        print(f"| {'run':<52} | {'wall s':>13} | {'rows/s':>15} | {'CPU s':>11} | {'RSS start MiB':>13} "
              f"| {'RSS peak MiB':>12} |")
        print(f"|{'-' * 54}|{'-' * 15}|{'-' * 17}|{'-' * 13}|{'-' * 15}|{'-' * 14}|")
        for run in runs:
            rows = results[run]
            print(f"| {NAMES[run]:<52} | {_span([r['wall'] for r in rows], '.2f'):>13} "
                  f"| {_span([args.rows / r['wall'] for r in rows], ',.0f'):>15} "
                  f"| {_span([r['cpu'] for r in rows], '.2f'):>11} "
                  f"| {_span([r['rss_start'] / 2**20 for r in rows], '.0f'):>13} "
                  f"| {_span([r['rss_peak'] / 2**20 for r in rows], '.0f'):>12} |")
        base = [r["wall"] for r in results["pg8000"]]
        ends = [r["wall"] for r in results["receiver"]]
        print(f"\nreceiver end to end / pg8000 fetch loop, round by round: "
              f"{', '.join(f'{e / b:.2f}' for e, b in zip(ends, base))}")
    finally:
        server.remove()
        shutil.rmtree(work, ignore_errors=True)
    return 0
