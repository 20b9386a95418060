"""The read side of a tag table: raw reads, rollups and aggregates, stats, disk size.

A part of `TagTable` (see edge/store/table.py for the state and locks it relies on): readers
take a snapshot of each tag under the short state lock, and the hour rollups (catalog rows
plus in-memory deltas) under the rollup lock, then work without any lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from edge.store import errors, query, tag_catalog
from edge.store import rollups as rollup_math
from edge.store.query import ReadResult, TagSnapshot
from edge.store.rollups import LEVELS, Rollups
from edge.store.stats import TagStats

FUNCTIONS = ("min", "max", "sum", "count", "avg")
ROLLUP_ROW_BYTES = 96  # an hour row in the catalog, with its share of the index


class TableReads:
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

    def _unlink(self, paths) -> None:
        """Deletes files no tag refers to any more; their maps go too, or the space would
        stay taken until the map was dropped (a reader still reading keeps its own)."""
        doomed = set(paths)
        with self._map_lock:
            for column in [c for c in self._mapped if c.path in doomed]:
                del self._mapped[column]
                column.drop_map()
        for path in doomed:
            path.unlink(missing_ok=True)

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
