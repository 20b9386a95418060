"""Reading a consistent prefix of tags: raw ranges in three orders, and rollups from raw data.

Works on `TagSnapshot`s taken under the table's state lock; the rows below a snapshot's
length never change, so everything here runs without a lock and never blocks a writer.
Ranges are found by binary search in each sorted run (O(runs * log n)), rows are gathered
from the memory-mapped columns, and rollups derived from raw data are reduced in chunks so a
query over millions of points keeps its memory small.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from edge.store import rollups as rollup_math
from edge.store.columns import ColumnFile
from edge.store.rollups import Rollups
from edge.store.runs import Run, RunView
from edge.store.schema import ColumnSpec, decode_extra

CHUNK_ROWS = 1 << 20
ASCENDING_INSERTION, DESCENDING_TIME, ASCENDING_TIME = 0, 1, 2


@dataclasses.dataclass(frozen=True)
class TagSnapshot:
    tag_id: int
    name: str
    rows: int
    runs: tuple[Run, ...]
    columns: tuple[ColumnFile, ...]  # time, value, extras...

    def times(self) -> np.ndarray:
        return self.columns[0].view(self.rows)

    def run_views(self) -> list[RunView]:
        """The runs within this snapshot's rows (a permuted run lies wholly inside or outside)."""
        times = self.times()
        rows = self.rows
        return [RunView(run, rows, times) for run in self.runs
                if min(run.stop(rows), rows) > run.start and (run.perm is None or run.end <= rows)]


@dataclasses.dataclass
class ReadResult:
    """Rows of a raw read: `names` (object array), `times` (int64 ns), `values` (float64, NaN
    for null) and `extras` {COLUMN: masked numeric array, or object array of str/None}."""

    names: np.ndarray
    times: np.ndarray
    values: np.ndarray
    extras: dict[str, np.ndarray]
    # The rows' tags as runs, (name, rows) in order: what `names` spells out row by row.
    name_runs: tuple[tuple[str, int], ...] = ()

    def __len__(self) -> int:
        return len(self.times)


Selection = tuple[int, int] | np.ndarray  # a contiguous row range (ascending) or row numbers


def _matches(views: list[RunView], lo: int, hi: int) -> list[tuple[RunView, int, int]]:
    out = []
    for view in views:
        p0, p1 = view.positions(lo, hi)
        if p1 > p0:
            out.append((view, p0, p1))
    return out


def _select(matches, direction: int, skip: int, take: int) -> tuple[Selection, bool]:
    """Rows to return for one tag: (selection, reversed) after skipping `skip`, at most `take`."""
    if len(matches) == 1 and matches[0][0].is_contiguous():
        view, p0, p1 = matches[0]
        if direction == DESCENDING_TIME:
            hi = p1 - skip
            lo = max(p0, hi - take)
            return (view.start + lo, view.start + hi), True
        lo = p0 + skip
        return (view.start + lo, view.start + min(p1, lo + take)), False
    if direction == ASCENDING_INSERTION:
        picked = []
        need = skip + take
        for view, p0, p1 in matches:  # runs are consecutive row ranges: row order across them
            rows = view.rows(p0, p1)
            if not view.is_contiguous():
                rows = np.sort(rows)
            picked.append(rows[:need])
            need -= len(picked[-1])
            if need <= 0:
                break
        rows = np.concatenate(picked)
        return rows[skip:skip + take], False
    limit = skip + take
    parts = []
    for view, p0, p1 in matches:
        if direction == ASCENDING_TIME:
            parts.append(view.rows(p0, min(p1, p0 + limit)))
        else:
            parts.append(view.rows(max(p0, p1 - limit), p1))
    rows = np.concatenate(parts)
    times = matches[0][0].times[rows]
    order = np.lexsort((rows, times))
    rows = rows[order]
    if direction == DESCENDING_TIME:
        rows = rows[::-1]
    return rows[skip:skip + take], False


