"""The read side of a tag table: raw reads, rollups and aggregates, stats, disk size.

A part of `TagTable` over its `TableState` (see state.py for the locks): readers take a
snapshot of each tag under the short state lock (flushing held-back rows first when they need
them), and the hour rollups (catalog rows plus in-memory deltas) under the rollup lock, then
work without any lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from edge.store import errors, query, tag_catalog
from edge.store import rollups as rollup_math
from edge.store.query import ReadResult, TagSnapshot
from edge.store.rollups import LEVELS, Rollups
from edge.store.stats import TagStats
from edge.store.table.files import OpenFiles
from edge.store.table.flush import ColumnFlusher
from edge.store.table.state import TableState

FUNCTIONS = ("min", "max", "sum", "count", "avg")
ROLLUP_ROW_BYTES = 96  # an hour row in the catalog, with its share of the index


class Reader:
    def __init__(self, table: TableState, flusher: ColumnFlusher, files: OpenFiles):
        self._table = table
        self._flusher = flusher
        self._files = files

    def _snapshots(self, tags: Sequence[str]) -> list[TagSnapshot]:
        table = self._table
        for _ in range(3):
            with table.state_lock:
                states = [s for s in (table.by_name.get(name) for name in tags) if s is not None]
                if all(s.flushed >= s.rows for s in states):
                    return [TagSnapshot(s.tag_id, s.name, s.rows, s.runs, tuple(s.columns)) for s in states]
            try:
                self._flusher.flush()
            except OSError as exc:
                raise errors.storage_failure_of(exc) from None
        with table.state_lock:  # rows appended meanwhile stay out: a consistent prefix
            return [TagSnapshot(s.tag_id, s.name, min(s.rows, s.flushed), s.runs, tuple(s.columns))
                    for s in states]

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
            snaps, self._table.schema.extras, int(start_ns), int(end_ns), direction, count, offset,
            self._files.note_maps_of))

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
            self._files.note_maps(snaps)
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
                snaps, first_bucket, last_bucket + unit - 1, width, self._files.note_maps_of))
        snaps = self._snapshots(tags)
        if not snaps:
            return Rollups.empty()
        return self._hour_rollups(snaps, first_bucket // unit, last_bucket // unit, width)

    def _hour_rollups(self, snaps: list[TagSnapshot], first_hour: int, last_hour: int, width: int) -> Rollups:
        table = self._table
        conn = table.catalog.connection()
        stored = []
        with table.rollup_lock:
            with table.state_lock:
                deltas = ([table.rollup_inflight] if table.rollup_inflight is not None else []) \
                    + list(table.rollup_pending)
            for snap in snaps:
                stored.append(Rollups.from_rows(
                    tag_catalog.rollup_rows(conn, table.table_id, snap.tag_id, first_hour, last_hour)))
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
        table = self._table
        with table.state_lock:
            state = table.by_name.get(tag)
            return None if state is None else table.stats.public(state.tag_id)

    def has_tag(self, tag: str) -> bool:
        table = self._table
        with table.state_lock:
            return tag in table.by_name

    def disksize(self, tag: str | None = None) -> int:
        """Bytes on disk of the tag (or of every tag): column files, run indexes, hour rollups."""
        table = self._table
        with table.state_lock:
            if tag is None:
                states = list(table.by_id.values())
            else:
                state = table.by_name.get(tag)
                if state is None:
                    raise errors.tag_not_found(table.name, tag)
                states = [state]
            files = [(list(s.columns), [r.perm for r in s.runs if r.perm is not None]) for s in states]
        total = sum(c.disk_bytes() for columns, perms in files for c in columns + perms)
        conn = table.catalog.connection()
        if tag is None:
            rollup_rows = conn.execute("SELECT count(*) FROM tag_rollup_hours WHERE table_id = ?",
                                       (table.table_id,)).fetchone()[0]
        else:
            rollup_rows = tag_catalog.rollup_row_count(conn, table.table_id, states[0].tag_id)
        return total + rollup_rows * ROLLUP_ROW_BYTES
