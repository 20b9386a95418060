"""./build.sh bench store: the tag store in process, against baselines measured in the same run.

  append   100 tags x N points (default 100,000: 10M points) in batches of 10,000 points
           (100 points of every tag), numpy arrays in; each batch durable before the next;
           then the same batches again through append_by_tag (grouped by tag, as the
           pipeline hands them over) into a second table
  big tag  one tag of 10M points (one a second), then the median of many 1,000-point raw
           range reads at random places and of the hourly average over the whole range
  memory   resident anonymous memory of this process after the ingest (/proc smaps_rollup)
  disk     bytes on disk per point, rollups included, after the store is closed

Baselines: plain numpy arrays in memory (no durability: the speed of light for the same
work), and SQLite (apsw, WAL, synchronous=FULL, the same durability) with an index on
(name, time), fed the same batches as one transaction each, on a sample of the points (it
is too slow for all of them). Options: --points N (per tag) --big N --sqlite-points N
--runs N --dir PATH --keep.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench._measure import median_ms

TAGS = 100
BATCH = 10_000
EPOCH = 1_600_000_000 * 10**9
SECOND = 10**9
HOUR = 3600 * SECOND


def anonymous_bytes() -> int:
    """Resident anonymous memory of this process (file-backed maps are not counted)."""
    try:
        for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
            if line.startswith("Anonymous:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import psutil
    return psutil.Process().memory_full_info().uss


def batches(points_per_tag: int):
    """The ingest workload: batches of 100 points of each of the 100 tags, times one a second."""
    names = np.repeat(np.array([f"tag-{i:03d}" for i in range(TAGS)]), BATCH // TAGS)
    per_tag = BATCH // TAGS
    step = np.tile(np.arange(per_tag, dtype=np.int64), TAGS)
    rng = np.random.default_rng(1)
    for b in range(points_per_tag // per_tag):
        times = EPOCH + (b * per_tag + step) * SECOND
        yield names, times, rng.normal(50, 10, BATCH)


def big_tag_batches(points: int):
    rng = np.random.default_rng(2)
    names = np.array(["big"] * BATCH)
    for start in range(0, points, BATCH):
        n = min(BATCH, points - start)
        yield names[:n], EPOCH + np.arange(start, start + n, dtype=np.int64) * SECOND, rng.normal(50, 10, n)


def timed_appends(append, workload) -> tuple[float, int, float]:
    """Seconds spent inside `append` (making the test data is not timed), points appended, and
    the calling thread's CPU seconds in it (steady where the wall clock follows the disk)."""
    spent, total, cpu = 0.0, 0, 0.0
    for names, times, values in workload:
        began, began_cpu = time.perf_counter(), time.thread_time()
        append(names, times, values)
        spent += time.perf_counter() - began
        cpu += time.thread_time() - began_cpu
        total += len(times)
    return spent, total, cpu


def sync_ms(work: Path, size: int = 160_000, runs: int = 50) -> float:
    """Median time of one log-sized write + fdatasync here and now: the floor under the
    per-batch time of any durable append (the disk is shared, so it varies from run to run)."""
    path = work / "sync-probe"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.posix_fallocate(fd, 0, size * runs)
        os.fsync(fd)
        payload = os.urandom(size)
        return median_ms(lambda i: (os.pwrite(fd, payload, i * size), os.fdatasync(fd)), runs)
    finally:
        os.close(fd)
        path.unlink()


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


# ---- the store -------------------------------------------------------------------------------

