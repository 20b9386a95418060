"""Sorted runs: how a tag's rows, kept in insertion order, are found by time.

A tag's rows are split into runs of consecutive rows. A natural run is already in time order
(the usual case: in-order data is one natural run covering the whole tag, searched directly on
the time column). A run that arrived out of order carries a permutation file (uint32 offsets
into the run, sorted by time then row), searched by an indirect binary search. Only the last
run can be open (natural, ending at the tag's row count); in-order appends extend it.

Every lookup is O(runs * log n) plus the rows it returns; the housekeeping thread merges runs
when a tag has too many.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from edge.store.columns import ColumnFile

PERM_DTYPE = np.dtype(np.uint32)
MAX_RUN_ROWS = 1 << 32
NO_EXTEND = np.iinfo(np.int64).max  # tail_max of a tag whose last run cannot be extended
EMPTY_TAIL = np.iinfo(np.int64).min  # tail_max of an open run without rows yet


@dataclasses.dataclass(frozen=True)
class Run:
    start: int
    end: int | None  # None: open, ends at the tag's row count
    perm: ColumnFile | None = None  # None: natural

    def stop(self, rows: int) -> int:
        return rows if self.end is None else self.end

    def as_json(self) -> list:
        return [self.start, self.end, self.perm.path.name if self.perm is not None else None]


def _indirect_search(times: np.ndarray, base: int, perm: np.ndarray, target: int, right: bool) -> int:
    lo, hi = 0, len(perm)
    while lo < hi:
        mid = (lo + hi) >> 1
        t = times[base + int(perm[mid])]
        if t < target or (right and t == target):
            lo = mid + 1
        else:
            hi = mid
    return lo


class RunView:
    """One run as a reader sees it: positions 0..size in time order."""

    __slots__ = ("start", "size", "perm", "times")

    def __init__(self, run: Run, rows: int, times: np.ndarray):
        self.start = run.start
        self.size = min(run.stop(rows), rows) - run.start
        self.times = times
        self.perm = run.perm.view(self.size) if run.perm is not None else None

    def positions(self, lo: int, hi: int) -> tuple[int, int]:
        """Positions [p0, p1) of the rows with lo <= time <= hi."""
        if self.perm is None:
            sorted_times = self.times[self.start:self.start + self.size]
            return (int(np.searchsorted(sorted_times, lo, "left")),
                    int(np.searchsorted(sorted_times, hi, "right")))
        return (_indirect_search(self.times, self.start, self.perm, lo, False),
                _indirect_search(self.times, self.start, self.perm, hi, True))

    def rows(self, p0: int, p1: int) -> np.ndarray:
        """Row numbers at positions [p0, p1), in time order."""
        if self.perm is None:
            return np.arange(self.start + p0, self.start + p1, dtype=np.int64)
        return self.perm[p0:p1].astype(np.int64) + self.start

    def is_contiguous(self) -> bool:
        return self.perm is None


def sort_order(times: np.ndarray) -> np.ndarray | None:
    """A permutation sorting `times` (stable), or None when they already are in order."""
    if len(times) < 2 or bool(np.all(times[1:] >= times[:-1])):
        return None
    return np.argsort(times, kind="stable").astype(PERM_DTYPE)
