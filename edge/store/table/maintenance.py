"""Maintenance of a tag table: delete-before (rewrite into a new generation) and the merge of
sorted runs that late data left behind.

A part of `TagTable` over its `TableState` (see state.py for the locks). A delete runs
under the checkpoint, commit and flush locks after a checkpoint, so the log holds nothing of
the tags it rewrites; the switch to the new files is one catalog transaction. A merge runs
under the commit lock; the next checkpoint records it.
"""

from __future__ import annotations

import numpy as np

from edge.store import errors, query, tag_catalog
from edge.store import rollups as rollup_math
from edge.store.columns import sync_directory
from edge.store.rollups import LEVELS, Rollups
from edge.store.runs import MAX_RUN_ROWS, NO_EXTEND, Run, sort_order
from edge.store.stats import StatsColumns, of_groups
from edge.store.table.checkpoint import Checkpointer
from edge.store.table.files import OpenFiles
from edge.store.table.flush import ColumnFlusher
from edge.store.table.state import TableState
from edge.store.table.tag_state import TagState, column_files, perm_file

MAX_RUNS = 8  # a tag with more sorted runs gets them merged by the housekeeping thread


class Maintenance:
    def __init__(self, table: TableState, checkpointer: Checkpointer, flusher: ColumnFlusher, files: OpenFiles):
        self._table = table
        self._checkpointer = checkpointer
        self._flusher = flusher
        self._files = files

    def delete_before(self, before_ns: int, tags: list[str] | None = None) -> int:
        """Deletes the rows with time < before_ns (of every tag, or of `tags`); returns how many.

        Each affected tag is rewritten into files of its next generation, its stats and hour
        rollups recomputed, and the switch committed in one catalog transaction, so the space
        is freed at once and a crash leaves either the old or the new state."""
        before = int(before_ns)
        table = self._table
        with table.checkpoint_lock, table.commit_lock, table.flush_lock:
            table.check_open()
            self._checkpointer.checkpoint_locked()
            with table.state_lock:
                if tags is None:
                    targets = list(table.by_id.values())
                else:
                    targets = [s for s in (table.by_name.get(t) for t in dict.fromkeys(tags)) if s is not None]
            rewrites = []
            deleted = 0
            try:
                for state in targets:
                    if state.rows == 0:
                        continue
                    keep = state.columns[0].view(state.rows) >= before
                    kept = int(np.count_nonzero(keep))
                    if kept == state.rows:
                        continue
                    deleted += state.rows - kept
                    rewrites.append(self._rewrite(state, keep, kept))
                if not rewrites:
                    return 0
                sync_directory(table.directory)  # the new names are durable before the catalog names them
                self._switch(rewrites)
            except Exception as exc:
                # Nothing switched: the old files stand; the new ones go.
                for r in rewrites:
                    self._files.unlink([c.path for c in r["columns"]] + [run.perm.path for run in r["runs"] if run.perm])
                if isinstance(exc, OSError):
                    raise errors.storage_failure_of(exc) from None
                raise
            for r in rewrites:
                state = r["state"]
                table.tail_max[state.tag_id] = state.tail_max()
                self._files.forget(state)
                for column in r["old_columns"]:
                    column.close_fd()
                    column.drop_map()
                self._files.unlink(r["old_files"])
            return deleted

    def _switch(self, rewrites: list[dict]) -> None:
        """Commits the rewritten tags and publishes them; hour-rollup readers (rollup lock) see
        the old catalog rows with the old data or the new with the new, never a mix."""
        table = self._table
        conn = table.catalog.connection()
        with table.rollup_lock:
            with conn:
                tag_catalog.save_tag_states(conn, table.table_id, [r["record"] for r in rewrites])
                for r in rewrites:
                    tag_catalog.replace_rollups(conn, table.table_id, r["state"].tag_id, r["rollups"])
            with table.state_lock:
                for r in rewrites:
                    state = r["state"]
                    state.gen, state.columns, state.runs = r["gen"], r["columns"], r["runs"]
                    state.rows = state.flushed = r["rows"]
                    table.stats.reset(state.tag_id)
                    table.stats.load(state.tag_id, r["record"]["stats"])

    def _rewrite(self, state: TagState, keep: np.ndarray, kept: int) -> dict:
        """The tag's kept rows in new files, with runs, stats and hour rollups recomputed."""
        rows, gen = state.rows, state.gen + 1
        columns = column_files(self._table.directory, self._table.schema, state.tag_id, gen)
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
                perm = perm_file(self._table.directory, state.tag_id, gen, start, end)
                perm.create_from(order)
                perm.close_fd()
                runs.append(Run(start, end, perm))
        if runs[-1].perm is None:
            runs[-1] = Run(runs[-1].start, None)
        return tuple(runs)

    def compact_runs(self) -> int:
        """Merges the runs of tags that have too many (late data); returns the merges done."""
        table = self._table
        merges = 0
        with table.state_lock:
            crowded = [s for s in table.by_id.values() if len(s.runs) > MAX_RUNS]
        for state in crowded:
            with table.commit_lock:
                if table.closed or table.by_id.get(state.tag_id) is not state:
                    continue
                self._flusher.flush()
                merges += self._merge_runs(state)
        return merges

    def _merge_runs(self, state: TagState) -> int:
        table = self._table
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
                perm = perm_file(table.directory, state.tag_id, state.gen, start, stop)
                perm.create_from(order, sync=False)
                perm.close_fd()
                table.unsynced_perms.add(perm.path)
                merged = Run(start, stop, perm)
                if open_end:
                    table.tail_max[state.tag_id] = NO_EXTEND
            table.garbage.extend(r.perm.path for r in (first, second) if r.perm is not None)
            runs[i:i + 2] = [merged]
            merges += 1
        with table.state_lock:
            state.runs = tuple(runs)
        table.dirty.add(state)
        return merges