def bench_store(work: Path, points_per_tag: int, big: int, runs: int) -> dict:
    from edge.catalog import Catalog
    from edge.store import TagStore

    catalog = Catalog(work / "catalog.db")
    store = TagStore(catalog, work / "tags")
    table = store.table("TAG")
    gc.collect()
    anon_before = anonymous_bytes()
    append_s, total, append_cpu = timed_appends(table.append, batches(points_per_tag))
    anon_after_append = anonymous_bytes()
    big_s, _, _ = timed_appends(table.append, big_tag_batches(big))
    anon_after_big = anonymous_bytes()
    by_tag_s, _, by_tag_cpu = timed_appends(grouped_append(store), batches(points_per_tag))

    rng = np.random.default_rng(3)
    starts = EPOCH + rng.integers(0, big - 1000, runs) * SECOND
    raw_ms = median_ms(lambda i: table.read(["big"], int(starts[i]), int(starts[i]) + 10**15, 2, 1000), runs)
    assert len(table.read(["big"], int(starts[0]), int(starts[0]) + 10**15, 2, 1000)) == 1000
    end = EPOCH + big * SECOND
    hourly_ms = median_ms(lambda i: table.aggregate(["big"], EPOCH, end, "hour", 1, ["avg"]), runs)
    minutely_ms = median_ms(lambda i: table.aggregate(["big"], EPOCH, end, "min", 1, ["avg"]), max(3, runs // 10))
    store.close()
    data_bytes = dir_bytes(work / "tags")
    rollup_rows = catalog.connection().execute("SELECT count(*) FROM tag_rollup_hours").fetchone()[0]
    catalog.close()
    points = 2 * total + big  # the 100 tags twice (append, append_by_tag) and the big tag
    return {
        "append_rate": total / append_s, "big_rate": big / big_s,
        "append_cpu_ms": append_cpu / (total / BATCH) * 1e3,
        "by_tag_rate": total / by_tag_s, "by_tag_cpu_ms": by_tag_cpu / (total / BATCH) * 1e3,
        "raw_ms": raw_ms, "hourly_ms": hourly_ms, "minutely_ms": minutely_ms,
        "anon_mb": anon_after_big / 2**20, "anon_growth_mb": (anon_after_big - anon_before) / 2**20,
        "anon_after_append_mb": anon_after_append / 2**20,
        "bytes_per_point": (data_bytes + rollup_rows * 96) / points,
        "rollup_rows": rollup_rows,
    }


def grouped_append(store):
    """The same batches through `append_by_tag` into a table of their own: the points of each
    tag handed over together, as the pipeline does, instead of a tag name per point."""
    from edge.store import ColumnSpec

    store.create_table("GROUPED", [ColumnSpec("NAME", "varchar", 80, "name"), ColumnSpec("TIME", "datetime", 8, "time"),
                                   ColumnSpec("VALUE", "double", 8, "value")])
    table = store.table("GROUPED")
    per_tag = BATCH // TAGS

    def append(names, times, values):
        tags = names[::per_tag].tolist()
        table.append_by_tag(tags, times.reshape(TAGS, per_tag), values.reshape(TAGS, per_tag))

    return append


# ---- baselines -------------------------------------------------------------------------------

def bench_numpy(points_per_tag: int, big: int, runs: int) -> dict:
    """Arrays in memory per tag: appends copy into preallocated arrays; nothing is durable."""
    per_tag = BATCH // TAGS
    times = np.empty((TAGS, points_per_tag), dtype=np.int64)
    values = np.empty((TAGS, points_per_tag), dtype=np.float64)
    fill = 0

    def append(names, t, v):
        nonlocal fill
        times[:, fill:fill + per_tag] = t.reshape(TAGS, per_tag)
        values[:, fill:fill + per_tag] = v.reshape(TAGS, per_tag)
        fill += per_tag

    append_s, _, _ = timed_appends(append, batches(points_per_tag))
    times = values = None  # free them before the big tag's arrays
    big_times = np.empty(big, dtype=np.int64)
    big_values = np.empty(big, dtype=np.float64)
    for i, (_, t, v) in enumerate(big_tag_batches(big)):
        big_times[i * BATCH:i * BATCH + len(t)] = t
        big_values[i * BATCH:i * BATCH + len(t)] = v
    rng = np.random.default_rng(3)
    starts = EPOCH + rng.integers(0, big - 1000, runs) * SECOND

    def raw(i):
        lo = np.searchsorted(big_times, starts[i])
        return big_times[lo:lo + 1000].copy(), big_values[lo:lo + 1000].copy()

    def hourly(_):
        edges = np.flatnonzero(np.diff(big_times // HOUR)) + 1
        bounds = np.concatenate(([0], edges))
        return np.add.reduceat(big_values, bounds) / np.diff(np.append(bounds, len(big_values)))

    return {"append_rate": TAGS * points_per_tag / append_s, "raw_ms": median_ms(raw, runs),
            "hourly_ms": median_ms(hourly, max(3, runs // 10)), "bytes_per_point": 16.0}


def bench_sqlite(work: Path, sample_points: int, big: int, runs: int) -> dict:
    """One SQLite table (name, time, value) with an index on (name, time), same batches."""
    import apsw

    conn = apsw.Connection(str(work / "baseline.db"))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE tag (name TEXT, time INTEGER, value REAL)")
    conn.execute("CREATE INDEX tag_name_time ON tag (name, time)")
    def append(names, times, values):
        with conn:
            conn.executemany("INSERT INTO tag VALUES (?, ?, ?)", zip(names.tolist(), times.tolist(), values.tolist()))

    append_s, total, cpu = timed_appends(append, batches(sample_points // TAGS))
    bytes_per_point = (work / "baseline.db").stat().st_size / total
    sample_big = min(big, sample_points)
    for names, times, values in big_tag_batches(sample_big):
        with conn:
            conn.executemany("INSERT INTO tag VALUES (?, ?, ?)", zip(names.tolist(), times.tolist(), values.tolist()))
    rng = np.random.default_rng(3)
    starts = EPOCH + rng.integers(0, sample_big - 1000, runs) * SECOND

    def raw(i):
        return conn.execute("SELECT time, value FROM tag WHERE name = 'big' AND time >= ? ORDER BY time LIMIT 1000",
                            (int(starts[i]),)).fetchall()

    def hourly(_):
        return conn.execute("SELECT time / ?, avg(value) FROM tag WHERE name = 'big' GROUP BY 1",
                            (HOUR,)).fetchall()

    result = {"append_rate": total / append_s, "append_cpu_ms": cpu / (total / BATCH) * 1e3,
              "raw_ms": median_ms(raw, runs),
              "hourly_ms": median_ms(hourly, max(3, runs // 10)), "bytes_per_point": bytes_per_point,
              "sample": total, "big_sample": sample_big}
    conn.close()
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./build.sh bench store")
    parser.add_argument("--points", type=int, default=100_000, help="points per tag (100 tags)")
    parser.add_argument("--big", type=int, default=10_000_000, help="points of the big tag")
    parser.add_argument("--sqlite-points", type=int, default=500_000, help="points fed to SQLite")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the data (default: a temp dir)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="edge-bench-store-", dir=args.dir))
    try:
        print(f"store: {TAGS} tags x {args.points:,} points + 1 tag x {args.big:,} points in {work}", flush=True)
        sync_before = sync_ms(work)
        store = bench_store(work / "store", args.points, args.big, args.runs)
        sync_after = sync_ms(work)
        gc.collect()
        print("numpy baseline ...", flush=True)
        plain = bench_numpy(args.points, args.big, args.runs)
        gc.collect()
        print(f"SQLite baseline ({args.sqlite_points:,} points) ...", flush=True)
        (work / "sqlite").mkdir()
        sqlite = bench_sqlite(work / "sqlite", args.sqlite_points, args.big, args.runs)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    rows = [
        ("append, points/s (100 tags, 10k-point batches)", store["append_rate"], plain["append_rate"], sqlite["append_rate"], "{:,.0f}"),
        ("append: caller's CPU per 10k-point batch, ms", store["append_cpu_ms"], None, sqlite["append_cpu_ms"], "{:.2f}"),
        ("append_by_tag (same batches), points/s", store["by_tag_rate"], None, None, "{:,.0f}"),
        ("append_by_tag: caller's CPU per batch, ms", store["by_tag_cpu_ms"], None, None, "{:.2f}"),
        ("append one tag, points/s (10k-point batches)", store["big_rate"], None, None, "{:,.0f}"),
        ("1,000-point raw range read, ms (median)", store["raw_ms"], plain["raw_ms"], sqlite["raw_ms"], "{:.3f}"),
        ("hourly avg over the whole range, ms", store["hourly_ms"], plain["hourly_ms"], sqlite["hourly_ms"], "{:.2f}"),
        ("minutely avg over the whole range, ms", store["minutely_ms"], None, None, "{:.1f}"),
        ("bytes per point on disk (incl. rollups)", store["bytes_per_point"], plain["bytes_per_point"], sqlite["bytes_per_point"], "{:.2f}"),
        ("resident anonymous memory after ingest, MB", store["anon_mb"], None, None, "{:.1f}"),
    ]
    print()
    print(f"{'':48} {'edge store':>14} {'numpy (RAM)':>14} {'SQLite+index':>14}")
    for label, mine, base, lite, fmt in rows:
        cells = [fmt.format(v) if v is not None else "-" for v in (mine, base, lite)]
        print(f"{label:48} {cells[0]:>14} {cells[1]:>14} {cells[2]:>14}")
    print()
    print(f"SQLite figures from {sqlite['sample']:,} points (appends) and a {sqlite['big_sample']:,}-point tag "
          f"(queries); numpy keeps everything in RAM and syncs nothing. Anonymous memory grew by "
          f"{store['anon_growth_mb']:.1f} MB during the store's ingest ({store['anon_after_append_mb']:.1f} MB after "
          f"the 100-tag part); {store['rollup_rows']:,} hour rollup rows in the catalog. One 160 KB write + "
          f"fdatasync (a 10,000-point batch's log record) took {sync_before:.2f} ms before and "
          f"{sync_after:.2f} ms after the store's run: the floor under each durable batch.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
