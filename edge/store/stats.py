"""Per-tag statistics, kept as columns indexed by tag id and updated per batch with numpy.

Count, first and last row by time (ties: the first/last inserted), minimum and maximum value
with the time of the first inserted row holding it (null values not considered), and the time
of the most recently inserted row. A delete recomputes them for the tag from its data.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from edge.store.rollups import _first_of_min, _last_of_max

NO_TIME_LOW = np.iinfo(np.int64).max   # "no first time yet": any real time is smaller
NO_TIME_HIGH = np.iinfo(np.int64).min  # "no last time yet"

# name -> (dtype, value of a tag without rows)
COLUMNS = {
    "count": (np.int64, 0),
    "first_time": (np.int64, NO_TIME_LOW), "first_value": (np.float64, np.nan),
    "last_time": (np.int64, NO_TIME_HIGH), "last_value": (np.float64, np.nan),
    "min_value": (np.float64, np.inf), "min_value_time": (np.int64, NO_TIME_HIGH),
    "max_value": (np.float64, -np.inf), "max_value_time": (np.int64, NO_TIME_HIGH),
    "recent_time": (np.int64, NO_TIME_HIGH),
}


@dataclasses.dataclass(frozen=True)
class TagStats:
    """Statistics of one tag; times are int64 ns UTC, None where the tag has no such row."""

    count: int
    min_time: int | None
    max_time: int | None
    min_value: float | None
    min_value_time: int | None
    max_value: float | None
    max_value_time: int | None
    first: tuple[int, float | None] | None
    last: tuple[int, float | None] | None
    recent_row_time: int | None


class StatsColumns:
    """The stats of every tag of a table, one numpy array per statistic."""

    def __init__(self, capacity: int = 64):
        self.arrays = {name: np.full(capacity, empty, dtype=dtype) for name, (dtype, empty) in COLUMNS.items()}

    def ensure(self, tag_id: int) -> None:
        size = len(self.arrays["count"])
        if tag_id < size:
            return
        grown = max(tag_id + 1, size * 2)
        for name, (dtype, empty) in COLUMNS.items():
            bigger = np.full(grown, empty, dtype=dtype)
            bigger[:size] = self.arrays[name]
            self.arrays[name] = bigger

    def reset(self, tag_id: int) -> None:
        for name, (_, empty) in COLUMNS.items():
            self.arrays[name][tag_id] = empty

    def row(self, tag_id: int) -> dict:
        return {name: array[tag_id].item() for name, array in self.arrays.items()}

    def load(self, tag_id: int, row: dict) -> None:
        self.ensure(tag_id)
        for name, (_, empty) in COLUMNS.items():
            value = row.get(name)
            self.arrays[name][tag_id] = empty if value is None else value

    def public(self, tag_id: int) -> TagStats:
        r = self.row(tag_id)
        if r["count"] == 0:
            return TagStats(0, None, None, None, None, None, None, None, None, None)
        has_values = np.isfinite(r["min_value"])

        def value(v):
            return None if v != v else v

        return TagStats(
            count=r["count"], min_time=r["first_time"], max_time=r["last_time"],
            min_value=r["min_value"] if has_values else None,
            min_value_time=r["min_value_time"] if has_values else None,
            max_value=r["max_value"] if has_values else None,
            max_value_time=r["max_value_time"] if has_values else None,
            first=(r["first_time"], value(r["first_value"])),
            last=(r["last_time"], value(r["last_value"])),
            recent_row_time=r["recent_time"])

    def apply(self, delta: dict) -> None:
        """Folds a batch's per-tag stats (`of_groups`) into the columns; ties keep the older row."""
        a = self.arrays
        ids = delta["tag_id"]
        a["count"][ids] += delta["count"]
        newer_first = delta["first_time"] < a["first_time"][ids]
        sel = ids[newer_first]
        a["first_time"][sel] = delta["first_time"][newer_first]
        a["first_value"][sel] = delta["first_value"][newer_first]
        newer_last = delta["last_time"] >= a["last_time"][ids]
        sel = ids[newer_last]
        a["last_time"][sel] = delta["last_time"][newer_last]
        a["last_value"][sel] = delta["last_value"][newer_last]
        lower = delta["min_value"] < a["min_value"][ids]
        sel = ids[lower]
        a["min_value"][sel] = delta["min_value"][lower]
        a["min_value_time"][sel] = delta["min_value_time"][lower]
        higher = delta["max_value"] > a["max_value"][ids]
        sel = ids[higher]
        a["max_value"][sel] = delta["max_value"][higher]
        a["max_value_time"][sel] = delta["max_value_time"][higher]
        a["recent_time"][ids] = delta["recent_time"]


def of_groups(tag_ids: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
              times: np.ndarray, values: np.ndarray, times_sorted: bool) -> dict:
    """Stats of each group (one tag's points of a batch, in insertion order) for `apply`."""
    ends = starts + lengths
    if times_sorted:
        first, last = starts, ends - 1
    else:
        first = _first_of_min(times, starts, lengths)
        last = _last_of_max(times, starts, lengths)
    nulls = np.isnan(values)
    if nulls.any():
        low = np.where(nulls, np.inf, values)
        high = np.where(nulls, -np.inf, values)
    else:
        low = high = values
    at_min = _first_of_min(low, starts, lengths)
    at_max = _first_of_min(-high, starts, lengths)
    return {
        "tag_id": tag_ids, "count": lengths.astype(np.int64),
        "first_time": times[first], "first_value": values[first],
        "last_time": times[last], "last_value": values[last],
        "min_value": low[at_min], "min_value_time": times[at_min],
        "max_value": high[at_max], "max_value_time": times[at_max],
        "recent_time": times[ends - 1],
    }