def _gather(column: ColumnFile, rows: int, selection: Selection, reverse: bool) -> np.ndarray:
    data = column.view(rows)
    if isinstance(selection, tuple):
        out = np.array(data[selection[0]:selection[1]])
        return out[::-1].copy() if reverse else out
    return data[selection]


def one_by_one(snapshots: list[TagSnapshot], release: Callable[[TagSnapshot], None] | None):
    """The snapshots in turn, each handed to `release` once the next is asked for: a query over
    thousands of tags keeps the maps of only as many as the table's budget (each map holds a
    file descriptor), since what it takes from a tag's maps it copies."""
    for snap in snapshots:
        yield snap
        if release is not None:
            release(snap)


def read(snapshots: list[TagSnapshot], extras: tuple[ColumnSpec, ...], start: int, end: int,
         direction: int, count: int, offset: int,
         release: Callable[[TagSnapshot], None] | None = None) -> ReadResult:
    """Rows with start <= time <= end of each tag in turn; `offset`/`count` apply to the whole
    series. Direction 0: insertion order, 1: time descending, 2: time ascending (ties in
    insertion order; direction 1 is its exact reverse). `release`: see `one_by_one`."""
    skip = offset
    budget = count if count > 0 else np.iinfo(np.int64).max
    names, times, values = [], [], []
    extra_parts: list[list[np.ndarray]] = [[] for _ in extras]
    for snap in one_by_one(snapshots, release):
        if budget <= 0:
            break
        if snap.rows == 0:
            continue
        matches = _matches(snap.run_views(), start, end)
        total = sum(p1 - p0 for _, p0, p1 in matches)
        if skip >= total:
            skip -= total
            continue
        take = min(budget, total - skip)
        selection, reverse = _select(matches, direction, skip, take)
        skip = 0
        got = _gather(snap.columns[0], snap.rows, selection, reverse)
        budget -= len(got)
        names.append((snap.name, len(got)))
        times.append(got)
        values.append(_gather(snap.columns[1], snap.rows, selection, reverse))
        for i in range(len(extras)):
            extra_parts[i].append(_gather(snap.columns[2 + i], snap.rows, selection, reverse))
    name_array = np.repeat(np.array([n for n, _ in names], dtype=object), [c for _, c in names]) \
        if names else np.empty(0, dtype=object)
    return ReadResult(
        name_array,
        np.concatenate(times) if times else np.empty(0, np.int64),
        np.concatenate(values) if values else np.empty(0, np.float64),
        {column.name: decode_extra(column, np.concatenate(parts) if parts
                                   else np.empty(0, column.stored_dtype))
         for column, parts in zip(extras, extra_parts)},
        tuple(names))


def raw_rollups(snapshots: list[TagSnapshot], first_time: int, last_time: int, width: int,
                release: Callable[[TagSnapshot], None] | None = None) -> Rollups:
    """Rollups of the raw points with first_time <= time <= last_time in epoch-aligned buckets of
    `width` ns, all tags combined, keyed by bucket start. `release`: see `one_by_one`."""
    parts = []
    for snap in one_by_one(snapshots, release):
        if snap.rows == 0:
            continue
        values = snap.columns[1].view(snap.rows)
        for view, p0, p1 in _matches(snap.run_views(), first_time, last_time):
            for c0 in range(p0, p1, CHUNK_ROWS):
                c1 = min(p1, c0 + CHUNK_ROWS)
                if view.is_contiguous():
                    t = view.times[view.start + c0:view.start + c1]
                    v = values[view.start + c0:view.start + c1]
                else:
                    rows = view.rows(c0, c1)
                    t, v = view.times[rows], values[rows]
                # rows come in time order, so buckets are adjacent and first/last at their ends
                parts.append(rollup_math.from_points(rollup_math.bucket_floor(t, width), t, v,
                                                     grouped=True, times_sorted=True))
    return rollup_math.combine(Rollups.concat(parts))
