"""The write path of a tag table: group commit of durable batches, their stats, rollup and
run changes, and their publication.

A part of `TagTable` over its `TableState` (see state.py for the locks). One batch, or
several queued by concurrent callers (a commit group):
  1. the batch is checked and grouped by tag (`ingest.prepare`; `prepare_by_tag` for points
     that come grouped; `append_batch` takes one `ingest` built), outside any lock;
  2. under the commit lock a keyed batch whose key the table has applied is dropped (the
     caller gets 0), its tags are resolved (new ones registered provisionally), the disk
     blocks its rows will take in the column files are allocated (a full disk fails it
     here), its record is written to the log and synced (one fdatasync for the group);
  3. then the stats/rollup deltas and run changes are computed, all still invisible;
  4. the batch is published under the short state lock, and the caller is acknowledged (a
     batch key, carried in the record, counts as applied from then on). If anything fails
     after the record was written, an ABORT record cancels it, the few unpublished
     in-memory changes are rolled back, and the caller gets an error: nothing of the batch
     is visible now or after a restart.
  5. the acknowledged rows wait in memory and reach the column files through the flusher
     (flush.py).
Recovery replays logged batches through the same `apply` and `publish`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import numpy as np

from edge.store import errors, in_order
from edge.store import rollups as rollup_math
from edge.store.batch import Batch
from edge.store.batch_keys import encode_key
from edge.store.ingest import prepare, prepare_by_tag
from edge.store.rollups import Rollups
from edge.store.runs import NO_EXTEND, PERM_DTYPE, Run
from edge.store.stats import of_groups
from edge.store.table.checkpoint import LOG_CHECKPOINT_BYTES
from edge.store.table.flush import FLUSH_BYTES, ColumnFlusher
from edge.store.table.state import TableState
from edge.store.table.tags import TagRegistry
from edge.store.table.tag_state import TagState, perm_file

log = logging.getLogger("edge.store")

PENDING_ROLLUPS_COMPACT = 64


@dataclasses.dataclass
class GroupWork:
    """What a commit group changes before it is published: rows and runs per tag."""

    rows: dict = dataclasses.field(default_factory=dict)
    runs: dict = dataclasses.field(default_factory=dict)
    pieces: list = dataclasses.field(default_factory=list)  # (state, row, start, end, arrays)
    perms: list = dataclasses.field(default_factory=list)
    tail_undo: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Applied:
    stats: dict
    rollups: Rollups


class Appender:
    def __init__(self, table: TableState, tags: TagRegistry, flusher: ColumnFlusher):
        self._table = table
        self._tags = tags
        self._flusher = flusher

    def append(self, names, times_ns, values, extras, batch_key: str | None) -> int:
        table = self._table
        return self._append(lambda: prepare(table.schema, names, times_ns, values, extras, table.by_name),
                            batch_key)

    def append_by_tag(self, tags, times_ns, values, batch_key: str | None) -> int:
        table = self._table
        return self._append(lambda: prepare_by_tag(table.schema, tags, times_ns, values, table.by_name),
                            batch_key)

    def append_batch(self, batch: Batch, batch_key: str | None) -> int:
        return self._append(lambda: batch, batch_key)

    def _append(self, make_batch: Callable[[], Batch], batch_key: str | None) -> int:
        table = self._table
        key_bytes = b""
        if batch_key is not None:
            key_bytes = encode_key(batch_key)
            table.check_open()
            if batch_key in table.batch_keys:
                return 0
        batch = make_batch()
        if batch.rows == 0:
            return 0
        if batch_key is not None:
            batch.key, batch.key_bytes = batch_key, key_bytes
        with table.queue_lock:
            table.queue.append(batch)
        with table.commit_lock:
            if not batch.done:
                with table.queue_lock:
                    group, table.queue = table.queue, []
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
        table = self._table
        if table.closed or (table.failed is not None and not self._abort_again()):
            error = (errors.table_not_found(table.name) if table.closed else
                     errors.storage_failure_of(table.failed, f"table {table.name} takes no appends until the "
                                                             f"cancellation of a failed one is written"))
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
        work = GroupWork()
        written: list[int] = []
        wal = table.wal
        try:
            self._allocate(group)
            for batch in group:
                batch.seq = table.next_seq
                table.next_seq += 1
                wal.write(batch.kind, batch.seq, batch.payload())
                written.append(batch.seq)
            # On this thread: a helper thread to overlap the sync with `apply` cost more in
            # thread handoffs (the GIL, wake-ups) than the overlap saved, measured here.
            wal.sync()
            applied = [self.apply(batch, work) for batch in group]
        except Exception as exc:  # noqa: BLE001 - any failure here must cancel the batch
            self._cancel(written, work, created, exc)
            error = errors.storage_failure_of(exc)
            for batch in queued:  # a repeat of a failed batch fails with it: its caller retries
                if not batch.done:
                    batch.error, batch.done = error, True
            return
        for state in created:
            self._tags.register(state)
            table.unsaved_tags.append((state.tag_id, state.name, {}))
        self.publish(work, applied)
        for batch in group:
            if batch.key is not None:
                table.batch_keys.add(batch.seq, batch.key)
        for batch in queued:
            batch.done = True
        if table.unflushed_bytes >= FLUSH_BYTES:
            self._flusher.request_flush()
        if wal.bytes_written >= LOG_CHECKPOINT_BYTES:
            table.on_log_full()

    def _without_repeats(self, queued: list[Batch]) -> list[Batch]:
        """The batches to write: a key applied before is done (skipped); a key twice in the
        group is written once, its repeat skipped if the first succeeds and failed if not."""
        applied_keys = self._table.batch_keys
        fresh = []
        keys_here = set()
        for batch in queued:
            key = batch.key
            if key is not None:
                if key in applied_keys:
                    batch.skipped = batch.done = True
                    continue
                if key in keys_here:
                    batch.skipped = True
                    continue
                keys_here.add(key)
            fresh.append(batch)
        return fresh

    def _resolve(self, batch: Batch, created: list[TagState]) -> None:
        by_name = self._table.by_name
        next_tag_id = self._table.next_tag_id
        tags = self._tags
        provisional = {s.name: s for s in created}
        states = []
        for name in batch.names:
            state = by_name.get(name) or provisional.get(name)
            if state is None:
                state = tags.new_state(next_tag_id + len(created), name, 0)
                tags.make_room(state.tag_id)
                created.append(state)
                provisional[name] = state
                batch.new_tags.append((state.tag_id, name))
            states.append(state)
        batch.states = states
        batch.tag_ids = np.fromiter((s.tag_id for s in states), dtype=np.int64, count=len(states))

    @staticmethod
    def _allocate(group: list[Batch]) -> None:
        """Disk blocks for every row the group adds, before anything is logged: a full disk
        fails the appends here, not the later flush of rows acknowledged meanwhile."""
        ends: dict[TagState, int] = {}
        for batch in group:
            for state, length in zip(batch.states, batch.lengths.tolist()):
                ends[state] = ends.get(state, state.rows) + length
        for state, end in ends.items():
            for column in state.columns:
                if end > column.allocated:
                    column.allocate(state.flushed, end)

    def _cancel(self, written: list[int], work: GroupWork, created: list[TagState], exc: Exception) -> None:
        table = self._table
        log.error("table %s: append failed, cancelling %d log records: %s", table.name, len(written), exc)
        for tag_ids, old in reversed(work.tail_undo):
            table.tail_max[tag_ids] = old
        for state in created:
            for column in state.columns:
                column.close_fd()
                column.path.unlink(missing_ok=True)
        for path in work.perms:
            path.unlink(missing_ok=True)
        if not written:
            return
        try:
            table.wal.abort(written)
        except OSError as abort_exc:
            # The log may now hold a batch whose caller was told it failed: refuse further
            # writes so nothing builds on it until the ABORT is written (`_abort_again`, before
            # each later append: when the disk has room again); a restart before that replays
            # the log as it stands.
            table.failed, table.unaborted = abort_exc, list(written)
            log.error("table %s: cannot cancel a failed batch yet (tried again before the next append): %s",
                      table.name, abort_exc)

    def _abort_again(self) -> bool:
        """Writes the ABORT records that could not be written before (the disk was full, say);
        True once they are durable and appends may go on."""
        table = self._table
        try:
            table.wal.abort(table.unaborted)
        except OSError as exc:
            table.failed = exc
            return False
        log.info("table %s: failed batch cancelled; appends go on", table.name)
        table.failed, table.unaborted = None, []
        return True

    def apply(self, batch: Batch, work: GroupWork) -> Applied:
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

        tail_max = self._table.tail_max
        tag_ids = batch.tag_ids
        unsorted = batch.unsorted_groups()
        any_unsorted = bool(unsorted.any())
        lows = times[starts] if not any_unsorted else np.minimum.reduceat(times, starts)
        highs = times[starts + lengths - 1] if not any_unsorted else np.maximum.reduceat(times, starts)
        old_tail = tail_max[tag_ids]
        work.tail_undo.append((tag_ids, old_tail.copy()))
        extend = ~unsorted & (lows >= old_tail)
        tail_max[tag_ids[extend]] = highs[extend]
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
        return Applied(*summary)

    def _start_run(self, batch: Batch, g: int, offset: int, unsorted: bool, high: int, work: GroupWork) -> None:
        """Out-of-order group: close the tag's open run and start a new one for these rows."""
        table = self._table
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
            table.tail_max[state.tag_id] = high
        else:
            perm = perm_file(table.directory, state.tag_id, state.gen, offset, offset + length)
            perm.create_from(np.argsort(batch.times[s:s + length], kind="stable").astype(PERM_DTYPE), sync=False)
            perm.close_fd()
            work.perms.append(perm.path)
            runs.append(Run(offset, offset + length, perm))
            table.tail_max[state.tag_id] = NO_EXTEND
        work.runs[state] = runs

    def publish(self, work: GroupWork, applied: list[Applied]) -> None:
        table = self._table
        with table.state_lock:
            unflushed = table.unflushed
            unflushed_bytes = table.unflushed_bytes
            for state, row, s, e, arrays in work.pieces:
                state.pending.append((row, s, e, arrays))
                unflushed[state] = None
                unflushed_bytes += (e - s) * 16
            table.unflushed_bytes = unflushed_bytes
            for state, rows in work.rows.items():
                state.rows = rows
            for state, runs in work.runs.items():
                state.runs = tuple(runs)
            for item in applied:
                table.stats.apply(item.stats)
                if len(item.rollups):
                    table.rollup_pending.append(item.rollups)
            if len(table.rollup_pending) > PENDING_ROLLUPS_COMPACT:
                table.rollup_pending = [rollup_math.combine(Rollups.concat(table.rollup_pending))]
        table.dirty.update(work.rows)
        table.unsynced_perms.update(work.perms)

    def replay(self, batch: Batch) -> None:
        """Applies and publishes a batch of the log at start-up (tags resolved by id; tags the
        log registered are registered again)."""
        table = self._table
        tags = self._tags
        for tag_id, name in batch.new_tags:
            if tag_id not in table.by_id:
                state = tags.new_state(tag_id, name, 0)
                tags.make_room(tag_id)
                tags.register(state)
                table.unsaved_tags.append((tag_id, name, {}))
        try:
            batch.states = [table.by_id[t] for t in batch.tag_ids.tolist()]
        except KeyError as exc:
            raise RuntimeError(f"table {table.name}: log record {batch.seq} names unknown tag id {exc}") from None
        work = GroupWork()
        applied = self.apply(batch, work)
        self.publish(work, applied=[applied])
        if batch.key is not None:
            table.batch_keys.add(batch.seq, batch.key)
