"""One tag table: durable batched appends, reads, rollups, stats, deletes and tag metadata.

Write path (one batch, or several queued by concurrent callers: group commit):
  1. the batch is checked and grouped by tag (`batch.prepare`), outside any lock;
  2. under the commit lock its tags are resolved (new ones registered provisionally), its
     record is written to the log and one fdatasync starts on a helper thread;
  3. meanwhile each tag's rows are written behind its published length (pwrite, no sync) and
     the stats/rollup deltas and run changes are computed, all still invisible;
  4. once the sync has succeeded the batch is published under the short state lock, and the
     caller is acknowledged. If anything fails after the record was written, an ABORT record
     cancels it, the few unpublished in-memory changes are rolled back, and the caller gets
     an error: nothing of the batch is visible now or after a restart.

Checkpoint (housekeeping thread, when the log grows or every few seconds): seal the log
segment, fsync the column files, record committed lengths, runs, stats and hour-rollup
deltas in the catalog in one transaction, then drop the sealed segments. Start-up truncates
every column file to its committed length and replays the log records after the checkpoint.

Lock order: checkpoint lock -> commit lock -> rollup lock -> state lock. Readers take only the
state lock (to snapshot) and, for hour rollups, the rollup lock; never the commit lock.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from edge.catalog import Catalog
from edge.store import errors, query, tag_catalog
from edge.store import rollups as rollup_math
from edge.store.batch import Batch, decode, prepare
from edge.store.columns import ColumnFile, sync_directory, sync_files
from edge.store.query import ReadResult, TagSnapshot
from edge.store.rollups import LEVELS, Rollups
from edge.store.runs import EMPTY_TAIL, MAX_RUN_ROWS, NO_EXTEND, PERM_DTYPE, Run, sort_order
from edge.store.schema import ColumnSpec, TableSchema, check_metadata_value, check_tag_name, metadata_row
from edge.store.stats import StatsColumns, TagStats, of_groups
from edge.store.wal import KIND_APPEND, BackgroundSync, WriteAheadLog

log = logging.getLogger("edge.store")

LOG_CHECKPOINT_BYTES = 32 << 20
FLUSH_BYTES = 4 << 20  # acknowledged rows held back to write each tag's columns in one go
CHECKPOINT_INTERVAL_S = 2.0
MAX_RUNS = 8
PENDING_ROLLUPS_COMPACT = 64
ROLLUP_ROW_BYTES = 96  # an hour row in the catalog, with its share of the index
FUNCTIONS = ("min", "max", "sum", "count", "avg")


class TagState:
    """A tag as the writer keeps it; readers copy (rows, runs, columns) under the state lock."""

    __slots__ = ("tag_id", "name", "gen", "columns", "runs", "rows", "flushed", "pending")

    def __init__(self, tag_id: int, name: str, gen: int, columns: list[ColumnFile]):
        self.tag_id = tag_id
        self.name = name
        self.gen = gen
        self.columns = columns
        self.runs: tuple[Run, ...] = (Run(0, None),)
        self.rows = 0  # published (acknowledged) rows
        self.flushed = 0  # rows written to the column files; the rest wait in `pending`
        self.pending: list[tuple[int, int, int, list[np.ndarray]]] = []  # (row, start, end, arrays)

    def files(self) -> list[Path]:
        return [c.path for c in self.columns] + [r.perm.path for r in self.runs if r.perm is not None]


@dataclasses.dataclass
class _GroupWork:
    """What a commit group changes before it is published: rows and runs per tag."""

    rows: dict = dataclasses.field(default_factory=dict)
    runs: dict = dataclasses.field(default_factory=dict)
    pieces: list = dataclasses.field(default_factory=list)  # (state, row, start, end, arrays)
    perms: list = dataclasses.field(default_factory=list)
    tail_undo: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _Applied:
    stats: dict
    rollups: Rollups


@dataclasses.dataclass
class _CheckpointSnapshot:
    seq: int
    sealed_segment: int
    states: list[dict]
    paths: list[Path]
    inflight: Rollups
    unsaved: list[tuple[int, str, dict]]
    dirty: set
    perms: set
    garbage: list[Path]


class TagTable:
    def __init__(self, catalog: Catalog, table_id: int, schema: TableSchema, directory: Path,
                 on_log_full: Callable[[], None] = lambda: None, fd_budget: int = 1024):
        self.table_id = table_id
        self.schema = schema
        self.name = schema.name
        self.columns: list[ColumnSpec] = list(schema.columns)
        self.metadata_columns: list[ColumnSpec] = list(schema.metadata)
        self._catalog = catalog
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._on_log_full = on_log_full
        self._state_budget = max(16, fd_budget // (2 + len(schema.extras)))
        self._map_budget = self._state_budget * 2

        self._checkpoint_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._rollup_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._map_lock = threading.Lock()
        self._flush_lock = threading.RLock()
        self._unflushed: dict[TagState, None] = {}
        self._unflushed_bytes = 0
        self._queue: list[Batch] = []
        self._open_states: collections.OrderedDict = collections.OrderedDict()
        self._mapped: collections.OrderedDict = collections.OrderedDict()
        self._closed = False
        self._failed: BaseException | None = None
        self._last_checkpoint = time.monotonic()

        self._by_name: dict[str, TagState] = {}
        self._by_id: dict[int, TagState] = {}
        self._next_tag_id = 0
        self._stats = StatsColumns()
        self._tail_max = np.full(64, EMPTY_TAIL, dtype=np.int64)
        self._rollup_pending: list[Rollups] = []
        self._rollup_inflight: Rollups | None = None
        self._dirty: set[TagState] = set()
        self._unsynced_perms: set[Path] = set()
        self._unsaved_tags: list[tuple[int, str, dict]] = []
        self._garbage: list[Path] = []

        self._wal = WriteAheadLog(self._dir / "log")
        self._syncer = BackgroundSync(f"store-sync-{self.name}")
        self._recover()

    # ---- recovery ---------------------------------------------------------------------------

    def _recover(self) -> None:
        """Committed state from the catalog, column files cut to it, then the log replayed."""
        conn = self._catalog.connection()
        seq = conn.execute("SELECT checkpoint_seq FROM tag_tables WHERE table_id = ?",
                           (self.table_id,)).fetchone()[0]
        for row in tag_catalog.load_tags(conn, self.table_id):
            state = self._new_state(row["tag_id"], row["name"], row["generation"])
            rows = row["committed_rows"]
            for column in state.columns:
                if rows or column.path.exists():
                    column.truncate(rows)
            state.rows = state.flushed = rows
            state.runs = self._runs_from_json(state, row["runs"], rows)
            self._make_room(state.tag_id)
            self._register(state)
            self._stats.load(state.tag_id, row["stats"])
            self._tail_max[state.tag_id] = self._tail_of(state)
        self._checkpoint_seq = seq
        refs = [r for r in self._wal.scan() if r.seq > seq]
        self._next_seq = max([seq] + [r.seq for r in refs]) + 1
        for ref in refs:
            self._replay(decode(self._wal.read(ref), self.schema))
        self._flush()
        if refs:
            log.info("table %s: replayed %d log records", self.name, len(refs))
        with self._checkpoint_lock, self._commit_lock:
            self._checkpoint_locked(force=True)
        self._remove_strays()

    def _runs_from_json(self, state: TagState, runs_json: list, rows: int) -> tuple[Run, ...]:
        runs = []
        for start, end, perm_name in runs_json:
            perm = None
            if perm_name:
                perm = ColumnFile(self._dir / perm_name, PERM_DTYPE)
                if perm.capacity != end - start:
                    # A permutation is derived data: rebuild it from the committed times.
                    order = sort_order(state.columns[0].view(rows)[start:end])
                    perm.create_from(order if order is not None else np.arange(end - start, dtype=PERM_DTYPE))
                    perm.close_fd()
            runs.append(Run(start, end, perm))
        return tuple(runs) or (Run(0, None),)

    def _tail_of(self, state: TagState) -> int:
        last = state.runs[-1]
        if last.end is not None:
            return NO_EXTEND
        if state.rows > last.start:
            return int(state.columns[0].view(state.rows)[state.rows - 1])
        return EMPTY_TAIL

    def _replay(self, batch: Batch) -> None:
        for tag_id, name in batch.new_tags:
            if tag_id not in self._by_id:
                state = self._new_state(tag_id, name, 0)
                self._make_room(tag_id)
                self._register(state)
                self._unsaved_tags.append((tag_id, name, {}))
        try:
            batch.states = [self._by_id[t] for t in batch.tag_ids.tolist()]
        except KeyError as exc:
            raise RuntimeError(f"table {self.name}: log record {batch.seq} names unknown tag id {exc}") from None
        work = _GroupWork()
        applied = self._apply(batch, work)
        self._publish(work, [applied])

    def _remove_strays(self) -> None:
        """Deletes files no tag refers to: a rewrite or merge interrupted by a crash."""
        keep = {p.name for state in self._by_id.values() for p in state.files()}
        for path in self._dir.iterdir():
            if path.is_file() and path.name not in keep:
                path.unlink(missing_ok=True)

    # ---- tag registry -----------------------------------------------------------------------

    def _columns_for(self, tag_id: int, gen: int) -> list[ColumnFile]:
        base = self._dir / f"{tag_id}.g{gen}"
        columns = [ColumnFile(base.with_name(base.name + ".t"), np.int64),
                   ColumnFile(base.with_name(base.name + ".v"), np.float64)]
        columns += [ColumnFile(base.with_name(f"{base.name}.x{i}"), c.stored_dtype)
                    for i, c in enumerate(self.schema.extras)]
        return columns

    def _new_state(self, tag_id: int, name: str, gen: int) -> TagState:
        return TagState(tag_id, name, gen, self._columns_for(tag_id, gen))

    def _make_room(self, tag_id: int) -> None:
        """Grows the per-tag arrays to hold `tag_id`, which starts as a tag without rows."""
        self._stats.ensure(tag_id)
        if tag_id >= len(self._tail_max):
            grown = np.full(max(tag_id + 1, 2 * len(self._tail_max)), EMPTY_TAIL, dtype=np.int64)
            grown[:len(self._tail_max)] = self._tail_max
            self._tail_max = grown
        self._tail_max[tag_id] = EMPTY_TAIL

    def _register(self, state: TagState) -> None:
        with self._state_lock:
            self._by_name[state.name] = state
            self._by_id[state.tag_id] = state
        self._next_tag_id = max(self._next_tag_id, state.tag_id + 1)

    # ---- append -----------------------------------------------------------------------------

    def append(self, names, times_ns: np.ndarray, values: np.ndarray,
               extras: dict[str, np.ndarray] | None = None) -> int:
        """Stores one batch durably, all or nothing; returns the rows stored.

        `names` is a sequence or numpy array with one tag name per point (unknown tags are
        registered), `times_ns` int64 ns UTC, `values` float64 (NaN: null), `extras` one array
        per extra column (masked entries, None or a missing column: null)."""
        batch = prepare(self.schema, names, times_ns, values, extras, self._by_name)
        if batch.rows == 0:
            return 0
        with self._queue_lock:
            self._queue.append(batch)
        with self._commit_lock:
            if not batch.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit_group(group)
        if batch.error is not None:
            raise batch.error
        return batch.rows

    def _commit_group(self, group: list[Batch]) -> None:
        if self._closed or self._failed is not None:
            error = (errors.table_not_found(self.name) if self._closed else
                     errors.storage_failure(f"table {self.name} is unusable until restart: {self._failed}"))
            for batch in group:
                batch.error, batch.done = error, True
            return
        created: list[TagState] = []
        for batch in group:
            self._resolve(batch, created)
        work = _GroupWork()
        written: list[int] = []
        try:
            for batch in group:
                batch.seq = self._next_seq
                self._next_seq += 1
                self._wal.write(KIND_APPEND, batch.seq, batch.payload())
                written.append(batch.seq)
            pending = self._syncer.start(self._wal.fd)
            try:
                applied = [self._apply(batch, work) for batch in group]
            finally:
                pending.wait()
        except Exception as exc:  # noqa: BLE001 - any failure here must cancel the batch
            self._cancel(written, work, created, exc)
            error = errors.storage_failure(str(exc))
            for batch in group:
                batch.error, batch.done = error, True
            return
        for state in created:
            self._register(state)
            self._unsaved_tags.append((state.tag_id, state.name, {}))
        self._publish(work, applied)
        for batch in group:
            batch.done = True
        if self._unflushed_bytes >= FLUSH_BYTES:
            try:
                self._flush()
            except OSError as exc:
                # Acknowledged already (the log has it): keep it pending and try again later.
                log.error("table %s: writing column files failed, will retry: %s", self.name, exc)
        if self._wal.bytes_written >= LOG_CHECKPOINT_BYTES:
            self._on_log_full()

    def _resolve(self, batch: Batch, created: list[TagState]) -> None:
        provisional = {s.name: s for s in created}
        states = []
        for name in batch.names:
            state = self._by_name.get(name) or provisional.get(name)
            if state is None:
                state = self._new_state(self._next_tag_id + len(created), name, 0)
                self._make_room(state.tag_id)
                created.append(state)
                provisional[name] = state
                batch.new_tags.append((state.tag_id, name))
            states.append(state)
        batch.states = states
        batch.tag_ids = np.fromiter((s.tag_id for s in states), dtype=np.int64, count=len(states))

    def _cancel(self, written: list[int], work: _GroupWork, created: list[TagState], exc: Exception) -> None:
        log.error("table %s: append failed, cancelling %d log records: %s", self.name, len(written), exc)
        for tag_ids, old in reversed(work.tail_undo):
            self._tail_max[tag_ids] = old
        for state in created:
            for column in state.columns:
                column.close_fd()
                column.path.unlink(missing_ok=True)
        for path in work.perms:
            path.unlink(missing_ok=True)
        if not written:
            return
        try:
            self._wal.abort(written)
        except OSError as abort_exc:
            # The log may now hold a batch whose caller was told it failed: refuse further
            # writes so nothing builds on it; a restart replays the log as it stands.
            self._failed = abort_exc
            log.critical("table %s: cannot cancel a failed batch: %s", self.name, abort_exc)

    def _apply(self, batch: Batch, work: _GroupWork) -> _Applied:
        """Writes the batch behind each tag's length and computes what publishing will change."""
        times, values = batch.times, batch.values
        starts, lengths = batch.starts, batch.lengths
        arrays = [times, values, *batch.extras]
        offsets = []
        rows_of = work.rows
        pieces = work.pieces
        # The one Python loop of the write path: per tag, not per point. The rows reach the
        # column files at the next flush, several batches of a tag in one write per column.
        for state, s, length in zip(batch.states, starts.tolist(), lengths.tolist()):
            offset = rows_of.get(state, state.rows)
            rows_of[state] = offset + length
            pieces.append((state, offset, s, s + length, arrays))
            offsets.append(offset)

        tag_ids = batch.tag_ids
        unsorted = batch.unsorted_groups()
        any_unsorted = bool(unsorted.any())
        lows = times[starts] if not any_unsorted else np.minimum.reduceat(times, starts)
        highs = times[starts + lengths - 1] if not any_unsorted else np.maximum.reduceat(times, starts)
        old_tail = self._tail_max[tag_ids]
        work.tail_undo.append((tag_ids, old_tail.copy()))
        extend = ~unsorted & (lows >= old_tail)
        self._tail_max[tag_ids[extend]] = highs[extend]
        if not extend.all():
            for g in np.flatnonzero(~extend).tolist():
                self._start_run(batch, g, offsets[g], unsorted[g], highs[g], work)

        stats = of_groups(tag_ids, starts, lengths, times, values, not any_unsorted)
        keys = rollup_math.tag_hour_keys(np.repeat(tag_ids, lengths), times)
        deltas = rollup_math.from_points(keys, times, values, grouped=not any_unsorted, times_sorted=not any_unsorted)
        return _Applied(stats, deltas)

    def _start_run(self, batch: Batch, g: int, offset: int, unsorted: bool, high: int, work: _GroupWork) -> None:
        """Out-of-order group: close the tag's open run and start a new one for these rows."""
        state = batch.states[g]
        runs = list(work.runs.get(state, state.runs))
        last = runs[-1]
        if last.end is None:
            if last.start == offset:
                runs.pop()
            else:
                runs[-1] = Run(last.start, offset, None)
        length = int(batch.lengths[g])
        s = int(batch.starts[g])
        if not unsorted:
            runs.append(Run(offset, None, None))
            self._tail_max[state.tag_id] = high
        else:
            perm = ColumnFile(self._dir / f"{state.tag_id}.g{state.gen}.r{offset}-{offset + length}.perm", PERM_DTYPE)
            perm.create_from(np.argsort(batch.times[s:s + length], kind="stable").astype(PERM_DTYPE), sync=False)
            perm.close_fd()
            work.perms.append(perm.path)
            runs.append(Run(offset, offset + length, perm))
            self._tail_max[state.tag_id] = NO_EXTEND
        work.runs[state] = runs

    def _publish(self, work: _GroupWork, applied: list[_Applied]) -> None:
        with self._state_lock:
            for state, row, s, e, arrays in work.pieces:
                state.pending.append((row, s, e, arrays))
                self._unflushed[state] = None
                self._unflushed_bytes += (e - s) * 16
            for state, rows in work.rows.items():
                state.rows = rows
            for state, runs in work.runs.items():
                state.runs = tuple(runs)
            for item in applied:
                self._stats.apply(item.stats)
                if len(item.rollups):
                    self._rollup_pending.append(item.rollups)
            if len(self._rollup_pending) > PENDING_ROLLUPS_COMPACT:
                self._rollup_pending = [rollup_math.combine(Rollups.concat(self._rollup_pending))]
        self._dirty.update(work.rows)
        self._unsynced_perms.update(work.perms)

    def _flush(self) -> None:
        """Writes every acknowledged row still held back to its column files (no sync: the
        log has them; a checkpoint syncs). Readers call it before reading such rows."""
        with self._flush_lock:
            with self._state_lock:
                states, self._unflushed = list(self._unflushed), {}
                work = [(state, state.pending) for state in states]
                for state in states:
                    state.pending = []
                self._unflushed_bytes = 0
            written = []
            try:
                for state, pieces in work:
                    first = pieces[0][0]
                    end = pieces[-1][0] + pieces[-1][2] - pieces[-1][1]
                    for i, column in enumerate(state.columns):
                        if len(pieces) == 1:
                            _, s, e, arrays = pieces[0]
                            data = arrays[i][s:e]
                        else:
                            data = np.concatenate([arrays[i][s:e] for _, s, e, arrays in pieces])
                        column.write_rows(first, end, data)
                    written.append((state, end))
            finally:
                with self._state_lock:
                    for state, end in written:
                        state.flushed = end
                    done = {state for state, _ in written}
                    for state, pieces in work:
                        if state not in done:  # a failed write: put them back, in order
                            state.pending[:0] = pieces
                            self._unflushed[state] = None
            self._limit_open_files(states)

    def _limit_open_files(self, touched) -> None:
        """Keeps the file descriptors of recently written tags open, closes the oldest.
        Called under the flush lock, the only place besides rewrites where fds are used."""
        opened = self._open_states
        for state in touched:
            opened[state] = None
            opened.move_to_end(state)
        while len(opened) > self._state_budget:
            state, _ = opened.popitem(last=False)
            for column in state.columns:
                column.close_fd()

    # ---- checkpoint -------------------------------------------------------------------------

    def checkpoint(self) -> None:
        """Makes the column files durable up to now and lets the log go (see module doc)."""
        with self._checkpoint_lock:
            with self._commit_lock:
                if self._closed:
                    return
                snapshot = self._checkpoint_begin(force=False)
            if snapshot is not None:
                self._checkpoint_finish(snapshot)

    def _checkpoint_locked(self, force: bool = False) -> None:
        """A checkpoint while the caller holds the checkpoint and commit locks."""
        snapshot = self._checkpoint_begin(force)
        if snapshot is not None:
            self._checkpoint_finish(snapshot)

    def checkpoint_due(self) -> bool:
        if self._closed:
            return False
        if self._wal.bytes_written >= LOG_CHECKPOINT_BYTES:
            return True
        busy = self._wal.bytes_written or self._dirty or self._unsaved_tags or self._garbage
        return bool(busy) and time.monotonic() - self._last_checkpoint >= CHECKPOINT_INTERVAL_S

    def _checkpoint_begin(self, force: bool) -> _CheckpointSnapshot | None:
        if not force and not (self._wal.bytes_written or self._dirty or self._unsaved_tags
                              or self._rollup_pending or self._garbage):
            return None
        self._flush()
        seq = self._next_seq - 1
        sealed = self._wal.seal()
        dirty, self._dirty = self._dirty, set()
        perms, self._unsynced_perms = self._unsynced_perms, set()
        unsaved, self._unsaved_tags = self._unsaved_tags, []
        garbage, self._garbage = self._garbage, []
        with self._state_lock:
            states = [{"tag_id": s.tag_id, "generation": s.gen, "committed_rows": s.rows,
                       "runs": [r.as_json() for r in s.runs], "stats": self._stats.row(s.tag_id)}
                      for s in dirty if self._by_id.get(s.tag_id) is s]
            inflight = rollup_math.combine(Rollups.concat(self._rollup_pending))
            self._rollup_pending = []
            self._rollup_inflight = inflight
        paths = [c.path for s in dirty for c in s.columns] + sorted(perms)
        return _CheckpointSnapshot(seq, sealed, states, paths, inflight, unsaved, dirty, perms, garbage)

    def _checkpoint_finish(self, snap: _CheckpointSnapshot) -> None:
        try:
            sync_files(snap.paths, self._dir)
            sync_directory(self._dir)
            conn = self._catalog.connection()
            with self._rollup_lock:
                with conn:
                    tag_catalog.insert_tags(conn, self.table_id, snap.unsaved)
                    tag_catalog.save_tag_states(conn, self.table_id, snap.states)
                    if len(snap.inflight):
                        tag_ids, hours = rollup_math.split_tag_hour(snap.inflight.keys)
                        rows = [(t, *row) for t, row in zip(tag_ids.tolist(), snap.inflight.with_keys(hours).rows())]
                        tag_catalog.merge_rollups(conn, self.table_id, rows)
                    tag_catalog.set_checkpoint_seq(conn, self.table_id, snap.seq)
                with self._state_lock:
                    self._rollup_inflight = None
        except BaseException:
            # Hand everything back for the next attempt; the log still holds all of it.
            with self._state_lock:
                if len(snap.inflight):
                    self._rollup_pending.insert(0, snap.inflight)
                self._rollup_inflight = None
            self._unsaved_tags[:0] = snap.unsaved
            self._dirty.update(snap.dirty)
            self._unsynced_perms.update(snap.perms)
            self._garbage.extend(snap.garbage)
            raise
        self._checkpoint_seq = snap.seq
        self._last_checkpoint = time.monotonic()
        self._wal.drop_through(snap.sealed_segment)
        for path in snap.garbage:
            path.unlink(missing_ok=True)

    # ---- reading ----------------------------------------------------------------------------

    def _snapshots(self, tags: Sequence[str]) -> list[TagSnapshot]:
        for _ in range(3):
            with self._state_lock:
                states = [s for s in (self._by_name.get(name) for name in tags) if s is not None]
                if all(s.flushed >= s.rows for s in states):
                    return [TagSnapshot(s.tag_id, s.name, s.rows, s.runs, tuple(s.columns)) for s in states]
            try:
                self._flush()
            except OSError as exc:
                raise errors.storage_failure(str(exc)) from None
        with self._state_lock:  # rows appended meanwhile stay out: a consistent prefix
            return [TagSnapshot(s.tag_id, s.name, min(s.rows, s.flushed), s.runs, tuple(s.columns))
                    for s in states]

    def _note_maps(self, snapshots: list[TagSnapshot]) -> None:
        """Keeps the maps of recently read columns, drops the oldest (each map holds a file)."""
        with self._map_lock:
            mapped = self._mapped
            for snap in snapshots:
                for column in snap.columns:
                    if column.has_map:
                        mapped[column] = None
                        mapped.move_to_end(column)
                for run in snap.runs:
                    if run.perm is not None and run.perm.has_map:
                        mapped[run.perm] = None
                        mapped.move_to_end(run.perm)
            while len(mapped) > self._map_budget:
                column, _ = mapped.popitem(last=False)
                column.drop_map()

    def read(self, tags: list[str], start_ns: int, end_ns: int, direction: int = 0,
             count: int = 0, offset: int = 0) -> ReadResult:
        """Rows with start_ns <= time <= end_ns, tag after tag in the order given (unknown tags
        give no rows). Direction 0: insertion order, 1: time descending, 2: time ascending.
        `count` (0: all) and `offset` apply to the whole series."""
        if direction not in (0, 1, 2):
            raise errors.invalid_argument(f"Direction must be 0, 1 or 2, got {direction!r}.")
        if count < 0 or offset < 0:
            raise errors.invalid_argument("Count and offset must not be negative.")
        return self._on_snapshots(tags, lambda snaps: query.read(
            snaps, self.schema.extras, int(start_ns), int(end_ns), direction, count, offset))

    def _on_snapshots(self, tags: Sequence[str], work: Callable[[list[TagSnapshot]], object]):
        """Runs `work` on snapshots of the tags. A delete or run merge may unlink files of a
        snapshot taken just before it, before they were mapped: then once more on new ones."""
        for attempt in range(2):
            snaps = self._snapshots(tags)
            try:
                result = work(snaps)
            except FileNotFoundError:
                if attempt:
                    raise
                continue
            self._note_maps(snaps)
            return result

    def rollup(self, tags: list[str], start_ns: int, end_ns: int, level: str, multiple: int = 1) -> Rollups:
        """Rollups of the tags combined, in buckets of `multiple` x `level` aligned to the epoch,
        built from the `level` rollup rows whose bucket start lies in [start_ns, end_ns]. Keys
        are bucket starts (ns), ascending; empty buckets are left out."""
        if level not in LEVELS:
            raise errors.invalid_argument(f"Level must be one of {', '.join(LEVELS)}, got {level!r}.")
        if not isinstance(multiple, (int, np.integer)) or multiple < 1:
            raise errors.invalid_argument(f"Interval value must be a positive integer, got {multiple!r}.")
        unit = LEVELS[level]
        width = unit * int(multiple)
        first_bucket = rollup_math.ceil_to(int(start_ns), unit)
        last_bucket = rollup_math.bucket_floor(int(end_ns), unit)
        if first_bucket > last_bucket:
            return Rollups.empty()
        if level != "hour":
            return self._on_snapshots(tags, lambda snaps: query.raw_rollups(
                snaps, first_bucket, last_bucket + unit - 1, width))
        snaps = self._snapshots(tags)
        if not snaps:
            return Rollups.empty()
        return self._hour_rollups(snaps, first_bucket // unit, last_bucket // unit, width)

    def _hour_rollups(self, snaps: list[TagSnapshot], first_hour: int, last_hour: int, width: int) -> Rollups:
        conn = self._catalog.connection()
        stored = []
        with self._rollup_lock:
            with self._state_lock:
                deltas = ([self._rollup_inflight] if self._rollup_inflight is not None else []) \
                    + list(self._rollup_pending)
            for snap in snaps:
                stored.append(Rollups.from_rows(
                    tag_catalog.rollup_rows(conn, self.table_id, snap.tag_id, first_hour, last_hour)))
        delta = Rollups.concat(deltas)
        per_tag = []
        for snap, rows in zip(snaps, stored):
            parts = [rows]
            if len(delta):
                lo, hi = rollup_math.pack_tag_hour(snap.tag_id, np.array([first_hour, last_hour]))
                mine = delta.take((delta.keys >= lo) & (delta.keys <= hi))
                parts.append(mine.with_keys(rollup_math.split_tag_hour(mine.keys)[1]))
            # Per tag first, tags then in the order given: first/last ties go to the earlier tag.
            per_tag.append(rollup_math.combine(Rollups.concat(parts)))
        hourly = Rollups.concat(per_tag)
        if not len(hourly):
            return hourly
        starts = hourly.keys * LEVELS["hour"]
        return rollup_math.combine(hourly.with_keys(rollup_math.bucket_floor(starts, width)))

    def aggregate(self, tags: list[str], start_ns: int, end_ns: int, level: str, multiple: int,
                  functions: list[str], count: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(bucket start times ns, {function: float64 array}) from the rollups; see `rollup`.
        Functions among min, max, sum, count, avg; `count` > 0 keeps the first buckets only."""
        unknown = [f for f in functions if f not in FUNCTIONS]
        if unknown or not functions:
            raise errors.invalid_argument(f"Functions must be among {', '.join(FUNCTIONS)}, got {functions!r}.")
        if count < 0:
            raise errors.invalid_argument("Count must not be negative.")
        r = self.rollup(tags, start_ns, end_ns, level, multiple)
        if count:
            r = r.take(slice(0, count))
        out = {}
        for function in functions:
            if function == "avg":
                out[function] = r.sum / r.count
            elif function == "count":
                out[function] = r.count.astype(np.float64)
            else:
                out[function] = np.asarray(getattr(r, function), dtype=np.float64).copy()
        return r.keys.copy(), out

    def stats(self, tag: str) -> TagStats | None:
        with self._state_lock:
            state = self._by_name.get(tag)
            return None if state is None else self._stats.public(state.tag_id)

    def disksize(self, tag: str | None = None) -> int:
        """Bytes on disk of the tag (or of every tag): column files, run indexes, hour rollups."""
        with self._state_lock:
            if tag is None:
                states = list(self._by_id.values())
            else:
                state = self._by_name.get(tag)
                if state is None:
                    raise errors.tag_not_found(self.name, tag)
                states = [state]
            files = [(list(s.columns), [r.perm for r in s.runs if r.perm is not None]) for s in states]
        total = sum(c.disk_bytes() for columns, perms in files for c in columns + perms)
        conn = self._catalog.connection()
        if tag is None:
            rollup_rows = conn.execute("SELECT count(*) FROM tag_rollup_hours WHERE table_id = ?",
                                       (self.table_id,)).fetchone()[0]
        else:
            rollup_rows = tag_catalog.rollup_row_count(conn, self.table_id, states[0].tag_id)
        return total + rollup_rows * ROLLUP_ROW_BYTES

    # ---- delete -----------------------------------------------------------------------------

    def delete_before(self, before_ns: int, tags: list[str] | None = None) -> int:
        """Deletes the rows with time < before_ns (of every tag, or of `tags`); returns how many.

        Each affected tag is rewritten into files of its next generation, its stats and hour
        rollups recomputed, and the switch committed in one catalog transaction, so the space
        is freed at once and a crash leaves either the old or the new state."""
        before = int(before_ns)
        with self._checkpoint_lock, self._commit_lock, self._flush_lock:
            self._check_open()
            self._checkpoint_locked()
            with self._state_lock:
                if tags is None:
                    targets = list(self._by_id.values())
                else:
                    targets = [s for s in (self._by_name.get(t) for t in dict.fromkeys(tags)) if s is not None]
            rewrites = []
            deleted = 0
            for state in targets:
                if state.rows == 0:
                    continue
                old_times = state.columns[0].view(state.rows)
                keep = old_times >= before
                kept = int(np.count_nonzero(keep))
                if kept == state.rows:
                    continue
                deleted += state.rows - kept
                rewrites.append(self._rewrite(state, keep, kept))
            if not rewrites:
                return 0
            sync_directory(self._dir)  # the new files' names are durable before the catalog names them
            conn = self._catalog.connection()
            with self._rollup_lock:
                with conn:
                    tag_catalog.save_tag_states(conn, self.table_id, [r["record"] for r in rewrites])
                    for r in rewrites:
                        tag_catalog.replace_rollups(conn, self.table_id, r["state"].tag_id, r["rollups"])
                with self._state_lock:
                    for r in rewrites:
                        state = r["state"]
                        state.gen, state.columns, state.runs = r["gen"], r["columns"], r["runs"]
                        state.rows = state.flushed = r["rows"]
                        self._stats.reset(state.tag_id)
                        self._stats.load(state.tag_id, r["record"]["stats"])
            for r in rewrites:
                state = r["state"]
                self._tail_max[state.tag_id] = self._tail_of(state)
                self._open_states.pop(state, None)
                for column in r["old_columns"]:
                    column.close_fd()
                for path in r["old_files"]:
                    path.unlink(missing_ok=True)
            return deleted

    def _rewrite(self, state: TagState, keep: np.ndarray, kept: int) -> dict:
        """The tag's kept rows in new files, with runs, stats and hour rollups recomputed."""
        rows, gen = state.rows, state.gen + 1
        columns = self._columns_for(state.tag_id, gen)
        for old, new in zip(state.columns, columns):
            new.copy_kept(old.view(rows), keep, query.CHUNK_ROWS)
            new.close_fd()
        times = columns[0].view(kept)
        values = columns[1].view(kept)
        runs = self._rewritten_runs(state, keep, times, gen)
        stats = StatsColumns(1)
        hourly = []
        for c0 in range(0, kept, query.CHUNK_ROWS):
            t, v = times[c0:c0 + query.CHUNK_ROWS], values[c0:c0 + query.CHUNK_ROWS]
            one = np.zeros(1, dtype=np.int64)
            stats.apply(of_groups(one, one, np.array([len(t)]), t, v, False))
            hourly.append(rollup_math.from_points(t // LEVELS["hour"], t, v))
        rollups = rollup_math.combine(Rollups.concat(hourly))
        old_files = state.files()
        return {"state": state, "gen": gen, "columns": columns, "runs": runs, "rows": kept,
                "old_columns": list(state.columns), "old_files": old_files, "rollups": rollups.rows(),
                "record": {"tag_id": state.tag_id, "generation": gen, "committed_rows": kept,
                           "runs": [r.as_json() for r in runs], "stats": stats.row(0)}}

    def _rewritten_runs(self, state: TagState, keep: np.ndarray, times: np.ndarray, gen: int) -> tuple[Run, ...]:
        if sort_order(times) is None:
            return (Run(0, None),)
        ranges, position = [], 0
        for run in state.runs:
            count = int(np.count_nonzero(keep[run.start:run.stop(state.rows)]))
            if count:
                ranges.append((position, position + count))
                position += count
        runs = []
        for start, end in ranges:
            order = sort_order(times[start:end])
            if order is None:
                runs.append(Run(start, end, None))
            else:
                perm = ColumnFile(self._dir / f"{state.tag_id}.g{gen}.r{start}-{end}.perm", PERM_DTYPE)
                perm.create_from(order)
                perm.close_fd()
                runs.append(Run(start, end, perm))
        if runs[-1].perm is None:
            runs[-1] = Run(runs[-1].start, None)
        return tuple(runs)

    # ---- run compaction (housekeeping) ------------------------------------------------------

    def compact_runs(self) -> int:
        """Merges the runs of tags that have too many (late data); returns the merges done."""
        merges = 0
        with self._state_lock:
            crowded = [s for s in self._by_id.values() if len(s.runs) > MAX_RUNS]
        for state in crowded:
            with self._commit_lock:
                if self._closed or self._by_id.get(state.tag_id) is not state:
                    continue
                self._flush()
                merges += self._merge_runs(state)
        return merges

    def _merge_runs(self, state: TagState) -> int:
        runs, rows, merges = list(state.runs), state.rows, 0
        times = state.columns[0].view(rows)
        while len(runs) > MAX_RUNS // 2:
            sizes = [r.stop(rows) - r.start for r in runs]
            pair = [sizes[i] + sizes[i + 1] for i in range(len(runs) - 1)]
            i = int(np.argmin(pair))
            if pair[i] >= MAX_RUN_ROWS:
                break
            first, second = runs[i], runs[i + 1]
            start, stop, open_end = first.start, second.stop(rows), second.end is None
            order = sort_order(times[start:stop])
            if order is None:
                merged = Run(start, None if open_end else stop, None)
            else:
                perm = ColumnFile(self._dir / f"{state.tag_id}.g{state.gen}.r{start}-{stop}.perm", PERM_DTYPE)
                perm.create_from(order, sync=False)
                perm.close_fd()
                self._unsynced_perms.add(perm.path)
                merged = Run(start, stop, perm)
                if open_end:
                    self._tail_max[state.tag_id] = NO_EXTEND
            self._garbage.extend(r.perm.path for r in (first, second) if r.perm is not None)
            runs[i:i + 2] = [merged]
            merges += 1
        with self._state_lock:
            state.runs = tuple(runs)
        self._dirty.add(state)
        return merges

    # ---- tag metadata -----------------------------------------------------------------------

    def tag_names(self) -> list[str]:
        with self._state_lock:
            return list(self._by_name)

    def add_tags(self, rows: list[dict]) -> tuple[int, int]:
        """Registers tags with their metadata: (registered, failed). A row whose name exists
        already or came earlier in `rows`, or whose values do not fit, fails alone."""
        name_column = self.schema.name_column.name
        accepted: dict[str, dict] = {}
        failed = 0
        for row in rows:
            try:
                if not isinstance(row, dict):
                    raise errors.invalid_value("A tag row must be an object.")
                upper = {str(k).strip().upper(): v for k, v in row.items()}
                name = upper.pop(name_column, None)
                if name is None:
                    name = upper.pop("NAME", None)
                check_tag_name(self.schema, name)
                metadata = metadata_row(self.schema, upper)
            except errors.EdgeError:
                failed += 1
                continue
            if name in accepted:
                failed += 1
                continue
            accepted[name] = metadata
        with self._commit_lock:
            self._check_open()
            fresh = [(name, meta) for name, meta in accepted.items() if name not in self._by_name]
            failed += len(accepted) - len(fresh)
            states = [(self._new_state(self._next_tag_id + i, name, 0), meta) for i, (name, meta) in enumerate(fresh)]
            conn = self._catalog.connection()
            with conn:
                tag_catalog.insert_tags(conn, self.table_id, [(s.tag_id, s.name, meta) for s, meta in states])
            for state, _ in states:
                self._make_room(state.tag_id)
                self._register(state)
        return len(states), failed

    def tag_info(self, tag: str) -> dict | None:
        """{name column: tag, metadata column: value...}, or None for an unknown tag."""
        with self._state_lock:
            state = self._by_name.get(tag)
        if state is None:
            return None
        metadata = tag_catalog.tag_metadata(self._catalog.connection(), self.table_id, state.tag_id) or {}
        info = {self.schema.name_column.name: state.name}
        info.update({c.name: metadata.get(c.name) for c in self.schema.metadata})
        return info

    def update_tag(self, tag: str, values: dict) -> int:
        """Sets metadata columns of a tag; returns 1. Unknown tag or column: EdgeError."""
        with self._state_lock:
            state = self._by_name.get(tag)
        if state is None:
            raise errors.tag_not_found(self.name, tag)
        if not isinstance(values, dict) or not values:
            raise errors.invalid_value("Expected an object of metadata columns to set.")
        changes = {}
        for key, value in values.items():
            column = self.schema.metadata_column(key)
            changes[column.name] = check_metadata_value(column, value)
        conn = self._catalog.connection()
        with self._commit_lock:
            self._check_open()
            if self._by_name.get(tag) is not state:
                raise errors.tag_not_found(self.name, tag)
            with conn:
                tag_catalog.insert_tags(conn, self.table_id, [(state.tag_id, state.name, {})])
                current = tag_catalog.tag_metadata(conn, self.table_id, state.tag_id) or {}
                current.update(changes)
                tag_catalog.set_tag_metadata(conn, self.table_id, state.tag_id, current)
        return 1

    def delete_tag(self, tag: str) -> int:
        """Removes a tag without data; returns 1. EdgeError 2324 while it has data."""
        with self._checkpoint_lock, self._commit_lock, self._flush_lock:
            self._check_open()
            state = self._by_name.get(tag)
            if state is None:
                raise errors.tag_not_found(self.name, tag)
            if state.rows or self._stats.row(state.tag_id)["count"]:
                raise errors.tag_has_data()
            self._checkpoint_locked()
            conn = self._catalog.connection()
            with conn:
                tag_catalog.delete_tag(conn, self.table_id, state.tag_id)
            with self._state_lock:
                del self._by_name[state.name]
                del self._by_id[state.tag_id]
                self._stats.reset(state.tag_id)
            self._open_states.pop(state, None)
            for column in state.columns:
                column.close_fd()
            for path in state.files():
                path.unlink(missing_ok=True)
            return 1

    def force_rollup(self) -> None:
        """GET /machiot/rollup: rollups are current after every append; this also persists them."""
        self.checkpoint()

    # ---- life cycle -------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise errors.table_not_found(self.name)

    def close(self, drop: bool = False) -> None:
        """Final checkpoint (unless the table is being dropped), then the log and files close."""
        with self._checkpoint_lock, self._commit_lock, self._flush_lock:
            if self._closed:
                return
            clean = False
            if not drop and self._failed is None:
                self._checkpoint_locked(force=True)
                clean = True
            self._closed = True
            self._wal.close(remove=clean or drop)
            self._syncer.stop()
            for state in self._by_id.values():
                for column in state.columns:
                    column.close_fd()
