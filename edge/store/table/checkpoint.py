"""Checkpoints and recovery of a tag table: what is durable where, and getting back to it.

A part of `TagTable` over its `TableState` (see state.py for the locks).

Checkpoint (housekeeping thread, when the log grows or every few seconds): seal the log
segment, fsync the column files, record committed lengths, runs, stats, hour-rollup
deltas and the batch keys applied since the last one in the catalog in one transaction,
then drop the sealed segments. Start-up truncates every column file to its committed
length and replays the log records after the checkpoint (and their batch keys).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edge.store import tag_catalog
from edge.store import rollups as rollup_math
from edge.store.batch import decode
from edge.store.columns import ColumnFile, sync_directory, sync_files
from edge.store.rollups import Rollups
from edge.store.runs import PERM_DTYPE, Run, sort_order
from edge.store.table.files import OpenFiles
from edge.store.table.flush import FLUSH_BYTES, ColumnFlusher
from edge.store.table.state import TableState
from edge.store.table.tag_state import TagState

if TYPE_CHECKING:
    from edge.store.table.append import Appender
    from edge.store.table.tags import TagRegistry

log = logging.getLogger("edge.store")

LOG_CHECKPOINT_BYTES = 128 << 20
CHECKPOINT_INTERVAL_S = 5.0


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


class Checkpointer:
    def __init__(self, table: TableState, flusher: ColumnFlusher, files: OpenFiles):
        self._table = table
        self._flusher = flusher
        self._files = files

    # ---- checkpoint --------------------------------------------------------------------------

    def checkpoint(self) -> None:
        """Makes the column files durable up to now and lets the log go (see module doc)."""
        table = self._table
        with table.checkpoint_lock:
            with table.commit_lock:
                if table.closed:
                    return
                snapshot = self._begin(force=False)
            if snapshot is not None:
                self._finish(snapshot)

    def checkpoint_locked(self, force: bool = False) -> None:
        """A checkpoint while the caller holds the checkpoint and commit locks."""
        snapshot = self._begin(force)
        if snapshot is not None:
            self._finish(snapshot)

    def checkpoint_due(self) -> bool:
        table = self._table
        if table.closed:
            return False
        if table.wal.bytes_written >= LOG_CHECKPOINT_BYTES:
            return True
        busy = (table.wal.bytes_written or table.dirty or table.unsaved_tags or table.garbage
                or table.batch_keys.unsaved)
        return bool(busy) and time.monotonic() - table.last_checkpoint >= CHECKPOINT_INTERVAL_S

    def _begin(self, force: bool) -> _CheckpointSnapshot | None:
        table = self._table
        if not force and not (table.wal.bytes_written or table.dirty or table.unsaved_tags
                              or table.rollup_pending or table.garbage or table.batch_keys.unsaved):
            return None
        self._flusher.flush()
        seq = table.next_seq - 1
        sealed = table.wal.seal()
        dirty, table.dirty = table.dirty, set()
        perms, table.unsynced_perms = table.unsynced_perms, set()
        unsaved, table.unsaved_tags = table.unsaved_tags, []
        garbage, table.garbage = table.garbage, []
        batch_keys = table.batch_keys.take_unsaved()
        with table.state_lock:
            states = [{"tag_id": s.tag_id, "generation": s.gen, "committed_rows": s.rows,
                       "runs": [r.as_json() for r in s.runs], "stats": table.stats.row(s.tag_id)}
                      for s in dirty if table.by_id.get(s.tag_id) is s]
            inflight = rollup_math.combine(Rollups.concat(table.rollup_pending))
            table.rollup_pending = []
            table.rollup_inflight = inflight
        paths = [c.path for s in dirty for c in s.columns] + sorted(perms)
        return _CheckpointSnapshot(seq, sealed, states, paths, inflight, unsaved, dirty, perms, garbage, batch_keys)

    def _finish(self, snap: _CheckpointSnapshot) -> None:
        table = self._table
        prune_keys = table.batch_keys.prune_due(len(snap.batch_keys))
        try:
            sync_files(snap.paths, table.directory)
            sync_directory(table.directory)
            conn = table.catalog.connection()
            with table.rollup_lock:
                with conn:
                    tag_catalog.insert_tags(conn, table.table_id, snap.unsaved)
                    tag_catalog.save_tag_states(conn, table.table_id, snap.states)
                    if len(snap.inflight):
                        tag_ids, hours = rollup_math.split_tag_hour(snap.inflight.keys)
                        rows = [(t, *row) for t, row in zip(tag_ids.tolist(), snap.inflight.with_keys(hours).rows())]
                        tag_catalog.merge_rollups(conn, table.table_id, rows)
                    if snap.batch_keys:
                        tag_catalog.save_batch_keys(conn, table.table_id, snap.batch_keys,
                                                    table.batch_keys.kept if prune_keys else None)
                    tag_catalog.set_checkpoint_seq(conn, table.table_id, snap.seq)
                with table.state_lock:
                    table.rollup_inflight = None
        except BaseException:
            # Hand everything back for the next attempt; the log still holds all of it.
            with table.state_lock:
                if len(snap.inflight):
                    table.rollup_pending.insert(0, snap.inflight)
                table.rollup_inflight = None
            table.unsaved_tags[:0] = snap.unsaved
            table.dirty.update(snap.dirty)
            table.unsynced_perms.update(snap.perms)
            table.garbage.extend(snap.garbage)
            table.batch_keys.restore_unsaved(snap.batch_keys)
            raise
        table.batch_keys.checkpointed(len(snap.batch_keys), prune_keys)
        table.last_checkpoint = time.monotonic()
        table.wal.drop_through(snap.sealed_segment)
        self._files.unlink(snap.garbage)

    # ---- recovery ----------------------------------------------------------------------------

    def recover(self, tags: TagRegistry, appender: Appender) -> None:
        """Committed state from the catalog, column files cut to it, then the log replayed
        (through the appender, registering the tags it names with the registry)."""
        table = self._table
        conn = table.catalog.connection()
        seq = conn.execute("SELECT checkpoint_seq FROM tag_tables WHERE table_id = ?",
                           (table.table_id,)).fetchone()[0]
        for row in tag_catalog.load_tags(conn, table.table_id):
            state = tags.new_state(row["tag_id"], row["name"], row["generation"])
            rows = row["committed_rows"]
            for column in state.columns:
                if rows or column.path.exists():
                    column.truncate(rows)
            state.rows = state.flushed = rows
            state.runs = self._runs_from_json(state, row["runs"], rows)
            tags.make_room(state.tag_id)
            tags.register(state)
            table.stats.load(state.tag_id, row["stats"])
            table.tail_max[state.tag_id] = state.tail_max()
        table.batch_keys.load(*tag_catalog.load_batch_keys(conn, table.table_id, table.batch_keys.kept))
        refs = [r for r in table.wal.scan() if r.seq > seq]
        table.next_seq = max([seq] + [r.seq for r in refs]) + 1
        for ref in refs:
            batch = decode(table.wal.read(ref), table.schema, ref.kind)
            batch.seq = ref.seq
            appender.replay(batch)
            if table.unflushed_bytes >= FLUSH_BYTES:
                self._flusher.flush()
        self._flusher.flush()
        if refs:
            log.info("table %s: replayed %d log records", table.name, len(refs))
        with table.checkpoint_lock, table.commit_lock:
            self.checkpoint_locked(force=True)
        self._remove_strays()

    def _runs_from_json(self, state: TagState, runs_json: list, rows: int) -> tuple[Run, ...]:
        runs = []
        for start, end, perm_name in runs_json:
            perm = None
            if perm_name:
                perm = ColumnFile(self._table.directory / perm_name, PERM_DTYPE)
                if perm.capacity != end - start:
                    # A permutation is derived data: rebuild it from the committed times.
                    order = sort_order(state.columns[0].view(rows)[start:end])
                    perm.create_from(order if order is not None else np.arange(end - start, dtype=PERM_DTYPE))
                    perm.close_fd()
            runs.append(Run(start, end, perm))
        return tuple(runs) or (Run(0, None),)

    def _remove_strays(self) -> None:
        """Deletes files no tag refers to: a rewrite or merge interrupted by a crash."""
        table = self._table
        keep = {p.name for state in table.by_id.values() for p in state.files()}
        for path in table.directory.iterdir():
            if path.is_file() and path.name not in keep:
                path.unlink(missing_ok=True)

    # ---- life cycle --------------------------------------------------------------------------

    def close(self, drop: bool) -> None:
        """Final checkpoint (unless the table is being dropped), then the log and files close."""
        table = self._table
        with table.checkpoint_lock, table.commit_lock, table.flush_lock:
            if table.closed:
                return
            clean = False
            if not drop and table.failed is None:
                self.checkpoint_locked(force=True)
                clean = True
            table.closed = True
            table.wal.close(remove=clean or drop)
            for state in table.by_id.values():
                for column in state.columns:
                    column.close_fd()
        table.flusher.stop()  # outside the locks: a flush it is running waits for the flush lock
