"""One tag table: durable batched appends, reads, rollups, stats, deletes and tag metadata.

Write path (one batch, or several queued by concurrent callers: group commit):
  1. the batch is checked and grouped by tag (`ingest.prepare`; `prepare_by_tag` for points
     that come grouped; `append_batch` takes one `ingest` built), outside any lock;
  2. under the commit lock a keyed batch whose key the table has applied is dropped (the
     caller gets 0), its tags are resolved (new ones registered provisionally), its
     record is written to the log and synced (one fdatasync for the group);
  3. then the stats/rollup deltas and run changes are computed, all still invisible;
  4. the batch is published under the short state lock, and the caller is acknowledged (a
     batch key, carried in the record, counts as applied from then on). If anything fails
     after the record was written, an ABORT record cancels it, the few unpublished
     in-memory changes are rolled back, and the caller gets an error: nothing of the batch
     is visible now or after a restart.
  5. the acknowledged rows wait in memory (a few MB) and are flushed to the column files
     (pwrite, no sync) several batches of a tag at once: one write per tag and column instead
     of one per batch, on the table's flusher thread while the appender goes on (it writes
     them itself if the flusher falls far behind). A reader that needs such rows flushes
     them first.

Checkpoint (housekeeping thread, when the log grows or every few seconds): seal the log
segment, fsync the column files, record committed lengths, runs, stats, hour-rollup
deltas and the batch keys applied since the last one in the catalog in one transaction,
then drop the sealed segments. Start-up truncates every column file to its committed
length and replays the log records after the checkpoint (and their batch keys).

Lock order: checkpoint lock -> commit lock -> flush lock -> rollup lock -> state lock.
Readers take the state lock (to snapshot), the flush lock when they need held-back rows and,
for hour rollups, the rollup lock; never the commit lock. File descriptors are opened and
closed only under the flush lock (or by a delete, which holds every lock).
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge.catalog import Catalog
from edge.store import errors, in_order, tag_catalog
from edge.store import rollups as rollup_math
from edge.store.batch import Batch, decode
from edge.store.batch_keys import AppliedKeys, encode_key
from edge.store.ingest import prepare, prepare_by_tag
from edge.store.columns import ColumnFile, sync_directory, sync_files
from edge.store.rollups import Rollups
from edge.store.runs import EMPTY_TAIL, NO_EXTEND, PERM_DTYPE, Run, sort_order
from edge.store.schema import ColumnSpec, TableSchema
from edge.store.stats import StatsColumns, of_groups
from edge.store.table_maintenance import TableMaintenance
from edge.store.table_reads import TableReads
from edge.store.table_tags import TableTags
from edge.store.tag_state import TagState, column_files, perm_file
from edge.store.background import BackgroundWork
from edge.store.wal import WriteAheadLog

log = logging.getLogger("edge.store")

LOG_CHECKPOINT_BYTES = 128 << 20
FLUSH_BYTES = 4 << 20  # acknowledged rows held back to write each tag's columns in one go
FLUSH_BEHIND_BYTES = 4 * FLUSH_BYTES  # held back while the flusher thread lags: the appender writes
CHECKPOINT_INTERVAL_S = 5.0
PENDING_ROLLUPS_COMPACT = 64


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
    batch_keys: list[tuple[int, str]]


class TagTable(TableReads, TableMaintenance, TableTags):
    """One tag table (see the module doc); reads, maintenance and tag metadata are in the
    mixins of table_reads.py, table_maintenance.py and table_tags.py."""

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
        self._batch_keys = AppliedKeys()

        self._wal = WriteAheadLog(self._dir / "log")
        self._flusher = BackgroundWork(f"store-flush-{self.name}")
        self._flush_queued = False
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
        self._batch_keys.load(*tag_catalog.load_batch_keys(conn, self.table_id, self._batch_keys.kept))
        refs = [r for r in self._wal.scan() if r.seq > seq]
        self._next_seq = max([seq] + [r.seq for r in refs]) + 1
        for ref in refs:
            batch = decode(self._wal.read(ref), self.schema, ref.kind)
            batch.seq = ref.seq
            self._replay(batch)
            if self._unflushed_bytes >= FLUSH_BYTES:
                self._flush()
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
        if batch.key is not None:
            self._batch_keys.add(batch.seq, batch.key)

    def _remove_strays(self) -> None:
        """Deletes files no tag refers to: a rewrite or merge interrupted by a crash."""
        keep = {p.name for state in self._by_id.values() for p in state.files()}
        for path in self._dir.iterdir():
            if path.is_file() and path.name not in keep:
                path.unlink(missing_ok=True)

    # ---- tag registry -----------------------------------------------------------------------

    def _new_state(self, tag_id: int, name: str, gen: int) -> TagState:
        return TagState(tag_id, name, gen, column_files(self._dir, self.schema, tag_id, gen))

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
               extras: dict[str, np.ndarray] | None = None, batch_key: str | None = None) -> int:
        """Stores one batch durably, all or nothing; returns the rows stored.

        `names` is a sequence or numpy array with one tag name per point (unknown tags are
        registered), `times_ns` int64 ns UTC, `values` float64 (NaN: null), `extras` one array
        per extra column (masked entries, None or a missing column: null).

        `batch_key` (text, 1-255 bytes) makes the append idempotent: a batch whose key this
        table has applied is skipped (returns 0); otherwise the key is stored with the batch,
        durable with it in the same log record. Of concurrent appends with one key, one
        applies. A batch that fails does not record its key. An empty batch records none."""
        return self._append(lambda: prepare(self.schema, names, times_ns, values, extras, self._by_name),
                            batch_key)

    def append_by_tag(self, tags, times_ns, values, batch_key: str | None = None) -> int:
        """`append` for points that come grouped by tag: `tags[i]` gets the points
        `times_ns[i]`, `values[i]` (one array each, in insertion order). The same guarantees,
        without a tag name per point to group; extra columns get nulls."""
        return self._append(lambda: prepare_by_tag(self.schema, tags, times_ns, values, self._by_name),
                            batch_key)

    def append_batch(self, batch: Batch, batch_key: str | None = None) -> int:
        """`append` for a batch `edge.store.ingest` built (checked, grouped, encoded)."""
        return self._append(lambda: batch, batch_key)

    def _append(self, make_batch: Callable[[], Batch], batch_key: str | None) -> int:
        key_bytes = b""
        if batch_key is not None:
            key_bytes = encode_key(batch_key)
            self._check_open()
            if batch_key in self._batch_keys:
                return 0
        batch = make_batch()
        if batch.rows == 0:
            return 0
        if batch_key is not None:
            batch.key, batch.key_bytes = batch_key, key_bytes
        with self._queue_lock:
            self._queue.append(batch)
        with self._commit_lock:
            if not batch.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                try:
                    self._commit_group(group)
                except BaseException as exc:
                    for queued in group:
                        if not queued.done:
                            queued.error, queued.done = exc, True
                    raise
        if batch.error is not None:
            raise batch.error
        return 0 if batch.skipped else batch.rows

    def _commit_group(self, queued: list[Batch]) -> None:
        if self._closed or self._failed is not None:
            error = (errors.table_not_found(self.name) if self._closed else
                     errors.storage_failure(f"table {self.name} is unusable until restart: {self._failed}"))
            for batch in queued:
                batch.error, batch.done = error, True
            return
        group = queued
        if any(batch.key is not None for batch in queued):
            group = self._without_repeats(queued)
            if not group:  # every one applied before: nothing to write
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
                self._wal.write(batch.kind, batch.seq, batch.payload())
                written.append(batch.seq)
            # On this thread: a helper thread to overlap the sync with `_apply` cost more in
            # thread handoffs (the GIL, wake-ups) than the overlap saved, measured here.
            self._wal.sync()
            applied = [self._apply(batch, work) for batch in group]
        except Exception as exc:  # noqa: BLE001 - any failure here must cancel the batch
            self._cancel(written, work, created, exc)
            error = errors.storage_failure(str(exc))
            for batch in queued:  # a repeat of a failed batch fails with it: its caller retries
                if not batch.done:
                    batch.error, batch.done = error, True
            return
        for state in created:
            self._register(state)
            self._unsaved_tags.append((state.tag_id, state.name, {}))
        self._publish(work, applied)
        for batch in group:
            if batch.key is not None:
                self._batch_keys.add(batch.seq, batch.key)
        for batch in queued:
            batch.done = True
        if self._unflushed_bytes >= FLUSH_BYTES:
            self._request_flush()
        if self._wal.bytes_written >= LOG_CHECKPOINT_BYTES:
            self._on_log_full()

    def _without_repeats(self, queued: list[Batch]) -> list[Batch]:
        """The batches to write: a key applied before is done (skipped); a key twice in the
        group is written once, its repeat skipped if the first succeeds and failed if not."""
        fresh = []
        keys_here = set()
        for batch in queued:
            key = batch.key
            if key is not None:
                if key in self._batch_keys:
                    batch.skipped = batch.done = True
                    continue
                if key in keys_here:
                    batch.skipped = True
                    continue
                keys_here.add(key)
            fresh.append(batch)
        return fresh

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
        """Lays the batch out behind each tag's length (rows held for the flush) and computes
        what publishing will change: run changes, stats and rollup deltas."""
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

        summary = None if any_unsorted else in_order.summarise(tag_ids, starts, lengths, times, values)
        if summary is None:
            stats = of_groups(tag_ids, starts, lengths, times, values, not any_unsorted)
            keys = rollup_math.tag_hour_keys(np.repeat(tag_ids, lengths), times)
            deltas = rollup_math.from_points(keys, times, values, grouped=not any_unsorted,
                                             times_sorted=not any_unsorted)
            summary = stats, deltas
        return _Applied(*summary)

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
            perm = perm_file(self._dir, state.tag_id, state.gen, offset, offset + length)
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

    def _request_flush(self) -> None:
        """Has the held-back rows written on the flusher thread, so the appender goes on with
        its next batch meanwhile; one that falls far behind is caught up here."""
        if self._unflushed_bytes >= FLUSH_BEHIND_BYTES:
            self._flush_logging_errors()
        elif not self._flush_queued:
            self._flush_queued = True
            self._flusher.start(self._background_flush)

    def _background_flush(self) -> None:
        self._flush_queued = False
        with self._flush_lock:
            if not self._closed:
                self._flush_logging_errors()

    def _flush_logging_errors(self) -> None:
        try:
            self._flush()
        except OSError as exc:
            # Acknowledged already (the log has it): keep it pending and try again later.
            log.error("table %s: writing column files failed, will retry: %s", self.name, exc)

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
                            column.write_rows(first, end, arrays[i][s:e])
                        else:
                            column.write_pieces(first, end, [arrays[i][s:e] for _, s, e, arrays in pieces])
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
        busy = (self._wal.bytes_written or self._dirty or self._unsaved_tags or self._garbage
                or self._batch_keys.unsaved)
        return bool(busy) and time.monotonic() - self._last_checkpoint >= CHECKPOINT_INTERVAL_S

    def _checkpoint_begin(self, force: bool) -> _CheckpointSnapshot | None:
        if not force and not (self._wal.bytes_written or self._dirty or self._unsaved_tags
                              or self._rollup_pending or self._garbage or self._batch_keys.unsaved):
            return None
        self._flush()
        seq = self._next_seq - 1
        sealed = self._wal.seal()
        dirty, self._dirty = self._dirty, set()
        perms, self._unsynced_perms = self._unsynced_perms, set()
        unsaved, self._unsaved_tags = self._unsaved_tags, []
        garbage, self._garbage = self._garbage, []
        batch_keys = self._batch_keys.take_unsaved()
        with self._state_lock:
            states = [{"tag_id": s.tag_id, "generation": s.gen, "committed_rows": s.rows,
                       "runs": [r.as_json() for r in s.runs], "stats": self._stats.row(s.tag_id)}
                      for s in dirty if self._by_id.get(s.tag_id) is s]
            inflight = rollup_math.combine(Rollups.concat(self._rollup_pending))
            self._rollup_pending = []
            self._rollup_inflight = inflight
        paths = [c.path for s in dirty for c in s.columns] + sorted(perms)
        return _CheckpointSnapshot(seq, sealed, states, paths, inflight, unsaved, dirty, perms, garbage, batch_keys)

    def _checkpoint_finish(self, snap: _CheckpointSnapshot) -> None:
        prune_keys = self._batch_keys.prune_due(len(snap.batch_keys))
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
                    if snap.batch_keys:
                        tag_catalog.save_batch_keys(conn, self.table_id, snap.batch_keys,
                                                    self._batch_keys.kept if prune_keys else None)
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
            self._batch_keys.restore_unsaved(snap.batch_keys)
            raise
        self._batch_keys.checkpointed(len(snap.batch_keys), prune_keys)
        self._checkpoint_seq = snap.seq
        self._last_checkpoint = time.monotonic()
        self._wal.drop_through(snap.sealed_segment)
        self._unlink(snap.garbage)

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
            for state in self._by_id.values():
                for column in state.columns:
                    column.close_fd()
        self._flusher.stop()  # outside the locks: a flush it is running waits for the flush lock
